//! DIN and its base model (tutorial sections 1–3): embeddings → history pooling → MLP → sigmoid.
//!
//! ```
//! use candle_core::{DType, Device};
//! use din::data::{Batch, RowRef};
//! use din::model::{Embeddings, Layout, Mode, ModelConfig, Network, Params};
//! let cfg = ModelConfig { embed_dim: 4, attention_dims: vec![8], mlp_dims: vec![8], ..Default::default() };
//! let net: Network = cfg.init(Params::seeded(7).var_builder(DType::F32, &Device::Cpu))?;
//! // two samples: a history of two items, and an empty history
//! let row = |hist: &'static [u32], target| RowRef { user: 1, hist_item: hist, hist_cate: hist,
//!     target_item: target, target_cate: target, label: 1.0 };
//! let batch = Batch::from_rows([row(&[1, 2], 3), row(&[], 1)], 0);
//! let emb = Embeddings::random([5, 5, 3], 4, 0.05, 7);
//! let x = emb.lookup(&batch, Layout::Padded, DType::F32, &Device::Cpu)?;
//! let out = net.forward_t(&x, Mode::EVAL)?;
//! assert_eq!(out.logit.dims(), &[2]); // one logit per sample
//! let [w_item, _] = out.attention.expect("DIN returns its attention weights");
//! assert_eq!(w_item.to_vec2::<f32>()?[1], [0.0, 0.0]); // padding gets weight 0
//! let bad = ModelConfig { mlp_dims: vec![8, 0], ..cfg }; // refused before any weight exists
//! assert_eq!(bad.validate().unwrap_err().to_string(),
//!     "invalid config: mlp_dims has a zero layer width: [8, 0]");
//! # Ok::<(), din::Error>(())
//! ```

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::attention::{ActivationUnit, ActivationUnitConfig, AttentionInput, WeightNorm};
use super::embedding::{Layout, Lookup};
use super::layers::{Activation, Dice, LayerOptions, LinearInit, Mlp, MlpConfig};
use super::ops::Mode;

/// Which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Deep Interest Network: attention-weighted history.
    Din,
    /// The tutorial's "传统模型": the same network with the history pooled with w_i = 1/n.
    Base,
}

crate::names::named_enum!(ModelKind, "model", {
    Din => "din",
    Base => "base",
});

impl ModelKind {
    /// How reports and figures label it: `DIN`, `base`.
    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Din => "DIN",
            ModelKind::Base => "base",
        }
    }
}

/// How the base model pools the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Masked mean (w_i = 1/n).
    Mean,
    /// Masked sum (w_i = 1).
    Sum,
}

/// What the head MLP sees next to the two pooled histories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadInput {
    /// `[V_item, V_cate, t_item, t_cate, user]`, 5d: each embedding once (the default).
    #[default]
    Din,
    /// The tutorial's torch-rechub code, where `features = target_features = [target_item,
    /// target_cate, user_id]`: torch-rechub's `DIN` concatenates the pooled histories, the target
    /// features and the features, `[V_item, V_cate, t_item, t_cate, user, t_item, t_cate, user]`,
    /// 8d, so the head sees the target and the user twice.
    TorchRechub,
}

impl HeadInput {
    /// Width of the head's input for embeddings of `d` columns.
    pub fn width(self, d: usize) -> usize {
        match self {
            HeadInput::Din => 5 * d,
            HeadInput::TorchRechub => 8 * d,
        }
    }

    /// The head's input `[B, width]` from the pooled histories `[B, d]` and the lookup.
    pub fn build(self, item: &Tensor, cate: &Tensor, x: &Lookup) -> Result<Tensor> {
        self.build_from(item, cate, [&x.target_item, &x.target_cate, &x.user])
    }

