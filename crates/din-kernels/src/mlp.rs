//! An MLP of hidden layers `Linear → [BatchNorm] → activation` ending in `Linear(·, 1)`, in
//! training, with a hand-written backward pass: the DIN head, and (behind their own first layer,
//! see [`crate::attention`]) the activation units. The activation is one of [`Activation`]'s:
//! Dice (the default), PReLU, ReLU or sigmoid, the same in every hidden layer.
//!
//! Every hidden layer is two passes over its `[n, width]` activations forward (batch moments;
//! then normalise, gate and activate) and two backward (one reduction; then the input gradient),
//! around calls of the matrix kernel. Two identities make that possible:
//! * with BatchNorm, Dice's batch statistics of the BatchNorm output `u = γ·x̂ + β` are known
//!   without a pass over `u`: mean β and variance γ²·σ²/(σ² + ε), since `x̂` has mean 0 and
//!   variance σ²/(σ² + ε) over the batch by construction;
//! * the Linear bias before a BatchNorm cancels in the normalisation (its gradient is exactly 0),
//!   so it is only added to the running mean, not to the activations.
//!
//! All parameters live in one flat vector `theta`, in [`Stack::offsets`] order.
//!
//! ```
//! use din_kernels::mlp::{self, Stack};
//! // 3 inputs → 4 (Dice) → 1, no BatchNorm; Dice ε 1e-8
//! let stack = Stack::new(3, vec![4], false, vec![(0.0, 1e-8)])?;
//! let theta: Vec<f64> = (0..stack.n_params()).map(|i| (i as f64 * 0.37).sin()).collect();
//! let x: Vec<f64> = (0..5 * 3).map(|i| (i as f64 * 0.11).cos()).collect(); // 5 rows
//! let fwd = mlp::forward(&stack, &theta, &x)?;
//! assert_eq!(fwd.out.len(), 5);
//! let (dtheta, dx) = mlp::backward(&stack, &theta, &x, &[1.0; 5], &fwd.saved)?;
//! assert_eq!((dtheta.len(), dx.len()), (theta.len(), x.len()));
//! assert!(mlp::forward(&stack, &theta[1..], &x).is_err()); // a parameter short
//! // the same sizes with ReLU: no α, so 4 parameters fewer
//! let relu = stack.clone().with_activation(mlp::Activation::Relu);
//! assert_eq!(relu.n_params(), stack.n_params() - 4);
//! # Ok::<(), din_kernels::Error>(())
//! ```

use std::mem::MaybeUninit;

use crate::dice::DiceStats;
use crate::matmul::{matmul, matmul_into, matmul_tn};
use crate::par::{col_reduce, fill1, fill1_over, fill2_over, map_blocks, moments, rows_of, BLOCK};
use crate::simd::wide_kernel;
use crate::{cast, check_len, invalid, Real, Result};

/// The activation of every hidden layer of a [`Stack`], applied to `u` (the BatchNorm output, or
/// the Linear output with its bias without BatchNorm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Activation {
    /// `u·(α + (1 − α)·p)`, `p = sigmoid((u − E[u]) / √(Var[u] + ε))` with the batch's
    /// per-neuron moments; α per neuron.
    #[default]
    Dice,
    /// `u` where `u > 0`, else `α·u`; α per neuron.
    Prelu,
    /// `max(u, 0)`.
    Relu,
    /// `1 / (1 + e^(−u))`.
    Sigmoid,
}

impl Activation {
    /// True when the layer has a trained α per neuron (Dice, PReLU).
    pub fn has_alpha(self) -> bool {
        matches!(self, Activation::Dice | Activation::Prelu)
    }

    /// The activations without batch statistics of their own.
    fn plain(self) -> Option<Plain> {
        match self {
            Activation::Dice => None,
            Activation::Prelu => Some(Plain::Prelu),
            Activation::Relu => Some(Plain::Relu),
            Activation::Sigmoid => Some(Plain::Sigmoid),
        }
    }
}

/// [`Activation`]s that are a function of `u` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    Prelu,
    Relu,
    Sigmoid,
}

