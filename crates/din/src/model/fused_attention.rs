//! The activation unit's MLP in training as one CPU kernel with a hand-written backward pass.
//!
//! It computes exactly what [`super::attention::ActivationUnit::forward_packed`] computes from
//! tensor ops — the first layer split by linearity,
//! `z₁ = (W_t + W_d)·t + [W_h − W_d, W_p]·[h, t⊙h] + b₁`, then the hidden layers with Dice
//! (and BatchNorm) and `Linear(·, 1)` as [`super::fused_mlp`]'s kernels — keeping every
//! intermediate in plain buffers and calling the matrix kernel directly, so a step does not pay
//! for a dozen temporary tensors, broadcasts and autograd bookkeeping per layer. The backward pass
//! is the chain rule written out (see [`backward`]); tests check values and gradients against the
//! tensor-op path and finite differences.
//!
//! Used in training on CPU (f32/f64) when every hidden layer is Dice, with or without BatchNorm
//! (torch-rechub's `Linear → BatchNorm1d → activation`); other configurations, evaluation and
//! other devices take the tensor-op path.

// Kernels are generic over `num_traits::Float`, which has no `AddAssign`.
#![allow(clippy::assign_op_pattern)]

use std::any::Any;
use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};

use super::attention::AttentionInput;
use super::fused::{fill1, mm, mm_new, mm_tn, slice, Real};
use super::fused_mlp::{
    cpu_vec, flatten, stack_backward, stack_forward, update_running, LayerStats,
    Saved as StackSaved, Stack,
};
use super::layers::Mlp;

/// True when the fused kernel can run this unit in training.
pub fn applies(mlp: &Mlp, target: &Tensor) -> bool {
    super::fused_mlp::applies(mlp, target)
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
    let (theta, stack, eps) = flatten(mlp)?;
    let four = input == AttentionInput::Four;
    if stack.first_in != (if four { 4 } else { 3 }) * d {
        candle_core::bail!("fused attention: first layer width does not match the input");
    }
    let stats = Arc::new(Mutex::new(Vec::new()));
    let op = FusedUnit {
        stack,
        d,
        four,
        eps,
        seg: seg.to_vec(),
        saved: Arc::new(Mutex::new(None)),
        stats: stats.clone(),
    };
    let score = theta.apply_op3(&target.contiguous()?, &hist.contiguous()?, op)?;
    let batch_stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
    update_running(mlp, batch_stats, target)?;
    Ok(score)
}

/// Column blocks of the first weight: (target, history, difference, product).
fn blocks(four: bool) -> (usize, usize, Option<usize>, usize) {
    if four {
        (0, 1, Some(2), 3) // [t, h, t − h, t ⊙ h]
    } else {
        (1, 0, None, 2) // [h, t, h ⊙ t]
    }
}

/// What the forward pass keeps for the backward pass.
struct Saved<T> {
    a_mat: Vec<T>, // [H1, d]   W_t (+ W_d)
    b_mat: Vec<T>, // [H1, 2d]  [W_h (− W_d), W_p]
    hp: Vec<T>,    // [N, 2d]   [h, t⊙h]
    stack: StackSaved<T>,
}

struct FusedUnit {
    stack: Stack,
    d: usize,
    /// `[t, h, t − h, t ⊙ h]` (else `[h, t, h ⊙ t]`).
    four: bool,
    /// (BatchNorm ε, Dice ε) per hidden layer.
    eps: Vec<(f64, f64)>,
    seg: Vec<u32>,
    saved: Arc<Mutex<Option<Box<dyn Any + Send>>>>,
    stats: Arc<Mutex<Vec<LayerStats>>>,
}

