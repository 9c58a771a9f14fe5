//! Notebook 5 (DIN vs base): the checks of RelaImpr and of Dice in training (5.2).

use candle_core::{DType, Device, Tensor};

use din::model::{Dice, Mode, Params};

use super::check::{compare_tensor, compare_values, guard, internal, randn, run_learner, Verdict};

/// 练习 1 of notebook 5: RelaImpr (paper, eq. 11) solved for the model's AUC. `f(auc_base,
/// rela_impr)` returns the AUC a model needs to improve on a base model of AUC `auc_base` by
/// `rela_impr` percent: RelaImpr measures the lift over chance, `AUC − 0.5`, so the answer is
/// `0.5 + (auc_base − 0.5)·(1 + rela_impr/100)`. Checked on four (base, RelaImpr) pairs, and the
/// answer put back into [`din::metrics::rela_impr`] must give the RelaImpr asked for. The
/// library computes RelaImpr from two AUCs, not this inverse, so calling it does not pass.
pub fn check_rela_impr(f: impl Fn(f64, f64) -> f64) -> Verdict {
    const EX: &str = "check_rela_impr";
    let cases = [(0.8620, 10.0), (0.65, 50.0), (0.62, -10.0), (0.90, 8.74)];
    let got = match guard(|| cases.iter().map(|&(b, r)| f(b, r)).collect::<Vec<f64>>()) {
        Ok(g) => g,
        Err((zh, en)) => return Verdict::fail(EX, zh, en),
    };
    // the AUC, then the round trip through the library's RelaImpr
    let want: Vec<f64> = cases
        .iter()
        .map(|&(b, r)| 0.5 + (b - 0.5) * (1.0 + r / 100.0))
        .collect();
    let v = compare_values(EX, &got, &want, 1e-9, "需要的 AUC", "the AUC needed");
    if !v.passed {
        return v;
    }
    let back: Vec<f64> = cases
        .iter()
        .zip(&got)
        .map(|(&(b, _), &m)| din::metrics::rela_impr(m, b))
        .collect();
    let asked: Vec<f64> = cases.iter().map(|&(_, r)| r).collect();
    compare_values(
        EX,
        &back,
        &asked,
        1e-6,
        "代回 din::metrics::rela_impr 得到的 RelaImpr",
        "RelaImpr of your AUC by din::metrics::rela_impr",
    )
}

/// 练习 5.2: Dice in training, by hand: `f(x [n, d], alpha [d], eps)` normalises each column with
/// the batch's mean and (biased) variance, `p = sigmoid((x − mean)/sqrt(var + eps))`, and returns
/// `p·x + (1 − p)·α·x`; compared with [`Dice`]'s training forward pass (random α).
pub fn check_dice(
    f: impl Fn(&Tensor, &Tensor, f64) -> candle_core::Result<(Tensor, Tensor)>,
) -> Verdict {
    const EX: &str = "check_dice";
    let d = 6;
    let params = Params::seeded(51);
    let run = || -> candle_core::Result<(Tensor, Tensor, Tensor, f64)> {
        let dice = Dice::new(d, params.var_builder(DType::F32, &Device::Cpu).pp("dice"))?;
        let alpha = randn(&[d], 52).affine(0.5, 0.0)?;
        for (name, var) in params.named() {
            if name.ends_with("alpha") {
                var.set(&alpha)?;
            }
        }
        let x = randn(&[40, d], 53).affine(2.0, 0.5)?;
        let y = dice.forward_t(&x, None, Mode::TRAIN)?;
        Ok((x, dice.alpha().clone(), y, dice.eps()))
    };
    let (x, alpha, want, eps) = match run() {
        Ok(r) => r,
        Err(e) => return internal(EX, e),
    };
    let (p, y) = match run_learner(EX, "你的函数", "your function", || f(&x, &alpha, eps)) {
        Ok(r) => r,
        Err(v) => return v,
    };
    // the switch p, from the batch's per-column mean and biased variance (the library's layer
    // does not return it, so calling the layer does not pass)
    let want_p = (|| {
        let mean = x.mean_keepdim(0)?;
        let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
        candle_nn::ops::sigmoid(
            &x.broadcast_sub(&mean)?
                .broadcast_div(&(var + eps)?.sqrt()?)?,
        )
    })();
    let v = compare_tensor(EX, || Ok(p), want_p, 1e-5, "开关 p", "the switch p");
    if !v.passed {
        return v;
    }
    compare_tensor(
        EX,
        || Ok(y),
        Ok(want),
        1e-4,
        "开关 p 和 Dice（训练模式）",
        "the switch p and Dice (training mode)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_answers_written_out_and_fail_library_shortcuts_and_wrong_answers() {
        // RelaImpr solved for the model's AUC: written out, passes
        assert!(check_rela_impr(|b, r| 0.5 + (b - 0.5) * (1.0 + r / 100.0)).passed);
        // the library's RelaImpr of the two numbers (the shortest call) does not
        let v = check_rela_impr(din::metrics::rela_impr);
        assert!(!v.passed && v.en.contains("AUC needed"), "{v}");
        // a relative improvement of the AUC itself (not of the lift over chance) does not
        let v = check_rela_impr(|b, r| b * (1.0 + r / 100.0));
        assert!(!v.passed && v.en.contains("AUC needed"), "{v}");
        // a stub
        let v = check_rela_impr(|_, _| todo!());
        assert!(!v.passed && v.en.contains("not written yet"), "{v}");
        let switch = |x: &Tensor, eps: f64| -> candle_core::Result<Tensor> {
            let mean = x.mean_keepdim(0)?;
            let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
            candle_nn::ops::sigmoid(
                &x.broadcast_sub(&mean)?
                    .broadcast_div(&(var + eps)?.sqrt()?)?,
            )
        };
        let v = check_dice(|x, alpha, eps| {
            let p = switch(x, eps)?;
            let ax = x.broadcast_mul(alpha)?;
            let y = (p.mul(x)? + p.affine(-1.0, 1.0)?.mul(&ax)?)?;
            Ok((p, y))
        });
        assert!(v.passed, "{v}");
        let v = check_dice(|x, _a, eps| Ok((switch(x, eps)?, candle_nn::ops::sigmoid(x)?.mul(x)?)));
        assert!(!v.passed, "{v}");
        // the library's layer gives the output but not the switch
        let v = check_dice(|x, alpha, eps| {
            let params = Params::seeded(1);
            let dice = Dice::new(x.dim(1)?, params.var_builder(DType::F32, &Device::Cpu))?;
            for (name, var) in params.named() {
                if name.ends_with("alpha") {
                    var.set(alpha)?;
                }
            }
            let y = dice.forward_t(x, None, Mode::TRAIN)?;
            let _ = eps;
            Ok((y.clone(), y))
        });
        assert!(!v.passed && v.en.contains("switch"), "{v}");
    }
}
