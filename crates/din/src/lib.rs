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
//! * [`tutorial`] — the whole tutorial on the demo world (`din tutorial`).

pub mod analysis;
pub mod checkpoint;
pub mod data;
pub mod error;
pub mod io;
pub mod metrics;
pub mod model;
pub mod plot;
pub mod predict;
pub mod rng;
pub mod run;
pub mod synth;
pub mod train;
pub mod tutorial;

pub use error::{Error, Result};

/// Keep large tensor buffers in the heap instead of returning them to the OS after every op.
///
/// candle allocates a fresh buffer for every tensor; with glibc's defaults each buffer over 128 KiB
/// is a fresh `mmap`, so every op page-faults its output in. Raising the mmap and trim thresholds
/// made training ~1.4× faster here (measured with `examples/stages`). Process-wide; the CLI calls
/// it at start-up, notebooks in their first cell. A no-op on other platforms.
///
/// Set `DIN_NO_TUNE=1` to keep glibc's defaults (for comparisons).
pub fn tune_allocator() {
    if std::env::var_os("DIN_NO_TUNE").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}
