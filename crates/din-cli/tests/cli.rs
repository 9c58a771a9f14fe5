//! The `din` binary end to end: bad input gives one line naming file, line and column and exit
//! code 1; a training run killed with SIGKILL mid-epoch resumes to the uninterrupted run's metrics;
//! predict and explain handle unseen ids.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn din() -> Command {
    Command::new(env!("CARGO_BIN_EXE_din"))
}

/// A scratch directory, removed when the test passes (kept when it fails).
fn scratch(name: &str) -> din::io::TestDir {
    din::io::test_dir(&format!("cli-{name}"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn last_json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "exit code");
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn synth_demo(dir: &Path, users: usize) -> PathBuf {
    let csv = dir.join("demo.csv");
    let out = run(din()
        .args([
            "data",
            "synth",
            "--world",
            "demo",
            "--users",
            &users.to_string(),
            "--seed",
            "5",
            "--out",
        ])
        .arg(&csv));
    assert!(out.status.success());
    csv
}

const SMALL: [&str; 12] = [
    "--embed-dim",
    "8",
    "--attention-dims",
    "16,8",
    "--mlp-dims",
    "16,8",
    "--epochs",
    "3",
    "--batch-size",
    "64",
    "--patience",
    "0",
];

#[test]
fn bad_csv_is_one_line_naming_file_line_and_column() {
    let d = scratch("badcsv");
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "missing.csv",
            "user_id,item_id,time\n1,2,3\n",
            &["missing.csv", "cate_id"],
        ),
        (
            "type.csv",
            "user_id,item_id,time,cate_id\n1,2,3,4\n1,x7,4,4\n",
            &["type.csv:3", "item_id"],
        ),
        (
            "negative.csv",
            "user_id,item_id,time,cate_id\n1,2,3,4\n-5,2,4,4\n",
            &["negative.csv:3", "user_id"],
        ),
        ("empty.csv", "", &["empty.csv", "empty"]),
    ];
    for (name, text, needles) in cases {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        let out = run(din()
            .args(["data", "split", "--out"])
            .arg(d.join("split"))
            .arg("--input")
            .arg(&p));
        let err = one_line_error(&out);
        for n in needles {
            assert!(err.contains(n), "{name}: `{err}` lacks `{n}`");
        }
    }
    // bad configuration values are refused with the field named
    let csv = synth_demo(&d, 50);
    let out = run(din()
        .args(["train", "--batch-size", "0", "--out"])
        .arg(d.join("r"))
        .arg("--data")
        .arg(&csv));
    assert!(one_line_error(&out).contains("batch_size"));
    let out = run(din()
        .args(["train", "--lr=-1", "--out"])
        .arg(d.join("r2"))
        .arg("--data")
        .arg(&csv));
    assert!(one_line_error(&out).contains("lr"));
    let out = run(din()
        .args(["train", "--mlp-dims", "", "--out"])
        .arg(d.join("r3"))
        .arg("--data")
        .arg(&csv));
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap rejects an empty dims list"
    );
}

