//! Figures as SVG (plotters' SVG backend), with a PNG beside each (feature `png`, resvg and a
//! shipped CJK font): attention heatmaps, loss and metric curves, ROC curves, embedding scatter
//! plots, bar charts and histograms, all with Chinese and English labels.
//!
//! Every function returns an [`Svg`], which displays inline in an evcxr notebook (it implements
//! `evcxr_display`; with the `png` feature the same output bundle also carries `image/png`, so
//! git hosts that drop SVG outputs still show the figure) and can be saved to a file; the CLI and
//! the notebooks draw the same figures with these functions.
//!
//! ```
//! use din::plot::{lines, Series};
//! let loss = Series::new("train loss 训练损失", vec![(1.0, 0.62), (2.0, 0.48), (3.0, 0.44)]);
//! let svg = lines("损失 · Loss", "epoch 轮次", "loss 损失", &[loss])?;
//! assert!(svg.0.starts_with("<svg") && svg.0.contains("训练损失"));
//! // the SVG names a CJK font first, with generic fallbacks
//! assert!(svg.0.contains("Noto Sans CJK SC"));
//! # Ok::<(), din::Error>(())
//! ```
//!
//! Design rules, each tested: normalised attention weights are coloured on a fixed [0, 1] scale
//! (untrained weights near 1/n look uniform, as they are) and raw scores on a diverging scale
//! centred at 0, both with a colour bar and the value in each cell; bar charts state where their
//! value axis starts (AUC: 0.5, chance); histograms are one colour with labelled axes; scatter
//! labels that would overlap are left out and the figure says how many; colours are
//! colour-blind safe (Okabe–Ito for groups, viridis for sequential, ColorBrewer RdBu for
//! diverging scales).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

/// An SVG document.
#[derive(Debug, Clone, PartialEq)]
pub struct Svg(pub String);

impl Svg {
    /// Write the SVG to a file (atomically).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_bytes_atomic(path.as_ref(), self.0.as_bytes())
    }

    /// Inline display in evcxr notebooks: `image/svg+xml`, and with the `png` feature also
    /// `image/png` in the same output bundle.
    pub fn evcxr_display(&self) {
        #[cfg(feature = "png")]
        match self.to_png() {
            Ok(png) => {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD.encode(png);
                println!("EVCXR_BEGIN_CONTENT image/png\n{b64}\nEVCXR_END_CONTENT");
            }
            Err(e) => eprintln!("(no PNG for this figure 无法生成 PNG: {e})"),
        }
        println!(
            "EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT",
            self.0
        );
    }
}

fn perr<E: std::fmt::Debug>(e: E) -> Error {
    Error::Plot(format!("{e:?}"))
}

/// The family the rasteriser's shipped font registers under.
pub const CJK_FAMILY: &str = "DIN Figures CJK";

/// The `font-family` every figure's text asks for: a CJK-capable family first (the shipped
/// font's, then the common system ones), then the generic fallback.
pub const FONT: &str = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, DIN Figures CJK, sans-serif";

#[cfg(feature = "png")]
pub use raster::{Raster, CJK_FONT, PNG_SCALE};

#[cfg(feature = "png")]
mod raster {
    use std::path::Path;
    use std::sync::{Arc, OnceLock};

    use resvg::{tiny_skia, usvg};

    use super::Svg;
    use crate::error::{Error, Result};

    /// "DIN Figures CJK": Noto Sans CJK SC Regular, renamed and subset to ASCII, Latin-1, punctuation, arrows, maths symbols,
    /// GB2312 level 1 and every character the repository's sources use (SIL Open Font License
    /// 1.1: `crates/din/assets/OFL.txt`; rebuilt by `scripts/make_font.py`).
    pub const CJK_FONT: &[u8] = include_bytes!("../assets/NotoSansCJKsc-DIN-subset.otf");

    /// Pixels per SVG unit in [`Svg::to_png`].
    pub const PNG_SCALE: f32 = 1.5;