/// Sizes of an MLP: input width, hidden widths, BatchNorm on every hidden layer or on none,
/// (BatchNorm ε, Dice ε) per hidden layer, and the hidden layers' [`Activation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    first_in: usize,
    hidden: Vec<usize>,
    bn: bool,
    eps: Vec<(f64, f64)>,
    act: Activation,
}

/// Offsets of one hidden layer's parameters in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerAt {
    /// Weight `[width, fan_in]`.
    pub w: usize,
    /// Bias `[width]`.
    pub b: usize,
    /// BatchNorm's scale γ and shift β (with BatchNorm only; β follows γ).
    pub gamma: usize,
    /// Dice's or PReLU's α `[width]` (other activations: none, where the next block starts).
    pub alpha: usize,
    pub fan_in: usize,
    pub width: usize,
}

/// Where everything is in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offsets {
    pub layers: Vec<LayerAt>,
    /// Output weight `[last width]` and bias `[1]`.
    pub out_w: usize,
    pub out_b: usize,
    pub total: usize,
}

impl Stack {
    /// An MLP of `hidden` Dice layers on `first_in` inputs; `eps[i]` = (BatchNorm ε, Dice ε) of
    /// hidden layer `i` (BatchNorm's is ignored without BatchNorm, Dice's with another
    /// activation: see [`Stack::with_activation`]).
    pub fn new(
        first_in: usize,
        hidden: Vec<usize>,
        bn: bool,
        eps: Vec<(f64, f64)>,
    ) -> Result<Stack> {
        if hidden.is_empty() {
            return Err(invalid("mlp", "at least one hidden layer is needed"));
        }
        if first_in == 0 || hidden.contains(&0) {
            return Err(invalid(
                "mlp",
                format!("zero width: {first_in} → {hidden:?}"),
            ));
        }
        check_len("mlp", "eps", hidden.len(), eps.len())?;
        if eps
            .iter()
            .any(|&(a, b)| !(a >= 0.0 && b >= 0.0 && a.is_finite() && b.is_finite()))
        {
            return Err(invalid("mlp", "ε must be finite and ≥ 0"));
        }
        Ok(Stack {
            first_in,
            hidden,
            bn,
            eps,
            act: Activation::Dice,
        })
    }

    /// The same sizes with another hidden activation.
    pub fn with_activation(self, act: Activation) -> Stack {
        Stack { act, ..self }
    }

    pub fn activation(&self) -> Activation {
        self.act
    }

    pub fn first_in(&self) -> usize {
        self.first_in
    }

    pub fn hidden(&self) -> &[usize] {
        &self.hidden
    }

    pub fn batch_norm(&self) -> bool {
        self.bn
    }

    /// Number of parameters (the length of `theta`).
    pub fn n_params(&self) -> usize {
        self.offsets().total
    }

    /// Hidden layers (weight, bias, \[γ, β,\] \[α\]), then the output layer (weight, bias).
    pub fn offsets(&self) -> Offsets {
        let alpha_width = |width: usize| if self.act.has_alpha() { width } else { 0 };
        let mut at = 0;
        let mut fan_in = self.first_in;
        let mut layers = Vec::with_capacity(self.hidden.len());
        for &width in &self.hidden {
            let b = at + width * fan_in;
            let gamma = b + width;
            let l = LayerAt {
                w: at,
                b,
                gamma,
                alpha: if self.bn { gamma + 2 * width } else { gamma },
                fan_in,
                width,
            };
            at = l.alpha + alpha_width(width);
            layers.push(l);
            fan_in = width;
        }
        Offsets {
            layers,
            out_w: at,
            out_b: at + fan_in,
            total: at + fan_in + 1,
        }
    }

    fn first(&self) -> LayerAt {
        self.offsets().layers[0] // `new` guarantees a hidden layer
    }
}

/// Batch statistics of one hidden layer in a training step, for the running averages:
/// BatchNorm's (with BatchNorm; the mean includes the Linear bias) and Dice's (Dice layers).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    pub batch_norm: Option<DiceStats>,
    pub dice: Option<DiceStats>,
}

