//! Resumable training state: everything a [`Trainer`] needs to continue exactly where it stopped.
//!
//! One safetensors file holds the model's current weights (`model.*`), the best epoch's weights
//! (`best.*`), the dense Adam moments (`adam.m.<i>`, `adam.v.<i>`) and the lazy-Adam moments of the
//! embedding tables (`sparse.m.<table>`, `sparse.v.<table>`); its metadata entry `din.state` holds
//! the step counters, early-stopping state and history as JSON. A single file written atomically
//! means a kill can never pair new weights with an old history.
//!
//! ```
//! use candle_core::Device;
//! use din::data::Batch;
//! use din::model::{Model, ModelConfig, DTYPE};
//! use din::train::{TrainConfig, Trainer};
//! let (_, ds) = din::synth::demo_dataset(20, 7)?;
//! let v = &ds.vocab;
//! let rows = v.table_rows();
//! let cfg = ModelConfig { embed_dim: 4, attention_dims: vec![8], mlp_dims: vec![8], ..Default::default() };
//! let new_model = |seed| Model::new(cfg.clone(), rows, seed, &Device::Cpu, DTYPE);
//! let (mut model, mut other) = (new_model(1)?, new_model(2)?);
//! let mut trainer = Trainer::new(&model, &ds.train, TrainConfig::default())?;
//! trainer.step(&mut model, &Batch::from_split(&ds.train, &[0, 1, 2, 3]))?;
//! let path = std::env::temp_dir().join(format!("din-state-doc-{}.safetensors", std::process::id()));
//! trainer.save_state(&model, &path, 1, false, serde_json::Value::Null)?;
//! assert_eq!(Trainer::read_state_info(&path)?.dense_step, 1);
//! // a model and trainer made afresh (another seed) continue exactly where this one stopped
//! let mut resumed = Trainer::new(&other, &ds.train, TrainConfig::default())?;
//! let info = resumed.load_state(&mut other, &path)?;
//! assert_eq!((info.epoch, resumed.steps_taken(), other.embeddings()), (1, 1, model.embeddings()));
//! std::fs::remove_file(&path).unwrap();
//! # Ok::<(), din::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{History, Snapshot, Trainer};
use crate::error::{Error, Result};
use crate::model::{EmbeddingTable, Embeddings, Model, TableId};

const META_KEY: &str = "din.state";

/// The JSON part of a training state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateInfo {
    /// Epochs completed.
    pub epoch: usize,
    /// Whether training has ended (all epochs run, or stopped early).
    pub finished: bool,
    /// Optimisation steps taken (Adam's bias correction continues from it).
    pub dense_step: u64,
    /// Epochs since the last improvement of the validation AUC (early stopping continues from it).
    pub bad_epochs: usize,
    /// The training history so far.
    pub history: History,
    /// Anything the caller wants to check on resume (the run's configuration, a data fingerprint).
    pub context: serde_json::Value,
}

fn snapshot_tensors(
    model: &Model,
    s: &Snapshot,
    prefix: &str,
    out: &mut BTreeMap<String, Tensor>,
) -> Result<()> {
    for ((name, _), t) in model.params.named().iter().zip(&s.dense) {
        out.insert(
            format!("{prefix}{name}"),
            t.to_dtype(DType::F32)?.to_device(&Device::Cpu)?,
        );
    }
    for t in TableId::ALL {
        out.insert(
            format!("{prefix}{}", t.name()),
            s.embeddings.table(t).to_tensor(&Device::Cpu)?,
        );
    }
    Ok(())
}

fn snapshot_from(
    model: &Model,
    map: &mut BTreeMap<String, Tensor>,
    prefix: &str,
) -> Result<Snapshot> {
    let mut take = |name: &str| {
        map.remove(&format!("{prefix}{name}"))
            .ok_or_else(|| Error::Config(format!("training state lacks `{prefix}{name}`")))
    };
    let mut dense = Vec::new();
    for (name, var) in model.params.named() {
        let t = take(&name)?;
        if t.shape() != var.shape() {
            return Err(Error::Config(format!(
                "training state `{prefix}{name}` has shape {:?}, the model {:?}",
                t.shape(),
                var.shape()
            )));
        }
        dense.push(t.to_dtype(var.dtype())?.to_device(var.device())?);
    }
    let mut tables = Vec::new();
    for id in TableId::ALL {
        let t = EmbeddingTable::from_tensor(&take(id.name())?)?;
        let have = model.embeddings.table(id);
        if (t.rows, t.dim) != (have.rows, have.dim) {
            return Err(Error::Config(format!(
                "training state `{prefix}{}` is {}×{}, the model's table {}×{}",
                id.name(),
                t.rows,
                t.dim,
                have.rows,
                have.dim
            )));
        }
        tables.push(t);
    }
    let tables: [EmbeddingTable; 3] = tables
        .try_into()
        .map_err(|_| Error::Internal("expected three tables".into()))?;
    Ok(Snapshot {
        dense,
        embeddings: Embeddings::from_tables(tables),
    })
}

