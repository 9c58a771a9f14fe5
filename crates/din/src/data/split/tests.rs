//! Tests of the shared types and of what both protocols' splits have in common.

use super::*;

fn row_key(s: &Split, r: usize) -> (u32, Vec<u32>, Vec<u32>, u32, u32, u32) {
    let (h, c) = s.history(r);
    let label = s.label[r].to_bits();
    (
        s.user[r],
        h.to_vec(),
        c.to_vec(),
        s.target_item[r],
        s.target_cate[r],
        label,
    )
}

#[test]
fn target_times_are_the_times_of_the_target_events_under_both_protocols() {
    // distinct times per user, so (user, time) names one event; the events out of order in
    // the file and two ties in time (stable order decides)
    let mut ev = Events::default();
    let mut time_of = std::collections::HashMap::new();
    for u in 0..6i64 {
        for k in 0..(3 + u) {
            let t = 1000 * u + 37 * ((k * 5) % (3 + u)) + if k == 2 { 0 } else { k };
            let item = 100 + (u * 7 + k * 3) % 17;
            ev.push(u, item, t, 1 + item % 4);
            time_of.entry((u, item)).or_insert_with(Vec::new).push(t);
        }
    }
    for config in [SplitConfig::default(), SplitConfig::official()] {
        let ds = build(&ev, config).unwrap();
        for split in [&ds.train, &ds.val, &ds.test] {
            let times = split.target_times().unwrap();
            for r in (0..split.len()).filter(|&r| split.label[r] == 1.0) {
                let user = ds.vocab.users.raw(split.user[r]).unwrap();
                let item = ds.vocab.items.raw(split.target_item[r]).unwrap();
                assert!(time_of[&(user, item)].contains(&times[r]), "row {r}");
                // every history event happened no later than the target
                let start = split.hist_start[r];
                let hist = &ds.train.pool.times[start..start + split.hist_len[r] as usize];
                assert!(hist.iter().all(|&t| t <= times[r]));
            }
            // a negative shares its positive's impression time
            for r in (1..split.len()).filter(|&r| split.label[r] == 0.0) {
                if split.hist_start[r] == split.hist_start[r - 1]
                    && split.hist_len[r] == split.hist_len[r - 1]
                    && split.user[r] == split.user[r - 1]
                {
                    assert_eq!(times[r], times[r - 1]);
                }
            }
        }
        // a split without event times (as read back from Parquet) says so
        let bare = Split {
            pool: Arc::new(HistPool {
                times: Vec::new(),
                ..(*ds.test.pool).clone()
            }),
            ..ds.test.clone()
        };
        assert_eq!(bare.target_times(), None);
    }
}

#[test]
fn a_context_column_follows_its_rows_and_must_have_one_id_per_row() {
    let mut ev = Events::default();
    for u in 0..4i64 {
        for k in 0..5 {
            ev.push(u, 10 + (u + k) % 7, k, 1);
        }
    }
    let ds = build(&ev, SplitConfig::default()).unwrap();
    let ids: Vec<u32> = (0..ds.train.len() as u32).map(|r| 1000 + r).collect();
    let train = ds.train.clone().with_context(ids.clone()).unwrap();
    assert_eq!(train.select(&[3, 1]).context, vec![1003, 1001]);
    let both = train.concat(&train.select(&[0]));
    assert_eq!(both.context.len(), both.len());
    assert_eq!(both.context.last(), Some(&1000));
    // a split without context makes the concatenation context-free, not misaligned
    assert!(train.concat(&ds.val).context.is_empty());
    let b = crate::data::Batch::from_split(&train, &[2, 0]);
    assert_eq!(b.context, vec![1002, 1000]);
    assert_eq!(b.padded_to(b.max_len + 3).context, vec![1002, 1000]);
    let err = ds
        .train
        .clone()
        .with_context(vec![1, 2])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("one id per row") && err.contains("2 ids"),
        "{err}"
    );
}

