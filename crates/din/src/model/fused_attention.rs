//! The activation unit's MLP in training as one CPU kernel with a hand-written backward pass.
//!
//! It computes exactly what [`super::attention::ActivationUnit::forward_packed`] computes from
//! tensor ops — the first layer split by linearity,
//! `z₁ = (W_t + W_d)·t + [W_h − W_d, W_p]·[h, t⊙h] + b₁`, then Dice, the other hidden layers
//! with Dice, and `Linear(·, 1)` — but keeps every intermediate in plain buffers and calls the
//! matrix kernel (`gemm`, the one candle uses) directly, so a step does not pay for a dozen
//! temporary tensors, broadcasts and autograd bookkeeping per layer. The backward pass is the
//! chain rule written out (see [`backward`]); tests check values and gradients against the
//! tensor-op path and finite differences.
//!
//! Used in training on CPU (f32/f64) when every hidden layer is Dice, with or without BatchNorm
//! (torch-rechub's `Linear → BatchNorm1d → activation`); other configurations, evaluation and
//! other devices take the tensor-op path.

// Kernels are generic over `num_traits::Float`, which has no `AddAssign`.
#![allow(clippy::assign_op_pattern)]

use std::any::Any;
use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor, WithDType};
use num_traits::Float;

use super::attention::AttentionInput;
use super::fused::{
    cast, col_moments, col_reduce, col_sums, dice_backward, dice_forward, fill1, fill2, slice,
    DiceStats, BLOCK,
};
use super::layers::{Act, Mlp};

/// Batch statistics of one hidden layer: BatchNorm's (when present) and Dice's.
type LayerStats = (Option<DiceStats>, DiceStats);

/// True when the fused kernel can run this unit in training.
pub fn applies(mlp: &Mlp, target: &Tensor) -> bool {
    super::fused::applies(target)
        && !mlp.hidden.is_empty()
        && mlp.hidden.iter().all(|l| matches!(l.act, Act::Dice(_)))
        && (mlp.hidden.iter().all(|l| l.bn.is_some()) || mlp.hidden.iter().all(|l| l.bn.is_none()))
}

/// Attention scores `[N]` of a training step: `target [B, d]`, packed `hist [N, d]`, `seg[n]` the
/// row of position `n`. Updates the running statistics (Dice, BatchNorm) like the tensor-op path.
pub fn scores(
    mlp: &Mlp,
    input: AttentionInput,
    target: &Tensor,
    hist: &Tensor,
    seg: &[u32],
) -> Result<Tensor> {
    let (b, d) = target.dims2()?;
    let (n, d2) = hist.dims2()?;
    if d2 != d || seg.len() != n || seg.iter().any(|&s| s as usize >= b) {
        candle_core::bail!("fused attention: inconsistent shapes or segments");
    }
    let mut parts = Vec::with_capacity(5 * mlp.hidden.len() + 2);
    let mut dims = Vec::with_capacity(mlp.hidden.len());
    let mut eps = Vec::with_capacity(mlp.hidden.len());
    let bn = mlp.hidden.first().is_some_and(|l| l.bn.is_some());
    for layer in &mlp.hidden {
        let Act::Dice(dice) = &layer.act else {
            candle_core::bail!("fused attention: Dice layers only");
        };
        dims.push(layer.linear.weight.dim(0)?);
        parts.push(layer.linear.weight.flatten_all()?);
        parts.push(layer.linear.bias.clone());
        let bn_eps = match (&layer.bn, bn) {
            (Some(norm), true) => {
                parts.push(norm.weight().clone());
                parts.push(norm.bias().clone());
                norm.eps()
            }
            (None, false) => 0.0,
            _ => candle_core::bail!("fused attention: BatchNorm on some layers only"),
        };
        eps.push((bn_eps, dice.eps()));
        parts.push(dice.alpha().clone());
    }
    parts.push(mlp.out.weight.flatten_all()?);
    parts.push(mlp.out.bias.clone());
    let theta = Tensor::cat(&parts, 0)?;
    let stats = Arc::new(Mutex::new(Vec::new()));
    let op = FusedUnit {
        shape: UnitShape {
            d,
            hidden: dims,
            four: input == AttentionInput::Four,
            bn,
        },
        eps,
        seg: seg.to_vec(),
        saved: Arc::new(Mutex::new(None)),
        stats: stats.clone(),
    };
    let score = theta.apply_op3(&target.contiguous()?, &hist.contiguous()?, op)?;
    let batch_stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
    for (layer, (bn_st, dice_st)) in mlp.hidden.iter().zip(batch_stats) {
        if let (Some(norm), Some(st)) = (&layer.bn, bn_st) {
            let (m, v) = st.into_tensors(target)?;
            norm.update_running(&m, &v)?;
        }
        if let Act::Dice(dice) = &layer.act {
            let (m, v) = dice_st.into_tensors(target)?;
            dice.update_running(&m, &v)?;
        }
    }
    Ok(score)
}

