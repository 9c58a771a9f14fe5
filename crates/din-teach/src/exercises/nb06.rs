//! Notebook 6 (full data): the checks of the single-event users (6.1) and of the training
//! rows' history lengths (6.2).

use din::data::{build, Events, SplitConfig};

use super::check::{compare_values, guard, internal, some_events, Verdict};

/// 练习 6.1: `f(events)` = the ids of the users with a single event (the split can make no sample
/// of them), in increasing order; compared with a count of the events, and its length with
/// [`din::data::build`]'s statistics, on random events.
pub fn check_single_event_users(f: impl Fn(&Events) -> Vec<i64>) -> Verdict {
    const EX: &str = "check_single_event_users";
    for seed in [61u64, 62, 63] {
        let mut ev = some_events(seed);
        ev.push(7777, 1, 0, 1); // at least one single-event user
        let count = match build(&ev, SplitConfig::default()) {
            Ok(ds) => ds.stats.users_single_event,
            Err(e) => return internal(EX, e),
        };
        let mut n: std::collections::BTreeMap<i64, usize> = Default::default();
        for &u in &ev.user {
            *n.entry(u).or_insert(0) += 1;
        }
        let want: Vec<i64> = n.iter().filter(|(_, &c)| c == 1).map(|(&u, _)| u).collect();
        if want.len() != count {
            return internal(EX, "the split's count and the reference list differ");
        }
        let got = match guard(|| f(&ev)) {
            Ok(g) => g,
            Err((zh, en)) => return Verdict::fail(EX, zh, en),
        };
        if got != want {
            let (n, gn, wn) = (ev.len(), got.len(), want.len());
            let (g5, w5) = (&got[..gn.min(5)], &want[..wn.min(5)]);
            return Verdict::fail(
                EX,
                format!("{n} 个事件：你给出 {gn} 个用户 {g5:?}…，应为 {wn} 个 {w5:?}…（按 id 从小到大）"),
                format!("{n} events: you give {gn} users {g5:?}…, expected {wn} {w5:?}… (in increasing id order)"),
            );
        }
    }
    Verdict::pass(
        EX,
        "三组随机事件：用户列表对，个数与 split 的统计一致",
        "three random event sets: the right users, as many as the split counts",
    )
}

/// 练习 6.2: the history lengths of the leak-free split, from the number of events per user
/// alone. `f(events_per_user, max_len)` returns the histogram of the history lengths of the
/// training rows the split makes (histories cut to the newest `max_len` events; entry `k` counts
/// the rows with `k` events) and their mean. The check counts each user's events in random event
/// logs, hands the counts to `f` and compares with the rows of [`din::data::build`]'s split of the
/// same logs and [`din::data::SplitStats::mean_train_history`]. The split takes events, not
/// counts, so calling it does not pass: the exercise is the counting (one positive and one
/// negative row per target, targets 1 … n − 3).
pub fn check_mean_train_history(f: impl Fn(&[usize], usize) -> (Vec<usize>, f64)) -> Verdict {
    const EX: &str = "check_mean_train_history";
    for (seed, max_len) in [(64u64, 3usize), (65, 50)] {
        let ev = some_events(seed);
        let (want_hist, want) = match build(
            &ev,
            SplitConfig {
                max_len,
                ..Default::default()
            },
        ) {
            Ok(ds) => {
                let mut h = vec![0usize; max_len.min(1000) + 1];
                for &l in &ds.train.hist_len {
                    h[l as usize] += 1;
                }
                while h.len() > 1 && h.last() == Some(&0) {
                    h.pop();
                }
                (h, ds.stats.mean_train_history)
            }
            Err(e) => return internal(EX, e),
        };
        let mut per_user = std::collections::BTreeMap::new();
        for &u in &ev.user {
            *per_user.entry(u).or_insert(0usize) += 1;
        }
        let counts: Vec<usize> = per_user.into_values().collect();
        let (got_hist, got) = match guard(|| f(&counts, max_len)) {
            Ok(g) => g,
            Err((zh, en)) => return Verdict::fail(EX, zh, en),
        };
        let mut trimmed = got_hist.clone();
        while trimmed.len() > 1 && trimmed.last() == Some(&0) {
            trimmed.pop();
        }
        if trimmed != want_hist {
            return Verdict::fail(
                EX,
                format!("每个用户的事件数 {counts:?}，max_len {max_len}：历史长度的直方图应为 {want_hist:?}，你给出 {got_hist:?}"),
                format!(
                    "events per user {counts:?}, max_len {max_len}: the histogram of history lengths should be {want_hist:?}, yours is {got_hist:?}"
                ),
            );
        }
        let v = compare_values(
            EX,
            &[got],
            &[want],
            1e-9,
            "直方图和平均历史长度",
            "the histogram and the mean history length",
        );
        if !v.passed {
            return v;
        }
    }
    Verdict::pass(
        EX,
        "两个 max_len 下，直方图和平均值都与 split 一致",
        "for two max_len the histogram and the mean match the split",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_answers_written_out_and_fail_library_shortcuts_and_wrong_answers() {
        let singles = |ev: &Events| {
            let mut n = std::collections::BTreeMap::new();
            for &u in &ev.user {
                *n.entry(u).or_insert(0) += 1;
            }
            n.iter()
                .filter(|(_, &c)| c == 1)
                .map(|(&u, _)| u)
                .collect::<Vec<i64>>()
        };
        assert!(check_single_event_users(singles).passed);
        assert!(!check_single_event_users(|_| Vec::new()).passed);
        // the split's count alone is no list
        let v = check_single_event_users(|ev| {
            let n = build(ev, SplitConfig::default())
                .unwrap()
                .stats
                .users_single_event;
            vec![0; n]
        });
        assert!(!v.passed, "{v}");
        // mean history: the split's mean (it takes events, not counts) without the histogram does
        // not pass
        let v = check_mean_train_history(|_counts, _max_len| {
            let ev = some_events(64);
            (
                Vec::new(),
                build(&ev, SplitConfig::default())
                    .unwrap()
                    .stats
                    .mean_train_history,
            )
        });
        assert!(!v.passed && v.en.contains("histogram"), "{v}");
        // positives only: half the rows
        let v = check_mean_train_history(|counts, max_len| {
            let mut hist = vec![0usize; max_len + 1];
            for &c in counts {
                for k in 1..c.saturating_sub(2) {
                    hist[k.min(max_len)] += 1;
                }
            }
            (hist, 0.0)
        });
        assert!(!v.passed && v.en.contains("histogram"), "{v}");
        // written out from the event counts (notebook 6's solution): passes
        let by_hand = |counts: &[usize], max_len: usize| {
            let mut hist = vec![0usize; max_len + 1];
            for &c in counts {
                for k in 1..c.saturating_sub(2) {
                    hist[k.min(max_len)] += 2;
                }
            }
            let rows: usize = hist.iter().sum();
            let sum: usize = hist.iter().enumerate().map(|(l, &r)| l * r).sum();
            (
                hist,
                if rows == 0 {
                    0.0
                } else {
                    sum as f64 / rows as f64
                },
            )
        };
        let v = check_mean_train_history(by_hand);
        assert!(v.passed, "{v}");
    }
}
