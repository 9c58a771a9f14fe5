//! Run directories: everything needed to use a trained model again.
//!
//! ```text
//! RUN_DIR/
//!   config.json        model, training and split configuration (written last)
//!   vocab.json         raw id ↔ index maps and item categories
//!   model.safetensors  network weights, running statistics, embedding tables
//!   history.json       per-step losses and per-epoch metrics
//!   metrics.json       best validation and test metrics, throughput
//! ```
//!
//! Every file is written atomically (temporary file, fsync, rename); `config.json` is written last,
//! so a directory without it is an unfinished save and does not load. Loading gives bit-identical
//! predictions.
//!
//! ```
//! use candle_core::Device;
//! use din::checkpoint::{self, RunConfig};
//! use din::model::{Model, ModelConfig};
//! let (_world, ds) = din::synth::demo_dataset(40, 3)?;
//! let model = Model::for_vocab(&ds.vocab, ModelConfig::default(), 3)?;
//! let dir = std::env::temp_dir().join(format!("din-checkpoint-doc-{}", std::process::id()));
//! let config = RunConfig {
//!     format: checkpoint::FORMAT,
//!     model: model.config().clone(),
//!     train: din::train::TrainConfig::default(),
//!     split: din::data::SplitConfig::default(),
//!     data: "demo".into(),
//! };
//! checkpoint::save(&dir, &model, Some(&ds.vocab), &config, None, None)?;
//! let run = checkpoint::load(&dir, &Device::Cpu)?;
//! let before = din::train::predict_split(&model, &ds.test, 4096)?;
//! let after = din::train::predict_split(&run.model, &ds.test, 4096)?;
//! assert_eq!(before, after); // bit-identical predictions
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), din::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::{SplitConfig, Vocab};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::model::{Model, ModelConfig};
use crate::train::{History, TrainConfig};

/// Version of the run-directory format.
pub const FORMAT: u32 = 1;

/// `config.json` of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Run-directory format version; [`load`] accepts only [`FORMAT`].
    pub format: u32,
    /// The network's configuration (what [`Model::from_tensors`] needs to rebuild it).
    pub model: ModelConfig,
    /// The training configuration the run used.
    pub train: TrainConfig,
    /// The split configuration of the training data.
    pub split: SplitConfig,
    /// Where the training data came from (a CSV or a split directory).
    pub data: String,
}

/// `metrics.json` of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Validation metrics of the best epoch (the weights kept).
    pub val: Metrics,
    /// Test metrics of the kept weights; `None` in the metrics saved after each epoch, before
    /// training has finished.
    pub test: Option<Metrics>,
    /// Validation AUC of the best epoch (NaN when it is undefined, e.g. no validation rows).
    #[serde(deserialize_with = "crate::metrics::nan_if_null")]
    pub best_val_auc: f64,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs trained so far (fewer than configured after early stopping).
    pub epochs_run: usize,
    /// True when training stopped early for lack of validation improvement.
    pub stopped_early: bool,
    /// Training rows used per epoch (after any `max_train_rows` subsampling).
    pub train_rows: usize,
    /// Seconds spent in optimisation steps over all epochs (evaluation excluded).
    pub train_s: f64,
    /// Training samples per second over all epochs (evaluation excluded).
    pub train_samples_per_s: f64,
}

/// A loaded run.
pub struct Run {
    /// The run directory it was loaded from.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub config: RunConfig,
    /// Its `vocab.json`: the id maps the model's embedding tables are indexed by.
    pub vocab: Vocab,
    /// The network with the weights of `model.safetensors`, on the requested device.
    pub model: Model,
}

fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// Serialise a model's tensors to safetensors bytes.
pub fn model_bytes(model: &Model) -> Result<Vec<u8>> {
    crate::io::safetensors_bytes(&model.tensors()?, None)
}

/// Save a run (see the module docs). `vocab` may be `None` when `vocab.json` is already there.
pub fn save(
    dir: &Path,
    model: &Model,
    vocab: Option<&Vocab>,
    config: &RunConfig,
    history: Option<&History>,
    metrics: Option<&RunMetrics>,
) -> Result<()> {
    save_tensors(dir, &model.tensors()?, vocab, config, history, metrics)
}

/// [`save`] from the tensors of [`Model::tensors`] (e.g. of a snapshot).
pub fn save_tensors(
    dir: &Path,
    tensors: &BTreeMap<String, Tensor>,
    vocab: Option<&Vocab>,
    config: &RunConfig,
    history: Option<&History>,
    metrics: Option<&RunMetrics>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if let Some(v) = vocab {
        crate::io::write_json(&file(dir, "vocab.json"), v)?;
    } else if !file(dir, "vocab.json").is_file() {
        return Err(Error::checkpoint(
            dir,
            "vocab.json is missing and no vocabulary was given",
        ));
    }
    crate::io::write_safetensors(&file(dir, "model.safetensors"), tensors, None)?;
    if let Some(h) = history {
        crate::io::write_json(&file(dir, "history.json"), h)?;
    }
    if let Some(m) = metrics {
        crate::io::write_json(&file(dir, "metrics.json"), m)?;
    }
    crate::io::write_json(&file(dir, "config.json"), config)?;
    Ok(())
}

/// Read the weights of a run as tensors.
pub fn read_weights(path: &Path, device: &Device) -> Result<BTreeMap<String, Tensor>> {
    crate::io::read_safetensors(path, device, "weights file")
}

/// Load a run directory onto `device`.
pub fn load(dir: &Path, device: &Device) -> Result<Run> {
    if !dir.is_dir() {
        return Err(Error::checkpoint(
            dir,
            "not a run directory (it does not exist)",
        ));
    }
    for name in ["config.json", "vocab.json", "model.safetensors"] {
        if !file(dir, name).is_file() {
            return Err(Error::checkpoint(
                dir,
                format!("missing {name} (an unfinished or foreign run directory)"),
            ));
        }
    }
    let config: RunConfig = crate::io::read_json(&file(dir, "config.json"))
        .map_err(|e| Error::checkpoint(dir, format!("config.json: {e}")))?;
    if config.format != FORMAT {
        return Err(Error::checkpoint(
            dir,
            format!("run format {} (this version reads {FORMAT})", config.format),
        ));
    }
    let vocab: Vocab = crate::io::read_json(&file(dir, "vocab.json"))
        .map_err(|e| Error::checkpoint(dir, format!("vocab.json: {e}")))?;
    let weights = read_weights(&file(dir, "model.safetensors"), device)?;
    let model =
        Model::from_tensors(config.model.clone(), weights, device, DType::F32).map_err(|e| {
            Error::checkpoint(
                dir,
                format!("model.safetensors does not match config.json: {e}"),
            )
        })?;
    let rows = vocab.table_rows();
    let have = model.embeddings.tables().each_ref().map(|t| t.rows);
    if have != rows {
        return Err(Error::checkpoint(
            dir,
            format!("embedding tables have {have:?} rows but vocab.json needs {rows:?} (item, cate, user)"),
        ));
    }
    Ok(Run {
        dir: dir.to_path_buf(),
        config,
        vocab,
        model,
    })
}

/// Read `metrics.json` and `history.json` of a run, when present.
pub fn read_reports(dir: &Path) -> Result<(Option<RunMetrics>, Option<History>)> {
    let m = file(dir, "metrics.json");
    let h = file(dir, "history.json");
    Ok((
        if m.is_file() {
            Some(crate::io::read_json(&m)?)
        } else {
            None
        },
        if h.is_file() {
            Some(crate::io::read_json(&h)?)
        } else {
            None
        },
    ))
}
