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

use candle_core::{Result, Tensor, Var};
use candle_nn::{Init, Module, ModuleT, VarBuilder};
use din_kernels::mlp::{LayerStats, Stack};
use serde::{Deserialize, Serialize};

use super::ops::{self, FlatMlp, Mode};

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Dice,
    Prelu,
    Relu,
    Sigmoid,
    /// torch-rechub's `Dice` ([`RechubDice`]): each row normalised across its own neurons, one
    /// shared α, no running statistics. For the `torch-rechub` preset and imported models.
    #[serde(rename = "rechub-dice")]
    RechubDice,
}

crate::names::named_enum!(Activation, "activation", {
    Dice => "dice",
    Prelu => "prelu",
    Relu => "relu",
    Sigmoid => "sigmoid",
    RechubDice => "rechub-dice",
});

/// Mean and (biased) variance per column of `x: [N, D]` over the rows where `mask: [N, 1]` is 1.
pub fn masked_moments(x: &Tensor, mask: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
    match mask {
        None => {
            let mean = x.mean_keepdim(0)?;
            let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
            Ok((mean, var))
        }
        Some(m) => {
            let count = m.sum_all()?.maximum(1.0)?;
            let mean = x.broadcast_mul(m)?.sum_keepdim(0)?.broadcast_div(&count)?;
            let var = x
                .broadcast_sub(&mean)?
                .sqr()?
                .broadcast_mul(m)?
                .sum_keepdim(0)?
                .broadcast_div(&count)?;
            Ok((mean, var))
        }
    }
}

/// Running statistics (not trained; updated by training forwards, used in evaluation).
#[derive(Debug, Clone)]
struct Running {
    mean: Var,
    var: Var,
    /// Weight of the new batch in the running average.
    momentum: f64,
}

impl Running {
    fn new(dim: usize, momentum: f64, vb: &VarBuilder) -> Result<Self> {
        let mean = vb.get_with_hints(dim, "running_mean", Init::Const(0.0))?;
        let var = vb.get_with_hints(dim, "running_var", Init::Const(1.0))?;
        // `Params` creates variables, so these share storage with the stored parameters.
        Ok(Running {
            mean: Var::from_tensor(&mean)?,
            var: Var::from_tensor(&var)?,
            momentum,
        })
    }

    /// Statistics to normalise with: the batch's (updating the running ones) or the running ones.
    fn stats(&self, x: &Tensor, mask: Option<&Tensor>, train: bool) -> Result<(Tensor, Tensor)> {
        if !train {
            let m = self.mean.as_tensor().unsqueeze(0)?;
            let v = self.var.as_tensor().unsqueeze(0)?;
            return Ok((m, v));
        }
        let (mean, var) = masked_moments(x, mask)?;
        self.update(&mean.squeeze(0)?, &var.squeeze(0)?)?;
        Ok((mean, var))
    }

    /// Fold batch statistics `[D]` into the running averages.
    fn update(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        let k = self.momentum;
        for (r, b) in [(&self.mean, mean), (&self.var, var)] {
            let new = (r.as_tensor().affine(1.0 - k, 0.0)? + b.detach().affine(k, 0.0)?)?;
            r.set(&new)?;
        }
        Ok(())
    }
}

/// Dice (paper, section 5.2, "Data Adaptive Activation Function"). The running statistics used in evaluation move towards each
/// training batch's by [`Dice::MOMENTUM`] = 0.1 (PyTorch's `BatchNorm1d` default);
/// [`Dice::with_momentum`] changes it (the official DIN code's TensorFlow batch norm: 0.01).
///
/// # Shapes
/// * input `x`: `[N, D]` (N rows, D neurons); optional `mask`: `[N, 1]`, 1 for the rows that count
///   in the training statistics;
/// * output: `[N, D]`.
///
/// Weights under the layer's `VarBuilder` path: `alpha [D]` (trained), `running_mean [D]`,
/// `running_var [D]` (running statistics). With candle's [`ModuleT`], `x.apply_t(&dice, train)`
/// runs it without a mask on the default (fused) kernels.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use din::model::{Dice, Params};
/// let dice = Dice::new(2, Params::seeded(1).var_builder(DType::F32, &Device::Cpu).pp("act"))?;
/// let x = Tensor::new(&[[1f32, -2.], [3., 4.]], &Device::Cpu)?;
/// // α starts at 0 and the running statistics at mean 0, variance 1: in evaluation the layer is
/// // x · sigmoid(x / √(1 + ε))
/// let y = x.apply_t(&dice, false)?.to_vec2::<f32>()?;
/// let want = 3.0 / (1.0 + (-3f32).exp());
/// assert!((y[1][0] - want).abs() < 1e-5);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dice {
    alpha: Tensor,
    running: Running,
    eps: f64,
}

