//! The paper's Dice activation.

use candle_core::{Result, Tensor};
use candle_nn::{Init, ModuleT, VarBuilder};

use super::running::Running;
use crate::model::ops::{self, Mode};

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
    pub(super) running: Running,
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

    /// A Dice layer on `dim` neurons: α starts at 0, the running statistics at mean 0 and
    /// variance 1, moving by [`Dice::MOMENTUM`] per training batch.
    ///
    /// # Shapes
    /// * weights under `vb`: `alpha [dim]`, `running_mean [dim]`, `running_var [dim]`;
    /// * the layer then takes `[N, dim]` to `[N, dim]`.
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
    /// compute Dice themselves, see [`Mlp::update_running`](super::Mlp::update_running)).
    pub fn update_running(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        self.running.update(mean, var)
    }

    /// `x: [N, D]`; `mask: [N, 1]` excludes rows from the batch statistics.
    ///
    /// # Shapes
    /// * `x`: `[N, D]`; optional `mask`: `[N, 1]`; output: `[N, D]`.
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
    ///
    /// # Shapes
    /// * `x`: `[N, D]`; optional `mask`: `[N, 1]`; output: `[N, D]`.
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
pub(super) fn dice_gate(x: &Tensor, p: &Tensor, alpha: &Tensor) -> Result<Tensor> {
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
