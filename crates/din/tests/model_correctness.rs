//! Correctness of the model: finite-difference gradients (f64), padding invariance, masking,
//! the packed fast path against the padded formula, fused kernels against tensor ops.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::*;
use din::model::layers::Dice;
use din::model::{
    ops, Activation, AttentionInput, Kernels, Layout, Mode, ModelConfig, ModelKind, Params,
    WeightNorm,
};
use din::train::bce_with_logits;

fn small_cfg() -> ModelConfig {
    ModelConfig {
        embed_dim: 4,
        attention_dims: vec![6, 5],
        mlp_dims: vec![7, 3],
        embed_init_std: 0.5,
        ..Default::default()
    }
}

fn loss_of(
    model: &din::model::Model,
    x: &din::model::Lookup,
    batch: &din::data::Batch,
    train: bool,
) -> Tensor {
    let out = model.net().forward_t(x, model.mode(train)).unwrap();
    let y = Tensor::from_slice(&batch.label, batch.size, &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    // add a term on the attention weights so their gradient paths are checked too
    let mut loss = bce_with_logits(&out.logit, &y).unwrap();
    if let Some([wi, wc]) = &out.attention {
        let r = Tensor::arange(0f64, wi.elem_count() as f64, &Device::Cpu)
            .unwrap()
            .reshape(wi.shape())
            .unwrap()
            .affine(0.01, -0.1)
            .unwrap();
        loss = (loss
            + (wi * &r).unwrap().sum_all().unwrap()
            + (wc * &r)
                .unwrap()
                .sum_all()
                .unwrap()
                .affine(0.5, 0.0)
                .unwrap())
        .unwrap();
    }
    loss
}

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f64>().unwrap()
}

/// Whole-model gradient check: embeddings (touched rows) and every network weight.
fn grad_check_model(cfg: ModelConfig, layout: Layout, train: bool) {
    let model = tiny_model(cfg, DType::F64).with_layout(layout);
    let batch = tiny_batch(10, 6, 8, false);
    let (_, touched) = model
        .embeddings()
        .lookup_train(&batch, layout, DType::F64, &Device::Cpu)
        .unwrap();
    let x = lookup_from(&touched, &batch, layout);
    let loss = loss_of(&model, &x, &batch, train);
    let grads = loss.backward().unwrap();
    let mut f = || {
        let x = lookup_from(&touched, &batch, layout);
        scalar(&loss_of(&model, &x, &batch, train))
    };
    for tr in &touched {
        let g = grads.get(tr.var.as_tensor()).expect("embedding gradient");
        check_grad(&format!("{:?} rows", tr.table), &tr.var, g, 12, &mut f);
    }
    let mut checked = 0;
    for (name, var) in model.params().named() {
        if let Some(g) = grads.get(var.as_tensor()) {
            check_grad(&name, &var, g, 6, &mut f);
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} parameters had gradients");
}

#[test]
fn din_gradients_match_finite_differences_packed_train() {
    grad_check_model(small_cfg(), Layout::Packed, true);
}

#[test]
fn din_gradients_match_finite_differences_padded_eval() {
    grad_check_model(small_cfg(), Layout::Padded, false);
}

#[test]
fn din_gradients_softmax_three_input_prelu() {
    let cfg = ModelConfig {
        attention_input: AttentionInput::Three,
        weight_norm: WeightNorm::Softmax,
        attention_activation: Activation::Sigmoid,
        activation: Activation::Sigmoid,
        ..small_cfg()
    };
    grad_check_model(cfg.clone(), Layout::Packed, true);
    grad_check_model(cfg, Layout::Padded, true);
}

#[test]
fn din_gradients_with_batch_norm() {
    // torch-rechub's MLP layout (Linear → BatchNorm → Dice): the fused kernel's BatchNorm path
    let cfg = ModelConfig {
        batch_norm: true,
        ..small_cfg()
    };
    grad_check_model(cfg, Layout::Packed, true);
}

#[test]
fn torch_rechub_layout_gradients() {
    // torch-rechub's Dice in both MLPs, BatchNorm, the 8-embedding head input
    let cfg = ModelConfig {
        activation: Activation::RechubDice,
        attention_activation: Activation::RechubDice,
        batch_norm: true,
        weight_norm: WeightNorm::None,
        head_input: din::model::HeadInput::TorchRechub,
        ..small_cfg()
    };
    grad_check_model(cfg.clone(), Layout::Packed, true);
    grad_check_model(cfg, Layout::Padded, false);
}

#[test]
fn rechub_dice_is_torch_rechubs_formula() {
    // torch_rechub/basic/activation.py (0.9.0): m = mean(x), v = Σ((x − m)² + ε), ε = 1e-3,
    // p = sigmoid((x − m) / sqrt(v)), f = p·x + (1 − p)·α·x, by hand for each row
    let x: Vec<f64> = vec![0.3, -1.2, 2.0, 0.0, 0.7, -0.4, 0.05, 0.9];
    let (rows, width, alpha, eps) = (2, 4, 0.37, 1e-3);
    let mut want = Vec::new();
    for r in 0..rows {
        let row = &x[r * width..(r + 1) * width];
        let m = row.iter().sum::<f64>() / width as f64;
        let v: f64 = row.iter().map(|a| (a - m).powi(2) + eps).sum();
        for a in row {
            let p = 1.0 / (1.0 + (-(a - m) / v.sqrt()).exp());
            want.push(p * a + (1.0 - p) * alpha * a);
        }
    }
    let mut ts = std::collections::HashMap::new();
    ts.insert(
        "alpha".to_string(),
        Tensor::new(&[alpha], &Device::Cpu).unwrap(),
    );
    let vb = candle_nn::VarBuilder::from_tensors(ts, DType::F64, &Device::Cpu);
    let dice = din::model::RechubDice::new(vb).unwrap();
    let xt = Tensor::from_vec(x, (rows, width), &Device::Cpu).unwrap();
    let got = candle_core::Module::forward(&dice, &xt)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }
}