/// Per-column constants of one hidden layer in a training step. With `x̂ = (z − μ)·s` (`z` the
/// Linear output without bias, `μ` its batch mean), the layer computes
/// `u = a·x̂ + c` (BatchNorm's output, or `z + bias` without BatchNorm), and with Dice the gate
/// `p = sigmoid(k·x̂)` and `y = u·(α + (1 − α)·p)` (`k`, `sd`: 0 for other activations).
struct Cols<T> {
    s: Vec<T>,
    a: Vec<T>,
    c: Vec<T>,
    k: Vec<T>,
    /// Dice's 1/√(var(u) + ε).
    sd: Vec<T>,
    /// var(x̂) = var(z)·s² (σ²/(σ² + ε) with BatchNorm, var(z) without).
    vhat: Vec<T>,
    mu: Vec<T>,
}

/// What the forward pass keeps of one hidden layer (`p`: Dice's gates; empty otherwise).
struct LayerSaved<T> {
    cols: Cols<T>,
    xhat: Vec<T>,
    p: Vec<T>,
    y: Vec<T>,
}

/// What a forward pass keeps for its backward pass.
pub struct Saved<T> {
    layers: Vec<LayerSaved<T>>,
    rows: usize,
}

impl<T> Saved<T> {
    /// The last hidden layer's activations (the output layer's input).
    fn last_y(&self) -> &[T] {
        self.layers.last().map_or(&[], |l| &l.y)
    }

