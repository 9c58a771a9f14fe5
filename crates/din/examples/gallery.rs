//! Every kind of figure din draws, written as SVG and PNG to a folder, for looking at them:
//!
//!     cargo run --release -p din --features png --example gallery -- out/gallery
use din::plot::{self, Baseline, HeatScale, Series};

fn main() -> din::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("out/gallery".into()));
    std::fs::create_dir_all(&dir).map_err(|err| din::Error::Io {
        path: dir.clone(),
        err,
    })?;
    let hist: Vec<String> = ["篮球鞋", "球衣", "口红", "连衣裙", "护肤品"]
        .map(String::from)
        .into();
    let cands: Vec<String> = ["篮球", "口红"].map(String::from).into();
    let untrained = vec![
        vec![0.21, 0.19, 0.2, 0.2, 0.2],
        vec![0.2, 0.2, 0.21, 0.19, 0.2],
    ];
    let trained = vec![
        vec![0.46, 0.41, 0.04, 0.05, 0.04],
        vec![0.03, 0.04, 0.52, 0.2, 0.21],
    ];
    let raw = vec![vec![2.1, 1.7, -1.4, -0.9, -1.2]];
    let aucs = [0.9215, 0.9008];
    let names: Vec<String> = ["DIN".into(), "base 传统模型".into()].into();
    let pts: Vec<(f64, f64)> = (0..60)
        .map(|i| {
            let g = (i % 12) as f64;
            (
                g * 1.5 + (i as f64 * 0.37).sin(),
                g * 0.7 + (i as f64 * 0.91).cos(),
            )
        })
        .collect();
    let groups: Vec<usize> = (0..60).map(|i| i % 12).collect();
    let labels: Vec<String> = (0..60).map(|i| format!("商品{i}")).collect();
    let figs = [
        (
            "untrained",
            plot::heatmap(
                "未训练 untrained: 兴趣激活 attention weights",
                &cands,
                &hist,
                &untrained,
                HeatScale::Weights,
            )?,
        ),
        (
            "trained",
            plot::heatmap(
                "训练后 trained: 兴趣激活 attention weights",
                &cands,
                &hist,
                &trained,
                HeatScale::Weights,
            )?,
        ),
        (
            "raw",
            plot::heatmap(
                "candidate 篮球: raw scores s_i 原始分数",
                &["raw".into()],
                &hist,
                &raw,
                HeatScale::Signed,
            )?,
        ),
        (
            "bars",
            plot::bars(
                "测试集 AUC test",
                "模型 model",
                "测试集 AUC test AUC",
                &names,
                &aucs,
                Baseline::Chance,
            )?,
        ),
        (
            "histogram",
            plot::histogram(
                "每个用户的事件数 events per user",
                "事件数 events per user",
                "用户数 users",
                &[
                    (3.0, 40.0),
                    (4.0, 120.0),
                    (5.0, 200.0),
                    (6.0, 90.0),
                    (7.0, 12.0),
                ],
            )?,
        ),
        (
            "scatter",
            plot::scatter(
                "商品向量 item embeddings (PCA)",
                "PC1 第一主成分",
                "PC2 第二主成分",
                &pts,
                &groups,
                &din::synth::INTERESTS
                    .iter()
                    .map(|s| s.name.to_string())
                    .collect::<Vec<_>>(),
                Some(&labels),
            )?,
        ),
        (
            "lines",
            plot::lines(
                "验证集 AUC per epoch",
                "轮次 epoch",
                "验证集 AUC validation AUC",
                &[
                    Series::new("DIN", vec![(1.0, 0.88), (2.0, 0.91), (3.0, 0.92)]),
                    Series::new("base 传统模型", vec![(1.0, 0.87), (2.0, 0.89), (3.0, 0.90)]),
                ],
            )?,
        ),
        (
            "roc",
            plot::roc(
                "测试集 ROC (test)",
                &[Series::new(
                    "DIN AUC 0.92",
                    vec![(0.0, 0.0), (0.1, 0.7), (0.3, 0.9), (1.0, 1.0)],
                )],
            )?,
        ),
        (
            "architecture",
            plot::architecture(64, &[256, 128], &[256, 128])?,
        ),
    ];
    for (name, svg) in figs {
        svg.save(dir.join(format!("{name}.svg")))?;
        svg.save_png(dir.join(format!("{name}.png")))?;
        println!("{}", dir.join(format!("{name}.png")).display());
    }
    Ok(())
}
