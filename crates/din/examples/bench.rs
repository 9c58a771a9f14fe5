//! The Rust side of `bench/compare.sh`: where a training step's time goes, serving throughput, and
//! the FLOP lower bound with the machine's measured matmul rate.
//!
//! ```sh
//! cargo run --release --example bench -- SPLIT_DIR [BATCH_SIZES=256,4096] [STEPS=40]
//! cargo run --release --example bench -- SPLIT_DIR levers [STEPS=40]     # each lever off in turn
//! cargo run --release --example bench -- SPLIT_DIR activations [STEPS=40] # each activation vs Dice
//! cargo run --release --example bench -- SPLIT_DIR baseline [BATCH] [STEPS] # all on (DIN_NO_TUNE=1: no tune_process)
//! cargo run --release -p din --example bench -- serving [SPLIT_DIR] --json  # candidates/s, + the PyTorch DIN
//! ```
//! SPLIT_DIR is written by `din data split` (`-` for the demo world). Prints plain text and, last,
//! one JSON line. `DIN_BENCH_BATCH_NORM=1`: every model with BatchNorm in its MLPs.

use std::time::Instant;

use candle_core::{Device, Tensor};
use din::data::{plan_batches, Batch, BatchOrder, Dataset, RowRef};
use din::model::{Activation, Mode, Model, ModelConfig, ModelKind, Network, DTYPE};
use din::predict::{predict, Query};
use din::train::{bce_with_logits, TrainConfig, Trainer};
use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn dataset(arg: Option<&String>) -> Res<(String, Dataset)> {
    Ok(match arg {
        Some(dir) if dir != "-" => (dir.clone(), Dataset::load(std::path::Path::new(dir))?),
        _ => {
            let (_, ds) = din::synth::demo_dataset(2000, 2026)?;
            ("demo world (2000 users)".into(), ds)
        }
    })
}

/// Measured f32 matmul rate (GFLOP/s) at a shape typical of the attention MLP: the best of 7
/// timed rounds of 20 products after a warm-up (one round of 50 moved by ±20% between runs with
/// the cores' clock), over candle's matmul and the kernels' `din_kernels::matmul`, whichever is
/// faster — the machine's rate, so that the bound is not flattered by a slow round. Returns
/// (candle's best, the kernels' best).
fn matmul_gflops() -> Res<(f64, f64)> {
    let (m, k, n) = (4096, 256, 128);
    let a = Tensor::randn(0f32, 1.0, (m, k), &Device::Cpu)?;
    let b = Tensor::randn(0f32, 1.0, (k, n), &Device::Cpu)?;
    let (av, bv) = (
        a.flatten_all()?.to_vec1::<f32>()?,
        b.flatten_all()?.to_vec1::<f32>()?,
    );
    let flop = 2.0 * (m * k * n) as f64;
    let mut best = [0f64; 2];
    for round in 0..8 {
        for kernels in [false, true] {
            let t = Instant::now();
            for _ in 0..20 {
                if kernels {
                    let _ = din_kernels::matmul::matmul(&av, false, &bv, false, (m, n, k))?;
                } else {
                    let _ = a.matmul(&b)?;
                }
            }
            if round > 0 {
                let rate = 20.0 * flop / t.elapsed().as_secs_f64() / 1e9;
                best[kernels as usize] = best[kernels as usize].max(rate);
            }
        }
    }
    Ok((best[0], best[1]))
}

/// FLOPs per training sample that any implementation must do (no padding): forward of both
/// activation units at every real history position (first layer split as in the packed path),
/// the per-sample target part, the head; backward ≈ 2× forward.
fn flops_per_sample(cfg: &ModelConfig, mean_len: f64) -> f64 {
    let d = cfg.embed_dim as f64;
    let mlp = |input: f64, dims: &[usize]| -> f64 {
        let mut f = 0.0;
        let mut i = input;
        for &o in dims {
            f += 2.0 * i * o as f64;
            i = o as f64;
        }
        f + 2.0 * i
    };
    let a1 = *cfg.attention_dims.first().unwrap_or(&1) as f64;
    // per position: [h, t⊙h] through the first layer (2d·a1) and the rest of the unit
    let per_pos = 2.0 * 2.0 * d * a1 + mlp(a1, &cfg.attention_dims[1..]);
    let per_sample_target = 2.0 * d * a1; // (W_t + W_d)·t once per sample
    let attention = 2.0 * (mean_len * per_pos + per_sample_target);
    let head = mlp(5.0 * d, &cfg.mlp_dims);
    let fwd = match cfg.kind {
        ModelKind::Din => attention + head,
        ModelKind::Base => head,
    };
    3.0 * fwd
}

