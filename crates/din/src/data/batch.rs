//! Mini-batches for the model: histories padded to the longest history *in the batch* (not always
//! to `max_len`), with a 0/1 mask, as flat row-major buffers ready to become candle tensors.

use super::split::Split;
use crate::rng::Rng;

/// One padded mini-batch. `hist_*` and `mask` are `[size, max_len]`, row-major; padding is index 0
/// with mask 0. `max_len` is at least 1 so tensors never have a zero dimension.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Number of rows `B`.
    pub size: usize,
    /// Padded history length `L`: the longest history among the rows, or more when padded to a
    /// minimum ([`Batch::from_rows`]); at least 1.
    pub max_len: usize,
    /// Dense user index of each row, `[B]`.
    pub user: Vec<u32>,
    /// Dense index of each row's candidate item, `[B]`.
    pub target_item: Vec<u32>,
    /// Dense category index of each row's candidate item, `[B]`.
    pub target_cate: Vec<u32>,
    /// History item indices, oldest first, `[B, L]` row-major; padding is 0.
    pub hist_item: Vec<u32>,
    /// History category indices, aligned with `hist_item`, `[B, L]` row-major; padding is 0.
    pub hist_cate: Vec<u32>,
    /// 1.0 at real history positions, 0.0 at padding, `[B, L]` row-major.
    pub mask: Vec<f32>,
    /// Number of real history positions of each row (its unpadded length), `[B]`.
    pub hist_len: Vec<u32>,
    /// Click label of each row, `[B]`: 1.0 for a positive, 0.0 for a sampled negative.
    pub label: Vec<f32>,
    /// The rows' context ids ([`Split::context`]), or empty when the split has none.
    pub context: Vec<u32>,
}

/// One row as the batcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    /// Dense user index.
    pub user: u32,
    /// History item indices, oldest first, without padding.
    pub hist_item: &'a [u32],
    /// History category indices, aligned with `hist_item`.
    pub hist_cate: &'a [u32],
    /// Dense index of the candidate item.
    pub target_item: u32,
    /// Dense category index of the candidate item.
    pub target_cate: u32,
    /// 1.0 for a positive, 0.0 for a sampled negative.
    pub label: f32,
}

impl Batch {
    /// Pad rows to the longest history among them (at least `min_len`, at least 1).
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = RowRef<'a>>, min_len: usize) -> Batch {
        let rows: Vec<RowRef<'a>> = rows.into_iter().collect();
        let l = rows
            .iter()
            .map(|r| r.hist_item.len())
            .max()
            .unwrap_or(0)
            .max(min_len)
            .max(1);
        let b = rows.len();
        let mut out = Batch {
            size: b,
            max_len: l,
            hist_item: vec![0; b * l],
            hist_cate: vec![0; b * l],
            mask: vec![0.0; b * l],
            ..Default::default()
        };
        for (k, r) in rows.iter().enumerate() {
            out.user.push(r.user);
            out.target_item.push(r.target_item);
            out.target_cate.push(r.target_cate);
            out.label.push(r.label);
            out.hist_len.push(r.hist_item.len() as u32);
            let n = r.hist_item.len().min(r.hist_cate.len());
            out.hist_item[k * l..k * l + n].copy_from_slice(&r.hist_item[..n]);
            out.hist_cate[k * l..k * l + n].copy_from_slice(&r.hist_cate[..n]);
            out.mask[k * l..k * l + n].iter_mut().for_each(|m| *m = 1.0);
        }
        out
    }

    /// The rows `rows` of a split, padded to their longest history.
    pub fn from_split(split: &Split, rows: &[usize]) -> Batch {
        let mut batch = Batch::from_rows(rows.iter().map(|&r| split.row(r)), 0);
        if !split.context.is_empty() {
            batch.context = rows.iter().map(|&r| split.context[r]).collect();
        }
        batch
    }

    /// The same batch padded to `len` positions (≥ the current `max_len`); used to check that
    /// padding never changes a prediction.
    pub fn padded_to(&self, len: usize) -> Batch {
        let rows = (0..self.size).map(|k| self.row(k));
        Batch {
            context: self.context.clone(),
            ..Batch::from_rows(rows.collect::<Vec<_>>(), len)
        }
    }

    /// Row `k` of the batch without its padding.
    pub fn row(&self, k: usize) -> RowRef<'_> {
        let l = self.max_len;
        let n = self.hist_len[k] as usize;
        RowRef {
            user: self.user[k],
            hist_item: &self.hist_item[k * l..k * l + n],
            hist_cate: &self.hist_cate[k * l..k * l + n],
            target_item: self.target_item[k],
            target_cate: self.target_cate[k],
            label: self.label[k],
        }
    }

    /// Number of real (unpadded) history positions.
    pub fn n_valid(&self) -> usize {
        self.hist_len.iter().map(|&l| l as usize).sum()
    }
}

