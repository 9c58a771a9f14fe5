//! `SplitConfig::official()` against the official DIN `build_dataset.py`: row for row against a
//! plain reimplementation of the script's rules (simple loops on raw ids, the same `PyRandom`),
//! and, when `python3` is installed, against the script's logic itself
//! (tests/fixtures/official_build_dataset.py) run by Python 3.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use din::data::{build, Dataset, Events, Protocol, PyRandom, SplitConfig};
use din::rng::Rng;

/// A train row `(user, history, target, label)` or a test pair `(user, history, pos, neg)`, raw ids.
type TrainRow = (i64, Vec<i64>, i64, u8);
type TestPair = (i64, Vec<i64>, i64, i64);

/// An event log with what the script must cope with: users and items with gaps in their ids and
/// listed out of order, ties in time, users with one and two events, an item seen once.
fn events(seed: u64, users: usize, items: i64) -> Events {
    let mut rng = Rng::new(seed);
    let mut ev = Events::default();
    let mut order: Vec<usize> = (0..users).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for &u in &order {
        let user = 50_000 - 37 * u as i64;
        let n = match u {
            0 => 1,
            1 => 2,
            _ => 1 + rng.below(12) as usize,
        };
        for _ in 0..n {
            let item = 100 + 3 * rng.below(items as u64) as i64;
            let time = rng.below(6) as i64; // many ties
            ev.push(user, item, time, 7 + item % 5);
        }
    }
    let only = 100 + 3 * items + 1; // an item only this single-event user saw
    ev.push(9999, only, 0, 7 + only % 5);
    ev
}

/// The script's rules on raw ids, written as plainly as possible.
fn reference(ev: &Events, seed: u64, max_len: usize) -> (Vec<TrainRow>, Vec<TestPair>) {
    let mut items: Vec<i64> = ev.item.clone();
    items.sort();
    items.dedup();
    let item_count = items.len() as u64;
    // groupby('reviewerID') after sort_values(['reviewerID', 'unixReviewTime']), ties in file order
    let mut by_user: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for k in 0..ev.len() {
        by_user
            .entry(ev.user[k])
            .or_default()
            .push((ev.time[k], ev.item[k]));
    }
    let mut rng = PyRandom::seed(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (user, mut hist) in by_user {
        hist.sort_by_key(|&(t, _)| t); // stable
        let pos_list: Vec<i64> = hist.iter().map(|&(_, i)| i).collect();
        let mut neg_list = Vec::new();
        for _ in 0..pos_list.len() {
            let mut neg = pos_list[0];
            while pos_list.contains(&neg) {
                neg = items[rng.randint(0, item_count - 1) as usize];
            }
            neg_list.push(neg);
        }
        for i in 1..pos_list.len() {
            let h = pos_list[i.saturating_sub(max_len)..i].to_vec();
            if i != pos_list.len() - 1 {
                train.push((user, h.clone(), pos_list[i], 1));
                train.push((user, h, neg_list[i], 0));
            } else {
                test.push((user, h, pos_list[i], neg_list[i]));
            }
        }
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut test);
    (train, test)
}

/// The library's rows in the same raw-id form (test rows come in (positive, negative) pairs).
fn library_rows(ds: &Dataset) -> (Vec<TrainRow>, Vec<TestPair>) {
    let v = &ds.vocab;
    let raw_items =
        |xs: &[u32]| -> Vec<i64> { xs.iter().map(|&x| v.items.raw(x).unwrap()).collect() };
    let train = (0..ds.train.len())
        .map(|r| {
            let s = &ds.train;
            (
                v.users.raw(s.user[r]).unwrap(),
                raw_items(s.history(r).0),
                v.items.raw(s.target_item[r]).unwrap(),
                s.label[r] as u8,
            )
        })
        .collect();
    let s = &ds.test;
    assert_eq!(s.len() % 2, 0);
    let test = (0..s.len() / 2)
        .map(|p| {
            let (a, b) = (2 * p, 2 * p + 1);
            assert_eq!((s.label[a], s.label[b]), (1.0, 0.0));
            assert_eq!(s.user[a], s.user[b]);
            assert_eq!(s.history(a), s.history(b));
            (
                v.users.raw(s.user[a]).unwrap(),
                raw_items(s.history(a).0),
                v.items.raw(s.target_item[a]).unwrap(),
                v.items.raw(s.target_item[b]).unwrap(),
            )
        })
        .collect();
    (train, test)
}

fn official(seed: u64, max_len: usize) -> SplitConfig {
    SplitConfig {
        seed,
        max_len,
        ..SplitConfig::official()
    }
}

#[test]
fn official_split_matches_a_plain_reimplementation_row_for_row() {
    for (data_seed, seed, max_len) in [(1, 1234, usize::MAX), (2, 7, 3), (3, 1 << 33, 1)] {
        let ev = events(data_seed, 80, 40);
        let ds = build(&ev, official(seed, max_len)).unwrap();
        let (want_train, want_test) = reference(&ev, seed, max_len);
        let (train, test) = library_rows(&ds);
        assert!(want_train.len() > 100 && want_test.len() > 50);
        assert_eq!(train.len(), want_train.len());
        for (k, (a, b)) in train.iter().zip(&want_train).enumerate() {
            assert_eq!(a, b, "train row {k} (seed {seed}, max_len {max_len})");
        }
        assert_eq!(test, want_test, "seed {seed}, max_len {max_len}");
        assert!(ds.val.is_empty());
        assert_eq!(ds.config.protocol, Protocol::Official);
        let mut per_user: BTreeMap<i64, usize> = BTreeMap::new();
        for &u in &ev.user {
            *per_user.entry(u).or_default() += 1;
        }
        let single = per_user.values().filter(|&&n| n == 1).count();
        assert!(single >= 2);
        assert_eq!(ds.stats.users_single_event, single);
        assert_eq!(ds.stats.train_rows, ds.train.len());
        // categories: a positive's is its event's, a negative's its item's
        for s in [&ds.train, &ds.test] {
            for r in 0..s.len() {
                if s.label[r] == 0.0 {
                    assert_eq!(s.target_cate[r], ds.vocab.cate_of(s.target_item[r]));
                }
                let raw_item = ds.vocab.items.raw(s.target_item[r]).unwrap();
                assert_eq!(ds.vocab.cates.raw(s.target_cate[r]), Some(7 + raw_item % 5));
            }
        }
    }
    // another seed gives other negatives and another order
    let ev = events(1, 80, 40);
    let a = library_rows(&build(&ev, official(1234, usize::MAX)).unwrap());
    let b = library_rows(&build(&ev, official(1235, usize::MAX)).unwrap());
    assert_ne!(a.0, b.0);
}

/// Rows printed by tests/fixtures/official_build_dataset.py.
fn parse_python(text: &str) -> (Vec<TrainRow>, Vec<TestPair>) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "{line:?}");
        let n = |s: &str| s.parse::<i64>().unwrap();
        let hist: Vec<i64> = f[4].split_whitespace().map(n).collect();
        match f[0] {
            "train" => train.push((n(f[1]), hist, n(f[2]), n(f[3]) as u8)),
            "test" => test.push((n(f[1]), hist, n(f[2]), n(f[3]))),
            other => panic!("unexpected row kind {other:?}"),
        }
    }
    (train, test)
}