    /// [`HeadInput::build`] from the target item, target category and user embeddings `[B, d]`.
    pub fn build_from(
        self,
        item: &Tensor,
        cate: &Tensor,
        [ti, tc, u]: [&Tensor; 3],
    ) -> Result<Tensor> {
        match self {
            HeadInput::Din => Tensor::cat(&[item, cate, ti, tc, u], 1),
            HeadInput::TorchRechub => Tensor::cat(&[item, cate, ti, tc, u, ti, tc, u], 1),
        }
    }
}

/// Everything that defines a model's shape.
///
/// # Defaults
///
/// Which value a setting takes, by where the configuration comes from: a new one
/// ([`ModelConfig::default`], `din train` without a preset), a configuration file written before
/// the setting existed (serde's default for the missing field), and the two presets
/// ([`crate::preset::Preset::model`]; a preset starts from `ModelConfig::default()` and changes
/// only what it lists). Settings not in the table have the same value in all four.
///
/// | setting | new config | old config file, field missing | `--preset bars-x1` | `--preset torch-rechub` |
/// |---|---|---|---|---|
/// | `dice_momentum` | 0.1 ([`Dice::MOMENTUM`]) | 0.01 ([`ModelConfig::LEGACY_DICE_MOMENTUM`]) | 0.01 (FuxiCTR's Dice) | 0.1 (unused: torch-rechub's Dice keeps no running statistics) |
/// | `head_input` | `Din` | `Din` | `Din` | `TorchRechub` |
/// | `attend_padding` | `None` | `None` | `None` | `None` (`din import` sets it) |
/// | `linear_init` | `KaimingNormal` | `KaimingNormal` | `KaimingNormal` | `KaimingNormal` |
/// | `attention_dims` / `mlp_dims` | [256, 128] / [256, 128] | (always in the file) | [512, 256] / [1024, 512, 256] | [256, 128] / [256, 128] |
/// | `activation`, `attention_activation` | Dice | (always in the file) | Dice | `RechubDice` |
/// | `weight_norm` | `None` | (always in the file) | `Softmax` | `None` |
/// | `batch_norm` | false | (always in the file) | true | true |
/// | `embed_init_std` | 0.05 | (always in the file) | 0.05 | 1e-4 |
///
/// ```
/// use din::model::{Dice, ModelConfig};
/// use din::preset::Preset;
/// assert_eq!(ModelConfig::default().dice_momentum, Dice::MOMENTUM);
/// assert_eq!(Preset::BarsX1.model().dice_momentum, ModelConfig::LEGACY_DICE_MOMENTUM);
/// // a configuration file from before `dice_momentum` existed
/// let mut old = serde_json::to_value(ModelConfig::default()).unwrap();
/// old.as_object_mut().unwrap().remove("dice_momentum");
/// let old: ModelConfig = serde_json::from_value(old).unwrap();
/// assert_eq!(old.dice_momentum, ModelConfig::LEGACY_DICE_MOMENTUM);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// DIN or the base model (default DIN).
    pub kind: ModelKind,
    /// Embedding width `d`, the columns of all three tables (default 64).
    pub embed_dim: usize,
    /// Hidden widths of each activation unit's MLP, before its one-unit output (DIN only;
    /// default `[256, 128]`).
    pub attention_dims: Vec<usize>,
    /// Hidden widths of the head MLP, before its one-unit output, the logit (default `[256, 128]`).
    pub mlp_dims: Vec<usize>,
    /// Activation of the head MLP (DIN paper: Dice).
    pub activation: Activation,
    /// Activation of the attention MLP (torch-rechub's default: Dice).
    pub attention_activation: Activation,
    /// What the activation units see of a (target, history item) pair (DIN only; default
    /// [`AttentionInput::Four`]).
    pub attention_input: AttentionInput,
    /// How the activation units turn scores into weights (DIN only; default raw,
    /// [`WeightNorm::None`]).
    pub weight_norm: WeightNorm,
    /// How the base model pools the histories (base model only; default [`Pooling::Mean`]).
    pub pooling: Pooling,
    /// Linear → BatchNorm → activation in every MLP layer, as torch-rechub's `MLP` does.
    pub batch_norm: bool,
    /// Standard deviation of the initial embeddings.
    pub embed_init_std: f64,
    /// What the head sees besides the pooled histories (default: each embedding once).
    #[serde(default)]
    pub head_input: HeadInput,
    /// Attend to padding the way torch-rechub does: histories padded to this length with id 0
    /// and every padding position weighted by the activation unit like a real item, so the
    /// pooled history gains `(len − n)·w(t, e₀)·e₀` (`e₀`: row 0 of the table; nothing when
    /// `n ≥ len`). Set by `din import` for a torch-rechub model whose padding rows are not zero,
    /// so that `din` scores what PyTorch scores; `None` (the default) masks padding. DIN only,
    /// raw or sigmoid weights, evaluation only (training such a model is an error).
    #[serde(default)]
    pub attend_padding: Option<usize>,
    /// Weight of a training batch in every Dice layer's running statistics (the evaluation
    /// statistics): 0.1, PyTorch's `BatchNorm1d` default ([`Dice::MOMENTUM`]); 0.01 is the
    /// official DIN code's TensorFlow batch norm (`--dice-momentum 0.01`), which learned 0.01–0.10
    /// less test AUC per epoch here (bench/README.md, "Learning per epoch"). A configuration
    /// saved before this field existed reads as 0.01, the value it was trained with.
    #[serde(default = "legacy_dice_momentum")]
    pub dice_momentum: f64,
    /// How the MLPs' Linear weights are drawn (default Kaiming normal; `torch-uniform` is
    /// PyTorch's `nn.Linear`, which learned less here: bench/README.md).
    #[serde(default)]
    pub linear_init: LinearInit,
}