    /// An RGBA image (premultiplied alpha, row-major).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Raster {
        pub width: u32,
        pub height: u32,
        pub rgba: Vec<u8>,
    }

    fn database(fonts: &[&[u8]]) -> usvg::fontdb::Database {
        let mut db = usvg::fontdb::Database::new();
        for f in fonts {
            db.load_font_data(f.to_vec());
        }
        // generic `sans-serif` (the last family every figure names) resolves to the first font
        let first = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|n| n.0.clone()));
        if let Some(family) = first {
            db.set_sans_serif_family(family);
        }
        db
    }

    fn shipped() -> Arc<usvg::fontdb::Database> {
        static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
        DB.get_or_init(|| Arc::new(database(&[CJK_FONT]))).clone()
    }

    fn render(svg: &str, scale: f32, db: Arc<usvg::fontdb::Database>) -> Result<tiny_skia::Pixmap> {
        if !(scale.is_finite() && scale > 0.0 && scale <= 8.0) {
            return Err(Error::Plot(format!(
                "raster scale must be in (0, 8], got {scale}"
            )));
        }
        let opt = usvg::Options {
            font_family: "sans-serif".to_string(),
            fontdb: db,
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(svg, &opt)
            .map_err(|e| Error::Plot(format!("SVG not readable by the rasteriser: {e}")))?;
        let size = tree.size().to_int_size().scale_by(scale).ok_or_else(|| {
            Error::Plot(format!("figure too large to rasterise at scale {scale}"))
        })?;
        let mut pm = tiny_skia::Pixmap::new(size.width(), size.height())
            .ok_or_else(|| Error::Plot("empty figure: nothing to rasterise".into()))?;
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut pm.as_mut(),
        );
        Ok(pm)
    }

    impl Svg {
        /// PNG bytes of the figure, rendered by resvg at [`PNG_SCALE`] with the shipped CJK
        /// font, so Chinese labels are glyphs whatever fonts the machine has.
        ///
        /// ```
        /// let svg = din::plot::bars("AUC", "模型 model", "AUC", &["DIN".into()], &[0.9],
        ///     din::plot::Baseline::Chance)?;
        /// let png = svg.to_png()?;
        /// assert_eq!(&png[1..4], b"PNG");
        /// # Ok::<(), din::Error>(())
        /// ```
        pub fn to_png(&self) -> Result<Vec<u8>> {
            render(&self.0, PNG_SCALE, shipped())?
                .encode_png()
                .map_err(|e| Error::Plot(format!("PNG encoding failed: {e}")))
        }

        /// Write the PNG of [`Svg::to_png`] to a file (atomically).
        pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
            crate::io::write_bytes_atomic(path.as_ref(), &self.to_png()?)
        }

        /// Rasterise with the given fonts only (none from the system): how the tests check
        /// that Chinese labels come out as glyphs, against a font without them.
        pub fn rasterise_with(&self, scale: f32, fonts: &[&[u8]]) -> Result<Raster> {
            let pm = render(&self.0, scale, Arc::new(database(fonts)))?;
            Ok(Raster {
                width: pm.width(),
                height: pm.height(),
                rgba: pm.data().to_vec(),
            })
        }
    }
}

/// Okabe–Ito's colour-blind-safe palette (yellow moved last: it is faint on white), for
/// series and groups; it cycles after 8.
pub fn color(i: usize) -> RGBColor {
    const P: [(u8, u8, u8); 8] = [
        (0, 114, 178),
        (230, 159, 0),
        (0, 158, 115),
        (204, 121, 167),
        (86, 180, 233),
        (213, 94, 0),
        (0, 0, 0),
        (240, 228, 66),
    ];
    let (r, g, b) = P[i % P.len()];
    RGBColor(r, g, b)
}

fn lerp(anchors: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (anchors.len() - 1) as f64;
    let i = (x.floor() as usize).min(anchors.len() - 2);
    let f = x - i as f64;
    let (a, b) = (anchors[i], anchors[i + 1]);
    let m = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// Viridis, reversed (light yellow at 0, dark purple at 1: darker = larger), perceptually
/// uniform and colour-blind safe.
pub fn sequential(t: f64) -> RGBColor {
    const V: [(u8, u8, u8); 8] = [
        (253, 231, 37),
        (160, 218, 57),
        (74, 193, 109),
        (31, 161, 135),
        (39, 127, 142),
        (54, 92, 141),
        (70, 50, 126),
        (68, 1, 84),
    ];
    lerp(&V, t)
}

/// ColorBrewer RdBu (reversed: blue below the centre, white at 0.5, red above), colour-blind
/// safe.
pub fn diverging(t: f64) -> RGBColor {
    const D: [(u8, u8, u8); 7] = [
        (33, 102, 172),
        (103, 169, 207),
        (209, 229, 240),
        (247, 247, 247),
        (253, 219, 199),
        (239, 138, 98),
        (178, 24, 43),
    ];
    lerp(&D, t)
}

fn luminance(c: RGBColor) -> f64 {
    (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0
}

/// Width in pixels that `text` takes at `size` (CJK full width, Latin about half).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| {
            if (c as u32) >= 0x2E80 {
                size
            } else {
                size * 0.56
            }
        })
        .sum()
}

fn render(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<Svg> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        draw(&root)?;
        root.present().map_err(perr)?;
    }
    Ok(Svg(buf))
}

fn note(root: &DrawingArea<SVGBackend, Shift>, text: &str, (x, y): (i32, i32)) -> Result<()> {
    let grey = BLACK.mix(0.65);
    let style = TextStyle::from((FONT, 12).into_font())
        .color(&grey)
        .pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(text.to_string(), (x, y), style))
        .map_err(perr)
}
/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
        }
    }
}

fn bounds(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return ((0.0, 1.0), (0.0, 1.0));
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let xr = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 0.5, x1 + 0.5)
    };
    (xr, (y0 - pad, y1 + pad))
}

/// The right-hand corner of the plot area that the series cross least (for the legend).
fn legend_corner(
    series: &[Series],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    let (xm, ym) = (x0 + 0.6 * (x1 - x0), (y0 + y1) / 2.0);
    let (mut upper, mut lower) = (0usize, 0usize);
    for &(x, y) in series.iter().flat_map(|s| s.points.iter()) {
        if x >= xm {
            if y >= ym {
                upper += 1;
            } else {
                lower += 1;
            }
        }
    }
    if upper <= lower {
        SeriesLabelPosition::UpperRight
    } else {
        SeriesLabelPosition::LowerRight
    }
}