impl Split {
    /// Row `r` as a [`RowRef`].
    pub fn row(&self, r: usize) -> RowRef<'_> {
        let (hist_item, hist_cate) = self.history(r);
        RowRef {
            user: self.user[r],
            hist_item,
            hist_cate,
            target_item: self.target_item[r],
            target_cate: self.target_cate[r],
            label: self.label[r],
        }
    }
}

/// How to cut a split into batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchOrder {
    /// Rows per batch; one batch of each pass may hold fewer (the remainder). 0 counts as 1.
    pub batch_size: usize,
    /// Shuffle with this seed (None: file order).
    pub shuffle: Option<u64>,
    /// Group rows of similar history length into the same batch (less padding), then shuffle the
    /// order of the batches. Only with `shuffle`.
    pub bucket_by_length: bool,
}

/// Row indices of each batch of one pass over `split`. `epoch` varies the shuffle per epoch.
pub fn plan_batches(split: &Split, order: BatchOrder, epoch: u64) -> Vec<Vec<usize>> {
    let n = split.len();
    let bs = order.batch_size.max(1);
    let mut rows: Vec<usize> = (0..n).collect();
    let Some(seed) = order.shuffle else {
        return rows.chunks(bs).map(|c| c.to_vec()).collect();
    };
    let mut rng = Rng::stream(seed, 0x5EED_0000 + epoch);
    rng.shuffle(&mut rows);
    if !order.bucket_by_length {
        return rows.chunks(bs).map(|c| c.to_vec()).collect();
    }
    // Sort windows of 32 batches by history length, cut, then shuffle the batch order.
    let window = bs * 32;
    let mut batches = Vec::with_capacity(n / bs + 1);
    for w in rows.chunks_mut(window) {
        w.sort_by_key(|&r| split.hist_len[r]);
        batches.extend(w.chunks(bs).map(|c| c.to_vec()));
    }
    rng.shuffle(&mut batches);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{build, Events, SplitConfig};

    fn dataset() -> crate::data::Dataset {
        let mut ev = Events::default();
        for u in 0..30i64 {
            for k in 0..(4 + u % 9) {
                ev.push(u, (u * 7 + k * 3) % 50, k, (u + k) % 5);
            }
        }
        build(&ev, SplitConfig::default()).unwrap()
    }

    #[test]
    fn pads_to_longest_in_batch_with_mask() {
        let ds = dataset();
        let rows = [0usize, 1, 5];
        let b = Batch::from_split(&ds.train, &rows);
        let longest = rows.iter().map(|&r| ds.train.hist_len[r]).max().unwrap() as usize;
        assert_eq!(b.max_len, longest);
        assert_eq!(b.hist_item.len(), 3 * longest);
        for (k, &r) in rows.iter().enumerate() {
            let (items, cates) = ds.train.history(r);
            let n = items.len();
            assert_eq!(&b.hist_item[k * longest..k * longest + n], items);
            assert_eq!(&b.hist_cate[k * longest..k * longest + n], cates);
            for j in 0..longest {
                let valid = j < n;
                assert_eq!(b.mask[k * longest + j], if valid { 1.0 } else { 0.0 });
                if !valid {
                    assert_eq!(b.hist_item[k * longest + j], 0);
                }
            }
        }
        let p = b.padded_to(50);
        assert_eq!(p.max_len, 50);
        assert_eq!(p.n_valid(), b.n_valid());
        assert_eq!(p.padded_to(0), b);
    }

    #[test]
    fn plans_cover_every_row_once() {
        let ds = dataset();
        for (shuffle, bucket) in [(None, false), (Some(3), false), (Some(3), true)] {
            let order = BatchOrder {
                batch_size: 16,
                shuffle,
                bucket_by_length: bucket,
            };
            let plan = plan_batches(&ds.train, order, 1);
            let mut all: Vec<usize> = plan.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..ds.train.len()).collect::<Vec<_>>());
            assert!(plan.iter().all(|b| b.len() <= 16));
            assert_eq!(plan, plan_batches(&ds.train, order, 1), "deterministic");
        }
        let o = BatchOrder {
            batch_size: 16,
            shuffle: Some(3),
            bucket_by_length: true,
        };
        assert_ne!(plan_batches(&ds.train, o, 1), plan_batches(&ds.train, o, 2));
        // bucketing reduces padding
        let pad = |plan: Vec<Vec<usize>>| -> usize {
            plan.iter()
                .map(|b| {
                    let bt = Batch::from_split(&ds.train, b);
                    bt.size * bt.max_len - bt.n_valid()
                })
                .sum()
        };
        let plain = pad(plan_batches(
            &ds.train,
            BatchOrder {
                bucket_by_length: false,
                ..o
            },
            1,
        ));
        let bucketed = pad(plan_batches(&ds.train, o, 1));
        assert!(bucketed < plain, "{bucketed} < {plain}");
    }
}