/// The Dice momentum of configurations written before [`ModelConfig::dice_momentum`] existed.
fn legacy_dice_momentum() -> f64 {
    ModelConfig::LEGACY_DICE_MOMENTUM
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            kind: ModelKind::Din,
            embed_dim: 64,
            attention_dims: vec![256, 128],
            mlp_dims: vec![256, 128],
            activation: Activation::Dice,
            attention_activation: Activation::Dice,
            attention_input: AttentionInput::Four,
            weight_norm: WeightNorm::None,
            pooling: Pooling::Mean,
            batch_norm: false,
            embed_init_std: 0.05,
            head_input: HeadInput::Din,
            attend_padding: None,
            dice_momentum: Dice::MOMENTUM,
            linear_init: LinearInit::KaimingNormal,
        }
    }
}

impl ModelConfig {
    /// The Dice momentum a configuration file without `dice_momentum` reads as (the value such
    /// models were trained with), and that of the official DIN code's TensorFlow batch norm and
    /// FuxiCTR (`--preset bars-x1`); see the table under [`ModelConfig`].
    pub const LEGACY_DICE_MOMENTUM: f64 = 0.01;

    /// The settings every MLP layer of the network shares.
    pub fn layer_options(&self) -> LayerOptions {
        LayerOptions {
            linear_init: self.linear_init,
            dice_momentum: self.dice_momentum,
        }
    }

    /// The head MLP's settings (DIN's and the base model's head are the same MLP).
    pub fn head_config(&self) -> MlpConfig {
        MlpConfig {
            dims: self.mlp_dims.clone(),
            activation: self.activation,
            batch_norm: self.batch_norm,
            layers: self.layer_options(),
        }
    }

