//! A Linear layer's bias and the attention-weighted pooling of a packed history.
//!
//! ```
//! use din_kernels::elementwise::{add_bias, segment_pool};
//! let x = [1.0f32, 2.0, 3.0, 4.0]; // [2, 2]
//! assert_eq!(add_bias(&x, &[10.0, 20.0])?, vec![11.0, 22.0, 13.0, 24.0]);
//! assert!(add_bias(&x, &[10.0, 20.0, 30.0]).is_err()); // not one bias per column
//! // three history positions of width 2; positions 0 and 1 belong to row 0, position 2 to row 1
//! let h = [1.0f32, 0.0, 0.0, 1.0, 2.0, 2.0];
//! let pooled = segment_pool(&h, &[0.5, 0.25, 1.0], &[0, 0, 1], 2, 2)?;
//! assert_eq!(pooled, vec![0.5, 0.25, 2.0, 2.0]);
//! # Ok::<(), din_kernels::Error>(())
//! ```

use crate::par::rows_of;
use crate::{check_len, invalid, Real, Result};

/// `x [n, d] + b [d]` with `d = b.len()`.
pub fn add_bias<T: Real>(x: &[T], b: &[T]) -> Result<Vec<T>> {
    rows_of("add_bias", x.len(), b.len())?;
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(b.len()) {
        out.extend(row.iter().zip(b).map(|(&a, &c)| a + c));
    }
    Ok(out)
}

fn check_segments(kernel: &'static str, seg: &[u32], batch: usize) -> Result<()> {
    match seg.iter().position(|&s| s as usize >= batch) {
        Some(i) => Err(invalid(
            kernel,
            format!(
                "position {i} belongs to row {}, the batch has {batch}",
                seg[i]
            ),
        )),
        None => Ok(()),
    }
}

/// `out[seg[i]] += w[i]·h[i]`: the weighted sums `[batch, d]` of a packed history `h: [N, d]`
/// with weights `w: [N]`, position `i` belonging to row `seg[i]` (rows without positions get 0).
pub fn segment_pool<T: Real>(
    h: &[T],
    w: &[T],
    seg: &[u32],
    batch: usize,
    d: usize,
) -> Result<Vec<T>> {
    let n = w.len();
    check_len("segment_pool", "segments", n, seg.len())?;
    check_len("segment_pool", "history", n * d, h.len())?;
    check_segments("segment_pool", seg, batch)?;
    let mut out = vec![T::zero(); batch * d];
    if d == 0 {
        return Ok(out);
    }
    for ((hr, &wi), &s) in h.chunks_exact(d).zip(w).zip(seg) {
        let o = &mut out[s as usize * d..(s as usize + 1) * d];
        for (o, &v) in o.iter_mut().zip(hr) {
            *o = *o + wi * v;
        }
    }
    Ok(out)
}

/// The backward of [`segment_pool`] from `g = dL/dout: [batch, d]`: `dh[i] = w[i]·g[seg[i]]`,
/// `dw[i] = ⟨g[seg[i]], h[i]⟩`.
pub fn segment_pool_backward<T: Real>(
    h: &[T],
    w: &[T],
    seg: &[u32],
    g: &[T],
    batch: usize,
    d: usize,
) -> Result<(Vec<T>, Vec<T>)> {
    let n = w.len();
    check_len("segment_pool backward", "segments", n, seg.len())?;
    check_len(
        "segment_pool backward",
        "output gradient",
        batch * d,
        g.len(),
    )?;
    check_len("segment_pool backward", "history", n * d, h.len())?;
    check_segments("segment_pool backward", seg, batch)?;
    let mut dh = Vec::with_capacity(h.len());
    let mut dw = Vec::with_capacity(n);
    if d == 0 {
        return Ok((dh, vec![T::zero(); n]));
    }
    for ((hr, &wi), &s) in h.chunks_exact(d).zip(w).zip(seg) {
        let gr = &g[s as usize * d..(s as usize + 1) * d];
        dh.extend(gr.iter().map(|&x| wi * x));
        dw.push(gr.iter().zip(hr).fold(T::zero(), |a, (&x, &y)| a + x * y));
    }
    Ok((dh, dw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bias_of_the_wrong_length_is_an_error_not_a_wrong_answer() {
        // 6 elements: 2 rows of 3 columns; a 2-long bias used to be added to rows of 2
        let x = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert!(add_bias(&x, &[1.0, 1.0, 1.0, 1.0]).is_err());
        assert!(add_bias(&x, &[]).is_err());
        assert_eq!(
            add_bias(&x, &[1.0, 2.0, 3.0]).unwrap(),
            vec![2.0, 4.0, 6.0, 5.0, 7.0, 9.0]
        );
    }

    #[test]
    fn segments_out_of_the_batch_are_errors() {
        let h = [1.0f32, 2.0];
        assert!(segment_pool(&h, &[1.0, 1.0], &[0, 2], 2, 1).is_err());
        assert!(segment_pool(&h, &[1.0], &[0, 0], 2, 1).is_err());
        assert!(segment_pool_backward(&h, &[1.0, 1.0], &[0, 1], &[1.0], 2, 1).is_err());
        // an empty history still pools to `batch` rows of zeros
        assert_eq!(
            segment_pool::<f32>(&[], &[], &[], 2, 3).unwrap(),
            vec![0.0; 6]
        );
    }
}
