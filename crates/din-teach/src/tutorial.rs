//! `din tutorial`: the whole tutorial on the embedded demo world, no download needed.
//!
//! Prepare the data (sections 代码实现 → `create_seq_features`), train DIN and the base model
//! (传统模型, w_i = 1/n), compare them on test (AUC, GAUC, logloss, RelaImpr), check the attention
//! against the world's ground truth, and reproduce the tutorial's example: history
//! [篮球鞋, 连衣裙, 篮球, 口红] with candidates 篮球 and 口红.
//!
//! ```
//! // the demo world the notebooks use: 2000 users in the tutorial, 100 here
//! let (world, ds) = din_teach::tutorial::demo_dataset(100, 2026)?;
//! assert!(ds.train.len() > ds.test.len());
//! assert!(ds.vocab.items.len() > 10);
//! # let _ = world;
//! # Ok::<(), din::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use din::analysis::attention_auc;
use din::checkpoint::{self, RunConfig};
use din::data::{Dataset, SplitStats};
use din::error::{Error, Result};
use din::metrics::{rela_impr, roc_points, Metrics};
use din::model::{Model, ModelConfig, ModelKind, WeightNorm, DTYPE};
use din::plot::{self, Series, Svg};
use din::predict::{predict, Prediction, Query};
pub use din::synth::demo_dataset;
use din::synth::DemoWorld;
use din::train::{fit, predict_split, History, Progress, TrainConfig};

/// The tutorial's example: the history, oldest first (item names of the demo world).
pub const EXAMPLE_HISTORY: [&str; 4] = ["篮球鞋", "连衣裙", "篮球", "口红"];
/// The candidates the tutorial's example scores after [`EXAMPLE_HISTORY`].
pub const EXAMPLE_CANDIDATES: [&str; 2] = ["篮球", "口红"];

/// Settings of the tutorial run.
///
/// The tutorial run normalises the attention weights with a masked softmax. The paper (and the
/// library's default, [`WeightNorm::None`]) leaves them raw; their sign and scale are free (the
/// head can absorb a negative scale), so a raw weight does not say "this item matters more".
/// Softmax makes the weights readable, which is what the tutorial's example is about. (Which of
/// the two trains the better CTR model on the demo world is not measured by the notebooks; one
/// earlier run of each gave test AUC 0.922 raw vs 0.930 softmax, a gap about the seed spread.)
///
/// It also batches rows of similar history length together (`bucket_by_length`, off in the
/// library's defaults). Measured on this world: with buckets DIN's test AUC is 0.929 and its
/// attention AUC 0.958, and the example comes out as the tutorial says; without, test AUC 0.935
/// (base 0.903) but early stopping keeps epoch 2, whose attention is blurrier (attention AUC
/// 0.842) and ranks 篮球 above 连衣裙 for candidate 口红.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TutorialConfig {
    /// Users of the demo world ([`demo_dataset`]).
    pub users: usize,
    /// Seed of the demo world's events and of the split's negatives ([`demo_dataset`]).
    pub seed: u64,
    /// Network settings of both models (`kind` is set to DIN, then to the base model).
    pub model: ModelConfig,
    /// Training settings of both models.
    pub train: TrainConfig,
}

impl Default for TutorialConfig {
    fn default() -> Self {
        TutorialConfig {
            users: 2000,
            seed: 2026,
            model: ModelConfig {
                weight_norm: WeightNorm::Softmax,
                ..Default::default()
            },
            // up to 4 epochs, stopping after the first that does not improve validation AUC
            // (DIN peaks at epoch 2 and stops after 3; the best epoch's weights are kept)
            train: TrainConfig {
                epochs: 4,
                patience: 1,
                batch_size: 128,
                lr: 2e-3,
                bucket_by_length: true,
                ..Default::default()
            },
        }
    }
}

/// One trained model's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelResult {
    /// Which model: DIN or the base model.
    pub kind: ModelKind,
    /// Metrics on the test split, with the best validation epoch's weights.
    pub test: Metrics,
    /// Per-step losses and per-epoch metrics of its training.
    pub history: History,
    /// Its test ROC curve: `(false positive rate, true positive rate)` points
    /// ([`din::metrics::roc_points`]).
    pub roc: Vec<(f64, f64)>,
}

