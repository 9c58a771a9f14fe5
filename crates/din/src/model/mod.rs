//! The model side of the tutorial: embedding layer, activation unit, DIN and the base model.
//!
//! * [`embedding`] — 嵌入层: tables shared between targets and histories.
//! * [`attention`] — 兴趣激活: the activation unit (start reading here).
//! * [`din`] — DIN's and the base model's forward passes.
//! * [`layers`] — Dice, PReLU, BatchNorm, MLP.
//! * [`ops`] — the fast path: CPU kernels as candle ops, chosen per forward pass by [`Mode`].
//!
//! A [`Model`] is the embedding tables plus a network on top of them: the built-in
//! [`Network`] (DIN or the base model), or any type implementing [`Trainable`], which
//! [`crate::train::fit`], evaluation, checkpoints and the plots then work with unchanged.
//!
//! ```
//! use candle_core::Device;
//! use din::model::{Model, ModelConfig, DTYPE};
//! // a DIN with tables of 10 items, 4 categories and 6 users (rows include padding and OOV)
//! let model = Model::new(ModelConfig::default(), [12, 6, 8], 2026, &Device::Cpu, DTYPE)?;
//! println!("{} trainable scalars", model.n_params());
//! assert!(model.n_params() > 100_000);
//! # Ok::<(), din::Error>(())
//! ```

pub mod attention;
pub mod device;
pub mod din;
pub mod embedding;
pub mod layers;
pub mod ops;
pub mod params;

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

pub use attention::{
    masked_softmax, ActivationUnit, ActivationUnitConfig, AttentionInput, Pooled, WeightNorm,
};
pub use device::{device, DTYPE};
pub use din::{
    masked_mean, BaseModel, Din, HeadInput, ModelConfig, ModelKind, Network, Output, Pooling,
    RequestLookup,
};
pub use embedding::{EmbeddingTable, Embeddings, Layout, Lookup, TableId, TouchedRows};
pub use layers::{Activation, Dice, LayerOptions, LinearInit, Mlp, MlpConfig, RechubDice};
pub use ops::{Kernels, Mode};
pub use params::Params;

use crate::data::{Batch, Vocab};
use crate::error::{Error, Result};

/// A network on top of the embedding layer: what training, evaluation and checkpoints need of a
/// model. Implement it for a network of your own (its weights created through the `VarBuilder`
/// that [`Model::custom`] hands you) and [`crate::train::fit`] trains it like the built-in ones.
///
/// `forward_t` gets the embedded batch ([`Lookup`]: targets, user, and the history in the
/// model's [`Layout`]) and returns one logit per row (and, optionally, attention weights).
pub trait Trainable: Send + Sync {
    /// The network on the embedded batch `x`, in `mode` (training or evaluation, kernels).
    ///
    /// # Shapes
    /// * `x`: a [`Lookup`] of B rows; output: `logit [B]` and, optionally, attention weights
    ///   ([`Output::attention`]).
    fn forward_t(&self, x: &Lookup, mode: Mode) -> candle_core::Result<Output>;
}

impl Trainable for Network {
    fn forward_t(&self, x: &Lookup, mode: Mode) -> candle_core::Result<Output> {
        Network::forward_t(self, x, mode)
    }
}

impl Trainable for Din {
    fn forward_t(&self, x: &Lookup, mode: Mode) -> candle_core::Result<Output> {
        Din::forward_t(self, x, mode)
    }
}

impl Trainable for BaseModel {
    fn forward_t(&self, x: &Lookup, mode: Mode) -> candle_core::Result<Output> {
        BaseModel::forward_t(self, x, mode)
    }
}

/// A complete model: configuration, embedding tables, network weights, device.
#[derive(Clone)]
pub struct Model<N = Network> {
    pub(crate) config: ModelConfig,
    pub(crate) embeddings: Embeddings,
    pub(crate) params: Params,
    pub(crate) net: N,
    pub(crate) device: Device,
    pub(crate) dtype: DType,
    /// Packed (fast, default) or padded (the formulas as written) history layout.
    pub(crate) layout: Layout,
    /// The fused CPU kernels (default) or tensor ops only (see [`ops`]).
    pub(crate) kernels: Kernels,
}