/// Tensors of the best epoch's weights, with out-of-vocabulary rows filled (what a run saves).
pub fn best_tensors(trainer: &Trainer, model: &Model) -> Result<Option<BTreeMap<String, Tensor>>> {
    let Some(best) = &trainer.best else {
        return Ok(None);
    };
    let mut s = best.clone();
    s.embeddings.fill_oov_rows();
    let mut out = BTreeMap::new();
    snapshot_tensors(model, &s, "", &mut out)?;
    Ok(Some(out))
}

impl Trainer {
    /// Save the training state after `info.epoch` completed epochs to `path` (atomically).
    pub fn save_state(
        &self,
        model: &Model,
        path: &Path,
        epoch: usize,
        finished: bool,
        context: serde_json::Value,
    ) -> Result<()> {
        let mut map = BTreeMap::new();
        snapshot_tensors(model, &model.snapshot()?, "model.", &mut map)?;
        if let Some(b) = &self.best {
            snapshot_tensors(model, b, "best.", &mut map)?;
        }
        for (i, (m, v)) in self.dense.moments().into_iter().enumerate() {
            map.insert(
                format!("adam.m.{i}"),
                m.to_dtype(DType::F32)?.to_device(&Device::Cpu)?,
            );
            map.insert(
                format!("adam.v.{i}"),
                v.to_dtype(DType::F32)?.to_device(&Device::Cpu)?,
            );
        }
        for (k, id) in TableId::ALL.iter().enumerate() {
            let n = self.sparse.m[k].len();
            map.insert(
                format!("sparse.m.{}", id.name()),
                Tensor::from_slice(&self.sparse.m[k], n, &Device::Cpu)?,
            );
            map.insert(
                format!("sparse.v.{}", id.name()),
                Tensor::from_slice(&self.sparse.v[k], n, &Device::Cpu)?,
            );
        }
        let info = StateInfo {
            epoch,
            finished,
            dense_step: self.dense.step_count(),
            bad_epochs: self.bad_epochs,
            history: self.history.clone(),
            context,
        };
        let meta = HashMap::from([(META_KEY.to_string(), serde_json::to_string(&info)?)]);
        crate::io::write_safetensors(path, &map, Some(meta))
    }

    /// Read only the JSON part of a saved state (to check it before building anything).
    pub fn read_state_info(path: &Path) -> Result<StateInfo> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| {
            Error::checkpoint(path, format!("truncated or corrupted training state ({e})"))
        })?;
        let json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(META_KEY))
            .ok_or_else(|| {
                Error::checkpoint(path, "not a din training state (no `din.state` metadata)")
            })?;
        serde_json::from_str(json)
            .map_err(|e| Error::checkpoint(path, format!("training state metadata: {e}")))
    }

    /// Restore a state saved by [`Trainer::save_state`] into `self` and `model` (which must have been
    /// built with the same configuration). Returns the state's JSON part.
    pub fn load_state(&mut self, model: &mut Model, path: &Path) -> Result<StateInfo> {
        let info = Self::read_state_info(path)?;
        let mut map = crate::io::read_safetensors(path, &Device::Cpu, "training state")?;
        let bad = |e: Error| Error::checkpoint(path, e.to_string());
        let current = snapshot_from(model, &mut map, "model.").map_err(bad)?;
        let best = if map.keys().any(|k| k.starts_with("best.")) {
            Some(snapshot_from(model, &mut map, "best.").map_err(bad)?)
        } else {
            None
        };
        let n = self.dense.moments().len();
        let mut moments = Vec::with_capacity(n);
        for i in 0..n {
            let m = map.remove(&format!("adam.m.{i}"));
            let v = map.remove(&format!("adam.v.{i}"));
            match (m, v) {
                (Some(m), Some(v)) => moments.push((m, v)),
                _ => {
                    return Err(Error::checkpoint(
                        path,
                        format!("training state lacks Adam moments of parameter {i}"),
                    ))
                }
            }
        }
        self.dense
            .set_moments(moments, info.dense_step)
            .map_err(bad)?;
        for (k, id) in TableId::ALL.iter().enumerate() {
            for (which, dst) in [("m", &mut self.sparse.m[k]), ("v", &mut self.sparse.v[k])] {
                let t = map
                    .remove(&format!("sparse.{which}.{}", id.name()))
                    .ok_or_else(|| {
                        Error::checkpoint(
                            path,
                            format!("training state lacks sparse.{which}.{}", id.name()),
                        )
                    })?;
                let v = t
                    .to_vec1::<f32>()
                    .map_err(|e| Error::checkpoint(path, e.to_string()))?;
                if v.len() != dst.len() {
                    return Err(Error::checkpoint(
                        path,
                        format!(
                            "sparse.{which}.{} has {} values, expected {}",
                            id.name(),
                            v.len(),
                            dst.len()
                        ),
                    ));
                }
                *dst = v;
            }
        }
        model.restore(&current)?;
        self.best = best;
        self.bad_epochs = info.bad_epochs;
        self.history = info.history.clone();
        Ok(info)
    }
}
