//! Notebook 1 (data): the checks of the sliding window (1.1) and of the training rows of the
//! leak-free split (1.2).

use din::data::{build, Events, SplitConfig};

use super::check::{guard, internal, some_events, Verdict};

/// 练习 1.1: the sliding window. `f(items, max_len)` gets one user's items in time order and
/// returns every sample `(history, target)` the split makes of them: for each position `k ≥ 1`,
/// the target `items[k]` and the newest `max_len` items before it (oldest first). Compared with
/// the positive rows [`din::data::build`] makes (train, then validation, then test).
pub fn check_sliding_window(f: impl Fn(&[u32], usize) -> Vec<(Vec<u32>, u32)>) -> Verdict {
    const EX: &str = "check_sliding_window";
    for (seed, max_len) in [(1u64, 3usize), (2, 5), (3, 1)] {
        let ev = some_events(seed);
        let ds = match build(
            &ev,
            SplitConfig {
                max_len,
                ..Default::default()
            },
        ) {
            Ok(ds) => ds,
            Err(e) => return internal(EX, e),
        };
        for user in 1..=ds.vocab.users.len() as u32 {
            // the user's items in time order: the pool holds them sorted by (user, time)
            let mut want = Vec::new();
            let mut items: Vec<u32> = Vec::new();
            for split in [&ds.train, &ds.val, &ds.test] {
                for r in 0..split.len() {
                    if split.user[r] == user && split.label[r] == 1.0 {
                        want.push((split.history(r).0.to_vec(), split.target_item[r]));
                    }
                }
            }
            if want.is_empty() {
                continue;
            }
            // reconstruct the sequence: the first target's history start, then every target
            let (h0, _) = &want[0];
            items.extend(h0);
            items.extend(want.iter().map(|(_, t)| *t));
            let got = match guard(|| f(&items, max_len)) {
                Ok(g) => g,
                Err((zh, en)) => return Verdict::fail(EX, zh, en),
            };
            if got != want {
                let k = got
                    .iter()
                    .zip(&want)
                    .position(|(g, w)| g != w)
                    .unwrap_or(got.len().min(want.len()));
                let show = |v: &[(Vec<u32>, u32)]| {
                    v.get(k)
                        .map(|(h, t)| format!("{h:?} → {t}"))
                        .unwrap_or_else(|| "(none 无)".into())
                };
                return Verdict::fail(
                    EX,
                    format!(
                        "序列 {items:?}，max_len = {max_len}：第 {k} 个样本得到 {}，应为 {}（共 {} 个，应为 {} 个）",
                        show(&got),
                        show(&want),
                        got.len(),
                        want.len()
                    ),
                    format!(
                        "sequence {items:?}, max_len = {max_len}: sample {k} is {}, expected {} ({} samples, expected {})",
                        show(&got),
                        show(&want),
                        got.len(),
                        want.len()
                    ),
                );
            }
        }
    }
    Verdict::pass(
        EX,
        "滑动窗口与 din::data::build 的正样本完全一致（3 个 max_len，36 个用户）",
        "the sliding window matches din::data::build's positive rows exactly (3 max_len, 36 users)",
    )
}

/// 练习 1.2: `f(n)` = how many positive **training** rows the leak-free split makes of a user
/// with `n` events (the last target goes to test, the one before to validation; a user with one
/// event makes none). Compared with [`din::data::build`] for n = 0 … 9.
pub fn check_train_rows(f: impl Fn(usize) -> usize) -> Verdict {
    const EX: &str = "check_train_rows";
    for n in 0..10usize {
        let mut ev = Events::default();
        for k in 0..n {
            ev.push(1, 1 + k as i64, k as i64, 1);
        }
        for k in 0..4 {
            ev.push(2, 100 + k, k, 2); // a second user, so that negatives exist
        }
        let ds = match build(&ev, SplitConfig::default()) {
            Ok(ds) => ds,
            Err(e) => return internal(EX, e),
        };
        let user = ds.vocab.users.get(1);
        let want = (0..ds.train.len())
            .filter(|&r| Some(ds.train.user[r]) == user && ds.train.label[r] == 1.0)
            .count();
        let got = match guard(|| f(n)) {
            Ok(g) => g,
            Err((zh, en)) => return Verdict::fail(EX, zh, en),
        };
        if got != want {
            return Verdict::fail(
                EX,
                format!("有 {n} 个事件的用户：你的答案 {got}，split 实际给出 {want} 个训练正样本"),
                format!("a user with {n} events: your answer {got}, the split makes {want} positive training rows"),
            );
        }
    }
    Verdict::pass(
        EX,
        "n = 0…9 都与 split 一致",
        "matches the split for n = 0…9",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_answers_written_out_and_fail_library_shortcuts_and_wrong_answers() {
        // data
        assert!(check_train_rows(|n| n.saturating_sub(3)).passed);
        assert!(!check_train_rows(|n| n.saturating_sub(2)).passed);
        assert!(
            check_sliding_window(|items, max_len| {
                (1..items.len())
                    .map(|k| (items[k.saturating_sub(max_len)..k].to_vec(), items[k]))
                    .collect()
            })
            .passed
        );
        // the oldest max_len instead of the newest
        let v = check_sliding_window(|items, max_len| {
            (1..items.len())
                .map(|k| (items[..k.min(max_len)].to_vec(), items[k]))
                .collect()
        });
        assert!(!v.passed, "{v}");
    }
}