#[test]
fn base_model_gradients() {
    grad_check_model(
        ModelConfig {
            kind: ModelKind::Base,
            ..small_cfg()
        },
        Layout::Packed,
        true,
    );
}

#[test]
fn dice_fused_matches_composed_and_finite_differences() {
    for train in [true, false] {
        let p = Params::seeded(3);
        let dice = Dice::new(5, p.var_builder(DType::F64, &Device::Cpu)).unwrap();
        // give α and the running statistics non-trivial values
        for (name, v) in p.named() {
            let n = v.elem_count();
            let vals: Vec<f64> = (0..n)
                .map(|i| match name.as_str() {
                    "alpha" => 0.3 - 0.1 * i as f64,
                    "running_mean" => 0.2 * i as f64 - 0.3,
                    _ => 0.5 + 0.2 * i as f64,
                })
                .collect();
            v.set(&Tensor::from_vec(vals, n, &Device::Cpu).unwrap())
                .unwrap();
        }
        let xv: Vec<f64> = (0..35)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3 + (i % 5) as f64 * 0.1)
            .collect();
        let x = Var::from_tensor(&Tensor::from_vec(xv, (7, 5), &Device::Cpu).unwrap()).unwrap();
        let r = Tensor::arange(0f64, 35.0, &Device::Cpu)
            .unwrap()
            .reshape((7, 5))
            .unwrap()
            .affine(0.1, -1.0)
            .unwrap();
        let fused = dice
            .forward_t(x.as_tensor(), None, Mode::new(train, Kernels::Fused))
            .unwrap();
        let composed = dice.forward_composed(x.as_tensor(), None, train).unwrap();
        assert!(max_abs_diff(&fused, &composed) < 1e-12);
        let loss = (fused * &r).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let gc = (composed * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let alpha = p.named().into_iter().find(|(n, _)| n == "alpha").unwrap().1;
        for v in [&x, &alpha] {
            let a = grads.get(v.as_tensor()).unwrap();
            let b = gc.get(v.as_tensor()).unwrap();
            assert!(
                max_abs_diff(a, b) < 1e-10,
                "fused vs composed gradient (train={train})"
            );
        }
        let mut f = || {
            scalar(
                &(dice
                    .forward_t(x.as_tensor(), None, Mode::new(train, Kernels::Fused))
                    .unwrap()
                    * &r)
                    .unwrap()
                    .sum_all()
                    .unwrap(),
            )
        };
        check_grad("dice x", &x, grads.get(x.as_tensor()).unwrap(), 35, &mut f);
        check_grad(
            "dice alpha",
            &alpha,
            grads.get(alpha.as_tensor()).unwrap(),
            5,
            &mut f,
        );
    }
}

