//! Scoring and explaining with raw ids (the ids of the input CSV), as `din predict` and
//! `din explain` do.
//!
//! Unseen ids are not an error: they are mapped to the out-of-vocabulary row of their table
//! (which training sets to the mean of the known rows, "an average item/user") and listed in the
//! result. A history longer than the run's `max_len` keeps its most recent `max_len` items; an
//! empty history is allowed (the interest vectors are then zero).
//!
//! ```
//! use din::model::{Model, ModelConfig};
//! use din::predict::{predict, Query};
//! let (_world, ds) = din::synth::demo_dataset(60, 7)?;
//! let model = Model::for_vocab(&ds.vocab, ModelConfig::default(), 7)?; // untrained
//! let item = |i: u32| ds.vocab.items.raw(i).unwrap();
//! let user = ds.vocab.users.raw(1).unwrap();
//! let q = Query { user, history: vec![item(1), item(2), -5], candidates: vec![item(3), item(4)] };
//! let p = predict(&model, &ds.vocab, 50, &q)?;
//! assert_eq!(p.ctr.len(), 2);
//! assert_eq!(p.unseen_history, [-5]); // not in the vocabulary: the out-of-vocabulary row
//! assert_eq!(p.item_attention.as_ref().unwrap()[0].len(), 3);
//! # Ok::<(), din::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::data::Vocab;
use crate::error::Result;
use crate::model::Model;

/// A request: one user, their history (oldest first) and the candidates to score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// Raw user id.
    pub user: i64,
    /// Raw item ids the user interacted with, oldest first (may be empty).
    pub history: Vec<i64>,
    /// Raw item ids to score.
    pub candidates: Vec<i64>,
}

/// Scores, attention weights and the ids that were not in the training vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The raw candidate ids, in the query's order.
    pub candidates: Vec<i64>,
    /// Predicted click probability of each candidate, aligned with `candidates`.
    pub ctr: Vec<f32>,
    /// The history actually used (after keeping the most recent `max_len`).
    pub history: Vec<i64>,
    /// `[candidate][history position]` weights of the item and category activation units (DIN).
    pub item_attention: Option<Vec<Vec<f32>>>,
    /// The same for the category activation unit. Both are `None` for the base model (no
    /// attention).
    pub cate_attention: Option<Vec<Vec<f32>>>,
    /// True when the user id was not in the training vocabulary (scored with the
    /// out-of-vocabulary row).
    pub unseen_user: bool,
    /// Raw ids of the kept history not in the training vocabulary, sorted, without duplicates.
    pub unseen_history: Vec<i64>,
    /// Raw candidate ids not in the training vocabulary, sorted, without duplicates.
    pub unseen_candidates: Vec<i64>,
    /// History items dropped because the history was longer than `max_len`.
    pub truncated: usize,
}

impl Prediction {
    /// What was unseen in training or dropped, one sentence each (`din predict` prints them as
    /// notes).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.unseen_user {
            notes.push("user not seen in training: scored as an average user".to_string());
        }
        let list = |v: &[i64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.unseen_history.is_empty() {
            notes.push(format!(
                "history items not seen in training (average item row): {}",
                list(&self.unseen_history)
            ));
        }
        if !self.unseen_candidates.is_empty() {
            notes.push(format!(
                "candidates not seen in training (average item row): {}",
                list(&self.unseen_candidates)
            ));
        }
        if self.truncated > 0 {
            notes.push(format!(
                "history longer than max_len: the oldest {} items were dropped",
                self.truncated
            ));
        }
        notes
    }
}

/// One line per candidate, `item 17  CTR 0.9123`, highest CTR first, then what was unseen or
/// dropped.
///
/// ```
/// let p = din::predict::Prediction { candidates: vec![4, 5], ctr: vec![0.25, 0.75],
///     history: vec![1], item_attention: None, cate_attention: None, unseen_user: true,
///     unseen_history: vec![], unseen_candidates: vec![5], truncated: 0 };
/// assert_eq!(p.to_string(),
///     "item 5  CTR 0.7500\nitem 4  CTR 0.2500\nuser not seen in training: scored as an average user\n\
///      candidates not seen in training (average item row): 5");
/// ```
impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut order: Vec<usize> = (0..self.candidates.len()).collect();
        order.sort_by(|&a, &b| self.ctr[b].total_cmp(&self.ctr[a]));
        let mut lines: Vec<String> = order
            .iter()
            .map(|&k| format!("item {}  CTR {:.4}", self.candidates[k], self.ctr[k]))
            .collect();
        lines.extend(self.notes());
        write!(f, "{}", lines.join("\n"))
    }
}

pub use crate::model::REQUEST_CHUNK;

/// Score `q.candidates` for `q.user` with history `q.history`.
pub fn predict(model: &Model, vocab: &Vocab, max_len: usize, q: &Query) -> Result<Prediction> {
    let truncated = q.history.len().saturating_sub(max_len.max(1));
    let history: Vec<i64> = q.history[truncated..].to_vec();
    let unseen = |ids: &[i64], m: &crate::data::IdMap| -> Vec<i64> {
        let mut u: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|&r| m.get(r).is_none())
            .collect();
        u.sort_unstable();
        u.dedup();
        u
    };
    let item_idx = |r: i64| vocab.items.get_or_oov(r);
    let cate_idx = |i: u32| {
        let c = vocab.cate_of(i);
        if c == 0 {
            vocab.cates.oov()
        } else {
            c
        }
    };
    let hi: Vec<u32> = history.iter().map(|&r| item_idx(r)).collect();
    let hc: Vec<u32> = hi.iter().map(|&i| cate_idx(i)).collect();
    let user = vocab.users.get_or_oov(q.user);
    let targets: Vec<(u32, u32)> = q
        .candidates
        .iter()
        .map(|&r| {
            let i = item_idx(r);
            (i, cate_idx(i))
        })
        .collect();
    let mut ctr = Vec::with_capacity(targets.len());
    let (mut wi, mut wc) = (Vec::new(), Vec::new());
    // The history side of the activation units is computed once per chunk of candidates
    // (`Model::forward_request`): all of them on the CPU kernel, else chunks that bound the
    // tensor path's `[candidates · history, H]` activations (`Model::request_chunk`).
    for chunk in targets.chunks(model.request_chunk()) {
        let out = model.forward_request(user, &hi, &hc, chunk)?;
        ctr.extend(
            out.ctr()?
                .to_dtype(candle_core::DType::F32)?
                .to_vec1::<f32>()?,
        );
        if let Some([a, c]) = out.attention {
            for (dst, t) in [(&mut wi, a), (&mut wc, c)] {
                dst.extend(t.to_dtype(candle_core::DType::F32)?.to_vec2::<f32>()?);
            }
        }
    }
    let has_att = matches!(model.config.kind, crate::model::ModelKind::Din);
    Ok(Prediction {
        candidates: q.candidates.clone(),
        ctr,
        history,
        item_attention: has_att.then_some(wi),
        cate_attention: has_att.then_some(wc),
        unseen_user: vocab.users.get(q.user).is_none(),
        unseen_history: unseen(&q.history[truncated..], &vocab.items),
        unseen_candidates: unseen(&q.candidates, &vocab.items),
        truncated,
    })
}
