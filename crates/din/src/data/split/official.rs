//! [`Protocol::Official`](super::Protocol::Official): the official DIN repository's
//! `din/build_dataset.py`, draw for draw (the parent module's docs, "The official protocol").

use std::sync::Arc;

use super::{mark_seen, Dataset, Encoded, HistPool, Split, SplitConfig};
use crate::data::events::Events;
use crate::data::pyrandom::PyRandom;
use crate::error::{Error, Result};

/// [`Protocol::Official`](super::Protocol::Official): the official `build_dataset.py` on this
/// crate's dense ids (see the parent module's docs, "The official protocol").
pub(super) fn build(events: &Events, enc: Encoded, config: SplitConfig) -> Result<Dataset> {
    if config.drop_short != 0 {
        return Err(Error::Config(format!(
            "drop_short = {} does not apply to the official protocol (the script drops no user); \
             use 0, or filter the events before splitting",
            config.drop_short
        )));
    }
    let pool = enc.pool.clone();
    let (start, item_cate) = (&enc.start, &enc.item_cate);
    let n_users = enc.users.len();
    let item_count = enc.items.len() as u64;
    let mut stats = enc.stats(events);
    let mut rng = PyRandom::seed(config.seed);
    // One train row before the shuffle: (user, history start, history length, item, label).
    let mut train_rows: Vec<(u32, usize, u32, u32, bool)> = Vec::new();
    // One test pair: (user, history start, history length, positive, negative).
    let mut test_pairs: Vec<(u32, usize, u32, u32, u32)> = Vec::new();
    // seen_by[item] == user: `item in pos_list` for the current user.
    let mut seen_by = vec![0u32; enc.items.table_rows()];
    let mut neg_list = Vec::new();
    for user in 1..=n_users {
        let (s, e) = (start[user], start[user + 1]);
        let pos_list = &pool.items[s..e];
        let distinct = mark_seen(&mut seen_by, pos_list, user as u32);
        if distinct >= item_count {
            let raw = enc.users.raw(user as u32).unwrap_or_default();
            return Err(Error::Config(format!(
                "user {raw} interacted with all {item_count} items: the official protocol's \
                 negative sampler (like build_dataset.py, which would loop forever) has no item \
                 to draw; remove this user from the events or use the default protocol"
            )));
        }
        // gen_neg() once per event, the first one included (its draws shift all later ones).
        neg_list.clear();
        for _ in 0..pos_list.len() {
            let mut neg = pos_list[0];
            while seen_by[neg as usize] == user as u32 {
                neg = rng.randint(0, item_count - 1) as u32 + 1;
            }
            neg_list.push(neg);
        }
        let n = pos_list.len();
        if n < 2 {
            stats.users_single_event += 1;
        }
        for i in 1..n {
            let len = i.min(config.max_len);
            let (hist_start, len32) = (s + i - len, len as u32);
            if i != n - 1 {
                train_rows.push((user as u32, hist_start, len32, pos_list[i], true));
                train_rows.push((user as u32, hist_start, len32, neg_list[i], false));
            } else {
                test_pairs.push((user as u32, hist_start, len32, pos_list[i], neg_list[i]));
            }
        }
    }
    rng.shuffle(&mut train_rows);
    rng.shuffle(&mut test_pairs);
    let (train, test) = official_splits(&pool, item_cate, &train_rows, &test_pairs);
    let val = Split::with_pool(pool);
    Ok(enc.into_dataset(config, stats, train, val, test))
}

/// The official protocol's shuffled train rows `(user, history start, history length, item,
/// positive)` and test pairs `(user, history start, history length, positive, negative)` as
/// splits. A positive's category is its event's (as in the default protocol), a negative's its
/// item's.
fn official_splits(
    pool: &Arc<HistPool>,
    item_cate: &[u32],
    train_rows: &[(u32, usize, u32, u32, bool)],
    test_pairs: &[(u32, usize, u32, u32, u32)],
) -> (Split, Split) {
    let cate_at = |hist_start: usize, len: u32| pool.cates[hist_start + len as usize];
    let mut train = Split::with_pool_capacity(pool.clone(), train_rows.len());
    for &(user, hs, len, item, positive) in train_rows {
        let (cate, label) = if positive {
            (cate_at(hs, len), 1.0)
        } else {
            (item_cate[item as usize], 0.0)
        };
        train.push(user, hs, len, item, cate, label);
    }
    let mut test = Split::with_pool_capacity(pool.clone(), 2 * test_pairs.len());
    for &(user, hs, len, p, q) in test_pairs {
        test.push(user, hs, len, p, cate_at(hs, len), 1.0);
        test.push(user, hs, len, q, item_cate[q as usize], 0.0);
    }
    (train, test)
}
