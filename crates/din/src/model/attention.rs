//! The activation unit (tutorial section 2, 兴趣激活): how much each history item matters for
//! *this* candidate.
//!
//! For each history position, `w_i = f(input_i)` where `f` is a small MLP (tutorial: [256, 128])
//! ending in one scalar, and
//! * `input_i = [v_t, v_i, v_t − v_i, v_t ⊙ v_i]` (4d; torch-rechub's code, the default), or
//! * `input_i = [v_i, v_t, v_i ⊙ v_t]` (3d; the tutorial's text).
//!
//! The interest vector is `V_interest = Σ_i w_i · v_i`. Padded positions get `w_i = 0` exactly.
//! By default the weights are **not normalised** — the paper's choice, which keeps the intensity of
//! an interest (`Σ w_i` grows with the number of matching items). The tutorial says a sigmoid makes
//! the weights sum to 1; it does not (a sigmoid maps each weight into (0, 1) on its own; only a
//! softmax over the positions sums to 1), and the code applies neither. A masked softmax is
//! available as [`WeightNorm::Softmax`].
//!
//! Two paths compute the same thing (a test checks they agree to 1e-5):
//! * padded — the formula as written on `[B, L, 4d]`;
//! * packed (default) — only the N real positions, and the first layer split by linearity:
//!   `W·[t, h, t−h, t⊙h] = (W_t + W_d)·t + (W_h − W_d)·h + W_p·(t⊙h)`, so the `t` part is computed
//!   once per sample instead of once per position, and no `[B, L, 4d]` tensor is built.
//!   In training on CPU with Dice, PReLU, ReLU or sigmoid layers and
//!   [`Kernels::Fused`](super::Kernels) (the default),
//!   the packed path runs the MLP as one kernel with a hand-written backward
//!   ([`super::ops::unit_scores`]); tests check it against the tensor ops and the padded formula.
//!
//! The formula is in one place, [`AttentionInput::build`] (the padded path applies it as written),
//! and the layout the fast paths split the first layer by is in one place,
//! [`AttentionInput::blocks`] (the packed path, the per-request path of [`ActivationUnit::forward_shared`]
//! and the fused kernel all read it). A test checks that `build` puts each term where `blocks`
//! says; the equivalence tests check every path against the padded one.
//!
//! # Adding an input to the activation unit
//!
//! 1. A variant of [`AttentionInput`] (and of `din_kernels::attention::UnitInput`, its kernel
//!    twin, with its `width`), its formula in [`AttentionInput::build`] and its layout in
//!    `UnitInput::blocks`. If the new input is linear in `t` and `h` plus the product `t ⊙ h`
//!    (as both inputs here are), that is all: the fast paths split the first layer by `blocks`.
//! 2. Run `cargo test -p din`: `build_puts_every_term_where_blocks_says` (this module) checks
//!    the two agree, and the equivalence tests in `tests/model_correctness.rs`
//!    (`packed_path_matches_padded_formula`, `fused_attention_kernel_matches_tensor_ops`,
//!    `scoring_one_history_once_matches_the_batch_path`) check every path against the formula.
//!    A term of another form (say `|t − h|`) cannot be split by linearity: the packed paths then
//!    have to build the input with `build` over the real positions, and those tests fail until
//!    they do.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use din::model::{ActivationUnitConfig, MlpConfig, Mode, Params};
//! let params = Params::seeded(7);
//! let vb = params.var_builder(DType::F32, &Device::Cpu);
//! // d = 4, attention MLP [8] with Dice, the 4d input, raw weights (the defaults)
//! let mlp = MlpConfig { dims: vec![8], ..Default::default() };
//! let unit = ActivationUnitConfig { mlp, ..Default::default() }.init(4, vb.pp("unit"))?;
//! let target = Tensor::ones((2, 4), DType::F32, &Device::Cpu)?; // 2 samples
//! let hist = Tensor::ones((2, 3, 4), DType::F32, &Device::Cpu)?; // 3 positions each
//! let mask = Tensor::new(&[[1f32, 1., 0.], [1., 0., 0.]], &Device::Cpu)?; // lengths 2 and 1
//! let (interest, w) = unit.forward_padded(&target, &hist, &mask, Mode::EVAL)?;
//! assert_eq!((interest.dims(), w.dims()), (&[2, 4][..], &[2, 3][..]));
//! assert_eq!(w.to_vec2::<f32>()?[1][2], 0.0); // padding gets weight 0
//! # Ok::<(), candle_core::Error>(())
//! ```

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::VarBuilder;
use din_kernels::attention::{InputBlocks, UnitInput};
use serde::{Deserialize, Serialize};

