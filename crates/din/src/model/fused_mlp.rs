//! An MLP of hidden layers `Linear → [BatchNorm] → Dice` ending in `Linear(·, 1)`, in training,
//! as CPU kernels with a hand-written backward pass: the DIN head ([`logits`]) and, behind their
//! own first layer, the activation units ([`super::fused_attention`]).
//!
//! It computes what [`Mlp::forward_t`] computes from tensor ops, but every hidden layer is two
//! passes over its `[n, width]` activations forward (batch moments; then normalise, gate and
//! activate) and two backward (one reduction; then the input gradient), around calls of the
//! matrix kernel. Two identities make that possible:
//! * with BatchNorm, Dice's batch statistics of the BatchNorm output `u = γ·x̂ + β` are known
//!   without a pass over `u`: mean β and variance γ²·σ²/(σ² + ε), since `x̂` has mean 0 and
//!   variance σ²/(σ² + ε) over the batch by construction;
//! * the Linear bias before a BatchNorm cancels in the normalisation (its gradient is exactly 0),
//!   so it is only added to the running mean, not to the activations.
//!
//! Tests check values and gradients against the tensor-op path and finite differences.

// Kernels are generic over `num_traits::Float`, which has no `AddAssign`.
#![allow(clippy::assign_op_pattern)]

use std::any::Any;
use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType};

use super::fused::{
    cast, col_moments, col_reduce, fill1, fill3, mm, mm_new, mm_tn, run2, wide_kernel, DiceStats,
    Kernel2, Real, BLOCK,
};
use super::layers::{Act, Mlp};

/// (BatchNorm ε, Dice ε) of one hidden layer.
pub(crate) type Eps = (f64, f64);

/// Batch statistics of one hidden layer: BatchNorm's (when present) and Dice's.
pub(crate) type LayerStats = (Option<DiceStats>, DiceStats);

/// True when `mlp` can run as fused kernels in training on `x`: CPU f32/f64, at least one hidden
/// layer, every hidden activation Dice, BatchNorm on all hidden layers or on none.
pub fn applies(mlp: &Mlp, x: &Tensor) -> bool {
    super::fused::applies(x)
        && !mlp.hidden.is_empty()
        && mlp.hidden.iter().all(|l| matches!(l.act, Act::Dice(_)))
        && (mlp.hidden.iter().all(|l| l.bn.is_some()) || mlp.hidden.iter().all(|l| l.bn.is_none()))
}

/// Sizes of a fused MLP: input width, hidden widths, BatchNorm or not.
#[derive(Debug, Clone)]
pub(crate) struct Stack {
    pub first_in: usize,
    pub hidden: Vec<usize>,
    pub bn: bool,
}

/// Offsets of one hidden layer's parameters in the flat parameter vector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerAt {
    pub w: usize,
    pub b: usize,
    /// BatchNorm's scale γ and shift β (`bn` only; β follows γ).
    pub gamma: usize,
    pub alpha: usize,
    pub fan_in: usize,
    pub width: usize,
}

/// Where everything is in the flat parameter vector.
pub(crate) struct Offsets {
    pub layers: Vec<LayerAt>,
    pub out_w: usize,
    pub out_b: usize,
    pub total: usize,
}