    /// Rows of the forward pass.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// What a forward pass returns: one output per row, the state for the backward pass, and the
/// batch statistics of every hidden layer.
pub struct Forward<T> {
    pub out: Vec<T>,
    pub saved: Saved<T>,
    pub stats: Vec<LayerStats>,
}

/// One hidden layer forward from its Linear output `z` (no bias): the constants, the batch
/// statistics for the running averages, and `x̂`, `p`, `y`.
fn layer_forward<T: Real>(
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
fn layer_backward<T: Real>(
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

/// [`layer_backward`] for the activations without batch statistics of their own: with
/// `A = dL/du` element by element, `dz = A` (and `Σ A` the bias gradient) without BatchNorm;
/// with it, BatchNorm's backward `dz = s·γ·(A − mean(A) − x̂·mean(A·x̂))`, `dγ = Σ A·x̂`,
/// `dβ = Σ A`, and the Linear bias cancelled.
#[allow(clippy::too_many_arguments)]
fn plain_layer_backward<T: Real>(
    mut g: Vec<T>,
    sv: &LayerSaved<T>,
    cs: &ColSlices<'_, T>,
    plain: Plain,
    l: &LayerAt,
    bn: bool,
    dtheta: &mut [T],
    n: usize,
) -> Vec<T> {
    let w = l.width;
    let sums = col_reduce::<T, _>(n, w, 3, |rows, acc| {
        let at = rows.start * w..rows.end * w;
        let (gb, xb, yb) = (&g[at.clone()], &sv.xhat[at.clone()], &sv.y[at]);
        plain_backward_sums(cs, plain, gb, xb, yb, acc)
    });
    let nf = n.max(1) as f64;
    let (mut gain, mut k1, mut k2) = (vec![0f64; w], vec![0f64; w], vec![0f64; w]);
    for j in 0..w {
        if plain == Plain::Prelu {
            dtheta[l.alpha + j] = T::of(sums[0][j]);
        }
        if bn {
            dtheta[l.gamma + j] = T::of(sums[2][j]);
            dtheta[l.gamma + w + j] = T::of(sums[1][j]);
            dtheta[l.b + j] = T::zero(); // cancelled by the normalisation
            gain[j] = sv.cols.s[j].f64() * sv.cols.a[j].f64();
            k1[j] = sums[1][j] / nf;
            k2[j] = sums[2][j] / nf;
        } else {
            dtheta[l.b + j] = T::of(sums[1][j]);
            gain[j] = 1.0;
        }
    }
    let (gain, k1, k2): (Vec<T>, Vec<T>, Vec<T>) = (cast(&gain), cast(&k1), cast(&k2));
    let dz = [&gain[..], &k1, &k2];
    map_blocks(&mut g, w * BLOCK, |start, gb| {
        let at = start..start + gb.len();
        plain_backward_rows(cs, plain, dz, gb, &sv.xhat[at.clone()], &sv.y[at])
    });
    g
}

/// A layer's per-column constants as slices of its width, and α (empty without one).
struct ColSlices<'a, T> {
    w: usize,
    mu: &'a [T],
    s: &'a [T],
    a: &'a [T],
    c: &'a [T],
    k: &'a [T],
    sd: &'a [T],
    alpha: &'a [T],
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

/// `u = a·(z − μ)·s + c` and `x̂` of one element: (x̂, u).
#[inline(always)]
fn affine<T: Real>(z: T, mu: T, s: T, a: T, c: T) -> (T, T) {
    let xh = (z - mu) * s;
    (xh, a * xh + c)
}

/// `f` on every element's `u`, writing x̂ over `z` and `y = f(u, column)`.
#[inline(always)]
fn plain_rows<T: Real>(
    cs: &ColSlices<'_, T>,
    z: &mut [T],
    y: &mut [MaybeUninit<T>],
    f: impl Fn(T, usize) -> T,
) {
    let w = cs.w;
    let (mu, s, a, c) = (&cs.mu[..w], &cs.s[..w], &cs.a[..w], &cs.c[..w]);
    for (zr, yr) in z.chunks_exact_mut(w).zip(y.chunks_exact_mut(w)) {
        let (zr, yr) = (&mut zr[..w], &mut yr[..w]);
        for j in 0..w {
            let (xh, u) = affine(zr[j], mu[j], s[j], a[j], c[j]);
            zr[j] = xh;
            yr[j].write(f(u, j));
        }
    }
}

wide_kernel! {
    /// Forward rows of PReLU, ReLU or sigmoid: `x̂ = (z − μ)·s` (over `z`), `y = f(a·x̂ + c)`.
    fn plain_forward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        plain: Plain,
        z: &mut [T],
        y: &mut [MaybeUninit<T>],
    ) {
        let zero = T::zero();
        match plain {
            Plain::Prelu => {
                let al = &cs.alpha[..cs.w];
                plain_rows(cs, z, y, |u, j| if u > zero { u } else { al[j] * u })
            }
            Plain::Relu => plain_rows(cs, z, y, |u, _| if u > zero { u } else { zero }),
            Plain::Sigmoid => plain_rows(cs, z, y, |u, _| T::sigmoid(u)),
        }
    }
}

/// `f(g, x̂, y, column) = (t, A)` on every element: A = dL/du, t = the α gradient's term.
#[inline(always)]
fn plain_elems<T: Real>(
    g: &[T],
    x: &[T],
    y: &[T],
    w: usize,
    mut each: impl FnMut(usize, T, T, T),
    f: impl Fn(T, T, T, usize) -> (T, T),
) {
    for ((gr, xr), yr) in g
        .chunks_exact(w)
        .zip(x.chunks_exact(w))
        .zip(y.chunks_exact(w))
    {
        let (gr, xr, yr) = (&gr[..w], &xr[..w], &yr[..w]);
        for j in 0..w {
            let (t, big_a) = f(gr[j], xr[j], yr[j], j);
            each(j, t, big_a, xr[j]);
        }
    }
}

/// The per-element backward of PReLU, ReLU or sigmoid from `g = dL/dy`, `x̂` and `y`: (the α
/// gradient's term, `A = dL/du`), as a closure over the column constants.
#[inline(always)]
fn plain_grad<'a, T: Real>(
    cs: &'a ColSlices<'a, T>,
    plain: Plain,
) -> impl Fn(T, T, T, usize) -> (T, T) + 'a {
    let (zero, one) = (T::zero(), T::one());
    let (a, c) = (&cs.a[..cs.w], &cs.c[..cs.w]);
    let alpha = if plain == Plain::Prelu {
        &cs.alpha[..cs.w]
    } else {
        &[]
    };
    move |g, xh, y, j| match plain {
        Plain::Prelu => {
            let u = a[j] * xh + c[j];
            if u > zero {
                (zero, g)
            } else {
                (g * u, g * alpha[j])
            }
        }
        Plain::Relu => {
            let u = a[j] * xh + c[j];
            (zero, if u > zero { g } else { zero })
        }
        Plain::Sigmoid => (zero, g * y * (one - y)),
    }
}

