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

mod architecture;
mod bars;
mod curves;
mod heatmap;
#[cfg(feature = "png")]
mod raster;
mod scatter;

pub use architecture::architecture;
pub use bars::{bars, histogram, Baseline};
pub use curves::{lines, roc, Series};
pub use heatmap::{heatmap, heatmap_with_axes, HeatAxes, HeatScale};
pub use scatter::scatter;

/// An SVG document.
#[derive(Debug, Clone, PartialEq)]
pub struct Svg(pub String);

impl Svg {
    /// Write the SVG to a file (atomically).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_bytes_atomic(path.as_ref(), self.0.as_bytes())
    }

    /// Inline display in evcxr notebooks: `image/svg+xml`, and with the `png` feature also
    /// `image/png` in the same output bundle. With the `png` feature the SVG is
    /// `Svg::for_display`'s, whose labels are glyph outlines: JupyterLab shows the SVG of a cell
    /// it ran (the PNG of an untrusted notebook), and a browser without a CJK font would draw the
    /// plain SVG's Chinese as boxes.
    pub fn evcxr_display(&self) {
        #[cfg(feature = "png")]
        let shown = {
            match self.to_png() {
                Ok(png) => {
                    use base64::Engine as _;
                    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
                    println!("EVCXR_BEGIN_CONTENT image/png\n{b64}\nEVCXR_END_CONTENT");
                }
                Err(e) => eprintln!("(no PNG for this figure 无法生成 PNG: {e})"),
            }
            self.for_display().unwrap_or_else(|e| {
                eprintln!("(labels left as text 标签保留为文字: {e})");
                self.clone()
            })
        };
        #[cfg(not(feature = "png"))]
        let shown = self;
        println!(
            "EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT",
            shown.0
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

#[cfg(test)]
mod tests;