impl Dice {
    /// Weight of a training batch's statistics in the running averages: 0.1, as PyTorch's
    /// `BatchNorm1d`. With the official code's 0.01 the evaluation statistics still carry their
    /// initial mean 0 / variance 1 after a few hundred steps, while the weights have moved on:
    /// one epoch of 50,000 rows at batch 256 tested 0.8463 instead of 0.9481 (bench/README.md,
    /// "Learning per epoch").
    pub const MOMENTUM: f64 = 0.1;

    /// The same layer with running statistics that move by `momentum` per training batch.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.running.momentum = momentum;
        self
    }

    /// The weight of a training batch in the running statistics.
    pub fn momentum(&self) -> f64 {
        self.running.momentum
    }

    pub fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Dice {
            alpha: vb.get_with_hints(dim, "alpha", Init::Const(0.0))?,
            running: Running::new(dim, Dice::MOMENTUM, &vb)?,
            eps: 1e-8,
        })
    }

    /// The learnable slope α `[D]`.
    pub fn alpha(&self) -> &Tensor {
        &self.alpha
    }

    /// The ε added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Fold a training batch's statistics `[D]` into the running averages (for kernels that
    /// compute Dice themselves, see [`Mlp::update_running`]).
    pub fn update_running(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        self.running.update(mean, var)
    }

    /// `x: [N, D]`; `mask: [N, 1]` excludes rows from the batch statistics.
    pub fn forward_t(&self, x: &Tensor, mask: Option<&Tensor>, mode: Mode) -> Result<Tensor> {
        if mask.is_none() && mode.fused_on(x) {
            let fixed = (!mode.train)
                .then(|| (self.running.mean.as_tensor(), self.running.var.as_tensor()));
            let (y, batch) = ops::dice(x, &self.alpha, fixed, self.eps)?;
            if let Some((m, v)) = batch {
                self.running.update(&m, &v)?;
            }
            return Ok(y);
        }
        self.forward_composed(x, mask, mode.train)
    }

    /// Dice from tensor ops (any device, masks); the reference for the fused CPU kernel.
    pub fn forward_composed(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let (mean, var) = self.running.stats(x, mask, train)?;
        let norm = x
            .broadcast_sub(&mean)?
            .broadcast_div(&(var + self.eps)?.sqrt()?)?;
        dice_gate(x, &candle_nn::ops::sigmoid(&norm)?, &self.alpha)
    }
}

/// Both Dice variants' output from the switch `p` and the slope(s) `alpha`:
/// `p·x + (1 − p)·α·x = x·(α + p·(1 − α))`.
fn dice_gate(x: &Tensor, p: &Tensor, alpha: &Tensor) -> Result<Tensor> {
    let gate = p
        .broadcast_mul(&alpha.affine(-1.0, 1.0)?)?
        .broadcast_add(alpha)?;
    x * gate
}

impl ModuleT for Dice {
    /// No mask, the default kernels ([`Mode::TRAIN`] or [`Mode::EVAL`]).
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Dice::forward_t(self, x, None, if train { Mode::TRAIN } else { Mode::EVAL })
    }
}