/// Line chart of several series (loss curves, metrics per epoch), with a legend in the corner
/// the lines cross least.
///
/// ```
/// use din::plot::{lines, Series};
/// let val = Series::new("DIN", vec![(1.0, 0.88), (2.0, 0.91)]);
/// let svg = lines("验证集 AUC", "轮次 epoch", "AUC", &[val])?;
/// assert!(svg.0.contains("轮次 epoch") && svg.0.contains("<polyline"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn lines(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> Result<Svg> {
    let ((x0, x1), (y0, y1)) = bounds(series);
    render(720, 420, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(perr)?;
        let integer_x = series
            .iter()
            .flat_map(|s| s.points.iter())
            .all(|p| p.0.fract() == 0.0);
        let x_fmt = |x: &f64| {
            if integer_x {
                format!("{x:.0}")
            } else {
                format!("{x}")
            }
        };
        let n_x = if integer_x {
            ((x1 - x0) as usize + 1).clamp(2, 10)
        } else {
            10
        };
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(n_x)
            .x_label_formatter(&x_fmt)
            .label_style((FONT, 13))
            .draw()
            .map_err(perr)?;
        for (i, s) in series.iter().enumerate() {
            let c = color(i);
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            let small = pts.len() <= 30;
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(perr)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            if small {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(perr)?;
            }
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .border_style(BLACK.mix(0.4))
            .background_style(WHITE.mix(0.9))
            .position(legend_corner(series, (x0, x1), (y0, y1)))
            .draw()
            .map_err(perr)?;
        Ok(())
    })
}

/// ROC curves with the chance diagonal; names should carry the AUC.
///
/// ```
/// use din::plot::{roc, Series};
/// let curve = Series::new("DIN AUC 0.92", vec![(0.0, 0.0), (0.1, 0.7), (1.0, 1.0)]);
/// let svg = roc("测试集 ROC", &[curve])?;
/// assert!(svg.0.contains("AUC 0.92") && svg.0.contains("假阳性率"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn roc(title: &str, curves: &[Series]) -> Result<Svg> {
    render(520, 500, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .x_desc("false positive rate 假阳性率")
            .y_desc("true positive rate 真阳性率")
            .label_style((FONT, 13))
            .draw()
            .map_err(perr)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                BLACK.mix(0.3).stroke_width(1),
            ))
            .map_err(perr)?;
        for (i, s) in curves.iter().enumerate() {
            let c = color(i);
            chart
                .draw_series(LineSeries::new(s.points.clone(), c.stroke_width(2)))
                .map_err(perr)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .border_style(BLACK.mix(0.4))
            .background_style(WHITE.mix(0.9))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(perr)?;
        Ok(())
    })
}

/// Scatter plot of labelled groups (e.g. item embeddings projected to 2-D, coloured by interest).
/// `labels`, when given, writes a label next to each point where it fits: a label that would
/// overlap another label or point is left out, and the figure says how many are shown. Groups
/// differ by colour and, beyond eight, by marker shape too.
///
/// ```
/// // five points on one spot: at most four labels fit around it (right, left, above, below)
/// let pts = [(0.0, 0.0), (2.0, 2.0), (1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (1.0, 1.0)];
/// let labels: Vec<String> = (0..7).map(|i| format!("item {i}")).collect();
/// let svg = din::plot::scatter("向量 embeddings", "PC1", "PC2", &pts, &[0, 0, 1, 1, 1, 1, 1],
///     &["篮球".into(), "美妆".into()], Some(&labels))?;
/// assert!(svg.0.contains(" / 7") && !svg.0.contains("7 / 7"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn scatter(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64)],
    groups: &[usize],
    group_names: &[String],
    labels: Option<&[String]>,
) -> Result<Svg> {
    let series = [Series::new("", points.to_vec())];
    let ((x0, x1), (y0, y1)) = bounds(&series);
    let xpad = (x1 - x0) * 0.06;
    let (w, h) = (760u32, 600u32);
    render(w, h, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .margin_bottom(58)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d((x0 - xpad)..(x1 + xpad), y0..y1)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .label_style((FONT, 12))
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(perr)?;
        for g in 0..group_names.len() {
            let pts: Vec<(f64, f64)> = points
                .iter()
                .zip(groups)
                .filter(|(_, &gg)| gg == g)
                .map(|(p, _)| *p)
                .collect();
            if pts.is_empty() {
                continue;
            }
            for p in &pts {
                marker(root, chart.backend_coord(p), g)?;
            }
        }
        scatter_legend(root, group_names, w, h)?;
        if let Some(labels) = labels {
            let px: Vec<(f64, f64)> = points
                .iter()
                .map(|p| {
                    let (x, y) = chart.backend_coord(p);
                    (x as f64, y as f64)
                })
                .collect();
            let area = chart.plotting_area().get_pixel_range();
            scatter_labels(root, &px, labels, area, h)?;
        }
        Ok(())
    })
}

