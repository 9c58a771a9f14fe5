//! [`Protocol::LeaveLastOut`](super::Protocol::LeaveLastOut), this crate's leak-free split (the
//! parent module's docs), and torch-rechub's `create_seq_features` it is compared with.

use super::{mark_seen, Dataset, Encoded, Split, SplitConfig};
use crate::data::events::Events;
use crate::error::Result;
use crate::rng::Rng;

/// [`Protocol::LeaveLastOut`](super::Protocol::LeaveLastOut): this crate's leak-free split (the
/// parent module's docs).
pub(super) fn build(events: &Events, enc: Encoded, config: SplitConfig) -> Result<Dataset> {
    let (pool, start, item_cate) = (enc.pool.clone(), &enc.start, &enc.item_cate);
    let n_users = enc.users.len();
    // Rows per split, counted first so the columns are allocated once (two rows per target).
    let (mut n_train, mut n_eval) = (0usize, 0usize);
    for user in 1..=n_users {
        let n = start[user + 1] - start[user];
        if n >= config.drop_short.max(2) {
            n_eval += 1;
            n_train += n.saturating_sub(3);
        }
    }
    let mut train = Split::with_pool_capacity(pool.clone(), 2 * n_train);
    let mut val = Split::with_pool_capacity(pool.clone(), 2 * n_eval);
    let mut test = Split::with_pool_capacity(pool.clone(), 2 * n_eval);
    let mut stats = enc.stats(events);
    let n_items = enc.items.len() as u64;
    // seen_by[item] == user: the user interacted with the item (no per-user set to allocate).
    let mut seen_by = vec![0u32; enc.items.table_rows()];
    for user in 1..=n_users {
        let (s, e) = (start[user], start[user + 1]);
        let n = e - s;
        if n < config.drop_short {
            stats.users_dropped_short += 1;
            continue;
        }
        if n < 2 {
            stats.users_single_event += 1;
            continue;
        }
        let distinct = mark_seen(&mut seen_by, &pool.items[s..e], user as u32);
        let mut rng = Rng::stream(config.seed, user as u64);
        for i in 1..n {
            let len = i.min(config.max_len);
            let hist_start = s + i - len;
            let split = if i == n - 1 {
                &mut test
            } else if i == n - 2 {
                &mut val
            } else {
                &mut train
            };
            let (u32user, len32) = (user as u32, len as u32);
            split.push(
                u32user,
                hist_start,
                len32,
                pool.items[s + i],
                pool.cates[s + i],
                1.0,
            );
            if distinct >= n_items {
                stats.negatives_impossible += 1;
                continue;
            }
            let neg = draw_unseen(&mut rng, n_items, &seen_by, user as u32);
            split.push(
                u32user,
                hist_start,
                len32,
                neg,
                item_cate[neg as usize],
                0.0,
            );
        }
    }
    Ok(enc.into_dataset(config, stats, train, val, test))
}

/// Rows of one user's sequence as torch-rechub's `create_seq_features` builds them: `(history,
/// target)` for train, val and test (positives only). For comparison and teaching, never for
/// training: its test row is also appended to train, and it keeps the *oldest* `max_len` events.
pub type RechubRows<T> = Vec<(Vec<T>, T)>;

/// An item (1..=n_items) drawn uniformly from those `user` has not seen; the caller makes sure
/// one exists.
fn draw_unseen(rng: &mut Rng, n_items: u64, seen_by: &[u32], user: u32) -> u32 {
    loop {
        let cand = rng.below(n_items) as u32 + 1;
        if seen_by[cand as usize] != user {
            return cand;
        }
    }
}

