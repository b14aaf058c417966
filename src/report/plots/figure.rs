//! The figure canvas: a PNG with a title and subtitle, the embedded font, and the atomic
//! write that never leaves a cut-short image under the figure's name.
//!
//! Every figure is a bitmap drawn by plotters with an embedded DejaVu Sans subset
//! (`assets/fonts/`), so drawing needs no system fonts or fontconfig.
use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// DejaVu Sans cut down to the characters the figures use (see assets/fonts/README.md).
static FONT_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-subset.ttf");
/// The family name plotters looks fonts up by; the embedded font is registered under it.
const FONT: &str = "sans-serif";

pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
pub(super) type DrawResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A PNG with a title and subtitle above its panels.
pub(super) struct Figure {
    pub(super) title: String,
    pub(super) subtitle: String,
    pub(super) size: (u32, u32),
}

impl Figure {
    /// Draws the header, hands the area below it to `draw`, writes `out`.
    pub(super) fn render(&self, out: &Path, draw: impl FnOnce(&Area) -> DrawResult) -> Result<()> {
        register_font()?;
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // Drawn under a temp name (ending .png, which picks the encoder) and renamed,
        // so a full disk never leaves a cut-short PNG under the figure's name.
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = out.with_file_name(format!(".{name}.tmp{}.png", std::process::id()));
        let root = BitMapBackend::new(&tmp, self.size).into_drawing_area();
        let result = (|| -> DrawResult {
            root.fill(&WHITE)?;
            let header_height = if self.subtitle.is_empty() { 50 } else { 76 };
            let (header, body) = root.split_vertically(header_height);
            let centre = self.size.0 as i32 / 2;
            let centred = Pos::new(HPos::Center, VPos::Top);
            header.draw_text(&self.title, &font(26.0).pos(centred), (centre, 12))?;
            if !self.subtitle.is_empty() {
                header.draw_text(&self.subtitle, &font(17.0).color(&RGBColor(90, 90, 90)).pos(centred), (centre, 46))?;
            }
            draw(&body.margin(0, 10, 10, 10))?;
            root.present()?;
            Ok(())
        })();
        drop(root);
        let result = result
            .map_err(|e| anyhow!("cannot draw {}: {e}", out.display()))
            .and_then(|()| std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display())));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// The embedded font at `size` pixels.
pub(super) fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
}

/// Registers the embedded font with plotters once per process.
fn register_font() -> Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok()) {
        Ok(())
    } else {
        bail!("the embedded font assets/fonts/DejaVuSans-subset.ttf cannot be parsed")
    }
}
