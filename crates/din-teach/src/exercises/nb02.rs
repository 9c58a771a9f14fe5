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

/// 练习 2: the base model's pooling by hand, as attention with fixed weights. `f(hist [b, l, d],
/// mask [b, l])` returns `(weights [b, l], mean [b, d])`: the weight the mean gives each position,
/// `1/n` at a row's `n` real positions and 0 at padding (an empty row all 0, no division by 0),
/// and the pooled vector `Σ_i w_i·h_i`. The weights are checked first: no function of the library
/// returns them (`din::model::masked_mean` gives only the mean), so calling it does not pass; then
/// the mean against `masked_mean`. DIN (notebook 3) keeps this sum and learns the weights instead.
pub fn check_masked_mean(
    f: impl Fn(&Tensor, &Tensor) -> candle_core::Result<(Tensor, Tensor)>,
) -> Verdict {
    const EX: &str = "check_masked_mean";
    let hist = randn(&[4, 5, 3], 22);
    let lens = [5usize, 2, 0, 1];
    let mask = mask_of(&lens, 5);
    let (weights, mean) = match run_learner(EX, "你的函数", "your function", || f(&hist, &mask))
    {
        Ok(r) => r,
        Err(v) => return v,
    };
    let want_weights: Vec<f32> = lens
        .iter()
        .flat_map(|&n| (0..5).map(move |i| if i < n { 1.0 / n as f32 } else { 0.0 }))
        .collect();
    for (got, want, zh, en) in [
        (
            weights,
            Tensor::from_vec(want_weights, (4, 5), &Device::Cpu),
            "每个位置的权重（真实位置 1/n，填充 0）",
            "the weight of each position (1/n at real positions, 0 at padding)",
        ),
        (
            mean,
            din::model::masked_mean(&hist, &mask),
            "带 mask 的平均",
            "the masked mean",
        ),
    ] {
        let v = compare_tensor(EX, || Ok(got), want, 1e-6, zh, en);
        if !v.passed {
            return v;
        }
    }
    Verdict::pass(
        EX,
        "权重和平均都对（空历史的权重和平均都是 0）",
        "the weights and the mean are right (an empty history's are all 0)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_answers_written_out_and_fail_library_shortcuts_and_wrong_answers() {
        // masked mean: weights 1/n and their weighted sum, written out, pass
        let weights = |m: &Tensor| m.broadcast_div(&m.sum_keepdim(1)?.maximum(1.0)?);
        let v = check_masked_mean(|h, m| {
            let w = weights(m)?;
            let mean = w.unsqueeze(2)?.broadcast_mul(h)?.sum(1)?;
            Ok((w, mean))
        });
        assert!(v.passed, "{v}");
        // the library's mean (the shortest call that computes the answer) with the mask as the
        // weights does not pass, nor with the mean in their place
        let v = check_masked_mean(|h, m| Ok((m.clone(), din::model::masked_mean(h, m)?)));
        assert!(!v.passed && v.en.contains("weight of each position"), "{v}");
        let v = check_masked_mean(|h, m| {
            let mean = din::model::masked_mean(h, m)?;
            Ok((mean.clone(), mean))
        });
        assert!(!v.passed && v.en.contains("wrong shape"), "{v}");
        // a mean over all positions (padding included) fails
        let v = check_masked_mean(|h, m| Ok((weights(m)?, h.mean(1)?)));
        assert!(!v.passed && v.en.contains("masked mean differs"), "{v}");
        // NaN: 0/0 on the empty row
        let v = check_masked_mean(|h, m| {
            let w = m.broadcast_div(&m.sum_keepdim(1)?)?;
            let mean = w.unsqueeze(2)?.broadcast_mul(h)?.sum(1)?;
            Ok((w, mean))
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
