//! The multi-layer perceptron: hidden layers (Linear → BatchNorm → activation), then one unit.

use candle_core::{Result, Tensor};
use candle_nn::{ModuleT, VarBuilder};

use super::{Act, Activation, BatchNorm, Dice, Linear, LinearInit};
use crate::model::ops::{self, Mode};

/// Settings that every layer of an [`Mlp`] shares ([`crate::model::ModelConfig`] carries them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerOptions {
    /// How every Linear's weight is drawn (default [`LinearInit::KaimingNormal`]).
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
    ///
    /// # Shapes
    /// * weights under `vb`, for hidden layer `k` of width `dims[k]` on `dims[k − 1]` inputs
    ///   (`in_dim` for the first): `{k}.linear.weight [dims[k], dims[k − 1]]`,
    ///   `{k}.linear.bias [dims[k]]`, `{k}.bn.*` `[dims[k]]` (with batch norm), `{k}.act.*` (see [`Act::new`]);
    ///   then `out.weight [1, dims[last]]` (`[1, in_dim]` without hidden layers), `out.bias [1]`;
    /// * the MLP then takes `[N, in_dim]` to `[N, 1]`.
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
    ///
    /// # Shapes
    /// * `x`: `[N, D]`; optional `mask`: `[N, 1]`; output: `[N, 1]`.
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

    /// Continue from the pre-activation `z` of the first hidden layer (its Linear already applied).
    ///
    /// # Shapes
    /// * `z`: `[N, dims[0]]` (the first hidden width); optional `mask`: `[N, 1]`; output: `[N, 1]`.
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
