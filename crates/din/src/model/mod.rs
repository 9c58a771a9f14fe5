//! The model side of the tutorial: embedding layer, activation unit, DIN and the base model.
//!
//! * [`embedding`] — 嵌入层: tables shared between targets and histories.
//! * [`attention`] — 兴趣激活: the activation unit (start reading here).
//! * [`din`] — DIN's and the base model's forward passes.
//! * [`layers`] — Dice, PReLU, BatchNorm, MLP.

pub mod attention;
pub mod din;
pub mod embedding;
pub mod fused;
pub mod fused_attention;
pub mod fused_mlp;
pub mod layers;
pub mod params;

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};

pub use attention::{ActivationUnit, AttentionInput, WeightNorm};
pub use din::{device, BaseModel, Din, ModelConfig, ModelKind, Network, Output, Pooling, DTYPE};
pub use embedding::{EmbeddingTable, Embeddings, Layout, Lookup, TableId, TouchedRows};
pub use layers::{Activation, Dice, Mlp};
pub use params::Params;

use crate::data::Batch;
use crate::error::{Error, Result};

/// A complete model: configuration, embedding tables, network weights, device.
#[derive(Clone)]
pub struct Model {
    pub config: ModelConfig,
    pub embeddings: Embeddings,
    pub params: Params,
    pub net: Network,
    pub device: Device,
    pub dtype: DType,
    /// Packed (fast, default) or padded (the formulas as written) history layout.
    pub layout: Layout,
}

impl Model {
    /// A freshly initialised model. `table_rows` = rows of the item, category and user tables
    /// (`IdMap::table_rows`, i.e. ids + padding + OOV).
    pub fn new(
        config: ModelConfig,
        table_rows: [usize; 3],
        seed: u64,
        device: &Device,
        dtype: DType,
    ) -> Result<Model> {
        config.validate().map_err(Error::Config)?;
        let params = Params::seeded(seed);
        let net = Network::new(&config, params.var_builder(dtype, device))?;
        let embeddings =
            Embeddings::random(table_rows, config.embed_dim, config.embed_init_std, seed);
        Ok(Model {
            config,
            embeddings,
            params,
            net,
            device: device.clone(),
            dtype,
            layout: Layout::Packed,
        })
    }

    /// A model from saved tensors (network weights by name, plus the three `embedding.*` tables).
    pub fn from_tensors(
        config: ModelConfig,
        mut tensors: BTreeMap<String, Tensor>,
        device: &Device,
        dtype: DType,
    ) -> Result<Model> {
        config.validate().map_err(Error::Config)?;
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
        let net = Network::new(&config, params.var_builder(dtype, device))
            .map_err(|e| Error::Config(format!("weights do not match the config: {e}")))?;
        if params.named().len() != n_saved {
            return Err(Error::Config(format!(
                "weights hold {n_saved} network tensors, the config builds {}",
                params.named().len()
            )));
        }
        let tables: [EmbeddingTable; 3] = tables
            .try_into()
            .map_err(|_| Error::Config("expected three embedding tables".into()))?;
        Ok(Model {
            config,
            embeddings: Embeddings { tables },
            params,
            net,
            device: device.clone(),
            dtype,
            layout: Layout::Packed,
        })
    }

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

    /// Embedded batch for inference.
    pub fn lookup(&self, batch: &Batch) -> Result<Lookup> {
        Ok(self
            .embeddings
            .lookup(batch, self.layout, self.dtype, &self.device)?)
    }

    /// Evaluation-mode forward pass (running statistics, no updates).
    pub fn forward(&self, batch: &Batch) -> Result<Output> {
        let x = self.lookup(batch)?;
        Ok(self.net.forward_t(&x, false)?)
    }

    /// Predicted CTRs of a batch.
    pub fn predict(&self, batch: &Batch) -> Result<Vec<f32>> {
        let ctr = self.forward(batch)?.ctr()?;
        Ok(ctr.to_dtype(DType::F32)?.to_vec1::<f32>()?)
    }

    /// Number of trainable scalars (network + embeddings).
    pub fn n_params(&self) -> usize {
        self.params.count()
            + self
                .embeddings
                .tables
                .iter()
                .map(|t| t.data.len())
                .sum::<usize>()
    }
}
