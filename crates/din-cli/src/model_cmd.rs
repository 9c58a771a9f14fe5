//! `din train`, `din eval`, `din predict`, `din explain`, `din tutorial`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use din::checkpoint::{self, RunConfig};
use din::data::{self, Dataset, Events, Protocol, SplitConfig};
use din::model::{self, Activation, LinearInit, ModelConfig, ModelKind, WeightNorm};
use din::predict::{predict, Prediction, Query};
use din::preset::Preset;
use din::run::{self, RunOptions};
use din::train::{OptimizerKind, Progress, TrainConfig};
use din_teach::tutorial::{self, TutorialConfig};
use serde_json::json;

use crate::ui::Ui;

fn parse_dims(s: &str) -> Result<Vec<usize>, String> {
    let dims: Vec<usize> = s
        .split(',')
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<usize>()
                .map_err(|_| format!("`{p}` is not a layer width"))
        })
        .collect::<Result<_, _>>()?;
    if dims.is_empty() {
        return Err("give at least one layer width, e.g. 256,128".into());
    }
    Ok(dims)
}

fn parse_ids(s: &str) -> Result<Vec<i64>, String> {
    s.split(',')
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<i64>()
                .map_err(|_| format!("`{p}` is not an integer id"))
        })
        .collect()
}

#[derive(Args)]
pub struct TrainArgs {
    /// Training data: an interaction CSV (user_id,item_id,time,cate_id) or a split directory
    /// written by `din data split`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Start from a named configuration; the options below override it. `default` (the library's
    /// defaults), `bars-x1` (BARS/FuxiCTR's DIN on AmazonElectronics_x1 with the official split,
    /// histories up to 100: see the README for what it does not reproduce) or `torch-rechub` (the
    /// seed tutorial's torch-rechub DIN, layer for layer, exportable with `din export`).
    #[arg(long, default_value = "default")]
    preset: Preset,
    /// din or base (the tutorial's 传统模型, mean-pooled history).
    #[arg(long, default_value = "din")]
    model: ModelKind,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    /// adamw (decoupled decay, the default) or adam (torch's coupled weight_decay).
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    #[arg(long)]
    embed_dim: Option<usize>,
    #[arg(long, value_parser = parse_dims)]
    attention_dims: Option<::std::vec::Vec<usize>>,
    #[arg(long, value_parser = parse_dims)]
    mlp_dims: Option<::std::vec::Vec<usize>>,
    /// Activation of the MLPs: dice, prelu, relu or sigmoid.
    #[arg(long)]
    activation: Option<Activation>,
    /// Linear → BatchNorm → activation in every MLP layer, as torch-rechub's MLP does.
    #[arg(long)]
    batch_norm: bool,
    /// Attention weights: none (the paper), softmax or sigmoid.
    #[arg(long)]
    weight_norm: Option<WeightNorm>,
    /// Weight of a training batch in Dice's running (evaluation) statistics [default: 0.1, as
    /// PyTorch's BatchNorm1d; the official DIN code's TensorFlow batch norm: 0.01].
    #[arg(long)]
    dice_momentum: Option<f64>,
    /// How Linear weights are drawn: kaiming-normal (default) or torch-uniform (nn.Linear's).
    #[arg(long)]
    linear_init: Option<LinearInit>,
    /// λ of mini-batch aware regularisation (0 = off).
    #[arg(long)]
    mba_lambda: Option<f64>,
    /// Early-stopping patience in epochs (0 = never stop early).
    #[arg(long)]
    patience: Option<usize>,
    /// Group rows of similar history length into batches (faster, but learns worse: see
    /// `TrainConfig::bucket_by_length`; only for batches of up to 512 rows).
    #[arg(long)]
    length_buckets: bool,
    /// Train on a fixed, seeded subset of this many training rows.
    #[arg(long)]
    max_train_rows: Option<usize>,
    #[arg(long)]
    seed: Option<u64>,
    /// Splitting a CSV: history length kept (most recent).
    #[arg(long)]
    max_len: Option<usize>,
    /// Splitting a CSV: drop users with fewer events.
    #[arg(long)]
    drop_short: Option<usize>,
    /// cpu, cuda[:N] or metal[:N] (the latter two need the cargo features).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// The run directory to write.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in RUN_DIR from its last completed epoch (its own configuration is used).
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "out")]
    resume: Option<PathBuf>,
    #[arg(long, hide = true)]
    pause_at_step: Option<u64>,
}