    /// The network this configuration describes, its weights under `vb` (DIN or the base model,
    /// by [`ModelConfig::kind`]): the one way to build [`Network`], [`Din`] and [`BaseModel`],
    /// as [`MlpConfig::init`] builds an [`Mlp`]. [`crate::model::Model::new`] calls it with the
    /// model's seeded parameters.
    ///
    /// # Shapes
    /// * embeddings of width `d = embed_dim`; the activation units take `[t, h, t − h, t ⊙ h]`
    ///   (`4d`, or `3d` for [`AttentionInput::Three`]) and the head `[B, head_input.width(d)]`
    ///   (5d by default); see [`Din::forward_t`] and [`BaseModel::forward_t`] for the pass.
    ///
    /// ```
    /// use candle_core::{DType, Device};
    /// use din::model::{ModelConfig, ModelKind, Network, Params};
    /// let vb = Params::seeded(1).var_builder(DType::F32, &Device::Cpu);
    /// let cfg = ModelConfig { embed_dim: 4, attention_dims: vec![8], mlp_dims: vec![8], ..Default::default() };
    /// let Network::Din(din) = cfg.init(vb.clone())? else { unreachable!() };
    /// assert_eq!(din.head().hidden()[0].linear().weight().dims(), &[8, 5 * 4]);
    /// let base = ModelConfig { kind: ModelKind::Base, ..cfg }.init(vb.pp("base"))?;
    /// assert!(matches!(base, Network::Base(_)));
    /// # Ok::<(), candle_core::Error>(())
    /// ```
    pub fn init(&self, vb: VarBuilder) -> Result<Network> {
        Ok(match self.kind {
            ModelKind::Din => Network::Din(Din::new(self, vb)?),
            ModelKind::Base => Network::Base(BaseModel::new(self, vb)?),
        })
    }

    /// Check the configuration; the message names the bad field.
    pub fn validate(&self) -> crate::Result<()> {
        self.check().map_err(crate::Error::Config)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.embed_dim == 0 {
            return Err("embed_dim must be at least 1".into());
        }
        for (name, dims) in [
            ("attention_dims", &self.attention_dims),
            ("mlp_dims", &self.mlp_dims),
        ] {
            if dims.is_empty() {
                return Err(format!("{name} must list at least one layer width"));
            }
            if dims.contains(&0) {
                return Err(format!("{name} has a zero layer width: {dims:?}"));
            }
        }
        if !(self.embed_init_std.is_finite() && self.embed_init_std > 0.0) {
            return Err("embed_init_std must be positive".into());
        }
        if !(self.dice_momentum.is_finite()
            && self.dice_momentum > 0.0
            && self.dice_momentum <= 1.0)
        {
            return Err(format!(
                "dice_momentum must be in (0, 1], got {}",
                self.dice_momentum
            ));
        }
        if let Some(len) = self.attend_padding {
            if self.kind != ModelKind::Din {
                return Err(
                    "attend_padding applies to DIN only (the base model masks padding)".into(),
                );
            }
            if self.weight_norm == WeightNorm::Softmax {
                return Err(
                    "attend_padding cannot be combined with weight_norm = softmax (a softmax over \
                     padding positions is not computed here)"
                        .into(),
                );
            }
            if len == 0 {
                return Err("attend_padding must be a history length of at least 1".into());
            }
        }
        Ok(())
    }
}

/// What a forward pass returns.
#[derive(Debug, Clone)]
pub struct Output {
    /// `[B]` logits; `sigmoid(logit)` is the CTR.
    pub logit: Tensor,
    /// `[B, L]` attention weights of the item and category histories (DIN only; 0 at padding).
    pub attention: Option<[Tensor; 2]>,
}

impl Output {
    /// `[B]` predicted click-through rates.
    pub fn ctr(&self) -> Result<Tensor> {
        candle_nn::ops::sigmoid(&self.logit)
    }
}

