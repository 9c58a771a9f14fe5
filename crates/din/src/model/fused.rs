//! Fused CPU kernels and the helpers they share.
//!
//! * Candle custom ops with hand-written backward passes for the element-wise hot spots outside
//!   the fused MLPs: a Linear layer's bias (candle's generic `broadcast_add` backward reduces over
//!   rows with a strided loop slower than the matmul itself), Dice (a dozen tensor ops and their
//!   backward in two passes over the data) and the attention-weighted pooling of a packed history
//!   ([`segment_pool`]). They are used on CPU for unmasked inputs; elsewhere the plain tensor-op
//!   versions in [`super::layers`] run. Tests check both agree, values and gradients.
//! * For [`super::fused_mlp`] and [`super::fused_attention`]: the matrix kernel (`mm`, `mm_new`,
//!   `mm_tn`), parallel fills and column reductions over row blocks, batch moments, a vectorisable
//!   `exp`, and [`wide_kernel`], which compiles a loop for AVX-512 / AVX2 and picks one at run time.

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

/// A kernel of two f32/f64 inputs (a custom op's forward on CPU).
pub(crate) trait Kernel2 {
    fn run<T: Real>(&self, a: &[T], b: &[T]) -> Result<Vec<T>>;
}

/// `k` on the contiguous data of two CPU storages of one dtype, f32 or f64 (`name` for the error).
pub(crate) fn run2<K: Kernel2>(
    k: &K,
    name: &str,
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
) -> Result<CpuStorage> {
    Ok(match s1 {
        CpuStorage::F32(_) => CpuStorage::F32(k.run(slice::<f32>(s1, l1)?, slice::<f32>(s2, l2)?)?),
        CpuStorage::F64(_) => CpuStorage::F64(k.run(slice::<f64>(s1, l1)?, slice::<f64>(s2, l2)?)?),
        _ => candle_core::bail!("{name}: f32/f64 only"),
    })
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

impl Kernel2 for AddBias {
    /// `x [n, d] + b [d]`.
    fn run<T: Real>(&self, x: &[T], b: &[T]) -> Result<Vec<T>> {
        let d = b.len().max(1);
        let mut out = Vec::with_capacity(x.len());
        for row in x.chunks_exact(d) {
            out.extend(row.iter().zip(b).map(|(&a, &c)| a + c));
        }
        Ok(out)
    }
}

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
        let st = run2(self, "add-bias", (s1, l1), (s2, l2))?;
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

/// `out[seg[i]] += w[i]·h[i]` over the positions of a packed history.
struct SegmentPool {
    seg: Vec<u32>,
    batch: usize,
    d: usize,
}

impl Kernel2 for SegmentPool {
    fn run<T: Real>(&self, h: &[T], w: &[T]) -> Result<Vec<T>> {
        let d = self.d;
        let mut out = vec![T::zero(); self.batch * d];
        for ((hr, &wi), &s) in h.chunks_exact(d).zip(w).zip(&self.seg) {
            let o = &mut out[s as usize * d..(s as usize + 1) * d];
            for (o, &v) in o.iter_mut().zip(hr) {
                *o = *o + wi * v;
            }
        }
        Ok(out)
    }
}

impl SegmentPool {
    /// `dh[i] = w[i]·g[seg[i]]` and `dw[i] = ⟨g[seg[i]], h[i]⟩`.
    fn grads<T: Real>(&self, h: &Tensor, w: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor)> {
        let d = h.dims2()?.1;
        let v = |t: &Tensor| t.contiguous()?.flatten_all()?.to_vec1::<T>();
        let (hv, wv, gv) = (v(h)?, v(w)?, v(g)?);
        let mut dh = Vec::with_capacity(hv.len());
        let mut dw = Vec::with_capacity(wv.len());
        for ((hr, &wi), &s) in hv.chunks_exact(d).zip(&wv).zip(&self.seg) {
            let gr = &gv[s as usize * d..(s as usize + 1) * d];
            dh.extend(gr.iter().map(|&x| wi * x));
            dw.push(gr.iter().zip(hr).fold(T::zero(), |a, (&x, &y)| a + x * y));
        }
        Ok((
            Tensor::from_vec(dh, h.shape(), h.device())?,
            Tensor::from_vec(dw, w.shape(), w.device())?,
        ))
    }
}

impl CustomOp2 for SegmentPool {
    fn name(&self) -> &'static str {
        "segment-pool"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let st = run2(self, "segment pool", (s1, l1), (s2, l2))?;
        Ok((st, Shape::from((self.batch, self.d))))
    }

    fn bwd(
        &self,
        h: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dh, dw) = match h.dtype() {
            DType::F32 => self.grads::<f32>(h, w, g)?,
            DType::F64 => self.grads::<f64>(h, w, g)?,
            other => candle_core::bail!("segment pool: unsupported dtype {other:?}"),
        };
        Ok((Some(dh), Some(dw)))
    }
}