/// Load a CSV (split with `split`) or a split directory.
fn load_dataset(path: &Path, split: &SplitConfig, ui: &Ui) -> Result<Dataset> {
    let sp = ui.spinner(format!("loading {}", path.display()));
    let ds = if path.is_dir() {
        Dataset::load(path)?
    } else {
        let events = Events::read_csv(path)?;
        data::build(&events, *split)?
    };
    sp.finish_and_clear();
    Ok(ds)
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn train(a: TrainArgs, ui: &Ui) -> Result<()> {
    let t0 = Instant::now();
    let device = model::device(&a.device)?;
    let (dir, config, resume) = match &a.resume {
        Some(dir) => {
            let mut cfg = run::read_run_config(dir)?;
            if let Some(d) = &a.data {
                cfg.data = d.display().to_string();
            }
            (dir.clone(), cfg, true)
        }
        None => {
            let Some(data) = &a.data else {
                bail!("--data is required (a CSV or a split directory)")
            };
            let Some(out) = &a.out else {
                bail!("--out is required (the run directory to write)")
            };
            (out.clone(), run_config(&a, data)?, false)
        }
    };
    // Fail on an unwritable output before any work.
    din::io::ensure_writable_dir(&dir)?;
    let (ds, config) = train_data(config, resume, ui)?;
    let no_val = ds.val.is_empty();
    let opts = RunOptions {
        resume,
        ..RunOptions::default()
    };
    let mut progress = train_progress(ui, no_val, a.pause_at_step);
    let r = run::train_in_dir(&dir, &ds, &config, &device, &opts, &mut progress)?;
    report_training(&r, &config, &dir, no_val, ui, t0)
}

/// A new run's configuration: the preset's, with every flag given on the command line in its
/// place; checked.
fn run_config(a: &TrainArgs, data: &Path) -> Result<RunConfig> {
    let d = a.preset.model();
    let model = ModelConfig {
        kind: a.model,
        embed_dim: a.embed_dim.unwrap_or(d.embed_dim),
        attention_dims: a.attention_dims.clone().unwrap_or(d.attention_dims.clone()),
        mlp_dims: a.mlp_dims.clone().unwrap_or(d.mlp_dims.clone()),
        activation: a.activation.unwrap_or(d.activation),
        attention_activation: a.activation.unwrap_or(d.attention_activation),
        weight_norm: a.weight_norm.unwrap_or(d.weight_norm),
        batch_norm: a.batch_norm || d.batch_norm,
        dice_momentum: a.dice_momentum.unwrap_or(d.dice_momentum),
        linear_init: a.linear_init.unwrap_or(d.linear_init),
        ..d
    };
    let t = a.preset.train();
    let train = TrainConfig {
        epochs: a.epochs.unwrap_or(t.epochs),
        batch_size: a.batch_size.unwrap_or(t.batch_size),
        lr: a.lr.unwrap_or(t.lr),
        weight_decay: a.weight_decay.unwrap_or(t.weight_decay),
        optimizer: a.optimizer.unwrap_or(t.optimizer),
        mba_lambda: a.mba_lambda.unwrap_or(t.mba_lambda),
        patience: a.patience.unwrap_or(t.patience),
        seed: a.seed.unwrap_or(t.seed),
        max_train_rows: a.max_train_rows.or(t.max_train_rows),
        bucket_by_length: t.bucket_by_length || a.length_buckets,
        ..t
    };
    let s = a.preset.split();
    let split = SplitConfig {
        max_len: a.max_len.unwrap_or(s.max_len),
        drop_short: a.drop_short.unwrap_or(s.drop_short),
        seed: a.seed.unwrap_or(s.seed),
        ..s
    };
    model.validate().map_err(anyhow::Error::msg)?;
    train.validate().map_err(anyhow::Error::msg)?;
    Ok(RunConfig {
        format: checkpoint::FORMAT,
        model,
        train,
        split,
        data: data.display().to_string(),
    })
}

/// The run's dataset (a split directory's own configuration wins over the flags), with what is
/// about to happen said; the configuration as it will be saved.
fn train_data(mut config: RunConfig, resume: bool, ui: &Ui) -> Result<(Dataset, RunConfig)> {
    let mut ds = load_dataset(Path::new(&config.data), &config.split, ui)?;
    if Path::new(&config.data).is_dir() {
        config.split = ds.config;
    }
    ds.config = config.split;
    ui.say(format!(
        "{} {}: {} train / {} val / {} test rows, {} items, {} users",
        if resume { "resuming" } else { "training" },
        config.model.kind.label(),
        ds.train.len(),
        ds.val.len(),
        ds.test.len(),
        ds.vocab.items.len(),
        ds.vocab.users.len()
    ));
    if ds.val.is_empty() {
        ui.say(format!(
            "no validation rows ({}): no early stopping, all {} epochs run and the last epoch's weights are kept; \
             the test rows are scored once at the end and select nothing",
            match ds.config.protocol {
                Protocol::Official => "the official build_dataset.py protocol has no validation set",
                Protocol::LeaveLastOut => "val.parquet is empty",
            },
            config.train.epochs
        ));
    }
    Ok((ds, config))
}

/// The progress callback of `din train`: a bar per epoch, the loss every 20 steps, one line per
/// epoch; `--pause-at-step` (for the interruption tests) sleeps at that step.
fn train_progress(ui: &Ui, no_val: bool, pause: Option<u64>) -> impl FnMut(Progress) + '_ {
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut steps: u64 = 0;
    move |p| match p {
        Progress::EpochStart { epoch, batches } => {
            bar = Some(ui.bar(batches as u64, format!("epoch {epoch}")));
        }
        Progress::Step { loss, .. } => {
            steps += 1;
            if let Some(b) = &bar {
                b.inc(1);
                if steps % 20 == 0 {
                    b.set_message(format!("loss {loss:.4}"));
                }
            }
            if pause == Some(steps) {
                eprintln!("paused at step {steps}");
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        Progress::Evaluating { .. } => {
            if let Some(b) = &bar {
                b.set_message("validating");
            }
        }
        Progress::EpochEnd(r) => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            if no_val {
                ui.say(format!(
                    "epoch {}: train loss {:.4}  (no validation set)  {:.0} samples/s",
                    r.epoch, r.train_loss, r.samples_per_s
                ));
            } else {
                ui.say(r.to_string());
            }
        }
    }
}

/// The last lines of `din train` and its `--json` object.
fn report_training(
    r: &run::TrainedRun,
    config: &RunConfig,
    dir: &Path,
    no_val: bool,
    ui: &Ui,
    t0: Instant,
) -> Result<()> {
    let m = &r.metrics;
    let test = m.test.unwrap_or_default();
    let selected = if no_val {
        format!(
            "last epoch {} (no validation set, not selected)",
            m.best_epoch
        )
    } else {
        format!(
            "best epoch {} (val AUC {:.4}{})",
            m.best_epoch,
            m.best_val_auc,
            if m.stopped_early {
                ", stopped early"
            } else {
                ""
            }
        )
    };
    ui.say(format!(
        "{selected}; test {test}\nrun saved to {}",
        dir.display()
    ));
    ui.finish(&json!({
        "run": dir,
        "model": config.model.kind,
        "test_auc": test.auc,
        "test_gauc": test.gauc,
        "test_logloss": test.logloss,
        "best_val_auc": m.best_val_auc,
        "validation": !no_val,
        "best_epoch": m.best_epoch,
        "epochs_run": m.epochs_run,
        "stopped_early": m.stopped_early,
        "resumed_from": r.resumed_from,
        "train_rows": m.train_rows,
        "train_s": m.train_s,
        "train_samples_per_s": m.train_samples_per_s,
        "threads": rayon_threads(),
        "peak_rss_mb": peak_rss_mb(),
        "seconds": t0.elapsed().as_secs_f64(),
    }))
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[derive(Args)]
pub struct EvalArgs {
    /// A run directory written by `din train`.
    #[arg(long)]
    run: PathBuf,
    /// Data to evaluate on (CSV or split directory); default: the run's own data.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Which split: test, val or train.
    #[arg(long, default_value = "test")]
    split: String,
    /// Also write every evaluated row's raw user id, target item and category, label and score
    /// to this Parquet file (columns row,user_id,target_item,target_cate,label,score).
    #[arg(long, value_name = "OUT.parquet")]
    predictions: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    device: String,
}

pub fn eval(a: EvalArgs, ui: &Ui) -> Result<()> {
    let t0 = Instant::now();
    let device = model::device(&a.device)?;
    let loaded = checkpoint::load(&a.run, &device)?;
    let data = a
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(&loaded.config.data));
    let ds = load_dataset(&data, &loaded.config.split, ui)?;
    let split = match a.split.as_str() {
        "test" => &ds.test,
        "val" => &ds.val,
        "train" => &ds.train,
        o => bail!("unknown split `{o}` (test, val, train)"),
    };
    if split.is_empty() {
        bail!(
            "{} has no {} rows{}",
            data.display(),
            a.split,
            if ds.config.protocol == Protocol::Official {
                " (the official build_dataset.py protocol has no validation set; `din data split --protocol official` writes train and test only)"
            } else {
                ""
            }
        );
    }
    let (m, scores) = run::score_on(
        &loaded.model,
        &loaded.vocab,
        split,
        &ds.vocab,
        loaded.config.train.eval_batch_size,
    )?;
    if let Some(out) = &a.predictions {
        din::data::write_scores(&scores, out)
            .with_context(|| format!("writing the scores of `din eval` to {}", out.display()))?;
        ui.say(format!(
            "{} scores written to {}",
            scores.len(),
            out.display()
        ));
    }
    ui.say(format!("{} ({}): {m}", data.display(), a.split));
    ui.finish(&json!({
        "run": a.run, "data": data, "split": a.split, "rows": m.rows,
        "auc": m.auc, "gauc": m.gauc, "logloss": m.logloss, "seconds": t0.elapsed().as_secs_f64(),
        "predictions": a.predictions,
    }))
}

#[derive(Args)]
pub struct QueryArgs {
    /// A run directory written by `din train`.
    #[arg(long)]
    run: PathBuf,
    /// Raw user id (unseen users get the average user row).
    #[arg(long, allow_hyphen_values = true)]
    user: i64,
    /// Raw item ids of the history, oldest first, comma-separated (may be empty).
    #[arg(long, value_parser = parse_ids, default_value = "")]
    history: ::std::vec::Vec<i64>,
    /// Raw item ids to score, comma-separated.
    #[arg(long, value_parser = parse_ids)]
    candidates: ::std::vec::Vec<i64>,
    /// Item names (CSV with columns item_id,name, e.g. a synthetic world's FILE.items.csv);
    /// default: the sidecar of the run's data when present.
    #[arg(long)]
    names: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn query(a: &QueryArgs) -> Result<(checkpoint::Run, Prediction)> {
    let device = model::device(&a.device)?;
    if a.candidates.is_empty() {
        bail!("--candidates: give at least one item id");
    }
    let run = checkpoint::load(&a.run, &device)?;
    let q = Query {
        user: a.user,
        history: a.history.clone(),
        candidates: a.candidates.clone(),
    };
    let p = predict(&run.model, &run.vocab, run.config.split.max_len, &q)?;
    Ok((run, p))
}

/// Item names from a CSV with `item_id` and `name` columns.
fn read_names(path: &Path) -> Result<HashMap<i64, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let (Some(id), Some(name)) = (
        header.iter().position(|h| h.trim() == "item_id"),
        header.iter().position(|h| h.trim() == "name"),
    ) else {
        bail!("{}: needs columns item_id and name", path.display());
    };
    let mut out = HashMap::new();
    for (k, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(i), Some(n)) = (f.get(id), f.get(name)) else {
            continue;
        };
        let i: i64 = i.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "{}:{}: column `item_id`: `{i}` is not an integer",
                path.display(),
                k + 2
            )
        })?;
        out.insert(i, n.trim().to_string());
    }
    Ok(out)
}