/// PReLU with one slope per neuron (initialised at 0.25, as in PyTorch): `max(0, x) + α·min(0, x)`.
///
/// # Shapes
/// * input `x`: `[N, D]`; output: `[N, D]`;
/// * weight: `alpha [D]` (name `alpha` under the layer's path). Implements candle's [`Module`].
///
/// ```
/// use candle_core::{DType, Device, Module, Tensor};
/// use din::model::{layers::Prelu, Params};
/// let vb = Params::seeded(1).var_builder(DType::F32, &Device::Cpu);
/// let prelu = Prelu::new(2, vb.pp("act"))?;
/// let y = prelu.forward(&Tensor::new(&[[2f32, -2.], [-4., 0.5]], &Device::Cpu)?)?;
/// assert_eq!(y.to_vec2::<f32>()?, [[2.0, -0.5], [-1.0, 0.5]]); // the negative side × 0.25
/// assert_eq!(prelu.alpha().dims(), &[2]);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Prelu {
    alpha: Tensor,
}

impl Prelu {
    pub fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Prelu {
            alpha: vb.get_with_hints(dim, "alpha", Init::Const(0.25))?,
        })
    }

    /// The slope α `[dim]` of the negative side.
    pub fn alpha(&self) -> &Tensor {
        &self.alpha
    }
}

impl Module for Prelu {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // max(0, x) + α·min(0, x)
        let pos = x.relu()?;
        let neg = (x - &pos)?;
        pos + neg.broadcast_mul(&self.alpha)?
    }
}

/// torch-rechub's `Dice` (`torch_rechub/basic/activation.py`, version 0.9.0), kept so that models
/// of the tutorial's exact torch-rechub layout can be trained, exported and imported:
/// for a row `x` of `D` neurons, `m = mean(x)`, `v = Σ_j ((x_j − m)² + ε)` (a **sum**, ε = 1e-3),
/// `p = sigmoid((x − m) / sqrt(v))`, `f(x) = p·x + (1 − p)·α·x` with one α shared by the layer.
/// It looks at one row only, so training and evaluation compute the same function. It is not the
/// paper's Dice ([`Dice`]: per-neuron statistics over the mini-batch).
///
/// # Shapes
/// * input `x`: `[N, D]`; output: `[N, D]`;
/// * weight: `alpha [1]` (name `alpha`). Implements candle's [`Module`].
///
/// ```
/// use candle_core::{DType, Device, Module, Tensor};
/// use din::model::{Params, RechubDice};
/// let vb = Params::seeded(1).var_builder(DType::F32, &Device::Cpu);
/// let dice = RechubDice::new(vb.pp("act"))?; // α = 0: f(x) = p·x
/// // one row [1, −1]: mean 0, v = (1 + ε) + (1 + ε), p = sigmoid(±1 / √v)
/// let y = dice.forward(&Tensor::new(&[[1f32, -1.]], &Device::Cpu)?)?.to_vec2::<f32>()?;
/// let p = 1.0 / (1.0 + (-1.0 / 2.002f32.sqrt()).exp());
/// assert!((y[0][0] - p).abs() < 1e-6 && (y[0][1] + (1.0 - p)).abs() < 1e-6);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RechubDice {
    alpha: Tensor,
    eps: f64,
}

impl RechubDice {
    /// `alpha` is one scalar (`[1]`), initialised at 0 (torch-rechub draws it from N(0, 1)).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        Ok(RechubDice {
            alpha: vb.get_with_hints(1, "alpha", Init::Const(0.0))?,
            eps: 1e-3,
        })
    }
}

impl Module for RechubDice {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(1)?)?;
        let width = x.dim(1)? as f64;
        let v = centred
            .sqr()?
            .sum_keepdim(1)?
            .affine(1.0, width * self.eps)?;
        let p = candle_nn::ops::sigmoid(&centred.broadcast_div(&v.sqrt()?)?)?;
        dice_gate(x, &p, &self.alpha)
    }
}

/// Batch normalisation (PyTorch's BatchNorm1d semantics: ε = 1e-5, momentum 0.1, affine).
///
/// # Shapes
/// * input `x`: `[N, D]`; optional `mask`: `[N, 1]` (rows that count in the training statistics);
/// * output: `[N, D]`.
///
/// Weights: `weight [D]` (γ, starts at 1), `bias [D]` (β, starts at 0), `running_mean [D]`,
/// `running_var [D]`. Implements candle's [`ModuleT`].
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use din::model::{layers::BatchNorm, Params};
/// let bn = BatchNorm::new(1, Params::seeded(1).var_builder(DType::F32, &Device::Cpu).pp("bn"))?;
/// let x = Tensor::new(&[[1f32], [3.]], &Device::Cpu)?;
/// // training: the batch's mean 2 and (biased) variance 1 → (x − 2) / √(1 + 1e-5)
/// let y = x.apply_t(&bn, true)?.to_vec2::<f32>()?;
/// assert!((y[0][0] + 1.0).abs() < 1e-4 && (y[1][0] - 1.0).abs() < 1e-4);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running: Running,
    eps: f64,
}

