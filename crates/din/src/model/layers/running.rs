//! Batch statistics under a row mask, and the running averages that Dice and BatchNorm keep.

use candle_core::{Result, Tensor, Var};
use candle_nn::{Init, VarBuilder};

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
pub(super) struct Running {
    pub(super) mean: Var,
    pub(super) var: Var,
    /// Weight of the new batch in the running average.
    pub(super) momentum: f64,
}

impl Running {
    pub(super) fn new(dim: usize, momentum: f64, vb: &VarBuilder) -> Result<Self> {
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
    pub(super) fn stats(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<(Tensor, Tensor)> {
        if !train {
            let m = self.mean.as_tensor().unsqueeze(0)?;
            let v = self.var.as_tensor().unsqueeze(0)?;
            return Ok((m, v));
        }
        let (mean, var) = masked_moments(x, mask)?;
        self.update(&mean.squeeze(0)?, &var.squeeze(0)?)?;
        Ok((mean, var))
    }

    /// The statistics `(mean, var)`, each `[D]`, that evaluation normalises with.
    pub(super) fn pair(&self) -> (&Tensor, &Tensor) {
        (self.mean.as_tensor(), self.var.as_tensor())
    }

    /// Fold batch statistics `[D]` into the running averages.
    pub(super) fn update(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        let k = self.momentum;
        for (r, b) in [(&self.mean, mean), (&self.var, var)] {
            let new = (r.as_tensor().affine(1.0 - k, 0.0)? + b.detach().affine(k, 0.0)?)?;
            r.set(&new)?;
        }
        Ok(())
    }
}