fn names_for(a: &QueryArgs, run: &checkpoint::Run) -> Result<HashMap<i64, String>> {
    if let Some(p) = &a.names {
        return read_names(p);
    }
    let side = din::synth::items_sidecar(Path::new(&run.config.data));
    if side.is_file() {
        return read_names(&side).or_else(|_| Ok(HashMap::new()));
    }
    Ok(HashMap::new())
}

fn label(id: i64, names: &HashMap<i64, String>) -> String {
    match names.get(&id) {
        Some(n) => format!("{n} ({id})"),
        None => id.to_string(),
    }
}

pub fn predict_cmd(a: QueryArgs, ui: &Ui) -> Result<()> {
    let (run, p) = query(&a)?;
    let names = names_for(&a, &run)?;
    let mut order: Vec<usize> = (0..p.candidates.len()).collect();
    order.sort_by(|&x, &y| p.ctr[y].total_cmp(&p.ctr[x]));
    ui.say("rank  candidate                 CTR");
    for (rank, &k) in order.iter().enumerate() {
        ui.say(format!(
            "{:>4}  {:<24}  {:.4}",
            rank + 1,
            label(p.candidates[k], &names),
            p.ctr[k]
        ));
    }
    for n in p.notes() {
        ui.say(format!("note: {n}"));
    }
    ui.finish(&p)
}

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    q: QueryArgs,
    /// Where to write the heatmap (SVG; a PNG of it goes beside, same name with .png).
    #[arg(long, default_value = "explain.svg")]
    svg: PathBuf,
}

