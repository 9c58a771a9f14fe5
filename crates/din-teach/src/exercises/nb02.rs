//! Notebook 2 (embeddings): the checks of the one-hot lookup (2.1) and of the masked mean.

use candle_core::{Device, Tensor};

use super::check::{compare_tensor, mask_of, randn, run_learner, Verdict};

/// 练习 2.1: an embedding lookup is a one-hot vector times the table. `f(table [rows, d], ids)`
/// returns `(one_hot, looked_up)`: the `[ids.len(), rows]` one-hot matrix and the product
/// `one_hot · table`, `[ids.len(), d]`. The one-hot matrix itself is checked (a gather, which
/// gives the same rows, has none), then the product against candle's gather
/// (`Tensor::embedding`).
pub fn check_one_hot_lookup(
    f: impl Fn(&Tensor, &[u32]) -> candle_core::Result<(Tensor, Tensor)>,
) -> Verdict {
    const EX: &str = "check_one_hot_lookup";
    let table = randn(&[7, 5], 21);
    let ids = [3u32, 0, 6, 3, 1];
    let got = match run_learner(EX, "你的函数", "your function", || f(&table, &ids)) {
        Ok(v) => v,
        Err(v) => return v,
    };
    let mut want_one_hot = vec![0f32; ids.len() * 7];
    for (k, &i) in ids.iter().enumerate() {
        want_one_hot[k * 7 + i as usize] = 1.0;
    }
    let v = compare_tensor(
        EX,
        || Ok(got.0.clone()),
        Tensor::from_vec(want_one_hot, (ids.len(), 7), &Device::Cpu),
        0.0,
        "one-hot 矩阵",
        "the one-hot matrix",
    );
    if !v.passed {
        return v;
    }
    compare_tensor(
        EX,
        || Ok(got.1.clone()),
        Tensor::new(&ids[..], &Device::Cpu).and_then(|i| table.embedding(&i)),
        1e-6,
        "one-hot 矩阵 × 表",
        "one-hot matrix × table",
    )
}

/// 练习 2: the base model's pooling by hand. `f(hist [b, l, d], mask [b, l])` returns
/// `(sum [b, d], count [b, 1], mean [b, d])`: the sum of each row's real positions, how many there
/// are, and their mean (0 for an empty history). The sum and the count are checked first (the
/// library's `masked_mean` returns neither, so calling it does not pass), then the mean against it.
pub fn check_masked_mean(
    f: impl Fn(&Tensor, &Tensor) -> candle_core::Result<(Tensor, Tensor, Tensor)>,
) -> Verdict {
    const EX: &str = "check_masked_mean";
    let hist = randn(&[4, 5, 3], 22);
    let lens = [5usize, 2, 0, 1];
    let mask = mask_of(&lens, 5);
    let (sum, count, mean) =
        match run_learner(EX, "你的函数", "your function", || f(&hist, &mask)) {
            Ok(r) => r,
            Err(v) => return v,
        };
    let want_sum = hist
        .broadcast_mul(&mask.unsqueeze(2).expect("mask"))
        .and_then(|t| t.sum(1));
    let want_count = Tensor::from_vec(
        lens.iter().map(|&n| n as f32).collect::<Vec<f32>>(),
        (4, 1),
        &Device::Cpu,
    );
    for (got, want, zh, en) in [
        (
            sum,
            want_sum,
            "每行真实位置的和",
            "the sum over each row's real positions",
        ),
        (
            count,
            want_count,
            "每行真实位置的个数",
            "the count of each row's real positions",
        ),
        (
            mean,
            din::model::masked_mean(&hist, &mask),
            "带 mask 的平均",
            "the masked mean",
        ),
    ] {
        let v = compare_tensor(EX, || Ok(got), want, 1e-5, zh, en);
        if !v.passed {
            return v;
        }
    }
    Verdict::pass(
        EX,
        "和、个数、平均都对（空历史的平均是 0）",
        "the sum, the count and the mean are right (an empty history's mean is 0)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_answers_written_out_and_fail_library_shortcuts_and_wrong_answers() {
        // masked mean: sum, count and mean by hand pass; the library's mean with made-up sums
        // and counts does not; a mean over all positions (padding included) fails
        let parts = |h: &Tensor, m: &Tensor| -> candle_core::Result<(Tensor, Tensor)> {
            Ok((
                h.broadcast_mul(&m.unsqueeze(2)?)?.sum(1)?,
                m.sum_keepdim(1)?,
            ))
        };
        assert!(
            check_masked_mean(|h, m| {
                let (s, n) = parts(h, m)?;
                let mean = s.broadcast_div(&n.maximum(1.0)?)?;
                Ok((s, n, mean))
            })
            .passed
        );
        let v = check_masked_mean(|h, m| {
            let mean = din::model::masked_mean(h, m)?;
            Ok((mean.clone(), m.sum_keepdim(1)?, mean))
        });
        assert!(!v.passed && v.en.contains("sum"), "{v}");
        let v = check_masked_mean(|h, m| {
            let (s, n) = parts(h, m)?;
            Ok((s, n, h.mean(1)?))
        });
        assert!(!v.passed && v.en.contains("differs"), "{v}");
        // wrong shape
        let v = check_masked_mean(|h, m| {
            let (s, n) = parts(h, m)?;
            Ok((s, n, h.sum(2)?))
        });
        assert!(!v.passed && v.en.contains("wrong shape"), "{v}");
        // NaN: 0/0 on the empty row
        let v = check_masked_mean(|h, m| {
            let (s, n) = parts(h, m)?;
            let mean = s.broadcast_div(&n)?;
            Ok((s, n, mean))
        });
        assert!(!v.passed && v.en.contains("NaN"), "{v}");
        // one-hot: a gather gives the right rows but no one-hot matrix, and does not pass
        let v = check_one_hot_lookup(|t, ids| {
            let rows = t.embedding(&Tensor::new(ids, t.device())?)?;
            Ok((rows.clone(), rows))
        });
        assert!(!v.passed, "{v}");
        let v = check_one_hot_lookup(|t, ids| {
            let n = t.dim(0)?;
            let eye: Vec<f32> = ids
                .iter()
                .flat_map(|&i| (0..n).map(move |r| f32::from(r == i as usize)))
                .collect();
            let one_hot = Tensor::from_vec(eye, (ids.len(), n), t.device())?;
            let looked_up = one_hot.matmul(t)?;
            Ok((one_hot, looked_up))
        });
        assert!(v.passed, "{v}");
    }
}
