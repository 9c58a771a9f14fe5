//! Notebook 3 (interest activation): the checks of the 3d input (3.1), the masked softmax (3.2)
//! and the activation unit written by hand (3.7), with the unit's weights and steps.

use candle_core::{Device, Tensor};

use din::model::{Activation, AttentionInput, Layout, Lookup, Model, ModelKind, WeightNorm, DTYPE};

use super::check::{
    compare_tensor, compare_values, first_wrong_step, internal, mask_of, randn, run_learner, Step,
    Verdict,
};
use super::reference::{dice_mlp_weights, trained_unit_case, unit_steps_reference};

/// 练习 3.1: the tutorial's 3d input, and the fast paths' split of the first layer. `f(t, h, w)`
/// with the targets `t: [b, d]`, the histories `h: [b, l, d]` and a first-layer weight
/// `w: [H, 3d]` returns `(x, t_part)`:
/// * `x: [b, l, 3d]` = `[h, t, h ⊙ t]` at every position (the target broadcast over the history);
/// * `t_part: [b, H]` = `t · W_tᵀ`, the target's share of the first layer, `W_t` being the
///   columns of `w` that meet `t` in `x`. Since `x·wᵀ = h·W_hᵀ + t·W_tᵀ + (h ⊙ t)·W_pᵀ`, the
///   target's share is the same at every position: the library's fast paths compute it once per
///   row instead of once per position and never build `x` (`din_kernels::attention`).
///
/// `x` is compared with [`AttentionInput::Three`]'s `build` on the broadcast target, `t_part`
/// with `t · W_tᵀ`; no function of the library returns `t_part`, so calling the library does not
/// pass.
pub fn check_input_3d(
    f: impl Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<(Tensor, Tensor)>,
) -> Verdict {
    const EX: &str = "check_input_3d";
    let (t, h, w) = (
        randn(&[3, 4], 31),
        randn(&[3, 5, 4], 32),
        randn(&[6, 12], 34),
    );
    let (x, t_part) = match run_learner(EX, "你的函数", "your function", || f(&t, &h, &w)) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let v = compare_tensor(
        EX,
        || Ok(x),
        t.unsqueeze(1)
            .and_then(|t| t.broadcast_as((3, 5, 4)))
            .and_then(|tb| AttentionInput::Three.build(&tb, &h)),
        1e-6,
        "3d 输入",
        "the 3d input",
    );
    if !v.passed {
        return v;
    }
    compare_tensor(
        EX,
        || Ok(t_part),
        w.narrow(1, 4, 4).and_then(|wt| t.matmul(&wt.t()?)),
        1e-5,
        "候选在第一层里的那一份 t·W_tᵀ",
        "the target's share of the first layer, t·W_tᵀ",
    )
}

/// 练习 3.2: softmax over the real positions only. `f(scores [b, l], mask [b, l])` returns
/// `(shift, weights)`: `shift: [b, 1]`, each row's largest score **over its real positions** (the
/// value subtracted before `exp`; any finite value for an empty row), and the `[b, l]` weights: 0 at
/// padding, each row's real weights summing to 1 (an empty row all 0). The shift is checked
/// against the masked maximum (the library's function does not return it, so calling it does not
/// pass), the weights against [`din::model::masked_softmax`], on scores up to ±30 (a softmax
/// without a shift overflows) and a row whose scores are all near −400 (a shift by the max over
/// the padding too underflows).
pub fn check_masked_softmax(
    f: impl Fn(&Tensor, &Tensor) -> candle_core::Result<(Tensor, Tensor)>,
) -> Verdict {
    const EX: &str = "check_masked_softmax";
    // row 1's real scores all near −400: shifting by a max that includes the padding's 0
    // underflows there
    let shift = Tensor::new(&[[0f32], [-400.0], [0.0], [0.0]], &Device::Cpu);
    let scores = match shift.and_then(|s| randn(&[4, 6], 33).affine(8.0, 0.0)?.broadcast_add(&s)) {
        Ok(s) => s,
        Err(e) => return internal(EX, e),
    };
    let lens = [6usize, 3, 0, 1];
    let mask = mask_of(&lens, 6);
    let (shift, weights) =
        match run_learner(EX, "你的函数", "your function", || f(&scores, &mask)) {
            Ok(pair) => pair,
            Err(v) => return v,
        };
    // the shift: the max over each row's real positions (rows without any are not checked)
    let rows = match scores.to_vec2::<f32>() {
        Ok(r) => r,
        Err(e) => return internal(EX, e),
    };
    let got_shift = match shift.flatten_all().and_then(|s| s.to_vec1::<f32>()) {
        Ok(v) if v.len() == lens.len() => v,
        Ok(v) => {
            return Verdict::fail(
                EX,
                format!(
                    "shift 应有 {} 个值（每行一个，形状 [b, 1]），得到 {} 个",
                    lens.len(),
                    v.len()
                ),
                format!(
                    "the shift should hold {} values (one per row, shape [b, 1]), got {}",
                    lens.len(),
                    v.len()
                ),
            )
        }
        Err(e) => {
            return Verdict::fail(
                EX,
                format!("无法读取 shift：{e}"),
                format!("cannot read the shift: {e}"),
            )
        }
    };
    let real: Vec<usize> = (0..lens.len()).filter(|&r| lens[r] > 0).collect();
    let want: Vec<f64> = real
        .iter()
        .map(|&r| rows[r][..lens[r]].iter().fold(f32::MIN, |a, &b| a.max(b)) as f64)
        .collect();
    let got: Vec<f64> = real.iter().map(|&r| got_shift[r] as f64).collect();
    let v = compare_values(
        EX,
        &got,
        &want,
        1e-5,
        "shift（真实位置上的最大值）",
        "the shift (the max over the real positions)",
    );
    if !v.passed {
        return v;
    }
    compare_tensor(
        EX,
        || Ok(weights),
        din::model::masked_softmax(&scores, &mask),
        1e-5,
        "masked softmax",
        "the masked softmax",
    )
}