/// A faithful port of torch-rechub's split logic for one user's time-sorted item sequence.
pub fn torch_rechub_positive_rows<T: Clone>(
    seq: &[T],
    max_len: usize,
) -> (RechubRows<T>, RechubRows<T>, RechubRows<T>) {
    let (mut tr, mut va, mut te) = (vec![], vec![], vec![]);
    let clicks = &seq[..seq.len().min(max_len)];
    let mut hist = vec![];
    for i in 1..clicks.len() {
        hist.push(clicks[i - 1].clone());
        if i == clicks.len() - 1 {
            te.push((hist.clone(), clicks[i].clone()));
        }
        if i + 2 == clicks.len() {
            va.push((hist.clone(), clicks[i].clone()));
        } else {
            tr.push((hist.clone(), clicks[i].clone()));
        }
    }
    (tr, va, te)
}

#[cfg(test)]
mod tests {
    use super::torch_rechub_positive_rows as rechub_positive_rows;
    use crate::data::{build, Events, Split, SplitConfig};

    fn positive_rows(s: &Split) -> Vec<(u32, Vec<u32>, u32)> {
        (0..s.len())
            .filter(|&r| s.label[r] == 1.0)
            .map(|r| (s.user[r], s.history(r).0.to_vec(), s.target_item[r]))
            .collect()
    }

    fn one_user(n: usize) -> Events {
        let mut ev = Events::default();
        for k in 0..n {
            // item k+1 at time k; plus a second user so that negatives exist
            ev.push(1, k as i64 + 1, k as i64, 1);
        }
        for k in 0..5 {
            ev.push(2, 1000 + k, k, 2);
        }
        ev
    }

    #[test]
    fn sorts_by_time_stably_and_splits_last_two() {
        let mut ev = Events::default();
        // user 9: times out of order, two ties at t=5 keep file order (30 before 10)
        ev.push(9, 40, 7, 1);
        ev.push(9, 30, 5, 1);
        ev.push(9, 10, 5, 2);
        ev.push(9, 20, 1, 2);
        ev.push(3, 50, 1, 3);
        ev.push(3, 60, 2, 3);
        let ds = build(&ev, SplitConfig::default()).unwrap();
        let items = &ds.vocab.items;
        let u9 = ds.vocab.users.get(9).unwrap();
        let raw = |xs: &[u32]| {
            xs.iter()
                .map(|&x| items.raw(x).unwrap())
                .collect::<Vec<_>>()
        };
        // user 9's order: 20, 30, 10, 40 → test: [20,30,10]→40, val: [20,30]→10, train: [20]→30
        let test: Vec<_> = positive_rows(&ds.test)
            .into_iter()
            .filter(|r| r.0 == u9)
            .collect();
        assert_eq!(raw(&test[0].1), vec![20, 30, 10]);
        assert_eq!(items.raw(test[0].2), Some(40));
        let val: Vec<_> = positive_rows(&ds.val)
            .into_iter()
            .filter(|r| r.0 == u9)
            .collect();
        assert_eq!(raw(&val[0].1), vec![20, 30]);
        let train: Vec<_> = positive_rows(&ds.train)
            .into_iter()
            .filter(|r| r.0 == u9)
            .collect();
        assert_eq!(train.len(), 1);
        assert_eq!(raw(&train[0].1), vec![20]);
        // user 3 has two events: only a test row
        let u3 = ds.vocab.users.get(3).unwrap();
        assert!(positive_rows(&ds.train).iter().all(|r| r.0 != u3));
        assert_eq!(
            positive_rows(&ds.test).iter().filter(|r| r.0 == u3).count(),
            1
        );
        // every positive has a negative with the negative item's own category, never seen by the user
        for s in [&ds.train, &ds.val, &ds.test] {
            assert_eq!(s.label.iter().filter(|&&l| l == 0.0).count() * 2, s.len());
            for r in 0..s.len() {
                if s.label[r] == 0.0 {
                    let t = s.target_item[r];
                    assert_eq!(s.target_cate[r], ds.vocab.cate_of(t));
                    let user_items: Vec<u32> = (0..ev.len())
                        .filter(|&k| ds.vocab.users.get(ev.user[k]) == Some(s.user[r]))
                        .map(|k| items.get(ev.item[k]).unwrap())
                        .collect();
                    assert!(!user_items.contains(&t));
                }
            }
        }
    }