use super::embedding::{Layout, Lookup};
use super::layers::{Mlp, MlpConfig};
use super::ops::{self, Mode};

/// What an activation unit returns: the interest vectors `[B, d]` (the weighted sums of the
/// history) and the weights `[B, L]`, 0 at padding.
pub type Pooled = Result<(Tensor, Tensor)>;

/// The input of the attention MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttentionInput {
    /// `[t, h, t − h, t ⊙ h]` (torch-rechub's code).
    Four,
    /// `[h, t, h ⊙ t]` (the tutorial's text).
    Three,
}

impl AttentionInput {
    /// Input width in multiples of the embedding width `d`.
    pub fn width(self) -> usize {
        self.kernel().width()
    }

    fn kernel(self) -> UnitInput {
        match self {
            AttentionInput::Four => UnitInput::Four,
            AttentionInput::Three => UnitInput::Three,
        }
    }

    /// Where each term sits in [`AttentionInput::build`]'s output, in blocks of `d` columns: the
    /// layout the packed path, the per-request path and the fused kernel split the first layer by
    /// (one description, in `din_kernels::attention::UnitInput::blocks`; a test checks that
    /// `build` puts every term where it says).
    pub fn blocks(self) -> InputBlocks {
        self.kernel().blocks()
    }

    /// The activation unit's input, the formula as written: `t` the target broadcast over the
    /// positions, `h` the history, both `[…, d]` of one shape; returns `[…, width·d]`:
    /// `[t, h, t − h, t ⊙ h]` or `[h, t, h ⊙ t]`.
    pub fn build(self, t: &Tensor, h: &Tensor) -> Result<Tensor> {
        match self {
            AttentionInput::Four => Tensor::cat(&[t, h, &(t - h)?, &(t * h)?], D::Minus1),
            AttentionInput::Three => Tensor::cat(&[h, t, &(h * t)?], D::Minus1),
        }
    }
}

/// Normalisation of the attention weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightNorm {
    /// Raw MLP outputs (the paper).
    None,
    /// Softmax over the real positions of each history (weights sum to 1).
    Softmax,
    /// A sigmoid on each weight, as the tutorial's text says: each weight in (0, 1), independently —
    /// they do **not** sum to 1.
    Sigmoid,
}

impl WeightNorm {
    /// The weights of `score` when each depends on its own score alone (none, sigmoid); `None`
    /// for the softmax, which needs the other positions of the history.
    fn pointwise(self, score: &Tensor) -> Result<Option<Tensor>> {
        Ok(match self {
            WeightNorm::None => Some(score.clone()),
            WeightNorm::Sigmoid => Some(candle_nn::ops::sigmoid(score)?),
            WeightNorm::Softmax => None,
        })
    }
}

crate::names::named_enum!(WeightNorm, "weight normalisation", {
    None => "none",
    Softmax => "softmax",
    Sigmoid => "sigmoid",
});