/// Reading a model's parts, and the two settings a caller changes (layout, kernels).
impl<N> Model<N> {
    /// The configuration it was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The embedding tables (item, category, user).
    pub fn embeddings(&self) -> &Embeddings {
        &self.embeddings
    }

    /// The embedding tables, to change them (training writes them in place).
    pub fn embeddings_mut(&mut self) -> &mut Embeddings {
        &mut self.embeddings
    }

    /// The network's weights, by name.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The network (for the library's models a [`Network`]: DIN or the base model).
    pub fn net(&self) -> &N {
        &self.net
    }

    /// The device of the network's weights and of the embedded batches (the embedding tables
    /// themselves stay in host memory).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The dtype of the network's weights and of the embedded batches (the tables hold f32).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Packed (fast, the default) or padded history layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The fused CPU kernels (the default) or tensor ops only.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The same model with the history in `layout` (same weights, same predictions up to
    /// rounding): `Layout::Padded` computes the formulas as written, on `[B, L, d]` tensors.
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The same model with other kernels: `Kernels::Reference` runs tensor ops only (every
    /// device; a changed formula in `layers`/`attention` then takes effect in training too).
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }
}

/// Candidates scored together in one [`Model::forward_request`] call on the tensor path (the
/// CPU kernel takes any number: [`Model::request_chunk`]).
pub const REQUEST_CHUNK: usize = 256;

impl<N: Trainable> Model<N> {
    /// A model with a network of your own: `build` creates it from a `VarBuilder` whose weights
    /// the model owns (seeded by `seed`), on top of fresh embedding tables of
    /// `config.embed_dim` columns (`table_rows` as in [`Model::new`]). Only `embed_dim` and
    /// `embed_init_std` of `config` are used.
    pub fn custom(
        config: ModelConfig,
        table_rows: [usize; 3],
        seed: u64,
        device: &Device,
        dtype: DType,
        build: impl FnOnce(VarBuilder<'static>) -> candle_core::Result<N>,
    ) -> Result<Model<N>> {
        config.validate()?;
        let params = Params::seeded(seed);
        let net = build(params.var_builder(dtype, device))?;
        let embeddings =
            Embeddings::random(table_rows, config.embed_dim, config.embed_init_std, seed);
        Ok(Model::assemble(
            config, embeddings, params, net, device, dtype,
        ))
    }

    /// A model of these parts, packed layout and fused kernels.
    fn assemble(
        config: ModelConfig,
        embeddings: Embeddings,
        params: Params,
        net: N,
        device: &Device,
        dtype: DType,
    ) -> Model<N> {
        Model {
            config,
            embeddings,
            params,
            net,
            device: device.clone(),
            dtype,
            layout: Layout::Packed,
            kernels: Kernels::Fused,
        }
    }

    /// The forward mode of this model: training or evaluation, with its kernels.
    pub fn mode(&self, train: bool) -> Mode {
        Mode::new(train, self.kernels)
    }
}

impl Model {
    /// A freshly initialised model. `table_rows` = rows of the item, category and user tables
    /// (`IdMap::table_rows`, i.e. ids + padding + OOV); the network is `config.init(vb)`
    /// ([`ModelConfig::init`]) over parameters drawn from `seed`.
    ///
    /// # Shapes
    /// * tables `[table_rows[k], embed_dim]`; the network as [`ModelConfig::init`] builds it.
    pub fn new(
        config: ModelConfig,
        table_rows: [usize; 3],
        seed: u64,
        device: &Device,
        dtype: DType,
    ) -> Result<Model> {
        let net_config = config.clone();
        Model::custom(config, table_rows, seed, device, dtype, |vb| {
            net_config.init(vb)
        })
    }

    /// A freshly initialised model for the ids of `vocab` ([`Vocab::table_rows`]), on the CPU in
    /// [`DTYPE`]: what most callers want from [`Model::new`].
    ///
    /// ```
    /// use din::model::{Model, ModelConfig};
    /// let (_world, ds) = din::synth::demo_dataset(40, 3)?;
    /// let model = Model::for_vocab(&ds.vocab, ModelConfig::default(), 3)?;
    /// assert_eq!(model.embeddings().table(din::model::TableId::Item).rows, ds.vocab.items.table_rows());
    /// # Ok::<(), din::Error>(())
    /// ```
    pub fn for_vocab(vocab: &Vocab, config: ModelConfig, seed: u64) -> Result<Model> {
        Model::new(config, vocab.table_rows(), seed, &Device::Cpu, DTYPE)
    }

