//! Named configurations for `din train --preset NAME`: the library's defaults, and the
//! BARS/FuxiCTR benchmark's DIN on `AmazonElectronics_x1`, so that a run on the real data can be
//! put next to a published number. Options given on the command line override the preset's.
//!
//! ```
//! use din::preset::Preset;
//! use din::data::Protocol;
//! let p: Preset = "bars-x1".parse().unwrap();
//! assert_eq!(p.model().mlp_dims, [1024, 512, 256]);
//! assert_eq!(p.split().protocol, Protocol::Official); // the split BARS used
//! assert_eq!(p.split().max_len, 100);
//! assert!("bars".parse::<Preset>().unwrap_err().contains("bars-x1"));
//! ```
//!
//! ## `bars-x1`: what it takes from BARS, and what it cannot
//!
//! Source: `reczoo/BARS`, `ranking/ctr/DIN/DIN_amazonelectronics_x1/README.md` (FuxiCTR 2.0.1,
//! experiment `DIN_amazonelectronics_x1_015_8539c013`, its logged parameters): gAUC 0.883526,
//! AUC 0.886028, logloss 0.430190 on 384,806 test rows after training on 2,608,764.
//!
//! Taken as logged: embedding 64; attention MLP `[512, 256]` with Dice; head MLP
//! `[1024, 512, 256]` with Dice; batch normalisation in the MLPs (`batch_norm: True`); softmax over
//! the attention scores (`din_use_softmax: True`); Adam, learning rate 5e-4, no weight decay
//! (`net_regularizer: 0`); batch 1024; histories of at most 100 items; the official
//! `build_dataset.py` split (train and test only).
//!
//! Not reproduced, and what it changes:
//! - dropout 0.1 in both MLPs (`net_dropout`, `attention_dropout`): `din` has no dropout;
//! - `embedding_regularizer: 0.005`, an L2 penalty on the embedding tables: not mapped (the nearest
//!   option here is the paper's mini-batch aware regulariser, `--mba-lambda`, a different penalty);
//! - the learning rate divided by 10 whenever the monitored gAUC stopped rising: BARS's logged
//!   gAUC rose 0.8392 → 0.8598 over its first four epochs at 5e-4 and the jump to 0.8764 and
//!   0.8835 came after the drops; `din train` keeps one learning rate, so the preset stops after
//!   four epochs;
//! - BARS monitored, early-stopped and selected its model on the **test** rows (its `valid_data`
//!   is `test.csv`), a choice this project does not copy: with the official split there is no
//!   validation set, every epoch runs and the last one is kept;
//! - `user_id` is a `meta` field there (used only to group gAUC), so BARS's DIN has no user
//!   embedding; `din`'s DIN always has one.
//!
//! So a run with this preset should land below the published gAUC; by how much on the real data
//! is for the user's run to tell, not this page.
//!
//! ## `torch-rechub`: the tutorial's code, layer for layer
//!
//! The model the seed tutorial builds with torch-rechub 0.9.0 (`DIN(features, history_features,
//! target_features, mlp_params={"dims": [256, 128]}, attention_mlp_params={"dims": [256, 128]})`
//! with `target_features = features = [target_item, target_cate, user_id]`), so that a run can be
//! exported to PyTorch (`din export --to torch-rechub`) and loaded there under torch-rechub's own
//! state_dict names:
//! - the head sees `[V_item, V_cate, t_item, t_cate, user, t_item, t_cate, user]`
//!   ([`HeadInput::TorchRechub`](crate::model::HeadInput), 8 × 64 inputs);
//! - Linear → BatchNorm1d → activation in every hidden layer of both MLPs (torch-rechub's `MLP`);
//! - torch-rechub's Dice ([`Activation::RechubDice`]: each row normalised across its neurons,
//!   one α per layer, ε = 1e-3) in both MLPs;
//! - embeddings drawn from N(0, 1e-4) (torch-rechub's `RandomNormal(0, 0.0001)`);
//! - Adam with L2 weight decay 1e-3 (`torch.optim.Adam(lr=1e-3, weight_decay=1e-3)`), batch 256.
//!
//! What stays `din`'s: padding is masked (torch-rechub also weights the padding positions; an
//! exported model has zero padding rows, so PyTorch computes the same scores), BatchNorm
//! statistics in the attention unit come from real positions only, α starts at 0 (torch-rechub
//! draws it from N(0, 1)), the split is the leak-free default, and the tutorial's batch of 16 is
//! 256 here.