/// Softmax of `score: [B, L]` over the real positions of each row (`mask: [B, L]`, 1 = real):
/// 0 at padding, each row's weights summing to 1, an empty row all 0. Shifted by a per-row
/// constant first (a shift leaves a softmax unchanged), so large scores do not overflow.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let s = Tensor::new(&[[1f32, 2., 300.], [0., 0., 0.], [-200., -201., 0.]], &Device::Cpu)?;
/// let m = Tensor::new(&[[1f32, 1., 0.], [0., 0., 0.], [1., 1., 0.]], &Device::Cpu)?;
/// let w = din::model::masked_softmax(&s, &m)?.to_vec2::<f32>()?;
/// let p = 1.0 / (1.0 + (-1f32).exp()); // softmax of (1, 2) at 2
/// assert!((w[0][1] - p).abs() < 1e-6 && w[0][2] == 0.0);
/// assert_eq!(w[1], [0.0, 0.0, 0.0]); // an empty history
/// assert!((w[2][0] - p).abs() < 1e-6); // shifted by the real max, not by the padding's 0
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn masked_softmax(score: &Tensor, mask: &Tensor) -> Result<Tensor> {
    // exp(s − max) with the max over real positions only (padding pushed to −1e30), so a row
    // whose real scores are all very negative does not underflow to 0/0; `· mask` before `exp`
    // keeps padding (and an empty row, shift −1e30) at exp(0)·0 = 0.
    let neg = mask.affine(1e30, -1e30)?;
    let shift = (score + neg)?.max_keepdim(1)?.detach();
    let e = (score.broadcast_sub(&shift)?.mul(mask)?.exp()? * mask)?;
    let sum = e.sum_keepdim(1)?.maximum(1e-30)?;
    e.broadcast_div(&sum)
}

/// DIN's activation unit for one history feature (items or categories).
///
/// # Shapes
/// * [`ActivationUnit::forward_padded`]: target `[B, d]`, history `[B, L, d]`, mask `[B, L]` →
///   (interest `[B, d]`, weights `[B, L]`, 0 at padding);
/// * [`ActivationUnit::forward_packed`]: target `[B, d]`, packed history `[N, d]` and the lookup's
///   segments → the same two outputs;
/// * [`ActivationUnit::forward_shared`]: candidates `[C, d]`, one history `[n, d]` → (`[C, d]`,
///   `[C, n]`).
///
/// Weights: `mlp.*`, an [`Mlp`] on the `width·d` input of [`AttentionInput::build`]. Built by
/// [`ActivationUnitConfig::init`]; the module docs run one.
#[derive(Debug, Clone)]
pub struct ActivationUnit {
    mlp: Mlp,
    input: AttentionInput,
    norm: WeightNorm,
    dim: usize,
}

/// An activation unit's settings: `ActivationUnitConfig { mlp: MlpConfig { dims: vec![8],
/// ..Default::default() }, ..Default::default() }.init(d, vb)` builds a unit for embeddings of
/// width `d` (weights under `vb`'s `mlp.*`).
///
/// ```
/// use candle_core::{DType, Device};
/// use din::model::{Activation, ActivationUnitConfig, AttentionInput, MlpConfig, Params, WeightNorm};
/// let vb = Params::seeded(5).var_builder(DType::F32, &Device::Cpu);
/// // the tutorial's unit at d = 8: MLP [256, 128] with Dice on [t, h, t − h, t ⊙ h], raw weights
/// let unit = ActivationUnitConfig::default().init(8, vb.pp("attention.item"))?;
/// assert_eq!(unit.mlp().hidden()[0].linear().weight().dims(), &[256, 4 * 8]);
/// // PReLU on the 3-part input [h, t, h ⊙ t], softmax over the history
/// let cfg = ActivationUnitConfig {
///     mlp: MlpConfig { dims: vec![16], activation: Activation::Prelu, ..Default::default() },
///     input: AttentionInput::Three,
///     norm: WeightNorm::Softmax,
/// };
/// let unit = cfg.init(8, vb.pp("attention.cate"))?;
/// assert_eq!((unit.input().width(), unit.norm()), (3, WeightNorm::Softmax));
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationUnitConfig {
    /// The unit's MLP (default: hidden widths `[256, 128]`, the tutorial's, with Dice).
    pub mlp: MlpConfig,
    /// What the MLP sees of a (target, history item) pair (default [`AttentionInput::Four`]).
    pub input: AttentionInput,
    /// How scores become weights (default raw scores, [`WeightNorm::None`]).
    pub norm: WeightNorm,
}