/// Everything the tutorial run produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TutorialReport {
    /// Counts of the demo dataset's split.
    pub data: SplitStats,
    /// DIN's results.
    pub din: ModelResult,
    /// The base model's results (history pooled with w_i = 1/n).
    pub base: ModelResult,
    /// RelaImpr of DIN over the base model, on test AUC, in percent.
    pub rela_impr: f64,
    /// Attention AUC of DIN against the demo world's ground truth (test rows).
    pub attention_auc: Option<f64>,
    /// The tutorial's example, scored by the trained DIN.
    pub example: Prediction,
    /// The example's history by item name ([`EXAMPLE_HISTORY`]).
    pub example_history: Vec<String>,
    /// The example's candidates by item name ([`EXAMPLE_CANDIDATES`]).
    pub example_candidates: Vec<String>,
    /// Whether the example comes out as the tutorial says.
    pub example_as_tutorial: bool,
    /// Wall-clock seconds of the whole run (data, both trainings, evaluation).
    pub seconds: f64,
}

/// Train one model of `kind` on the dataset (best validation epoch kept).
pub fn train_model(
    ds: &Dataset,
    kind: ModelKind,
    model_cfg: &ModelConfig,
    train_cfg: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Model, History)> {
    let cfg = ModelConfig {
        kind,
        ..model_cfg.clone()
    };
    let rows = ds.vocab.table_rows();
    let mut model = Model::new(cfg, rows, train_cfg.seed, &Device::Cpu, DTYPE)?;
    let history = fit(&mut model, &ds.train, &ds.val, train_cfg, progress)?;
    Ok((model, history))
}

/// The tutorial's DIN on its demo world (`ds` from [`demo_dataset`] with `cfg.users` and
/// `cfg.seed`): loaded from the run directory `cache` when a run saved there was trained with the
/// same model, training and split configuration on the same vocabulary, otherwise trained (with
/// `progress`) and saved there. Notebooks 2 and 3 share one trained model this way.
///
/// The check covers configurations, not code: delete `cache` after changing the library
/// (`scripts/run_notebooks.sh` does so before it runs the notebooks).
pub fn cached_din(
    ds: &Dataset,
    cfg: &TutorialConfig,
    cache: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<CachedModel> {
    let want = RunConfig {
        format: checkpoint::FORMAT,
        model: ModelConfig {
            kind: ModelKind::Din,
            ..cfg.model.clone()
        },
        train: cfg.train.clone(),
        split: ds.config,
        data: format!(
            "demo world, {} users, seed {} (din {})",
            cfg.users,
            cfg.seed,
            env!("CARGO_PKG_VERSION")
        ),
    };
    if let Ok(run) = checkpoint::load(cache, &Device::Cpu) {
        if run.config == want && run.vocab == ds.vocab {
            // an unreadable history.json is a cache miss like any other
            if let Ok((_, Some(history))) = checkpoint::read_reports(cache) {
                return Ok(CachedModel {
                    model: run.model,
                    history,
                    loaded_from: Some(cache.to_path_buf()),
                });
            }
        }
    }
    let (model, history) = train_model(ds, ModelKind::Din, &cfg.model, &cfg.train, progress)?;
    checkpoint::save(cache, &model, Some(&ds.vocab), &want, Some(&history), None)?;
    Ok(CachedModel {
        model,
        history,
        loaded_from: None,
    })
}

/// What [`cached_din`] returns.
pub struct CachedModel {
    /// The trained DIN.
    pub model: Model,
    /// Its training history (read from the run directory when loaded).
    pub history: History,
    /// The run directory the model was loaded from; `None` when it was trained now.
    pub loaded_from: Option<PathBuf>,
}

/// Score the tutorial's example with a trained model (an unseen user: the average user row).
pub fn tutorial_example(model: &Model, world: &DemoWorld, ds: &Dataset) -> Result<Prediction> {
    let id = |n: &str| {
        world
            .item_id(n)
            .ok_or_else(|| Error::Config(format!("demo world has no item {n}")))
    };
    let q = Query {
        user: -1,
        history: EXAMPLE_HISTORY
            .iter()
            .map(|n| id(n))
            .collect::<Result<_>>()?,
        candidates: EXAMPLE_CANDIDATES
            .iter()
            .map(|n| id(n))
            .collect::<Result<_>>()?,
    };
    predict(model, &ds.vocab, ds.config.max_len, &q)
}

/// What the tutorial says of its example, measured on a prediction: for candidate 篮球, DIN gives
/// 篮球鞋 and 篮球 high weight and 连衣裙 and 口红 low weight; for candidate 口红, 连衣裙 and 口红
/// high and 篮球鞋 and 篮球 low.
///
/// "High" and "low" are read as ratios of weights, which mean the same under every
/// [`din::model::WeightNorm`] that gives positive weights: an item weighs *clearly more* than
/// another when it has at least [`ExampleCheck::CLEARLY`] times its weight. The tutorial's
/// statement holds when, for each candidate, each of its two items weighs clearly more than each
/// of the other two ([`ExampleCheck::as_tutorial`]).
///
/// ```
/// use din_teach::tutorial::ExampleCheck;
/// // history 篮球鞋, 连衣裙, 篮球, 口红; rows: candidate 篮球, candidate 口红
/// let c = ExampleCheck::new([0.45, 0.02, 0.5, 0.03], [0.01, 0.2, 0.02, 0.77]);
/// assert!(c.as_tutorial());
/// // 连衣裙 only a little above 篮球 for 口红: an ordering, not the tutorial's "high"
/// let c = ExampleCheck::new([0.45, 0.02, 0.5, 0.03], [0.01, 0.03, 0.02, 0.94]);
/// assert!(!c.as_tutorial() && c.lipstick_pair_ratio() < ExampleCheck::CLEARLY);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExampleCheck {
    /// Candidate 篮球's weights on the history 篮球鞋, 连衣裙, 篮球, 口红.
    pub basketball: [f32; 4],
    /// Candidate 口红's weights on the same history.
    pub lipstick: [f32; 4],
}