/// Every case with every activation the fused kernels run (Dice, PReLU, ReLU, sigmoid).
fn with_each_fused_activation<C: Copy>(cases: &[C]) -> Vec<(Activation, C)> {
    let activations = [
        Activation::Dice,
        Activation::Prelu,
        Activation::Relu,
        Activation::Sigmoid,
    ];
    activations
        .into_iter()
        .flat_map(|a| cases.iter().map(move |&c| (a, c)))
        .collect()
}

#[test]
fn fused_attention_kernel_matches_tensor_ops() {
    use din::model::Network;
    let cases = [
        (AttentionInput::Four, false, DType::F64, 1e-10),
        (AttentionInput::Three, false, DType::F64, 1e-10),
        (AttentionInput::Four, true, DType::F64, 1e-10),
        (AttentionInput::Four, false, DType::F32, 2e-4),
        (AttentionInput::Four, true, DType::F32, 2e-4),
    ];
    let all = with_each_fused_activation(&cases);
    for (act, (input, batch_norm, dtype, tol)) in all {
        let cfg = ModelConfig {
            attention_input: input,
            attention_activation: act,
            batch_norm,
            ..small_cfg()
        };
        let model = tiny_model(cfg, dtype).with_layout(Layout::Packed);
        let batch = tiny_batch(10, 6, 8, true);
        let (_, touched) = model
            .embeddings()
            .lookup_train(&batch, Layout::Packed, dtype, &Device::Cpu)
            .unwrap();
        let x = lookup_from(&touched, &batch, Layout::Packed);
        let Network::Din(din) = model.net() else {
            panic!("a DIN model")
        };
        let unit = din.att_item();
        assert!(unit.mlp().fusable());
        let seg = x.seg.to_vec1::<u32>().unwrap();
        let fused = unit
            .scores_fused(&x.target_item, &x.hist_item, &seg)
            .unwrap();
        let plain = unit
            .scores_packed(
                &x.target_item,
                &x.hist_item,
                &x,
                Mode::TRAIN.with(Kernels::Reference),
            )
            .unwrap();
        let d = max_abs_diff(&fused, &plain);
        assert!(d < tol, "{act:?} {input:?} {dtype:?}: scores differ by {d}");
        let r = Tensor::arange(0f64, seg.len() as f64, &Device::Cpu)
            .unwrap()
            .affine(0.3, -1.0)
            .unwrap()
            .cos()
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let gf = (fused * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let gp = (plain * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let mut compared = 0;
        for (name, var) in model.params().named() {
            match (gf.get(var.as_tensor()), gp.get(var.as_tensor())) {
                (Some(a), Some(b)) => {
                    let scale = 1.0 + max_abs_diff(b, &b.zeros_like().unwrap());
                    let d = max_abs_diff(a, b) / scale;
                    assert!(
                        d < tol,
                        "{act:?} {input:?} {dtype:?}: gradient of {name} differs by {d}"
                    );
                    compared += 1;
                }
                (None, None) => {}
                _ => panic!("{name}: gradient on one path only"),
            }
        }
        let mut tables = 0;
        for tr in &touched {
            match (gf.get(tr.var.as_tensor()), gp.get(tr.var.as_tensor())) {
                (Some(a), Some(b)) => {
                    assert!(
                        max_abs_diff(a, b) < tol,
                        "{:?} embedding gradient",
                        tr.table
                    );
                    tables += 1;
                }
                (None, None) => {}
                _ => panic!("{:?}: gradient on one path only", tr.table),
            }
        }
        assert_eq!(tables, 1, "the item table (targets and histories)");
        // W, b, (γ, β,) (α) of both hidden layers and the output layer's W, b
        let alpha = if matches!(act, Activation::Dice | Activation::Prelu) {
            2
        } else {
            0
        };
        let expected = if batch_norm { 10 } else { 6 } + alpha;
        assert_eq!(compared, expected, "{act:?} {input:?}: parameters compared");
    }
}

fn outputs(
    model: &din::model::Model,
    batch: &din::data::Batch,
    train: bool,
) -> (Tensor, Option<[Tensor; 2]>) {
    let x = model.lookup(batch).unwrap();
    let out = model.net().forward_t(&x, model.mode(train)).unwrap();
    (out.logit, out.attention)
}

#[test]
fn packed_path_matches_padded_formula() {
    for cfg in [
        ModelConfig::default(),
        ModelConfig {
            attention_input: AttentionInput::Three,
            weight_norm: WeightNorm::Softmax,
            ..Default::default()
        },
        ModelConfig {
            attention_activation: Activation::Prelu,
            activation: Activation::Relu,
            batch_norm: true,
            ..Default::default()
        },
    ] {
        let mut model =
            din::model::Model::new(cfg, [10, 6, 8], 11, &Device::Cpu, DType::F32).unwrap();
        let batch = tiny_batch(10, 6, 8, true);
        for train in [false, true] {
            // the formula as written (padded, tensor ops) against the packed layout on both
            // kernel paths
            model = model
                .with_layout(Layout::Padded)
                .with_kernels(Kernels::Reference);
            let (lp, ap) = outputs(&model, &batch, train);
            model = model.with_layout(Layout::Packed);
            for kernels in [Kernels::Reference, Kernels::Fused] {
                model = model.with_kernels(kernels);
                let (lk, ak) = outputs(&model, &batch, train);
                let d = max_abs_diff(&lp, &lk);
                assert!(
                    d < 1e-5,
                    "logits differ by {d} (train={train}, {kernels:?})"
                );
                let (ap, ak) = (ap.clone().unwrap(), ak.unwrap());
                for k in 0..2 {
                    assert!(max_abs_diff(&ap[k], &ak[k]) < 1e-5);
                }
            }
        }
    }
}

#[test]
fn padding_never_changes_a_prediction_and_gets_zero_weight() {
    for norm in [WeightNorm::None, WeightNorm::Softmax] {
        for kind in [ModelKind::Din, ModelKind::Base] {
            let cfg = ModelConfig {
                kind,
                weight_norm: norm,
                batch_norm: true,
                ..Default::default()
            };
            let mut model =
                din::model::Model::new(cfg, [10, 6, 8], 5, &Device::Cpu, DType::F32).unwrap();
            let batch = tiny_batch(10, 6, 8, true);
            let longer = batch.padded_to(batch.max_len + 9);
            for layout in [Layout::Padded, Layout::Packed] {
                model = model.with_layout(layout);
                for train in [false, true] {
                    let (a, wa) = outputs(&model, &batch, train);
                    let (b, wb) = outputs(&model, &longer, train);
                    let d = max_abs_diff(&a, &b);
                    assert!(
                        d < 1e-5,
                        "{kind:?} {layout:?} train={train}: padding moved logits by {d}"
                    );
                    if let (Some(wa), Some(wb)) = (wa, wb) {
                        let w = wb[0].to_vec2::<f32>().unwrap();
                        let wshort = wa[0].to_vec2::<f32>().unwrap();
                        for (k, row) in w.iter().enumerate() {
                            let n = batch.hist_len[k] as usize;
                            assert!(
                                row[n..].iter().all(|&x| x == 0.0),
                                "padding weight not exactly 0"
                            );
                            for j in 0..n {
                                assert!((row[j] - wshort[k][j]).abs() < 1e-5);
                            }
                            if norm == WeightNorm::Softmax && n > 0 {
                                let s: f32 = row.iter().sum();
                                assert!((s - 1.0).abs() < 1e-5, "softmax weights sum to {s}");
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn config_errors_name_the_field() {
    for (cfg, want) in [
        (
            ModelConfig {
                attention_dims: vec![],
                ..Default::default()
            },
            "attention_dims",
        ),
        (
            ModelConfig {
                mlp_dims: vec![8, 0],
                ..Default::default()
            },
            "mlp_dims",
        ),
        (
            ModelConfig {
                embed_dim: 0,
                ..Default::default()
            },
            "embed_dim",
        ),
    ] {
        let e = din::model::Model::new(cfg, [4, 4, 4], 1, &Device::Cpu, DType::F32)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn fused_mlp_matches_tensor_ops_and_keeps_the_same_running_statistics() {
    use candle_nn::Module;
    use din::model::MlpConfig;
    let cases = [
        (false, DType::F64, 1e-10),
        (true, DType::F64, 1e-10),
        (false, DType::F32, 2e-4),
        (true, DType::F32, 2e-4),
    ];
    let all = with_each_fused_activation(&cases);
    for (act, (bn, dtype, tol)) in all {
        // two MLPs with equal, non-trivial parameters (α, γ, β are 0, 1, 0 at initialisation)
        let make = || {
            let p = Params::seeded(5);
            let cfg = MlpConfig {
                dims: vec![5, 4],
                activation: act,
                batch_norm: bn,
                ..Default::default()
            };
            let mlp = cfg.init(6, p.var_builder(dtype, &Device::Cpu)).unwrap();
            for (name, v) in p.named() {
                let n = v.elem_count();
                let base = match name.rsplit('.').next() {
                    Some("alpha") => 0.3,
                    Some("weight") if name.contains("bn") => 1.5,
                    Some("bias") if name.contains("bn") => -0.4,
                    _ => continue,
                };
                let vals: Vec<f64> = (0..n).map(|i| base - 0.15 * i as f64).collect();
                let t = Tensor::from_vec(vals, n, &Device::Cpu).unwrap();
                v.set(&t.to_dtype(dtype).unwrap()).unwrap();
            }
            (p, mlp)
        };
        let ((pf, fused), (pp, plain)) = (make(), make());
        let xv: Vec<f64> = (0..54)
            .map(|i| ((i * 37 % 13) as f64 - 6.0) * 0.25 + (i % 6) as f64 * 0.3)
            .collect();
        let x_of = || {
            let t = Tensor::from_vec(xv.clone(), (9, 6), &Device::Cpu).unwrap();
            Var::from_tensor(&t.to_dtype(dtype).unwrap()).unwrap()
        };
        let (xf, xp) = (x_of(), x_of());
        assert!(fused.fusable());
        let yf = fused.forward_t(xf.as_tensor(), None, Mode::TRAIN).unwrap();
        let reference = Mode::TRAIN.with(Kernels::Reference);
        let z = plain.hidden()[0]
            .linear()
            .forward_t(xp.as_tensor(), reference)
            .unwrap();
        let yp = plain.forward_from_first(&z, None, reference).unwrap();
        let _ = plain.hidden()[0].linear().forward(xp.as_tensor()).unwrap(); // Module, for the import
        assert_eq!(yf.dims(), &[9, 1]);
        let d = max_abs_diff(&yf, &yp);
        assert!(d < tol, "{act:?} bn={bn} {dtype:?}: outputs differ by {d}");
        let r = Tensor::arange(0f64, 9.0, &Device::Cpu)
            .unwrap()
            .affine(0.7, -2.0)
            .unwrap()
            .sin()
            .unwrap()
            .reshape((9, 1))
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let gf = (yf * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let gp = (yp * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let rel = |a: &Tensor, b: &Tensor| {
            max_abs_diff(a, b) / (1.0 + max_abs_diff(b, &b.zeros_like().unwrap()))
        };
        let d = rel(
            gf.get(xf.as_tensor()).unwrap(),
            gp.get(xp.as_tensor()).unwrap(),
        );
        assert!(
            d < tol,
            "{act:?} bn={bn} {dtype:?}: input gradient differs by {d}"
        );
        let mut compared = 0;
        for ((name, vf), (_, vp)) in pf.named().into_iter().zip(pp.named()) {
            if name.contains("running") {
                // one training step updated both paths' running statistics alike
                let d = rel(vf.as_tensor(), vp.as_tensor());
                assert!(d < tol, "{act:?} bn={bn} {dtype:?}: {name} differs by {d}");
                continue;
            }
            let (a, b) = (gf.get(vf.as_tensor()), gp.get(vp.as_tensor()));
            let (Some(a), Some(b)) = (a, b) else {
                panic!("{name}: gradient missing on a path");
            };
            let d = rel(a, b);
            assert!(
                d < tol,
                "{act:?} bn={bn} {dtype:?}: gradient of {name} differs by {d}"
            );
            compared += 1;
        }
        // W, b, (γ, β,) (α) of both hidden layers and the output layer's W, b
        let alpha = if matches!(act, Activation::Dice | Activation::Prelu) {
            2
        } else {
            0
        };
        assert_eq!(compared, if bn { 10 } else { 6 } + alpha, "{act:?}");
        // evaluation (running statistics) agrees too
        let ef = fused.forward_t(xf.as_tensor(), None, Mode::EVAL).unwrap();
        let ep = plain
            .forward_t(xp.as_tensor(), None, Mode::EVAL.with(Kernels::Reference))
            .unwrap();
        let d = max_abs_diff(&ef, &ep);
        assert!(
            d < tol,
            "{act:?} bn={bn} {dtype:?}: evaluation outputs differ by {d}"
        );
    }
}

#[test]
fn fused_ops_refuse_mismatched_lengths_with_an_error() {
    // Dice's α and a Linear bias must have one value per column: these used to return
    // uninitialised memory (Dice) and a silently wrong sum (bias)
    let x = Tensor::arange(0f32, 12.0, &Device::Cpu)
        .unwrap()
        .reshape((4, 3))
        .unwrap();
    let short = Tensor::new(&[0.1f32, 0.2], &Device::Cpu).unwrap();
    let e = ops::dice(&x, &short, None, 1e-8).unwrap_err().to_string();
    assert!(e.contains("one slope per neuron"), "{e}");
    let e = ops::add_bias(&x, &short).unwrap_err().to_string();
    assert!(e.contains("needs [3]"), "{e}");
    let long = Tensor::new(&[0.1f32, 0.2, 0.3, 0.4], &Device::Cpu).unwrap();
    assert!(ops::dice(&x, &long, None, 1e-8).is_err());
    assert!(ops::add_bias(&x, &long).is_err());
    // and through the layers: a Dice layer built for 2 neurons on 3 columns
    let p = Params::seeded(1);
    let dice = Dice::new(2, p.var_builder(DType::F32, &Device::Cpu)).unwrap();
    assert!(dice.forward_t(&x, None, Mode::TRAIN).is_err());
    assert!(dice
        .forward_t(&x, None, Mode::TRAIN.with(Kernels::Reference))
        .is_err());
}

/// Give every running statistic a value of its own (means around 0, variances in (0.5, 1.5)), so
/// that evaluation-mode scoring is checked with statistics that matter.
fn perturb_running_stats(model: &din::model::Model) {
    for (k, (name, var)) in model.params().named().into_iter().enumerate() {
        let n = var.elem_count();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 7 + k * 13) % 11) as f32 / 11.0)
            .collect();
        let t = Tensor::from_vec(v, var.shape().clone(), &Device::Cpu).unwrap();
        let t = if name.ends_with("running_var") {
            t.affine(1.0, 0.5).unwrap()
        } else if name.ends_with("running_mean") {
            t.affine(0.6, -0.3).unwrap()
        } else {
            continue;
        };
        var.set(&t.to_dtype(var.dtype()).unwrap()).unwrap();
    }
}

#[test]
fn scoring_one_history_once_matches_the_batch_path() {
    use din::data::{Batch, RowRef};
    let mut seen = 0;
    for kind in [ModelKind::Din, ModelKind::Base] {
        for (norm, input, batch_norm, act, head_input, attend_padding) in [
            (
                WeightNorm::None,
                AttentionInput::Four,
                false,
                Activation::Dice,
                Default::default(),
                None,
            ),
            (
                WeightNorm::None,
                AttentionInput::Four,
                true,
                Activation::Dice,
                Default::default(),
                None,
            ),
            (
                WeightNorm::Softmax,
                AttentionInput::Three,
                false,
                Activation::Prelu,
                Default::default(),
                None,
            ),
            (
                WeightNorm::Sigmoid,
                AttentionInput::Four,
                true,
                Activation::Relu,
                din::model::HeadInput::TorchRechub,
                None,
            ),
            (
                WeightNorm::None,
                AttentionInput::Four,
                true,
                Activation::Dice,
                Default::default(),
                Some(9),
            ),
        ] {
            if kind == ModelKind::Base && attend_padding.is_some() {
                continue;
            }
            let cfg = ModelConfig {
                kind,
                weight_norm: norm,
                attention_input: input,
                batch_norm,
                activation: act,
                attention_activation: act,
                head_input,
                attend_padding,
                ..small_cfg()
            };
            let model = tiny_model(cfg, DType::F32);
            perturb_running_stats(&model);
            for hist in [vec![], vec![3u32], vec![1, 2, 3, 4, 5, 6, 7, 2]] {
                let cates: Vec<u32> = hist.iter().map(|&i| 1 + i % 4).collect();
                let targets: Vec<(u32, u32)> = (1..9).map(|i| (i, 1 + (i * 3) % 5)).collect();
                let rows = targets.iter().map(|&(ti, tc)| RowRef {
                    user: 3,
                    hist_item: &hist,
                    hist_cate: &cates,
                    target_item: ti,
                    target_cate: tc,
                    label: 0.0,
                });
                let batch = Batch::from_rows(rows.collect::<Vec<_>>(), 0);
                let want = model.forward(&batch).unwrap();
                let got = model.forward_request(3, &hist, &cates, &targets).unwrap();
                let what = format!(
                    "{kind:?} {norm:?} {input:?} bn={batch_norm} {act:?} history {}",
                    hist.len()
                );
                let d = max_abs_diff(&want.logit, &got.logit);
                assert!(d < 1e-5, "{what}: logits differ by {d}");
                match (want.attention, got.attention) {
                    (Some(w), Some(g)) => {
                        for k in 0..2 {
                            let w = w[k].to_vec2::<f32>().unwrap();
                            let g = g[k].to_vec2::<f32>().unwrap();
                            for (wr, gr) in w.iter().zip(&g) {
                                assert_eq!(gr.len(), hist.len(), "{what}: one weight per position");
                                for (a, b) in wr[..hist.len()].iter().zip(gr) {
                                    assert!((a - b).abs() < 1e-5, "{what}: weights {a} vs {b}");
                                }
                            }
                        }
                    }
                    (None, None) => assert_eq!(kind, ModelKind::Base),
                    _ => panic!("{what}: attention weights on one path only"),
                }
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 27);
    // Training statistics are per batch: sharing is defined for evaluation only.
    let model = tiny_model(small_cfg(), DType::F32);
    let din::model::Network::Din(net) = model.net() else {
        unreachable!()
    };
    let x = model
        .lookup_request(1, &[1, 2], &[1, 2], &[(3, 1)])
        .unwrap();
    let err = net
        .forward_shared(&x, model.mode(true))
        .unwrap_err()
        .to_string();
    assert!(err.contains("evaluation only"), "{err}");
}

/// The running statistics move towards a training batch's by the configured momentum, on the
/// fused path and the reference path alike (the lead of the learning-parity work: at the
/// official code's 0.01 the evaluation statistics lagged the weights for hundreds of steps).
#[test]
fn dice_running_statistics_move_by_the_momentum() {
    use din::model::{LayerOptions, LinearInit, MlpConfig};
    // one neuron, batch values 1 and 5: mean 3, biased variance 4; start: mean 0, variance 1
    let x = Tensor::new(&[[1f32], [5.]], &Device::Cpu).unwrap();
    for (momentum, kernels) in [
        (Dice::MOMENTUM, Kernels::Fused),
        (0.01, Kernels::Fused),
        (0.3, Kernels::Reference),
    ] {
        let p = Params::seeded(3);
        let dice = Dice::new(1, p.var_builder(DType::F32, &Device::Cpu))
            .unwrap()
            .with_momentum(momentum);
        assert_eq!(dice.momentum(), momentum);
        dice.forward_t(&x, None, Mode::TRAIN.with(kernels)).unwrap();
        let named = p.named();
        let get = |n: &str| {
            named
                .iter()
                .find(|(k, _)| k == n)
                .unwrap()
                .1
                .as_tensor()
                .to_vec1::<f32>()
                .unwrap()[0]
        };
        let (m, v) = (get("running_mean"), get("running_var"));
        assert!(
            (m - 3.0 * momentum as f32).abs() < 1e-6,
            "{momentum}: mean {m}"
        );
        let want_v = (1.0 - momentum as f32) + 4.0 * momentum as f32;
        assert!((v - want_v).abs() < 1e-6, "{momentum}: variance {v}");
    }
    assert_eq!(Dice::MOMENTUM, 0.1);
    // an MLP passes its options to every Dice layer, fused training path included
    let p = Params::seeded(4);
    let opts = LayerOptions {
        dice_momentum: 0.5,
        linear_init: LinearInit::KaimingNormal,
    };
    let cfg = MlpConfig {
        dims: vec![3, 2],
        layers: opts,
        ..Default::default()
    };
    let mlp = cfg
        .init(2, p.var_builder(DType::F32, &Device::Cpu))
        .unwrap();
    let x = Tensor::new(&[[1f32, 2.], [3., -1.], [0., 4.]], &Device::Cpu).unwrap();
    // the first layer's pre-activations, to know the batch mean the running mean moves to
    let z = mlp.hidden()[0].linear().forward_t(&x, Mode::EVAL).unwrap();
    let batch_mean = z.mean(0).unwrap().to_vec1::<f32>().unwrap();
    mlp.forward_t(&x, None, Mode::TRAIN).unwrap();
    let named = p.named();
    let run = named
        .iter()
        .find(|(k, _)| k == "0.act.running_mean")
        .unwrap()
        .1
        .as_tensor()
        .to_vec1::<f32>()
        .unwrap();
    for (r, b) in run.iter().zip(&batch_mean) {
        assert!(
            (r - 0.5 * b).abs() < 1e-5,
            "running {r} vs half the batch mean {b}"
        );
    }
}

#[test]
fn model_config_dice_momentum_and_init_are_checked_and_kept() {
    use din::model::LinearInit;
    // a configuration saved before the fields existed trains as it did then
    let mut old = serde_json::to_value(ModelConfig::default()).unwrap();
    let obj = old.as_object_mut().unwrap();
    obj.remove("dice_momentum");
    obj.remove("linear_init");
    let old: ModelConfig = serde_json::from_value(old).unwrap();
    assert_eq!(old.dice_momentum, 0.01);
    assert_eq!(old.linear_init, LinearInit::KaimingNormal);
    assert_eq!(ModelConfig::default().dice_momentum, 0.1);
    for bad in [0.0, -0.1, 1.5, f64::NAN] {
        let e = din::model::Model::new(
            ModelConfig {
                dice_momentum: bad,
                ..Default::default()
            },
            [4, 4, 4],
            1,
            &Device::Cpu,
            DType::F32,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("dice_momentum"), "{e}");
    }
    assert_eq!(
        "torch-uniform".parse::<LinearInit>(),
        Ok(LinearInit::TorchUniform)
    );
    assert!("xavier"
        .parse::<LinearInit>()
        .unwrap_err()
        .contains("kaiming-normal"));
    // torch's nn.Linear init: U(±1/√in), so every weight within the bound; Kaiming's N(0, 2/in)
    // goes past it
    let max_abs = |init| {
        let cfg = ModelConfig {
            linear_init: init,
            ..small_cfg()
        };
        let m = din::model::Model::new(cfg, [6, 6, 6], 1, &Device::Cpu, DType::F32).unwrap();
        let (_, w) = m
            .params()
            .named()
            .into_iter()
            .find(|(k, _)| k == "mlp.0.linear.weight")
            .unwrap();
        let fan_in = w.dims()[1] as f32;
        let a = w
            .as_tensor()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        a * fan_in.sqrt()
    };
    assert!(max_abs(LinearInit::TorchUniform) <= 1.0);
    assert!(max_abs(LinearInit::KaimingNormal) > 1.0);
}