/// Layer sizes: embedding width `d`, hidden widths, and the first layer's input form.
#[derive(Debug, Clone)]
struct UnitShape {
    d: usize,
    hidden: Vec<usize>,
    four: bool,
    /// BatchNorm between every hidden Linear and its Dice.
    bn: bool,
}

/// Offsets of one hidden layer's parameters in the flat parameter vector.
#[derive(Debug, Clone, Copy)]
struct LayerAt {
    w: usize,
    b: usize,
    /// BatchNorm's scale γ and shift β (`bn` only; β follows γ).
    gamma: usize,
    alpha: usize,
    fan_in: usize,
    width: usize,
}

impl UnitShape {
    /// Width of the first layer's input (`k·d`).
    fn first_in(&self) -> usize {
        (if self.four { 4 } else { 3 }) * self.d
    }

    /// Parameter offsets: hidden layers (weight, bias, [γ, β,] α), then the output layer (weight,
    /// bias).
    fn layout(&self) -> (Vec<LayerAt>, usize, usize, usize) {
        let mut at = 0;
        let mut fan_in = self.first_in();
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
        let out_w = at;
        let out_b = at + fan_in;
        (layers, out_w, out_b, out_b + 1)
    }

    /// Column blocks of the first weight: (target, history, difference, product).
    fn blocks(&self) -> (usize, usize, Option<usize>, usize) {
        if self.four {
            (0, 1, Some(2), 3) // [t, h, t − h, t ⊙ h]
        } else {
            (1, 0, None, 2) // [h, t, h ⊙ t]
        }
    }
}

/// `c (m×n) = a·b`, or `c += a·b` when `acc`; row-major buffers; `ta`: `a` is stored `k×m`,
/// `tb`: `b` is stored `n×k`.
#[allow(clippy::too_many_arguments)]
fn mm<T: Float + 'static>(
    c: &mut [T],
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
    acc: bool,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !acc {
            c[..m * n].iter_mut().for_each(|x| *x = T::zero());
        }
        return;
    }
    let (a_rs, a_cs) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if tb { (1, k as isize) } else { (n as isize, 1) };
    let threads = rayon::current_num_threads();
    let par = if threads > 1 && m * n * k >= 1 << 16 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assert above keeps every index the strides describe inside the buffers:
    // c is m×n with row stride n; a is m×k (or k×m when `ta`); b is k×n (or n×k when `tb`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            acc,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            par,
        )
    }
}

/// What the forward pass keeps for the backward pass.
struct Saved<T> {
    a_mat: Vec<T>,          // [H1, d]   W_t (+ W_d)
    b_mat: Vec<T>,          // [H1, 2d]  [W_h (− W_d), W_p]
    hp: Vec<T>,             // [N, 2d]   [h, t⊙h]
    xhat: Vec<Vec<T>>,      // BatchNorm's normalised pre-activations per hidden layer (bn only)
    z: Vec<Vec<T>>,         // Dice inputs per hidden layer
    p: Vec<Vec<T>>,         // Dice gates per hidden layer
    act: Vec<Vec<T>>,       // activations per hidden layer
    stats: Vec<LayerStats>, // batch statistics per hidden layer
}