#[test]
fn sigkill_mid_epoch_then_resume_matches_uninterrupted_run() {
    let d = scratch("resume");
    let csv = synth_demo(&d, 300);
    let full = last_json(&run(din()
        .args(["--json", "train"])
        .args(SMALL)
        .arg("--data")
        .arg(&csv)
        .arg("--out")
        .arg(d.join("full"))));
    assert_eq!(full["epochs_run"], 3);
    let steps_per_epoch = {
        let h: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("full/history.json")).unwrap()).unwrap();
        h["steps"].as_array().unwrap().len() / 3
    };
    // pause in the middle of epoch 2, then SIGKILL
    let pause = steps_per_epoch + steps_per_epoch / 2;
    let killed_dir = d.join("killed");
    let mut child = din()
        .args(["--json", "train"])
        .args(SMALL)
        .arg("--data")
        .arg(&csv)
        .arg("--out")
        .arg(&killed_dir)
        .args(["--pause-at-step", &pause.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("paused at step") {
                let _ = tx.send(line);
            }
        }
    });
    let t0 = Instant::now();
    let line = rx
        .recv_timeout(Duration::from_secs(300))
        .expect("child reached the pause");
    assert_eq!(line, format!("paused at step {pause}"));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(t0.elapsed() < Duration::from_secs(300));
    // the last completed epoch (1) is a loadable run
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(killed_dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["epochs_run"], 1);

    let resumed = last_json(&run(din()
        .args(["--json", "train", "--resume"])
        .arg(&killed_dir)));
    assert_eq!(resumed["resumed_from"], 1);
    for k in [
        "test_auc",
        "test_gauc",
        "test_logloss",
        "best_val_auc",
        "best_epoch",
        "epochs_run",
    ] {
        assert_eq!(resumed[k], full[k], "{k}");
    }
    // evaluating the run again gives the same test metrics
    let ev = last_json(&run(din()
        .args(["--json", "eval", "--run"])
        .arg(&killed_dir)));
    assert_eq!(ev["auc"], full["test_auc"]);
}

#[test]
fn train_json_predict_and_explain_with_unseen_ids() {
    let d = scratch("predict");
    let csv = synth_demo(&d, 200);
    let run_dir = d.join("run");
    let j = last_json(&run(din()
        .args([
            "--json",
            "train",
            "--epochs",
            "1",
            "--embed-dim",
            "8",
            "--attention-dims",
            "8",
            "--mlp-dims",
            "8",
        ])
        .arg("--data")
        .arg(&csv)
        .arg("--out")
        .arg(&run_dir)));
    for k in [
        "test_auc",
        "test_gauc",
        "test_logloss",
        "best_val_auc",
        "epochs_run",
        "train_rows",
        "train_s",
        "train_samples_per_s",
    ] {
        assert!(j[k].is_number(), "{k} in {j}");
    }
    // demo item ids 0..96: 0 篮球鞋 … (see the items sidecar); 123456 was never seen
    let p = last_json(&run(din()
        .args([
            "--json",
            "predict",
            "--user",
            "-3",
            "--history",
            "0,1,123456",
            "--candidates",
            "2,999999",
            "--run",
        ])
        .arg(&run_dir)));
    assert_eq!(p["unseen_user"], true);
    assert_eq!(p["unseen_history"], serde_json::json!([123456]));
    assert_eq!(p["unseen_candidates"], serde_json::json!([999999]));
    assert_eq!(p["ctr"].as_array().unwrap().len(), 2);
    let svg = d.join("x.svg");
    let out = run(din()
        .args([
            "explain",
            "--user",
            "1",
            "--history",
            "0,1,2",
            "--candidates",
            "2,3",
            "--run",
        ])
        .arg(&run_dir)
        .arg("--svg")
        .arg(&svg));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("history") && text.contains("CTR"), "{text}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let png = std::fs::read(d.join("x.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG beside the SVG");
    // a missing run is one clear line
    let out = run(din()
        .args(["predict", "--user", "1", "--candidates", "2", "--run"])
        .arg(d.join("nope")));
    assert!(one_line_error(&out).contains("nope"));
}

