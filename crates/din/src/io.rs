//! Small file helpers: atomic writes (temp file, fsync, rename) and JSON files.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("din-io-doc-{}", std::process::id()));
//! let path = dir.join("numbers.json");
//! std::fs::create_dir_all(&dir).unwrap();
//! din::io::write_json(&path, &vec![1, 2, 3])?; // a temporary file, fsync, then a rename
//! let back: Vec<i32> = din::io::read_json(&path)?;
//! assert_eq!(back, [1, 2, 3]);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), din::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// Write `path` atomically: the closure writes into a temporary file in the same directory, which
/// is flushed, fsynced and renamed over `path`. A crash mid-write leaves the old file (or none),
/// never a half-written one.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = tmp_path(path);
    let res = (|| {
        let f = File::create(&tmp)?;
        let mut w = BufWriter::new(f);
        write(&mut w)?;
        w.flush()?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not all platforms allow opening a directory.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(|e| Error::io(path, e))
}

/// Write bytes atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Write a value as pretty JSON, atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value)?;
    write_bytes_atomic(path, &bytes)
}

/// Tensors as safetensors bytes, with optional string metadata (what [`write_safetensors`]
/// writes; [`crate::checkpoint::model_bytes`] hashes them).
pub fn safetensors_bytes(
    tensors: &BTreeMap<String, Tensor>,
    meta: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    safetensors::serialize(tensors.iter().map(|(k, v)| (k.as_str(), v)), meta)
        .map_err(|e| Error::Internal(format!("cannot serialise {} tensors: {e}", tensors.len())))
}

/// Write tensors to `path` as safetensors, atomically (every file of tensors the library writes:
/// run weights, training states, torch-rechub exports).
pub fn write_safetensors(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    meta: Option<HashMap<String, String>>,
) -> Result<()> {
    write_bytes_atomic(path, &safetensors_bytes(tensors, meta)?)
}

/// Read a safetensors file onto `device`; a file that does not parse is an error naming it and
/// `what` it was meant to be ("weights file", "training state").
pub fn read_safetensors(
    path: &Path,
    device: &Device,
    what: &str,
) -> Result<BTreeMap<String, Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let map = candle_core::safetensors::load_buffer(&bytes, device)
        .map_err(|e| Error::checkpoint(path, format!("truncated or corrupted {what} ({e})")))?;
    Ok(map.into_iter().collect())
}

/// Read a JSON file into a value; errors name the file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::data(path, Some(e.line()), None, format!("invalid JSON: {e}")))
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Check early that `dir` can be created and written to (before long work starts).
pub fn ensure_writable_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let probe = dir.join(format!(".din-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"probe").map_err(|e| Error::io(dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Free bytes on the file system holding `dir` (None where unknown).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    din_kernels::sys::free_bytes(dir)
}

/// A fresh, empty scratch directory for tests and examples: `$TMPDIR/din-<name>-<pid>`, removed
/// when the returned guard is dropped, except while a panic unwinds (a failing test leaves its
/// files to look at). Keep the guard alive as long as the directory is used.
pub fn test_dir(name: &str) -> TestDir {
    let d = std::env::temp_dir().join(format!("din-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::create_dir_all(&d);
    TestDir(d)
}

/// A scratch directory made by [`test_dir`]; derefs to its path.
#[derive(Debug)]
pub struct TestDir(PathBuf);

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reads_f64_back_bit_identical() {
        // a run history's samples/s that serde_json without `float_roundtrip` read back 1 ulp off
        let x = 93693.29886997193_f64;
        for v in [x, f64::from_bits(x.to_bits() - 1), 0.1, 1e-300, 2.0 / 3.0] {
            let back: f64 = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let d = test_dir("io_atomic");
        let p = d.join("x.json");
        write_json(&p, &vec![1, 2, 3]).unwrap();
        write_json(&p, &vec![4]).unwrap();
        let v: Vec<i32> = read_json(&p).unwrap();
        assert_eq!(v, vec![4]);
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn failed_write_keeps_old_file() {
        let d = test_dir("io_fail");
        let p = d.join("x.txt");
        write_bytes_atomic(&p, b"old").unwrap();
        let r = write_atomic(&p, |_| Err(std::io::Error::other("boom")));
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
    }
}
