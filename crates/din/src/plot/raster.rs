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