impl BatchNorm {
    pub fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(BatchNorm {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
            running: Running::new(dim, 0.1, &vb)?,
            eps: 1e-5,
        })
    }

    /// The scale γ `[D]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The shift β `[D]`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The ε added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Fold a training batch's statistics `[D]` (mean, biased variance) into the running ones.
    pub fn update_running(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        self.running.update(mean, var)
    }

    pub fn forward_t(&self, x: &Tensor, mask: Option<&Tensor>, mode: Mode) -> Result<Tensor> {
        let (mean, var) = self.running.stats(x, mask, mode.train)?;
        x.broadcast_sub(&mean)?
            .broadcast_div(&(var + self.eps)?.sqrt()?)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

impl ModuleT for BatchNorm {
    /// No mask, the default kernels.
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        BatchNorm::forward_t(self, x, None, if train { Mode::TRAIN } else { Mode::EVAL })
    }
}

/// An activation layer.
#[derive(Debug, Clone)]
pub enum Act {
    Dice(Dice),
    Prelu(Prelu),
    Relu,
    Sigmoid,
    RechubDice(RechubDice),
}

impl Act {
    pub fn new(kind: Activation, dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(match kind {
            Activation::Dice => Act::Dice(Dice::new(dim, vb)?),
            Activation::Prelu => Act::Prelu(Prelu::new(dim, vb)?),
            Activation::Relu => Act::Relu,
            Activation::Sigmoid => Act::Sigmoid,
            Activation::RechubDice => Act::RechubDice(RechubDice::new(vb)?),
        })
    }

    pub fn forward_t(&self, x: &Tensor, mask: Option<&Tensor>, mode: Mode) -> Result<Tensor> {
        match self {
            Act::Dice(d) => d.forward_t(x, mask, mode),
            Act::Prelu(p) => p.forward(x),
            Act::Relu => x.relu(),
            Act::Sigmoid => candle_nn::ops::sigmoid(x),
            Act::RechubDice(d) => d.forward(x),
        }
    }

    /// The fused kernels' name for this activation (`None`: torch-rechub's Dice, which runs
    /// layer by layer).
    pub fn kernel(&self) -> Option<din_kernels::mlp::Activation> {
        use din_kernels::mlp::Activation as K;
        match self {
            Act::Dice(_) => Some(K::Dice),
            Act::Prelu(_) => Some(K::Prelu),
            Act::Relu => Some(K::Relu),
            Act::Sigmoid => Some(K::Sigmoid),
            Act::RechubDice(_) => None,
        }
    }
}

/// A fully connected layer `y = x·Wᵀ + b` (weights named `weight`, `bias` and initialised as
/// candle-nn's `linear`), with the fused bias add on CPU ([`ops::add_bias`]).
///
/// # Shapes
/// * input: `[N, in]`; output: `[N, out]`; `weight [out, in]`, `bias [out]`.
///
/// ```
/// use candle_core::{DType, Device, Module, Tensor};
/// use din::model::{layers::Linear, Params};
/// let lin = Linear::new(3, 2, Params::seeded(1).var_builder(DType::F32, &Device::Cpu).pp("lin"))?;
/// let x = Tensor::zeros((4, 3), DType::F32, &Device::Cpu)?;
/// let y = lin.forward(&x)?; // x = 0: every row is the bias
/// assert_eq!(y.dims(), &[4, 2]);
/// assert_eq!(y.to_vec2::<f32>()?[3], lin.bias().to_vec1::<f32>()?);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Linear {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
}

