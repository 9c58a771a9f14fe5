//! Matrix products on row-major buffers with `gemm`'s kernel (the one candle uses), threaded over
//! rayon's pool for all but small products.
//!
//! ```
//! use din_kernels::matmul::{matmul, matmul_tn};
//! let a = [1.0f64, 2.0, 3.0, 4.0]; // [2, 2]
//! let i = [1.0f64, 0.0, 0.0, 1.0];
//! assert_eq!(matmul(&a, false, &i, false, (2, 2, 2))?, a.to_vec());
//! assert_eq!(matmul(&a, true, &i, false, (2, 2, 2))?, vec![1.0, 3.0, 2.0, 4.0]); // aᵀ
//! assert_eq!(matmul_tn(&a, &i, (2, 2, 2))?, vec![1.0, 3.0, 2.0, 4.0]);
//! assert!(matmul(&a, false, &i, false, (2, 2, 3)).is_err()); // a is not 2×3
//! # Ok::<(), din_kernels::Error>(())
//! ```

use std::cell::Cell;

use crate::par::in_order;
use crate::{check_len, Real, Result};

/// Shapes `(m, n, k)` of `c (m×n) = a (m×k) · b (k×n)`, checked against the buffers.
fn check(a: usize, b: usize, c: Option<usize>, (m, n, k): (usize, usize, usize)) -> Result<()> {
    check_len("matmul", "a", m * k, a)?;
    check_len("matmul", "b", k * n, b)?;
    if let Some(c) = c {
        check_len("matmul", "c", m * n, c)?;
    }
    Ok(())
}

/// `c = a·b`, or `c += a·b` when `accumulate`, for `a: [m, k]` (stored `[k, m]` when `ta`) and
/// `b: [k, n]` (stored `[n, k]` when `tb`).
pub fn matmul_into<T: Real>(
    c: &mut [T],
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    dims: (usize, usize, usize),
    accumulate: bool,
) -> Result<()> {
    check(a.len(), b.len(), Some(c.len()), dims)?;
    // SAFETY: `c` is an initialised buffer of exactly m×n elements (checked above), valid for
    // reads and writes; `a` and `b` have the sizes the strides describe (checked above).
    unsafe {
        raw(
            c.as_mut_ptr(),
            a,
            ta,
            b,
            tb,
            dims,
            accumulate,
            threading(dims),
        )
    };
    Ok(())
}

thread_local! {
    /// True while [`on_this_thread`] runs on this thread.
    static SEQUENTIAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every product of this module on the calling thread alone, for callers that
/// share work between threads themselves (blocks of a larger computation on rayon's pool).
///
/// ```
/// use din_kernels::matmul::{matmul, on_this_thread};
/// let a = [1.0f32, 2.0, 3.0, 4.0];
/// assert_eq!(on_this_thread(|| matmul(&a, false, &a, false, (2, 2, 2)))?, vec![7.0, 10.0, 15.0, 22.0]);
/// # Ok::<(), din_kernels::Error>(())
/// ```
pub fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the flag when `f` returns or unwinds.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SEQUENTIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SEQUENTIAL.with(|s| s.replace(true)));
    f()
}

/// A new `m×n` buffer `a·b` (see [`matmul_into`]), written by the kernel without zeroing it first.
pub fn matmul<T: Real>(
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    dims: (usize, usize, usize),
) -> Result<Vec<T>> {
    check(a.len(), b.len(), None, dims)?;
    Ok(product(a, ta, b, tb, dims, threading(dims)))
}

/// `aᵀ·b` (`m×n`) for row-major `a: [k, m]` and `b: [k, n]`: a weight gradient, summed over the
/// `k` rows of a batch. The rows are split between the threads, each multiplies its share alone
/// and the partial products are added in a fixed order: the matrix kernel parallelises over `m`
/// and `n` only, and was 1.5× slower on this shape (k in the thousands, m and n in the hundreds).
pub fn matmul_tn<T: Real>(a: &[T], b: &[T], (m, n, k): (usize, usize, usize)) -> Result<Vec<T>> {
    check(a.len(), b.len(), None, (m, n, k))?;
    let parts = rayon::current_num_threads().min(k / 64).max(1);
    if parts == 1 {
        return Ok(product(a, true, b, false, (m, n, k), threading((m, n, k))));
    }
    // part p takes rows [p·k/parts, (p+1)·k/parts): every part non-empty (k ≥ 64·parts) and
    // inside the buffers for any thread count
    let part = |p: usize| {
        let (lo, hi) = (p * k / parts, (p + 1) * k / parts);
        product(
            &a[lo * m..hi * m],
            true,
            &b[lo * n..hi * n],
            false,
            (m, n, hi - lo),
            gemm::Parallelism::None,
        )
    };
    Ok(in_order(parts, part, |mut x, y| {
        x.iter_mut().zip(&y).for_each(|(p, &q)| *p = *p + q);
        x
    })
    .unwrap_or_else(|| vec![T::zero(); m * n]))
}