/// DIN on top of the embedding layer: an activation unit per history (items, categories), the
/// pooled interests concatenated with the candidate and the user, the head MLP, one logit.
///
/// # Shapes
/// * input: a [`Lookup`] of a batch of B rows: candidates and user `[B, d]`, histories `[B, L, d]`
///   with a `[B, L]` mask (padded layout) or `[N, d]` (packed, N real positions);
/// * output: an [`Output`]: `logit [B]` and the attention weights `[B, L]` of both units.
///
/// Weights: `attention.item.mlp.*`, `attention.cate.mlp.*` (the two [`ActivationUnit`]s),
/// `mlp.*` (the head [`Mlp`]). Built by [`ModelConfig::init`]; the embedding tables
/// live beside it in [`Model`](super::Model).
///
/// ```
/// use candle_core::{DType, Device};
/// use din::model::{Embeddings, Layout, Mode, ModelConfig, Network, Params};
/// let cfg = ModelConfig { embed_dim: 4, attention_dims: vec![8], mlp_dims: vec![8], ..Default::default() };
/// let Network::Din(din) = cfg.init(Params::seeded(7).var_builder(DType::F32, &Device::Cpu))? else {
///     unreachable!("kind is Din by default")
/// };
/// let (_world, ds) = din::synth::demo_dataset(30, 1)?;
/// let emb = Embeddings::random(ds.vocab.table_rows(), 4, 0.05, 7);
/// let batch = din::data::Batch::from_split(&ds.test, &[0, 1, 2]);
/// let x = emb.lookup(&batch, Layout::Padded, DType::F32, &Device::Cpu)?;
/// let out = din.forward_t(&x, Mode::EVAL)?;
/// assert_eq!(out.logit.dims(), &[3]);
/// assert_eq!(out.attention.unwrap()[0].dims(), &[3, batch.max_len]);
/// # Ok::<(), din::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Din {
    att_item: ActivationUnit,
    att_cate: ActivationUnit,
    head: Mlp,
    head_input: HeadInput,
    /// See [`ModelConfig::attend_padding`].
    attend_padding: Option<usize>,
}

/// The base model: same embeddings and head, history pooled by masked mean (or sum).
///
/// # Shapes
/// As [`Din`]: a [`Lookup`] of B rows in, an [`Output`] with `logit [B]` and no attention out.
/// Weights: `mlp.*` (the head) only. Built by [`ModelConfig::init`] with `kind: Base` (its
/// `pooling`, `mlp_dims`, `activation`, `batch_norm`).
///
/// ```
/// use candle_core::{DType, Device};
/// use din::model::{Embeddings, Layout, Mode, ModelConfig, ModelKind, Network, Params};
/// let cfg = ModelConfig { kind: ModelKind::Base, embed_dim: 4, mlp_dims: vec![8], ..Default::default() };
/// let Network::Base(base) = cfg.init(Params::seeded(7).var_builder(DType::F32, &Device::Cpu))? else {
///     unreachable!("kind is Base")
/// };
/// let (_world, ds) = din::synth::demo_dataset(30, 1)?;
/// let emb = Embeddings::random(ds.vocab.table_rows(), 4, 0.05, 7);
/// let batch = din::data::Batch::from_split(&ds.test, &[0, 1, 2]);
/// let x = emb.lookup(&batch, Layout::Packed, DType::F32, &Device::Cpu)?;
/// let out = base.forward_t(&x, Mode::EVAL)?;
/// assert_eq!(out.logit.dims(), &[3]);
/// assert!(out.attention.is_none()); // mean pooling: no weights to show
/// # Ok::<(), din::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BaseModel {
    pooling: Pooling,
    head: Mlp,
    head_input: HeadInput,
}

/// DIN or the base model.
#[derive(Debug, Clone)]
pub enum Network {
    /// DIN ([`ModelKind::Din`]).
    Din(Din),
    /// The base model ([`ModelKind::Base`]).
    Base(BaseModel),
}

impl Din {
    /// The activation unit over the item history (weights `attention.item.*`).
    pub fn att_item(&self) -> &ActivationUnit {
        &self.att_item
    }

    /// The activation unit over the category history (weights `attention.cate.*`).
    pub fn att_cate(&self) -> &ActivationUnit {
        &self.att_cate
    }

    /// The head MLP (weights `mlp.*`).
    pub fn head(&self) -> &Mlp {
        &self.head
    }

    /// What the head sees.
    pub fn head_input(&self) -> HeadInput {
        self.head_input
    }