    /// The same model with its attention weights normalised by `norm` (the trained weights are
    /// untouched: only how the activation units turn their scores into weights changes). An
    /// error when the configuration does not allow it (a model that attends to padding, as
    /// torch-rechub's does, cannot take a softmax).
    ///
    /// ```
    /// use din::model::{Model, ModelConfig, WeightNorm};
    /// let (_world, ds) = din::synth::demo_dataset(50, 1)?;
    /// let cfg = ModelConfig { embed_dim: 4, attention_dims: vec![8], mlp_dims: vec![8], ..Default::default() };
    /// let raw = Model::for_vocab(&ds.vocab, cfg, 7)?;
    /// let soft = raw.clone().with_weight_norm(WeightNorm::Softmax)?;
    /// assert_eq!(soft.config().weight_norm, WeightNorm::Softmax);
    /// let q = din::predict::Query { user: 1, history: vec![1, 2, 3], candidates: vec![4] };
    /// let w = |m: &Model| din::predict::predict(m, &ds.vocab, 50, &q).unwrap().item_attention.unwrap();
    /// assert!((w(&soft)[0].iter().sum::<f32>() - 1.0).abs() < 1e-5); // a softmax sums to 1
    /// assert!((w(&raw)[0].iter().sum::<f32>() - 1.0).abs() > 1e-3); // raw scores need not
    /// # Ok::<(), din::Error>(())
    /// ```
    pub fn with_weight_norm(mut self, norm: WeightNorm) -> Result<Model> {
        self.config.weight_norm = norm;
        self.config.validate()?;
        if let Network::Din(net) = &mut self.net {
            net.set_weight_norm(norm);
        }
        Ok(self)
    }

    /// A model from saved tensors (network weights by name, plus the three `embedding.*` tables).
    pub fn from_tensors(
        config: ModelConfig,
        mut tensors: BTreeMap<String, Tensor>,
        device: &Device,
        dtype: DType,
    ) -> Result<Model> {
        config.validate()?;
        let mut tables = Vec::with_capacity(3);
        for t in TableId::ALL {
            let tensor = tensors
                .remove(t.name())
                .ok_or_else(|| Error::Config(format!("missing tensor `{}`", t.name())))?;
            let table = EmbeddingTable::from_tensor(&tensor)?;
            if table.dim != config.embed_dim {
                return Err(Error::Config(format!(
                    "`{}` has dimension {}, the config says embed_dim = {}",
                    t.name(),
                    table.dim,
                    config.embed_dim
                )));
            }
            tables.push(table);
        }
        let n_saved = tensors.len();
        let params = Params::from_tensors(tensors);
        let net = config
            .init(params.var_builder(dtype, device))
            .map_err(|e| Error::Config(format!("weights do not match the config: {e}")))?;
        if params.named().len() != n_saved {
            return Err(Error::Config(format!(
                "weights hold {n_saved} network tensors, the config builds {}",
                params.named().len()
            )));
        }
        let tables: [EmbeddingTable; 3] = tables
            .try_into()
            .map_err(|_| Error::Internal("expected three embedding tables".into()))?;
        let embeddings = Embeddings::from_tables(tables);
        Ok(Model::assemble(
            config, embeddings, params, net, device, dtype,
        ))
    }

    /// How many candidates one [`Model::forward_request`] call should take: without bound when
    /// DIN's activation units run on the CPU kernel (it streams blocks of pairs; the base model
    /// has no pairs), else [`REQUEST_CHUNK`], which bounds the tensor path's
    /// `[candidates · history, H]` activations.
    pub fn request_chunk(&self) -> usize {
        let streams = match &self.net {
            Network::Din(net) => net.request_kernel(&self.device, self.dtype, self.mode(false)),
            Network::Base(_) => true,
        };
        if streams {
            usize::MAX
        } else {
            REQUEST_CHUNK
        }
    }