/// How a [`Linear`] layer's weight is drawn (its bias is U(±1/√in) either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinearInit {
    /// N(0, 2/in): candle-nn's `linear` (Kaiming normal). The default.
    #[default]
    KaimingNormal,
    /// U(±1/√in): PyTorch's `nn.Linear` (a standard deviation 2.45× smaller).
    TorchUniform,
}

crate::names::named_enum!(LinearInit, "linear init", {
    KaimingNormal => "kaiming-normal",
    TorchUniform => "torch-uniform",
});

/// Settings that every layer of an [`Mlp`] shares ([`crate::model::ModelConfig`] carries them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerOptions {
    pub linear_init: LinearInit,
    /// [`Dice::with_momentum`] of every Dice layer.
    pub dice_momentum: f64,
}

impl Default for LayerOptions {
    fn default() -> Self {
        LayerOptions {
            linear_init: LinearInit::KaimingNormal,
            dice_momentum: Dice::MOMENTUM,
        }
    }
}

impl Linear {
    /// A layer with candle-nn's initialisation ([`LinearInit::KaimingNormal`]).
    /// The weight `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias `[out]`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    pub fn new(in_dim: usize, out_dim: usize, vb: VarBuilder) -> Result<Self> {
        Linear::with_init(in_dim, out_dim, LinearInit::KaimingNormal, vb)
    }

    /// A layer whose weight is drawn as `init` says.
    pub fn with_init(
        in_dim: usize,
        out_dim: usize,
        init: LinearInit,
        vb: VarBuilder,
    ) -> Result<Self> {
        let bound = 1.0 / (in_dim as f64).sqrt();
        let winit = match init {
            LinearInit::KaimingNormal => candle_nn::init::DEFAULT_KAIMING_NORMAL,
            LinearInit::TorchUniform => Init::Uniform {
                lo: -bound,
                up: bound,
            },
        };
        let weight = vb.get_with_hints((out_dim, in_dim), "weight", winit)?;
        let bias = vb.get_with_hints(
            out_dim,
            "bias",
            Init::Uniform {
                lo: -bound,
                up: bound,
            },
        )?;
        Ok(Linear { weight, bias })
    }
}

impl Linear {
    /// `x·Wᵀ + b`, the bias added by [`ops::add_bias`] when the mode's kernels are fused.
    pub fn forward_t(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let z = x.matmul(&self.weight.t()?)?;
        if mode.fused_on(&z) {
            ops::add_bias(&z, &self.bias)
        } else {
            z.broadcast_add(&self.bias)
        }
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_t(x, Mode::EVAL)
    }
}

/// One hidden layer: Linear → (BatchNorm) → activation.
#[derive(Debug, Clone)]
pub struct Hidden {
    pub(crate) linear: Linear,
    pub(crate) bn: Option<BatchNorm>,
    pub(crate) act: Act,
}

impl Hidden {
    /// The layer's Linear.
    pub fn linear(&self) -> &Linear {
        &self.linear
    }

    /// Its BatchNorm, when the MLP has one.
    pub fn batch_norm(&self) -> Option<&BatchNorm> {
        self.bn.as_ref()
    }

    /// Its activation.
    pub fn activation(&self) -> &Act {
        &self.act
    }
}

/// Multi-layer perceptron ending in a single output unit (a logit or an attention score): per
/// hidden layer Linear → (BatchNorm) → activation, then a Linear to one unit.
///
/// # Shapes
/// * input `x`: `[N, in]`; optional `mask`: `[N, 1]` (rows that count in Dice's and BatchNorm's
///   training statistics);
/// * output: `[N, 1]`.
///
/// Weights under the layer's path: `mlp.{k}.linear.{weight,bias}`, `mlp.{k}.bn.*` (with batch
/// norm), `mlp.{k}.act.*` (Dice's or PReLU's) for hidden layer `k`, and `mlp.out.{weight,bias}`.
/// Implements candle's [`ModuleT`] (no mask, the default kernels).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use din::model::{MlpConfig, Params};
/// let vb = Params::seeded(3).var_builder(DType::F32, &Device::Cpu);
/// let mlp = MlpConfig { dims: vec![8, 4], ..Default::default() }.init(6, vb.pp("mlp"))?; // Dice
/// let x = Tensor::ones((5, 6), DType::F32, &Device::Cpu)?;
/// assert_eq!(x.apply_t(&mlp, false)?.dims(), &[5, 1]);
/// assert_eq!(mlp.hidden().len(), 2);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Mlp {
    pub(crate) hidden: Vec<Hidden>,
    pub(crate) out: Linear,
}

