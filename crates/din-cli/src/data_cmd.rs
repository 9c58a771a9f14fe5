//! `din data …`

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use din::data::{self, fetch, Events, Protocol, SplitConfig, SplitStats};
use din::synth::{self, AmazonConfig, DemoConfig, DemoWorld};
use serde_json::json;

use crate::ui::Ui;

#[derive(Clone, Copy, ValueEnum)]
pub enum World {
    /// The tutorial's example made real: named interests (篮球, 时尚, 美妆, 数码, …).
    Demo,
    /// The shape of 5-core Amazon Electronics (192,403 users, 63,001 items, 801 categories).
    Amazon,
}

#[derive(Subcommand)]
pub enum DataCmd {
    /// Generate a synthetic interaction log (CSV: user_id,item_id,time,cate_id) and its ground
    /// truth next to it (FILE.items.csv).
    Synth {
        #[arg(long, value_enum)]
        world: World,
        #[arg(long)]
        users: Option<usize>,
        /// Amazon world only (the demo world has a fixed catalogue of 96 named items).
        #[arg(long)]
        items: Option<usize>,
        /// Amazon world only.
        #[arg(long)]
        cates: Option<usize>,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Download the tutorial's 100-row sample CSV.
    FetchSample {
        #[arg(long, default_value = fetch::SAMPLE_URL)]
        url: String,
        #[arg(long, default_value = "data/amazon_electronics_sample.csv")]
        out: PathBuf,
    },
    /// Download the raw 2014 Amazon Electronics files (5-core reviews and metadata).
    FetchRaw {
        #[arg(long, default_value = "data/raw")]
        dir: PathBuf,
        #[arg(long, default_value = fetch::REVIEWS_URL)]
        reviews_url: String,
        #[arg(long, default_value = fetch::META_URL)]
        meta_url: String,
    },
    /// Convert raw Amazon reviews + metadata (.json or .json.gz) into the tutorial's CSV.
    PrepareRaw {
        #[arg(long)]
        reviews: PathBuf,
        #[arg(long)]
        meta: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Fail on the first malformed line instead of skipping and counting it.
        #[arg(long)]
        strict: bool,
    },
    /// Build train/val/test samples (sliding window, one negative per positive) and write them
    /// as Parquet with vocab.json and split.json.
    ///
    /// `--protocol leave-last-out` (default): each user's last target to test, the one before to
    /// validation, earlier ones to train; no row in two splits. Use it to select models.
    ///
    /// `--protocol official`: the official DIN repository's din/build_dataset.py, row for row
    /// (Python 3's `random` ported bit for bit, seed 1234): every earlier prefix to train, each
    /// user's last prefix to test as a positive and a negative row; val.parquet is empty. Use it to
    /// compare with the published numbers (official DIN GAUC 0.8698, DIN+Dice 0.8711; BARS
    /// AmazonElectronics_x1 with --max-len 100: DIN gAUC 0.8835, AUC 0.8860, logloss 0.4302).
    /// `din train` on it runs all --epochs without early stopping and keeps the last epoch.
    #[command(verbatim_doc_comment)]
    Split {
        #[arg(long)]
        input: PathBuf,
        /// Which rows go where (see above): leave-last-out or official.
        #[arg(long, default_value_t = Protocol::LeaveLastOut)]
        protocol: Protocol,
        /// Longest history before each target, newest events kept [default: 50; official: no
        /// truncation, 100 for the BARS setting].
        #[arg(long)]
        max_len: Option<usize>,
        /// Drop users with fewer events (leave-last-out only).
        #[arg(long, default_value_t = 0)]
        drop_short: usize,
        /// Seed of the negative sampler [default: 2026; official: 1234, as the script].
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: DataCmd, ui: &Ui) -> Result<()> {
    let t0 = Instant::now();
    match cmd {
        DataCmd::Synth {
            world,
            users,
            items,
            cates,
            seed,
            out,
        } => synth_log(world, users, items, cates, seed, &out, ui, t0),
        DataCmd::FetchSample { url, out } => fetch_sample(&url, &out, ui, t0),
        DataCmd::FetchRaw {
            dir,
            reviews_url,
            meta_url,
        } => fetch_raw(&dir, [reviews_url, meta_url], ui, t0),
        DataCmd::PrepareRaw {
            reviews,
            meta,
            out,
            strict,
        } => prepare_raw(&reviews, &meta, &out, strict, ui, t0),
        DataCmd::Split {
            input,
            protocol,
            max_len,
            drop_short,
            seed,
            out,
        } => {
            let cfg = split_config(protocol, max_len, drop_short, seed)?;
            split(&input, cfg, &out, ui, t0)
        }
    }
}

/// `din data synth`: generate the world's log and its ground-truth sidecar, then report.
#[allow(clippy::too_many_arguments)] // one argument per command-line flag
fn synth_log(
    world: World,
    users: Option<usize>,
    items: Option<usize>,
    cates: Option<usize>,
    seed: u64,
    out: &Path,
    ui: &Ui,
    t0: Instant,
) -> Result<()> {
    let pb = ui.spinner("generating");
    let sidecar = synth::items_sidecar(out);
    let ev = match world {
        World::Demo => {
            if items.is_some() || cates.is_some() {
                bail!("--items/--cates apply to --world amazon; the demo world has a fixed catalogue of 96 named items");
            }
            let mut cfg = DemoConfig {
                seed,
                ..Default::default()
            };
            if let Some(u) = users {
                cfg.users = u;
            }
            let w = DemoWorld::new();
            w.write_items_csv(&sidecar)?;
            w.generate(&cfg)
        }
        World::Amazon => {
            let mut cfg = AmazonConfig {
                seed,
                ..Default::default()
            };
            cfg.users = users.unwrap_or(cfg.users);
            cfg.items = items.unwrap_or(cfg.items);
            cfg.cates = cates.unwrap_or(cfg.cates);
            if cfg.users == 0 || cfg.items == 0 || cfg.cates == 0 {
                bail!("--users, --items and --cates must be positive");
            }
            let (w, ev) = synth::amazon::generate(&cfg);
            w.write_items_csv(&sidecar)?;
            ev
        }
    };
    pb.set_message(format!("writing {}", out.display()));
    ev.write_csv(out)?;
    pb.finish_and_clear();
    let distinct = |ids: &[i64]| ids.iter().collect::<HashSet<_>>().len();
    let (users, items, cates) = (distinct(&ev.user), distinct(&ev.item), distinct(&ev.cate));
    ui.say(format!(
        "wrote {} events ({users} users, {items} items, {cates} categories) to {}; ground truth in {}",
        ev.len(),
        out.display(),
        sidecar.display()
    ));
    ui.finish(
        &json!({"out": out, "items_csv": sidecar, "events": ev.len(), "users": users,
        "items": items, "cates": cates, "seconds": t0.elapsed().as_secs_f64()}),
    )
}

/// `din data fetch-sample`.
fn fetch_sample(url: &str, out: &Path, ui: &Ui, t0: Instant) -> Result<()> {
    let pb = ui.spinner(format!("downloading {url}"));
    let ev = fetch::fetch_sample(url, out)?;
    pb.finish_and_clear();
    ui.say(format!(
        "downloaded {} events to {}",
        ev.len(),
        out.display()
    ));
    ui.finish(
        &json!({"out": out, "url": url, "events": ev.len(), "seconds": t0.elapsed().as_secs_f64()}),
    )
}

/// `din data fetch-raw`: each URL into `dir`, with a byte progress bar.
fn fetch_raw(dir: &Path, urls: [String; 2], ui: &Ui, t0: Instant) -> Result<()> {
    let mut files = Vec::new();
    for url in urls {
        let name = url.rsplit('/').next().unwrap_or("download").to_string();
        let out = dir.join(&name);
        let pb = ui.bytes(None, name.clone());
        let bytes = fetch::download(&url, &out, |done, total| {
            if let Some(t) = total {
                pb.set_length(t);
            }
            pb.set_position(done);
        })?;
        pb.finish_and_clear();
        ui.say(format!("downloaded {bytes} bytes to {}", out.display()));
        files.push(json!({"url": url, "out": out, "bytes": bytes}));
    }
    ui.finish(&json!({"files": files, "seconds": t0.elapsed().as_secs_f64()}))
}

/// `din data prepare-raw`: raw reviews + metadata → the tutorial's CSV and its raw-id map.
fn prepare_raw(
    reviews: &Path,
    meta: &Path,
    out: &Path,
    strict: bool,
    ui: &Ui,
    t0: Instant,
) -> Result<()> {
    let pb = ui.spinner("converting raw Amazon files");
    let (ev, ids, stats) = data::raw::convert(reviews, meta, strict)?;
    ev.write_csv(out)?;
    let ids_path = out.with_extension("ids.json");
    din::io::write_json(&ids_path, &ids)?;
    pb.finish_and_clear();
    ui.say(format!(
        "wrote {} events ({} users, {} items, {} categories) to {}; raw ids in {}\n\
         skipped malformed lines: {} reviews, {} metadata; items without metadata: {}; empty category paths: {}",
        stats.reviews, stats.users, stats.items, stats.cates, out.display(), ids_path.display(),
        stats.malformed_review_lines, stats.malformed_meta_lines, stats.items_without_meta,
        stats.items_with_empty_category
    ));
    let mut v = serde_json::to_value(&stats)?;
    v["out"] = json!(out);
    v["seconds"] = json!(t0.elapsed().as_secs_f64());
    ui.finish(&v)
}

/// The split's configuration from `din data split`'s flags (the protocol's defaults for the
/// ones left out), checked.
fn split_config(
    protocol: Protocol,
    max_len: Option<usize>,
    drop_short: usize,
    seed: Option<u64>,
) -> Result<SplitConfig> {
    let base = protocol.config();
    if protocol == Protocol::Official && drop_short != 0 {
        bail!("--drop-short applies to --protocol leave-last-out only (the official build_dataset.py drops no user); filter the CSV instead");
    }
    let cfg = SplitConfig {
        max_len: max_len.unwrap_or(base.max_len),
        drop_short,
        seed: seed.unwrap_or(base.seed),
        ..base
    };
    if cfg.max_len == 0 {
        bail!("--max-len must be at least 1");
    }
    Ok(cfg)
}

/// `din data split`: read the log, build the splits, write them as Parquet, report.
fn split(input: &Path, cfg: SplitConfig, out: &Path, ui: &Ui, t0: Instant) -> Result<()> {
    let pb = ui.spinner(format!("reading {}", input.display()));
    let ev = Events::read_csv(input)?;
    pb.set_message(format!("building samples from {} events", ev.len()));
    let ds = data::build(&ev, cfg)?;
    pb.set_message(format!("writing Parquet to {}", out.display()));
    ds.save(out)
        .with_context(|| format!("writing splits to {}", out.display()))?;
    pb.finish_and_clear();
    ui.say(split_summary(&ds.stats, cfg, out));
    let mut v = serde_json::to_value(&ds.stats)?;
    v["out"] = json!(out);
    v["protocol"] = serde_json::to_value(cfg.protocol)?;
    v["seed"] = json!(cfg.seed);
    v["max_len"] = if cfg.max_len == usize::MAX {
        json!(null)
    } else {
        json!(cfg.max_len)
    };
    v["seconds"] = json!(t0.elapsed().as_secs_f64());
    ui.finish(&v)
}

/// The sentence `din data split` prints: the counts, and for the official protocol what its
/// missing validation set means for `din train`.
fn split_summary(s: &SplitStats, cfg: SplitConfig, out: &Path) -> String {
    let history = if cfg.max_len == usize::MAX {
        "all earlier events".to_string()
    } else {
        format!("newest {}", cfg.max_len)
    };
    match cfg.protocol {
        Protocol::LeaveLastOut => format!(
            "{} events, {} users, {} items, {} categories → train {} / val {} / test {} rows in {} \
             (history {history}; mean train history {:.2}; single-event users {}, dropped short {})",
            s.events, s.users, s.items, s.cates, s.train_rows, s.val_rows, s.test_rows,
            out.display(), s.mean_train_history, s.users_single_event, s.users_dropped_short
        ),
        Protocol::Official => format!(
            "official protocol (build_dataset.py, seed {}): {} events, {} users, {} items, {} categories → \
             train {} / test {} rows in {} (history {history}; mean train history {:.2}; single-event users {})\n\
             no validation set: val.parquet is empty, `din train` runs all --epochs without early stopping \
             and keeps the last epoch; test is only scored, never used to select",
            cfg.seed, s.events, s.users, s.items, s.cates, s.train_rows, s.test_rows,
            out.display(), s.mean_train_history, s.users_single_event
        ),
    }
}