// ---------------------------------------------------------------- notebook 3: the unit by hand

/// One hidden layer of an activation unit, Linear then Dice: its trained tensors.
#[derive(Debug, Clone)]
pub struct DiceLayerWeights {
    /// `[out, in]` (PyTorch's and candle's layout: `x · wᵀ + b`).
    pub w: Tensor,
    /// `[out]`.
    pub b: Tensor,
    /// Dice's α, `[out]`.
    pub alpha: Tensor,
    /// Dice's running mean and variance, `[out]` (used in evaluation).
    pub running_mean: Tensor,
    /// Dice's running variance, `[out]` (with `running_mean`, what evaluation normalises by).
    pub running_var: Tensor,
}

/// The trained weights of one activation unit of a DIN with Dice in its attention MLP, copied
/// out of the model by name, for a unit written by hand (notebook 3, 3.7).
#[derive(Debug, Clone)]
pub struct UnitWeights {
    /// The hidden layers, input side first.
    pub hidden: Vec<DiceLayerWeights>,
    /// The output layer: `[1, last hidden]` and `[1]`: one score per position.
    pub w_out: Tensor,
    /// The output layer's bias, `[1]`.
    pub b_out: Tensor,
    /// Whether the weights are a masked softmax of the scores ([`WeightNorm::Softmax`]); otherwise
    /// the raw scores, zero at padding (the paper).
    pub softmax: bool,
}

impl UnitWeights {
    /// Copy the weights of the unit `prefix` (`"attention.item"` or `"attention.cate"`) out of
    /// `model` (copies: training the model further does not change them).
    pub fn from_model<N: din::model::Trainable>(
        model: &Model<N>,
        prefix: &str,
    ) -> din::Result<UnitWeights> {
        let cfg = model.config();
        if cfg.kind != ModelKind::Din || cfg.attention_activation != Activation::Dice {
            return Err(din::Error::Config(format!(
                "UnitWeights reads a DIN whose attention MLP uses Dice; this model is {} with {}",
                cfg.kind, cfg.attention_activation
            )));
        }
        let mlp = dice_mlp_weights(&model.tensors()?, prefix, cfg.attention_dims.len())?;
        Ok(UnitWeights {
            softmax: cfg.weight_norm == WeightNorm::Softmax,
            ..mlp
        })
    }
}

/// Every step of an activation unit written by hand, so that each can be checked.
#[derive(Debug, Clone)]
pub struct UnitSteps {
    /// `[B, L, 4d]`: `[t, h, t − h, t ⊙ h]` at every position, padding included.
    pub input: Tensor,
    /// `[B, L]`: the MLP's score at every position, **before** the mask (padding included).
    pub scores: Tensor,
    /// `[B, L]`: the attention weights (masked softmax of the scores, or the scores with padding
    /// set to 0), 0 at padding.
    pub weights: Tensor,
    /// `[B, d]`: `Σᵢ wᵢ · hᵢ`.
    pub interest: Tensor,
}

