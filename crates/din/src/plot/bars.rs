//! Bar charts and histograms.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{color, note, perr, render, Svg, FONT};
use crate::error::{Error, Result};

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
