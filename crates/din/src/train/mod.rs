//! Training and evaluation (tutorial section 4, `CTRTrainer`): BCE loss, Adam/AdamW, mini-batch
//! aware regularisation, early stopping on validation AUC with the best weights restored, and a
//! training history for plots.
//!
//! ```
//! use din::model::{Model, ModelConfig};
//! use din::train::{fit, predict_split, TrainConfig};
//! let (_world, ds) = din::synth::demo_dataset(60, 7)?;
//! let mut model = Model::for_vocab(&ds.vocab, ModelConfig::default(), 7)?;
//! let cfg = TrainConfig { epochs: 1, ..TrainConfig::default() };
//! let history = fit(&mut model, &ds.train, &ds.val, &cfg, &mut |_| {})?;
//! assert_eq!(history.epochs_run(), 1);
//! assert!(history.epochs[0].train_loss.is_finite());
//! let ctr = predict_split(&model, &ds.test, 4096)?;
//! assert_eq!(ctr.len(), ds.test.len());
//! # Ok::<(), din::Error>(())
//! ```

mod eval;
pub mod optim;
pub mod state;

use std::time::Instant;

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

pub use eval::{evaluate, predict_split};
pub use optim::{AdamConfig, DenseAdam, OptimizerKind, SparseAdam};

use crate::data::{plan_batches, Batch, BatchOrder, Split};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::model::{Embeddings, Model, TableId};
pub use crate::model::{Snapshot, Trainable};

/// Largest batch size for which [`TrainConfig::bucket_by_length`] applies.
pub const BUCKET_MAX_BATCH: usize = 512;

/// Training hyper-parameters. Defaults follow the tutorial (lr 1e-3, weight decay 1e-3, patience 4)
/// except that the decay is decoupled (AdamW): with torch-rechub's coupled `Adam(weight_decay=1e-3)`
/// (`OptimizerKind::Adam`), Adam's normalised steps let the decay term dominate weights whose
/// gradients are small, and a whole activation unit can decay to zero and stay there (seen on the
/// demo world with softmax weights: every weight of the item unit ≈ 1e-21 after two epochs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// At most this many passes over the training rows (fewer when early stopping ends it).
    pub epochs: usize,
    /// Training rows per optimisation step.
    pub batch_size: usize,
    /// Adam's learning rate, for the network and the embedding rows alike.
    pub lr: f64,
    /// Weight decay: decoupled (AdamW) or added to the gradient (Adam), as `optimizer` says.
    pub weight_decay: f64,
    /// Adam or AdamW (see above for why AdamW is the default).
    pub optimizer: OptimizerKind,
    /// λ of mini-batch aware regularisation (0 = off).
    pub mba_lambda: f64,
    /// Stop after this many epochs without a better validation AUC (0 = never stop early).
    pub patience: usize,
    /// Seed of the weights' initialisation, of the batch order and of the training subset.
    pub seed: u64,
    /// Batch rows of similar history length together (less padding, same samples). Off by
    /// default: batches of alike rows learn worse (Amazon-scale world, one epoch on 100k rows at
    /// batch 256: test AUC 0.733 bucketed vs 0.742 shuffled), and at large batches it gathers the
    /// longest histories into a few huge batches (batch 4096: peak memory 2.8 GB vs 1.3 GB, AUC
    /// 0.524 vs 0.651 after 90k rows). Applied only to batches of up to [`BUCKET_MAX_BATCH`] rows.
    pub bucket_by_length: bool,
    /// Rows per forward pass when scoring validation and test rows (memory, not results).
    pub eval_batch_size: usize,
    /// Train on a fixed, seeded subset of this many training rows (for quick runs and benchmarks).
    pub max_train_rows: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 5,
            batch_size: 256,
            lr: 1e-3,
            weight_decay: 1e-3,
            optimizer: OptimizerKind::AdamW,
            mba_lambda: 0.0,
            patience: 4,
            seed: 2026,
            bucket_by_length: false,
            eval_batch_size: 4096,
            max_train_rows: None,
        }
    }
}