wide_kernel! {
    /// Column sums over a block of rows of PReLU, ReLU or sigmoid: Σ t, Σ A, Σ A·x̂ (`acc[0..3]`).
    fn plain_backward_sums<T: Real>(
        cs: &ColSlices<'_, T>,
        plain: Plain,
        g: &[T],
        x: &[T],
        y: &[T],
        acc: &mut [Vec<T>],
    ) {
        let w = cs.w;
        let [s_t, s_a, s_ax] = acc else {
            return;
        };
        let (s_t, s_a, s_ax) = (&mut s_t[..w], &mut s_a[..w], &mut s_ax[..w]);
        let add = |j: usize, t: T, big_a: T, xh: T| {
            s_t[j] = s_t[j] + t;
            s_a[j] = s_a[j] + big_a;
            s_ax[j] = s_ax[j] + big_a * xh;
        };
        match plain {
            Plain::Prelu => plain_elems(g, x, y, w, add, plain_grad(cs, Plain::Prelu)),
            Plain::Relu => plain_elems(g, x, y, w, add, plain_grad(cs, Plain::Relu)),
            Plain::Sigmoid => plain_elems(g, x, y, w, add, plain_grad(cs, Plain::Sigmoid)),
        }
    }
}

/// `dz = gain·(A − k₁ − k₂·x̂)` on every element, written over `g`, `A` from `f` (see
/// [`plain_grad`]).
#[inline(always)]
fn plain_dz_rows<T: Real>(
    dz: [&[T]; 3],
    g: &mut [T],
    (x, y): (&[T], &[T]),
    w: usize,
    f: impl Fn(T, T, T, usize) -> (T, T),
) {
    let (gain, k1, k2) = (&dz[0][..w], &dz[1][..w], &dz[2][..w]);
    let rows = g
        .chunks_exact_mut(w)
        .zip(x.chunks_exact(w).zip(y.chunks_exact(w)));
    for (gr, (xr, yr)) in rows {
        let (gr, xr, yr) = (&mut gr[..w], &xr[..w], &yr[..w]);
        for j in 0..w {
            let (_, big_a) = f(gr[j], xr[j], yr[j], j);
            gr[j] = gain[j] * (big_a - k1[j] - k2[j] * xr[j]);
        }
    }
}

wide_kernel! {
    /// Backward rows of PReLU, ReLU or sigmoid: `dz = gain·(A − k₁ − k₂·x̂)`, written over `g`.
    fn plain_backward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        plain: Plain,
        dz: [&[T]; 3],
        g: &mut [T],
        x: &[T],
        y: &[T],
    ) {
        let w = cs.w;
        match plain {
            Plain::Prelu => plain_dz_rows(dz, g, (x, y), w, plain_grad(cs, Plain::Prelu)),
            Plain::Relu => plain_dz_rows(dz, g, (x, y), w, plain_grad(cs, Plain::Relu)),
            Plain::Sigmoid => plain_dz_rows(dz, g, (x, y), w, plain_grad(cs, Plain::Sigmoid)),
        }
    }
}

/// The stack forward from the first hidden layer's Linear output `z1: [n, width₁]` (without its
/// bias). `theta` and `z1` are checked by the callers.
pub(crate) fn forward_from_first<T: Real>(
    st: &Stack,
    theta: &[T],
    z1: Vec<T>,
    n: usize,
) -> Result<Forward<T>> {
    let off = st.offsets();
    let mut layers: Vec<LayerSaved<T>> = Vec::with_capacity(off.layers.len());
    let mut stats = Vec::with_capacity(off.layers.len());
    let mut z = z1;
    for (li, l) in off.layers.iter().enumerate() {
        let (saved, stat) = layer_forward(z, l, (st.bn, st.act), st.eps[li], theta, n);
        // the next layer's Linear output (no bias), from this layer's activations
        z = match off.layers.get(li + 1) {
            Some(next) => {
                let w = &theta[next.w..next.w + next.width * next.fan_in];
                matmul(&saved.y, false, w, true, (n, next.width, next.fan_in))?
            }
            None => Vec::new(),
        };
        layers.push(saved);
        stats.push(stat);
    }
    let saved = Saved { layers, rows: n };
    let width = off.layers.last().map_or(0, |l| l.width);
    let mut out = vec![theta[off.out_b]; n];
    matmul_into(
        &mut out,
        saved.last_y(),
        false,
        &theta[off.out_w..off.out_w + width],
        true,
        (n, 1, width),
        true,
    )?;
    Ok(Forward { out, saved, stats })
}

