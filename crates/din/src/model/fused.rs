//! Fused CPU kernels for the two element-wise hot spots of training, as candle custom ops with
//! hand-written backward passes: a Linear layer's bias (candle's generic `broadcast_add` backward
//! reduces over rows with a strided loop slower than the matmul itself) and Dice (a dozen tensor
//! ops and their backward in two passes over the data).
//!
//! They are used on CPU for unmasked inputs; elsewhere the plain tensor-op versions in
//! [`super::layers`] run. Tests check both agree, values and gradients.

// Kernels are generic over `num_traits::Float`, which has no `AddAssign`.
#![allow(clippy::assign_op_pattern)]

use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

use candle_core::{
    CpuStorage, CustomOp2, DType, Layout, Result, Shape, Storage, Tensor, WithDType,
};
use num_traits::Float;

/// Run `f` on the contiguous data of a CPU f32/f64 tensor.
fn with_data<R>(
    t: &Tensor,
    f32f: impl FnOnce(&[f32]) -> R,
    f64f: impl FnOnce(&[f64]) -> R,
) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("fused op: non-contiguous tensor".into()))?;
    match &*storage {
        Storage::Cpu(CpuStorage::F32(v)) => Ok(f32f(&v[start..end])),
        Storage::Cpu(CpuStorage::F64(v)) => Ok(f64f(&v[start..end])),
        _ => candle_core::bail!("fused op: expected an f32/f64 CPU tensor"),
    }
}

/// The contiguous data of a CPU storage as a slice.
pub(crate) fn slice<'a, T: WithDType>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [T]> {
    let v = s.as_slice::<T>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("fused op: non-contiguous input"),
    }
}

static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turn the fused kernels off (process-wide) to measure what they bring; results agree within
/// rounding either way (tests compare both paths).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// True when the fused kernels apply: enabled, CPU, f32/f64, rank 2.
pub fn applies(x: &Tensor) -> bool {
    ENABLED.load(std::sync::atomic::Ordering::Relaxed)
        && x.device().is_cpu()
        && matches!(x.dtype(), DType::F32 | DType::F64)
        && x.rank() == 2
}

/// Column sums of a row-major `[n, d]` buffer.
pub(crate) fn col_sums<T: Float>(x: &[T], d: usize) -> Vec<T> {
    let mut acc = vec![T::zero(); d];
    for row in x.chunks_exact(d) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a = *a + v;
        }
    }
    acc
}

/// Column sums of a `[N, D]` tensor (a fast replacement for `sum_keepdim(0)`), shape `[D]`.
pub fn col_sum(t: &Tensor) -> Result<Tensor> {
    let d = t.dims2()?.1;
    let dev = t.device().clone();
    with_data(
        t,
        |v| Tensor::from_vec(col_sums(v, d), d, &dev),
        |v| Tensor::from_vec(col_sums(v, d), d, &dev),
    )?
}

struct AddBias;

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "add-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, d) = l1.shape().dims2()?;
        fn go<T: Float + WithDType>(x: &[T], b: &[T], n: usize, d: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(n * d);
            for i in 0..n {
                out.extend(x[i * d..(i + 1) * d].iter().zip(b).map(|(&a, &c)| a + c));
            }
            out
        }
        let st = match s1 {
            CpuStorage::F32(_) => {
                CpuStorage::F32(go(slice::<f32>(s1, l1)?, slice::<f32>(s2, l2)?, n, d))
            }
            CpuStorage::F64(_) => {
                CpuStorage::F64(go(slice::<f64>(s1, l1)?, slice::<f64>(s2, l2)?, n, d))
            }
            _ => candle_core::bail!("add-bias: f32/f64 only"),
        };
        Ok((st, l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(g.clone()), Some(col_sum(g)?)))
    }
}

/// `x [N, D] + b [D]`, with a fast backward on CPU.
pub fn add_bias(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    if applies(x) && b.rank() == 1 && b.dtype() == x.dtype() {
        x.contiguous()?.apply_op2(&b.contiguous()?, AddBias)
    } else {
        x.broadcast_add(b)
    }
}