impl Default for ActivationUnitConfig {
    fn default() -> Self {
        ActivationUnitConfig {
            mlp: MlpConfig::default(),
            input: AttentionInput::Four,
            norm: WeightNorm::None,
        }
    }
}

impl ActivationUnitConfig {
    /// The unit for embeddings of width `dim`, its MLP's weights under `vb.pp("mlp")`.
    ///
    /// # Shapes
    /// * the MLP takes `[N, input.width() · dim]` (4d or 3d) to `[N, 1]`, one score per
    ///   (target, history position) pair; see [`ActivationUnit::forward_t`].
    pub fn init(&self, dim: usize, vb: VarBuilder) -> Result<ActivationUnit> {
        Ok(ActivationUnit {
            mlp: self.mlp.init(self.input.width() * dim, vb.pp("mlp"))?,
            input: self.input,
            norm: self.norm,
            dim,
        })
    }
}

impl ActivationUnit {
    /// The unit's MLP (weights `mlp.*`).
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// What the MLP sees of a (target, history item) pair.
    pub fn input(&self) -> AttentionInput {
        self.input
    }

    /// How scores become weights.
    pub fn norm(&self) -> WeightNorm {
        self.norm
    }

    /// Turn scores into weights with `norm` from now on (the MLP's weights are untouched).
    pub(crate) fn set_norm(&mut self, norm: WeightNorm) {
        self.norm = norm;
    }

    /// The embedding width `d` it takes.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The unit on a batch, in the layout of `x` ([`ActivationUnit::forward_padded`] or
    /// [`ActivationUnit::forward_packed`]).
    ///
    /// # Shapes
    /// * `target`: `[B, d]`; `hist`: `[B, L, d]` (padded) or `[N, d]` (packed), as in `x`;
    /// * output: the interest vectors `[B, d]` and the weights `[B, L]` (0 at padding).
    pub fn forward_t(&self, target: &Tensor, hist: &Tensor, x: &Lookup, mode: Mode) -> Pooled {
        match x.layout {
            Layout::Padded => self.forward_padded(target, hist, &x.mask, mode),
            Layout::Packed => self.forward_packed(target, hist, x, mode),
        }
    }

    /// The tutorial's formula on the padded history: the input built per position, the MLP's
    /// score, the weights ([`WeightNorm`]), the weighted sum.
    ///
    /// # Shapes
    /// * `target`: `[B, d]`; `hist`: `[B, L, d]`; `mask`: `[B, L]` (1 = real position);
    /// * output: the interest vectors `[B, d]` and the weights `[B, L]` (0 at padding).
    pub fn forward_padded(
        &self,
        target: &Tensor,
        hist: &Tensor,
        mask: &Tensor,
        mode: Mode,
    ) -> Pooled {
        let (b, l, d) = hist.dims3()?;
        let t = target.unsqueeze(1)?.broadcast_as((b, l, d))?;
        let input = self.input.build(&t, hist)?;
        let rows = input.reshape((b * l, self.input.width() * d))?;
        let row_mask = mask.reshape((b * l, 1))?;
        let score = self
            .mlp
            .forward_t(&rows, Some(&row_mask), mode)?
            .reshape((b, l))?;
        let w = self.normalise_padded(&score, mask)?;
        let interest = w.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?;
        Ok((interest, w))
    }

    fn normalise_padded(&self, score: &Tensor, mask: &Tensor) -> Result<Tensor> {
        match self.norm.pointwise(score)? {
            Some(w) => w * mask,
            None => masked_softmax(score, mask),
        }
    }

