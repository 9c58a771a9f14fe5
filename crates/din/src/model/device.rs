//! Where models live and in what precision: [`device`] picks a candle device by name (the CLI's
//! `--device`), [`DTYPE`] is the dtype models train in.
//!
//! ```
//! let cpu = din::model::device("cpu")?;
//! assert!(cpu.is_cpu());
//! let err = din::model::device("tpu").unwrap_err().to_string();
//! assert!(err.contains("unknown device `tpu`"));
//! # Ok::<(), din::Error>(())
//! ```

use candle_core::{DType, Device};

/// Pick a device by name: `cpu`, `cuda`, `cuda:N`, `metal`, `metal:N`. CUDA and Metal need the
/// crate's `cuda`/`metal` features; without them the error ([`crate::Error::Config`]) says so.
pub fn device(name: &str) -> crate::Result<Device> {
    let bad = crate::Error::Config;
    let (kind, ord) = match name.split_once(':') {
        Some((k, n)) => (
            k,
            n.parse::<usize>()
                .map_err(|_| bad(format!("bad device ordinal in `{name}`")))?,
        ),
        None => (name, 0),
    };
    match kind {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(ord)
            .map_err(|e| bad(format!("cuda:{ord}: {e} (build with --features cuda)"))),
        "metal" => Device::new_metal(ord)
            .map_err(|e| bad(format!("metal:{ord}: {e} (build with --features metal)"))),
        o => Err(bad(format!(
            "unknown device `{o}` (cpu, cuda[:N], metal[:N])"
        ))),
    }
}

/// The dtype models train in.
pub const DTYPE: DType = DType::F32;
