//! Work split over rayon's pool: column reductions whose rounding does not depend on the thread
//! count, and (crate-internal) buffers filled block by block in parallel without zeroing them first.
//!
//! ```
//! use din_kernels::par::{col_moments, col_sums, in_order};
//! let x = [1.0f32, 10.0, 3.0, 30.0]; // [2, 2]
//! assert_eq!(col_sums(&x, 2)?, vec![4.0, 40.0]);
//! let (mean, var) = col_moments(&x, 2)?;
//! assert_eq!((mean, var), (vec![2.0, 20.0], vec![1.0, 100.0]));
//! // parts computed in parallel, combined in part order
//! assert_eq!(in_order(4, |p| vec![p], |mut a, b| { a.extend(b); a }), Some(vec![0, 1, 2, 3]));
//! # Ok::<(), din_kernels::Error>(())
//! ```

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::{cast, invalid, Real, Result};

/// Rows per parallel block (reductions add block partials in f64).
pub const BLOCK: usize = 128;

/// `parts` partial results computed in parallel, combined on the calling thread in part order
/// (`None` when `parts` is 0): the rounding of a reduction then does not depend on how rayon
/// happened to split the work (a `par_iter().reduce()` tree does, and differs between a call from
/// a pool thread and one from outside the pool).
pub fn in_order<P: Send>(
    parts: usize,
    part: impl Fn(usize) -> P + Sync + Send,
    combine: impl Fn(P, P) -> P,
) -> Option<P> {
    let partials: Vec<P> = (0..parts).into_par_iter().map(part).collect();
    partials.into_iter().reduce(combine)
}

/// The rows of `x` as `[n, d]`: `n`, or an error when `x.len()` is not a multiple of `d`.
pub(crate) fn rows_of(kernel: &'static str, len: usize, d: usize) -> Result<usize> {
    if d == 0 {
        return Err(invalid(kernel, "row width is 0"));
    }
    if len % d != 0 {
        return Err(invalid(
            kernel,
            format!("{len} elements are not whole rows of width {d}"),
        ));
    }
    Ok(len / d)
}

/// Column sums of a row-major `[n, d]` buffer.
pub fn col_sums<T: Real>(x: &[T], d: usize) -> Result<Vec<T>> {
    rows_of("col_sums", x.len(), d)?;
    let mut acc = vec![T::zero(); d];
    for row in x.chunks_exact(d) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a = *a + v;
        }
    }
    Ok(acc)
}

/// `k` column sums of width `d` over `n` rows: `f(rows, acc)` adds the contributions of a block of
/// rows into `acc` (`k` zeroed vectors of `T`); blocks run in parallel and are added up in f64,
/// in block order (see [`in_order`]).
pub(crate) fn col_reduce<T, F>(n: usize, d: usize, k: usize, f: F) -> Vec<Vec<f64>>
where
    T: Real,
    F: Fn(std::ops::Range<usize>, &mut [Vec<T>]) + Sync,
{
    let block = |b: usize| {
        let mut acc: Vec<Vec<T>> = vec![vec![T::zero(); d]; k];
        f(b * BLOCK..((b + 1) * BLOCK).min(n), &mut acc);
        acc.iter()
            .map(|a| a.iter().map(|v| v.f64()).collect::<Vec<f64>>())
            .collect::<Vec<_>>()
    };
    in_order(n.div_ceil(BLOCK), block, |mut a, b| {
        for (x, y) in a.iter_mut().zip(b) {
            x.iter_mut().zip(y).for_each(|(p, q)| *p += q);
        }
        a
    })
    .unwrap_or_else(|| vec![vec![0f64; d]; k])
}

/// Mean and biased variance of each column of a row-major `[n, d]` buffer, in one parallel pass:
/// each block of rows is summed twice while it is in cache (its mean, then squared deviations
/// from it; partial sums in `T`) and the blocks are combined in f64 with Chan et al.'s pairwise
/// formula, in block order. An empty buffer has mean 0 and variance 0.
pub fn col_moments<T: Real>(x: &[T], d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = rows_of("col_moments", x.len(), d)?;
    Ok(moments(x, n, d))
}

