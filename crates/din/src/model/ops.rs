//! The fast path: [`din_kernels`]' CPU kernels as candle custom ops with hand-written backward
//! passes. Each function here computes what a few lines of tensor ops in [`super::layers`] and
//! [`super::attention`] compute (the *reference path*, which runs on every device and is the
//! formula as written); tests check that both agree, values and gradients, and finite
//! differences check the gradients.
//!
//! Which path runs is a value, [`Kernels`], carried by every forward pass in its [`Mode`] (a
//! [`super::Model`] holds one: `Model::kernels`, `Model::with_kernels`): `Kernels::Fused` (the default) takes these
//! ops wherever they apply (CPU, f32/f64, unmasked inputs; the fused MLPs in training only and
//! with Dice, PReLU, ReLU or sigmoid layers), `Kernels::Reference` never does.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use din::model::ops;
//! let x = Tensor::new(&[[1f32, 2.], [3., 4.]], &Device::Cpu)?;
//! let b = Tensor::new(&[10f32, 20.], &Device::Cpu)?;
//! let fast = ops::add_bias(&x, &b)?;
//! let plain = x.broadcast_add(&b)?;
//! assert_eq!(fast.to_vec2::<f32>()?, plain.to_vec2::<f32>()?);
//! // a bias that is not one value per column is an error, not a wrong answer
//! assert!(ops::add_bias(&x, &Tensor::new(&[1f32, 2., 3., 4.], &Device::Cpu)?).is_err());
//! # Ok::<(), candle_core::Error>(())
//! ```

use std::any::Any;
use std::sync::{Arc, Mutex};

use candle_core::{
    CpuStorage, CustomOp2, CustomOp3, DType, Device, Layout, Result, Shape, Tensor, WithDType,
};
use din_kernels::attention::{Packed, UnitInput, UnitSaved};
use din_kernels::dice::DiceStats;
use din_kernels::mlp::{LayerStats, Saved, Stack};
use din_kernels::score::EvalMlp;
use din_kernels::Real;

/// Which implementation a forward pass uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kernels {
    /// The CPU kernels of this module wherever they apply (the default).
    #[default]
    Fused,
    /// Tensor ops only: the formulas as written, on any device.
    Reference,
}

/// How a forward pass runs: training (batch statistics, running averages updated) or
/// evaluation, and with which [`Kernels`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// Training (`true`): Dice and BatchNorm normalise with the batch's statistics and update
    /// their running averages, and the fused MLP kernels may run. Evaluation (`false`): the
    /// running statistics, left unchanged.
    pub train: bool,
    /// Which implementation runs (default [`Kernels::Fused`]).
    pub kernels: Kernels,
}

impl Mode {
    /// Training with the fast path.
    pub const TRAIN: Mode = Mode {
        train: true,
        kernels: Kernels::Fused,
    };
    /// Evaluation with the fast path.
    pub const EVAL: Mode = Mode {
        train: false,
        kernels: Kernels::Fused,
    };

    /// Training (`true`) or evaluation with these kernels.
    pub fn new(train: bool, kernels: Kernels) -> Mode {
        Mode { train, kernels }
    }

    /// The same mode with other kernels.
    pub fn with(self, kernels: Kernels) -> Mode {
        Mode { kernels, ..self }
    }

    /// True when the fused kernels may run on `x` in this mode: `Kernels::Fused`, and `x` a
    /// rank-2 f32/f64 CPU tensor.
    pub fn fused_on(self, x: &Tensor) -> bool {
        self.fused_for(x.device(), x.dtype()) && x.rank() == 2
    }

    /// True when the fused kernels may run on rank-2 tensors of `dtype` on `device` in this
    /// mode: `Kernels::Fused`, f32/f64, the CPU.
    pub fn fused_for(self, device: &Device, dtype: DType) -> bool {
        self.kernels == Kernels::Fused
            && device.is_cpu()
            && matches!(dtype, DType::F32 | DType::F64)
    }
}

fn kerr(e: din_kernels::Error) -> candle_core::Error {
    candle_core::Error::Msg(e.to_string())
}

/// The contiguous data of a CPU storage as a slice.
fn slice<'a, T: WithDType>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [T]> {
    let v = s.as_slice::<T>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("fused op: non-contiguous input"),
    }
}

fn cpu_vec<T: WithDType>(t: &Tensor) -> Result<Vec<T>> {
    t.contiguous()?.flatten_all()?.to_vec1::<T>()
}

