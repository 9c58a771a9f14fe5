//! Figures rasterised to PNG show Chinese as glyphs, not missing-glyph boxes, on any machine:
//! the shipped font is the only one the rasteriser sees, and a control font without CJK (the
//! same design, ASCII only: tests/fixtures/latin-only-control.otf, made by scripts/make_font.py)
//! shows that the check tells glyphs from boxes.

use din::plot::{self, HeatScale, Raster, Series, Svg, CJK_FONT};

mod common;

const CONTROL: &[u8] = include_bytes!("fixtures/latin-only-control.otf");

fn title_only(title: &str) -> Svg {
    plot::lines(
        title,
        "x",
        "y",
        &[Series::new("s", vec![(0.0, 0.0), (1.0, 1.0)])],
    )
    .unwrap()
}

fn glyph(c: char, font: &[u8]) -> Raster {
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><text x="4" y="32" font-size="30" font-family="{}">{c}</text></svg>"#,
        plot::FONT
    );
    Svg(svg).rasterise_with(1.0, &[font]).unwrap()
}

fn ink(r: &Raster) -> usize {
    r.rgba.chunks(4).filter(|p| p[3] > 0).count()
}

#[test]
fn chinese_labels_render_as_distinct_glyphs_not_boxes() {
    let chars: Vec<char> = "注意力权重候选商品历史篮球口红".chars().collect();
    let with = |font: &[u8]| -> Vec<Raster> {
        chars
            .iter()
            .map(|c| {
                title_only(&format!("{c} AUC"))
                    .rasterise_with(1.0, &[font])
                    .unwrap()
            })
            .collect()
    };
    let shipped = with(CJK_FONT);
    let control = with(CONTROL);
    let blank = title_only(" AUC").rasterise_with(1.0, &[CJK_FONT]).unwrap();
    // control: a font without CJK draws the same box for every character
    for r in &control[1..] {
        assert_eq!(
            r, &control[0],
            "the control font should draw identical boxes"
        );
    }
    // shipped font: each character is its own glyph, with ink, and not the box
    for (i, a) in shipped.iter().enumerate() {
        assert_ne!(a, &blank, "{} drew nothing", chars[i]);
        assert_ne!(a, &control[i], "{} came out as a box", chars[i]);
        for (j, b) in shipped.iter().enumerate().skip(i + 1) {
            assert_ne!(
                a, b,
                "{} and {} rasterise identically (boxes?)",
                chars[i], chars[j]
            );
        }
    }
}

/// A small attention heatmap with Chinese title and labels and ASCII values.
fn attention_heatmap() -> Svg {
    plot::heatmap(
        "兴趣激活 attention weights",
        &["篮球".into(), "口红".into()],
        &["篮球鞋".into(), "连衣裙".into()],
        &[vec![0.9, 0.1], vec![0.2, 0.8]],
        HeatScale::Weights,
    )
    .unwrap()
}

#[test]
fn a_real_figure_with_chinese_labels_differs_from_its_boxed_rendering() {
    let svg = attention_heatmap();
    let real = svg.rasterise_with(1.0, &[CJK_FONT]).unwrap();
    let boxed = svg.rasterise_with(1.0, &[CONTROL]).unwrap();
    assert_eq!((real.width, real.height), (boxed.width, boxed.height));
    assert_ne!(real.rgba, boxed.rgba);
    // the PNG the notebooks and `din tutorial` get decodes to the shipped-font rendering
    let png = svg.to_png().unwrap();
    let pm = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
    let at = svg.rasterise_with(plot::PNG_SCALE, &[CJK_FONT]).unwrap();
    assert_eq!((pm.width(), pm.height()), (at.width, at.height));
    assert_eq!(pm.data(), &at.rgba[..]);
}

/// Every Chinese character (and CJK punctuation) in the sources the figures' labels come from
/// is in the shipped subset; a new label with a character outside it fails here, with the fix.
#[test]
fn the_shipped_font_covers_every_cjk_character_in_the_sources() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates/din/src", "crates/din-cli/src", "notebooks/src"] {
        common::rust_files(&root.join(dir), &mut files);
    }
    let mut chars: Vec<char> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .chars()
                .collect::<Vec<_>>()
        })
        .filter(|&c| matches!(c as u32, 0x3000..=0x303F | 0x3400..=0x9FFF | 0xFF00..=0xFFEF))
        .collect();
    chars.sort_unstable();
    chars.dedup();
    assert!(chars.len() > 300, "found {} CJK characters", chars.len());
    let notdef = glyph('\u{E000}', CJK_FONT);
    let missing: String = chars
        .iter()
        .copied()
        .filter(|&c| c != '\u{3000}' && glyph(c, CJK_FONT) == notdef)
        .collect();
    assert!(
        missing.is_empty(),
        "not in crates/din/assets/NotoSansCJKsc-DIN-subset.otf: {missing}; rebuild it with scripts/make_font.py"
    );
    // the check can fail: the control font lacks them all
    let control_notdef = glyph('\u{E000}', CONTROL);
    assert!(chars[..20]
        .iter()
        .all(|&c| glyph(c, CONTROL) == control_notdef));
    assert!(ink(&notdef) > 0, "the missing-glyph box has ink");
}

/// Mean absolute difference of two rasters of the same size, per channel value.
fn mean_diff(a: &Raster, b: &Raster) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let sum: u64 = a
        .rgba
        .iter()
        .zip(&b.rgba)
        .map(|(&x, &y)| (x as i64 - y as i64).unsigned_abs())
        .sum();
    sum as f64 / a.rgba.len() as f64
}

/// What a notebook shows (`Svg::for_display`) carries its glyphs as outlines: it draws the same
/// with no CJK font at all (here only the ASCII control font) as the figure does with the shipped
/// font, where the figure's own SVG draws boxes.
#[test]
fn the_display_svg_needs_no_font_on_the_readers_machine() {
    let svg = attention_heatmap();
    let shown = svg.for_display().unwrap();
    assert!(
        shown.0.starts_with("<svg") && !shown.0.contains("篮球"),
        "Chinese left as text"
    );
    let ascii_labels = |svg: &Svg| {
        svg.0
            .split("<text")
            .skip(1)
            .filter(|t| t[..t.find("</text>").unwrap()].is_ascii())
            .count()
    };
    assert!(ascii_labels(&svg) > 0, "the figure has ASCII labels");
    assert_eq!(
        ascii_labels(&shown),
        ascii_labels(&svg),
        "ASCII labels stay text"
    );
    assert_eq!(
        shown.0.matches("<text").count(),
        ascii_labels(&svg),
        "no other text left"
    );
    let real = svg.rasterise_with(1.0, &[CJK_FONT]).unwrap();
    let boxed = svg.rasterise_with(1.0, &[CONTROL]).unwrap();
    let outlined = shown.rasterise_with(1.0, &[CONTROL]).unwrap();
    let (to_real, to_boxed) = (mean_diff(&outlined, &real), mean_diff(&outlined, &boxed));
    assert!(
        to_real < 0.2 && to_boxed > 5.0 * to_real,
        "outlined vs shipped-font rendering {to_real:.3}, vs boxes {to_boxed:.3}"
    );
}