#[allow(clippy::too_many_arguments)]
fn forward<T: Real>(
    st: &Stack,
    four: bool,
    d: usize,
    eps: &[(f64, f64)],
    seg: &[u32],
    theta: &[T],
    t: &[T],
    h: &[T],
) -> (Vec<T>, Saved<T>, Vec<LayerStats>) {
    let (n, b) = (seg.len(), t.len() / d.max(1));
    let off = st.offsets();
    let first = off.layers[0];
    let (h1, kd) = (first.width, first.fan_in);
    let (bt, bh, bd, bp) = blocks(four);
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
    let zt = mm_new(t, false, &a_mat, true, (b, h1, d));
    let rows_per_block = 64;
    let hp = fill1(n * 2 * d, rows_per_block * 2 * d, |start, out| {
        for (r, row) in out.chunks_exact_mut(2 * d).enumerate() {
            let i = start / (2 * d) + r;
            let s = seg[i] as usize;
            let (hr, tr) = (&h[i * d..(i + 1) * d], &t[s * d..(s + 1) * d]);
            for (o, &v) in row[..d].iter_mut().zip(hr) {
                o.write(v);
            }
            for ((o, &v), &w) in row[d..].iter_mut().zip(hr).zip(tr) {
                o.write(w * v);
            }
        }
    });
    // z₁ = zt[seg] + hp·Bᵀ (the bias is added by the stack)
    let mut z1 = fill1(n * h1, rows_per_block * h1, |start, out| {
        for (r, row) in out.chunks_exact_mut(h1).enumerate() {
            let s = seg[start / h1 + r] as usize;
            for (o, &v) in row.iter_mut().zip(&zt[s * h1..(s + 1) * h1]) {
                o.write(v);
            }
        }
    });
    mm(&mut z1, &hp, false, &b_mat, true, (n, h1, 2 * d), true);
    let (score, stack, stats) = stack_forward(st, eps, theta, z1, n);
    let saved = Saved {
        a_mat,
        b_mat,
        hp,
        stack,
    };
    (score, saved, stats)
}

/// The chain rule through [`forward`]: gradients of the parameters, the targets and the history.
#[allow(clippy::too_many_arguments)]
fn backward<T: Real>(
    st: &Stack,
    four: bool,
    d: usize,
    seg: &[u32],
    theta: &[T],
    t: &[T],
    h: &[T],
    g: &[T],
    sv: &Saved<T>,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let (n, b) = (seg.len(), t.len() / d.max(1));
    let (mut dtheta, dz1) = stack_backward(st, theta, g, &sv.stack);
    // first layer: z₁ = zt[seg] + hp·Bᵀ + b₁ with zt = t·Aᵀ
    let first = st.offsets().layers[0];
    let h1 = first.width;
    let d_b = mm_tn(&dz1, &sv.hp, (h1, 2 * d, n));
    let dhp = mm_new(&dz1, false, &sv.b_mat, false, (n, 2 * d, h1));
    let mut dzt = vec![T::zero(); b * h1];
    for (i, &s) in seg.iter().enumerate() {
        let src = &dz1[i * h1..(i + 1) * h1];
        for (o, &x) in dzt[s as usize * h1..(s as usize + 1) * h1]
            .iter_mut()
            .zip(src)
        {
            *o = *o + x;
        }
    }
    let d_a = mm_tn(&dzt, t, (h1, d, b));
    let mut dt = mm_new(&dzt, false, &sv.a_mat, false, (b, d, h1));
    // hp = [h, t⊙h]: dh = dhp[..d] + dhp[d..]·t[seg], dt[seg] += dhp[d..]·h
    let dh = fill1(n * d, 64 * d, |start, out| {
        for (r, row) in out.chunks_exact_mut(d).enumerate() {
            let i = start / d + r;
            let s = seg[i] as usize;
            let (gr, tr) = (&dhp[i * 2 * d..(i + 1) * 2 * d], &t[s * d..(s + 1) * d]);
            for ((o, &g0), (&g1, &tv)) in row.iter_mut().zip(&gr[..d]).zip(gr[d..].iter().zip(tr)) {
                o.write(g0 + g1 * tv);
            }
        }
    });
    for (i, &s) in seg.iter().enumerate() {
        let s = s as usize;
        let gp = &dhp[i * 2 * d + d..(i + 1) * 2 * d];
        for ((o, &g1), &hv) in dt[s * d..(s + 1) * d].iter_mut().zip(gp).zip(&h[i * d..]) {
            *o = *o + g1 * hv;
        }
    }
    // back to the blocks of W₁: A = W_t (+ W_d), B_h = W_h (− W_d), B_p = W_p
    let (bt, bh, bd, bp) = blocks(four);
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

impl FusedUnit {
    fn run<T: Real>(&self, theta: &[T], t: &[T], h: &[T]) -> Result<Vec<T>> {
        let off = self.stack.offsets();
        if theta.len() != off.total || off.layers.len() != self.eps.len() {
            candle_core::bail!("fused attention: parameter vector does not match the layer sizes");
        }
        let (score, saved, stats) = forward(
            &self.stack,
            self.four,
            self.d,
            &self.eps,
            &self.seg,
            theta,
            t,
            h,
        );
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = stats;
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(saved));
        Ok(score)
    }

    fn grads<T: Real>(
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
        let (dth, dt, dh) = backward(
            &self.stack,
            self.four,
            self.d,
            &self.seg,
            &th,
            &t,
            &h,
            &gs,
            &saved,
        );
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
