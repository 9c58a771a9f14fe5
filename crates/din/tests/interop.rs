//! Weights to and from torch-rechub (`din::interop`): the tutorial's exact torch-rechub DIN,
//! exported by tools/export_rechub_tutorial_fixture.py (state_dict under torch-rechub's names,
//! padded inputs, CTRs), must be reproduced within 1e-5 after import, with its non-zero padding
//! rows attended to and with them zeroed; export → import keeps every score; a damaged state_dict
//! names every bad key; configurations without a torch-rechub counterpart name the option.

mod common;

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use common::{max_abs_diff, tiny_batch};
use din::data::{Batch, RowRef};
use din::interop::{check_exportable, from_torch_rechub, to_torch_rechub, ImportOptions};
use din::model::{Activation, Layout, Model, ModelConfig, ModelKind, WeightNorm, DTYPE};
use din::preset::Preset;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rechub_din_tutorial.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn state_dict(fx: &Value) -> BTreeMap<String, Tensor> {
    let mut out = BTreeMap::new();
    for (name, t) in fx["state_dict"].as_object().unwrap() {
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let data = t["data"].as_array().unwrap();
        let tensor = if t["dtype"] == "int64" {
            let v: Vec<i64> = data.iter().map(|v| v.as_i64().unwrap()).collect();
            Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
        } else {
            let v: Vec<f32> = data.iter().map(|v| v.as_f64().unwrap() as f32).collect();
            Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
        };
        out.insert(name.clone(), tensor);
    }
    out
}

fn column(fx: &Value, k: &str) -> Vec<f64> {
    fx[k]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// The fixture's rows as a `Batch`: torch-rechub's right padding (id 0) stripped, since `din`
/// stores histories without padding.
fn fixture_batch(fx: &Value) -> Batch {
    let ids = |k: &str| -> Vec<u32> {
        fx["inputs"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect()
    };
    let unpadded = |k: &str| -> Vec<Vec<u32>> {
        fx["inputs"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as u32)
                    .filter(|&i| i != 0)
                    .collect()
            })
            .collect()
    };
    let (user, ti, tc) = (ids("user_id"), ids("target_item"), ids("target_cate"));
    let (hi, hc) = (unpadded("history_item"), unpadded("history_cate"));
    let rows: Vec<RowRef> = (0..user.len())
        .map(|k| RowRef {
            user: user[k],
            hist_item: &hi[k],
            hist_cate: &hc[k],
            target_item: ti[k],
            target_cate: tc[k],
            label: 0.0,
        })
        .collect();
    Batch::from_rows(rows, 0)
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() < 1e-5,
            "{what}, row {k}: din {g} vs torch-rechub {w}"
        );
    }
}

#[test]
fn imported_tutorial_din_reproduces_torch_rechub_with_and_without_padding_rows() {
    let fx = fixture();
    let pad_len = fx["pad_len"].as_u64().unwrap() as usize;
    let batch = fixture_batch(&fx);
    let want = column(&fx, "ctr");
    let want_zero = column(&fx, "ctr_zero_padding");
    // the fixture is only a test if padding changes the scores
    assert!(want
        .iter()
        .zip(&want_zero)
        .any(|(a, b)| (a - b).abs() > 1e-4));

    // padding rows kept: din attends to the (pad_len − n) padding positions as torch-rechub does
    let opts = ImportOptions {
        pad_len,
        ..ImportOptions::default()
    };
    let (cfg, tensors) = from_torch_rechub(state_dict(&fx), &opts).unwrap();
    assert_eq!(cfg.attend_padding, Some(pad_len));
    assert_eq!(
        (cfg.embed_dim, &cfg.attention_dims[..], &cfg.mlp_dims[..]),
        (8, &[16, 8][..], &[12, 6][..])
    );
    assert_eq!(cfg.activation, Activation::RechubDice);
    assert_eq!(cfg.attention_activation, Activation::RechubDice);
    let mut model = Model::from_tensors(cfg, tensors, &Device::Cpu, DType::F32).unwrap();
    for layout in [Layout::Padded, Layout::Packed] {
        model = model.with_layout(layout);
        assert_close(
            &model.predict(&batch).unwrap(),
            &want,
            &format!("{layout:?}, padding attended"),
        );
    }

    // --zero-padding: the padding rows become zero and padding is masked
    let opts = ImportOptions {
        pad_len,
        zero_padding: true,
        ..ImportOptions::default()
    };
    let (cfg, tensors) = from_torch_rechub(state_dict(&fx), &opts).unwrap();
    assert_eq!(cfg.attend_padding, None);
    let model = Model::from_tensors(cfg, tensors, &Device::Cpu, DType::F32).unwrap();
    assert_close(
        &model.predict(&batch).unwrap(),
        &want_zero,
        "padding rows zeroed",
    );

    // a wrong padded length is a different function: the check above would catch it
    let opts = ImportOptions {
        pad_len: pad_len + 3,
        ..ImportOptions::default()
    };
    let (cfg, tensors) = from_torch_rechub(state_dict(&fx), &opts).unwrap();
    let model = Model::from_tensors(cfg, tensors, &Device::Cpu, DType::F32).unwrap();
    let got = model.predict(&batch).unwrap();
    assert!(got
        .iter()
        .zip(&want)
        .any(|(g, w)| (*g as f64 - w).abs() > 1e-4));
}