/// [`col_moments`] on a buffer known to hold `n` rows of `d`.
pub(crate) fn moments<T: Real>(x: &[T], n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    // (rows, mean, sum of squared deviations) per column
    type Part = (f64, Vec<f64>, Vec<f64>);
    let block = |b: usize| -> Part {
        let rows = &x[b * BLOCK * d..((b + 1) * BLOCK).min(n) * d];
        let cnt = rows.len() / d.max(1);
        let mut acc = vec![T::zero(); d];
        for row in rows.chunks_exact(d) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = *a + v;
            }
        }
        let mean: Vec<f64> = acc.iter().map(|a| a.f64() / cnt.max(1) as f64).collect();
        let mt: Vec<T> = cast(&mean);
        acc.iter_mut().for_each(|a| *a = T::zero());
        for row in rows.chunks_exact(d) {
            for ((a, &v), &m) in acc.iter_mut().zip(row).zip(&mt) {
                *a = *a + (v - m) * (v - m);
            }
        }
        let m2 = acc.iter().map(|a| a.f64()).collect();
        (cnt as f64, mean, m2)
    };
    let combine = |a: Part, b: Part| -> Part {
        let (na, nb) = (a.0, b.0);
        if na == 0.0 {
            return b;
        }
        if nb == 0.0 {
            return a;
        }
        let nt = na + nb;
        let mut mean = a.1;
        let mut m2 = a.2;
        for ((m, s), (&mb, &sb)) in mean.iter_mut().zip(m2.iter_mut()).zip(b.1.iter().zip(&b.2)) {
            let delta = mb - *m;
            *m += delta * nb / nt;
            *s += sb + delta * delta * na * nb / nt;
        }
        (nt, mean, m2)
    };
    let (cnt, mean, m2) = in_order(n.div_ceil(BLOCK), block, combine)
        .unwrap_or_else(|| (0.0, vec![0.0; d], vec![0.0; d]));
    let var = m2.iter().map(|s| s / cnt.max(1.0)).collect();
    (mean, var)
}

