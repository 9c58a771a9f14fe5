//! Scatter plots of labelled groups, with labels placed where they fit.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::curves::{bounds, Series};
use super::{color, note, perr, render, text_width, Svg, FONT};
use crate::error::Result;

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

pub(super) type Rect = (f64, f64, f64, f64);

pub(super) fn overlaps(a: Rect, b: Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Greedy label placement in pixels: right, left, above or below each point, the first spot
/// that stays inside `area` and clear of every placed label and every point; `None` if none.
pub(super) fn place_labels(
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
