//! The per-layer path of [`super`]: one hidden layer forward and backward, with its BatchNorm and
//! Dice batch statistics, and the element-wise kernels of Dice.

use std::mem::MaybeUninit;

use super::plain::{plain_forward_rows, plain_layer_backward};
use super::{Activation, LayerAt, LayerStats};
use crate::dice::DiceStats;
use crate::par::{col_reduce, fill1_over, fill2_over, map_blocks, moments, BLOCK};
use crate::simd::wide_kernel;
use crate::{cast, Real};

/// Per-column constants of one hidden layer in a training step. With `x̂ = (z − μ)·s` (`z` the
/// Linear output without bias, `μ` its batch mean), the layer computes
/// `u = a·x̂ + c` (BatchNorm's output, or `z + bias` without BatchNorm), and with Dice the gate
/// `p = sigmoid(k·x̂)` and `y = u·(α + (1 − α)·p)` (`k`, `sd`: 0 for other activations).
pub(super) struct Cols<T> {
    pub(super) s: Vec<T>,
    pub(super) a: Vec<T>,
    c: Vec<T>,
    k: Vec<T>,
    /// Dice's 1/√(var(u) + ε).
    sd: Vec<T>,
    /// var(x̂) = var(z)·s² (σ²/(σ² + ε) with BatchNorm, var(z) without).
    vhat: Vec<T>,
    mu: Vec<T>,
}

/// What the forward pass keeps of one hidden layer (`p`: Dice's gates; empty otherwise).
pub(super) struct LayerSaved<T> {
    pub(super) cols: Cols<T>,
    pub(super) xhat: Vec<T>,
    p: Vec<T>,
    pub(super) y: Vec<T>,
}

/// One hidden layer forward from its Linear output `z` (no bias): the constants, the batch
/// statistics for the running averages, and `x̂`, `p`, `y`.
pub(super) fn layer_forward<T: Real>(
    mut z: Vec<T>,
    l: &LayerAt,
    (bn, act): (bool, Activation),
    eps: (f64, f64),
    theta: &[T],
    n: usize,
) -> (LayerSaved<T>, LayerStats) {
    let w = l.width;
    let (cols, stats) = layer_cols(&z, l, (bn, act), eps, theta, n);
    let cs = ColSlices::new(&cols, alpha_of(theta, l, act));
    // x̂ is written over z (not a new buffer: one stream of memory traffic less)
    let (p, y) = match act.plain() {
        // SAFETY: blocks are whole rows (`w·BLOCK` elements of `n·w` buffers) and `forward_rows`
        // writes every column of every row of both output blocks (p, y).
        None => unsafe {
            fill2_over(&mut z, w * BLOCK, |zb, pb, yb| {
                forward_rows(&cs, zb, pb, yb)
            })
        },
        Some(plain) => {
            // SAFETY: as above, `plain_forward_rows` writes every element of its output block.
            let y = unsafe {
                fill1_over(&mut z, w * BLOCK, |zb, yb| {
                    plain_forward_rows(&cs, plain, zb, yb)
                })
            };
            (Vec::new(), y)
        }
    };
    let xhat = z;
    (LayerSaved { cols, xhat, p, y }, stats)
}

/// A hidden layer's per-column constants in a training step, from the batch moments of its
/// Linear output `z` (no bias), and the batch statistics for the running averages.
fn layer_cols<T: Real>(
    z: &[T],
    l: &LayerAt,
    (bn, act): (bool, Activation),
    (bn_eps, dice_eps): (f64, f64),
    theta: &[T],
    n: usize,
) -> (Cols<T>, LayerStats) {
    let w = l.width;
    let (mean, var) = moments(z, n, w);
    let f64s =
        |r: std::ops::Range<usize>| -> Vec<f64> { theta[r].iter().map(|v| v.f64()).collect() };
    let bias = f64s(l.b..l.b + w);
    // running statistics see the Linear output with its bias: mean + bias, same variance
    let mean_b: Vec<f64> = mean.iter().zip(&bias).map(|(m, b)| m + b).collect();
    let (s, a, c, vhat, u_mean) = if bn {
        let (gamma, beta) = (
            f64s(l.gamma..l.gamma + w),
            f64s(l.gamma + w..l.gamma + 2 * w),
        );
        let s: Vec<f64> = var.iter().map(|v| 1.0 / (v + bn_eps).sqrt()).collect();
        let vhat: Vec<f64> = var.iter().zip(&s).map(|(v, s)| v * s * s).collect();
        (s, gamma, beta.clone(), vhat, beta)
    } else {
        (
            vec![1.0; w],
            vec![1.0; w],
            mean_b.clone(),
            var.clone(),
            mean_b.clone(),
        )
    };
    // Dice on u: mean u_mean, variance a²·v̂
    let u_var: Vec<f64> = a.iter().zip(&vhat).map(|(a, v)| a * a * v).collect();
    let sd: Vec<f64> = match act {
        Activation::Dice => u_var.iter().map(|v| 1.0 / (v + dice_eps).sqrt()).collect(),
        _ => vec![0.0; w],
    };
    let k: Vec<f64> = a.iter().zip(&sd).map(|(a, s)| a * s).collect();
    let bn_stats = bn.then(|| DiceStats {
        mean: mean_b.clone(),
        var: var.clone(),
        inv_std: s.clone(),
    });
    let dice_stats = (act == Activation::Dice).then(|| DiceStats {
        mean: u_mean,
        var: u_var,
        inv_std: sd.clone(),
    });
    let cols = Cols {
        s: cast(&s),
        a: cast(&a),
        c: cast(&c),
        k: cast(&k),
        sd: cast(&sd),
        vhat: cast(&vhat),
        mu: cast(&mean),
    };
    let stats = LayerStats {
        batch_norm: bn_stats,
        dice: dice_stats,
    };
    (cols, stats)
}

