//! Adam / AdamW updates on plain buffers (the network's weights and the embedding rows a batch
//! touched).
//!
//! ```
//! use din_kernels::adam::{self, AdamStep};
//! let step = AdamStep::<f32>::new(0.1, 0.9, 0.999, 1e-8, 0.0, true, 1)?;
//! let (mut w, mut m, mut v) = (vec![1.0f32, -1.0], vec![0.0; 2], vec![0.0; 2]);
//! adam::update(&step, 0.0, &mut w, &[0.5, -0.5], &mut m, &mut v)?;
//! // the first Adam step moves each weight by lr against the sign of its gradient
//! assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] + 0.9).abs() < 1e-6);
//! assert!(adam::update(&step, 0.0, &mut w, &[0.5], &mut m, &mut v).is_err());
//! # Ok::<(), din_kernels::Error>(())
//! ```

use rayon::prelude::*;

use crate::simd::wide_kernel;
use crate::{check_len, invalid, Real, Result};

/// One step's constants: Adam (weight decay added to the gradient, PyTorch's `Adam`) or AdamW
/// (weights shrink by `lr·wd·w` after the step), with bias correction for step `step` (≥ 1).
#[derive(Debug, Clone, Copy)]
pub struct AdamStep<T> {
    b1: T,
    b2: T,
    lr_t: T,
    inv_sqrt_bc2: T,
    eps: T,
    /// `wd` for coupled Adam, else 0.
    coupled: T,
    /// `lr·wd` for AdamW, else 0.
    decoupled: T,
}

impl<T: Real> AdamStep<T> {
    /// The constants of step `step` (1-based) with learning rate `lr`, moment decays `beta1`,
    /// `beta2` (each in `[0, 1)`), `eps` and `weight_decay`, applied AdamW-style when
    /// `decoupled_decay`. An error for step 0 or a beta outside `[0, 1)`.
    pub fn new(
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
        decoupled_decay: bool,
        step: u64,
    ) -> Result<Self> {
        if step == 0 {
            return Err(invalid("adam", "steps count from 1"));
        }
        if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) {
            return Err(invalid(
                "adam",
                format!("betas must be in [0, 1), got {beta1}, {beta2}"),
            ));
        }
        let t = step.min(i32::MAX as u64) as i32;
        let bc1 = 1.0 - beta1.powi(t);
        let bc2 = 1.0 - beta2.powi(t);
        let (coupled, decoupled) = if decoupled_decay {
            (0.0, lr * weight_decay)
        } else {
            (weight_decay, 0.0)
        };
        Ok(AdamStep {
            b1: T::of(beta1),
            b2: T::of(beta2),
            lr_t: T::of(lr / bc1),
            inv_sqrt_bc2: T::of(1.0 / bc2.sqrt()),
            eps: T::of(eps),
            coupled: T::of(coupled),
            decoupled: T::of(decoupled),
        })
    }

    /// Update `w` and its moments from the gradient `g`.
    #[inline(always)]
    fn apply(&self, w: &mut T, g: T, m: &mut T, v: &mut T) {
        let one = T::one();
        let g = g + self.coupled * *w;
        *m = self.b1 * *m + (one - self.b1) * g;
        *v = self.b2 * *v + (one - self.b2) * g * g;
        let upd = self.lr_t * *m / (v.sqrt() * self.inv_sqrt_bc2 + self.eps);
        *w = *w - self.decoupled * *w;
        *w = *w - upd;
    }
}

wide_kernel! {
    fn run<T: Real>(adam: &AdamStep<T>, reg: T, w: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
        let n = w.len();
        let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
        for j in 0..n {
            let gj = g[j] + reg * w[j];
            adam.apply(&mut w[j], gj, &mut m[j], &mut v[j]);
        }
    }
}

fn check(w: usize, g: usize, m: usize, v: usize) -> Result<()> {
    check_len("adam", "gradient", w, g)?;
    check_len("adam", "first moment", w, m)?;
    check_len("adam", "second moment", w, v)
}

/// `w`, `m`, `v` updated in place from `g + reg·w` (`reg`: mini-batch aware regularisation of an
/// embedding row, 0 elsewhere), on the calling thread.
pub fn update<T: Real>(
    step: &AdamStep<T>,
    reg: T,
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
) -> Result<()> {
    check(w.len(), g.len(), m.len(), v.len())?;
    run(step, reg, w, g, m, v);
    Ok(())
}

/// [`update`] in parallel chunks of `chunk` elements (a tensor of at most `chunk` elements is
/// updated on the calling thread). Each element's arithmetic is the same either way.
pub fn update_parallel<T: Real>(
    step: &AdamStep<T>,
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    chunk: usize,
) -> Result<()> {
    check(w.len(), g.len(), m.len(), v.len())?;
    let chunk = chunk.max(1);
    if w.len() <= chunk {
        run(step, T::zero(), w, g, m, v);
    } else {
        w.par_chunks_mut(chunk)
            .zip(g.par_chunks(chunk))
            .zip(m.par_chunks_mut(chunk).zip(v.par_chunks_mut(chunk)))
            .for_each(|((w, g), (m, v))| run(step, T::zero(), w, g, m, v));
    }
    Ok(())
}