struct FusedUnit {
    shape: UnitShape,
    /// (BatchNorm ε, Dice ε) per hidden layer.
    eps: Vec<(f64, f64)>,
    seg: Vec<u32>,
    saved: Arc<Mutex<Option<Box<dyn Any + Send>>>>,
    stats: Arc<Mutex<Vec<LayerStats>>>,
}

/// BatchNorm in training on `z: [n, w]`: returns `x̂ = (z − μ)/σ`, `γ·x̂ + β` and the statistics.
fn batch_norm_forward<T: Float + WithDType + Send + Sync>(
    z: &[T],
    gamma: &[T],
    beta: &[T],
    eps: f64,
    n: usize,
    w: usize,
) -> (Vec<T>, Vec<T>, DiceStats) {
    let (mean, var) = col_moments(z, n, w);
    let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let (mt, it): (Vec<T>, Vec<T>) = (cast(&mean), cast(&inv_std));
    let (xhat, u) = fill2(n * w, w * BLOCK, z, |xb, ub, zb| {
        let rows = xb.chunks_exact_mut(w).zip(ub.chunks_exact_mut(w));
        for ((xr, ur), zr) in rows.zip(zb.chunks_exact(w)) {
            let params = mt.iter().zip(&it).zip(gamma).zip(beta);
            for (((x, o), &v), (((&m, &s), &g), &b)) in
                xr.iter_mut().zip(ur.iter_mut()).zip(zr).zip(params)
            {
                let xh = (v - m) * s;
                x.write(xh);
                o.write(g * xh + b);
            }
        }
    });
    let st = DiceStats { mean, var, inv_std };
    (xhat, u, st)
}

/// BatchNorm backward (training statistics): `du` → (`dz`, `dγ`, `dβ`).
fn batch_norm_backward<T: Float + WithDType + Send + Sync>(
    du: &[T],
    xhat: &[T],
    gamma: &[T],
    st: &DiceStats,
    n: usize,
    w: usize,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let sums = col_reduce::<T, _>(n, w, 2, |i, acc| {
        let (dr, xr) = (&du[i * w..(i + 1) * w], &xhat[i * w..(i + 1) * w]);
        let [dg, db] = acc else { return };
        for (((g, b), &d), &x) in dg.iter_mut().zip(db.iter_mut()).zip(dr).zip(xr) {
            *g = *g + d * x;
            *b = *b + d;
        }
    });
    let (dgamma, dbeta): (Vec<T>, Vec<T>) = (cast(&sums[0]), cast(&sums[1]));
    // dx̂ = γ·du; dz = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ, where Σ dx̂ = γ·dβ, Σ dx̂·x̂ = γ·dγ
    let nf = T::from(n.max(1)).unwrap_or(T::one());
    let inv: Vec<T> = cast(&st.inv_std);
    let m1: Vec<T> = gamma
        .iter()
        .zip(&dbeta)
        .map(|(&g, &b)| g * b / nf)
        .collect();
    let m2: Vec<T> = gamma
        .iter()
        .zip(&dgamma)
        .map(|(&g, &a)| g * a / nf)
        .collect();
    let dz = fill1(n * w, w * BLOCK, |start, zb| {
        let at = start..start + zb.len();
        let (db, xb) = (&du[at.clone()], &xhat[at]);
        let rows = zb.chunks_exact_mut(w).zip(db.chunks_exact(w));
        for ((zr, dr), xr) in rows.zip(xb.chunks_exact(w)) {
            let params = gamma.iter().zip(&inv).zip(&m1).zip(&m2);
            for (((o, &d), &x), (((&g, &s), &a), &b)) in zr.iter_mut().zip(dr).zip(xr).zip(params) {
                o.write(s * (g * d - a - x * b));
            }
        }
    });
    (dz, dgamma, dbeta)
}