/// An [`Mlp`]'s settings: `MlpConfig { dims: vec![8, 4], ..Default::default() }.init(in_dim, vb)`
/// builds one on `in_dim` inputs (weights under `vb`: `{k}.linear`, `{k}.bn`, `{k}.act`, `out`).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use din::model::{Activation, MlpConfig, Params};
/// let vb = Params::seeded(3).var_builder(DType::F32, &Device::Cpu);
/// let cfg = MlpConfig { dims: vec![8, 4], activation: Activation::Prelu, ..Default::default() };
/// let mlp = cfg.init(6, vb.pp("mlp"))?;
/// let x = Tensor::ones((5, 6), DType::F32, &Device::Cpu)?;
/// assert_eq!(x.apply_t(&mlp, true)?.dims(), &[5, 1]);
/// assert_eq!(mlp.hidden()[1].linear().weight().dims(), &[4, 8]);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MlpConfig {
    /// Hidden widths (the output layer, one unit, comes after them). Default `[256, 128]`.
    pub dims: Vec<usize>,
    /// Activation of every hidden layer. Default Dice.
    pub activation: Activation,
    /// BatchNorm between each hidden Linear and its activation (torch-rechub's `MLP`). Default off.
    pub batch_norm: bool,
    /// Initialisation and Dice momentum of the layers.
    pub layers: LayerOptions,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            dims: vec![256, 128],
            activation: Activation::Dice,
            batch_norm: false,
            layers: LayerOptions::default(),
        }
    }
}

impl MlpConfig {
    /// The MLP on `in_dim` inputs.
    pub fn init(&self, in_dim: usize, vb: VarBuilder) -> Result<Mlp> {
        let opts = self.layers;
        let mut hidden = Vec::with_capacity(self.dims.len());
        let mut d = in_dim;
        for (i, &h) in self.dims.iter().enumerate() {
            let vb = vb.pp(i);
            hidden.push(Hidden {
                linear: Linear::with_init(d, h, opts.linear_init, vb.pp("linear"))?,
                bn: if self.batch_norm {
                    Some(BatchNorm::new(h, vb.pp("bn"))?)
                } else {
                    None
                },
                act: match Act::new(self.activation, h, vb.pp("act"))? {
                    Act::Dice(dice) => Act::Dice(dice.with_momentum(opts.dice_momentum)),
                    other => other,
                },
            });
            d = h;
        }
        Ok(Mlp {
            hidden,
            out: Linear::with_init(d, 1, opts.linear_init, vb.pp("out"))?,
        })
    }
}

impl Mlp {
    /// The hidden layers, input side first.
    pub fn hidden(&self) -> &[Hidden] {
        &self.hidden
    }

    /// The output layer (to one unit).
    pub fn out(&self) -> &Linear {
        &self.out
    }

    /// The MLP on `x: [N, D]`: `[N, 1]`. In training with fused kernels, an MLP of Dice, PReLU,
    /// ReLU or sigmoid layers runs as one kernel each way ([`ops::mlp_logits`]); otherwise (and
    /// for torch-rechub's Dice) layer by layer.
    pub fn forward_t(&self, x: &Tensor, mask: Option<&Tensor>, mode: Mode) -> Result<Tensor> {
        if mode.train && mask.is_none() && mode.fused_on(x) && self.fusable() {
            // the same computation as fused kernels with a hand-written backward
            let (out, stats) = ops::mlp_logits(&self.flatten()?, x)?;
            self.update_running(stats, x)?;
            return Ok(out);
        }
        let Some(first) = self.hidden.first() else {
            return self.out.forward_t(x, mode);
        };
        let z = first.linear.forward_t(x, mode)?;
        self.forward_from_first(&z, mask, mode)
    }