#[test]
fn official_protocol_splits_without_validation_and_trains_without_early_stopping() {
    let d = scratch("official");
    let csv = synth_demo(&d, 80);
    let split = d.join("split");
    let j = last_json(&run(din()
        .args([
            "--json",
            "data",
            "split",
            "--protocol",
            "official",
            "--max-len",
            "20",
            "--input",
        ])
        .arg(&csv)
        .arg("--out")
        .arg(&split)));
    assert_eq!(j["protocol"], "official", "{j}");
    assert_eq!(j["seed"], 1234, "{j}");
    assert_eq!(j["max_len"], 20, "{j}");
    assert_eq!(j["val_rows"], 0, "{j}");
    assert!(j["train_rows"].as_u64().unwrap() > 0 && j["test_rows"].as_u64().unwrap() > 0);
    assert!(split.join("val.parquet").is_file());
    // no truncation unless asked; the text output says there is no validation set
    let out = run(din()
        .args(["data", "split", "--protocol", "official", "--input"])
        .arg(&csv)
        .arg("--out")
        .arg(d.join("split_all")));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("no validation set") && text.contains("all earlier events"),
        "{text}"
    );
    let out = run(din()
        .args([
            "data",
            "split",
            "--protocol",
            "official",
            "--drop-short",
            "3",
            "--input",
        ])
        .arg(&csv)
        .arg("--out")
        .arg(d.join("split_bad")));
    assert!(one_line_error(&out).contains("--drop-short"));

    // training on it: all epochs, the last one kept, even with a patience that would stop it
    let run_dir = d.join("run");
    let out = run(din()
        .arg("train")
        .args(&SMALL[..10])
        .args(["--patience", "1", "--data"])
        .arg(&split)
        .arg("--out")
        .arg(&run_dir));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("no validation rows") && text.contains("last epoch 3"),
        "{text}"
    );
    assert!(!text.contains("val AUC"), "{text}");
    // the undefined validation metrics (NaN, JSON null) read back: resuming the finished run works
    let j = last_json(&run(din()
        .args(["--json", "train", "--resume"])
        .arg(&run_dir)));
    assert_eq!(j["validation"], false, "{j}");
    assert_eq!(j["epochs_run"], 3, "{j}");
    assert_eq!(j["best_epoch"], 3, "{j}");
    assert_eq!(j["stopped_early"], false, "{j}");
    let out = run(din()
        .args(["eval", "--split", "val", "--run"])
        .arg(&run_dir));
    assert!(one_line_error(&out).contains("no validation set"));
    let j = last_json(&run(din().args(["--json", "eval", "--run"]).arg(&run_dir)));
    assert!(j["auc"].as_f64().unwrap() > 0.0, "{j}");
}

#[test]
fn eval_writes_scores_that_give_its_metrics_and_scikit_learns() {
    let d = scratch("scores");
    let csv = synth_demo(&d, 150);
    let run_dir = d.join("run");
    let out = run(din()
        .arg("train")
        .args(&SMALL[..6])
        .args(["--epochs", "1", "--data"])
        .arg(&csv)
        .arg("--out")
        .arg(&run_dir));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = d.join("scores.parquet");
    let j = last_json(&run(din()
        .args(["--json", "eval", "--predictions"])
        .arg(&file)
        .arg("--run")
        .arg(&run_dir)));
    let scores = din::data::read_scores(&file).unwrap();
    assert_eq!(scores.len() as u64, j["rows"].as_u64().unwrap(), "{j}");
    // the ids are the CSV's raw ids, every row named
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (cu, ci) = (col("user_id"), col("item_id"));
    let mut users = std::collections::HashSet::new();
    let mut items = std::collections::HashSet::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        users.insert(f[cu].parse::<i64>().unwrap());
        items.insert(f[ci].parse::<i64>().unwrap());
    }
    assert!(scores.user_id.iter().all(|u| users.contains(&u.unwrap())));
    assert!(scores
        .target_item
        .iter()
        .all(|i| items.contains(&i.unwrap())));
    assert!(scores.target_cate.iter().all(Option::is_some));
    assert!(scores.label.contains(&1.0) && scores.label.contains(&0.0));
    assert!(scores.score.iter().all(|s| (0.0..=1.0).contains(s)));
    assert_eq!(scores.row, (0..scores.len() as u32).collect::<Vec<_>>());
    // the metrics it printed are those of the scores it wrote (users by raw id: same grouping)
    let dense: std::collections::HashMap<i64, u32> = scores
        .user_id
        .iter()
        .map(|u| u.unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .zip(0..)
        .collect();
    let uid: Vec<u32> = scores.user_id.iter().map(|u| dense[&u.unwrap()]).collect();
    let m = din::metrics::Metrics::compute(&scores.score, &scores.label, &uid);
    for (k, v) in [("auc", m.auc), ("gauc", m.gauc), ("logloss", m.logloss)] {
        assert!(
            (j[k].as_f64().unwrap() - v).abs() < 1e-12,
            "{k}: {v} vs {j}"
        );
    }
    // and scikit-learn agrees, when it is installed (DIN_PYTHON picks the interpreter)
    let python = std::env::var("DIN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn_metrics.py");
    match Command::new(&python).arg(&script).arg(&file).output() {
        Err(e) => eprintln!("skipped the scikit-learn comparison: cannot run {python}: {e}"),
        Ok(o) if o.status.code() == Some(3) => eprintln!(
            "skipped the scikit-learn comparison: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let sk: serde_json::Value =
                serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
            assert_eq!(sk["rows"], j["rows"]);
            for k in ["auc", "gauc", "logloss"] {
                let (a, b) = (sk[k].as_f64().unwrap(), j[k].as_f64().unwrap());
                assert!((a - b).abs() < 1e-6, "{k}: scikit-learn {a} vs din {b}");
            }
            eprintln!("scikit-learn agrees: {sk}");
        }
    }
    // a path that cannot be written is one line naming it
    let out = run(din()
        .args(["eval", "--predictions"])
        .arg(d.join("scores.parquet/nested/x.parquet"))
        .arg("--run")
        .arg(&run_dir));
    assert!(one_line_error(&out).contains("scores.parquet"));
}