/// `f(start, block)` on consecutive blocks of `block` elements of `buf` (the last may be
/// shorter), in parallel and in place; `start` is the block's first index.
pub(crate) fn map_blocks<T, F>(buf: &mut [T], block: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync,
{
    let block = block.max(1);
    buf.par_chunks_mut(block)
        .enumerate()
        .for_each(|(k, b)| f(k * block, b));
}

/// Two new `len`-element buffers computed from `x` (also `len` long) block by block in parallel:
/// `f(out_a, out_b, x_block)` gets matching blocks of `block` elements (the last may be shorter).
/// The outputs are not zeroed first: for the activation units' `[N, width]` buffers that memset
/// was a measurable part of a training step.
///
/// # Safety
/// `f` must write every element of both output blocks it is handed.
pub(crate) unsafe fn fill2<T, F>(len: usize, block: usize, x: &[T], f: F) -> (Vec<T>, Vec<T>)
where
    T: Copy + Send + Sync,
    F: Fn(&mut [MaybeUninit<T>], &mut [MaybeUninit<T>], &[T]) + Sync,
{
    assert_eq!(x.len(), len, "fill2: input and outputs differ in length");
    let block = block.max(1);
    let (mut a, mut b) = (Vec::with_capacity(len), Vec::with_capacity(len));
    a.spare_capacity_mut()[..len]
        .par_chunks_mut(block)
        .zip(b.spare_capacity_mut()[..len].par_chunks_mut(block))
        .zip(x.par_chunks(block))
        .for_each(|((ab, bb), xb)| f(ab, bb, xb));
    // SAFETY: the three chunkings have the same length and block size, so every element of both
    // outputs lies in exactly one pair of blocks handed to `f`, which writes them all (the
    // caller's obligation); `len` is within the capacity reserved above.
    unsafe {
        a.set_len(len);
        b.set_len(len);
    }
    (a, b)
}

/// Like [`fill2`] with `x` rewritten in place as well: `f(x_block, out_a, out_b)` reads and
/// overwrites its block of `x` (a buffer the caller owns and no longer needs, such as a Linear
/// output turned into its normalised values) and writes both output blocks.
///
/// # Safety
/// `f` must write every element of both output blocks it is handed.
pub(crate) unsafe fn fill2_over<T, F>(x: &mut [T], block: usize, f: F) -> (Vec<T>, Vec<T>)
where
    T: Copy + Send + Sync,
    F: Fn(&mut [T], &mut [MaybeUninit<T>], &mut [MaybeUninit<T>]) + Sync,
{
    let len = x.len();
    let block = block.max(1);
    let (mut a, mut b) = (Vec::with_capacity(len), Vec::with_capacity(len));
    x.par_chunks_mut(block)
        .zip(a.spare_capacity_mut()[..len].par_chunks_mut(block))
        .zip(b.spare_capacity_mut()[..len].par_chunks_mut(block))
        .for_each(|((xb, ab), bb)| f(xb, ab, bb));
    // SAFETY: the three chunkings have the same length and block size, so every element of both
    // outputs lies in exactly one pair of blocks handed to `f`, which writes them all (the
    // caller's obligation); `len` is within the capacity reserved above.
    unsafe {
        a.set_len(len);
        b.set_len(len);
    }
    (a, b)
}

/// [`fill2_over`] with one new buffer: `f(x_block, out)`.
///
/// # Safety
/// `f` must write every element of the output block it is handed.
pub(crate) unsafe fn fill1_over<T, F>(x: &mut [T], block: usize, f: F) -> Vec<T>
where
    T: Copy + Send + Sync,
    F: Fn(&mut [T], &mut [MaybeUninit<T>]) + Sync,
{
    let len = x.len();
    let block = block.max(1);
    let mut a = Vec::with_capacity(len);
    x.par_chunks_mut(block)
        .zip(a.spare_capacity_mut()[..len].par_chunks_mut(block))
        .for_each(|(xb, ab)| f(xb, ab));
    // SAFETY: both chunkings have the same length and block size, so every element of the output
    // lies in exactly one block handed to `f`, which writes them all (the caller's obligation).
    unsafe { a.set_len(len) };
    a
}

/// A new `len`-element buffer computed block by block in parallel: `f(start, out)` gets the block
/// of elements `start .. start + out.len()` (`block` long, the last may be shorter). Not zeroed
/// first (see [`fill2`]).
///
/// # Safety
/// `f` must write every element of the block it is handed.
pub(crate) unsafe fn fill1<T, F>(len: usize, block: usize, f: F) -> Vec<T>
where
    T: Copy + Send + Sync,
    F: Fn(usize, &mut [MaybeUninit<T>]) + Sync,
{
    let block = block.max(1);
    let mut v = Vec::with_capacity(len);
    v.spare_capacity_mut()[..len]
        .par_chunks_mut(block)
        .enumerate()
        .for_each(|(k, out)| f(k * block, out));
    // SAFETY: the blocks cover all `len` elements and `f` writes each of them (the caller's
    // obligation); `len` is within the capacity reserved above.
    unsafe { v.set_len(len) };
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_helpers_write_every_element_including_a_short_last_block() {
        // 10 elements in blocks of 4: blocks of 4, 4 and 2
        // SAFETY: the closure writes every element of its block.
        let v: Vec<f32> = unsafe {
            fill1(10, 4, |start, out| {
                for (j, o) in out.iter_mut().enumerate() {
                    o.write((start + j) as f32);
                }
            })
        };
        assert_eq!(v, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        // SAFETY: the closure writes every element of both blocks.
        let (a, b) = unsafe {
            fill2(10, 4, &x, |ab, bb, xb| {
                for ((a, b), &v) in ab.iter_mut().zip(bb.iter_mut()).zip(xb) {
                    a.write(2.0 * v);
                    b.write(-v);
                }
            })
        };
        assert_eq!(a, x.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
        assert_eq!(b, x.iter().map(|v| -v).collect::<Vec<_>>());
        // SAFETY: nothing to write.
        assert!(unsafe { fill1::<f32, _>(0, 4, |_, _| {}) }.is_empty());
        // in place: x becomes x + 1 while two new buffers get 2x and −x (blocks of 4, 4, 2)
        let mut y = x.clone();
        // SAFETY: the closure writes every element of both output blocks.
        let (a, b) = unsafe {
            fill2_over(&mut y, 4, |yb, ab, bb| {
                for ((v, a), b) in yb.iter_mut().zip(ab.iter_mut()).zip(bb.iter_mut()) {
                    a.write(2.0 * *v);
                    b.write(-*v);
                    *v += 1.0;
                }
            })
        };
        assert_eq!(a, x.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
        assert_eq!(b, x.iter().map(|v| -v).collect::<Vec<_>>());
        assert_eq!(y, x.iter().map(|v| v + 1.0).collect::<Vec<_>>());
        // SAFETY: the closure writes every element of its output block.
        let c = unsafe {
            fill1_over(&mut y, 4, |yb, cb| {
                for (v, c) in yb.iter_mut().zip(cb.iter_mut()) {
                    c.write(*v * *v);
                    *v = 0.0;
                }
            })
        };
        assert_eq!(
            c,
            x.iter().map(|v| (v + 1.0) * (v + 1.0)).collect::<Vec<_>>()
        );
        assert!(y.iter().all(|&v| v == 0.0));
        // each block is told where it starts
        map_blocks(&mut y, 4, |start, yb| {
            for (j, v) in yb.iter_mut().enumerate() {
                *v = (start + j) as f64;
            }
        });
        assert_eq!(y, x);
    }

    #[test]
    fn reductions_round_the_same_on_any_thread_count_and_from_inside_the_pool() {
        // 40 blocks of rows with values of very different magnitude, so the order of additions
        // shows in the last bits
        let (n, d) = (40 * BLOCK + 17, 3);
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919) % 1013) as f32 * 10f32.powi((i % 7) as i32 - 3))
            .collect();
        let run = || {
            let sums = col_reduce::<f32, _>(n, d, 1, |rows, acc| {
                for r in rows {
                    for j in 0..d {
                        acc[0][j] += x[r * d + j];
                    }
                }
            });
            (sums, col_moments(&x, d).unwrap())
        };
        let outside = run();
        for threads in [1, 2, 3, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            assert_eq!(pool.install(run), outside, "{threads} threads");
            // a reduction started from a task inside the pool, as a training step runs
            assert_eq!(pool.install(|| rayon::join(run, run).1), outside);
        }
    }

    #[test]
    fn ragged_buffers_are_errors() {
        assert!(col_sums(&[1.0f32, 2.0, 3.0], 2).is_err());
        assert!(col_moments(&[1.0f32, 2.0, 3.0], 0).is_err());
    }
}