    /// Same result on the packed history, with the first layer split by linearity (the
    /// target's share once per row), on the fused kernels in training when they apply.
    ///
    /// # Shapes
    /// * `target`: `[B, d]`; `hist`: `[N, d]`, the N real positions of the batch, position `i` in
    ///   row `x.seg[i]`;
    /// * output: the interest vectors `[B, d]` and the weights `[B, L]` (`L = x.max_len`, 0 past
    ///   each row's length).
    pub fn forward_packed(&self, target: &Tensor, hist: &Tensor, x: &Lookup, mode: Mode) -> Pooled {
        let d = self.dim;
        let (b, l) = (x.batch, x.max_len);
        let seg = x.seg.to_vec1::<u32>()?; // row of each position, for the CPU kernels below
        let score = if mode.train && mode.fused_on(target) && self.mlp.fusable() {
            // the same computation as `scores_packed`, as one CPU kernel each way
            self.scores_fused(target, hist, &seg)?
        } else {
            self.scores_packed(target, hist, x, mode)?
        };
        let w = match self.norm.pointwise(&score)? {
            Some(w) => w,
            None => {
                // Softmax over each history's positions, shifted by the history's own max (a
                // per-row constant leaves a softmax unchanged).
                let scores = score.to_dtype(candle_core::DType::F64)?.to_vec1::<f64>()?;
                let mut row_max = vec![f64::NEG_INFINITY; b];
                for (&s, &v) in seg.iter().zip(&scores) {
                    row_max[s as usize] = row_max[s as usize].max(v);
                }
                let shift: Vec<f64> = seg.iter().map(|&s| row_max[s as usize]).collect();
                let shift =
                    Tensor::from_vec(shift, seg.len(), score.device())?.to_dtype(score.dtype())?;
                let e = (&score - shift)?.exp()?;
                let sums = Tensor::zeros(b, e.dtype(), e.device())?.index_add(&x.seg, &e, 0)?;
                let denom = sums.maximum(1e-30)?.index_select(&x.seg, 0)?;
                (e / denom)?
            }
        };
        let interest = if mode.fused_on(hist) {
            ops::segment_pool(hist, &w, &seg, b)?
        } else {
            Tensor::zeros((b, d), hist.dtype(), hist.device())?.index_add(
                &x.seg,
                &hist.broadcast_mul(&w.unsqueeze(1)?)?,
                0,
            )?
        };
        let padded = Tensor::zeros(b * l, w.dtype(), w.device())?
            .index_add(&x.pos, &w, 0)?
            .reshape((b, l))?;
        Ok((interest, padded))
    }

    /// torch-rechub's contribution of padding to the pooled history: `count` `[B, 1]` padding
    /// positions per row, each holding `pad` `[1, d]` (row 0 of the table), weighted like a real
    /// position: `count · w(t, pad) · pad`, `[B, d]`. Raw or sigmoid weights only.
    pub fn padding_term(
        &self,
        target: &Tensor,
        pad: &Tensor,
        count: &Tensor,
        mode: Mode,
    ) -> Result<Tensor> {
        let h = pad.broadcast_as(target.shape())?.contiguous()?;
        let score = self
            .mlp
            .forward_t(&self.input.build(target, &h)?, None, mode)?; // [B, 1]
        let Some(w) = self.norm.pointwise(&score)? else {
            candle_core::bail!("padding_term: softmax weights")
        };
        (w * count)?.broadcast_mul(&h)
    }

    /// Attention scores `[N]` of a training step on the packed positions as one fused CPU kernel
    /// each way ([`ops::unit_scores`]; an MLP the kernels run, see [`Mlp::fusable`]; f32/f64 on
    /// CPU); updates the running statistics like [`ActivationUnit::scores_packed`] in training.
    pub fn scores_fused(&self, target: &Tensor, hist: &Tensor, seg: &[u32]) -> Result<Tensor> {
        let (score, stats) =
            ops::unit_scores(&self.mlp.flatten()?, self.input.kernel(), target, hist, seg)?;
        self.mlp.update_running(stats, target)?;
        Ok(score)
    }

