//! Training into a run directory, as `din train` does: a loadable checkpoint after every epoch,
//! and `resume` from the last completed epoch.
//!
//! After each epoch the run directory holds a run that [`checkpoint::load`] accepts (the best
//! weights so far, see [`crate::checkpoint`]) and `train_state.safetensors`, the full training state
//! ([`crate::train::state`]). A run killed at any moment — even during a save, since every file is
//! replaced atomically — resumes from its last completed epoch with the same data order and ends
//! with the same metrics as an uninterrupted run with the same seed and thread count.
//!
//! If the loss becomes NaN or infinite, training stops with an error naming the step; the files of
//! the last completed epoch are left untouched.
//!
//! ```
//! let (_w, a) = din::synth::demo_dataset(40, 1)?;
//! let (_w, b) = din::synth::demo_dataset(40, 2)?;
//! // a run resumes only on the rows it started with
//! assert_eq!(din::run::fingerprint(&a), din::run::fingerprint(&a.clone()));
//! assert_ne!(din::run::fingerprint(&a), din::run::fingerprint(&b));
//! # Ok::<(), din::Error>(())
//! ```

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::Serialize;

use crate::checkpoint::{self, RunConfig, RunMetrics};
use crate::data::{Dataset, Split};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::model::{Model, DTYPE};
use crate::train::state::{best_tensors, StateInfo};
use crate::train::{predict_split, History, Progress, Trainer};

/// File name of the resumable training state inside a run directory.
pub const STATE_FILE: &str = "train_state.safetensors";

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue the run in the directory from its last completed epoch.
    pub resume: bool,
    /// A fault injected for tests ([`crate::train::Fault::nan_at_step`]); none by default.
    #[doc(hidden)]
    pub fault: crate::train::Fault,
    /// Bytes to keep free on the run directory's disk beyond what the checkpoints need: training
    /// is refused before it starts when the disk has less than both together (default 0).
    pub keep_free_bytes: u64,
}

/// The outcome of [`train_in_dir`].
pub struct TrainedRun {
    /// The run directory (checkpoint, `config.json`, `history.json`, `metrics.json`).
    pub dir: PathBuf,
    /// The trained model, the best epoch's weights restored.
    pub model: Model,
    /// The training history.
    pub history: History,
    /// What `metrics.json` holds: the best validation AUC and the test metrics.
    pub metrics: RunMetrics,
    /// The completed epoch training resumed after, when resuming.
    pub resumed_from: Option<usize>,
}

/// A fingerprint of the rows a run trains and validates on (changes when the data does).
pub fn fingerprint(ds: &Dataset) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    };
    for s in [&ds.train, &ds.val, &ds.test] {
        eat(s.len() as u64);
        for r in 0..s.len() {
            eat(((s.user[r] as u64) << 32) | s.target_item[r] as u64);
            eat(((s.hist_len[r] as u64) << 32) | s.label[r].to_bits() as u64);
        }
    }
    format!("{h:016x}")
}

#[derive(Serialize)]
struct Context<'a> {
    config: &'a RunConfig,
    data: String,
}

fn free_space_check(dir: &Path, need: u64) -> Result<()> {
    match crate::io::free_bytes(dir) {
        Some(free) if free < need => Err(Error::io(
            dir,
            std::io::Error::other(format!(
                "only {} MB free, checkpoints of this model (and the space asked to keep free) \
                 need about {} MB: free some space or choose another output directory (--out)",
                free >> 20,
                need.div_ceil(1 << 20)
            )),
        )),
        _ => Ok(()),
    }
}

fn describe_mismatch(saved: &serde_json::Value, now: &RunConfig) -> Result<Option<String>> {
    let now = serde_json::to_value(now)?;
    let Some(saved) = saved.get("config") else {
        return Ok(Some("the saved state has no configuration".into()));
    };
    // `data` (the path) may change when files move; the fingerprint below checks the rows
    for part in ["format", "model", "train", "split"] {
        if saved.get(part) != now.get(part) {
            return Ok(Some(format!("`{part}` differs from the saved run's")));
        }
    }
    Ok(None)
}

