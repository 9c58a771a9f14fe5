//! The committed notebooks (executed by scripts/run_notebooks.sh with the evcxr kernel) show every
//! figure on git hosts too: each output that carries `image/svg+xml` also carries `image/png`
//! (din's feature `png`, rendered with the shipped CJK font), and no output is an error.

use std::path::Path;

fn joined(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
        _ => String::new(),
    }
}

#[test]
fn every_svg_figure_has_a_png_beside_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut figures = 0;
    for nb in [
        "01_data",
        "02_embedding",
        "03_interest_activation",
        "04_training_auc",
        "05_din_vs_base",
        "06_full_data",
    ] {
        let path = dir.join(format!("{nb}.ipynb"));
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (i, cell) in json["cells"].as_array().unwrap().iter().enumerate() {
            for out in cell["outputs"].as_array().into_iter().flatten() {
                assert_ne!(out["output_type"], "error", "{nb} cell {i}: error output");
                let data = &out["data"];
                if data.get("image/svg+xml").is_some() {
                    figures += 1;
                    let png = joined(&data["image/png"]);
                    assert!(
                        png.trim_start().starts_with("iVBORw0KGgo"),
                        "{nb} cell {i}: an SVG figure without a PNG beside it (re-run scripts/run_notebooks.sh)"
                    );
                }
            }
        }
    }
    assert!(
        figures >= 12,
        "only {figures} figures in the committed notebooks"
    );
}