use crate::data::SplitConfig;
use crate::model::{Activation, HeadInput, ModelConfig, WeightNorm};
use crate::train::{OptimizerKind, TrainConfig};

/// A named configuration (model, training, split).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// The library's defaults ([`ModelConfig::default`], [`TrainConfig::default`],
    /// [`SplitConfig::default`]: the leak-free leave-last-out split with validation).
    #[default]
    Default,
    /// BARS/FuxiCTR's DIN on `AmazonElectronics_x1` (see the module docs for what differs).
    BarsX1,
    /// The tutorial's torch-rechub DIN, exportable to torch-rechub (see the module docs).
    TorchRechub,
}

impl Preset {
    /// The model configuration.
    pub fn model(self) -> ModelConfig {
        match self {
            Preset::Default => ModelConfig::default(),
            Preset::BarsX1 => ModelConfig {
                embed_dim: 64,
                attention_dims: vec![512, 256],
                mlp_dims: vec![1024, 512, 256],
                activation: Activation::Dice,
                attention_activation: Activation::Dice,
                weight_norm: WeightNorm::Softmax,
                batch_norm: true,
                // FuxiCTR's Dice: `nn.BatchNorm1d(input_dim, affine=False, eps=1e-9,
                // momentum=0.01)` (fuxictr/pytorch/layers/activations.py)
                dice_momentum: ModelConfig::LEGACY_DICE_MOMENTUM,
                ..ModelConfig::default()
            },
            // the default's sizes (embed 64, MLPs 256-128) and raw weights, as the tutorial's
            Preset::TorchRechub => ModelConfig {
                activation: Activation::RechubDice,
                attention_activation: Activation::RechubDice,
                batch_norm: true,
                embed_init_std: 1e-4,
                head_input: HeadInput::TorchRechub,
                ..ModelConfig::default()
            },
        }
    }

    /// The training configuration.
    pub fn train(self) -> TrainConfig {
        match self {
            Preset::Default => TrainConfig::default(),
            Preset::BarsX1 => TrainConfig {
                epochs: 4,
                batch_size: 1024,
                lr: 5e-4,
                weight_decay: 0.0,
                optimizer: OptimizerKind::Adam,
                ..TrainConfig::default()
            },
            Preset::TorchRechub => TrainConfig {
                lr: 1e-3,
                weight_decay: 1e-3,
                optimizer: OptimizerKind::Adam,
                ..TrainConfig::default()
            },
        }
    }

    /// How a CSV is split (a split directory keeps its own).
    pub fn split(self) -> SplitConfig {
        match self {
            Preset::Default | Preset::TorchRechub => SplitConfig::default(),
            Preset::BarsX1 => SplitConfig {
                max_len: 100,
                ..SplitConfig::official()
            },
        }
    }
}

crate::names::named_enum!(Preset, "preset", {
    Default => "default",
    BarsX1 => "bars-x1",
    TorchRechub => "torch-rechub",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_names_round_trip() {
        for &(p, name) in Preset::NAMES {
            assert_eq!(name.parse::<Preset>().unwrap(), p);
            assert_eq!(p.name(), name);
            p.model().validate().unwrap();
            p.train().validate().unwrap();
        }
        assert_eq!(Preset::Default.model(), ModelConfig::default());
        let b = Preset::BarsX1;
        assert_eq!(
            (b.model().attention_dims, b.train().batch_size, b.train().lr),
            (vec![512, 256], 1024, 5e-4)
        );
        assert_eq!(b.model().weight_norm, WeightNorm::Softmax);
        assert_eq!(b.train().optimizer, OptimizerKind::Adam);
    }
}
