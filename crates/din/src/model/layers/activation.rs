//! The hidden-layer activations: the setting ([`Activation`]) and the layer ([`Act`]).

use candle_core::{Result, Tensor};
use candle_nn::{Module, VarBuilder};
use serde::{Deserialize, Serialize};

use super::{Dice, Prelu, RechubDice};
use crate::model::ops::Mode;

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The DIN paper's Dice ([`Dice`]): per-neuron α and running statistics. The default.
    Dice,
    /// PReLU ([`Prelu`]): one learned slope per neuron for negative inputs.
    Prelu,
    /// ReLU, `max(0, x)`: no weights.
    Relu,
    /// The logistic sigmoid, `1 / (1 + e^−x)`: no weights.
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

/// An activation layer.
#[derive(Debug, Clone)]
pub enum Act {
    /// A [`Dice`] layer ([`Activation::Dice`]).
    Dice(Dice),
    /// A [`Prelu`] layer ([`Activation::Prelu`]).
    Prelu(Prelu),
    /// ReLU ([`Activation::Relu`]), no weights.
    Relu,
    /// Sigmoid ([`Activation::Sigmoid`]), no weights.
    Sigmoid,
    /// torch-rechub's Dice, a [`RechubDice`] layer ([`Activation::RechubDice`]); the fused
    /// kernels do not run it ([`Act::kernel`] is `None`).
    RechubDice(RechubDice),
}

impl Act {
    /// The activation `kind` on `dim` neurons (Dice's and PReLU's weights under `vb`).
    ///
    /// # Shapes
    /// * weights: Dice `alpha [dim]`, `running_mean [dim]`, `running_var [dim]`; PReLU
    ///   `alpha [dim]`; torch-rechub's Dice `alpha [1]`; ReLU and sigmoid none.
    pub fn new(kind: Activation, dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(match kind {
            Activation::Dice => Act::Dice(Dice::new(dim, vb)?),
            Activation::Prelu => Act::Prelu(Prelu::new(dim, vb)?),
            Activation::Relu => Act::Relu,
            Activation::Sigmoid => Act::Sigmoid,
            Activation::RechubDice => Act::RechubDice(RechubDice::new(vb)?),
        })
    }

    /// The activation on `x`; `mask` (rows in the batch statistics) and `mode` matter to Dice
    /// only.
    ///
    /// # Shapes
    /// * `x`: `[N, D]`; optional `mask`: `[N, 1]`; output: `[N, D]`.
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