/// `tools/check_rechub_export.py` under `DIN_PYTHON` (default python3): `None` with the printed
/// reason when torch or torch-rechub cannot be imported, so CI never depends on torch.
fn rechub_python(args: &[&std::ffi::OsStr]) -> Option<serde_json::Value> {
    let python = std::env::var("DIN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/check_rechub_export.py");
    match Command::new(&python).arg(&script).args(args).output() {
        Err(e) => {
            eprintln!("skipped the torch-rechub check: cannot run {python}: {e}");
            None
        }
        Ok(o) if o.status.code() == Some(3) => {
            eprintln!(
                "skipped the torch-rechub check: {} (set DIN_PYTHON to a Python with torch-rechub 0.9.0)",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success(),
                "{}\n{stdout}",
                String::from_utf8_lossy(&o.stderr)
            );
            let j: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
            eprintln!("torch-rechub: {j}");
            Some(j)
        }
    }
}

#[test]
fn torch_rechub_export_import_and_explain() {
    let d = scratch("rechub");
    let csv = synth_demo(&d, 150);
    let split = d.join("split");
    assert!(run(din()
        .args(["data", "split", "--input"])
        .arg(&csv)
        .arg("--out")
        .arg(&split))
    .status
    .success());
    let run_dir = d.join("run");
    let out = run(din()
        .args(["train", "--preset", "torch-rechub"])
        .args(&SMALL[..6])
        .args(["--epochs", "1", "--batch-size", "64", "--data"])
        .arg(&split)
        .arg("--out")
        .arg(&run_dir));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = d.join("state.safetensors");
    let j = last_json(&run(din()
        .args(["--json", "export", "--to", "torch-rechub"])
        .arg(&run_dir)
        .arg(&state)));
    // 3 tables + per attention unit 2 layers × (2 linear + 5 BatchNorm + 1 alpha) + 2 output,
    // the same for the head: 3 + 3 × 18
    assert_eq!(j["tensors"], 3 + 3 * 18, "{j}");
    let scores = d.join("scores.parquet");
    assert!(run(din()
        .args(["eval", "--predictions"])
        .arg(&scores)
        .arg("--run")
        .arg(&run_dir))
    .status
    .success());
    let ours = din::data::read_scores(&scores).unwrap();

    // export → import: the same scores, and explain works on the imported run
    let back = d.join("back");
    let out = run(din()
        .args(["import", "--from", "torch-rechub"])
        .arg(&state)
        .arg("--data")
        .arg(&split)
        .arg("--out")
        .arg(&back));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("padding is masked"));
    let scores_back = d.join("scores_back.parquet");
    assert!(run(din()
        .args(["eval", "--predictions"])
        .arg(&scores_back)
        .arg("--run")
        .arg(&back))
    .status
    .success());
    let theirs = din::data::read_scores(&scores_back).unwrap();
    assert_eq!(ours.row, theirs.row);
    for (a, b) in ours.score.iter().zip(&theirs.score) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let svg = d.join("explain.svg");
    let out = run(din()
        .args([
            "explain",
            "--user",
            "1",
            "--history",
            "0,1,2",
            "--candidates",
            "2,3",
            "--run",
        ])
        .arg(&back)
        .arg("--svg")
        .arg(&svg));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(svg.is_file());

    // a model that cannot be exported: one line naming the option
    let paper = d.join("paper");
    assert!(run(din()
        .arg("train")
        .args(&SMALL[..6])
        .args(["--epochs", "1", "--data"])
        .arg(&split)
        .arg("--out")
        .arg(&paper))
    .status
    .success());
    let out = run(din()
        .args(["export", "--to", "torch-rechub"])
        .arg(&paper)
        .arg(d.join("x.safetensors")));
    assert!(one_line_error(&out).contains("head_input = din"));
    // a state_dict trained on other ids: the row counts and the vocabulary are named
    let other = d.join("other_split");
    let csv2 = d.join("other.csv");
    assert!(run(din()
        .args(["data", "synth", "--world", "demo", "--users", "90", "--seed", "8", "--out"])
        .arg(&csv2))
    .status
    .success());
    assert!(run(din()
        .args(["data", "split", "--input"])
        .arg(&csv2)
        .arg("--out")
        .arg(&other))
    .status
    .success());
    let out = run(din()
        .args(["import", "--from", "torch-rechub"])
        .arg(&state)
        .arg("--data")
        .arg(&other)
        .arg("--out")
        .arg(d.join("bad")));
    let err = one_line_error(&out);
    assert!(err.contains("vocab.json") && err.contains("rows"), "{err}");

    // din → torch-rechub: PyTorch's scores equal `din eval`'s (when torch-rechub is importable)
    let _ = rechub_python(&[
        "check".as_ref(),
        state.as_os_str(),
        split.as_os_str(),
        scores.as_os_str(),
    ]);
    // torch-rechub → din: a model trained by torch-rechub's own CTRTrainer, non-zero padding rows
    let trained = d.join("trained.safetensors");
    let want = d.join("trained_scores.json");
    let made = rechub_python(&[
        "make".as_ref(),
        split.as_os_str(),
        trained.as_os_str(),
        want.as_os_str(),
        "--epochs".as_ref(),
        "1".as_ref(),
    ]);
    if made.is_some() {
        let imported = d.join("imported");
        let out = run(din()
            .args(["import", "--from", "torch-rechub"])
            .arg(&trained)
            .arg("--data")
            .arg(&split)
            .arg("--out")
            .arg(&imported));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let f = d.join("imported_scores.parquet");
        assert!(run(din()
            .args(["eval", "--predictions"])
            .arg(&f)
            .arg("--run")
            .arg(&imported))
        .status
        .success());
        let got = din::data::read_scores(&f).unwrap();
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&want).unwrap()).unwrap();
        let want = want["score"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        let worst = got
            .score
            .iter()
            .zip(want)
            .map(|(g, w)| (*g as f64 - w.as_f64().unwrap()).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-5,
            "imported model differs from torch-rechub by {worst}"
        );
        eprintln!(
            "torch-rechub → din: {} test rows, largest difference {worst:.2e}",
            got.len()
        );
    }
}
