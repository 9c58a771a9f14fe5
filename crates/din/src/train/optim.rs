//! Optimisers: Adam / AdamW for the network weights (candle tensors) and a row-sparse ("lazy")
//! Adam for the embedding tables, which touches only the rows a batch used.
//!
//! Weight decay: `Adam` adds `wd·w` to the gradient (PyTorch's `Adam(weight_decay=…)`, what
//! torch-rechub uses); `AdamW` shrinks weights by `lr·wd·w` after the step. For embedding rows both
//! apply only to rows in the batch.
//!
//! Mini-batch aware regularisation (DIN paper, section 5.1): for every embedding row j that
//! appears in the batch, the gradient gets `λ · w_j / n_j`, where `n_j` is the number of training
//! samples in which row j occurs. Rows not in the batch are not regularised at all.
//!
//! ```
//! use candle_core::{Device, Var};
//! use din::train::{AdamConfig, DenseAdam, OptimizerKind};
//! let w = Var::new(&[1f32, -3.], &Device::Cpu)?;
//! let cfg = AdamConfig { kind: OptimizerKind::AdamW, lr: 0.1, beta1: 0.9, beta2: 0.999,
//!     eps: 1e-8, weight_decay: 0.5 };
//! let mut adam = DenseAdam::new(vec![w.clone()], cfg)?;
//! adam.step(&w.as_tensor().sqr()?.sum_all()?.backward()?)?; // loss Σw², g = 2w = [2, −6]
//! // step 1: m̂ = g and v̂ = g², so Adam moves by lr·g/(|g| + ε) ≈ ±lr whatever |g| is;
//! // AdamW then shrinks by lr·wd·w: 1 − 0.1 − 0.05 = 0.85 and −3 + 0.1 + 0.15 = −2.75
//! let got = w.as_tensor().to_vec1::<f32>()?;
//! assert!((got[0] - 0.85).abs() < 1e-5 && (got[1] + 2.75).abs() < 1e-5, "{got:?}");
//! assert_eq!(adam.step_count(), 1);
//! # Ok::<(), din::Error>(())
//! ```

use candle_core::{DType, Tensor, Var};
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use din_kernels::adam::{self, AdamStep};
use din_kernels::Real;

use crate::error::{Error, Result};
use crate::model::{Embeddings, TableId, TouchedRows};

/// Which optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with the weight decay added to the gradient (PyTorch's `Adam(weight_decay=…)`, the
    /// tutorial's torch-rechub).
    Adam,
    /// Adam with decoupled weight decay (Loshchilov & Hutter): the default.
    AdamW,
}

crate::names::named_enum!(OptimizerKind, "optimizer", {
    Adam => "adam",
    AdamW => "adamw",
});

/// Adam hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Coupled (Adam) or decoupled (AdamW) weight decay.
    pub kind: OptimizerKind,
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment (0.9 in training).
    pub beta1: f64,
    /// Decay of the second moment (0.999 in training).
    pub beta2: f64,
    /// Added to the second moment's square root (1e-8 in training).
    pub eps: f64,
    /// Weight decay (see `kind`).
    pub weight_decay: f64,
}

/// Adam state of the dense network weights.
pub struct DenseAdam {
    cfg: AdamConfig,
    slots: Vec<(Var, Tensor, Tensor)>,
    step: u64,
}

/// The kernels' constants of step `step` of this configuration.
fn adam_step<T: Real>(c: &AdamConfig, step: u64) -> Result<AdamStep<T>> {
    AdamStep::new(
        c.lr,
        c.beta1,
        c.beta2,
        c.eps,
        c.weight_decay,
        c.kind == OptimizerKind::AdamW,
        step,
    )
    .map_err(|e| Error::Training(e.to_string()))
}

fn kernel_err(e: din_kernels::Error) -> Error {
    Error::Training(e.to_string())
}

/// Mutable `d`-wide rows of `data` at `rows`, which must be strictly increasing (`None` if not, or
/// if a row is out of range).
fn rows_mut<'a>(mut data: &'a mut [f32], rows: &[u32], d: usize) -> Option<Vec<&'a mut [f32]>> {
    let mut out = Vec::with_capacity(rows.len());
    let mut next = 0usize; // first row index still in `data`
    for &r in rows {
        let r = r as usize;
        let skip = r.checked_sub(next)?.checked_mul(d)?;
        if data.len() < skip + d {
            return None;
        }
        let (_, rest) = std::mem::take(&mut data).split_at_mut(skip);
        let (row, rest) = rest.split_at_mut(d);
        out.push(row);
        data = rest;
        next = r + 1;
    }
    Some(out)
}

