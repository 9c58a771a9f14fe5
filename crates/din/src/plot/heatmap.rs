//! Attention heatmaps with a colour bar.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{diverging, luminance, note, perr, render, sequential, text_width, Svg, FONT};
use crate::error::Result;

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

/// What a heatmap's rows and columns are, as its footer names them (both languages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatAxes<'a> {
    /// The rows, e.g. `"候选商品 candidates"`.
    pub rows: &'a str,
    /// The columns, e.g. `"历史行为 history"`.
    pub columns: &'a str,
}

impl HeatAxes<'static> {
    /// An attention heatmap's: candidates down, history items across ([`heatmap`]'s).
    pub const ATTENTION: HeatAxes<'static> = HeatAxes {
        rows: "候选商品 candidates",
        columns: "历史行为 history",
    };
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
    heatmap_with_axes(
        title,
        HeatAxes::ATTENTION,
        row_labels,
        col_labels,
        values,
        scale,
    )
}

/// A [`heatmap`] whose rows and columns are something else than candidates and history items,
/// named in the footer by `axes`.
///
/// ```
/// use din::plot::{heatmap_with_axes, HeatAxes, HeatScale};
/// let axes = HeatAxes { rows: "归一化 normalisation", columns: "历史行为 history" };
/// let svg = heatmap_with_axes("篮球", axes, &["sigmoid".into(), "softmax".into()],
///     &["a".into(), "b".into()], &[vec![0.6, 0.7], vec![0.45, 0.55]], HeatScale::Weights)?;
/// assert!(svg.0.contains("行 rows: 归一化 normalisation") && !svg.0.contains("候选商品"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn heatmap_with_axes(
    title: &str,
    axes: HeatAxes<'_>,
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
        let colours = match scale {
            HeatScale::Weights => "颜色刻度固定 0–1 colour scale fixed at 0–1, darker = larger",
            HeatScale::Signed => "以 0 为中心 centred at 0: 蓝 blue < 0 < 红 red",
        };
        let legend = format!(
            "行 rows: {} · 列 columns: {} · {colours}",
            axes.rows, axes.columns
        );
        note(root, &legend, (12, h as i32 - 26))
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
