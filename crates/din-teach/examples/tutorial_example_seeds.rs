//! The tutorial's example (history 篮球鞋, 连衣裙, 篮球, 口红; candidates 篮球 and 口红) on
//! notebooks 2–3's demo world (2000 users, world seed 2026), over several training seeds, with the
//! attention weights normalised by a softmax (the tutorial run's setting) and by a sigmoid on each
//! weight (the tutorial text's: "最终权重需要经过sigmoid"). Prints, per seed, both candidates'
//! weights and what [`din_teach::tutorial::ExampleCheck`] finds.
//!
//! ```sh
//! cargo run --release -p din-teach --example tutorial_example_seeds [SEEDS=2026,1,2,3]
//! ```
mod common;

use din::model::{ModelKind, WeightNorm};
use din::synth::demo_dataset;
use din::train::TrainConfig;
use din_teach::tutorial::{train_model, tutorial_example, ExampleCheck, TutorialConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    din::tune_process();
    let seeds: Vec<u64> = common::seeds_arg(&[2026, 1, 2, 3])?;
    let tut = TutorialConfig::default();
    let (world, ds) = demo_dataset(tut.users, tut.seed)?;
    for norm in [WeightNorm::Softmax, WeightNorm::Sigmoid] {
        let model_cfg = din::model::ModelConfig {
            weight_norm: norm,
            ..tut.model.clone()
        };
        for &seed in &seeds {
            let train = TrainConfig {
                seed,
                ..tut.train.clone()
            };
            let (model, _) = train_model(&ds, ModelKind::Din, &model_cfg, &train, &mut |_| {})?;
            let p = tutorial_example(&model, &world, &ds)?;
            let check = ExampleCheck::of(&p).ok_or("no attention weights")?;
            println!("weights {norm:?}, training seed {seed}:\n{check}\n");
        }
    }
    Ok(())
}
