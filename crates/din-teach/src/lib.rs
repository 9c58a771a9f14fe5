//! # din-teach — the notebooks' door to `din`
//!
//! Everything a notebook of this project needs, through one `:dep` line and one `use` line:
//!
//! ```text
//! :dep din-teach = { path = "../crates/din-teach", features = ["png"] }
//! use din_teach::prelude::*;
//! ```
//!
//! * [`prelude`] — `din`, `candle_core`, `candle_nn` and `polars` themselves (so `din::data::build`
//!   and `candle_core::Tensor` read as in any other crate) and the names the notebooks use most.
//! * [`tutorial`] — the whole tutorial on the demo world (`din tutorial`) and the notebooks' cached,
//!   trained tutorial DIN.
//! * [`exercises`] — the checks of the notebooks' 练习 · Exercises.
//! * [`enter_repo_root`] — every notebook's first cell: `data/`, `out/` and `runs/` then mean the
//!   repository's folders in both editions.
//!
//! The engine (data, model, training, metrics, plots) is the crate [`din`]; this crate adds only
//! what teaching uses, and the engine does not depend on it.
//!
//! ```
//! use din_teach::prelude::*;
//!
//! let (world, ds): (DemoWorld, Dataset) = demo_dataset(100, 2026)?;
//! let batch = Batch::from_split(&ds.train, &[0, 1, 2]);
//! assert_eq!(batch.label.len(), 3);
//! # let _ = world;
//! # Ok::<(), din::Error>(())
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

pub use candle_core;
pub use candle_nn;
pub use din;
pub use polars;

pub mod exercises;
pub mod prelude;
pub mod tutorial;

/// The root of this repository: the folder that holds `crates/`, `data/`, `out/` and `runs/`
/// (where this crate was compiled from, so a checkout moved after the build needs a rebuild).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .unwrap_or(here)
        .to_path_buf()
}

/// Make [`repo_root`] the working directory, so that a notebook's `data/…`, `out/…` and `runs/…`
/// mean the repository's folders whichever edition it was opened from (`notebooks/` or
/// `notebooks/student/`: a kernel starts in the notebook's own folder). Every notebook calls it
/// in its first cell.
///
/// ```
/// let here = std::env::current_dir()?;
/// din_teach::enter_repo_root()?;
/// assert!(std::path::Path::new("crates/din/Cargo.toml").is_file());
/// # std::env::set_current_dir(here)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn enter_repo_root() -> din::Result<PathBuf> {
    let root = repo_root();
    std::env::set_current_dir(&root).map_err(|e| din::Error::io(&root, e))?;
    Ok(root)
}
