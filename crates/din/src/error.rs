//! One error type for the whole library. Every message names what the user has to fix.
//!
//! ```
//! use din::Error;
//! let e = Error::data("events.csv", Some(7), Some("time"), "not an integer: \"noon\"");
//! assert_eq!(e.to_string(), "events.csv:7: column `time`: not an integer: \"noon\"");
//! ```

use std::path::{Path, PathBuf};

/// Errors returned by the `din` library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input data: `file:line: column `field`: message` (line and field when known).
    #[error("{}", format_data_error(path, *line, field.as_deref(), msg))]
    Data {
        /// The file holding the bad data.
        path: PathBuf,
        /// 1-based line in the file (a CSV's header is line 1), when known.
        line: Option<usize>,
        /// Name of the offending column or field, when known.
        field: Option<String>,
        /// What is wrong with the data.
        msg: String,
    },
    /// A file could not be read or written. The reason is in the message itself and is not
    /// repeated as a `source` (error reporters such as anyhow would print it twice).
    #[error("{}: {err}", path.display())]
    Io {
        /// The file or directory that could not be read or written.
        path: PathBuf,
        /// The operating system's error.
        err: std::io::Error,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid config: {0}")]
    Config(String),
    /// A fault inside this crate, not caused by what the caller passed: an invariant that did not
    /// hold or a serialiser that failed on well-formed values. A bug: please report it.
    #[error("internal error (a bug in din, please report it): {0}")]
    Internal(String),
    /// Text that is not a Python literal ([`crate::data::pylit::parse`]); the message says at
    /// which byte and why.
    #[error("Python literal: {0}")]
    Literal(String),
    /// A run directory or checkpoint that cannot be used.
    #[error("checkpoint {}: {msg}", path.display())]
    Checkpoint {
        /// The run directory or checkpoint file.
        path: PathBuf,
        /// Why it cannot be used (a missing file, a format version or shape mismatch, …).
        msg: String,
    },
    /// Training diverged or could not proceed.
    #[error("training: {0}")]
    Training(String),
    /// A download failed.
    #[error("download {url}: {msg}")]
    Download {
        /// The address being downloaded.
        url: String,
        /// What went wrong (network or HTTP error, a truncated body, a file of the wrong format).
        msg: String,
    },
    /// A figure could not be drawn.
    #[error("plot: {0}")]
    Plot(String),
    /// An error inside polars (CSV/Parquet engine).
    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// An error inside candle (tensor engine).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// JSON (de)serialisation.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

fn format_data_error(path: &Path, line: Option<usize>, field: Option<&str>, msg: &str) -> String {
    let mut s = path.display().to_string();
    if let Some(l) = line {
        s.push_str(&format!(":{l}"));
    }
    s.push_str(": ");
    if let Some(f) = field {
        s.push_str(&format!("column `{f}`: "));
    }
    s.push_str(msg);
    s
}

impl Error {
    /// A data error with file, line and field.
    pub fn data(
        path: impl AsRef<Path>,
        line: Option<usize>,
        field: Option<&str>,
        msg: impl Into<String>,
    ) -> Self {
        Error::Data {
            path: path.as_ref().to_path_buf(),
            line,
            field: field.map(str::to_string),
            msg: msg.into(),
        }
    }

    /// An I/O error on a path.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            err: source,
        }
    }

    /// A checkpoint error.
    pub fn checkpoint(path: impl AsRef<Path>, msg: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.as_ref().to_path_buf(),
            msg: msg.into(),
        }
    }
}

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;
