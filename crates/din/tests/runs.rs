//! Run directories: checkpoints load bit-identically, bad checkpoints are clear errors, a NaN stops
//! training and keeps the last completed epoch, resuming gives the uninterrupted run's metrics,
//! same seed gives the same metrics, and prediction handles unseen ids, empty and long histories.

use std::path::Path;

use candle_core::Device;
use din::checkpoint::{self, RunConfig};
use din::data::{Batch, Dataset};
use din::model::{ModelConfig, ModelKind};
use din::predict::{predict, Query};
use din::run::{train_in_dir, RunOptions, STATE_FILE};
use din::train::{predict_split, TrainConfig};
use din::Error;

fn small_dataset() -> Dataset {
    let (_, ds) = din::synth::demo_dataset(300, 11).unwrap();
    ds
}

fn small_config(kind: ModelKind, epochs: usize) -> RunConfig {
    RunConfig {
        format: checkpoint::FORMAT,
        model: ModelConfig {
            kind,
            embed_dim: 8,
            attention_dims: vec![16, 8],
            mlp_dims: vec![16, 8],
            ..Default::default()
        },
        train: TrainConfig {
            epochs,
            batch_size: 64,
            lr: 2e-3,
            patience: 0,
            ..Default::default()
        },
        split: din::data::SplitConfig {
            seed: 11,
            ..Default::default()
        },
        data: "demo-300".into(),
    }
}

fn train(
    dir: &Path,
    ds: &Dataset,
    cfg: &RunConfig,
    opts: &RunOptions,
) -> din::Result<din::run::TrainedRun> {
    train_in_dir(dir, ds, cfg, &Device::Cpu, opts, &mut |_| {})
}

#[test]
fn saved_run_predicts_bit_identically_and_bad_checkpoints_are_errors() {
    let ds = small_dataset();
    let dir = din::io::test_dir("runs_roundtrip");
    let run_dir = dir.join("run");
    let cfg = small_config(ModelKind::Din, 1);
    let trained = train(&run_dir, &ds, &cfg, &RunOptions::default()).unwrap();
    let before = predict_split(&trained.model, &ds.test, 256).unwrap();
    let loaded = checkpoint::load(&run_dir, &Device::Cpu).unwrap();
    let after = predict_split(&loaded.model, &ds.test, 256).unwrap();
    assert_eq!(before, after, "bit-identical predictions after loading");
    assert_eq!(loaded.config, cfg);
    let (metrics, history) = checkpoint::read_reports(&run_dir).unwrap();
    assert_eq!(metrics.unwrap().epochs_run, 1);
    assert_eq!(history.unwrap().epochs.len(), 1);

    // A second training into the same directory is refused (it would mix two runs).
    let again = train(&run_dir, &ds, &cfg, &RunOptions::default());
    assert!(matches!(again, Err(Error::Config(m)) if m.contains("already holds a run")));

    let copy = |name: &str| {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for f in ["config.json", "vocab.json", "model.safetensors"] {
            std::fs::copy(run_dir.join(f), d.join(f)).unwrap();
        }
        d
    };
    let err = |d: &Path| match checkpoint::load(d, &Device::Cpu) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{} loaded", d.display()),
    };
    // missing file
    let d = copy("missing");
    std::fs::remove_file(d.join("model.safetensors")).unwrap();
    assert!(err(&d).contains("missing model.safetensors"), "{}", err(&d));
    // truncated weights
    let d = copy("truncated");
    let bytes = std::fs::read(d.join("model.safetensors")).unwrap();
    std::fs::write(d.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    assert!(err(&d).contains("truncated or corrupted"), "{}", err(&d));
    // corrupted header
    let d = copy("corrupted");
    let mut bytes = std::fs::read(d.join("model.safetensors")).unwrap();
    for b in bytes.iter_mut().skip(8).take(40) {
        *b = b'#';
    }
    std::fs::write(d.join("model.safetensors"), &bytes).unwrap();
    assert!(err(&d).contains("truncated or corrupted"), "{}", err(&d));
    // a config that does not match the weights, and a run of the other model kind
    let edited = |name: &str, from: &str, to: &str| {
        let d = copy(name);
        let text = std::fs::read_to_string(d.join("config.json")).unwrap();
        std::fs::write(d.join("config.json"), text.replace(from, to)).unwrap();
        d
    };
    for d in [
        edited("mismatch", "\"embed_dim\": 8", "\"embed_dim\": 16"),
        edited("kind", "\"kind\": \"din\"", "\"kind\": \"base\""),
    ] {
        assert!(
            err(&d).contains("does not match config.json"),
            "{}",
            err(&d)
        );
    }
    // not a run at all
    assert!(err(&dir.join("nope")).contains("does not exist"));
}

