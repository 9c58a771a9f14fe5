//! Looking inside a trained model: attention against ground truth, 2-D projections of embeddings.
//!
//! ```
//! // four 3-d points spread mostly along x, a little along y, not at all along z
//! let points = [0.0f32, 0.0, 0.0, 4.0, 1.0, 0.0, 8.0, -1.0, 0.0, 12.0, 0.0, 0.0];
//! let xy = din::analysis::pca2(&points, 4, 3);
//! assert_eq!(xy.len(), 4);
//! let spread = |f: fn(&(f64, f64)) -> f64| {
//!     let v: Vec<f64> = xy.iter().map(f).collect();
//!     v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
//! };
//! // the first component carries the large spread, the second the small one
//! assert!(spread(|p| p.0) > 10.0 && spread(|p| p.1) < 3.0);
//! ```

use crate::data::{Batch, Split};
use crate::error::Result;
use crate::metrics::auc;
use crate::model::{Model, TableId};

/// How well attention finds same-interest history items: for every row, the AUC of its item-attention
/// weights at separating history items of the target's interest (ground truth from
/// `interest_of(item index)`) from the others; averaged over rows weighted by history length, rows
/// whose history is all one kind skipped. 0.5 is chance, 1.0 perfect. `None` for the base model or
/// when no row qualifies.
pub fn attention_auc(
    model: &Model,
    split: &Split,
    interest_of: &dyn Fn(u32) -> Option<usize>,
    batch_size: usize,
) -> Result<Option<f64>> {
    let (mut num, mut den) = (0.0, 0.0);
    let rows: Vec<usize> = (0..split.len()).collect();
    for chunk in rows.chunks(batch_size.max(1)) {
        let batch = Batch::from_split(split, chunk);
        let Some([w, _]) = model.forward(&batch)?.attention else {
            return Ok(None);
        };
        let w = w.to_dtype(candle_core::DType::F32)?.to_vec2::<f32>()?;
        for (k, &r) in chunk.iter().enumerate() {
            let (hist, _) = split.history(r);
            let Some(target) = interest_of(split.target_item[r]) else {
                continue;
            };
            let labels: Vec<f32> = hist
                .iter()
                .map(|&i| {
                    if interest_of(i) == Some(target) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            if let Some(a) = auc(&w[k][..hist.len()], &labels) {
                num += a * hist.len() as f64;
                den += hist.len() as f64;
            }
        }
    }
    Ok((den > 0.0).then(|| num / den))
}

/// Project rows of a matrix (`rows × dim`, row-major) onto their first two principal components.
pub fn pca2(data: &[f32], rows: usize, dim: usize) -> Vec<(f64, f64)> {
    if rows == 0 || dim == 0 {
        return Vec::new();
    }
    let mut mean = vec![0f64; dim];
    for r in 0..rows {
        for j in 0..dim {
            mean[j] += data[r * dim + j] as f64 / rows as f64;
        }
    }
    let x: Vec<f64> = (0..rows * dim)
        .map(|k| data[k] as f64 - mean[k % dim])
        .collect();
    let mut cov = vec![0f64; dim * dim];
    for r in 0..rows {
        let row = &x[r * dim..(r + 1) * dim];
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] += row[i] * row[j];
            }
        }
    }
    // power iteration with deflation, deterministic start
    let mut comps: Vec<Vec<f64>> = Vec::new();
    for c in 0..2usize.min(dim) {
        let mut v: Vec<f64> = (0..dim)
            .map(|j| 1.0 + ((j * 7 + c * 3) % 5) as f64 * 0.1)
            .collect();
        for _ in 0..300 {
            let mut w: Vec<f64> = (0..dim)
                .map(|i| (0..dim).map(|j| cov[i * dim + j] * v[j]).sum())
                .collect();
            for p in &comps {
                let d: f64 = w.iter().zip(p).map(|(a, b)| a * b).sum();
                w.iter_mut().zip(p).for_each(|(a, b)| *a -= d * b);
            }
            let n = w.iter().map(|a| a * a).sum::<f64>().sqrt();
            if n == 0.0 {
                break;
            }
            v = w.iter().map(|a| a / n).collect();
        }
        comps.push(v);
    }
    (0..rows)
        .map(|r| {
            let row = &x[r * dim..(r + 1) * dim];
            let p = |k: usize| {
                comps
                    .get(k)
                    .map_or(0.0, |c| row.iter().zip(c).map(|(a, b)| a * b).sum())
            };
            (p(0), p(1))
        })
        .collect()
}

/// Embedding rows of `ids` from a model's table (for plots).
pub fn embedding_rows(model: &Model, table: TableId, ids: &[u32]) -> Vec<f32> {
    let t = model.embeddings.table(table);
    ids.iter()
        .flat_map(|&i| t.row((i as usize).min(t.rows - 1)).to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_main_direction() {
        // points along (1, 1, 0) with small noise in z
        let mut data = Vec::new();
        for k in 0..20 {
            let t = k as f32 - 10.0;
            data.extend_from_slice(&[t, t, 0.01 * (k % 3) as f32]);
        }
        let p = pca2(&data, 20, 3);
        let spread0: f64 = p.iter().map(|q| q.0 * q.0).sum();
        let spread1: f64 = p.iter().map(|q| q.1 * q.1).sum();
        assert!(spread0 > 1000.0 * spread1, "{spread0} {spread1}");
        // first coordinate is monotone in t (up to sign)
        assert!(p.windows(2).all(|w| (w[1].0 - w[0].0).abs() > 1.0));
    }
}
