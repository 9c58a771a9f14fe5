//! torch-rechub's Dice (each row normalised across its neurons).

use candle_core::{Result, Tensor};
use candle_nn::{Init, Module, VarBuilder};

use super::dice::dice_gate;

/// torch-rechub's `Dice` (`torch_rechub/basic/activation.py`, version 0.9.0), kept so that models
/// of the tutorial's exact torch-rechub layout can be trained, exported and imported:
/// for a row `x` of `D` neurons, `m = mean(x)`, `v = Σ_j ((x_j − m)² + ε)` (a **sum**, ε = 1e-3),
/// `p = sigmoid((x − m) / sqrt(v))`, `f(x) = p·x + (1 − p)·α·x` with one α shared by the layer.
/// It looks at one row only, so training and evaluation compute the same function. It is not the
/// paper's Dice ([`Dice`](super::Dice): per-neuron statistics over the mini-batch).
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
    ///
    /// # Shapes
    /// * weight under `vb`: `alpha [1]`; the layer then takes `[N, D]` to `[N, D]` for any `D`.
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
