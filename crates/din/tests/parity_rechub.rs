//! Parity with the tutorial's code: torch-rechub's DIN, exported by tools/export_rechub_fixture.py
//! (weights, inputs, outputs), must be reproduced within 1e-5.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use din::data::{Batch, RowRef};
use din::model::{Activation, Layout, Model, ModelConfig};
use serde_json::Value;

#[test]
fn matches_torch_rechub_din_outputs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rechub_din.json"
    );
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let c = &fx["config"];
    let dims = |k: &str| -> Vec<usize> {
        c[k].as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect()
    };
    let cfg = ModelConfig {
        embed_dim: c["embed_dim"].as_u64().unwrap() as usize,
        attention_dims: dims("attention_dims"),
        mlp_dims: dims("mlp_dims"),
        activation: Activation::Prelu,
        attention_activation: Activation::Prelu,
        batch_norm: true,
        ..Default::default()
    };
    let mut tensors = BTreeMap::new();
    for (name, t) in fx["tensors"].as_object().unwrap() {
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let data: Vec<f32> = t["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        tensors.insert(
            name.clone(),
            Tensor::from_vec(data, shape, &Device::Cpu).unwrap(),
        );
    }
    let mut model = Model::from_tensors(cfg, tensors, &Device::Cpu, DType::F32).unwrap();
    let ids = |k: &str| -> Vec<u32> {
        fx["inputs"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect()
    };
    let ids2 = |k: &str| -> Vec<Vec<u32>> {
        fx["inputs"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as u32)
                    .collect()
            })
            .collect()
    };
    let (user, ti, tc, hi, hc) = (
        ids("user_id"),
        ids("target_item"),
        ids("target_cate"),
        ids2("history_item"),
        ids2("history_cate"),
    );
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
    let batch = Batch::from_rows(rows, 0);
    let want: Vec<f64> = fx["ctr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for layout in [Layout::Padded, Layout::Packed] {
        model = model.with_layout(layout);
        let got = model.predict(&batch).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (*g as f64 - w).abs() < 1e-5,
                "{layout:?}: ours {g} vs torch-rechub {w}"
            );
        }
    }
}
