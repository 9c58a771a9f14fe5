//! # din-kernels — the CPU kernels behind din's fast training path
//!
//! Plain functions over row-major `f32`/`f64` buffers, each with its inputs checked (lengths,
//! shapes) and answered with a typed [`Error`]. They compute what the `din` crate's model computes
//! from candle tensor ops — the activation unit's MLP, the head MLP, Dice, the attention-weighted
//! pooling, Adam — with hand-written backward passes, so that a training step does not pay for
//! dozens of temporary tensors and their autograd bookkeeping. `din` wraps them as candle custom
//! ops and tests them against the tensor-op formulas and finite differences.
//!
//! ```
//! use din_kernels::{dice, matmul};
//! // c = a·b for a: [2, 3], b: [3, 2]
//! let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let b = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
//! let c = matmul::matmul(&a, false, &b, false, (2, 2, 3))?;
//! assert_eq!(c, vec![4.0, 5.0, 10.0, 11.0]);
//! // Dice on a batch of 4 rows of 2 neurons, with batch statistics
//! let x = [1.0f64, -1.0, 2.0, 0.5, -3.0, 1.5, 0.0, 0.0];
//! let out = dice::forward(&x, &[0.25, 0.25], None, 1e-8)?;
//! assert_eq!(out.y.len(), 8);
//! // a bad input is an error, not a wrong answer
//! assert!(dice::forward(&x, &[0.25, 0.25, 0.25], None, 1e-8).is_err());
//! # Ok::<(), din_kernels::Error>(())
//! ```
//!
//! All of the project's `unsafe` code lives in this crate, each block with a `SAFETY` comment:
//! buffers written in parallel without zeroing them first ([`par`]), the matrix kernel's raw
//! pointer interface ([`matmul`]), loops compiled for AVX-512 / AVX2 and chosen at run time
//! ([`simd`]), and three system calls ([`sys`]). The public API is safe.

// Kernels are generic over `num_traits::Float`, which has no `AddAssign`.
#![warn(missing_docs)]
#![allow(clippy::assign_op_pattern)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod adam;
pub mod attention;
pub mod dice;
pub mod elementwise;
pub mod matmul;
pub mod mlp;
pub mod par;
pub mod score;
pub mod simd;
pub mod sys;

use num_traits::Float;

/// What a kernel refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A buffer has the wrong number of elements.
    #[error("{kernel}: `{what}` has {got} elements, expected {expected}")]
    Length {
        /// The kernel that refused (`"matmul"`, `"dice backward"`, …).
        kernel: &'static str,
        /// Which argument has the wrong length.
        what: &'static str,
        /// The length the other arguments' sizes require.
        expected: usize,
        /// The length it has.
        got: usize,
    },
    /// Inconsistent sizes, indices or configuration.
    #[error("{kernel}: {msg}")]
    Invalid {
        /// The kernel that refused.
        kernel: &'static str,
        /// What is inconsistent.
        msg: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// `Err(Error::Length)` unless `got == expected`.
pub(crate) fn check_len(
    kernel: &'static str,
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::Length {
            kernel,
            what,
            expected,
            got,
        })
    }
}

pub(crate) fn invalid(kernel: &'static str, msg: impl Into<String>) -> Error {
    Error::Invalid {
        kernel,
        msg: msg.into(),
    }
}

/// The element types of the kernels (`f32`, `f64`), each with its logistic sigmoid.
pub trait Real: Float + Send + Sync + std::fmt::Debug + Default + 'static {
    /// The logistic sigmoid `1 / (1 + e^(-x))`.
    fn sigmoid(x: Self) -> Self;
    /// `x` as `f64` (exact).
    fn f64(self) -> f64 {
        self.to_f64().unwrap_or(0.0)
    }
    /// The nearest value to `x`.
    fn of(x: f64) -> Self {
        Self::from(x).unwrap_or(Self::zero())
    }
}

impl Real for f32 {
    /// With [`simd::exp_f32`], which the compiler can vectorise (libm's `expf` is one call per
    /// element).
    #[inline(always)]
    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + simd::exp_f32(-x))
    }
}

impl Real for f64 {
    #[inline(always)]
    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }
}

/// Every element of `v` converted to `T`.
pub(crate) fn cast<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&m| T::of(m)).collect()
}