pub fn explain(a: ExplainArgs, ui: &Ui) -> Result<()> {
    let (run, p) = query(&a.q)?;
    let Some(w) = &p.item_attention else {
        bail!("{} is a base-model run: it has no attention weights to explain (train with --model din)", a.q.run.display());
    };
    let names = names_for(&a.q, &run)?;
    let hist: Vec<String> = p.history.iter().map(|&i| label(i, &names)).collect();
    let cands: Vec<String> = p.candidates.iter().map(|&i| label(i, &names)).collect();
    let width = hist
        .iter()
        .map(|h| h.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    ui.say(format!(
        "attention weights of each history item (rows) for each candidate (columns); {:?} normalisation",
        run.config.model.weight_norm
    ));
    let mut header = format!("{:<width$}", "history");
    for c in &cands {
        header.push_str(&format!("  {c:>12}"));
    }
    ui.say(header);
    for (j, h) in hist.iter().enumerate() {
        let mut line = format!("{h:<width$}");
        for row in w {
            line.push_str(&format!("  {:>12.4}", row[j]));
        }
        ui.say(line);
    }
    let mut ctr = format!("{:<width$}", "CTR");
    for c in &p.ctr {
        ctr.push_str(&format!("  {c:>12.4}"));
    }
    ui.say(ctr);
    for n in p.notes() {
        ui.say(format!("note: {n}"));
    }
    if !hist.is_empty() {
        let scale = din::plot::HeatScale::for_values(w);
        let svg = din::plot::heatmap("兴趣激活 attention weights", &cands, &hist, w, scale)?;
        svg.save(&a.svg)?;
        let png = a.svg.with_extension("png");
        svg.save_png(&png)?;
        ui.say(format!(
            "heatmap written to {} and {}",
            a.svg.display(),
            png.display()
        ));
    } else {
        ui.say("empty history: nothing to draw");
    }
    ui.finish(&json!({ "prediction": p, "svg": (!hist.is_empty()).then_some(&a.svg) }))
}

#[derive(Args)]
pub struct TutorialArgs {
    /// Where to write the figures (SVG, and a PNG beside each) and report.json.
    #[arg(long, default_value = "out/tutorial")]
    out: PathBuf,
    /// Users of the demo world.
    #[arg(long)]
    users: Option<usize>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    seed: Option<u64>,
}

pub fn tutorial_cmd(a: TutorialArgs, ui: &Ui) -> Result<()> {
    let mut cfg = TutorialConfig::default();
    if let Some(u) = a.users {
        cfg.users = u;
    }
    if let Some(e) = a.epochs {
        cfg.train.epochs = e;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
        cfg.train.seed = s;
    }
    ui.say(format!(
        "DIN tutorial on the embedded demo world ({} users, up to {} epochs per model, early stopping with patience {}); figures → {}",
        cfg.users,
        cfg.train.epochs,
        cfg.train.patience,
        a.out.display()
    ));
    let mut bar: Option<indicatif::ProgressBar> = None;
    let report = tutorial::run(&cfg, Some(&a.out), &mut |kind, p| match p {
        Progress::EpochStart { epoch, batches } => {
            bar = Some(ui.bar(batches as u64, format!("{} epoch {epoch}", kind.label())));
        }
        Progress::Step { .. } => {
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
        Progress::Evaluating { .. } => {}
        Progress::EpochEnd(r) => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            ui.say(format!("  {:<4} {r}", kind.label()));
        }
    })?;
    ui.say("");
    ui.say(report.table());
    ui.say(format!(
        "figures and report.json in {} ({:.0} s)",
        a.out.display(),
        report.seconds
    ));
    ui.finish(&json!({
        "out": a.out,
        "din_test_auc": report.din.test.auc,
        "base_test_auc": report.base.test.auc,
        "din_test_gauc": report.din.test.gauc,
        "base_test_gauc": report.base.test.gauc,
        "din_test_logloss": report.din.test.logloss,
        "base_test_logloss": report.base.test.logloss,
        "rela_impr": report.rela_impr,
        "attention_auc": report.attention_auc,
        "example_as_tutorial": report.example_as_tutorial,
        "seconds": report.seconds,
    }))
}