#[test]
fn attend_padding_equals_physical_padding_with_a_copied_row() {
    // The padding term (len − n)·w(t, e₀)·e₀ must equal attention over histories physically padded
    // to `len` with a real id whose embedding is e₀: append row 0 as a new last row of the item and
    // category tables, pad every history with that id, and score with masking as usual.
    let len = 9;
    let cfg = ModelConfig {
        embed_dim: 6,
        attention_dims: vec![10, 5],
        mlp_dims: vec![8, 4],
        ..Preset::TorchRechub.model()
    };
    let rows = [10usize, 6, 8];
    let model = Model::new(cfg.clone(), rows, 3, &Device::Cpu, DTYPE).unwrap();
    let mut tensors = model.tensors().unwrap();
    // make the padding rows clearly non-zero
    for t in ["embedding.item", "embedding.cate"] {
        let x = &tensors[t];
        let (r, d) = x.dims2().unwrap();
        let pad = Tensor::randn(0f32, 0.5, (1, d), &Device::Cpu).unwrap();
        let x = Tensor::cat(&[&pad, &x.narrow(0, 1, r - 1).unwrap()], 0).unwrap();
        tensors.insert(t.into(), x);
    }
    let padded = Model::from_tensors(
        ModelConfig {
            attend_padding: Some(len),
            ..cfg.clone()
        },
        tensors.clone(),
        &Device::Cpu,
        DTYPE,
    )
    .unwrap();
    let mut grown = tensors.clone();
    for t in ["embedding.item", "embedding.cate"] {
        let x = &tensors[t];
        let row0 = x.narrow(0, 0, 1).unwrap();
        grown.insert(t.into(), Tensor::cat(&[x, &row0], 0).unwrap());
    }
    let physical = Model::from_tensors(cfg, grown, &Device::Cpu, DTYPE).unwrap();
    let batch = tiny_batch(rows[0] as u32, rows[1] as u32, rows[2] as u32, true);
    let hists: Vec<(Vec<u32>, Vec<u32>)> = (0..batch.size)
        .map(|r| {
            let row = batch.row(r);
            let (mut h, mut c) = (row.hist_item.to_vec(), row.hist_cate.to_vec());
            h.resize(len, rows[0] as u32);
            c.resize(len, rows[1] as u32);
            (h, c)
        })
        .collect();
    let rows_ref: Vec<RowRef> = (0..batch.size)
        .map(|r| RowRef {
            user: batch.user[r],
            hist_item: &hists[r].0,
            hist_cate: &hists[r].1,
            target_item: batch.target_item[r],
            target_cate: batch.target_cate[r],
            label: 0.0,
        })
        .collect();
    let full = Batch::from_rows(rows_ref, 0);
    let a = padded.predict(&batch).unwrap();
    let b = physical.predict(&full).unwrap();
    let masked = Model::from_tensors(physical.config().clone(), tensors, &Device::Cpu, DTYPE)
        .unwrap()
        .predict(&batch)
        .unwrap();
    for k in 0..a.len() {
        assert!(
            (a[k] - b[k]).abs() < 1e-5,
            "row {k}: term {} vs padded {}",
            a[k],
            b[k]
        );
    }
    // and the term matters (otherwise this test could not fail)
    assert!(a.iter().zip(&masked).any(|(x, y)| (x - y).abs() > 1e-4));
}

#[test]
fn export_then_import_keeps_every_score_and_writes_zero_padding_rows() {
    let cfg = ModelConfig {
        embed_dim: 6,
        attention_dims: vec![10, 5],
        mlp_dims: vec![8, 4],
        ..Preset::TorchRechub.model()
    };
    let rows = [10usize, 6, 8];
    let model = Model::new(cfg.clone(), rows, 5, &Device::Cpu, DTYPE).unwrap();
    let state = to_torch_rechub(&model).unwrap();
    // torch-rechub's strict load_state_dict needs every key, num_batches_tracked included
    let nbt = state
        .keys()
        .filter(|k| k.ends_with("num_batches_tracked"))
        .count();
    assert_eq!(
        nbt,
        2 * 2 + 2,
        "one per BatchNorm1d: 2 per attention unit, 2 in the head"
    );
    assert_eq!(state["mlp.mlp.0.weight"].dims(), &[8, 8 * 6]);
    assert_eq!(state["mlp.mlp.8.weight"].dims(), &[1, 4]);
    for t in ["target_item", "target_cate"] {
        let w = &state[&format!("embedding.embed_dict.{t}.weight")];
        let row0 = w.narrow(0, 0, 1).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(row0.to_scalar::<f32>().unwrap(), 0.0, "{t}: padding row");
    }
    let (back_cfg, back) = from_torch_rechub(state, &ImportOptions::default()).unwrap();
    assert_eq!(back_cfg, cfg);
    let back = Model::from_tensors(back_cfg, back, &Device::Cpu, DTYPE).unwrap();
    let batch = tiny_batch(10, 6, 8, true);
    let (a, b) = (
        model.predict(&batch).unwrap(),
        back.predict(&batch).unwrap(),
    );
    let d = max_abs_diff(
        &Tensor::new(a.as_slice(), &Device::Cpu).unwrap(),
        &Tensor::new(b.as_slice(), &Device::Cpu).unwrap(),
    );
    assert!(d < 1e-6, "export → import changed a score by {d}");
}