/// One Adam / AdamW update of a CPU tensor from plain buffers: returns the new weights and moments.
fn adam_cpu<T: Real + candle_core::WithDType>(
    w: &Tensor,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    adam: &AdamStep<T>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let flat = |t: &Tensor| -> Result<Vec<T>> { Ok(t.flatten_all()?.to_vec1::<T>()?) };
    let (mut wv, gv, mut mv, mut vv) = (flat(w)?, flat(g)?, flat(m)?, flat(v)?);
    const RUN: usize = 16384; // smaller tensors are updated on this thread
    adam::update_parallel(adam, &mut wv, &gv, &mut mv, &mut vv, RUN).map_err(kernel_err)?;
    let (shape, dev) = (w.shape(), w.device());
    Ok((
        Tensor::from_vec(wv, shape, dev)?,
        Tensor::from_vec(mv, shape, dev)?,
        Tensor::from_vec(vv, shape, dev)?,
    ))
}

impl DenseAdam {
    /// How many steps it has taken (the global step of the bias correction; 0 before the first).
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Adam over `vars` (the network's weights), every moment starting at zero.
    pub fn new(vars: Vec<Var>, cfg: AdamConfig) -> Result<Self> {
        let mut slots = Vec::with_capacity(vars.len());
        for v in vars {
            let z = v.as_tensor().zeros_like()?;
            slots.push((v, z.clone(), z));
        }
        Ok(DenseAdam {
            cfg,
            slots,
            step: 0,
        })
    }

    /// One update from `grads` (variables without a gradient are left alone).
    pub fn step(&mut self, grads: &candle_core::backprop::GradStore) -> Result<()> {
        self.step += 1;
        let c = self.cfg;
        let bc1 = 1.0 - c.beta1.powi(self.step as i32);
        let bc2 = 1.0 - c.beta2.powi(self.step as i32);
        for (var, m, v) in self.slots.iter_mut() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let w = var.as_tensor();
            if w.device().is_cpu() && matches!(w.dtype(), DType::F32 | DType::F64) {
                // one pass over plain buffers instead of a dozen tensor ops (same formula)
                let (nw, nm, nv) = match w.dtype() {
                    DType::F32 => adam_cpu(w, g, m, v, &adam_step::<f32>(&c, self.step)?)?,
                    _ => adam_cpu(w, g, m, v, &adam_step::<f64>(&c, self.step)?)?,
                };
                var.set(&nw)?;
                (*m, *v) = (nm, nv);
                continue;
            }
            let g = if c.kind == OptimizerKind::Adam && c.weight_decay > 0.0 {
                (g + w.affine(c.weight_decay, 0.0)?)?
            } else {
                g.clone()
            };
            // detach: a gradient carries its autograd graph; keeping it would chain every step
            *m = (m.affine(c.beta1, 0.0)? + g.affine(1.0 - c.beta1, 0.0)?)?.detach();
            *v = (v.affine(c.beta2, 0.0)? + g.sqr()?.affine(1.0 - c.beta2, 0.0)?)?.detach();
            let denom = v.affine(1.0 / bc2, 0.0)?.sqrt()?.affine(1.0, c.eps)?;
            let update = m.affine(c.lr / bc1, 0.0)?.div(&denom)?;
            let mut new = (w - update)?;
            if c.kind == OptimizerKind::AdamW && c.weight_decay > 0.0 {
                new = (new - w.affine(c.lr * c.weight_decay, 0.0)?)?;
            }
            var.set(&new)?;
        }
        Ok(())
    }

    /// Moment tensors by parameter index (for resumable checkpoints).
    pub fn moments(&self) -> Vec<(Tensor, Tensor)> {
        self.slots
            .iter()
            .map(|(_, m, v)| (m.clone(), v.clone()))
            .collect()
    }

