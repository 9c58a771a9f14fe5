//! Figures as SVG (plotters' SVG backend): attention heatmaps with CJK labels, loss and metric
//! curves, ROC curves, embedding scatter plots and bar charts.
//!
//! Every function returns an [`Svg`], which displays inline in an evcxr notebook (it implements
//! `evcxr_display`) and can be saved to a file; the CLI writes the same figures. SVG text is
//! rendered by the viewer, so Chinese labels need no font files here.
//!
//! ```
//! use din::plot::{lines, Series};
//! let loss = Series::new("train loss 训练损失", vec![(1.0, 0.62), (2.0, 0.48), (3.0, 0.44)]);
//! let svg = lines("损失 · Loss", "epoch", "loss", &[loss])?;
//! assert!(svg.0.starts_with("<svg") && svg.0.contains("训练损失"));
//! # Ok::<(), din::Error>(())
//! ```

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

/// An SVG document.
#[derive(Debug, Clone, PartialEq)]
pub struct Svg(pub String);

impl Svg {
    /// Write to a file (atomically).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_bytes_atomic(path.as_ref(), self.0.as_bytes())
    }

    /// Inline display in evcxr notebooks.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT",
            self.0
        );
    }
}

fn perr<E: std::fmt::Debug>(e: E) -> Error {
    Error::Plot(format!("{e:?}"))
}

const FONT: &str = "sans-serif";

/// A palette that stays readable for up to 12 series/groups.
pub fn color(i: usize) -> RGBColor {
    const P: [(u8, u8, u8); 12] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
        (57, 59, 121),
        (173, 73, 74),
    ];
    let (r, g, b) = P[i % P.len()];
    RGBColor(r, g, b)
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

/// Line chart of several series (loss curves, metrics per epoch).
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
/// `labels`, when given, writes a label next to each point.
pub fn scatter(
    title: &str,
    points: &[(f64, f64)],
    groups: &[usize],
    group_names: &[String],
    labels: Option<&[String]>,
) -> Result<Svg> {
    let series = [Series::new("", points.to_vec())];
    let ((x0, x1), (y0, y1)) = bounds(&series);
    let xpad = (x1 - x0) * 0.06;
    render(760, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d((x0 - xpad)..(x1 + xpad), y0..y1)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .label_style((FONT, 12))
            .x_desc("PC1")
            .y_desc("PC2")
            .draw()
            .map_err(perr)?;
        for (g, name) in group_names.iter().enumerate() {
            let c = color(g);
            let pts: Vec<(f64, f64)> = points
                .iter()
                .zip(groups)
                .filter(|(_, &gg)| gg == g)
                .map(|(p, _)| *p)
                .collect();
            if pts.is_empty() {
                continue;
            }
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(perr)?
                .label(name.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
        }
        if let Some(labels) = labels {
            let grey = BLACK.mix(0.75);
            let style = TextStyle::from((FONT, 11).into_font()).color(&grey);
            chart
                .draw_series(
                    points
                        .iter()
                        .zip(labels)
                        .map(|(&p, l)| Text::new(l.clone(), p, style.clone())),
                )
                .map_err(perr)?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .border_style(BLACK.mix(0.4))
            .background_style(WHITE.mix(0.85))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(perr)?;
        Ok(())
    })
}

/// Bar chart (e.g. AUC of several models); `y_range` defaults to [min − margin, max + margin].
pub fn bars(
    title: &str,
    y_label: &str,
    labels: &[String],
    values: &[f64],
    y_range: Option<(f64, f64)>,
) -> Result<Svg> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let (y0, y1) = y_range.unwrap_or(if finite.is_empty() {
        (0.0, 1.0)
    } else {
        (
            (lo - (hi - lo).max(0.01) * 0.6).max(0.0),
            hi + (hi - lo).max(0.01) * 0.4,
        )
    });
    let n = labels.len().max(1);
    render(120 + 110 * n as u32, 400, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, y0..y1)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_desc(y_label)
            .label_style((FONT, 13))
            .draw()
            .map_err(perr)?;
        for (i, (&v, l)) in values.iter().zip(labels).enumerate() {
            let c = color(i);
            let x = i as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.15, y0), (x + 0.85, v)],
                    c.filled(),
                )))
                .map_err(perr)?;
            let top =
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{v:.4}"),
                    (x + 0.5, v),
                    top,
                )))
                .map_err(perr)?;
            let under =
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            chart
                .draw_series(std::iter::once(Text::new(l.clone(), (x + 0.5, y0), under)))
                .map_err(perr)?;
        }
        Ok(())
    })
}

