//! PReLU, one slope per neuron.

use candle_core::{Result, Tensor};
use candle_nn::{Init, Module, VarBuilder};

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
    /// A PReLU on `dim` neurons, every slope α starting at 0.25.
    ///
    /// # Shapes
    /// * weight under `vb`: `alpha [dim]`; the layer then takes `[N, dim]` to `[N, dim]`.
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