/// What a Dice forward remembers for its backward.
#[derive(Default)]
struct DiceCache {
    stats: DiceStats,
    /// Gate probabilities p = sigmoid(x̂), in the input's dtype.
    p32: Vec<f32>,
    p64: Vec<f64>,
}

struct DiceOp {
    eps: f64,
    /// Evaluation: fixed (running) mean and variance. Training: None (batch statistics).
    fixed: Option<(Vec<f64>, Vec<f64>)>,
    cache: Arc<Mutex<DiceCache>>,
}

fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// Rows per parallel block (reductions add block partials in f64).
pub(crate) const BLOCK: usize = 128;

/// Column sums of `f(row)` contributions, computed per block of rows in parallel.
pub(crate) fn col_reduce<T, F>(n: usize, d: usize, k: usize, f: F) -> Vec<Vec<f64>>
where
    T: Float + Send + Sync,
    F: Fn(usize, &mut [Vec<T>]) + Sync,
{
    use rayon::prelude::*;
    let blocks: Vec<usize> = (0..n.div_ceil(BLOCK)).collect();
    blocks
        .par_iter()
        .map(|&b| {
            let mut acc: Vec<Vec<T>> = vec![vec![T::zero(); d]; k];
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                f(i, &mut acc);
            }
            acc.iter()
                .map(|a| {
                    a.iter()
                        .map(|v| v.to_f64().unwrap_or(0.0))
                        .collect::<Vec<f64>>()
                })
                .collect::<Vec<_>>()
        })
        .reduce(
            || vec![vec![0f64; d]; k],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.iter_mut().zip(y).for_each(|(p, q)| *p += q);
                }
                a
            },
        )
}

pub(crate) fn cast<T: Float>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&m| T::from(m).unwrap_or(T::zero())).collect()
}

/// Statistics a Dice forward normalised with (batch or running), per neuron.
#[derive(Debug, Clone, Default)]
pub(crate) struct DiceStats {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    pub inv_std: Vec<f64>,
}

impl DiceStats {
    /// Mean and (biased) variance as `[D]` tensors like `like` (for the running averages).
    pub(crate) fn into_tensors(self, like: &Tensor) -> Result<(Tensor, Tensor)> {
        let (dev, k) = (like.device(), self.mean.len());
        Ok((
            Tensor::from_vec(self.mean, k, dev)?.to_dtype(like.dtype())?,
            Tensor::from_vec(self.var, k, dev)?.to_dtype(like.dtype())?,
        ))
    }
}

/// Mean and biased variance of each column of `x: [n, d]` (two passes, partial sums in f64).
pub(crate) fn col_moments<T: Float + WithDType + Send + Sync>(
    x: &[T],
    n: usize,
    d: usize,
) -> (Vec<f64>, Vec<f64>) {
    let nf = n.max(1) as f64;
    let sums = col_reduce::<T, _>(n, d, 1, |i, acc| {
        for (a, &v) in acc[0].iter_mut().zip(&x[i * d..(i + 1) * d]) {
            *a = *a + v;
        }
    });
    let mean: Vec<f64> = sums[0].iter().map(|s| s / nf).collect();
    let mt: Vec<T> = cast(&mean);
    let sq = col_reduce::<T, _>(n, d, 1, |i, acc| {
        for ((a, &v), &m) in acc[0].iter_mut().zip(&x[i * d..(i + 1) * d]).zip(&mt) {
            *a = *a + (v - m) * (v - m);
        }
    });
    (mean, sq[0].iter().map(|s| s / nf).collect())
}