impl ExampleCheck {
    /// How many times another item's weight an item needs to weigh "clearly more".
    pub const CLEARLY: f32 = 2.0;

    /// The check of two rows of weights (history order 篮球鞋, 连衣裙, 篮球, 口红).
    pub fn new(basketball: [f32; 4], lipstick: [f32; 4]) -> ExampleCheck {
        ExampleCheck {
            basketball,
            lipstick,
        }
    }

    /// The check of a prediction of the example ([`tutorial_example`]); `None` for a model
    /// without attention weights (the base model) or another shape of query.
    pub fn of(p: &Prediction) -> Option<ExampleCheck> {
        let w = p.item_attention.as_ref()?;
        let row = |k: usize| -> Option<[f32; 4]> { w.get(k)?.as_slice().try_into().ok() };
        Some(ExampleCheck::new(row(0)?, row(1)?))
    }

    /// `min(w[high]) / max(w[low])`: how many times the lighter of the two items that should
    /// weigh high outweighs the heavier of the two that should weigh low.
    fn ratio(w: &[f32; 4], high: [usize; 2], low: [usize; 2]) -> f32 {
        let hi = w[high[0]].min(w[high[1]]);
        let lo = w[low[0]].max(w[low[1]]);
        if lo > 0.0 {
            hi / lo
        } else if hi > 0.0 {
            f32::INFINITY
        } else {
            0.0
        }
    }

    /// Candidate 篮球: how many times `min(篮球鞋, 篮球)` outweighs `max(连衣裙, 口红)`.
    pub fn basketball_pair_ratio(&self) -> f32 {
        Self::ratio(&self.basketball, [0, 2], [1, 3])
    }

    /// Candidate 口红: how many times `min(连衣裙, 口红)` outweighs `max(篮球鞋, 篮球)`. Below 1, 连衣裙
    /// is not even above the basketball items.
    pub fn lipstick_pair_ratio(&self) -> f32 {
        Self::ratio(&self.lipstick, [1, 3], [0, 2])
    }

    /// The tutorial's statement: both ratios at least [`ExampleCheck::CLEARLY`].
    pub fn as_tutorial(&self) -> bool {
        self.basketball_pair_ratio() >= Self::CLEARLY && self.lipstick_pair_ratio() >= Self::CLEARLY
    }
}