/// The attention-weighted sums `[batch, d]` of a packed history `h: [N, d]` with weights
/// `w: [N]`, position `i` belonging to row `seg[i]`, as one CPU kernel each way (in tensor ops a
/// broadcast multiply and an `index_add`, whose backward is half a dozen more).
pub fn segment_pool(h: &Tensor, w: &Tensor, seg: &[u32], batch: usize) -> Result<Tensor> {
    let (n, d) = h.dims2()?;
    if w.dims1()? != n || seg.len() != n || seg.iter().any(|&s| s as usize >= batch) {
        candle_core::bail!("segment pool: inconsistent shapes or segments");
    }
    let op = SegmentPool {
        seg: seg.to_vec(),
        batch,
        d,
    };
    h.contiguous()?.apply_op2(&w.contiguous()?, op)
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

/// Defines a kernel function whose body is compiled three times — for AVX-512, for AVX2 with FMA,
/// and for the baseline target — with the widest the CPU has chosen at run time, so its loops are
/// vectorised 16 or 8 f32 lanes wide instead of the baseline x86-64 target's 4. The versions give
/// the same results bit for bit (lane-wise IEEE operations; no fused multiply-add is formed
/// without fast-math). Other architectures compile the body once.
macro_rules! wide_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$t:ident: Real>($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$t: Real>($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body<$t: Real>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx512<$t: Real>($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2<$t: Real>($($arg: $ty),*) {
                    body($($arg),*)
                }
                match $crate::model::fused::simd_level() {
                    // SAFETY: the CPU has every feature the function is compiled for.
                    $crate::model::fused::Simd::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above, for AVX2 and FMA.
                    $crate::model::fused::Simd::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::model::fused::Simd::Base => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use wide_kernel;

/// The widest vector instructions this CPU has, of those [`wide_kernel`] compiles for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only x86-64 has wide versions
pub(crate) enum Simd {
    Avx512,
    Avx2,
    Base,
}

/// Detected once.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn simd_level() -> Simd {
    static LEVEL: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512vl") && has!("avx512dq") && has!("avx512bw") {
                return Simd::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return Simd::Avx2;
            }
        }
        Simd::Base
    })
}

/// The element types of the fused kernels, each with its logistic sigmoid.
pub(crate) trait Real: Float + WithDType + Send + Sync {
    fn sigmoid(x: Self) -> Self;
}

impl Real for f32 {
    /// With [`exp_f32`], which the compiler can vectorise (libm's `expf` is one call per element).
    #[inline(always)]
    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + exp_f32(-x))
    }
}

impl Real for f64 {
    #[inline(always)]
    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }
}

/// `eˣ` in f32 without a library call (Cephes' `expf`): `2ⁿ·eʳ` with `n = round(x·log₂e)`,
/// `|r| ≤ ln2/2` and `eʳ` by a degree-6 polynomial; within 2 ulp of the exact value over the
/// normal range. Inputs are clamped to [−87.3, 88.3], so the result is a normal f32 (NaN stays NaN).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding and subtracting it rounds to an integer
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4; // ln 2 in two parts
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * r * r + r + 1.0;
    // 2ⁿ from the bits: `shifted` is ROUND + n in the same binade, so their bit patterns differ
    // by n (integer operations, which vectorise; a float-to-int conversion does not here)
    let n_int = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    er * f32::from_bits(n_int.wrapping_add(127) << 23)
}

