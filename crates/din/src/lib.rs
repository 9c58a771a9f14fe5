//! # din — Deep Interest Network on candle
//!
//! A teaching and working implementation of DIN (Zhou et al., KDD 2018) for CTR ranking, following
//! the Chinese DIN tutorial (torch-rechub) step by step.
//!
//! * [`data`] — CSV logs → dense ids → samples (sliding window, negatives, leak-free split) →
//!   Parquet → padded batches; raw Amazon converters.
//! * [`model`] — embeddings, the activation unit, DIN and the base model on candle.
//! * [`synth`] — deterministic synthetic worlds (the named demo world, an Amazon-scale world).

pub mod data;
pub mod error;
pub mod io;
pub mod model;
pub mod rng;
pub mod synth;

pub use error::{Error, Result};