    #[test]
    fn no_row_in_two_splits_unlike_torch_rechub() {
        let ev = one_user(12);
        let ds = build(&ev, SplitConfig::default()).unwrap();
        let (tr, va, te) = (
            positive_rows(&ds.train),
            positive_rows(&ds.val),
            positive_rows(&ds.test),
        );
        for row in &te {
            assert!(!tr.contains(row) && !va.contains(row));
        }
        for row in &va {
            assert!(!tr.contains(row));
        }
        // torch-rechub's logic on the same sequence puts its test row into train as well
        let u1 = ds.vocab.users.get(1).unwrap();
        let seq: Vec<u32> = (1..=12).map(|k| ds.vocab.items.get(k).unwrap()).collect();
        let (rtr, _rva, rte) = rechub_positive_rows(&seq, 50);
        assert!(
            rte.iter().all(|row| rtr.contains(row)),
            "rechub leaks test rows"
        );
        // ours has the same test row, but not in train
        let ours_test: Vec<_> = te
            .iter()
            .filter(|r| r.0 == u1)
            .map(|r| (r.1.clone(), r.2))
            .collect();
        assert_eq!(ours_test, rte);
    }

    #[test]
    fn keeps_most_recent_max_len_unlike_torch_rechub() {
        let ev = one_user(60);
        let cfg = SplitConfig {
            max_len: 50,
            ..Default::default()
        };
        let ds = build(&ev, cfg).unwrap();
        let u1 = ds.vocab.users.get(1).unwrap();
        let test = positive_rows(&ds.test);
        let row = test.iter().find(|r| r.0 == u1).unwrap();
        let raw: Vec<i64> = row
            .1
            .iter()
            .map(|&x| ds.vocab.items.raw(x).unwrap())
            .collect();
        // target is the 60th event; history is events 10..=59 (the newest 50)
        assert_eq!(raw, (10..=59).collect::<Vec<i64>>());
        assert_eq!(ds.vocab.items.raw(row.2), Some(60));
        // torch-rechub truncates to the oldest 50 events: its test target is event 50
        let seq: Vec<u32> = (1..=60).map(|k| ds.vocab.items.get(k).unwrap()).collect();
        let (_, _, rte) = rechub_positive_rows(&seq, 50);
        assert_eq!(ds.vocab.items.raw(rte[0].1), Some(50));
        assert_eq!(rte[0].0.len(), 49);
        // and every train row of ours has at most max_len history items
        assert!(ds.train.hist_len.iter().all(|&l| l as usize <= 50));
        assert_eq!(*ds.train.hist_len.iter().max().unwrap(), 50);
    }

    #[test]
    fn drop_short_single_events_and_determinism() {
        let mut ev = one_user(6);
        ev.push(77, 5, 0, 1); // single-event user
        let cfg = SplitConfig {
            drop_short: 6,
            ..Default::default()
        };
        let ds = build(&ev, cfg).unwrap();
        assert_eq!(ds.stats.users_dropped_short, 2); // user 2 (5 events) and user 77 (1)
        assert_eq!(ds.stats.users_single_event, 0);
        assert_eq!(ds.test.len(), 2);
        let ds0 = build(&ev, SplitConfig::default()).unwrap();
        assert_eq!(ds0.stats.users_single_event, 1);
        let ds1 = build(&ev, SplitConfig::default()).unwrap();
        assert_eq!(ds0.train.target_item, ds1.train.target_item);
        let ds2 = build(
            &ev,
            SplitConfig {
                seed: 99,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(ds0.train.len(), ds2.train.len());
    }

    #[test]
    fn user_who_saw_everything_gets_no_negative() {
        let mut ev = Events::default();
        ev.push(1, 1, 0, 1);
        ev.push(1, 2, 1, 1);
        ev.push(1, 3, 2, 1);
        let ds = build(&ev, SplitConfig::default()).unwrap();
        assert_eq!(ds.stats.negatives_impossible, 2);
        assert_eq!(ds.test.len(), 1);
    }
}
