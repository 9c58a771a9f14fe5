//! What the examples of din-teach share.

/// The training seeds of an example: the comma-separated list in its first argument, or
/// `default` without one.
pub fn seeds_arg(default: &[u64]) -> Result<Vec<u64>, std::num::ParseIntError> {
    match std::env::args().nth(1) {
        Some(s) => s.split(',').map(|x| x.trim().parse::<u64>()).collect(),
        None => Ok(default.to_vec()),
    }
}
