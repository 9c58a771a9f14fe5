//! Synthetic interaction logs in the tutorial's CSV schema, deterministic by seed, so everything
//! runs without a download: the named [`demo`] world that mirrors the tutorial's example, and an
//! [`amazon`]-scale world with the shape of 5-core Electronics.

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