/// One hidden layer backward: `g = dL/dy` → `dL/dz` (z: the Linear output; written over `g`'s
/// buffer), writing the layer's gradients of bias, [γ, β,] α into `dtheta`.
pub(super) fn layer_backward<T: Real>(
    mut g: Vec<T>,
    sv: &LayerSaved<T>,
    l: &LayerAt,
    (bn, act): (bool, Activation),
    theta: &[T],
    dtheta: &mut [T],
    n: usize,
) -> Vec<T> {
    let w = l.width;
    let cols = &sv.cols;
    let cs = ColSlices::new(cols, alpha_of(theta, l, act));
    if let Some(plain) = act.plain() {
        return plain_layer_backward(g, sv, &cs, plain, l, bn, dtheta, n);
    }
    let sums = col_reduce::<T, _>(n, w, 5, |rows, acc| {
        let at = rows.start * w..rows.end * w;
        backward_sums(&cs, &g[at.clone()], &sv.xhat[at.clone()], &sv.p[at], acc)
    });
    let nf = n.max(1) as f64;
    // Dice's batch statistics: dL/du = A − s_d·(mean(e) + q·mean(e·q)) with q = k·x̂;
    // mean(x̂) = 0, mean(x̂²) = v̂. Then dz = du (no BatchNorm) or BatchNorm's backward of du.
    let (mut gain, mut k1, mut k2) = (vec![0f64; w], vec![0f64; w], vec![0f64; w]);
    for j in 0..w {
        let (k, sd, s, a, vhat) = (
            cols.k[j].f64(),
            cols.sd[j].f64(),
            cols.s[j].f64(),
            cols.a[j].f64(),
            cols.vhat[j].f64(),
        );
        let (me, mex, ma, max) = (
            sums[1][j] / nf,
            sums[2][j] / nf,
            sums[3][j] / nf,
            sums[4][j] / nf,
        );
        let meq = k * mex; // mean(e·q)
                           // Σ du: the gradient of Dice's input shift (β with BatchNorm, the Linear bias without)
        let sum_du = sums[3][j] - sd * sums[1][j];
        dtheta[l.alpha + j] = T::of(sums[0][j]);
        if bn {
            // dz = s·γ·(du − mean(du) − x̂·mean(du·x̂))
            let mean_dux = max - sd * k * vhat * meq;
            dtheta[l.gamma + j] = T::of(nf * mean_dux);
            dtheta[l.gamma + w + j] = T::of(sum_du);
            dtheta[l.b + j] = T::zero(); // cancelled by the normalisation
            gain[j] = s * a;
            k1[j] = ma;
            k2[j] = max + sd * k * meq * (1.0 - vhat);
        } else {
            dtheta[l.b + j] = T::of(sum_du);
            gain[j] = 1.0;
            k1[j] = sd * me;
            k2[j] = sd * k * meq;
        }
    }
    let (gain, k1, k2): (Vec<T>, Vec<T>, Vec<T>) = (cast(&gain), cast(&k1), cast(&k2));
    let dz = [&gain[..], &k1, &k2];
    map_blocks(&mut g, w * BLOCK, |start, gb| {
        let at = start..start + gb.len();
        backward_rows(&cs, dz, gb, &sv.xhat[at.clone()], &sv.p[at])
    });
    g
}

/// A layer's α in `theta` (empty for activations without one).
fn alpha_of<'a, T>(theta: &'a [T], l: &LayerAt, act: Activation) -> &'a [T] {
    if act.has_alpha() {
        &theta[l.alpha..l.alpha + l.width]
    } else {
        &[]
    }
}

/// A layer's per-column constants as slices of its width, and α (empty without one).
pub(super) struct ColSlices<'a, T> {
    pub(super) w: usize,
    pub(super) mu: &'a [T],
    pub(super) s: &'a [T],
    pub(super) a: &'a [T],
    pub(super) c: &'a [T],
    k: &'a [T],
    sd: &'a [T],
    pub(super) alpha: &'a [T],
}

impl<'a, T> ColSlices<'a, T> {
    fn new(cols: &'a Cols<T>, alpha: &'a [T]) -> Self {
        let w = cols.mu.len();
        ColSlices {
            w,
            mu: &cols.mu[..w],
            s: &cols.s[..w],
            a: &cols.a[..w],
            c: &cols.c[..w],
            k: &cols.k[..w],
            sd: &cols.sd[..w],
            alpha,
        }
    }
}

