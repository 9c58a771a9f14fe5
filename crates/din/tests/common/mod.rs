#![allow(dead_code)]
use candle_core::{DType, Device, Tensor, Var};
use din::data::{Batch, RowRef};
use din::model::{Layout, Lookup, Model, ModelConfig, TouchedRows};

/// A small batch with histories of different lengths (one empty when `with_empty`).
pub fn tiny_batch(n_items: u32, n_cates: u32, n_users: u32, with_empty: bool) -> Batch {
    let hists: Vec<Vec<u32>> = vec![
        vec![1, 2, 3, 4],
        vec![5, 1],
        vec![2, 6, 7, 1, 3, 5, 4],
        if with_empty { vec![] } else { vec![7] },
        vec![3, 3, 2],
    ];
    let cates: Vec<Vec<u32>> = hists
        .iter()
        .map(|h| h.iter().map(|&i| 1 + i % (n_cates - 2).max(1)).collect())
        .collect();
    let rows: Vec<RowRef> = hists
        .iter()
        .zip(&cates)
        .enumerate()
        .map(|(k, (h, c))| RowRef {
            user: 1 + (k as u32) % (n_users - 2),
            hist_item: h,
            hist_cate: c,
            target_item: 1 + (k as u32 * 3) % (n_items - 2),
            target_cate: 1 + (k as u32) % (n_cates - 2),
            label: (k % 2) as f32,
        })
        .collect();
    Batch::from_rows(rows, 0)
}

pub fn tiny_model(cfg: ModelConfig, dtype: DType) -> Model {
    Model::new(cfg, [10, 6, 8], 7, &Device::Cpu, dtype).unwrap()
}

/// A lookup whose embeddings are re-read from the touched-row variables on every call, so that
/// perturbing a variable changes the next forward pass.
pub fn lookup_from(touched: &[TouchedRows], batch: &Batch, layout: Layout) -> Lookup {
    Lookup::build(batch, layout, &Device::Cpu, |t, ids| {
        let tr = touched.iter().find(|r| r.table == t).unwrap();
        let local: Vec<u32> = ids
            .iter()
            .map(|i| tr.ids.binary_search(i).unwrap() as u32)
            .collect();
        let idx = Tensor::from_vec(local, ids.len(), &Device::Cpu)?;
        tr.var.as_tensor().index_select(&idx, 0)
    })
    .unwrap()
}

/// Central finite difference of `f` with respect to element `i` of `var`.
pub fn numeric_grad(var: &Var, i: usize, h: f64, f: &mut dyn FnMut() -> f64) -> f64 {
    let orig = var
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let shape = var.shape().clone();
    let set = |delta: f64| {
        let mut v = orig.clone();
        v[i] += delta;
        var.set(&Tensor::from_vec(v, shape.clone(), &Device::Cpu).unwrap())
            .unwrap();
    };
    set(h);
    let fp = f();
    set(-h);
    let fm = f();
    set(0.0);
    (fp - fm) / (2.0 * h)
}

/// Compare the analytic gradient of `var` with finite differences at up to `k` positions.
pub fn check_grad(name: &str, var: &Var, analytic: &Tensor, k: usize, f: &mut dyn FnMut() -> f64) {
    let a = analytic.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let n = a.len();
    let step = (n / k).max(1);
    let mut worst = 0.0f64;
    for i in (0..n).step_by(step).take(k) {
        let num = numeric_grad(var, i, 1e-6, f);
        // relative error, with an absolute floor for near-zero gradients
        let err = (num - a[i]).abs() / num.abs().max(a[i].abs()).max(1e-3);
        worst = worst.max(err);
        assert!(
            err < 1e-4,
            "{name}[{i}]: analytic {} vs numeric {num} (rel err {err})",
            a[i]
        );
    }
    eprintln!(
        "{name}: {} coordinates checked, worst relative error {worst:.2e}",
        n.min(k)
    );
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

/// Every `.rs` file under `dir`, recursively, appended to `out`.
pub fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}