impl TrainConfig {
    /// Check the configuration; the message names the bad field.
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(Error::Config)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.epochs == 0 {
            return Err("epochs must be at least 1".into());
        }
        if self.batch_size == 0 || self.eval_batch_size == 0 {
            return Err("batch_size must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!("lr must be positive, got {}", self.lr));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(format!(
                "weight_decay must be ≥ 0, got {}",
                self.weight_decay
            ));
        }
        if !(self.mba_lambda.is_finite() && self.mba_lambda >= 0.0) {
            return Err(format!("mba_lambda must be ≥ 0, got {}", self.mba_lambda));
        }
        Ok(())
    }

    fn adam(&self) -> AdamConfig {
        AdamConfig {
            kind: self.optimizer,
            lr: self.lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: self.weight_decay,
        }
    }
}

/// One optimisation step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The 1-based epoch it belongs to.
    pub epoch: usize,
    /// The 1-based global step (counted across epochs).
    pub step: u64,
    /// The batch's mean training loss (binary cross-entropy).
    pub loss: f64,
}

/// One epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's rows.
    pub train_loss: f64,
    /// AUC, GAUC and logloss on the validation rows after the epoch (NaN without any).
    pub val: Metrics,
    /// Seconds in the epoch's optimisation steps (evaluation excluded).
    pub train_seconds: f64,
    /// Training rows per second over those steps.
    pub samples_per_s: f64,
}

/// What happened during training (serialisable, for plots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Every optimisation step, in order.
    pub steps: Vec<StepRecord>,
    /// Every completed epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    /// The validation AUC of that epoch (NaN without validation rows).
    #[serde(deserialize_with = "crate::metrics::nan_if_null")]
    pub best_val_auc: f64,
    /// Whether early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// Training rows per epoch (after `max_train_rows`).
    pub train_rows: usize,
    /// Seconds spent in optimisation steps (evaluation excluded).
    pub train_seconds: f64,
}

impl History {
    /// How many epochs were completed.
    pub fn epochs_run(&self) -> usize {
        self.epochs.len()
    }

    /// Training samples per second over all epochs (evaluation excluded).
    pub fn samples_per_s(&self) -> f64 {
        if self.train_seconds > 0.0 {
            (self.train_rows * self.epochs.len()) as f64 / self.train_seconds
        } else {
            0.0
        }
    }

    /// The per-step training loss as a moving average over the last `window` steps (fewer at the
    /// start), every `every`-th step: `(step, mean loss)` points for a loss curve.
    ///
    /// ```
    /// use din::train::{History, StepRecord};
    /// let steps = [1.0, 3.0, 5.0, 7.0].iter().enumerate()
    ///     .map(|(i, &loss)| StepRecord { step: i as u64 + 1, epoch: 1, loss }).collect();
    /// let h = History { steps, ..Default::default() };
    /// // window 2: step 1 alone, then (1+3)/2, (3+5)/2, (5+7)/2
    /// assert_eq!(h.smoothed_loss(2, 1), [(1.0, 1.0), (2.0, 2.0), (3.0, 4.0), (4.0, 6.0)]);
    /// assert_eq!(h.smoothed_loss(2, 2), [(1.0, 1.0), (3.0, 4.0)]);
    /// ```
    pub fn smoothed_loss(&self, window: usize, every: usize) -> Vec<(f64, f64)> {
        let window = window.max(1);
        let mut sum = 0.0;
        let mut out = Vec::with_capacity(self.steps.len() / every.max(1) + 1);
        for (i, s) in self.steps.iter().enumerate() {
            sum += s.loss;
            if i >= window {
                sum -= self.steps[i - window].loss;
            }
            if i % every.max(1) == 0 {
                out.push((s.step as f64, sum / (i + 1).min(window) as f64));
            }
        }
        out
    }
}