    /// See [`ModelConfig::attend_padding`].
    pub fn attend_padding(&self) -> Option<usize> {
        self.attend_padding
    }

    /// Normalise both units' weights with `norm` from now on (the trained weights are untouched;
    /// see [`crate::model::Model::with_weight_norm`], which also checks the configuration).
    pub(crate) fn set_weight_norm(&mut self, norm: WeightNorm) {
        self.att_item.set_norm(norm);
        self.att_cate.set_norm(norm);
    }

    /// The DIN of `cfg` (see [`ModelConfig::init`]).
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.embed_dim;
        let unit_cfg = ActivationUnitConfig {
            mlp: MlpConfig {
                dims: cfg.attention_dims.clone(),
                activation: cfg.attention_activation,
                ..cfg.head_config()
            },
            input: cfg.attention_input,
            norm: cfg.weight_norm,
        };
        let unit = |name: &str| unit_cfg.init(d, vb.pp(name));
        Ok(Din {
            att_item: unit("attention.item")?,
            att_cate: unit("attention.cate")?,
            // [V_interest(item), V_interest(cate), v_target(item), v_target(cate), v_user]
            head: cfg
                .head_config()
                .init(cfg.head_input.width(d), vb.pp("mlp"))?,
            head_input: cfg.head_input,
            attend_padding: cfg.attend_padding,
        })
    }

    /// The whole DIN forward pass: both activation units, the head input, the head.
    ///
    /// # Shapes
    /// * `x`: a [`Lookup`] of B rows: targets and user `[B, d]`, histories `[B, L, d]` with a
    ///   `[B, L]` mask (padded) or `[N, d]` (packed);
    /// * output: `logit [B]` and the weights `[B, L]` of the item and the category units.
    pub fn forward_t(&self, x: &Lookup, mode: Mode) -> Result<Output> {
        // 兴趣激活: one activation unit per history feature
        let (interest_item, w_item) =
            self.att_item
                .forward_t(&x.target_item, &x.hist_item, x, mode)?;
        let (interest_cate, w_cate) =
            self.att_cate
                .forward_t(&x.target_cate, &x.hist_cate, x, mode)?;
        let padding = match self.attend_padding {
            // torch-rechub's unmasked attention, for imported models (see ModelConfig)
            Some(len) => {
                let (Some(pads), false) = (&x.padding, mode.train) else {
                    candle_core::bail!(
                        "this model attends to padding as torch-rechub does (attend_padding = \
                         {len}): it is scored through Model::lookup and cannot be trained; \
                         import it with `din import --zero-padding` to train it further"
                    );
                };
                let count = x.lens.affine(-1.0, len as f64)?.relu()?; // padding positions per row
                Some((pads, count))
            }
            None => None,
        };
        // 拼接 → 深层 DNN → logit (sigmoid gives the CTR)
        let targets = [&x.target_item, &x.target_cate, &x.user];
        let interests = [interest_item, interest_cate];
        self.head_output(interests, [w_item, w_cate], targets, padding, mode)
    }

    /// The head on the pooled interests `[item, cate]` and the target and user embeddings
    /// `[item, cate, user]`. With `padding` (the padding rows' embeddings and each row's count
    /// of padding positions), torch-rechub's unmasked attention first: each row's interest
    /// vectors gain `count` padding positions weighted by the unit like a real item (see
    /// [`ModelConfig::attend_padding`]).
    fn head_output(
        &self,
        [mut item, mut cate]: [Tensor; 2],
        attention: [Tensor; 2],
        targets: [&Tensor; 3],
        padding: Option<(&[Tensor; 2], Tensor)>,
        mode: Mode,
    ) -> Result<Output> {
        if let Some(([pad_item, pad_cate], count)) = padding {
            item = (item
                + self
                    .att_item
                    .padding_term(targets[0], pad_item, &count, mode)?)?;
            cate = (cate
                + self
                    .att_cate
                    .padding_term(targets[1], pad_cate, &count, mode)?)?;
        }
        let input = self.head_input.build_from(&item, &cate, targets)?;
        Ok(Output {
            logit: self.head.forward_t(&input, None, mode)?.squeeze(1)?,
            attention: Some(attention),
        })
    }
}