impl std::fmt::Display for ExampleCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = |r: f32| {
            if r >= Self::CLEARLY {
                "✓"
            } else {
                "✗"
            }
        };
        let row = |w: &[f32; 4]| {
            EXAMPLE_HISTORY
                .iter()
                .zip(w)
                .map(|(n, x)| format!("{n} {x:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (b, l) = (self.basketball_pair_ratio(), self.lipstick_pair_ratio());
        writeln!(f, "  篮球: {}", row(&self.basketball))?;
        writeln!(
            f,
            "    min(篮球鞋, 篮球) / max(连衣裙, 口红) = {b:.3e} {} (教程 tutorial: ≥ {})",
            verdict(b),
            Self::CLEARLY
        )?;
        writeln!(f, "  口红: {}", row(&self.lipstick))?;
        write!(
            f,
            "    min(连衣裙, 口红) / max(篮球鞋, 篮球) = {l:.3e} {} (教程 tutorial: ≥ {})",
            verdict(l),
            Self::CLEARLY
        )
    }
}

/// Does the example come out the way the tutorial says ([`ExampleCheck::as_tutorial`])? False for
/// a prediction without attention weights.
pub fn example_as_tutorial(p: &Prediction) -> bool {
    ExampleCheck::of(p).is_some_and(|c| c.as_tutorial())
}

/// Run the tutorial; writes figures and `report.json` to `out` when given.
pub fn run(
    cfg: &TutorialConfig,
    out: Option<&Path>,
    progress: &mut dyn FnMut(ModelKind, Progress),
) -> Result<TutorialReport> {
    let t0 = Instant::now();
    if let Some(dir) = out {
        din::io::ensure_writable_dir(dir)?;
    }
    let (world, ds) = demo_dataset(cfg.users, cfg.seed)?;
    let mut results = Vec::new();
    let mut din_model = None;
    for kind in [ModelKind::Din, ModelKind::Base] {
        let (model, history) = train_model(&ds, kind, &cfg.model, &cfg.train, &mut |p| {
            progress(kind, p)
        })?;
        let probs = predict_split(&model, &ds.test, cfg.train.eval_batch_size)?;
        let test = Metrics::compute(&probs, &ds.test.label, &ds.test.user);
        let roc = roc_points(&probs, &ds.test.label);
        results.push(ModelResult {
            kind,
            test,
            history,
            roc,
        });
        if kind == ModelKind::Din {
            din_model = Some(model);
        }
    }
    let din = din_model.ok_or_else(|| Error::Training("DIN was not trained".into()))?;
    let base = results
        .pop()
        .ok_or_else(|| Error::Training("base model missing".into()))?;
    let din_res = results
        .pop()
        .ok_or_else(|| Error::Training("DIN result missing".into()))?;
    let interest_of = |i: u32| {
        ds.vocab
            .items
            .raw(i)
            .and_then(|r| world.item(r))
            .map(|it| it.interest)
    };
    let att_auc = attention_auc(&din, &ds.test, &interest_of, 1024)?;
    let example = tutorial_example(&din, &world, &ds)?;
    let report = TutorialReport {
        data: ds.stats.clone(),
        rela_impr: rela_impr(din_res.test.auc, base.test.auc),
        din: din_res,
        base,
        attention_auc: att_auc,
        example_as_tutorial: example_as_tutorial(&example),
        example,
        example_history: EXAMPLE_HISTORY.iter().map(|s| s.to_string()).collect(),
        example_candidates: EXAMPLE_CANDIDATES.iter().map(|s| s.to_string()).collect(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    if let Some(dir) = out {
        for (name, svg) in figures(&report)? {
            svg.save(dir.join(name))?;
            #[cfg(feature = "png")]
            svg.save_png(dir.join(name).with_extension("png"))?;
        }
        din::io::write_json(&dir.join("report.json"), &report)?;
    }
    Ok(report)
}

/// The tutorial's figures: (file name, SVG).
pub fn figures(r: &TutorialReport) -> Result<Vec<(&'static str, Svg)>> {
    // smoothed per-step loss (moving average over 50 steps), every 10th step
    let loss = |h: &History| h.smoothed_loss(50, 10);
    let val = |h: &History| -> Vec<(f64, f64)> {
        h.epochs
            .iter()
            .map(|e| (e.epoch as f64, e.val.auc))
            .collect()
    };
    let mut figs = vec![
        (
            "loss.svg",
            plot::lines(
                "训练损失 training loss (BCE, moving average)",
                "训练步 training step (batch)",
                "损失 loss (BCE, nats)",
                &[
                    Series::new("DIN", loss(&r.din.history)),
                    Series::new("base 传统模型", loss(&r.base.history)),
                ],
            )?,
        ),
        (
            "val_auc.svg",
            plot::lines(
                "验证集 AUC per epoch",
                "轮次 epoch",
                "验证集 AUC validation AUC",
                &[
                    Series::new("DIN", val(&r.din.history)),
                    Series::new("base 传统模型", val(&r.base.history)),
                ],
            )?,
        ),
        (
            "roc.svg",
            plot::roc(
                "测试集 ROC (test)",
                &[
                    Series::new(format!("DIN  AUC {:.4}", r.din.test.auc), r.din.roc.clone()),
                    Series::new(
                        format!("base AUC {:.4}", r.base.test.auc),
                        r.base.roc.clone(),
                    ),
                ],
            )?,
        ),
        (
            "auc_bars.svg",
            plot::bars(
                &format!("DIN vs 传统模型: RelaImpr {:+.1}%", r.rela_impr),
                "模型 model",
                "测试集 AUC test AUC",
                &["DIN".into(), "base 传统模型".into()],
                &[r.din.test.auc, r.base.test.auc],
                plot::Baseline::Chance,
            )?,
        ),
    ];
    if let Some(w) = &r.example.item_attention {
        figs.push((
            "attention.svg",
            plot::heatmap(
                "兴趣激活 attention weights (trained DIN)",
                &r.example_candidates,
                &r.example_history,
                w,
                plot::HeatScale::for_values(w),
            )?,
        ));
    }
    Ok(figs)
}

impl TutorialReport {
    /// The results as a plain-text table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "data: {} events, {} users, {} items, {} categories; train/val/test rows {}/{}/{}\n\n",
            self.data.events,
            self.data.users,
            self.data.items,
            self.data.cates,
            self.data.train_rows,
            self.data.val_rows,
            self.data.test_rows
        ));
        s.push_str(
            "model              test AUC   test GAUC  test logloss  best epoch  samples/s\n",
        );
        for (name, m) in [("DIN", &self.din), ("base (传统模型)", &self.base)] {
            // CJK characters are two columns wide in a terminal
            let wide = name.chars().filter(|&c| c >= '\u{2E80}').count();
            let name = format!(
                "{name}{}",
                " ".repeat(17usize.saturating_sub(name.chars().count() + wide))
            );
            s.push_str(&format!(
                "{}  {:>8.4}   {:>9.4}  {:>12.4}  {:>10}  {:>9.0}\n",
                name,
                m.test.auc,
                m.test.gauc,
                m.test.logloss,
                m.history.best_epoch,
                m.history.samples_per_s()
            ));
        }
        s.push_str(&format!(
            "RelaImpr (DIN over base, test AUC): {:+.2}%\n",
            self.rela_impr
        ));
        if let Some(a) = self.attention_auc {
            s.push_str(&format!(
                "attention AUC vs ground truth (same interest as the candidate): {a:.4}\n"
            ));
        }
        s.push_str(&format!(
            "\n兴趣激活 example, history [{}]:\n",
            self.example_history.join(", ")
        ));
        if let Some(w) = &self.example.item_attention {
            for (k, c) in self.example_candidates.iter().enumerate() {
                let cells: Vec<String> = self
                    .example_history
                    .iter()
                    .zip(&w[k])
                    .map(|(h, v)| format!("{h} {v:.3}"))
                    .collect();
                s.push_str(&format!(
                    "  candidate {c}: CTR {:.3}; weights: {}\n",
                    self.example.ctr[k],
                    cells.join(", ")
                ));
            }
        }
        s.push_str(&format!(
            "  {}\n",
            if self.example_as_tutorial {
                "as the tutorial says: the candidate activates the history items of its own interest"
            } else {
                "NOT as the tutorial says (see the weights above)"
            }
        ));
        s
    }
}