/// The scatter plot's legend: a row under the plot, so it never covers points or labels.
fn scatter_legend(
    root: &DrawingArea<SVGBackend, Shift>,
    group_names: &[String],
    w: u32,
    h: u32,
) -> Result<()> {
    let mut lx = 12.0;
    let ly = h as i32 - 46;
    let item = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (g, name) in group_names.iter().enumerate() {
        if lx > w as f64 - 60.0 {
            break;
        }
        marker(root, (lx as i32 + 5, ly), g)?;
        root.draw(&Text::new(name.clone(), (lx as i32 + 14, ly), item.clone()))
            .map_err(perr)?;
        lx += 14.0 + text_width(name, 12.0) + 16.0;
    }
    Ok(())
}

/// The point labels that fit without overlapping (at pixel positions `px`), and a note of how
/// many were shown.
fn scatter_labels(
    root: &DrawingArea<SVGBackend, Shift>,
    px: &[(f64, f64)],
    labels: &[String],
    area: (std::ops::Range<i32>, std::ops::Range<i32>),
    h: u32,
) -> Result<()> {
    let placed = place_labels(px, labels, 11.0, area);
    let grey = BLACK.mix(0.8);
    let style = TextStyle::from((FONT, 11).into_font())
        .color(&grey)
        .pos(Pos::new(HPos::Left, VPos::Top));
    for (l, at) in labels.iter().zip(&placed) {
        if let Some((x, y)) = at {
            root.draw(&Text::new(l.clone(), (*x as i32, *y as i32), style.clone()))
                .map_err(perr)?;
        }
    }
    let shown = placed.iter().filter(|p| p.is_some()).count();
    note(
        root,
        &format!(
            "标签 labels: {shown} / {} (重叠的省略 overlapping ones left out)",
            labels.len().min(px.len())
        ),
        (12, h as i32 - 22),
    )
}

/// Group `g`'s marker at a pixel: Okabe–Ito colour `g % 8`, shape `g / 8` (circle, triangle,
/// square, cross), so more than eight groups stay apart without relying on colour alone.
fn marker(root: &DrawingArea<SVGBackend, Shift>, (x, y): (i32, i32), g: usize) -> Result<()> {
    let c = color(g);
    match (g / 8) % 4 {
        0 => root.draw(&Circle::new((x, y), 5, c.filled())),
        1 => root.draw(&TriangleMarker::new((x, y), 7, c.filled())),
        2 => root.draw(&Rectangle::new(
            [(x - 5, y - 5), (x + 5, y + 5)],
            c.filled(),
        )),
        _ => root.draw(&Cross::new((x, y), 5, c.stroke_width(2))),
    }
    .map_err(perr)
}

type Rect = (f64, f64, f64, f64);

fn overlaps(a: Rect, b: Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Greedy label placement in pixels: right, left, above or below each point, the first spot
/// that stays inside `area` and clear of every placed label and every point; `None` if none.
fn place_labels(
    px: &[(f64, f64)],
    labels: &[String],
    size: f64,
    area: (std::ops::Range<i32>, std::ops::Range<i32>),
) -> Vec<Option<(f64, f64)>> {
    let r = 6.0;
    let dots: Vec<Rect> = px
        .iter()
        .map(|&(x, y)| (x - r, y - r, x + r, y + r))
        .collect();
    let (ax, ay) = (
        area.0.start as f64..area.0.end as f64,
        area.1.start as f64..area.1.end as f64,
    );
    let mut taken: Vec<Rect> = Vec::new();
    let mut out = Vec::with_capacity(labels.len());
    for (i, l) in labels.iter().enumerate().take(px.len()) {
        let (x, y) = px[i];
        let (w, h) = (text_width(l, size), size * 1.25);
        let spots = [
            (x + 7.0, y - h / 2.0),
            (x - 7.0 - w, y - h / 2.0),
            (x - w / 2.0, y - 7.0 - h),
            (x - w / 2.0, y + 7.0),
        ];
        let found = spots.into_iter().find(|&(sx, sy)| {
            let b = (sx, sy, sx + w, sy + h);
            ax.contains(&b.0)
                && ax.contains(&b.2)
                && ay.contains(&b.1)
                && ay.contains(&b.3)
                && !taken.iter().any(|&t| overlaps(t, b))
                && !dots.iter().any(|&d| overlaps(d, b))
        });
        if let Some((sx, sy)) = found {
            taken.push((sx, sy, sx + w, sy + h));
        }
        out.push(found);
    }
    out
}

/// Where the value axis of a bar chart starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Baseline {
    /// At 0 (counts, amounts).
    Zero,
    /// At 0.5, the AUC of guessing; the figure says so.
    Chance,
    /// At the given value; the figure says so.
    At(f64),
}

impl Baseline {
    fn value(self) -> f64 {
        match self {
            Baseline::Zero => 0.0,
            Baseline::Chance => 0.5,
            Baseline::At(v) => v,
        }
    }
}

