//! Building blocks in candle-nn style: plain structs, weights named through `VarBuilder` paths.
//!
//! * [`Dice`] — the paper's data-adaptive activation: `p(s) = sigmoid((s − E[s]) / sqrt(Var[s] + ε))`,
//!   `f(s) = p(s)·s + (1 − p(s))·α·s`, with E and Var taken **per neuron over the mini-batch** in
//!   training and from running averages in evaluation, and a learnable α per neuron.
//!   (torch-rechub's `Dice` instead normalises each row across its neurons.)
//! * [`BatchNorm`] — optional, to mirror torch-rechub's `MLP` (Linear → BatchNorm1d → activation).
//! * [`Mlp`] — hidden layers then `Linear(·, 1)`.
//!
//! Batch statistics take an optional row mask, so padded history positions never influence them
//! (torch-rechub's BatchNorm in the attention unit does see padding).
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use din::model::layers::{masked_moments, Activation, Dice, MlpConfig};
//! use din::model::{Mode, Params};
//! let (vb, dev) = (Params::seeded(7).var_builder(DType::F32, &Device::Cpu), &Device::Cpu);
//! let sig = |s: f32| 1.0 / (1.0 + (-s).exp());
//! // Dice on one neuron: α = 0, running mean 0 and variance 1; the batch has mean 2, variance 4
//! let (dice, x) = (Dice::new(1, vb.pp("dice"))?, Tensor::new(&[[0f32], [4.]], dev)?);
//! let eval = dice.forward_t(&x, None, Mode::EVAL)?.to_vec2::<f32>()?; // p(4) = sigmoid(4)
//! assert!((eval[1][0] - 4.0 * sig(4.0)).abs() < 1e-5);
//! let train = dice.forward_t(&x, None, Mode::TRAIN)?.to_vec2::<f32>()?; // sigmoid((4 − 2) / 2)
//! assert!((train[1][0] - 4.0 * sig(1.0)).abs() < 1e-5);
//! let relu = MlpConfig { dims: vec![4, 2], activation: Activation::Relu, ..Default::default() };
//! let mlp = relu.init(3, vb.pp("mlp"))?; // 3 → 4 → 2 → one unit
//! let y = mlp.forward_t(&Tensor::ones((5, 3), DType::F32, dev)?, None, Mode::EVAL)?;
//! assert_eq!(y.dims(), &[5, 1]);
//! // per column over the rows with mask 1: mean (1 + 3) / 2 = 2, variance (1² + 1²) / 2 = 1
//! let x = Tensor::new(&[[1f32, 10.], [3., 20.], [100., 30.]], dev)?;
//! let (mean, var) = masked_moments(&x, Some(&Tensor::new(&[[1f32], [1.], [0.]], dev)?))?;
//! assert_eq!(mean.to_vec2::<f32>()?, [[2.0, 15.0]]);
//! assert_eq!(var.to_vec2::<f32>()?, [[1.0, 25.0]]);
//! # Ok::<(), candle_core::Error>(())
//! ```

mod activation;
mod batch_norm;
mod dice;
mod fused;
mod linear;
mod mlp;
mod prelu;
mod rechub_dice;
mod running;

pub use activation::{Act, Activation};
pub use batch_norm::BatchNorm;
pub use dice::Dice;
pub use linear::{Linear, LinearInit};
pub use mlp::{Hidden, LayerOptions, Mlp, MlpConfig};
pub use prelu::Prelu;
pub use rechub_dice::RechubDice;
pub use running::masked_moments;
