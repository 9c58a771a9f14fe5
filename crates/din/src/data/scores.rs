//! A model's scores on a split, one per row with the row's raw ids: what `din eval
//! --predictions OUT.parquet` writes (the Parquet file itself: [`super::write_scores`],
//! [`super::read_scores`]).

use super::split::Split;
use super::vocab::Vocab;
use crate::error::{Error, Result};

/// One model score per evaluated row, with the row's raw ids (those of the input CSV), as
/// `din eval --predictions OUT.parquet` writes them for pandas or scikit-learn. `row` is the row's
/// position in its split; an id the split's vocabulary cannot name (the out-of-vocabulary row) is
/// null.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// Position of each row in its split (0, 1, …).
    pub row: Vec<u32>,
    /// Raw user id of each row (null for the out-of-vocabulary index).
    pub user_id: Vec<Option<i64>>,
    /// Raw id of each row's candidate item (null for the out-of-vocabulary index).
    pub target_item: Vec<Option<i64>>,
    /// Raw category id of each row's candidate item (null for padding or out-of-vocabulary).
    pub target_cate: Vec<Option<i64>>,
    /// Each row's label: 1.0 for a positive, 0.0 for a sampled negative.
    pub label: Vec<f32>,
    /// The model's score of each row (`din eval` writes the predicted click probability).
    pub score: Vec<f32>,
}

impl Scores {
    /// The scores of `split`'s rows (encoded with `vocab`), `score[i]` for row `i`.
    pub fn of_split(split: &Split, vocab: &Vocab, score: Vec<f32>) -> Result<Scores> {
        if score.len() != split.len() {
            return Err(Error::Config(format!(
                "{} scores for a split of {} rows (one score per row)",
                score.len(),
                split.len()
            )));
        }
        let raw = |m: &super::vocab::IdMap, v: &[u32]| v.iter().map(|&i| m.raw(i)).collect();
        Ok(Scores {
            row: (0..split.len() as u32).collect(),
            user_id: raw(&vocab.users, &split.user),
            target_item: raw(&vocab.items, &split.target_item),
            target_cate: raw(&vocab.cates, &split.target_cate),
            label: split.label.clone(),
            score,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }
}