#[test]
fn in_category_negatives_avoid_the_positive_and_the_history_and_count_what_they_keep() {
    // category 100: items 10, 11, 12; category 200: item 20 alone; category 300: items 30, 31
    let mut ev = Events::default();
    for (user, item, time, cate) in [
        (1, 10, 1, 100),
        (1, 11, 2, 100),
        (1, 20, 3, 200),
        (1, 12, 4, 100),
        (2, 30, 1, 300),
        (2, 31, 2, 300),
        (3, 20, 1, 200),
        (3, 30, 2, 300),
    ] {
        ev.push(user, item, time, cate);
    }
    let ds = build(&ev, SplitConfig::default()).unwrap();
    let v = &ds.vocab;
    let item = |raw: i64| v.items.get(raw).unwrap();
    for split in [&ds.train, &ds.val, &ds.test] {
        let hard = split.with_negatives_in_category(v, 3);
        let t = &hard.split;
        let negatives = t.label.iter().filter(|&&l| l == 0.0).count();
        assert_eq!(hard.redrawn + hard.kept, negatives);
        for r in (0..t.len()).filter(|&r| t.label[r] == 0.0) {
            let (pos_item, pos_cate) = (t.target_item[r - 1], t.target_cate[r - 1]);
            if t.target_cate[r] == pos_cate && t.target_item[r] != split.target_item[r] {
                assert_ne!(t.target_item[r], pos_item);
                assert!(!t.history(r).0.contains(&t.target_item[r]));
            }
        }
        // rows, labels and histories untouched
        assert_eq!(
            (&t.label, &t.user, &t.hist_start),
            (&split.label, &split.user, &split.hist_start)
        );
    }
    // user 1's test positive is 12 (category 100) after history [10, 11, 20]: no other item
    // of category 100 is left, so its negative keeps the uniform draw
    let test = ds.test.with_negatives_in_category(v, 3);
    let r = (0..ds.test.len())
        .find(|&r| ds.test.label[r] == 0.0 && ds.test.target_item[r - 1] == item(12))
        .unwrap();
    assert_eq!(test.split.target_item[r], ds.test.target_item[r]);
    // user 2's test positive is 31 (category 300) after history [30]: nothing left either;
    // user 3's is 30 after [20]: its negative must be 31
    let r3 = (0..ds.test.len())
        .find(|&r| ds.test.label[r] == 0.0 && ds.test.user[r] == v.users.get(3).unwrap())
        .unwrap();
    assert_eq!(test.split.target_item[r3], item(31));
    assert_eq!(test.split.target_cate[r3], v.cates.get(300).unwrap());
    assert_eq!((test.redrawn, test.kept), (1, 2));
}

#[test]
fn leaked_train_holds_every_test_row_and_the_clean_one_none() {
    let mut ev = Events::default();
    for u in 0..5i64 {
        for t in 0..(4 + u) {
            ev.push(u, 10 + (u * 7 + t) % 13, t, 1 + t % 3);
        }
    }
    let ds = build(&ev, SplitConfig::default()).unwrap();
    let keys = |s: &Split| -> Vec<_> { (0..s.len()).map(|r| row_key(s, r)).collect() };
    let (train, test) = (keys(&ds.train), keys(&ds.test));
    assert!(
        test.iter().all(|k| !train.contains(k)),
        "the clean split leaks"
    );
    let leaky = ds.with_test_leaked_into_train();
    let leaky_train = keys(&leaky.train);
    assert_eq!(leaky_train.len(), train.len() + test.len());
    assert_eq!(&leaky_train[..train.len()], &train[..]);
    assert_eq!(&leaky_train[train.len()..], &test[..]);
    assert_eq!(leaky.stats.train_rows, leaky_train.len());
    assert_eq!(keys(&leaky.test), test);
    assert_eq!(keys(&leaky.val), keys(&ds.val));
}

#[test]
fn concat_of_splits_with_their_own_pools_keeps_every_history() {
    let mut ev = Events::default();
    for t in 0..6i64 {
        ev.push(1, 100 + t, t, 1);
        ev.push(2, 200 + t, t, 2);
    }
    let ds = build(&ev, SplitConfig::default()).unwrap();
    // a copy of test with a pool of its own (as reading it from Parquet gives)
    let own = ds.test.remap(&ds.vocab, &ds.vocab);
    assert!(!Arc::ptr_eq(&own.pool, &ds.train.pool));
    let both = ds.train.concat(&own);
    for r in 0..ds.train.len() {
        assert_eq!(row_key(&both, r), row_key(&ds.train, r));
    }
    for r in 0..own.len() {
        assert_eq!(row_key(&both, ds.train.len() + r), row_key(&ds.test, r));
    }
}