/// Bar chart (e.g. AUC of several models). Bars start at `baseline`; unless it is zero the
/// figure states where the axis starts.
///
/// ```
/// use din::plot::{bars, Baseline};
/// let svg = bars("测试集 AUC", "模型 model", "test AUC", &["DIN".into(), "base".into()],
///     &[0.91, 0.88], Baseline::Chance)?;
/// assert!(svg.0.contains("0.9100") && svg.0.contains("0.5"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn bars(
    title: &str,
    x_label: &str,
    y_label: &str,
    labels: &[String],
    values: &[f64],
    baseline: Baseline,
) -> Result<Svg> {
    let base = baseline.value();
    if !base.is_finite() {
        return Err(Error::Plot(format!(
            "bar baseline must be finite, got {base}"
        )));
    }
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(base, f64::min);
    let hi = finite.iter().copied().fold(base, f64::max);
    let span = (hi - lo).max(1e-3);
    let (y0, y1) = (
        if lo < base { lo - 0.1 * span } else { base },
        hi + 0.14 * span,
    );
    let n = labels.len().max(1);
    let h = 420u32;
    render((140 + 120 * n as u32).max(600), h, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .margin_bottom(if base != 0.0 { 28 } else { 12 })
            .x_label_area_size(58)
            .y_label_area_size(62)
            .build_cartesian_2d(0f64..n as f64, y0..y1)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FONT, 13))
            .draw()
            .map_err(perr)?;
        let c = color(0);
        for (i, (&v, l)) in values.iter().zip(labels).enumerate() {
            let x = i as f64;
            if v.is_finite() {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x + 0.18, base), (x + 0.82, v)],
                        c.filled(),
                    )))
                    .map_err(perr)?;
                let top = TextStyle::from((FONT, 13).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Bottom));
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v:.4}"),
                        (x + 0.5, v.max(base)),
                        top,
                    )))
                    .map_err(perr)?;
            }
            let under =
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            let (bx, by) = chart.backend_coord(&(x + 0.5, y0));
            root.draw(&Text::new(l.clone(), (bx, by + 6), under))
                .map_err(perr)?;
        }
        baseline_note(root, baseline, h)
    })
}

/// The note under a bar chart whose value axis does not start at 0.
fn baseline_note(root: &DrawingArea<SVGBackend, Shift>, baseline: Baseline, h: u32) -> Result<()> {
    let base = baseline.value();
    match baseline {
        Baseline::Zero => Ok(()),
        Baseline::Chance => note(
            root,
            &format!("纵轴从 {base} 开始：{base} = 随机猜测 · value axis starts at {base} = chance (guessing)"),
            (12, h as i32 - 22),
        ),
        Baseline::At(_) => note(
            root,
            &format!("纵轴从 {base} 开始 · value axis starts at {base}"),
            (12, h as i32 - 22),
        ),
    }
}

/// Histogram of counts over integer values (one bar per value, one colour, from zero):
/// `bins` holds (value, count).
///
/// ```
/// let svg = din::plot::histogram("历史长度 history length", "length 长度 (items)", "rows 行数",
///     &[(1.0, 5.0), (2.0, 9.0), (3.0, 2.0)])?;
/// assert!(svg.0.contains("length 长度"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn histogram(title: &str, x_label: &str, y_label: &str, bins: &[(f64, f64)]) -> Result<Svg> {
    let fin: Vec<(f64, f64)> = bins
        .iter()
        .copied()
        .filter(|b| b.0.is_finite() && b.1.is_finite())
        .collect();
    let (x0, x1) = fin
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (x0, x1) = if x0 > x1 { (0.0, 1.0) } else { (x0, x1) };
    let ymax = fin.iter().map(|b| b.1).fold(0.0, f64::max).max(1.0) * 1.08;
    let integer_counts = fin.iter().all(|b| b.1.fract() == 0.0);
    render(720, 420, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d((x0 - 0.6)..(x1 + 0.6), 0f64..ymax)
            .map_err(perr)?;
        let n_x = ((x1 - x0) as usize + 1).clamp(2, 12);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(n_x)
            .x_label_formatter(&|x: &f64| format!("{x:.0}"))
            .y_label_formatter(&|y: &f64| {
                if integer_counts {
                    format!("{y:.0}")
                } else {
                    format!("{y}")
                }
            })
            .label_style((FONT, 13))
            .draw()
            .map_err(perr)?;
        let c = color(0);
        chart
            .draw_series(
                fin.iter()
                    .map(|&(x, n)| Rectangle::new([(x - 0.42, 0.0), (x + 0.42, n)], c.filled())),
            )
            .map_err(perr)?;
        Ok(())
    })
}