/// Two new `len`-element buffers computed from `x` (also `len` long) block by block in parallel:
/// `f(out_a, out_b, x_block)` gets matching blocks of `block` elements (the last may be shorter)
/// and must write every element of both output blocks. The outputs are not zeroed first: for the
/// activation units' [N, width] buffers that memset was a measurable part of a training step.
pub(crate) fn fill2<T, F>(len: usize, block: usize, x: &[T], f: F) -> (Vec<T>, Vec<T>)
where
    T: Copy + Send + Sync,
    F: Fn(&mut [MaybeUninit<T>], &mut [MaybeUninit<T>], &[T]) + Sync,
{
    use rayon::prelude::*;
    assert_eq!(x.len(), len, "fill2: input and outputs differ in length");
    let block = block.max(1);
    let (mut a, mut b) = (Vec::with_capacity(len), Vec::with_capacity(len));
    a.spare_capacity_mut()[..len]
        .par_chunks_mut(block)
        .zip(b.spare_capacity_mut()[..len].par_chunks_mut(block))
        .zip(x.par_chunks(block))
        .for_each(|((ab, bb), xb)| f(ab, bb, xb));
    // SAFETY: the three chunkings have the same length and block size, so every element of both
    // outputs lies in exactly one pair of blocks handed to `f`, whose contract is to write them
    // all; `len` is within the capacity reserved above.
    unsafe {
        a.set_len(len);
        b.set_len(len);
    }
    (a, b)
}

/// A new `len`-element buffer computed block by block in parallel: `f(start, out)` gets the block
/// of elements `start .. start + out.len()` (`block` long, the last may be shorter) and must write
/// every element of it.
/// Not zeroed first (see [`fill2`]).
pub(crate) fn fill1<T, F>(len: usize, block: usize, f: F) -> Vec<T>
where
    T: Copy + Send + Sync,
    F: Fn(usize, &mut [MaybeUninit<T>]) + Sync,
{
    use rayon::prelude::*;
    let block = block.max(1);
    let mut v = Vec::with_capacity(len);
    v.spare_capacity_mut()[..len]
        .par_chunks_mut(block)
        .enumerate()
        .for_each(|(k, out)| f(k * block, out));
    // SAFETY: the blocks cover all `len` elements and `f`'s contract is to write each of them;
    // `len` is within the capacity reserved above.
    unsafe { v.set_len(len) };
    v
}

/// Dice forward on `x: [n, d]` (row-major): returns `y`, the gates `p = sigmoid(x̂)` and the
/// statistics. `fixed`: evaluation statistics (mean, var); `None`: batch statistics.
pub(crate) fn dice_forward<T: Float + WithDType + Send + Sync>(
    x: &[T],
    alpha: &[T],
    fixed: Option<&(Vec<f64>, Vec<f64>)>,
    eps: f64,
    n: usize,
    d: usize,
) -> (Vec<T>, Vec<T>, DiceStats) {
    let (mean, var) = match fixed {
        Some((m, v)) => (m.clone(), v.clone()),
        None => col_moments(x, n, d),
    };
    let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let (mt, it): (Vec<T>, Vec<T>) = (cast(&mean), cast(&inv_std));
    let one = T::one();
    let (out, p) = fill2(n * d, d * BLOCK, x, |o, pb, xb| {
        let rows = o
            .chunks_exact_mut(d)
            .zip(pb.chunks_exact_mut(d))
            .zip(xb.chunks_exact(d));
        for ((orow, prow), xrow) in rows {
            let cols = orow.iter_mut().zip(prow.iter_mut()).zip(xrow);
            for (((ov, pv), &v), ((&m, &s), &a)) in cols.zip(mt.iter().zip(&it).zip(alpha)) {
                let pk = sigmoid((v - m) * s);
                pv.write(pk);
                ov.write(v * (a + pk * (one - a)));
            }
        }
    });
    (out, p, DiceStats { mean, var, inv_std })
}