/// One configuration of the levers that make training fast.
#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    packed: bool,
    pad_to_50: bool,
    bucket: bool,
    fused: bool,
    /// Emulate dense embedding updates: an Adam step over every row of every table per batch (what
    /// a dense gradient of the tables costs), on top of the real sparse step.
    dense_tables: bool,
}

const DEFAULTS: Variant = Variant {
    name: "the defaults (packed first layer, per-batch padding, no length buckets, fused kernels, lazy sparse Adam)",
    packed: true,
    pad_to_50: false,
    bucket: false,
    fused: true,
    dense_tables: false,
};

/// `DIN_BENCH_BATCH_NORM=1`: torch-rechub's MLP layout (Linear → BatchNorm → Dice), as
/// bench/compare.sh trains it.
fn bench_batch_norm() -> bool {
    std::env::var("DIN_BENCH_BATCH_NORM").is_ok_and(|v| v == "1")
}

/// The tutorial's model configuration (with BatchNorm when [`bench_batch_norm`]).
fn model_config(kind: ModelKind) -> ModelConfig {
    ModelConfig {
        kind,
        batch_norm: bench_batch_norm(),
        ..Default::default()
    }
}

/// A fresh model, its trainer and one epoch's batch plan.
fn setup(
    ds: &Dataset,
    cfg: ModelConfig,
    bs: usize,
    bucket: bool,
) -> Res<(Model, Trainer, Vec<Vec<usize>>)> {
    let rows = ds.vocab.table_rows();
    let m = Model::new(cfg, rows, 1, &Device::Cpu, DTYPE)?;
    let tr = Trainer::new(
        &m,
        &ds.train,
        TrainConfig {
            batch_size: bs,
            ..Default::default()
        },
    )?;
    let order = BatchOrder {
        batch_size: bs,
        shuffle: Some(1),
        bucket_by_length: bucket,
    };
    Ok((m, tr, plan_batches(&ds.train, order, 1)))
}

/// DIN training throughput (samples/s) of a variant at batch size `bs` over `steps` batches.
fn variant_throughput(ds: &Dataset, v: Variant, bs: usize, steps: usize) -> Res<f64> {
    throughput(ds, model_config(ModelKind::Din), v, bs, steps)
}

/// Training throughput (samples/s) of the model `cfg` in variant `v`.
fn throughput(ds: &Dataset, cfg: ModelConfig, v: Variant, bs: usize, steps: usize) -> Res<f64> {
    let (mut m, mut tr, plan) = setup(ds, cfg, bs, v.bucket)?;
    if !v.fused {
        m = m.with_kernels(din::model::Kernels::Reference);
    }
    if !v.packed {
        m = m.with_layout(din::model::Layout::Padded);
    }
    let mut moments: Vec<(Vec<f32>, Vec<f32>)> = if v.dense_tables {
        m.embeddings()
            .tables()
            .iter()
            .map(|t| (vec![0f32; t.data.len()], vec![0f32; t.data.len()]))
            .collect()
    } else {
        vec![]
    };
    let (mut samples, mut secs) = (0usize, 0f64);
    for (k, rows) in plan.iter().take(steps + 2).enumerate() {
        let t0 = Instant::now();
        let mut b = Batch::from_split(&ds.train, rows);
        if v.pad_to_50 {
            b = b.padded_to(50);
        }
        tr.step(&mut m, &b)?;
        if v.dense_tables {
            for (t, (mm, vv)) in m
                .embeddings_mut()
                .tables_mut()
                .iter_mut()
                .zip(moments.iter_mut())
            {
                for ((w, a), c) in t.data.iter_mut().zip(mm.iter_mut()).zip(vv.iter_mut()) {
                    let g = 0f32; // rows outside the batch get a zero gradient, but are still updated
                    *a = 0.9 * *a + 0.1 * g;
                    *c = 0.999 * *c + 0.001 * g * g;
                    *w -= 1e-3 * *a / (c.sqrt() + 1e-8);
                }
            }
        }
        if k >= 2 {
            secs += t0.elapsed().as_secs_f64();
            samples += rows.len();
        }
    }
    Ok(samples as f64 / secs)
}