/// The element types of the fused ops: the kernels' and candle's.
trait Elem: Real + WithDType {}
impl Elem for f32 {}
impl Elem for f64 {}

/// What a custom op's CPU forward returns: the output's storage and shape.
type CpuOut = Result<(CpuStorage, Shape)>;

/// The gradients of a two-input op's inputs (`None`: no gradient).
type Grads2 = Result<(Option<Tensor>, Option<Tensor>)>;

/// A kernel of two f32/f64 inputs with its backward: a candle custom op through [`Op2`].
trait Kernel2: Send + Sync + 'static {
    /// The op's name, for candle and in error messages.
    const NAME: &'static str;

    /// The forward on the inputs' data.
    fn run<T: Elem>(&self, a: &[T], b: &[T]) -> Result<Vec<T>>;

    /// The forward's output shape, from the inputs' layouts.
    fn out_shape(&self, l1: &Layout, l2: &Layout) -> Result<Shape>;

    /// The inputs' gradients from the output's gradient `g`.
    fn grads(&self, a: &Tensor, b: &Tensor, g: &Tensor) -> Grads2;
}

/// A [`Kernel2`] as a candle [`CustomOp2`]: its forward runs on the contiguous data of two CPU
/// storages of one dtype, f32 or f64.
struct Op2<K>(K);

impl<K: Kernel2> CustomOp2 for Op2<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CpuOut {
        let k = &self.0;
        let st = match s1 {
            CpuStorage::F32(_) => {
                CpuStorage::F32(k.run(slice::<f32>(s1, l1)?, slice::<f32>(s2, l2)?)?)
            }
            CpuStorage::F64(_) => {
                CpuStorage::F64(k.run(slice::<f64>(s1, l1)?, slice::<f64>(s2, l2)?)?)
            }
            _ => candle_core::bail!("{}: f32/f64 only", K::NAME),
        };
        Ok((st, k.out_shape(l1, l2)?))
    }

    fn bwd(&self, a: &Tensor, b: &Tensor, _res: &Tensor, g: &Tensor) -> Grads2 {
        self.0.grads(a, b, g)
    }
}

/// Two inputs' gradients `da`, `db` as tensors of their shapes, on their devices.
fn grads2<T: WithDType>(a: &Tensor, da: Vec<T>, b: &Tensor, db: Vec<T>) -> Grads2 {
    Ok((
        Some(Tensor::from_vec(da, a.shape(), a.device())?),
        Some(Tensor::from_vec(db, b.shape(), b.device())?),
    ))
}

/// Run `f` for the dtype of `t` (f32 or f64).
macro_rules! by_dtype {
    ($t:expr, $name:expr, |$T:ident| $body:expr) => {
        match $t.dtype() {
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            other => candle_core::bail!("{}: unsupported dtype {other:?}", $name),
        }
    };
}

fn check_same_dtype(name: &str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        candle_core::bail!(
            "{name}: dtypes differ ({:?} and {:?})",
            a.dtype(),
            b.dtype()
        );
    }
    Ok(())
}

/// Column sums of a `[N, D]` tensor (a fast replacement for `sum_keepdim(0)`), shape `[D]`.
pub fn col_sum(t: &Tensor) -> Result<Tensor> {
    let d = t.dims2()?.1;
    by_dtype!(t, "col_sum", |T| {
        let v = din_kernels::par::col_sums(&cpu_vec::<T>(t)?, d).map_err(kerr)?;
        Tensor::from_vec(v, d, t.device())
    })
}

struct AddBias;

impl Kernel2 for AddBias {
    const NAME: &'static str = "add-bias";

    fn run<T: Elem>(&self, x: &[T], b: &[T]) -> Result<Vec<T>> {
        din_kernels::elementwise::add_bias(x, b).map_err(kerr)
    }

    fn out_shape(&self, l1: &Layout, _l2: &Layout) -> Result<Shape> {
        Ok(l1.shape().clone())
    }

    fn grads(&self, _x: &Tensor, _b: &Tensor, g: &Tensor) -> Grads2 {
        Ok((Some(g.clone()), Some(col_sum(g)?)))
    }
}