/// 练习 3.7: the activation unit, written by hand. `f(weights, target [B, d], hist [B, L, d],
/// mask [B, L], train)` returns every step ([`UnitSteps`]). Run on a small DIN trained here, in
/// evaluation (running statistics) and in training (the batch's statistics over the real
/// positions). The 4d input and the scores before the mask are compared with a computation of
/// this module (no public function of the library returns them, so a call into the library does
/// not pass); the weights and the interest vectors with the library's own unit
/// (`ActivationUnit::forward_padded`, `Kernels::Reference`), to 1e-5.
pub fn check_activation_unit(
    f: impl Fn(&UnitWeights, &Tensor, &Tensor, &Tensor, bool) -> candle_core::Result<UnitSteps>,
) -> Verdict {
    const EX: &str = "check_activation_unit";
    let (model, batch) = match trained_unit_case() {
        Ok(c) => c,
        Err(e) => return internal(EX, e),
    };
    let UnitCase {
        u,
        x,
        lib,
        reference,
    } = match activation_unit_case(&model, &batch) {
        Ok(c) => c,
        Err(e) => return internal(EX, e),
    };
    for (k, train) in [false, true].into_iter().enumerate() {
        let got = match run_learner(EX, "你的函数", "your function", || {
            f(&u, &x.target_item, &x.hist_item, &x.mask, train)
        }) {
            Ok(s) => s,
            Err(v) => return v,
        };
        if let Some(v) = first_wrong_step(EX, train, &unit_steps(&got, &reference[k], &lib[k])) {
            return v;
        }
    }
    Verdict::pass(
        EX,
        "推断和训练两种模式下，4d 输入、mask 前的分数、权重和兴趣向量都与库一致（训练好的权重）",
        "the 4d input, the scores before the mask, the weights and the interest vectors all match, \
         in evaluation and in training (trained weights)",
    )
}

/// The case [`check_activation_unit`] runs on.
struct UnitCase {
    /// The item unit's weights (copies).
    u: UnitWeights,
    /// The batch's padded lookup.
    x: Lookup,
    /// For each mode (evaluation, then training): the library unit's `(interest, weights)`.
    lib: Vec<(Tensor, Tensor)>,
    /// For each mode: this module's steps.
    reference: Vec<UnitSteps>,
}

/// The item unit of the trained `model` on `batch`, in evaluation and in training.
fn activation_unit_case(model: &Model, batch: &din::data::Batch) -> din::Result<UnitCase> {
    let u = UnitWeights::from_model(model, "attention.item")?;
    let x = model
        .embeddings()
        .lookup(batch, Layout::Padded, DTYPE, &Device::Cpu)?;
    let din::model::Network::Din(net) = model.net() else {
        return Err(din::Error::Internal("a DIN was trained".into()));
    };
    // evaluation first: the training call folds this batch into the library unit's running
    // statistics (the learner's copies in `u` keep the values evaluation used)
    let mut lib = Vec::new();
    let mut mine = Vec::new();
    for train in [false, true] {
        let mode = din::model::Mode::new(train, din::model::Kernels::Reference);
        lib.push(
            net.att_item()
                .forward_padded(&x.target_item, &x.hist_item, &x.mask, mode)?,
        );
        mine.push(unit_steps_reference(
            &u,
            &x.target_item,
            &x.hist_item,
            &x.mask,
            train,
        )?);
    }
    Ok(UnitCase {
        u,
        x,
        lib,
        reference: mine,
    })
}