#[test]
fn official_split_matches_the_script_run_by_python3() {
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 is not installed, so the script itself cannot be run");
        return;
    }
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/official_build_dataset.py");
    let dir = std::env::temp_dir().join(format!("din-official-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (data_seed, seed, max_len) in [(11, 1234, None), (12, 99, Some(4))] {
        let ev = events(data_seed, 150, 60);
        let csv = dir.join(format!("events{data_seed}.csv"));
        ev.write_csv(&csv).unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg(&csv).arg(seed.to_string());
        if let Some(m) = max_len {
            cmd.arg(m.to_string());
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (want_train, want_test) = parse_python(&String::from_utf8(out.stdout).unwrap());
        // the library on the same file, read back as the CLI reads it
        let ds = build(
            &Events::read_csv(&csv).unwrap(),
            official(seed, max_len.unwrap_or(usize::MAX)),
        )
        .unwrap();
        let (train, test) = library_rows(&ds);
        assert!(want_train.len() > 500, "{}", want_train.len());
        assert_eq!(train.len(), want_train.len());
        for (k, (a, b)) in train.iter().zip(&want_train).enumerate() {
            assert_eq!(a, b, "train row {k} (seed {seed}, max_len {max_len:?})");
        }
        assert_eq!(test, want_test);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn official_split_round_trips_and_refuses_what_the_script_cannot_do() {
    let ev = events(5, 30, 25);
    let ds = build(&ev, SplitConfig::official()).unwrap();
    let dir = std::env::temp_dir().join(format!("din-official-rt-{}", std::process::id()));
    ds.save(&dir).unwrap();
    let back = Dataset::load(&dir).unwrap();
    assert_eq!(back.config, SplitConfig::official());
    assert_eq!(library_rows(&back), library_rows(&ds));
    assert!(back.val.is_empty());
    let _ = std::fs::remove_dir_all(&dir);

    let e = build(
        &ev,
        SplitConfig {
            drop_short: 3,
            ..SplitConfig::official()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("drop_short") && e.contains("official"), "{e}");

    // a user who saw every item: the script would loop forever; here an error naming the user
    let mut all = Events::default();
    for (u, i) in [(1, 10), (1, 11), (2, 10)] {
        all.push(u, i, 0, 1);
    }
    let e = build(&all, SplitConfig::official())
        .unwrap_err()
        .to_string();
    assert!(e.contains("user 1") && e.contains("all 2 items"), "{e}");
}