/// `x [N, D] + b [D]`, with a fast backward on CPU (f32/f64). `b` must have one value per
/// column of `x` (an error otherwise, on every path).
pub fn add_bias(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    let d = x.dims().last().copied().unwrap_or(0);
    if b.dims() != [d] {
        candle_core::bail!(
            "add_bias: the bias has shape {:?}, the input {:?} needs [{d}]",
            b.dims(),
            x.dims()
        );
    }
    if Mode::EVAL.fused_on(x) && b.dtype() == x.dtype() {
        x.contiguous()?.apply_op2(&b.contiguous()?, Op2(AddBias))
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
    const NAME: &'static str = "segment-pool";

    fn run<T: Elem>(&self, h: &[T], w: &[T]) -> Result<Vec<T>> {
        din_kernels::elementwise::segment_pool(h, w, &self.seg, self.batch, self.d).map_err(kerr)
    }

    fn out_shape(&self, _l1: &Layout, _l2: &Layout) -> Result<Shape> {
        Ok(Shape::from((self.batch, self.d)))
    }

    fn grads(&self, h: &Tensor, w: &Tensor, g: &Tensor) -> Grads2 {
        by_dtype!(h, "segment pool", |T| {
            let (dh, dw) = din_kernels::elementwise::segment_pool_backward(
                &cpu_vec::<T>(h)?,
                &cpu_vec::<T>(w)?,
                &self.seg,
                &cpu_vec::<T>(g)?,
                self.batch,
                self.d,
            )
            .map_err(kerr)?;
            grads2(h, dh, w, dw)
        })
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
    check_same_dtype("segment pool", h, w)?;
    let op = SegmentPool {
        seg: seg.to_vec(),
        batch,
        d,
    };
    h.contiguous()?.apply_op2(&w.contiguous()?, Op2(op))
}

/// Mean and (biased) variance of batch statistics as `[D]` tensors like `like`.
pub(crate) fn stats_tensors(st: DiceStats, like: &Tensor) -> Result<(Tensor, Tensor)> {
    let (dev, k) = (like.device(), st.mean.len());
    Ok((
        Tensor::from_vec(st.mean, k, dev)?.to_dtype(like.dtype())?,
        Tensor::from_vec(st.var, k, dev)?.to_dtype(like.dtype())?,
    ))
}

/// What a Dice forward remembers for its backward.
#[derive(Default)]
struct DiceCache {
    stats: DiceStats,
    /// Gate probabilities p = sigmoid(x̂), in the input's dtype.
    p: Option<Box<dyn Any + Send>>,
}

struct DiceOp {
    eps: f64,
    /// Evaluation: fixed (running) mean and variance. Training: None (batch statistics).
    fixed: Option<(Vec<f64>, Vec<f64>)>,
    cache: Arc<Mutex<DiceCache>>,
}

impl Kernel2 for DiceOp {
    const NAME: &'static str = "dice";

    fn run<T: Elem>(&self, x: &[T], alpha: &[T]) -> Result<Vec<T>> {
        let fixed = self.fixed.as_ref().map(|(m, v)| (&m[..], &v[..]));
        let out = din_kernels::dice::forward(x, alpha, fixed, self.eps).map_err(kerr)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.stats = out.stats;
        cache.p = Some(Box::new(out.p));
        Ok(out.y)
    }

    fn out_shape(&self, l1: &Layout, _l2: &Layout) -> Result<Shape> {
        Ok(l1.shape().clone())
    }

    fn grads(&self, x: &Tensor, alpha: &Tensor, g: &Tensor) -> Grads2 {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let p = cache.p.take();
        by_dtype!(x, "dice", |T| {
            let Some(p) = p.and_then(|p| p.downcast::<Vec<T>>().ok()) else {
                candle_core::bail!("dice: backward without its forward");
            };
            let (dx, da) = din_kernels::dice::backward(
                &cpu_vec::<T>(x)?,
                &cpu_vec::<T>(alpha)?,
                &cpu_vec::<T>(g)?,
                &p,
                &cache.stats,
                self.fixed.is_none(),
            )
            .map_err(kerr)?;
            grads2(x, dx, alpha, da)
        })
    }
}

/// Dice on `x: [N, D]` with `alpha: [D]` as one CPU kernel each way. `fixed`: evaluation
/// statistics (mean, var); `None` trains on batch statistics, which are returned (mean, biased
/// var) for the running averages. `alpha` must have one value per column of `x`.
pub fn dice(
    x: &Tensor,
    alpha: &Tensor,
    fixed: Option<(&Tensor, &Tensor)>,
    eps: f64,
) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
    let d = x.dims2()?.1;
    if alpha.dims() != [d] {
        candle_core::bail!(
            "dice: α has shape {:?}, the input {:?} needs [{d}] (one slope per neuron)",
            alpha.dims(),
            x.dims()
        );
    }
    check_same_dtype("dice", x, alpha)?;
    let f64s = |t: &Tensor| t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>();
    let fixed = match fixed {
        Some((m, v)) => Some((f64s(m)?, f64s(v)?)),
        None => None,
    };
    let train = fixed.is_none();
    let cache = Arc::new(Mutex::new(DiceCache::default()));
    let op = DiceOp {
        eps,
        fixed,
        cache: cache.clone(),
    };
    let y = x.contiguous()?.apply_op2(&alpha.contiguous()?, Op2(op))?;
    if !train {
        return Ok((y, None));
    }
    // the backward pass still needs the statistics in the cache
    let stats = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .stats
        .clone();
    Ok((y, Some(stats_tensors(stats, x)?)))
}

/// The activation unit's scores `[C, n]` in evaluation for the candidates `targets: [C, d]`
/// against one history `hist: [n, d]`, every (candidate, position) pair through the CPU kernel
/// [`din_kernels::score::request_scores`] (the MLP flattened by `Mlp::flatten`, its running
/// statistics from `Mlp::running_stats`).
pub(crate) fn request_scores(
    mlp: &FlatMlp,
    running: &[LayerStats],
    input: UnitInput,
    targets: &Tensor,
    hist: &Tensor,
) -> Result<Tensor> {
    let (c, d) = targets.dims2()?;
    let n = hist.dims2()?.0;
    check_same_dtype("request scores", targets, hist)?;
    check_same_dtype("request scores", targets, &mlp.theta)?;
    by_dtype!(targets, "request scores", |T| {
        let em = EvalMlp::new(&mlp.stack, &cpu_vec::<T>(&mlp.theta)?, running).map_err(kerr)?;
        let (t, h) = (cpu_vec::<T>(targets)?, cpu_vec::<T>(hist)?);
        let s = din_kernels::score::request_scores(&em, input, d, &t, &h).map_err(kerr)?;
        Tensor::from_vec(s, (c, n), targets.device())
    })
}

/// An MLP's parameters in one flat tensor (in [`Stack::offsets`] order) and its sizes: what the
/// fused MLP kernels take (built by `Mlp::flatten`).
pub struct FlatMlp {
    /// Every parameter, concatenated into one rank-1 tensor `[stack.n_params()]`: per hidden
    /// layer weight, bias, (BatchNorm γ, β), (Dice's or PReLU's α), then the output weight and
    /// bias. Built by concatenation, so gradients reach the layers' own weights.
    pub theta: Tensor,
    /// The MLP's sizes: input and hidden widths, BatchNorm or not, ε per layer, activation.
    pub stack: Stack,
}

type SavedBox = Arc<Mutex<Option<Box<dyn Any + Send>>>>;
type StatsBox = Arc<Mutex<Vec<LayerStats>>>;

fn take<S: 'static>(saved: &SavedBox, name: &str) -> Result<Box<S>> {
    let s = saved.lock().unwrap_or_else(|e| e.into_inner()).take();
    match s.and_then(|s| s.downcast::<S>().ok()) {
        Some(s) => Ok(s),
        None => candle_core::bail!("{name}: backward without its forward"),
    }
}