    /// Attention scores `[N]` of the packed positions, from tensor ops (the reference the fused
    /// training kernel is tested against).
    pub fn scores_packed(
        &self,
        target: &Tensor,
        hist: &Tensor,
        x: &Lookup,
        mode: Mode,
    ) -> Result<Tensor> {
        let t_rows = target.index_select(&x.seg, 0)?; // [N, d]
        let first = &self.mlp.hidden[0].linear;
        // z = A·t + B·[h, t⊙h] + bias
        let [a, wh, wp] = self.first_layer_split()?;
        let bm = Tensor::cat(&[&wh, &wp], 1)?;
        let zt = target.matmul(&a.t()?)?; // [B, H], once per sample
        let hp = Tensor::cat(&[hist, &(hist * &t_rows)?], 1)?; // [N, 2d]
        let z = hp.matmul(&bm.t()?)?.add(&zt.index_select(&x.seg, 0)?)?;
        let z = if mode.fused_on(&z) {
            ops::add_bias(&z, &first.bias)?
        } else {
            z.broadcast_add(&first.bias)?
        };
        self.mlp.forward_from_first(&z, None, mode)?.squeeze(1) // [N]
    }

    /// The first layer's weight `[H, k·d]` split by linearity into the blocks that multiply the
    /// target, the history and their product: `W·input = A·t + W_h·h + W_p·(t ⊙ h)`;
    /// `[A, W_h, W_p]`, each `[H, d]`. 4d input: `A = W_t + W_d`, `W_h = W_h − W_d`.
    fn first_layer_split(&self) -> Result<[Tensor; 3]> {
        let d = self.dim;
        let w = &self.mlp.hidden[0].linear.weight;
        let block = |k: usize| w.narrow(1, k * d, d);
        let at = self.input.blocks();
        let (wt, wh, wp) = (block(at.target)?, block(at.history)?, block(at.product)?);
        Ok(match at.difference {
            Some(k) => {
                let wd = block(k)?;
                [(wt + &wd)?, (wh - &wd)?, wp]
            }
            None => [wt, wh, wp],
        })
    }

    /// One history, many candidates (`din predict`, `din explain`): `targets: [C, d]`,
    /// `hist: [n, d]` (every position real) → the interest vectors `[C, d]` and the weights
    /// `[C, n]`, the same numbers [`ActivationUnit::forward_t`] gives for a batch of `C` rows
    /// that repeat the history (tested to 1e-5).
    ///
    /// The history's share of the first layer, `W_h·h + b`, is computed once per request instead
    /// of once per candidate; `A·t` once per candidate; only `W_p·(t ⊙ h)` and the layers above
    /// it depend on both, and they are most of the work (`H·d + H·H₂` multiply-adds per
    /// candidate and position against `H·d` saved). Evaluation only: with running statistics
    /// every (candidate, position) pair is computed on its own, which is what makes sharing
    /// exact.
    ///
    /// # Shapes
    /// * `targets`: `[C, d]`; `hist`: `[n, d]`; output: `[C, d]` and `[C, n]`.
    ///
    /// With the fused kernels (f32/f64 on the CPU, an MLP [`Mlp::fusable`]) the scores come from
    /// `din_kernels::score::request_scores`, which runs the pairs a block at a time on each
    /// thread with every layer's bias, BatchNorm and activation applied while the block is in
    /// cache; [`ActivationUnit::scores_shared`] is the same computation in tensor ops.
    pub fn forward_shared(&self, targets: &Tensor, hist: &Tensor, mode: Mode) -> Pooled {
        if mode.train {
            candle_core::bail!(
                "ActivationUnit::forward_shared scores with running statistics (evaluation only)"
            );
        }
        let (c, d) = targets.dims2()?;
        let n = hist.dim(0)?;
        if n == 0 || c == 0 {
            let zeros = |s: (usize, usize)| Tensor::zeros(s, targets.dtype(), targets.device());
            return Ok((zeros((c, d))?, zeros((c, n))?));
        }
        let score = if self.request_kernel(targets.device(), targets.dtype(), mode) {
            // scores_shared's computation on the CPU kernel: blocks of pairs across threads
            let flat = self.mlp.flatten()?;
            let running = self.mlp.running_stats()?;
            ops::request_scores(&flat, &running, self.input.kernel(), targets, hist)?
        } else {
            self.scores_shared(targets, hist, mode)?
        };
        let w = match self.norm {
            WeightNorm::None => score,
            WeightNorm::Sigmoid => candle_nn::ops::sigmoid(&score)?,
            WeightNorm::Softmax => candle_nn::ops::softmax_last_dim(&score)?,
        };
        Ok((w.matmul(hist)?, w))
    }