/// Train a model on `ds` into `dir` (see the module docs). With `opts.resume`, `config` must be
/// the run's own configuration (read it with [`read_run_config`]).
pub fn train_in_dir(
    dir: &Path,
    ds: &Dataset,
    config: &RunConfig,
    device: &Device,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainedRun> {
    config.model.validate()?;
    config.train.validate()?;
    let state_path = dir.join(STATE_FILE);
    if !opts.resume && (dir.join("config.json").exists() || state_path.exists()) {
        return Err(Error::Config(format!(
            "{} already holds a run; resume it or choose another output directory",
            dir.display()
        )));
    }
    crate::io::ensure_writable_dir(dir)?;
    let rows = ds.vocab.table_rows();
    let mut model = Model::new(config.model.clone(), rows, config.train.seed, device, DTYPE)?;
    // state (current, best, two moments) + the run's weights + one temporary copy
    free_space_check(
        dir,
        (model.n_params() as u64 * 4 * 7).saturating_add(opts.keep_free_bytes),
    )?;
    let mut trainer = Trainer::new(&model, &ds.train, config.train.clone())?.with_fault(opts.fault);
    let context = serde_json::to_value(Context {
        config,
        data: fingerprint(ds),
    })?;
    let (start, finished, resumed_from) = if opts.resume {
        let info = resume_state(dir, &mut trainer, &mut model, config, &context)?;
        (info.epoch + 1, info.finished, Some(info.epoch))
    } else {
        crate::io::write_json(&dir.join("vocab.json"), &ds.vocab)?;
        (1, false, None)
    };
    if !finished {
        let epochs = start..=config.train.epochs;
        run_epochs(
            dir,
            ds,
            config,
            &mut trainer,
            &mut model,
            epochs,
            &context,
            progress,
        )?;
    }
    trainer.restore_best(&mut model)?;
    model.fill_oov_rows();
    let probs = predict_split(&model, &ds.test, config.train.eval_batch_size)?;
    let test = Metrics::compute(&probs, &ds.test.label, &ds.test.user);
    let metrics = run_metrics(trainer.history(), Some(test));
    checkpoint::save(
        dir,
        &model,
        None,
        config,
        Some(trainer.history()),
        Some(&metrics),
    )?;
    Ok(TrainedRun {
        dir: dir.to_path_buf(),
        model,
        history: trainer.into_history(),
        metrics,
        resumed_from,
    })
}

/// Load the saved training state of the run in `dir` into `trainer` and `model`, after checking
/// that it was saved with this configuration (`context`) and these rows.
fn resume_state(
    dir: &Path,
    trainer: &mut Trainer,
    model: &mut Model,
    config: &RunConfig,
    context: &serde_json::Value,
) -> Result<StateInfo> {
    let state_path = dir.join(STATE_FILE);
    if !state_path.is_file() {
        return Err(Error::checkpoint(
            dir,
            format!("nothing to resume: no {STATE_FILE} (the run never completed an epoch)"),
        ));
    }
    let info = Trainer::read_state_info(&state_path)?;
    if let Some(why) = describe_mismatch(&info.context, config)? {
        return Err(Error::checkpoint(dir, format!("cannot resume: {why}")));
    }
    if info.context.get("data") != context.get("data") {
        return Err(Error::checkpoint(
            dir,
            "cannot resume: the data differ from the rows this run was trained on",
        ));
    }
    trainer.load_state(model, &state_path)
}

/// The epochs `epochs`, each followed by the saved training state and, when it changed, the best
/// weights so far; stops early when the trainer says so. An error names the epoch and what was
/// kept.
#[allow(clippy::too_many_arguments)]
fn run_epochs(
    dir: &Path,
    ds: &Dataset,
    config: &RunConfig,
    trainer: &mut Trainer,
    model: &mut Model,
    epochs: std::ops::RangeInclusive<usize>,
    context: &serde_json::Value,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let state_path = dir.join(STATE_FILE);
    let train_rows = trainer.train_rows(&ds.train);
    for epoch in epochs {
        let go_on = trainer
            .epoch(model, &train_rows, &ds.val, epoch, progress)
            .map_err(|e| {
                let kept = if epoch > 1 {
                    format!(
                        "the checkpoint of epoch {} in {} is kept",
                        epoch - 1,
                        dir.display()
                    )
                } else {
                    "no epoch had completed, nothing was saved".to_string()
                };
                Error::Training(format!("{e} (epoch {epoch}); {kept}"))
            })?;
        let done = !go_on || epoch == config.train.epochs;
        trainer.save_state(model, &state_path, epoch, done, context.clone())?;
        if let Some(best) = best_tensors(trainer, model)? {
            let metrics = run_metrics(trainer.history(), None);
            checkpoint::save_tensors(
                dir,
                &best,
                None,
                config,
                Some(trainer.history()),
                Some(&metrics),
            )?;
        }
        if !go_on {
            break;
        }
    }
    Ok(())
}

fn run_metrics(h: &History, test: Option<Metrics>) -> RunMetrics {
    let val = h
        .epochs
        .iter()
        .find(|e| e.epoch == h.best_epoch)
        .map(|e| e.val)
        .unwrap_or_default();
    RunMetrics {
        val,
        test,
        best_val_auc: h.best_val_auc,
        best_epoch: h.best_epoch,
        epochs_run: h.epochs_run(),
        stopped_early: h.stopped_early,
        train_rows: h.train_rows,
        train_s: h.train_seconds,
        train_samples_per_s: h.samples_per_s(),
    }
}

/// The configuration of the run in `dir` (from its training state, or its `config.json`).
pub fn read_run_config(dir: &Path) -> Result<RunConfig> {
    let state = dir.join(STATE_FILE);
    if state.is_file() {
        let info = Trainer::read_state_info(&state)?;
        let cfg =
            info.context.get("config").cloned().ok_or_else(|| {
                Error::checkpoint(&state, "the training state has no configuration")
            })?;
        return serde_json::from_value(cfg)
            .map_err(|e| Error::checkpoint(&state, format!("configuration: {e}")));
    }
    let cfg = dir.join("config.json");
    if cfg.is_file() {
        return crate::io::read_json(&cfg);
    }
    Err(Error::checkpoint(
        dir,
        "not a run directory (no config.json, no training state)",
    ))
}

/// Evaluate a trained model on a split encoded with `split_vocab` (re-encoded to the model's).
pub fn evaluate_on(
    model: &Model,
    model_vocab: &crate::data::Vocab,
    split: &Split,
    split_vocab: &crate::data::Vocab,
    batch_size: usize,
) -> Result<Metrics> {
    let s = if split_vocab == model_vocab {
        split.clone()
    } else {
        split.remap(split_vocab, model_vocab)
    };
    let probs = predict_split(model, &s, batch_size)?;
    Ok(Metrics::compute(&probs, &s.label, &s.user))
}

/// [`evaluate_on`], also returning every row's score with the split's raw ids
/// ([`crate::data::Scores`], what `din eval --predictions OUT.parquet` writes). The metrics are
/// computed from exactly these scores.
pub fn score_on(
    model: &Model,
    model_vocab: &crate::data::Vocab,
    split: &Split,
    split_vocab: &crate::data::Vocab,
    batch_size: usize,
) -> Result<(Metrics, crate::data::Scores)> {
    let s = if split_vocab == model_vocab {
        split.clone()
    } else {
        split.remap(split_vocab, model_vocab)
    };
    let probs = predict_split(model, &s, batch_size)?;
    let metrics = Metrics::compute(&probs, &s.label, &s.user);
    // raw ids from the split's own vocabulary: an id unseen by the model keeps its name here
    let scores = crate::data::Scores::of_split(split, split_vocab, probs)?;
    Ok((metrics, scores))
}