/// The chain rule through [`forward_from_first`]: the gradient of every parameter except the
/// first hidden layer's weight (left 0 for the caller's first layer) and `dL/dz1`.
pub(crate) fn backward_to_first<T: Real>(
    st: &Stack,
    theta: &[T],
    g: &[T],
    sv: &Saved<T>,
) -> Result<(Vec<T>, Vec<T>)> {
    let n = g.len();
    let off = st.offsets();
    let mut dtheta = vec![T::zero(); off.total];
    let Some(last) = off.layers.last() else {
        return Ok((dtheta, Vec::new()));
    };
    let width = last.width;
    // output layer: s = y·w + b
    dtheta[off.out_w..off.out_w + width].copy_from_slice(&matmul_tn(
        g,
        sv.last_y(),
        (1, width, n),
    )?);
    dtheta[off.out_b] = g.iter().fold(T::zero(), |a, &x| a + x);
    let w_out = &theta[off.out_w..off.out_w + width];
    // SAFETY: blocks are whole rows (`width·BLOCK` elements of an `n·width` buffer) and the
    // closure writes every column of every row of its block.
    let mut dy = unsafe {
        fill1(n * width, width * BLOCK, |start, out| {
            for (r, row) in out.chunks_exact_mut(width).enumerate() {
                let gi = g[start / width + r];
                for (o, &w) in row.iter_mut().zip(w_out) {
                    o.write(gi * w);
                }
            }
        })
    };
    for li in (0..off.layers.len()).rev() {
        let l = &off.layers[li];
        let dz = layer_backward(
            dy,
            &sv.layers[li],
            l,
            (st.bn, st.act),
            theta,
            &mut dtheta,
            n,
        );
        if li == 0 {
            return Ok((dtheta, dz));
        }
        let prev = &sv.layers[li - 1].y;
        dtheta[l.w..l.w + l.width * l.fan_in].copy_from_slice(&matmul_tn(
            &dz,
            prev,
            (l.width, l.fan_in, n),
        )?);
        let w = &theta[l.w..l.w + l.width * l.fan_in];
        dy = matmul(&dz, false, w, false, (n, l.fan_in, l.width))?;
    }
    Ok((dtheta, dy))
}

/// Check `theta` against the stack and the backward's inputs against its forward.
pub(crate) fn check_theta<T>(kernel: &'static str, st: &Stack, theta: &[T]) -> Result<()> {
    check_len(kernel, "theta", st.n_params(), theta.len())
}

pub(crate) fn check_saved<T>(
    kernel: &'static str,
    sv: &Saved<T>,
    st: &Stack,
    g: usize,
) -> Result<()> {
    check_len(kernel, "output gradient", sv.rows, g)?;
    check_len(kernel, "saved layers", st.hidden.len(), sv.layers.len())
}

/// The MLP on `x: [n, first_in]` in a training step (batch statistics).
pub fn forward<T: Real>(st: &Stack, theta: &[T], x: &[T]) -> Result<Forward<T>> {
    check_theta("mlp", st, theta)?;
    let n = rows_of("mlp", x.len(), st.first_in)?;
    let first = st.first();
    let w1 = &theta[first.w..first.w + first.width * first.fan_in];
    let z1 = matmul(x, false, w1, true, (n, first.width, first.fan_in))?;
    forward_from_first(st, theta, z1, n)
}