/// DIN's architecture as a diagram, from the ids at the top to the CTR at the bottom: the user,
/// the two histories and the candidate (item and category) → the shared embedding tables → one
/// activation unit per history (`[t, h, t−h, t⊙h]` → MLP `attention_dims` → one weight per
/// position) → the weighted sums → the head input `[V_item, V_cate, t_item, t_cate, user]` → the
/// MLP `mlp_dims` → sigmoid. `d` = `embed_dim`; labels in Chinese and English.
///
/// ```
/// let svg = din::plot::architecture(64, &[256, 128], &[256, 128])?;
/// assert!(svg.0.contains("激活单元") && svg.0.contains("[256, 128]"));
/// assert!(svg.0.contains("5d = 320"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn architecture(embed_dim: usize, attention_dims: &[usize], mlp_dims: &[usize]) -> Result<Svg> {
    const W: i32 = 1000;
    const H: i32 = 680;
    let d = embed_dim;
    render(W as u32, H as u32, |root| {
        let ink = BLACK.mix(0.85);
        let title = TextStyle::from((FONT, 20).into_font())
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            "DIN 的结构 · The architecture of DIN".to_string(),
            (W / 2, 10),
            title,
        ))
        .map_err(perr)?;
        architecture_inputs(root)?;
        architecture_attention(root, attention_dims)?;
        architecture_head(root, d, mlp_dims)?;
        note(
            root,
            &format!(
                "d = {d}；历史和候选共用一张商品表、一张类目表（shared_with）· histories and \
                 candidates share one item table and one category table"
            ),
            (20, 640),
        )?;
        note(
            root,
            "教程代码（torch-rechub）把候选和用户再拼一次：8d · the tutorial's torch-rechub code \
             concatenates the target and the user once more: 8d",
            (20, 658),
        )
    })
}

/// A box of the architecture figure: tinted fill, outline, centred lines (the first larger).
fn diagram_box(
    root: &DrawingArea<SVGBackend, Shift>,
    (x, y, w, h): (i32, i32, i32, i32),
    fill: RGBColor,
    lines: &[String],
) -> Result<()> {
    let ink = BLACK.mix(0.85);
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        fill.mix(0.22).filled(),
    ))
    .map_err(perr)?;
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        fill.stroke_width(2),
    ))
    .map_err(perr)?;
    let n = lines.len() as i32;
    for (k, line) in lines.iter().enumerate() {
        let size = if k == 0 { 15 } else { 13 };
        let style = TextStyle::from((FONT, size).into_font())
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let ty = y + h / 2 + (2 * k as i32 - (n - 1)) * 9;
        root.draw(&Text::new(line.clone(), (x + w / 2, ty), style))
            .map_err(perr)?;
    }
    Ok(())
}

/// An arrow of the architecture figure from `(x0, y0)` to `(x1, y1)`, its head at the end.
fn diagram_arrow(
    root: &DrawingArea<SVGBackend, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> Result<()> {
    let grey = BLACK.mix(0.55);
    root.draw(&PathElement::new(
        vec![(x0, y0), (x1, y1)],
        grey.stroke_width(2),
    ))
    .map_err(perr)?;
    // arrowhead pointing along the line
    let (dx, dy) = ((x1 - x0) as f64, (y1 - y0) as f64);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let p = |a: f64, b: f64| ((x1 as f64 + a) as i32, (y1 as f64 + b) as i32);
    let head = vec![
        (x1, y1),
        p(-9.0 * ux - 5.0 * uy, -9.0 * uy + 5.0 * ux),
        p(-9.0 * ux + 5.0 * uy, -9.0 * uy - 5.0 * ux),
    ];
    root.draw(&Polygon::new(head, grey.filled())).map_err(perr)
}

/// The figure's first two rows: the five inputs (ids) and their embeddings.
fn architecture_inputs(root: &DrawingArea<SVGBackend, Shift>) -> Result<()> {
    let s = |t: &str| t.to_string();
    let cols = [
        (20, "用户 user"),
        (210, "历史商品 item history"),
        (400, "候选商品 target item"),
        (600, "历史类目 category history"),
        (800, "候选类目 target category"),
    ];
    let emb = [
        s("e_user [d]"),
        s("h_1 … h_L [L, d]"),
        s("t_item [d]"),
        s("c_1 … c_L [L, d]"),
        s("t_cate [d]"),
    ];
    for (k, &(x, name)) in cols.iter().enumerate() {
        let id_line = if k == 1 || k == 3 {
            s("ids [L]")
        } else {
            s("id")
        };
        diagram_box(root, (x, 46, 180, 46), color(0), &[s(name), id_line])?;
        diagram_arrow(root, (x + 90, 92), (x + 90, 120))?;
        diagram_box(
            root,
            (x, 122, 180, 46),
            color(1),
            &[s("嵌入 embedding"), emb[k].clone()],
        )?;
    }
    Ok(())
}

/// The two activation units (one per history) and their weighted sums.
fn architecture_attention(
    root: &DrawingArea<SVGBackend, Shift>,
    attention_dims: &[usize],
) -> Result<()> {
    let s = |t: &str| t.to_string();
    let unit = |x: i32, what: &str| -> Result<()> {
        diagram_box(
            root,
            (x, 214, 370, 74),
            color(2),
            &[
                format!("激活单元 activation unit ({what})"),
                s("每个位置 each position: [t, h, t−h, t⊙h] (4d)"),
                format!("→ MLP {attention_dims:?} (Dice) → 权重 weight w_i"),
            ],
        )
    };
    unit(200, "商品 item")?;
    unit(590, "类目 category")?;
    diagram_arrow(root, (300, 168), (330, 212))?; // item history → item unit
    diagram_arrow(root, (490, 168), (450, 212))?; // target item → item unit
    diagram_arrow(root, (690, 168), (720, 212))?; // category history → category unit
    diagram_arrow(root, (890, 168), (860, 212))?; // target category → category unit
    let sum = |x: i32, formula: &str| {
        diagram_box(
            root,
            (x, 322, 370, 46),
            color(3),
            &[s("加权求和 weighted sum"), s(formula)],
        )
    };
    sum(200, "V_item = Σ w_i · h_i  [d]")?;
    sum(590, "V_cate = Σ w_i · c_i  [d]")?;
    diagram_arrow(root, (385, 288), (385, 320))?;
    diagram_arrow(root, (775, 288), (775, 320))
}

/// The head input (concatenation), the head MLP and the CTR.
fn architecture_head(
    root: &DrawingArea<SVGBackend, Shift>,
    d: usize,
    mlp_dims: &[usize],
) -> Result<()> {
    let s = |t: &str| t.to_string();
    diagram_box(
        root,
        (200, 404, 760, 62),
        color(4),
        &[
            s("拼接 concat [V_item, V_cate, t_item, t_cate, e_user]"),
            s("t_item、t_cate、e_user 直接取自嵌入 · straight from the embeddings"),
            format!("5d = {}", 5 * d),
        ],
    )?;
    diagram_arrow(root, (385, 368), (450, 402))?;
    diagram_arrow(root, (775, 368), (700, 402))?;
    diagram_arrow(root, (110, 168), (198, 420))?; // user → concat
    diagram_box(
        root,
        (380, 502, 400, 46),
        color(5),
        &[s("全连接 MLP (Dice)"), format!("{mlp_dims:?} → 1 logit")],
    )?;
    diagram_arrow(root, (580, 466), (580, 500))?;
    diagram_box(
        root,
        (430, 584, 300, 46),
        color(6),
        &[s("sigmoid → CTR"), s("点击率 p(click)")],
    )?;
    diagram_arrow(root, (580, 548), (580, 582))
}

/// The colour scale of a [`heatmap`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeatScale {
    /// Normalised weights on a fixed [0, 1] sequential scale (values outside are clipped).
    Weights,
    /// Signed values (raw scores) on a diverging scale centred at 0, symmetric to ±max|v|.
    Signed,
}