    /// True when [`ActivationUnit::forward_shared`] scores requests of `dtype` on `device` in
    /// `mode` on the CPU kernel, which streams blocks of pairs through the MLP (no `[C·n, H]`
    /// buffer: any number of candidates in one call).
    pub fn request_kernel(&self, device: &Device, dtype: DType, mode: Mode) -> bool {
        !mode.train && mode.fused_for(device, dtype) && self.mlp.fusable()
    }

    /// The scores `[C, n]` of [`ActivationUnit::forward_shared`] from tensor ops (any device;
    /// the reference its CPU kernel is tested against).
    pub fn scores_shared(&self, targets: &Tensor, hist: &Tensor, mode: Mode) -> Result<Tensor> {
        let (c, d) = targets.dims2()?;
        let n = hist.dim(0)?;
        let first = &self.mlp.hidden[0].linear;
        let h1 = first.weight.dim(0)?;
        let [a, wh, wp] = self.first_layer_split()?;
        let zt = targets.matmul(&a.t()?)?.unsqueeze(1)?; // [C, 1, H]: once per candidate
        let zh = hist
            .matmul(&wh.t()?)?
            .broadcast_add(&first.bias)?
            .unsqueeze(0)?; // [1, n, H]: once
        let pairs = targets
            .unsqueeze(1)?
            .broadcast_mul(&hist.unsqueeze(0)?)?
            .reshape((c * n, d))?; // t ⊙ h for every (candidate, position)
        let z = pairs
            .matmul(&wp.t()?)?
            .reshape((c, n, h1))?
            .broadcast_add(&zt)?
            .broadcast_add(&zh)?
            .reshape((c * n, h1))?;
        self.mlp.forward_from_first(&z, None, mode)?.reshape((c, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, IndexOp};

    #[test]
    fn build_puts_every_term_where_blocks_says() {
        let d = 3;
        let t = Tensor::new(&[[0.5f32, -1.0, 2.0], [1.5, 0.25, -0.75]], &Device::Cpu).unwrap();
        let h = Tensor::new(&[[2.0f32, 3.0, -0.5], [-1.0, 4.0, 0.5]], &Device::Cpu).unwrap();
        for input in [AttentionInput::Four, AttentionInput::Three] {
            let x = input.build(&t, &h).unwrap();
            assert_eq!(x.dims(), &[2, input.width() * d]);
            let block = |k: usize| {
                x.i((.., k * d..(k + 1) * d))
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap()
            };
            let at = input.blocks();
            let v = |a: &Tensor| a.to_vec2::<f32>().unwrap();
            assert_eq!(block(at.target), v(&t), "{input:?}: target");
            assert_eq!(block(at.history), v(&h), "{input:?}: history");
            assert_eq!(
                block(at.product),
                v(&(&t * &h).unwrap()),
                "{input:?}: product"
            );
            if let Some(k) = at.difference {
                assert_eq!(block(k), v(&(&t - &h).unwrap()), "{input:?}: difference");
            }
            // every block is named once
            let mut named = vec![at.target, at.history, at.product];
            named.extend(at.difference);
            named.sort_unstable();
            assert_eq!(named, (0..input.width()).collect::<Vec<_>>(), "{input:?}");
        }
    }
}