/// Attention heatmap: one row per candidate, one column per history item, cell = weight.
/// Colour scale runs from white (min) to dark red (max) over all cells; values are printed.
pub fn heatmap(
    title: &str,
    row_labels: &[String],
    col_labels: &[String],
    values: &[Vec<f32>],
) -> Result<Svg> {
    let (nr, nc) = (row_labels.len(), col_labels.len());
    let cell_w = 92u32;
    let cell_h = 46u32;
    let left = 120u32;
    let top = 92u32;
    let w = left + cell_w * nc.max(1) as u32 + 30;
    let h = top + cell_h * nr.max(1) as u32 + 50;
    let all: Vec<f32> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = all
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    render(w, h, |root| {
        let title_style =
            TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, 10),
            title_style,
        ))
        .map_err(perr)?;
        let head =
            TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        let side = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        for (j, l) in col_labels.iter().enumerate() {
            let x = (left + cell_w * j as u32 + cell_w / 2) as i32;
            root.draw(&Text::new(l.clone(), (x, top as i32 - 8), head.clone()))
                .map_err(perr)?;
        }
        for (i, l) in row_labels.iter().enumerate() {
            let y = (top + cell_h * i as u32 + cell_h / 2) as i32;
            root.draw(&Text::new(l.clone(), (left as i32 - 10, y), side.clone()))
                .map_err(perr)?;
            for j in 0..nc {
                let v = values
                    .get(i)
                    .and_then(|r| r.get(j))
                    .copied()
                    .unwrap_or(f32::NAN);
                let t = if v.is_finite() {
                    ((v - lo) / span) as f64
                } else {
                    0.0
                };
                let fill = RGBColor(255, (245.0 - 200.0 * t) as u8, (240.0 - 215.0 * t) as u8);
                let x = (left + cell_w * j as u32) as i32;
                let y0 = (top + cell_h * i as u32) as i32;
                root.draw(&Rectangle::new(
                    [(x, y0), (x + cell_w as i32, y0 + cell_h as i32)],
                    fill.filled(),
                ))
                .map_err(perr)?;
                root.draw(&Rectangle::new(
                    [(x, y0), (x + cell_w as i32, y0 + cell_h as i32)],
                    WHITE.stroke_width(2),
                ))
                .map_err(perr)?;
                let ink = if t > 0.6 { WHITE } else { BLACK };
                let vs = TextStyle::from((FONT, 14).into_font())
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                root.draw(&Text::new(
                    format!("{v:.3}"),
                    (x + cell_w as i32 / 2, y0 + cell_h as i32 / 2),
                    vs,
                ))
                .map_err(perr)?;
            }
        }
        let grey = BLACK.mix(0.6);
        let note = TextStyle::from((FONT, 12).into_font())
            .color(&grey)
            .pos(Pos::new(HPos::Left, VPos::Top));
        root.draw(&Text::new(
            "rows: candidates 候选商品 · columns: history 历史行为 · darker = larger weight 权重越大颜色越深".to_string(),
            (12, (top + cell_h * nr as u32 + 14) as i32),
            note,
        ))
        .map_err(perr)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_svg_with_their_labels() {
        let s = heatmap(
            "注意力",
            &["篮球".into(), "口红".into()],
            &["篮球鞋".into(), "连衣裙".into()],
            &[vec![0.9, 0.1], vec![0.2, 0.8]],
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
        let b = bars(
            "AUC",
            "AUC",
            &["DIN".into(), "base".into()],
            &[0.9, 0.8],
            None,
        )
        .unwrap();
        assert!(b.0.contains("0.9000"));
        let sc = scatter(
            "emb",
            &[(0.0, 1.0), (1.0, 0.0)],
            &[0, 1],
            &["篮球".into(), "美妆".into()],
            Some(&["a".into(), "b".into()]),
        )
        .unwrap();
        assert!(sc.0.contains("美妆"));
        let d = crate::io::test_dir("plot");
        s.save(d.join("h.svg")).unwrap();
        assert!(std::fs::read_to_string(d.join("h.svg"))
            .unwrap()
            .contains("口红"));
    }
}