impl HeatScale {
    /// [`HeatScale::Weights`] when every finite value is within [0, 1], else [`HeatScale::Signed`].
    pub fn for_values(values: &[Vec<f32>]) -> HeatScale {
        let unit = values
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .all(|&v| (0.0..=1.0).contains(&v));
        if unit {
            HeatScale::Weights
        } else {
            HeatScale::Signed
        }
    }
}

/// Attention heatmap: one row per candidate, one column per history item, the value written in
/// each cell, a colour bar on the right. With [`HeatScale::Weights`] the colours run over a
/// fixed [0, 1], so weights that are all near 1/n look uniform (as they are); with
/// [`HeatScale::Signed`] blue is below 0 and red above.
///
/// ```
/// use din::plot::{heatmap, HeatScale};
/// let w = vec![vec![0.24_f32, 0.26, 0.25, 0.25]];
/// let svg = heatmap("未训练 untrained", &["篮球".into()], &["a".into(), "b".into(), "c".into(), "d".into()],
///     &w, HeatScale::Weights)?;
/// assert!(svg.0.contains("0.240") && svg.0.contains("0–1"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn heatmap(
    title: &str,
    row_labels: &[String],
    col_labels: &[String],
    values: &[Vec<f32>],
    scale: HeatScale,
) -> Result<Svg> {
    let (nr, nc) = (row_labels.len(), col_labels.len());
    let cell_w = 92u32.max(
        col_labels
            .iter()
            .map(|l| text_width(l, 15.0) as u32 + 12)
            .max()
            .unwrap_or(0),
    );
    let left = 40
        + row_labels
            .iter()
            .map(|l| text_width(l, 15.0) as u32)
            .max()
            .unwrap_or(60)
            .max(60);
    let grid = HeatGrid {
        left,
        top: 92,
        cell_w,
        cell_h: 46,
        grid_w: cell_w * nc.max(1) as u32,
        bar_h: (46 * nr.max(1) as u32).max(120),
    };
    let w = (grid.left + grid.grid_w + 120).max(640);
    let h = grid.top + grid.bar_h + 60;
    let max_abs = values
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    render(w, h, |root| {
        let title_style =
            TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, 10),
            title_style,
        ))
        .map_err(perr)?;
        heat_cells(root, &grid, row_labels, col_labels, values, scale, max_abs)?;
        colour_bar(root, &grid, scale, max_abs)?;
        let legend = match scale {
            HeatScale::Weights => "行 rows: 候选商品 candidates · 列 columns: 历史行为 history · 颜色刻度固定 0–1 colour scale fixed at 0–1, darker = larger",
            HeatScale::Signed => "行 rows: 候选商品 candidates · 列 columns: 历史行为 history · 以 0 为中心 centred at 0: 蓝 blue < 0 < 红 red",
        };
        note(root, legend, (12, h as i32 - 26))
    })
}

