//! Synthetic interaction logs in the tutorial's CSV schema, deterministic by seed, so everything
//! runs without a download: the named [`demo`] world that mirrors the tutorial's example, and an
//! [`amazon`]-scale world with the shape of 5-core Electronics.
//!
//! ```
//! use din::synth::{DemoConfig, DemoWorld};
//! let world = DemoWorld::new();
//! let events = world.generate(&DemoConfig { users: 50, seed: 2026, ..Default::default() });
//! assert!(!events.is_empty());
//! // deterministic: the same seed gives the same log
//! let again = world.generate(&DemoConfig { users: 50, seed: 2026, ..Default::default() });
//! assert_eq!(events.len(), again.len());
//! ```

pub mod amazon;
pub mod demo;

pub use amazon::{AmazonConfig, AmazonWorld};
pub use demo::{DemoConfig, DemoItem, DemoWorld, INTERESTS};

/// Prefix sums of Zipf weights `1/(r+1)^s`, r = 0..n (for [`crate::rng::Rng::pick_cumulative`]).
pub fn zipf_cumulative(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..n)
        .map(|r| {
            acc += 1.0 / ((r + 1) as f64).powf(s);
            acc
        })
        .collect()
}

use std::io::Write;
use std::path::Path;

use crate::data::{build, Dataset, SplitConfig};
use crate::error::Result;

/// The sidecar file next to a synthetic CSV that holds its ground truth: `x.csv` → `x.items.csv`.
pub fn items_sidecar(csv: &Path) -> std::path::PathBuf {
    let stem = csv
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "world".into());
    csv.with_file_name(format!("{stem}.items.csv"))
}

impl DemoWorld {
    /// Write the catalogue (`item_id,cate_id,name,name_en,cate,interest,interest_en`).
    pub fn write_items_csv(&self, path: &Path) -> Result<()> {
        crate::io::write_atomic(path, |w| {
            writeln!(w, "item_id,cate_id,name,name_en,cate,interest,interest_en")?;
            for (i, it) in self.items.iter().enumerate() {
                let g = &INTERESTS[it.interest];
                writeln!(
                    w,
                    "{i},{},{},{},{},{},{}",
                    it.cate, it.name, it.name_en, self.cates[it.cate], g.name, g.name_en
                )?;
            }
            Ok(())
        })
    }
}

impl AmazonWorld {
    /// Write the ground truth (`item_id,cate_id,interest`).
    pub fn write_items_csv(&self, path: &Path) -> Result<()> {
        crate::io::write_atomic(path, |w| {
            writeln!(w, "item_id,cate_id,interest")?;
            for (i, &c) in self.item_cate.iter().enumerate() {
                writeln!(w, "{i},{c},{}", self.cate_interest[c])?;
            }
            Ok(())
        })
    }
}

/// The demo world's data ([`DemoWorld::new`], `users` users generated with `seed`), split as the
/// tutorial does ([`crate::data::build`] with the default [`SplitConfig`], the same seed).
///
/// ```
/// let (world, ds) = din::synth::demo_dataset(100, 2026)?;
/// assert!(ds.train.len() > ds.test.len());
/// assert!(ds.vocab.items.len() > 10);
/// # let _ = world;
/// # Ok::<(), din::Error>(())
/// ```
pub fn demo_dataset(users: usize, seed: u64) -> Result<(DemoWorld, Dataset)> {
    let world = DemoWorld::new();
    let events = world.generate(&DemoConfig {
        users,
        seed,
        ..Default::default()
    });
    let ds = build(
        &events,
        SplitConfig {
            seed,
            ..Default::default()
        },
    )?;
    Ok((world, ds))
}
