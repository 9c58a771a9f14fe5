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

/// Process-wide settings that make CPU training fast; call once at start-up, before any tensor
/// work and before other threads start (the CLI calls it first thing, notebooks in their first
/// cell). Two settings:
///
/// * **Allocator**: keep large tensor buffers in the heap instead of returning them to the OS
///   after every op. candle allocates a fresh buffer for every tensor; with glibc's defaults each
///   buffer over 128 KiB is a fresh `mmap`, so every op page-faults its output in. Raising the mmap
///   and trim thresholds made training ~1.4× faster here (measured with `examples/stages`). And one
///   malloc arena for all threads: training steps run on rayon's threads (see
///   [`train::Trainer::step`]), and with an arena per thread each kept its own peak, so that
///   full-scale training at batch 4096 peaked at 2,340 MB instead of 1,572 MB (same speed).
///   Linux/glibc only.
/// * **candle's element-wise thread pool** (`CANDLE_NUM_THREADS`, unless already set): 1, i.e.
///   element-wise tensor ops run on the calling thread. candle 0.11 hands every element-wise op
///   of 64k+ elements to a pool of its own whose worker then spins for its next job (25,000
///   rounds) on a core that the matrix kernels' threads need; a training step makes a dozen such
///   ops (gradient sums). With 1 thread, training at batch 256 ran 1.22× faster on a 2-core Xeon
///   (harness, five alternating pairs: 10,641 vs 8,752 samples/s); serving throughput did not
///   change measurably. Matrix products and this crate's kernels keep all threads
///   (`RAYON_NUM_THREADS`).
///
/// Set `DIN_NO_TUNE=1` to keep the defaults (for comparisons).
pub fn tune_process() {
    if std::env::var_os("DIN_NO_TUNE").is_some() {
        return;
    }
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // Read by candle when its element-wise pool is first used; documented above as a
        // start-up call, before other threads read the environment.
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