    /// Score `targets` for one user and history, the history side computed once for all of
    /// them: the same logits and attention weights as [`Model::forward`] on a batch of rows that
    /// repeat the history (tested to 1e-5), with less work per candidate.
    ///
    /// # Shapes
    /// * C candidates and a history of n events in; output: `logit [C]`, DIN's weights `[C, n]`.
    pub fn forward_request(
        &self,
        user: u32,
        hist_item: &[u32],
        hist_cate: &[u32],
        targets: &[(u32, u32)],
    ) -> Result<Output> {
        let x = self.lookup_request(user, hist_item, hist_cate, targets)?;
        Ok(self.net.forward_shared(&x, self.mode(false))?)
    }
}

impl<N: Trainable> Model<N> {
    /// All tensors to save: network weights (incl. running statistics) and embedding tables.
    pub fn tensors(&self) -> Result<BTreeMap<String, Tensor>> {
        let mut out = BTreeMap::new();
        for (name, var) in self.params.named() {
            out.insert(
                name,
                var.as_tensor()
                    .to_dtype(DType::F32)?
                    .to_device(&Device::Cpu)?,
            );
        }
        for t in TableId::ALL {
            out.insert(
                t.name().to_string(),
                self.embeddings.table(t).to_tensor(&Device::Cpu)?,
            );
        }
        Ok(out)
    }

    /// Embedded batch for inference (with the padding rows when the model attends to padding).
    pub fn lookup(&self, batch: &Batch) -> Result<Lookup> {
        let mut x = self
            .embeddings
            .lookup(batch, self.layout, self.dtype, &self.device)?;
        if self.config.attend_padding.is_some() {
            let row0 = |t| {
                self.embeddings
                    .table(t)
                    .gather(&[0], self.dtype, &self.device)
            };
            x.padding = Some([row0(TableId::Item)?, row0(TableId::Cate)?]);
        }
        Ok(x)
    }

    /// Evaluation-mode forward pass (running statistics, no updates).
    ///
    /// # Shapes
    /// * a [`Batch`] of B rows in; output: `logit [B]` and, for DIN, the weights `[B, L]`.
    pub fn forward(&self, batch: &Batch) -> Result<Output> {
        let x = self.lookup(batch)?;
        Ok(self.net.forward_t(&x, self.mode(false))?)
    }

    /// The embeddings of one request: `user`, its history (`hist_item`, `hist_cate`, one id
    /// each per position, every position real) and `targets` (item, category) to score.
    pub fn lookup_request(
        &self,
        user: u32,
        hist_item: &[u32],
        hist_cate: &[u32],
        targets: &[(u32, u32)],
    ) -> Result<RequestLookup> {
        if hist_item.len() != hist_cate.len() {
            return Err(Error::Config(format!(
                "a request's history has {} items and {} categories",
                hist_item.len(),
                hist_cate.len()
            )));
        }
        let gather = |t: TableId, ids: &[u32]| -> Result<Tensor> {
            Ok(self
                .embeddings
                .table(t)
                .gather(ids, self.dtype, &self.device)?)
        };
        let (ti, tc): (Vec<u32>, Vec<u32>) = targets.iter().copied().unzip();
        let user = gather(TableId::User, &[user])?
            .broadcast_as((targets.len(), self.config.embed_dim))?
            .contiguous()?;
        let padding = match self.config.attend_padding {
            Some(_) => Some([gather(TableId::Item, &[0])?, gather(TableId::Cate, &[0])?]),
            None => None,
        };
        Ok(RequestLookup {
            user,
            target_item: gather(TableId::Item, &ti)?,
            target_cate: gather(TableId::Cate, &tc)?,
            hist_item: gather(TableId::Item, hist_item)?,
            hist_cate: gather(TableId::Cate, hist_cate)?,
            padding,
        })
    }

    /// Predicted CTRs of a batch.
    pub fn predict(&self, batch: &Batch) -> Result<Vec<f32>> {
        let ctr = self.forward(batch)?.ctr()?;
        Ok(ctr.to_dtype(DType::F32)?.to_vec1::<f32>()?)
    }

    /// Set every table's out-of-vocabulary row (the last) to the mean of its known rows
    /// (rows 1..last), so unseen ids score like an average user/item/category.
    pub fn fill_oov_rows(&mut self) {
        self.embeddings.fill_oov_rows();
    }

