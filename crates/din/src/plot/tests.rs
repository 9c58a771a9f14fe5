use super::scatter::{overlaps, place_labels, Rect};
use super::*;

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[test]
fn figures_are_svg_with_their_labels() {
    let s = heatmap(
        "注意力",
        &["篮球".into(), "口红".into()],
        &["篮球鞋".into(), "连衣裙".into()],
        &[vec![0.9, 0.1], vec![0.2, 0.8]],
        HeatScale::Weights,
    )
    .unwrap();
    assert!(s.0.starts_with("<svg") && s.0.contains("篮球鞋") && s.0.contains("0.900"));
    let l = lines(
        "loss",
        "step",
        "loss",
        &[Series::new("DIN", vec![(1.0, 0.7), (2.0, 0.5)])],
    )
    .unwrap();
    assert!(l.0.contains("DIN") && l.0.contains("<polyline"));
    let r = roc(
        "ROC",
        &[Series::new(
            "DIN AUC 0.9",
            vec![(0.0, 0.0), (0.2, 0.8), (1.0, 1.0)],
        )],
    )
    .unwrap();
    assert!(r.0.contains("AUC 0.9"));
    let d = crate::io::test_dir("plot");
    s.save(d.join("h.svg")).unwrap();
    assert!(std::fs::read_to_string(d.join("h.svg"))
        .unwrap()
        .contains("口红"));
    assert!(s.0.contains(&format!("font-family=\"{FONT}\"")));
}

#[test]
fn weights_use_a_fixed_unit_scale_so_near_uniform_weights_look_uniform() {
    // min-max colouring would paint 0.24 as the lightest and 0.26 as the darkest colour
    let s = heatmap(
        "untrained",
        &["c".into()],
        &["a".into(), "b".into(), "c".into(), "d".into()],
        &[vec![0.24, 0.26, 0.25, 0.25]],
        HeatScale::Weights,
    )
    .unwrap();
    for v in [0.24, 0.26, 0.25] {
        assert!(
            s.0.contains(&hex(sequential(v))),
            "{v} painted on the 0-1 scale"
        );
    }
    assert!(!s.0.contains(&hex(sequential(1.0))) && !s.0.contains(&hex(sequential(0.0))));
    let (a, b) = (sequential(0.24), sequential(0.26));
    let gap = (a.0 as i32 - b.0 as i32).abs() + (a.1 as i32 - b.1 as i32).abs();
    assert!(gap < 20, "0.24 and 0.26 look alike: {a:?} {b:?}");
    assert!(s.0.contains("0–1"));
}

#[test]
fn signed_scores_use_a_diverging_scale_centred_at_zero() {
    let s = heatmap(
        "raw",
        &["raw".into()],
        &["a".into(), "b".into(), "c".into()],
        &[vec![-2.0, 0.0, 1.0]],
        HeatScale::Signed,
    )
    .unwrap();
    assert!(
        s.0.contains(&hex(diverging(0.0))),
        "-max is the deepest blue"
    );
    assert!(
        s.0.contains(&hex(diverging(0.5))),
        "0 is the neutral centre"
    );
    assert!(
        s.0.contains(&hex(diverging(0.75))),
        "+max/2 is half-way to red"
    );
    assert_eq!(hex(diverging(0.5)), "#F7F7F7");
    assert!(s.0.contains("+2.00") && s.0.contains("−2.00"));
    assert_eq!(HeatScale::for_values(&[vec![0.2, 0.8]]), HeatScale::Weights);
    assert_eq!(HeatScale::for_values(&[vec![-0.2, 0.8]]), HeatScale::Signed);
}

#[test]
fn bars_state_where_their_axis_starts() {
    let names = ["DIN".to_string(), "base".to_string()];
    let chance = bars("AUC", "model", "AUC", &names, &[0.9, 0.8], Baseline::Chance).unwrap();
    assert!(chance.0.contains("0.9000") && chance.0.contains("= chance"));
    let zero = bars("n", "model", "n", &names, &[3.0, 4.0], Baseline::Zero).unwrap();
    assert!(!zero.0.contains("axis starts"));
    let at = bars("n", "model", "n", &names, &[3.0, 4.0], Baseline::At(2.0)).unwrap();
    assert!(at.0.contains("starts at 2"));
    assert!(bars("n", "m", "n", &names, &[1.0, 2.0], Baseline::At(f64::NAN)).is_err());
    // one colour for all bars
    assert!(!chance.0.contains(&hex(color(1))));
}

#[test]
fn histograms_are_one_colour_with_axis_labels() {
    let h = histogram(
        "h",
        "length 长度",
        "rows 行数",
        &[(1.0, 3.0), (2.0, 5.0), (3.0, 1.0)],
    )
    .unwrap();
    assert!(h.0.contains("length 长度") && h.0.contains("rows 行数"));
    assert!(h.0.contains(&hex(color(0))) && !h.0.contains(&hex(color(1))));
}

#[test]
fn labels_that_would_overlap_are_left_out() {
    let area = (0..400, 0..400);
    let lab = |n: usize| (0..n).map(|i| format!("item {i}")).collect::<Vec<_>>();
    let apart = place_labels(&[(50.0, 50.0), (300.0, 300.0)], &lab(2), 11.0, area.clone());
    assert!(apart.iter().all(|p| p.is_some()));
    let stacked = place_labels(&[(200.0, 200.0); 6], &lab(6), 11.0, area.clone());
    let shown: Vec<Rect> = stacked
        .iter()
        .zip(lab(6))
        .filter_map(|(p, l)| p.map(|(x, y)| (x, y, x + text_width(&l, 11.0), y + 13.75)))
        .collect();
    assert!(shown.len() < 6 && !shown.is_empty());
    for (i, a) in shown.iter().enumerate() {
        for b in &shown[i + 1..] {
            assert!(!overlaps(*a, *b), "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn more_than_eight_groups_differ_by_shape_too() {
    let pts: Vec<(f64, f64)> = (0..9).map(|i| (i as f64, i as f64)).collect();
    let names: Vec<String> = (0..9).map(|i| format!("g{i}")).collect();
    let eight = scatter(
        "s",
        "x",
        "y",
        &pts[..8],
        &(0..8).collect::<Vec<_>>(),
        &names[..8],
        None,
    )
    .unwrap();
    assert!(!eight.0.contains("<polygon"), "eight groups: circles only");
    let nine = scatter(
        "s",
        "x",
        "y",
        &pts,
        &(0..9).collect::<Vec<_>>(),
        &names,
        None,
    )
    .unwrap();
    assert!(
        nine.0.contains("<polygon"),
        "the ninth group is drawn as triangles"
    );
}

#[test]
fn colour_maps_run_end_to_end() {
    assert_eq!(sequential(0.0), RGBColor(253, 231, 37));
    assert_eq!(sequential(1.0), RGBColor(68, 1, 84));
    assert_eq!(diverging(0.0), RGBColor(33, 102, 172));
    assert_eq!(diverging(1.0), RGBColor(178, 24, 43));
    assert_eq!(sequential(f64::NAN), sequential(0.0));
    assert!(luminance(sequential(0.0)) > luminance(sequential(0.5)));
    assert!(luminance(sequential(0.5)) > luminance(sequential(1.0)));
}