#[test]
fn nan_keeps_last_epoch_and_resume_equals_uninterrupted_run() {
    let ds = small_dataset();
    let dir = din::io::test_dir("runs_resume");
    let cfg = small_config(ModelKind::Din, 3);

    let full = train(&dir.join("full"), &ds, &cfg, &RunOptions::default()).unwrap();
    let steps_per_epoch = full.history.steps.len() as u64 / 3;

    // Same seed, same data ⇒ the same metrics, to the last digit.
    let twin = train(&dir.join("twin"), &ds, &cfg, &RunOptions::default()).unwrap();
    assert_eq!(full.metrics.test, twin.metrics.test);
    assert_eq!(full.metrics.best_val_auc, twin.metrics.best_val_auc);

    // The loss becomes NaN in the middle of epoch 2: an error naming the step; epoch 1 is kept.
    let broken = dir.join("broken");
    let nan_step = steps_per_epoch + steps_per_epoch / 2;
    let opts = RunOptions {
        resume: false,
        fault: din::train::Fault::nan_at_step(nan_step),
        ..RunOptions::default()
    };
    let e = train(&broken, &ds, &cfg, &opts)
        .err()
        .expect("NaN must stop training");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("at step {nan_step}")) && msg.contains("epoch 1"),
        "{msg}"
    );
    let kept = checkpoint::load(&broken, &Device::Cpu).unwrap();
    let (_, h) = checkpoint::read_reports(&broken).unwrap();
    assert_eq!(
        h.unwrap().epochs.len(),
        1,
        "the checkpoint of epoch 1 is what is kept"
    );
    assert!(predict_split(&kept.model, &ds.test, 256)
        .unwrap()
        .iter()
        .all(|p| p.is_finite()));

    // Resume: same final metrics as the uninterrupted run.
    let resumed = train(
        &broken,
        &ds,
        &cfg,
        &RunOptions {
            resume: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(resumed.resumed_from, Some(1));
    assert_eq!(resumed.metrics.test, full.metrics.test);
    assert_eq!(resumed.history.epochs.len(), 3);
    for (a, b) in resumed.history.epochs.iter().zip(&full.history.epochs) {
        assert_eq!(a.val, b.val);
        assert_eq!(a.train_loss, b.train_loss);
    }

    // Resuming with another configuration, or without a state, is refused with a reason.
    let other = RunConfig {
        train: TrainConfig {
            lr: 1e-2,
            ..cfg.train.clone()
        },
        ..cfg.clone()
    };
    let e = train(
        &broken,
        &ds,
        &other,
        &RunOptions {
            resume: true,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("`train` differs"), "{e}");
    let e = train(
        &dir.join("empty"),
        &ds,
        &cfg,
        &RunOptions {
            resume: true,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("nothing to resume"), "{e}");
    // A truncated training state is a clear error, not a panic.
    let st = broken.join(STATE_FILE);
    let bytes = std::fs::read(&st).unwrap();
    std::fs::write(&st, &bytes[..bytes.len() / 3]).unwrap();
    let e = train(
        &broken,
        &ds,
        &cfg,
        &RunOptions {
            resume: true,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("truncated or corrupted"), "{e}");
}

#[test]
fn unwritable_output_and_full_disk_fail_before_training() {
    let ds = small_dataset();
    let dir = din::io::test_dir("runs_unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let cfg = small_config(ModelKind::Base, 1);
    // train into `out`; also says whether training reported any progress (it started)
    let attempt = |out: &Path, opts: &RunOptions| {
        let mut started = false;
        let r = train_in_dir(out, &ds, &cfg, &Device::Cpu, opts, &mut |_| started = true);
        (r, started)
    };
    let (r, started) = attempt(&file.join("run"), &RunOptions::default());
    assert!(r.is_err() && !started);
    assert!(matches!(r, Err(Error::Io { .. })));
    // the free-space probe answers on this platform, and a disk with less free space than the
    // run needs is refused before training starts (asking to keep more bytes free than any disk
    // has stands in for a full disk)
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert!(din::io::free_bytes(&dir).is_some_and(|b| b > 0));
        let full = RunOptions {
            keep_free_bytes: u64::MAX / 2,
            ..RunOptions::default()
        };
        let (r, started) = attempt(&dir.join("full"), &full);
        let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!started && msg.contains("MB free"), "{msg}");
        assert!(
            msg.contains(&dir.join("full").display().to_string()),
            "{msg}"
        );
        assert!(!dir.join("full").join("config.json").exists());
        // with room to spare the same directory trains
        assert!(attempt(&dir.join("full"), &RunOptions::default()).0.is_ok());
    }
}

#[test]
fn prediction_reports_unseen_ids_and_handles_empty_and_long_histories() {
    let ds = small_dataset();
    let dir = din::io::test_dir("runs_predict");
    let cfg = small_config(ModelKind::Din, 1);
    let run = train(&dir.join("run"), &ds, &cfg, &RunOptions::default()).unwrap();
    let v = &ds.vocab;
    let known: Vec<i64> = (1..=5).map(|i| v.items.raw(i).unwrap()).collect();
    let user = v.users.raw(1).unwrap();

    // unseen user and items: mapped to the OOV rows and reported, not an error
    let q = Query {
        user: -42,
        history: vec![known[0], 999_999, known[1]],
        candidates: vec![known[2], 888_888],
    };
    let p = predict(&run.model, v, 50, &q).unwrap();
    assert!(p.unseen_user);
    assert_eq!(p.unseen_history, vec![999_999]);
    assert_eq!(p.unseen_candidates, vec![888_888]);
    assert!(p.ctr.iter().all(|c| c.is_finite() && *c > 0.0 && *c < 1.0));
    // the OOV rows are the mean of the known rows
    let t = &run.model.embeddings().tables()[0];
    let mean0: f64 = (1..t.rows - 1).map(|r| t.row(r)[0] as f64).sum::<f64>() / (t.rows - 2) as f64;
    assert!((t.row(t.rows - 1)[0] as f64 - mean0).abs() < 1e-5);

    // empty history
    let p = predict(
        &run.model,
        v,
        50,
        &Query {
            user,
            history: vec![],
            candidates: known.clone(),
        },
    )
    .unwrap();
    assert_eq!(p.ctr.len(), 5);
    assert!(p
        .item_attention
        .as_ref()
        .unwrap()
        .iter()
        .all(|w| w.is_empty()));

    // longer than max_len: the most recent max_len are kept, and scores equal the truncated query
    let long: Vec<i64> = (0..8).map(|k| known[k % 5]).collect();
    let p = predict(
        &run.model,
        v,
        3,
        &Query {
            user,
            history: long.clone(),
            candidates: known.clone(),
        },
    )
    .unwrap();
    assert_eq!(p.truncated, 5);
    assert_eq!(p.history, long[5..].to_vec());
    let p2 = predict(
        &run.model,
        v,
        3,
        &Query {
            user,
            history: long[5..].to_vec(),
            candidates: known.clone(),
        },
    )
    .unwrap();
    assert_eq!(p.ctr, p2.ctr);

    // the library's batch scoring agrees with the per-query path
    let rows: Vec<usize> = (0..8).collect();
    let b = Batch::from_split(&ds.test, &rows);
    let direct = run.model.predict(&b).unwrap();
    let via_split = predict_split(&run.model, &ds.test.select(&rows), 1024).unwrap();
    for (a, b) in direct.iter().zip(&via_split) {
        assert!((a - b).abs() < 1e-6);
    }
}