fn forward<T: Float + WithDType + Send + Sync>(
    sh: &UnitShape,
    eps: &[(f64, f64)],
    seg: &[u32],
    theta: &[T],
    t: &[T],
    h: &[T],
) -> (Vec<T>, Saved<T>) {
    let (d, n, b) = (sh.d, seg.len(), t.len() / sh.d.max(1));
    let (layers, out_w, out_b, _) = sh.layout();
    let first = layers[0];
    let (h1, kd) = (first.width, first.fan_in);
    let (bt, bh, bd, bp) = sh.blocks();
    // Split the first weight: A = W_t (+ W_d), B = [W_h (− W_d), W_p].
    let mut a_mat = vec![T::zero(); h1 * d];
    let mut b_mat = vec![T::zero(); h1 * 2 * d];
    for j in 0..h1 {
        let row = &theta[first.w + j * kd..first.w + (j + 1) * kd];
        for c in 0..d {
            let dd = bd.map_or(T::zero(), |k| row[k * d + c]);
            a_mat[j * d + c] = row[bt * d + c] + dd;
            b_mat[j * 2 * d + c] = row[bh * d + c] - dd;
            b_mat[j * 2 * d + d + c] = row[bp * d + c];
        }
    }
    // zt = t·Aᵀ once per sample; hp = [h, t⊙h] per position.
    let mut zt = vec![T::zero(); b * h1];
    mm(&mut zt, t, false, &a_mat, true, (b, h1, d), false);
    let mut hp = vec![T::zero(); n * 2 * d];
    for (i, &s) in seg.iter().enumerate() {
        let (hr, tr) = (
            &h[i * d..(i + 1) * d],
            &t[s as usize * d..(s as usize + 1) * d],
        );
        let row = &mut hp[i * 2 * d..(i + 1) * 2 * d];
        row[..d].copy_from_slice(hr);
        for c in 0..d {
            row[d + c] = tr[c] * hr[c];
        }
    }
    // z₁ = zt[seg] + b₁ + hp·Bᵀ
    let bias1 = &theta[first.b..first.b + h1];
    let mut z1 = vec![T::zero(); n * h1];
    for (i, &s) in seg.iter().enumerate() {
        let zr = &zt[s as usize * h1..(s as usize + 1) * h1];
        for (o, (&x, &c)) in z1[i * h1..(i + 1) * h1]
            .iter_mut()
            .zip(zr.iter().zip(bias1))
        {
            *o = x + c;
        }
    }
    mm(&mut z1, &hp, false, &b_mat, true, (n, h1, 2 * d), true);

    let mut xhats = Vec::with_capacity(layers.len());
    let mut zs = Vec::with_capacity(layers.len());
    let mut ps = Vec::with_capacity(layers.len());
    let mut acts: Vec<Vec<T>> = Vec::with_capacity(layers.len());
    let mut stats = Vec::with_capacity(layers.len());
    let mut z = z1;
    for (li, l) in layers.iter().enumerate() {
        if li > 0 {
            let prev = &acts[li - 1];
            let bias = &theta[l.b..l.b + l.width];
            let mut zl: Vec<T> = Vec::with_capacity(n * l.width);
            for _ in 0..n {
                zl.extend_from_slice(bias);
            }
            let w = &theta[l.w..l.w + l.width * l.fan_in];
            mm(&mut zl, prev, false, w, true, (n, l.width, l.fan_in), true);
            z = zl;
        }
        let (bn_eps, dice_eps) = eps[li];
        let mut bn_stats = None;
        if sh.bn {
            let (gamma, beta) = (
                &theta[l.gamma..l.gamma + l.width],
                &theta[l.gamma + l.width..l.gamma + 2 * l.width],
            );
            let (xhat, u, st) = batch_norm_forward(&z, gamma, beta, bn_eps, n, l.width);
            xhats.push(xhat);
            bn_stats = Some(st);
            z = u;
        }
        let alpha = &theta[l.alpha..l.alpha + l.width];
        let (y, p, st) = dice_forward(&z, alpha, None, dice_eps, n, l.width);
        zs.push(std::mem::take(&mut z));
        ps.push(p);
        acts.push(y);
        stats.push((bn_stats, st));
    }
    let last = layers[layers.len() - 1];
    let mut score = vec![theta[out_b]; n];
    mm(
        &mut score,
        &acts[acts.len() - 1],
        false,
        &theta[out_w..out_w + last.width],
        true,
        (n, 1, last.width),
        true,
    );
    let saved = Saved {
        a_mat,
        b_mat,
        hp,
        xhat: xhats,
        z: zs,
        p: ps,
        act: acts,
        stats,
    };
    (score, saved)
}