// The three element-wise passes of a hidden layer. They loop over rows re-sliced to exactly the
// layer width, so the compiler drops the bounds checks and vectorises across columns. Each writes
// every element of its output rows.

wide_kernel! {
    /// Forward rows: `x̂ = (z − μ)·s` (written over `z`), `p = sigmoid(k·x̂)`,
    /// `y = (a·x̂ + c)·(α + (1 − α)·p)`.
    fn forward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        z: &mut [T],
        p: &mut [MaybeUninit<T>],
        y: &mut [MaybeUninit<T>],
    ) {
        let w = cs.w;
        let (mu, s, a, c, k, al) = (&cs.mu[..w], &cs.s[..w], &cs.a[..w], &cs.c[..w], &cs.k[..w], &cs.alpha[..w]);
        let one = T::one();
        let rows = z
            .chunks_exact_mut(w)
            .zip(p.chunks_exact_mut(w))
            .zip(y.chunks_exact_mut(w));
        for ((zr, pr), yr) in rows {
            let (zr, pr, yr) = (&mut zr[..w], &mut pr[..w], &mut yr[..w]);
            for j in 0..w {
                let xh = (zr[j] - mu[j]) * s[j];
                let pk = T::sigmoid(k[j] * xh);
                zr[j] = xh;
                pr[j].write(pk);
                yr[j].write((a[j] * xh + c[j]) * (al[j] + (one - al[j]) * pk));
            }
        }
    }
}

/// One element of the backward pass, from `g = dL/dy`, `x̂`, the gate `p` and its column's
/// constants: `u = a·x̂ + c`; `t = g·u·(1 − p)` (its column sum is dα); `e = dL/d(k·x̂) =
/// t·(1 − α)·p` (through the gate); `A = g·(α + (1 − α)·p) + s_d·e` (dL/du with Dice's
/// statistics held fixed).
#[inline(always)]
fn backward_elem<T: Real>(g: T, xh: T, pk: T, [a, c, al, sd]: [T; 4]) -> (T, T, T) {
    let one = T::one();
    let t = g * (a * xh + c) * (one - pk);
    let e = t * (one - al) * pk;
    (t, e, g * (al + (one - al) * pk) + sd * e)
}

wide_kernel! {
    /// Column sums over a block of rows: Σ t, Σ e, Σ e·x̂, Σ A, Σ A·x̂ (into `acc[0..5]`).
    fn backward_sums<T: Real>(cs: &ColSlices<'_, T>, g: &[T], x: &[T], p: &[T], acc: &mut [Vec<T>]) {
        let w = cs.w;
        let (a, c, sd, al) = (&cs.a[..w], &cs.c[..w], &cs.sd[..w], &cs.alpha[..w]);
        let [s_t, s_e, s_ex, s_a, s_ax] = acc else {
            return;
        };
        let (s_t, s_e, s_ex, s_a, s_ax) = (
            &mut s_t[..w],
            &mut s_e[..w],
            &mut s_ex[..w],
            &mut s_a[..w],
            &mut s_ax[..w],
        );
        for ((gr, xr), pr) in g.chunks_exact(w).zip(x.chunks_exact(w)).zip(p.chunks_exact(w)) {
            let (gr, xr, pr) = (&gr[..w], &xr[..w], &pr[..w]);
            for j in 0..w {
                let (t, e, big_a) = backward_elem(gr[j], xr[j], pr[j], [a[j], c[j], al[j], sd[j]]);
                s_t[j] = s_t[j] + t;
                s_e[j] = s_e[j] + e;
                s_ex[j] = s_ex[j] + e * xr[j];
                s_a[j] = s_a[j] + big_a;
                s_ax[j] = s_ax[j] + big_a * xr[j];
            }
        }
    }
}

wide_kernel! {
    /// Backward rows: `dz = gain·(A − k₁ − k₂·x̂)` with `[gain, k₁, k₂]` per column, written over
    /// `g` (`dL/dy` in, `dL/dz` out).
    fn backward_rows<T: Real>(cs: &ColSlices<'_, T>, dz: [&[T]; 3], g: &mut [T], x: &[T], p: &[T]) {
        let w = cs.w;
        let (a, c, sd, al) = (&cs.a[..w], &cs.c[..w], &cs.sd[..w], &cs.alpha[..w]);
        let (gain, k1, k2) = (&dz[0][..w], &dz[1][..w], &dz[2][..w]);
        for ((gr, xr), pr) in g.chunks_exact_mut(w).zip(x.chunks_exact(w)).zip(p.chunks_exact(w)) {
            let (gr, xr, pr) = (&mut gr[..w], &xr[..w], &pr[..w]);
            for j in 0..w {
                let (_, _, big_a) = backward_elem(gr[j], xr[j], pr[j], [a[j], c[j], al[j], sd[j]]);
                gr[j] = gain[j] * (big_a - k1[j] - k2[j] * xr[j]);
            }
        }
    }
}