/// Rows per parallel block (reductions add block partials in f64).
pub(crate) const BLOCK: usize = 128;

/// `k` column sums of width `d`: `f(rows, acc)` adds the contributions of a block of rows into
/// `acc` (`k` zeroed vectors of `T`); blocks run in parallel and are added up in f64, in block
/// order (see [`in_order`]).
pub(crate) fn col_reduce<T, F>(n: usize, d: usize, k: usize, f: F) -> Vec<Vec<f64>>
where
    T: Float + Send + Sync,
    F: Fn(std::ops::Range<usize>, &mut [Vec<T>]) + Sync,
{
    let block = |b: usize| {
        let mut acc: Vec<Vec<T>> = vec![vec![T::zero(); d]; k];
        f(b * BLOCK..((b + 1) * BLOCK).min(n), &mut acc);
        acc.iter()
            .map(|a| {
                a.iter()
                    .map(|v| v.to_f64().unwrap_or(0.0))
                    .collect::<Vec<f64>>()
            })
            .collect::<Vec<_>>()
    };
    in_order(n.div_ceil(BLOCK), block, |mut a, b| {
        for (x, y) in a.iter_mut().zip(b) {
            x.iter_mut().zip(y).for_each(|(p, q)| *p += q);
        }
        a
    })
    .unwrap_or_else(|| vec![vec![0f64; d]; k])
}

/// `parts` partial results computed in parallel, combined on the calling thread in part order
/// (`None` when `parts` is 0): the rounding of a reduction then does not depend on how rayon
/// happened to split the work (a `par_iter().reduce()` tree does, and differs between a call from
/// a pool thread and one from outside the pool).
pub(crate) fn in_order<P: Send>(
    parts: usize,
    part: impl Fn(usize) -> P + Sync + Send,
    combine: impl Fn(P, P) -> P,
) -> Option<P> {
    use rayon::prelude::*;
    let partials: Vec<P> = (0..parts).into_par_iter().map(part).collect();
    partials.into_iter().reduce(combine)
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

/// Mean and biased variance of each column of `x: [n, d]`, in one parallel pass: each block of
/// rows is summed twice while it is in cache (its mean, then squared deviations from it; partial
/// sums in `T`) and the blocks are combined in f64 with Chan et al.'s pairwise formula, in block
/// order.
pub(crate) fn col_moments<T: Real>(x: &[T], n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    // (rows, mean, sum of squared deviations) per column
    type Part = (f64, Vec<f64>, Vec<f64>);
    let block = |b: usize| -> Part {
        let rows = &x[b * BLOCK * d..((b + 1) * BLOCK).min(n) * d];
        let cnt = rows.len() / d.max(1);
        let mut acc = vec![T::zero(); d];
        for row in rows.chunks_exact(d) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = *a + v;
            }
        }
        let mean: Vec<f64> = acc
            .iter()
            .map(|a| a.to_f64().unwrap_or(0.0) / cnt.max(1) as f64)
            .collect();
        let mt: Vec<T> = cast(&mean);
        acc.iter_mut().for_each(|a| *a = T::zero());
        for row in rows.chunks_exact(d) {
            for ((a, &v), &m) in acc.iter_mut().zip(row).zip(&mt) {
                *a = *a + (v - m) * (v - m);
            }
        }
        let m2 = acc.iter().map(|a| a.to_f64().unwrap_or(0.0)).collect();
        (cnt as f64, mean, m2)
    };
    let combine = |a: Part, b: Part| -> Part {
        let (na, nb) = (a.0, b.0);
        if na == 0.0 {
            return b;
        }
        if nb == 0.0 {
            return a;
        }
        let nt = na + nb;
        let mut mean = a.1;
        let mut m2 = a.2;
        for ((m, s), (&mb, &sb)) in mean.iter_mut().zip(m2.iter_mut()).zip(b.1.iter().zip(&b.2)) {
            let delta = mb - *m;
            *m += delta * nb / nt;
            *s += sb + delta * delta * na * nb / nt;
        }
        (nt, mean, m2)
    };
    let (cnt, mean, m2) = in_order(n.div_ceil(BLOCK), block, combine)
        .unwrap_or_else(|| (0.0, vec![0.0; d], vec![0.0; d]));
    let var = m2.iter().map(|s| s / cnt.max(1.0)).collect();
    (mean, var)
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