/// The chain rule through [`forward`]: gradients of the parameters, the targets and the history.
fn backward<T: Float + WithDType + Send + Sync>(
    sh: &UnitShape,
    seg: &[u32],
    theta: &[T],
    t: &[T],
    h: &[T],
    g: &[T],
    sv: &Saved<T>,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let (d, n, b) = (sh.d, seg.len(), t.len() / sh.d.max(1));
    let (layers, out_w, out_b, total) = sh.layout();
    let mut dtheta = vec![T::zero(); total];
    let nl = layers.len();
    let last = layers[nl - 1];
    // output layer: s = a·w + b
    mm(
        &mut dtheta[out_w..out_w + last.width],
        g,
        true,
        &sv.act[nl - 1],
        false,
        (1, last.width, n),
        false,
    );
    dtheta[out_b] = g.iter().fold(T::zero(), |a, &x| a + x);
    let w_out = &theta[out_w..out_w + last.width];
    let mut da = vec![T::zero(); n * last.width];
    for (row, &gi) in da.chunks_exact_mut(last.width).zip(g) {
        for (o, &w) in row.iter_mut().zip(w_out) {
            *o = gi * w;
        }
    }
    // hidden layers, last to first
    let mut dz_first = Vec::new();
    for li in (0..nl).rev() {
        let l = layers[li];
        let alpha = &theta[l.alpha..l.alpha + l.width];
        let (bn_stats, dice_stats) = &sv.stats[li];
        let (mut dz, dalpha) = dice_backward(
            &sv.z[li], alpha, &da, &sv.p[li], dice_stats, true, n, l.width,
        );
        dtheta[l.alpha..l.alpha + l.width].copy_from_slice(&dalpha);
        if let (true, Some(st)) = (sh.bn, bn_stats) {
            let gamma = &theta[l.gamma..l.gamma + l.width];
            let (dzn, dgamma, dbeta) =
                batch_norm_backward(&dz, &sv.xhat[li], gamma, st, n, l.width);
            dtheta[l.gamma..l.gamma + l.width].copy_from_slice(&dgamma);
            dtheta[l.gamma + l.width..l.gamma + 2 * l.width].copy_from_slice(&dbeta);
            dz = dzn;
        }
        dtheta[l.b..l.b + l.width].copy_from_slice(&col_sums(&dz, l.width));
        if li > 0 {
            let prev = &sv.act[li - 1];
            mm(
                &mut dtheta[l.w..l.w + l.width * l.fan_in],
                &dz,
                true,
                prev,
                false,
                (l.width, l.fan_in, n),
                false,
            );
            let mut dprev = vec![T::zero(); n * l.fan_in];
            let w = &theta[l.w..l.w + l.width * l.fan_in];
            mm(
                &mut dprev,
                &dz,
                false,
                w,
                false,
                (n, l.fan_in, l.width),
                false,
            );
            da = dprev;
        } else {
            dz_first = dz;
        }
    }
    // first layer: z₁ = zt[seg] + hp·Bᵀ + b₁ with zt = t·Aᵀ
    let first = layers[0];
    let h1 = first.width;
    let mut d_b = vec![T::zero(); h1 * 2 * d];
    mm(
        &mut d_b,
        &dz_first,
        true,
        &sv.hp,
        false,
        (h1, 2 * d, n),
        false,
    );
    let mut dhp = vec![T::zero(); n * 2 * d];
    mm(
        &mut dhp,
        &dz_first,
        false,
        &sv.b_mat,
        false,
        (n, 2 * d, h1),
        false,
    );
    let mut dzt = vec![T::zero(); b * h1];
    for (i, &s) in seg.iter().enumerate() {
        let src = &dz_first[i * h1..(i + 1) * h1];
        for (o, &x) in dzt[s as usize * h1..(s as usize + 1) * h1]
            .iter_mut()
            .zip(src)
        {
            *o = *o + x;
        }
    }
    let mut d_a = vec![T::zero(); h1 * d];
    mm(&mut d_a, &dzt, true, t, false, (h1, d, b), false);
    let mut dt = vec![T::zero(); b * d];
    mm(&mut dt, &dzt, false, &sv.a_mat, false, (b, d, h1), false);
    let mut dh = vec![T::zero(); n * d];
    for (i, &s) in seg.iter().enumerate() {
        let s = s as usize;
        let row = &dhp[i * 2 * d..(i + 1) * 2 * d];
        for c in 0..d {
            let (tv, hv) = (t[s * d + c], h[i * d + c]);
            dh[i * d + c] = row[c] + row[d + c] * tv;
            dt[s * d + c] = dt[s * d + c] + row[d + c] * hv;
        }
    }
    // back to the blocks of W₁: A = W_t (+ W_d), B_h = W_h (− W_d), B_p = W_p
    let (bt, bh, bd, bp) = sh.blocks();
    let kd = first.fan_in;
    for j in 0..h1 {
        let row = &mut dtheta[first.w + j * kd..first.w + (j + 1) * kd];
        for c in 0..d {
            let (ga, gh, gp) = (d_a[j * d + c], d_b[j * 2 * d + c], d_b[j * 2 * d + d + c]);
            row[bt * d + c] = ga;
            row[bh * d + c] = gh;
            row[bp * d + c] = gp;
            if let Some(k) = bd {
                row[k * d + c] = ga - gh;
            }
        }
    }
    (dtheta, dt, dh)
}

