//! PNG rendering of the figures with the shipped CJK font (feature `png`).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::Svg;
use crate::error::{Error, Result};

/// "DIN Figures CJK": Noto Sans CJK SC Regular, renamed and subset to ASCII, Latin-1, punctuation, arrows, maths symbols,
/// GB2312 level 1 and every character the repository's sources use (SIL Open Font License
/// 1.1: `crates/din/assets/OFL.txt`; rebuilt by `scripts/make_font.py`).
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/NotoSansCJKsc-DIN-subset.otf");

/// Pixels per SVG unit in [`Svg::to_png`].
pub const PNG_SCALE: f32 = 1.5;

/// An RGBA image (premultiplied alpha, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixels, 4 bytes (R, G, B, A) each, `width × height` of them, row by row from the top.
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

/// The figure as resvg reads it, its text laid out with the fonts of `db`.
fn parse(svg: &str, db: Arc<usvg::fontdb::Database>) -> Result<usvg::Tree> {
    let opt = usvg::Options {
        font_family: "sans-serif".to_string(),
        fontdb: db,
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opt)
        .map_err(|e| Error::Plot(format!("SVG not readable by the rasteriser: {e}")))
}

/// One `<text>` element as paths: laid out alone in an SVG with the figure's own opening tag,
/// written back by usvg with the text converted, and the wrapper taken off again.
fn outlined(header: &str, element: &str) -> Result<String> {
    let tree = parse(&format!("{header}{element}</svg>"), shipped())?;
    let opt = usvg::WriteOptions {
        preserve_text: false,
        // a tenth of a pixel: the outlines look the same, in half the characters of the default
        coordinates_precision: 1,
        transforms_precision: 4,
        indent: usvg::Indent::None,
        attributes_indent: usvg::Indent::None,
        ..usvg::WriteOptions::default()
    };
    let doc = compact_paths(&tree.to_string(&opt));
    let body = doc
        .find('>')
        .map(|i| i + 1)
        .and_then(|i| doc.rfind("</svg>").map(|j| doc[i..j].to_string()));
    body.ok_or_else(|| Error::Plot(format!("usvg wrote an unexpected document: {doc:.80}")))
}

/// Every `d="…"` of usvg's output (absolute `M`, `L`, `C`, `Z` with coordinates in tenths)
/// written with relative coordinates and no spare separators: the same outlines in about half
/// the characters. A path with any other command is left as it is.
fn compact_paths(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(i) = rest.find(" d=\"") {
        let start = i + 4;
        let Some(len) = rest[start..].find('"') else {
            break;
        };
        out.push_str(&rest[..start]);
        let d = &rest[start..start + len];
        out.push_str(&compact_path(d).unwrap_or_else(|| d.to_string()));
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// One path's data relative and compact (see [`compact_paths`]); `None` when it has a command
/// other than `M`, `L`, `C`, `Z` or a coordinate that is not a multiple of a tenth.
fn compact_path(d: &str) -> Option<String> {
    // coordinates as integer tenths, so the differences are exact
    let tenths = |t: &str| -> Option<i64> {
        let v: f64 = t.parse().ok()?;
        let r = (v * 10.0).round();
        ((v * 10.0 - r).abs() < 1e-6).then_some(r as i64)
    };
    let write = |out: &mut String, v: i64| {
        let (sign, a) = if v < 0 { ("-", -v) } else { ("", v) };
        let (whole, tenth) = (a / 10, a % 10);
        let text = match (whole, tenth) {
            (0, 0) => "0".to_string(),
            (w, 0) => format!("{w}"),
            (0, t) => format!(".{t}"),
            (w, t) => format!("{w}.{t}"),
        };
        // a separator only where the number would run into the previous one
        if sign.is_empty() && out.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
            out.push(' ');
        }
        out.push_str(sign);
        out.push_str(&text);
    };
    let mut out = String::with_capacity(d.len() / 2);
    let (mut at, mut start) = ((0i64, 0i64), (0i64, 0i64));
    let mut tokens = d.split_ascii_whitespace();
    while let Some(cmd) = tokens.next() {
        let pairs = match cmd {
            "M" | "L" => 1,
            "C" => 3,
            "Z" => 0,
            _ => return None,
        };
        out.push_str(&cmd.to_ascii_lowercase());
        let origin = at;
        for _ in 0..pairs {
            let x = tenths(tokens.next()?)?;
            let y = tenths(tokens.next()?)?;
            write(&mut out, x - origin.0);
            write(&mut out, y - origin.1);
            at = (x, y);
        }
        match cmd {
            "M" => start = at,
            "Z" => at = start,
            _ => {}
        }
    }
    Some(out)
}

fn render(svg: &str, scale: f32, db: Arc<usvg::fontdb::Database>) -> Result<tiny_skia::Pixmap> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 8.0) {
        return Err(Error::Plot(format!(
            "raster scale must be in (0, 8], got {scale}"
        )));
    }
    let tree = parse(svg, db)?;
    let size =
        tree.size().to_int_size().scale_by(scale).ok_or_else(|| {
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
    /// The figure as a notebook shows it: the same SVG with every label that has a character
    /// outside ASCII (all the Chinese) drawn as the outlines of the shipped font's glyphs
    /// (resvg's text layout, written back by usvg), so that it needs no CJK font on the reader's
    /// machine: a browser without one draws this figure's Chinese correctly, where it draws the
    /// plain SVG's as boxes. ASCII labels (numbers, English) stay text, which any font draws, and
    /// keep the figure small. Outlined labels are no longer selectable; [`Svg::save`] keeps the
    /// plain SVG for files.
    ///
    /// ```
    /// let svg = din::plot::bars("注意力 AUC", "模型 model", "AUC", &["DIN".into()], &[0.9],
    ///     din::plot::Baseline::Chance)?;
    /// let shown = svg.for_display()?;
    /// assert!(svg.0.contains("注意力") && !shown.0.contains("注意力"));
    /// assert!(shown.0.contains("DIN\n</text>")); // ASCII stays text
    /// # Ok::<(), din::Error>(())
    /// ```
    pub fn for_display(&self) -> Result<Svg> {
        let bad = |what: &str| Error::Plot(format!("figure SVG without {what}"));
        // the opening `<svg …>` tag: each outlined label is laid out alone inside a copy of it
        let header = &self.0[..self.0.find('>').ok_or_else(|| bad("an <svg> tag"))? + 1];
        let mut out = String::with_capacity(self.0.len() * 2);
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find("<text") {
            let len = rest[start..]
                .find("</text>")
                .ok_or_else(|| bad("</text>"))?
                + 7;
            let element = &rest[start..start + len];
            out.push_str(&rest[..start]);
            if element.is_ascii() {
                out.push_str(element);
            } else {
                out.push_str(&outlined(header, element)?);
            }
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        Ok(Svg(out))
    }

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
