//! `use din_teach::prelude::*;` — the one `use` line of every notebook.
//!
//! It brings the crates themselves (`din`, `candle_core`, `candle_nn`, `polars`: write
//! `din::model::masked_mean` or `candle_core::Tensor` as anywhere else), this crate's
//! [`tutorial`] and [`exercises`] modules, and the names the
//! notebooks use in more than one place: the data, the model and its configuration, training,
//! metrics, figures, the demo world, and a few of `std`'s. A name that a cell defines itself (a
//! learner's own `fn auc`, say) takes precedence over the prelude's, so the prelude never stands in
//! the way of writing an operation from scratch.
//!
//! ```
//! use din_teach::prelude::*;
//!
//! // the prelude's `auc` and a learner's own version agree on a hand-computed case
//! let s = [0.9, 0.2, 0.6, 0.4];
//! let y = [1.0, 0.0, 1.0, 0.0];
//! assert_eq!(auc(&s, &y), Some(1.0));
//! let t: Tensor = Tensor::new(&[1f32, 2.0], &Device::Cpu)?;
//! assert_eq!(t.dims(), &[2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::exercises::{DiceLayerWeights, DinSteps, UnitSteps, UnitWeights};
pub use crate::{enter_repo_root, exercises, repo_root, tutorial};
pub use candle_core::{self, DType, Device, Tensor, Var};
pub use candle_nn::{self, AdamW, Init, Module, Optimizer, ParamsAdamW, VarBuilder, VarMap};
pub use din::{self, tune_process};
pub use polars::{self, prelude::CsvReadOptions, prelude::DataFrame, prelude::SerReader};

pub use crate::tutorial::{
    cached_din, example_as_tutorial, train_model, CachedModel, ExampleCheck, TutorialConfig,
    EXAMPLE_CANDIDATES, EXAMPLE_HISTORY,
};
pub use din::analysis::{attention_auc, embedding_rows, pca2};
pub use din::checkpoint::{read_reports, RunMetrics};
pub use din::data::{
    build, plan_batches, torch_rechub_positive_rows, Batch, BatchOrder, Dataset, Events, RowRef,
    Split, SplitConfig,
};
pub use din::metrics::{area, auc, gauc, rela_impr, roc_points, Metrics};
pub use din::model::{
    masked_mean, masked_softmax, Activation, AttentionInput, Kernels, Layout, Lookup, Mode, Model,
    ModelConfig, ModelKind, Network, Output, Params, TableId, Trainable, WeightNorm, DTYPE,
};
pub use din::plot::{self, Baseline, HeatScale, Series, Svg};
pub use din::predict::{predict, Prediction, Query};
pub use din::synth::{demo_dataset, DemoConfig, DemoWorld};
pub use din::train::{bce_with_logits, fit, predict_split, History, Progress, TrainConfig};

pub use std::collections::BTreeMap;
pub use std::path::{Path, PathBuf};
pub use std::time::Instant;