/// Where a [`heatmap`]'s grid and colour bar go, in pixels.
struct HeatGrid {
    left: u32,
    top: u32,
    cell_w: u32,
    cell_h: u32,
    grid_w: u32,
    bar_h: u32,
}

impl HeatScale {
    /// The colour of a value (`max_abs` is the largest |value|, for the signed scale).
    fn paint(self, v: f32, max_abs: f32) -> RGBColor {
        match self {
            HeatScale::Weights => sequential(v as f64),
            HeatScale::Signed => diverging(0.5 + 0.5 * (v / max_abs) as f64),
        }
    }

    /// The colour at position `t` in [0, 1] of the scale's bar.
    fn bar(self, t: f64) -> RGBColor {
        match self {
            HeatScale::Weights => sequential(t),
            HeatScale::Signed => diverging(t),
        }
    }
}

/// The heatmap's labels and cells, each cell coloured and with its value written in it.
fn heat_cells(
    root: &DrawingArea<SVGBackend, Shift>,
    g: &HeatGrid,
    row_labels: &[String],
    col_labels: &[String],
    values: &[Vec<f32>],
    scale: HeatScale,
    max_abs: f32,
) -> Result<()> {
    let head = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let side = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    for (j, l) in col_labels.iter().enumerate() {
        let x = (g.left + g.cell_w * j as u32 + g.cell_w / 2) as i32;
        root.draw(&Text::new(l.clone(), (x, g.top as i32 - 8), head.clone()))
            .map_err(perr)?;
    }
    for (i, l) in row_labels.iter().enumerate() {
        let y = (g.top + g.cell_h * i as u32 + g.cell_h / 2) as i32;
        root.draw(&Text::new(l.clone(), (g.left as i32 - 10, y), side.clone()))
            .map_err(perr)?;
        for j in 0..col_labels.len() {
            let v = values
                .get(i)
                .and_then(|r| r.get(j))
                .copied()
                .unwrap_or(f32::NAN);
            let fill = if v.is_finite() {
                scale.paint(v, max_abs)
            } else {
                RGBColor(200, 200, 200)
            };
            let x = (g.left + g.cell_w * j as u32) as i32;
            let y0 = (g.top + g.cell_h * i as u32) as i32;
            let cell = [(x, y0), (x + g.cell_w as i32, y0 + g.cell_h as i32)];
            root.draw(&Rectangle::new(cell, fill.filled()))
                .map_err(perr)?;
            root.draw(&Rectangle::new(cell, WHITE.stroke_width(2)))
                .map_err(perr)?;
            let ink = if luminance(fill) < 0.5 { WHITE } else { BLACK };
            let vs = TextStyle::from((FONT, 14).into_font())
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let text = if v.is_finite() {
                format!("{v:.3}")
            } else {
                "–".into()
            };
            root.draw(&Text::new(
                text,
                (x + g.cell_w as i32 / 2, y0 + g.cell_h as i32 / 2),
                vs,
            ))
            .map_err(perr)?;
        }
    }
    Ok(())
}

/// The heatmap's colour bar to the right of the grid, with three ticks and its unit.
fn colour_bar(
    root: &DrawingArea<SVGBackend, Shift>,
    g: &HeatGrid,
    scale: HeatScale,
    max_abs: f32,
) -> Result<()> {
    let bx = (g.left + g.grid_w + 28) as i32;
    let (by0, by1) = (g.top as i32, (g.top + g.bar_h) as i32);
    let steps = 48;
    for k in 0..steps {
        let t = 1.0 - (k as f64 + 0.5) / steps as f64;
        let ya = by0 + (by1 - by0) * k / steps;
        let yb = by0 + (by1 - by0) * (k + 1) / steps;
        root.draw(&Rectangle::new(
            [(bx, ya), (bx + 16, yb)],
            scale.bar(t).filled(),
        ))
        .map_err(perr)?;
    }
    root.draw(&Rectangle::new([(bx, by0), (bx + 16, by1)], BLACK.mix(0.5)))
        .map_err(perr)?;
    let tick = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let ticks: [(f64, String); 3] = match scale {
        HeatScale::Weights => [(1.0, "1".into()), (0.5, "0.5".into()), (0.0, "0".into())],
        HeatScale::Signed => [
            (1.0, format!("+{max_abs:.2}")),
            (0.5, "0".into()),
            (0.0, format!("−{max_abs:.2}")),
        ],
    };
    for (t, s) in ticks {
        let y = by1 - ((by1 - by0) as f64 * t) as i32;
        root.draw(&PathElement::new(vec![(bx + 16, y), (bx + 21, y)], BLACK))
            .map_err(perr)?;
        root.draw(&Text::new(s, (bx + 24, y), tick.clone()))
            .map_err(perr)?;
    }
    let unit = match scale {
        HeatScale::Weights => "权重 weight",
        HeatScale::Signed => "分数 score",
    };
    let cap = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    root.draw(&Text::new(unit.to_string(), (bx + 8, by0 - 6), cap))
        .map_err(perr)
}

#[cfg(test)]
mod tests {
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
}