/// Dice backward: `g = dL/dy` → (`dL/dx`, `dL/dα`). `train`: the statistics were the batch's, so
/// their dependence on `x` is differentiated too.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dice_backward<T: Float + WithDType + Send + Sync>(
    x: &[T],
    alpha: &[T],
    g: &[T],
    p: &[T],
    stats: &DiceStats,
    train: bool,
    n: usize,
    d: usize,
) -> (Vec<T>, Vec<T>) {
    let (mt, it): (Vec<T>, Vec<T>) = (cast(&stats.mean), cast(&stats.inv_std));
    let one = T::one();
    // dα = Σ g·x·(1 − p); c = dL/dx̂ = g·x·(1 − α)·p·(1 − p); Σc and Σc·x̂ for the batch-stat terms
    let sums = col_reduce::<T, _>(n, d, 3, |i, acc| {
        let (xr, gr, pr) = (
            &x[i * d..(i + 1) * d],
            &g[i * d..(i + 1) * d],
            &p[i * d..(i + 1) * d],
        );
        let [da, sc, scx] = acc else { return };
        for ((a, &v), (&gj, &pk)) in da.iter_mut().zip(xr).zip(gr.iter().zip(pr)) {
            *a = *a + gj * v * (one - pk);
        }
        if train {
            let params = alpha.iter().zip(&mt).zip(&it);
            for (((c1, c2), ((&v, &gj), &pk)), ((&a, &m), &s)) in sc
                .iter_mut()
                .zip(scx.iter_mut())
                .zip(xr.iter().zip(gr).zip(pr))
                .zip(params)
            {
                let c = gj * v * (one - a) * pk * (one - pk);
                *c1 = *c1 + c;
                *c2 = *c2 + c * (v - m) * s;
            }
        }
    });
    let nf = n.max(1) as f64;
    let mc: Vec<T> = sums[1]
        .iter()
        .map(|&s| T::from(s / nf).unwrap_or(T::zero()))
        .collect();
    let mcx: Vec<T> = sums[2]
        .iter()
        .map(|&s| T::from(s / nf).unwrap_or(T::zero()))
        .collect();
    let dx = fill1(n * d, d * BLOCK, |base, out| {
        for (r, orow) in out.chunks_exact_mut(d).enumerate() {
            let at = base + r * d;
            let (xr, gr, pr) = (&x[at..at + d], &g[at..at + d], &p[at..at + d]);
            let vals = xr.iter().zip(gr).zip(pr);
            let params = alpha
                .iter()
                .zip(&it)
                .zip(mt.iter().zip(mc.iter().zip(&mcx)));
            for ((o, ((&v, &gj), &pk)), ((&a, &s), (&m, (&c1, &c2)))) in
                orow.iter_mut().zip(vals).zip(params)
            {
                let c = gj * v * (one - a) * pk * (one - pk);
                let mut r = gj * (a + pk * (one - a)) + c * s;
                if train {
                    let xh = (v - m) * s;
                    r = r - s * (c1 + xh * c2);
                }
                o.write(r);
            }
        }
    });
    (dx, cast(&sums[0]))
}

impl DiceOp {
    fn forward<T: Float + WithDType + Send + Sync>(
        &self,
        x: &[T],
        alpha: &[T],
        n: usize,
        d: usize,
    ) -> (Vec<T>, DiceCache) {
        let (out, p, stats) = dice_forward(x, alpha, self.fixed.as_ref(), self.eps, n, d);
        let mut cache = DiceCache {
            stats,
            ..Default::default()
        };
        let any: Box<dyn std::any::Any> = Box::new(p);
        match any.downcast::<Vec<f32>>() {
            Ok(v) => cache.p32 = *v,
            Err(any) => {
                if let Ok(v) = any.downcast::<Vec<f64>>() {
                    cache.p64 = *v;
                }
            }
        }
        (out, cache)
    }

    #[allow(clippy::too_many_arguments)]
    fn backward<T: Float + WithDType + Send + Sync>(
        &self,
        x: &[T],
        alpha: &[T],
        g: &[T],
        p: &[T],
        n: usize,
        d: usize,
    ) -> (Vec<T>, Vec<T>) {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        dice_backward(x, alpha, g, p, &cache.stats, self.fixed.is_none(), n, d)
    }
}

