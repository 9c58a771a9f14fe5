//! Learning per epoch, side by side with `bench/torch_din.py` (the careful PyTorch DIN): train the
//! library's DIN on a split directory and print the test AUC after every epoch, so that both
//! sides' curves come from the same rows. Used by `bench/parity.sh` for the ablation table in
//! bench/README.md.
//!
//! ```sh
//! cargo run --release -p din --example parity -- SPLIT_DIR [EPOCHS=3] [BATCH=256] [KEY=VALUE ...]
//! ```
//! `KEY=VALUE` set fields of the model and training configurations (JSON values, as in a run's
//! `config.json`), e.g. `model.dice_momentum=0.01 model.linear_init="kaiming-normal"
//! train.embedding_weight_decay=true`. Prints one JSON line.

use std::time::Instant;

use candle_core::Device;
use din::data::Dataset;
use din::model::{Model, ModelConfig, DTYPE};
use din::train::{evaluate, Progress, TrainConfig, Trainer};
use serde_json::{json, Value};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Set `key` (a top-level field) of a serialisable configuration to the JSON `value`.
fn set_field<T: serde::Serialize + serde::de::DeserializeOwned>(
    cfg: &T,
    key: &str,
    value: &str,
) -> Res<T> {
    let mut v = serde_json::to_value(cfg)?;
    let obj = v.as_object_mut().ok_or("configuration is not an object")?;
    if !obj.contains_key(key) {
        return Err(format!(
            "no field `{key}` (fields: {:?})",
            obj.keys().collect::<Vec<_>>()
        )
        .into());
    }
    let parsed: Value =
        serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    obj.insert(key.to_string(), parsed);
    Ok(serde_json::from_value(v)?)
}

fn main() -> Res<()> {
    din::tune_process();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().ok_or(
        "usage: parity SPLIT_DIR [EPOCHS] [BATCH] [model.KEY=VALUE | train.KEY=VALUE ...]",
    )?;
    let mut positional = args[1..].iter().filter(|a| !a.contains('='));
    let epochs: usize = positional.next().map_or(Ok(3), |s| s.parse())?;
    let batch: usize = positional.next().map_or(Ok(256), |s| s.parse())?;
    let ds = Dataset::load(std::path::Path::new(dir))?;
    let mut mcfg = ModelConfig::default();
    let mut tcfg = TrainConfig {
        epochs,
        batch_size: batch,
        patience: 0,
        ..TrainConfig::default()
    };
    for kv in args[1..].iter().filter(|a| a.contains('=')) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k.split_once('.') {
            Some(("model", f)) => mcfg = set_field(&mcfg, f, v)?,
            Some(("train", f)) => tcfg = set_field(&tcfg, f, v)?,
            _ => return Err(format!("`{kv}`: expected model.KEY=VALUE or train.KEY=VALUE").into()),
        }
    }
    let rows = ds.vocab.table_rows();
    let mut model = Model::new(mcfg.clone(), rows, tcfg.seed, &Device::Cpu, DTYPE)?;
    let mut trainer = Trainer::new(&model, &ds.train, tcfg.clone())?;
    let train = trainer.train_rows(&ds.train);
    let empty = din::data::Split::default(); // no validation: every epoch is kept
    let mut out = vec![];
    let mut cum = 0.0;
    for epoch in 1..=epochs {
        let t0 = Instant::now();
        trainer.epoch(&mut model, &train, &empty, epoch, &mut |_: Progress| {})?;
        cum += t0.elapsed().as_secs_f64();
        let mut scored = model.clone();
        scored.fill_oov_rows();
        let m = evaluate(&scored, &ds.test, 4096)?;
        eprintln!("epoch {epoch}: test AUC {:.4}, {cum:.1} s", m.auc);
        out.push(json!({"epoch": epoch, "cum_train_s": cum, "test_auc": m.auc, "test_logloss": m.logloss}));
    }
    println!(
        "{}",
        json!({"impl": "din", "train_rows": train.len(), "test_rows": ds.test.len(), "batch_size": batch,
               "model": mcfg, "train": tcfg, "epochs": out,
               "train_samples_per_s": (train.len() * epochs) as f64 / cum})
    );
    Ok(())
}