    /// True when the fused MLP kernels can run this MLP in training: at least one hidden layer,
    /// one activation the kernels have (Dice, PReLU, ReLU, sigmoid) in every hidden layer,
    /// BatchNorm on all hidden layers or on none.
    pub fn fusable(&self) -> bool {
        self.kernel_activation().is_some()
            && (self.hidden.iter().all(|l| l.bn.is_some())
                || self.hidden.iter().all(|l| l.bn.is_none()))
    }

    /// The fused kernels' activation when every hidden layer has the same one of theirs.
    fn kernel_activation(&self) -> Option<din_kernels::mlp::Activation> {
        let act = self.hidden.first()?.act.kernel()?;
        self.hidden
            .iter()
            .all(|l| l.act.kernel() == Some(act))
            .then_some(act)
    }

    /// All parameters in one flat tensor, in the fused kernels' order, and the sizes.
    pub fn flatten(&self) -> Result<FlatMlp> {
        let bn = self.hidden.first().is_some_and(|l| l.bn.is_some());
        let Some(act) = self.kernel_activation() else {
            candle_core::bail!("fused MLP: one of Dice, PReLU, ReLU, sigmoid in every layer");
        };
        let mut parts = Vec::with_capacity(5 * self.hidden.len() + 2);
        let mut eps = Vec::with_capacity(self.hidden.len());
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for layer in &self.hidden {
            hidden.push(layer.linear.weight.dim(0)?);
            parts.push(layer.linear.weight.flatten_all()?);
            parts.push(layer.linear.bias.clone());
            let bn_eps = match (&layer.bn, bn) {
                (Some(norm), true) => {
                    parts.push(norm.weight().clone());
                    parts.push(norm.bias().clone());
                    norm.eps()
                }
                (None, false) => 0.0,
                _ => candle_core::bail!("fused MLP: BatchNorm on some layers only"),
            };
            let (dice_eps, alpha) = match &layer.act {
                Act::Dice(dice) => (dice.eps(), Some(dice.alpha())),
                Act::Prelu(prelu) => (0.0, Some(prelu.alpha())),
                _ => (0.0, None),
            };
            eps.push((bn_eps, dice_eps));
            parts.extend(alpha.cloned());
        }
        let first_in = match self.hidden.first() {
            Some(l) => l.linear.weight.dim(1)?,
            None => candle_core::bail!("fused MLP: no hidden layer"),
        };
        parts.push(self.out.weight.flatten_all()?);
        parts.push(self.out.bias.clone());
        let stack = Stack::new(first_in, hidden, bn, eps)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?
            .with_activation(act);
        Ok(FlatMlp {
            theta: Tensor::cat(&parts, 0)?,
            stack,
        })
    }

    /// Fold a fused training step's batch statistics into the running averages, as the
    /// layer-by-layer path does.
    pub fn update_running(&self, stats: Vec<LayerStats>, like: &Tensor) -> Result<()> {
        for (layer, st) in self.hidden.iter().zip(stats) {
            if let (Some(norm), Some(bn)) = (&layer.bn, st.batch_norm) {
                let (m, v) = ops::stats_tensors(bn, like)?;
                norm.update_running(&m, &v)?;
            }
            if let (Act::Dice(dice), Some(st)) = (&layer.act, st.dice) {
                let (m, v) = ops::stats_tensors(st, like)?;
                dice.update_running(&m, &v)?;
            }
        }
        Ok(())
    }

    /// Continue from the pre-activation `z` of the first hidden layer (its Linear already applied).
    pub fn forward_from_first(
        &self,
        z: &Tensor,
        mask: Option<&Tensor>,
        mode: Mode,
    ) -> Result<Tensor> {
        let mut x = z.clone();
        for (i, layer) in self.hidden.iter().enumerate() {
            if i > 0 {
                x = layer.linear.forward_t(&x, mode)?;
            }
            if let Some(bn) = &layer.bn {
                x = bn.forward_t(&x, mask, mode)?;
            }
            x = layer.act.forward_t(&x, mask, mode)?;
        }
        self.out.forward_t(&x, mode)
    }
}
impl ModuleT for Mlp {
    /// No mask, the default kernels.
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Mlp::forward_t(self, x, None, if train { Mode::TRAIN } else { Mode::EVAL })
    }
}