/// Training samples/s of DIN with each activation (head and attention units alike), without and
/// with BatchNorm, against Dice: Dice is measured first and last (machines drift) and each
/// activation is reported as a ratio to their mean.
fn activations(ds: &Dataset, bs: usize, steps: usize) -> Res<Vec<serde_json::Value>> {
    let mut out = vec![];
    for batch_norm in [false, true] {
        let cfg = |a: Activation| ModelConfig {
            activation: a,
            attention_activation: a,
            batch_norm,
            ..Default::default()
        };
        let _warm = throughput(ds, cfg(Activation::Dice), DEFAULTS, bs, 4)?;
        let first = throughput(ds, cfg(Activation::Dice), DEFAULTS, bs, steps)?;
        let mut measured = vec![];
        for a in [Activation::Prelu, Activation::Relu, Activation::Sigmoid] {
            measured.push((a, throughput(ds, cfg(a), DEFAULTS, bs, steps)?));
        }
        let last = throughput(ds, cfg(Activation::Dice), DEFAULTS, bs, steps)?;
        let dice = (first + last) / 2.0;
        println!("batch {bs}, BatchNorm {batch_norm}: dice {dice:.0} samples/s (runs {first:.0}, {last:.0})");
        out.push(
            json!({"activation": "dice", "batch_norm": batch_norm, "batch_size": bs,
                        "samples_per_s": dice, "runs": [first, last], "over_dice": 1.0}),
        );
        for (a, sps) in measured {
            println!(
                "  {:<8} {sps:>8.0} samples/s  {:.2}× Dice",
                a.name(),
                sps / dice
            );
            out.push(
                json!({"activation": a.name(), "batch_norm": batch_norm, "batch_size": bs,
                            "samples_per_s": sps, "over_dice": sps / dice}),
            );
        }
    }
    Ok(out)
}

fn levers(ds: &Dataset, bs: usize, steps: usize) -> Res<Vec<serde_json::Value>> {
    let variants = [
        Variant {
            name: "padded [B, L] layout, materialised [t, h, t−h, t⊙h]",
            packed: false,
            ..DEFAULTS
        },
        Variant {
            name: "padded layout, every batch padded to 50 (as torch-rechub)",
            packed: false,
            pad_to_50: true,
            ..DEFAULTS
        },
        Variant {
            name: "length buckets on",
            bucket: true,
            ..DEFAULTS
        },
        Variant {
            name: "no fused kernels (attention unit, Dice, bias add)",
            fused: false,
            ..DEFAULTS
        },
        Variant {
            name: "dense Adam over whole embedding tables (emulated)",
            dense_tables: true,
            ..DEFAULTS
        },
    ];
    // all-on is measured before and after the variants (machines drift); the mean is the baseline
    let _warm = variant_throughput(ds, DEFAULTS, bs, 4)?;
    let mut measured = vec![];
    for v in variants {
        measured.push((v, variant_throughput(ds, v, bs, steps)?));
    }
    let first = variant_throughput(ds, DEFAULTS, bs, steps)?;
    let last = variant_throughput(ds, DEFAULTS, bs, steps)?;
    let base = (first + last) / 2.0;
    println!("levers at batch {bs} ({steps} steps each): the defaults {base:.0} samples/s (runs {first:.0}, {last:.0})");
    let mut out = vec![
        json!({"variant": DEFAULTS.name, "batch_size": bs, "samples_per_s": base, "runs": [first, last]}),
    ];
    for (v, sps) in measured {
        println!(
            "  {:<60} {sps:>8.0} samples/s  (the defaults are {:.2}× this)",
            v.name,
            base / sps
        );
        out.push(json!({"variant": v.name, "batch_size": bs, "samples_per_s": sps, "defaults_over_variant": base / sps}));
    }
    Ok(out)
}