/// The fused MLP on a plain input `x: [n, first_in]` (the DIN head).
struct FusedMlp {
    stack: Stack,
    saved: SavedBox,
    stats: StatsBox,
}

impl Kernel2 for FusedMlp {
    const NAME: &'static str = "fused-mlp";

    fn run<T: Elem>(&self, theta: &[T], x: &[T]) -> Result<Vec<T>> {
        let fwd = din_kernels::mlp::forward(&self.stack, theta, x).map_err(kerr)?;
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = fwd.stats;
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(fwd.saved));
        Ok(fwd.out)
    }

    fn out_shape(&self, _l1: &Layout, l2: &Layout) -> Result<Shape> {
        Ok(Shape::from((l2.shape().dims2()?.0, 1)))
    }

    fn grads(&self, theta: &Tensor, x: &Tensor, g: &Tensor) -> Grads2 {
        by_dtype!(theta, "fused MLP", |T| {
            let saved = take::<Saved<T>>(&self.saved, "fused MLP")?;
            let (dth, dx) = din_kernels::mlp::backward(
                &self.stack,
                &cpu_vec::<T>(theta)?,
                &cpu_vec::<T>(x)?,
                &cpu_vec::<T>(g)?,
                &saved,
            )
            .map_err(kerr)?;
            grads2(theta, dth, x, dx)
        })
    }
}