/// `epoch 2: train loss 0.3863  val AUC 0.9329  GAUC 0.9350  logloss 0.3225  (2000 rows)  8779
/// samples/s` (no `val` part when the split has no validation rows).
impl std::fmt::Display for EpochRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "epoch {}: train loss {:.4}", self.epoch, self.train_loss)?;
        if self.val.rows > 0 {
            write!(f, "  val {}", self.val)?;
        }
        write!(f, "  {:.0} samples/s", self.samples_per_s)
    }
}

/// One line per epoch, then which epoch's weights were kept and why.
///
/// ```
/// use din::metrics::Metrics;
/// use din::train::{EpochRecord, History};
/// let val = |auc| Metrics { auc, gauc: auc, logloss: 0.5, rows: 10 };
/// let rec = |epoch, auc| EpochRecord { epoch, train_loss: 0.5, val: val(auc), train_seconds: 1.0,
///     samples_per_s: 100.0 };
/// let h = History { epochs: vec![rec(1, 0.8), rec(2, 0.7)], best_epoch: 1, best_val_auc: 0.8,
///     stopped_early: true, train_rows: 100, train_seconds: 2.0, ..Default::default() };
/// let text = h.to_string();
/// assert!(text.starts_with("epoch 1: train loss 0.5000  val AUC 0.8000"));
/// assert!(text.ends_with("kept epoch 1 of 2 (best val AUC 0.8000), stopped early; 100 samples/s"));
/// ```
impl std::fmt::Display for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.epochs {
            writeln!(f, "{e}")?;
        }
        write!(f, "kept epoch {} of {}", self.best_epoch, self.epochs_run())?;
        if self.best_val_auc.is_nan() {
            write!(f, " (no validation rows: the last)")?;
        } else {
            write!(f, " (best val AUC {:.4})", self.best_val_auc)?;
        }
        if self.stopped_early {
            write!(f, ", stopped early")?;
        }
        write!(f, "; {:.0} samples/s", self.samples_per_s())
    }
}

/// Progress events for callers that want to show progress (the library itself prints nothing).
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// An epoch begins.
    EpochStart {
        /// The 1-based epoch.
        epoch: usize,
        /// How many batches (steps) it has.
        batches: usize,
    },
    /// A step has been taken.
    Step {
        /// The 1-based epoch.
        epoch: usize,
        /// The 1-based batch within the epoch.
        batch: usize,
        /// The batch's training loss.
        loss: f64,
    },
    /// The epoch's steps are done; the validation rows are being scored.
    Evaluating {
        /// The 1-based epoch.
        epoch: usize,
    },
    /// The epoch is done, with its record.
    EpochEnd(EpochRecord),
}

/// Binary cross-entropy on logits, averaged: `max(z,0) − z·y + log(1 + e^{−|z|})`.
pub fn bce_with_logits(logit: &Tensor, label: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = logit.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    (logit.relu()? - (logit * label)?)?
        .add(&softplus)?
        .mean_all()
}

/// How often each embedding row occurs in training samples (for mini-batch aware regularisation).
pub fn row_frequencies(split: &Split, emb: &Embeddings) -> [Vec<u32>; 3] {
    let mut f = TableId::ALL.map(|t| vec![0u32; emb.table(t).rows]);
    let bump = |v: &mut Vec<u32>, i: u32| {
        if let Some(x) = v.get_mut(i as usize) {
            *x += 1;
        }
    };
    for r in 0..split.len() {
        let (hi, hc) = split.history(r);
        bump(&mut f[0], split.target_item[r]);
        hi.iter().for_each(|&i| bump(&mut f[0], i));
        bump(&mut f[1], split.target_cate[r]);
        hc.iter().for_each(|&c| bump(&mut f[1], c));
        bump(&mut f[2], split.user[r]);
    }
    f
}

/// The training loop state, so that a run can be stepped, checkpointed and resumed. Its state is
/// read through [`Trainer::config`], [`Trainer::history`] and [`Trainer::optimisers_mut`]; it
/// changes only by stepping, [`Trainer::epoch`] and resuming ([`crate::train::state`]).
pub struct Trainer {
    config: TrainConfig,
    dense: DenseAdam,
    sparse: SparseAdam,
    history: History,
    best: Option<Snapshot>,
    bad_epochs: usize,
    fault: Fault,
}