/// The embeddings of one scoring request: one user and one history, `C` candidates
/// ([`crate::model::Model::lookup_request`]).
#[derive(Debug, Clone)]
pub struct RequestLookup {
    /// `[C, d]`: the user's row, repeated.
    pub user: Tensor,
    /// `[C, d]`: the candidates' items.
    pub target_item: Tensor,
    /// `[C, d]`: the candidates' categories.
    pub target_cate: Tensor,
    /// `[n, d]`: the history's items, every position real.
    pub hist_item: Tensor,
    /// `[n, d]`: the history's categories, aligned with `hist_item`.
    pub hist_cate: Tensor,
    /// As [`Lookup::padding`].
    pub padding: Option<[Tensor; 2]>,
}

impl Din {
    /// True when both activation units score requests of `dtype` on `device` on the CPU kernel
    /// in `mode` ([`ActivationUnit::request_kernel`]).
    pub fn request_kernel(&self, device: &Device, dtype: DType, mode: Mode) -> bool {
        self.att_item.request_kernel(device, dtype, mode)
            && self.att_cate.request_kernel(device, dtype, mode)
    }

    /// [`Din::forward_t`] for one request: the history side of the activation units computed
    /// once for all candidates ([`ActivationUnit::forward_shared`]). Evaluation only.
    ///
    /// # Shapes
    /// * `x`: a [`RequestLookup`]: C candidates `[C, d]`, one history `[n, d]`, the user `[C, d]`;
    /// * output: `logit [C]` and the weights `[C, n]` of both units.
    pub fn forward_shared(&self, x: &RequestLookup, mode: Mode) -> Result<Output> {
        let (item, w_item) = self
            .att_item
            .forward_shared(&x.target_item, &x.hist_item, mode)?;
        let (cate, w_cate) = self
            .att_cate
            .forward_shared(&x.target_cate, &x.hist_cate, mode)?;
        let padding = match self.attend_padding {
            Some(len) => {
                let Some(pads) = &x.padding else {
                    candle_core::bail!("attend_padding: the request lookup holds no padding rows");
                };
                let (c, n) = (x.target_item.dim(0)?, x.hist_item.dim(0)?);
                let count = Tensor::full(len.saturating_sub(n) as f32, (c, 1), item.device())?
                    .to_dtype(item.dtype())?;
                Some((pads, count))
            }
            None => None,
        };
        let targets = [&x.target_item, &x.target_cate, &x.user];
        self.head_output([item, cate], [w_item, w_cate], targets, padding, mode)
    }
}

/// The base model's pooling of a padded history: the mean of each row's real positions
/// (`w_i = 1/n`), zeros for an empty history. `hist: [B, L, d]`, `mask: [B, L]` → `[B, d]`.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let h = Tensor::new(&[[[1f32], [3.], [100.]], [[5.], [6.], [7.]]], &Device::Cpu)?;
/// let m = Tensor::new(&[[1f32, 1., 0.], [0., 0., 0.]], &Device::Cpu)?;
/// assert_eq!(din::model::masked_mean(&h, &m)?.to_vec2::<f32>()?, [[2.0], [0.0]]);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn masked_mean(hist: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let summed = hist.broadcast_mul(&mask.unsqueeze(2)?)?.sum(1)?;
    summed.broadcast_div(&mask.sum_keepdim(1)?.maximum(1.0)?)
}

impl BaseModel {
    /// How the history is pooled.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// The head MLP (weights `mlp.*`).
    pub fn head(&self) -> &Mlp {
        &self.head
    }

    /// What the head sees.
    pub fn head_input(&self) -> HeadInput {
        self.head_input
    }

