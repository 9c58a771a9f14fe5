fn main() {
    din::tune_allocator();
    let mut cfg = din::tutorial::TutorialConfig::default();
    let a: Vec<String> = std::env::args().collect();
    if let Some(e) = a.get(1) {
        cfg.train.epochs = e.parse().unwrap();
    }
    if let Some(e) = a.get(2) {
        cfg.train.batch_size = e.parse().unwrap();
    }
    if let Some(e) = a.get(3) {
        cfg.train.lr = e.parse().unwrap();
    }
    if let Some(e) = a.get(4) {
        cfg.users = e.parse().unwrap();
    }
    if let Ok(n) = std::env::var("NORM") {
        cfg.model.weight_norm = serde_json::from_str(&format!("\"{n}\"")).unwrap();
    }
    if let Ok(n) = std::env::var("SEED") {
        cfg.train.seed = n.parse().unwrap();
    }
    let r = din::tutorial::run(&cfg, Some(std::path::Path::new("/tmp/tut")), &mut |k, p| {
        if let din::train::Progress::EpochEnd(e) = p {
            eprintln!(
                "{k:?} epoch {} loss {:.4} val auc {:.4} {:.0}/s",
                e.epoch, e.train_loss, e.val.auc, e.samples_per_s
            )
        }
    })
    .unwrap();
    println!("{}\n{:.1}s", r.table(), r.seconds);
}
