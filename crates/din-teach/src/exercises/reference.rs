//! The small DIN trained for the checks of notebooks 3 and 4, and this module's own computations
//! of the activation unit and the Dice MLP that those checks compare the learner's steps with.

use candle_core::{Device, Tensor};

use din::model::{Activation, Layout, Model, ModelConfig, ModelKind, Params, WeightNorm, DTYPE};

use super::{DiceLayerWeights, UnitSteps, UnitWeights};

/// Dice's ε (`din::model::Dice::eps` of a Dice layer built by the library).
const DICE_EPS: f64 = 1e-8;

/// The reference for [`check_activation_unit`]: the unit's steps computed here, independently of
/// the library's layers (whose public functions return neither the 4d input of every padded
/// position nor the scores before the mask).
///
/// [`check_activation_unit`]: super::check_activation_unit
pub(super) fn unit_steps_reference(
    u: &UnitWeights,
    target: &Tensor,
    hist: &Tensor,
    mask: &Tensor,
    train: bool,
) -> candle_core::Result<UnitSteps> {
    let (b, l, d) = hist.dims3()?;
    let t = target.unsqueeze(1)?.broadcast_as((b, l, d))?;
    let input = Tensor::cat(&[&t, hist, &(&t - hist)?, &(&t * hist)?], 2)?;
    let real = mask.reshape((b * l, 1))?;
    let scores =
        dice_mlp_reference(u, &input.reshape((b * l, 4 * d))?, &real, train)?.reshape((b, l))?;
    let weights = if u.softmax {
        din::model::masked_softmax(&scores, mask)?
    } else {
        (&scores * mask)?
    };
    let interest = weights.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?;
    Ok(UnitSteps {
        input,
        scores,
        weights,
        interest,
    })
}

/// The Dice MLP `prefix` (`mlp.{k}.linear`, `mlp.{k}.act`, `mlp.out`) of `n_hidden` layers of a
/// model's tensors, copied.
pub(super) fn dice_mlp_weights(
    t: &std::collections::BTreeMap<String, Tensor>,
    prefix: &str,
    n_hidden: usize,
) -> din::Result<UnitWeights> {
    let get = |name: String| -> din::Result<Tensor> {
        let v = t.get(&name).ok_or_else(|| {
            din::Error::Config(format!(
                "the model has no tensor `{name}` (prefix `{prefix}`)"
            ))
        })?;
        Ok(v.copy()?)
    };
    let mut hidden = Vec::new();
    for i in 0..n_hidden {
        let p = format!("{prefix}.mlp.{i}");
        let p = p.trim_start_matches('.').to_string();
        hidden.push(DiceLayerWeights {
            w: get(format!("{p}.linear.weight"))?,
            b: get(format!("{p}.linear.bias"))?,
            alpha: get(format!("{p}.act.alpha"))?,
            running_mean: get(format!("{p}.act.running_mean"))?,
            running_var: get(format!("{p}.act.running_var"))?,
        });
    }
    let out = format!("{prefix}.mlp.out");
    let out = out.trim_start_matches('.');
    Ok(UnitWeights {
        hidden,
        w_out: get(format!("{out}.weight"))?,
        b_out: get(format!("{out}.bias"))?,
        softmax: false,
    })
}

/// Linear → Dice per hidden layer, then the output Linear: `x: [N, in]`, `real: [N, 1]` (the rows
/// that count in training statistics) → `[N, 1]`.
pub(super) fn dice_mlp_reference(
    u: &UnitWeights,
    x: &Tensor,
    real: &Tensor,
    train: bool,
) -> candle_core::Result<Tensor> {
    let mut z = x.clone();
    for layer in &u.hidden {
        z = z.matmul(&layer.w.t()?)?.broadcast_add(&layer.b)?;
        let (mean, var) = if train {
            let n = real.sum_all()?;
            let mean = z.broadcast_mul(real)?.sum_keepdim(0)?.broadcast_div(&n)?;
            let var = z
                .broadcast_sub(&mean)?
                .sqr()?
                .broadcast_mul(real)?
                .sum_keepdim(0)?
                .broadcast_div(&n)?;
            (mean, var)
        } else {
            (
                layer.running_mean.unsqueeze(0)?,
                layer.running_var.unsqueeze(0)?,
            )
        };
        let p = candle_nn::ops::sigmoid(
            &z.broadcast_sub(&mean)?
                .broadcast_div(&(var + DICE_EPS)?.sqrt()?)?,
        )?;
        z = (p.mul(&z)? + p.affine(-1.0, 1.0)?.mul(&z.broadcast_mul(&layer.alpha)?)?)?;
    }
    z.matmul(&u.w_out.t()?)?.broadcast_add(&u.b_out)
}

/// A small DIN with Dice in its attention MLP, trained for one epoch on the demo world (a few
/// seconds), and 64 of its test rows: the trained weights the unit checks run on.
pub(super) fn trained_unit_case() -> din::Result<(Model, din::data::Batch)> {
    let (_world, ds) = din::synth::demo_dataset(300, 7)?;
    let model_cfg = ModelConfig {
        embed_dim: 8,
        attention_dims: vec![16, 8],
        mlp_dims: vec![16],
        attention_activation: Activation::Dice,
        weight_norm: WeightNorm::Softmax,
        ..Default::default()
    };
    let train_cfg = din::train::TrainConfig {
        epochs: 1,
        batch_size: 128,
        patience: 0,
        ..Default::default()
    };
    let (model, _history) =
        crate::tutorial::train_model(&ds, ModelKind::Din, &model_cfg, &train_cfg, &mut |_| {})?;
    let rows: Vec<usize> = (0..64.min(ds.test.len())).collect();
    Ok((model, din::data::Batch::from_split(&ds.test, &rows)))
}

/// [`trained_unit_case`] on the padded layout and the reference kernels (the layout and the
/// formulas a hand-written network follows), for the checks that compare whole forward passes.
pub(super) fn trained_reference_case() -> din::Result<(Model, din::data::Batch)> {
    let (model, batch) = trained_unit_case()?;
    let model = model
        .with_layout(Layout::Padded)
        .with_kernels(din::model::Kernels::Reference);
    Ok((model, batch))
}

/// A `VarBuilder` over copies of `model`'s tensors (and `extra` ones), so that a learner's
/// network built from it holds the trained weights without sharing their storage.
pub(super) fn copied_var_builder(
    model: &Model,
    extra: &[(&str, &Tensor)],
) -> din::Result<candle_nn::VarBuilder<'static>> {
    let mut t: std::collections::BTreeMap<String, Tensor> = model
        .tensors()?
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.copy()?)))
        .collect::<din::Result<_>>()?;
    for (name, v) in extra {
        t.insert(name.to_string(), v.copy()?);
    }
    Ok(Params::from_tensors(t).var_builder(DTYPE, &Device::Cpu))
}
