//! The glue between an [`Mlp`] and the fused MLP kernels of [`crate::model::ops`]: which MLPs
//! they can run, the parameters in their flat order, and the running statistics they return.

use candle_core::{Result, Tensor};
use din_kernels::dice::DiceStats;
use din_kernels::mlp::{LayerStats, Stack};

use super::{Act, Mlp};
use crate::model::ops::{self, FlatMlp};

impl Mlp {
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

    /// Every hidden layer's running statistics (BatchNorm's, Dice's) as the evaluation kernels
    /// take them ([`din_kernels::score::EvalMlp::new`]), in `f64`.
    pub fn running_stats(&self) -> Result<Vec<LayerStats>> {
        let f64s = |t: &Tensor| t.to_dtype(candle_core::DType::F64)?.to_vec1::<f64>();
        let fixed = |(m, v): (&Tensor, &Tensor)| -> Result<DiceStats> {
            Ok(din_kernels::score::fixed(f64s(m)?, f64s(v)?))
        };
        self.hidden
            .iter()
            .map(|layer| {
                Ok(LayerStats {
                    batch_norm: layer
                        .bn
                        .as_ref()
                        .map(|n| fixed(n.running.pair()))
                        .transpose()?,
                    dice: match &layer.act {
                        Act::Dice(dice) => Some(fixed(dice.running.pair())?),
                        _ => None,
                    },
                })
            })
            .collect()
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
}