/// The MLP's output `[n, 1]` on `x: [n, first_in]` in a training step, as fused kernels; returns
/// the batch statistics of every hidden layer for the running averages.
pub fn mlp_logits(mlp: &FlatMlp, x: &Tensor) -> Result<(Tensor, Vec<LayerStats>)> {
    if x.dims2()?.1 != mlp.stack.first_in() {
        candle_core::bail!("fused MLP: input width does not match the first layer");
    }
    check_same_dtype("fused MLP", &mlp.theta, x)?;
    let stats = Arc::new(Mutex::new(Vec::new()));
    let op = FusedMlp {
        stack: mlp.stack.clone(),
        saved: Arc::new(Mutex::new(None)),
        stats: stats.clone(),
    };
    let out = mlp.theta.apply_op2(&x.contiguous()?, Op2(op))?;
    let batch_stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
    Ok((out, batch_stats))
}

struct FusedUnit {
    stack: Stack,
    input: UnitInput,
    d: usize,
    seg: Vec<u32>,
    saved: SavedBox,
    stats: StatsBox,
}

impl FusedUnit {
    fn run<T: Elem>(&self, theta: &[T], t: &[T], h: &[T]) -> Result<Vec<T>> {
        let x = Packed {
            t,
            h,
            seg: &self.seg,
        };
        let fwd = din_kernels::attention::forward(&self.stack, self.input, self.d, theta, x)
            .map_err(kerr)?;
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = fwd.stats;
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(fwd.saved));
        Ok(fwd.scores)
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
    ) -> CpuOut {
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
        Ok((st, Shape::from(self.seg.len())))
    }

    fn bwd(
        &self,
        theta: &Tensor,
        target: &Tensor,
        hist: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        by_dtype!(theta, "fused attention", |T| {
            let saved = take::<UnitSaved<T>>(&self.saved, "fused attention")?;
            let (t, h) = (cpu_vec::<T>(target)?, cpu_vec::<T>(hist)?);
            let x = Packed {
                t: &t,
                h: &h,
                seg: &self.seg,
            };
            let (dth, dt, dh) = din_kernels::attention::backward(
                &self.stack,
                self.input,
                self.d,
                &cpu_vec::<T>(theta)?,
                x,
                &cpu_vec::<T>(g)?,
                &saved,
            )
            .map_err(kerr)?;
            let dev = theta.device();
            Ok((
                Some(Tensor::from_vec(dth, theta.shape(), dev)?),
                Some(Tensor::from_vec(dt, target.shape(), dev)?),
                Some(Tensor::from_vec(dh, hist.shape(), dev)?),
            ))
        })
    }
}

/// Attention scores `[N]` of a training step as one fused kernel: `target [B, d]`, packed
/// `hist [N, d]`, `seg[n]` the row of position `n`, `mlp` the unit's MLP on `input`'s
/// `width()·d` inputs. Returns the batch statistics of every hidden layer.
pub fn unit_scores(
    mlp: &FlatMlp,
    input: UnitInput,
    target: &Tensor,
    hist: &Tensor,
    seg: &[u32],
) -> Result<(Tensor, Vec<LayerStats>)> {
    let (b, d) = target.dims2()?;
    let (n, d2) = hist.dims2()?;
    if d2 != d || seg.len() != n || seg.iter().any(|&s| s as usize >= b) {
        candle_core::bail!("fused attention: inconsistent shapes or segments");
    }
    check_same_dtype("fused attention", &mlp.theta, target)?;
    check_same_dtype("fused attention", target, hist)?;
    let stats = Arc::new(Mutex::new(Vec::new()));
    let op = FusedUnit {
        stack: mlp.stack.clone(),
        input,
        d,
        seg: seg.to_vec(),
        saved: Arc::new(Mutex::new(None)),
        stats: stats.clone(),
    };
    let score = mlp
        .theta
        .apply_op3(&target.contiguous()?, &hist.contiguous()?, op)?;
    let batch_stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
    Ok((score, batch_stats))
}