/// Three new `len`-element buffers computed from `x` block by block in parallel (see [`fill2`]).
pub(crate) fn fill3<T, F>(len: usize, block: usize, x: &[T], f: F) -> [Vec<T>; 3]
where
    T: Copy + Send + Sync,
    F: Fn([&mut [MaybeUninit<T>]; 3], &[T]) + Sync,
{
    use rayon::prelude::*;
    assert_eq!(x.len(), len, "fill3: input and outputs differ in length");
    let block = block.max(1);
    let mut out: [Vec<T>; 3] = std::array::from_fn(|_| Vec::with_capacity(len));
    {
        let [a, b, c] = &mut out;
        a.spare_capacity_mut()[..len]
            .par_chunks_mut(block)
            .zip(b.spare_capacity_mut()[..len].par_chunks_mut(block))
            .zip(c.spare_capacity_mut()[..len].par_chunks_mut(block))
            .zip(x.par_chunks(block))
            .for_each(|(((ab, bb), cb), xb)| f([ab, bb, cb], xb));
    }
    for v in &mut out {
        // SAFETY: as in `fill2`: matching blocks cover every element of each output once, and
        // `f` writes them all; `len` is within the reserved capacity.
        unsafe { v.set_len(len) };
    }
    out
}

/// `c (m×n) = a·b`, or `c += a·b` when `acc`; row-major buffers; `ta`: `a` is stored `k×m`,
/// `tb`: `b` is stored `n×k`. The matrix kernel is `gemm`'s (the one candle uses), threaded
/// over rayon's pool for all but small products.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mm<T: Float + 'static>(
    c: &mut [T],
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
    acc: bool,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    // SAFETY: `c` is an initialised buffer of at least m×n elements (checked above).
    unsafe { mm_raw(c.as_mut_ptr(), a, ta, b, tb, (m, n, k), acc) }
}

/// A new `m×n` buffer `a·b` (see [`mm`]), written by the kernel without zeroing it first.
pub(crate) fn mm_new<T: Float + 'static>(
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
) -> Vec<T> {
    assert!(a.len() >= m * k && b.len() >= k * n);
    let mut c = Vec::with_capacity(m * n);
    if k == 0 {
        c.resize(m * n, T::zero());
        return c;
    }
    // SAFETY: the capacity holds m×n elements; with `acc = false` and k > 0 the kernel writes
    // every one of them without reading any, so they are all initialised before `set_len`.
    unsafe {
        mm_raw(c.as_mut_ptr(), a, ta, b, tb, (m, n, k), false);
        c.set_len(m * n);
    }
    c
}

/// `aᵀ·b` (`m×n`) for row-major `a: [k, m]` and `b: [k, n]`: a weight gradient, summed over the
/// `k` rows of a batch. The rows are split between the threads, each multiplies its share alone and
/// the partial products are added: the matrix kernel parallelises over `m` and `n` only, and was
/// 1.5× slower on this shape (k in the thousands, m and n in the hundreds).
pub(crate) fn mm_tn<T: Real>(a: &[T], b: &[T], (m, n, k): (usize, usize, usize)) -> Vec<T> {
    assert!(a.len() >= k * m && b.len() >= k * n);
    let parts = rayon::current_num_threads().min(k / 64).max(1);
    if parts == 1 {
        return mm_new(a, true, b, false, (m, n, k));
    }
    let rows = k.div_ceil(parts);
    let part = |p: usize| {
        let (lo, hi) = (p * rows, ((p + 1) * rows).min(k));
        let mut c = Vec::with_capacity(m * n);
        // SAFETY: as in `mm_new`: `hi > lo` (k ≥ 64·parts), so the kernel writes all m×n.
        unsafe {
            mm_raw_with(
                c.as_mut_ptr(),
                &a[lo * m..hi * m],
                true,
                &b[lo * n..hi * n],
                false,
                (m, n, hi - lo),
                false,
                gemm::Parallelism::None,
            );
            c.set_len(m * n);
        }
        c
    };
    in_order(parts, part, |mut x, y| {
        x.iter_mut().zip(&y).for_each(|(p, &q)| *p = *p + q);
        x
    })
    .unwrap_or_else(|| vec![T::zero(); m * n])
}

