//! The notebooks' cached tutorial model (`din_teach::tutorial::cached_din`): trained once, loaded
//! again only for the same configuration and world, a damaged cache trains again.

use din::model::{ModelConfig, ModelKind};
use din::train::{predict_split, TrainConfig};

#[test]
fn cached_tutorial_model_is_reused_only_for_the_same_configuration() {
    use din_teach::tutorial::{cached_din, TutorialConfig};
    let (_, ds) = din::synth::demo_dataset(300, 11).unwrap();
    let cfg = TutorialConfig {
        users: 300,
        seed: 11,
        model: ModelConfig {
            kind: ModelKind::Din,
            embed_dim: 8,
            attention_dims: vec![16, 8],
            mlp_dims: vec![16, 8],
            ..Default::default()
        },
        train: TrainConfig {
            epochs: 1,
            batch_size: 64,
            lr: 2e-3,
            patience: 0,
            ..Default::default()
        },
    };
    let scratch = din::io::test_dir("tutorial_cache");
    let dir = scratch.join("din");
    let mut epochs_seen = 0;
    let first = cached_din(&ds, &cfg, &dir, &mut |p| {
        if matches!(p, din::train::Progress::EpochEnd(_)) {
            epochs_seen += 1;
        }
    })
    .unwrap();
    assert!(first.loaded_from.is_none(), "nothing cached yet: trains");
    assert_eq!(epochs_seen, 1);
    assert!(dir.join("config.json").is_file());

    let mut trained_again = false;
    let second = cached_din(&ds, &cfg, &dir, &mut |_| trained_again = true).unwrap();
    assert!(!trained_again, "same configuration: loads, no training");
    assert_eq!(second.loaded_from.as_deref(), Some(dir.as_path()));
    assert_eq!(second.history, first.history);
    let p1 = predict_split(&first.model, &ds.test, 512).unwrap();
    let p2 = predict_split(&second.model, &ds.test, 512).unwrap();
    assert_eq!(p1, p2, "loaded model predicts bit-identically");

    // another learning rate: the cached run does not match, so it trains (and replaces the cache)
    let other = TutorialConfig {
        train: TrainConfig {
            lr: 1e-3,
            ..cfg.train.clone()
        },
        ..cfg.clone()
    };
    let third = cached_din(&ds, &other, &dir, &mut |_| {}).unwrap();
    assert!(third.loaded_from.is_none(), "other configuration: trains");
    let fourth = cached_din(&ds, &other, &dir, &mut |_| {}).unwrap();
    assert!(fourth.loaded_from.is_some());

    // a damaged cache is a miss, not an error: it trains again
    std::fs::write(dir.join("history.json"), "{ not json").unwrap();
    let damaged = cached_din(&ds, &other, &dir, &mut |_| {}).unwrap();
    assert!(damaged.loaded_from.is_none());
    std::fs::write(dir.join("model.safetensors"), b"truncated").unwrap();
    let damaged = cached_din(&ds, &other, &dir, &mut |_| {}).unwrap();
    assert!(damaged.loaded_from.is_none());
    assert!(cached_din(&ds, &other, &dir, &mut |_| {})
        .unwrap()
        .loaded_from
        .is_some());

    // another world (other users): the vocabulary differs, so it trains
    let (_, ds2) = din::synth::demo_dataset(200, 11).unwrap();
    let other_world = TutorialConfig {
        users: 200,
        ..other.clone()
    };
    let fifth = cached_din(&ds2, &other_world, &dir, &mut |_| {}).unwrap();
    assert!(fifth.loaded_from.is_none());
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
