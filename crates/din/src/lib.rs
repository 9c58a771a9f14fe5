//! # din — Deep Interest Network on candle
//!
//! A teaching and working implementation of DIN (Zhou et al., KDD 2018) for CTR ranking, following
//! the Chinese DIN tutorial (torch-rechub) step by step.
//!
//! * [`data`] — CSV logs → dense ids → samples (sliding window, negatives, leak-free split) →
//!   Parquet → padded batches; raw Amazon converters.
//! * [`model`] — embeddings, the activation unit, DIN and the base model on candle.
//! * [`train`] — BCE, Adam/AdamW with lazy sparse updates, mini-batch aware regularisation, early
//!   stopping; [`run`] trains into a resumable run directory ([`checkpoint`]).
//! * [`metrics`] — AUC, GAUC, logloss, ROC, RelaImpr; [`predict`] scores and explains raw ids.
//! * [`plot`] — SVG figures for notebooks and the CLI; [`analysis`] — attention vs ground truth, PCA.
//! * [`synth`] — deterministic synthetic worlds (the named demo world, an Amazon-scale world).
//!
//! The tutorial, the notebooks' exercises and their one-line prelude are in the crate `din-teach`
//! (`crates/din-teach`), which builds on this one; this crate holds no code that only teaching uses.
//!
//! The CPU kernels of the fast training path are in the crate [`din_kernels`] (safe, checked
//! functions; all of the project's `unsafe` code is there); this crate has none.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

/// The README's library example, compiled and run as a doctest.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod analysis;
pub mod checkpoint;
pub mod data;
pub mod error;
pub mod interop;
pub mod io;
pub mod metrics;
pub mod model;
mod names;
pub mod plot;
pub mod predict;
pub mod preset;
pub mod rng;
pub mod run;
pub mod synth;
pub mod train;

pub use error::{Error, Result};

/// Process-wide allocator settings that make CPU training fast; call once at start-up, before
/// any tensor work (the CLI calls it first thing, notebooks in their first cell).
///
/// Keeps large tensor buffers in the heap instead of returning them to the OS after every op:
/// candle allocates a fresh buffer for every tensor, and with glibc's defaults each buffer over
/// 128 KiB is a fresh `mmap`, so every op page-faults its output in. Raising the mmap and trim
/// thresholds made training ~1.4× faster here (measured with the `examples/stages` harness of then; `examples/bench.rs` measures training now). And one malloc
/// arena for all threads: training steps run on rayon's threads (see [`train::Trainer::step`]),
/// and with an arena per thread each kept its own peak, so that full-scale training at batch
/// 4096 peaked at 2,340 MB instead of 1,572 MB (same speed). Linux/glibc only
/// ([`din_kernels::sys::tune_allocator`]).
///
/// One more setting belongs to the process's environment and is not changed here (changing the
/// environment of a running process is unsound once other threads may read it): candle's
/// element-wise thread pool. **Set `CANDLE_NUM_THREADS=1`** before the process starts (the
/// `din` binary does it in `main` before any thread exists; the notebooks' kernel gets it from
/// `kernel.json`, written by `scripts/setup_notebooks.sh`). candle 0.11 hands every element-wise
/// op of 64k+ elements to a pool of its own whose worker then spins for its next job (25,000
/// rounds) on a core that the matrix kernels' threads need; a training step makes a dozen such
/// ops (gradient sums). With 1 thread, training at batch 256 ran 1.22× faster on a 2-core Xeon
/// (harness, five alternating pairs: 10,641 vs 8,752 samples/s). [`candle_threads_tuned`] says
/// whether it is set.
///
/// Set `DIN_NO_TUNE=1` to keep the allocator's defaults (for comparisons).
pub fn tune_process() {
    if std::env::var_os("DIN_NO_TUNE").is_some() {
        return;
    }
    din_kernels::sys::tune_allocator();
}

/// True when candle's element-wise pool runs on the calling thread (`CANDLE_NUM_THREADS=1`, see
/// [`tune_process`]).
pub fn candle_threads_tuned() -> bool {
    std::env::var("CANDLE_NUM_THREADS").is_ok_and(|v| v.trim() == "1")
}