/// A fault injected into training, for the tests of what a run does when training breaks (built
/// only by [`Fault::nan_at_step`]; the default injects nothing).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fault {
    nan_at_step: Option<u64>,
}

impl Fault {
    /// The loss of this (1-based) step is replaced by NaN.
    #[doc(hidden)]
    pub fn nan_at_step(step: u64) -> Fault {
        Fault {
            nan_at_step: Some(step),
        }
    }
}

impl Trainer {
    /// Prepare to train `model` on `train` rows.
    pub fn new<N: Trainable>(
        model: &Model<N>,
        train: &Split,
        config: TrainConfig,
    ) -> Result<Trainer> {
        config.validate()?;
        let vars = model.params.named().into_iter().map(|(_, v)| v).collect();
        let freq = row_frequencies(train, &model.embeddings);
        Ok(Trainer {
            dense: DenseAdam::new(vars, config.adam())?,
            sparse: SparseAdam::new(&model.embeddings, config.adam(), config.mba_lambda, freq),
            history: History::default(),
            best: None,
            bad_epochs: 0,
            fault: Fault::default(),
            config,
        })
    }

    /// The same trainer with `fault` injected (for tests).
    #[doc(hidden)]
    pub fn with_fault(self, fault: Fault) -> Trainer {
        Trainer { fault, ..self }
    }

    /// Its configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// What training has recorded so far: the loss of every step, the metrics of every epoch,
    /// the best epoch.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// How many optimisation steps it has taken.
    pub fn steps_taken(&self) -> u64 {
        self.dense.step_count()
    }

    /// [`Trainer::history`], taken out of the trainer.
    pub fn into_history(self) -> History {
        self.history
    }

    /// The optimisers of the dense weights and of the embedding rows, for callers that run the
    /// parts of a step themselves (a profile of the step: `examples/bench.rs`). [`Trainer::step`]
    /// is the whole step.
    pub fn optimisers_mut(&mut self) -> (&mut DenseAdam, &mut SparseAdam) {
        (&mut self.dense, &mut self.sparse)
    }

    /// The training rows actually used (all, or a fixed seeded subset).
    pub fn train_rows(&self, train: &Split) -> Split {
        match self.config.max_train_rows {
            Some(n) if n < train.len() => {
                let mut rows: Vec<usize> = (0..train.len()).collect();
                crate::rng::Rng::stream(self.config.seed, 0x5AB5E7).shuffle(&mut rows);
                rows.truncate(n);
                rows.sort_unstable();
                train.select(&rows)
            }
            _ => train.clone(),
        }
    }

    /// One optimisation step on a batch; returns the loss.
    ///
    /// The step runs as a task on rayon's pool (the calling thread waits): the kernels inside it
    /// hand dozens of parallel jobs to the pool per step, and from a pool thread each costs a
    /// push to its queue instead of a wake-up of the pool and a sleep of the caller. Training at
    /// batch 256 ran 1.23× faster so on a 2-core Xeon (`din train`, three alternating pairs:
    /// 13,528 vs 11,011 samples/s); results are bit-identical (reductions add their parts in a
    /// fixed order, see `din_kernels::par::in_order`).
    pub fn step<N: Trainable>(&mut self, model: &mut Model<N>, batch: &Batch) -> Result<f64> {
        rayon::scope(|_| self.step_inner(model, batch))
    }

