//! Batch normalisation with an optional row mask.

use candle_core::{Result, Tensor};
use candle_nn::{Init, ModuleT, VarBuilder};

use super::running::Running;
use crate::model::ops::Mode;

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
    pub(super) running: Running,
    eps: f64,
}

impl BatchNorm {
    /// A BatchNorm on `dim` neurons: γ starts at 1, β at 0, the running statistics at mean 0
    /// and variance 1 (momentum 0.1, ε = 1e-5).
    ///
    /// # Shapes
    /// * weights under `vb`: `weight [dim]`, `bias [dim]`, `running_mean [dim]`,
    ///   `running_var [dim]`; the layer then takes `[N, dim]` to `[N, dim]`.
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

    /// Normalise with the batch's statistics (training: over the rows where `mask` is 1, and
    /// updating the running ones) or the running ones (evaluation), then scale by γ and shift by β.
    ///
    /// # Shapes
    /// * `x`: `[N, D]`; optional `mask`: `[N, 1]`; output: `[N, D]`.
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