#[test]
fn a_damaged_state_dict_names_every_bad_key() {
    let fx = fixture();
    let mut state = state_dict(&fx);
    state.remove("attention_layers.1.attention.mlp.1.running_var");
    state.remove("mlp.mlp.2.alpha");
    state.insert(
        "mlp.mlp.99.weight".into(),
        Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
    );
    state.insert(
        "attention_layers.0.attention.mlp.5.bias".into(),
        Tensor::zeros(7, DType::F32, &Device::Cpu).unwrap(),
    );
    let err = from_torch_rechub(state, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    for want in [
        "missing key `attention_layers.1.attention.mlp.1.running_var`",
        "missing key `mlp.mlp.2.alpha`",
        "unexpected key `mlp.mlp.99.weight`",
        "`attention_layers.0.attention.mlp.5.bias` has shape [7], expected [8]",
    ] {
        assert!(err.contains(want), "`{want}` not in: {err}");
    }
    // a table with the wrong width
    let mut state = state_dict(&fx);
    state.insert(
        "embedding.embed_dict.user_id.weight".into(),
        Tensor::zeros((9, 5), DType::F32, &Device::Cpu).unwrap(),
    );
    let err = from_torch_rechub(state, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`embedding.embed_dict.user_id.weight` has shape [9, 5], expected [9, 8]"),
        "{err}"
    );
    // no item table at all: not a DIN state_dict
    let mut state = state_dict(&fx);
    state.remove("embedding.embed_dict.target_item.weight");
    let err = from_torch_rechub(state, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing key `embedding.embed_dict.target_item.weight`"),
        "{err}"
    );
}

#[test]
fn options_without_a_torch_rechub_counterpart_are_named() {
    let ok = Preset::TorchRechub.model();
    check_exportable(&ok).unwrap();
    let cases: Vec<(ModelConfig, &str)> = vec![
        (
            ModelConfig {
                activation: Activation::Dice,
                ..ok.clone()
            },
            "activation = dice",
        ),
        (
            ModelConfig {
                activation: Activation::Prelu,
                ..ok.clone()
            },
            "activation = prelu",
        ),
        (
            ModelConfig {
                attention_activation: Activation::Dice,
                ..ok.clone()
            },
            "attention_activation = dice",
        ),
        (
            ModelConfig {
                batch_norm: false,
                ..ok.clone()
            },
            "batch_norm = false",
        ),
        (
            ModelConfig {
                weight_norm: WeightNorm::Softmax,
                ..ok.clone()
            },
            "weight_norm = softmax",
        ),
        (
            ModelConfig {
                kind: ModelKind::Base,
                ..ok.clone()
            },
            "model = base",
        ),
        (
            ModelConfig {
                head_input: Default::default(),
                ..ok.clone()
            },
            "head_input = din",
        ),
        (ModelConfig::default(), "head_input = din"),
    ];
    for (cfg, want) in cases {
        let err = check_exportable(&cfg).unwrap_err().to_string();
        assert!(err.contains(want), "`{want}` not in: {err}");
        assert!(err.contains("--preset torch-rechub"), "{err}");
    }
    // relu and sigmoid attention units map (torch-rechub's MLP takes them by name)
    for a in [Activation::Relu, Activation::Sigmoid] {
        check_exportable(&ModelConfig {
            attention_activation: a,
            ..ok.clone()
        })
        .unwrap();
    }
}

#[test]
fn relu_attention_needs_to_be_named_on_import() {
    let cfg = ModelConfig {
        embed_dim: 4,
        attention_dims: vec![6],
        mlp_dims: vec![5],
        attention_activation: Activation::Relu,
        ..Preset::TorchRechub.model()
    };
    let model = Model::new(cfg.clone(), [7, 5, 6], 1, &Device::Cpu, DTYPE).unwrap();
    let state = to_torch_rechub(&model).unwrap();
    let err = from_torch_rechub(state.clone(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--attention-activation relu|sigmoid"), "{err}");
    let opts = ImportOptions {
        attention_activation: Some(Activation::Relu),
        ..ImportOptions::default()
    };
    let (back, _) = from_torch_rechub(state, &opts).unwrap();
    assert_eq!(back, cfg);
}