    fn step_inner<N: Trainable>(&mut self, model: &mut Model<N>, batch: &Batch) -> Result<f64> {
        let (x, touched) =
            model
                .embeddings
                .lookup_train(batch, model.layout, model.dtype, &model.device)?;
        let out = model.net.forward_t(&x, model.mode(true))?;
        let label =
            Tensor::from_slice(&batch.label, batch.size, &model.device)?.to_dtype(model.dtype)?;
        let loss = bce_with_logits(&out.logit, &label)?;
        let mut loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if self.fault.nan_at_step == Some(self.dense.step_count() + 1) {
            loss_value = f64::NAN;
        }
        if !loss_value.is_finite() {
            return Err(Error::Training(format!(
                "loss became {loss_value} at step {}",
                self.dense.step_count() + 1
            )));
        }
        let grads = loss.backward()?;
        self.dense.step(&grads)?;
        self.sparse.step(
            &mut model.embeddings,
            &touched,
            &grads,
            self.dense.step_count(),
        )?;
        Ok(loss_value)
    }

    /// Run one epoch (1-based `epoch`), then evaluate on `val` and update early stopping. With an
    /// empty `val` there is no early stopping and the latest epoch is always the one kept.
    /// Returns false when training should stop.
    pub fn epoch<N: Trainable>(
        &mut self,
        model: &mut Model<N>,
        train: &Split,
        val: &Split,
        epoch: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool> {
        let order = BatchOrder {
            batch_size: self.config.batch_size,
            shuffle: Some(self.config.seed),
            bucket_by_length: self.config.bucket_by_length
                && self.config.batch_size <= BUCKET_MAX_BATCH,
        };
        let plan = plan_batches(train, order, epoch as u64);
        progress(Progress::EpochStart {
            epoch,
            batches: plan.len(),
        });
        let t0 = Instant::now();
        let (mut loss_sum, mut n) = (0.0, 0usize);
        for (k, rows) in plan.iter().enumerate() {
            let batch = Batch::from_split(train, rows);
            let loss = self.step(model, &batch)?;
            loss_sum += loss * rows.len() as f64;
            n += rows.len();
            self.history.steps.push(StepRecord {
                epoch,
                step: self.dense.step_count(),
                loss,
            });
            progress(Progress::Step {
                epoch,
                batch: k + 1,
                loss,
            });
        }
        let secs = t0.elapsed().as_secs_f64();
        self.history.train_seconds += secs;
        self.history.train_rows = train.len();
        progress(Progress::Evaluating { epoch });
        let val_m = evaluate(model, val, self.config.eval_batch_size)?;
        let rec = EpochRecord {
            epoch,
            train_loss: loss_sum / n.max(1) as f64,
            val: val_m,
            train_seconds: secs,
            samples_per_s: n as f64 / secs.max(1e-9),
        };
        self.history.epochs.push(rec);
        progress(Progress::EpochEnd(rec));
        // An empty `val` (the official protocol has none) selects nothing: every epoch counts as
        // the best so far, so training never stops early and the last epoch's weights are kept.
        let improved = val.is_empty()
            || self.best.is_none()
            || val_m.auc > self.history.best_val_auc
            || self.history.best_val_auc.is_nan();
        if improved {
            self.history.best_val_auc = val_m.auc;
            self.history.best_epoch = epoch;
            self.best = Some(model.snapshot()?);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
            if self.config.patience > 0 && self.bad_epochs >= self.config.patience {
                self.history.stopped_early = true;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Put the best epoch's weights back into the model.
    pub fn restore_best<N: Trainable>(&self, model: &mut Model<N>) -> Result<()> {
        if let Some(s) = &self.best {
            model.restore(s)?;
        }
        Ok(())
    }
}

/// Train `model` on `train`, early-stopping on `val`; the best epoch's weights are restored. An
/// empty `val` means all `config.epochs` epochs and the last one's weights.
/// Works on the built-in networks and on any network of your own ([`Trainable`],
/// [`Model::custom`]).
pub fn fit<N: Trainable>(
    model: &mut Model<N>,
    train: &Split,
    val: &Split,
    config: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<History> {
    let mut trainer = Trainer::new(model, train, config.clone())?;
    let rows = trainer.train_rows(train);
    for epoch in 1..=config.epochs {
        if !trainer.epoch(model, &rows, val, epoch, progress)? {
            break;
        }
    }
    trainer.restore_best(model)?;
    model.fill_oov_rows();
    Ok(trainer.history)
}