/// Serving: candidates scored per second for one user with a history of `hist_len` (the
/// tutorial's max_len 50 by default; `DIN_BENCH_HISTORY` changes it), at 1, 64 and 1,024
/// candidates per request: `predict` (the history side of the activation units once per request,
/// `Model::forward_request`) against the training path (`Model::forward` on one row per
/// candidate, the history repeated), which gives the same scores. Library defaults, untrained
/// weights (the cost does not depend on their values).
fn serving(ds: &Dataset) -> Res<Vec<serde_json::Value>> {
    let rows = ds.vocab.table_rows();
    let m = Model::new(ModelConfig::default(), rows, 1, &Device::Cpu, DTYPE)?;
    let hist_len: usize = std::env::var("DIN_BENCH_HISTORY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let items: Vec<i64> = (1..=ds.vocab.items.len() as u32)
        .filter_map(|i| ds.vocab.items.raw(i))
        .collect();
    let user = ds.vocab.users.raw(1).unwrap_or(0);
    let rate = |n: usize, f: &mut dyn FnMut() -> Res<()>| -> Res<(f64, f64)> {
        f()?; // warm-up
        let (mut calls, t0) = (0usize, Instant::now());
        while t0.elapsed().as_secs_f64() < 1.0 {
            f()?;
            calls += 1;
        }
        let secs = t0.elapsed().as_secs_f64();
        Ok(((calls * n) as f64 / secs, secs * 1e3 / calls as f64))
    };
    let mut serving = vec![];
    for n in [1usize, 64, 1024] {
        let q = Query {
            user,
            history: items.iter().cycle().take(hist_len).copied().collect(),
            candidates: items
                .iter()
                .cycle()
                .skip(hist_len)
                .take(n)
                .copied()
                .collect(),
        };
        let (cps, ms) = rate(n, &mut || {
            predict(&m, &ds.vocab, hist_len, &q)?;
            Ok(())
        })?;
        // the training path on the same request (ids as `predict` maps them)
        let v = &ds.vocab;
        let hi: Vec<u32> = q.history.iter().map(|&r| v.items.get_or_oov(r)).collect();
        let hc: Vec<u32> = hi.iter().map(|&i| v.cate_of(i)).collect();
        let tgt: Vec<(u32, u32)> = q
            .candidates
            .iter()
            .map(|&r| {
                let i = v.items.get_or_oov(r);
                (i, v.cate_of(i))
            })
            .collect();
        let u = v.users.get_or_oov(user);
        let (bcps, bms) = rate(n, &mut || {
            for chunk in tgt.chunks(1024) {
                let rows = chunk.iter().map(|&(ti, tc)| RowRef {
                    user: u,
                    hist_item: &hi,
                    hist_cate: &hc,
                    target_item: ti,
                    target_cate: tc,
                    label: 0.0,
                });
                m.forward(&Batch::from_rows(rows.collect::<Vec<_>>(), 0))?;
            }
            Ok(())
        })?;
        println!(
            "serving (history {hist_len}): {n:>5} candidates per request: predict {cps:>9.0} candidates/s ({ms:.3} ms), training path {bcps:>9.0} ({bms:.3} ms): {:.2}×",
            cps / bcps
        );
        serving.push(json!({"candidates": n, "history": hist_len, "candidates_per_s": cps, "ms_per_request": ms,
                            "batch_path_candidates_per_s": bcps, "batch_path_ms_per_request": bms}));
    }
    Ok(serving)
}

/// `bench serving [SPLIT_DIR] [--json]`: [`serving`] on the split (the demo world without one),
/// and the careful PyTorch DIN's eval-mode scoring (`bench/torch_din.py --epochs 0`, the same
/// history length and candidate counts) when a split directory and its Python (`PY`, default
/// /tmp/refenv/bin/python) are there. With `--json` only the JSON line is printed.
fn serving_mode(args: &[String]) -> Res<()> {
    let json_only = args.iter().any(|a| a == "--json");
    let dir = args.iter().find(|a| !a.starts_with("--"));
    let (name, ds) = dataset(dir)?;
    let ours = serving(&ds)?;
    let py = std::env::var("PY").unwrap_or_else(|_| "/tmp/refenv/bin/python".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/torch_din.py");
    let hist = std::env::var("DIN_BENCH_HISTORY").unwrap_or_else(|_| "50".into());
    let pytorch = match dir {
        Some(d) if d != "-" && std::path::Path::new(&py).exists() => {
            let out = std::process::Command::new(&py)
                .args([
                    script,
                    d,
                    "--epochs",
                    "0",
                    "--score-candidates",
                    "1,64,1024",
                ])
                .args(["--score-history", &hist])
                .output()?;
            let last = String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap_or_default()
                .to_string();
            match serde_json::from_str::<serde_json::Value>(&last) {
                Ok(v) if out.status.success() => {
                    json!({"scoring": v["scoring"], "torch_threads": v["torch_threads"]})
                }
                _ => json!({"skipped": format!("{py} {script} failed: {}",
                                               String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default())}),
            }
        }
        _ => {
            json!({"skipped": format!("needs a split directory and {py} with torch, numpy and pyarrow")})
        }
    };
    if !json_only {
        println!("data: {name}");
        for (o, k) in ours.iter().zip(0..) {
            let p = &pytorch["scoring"][k];
            println!(
                "{:>5} candidates: din predict {:>9.0}/s, training path {:>9.0}/s, careful PyTorch DIN {}",
                o["candidates"], o["candidates_per_s"].as_f64().unwrap_or(0.0),
                o["batch_path_candidates_per_s"].as_f64().unwrap_or(0.0),
                p["candidates_per_s"].as_f64().map_or("–".to_string(), |c| format!("{c:.0}/s"))
            );
        }
    }
    println!(
        "{}",
        json!({"data": name, "serving": ours, "pytorch": pytorch})
    );
    Ok(())
}

/// The vector level the kernels run at (`DIN_SIMD` caps it) and the CPU's; `gemm`'s matrix
/// products choose their own level from the CPU.
fn simd_line() -> String {
    use din_kernels::simd::{detected_simd_level, simd_level};
    format!(
        "SIMD: din_kernels at {} (CPU {}; DIN_SIMD={}); gemm's products at the CPU's level",
        simd_level(),
        detected_simd_level(),
        std::env::var("DIN_SIMD").unwrap_or_else(|_| "unset".into())
    )
}

fn main() -> Res<()> {
    // before any thread starts (see din::tune_process); DIN_NO_TUNE=1 keeps every default
    if std::env::var_os("DIN_NO_TUNE").is_none() && std::env::var_os("CANDLE_NUM_THREADS").is_none()
    {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    din::tune_process(); // a no-op with DIN_NO_TUNE=1
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serving") {
        return serving_mode(&args[1..]);
    }
    let (name, ds) = dataset(args.first())?;
    // the comparisons at two batch sizes: (mode, run, larger batch, its share of the steps)
    type Comparison = fn(&Dataset, usize, usize) -> Res<Vec<serde_json::Value>>;
    let comparisons: [(&str, Comparison, usize, usize); 2] = [
        ("levers", levers, 4096, 8),
        ("activations", activations, 1024, 4),
    ];
    for (mode, run, big, share) in comparisons {
        if args.get(1).map(String::as_str) == Some(mode) {
            let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(40);
            let mut all = run(&ds, 256, steps)?;
            all.extend(run(&ds, big, steps / share + 2)?);
            println!("{}", json!({"data": name, mode: all}));
            return Ok(());
        }
    }
    if args.get(1).map(String::as_str) == Some("baseline") {
        let bs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(256);
        let steps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(40);
        let sps = variant_throughput(&ds, DEFAULTS, bs, steps)?;
        println!(
            "batch {bs}: {sps:.0} samples/s (tune_process: {}); {}",
            std::env::var_os("DIN_NO_TUNE").is_none(),
            simd_line()
        );
        let simd = din_kernels::simd::simd_level().to_string();
        println!(
            "{}",
            json!({"batch_size": bs, "samples_per_s": sps, "tuned": std::env::var_os("DIN_NO_TUNE").is_none(), "simd": simd})
        );
        return Ok(());
    }
    let sizes: Vec<usize> = args
        .get(1)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![256, 4096]);
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(40);
    let mean_len =
        ds.train.hist_len.iter().map(|&l| l as f64).sum::<f64>() / ds.train.len().max(1) as f64;
    let (candle_gflops, kernel_gflops) = matmul_gflops()?;
    let gflops = candle_gflops.max(kernel_gflops);
    println!(
        "data: {name}; {} train rows, mean history {mean_len:.2}",
        ds.train.len()
    );
    println!("f32 matmul [4096×256]·[256×128], best of 7 rounds: candle {candle_gflops:.1} GFLOP/s, din_kernels::matmul {kernel_gflops:.1} GFLOP/s; the bound uses {gflops:.1}");
    let batch_norm = bench_batch_norm();
    println!("MLPs with BatchNorm: {batch_norm}");
    println!("{}", simd_line());
    let mut report = vec![];
    for &bs in &sizes {
        for kind in [ModelKind::Din, ModelKind::Base] {
            let cfg = model_config(kind);
            let (mut m, mut tr, plan) = setup(&ds, cfg.clone(), bs, false)?;
            // stages: 0 batch+gather, 1 attention fwd, 2 head fwd (+loss), 3 backward, 4 dense Adam, 5 sparse Adam
            let mut t = [0f64; 6];
            let mut samples = 0usize;
            let n = plan.len().min(steps + 3);
            for (k, rows) in plan.iter().take(n).enumerate() {
                // on rayon's pool, as `Trainer::step` runs
                let [t0, t1, t2, t3, t4, t5, t6] = rayon::scope(|_| -> Res<[Instant; 7]> {
                    let t0 = Instant::now();
                    let b = Batch::from_split(&ds.train, rows);
                    let (x, touched) =
                        m.embeddings()
                            .lookup_train(&b, m.layout(), m.dtype(), m.device())?;
                    let t1 = Instant::now();
                    let (logit, t2) = match m.net() {
                        Network::Din(net) => {
                            let (ii, _) = net.att_item().forward_t(
                                &x.target_item,
                                &x.hist_item,
                                &x,
                                Mode::TRAIN,
                            )?;
                            let (ic, _) = net.att_cate().forward_t(
                                &x.target_cate,
                                &x.hist_cate,
                                &x,
                                Mode::TRAIN,
                            )?;
                            let t2 = Instant::now();
                            let input = Tensor::cat(
                                &[&ii, &ic, &x.target_item, &x.target_cate, &x.user],
                                1,
                            )?;
                            (
                                net.head()
                                    .forward_t(&input, None, Mode::TRAIN)?
                                    .squeeze(1)?,
                                t2,
                            )
                        }
                        Network::Base(_) => {
                            let t2 = Instant::now();
                            (m.net().forward_t(&x, Mode::TRAIN)?.logit, t2)
                        }
                    };
                    let label = Tensor::from_slice(&b.label, b.size, m.device())?;
                    let loss = bce_with_logits(&logit, &label)?;
                    let _ = loss.to_scalar::<f32>()?;
                    let t3 = Instant::now();
                    let g = loss.backward()?;
                    let t4 = Instant::now();
                    let (dense, sparse) = tr.optimisers_mut();
                    dense.step(&g)?;
                    let t5 = Instant::now();
                    sparse.step(m.embeddings_mut(), &touched, &g, dense.step_count())?;
                    let t6 = Instant::now();
                    Ok([t0, t1, t2, t3, t4, t5, t6])
                })?;
                if k < 3 {
                    continue; // warm-up
                }
                for (s, (a, z)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6)]
                    .iter()
                    .enumerate()
                {
                    t[s] += (*z - *a).as_secs_f64();
                }
                samples += rows.len();
            }
            let total: f64 = t.iter().sum();
            let sps = samples as f64 / total;
            let bound = gflops * 1e9 / flops_per_sample(&cfg, mean_len);
            let ms = |x: f64| x * 1e3 / (n - 3).max(1) as f64;
            let kind_s = format!("{:<4}", kind.label());
            println!(
                "{kind_s} batch {bs:>5}: {sps:>8.0} samples/s ({:.0}% of the FLOP bound {bound:.0}/s); ms/step: gather {:.2}  attention fwd {:.2}  head fwd+loss {:.2}  backward {:.2}  dense Adam {:.2}  sparse Adam {:.2}",
                100.0 * sps / bound,
                ms(t[0]),
                ms(t[1]),
                ms(t[2]),
                ms(t[3]),
                ms(t[4]),
                ms(t[5])
            );
            report.push(json!({
                "model": kind, "batch_size": bs, "samples_per_s": sps, "flop_bound_samples_per_s": bound,
                "flops_per_sample": flops_per_sample(&cfg, mean_len),
                "ms_per_step": {"gather": ms(t[0]), "attention_fwd": ms(t[1]), "head_fwd_loss": ms(t[2]),
                                "backward": ms(t[3]), "dense_adam": ms(t[4]), "sparse_adam": ms(t[5])},
            }));
        }
    }
    let serving = serving(&ds)?;
    println!(
        "{}",
        json!({"data": name, "mean_history": mean_len, "matmul_gflops": gflops, "matmul_gflops_candle": candle_gflops, "matmul_gflops_kernels": kernel_gflops, "batch_norm": batch_norm, "training": report, "serving": serving})
    );
    Ok(())
}
