//! The paper's two tricks on notebook 5's demo world (800 users, 3 epochs, the tutorial's model
//! configuration), over several training seeds: one run cannot tell a few thousandths of AUC from
//! seed noise. Prints the test AUC of DIN with Dice, with PReLU, with mini-batch aware
//! regularisation (λ = 0.1) on top, and without any regularisation, per seed.
//!
//! ```sh
//! cargo run --release -p din-teach --example tricks_seeds [SEEDS=2026,1,2,3]
//! ```
mod common;

use din::metrics::Metrics;
use din::model::{Activation, ModelConfig, ModelKind};
use din::synth::demo_dataset;
use din::train::{predict_split, TrainConfig};
use din_teach::tutorial::{train_model, TutorialConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    din::tune_process();
    let seeds: Vec<u64> = common::seeds_arg(&[2026, 1, 2, 3])?;
    let (_world, ds) = demo_dataset(800, 2026)?;
    let tut = TutorialConfig::default();
    let train = TrainConfig {
        epochs: 3,
        ..tut.train.clone()
    };
    let prelu = ModelConfig {
        activation: Activation::Prelu,
        attention_activation: Activation::Prelu,
        ..tut.model.clone()
    };
    println!("seed   Dice     PReLU    Dice+MBA  no reg   (test AUC)");
    for seed in seeds {
        let t = TrainConfig {
            seed,
            ..train.clone()
        };
        let mba = TrainConfig {
            mba_lambda: 0.1,
            ..t.clone()
        };
        let no_reg = TrainConfig {
            mba_lambda: 0.0,
            weight_decay: 0.0,
            ..t.clone()
        };
        let mut aucs = Vec::new();
        for (m, tc) in [
            (&tut.model, &t),
            (&prelu, &t),
            (&tut.model, &mba),
            (&tut.model, &no_reg),
        ] {
            let (model, _) = train_model(&ds, ModelKind::Din, m, tc, &mut |_| {})?;
            let p = predict_split(&model, &ds.test, 4096)?;
            aucs.push(Metrics::compute(&p, &ds.test.label, &ds.test.user).auc);
        }
        println!(
            "{seed:<6} {:.4}   {:.4}   {:.4}    {:.4}",
            aucs[0], aucs[1], aucs[2], aucs[3]
        );
    }
    Ok(())
}
