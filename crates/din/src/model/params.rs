//! Seeded parameter creation for `VarBuilder`.
//!
//! candle cannot seed its CPU generator, so the model's weights are created through this backend:
//! it follows candle-nn's `Init` hints (Kaiming, uniform, normal, constant) but draws from the
//! crate's own seeded [`Rng`], and keeps every created tensor as a trainable [`Var`] under its
//! `VarBuilder` path. Same seed, same weights.
//!
//! ```
//! use candle_core::{DType, Device};
//! use candle_nn::Init;
//! use din::model::params::Params;
//! let init = Init::Randn { mean: 0.0, stdev: 1.0 };
//! let (a, b) = (Params::seeded(7), Params::seeded(7));
//! let wa = a.var_builder(DType::F32, &Device::Cpu).get_with_hints((2, 3), "w", init)?;
//! let wb = b.var_builder(DType::F32, &Device::Cpu).get_with_hints((2, 3), "w", init)?;
//! assert_eq!(wa.to_vec2::<f32>()?, wb.to_vec2::<f32>()?); // same seed, same weights
//! assert_eq!(a.count(), 6);
//! # Ok::<(), candle_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NormalOrUniform};
use candle_nn::{Init, VarBuilder};

use crate::rng::Rng;

/// Named parameters, in a deterministic (sorted) order.
#[derive(Clone, Default)]
pub struct Params {
    vars: Arc<Mutex<BTreeMap<String, Var>>>,
    rng: Arc<Mutex<Option<Rng>>>,
    loaded: Arc<BTreeMap<String, Tensor>>,
}

impl Params {
    /// Fresh parameters drawn from `seed`.
    pub fn seeded(seed: u64) -> Self {
        Params {
            rng: Arc::new(Mutex::new(Some(Rng::stream(seed, 0xD1_4E)))),
            ..Default::default()
        }
    }

    /// Parameters taken from saved tensors (a checkpoint); a missing name is an error.
    pub fn from_tensors(tensors: BTreeMap<String, Tensor>) -> Self {
        Params {
            loaded: Arc::new(tensors),
            ..Default::default()
        }
    }

    /// A `VarBuilder` whose `get`s create (or load) parameters here.
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        let backend: Box<dyn candle_nn::var_builder::SimpleBackend> = Box::new(self.clone());
        VarBuilder::from_backend(backend, dtype, device.clone())
    }

    /// All parameters with their names, sorted by name.
    pub fn named(&self) -> Vec<(String, Var)> {
        let vars = self.vars.lock().unwrap_or_else(|e| e.into_inner());
        vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Number of scalar parameters.
    pub fn count(&self) -> usize {
        self.named().iter().map(|(_, v)| v.elem_count()).sum()
    }

    fn sample(&self, shape: &Shape, init: Init) -> Result<Vec<f64>> {
        let n = shape.elem_count();
        let mut guard = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let rng = guard
            .as_mut()
            .ok_or_else(|| candle_core::Error::Msg("parameter generator missing".into()))?;
        let fan = |f: FanInOut| f.for_shape(shape).max(1) as f64;
        Ok(match init {
            Init::Const(c) => vec![c; n],
            Init::Randn { mean, stdev } => (0..n).map(|_| mean + stdev * rng.normal()).collect(),
            Init::Uniform { lo, up } => (0..n).map(|_| lo + (up - lo) * rng.f64()).collect(),
            Init::Kaiming {
                dist,
                fan: f,
                non_linearity,
            } => {
                let std = non_linearity.gain() / fan(f).sqrt();
                match dist {
                    NormalOrUniform::Normal => (0..n).map(|_| std * rng.normal()).collect(),
                    NormalOrUniform::Uniform => {
                        let b = 3f64.sqrt() * std;
                        (0..n).map(|_| -b + 2.0 * b * rng.f64()).collect()
                    }
                }
            }
        })
    }
}

impl candle_nn::var_builder::SimpleBackend for Params {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        if let Some(v) = self
            .vars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            if v.shape() != &s {
                candle_core::bail!(
                    "parameter {name}: shape {:?} requested, {:?} exists",
                    s,
                    v.shape()
                );
            }
            return Ok(v.as_tensor().clone());
        }
        let t = if self.loaded.is_empty() {
            Tensor::from_vec(self.sample(&s, h)?, s.clone(), dev)?.to_dtype(dtype)?
        } else {
            let t = self
                .loaded
                .get(name)
                .ok_or_else(|| candle_core::Error::Msg(format!("missing tensor `{name}`")))?;
            if t.shape() != &s {
                candle_core::bail!(
                    "tensor `{name}` has shape {:?}, the config needs {:?}",
                    t.shape(),
                    s
                );
            }
            t.to_device(dev)?.to_dtype(dtype)?
        };
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        self.vars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        self.vars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .map(|v| v.as_tensor().clone())
            .ok_or_else(|| candle_core::Error::Msg(format!("unknown parameter {name}")))
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.vars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(name)
            || self.loaded.contains_key(name)
    }
}