    /// The base model of `cfg` (see [`ModelConfig::init`]).
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        Ok(BaseModel {
            pooling: cfg.pooling,
            head: cfg
                .head_config()
                .init(cfg.head_input.width(cfg.embed_dim), vb.pp("mlp"))?,
            head_input: cfg.head_input,
        })
    }

    /// Masked mean (w_i = 1/n) or sum of a history.
    fn pool(&self, hist: &Tensor, x: &Lookup) -> Result<Tensor> {
        if let (Layout::Padded, Pooling::Mean) = (x.layout, self.pooling) {
            return masked_mean(hist, &x.mask);
        }
        let summed = match x.layout {
            Layout::Padded => hist.broadcast_mul(&x.mask.unsqueeze(2)?)?.sum(1)?,
            Layout::Packed => {
                let d = hist.dim(1)?;
                Tensor::zeros((x.batch, d), hist.dtype(), hist.device())?
                    .index_add(&x.seg, hist, 0)?
            }
        };
        match self.pooling {
            Pooling::Sum => Ok(summed),
            Pooling::Mean => summed.broadcast_div(&x.lens.maximum(1.0)?),
        }
    }

    /// [`BaseModel::forward_t`] for one request: the history pooled once for all candidates.
    ///
    /// # Shapes
    /// * `x`: a [`RequestLookup`] of C candidates and one history `[n, d]`; output: `logit [C]`,
    ///   no weights.
    pub fn forward_shared(&self, x: &RequestLookup, mode: Mode) -> Result<Output> {
        let c = x.target_item.dim(0)?;
        let pool = |h: &Tensor| -> Result<Tensor> {
            let n = h.dim(0)?;
            let sum = h.sum_keepdim(0)?;
            let pooled = match self.pooling {
                Pooling::Sum => sum,
                Pooling::Mean => (sum / n.max(1) as f64)?,
            };
            pooled.broadcast_as((c, h.dim(1)?))?.contiguous()
        };
        let (item, cate) = (pool(&x.hist_item)?, pool(&x.hist_cate)?);
        let targets = [&x.target_item, &x.target_cate, &x.user];
        let input = self.head_input.build_from(&item, &cate, targets)?;
        let logit = self.head.forward_t(&input, None, mode)?.squeeze(1)?;
        Ok(Output {
            logit,
            attention: None,
        })
    }

    /// The base model's forward pass: both histories pooled (mean or sum), the head input, the
    /// head.
    ///
    /// # Shapes
    /// * `x`: a [`Lookup`] of B rows (either layout); output: `logit [B]`, no weights.
    pub fn forward_t(&self, x: &Lookup, mode: Mode) -> Result<Output> {
        let (item, cate) = (self.pool(&x.hist_item, x)?, self.pool(&x.hist_cate, x)?);
        let input = self.head_input.build(&item, &cate, x)?;
        let logit = self.head.forward_t(&input, None, mode)?.squeeze(1)?;
        Ok(Output {
            logit,
            attention: None,
        })
    }
}

impl Network {
    /// The network's forward pass ([`Din::forward_t`] or [`BaseModel::forward_t`]).
    ///
    /// # Shapes
    /// * `x`: a [`Lookup`] of B rows; output: `[B]` logits, and for DIN the `[B, L]` weights.
    pub fn forward_t(&self, x: &Lookup, mode: Mode) -> Result<Output> {
        match self {
            Network::Din(m) => m.forward_t(x, mode),
            Network::Base(m) => m.forward_t(x, mode),
        }
    }

    /// One request's candidates, the history side computed once (evaluation only).
    ///
    /// # Shapes
    /// * `x`: a [`RequestLookup`] of C candidates; output: `logit [C]`, DIN's weights `[C, n]`.
    pub fn forward_shared(&self, x: &RequestLookup, mode: Mode) -> Result<Output> {
        match self {
            Network::Din(m) => m.forward_shared(x, mode),
            Network::Base(m) => m.forward_shared(x, mode),
        }
    }
}