/// The chain rule through [`forward`] from `g = dL/dout: [n]`: (`dL/dθ`, `dL/dx`).
pub fn backward<T: Real>(
    st: &Stack,
    theta: &[T],
    x: &[T],
    g: &[T],
    saved: &Saved<T>,
) -> Result<(Vec<T>, Vec<T>)> {
    check_theta("mlp backward", st, theta)?;
    check_saved("mlp backward", saved, st, g.len())?;
    check_len("mlp backward", "x", g.len() * st.first_in, x.len())?;
    let (mut dth, dz1) = backward_to_first(st, theta, g, saved)?;
    let first = st.first();
    let (n, h1, k) = (g.len(), first.width, first.fan_in);
    dth[first.w..first.w + h1 * k].copy_from_slice(&matmul_tn(&dz1, x, (h1, k, n))?);
    let dx = matmul(
        &dz1,
        false,
        &theta[first.w..first.w + h1 * k],
        false,
        (n, k, h1),
    )?;
    Ok((dth, dx))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVATIONS: [Activation; 4] = [
        Activation::Dice,
        Activation::Prelu,
        Activation::Relu,
        Activation::Sigmoid,
    ];

    /// A finite-difference check of the whole stack in f64, every activation, with and without
    /// BatchNorm.
    #[test]
    fn gradients_match_finite_differences() {
        for (act, bn) in ACTIVATIONS
            .into_iter()
            .flat_map(|a| [(a, false), (a, true)])
        {
            let st = Stack::new(3, vec![4, 2], bn, vec![(1e-5, 1e-8); 2])
                .unwrap()
                .with_activation(act);
            let mut theta: Vec<f64> = (0..st.n_params())
                .map(|i| ((i * 37 % 23) as f64 / 11.0 - 1.0) * 0.7)
                .collect();
            if bn {
                for l in st.offsets().layers {
                    for j in 0..l.width {
                        theta[l.gamma + j] = 1.0 + 0.1 * j as f64;
                    }
                }
            }
            let x: Vec<f64> = (0..7 * 3)
                .map(|i| ((i * 13 % 17) as f64 / 8.0) - 1.0)
                .collect();
            let wts: Vec<f64> = (0..7).map(|i| 0.3 + 0.1 * i as f64).collect();
            let loss = |th: &[f64], x: &[f64]| -> f64 {
                let f = forward(&st, th, x).unwrap();
                f.out.iter().zip(&wts).map(|(o, w)| o * w).sum()
            };
            let f = forward(&st, &theta, &x).unwrap();
            if act == Activation::Relu {
                // both sides of the kink are exercised
                let y = &f.saved.layers[0].y;
                assert!(y.contains(&0.0) && y.iter().any(|&v| v > 0.0));
            }
            let (dth, dx) = backward(&st, &theta, &x, &wts, &f.saved).unwrap();
            let h = 1e-6;
            for i in 0..theta.len() {
                let (mut a, mut b) = (theta.clone(), theta.clone());
                a[i] += h;
                b[i] -= h;
                let num = (loss(&a, &x) - loss(&b, &x)) / (2.0 * h);
                assert!(
                    (num - dth[i]).abs() < 1e-5 * (1.0 + num.abs()),
                    "{act:?} bn={bn} θ[{i}]: {num} vs {}",
                    dth[i]
                );
            }
            for i in 0..x.len() {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[i] += h;
                b[i] -= h;
                let num = (loss(&theta, &a) - loss(&theta, &b)) / (2.0 * h);
                assert!(
                    (num - dx[i]).abs() < 1e-5 * (1.0 + num.abs()),
                    "{act:?} bn={bn} x[{i}]"
                );
            }
        }
    }

    #[test]
    fn inconsistent_inputs_are_errors() {
        assert!(Stack::new(3, vec![], false, vec![]).is_err());
        assert!(Stack::new(3, vec![2], false, vec![]).is_err());
        let st = Stack::new(2, vec![2], false, vec![(0.0, 1e-8)]).unwrap();
        let theta = vec![0.1f32; st.n_params()];
        assert!(forward(&st, &theta, &[1.0, 2.0, 3.0]).is_err());
        let f = forward(&st, &theta, &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(backward(&st, &theta, &[1.0, 2.0, 3.0, 4.0], &[1.0], &f.saved).is_err());
    }
}