fn cpu_vec<T: WithDType>(t: &Tensor) -> Result<Vec<T>> {
    t.contiguous()?.flatten_all()?.to_vec1::<T>()
}

impl FusedUnit {
    fn run<T: Float + WithDType + Send + Sync>(
        &self,
        theta: &[T],
        t: &[T],
        h: &[T],
    ) -> Result<Vec<T>> {
        let (layers, _, _, total) = self.shape.layout();
        if theta.len() != total || layers.len() != self.eps.len() {
            candle_core::bail!("fused attention: parameter vector does not match the layer sizes");
        }
        let (score, saved) = forward(&self.shape, &self.eps, &self.seg, theta, t, h);
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = saved.stats.clone();
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(saved));
        Ok(score)
    }

    fn grads<T: Float + WithDType + Send + Sync>(
        &self,
        theta: &Tensor,
        target: &Tensor,
        hist: &Tensor,
        g: &Tensor,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(saved) = saved.and_then(|s| s.downcast::<Saved<T>>().ok()) else {
            candle_core::bail!("fused attention: backward without its forward");
        };
        let (th, t, h, gs) = (
            cpu_vec::<T>(theta)?,
            cpu_vec::<T>(target)?,
            cpu_vec::<T>(hist)?,
            cpu_vec::<T>(g)?,
        );
        let (dth, dt, dh) = backward(&self.shape, &self.seg, &th, &t, &h, &gs, &saved);
        let dev = theta.device();
        Ok((
            Tensor::from_vec(dth, theta.shape(), dev)?,
            Tensor::from_vec(dt, target.shape(), dev)?,
            Tensor::from_vec(dh, hist.shape(), dev)?,
        ))
    }
}

impl CustomOp3 for FusedUnit {
    fn name(&self) -> &'static str {
        "fused-attention-unit"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.seg.len();
        let st = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(self.run(
                slice::<f32>(s1, l1)?,
                slice::<f32>(s2, l2)?,
                slice::<f32>(s3, l3)?,
            )?),
            CpuStorage::F64(_) => CpuStorage::F64(self.run(
                slice::<f64>(s1, l1)?,
                slice::<f64>(s2, l2)?,
                slice::<f64>(s3, l3)?,
            )?),
            _ => candle_core::bail!("fused attention: f32/f64 only"),
        };
        Ok((st, Shape::from(n)))
    }

    fn bwd(
        &self,
        theta: &Tensor,
        target: &Tensor,
        hist: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (a, b, c) = match theta.dtype() {
            DType::F32 => self.grads::<f32>(theta, target, hist, g)?,
            DType::F64 => self.grads::<f64>(theta, target, hist, g)?,
            other => candle_core::bail!("fused attention: unsupported dtype {other:?}"),
        };
        Ok((Some(a), Some(b), Some(c)))
    }
}