impl Stack {
    /// Hidden layers (weight, bias, [γ, β,] α), then the output layer (weight, bias).
    pub fn offsets(&self) -> Offsets {
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
            at = l.alpha + width;
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
}

/// The parameters of a fused MLP: all of them in one flat tensor (in [`Stack::offsets`] order),
/// its sizes, and (BatchNorm ε, Dice ε) per hidden layer.
pub(crate) fn flatten(mlp: &Mlp) -> Result<(Tensor, Stack, Vec<Eps>)> {
    let bn = mlp.hidden.first().is_some_and(|l| l.bn.is_some());
    let mut parts = Vec::with_capacity(5 * mlp.hidden.len() + 2);
    let mut eps = Vec::with_capacity(mlp.hidden.len());
    let mut hidden = Vec::with_capacity(mlp.hidden.len());
    for layer in &mlp.hidden {
        let Act::Dice(dice) = &layer.act else {
            candle_core::bail!("fused MLP: Dice layers only");
        };
        hidden.push(layer.linear.weight.dim(0)?);
        parts.push(layer.linear.weight.flatten_all()?);
        parts.push(layer.linear.bias.clone());
        let bn_eps = match (&layer.bn, bn) {
            (Some(norm), true) => {
                parts.push(norm.weight().clone());
                parts.push(norm.bias().clone());
                norm.eps()
            }
            (None, false) => 0.0,
            _ => candle_core::bail!("fused MLP: BatchNorm on some layers only"),
        };
        eps.push((bn_eps, dice.eps()));
        parts.push(dice.alpha().clone());
    }
    let first_in = match mlp.hidden.first() {
        Some(l) => l.linear.weight.dim(1)?,
        None => candle_core::bail!("fused MLP: no hidden layer"),
    };
    parts.push(mlp.out.weight.flatten_all()?);
    parts.push(mlp.out.bias.clone());
    let stack = Stack {
        first_in,
        hidden,
        bn,
    };
    Ok((Tensor::cat(&parts, 0)?, stack, eps))
}

/// Fold a training step's batch statistics into the running averages, as the tensor-op path does.
pub(crate) fn update_running(mlp: &Mlp, stats: Vec<LayerStats>, like: &Tensor) -> Result<()> {
    for (layer, (bn_st, dice_st)) in mlp.hidden.iter().zip(stats) {
        if let (Some(norm), Some(st)) = (&layer.bn, bn_st) {
            let (m, v) = st.into_tensors(like)?;
            norm.update_running(&m, &v)?;
        }
        if let Act::Dice(dice) = &layer.act {
            let (m, v) = dice_st.into_tensors(like)?;
            dice.update_running(&m, &v)?;
        }
    }
    Ok(())
}

/// Per-column constants of one hidden layer in a training step. With `x̂ = (z − μ)·s` (`z` the
/// Linear output without bias, `μ` its batch mean), the layer computes
/// `u = a·x̂ + c` (BatchNorm's output, or `z + bias` without BatchNorm), the Dice gate
/// `p = sigmoid(k·x̂)` and `y = u·(α + (1 − α)·p)`.
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

/// What the forward pass keeps of one hidden layer.
struct LayerSaved<T> {
    cols: Cols<T>,
    xhat: Vec<T>,
    p: Vec<T>,
    y: Vec<T>,
}

/// What the forward pass keeps for the backward pass.
pub(crate) struct Saved<T> {
    layers: Vec<LayerSaved<T>>,
}

impl<T> Saved<T> {
    /// The last hidden layer's activations (the output layer's input).
    fn last_y(&self) -> &[T] {
        self.layers.last().map_or(&[], |l| &l.y)
    }
}

/// One hidden layer forward from its Linear output `z` (no bias): the constants, the batch
/// statistics for the running averages, and `x̂`, `p`, `y`.
#[allow(clippy::too_many_arguments)]
fn layer_forward<T: Real>(
    z: &[T],
    l: &LayerAt,
    bn: bool,
    (bn_eps, dice_eps): (f64, f64),
    theta: &[T],
    n: usize,
) -> (LayerSaved<T>, LayerStats) {
    let w = l.width;
    let (mean, var) = col_moments(z, n, w);
    let f64s = |r: std::ops::Range<usize>| -> Vec<f64> {
        theta[r].iter().map(|v| v.to_f64().unwrap_or(0.0)).collect()
    };
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
    let sd: Vec<f64> = u_var.iter().map(|v| 1.0 / (v + dice_eps).sqrt()).collect();
    let k: Vec<f64> = a.iter().zip(&sd).map(|(a, s)| a * s).collect();
    let bn_stats = bn.then(|| DiceStats {
        mean: mean_b.clone(),
        var: var.clone(),
        inv_std: s.clone(),
    });
    let dice_stats = DiceStats {
        mean: u_mean,
        var: u_var,
        inv_std: sd.clone(),
    };
    let cols = Cols {
        s: cast(&s),
        a: cast(&a),
        c: cast(&c),
        k: cast(&k),
        sd: cast(&sd),
        vhat: cast(&vhat),
        mu: cast(&mean),
    };
    let cs = ColSlices::new(&cols, &theta[l.alpha..l.alpha + w]);
    let [xhat, p, y] = fill3(n * w, w * BLOCK, z, |[xb, pb, yb], zb| {
        forward_rows(&cs, zb, xb, pb, yb)
    });
    (LayerSaved { cols, xhat, p, y }, (bn_stats, dice_stats))
}

/// One hidden layer backward: `g = dL/dy` → `dL/dz` (z: the Linear output), writing the layer's
/// gradients of bias, [γ, β,] α into `dtheta`.
fn layer_backward<T: Real>(
    g: &[T],
    sv: &LayerSaved<T>,
    l: &LayerAt,
    bn: bool,
    theta: &[T],
    dtheta: &mut [T],
    n: usize,
) -> Vec<T> {
    let w = l.width;
    let cols = &sv.cols;
    let cs = ColSlices::new(cols, &theta[l.alpha..l.alpha + w]);
    let sums = col_reduce::<T, _>(n, w, 5, |rows, acc| {
        let at = rows.start * w..rows.end * w;
        backward_sums(&cs, &g[at.clone()], &sv.xhat[at.clone()], &sv.p[at], acc)
    });
    let nf = n.max(1) as f64;
    // Dice's batch statistics: dL/du = A − s_d·(mean(e) + q·mean(e·q)) with q = k·x̂;
    // mean(x̂) = 0, mean(x̂²) = v̂. Then dz = du (no BatchNorm) or BatchNorm's backward of du.
    let (mut gain, mut k1, mut k2) = (vec![0f64; w], vec![0f64; w], vec![0f64; w]);
    for j in 0..w {
        let f = |v: T| <T as WithDType>::to_f64(v);
        let (k, sd, s, a, vhat) = (
            f(cols.k[j]),
            f(cols.sd[j]),
            f(cols.s[j]),
            f(cols.a[j]),
            f(cols.vhat[j]),
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
        dtheta[l.alpha + j] = T::from(sums[0][j]).unwrap_or(T::zero());
        if bn {
            // dz = s·γ·(du − mean(du) − x̂·mean(du·x̂))
            let mean_dux = max - sd * k * vhat * meq;
            dtheta[l.gamma + j] = T::from(nf * mean_dux).unwrap_or(T::zero());
            dtheta[l.gamma + w + j] = T::from(sum_du).unwrap_or(T::zero());
            dtheta[l.b + j] = T::zero(); // cancelled by the normalisation
            gain[j] = s * a;
            k1[j] = ma;
            k2[j] = max + sd * k * meq * (1.0 - vhat);
        } else {
            dtheta[l.b + j] = T::from(sum_du).unwrap_or(T::zero());
            gain[j] = 1.0;
            k1[j] = sd * me;
            k2[j] = sd * k * meq;
        }
    }
    let (gain, k1, k2): (Vec<T>, Vec<T>, Vec<T>) = (cast(&gain), cast(&k1), cast(&k2));
    let dz = [&gain[..], &k1, &k2];
    fill1(n * w, w * BLOCK, |start, out| {
        let at = start..start + out.len();
        let (gb, xb, pb) = (&g[at.clone()], &sv.xhat[at.clone()], &sv.p[at]);
        backward_rows(&cs, dz, gb, xb, pb, out)
    })
}

/// A layer's per-column constants as slices of its width, and α.
struct ColSlices<'a, T> {
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
        let w = alpha.len();
        ColSlices {
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
// layer width, so the compiler drops the bounds checks and vectorises across columns.

wide_kernel! {
    /// Forward rows: `x̂ = (z − μ)·s`, `p = sigmoid(k·x̂)`, `y = (a·x̂ + c)·(α + (1 − α)·p)`.
    fn forward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        z: &[T],
        x: &mut [MaybeUninit<T>],
        p: &mut [MaybeUninit<T>],
        y: &mut [MaybeUninit<T>],
    ) {
        let w = cs.alpha.len();
        let (mu, s, a, c, k, al) = (&cs.mu[..w], &cs.s[..w], &cs.a[..w], &cs.c[..w], &cs.k[..w], &cs.alpha[..w]);
        let one = T::one();
        let rows = x
            .chunks_exact_mut(w)
            .zip(p.chunks_exact_mut(w))
            .zip(y.chunks_exact_mut(w))
            .zip(z.chunks_exact(w));
        for (((xr, pr), yr), zr) in rows {
            let (xr, pr, yr, zr) = (&mut xr[..w], &mut pr[..w], &mut yr[..w], &zr[..w]);
            for j in 0..w {
                let xh = (zr[j] - mu[j]) * s[j];
                let pk = T::sigmoid(k[j] * xh);
                xr[j].write(xh);
                pr[j].write(pk);
                yr[j].write((a[j] * xh + c[j]) * (al[j] + (one - al[j]) * pk));
            }
        }
    }
}

/// One element of the backward pass, from `g = dL/dy`, `x̂`, `p` and its column's constants:
/// `u = a·x̂ + c`; `t = g·u·(1 − p)` (its column sum is dα); `e = dL/d(k·x̂) = t·(1 − α)·p`
/// (through the gate); `A = g·(α + (1 − α)·p) + s_d·e` (dL/du with Dice's statistics held fixed).
#[inline(always)]
fn backward_elem<T: Real>(g: T, xh: T, pk: T, a: T, c: T, al: T, sd: T) -> (T, T, T) {
    let one = T::one();
    let t = g * (a * xh + c) * (one - pk);
    let e = t * (one - al) * pk;
    (t, e, g * (al + (one - al) * pk) + sd * e)
}

wide_kernel! {
    /// Column sums over a block of rows: Σ t, Σ e, Σ e·x̂, Σ A, Σ A·x̂ (into `acc[0..5]`).
    fn backward_sums<T: Real>(cs: &ColSlices<'_, T>, g: &[T], x: &[T], p: &[T], acc: &mut [Vec<T>]) {
        let w = cs.alpha.len();
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
                let (t, e, big_a) = backward_elem(gr[j], xr[j], pr[j], a[j], c[j], al[j], sd[j]);
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
    /// Backward rows: `dz = gain·(A − k₁ − k₂·x̂)` with `[gain, k₁, k₂]` per column.
    fn backward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        dz: [&[T]; 3],
        g: &[T],
        x: &[T],
        p: &[T],
        out: &mut [MaybeUninit<T>],
    ) {
        let w = cs.alpha.len();
        let (a, c, sd, al) = (&cs.a[..w], &cs.c[..w], &cs.sd[..w], &cs.alpha[..w]);
        let (gain, k1, k2) = (&dz[0][..w], &dz[1][..w], &dz[2][..w]);
        let rows = out
            .chunks_exact_mut(w)
            .zip(g.chunks_exact(w))
            .zip(x.chunks_exact(w).zip(p.chunks_exact(w)));
        for ((or, gr), (xr, pr)) in rows {
            let (or, gr, xr, pr) = (&mut or[..w], &gr[..w], &xr[..w], &pr[..w]);
            for j in 0..w {
                let (_, _, big_a) = backward_elem(gr[j], xr[j], pr[j], a[j], c[j], al[j], sd[j]);
                or[j].write(gain[j] * (big_a - k1[j] - k2[j] * xr[j]));
            }
        }
    }
}

/// The stack forward from the first hidden layer's Linear output `z1: [n, width₁]` (without its
/// bias): returns the scores `[n]`, what the backward pass needs, and the batch statistics.
pub(crate) fn stack_forward<T: Real>(
    st: &Stack,
    eps: &[(f64, f64)],
    theta: &[T],
    z1: Vec<T>,
    n: usize,
) -> (Vec<T>, Saved<T>, Vec<LayerStats>) {
    let off = st.offsets();
    let mut layers: Vec<LayerSaved<T>> = Vec::with_capacity(off.layers.len());
    let mut stats = Vec::with_capacity(off.layers.len());
    let mut z = z1;
    for (li, l) in off.layers.iter().enumerate() {
        if let Some(prev) = layers.last() {
            let w = &theta[l.w..l.w + l.width * l.fan_in];
            z = mm_new(&prev.y, false, w, true, (n, l.width, l.fan_in));
        }
        let (saved, stat) = layer_forward(&z, l, st.bn, eps[li], theta, n);
        layers.push(saved);
        stats.push(stat);
    }
    let sv = Saved { layers };
    let width = off.layers.last().map_or(0, |l| l.width);
    let mut score = vec![theta[off.out_b]; n];
    mm(
        &mut score,
        sv.last_y(),
        false,
        &theta[off.out_w..off.out_w + width],
        true,
        (n, 1, width),
        true,
    );
    (score, sv, stats)
}

/// The chain rule through [`stack_forward`]: returns the gradient of every parameter except the
/// first hidden layer's weight (left 0 for the caller's first layer) and `dL/dz1`.
pub(crate) fn stack_backward<T: Real>(
    st: &Stack,
    theta: &[T],
    g: &[T],
    sv: &Saved<T>,
) -> (Vec<T>, Vec<T>) {
    let n = g.len();
    let off = st.offsets();
    let mut dtheta = vec![T::zero(); off.total];
    let Some(last) = off.layers.last() else {
        return (dtheta, Vec::new());
    };
    let width = last.width;
    // output layer: s = y·w + b
    dtheta[off.out_w..off.out_w + width].copy_from_slice(&mm_tn(g, sv.last_y(), (1, width, n)));
    dtheta[off.out_b] = g.iter().fold(T::zero(), |a, &x| a + x);
    let w_out = &theta[off.out_w..off.out_w + width];
    let mut dy = fill1(n * width, width * BLOCK, |start, out| {
        for (r, row) in out.chunks_exact_mut(width).enumerate() {
            let gi = g[start / width + r];
            for (o, &w) in row.iter_mut().zip(w_out) {
                o.write(gi * w);
            }
        }
    });
    for li in (0..off.layers.len()).rev() {
        let l = &off.layers[li];
        let dz = layer_backward(&dy, &sv.layers[li], l, st.bn, theta, &mut dtheta, n);
        if li == 0 {
            return (dtheta, dz);
        }
        let prev = &sv.layers[li - 1].y;
        dtheta[l.w..l.w + l.width * l.fan_in].copy_from_slice(&mm_tn(
            &dz,
            prev,
            (l.width, l.fan_in, n),
        ));
        let w = &theta[l.w..l.w + l.width * l.fan_in];
        dy = mm_new(&dz, false, w, false, (n, l.fan_in, l.width));
    }
    (dtheta, dy)
}

/// The fused MLP on a plain input `x: [n, first_in]` (the DIN head).
struct FusedMlp {
    stack: Stack,
    eps: Vec<(f64, f64)>,
    saved: Arc<Mutex<Option<Box<dyn Any + Send>>>>,
    stats: Arc<Mutex<Vec<LayerStats>>>,
}

impl Kernel2 for FusedMlp {
    fn run<T: Real>(&self, theta: &[T], x: &[T]) -> Result<Vec<T>> {
        let (st, off) = (&self.stack, self.stack.offsets());
        let Some(first) = off.layers.first() else {
            candle_core::bail!("fused MLP: no hidden layer");
        };
        if theta.len() != off.total || off.layers.len() != self.eps.len() {
            candle_core::bail!("fused MLP: parameter vector does not match the layer sizes");
        }
        let n = x.len() / st.first_in.max(1);
        let w1 = &theta[first.w..first.w + first.width * first.fan_in];
        let z1 = mm_new(x, false, w1, true, (n, first.width, first.fan_in));
        let (score, saved, stats) = stack_forward(st, &self.eps, theta, z1, n);
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = stats;
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(saved));
        Ok(score)
    }
}

impl FusedMlp {
    fn grads<T: Real>(&self, theta: &Tensor, x: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor)> {
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(saved) = saved.and_then(|s| s.downcast::<Saved<T>>().ok()) else {
            candle_core::bail!("fused MLP: backward without its forward");
        };
        let (th, xs, gs) = (cpu_vec::<T>(theta)?, cpu_vec::<T>(x)?, cpu_vec::<T>(g)?);
        let (st, off) = (&self.stack, self.stack.offsets());
        let Some(first) = off.layers.first() else {
            candle_core::bail!("fused MLP: no hidden layer");
        };
        let (mut dth, dz1) = stack_backward(st, &th, &gs, &saved);
        let (n, h1, k) = (gs.len(), first.width, first.fan_in);
        dth[first.w..first.w + h1 * k].copy_from_slice(&mm_tn(&dz1, &xs, (h1, k, n)));
        let dx = mm_new(
            &dz1,
            false,
            &th[first.w..first.w + h1 * k],
            false,
            (n, k, h1),
        );
        let dev = theta.device();
        Ok((
            Tensor::from_vec(dth, theta.shape(), dev)?,
            Tensor::from_vec(dx, x.shape(), dev)?,
        ))
    }
}

pub(crate) fn cpu_vec<T: WithDType>(t: &Tensor) -> Result<Vec<T>> {
    t.contiguous()?.flatten_all()?.to_vec1::<T>()
}

impl CustomOp2 for FusedMlp {
    fn name(&self) -> &'static str {
        "fused-mlp"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let st = run2(self, "fused MLP", (s1, l1), (s2, l2))?;
        Ok((st, Shape::from((l2.shape().dims2()?.0, 1))))
    }

    fn bwd(
        &self,
        theta: &Tensor,
        x: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (a, b) = match theta.dtype() {
            DType::F32 => self.grads::<f32>(theta, x, g)?,
            DType::F64 => self.grads::<f64>(theta, x, g)?,
            other => candle_core::bail!("fused MLP: unsupported dtype {other:?}"),
        };
        Ok((Some(a), Some(b)))
    }
}

/// The MLP's output `[n, 1]` on `x: [n, first_in]` in a training step, as fused kernels (see
/// [`applies`]); updates the running statistics like the tensor-op path.
pub fn logits(mlp: &Mlp, x: &Tensor) -> Result<Tensor> {
    let (theta, stack, eps) = flatten(mlp)?;
    if x.dims2()?.1 != stack.first_in {
        candle_core::bail!("fused MLP: input width does not match the first layer");
    }
    let stats = Arc::new(Mutex::new(Vec::new()));
    let op = FusedMlp {
        stack,
        eps,
        saved: Arc::new(Mutex::new(None)),
        stats: stats.clone(),
    };
    let out = theta.apply_op2(&x.contiguous()?, op)?;
    let batch_stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
    update_running(mlp, batch_stats, x)?;
    Ok(out)
}
