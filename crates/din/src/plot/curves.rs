//! Line charts: curves per epoch and ROC curves.

use plotters::prelude::*;

use super::{color, perr, render, Svg, FONT};
use crate::error::Result;

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label of the line.
    pub name: String,
    /// `(x, y)` points in drawing order ([`lines`] leaves out those with a non-finite `y`).
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series named `name` through `points`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
        }
    }
}

pub(super) fn bounds(series: &[Series]) -> ((f64, f64), (f64, f64)) {
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
