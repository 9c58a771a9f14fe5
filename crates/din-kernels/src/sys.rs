//! The three system calls of the project, behind safe functions: allocator settings for fast CPU
//! training, huge pages for embedding tables, free disk space. Each is a no-op (or `None`) where
//! it does not apply (other than Linux with glibc).
//!
//! ```
//! let v = din_kernels::sys::table_vec(1000, |i| i as f32);
//! assert_eq!(v[999], 999.0);
//! assert!(din_kernels::sys::free_bytes(&std::env::temp_dir()).is_some() || cfg!(not(target_os = "linux")));
//! ```

use std::path::Path;

/// Keep large buffers in the heap instead of returning them to the OS after every tensor op
/// (mmap threshold 32 MiB, trim threshold 1 GiB, top pad 64 MiB), and use one malloc arena for
/// all threads. Linux/glibc only; call once at start-up.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds (documented as callable at any time);
    // its arguments are plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// A table-sized buffer of `n` values `f(0), f(1), …`. Training reads and updates embedding rows
/// (and their Adam moments) at random; with 4 KiB pages nearly every row costs a TLB miss, so on
/// Linux a buffer of 4 MiB or more is marked for transparent huge pages (`madvise`) before its
/// first write. A plain `Vec` either way.
pub fn table_vec(n: usize, f: impl FnMut(usize) -> f32) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(n);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const HUGE: usize = 2 << 20;
        let (start, len) = (v.as_ptr() as usize, n * std::mem::size_of::<f32>());
        let (first, last) = (
            (start + HUGE - 1) & !(HUGE - 1),
            (start + len) & !(HUGE - 1),
        );
        if len >= 4 << 20 && last > first {
            // SAFETY: advice only, on whole pages inside this vector's own (not yet written)
            // allocation of `len` bytes; the kernel may ignore it, contents are unaffected.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    v.extend((0..n).map(f));
    v
}

/// Free bytes for unprivileged users on the file system holding `dir` (None where unknown).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
        // SAFETY: `c` is a valid NUL-terminated path; statvfs writes into the struct we pass,
        // which is valid for writes of its size.
        let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: statvfs returned 0, so it filled the struct (and it was zeroed before).
        let st = unsafe { st.assume_init() };
        // (`as`: the field types differ between 32- and 64-bit targets)
        #[allow(clippy::unnecessary_cast)]
        Some(st.f_bavail as u64 * st.f_frsize as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = dir;
        None
    }
}
