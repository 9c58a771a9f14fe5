//! Scoring a split with a trained model: the predicted CTRs of every row, and their metrics.

use crate::data::{plan_batches, Batch, BatchOrder, Split};
use crate::error::Result;
use crate::metrics::Metrics;
use crate::model::{Model, Trainable};

/// Predicted CTRs for every row of a split, in order.
pub fn predict_split<N: Trainable>(
    model: &Model<N>,
    split: &Split,
    batch_size: usize,
) -> Result<Vec<f32>> {
    let order = BatchOrder {
        batch_size: batch_size.max(1),
        shuffle: None,
        bucket_by_length: false,
    };
    let mut out = Vec::with_capacity(split.len());
    for rows in plan_batches(split, order, 0) {
        out.extend(model.predict(&Batch::from_split(split, &rows))?);
    }
    Ok(out)
}

/// AUC, GAUC and logloss of a model on a split.
pub fn evaluate<N: Trainable>(
    model: &Model<N>,
    split: &Split,
    batch_size: usize,
) -> Result<Metrics> {
    let p = predict_split(model, split, batch_size)?;
    Ok(Metrics::compute(&p, &split.label, &split.user))
}