/// The steps [`check_activation_unit`] compares, in order: the 4d input and the scores before the
/// mask with this module's computation `want`, the weights and the interest vectors with the
/// library's unit (`lib`: its interest vectors and weights).
fn unit_steps<'a>(
    got: &'a UnitSteps,
    want: &'a UnitSteps,
    lib: &'a (Tensor, Tensor),
) -> [Step<'a>; 4] {
    let (lib_interest, lib_weights) = lib;
    [
        (
            &got.input,
            &want.input,
            1e-6,
            "4d 输入 [t, h, t−h, t⊙h]",
            "the 4d input [t, h, t−h, t⊙h]",
        ),
        (
            &got.scores,
            &want.scores,
            1e-4,
            "mask 之前每个位置的分数",
            "the scores before the mask",
        ),
        (
            &got.weights,
            lib_weights,
            1e-5,
            "注意力权重（与库比较）",
            "the attention weights (against the library)",
        ),
        (
            &got.interest,
            lib_interest,
            1e-5,
            "兴趣向量（与库比较）",
            "the interest vectors (against the library)",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use din::model::Mode;

    #[test]
    fn checks_pass_answers_written_out_and_fail_library_shortcuts_and_wrong_answers() {
        // an error
        let v = check_input_3d(|t, _h, _w| Ok((t.reshape(999)?, t.clone())));
        assert!(!v.passed && v.en.contains("error"), "{v}");
        let broadcast = |t: &Tensor, h: &Tensor| t.unsqueeze(1)?.broadcast_as(h.dims());
        // the library's build as it is (equal shapes only) does not pass
        let v = check_input_3d(|t, h, _w| {
            let x = AttentionInput::Three.build(t, h)?;
            Ok((x.clone(), x))
        });
        assert!(!v.passed && v.en.contains("error"), "{v}");
        // broadcast first, the library builds the input, but its share of the first layer is no
        // output of the library: the whole first layer in its place does not pass
        let v = check_input_3d(|t, h, w| {
            let x = AttentionInput::Three.build(&broadcast(t, h)?, h)?;
            let z = x.broadcast_matmul(&w.t()?)?;
            Ok((x, z))
        });
        assert!(
            !v.passed && v.en.contains("share of the first layer"),
            "{v}"
        );
        // the wrong columns of w (the history's) fail
        let v = check_input_3d(|t, h, w| {
            let x = AttentionInput::Three.build(&broadcast(t, h)?, h)?;
            Ok((x, t.matmul(&w.narrow(1, 0, 4)?.t()?)?))
        });
        assert!(
            !v.passed && v.en.contains("share of the first layer"),
            "{v}"
        );
        // written out: passes
        let v = check_input_3d(|t, h, w| {
            let d = t.dim(1)?;
            let tb = broadcast(t, h)?;
            let x = Tensor::cat(&[h, &tb, &(h * &tb)?], 2)?;
            Ok((x, t.matmul(&w.narrow(1, d, d)?.t()?)?))
        });
        assert!(v.passed, "{v}");
        // the 4d input fails
        let v = check_input_3d(|t, h, w| {
            let x = AttentionInput::Four.build(&broadcast(t, h)?, h)?;
            Ok((x, t.matmul(&w.narrow(1, 4, 4)?.t()?)?))
        });
        assert!(!v.passed && v.en.contains("wrong shape"), "{v}");
        // shifting by a max that includes the padding's 0 underflows on the row near −400
        let v = check_masked_softmax(|s, m| {
            let shift = (s * m)?.max_keepdim(1)?;
            let e = (s.broadcast_sub(&shift)?.exp()? * m)?;
            Ok((
                shift.clone(),
                e.broadcast_div(&e.sum_keepdim(1)?.maximum(1e-30)?)?,
            ))
        });
        assert!(!v.passed, "{v}");
        // the library's weights with a shift that ignores the mask do not pass
        let v =
            check_masked_softmax(|s, m| Ok((s.max_keepdim(1)?, din::model::masked_softmax(s, m)?)));
        assert!(!v.passed && v.en.contains("shift"), "{v}");
        // the max over the real positions, then the softmax: passes
        let v = check_masked_softmax(|s, m| {
            let shift = (s + m.affine(1e30, -1e30)?)?.max_keepdim(1)?;
            let e = (s.broadcast_sub(&shift)?.mul(m)?.exp()? * m)?;
            Ok((shift, e.broadcast_div(&e.sum_keepdim(1)?.maximum(1e-30)?)?))
        });
        assert!(v.passed, "{v}");
    }

    #[test]
    fn the_activation_unit_check_passes_a_hand_written_unit_and_not_the_library_or_a_stub() {
        // the steps written out (this module's reference) pass: they agree with the library's unit
        let v = check_activation_unit(unit_steps_reference);
        assert!(v.passed, "{v}");
        // a stub
        let v = check_activation_unit(|_, _, _, _, _| todo!());
        assert!(!v.passed && v.en.contains("not written yet"), "{v}");
        // the library's answer: the input from `AttentionInput::build` and the weights and
        // interest from the library's unit; the scores before the mask are not to be had from it
        let (model, _) = trained_unit_case().unwrap();
        let din::model::Network::Din(net) = model.net().clone() else {
            panic!("DIN")
        };
        let v = check_activation_unit(move |_u, t, h, m, train| {
            let (b, l, d) = h.dims3()?;
            let tb = t.unsqueeze(1)?.broadcast_as((b, l, d))?.contiguous()?;
            let input = AttentionInput::Four.build(&tb, h)?;
            let mode = Mode::new(train, din::model::Kernels::Reference);
            let (interest, weights) = net.att_item().forward_padded(t, h, m, mode)?;
            Ok(UnitSteps {
                input,
                scores: weights.clone(),
                weights,
                interest,
            })
        });
        assert!(!v.passed && v.en.contains("scores before the mask"), "{v}");
        // forgetting Dice's running statistics in evaluation (batch statistics always) fails
        let v = check_activation_unit(|u, t, h, m, _train| unit_steps_reference(u, t, h, m, true));
        assert!(!v.passed && v.en.contains("evaluation"), "{v}");
    }
}