impl CustomOp2 for DiceOp {
    fn name(&self) -> &'static str {
        "dice"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, d) = l1.shape().dims2()?;
        let (st, cache) = match s1 {
            CpuStorage::F32(_) => {
                let (y, c) = self.forward(slice::<f32>(s1, l1)?, slice::<f32>(s2, l2)?, n, d);
                (CpuStorage::F32(y), c)
            }
            CpuStorage::F64(_) => {
                let (y, c) = self.forward(slice::<f64>(s1, l1)?, slice::<f64>(s2, l2)?, n, d);
                (CpuStorage::F64(y), c)
            }
            _ => candle_core::bail!("dice: f32/f64 only"),
        };
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = cache;
        Ok((st, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        alpha: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (n, d) = x.dims2()?;
        let dev = x.device().clone();
        let g = g.contiguous()?;
        let (dx, da) = match x.dtype() {
            DType::F32 => {
                let xs = x.flatten_all()?.to_vec1::<f32>()?;
                let a = alpha.to_vec1::<f32>()?;
                let gs = g.flatten_all()?.to_vec1::<f32>()?;
                let p =
                    std::mem::take(&mut self.cache.lock().unwrap_or_else(|e| e.into_inner()).p32);
                let (dx, da) = self.backward(&xs, &a, &gs, &p, n, d);
                (
                    Tensor::from_vec(dx, (n, d), &dev)?,
                    Tensor::from_vec(da, d, &dev)?,
                )
            }
            DType::F64 => {
                let xs = x.flatten_all()?.to_vec1::<f64>()?;
                let a = alpha.to_vec1::<f64>()?;
                let gs = g.flatten_all()?.to_vec1::<f64>()?;
                let p = self
                    .cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .p64
                    .clone();
                let (dx, da) = self.backward(&xs, &a, &gs, &p, n, d);
                (
                    Tensor::from_vec(dx, (n, d), &dev)?,
                    Tensor::from_vec(da, d, &dev)?,
                )
            }
            other => candle_core::bail!("dice: unsupported dtype {other:?}"),
        };
        Ok((Some(dx), Some(da)))
    }
}

/// Fused Dice on CPU. `fixed`: evaluation statistics (mean, var); `None` trains on batch
/// statistics, which are returned (mean, biased var) for the running averages.
pub fn dice(
    x: &Tensor,
    alpha: &Tensor,
    fixed: Option<(&Tensor, &Tensor)>,
    eps: f64,
) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
    let fixed = match fixed {
        Some((m, v)) => Some((
            m.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?,
            v.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?,
        )),
        None => None,
    };
    let train = fixed.is_none();
    let cache = Arc::new(Mutex::new(DiceCache::default()));
    let op = DiceOp {
        eps,
        fixed,
        cache: cache.clone(),
    };
    let y = x.contiguous()?.apply_op2(&alpha.contiguous()?, op)?;
    if !train {
        return Ok((y, None));
    }
    // the backward pass still needs the statistics in the cache
    let stats = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .stats
        .clone();
    Ok((y, Some(stats.into_tensors(x)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_helpers_write_every_element_including_a_short_last_block() {
        // 10 elements in blocks of 4: blocks of 4, 4 and 2
        let v: Vec<f32> = fill1(10, 4, |start, out| {
            for (j, o) in out.iter_mut().enumerate() {
                o.write((start + j) as f32);
            }
        });
        assert_eq!(v, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let (a, b) = fill2(10, 4, &x, |ab, bb, xb| {
            for ((a, b), &v) in ab.iter_mut().zip(bb.iter_mut()).zip(xb) {
                a.write(2.0 * v);
                b.write(-v);
            }
        });
        assert_eq!(a, x.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
        assert_eq!(b, x.iter().map(|v| -v).collect::<Vec<_>>());
        assert!(fill1::<f32, _>(0, 4, |_, _| {}).is_empty());
    }
}
