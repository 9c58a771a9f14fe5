//! The fully connected layer and how its weight is initialised.

use candle_core::{Result, Tensor};
use candle_nn::{Init, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use crate::model::ops::{self, Mode};

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

impl Linear {
    /// The weight `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias `[out]`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// A layer with candle-nn's initialisation ([`LinearInit::KaimingNormal`]).
    ///
    /// # Shapes
    /// * weights under `vb`: `weight [out_dim, in_dim]`, `bias [out_dim]`; the layer then takes
    ///   `[N, in_dim]` to `[N, out_dim]`.
    pub fn new(in_dim: usize, out_dim: usize, vb: VarBuilder) -> Result<Self> {
        Linear::with_init(in_dim, out_dim, LinearInit::KaimingNormal, vb)
    }

    /// A layer whose weight is drawn as `init` says.
    ///
    /// # Shapes
    /// * as [`Linear::new`]: `weight [out_dim, in_dim]`, `bias [out_dim]`; `[N, in_dim]` to
    ///   `[N, out_dim]`.
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
    ///
    /// # Shapes
    /// * `x`: `[N, in]`; output: `[N, out]`.
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