/// # Safety
/// `c` must be valid for writes (and, when `acc`, reads) of `m×n` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn mm_raw<T: Float + 'static>(
    c: *mut T,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
    acc: bool,
) {
    assert!(a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !acc {
            for i in 0..m * n {
                // SAFETY: `c` is valid for m×n writes (the caller's contract).
                unsafe { c.add(i).write(T::zero()) };
            }
        }
        return;
    }
    let threads = rayon::current_num_threads();
    let par = if threads > 1 && m * n * k >= 1 << 16 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from the caller.
    unsafe { mm_raw_with(c, a, ta, b, tb, (m, n, k), acc, par) }
}

/// [`mm_raw`] with the kernel's threading chosen by the caller.
///
/// # Safety
/// As [`mm_raw`]; `k > 0`.
#[allow(clippy::too_many_arguments)]
unsafe fn mm_raw_with<T: Float + 'static>(
    c: *mut T,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
    acc: bool,
    par: gemm::Parallelism,
) {
    assert!(a.len() >= m * k && b.len() >= k * n);
    let (a_rs, a_cs) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if tb { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the assert above keeps every index the strides describe inside `a` and `b`
    // (a is m×k, or k×m when `ta`; b is k×n, or n×k when `tb`); `c` is m×n with row stride n,
    // valid by the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
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

/// Dice forward on `x: [n, d]` (row-major): returns `y`, the gates `p = sigmoid(x̂)` and the
/// statistics. `fixed`: evaluation statistics (mean, var); `None`: batch statistics.
pub(crate) fn dice_forward<T: Real>(
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
                let pk = T::sigmoid((v - m) * s);
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
pub(crate) fn dice_backward<T: Real>(
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
    let sums = col_reduce::<T, _>(n, d, 3, |rows, acc| {
        rows.for_each(|i| {
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
        })
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
    fn forward<T: Real>(&self, x: &[T], alpha: &[T], n: usize, d: usize) -> (Vec<T>, DiceCache) {
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
    fn backward<T: Real>(
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
    fn exp_f32_is_within_two_ulp_of_the_exact_value() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let exact = (x as f64).exp();
            let got = exp_f32(x) as f64;
            let ulp = (exact as f32).abs() as f64 * f32::EPSILON as f64;
            worst = worst.max((got - exact).abs() / ulp);
            x += 0.001_37;
        }
        assert!(worst <= 2.0, "exp_f32 off by {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(1000.0).is_finite());
        assert!((f32::sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!(f32::sigmoid(100.0) == 1.0 && f32::sigmoid(-100.0) < 1e-37);
    }

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

    #[test]
    fn reductions_round_the_same_on_any_thread_count_and_from_inside_the_pool() {
        // 40 blocks of rows with values of very different magnitude, so the order of additions
        // shows in the last bits
        let (n, d) = (40 * BLOCK + 17, 3);
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919) % 1013) as f32 * 10f32.powi((i % 7) as i32 - 3))
            .collect();
        let run = || {
            let sums = col_reduce::<f32, _>(n, d, 1, |rows, acc| {
                for r in rows {
                    for j in 0..d {
                        acc[0][j] += x[r * d + j];
                    }
                }
            });
            (sums, col_moments(&x, n, d))
        };
        let outside = run();
        for threads in [1, 2, 3, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            assert_eq!(pool.install(run), outside, "{threads} threads");
            // a reduction started from a task inside the pool, as a training step runs
            assert_eq!(pool.install(|| rayon::join(run, run).1), outside);
        }
    }
}