fn threading((m, n, k): (usize, usize, usize)) -> gemm::Parallelism {
    if SEQUENTIAL.with(Cell::get) {
        return gemm::Parallelism::None;
    }
    let threads = rayon::current_num_threads();
    if threads > 1 && m * n * k >= 1 << 16 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    }
}

/// A new `m×n` product of buffers whose sizes were checked by the caller.
fn product<T: Real>(
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
    par: gemm::Parallelism,
) -> Vec<T> {
    debug_assert!(a.len() == m * k && b.len() == k * n);
    if k == 0 || m == 0 || n == 0 {
        return vec![T::zero(); m * n];
    }
    let mut c = Vec::with_capacity(m * n);
    // SAFETY: the capacity holds m×n elements; with `accumulate = false` and k > 0 the kernel
    // writes every one of them without reading any, so they are all initialised before `set_len`.
    unsafe {
        raw(c.as_mut_ptr(), a, ta, b, tb, (m, n, k), false, par);
        c.set_len(m * n);
    }
    c
}

/// # Safety
/// `a` holds `m×k` and `b` `k×n` elements; `c` is valid for writes (and, when `accumulate`,
/// reads of initialised values) of `m×n` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn raw<T: Real>(
    c: *mut T,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    (m, n, k): (usize, usize, usize),
    accumulate: bool,
    par: gemm::Parallelism,
) {
    assert!(a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m * n {
                // SAFETY: `c` is valid for m×n writes (the caller's contract).
                unsafe { c.add(i).write(T::zero()) };
            }
        }
        return;
    }
    let (a_rs, a_cs) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if tb { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the assert above keeps every index the strides describe inside `a` and `b`
    // (a is m×k, or k×m when `ta`; b is k×n, or n×k when `tb`); `c` is m×n with row stride n,
    // valid by the caller's contract; T is f32 or f64 (the `Real` types), which gemm supports.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            par,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], (m, n, k): (usize, usize, usize)) -> Vec<f64> {
        // aᵀ·b with a: [k, m], b: [k, n]
        let mut c = vec![0.0; m * n];
        for r in 0..k {
            for i in 0..m {
                for j in 0..n {
                    c[i * n + j] += a[r * m + i] * b[r * n + j];
                }
            }
        }
        c
    }

    #[test]
    fn matmul_tn_splits_rows_correctly_on_a_large_thread_pool() {
        // 70 threads and k = 67·64 + 1: with k.div_ceil(parts) rows per part the last part
        // started past k and the slice panicked
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(70)
            .build()
            .expect("a thread pool");
        for k in [67 * 64 + 1, 70 * 64 + 63, 64, 1000, 7] {
            let (m, n) = (3, 5);
            let a: Vec<f64> = (0..k * m).map(|i| ((i % 17) as f64) - 8.0).collect();
            let b: Vec<f64> = (0..k * n).map(|i| ((i % 13) as f64) * 0.5).collect();
            let got = pool.install(|| matmul_tn(&a, &b, (m, n, k))).unwrap();
            assert_eq!(got, naive(&a, &b, (m, n, k)), "k = {k}");
        }
    }

    #[test]
    fn on_this_thread_is_scoped_and_survives_a_panic() {
        let big = (512, 512, 512);
        let par = |d| matches!(threading(d), gemm::Parallelism::Rayon(_));
        let threaded = par(big); // false on a one-thread pool, true on any other
        assert!(on_this_thread(|| !par(big)));
        assert_eq!(par(big), threaded);
        let _ = std::panic::catch_unwind(|| on_this_thread(|| panic!("inside")));
        assert_eq!(par(big), threaded, "the flag is restored when f unwinds");
        assert!(on_this_thread(|| on_this_thread(|| !par(big)) && !par(big)));
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let a = [1.0f32; 6];
        assert!(matmul(&a, false, &a, false, (2, 2, 2)).is_err());
        assert!(matmul(&a, false, &a, false, (2, 2, 3)).is_ok());
        assert!(matmul_tn(&a, &a, (3, 3, 3)).is_err());
        let mut c = [0.0f32; 3];
        assert!(matmul_into(&mut c, &a, false, &a, true, (2, 2, 3), false).is_err());
    }
}