    /// Restore moments saved by [`DenseAdam::moments`].
    pub fn set_moments(&mut self, moments: Vec<(Tensor, Tensor)>, step: u64) -> Result<()> {
        if moments.len() != self.slots.len() {
            return Err(crate::Error::Config(
                "optimizer state does not match the model".into(),
            ));
        }
        for ((var, m, v), (m2, v2)) in self.slots.iter_mut().zip(moments) {
            if m2.shape() != var.shape() || v2.shape() != var.shape() {
                return Err(crate::Error::Config(
                    "optimizer state does not match the model".into(),
                ));
            }
            *m = m2.to_dtype(var.dtype())?.to_device(var.device())?;
            *v = v2.to_dtype(var.dtype())?.to_device(var.device())?;
        }
        self.step = step;
        Ok(())
    }
}

/// Lazy Adam state of the three embedding tables (moments for every row, updated only when the
/// row is in a batch; bias correction uses the global step, as TensorFlow's LazyAdam does).
pub struct SparseAdam {
    cfg: AdamConfig,
    /// The first and second moments of every row of the three tables (row-major, like the
    /// tables); read and written by the training state's save and resume (`state.rs`).
    pub(super) m: [Vec<f32>; 3],
    pub(super) v: [Vec<f32>; 3],
    /// Mini-batch aware regularisation: λ and `1/n_j` per row (0 for rows never in training).
    mba_lambda: f64,
    inv_freq: [Vec<f32>; 3],
}

impl SparseAdam {
    /// Lazy Adam over the rows of `emb`'s three tables, moments at zero; `freq` counts each row's
    /// occurrences in the training rows ([`crate::train::row_frequencies`]), which scale the
    /// mini-batch aware regularisation of strength `mba_lambda` (0 = off).
    pub fn new(emb: &Embeddings, cfg: AdamConfig, mba_lambda: f64, freq: [Vec<u32>; 3]) -> Self {
        let zeros =
            |t: TableId| crate::model::embedding::table_vec(emb.table(t).data.len(), |_| 0.0);
        let inv = freq.map(|f| {
            f.iter()
                .map(|&n| if n > 0 { 1.0 / n as f32 } else { 0.0 })
                .collect()
        });
        SparseAdam {
            cfg,
            m: TableId::ALL.map(zeros),
            v: TableId::ALL.map(zeros),
            mba_lambda,
            inv_freq: inv,
        }
    }

    /// Update the rows in `touched` with their gradients; `step` is the global step (≥ 1).
    pub fn step(
        &mut self,
        emb: &mut Embeddings,
        touched: &[TouchedRows],
        grads: &candle_core::backprop::GradStore,
        step: u64,
    ) -> Result<()> {
        let adam = adam_step::<f32>(&self.cfg, step)?;
        for tr in touched {
            let Some(g) = grads.get(tr.var.as_tensor()) else {
                continue;
            };
            let g = g
                .to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let ti = tr.table as usize;
            let table = emb.table_mut(tr.table);
            let d = table.dim;
            // the rows a batch touched are sorted and unique: disjoint, so updated in parallel
            let bad = || {
                crate::Error::Internal(
                    "embedding rows of a batch not sorted, not unique or past the table".into(),
                )
            };
            let w_rows = rows_mut(&mut table.data, &tr.ids, d).ok_or_else(bad)?;
            let m_rows = rows_mut(&mut self.m[ti], &tr.ids, d).ok_or_else(bad)?;
            let v_rows = rows_mut(&mut self.v[ti], &tr.ids, d).ok_or_else(bad)?;
            let (lambda, inv_freq) = (self.mba_lambda as f32, &self.inv_freq[ti]);
            if g.len() != tr.ids.len() * d {
                return Err(Error::Training(format!(
                    "embedding gradient of {} values for {} rows of {d}",
                    g.len(),
                    tr.ids.len()
                )));
            }
            w_rows
                .into_par_iter()
                .zip(m_rows.into_par_iter().zip(v_rows))
                .zip(tr.ids.par_iter().zip(g.par_chunks(d)))
                .with_min_len(64)
                .try_for_each(|((w, (m, v)), (&row, gk))| {
                    if row == 0 {
                        return Ok(()); // padding stays zero
                    }
                    let reg = lambda * inv_freq.get(row as usize).copied().unwrap_or(0.0);
                    adam::update(&adam, reg, w, gk, m, v)
                })
                .map_err(kernel_err)?;
        }
        Ok(())
    }
}