    /// Number of trainable scalars (network + embeddings).
    pub fn n_params(&self) -> usize {
        self.params.count()
            + self
                .embeddings
                .tables()
                .iter()
                .map(|t| t.data.len())
                .sum::<usize>()
    }
}

/// The layer tree, as PyTorch's `print(model)` shows it: the configuration, then one line per
/// module (its tensors with their shapes, and how many trained scalars it holds; running
/// statistics are kept but not trained), the embedding tables last.
///
/// ```
/// use candle_core::Device;
/// use din::model::{Model, ModelConfig, DTYPE};
/// let cfg = ModelConfig { embed_dim: 4, attention_dims: vec![6], mlp_dims: vec![5], ..Default::default() };
/// let model = Model::new(cfg, [10, 5, 7], 1, &Device::Cpu, DTYPE)?;
/// let text = model.to_string();
/// let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
/// // the item unit's first layer: 6 × (4·4) weights and 6 biases
/// assert!(flat.contains("attention.item.mlp.0.linear bias [6], weight [6, 16] 102 trained"));
/// // Dice: α is trained, the running statistics are not
/// assert!(flat.contains("alpha [6], running_mean [6], running_var [6] 6 trained"));
/// assert!(flat.contains("embedding.item [10, 4] 40 trained"));
/// assert!(flat.ends_with("trained scalars"));
/// # Ok::<(), din::Error>(())
/// ```
impl<N> std::fmt::Display for Model<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "{:?}: embed {}, attention MLP {:?} ({:?}), head MLP {:?} ({:?}), batch norm {}, \
             attention weights {:?}",
            c.kind,
            c.embed_dim,
            c.attention_dims,
            c.attention_activation,
            c.mlp_dims,
            c.activation,
            c.batch_norm,
            c.weight_norm
        )?;
        let mut modules: BTreeMap<String, Vec<(String, Vec<usize>)>> = BTreeMap::new();
        for (name, var) in self.params.named() {
            let (module, leaf) = name.rsplit_once('.').unwrap_or(("", name.as_str()));
            modules
                .entry(module.to_string())
                .or_default()
                .push((leaf.to_string(), var.dims().to_vec()));
        }
        let width = modules
            .keys()
            .map(String::len)
            .chain(TableId::ALL.iter().map(|t| t.name().len()))
            .max()
            .unwrap_or(0);
        let mut total = 0usize;
        for (module, tensors) in &modules {
            let trained: usize = tensors
                .iter()
                .filter(|(leaf, _)| !leaf.starts_with("running_"))
                .map(|(_, d)| d.iter().product::<usize>())
                .sum();
            total += trained;
            let list: Vec<String> = tensors
                .iter()
                .map(|(leaf, d)| format!("{leaf} {d:?}"))
                .collect();
            writeln!(
                f,
                "  {module:<width$}  {}  {trained} trained",
                list.join(", ")
            )?;
        }
        for t in TableId::ALL {
            let table = self.embeddings.table(t);
            let n = table.rows * table.dim;
            total += n;
            writeln!(
                f,
                "  {:<width$}  [{}, {}]  {n} trained",
                t.name(),
                table.rows,
                table.dim
            )?;
        }
        write!(f, "{total} trained scalars")
    }
}

/// A copy of every weight, to restore the best epoch.
#[derive(Clone)]
pub struct Snapshot {
    pub(crate) dense: Vec<Tensor>,
    pub(crate) embeddings: Embeddings,
}

impl<N: Trainable> Model<N> {
    /// A copy of every weight (dense and embedding tables), for [`Model::restore`].
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            dense: self
                .params
                .named()
                .iter()
                .map(|(_, v)| v.as_tensor().detach().copy())
                .collect::<candle_core::Result<_>>()?,
            embeddings: self.embeddings.clone(),
        })
    }

    /// Set every weight back to `s`.
    pub fn restore(&mut self, s: &Snapshot) -> Result<()> {
        for ((_, v), t) in self.params.named().iter().zip(&s.dense) {
            v.set(t)?;
        }
        self.embeddings = s.embeddings.clone();
        Ok(())
    }
}
