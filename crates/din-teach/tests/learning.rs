//! Learning on the demo world, with the tutorial's own settings (`din tutorial`): DIN beats the
//! base model on test AUC, its attention ranks same-interest history items above the others
//! (attention AUC against the world's ground truth ≥ 0.9), and the tutorial's example comes out as
//! the tutorial says.

use din_teach::tutorial::{self, TutorialConfig};

#[test]
fn din_beats_base_and_attention_finds_the_interests() {
    let cfg = TutorialConfig::default();
    let r = tutorial::run(&cfg, None, &mut |_, _| {}).unwrap();
    println!("{}", r.table());
    assert!(
        r.din.test.auc > r.base.test.auc + 0.01,
        "DIN {:.4} vs base {:.4}",
        r.din.test.auc,
        r.base.test.auc
    );
    assert!(r.din.test.gauc > r.base.test.gauc);
    let att = r
        .attention_auc
        .expect("attention AUC is defined on the demo world");
    assert!(att >= 0.9, "attention AUC {att:.4}");
    assert!(r.example_as_tutorial, "{:?}", r.example);
    // the report's figures render
    let figs = tutorial::figures(&r).unwrap();
    assert_eq!(figs.len(), 5);
    assert!(figs.iter().all(|(_, svg)| svg.0.contains("<svg")));
}

/// A network written outside `din::model` (dot-product attention over the padded history, then
/// one linear layer), trained by the library's `fit` through the `Trainable` trait.
struct DotAttention {
    head: candle_nn::Linear,
}

impl din::model::Trainable for DotAttention {
    fn forward_t(
        &self,
        x: &din::model::Lookup,
        _mode: din::model::Mode,
    ) -> candle_core::Result<din::model::Output> {
        use candle_core::{Module, Tensor};
        // score_i = <target, h_i>, softmax over the real positions, weighted sum
        let score = x
            .hist_item
            .broadcast_mul(&x.target_item.unsqueeze(1)?)?
            .sum(2)?;
        let w = din::model::masked_softmax(&score, &x.mask)?;
        let interest = w.unsqueeze(2)?.broadcast_mul(&x.hist_item)?.sum(1)?;
        let input = Tensor::cat(
            &[
                &interest,
                &x.target_item,
                &(&interest * &x.target_item)?,
                &x.user,
            ],
            1,
        )?;
        Ok(din::model::Output {
            logit: self.head.forward(&input)?.squeeze(1)?,
            attention: None,
        })
    }
}

#[test]
fn a_network_of_your_own_trains_through_fit() {
    use candle_core::Device;
    use din::model::{Layout, Model, ModelConfig, DTYPE};
    use din::train::{fit, predict_split, TrainConfig};

    let (_world, ds) = tutorial::demo_dataset(600, 2026).unwrap();
    let cfg = ModelConfig {
        embed_dim: 16,
        ..Default::default()
    };
    let rows = ds.vocab.table_rows();
    let mut model = Model::custom(cfg, rows, 7, &Device::Cpu, DTYPE, |vb| {
        Ok(DotAttention {
            head: candle_nn::linear(4 * 16, 1, vb.pp("head"))?,
        })
    })
    .unwrap()
    .with_layout(Layout::Padded);
    let before = model.tensors().unwrap()["head.weight"]
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let train_cfg = TrainConfig {
        epochs: 3,
        batch_size: 128,
        lr: 5e-3,
        ..Default::default()
    };
    let mut epochs_seen = 0;
    let history = fit(&mut model, &ds.train, &ds.val, &train_cfg, &mut |p| {
        if let din::train::Progress::EpochEnd(_) = p {
            epochs_seen += 1;
        }
    })
    .unwrap();
    assert_eq!(history.epochs.len(), epochs_seen);
    assert!(history.best_epoch >= 1 && !history.steps.is_empty());
    let after = model.tensors().unwrap()["head.weight"]
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_ne!(before, after, "fit did not change the network's weights");
    let probs = predict_split(&model, &ds.test, 4096).unwrap();
    let test_auc = din::metrics::auc(&probs, &ds.test.label).unwrap();
    println!(
        "custom network: test AUC {test_auc:.4}, best epoch {}",
        history.best_epoch
    );
    assert!(
        test_auc > 0.6,
        "test AUC {test_auc:.4}: no better than chance"
    );
    // the history plots like a built-in model's
    let val: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .map(|e| (e.epoch as f64, e.val.auc))
        .collect();
    let fig = din::plot::lines(
        "val AUC",
        "epoch",
        "AUC",
        &[din::plot::Series::new("custom", val)],
    )
    .unwrap();
    assert!(fig.0.contains("<svg"));
}
