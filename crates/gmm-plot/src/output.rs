//! Output formats, PNG encoding and the bundled font.

use std::path::Path;
use std::sync::Once;

use gmm_core::{Error, ErrorKind, Result};
use plotters::style::FontStyle;

/// The font family name every text element uses; [`register_fonts`] maps it to the bundled
/// DejaVu Sans.
pub(crate) const FONT: &str = "sans-serif";

/// DejaVu Sans (see `fonts/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

static REGISTER: Once = Once::new();

/// Registers the bundled font as `sans-serif` (once per process): no system font is used.
pub(crate) fn register_fonts() {
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font (a test checks registration succeeds); if they
        // were not, text would fail to draw with a typed error rather than a panic.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS);
    });
}

/// Checks that the bundled font loads (for tests and diagnostics).
///
/// # Errors
/// [`ErrorKind::Parse`] if the bundled bytes are not a font plotters can read.
pub fn check_bundled_font() -> Result<()> {
    plotters::style::register_font("gmm-plot-check", FontStyle::Normal, DEJAVU_SANS).map_err(|_| {
        Error::new(
            ErrorKind::Parse,
            "the bundled DejaVu Sans is not a readable TrueType font: rebuild gmm-plot from a \
             clean checkout",
        )
    })
}

/// A figure file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG, 8-bit RGB.
    Png,
    /// SVG text.
    Svg,
}

impl Format {
    /// The format named by `path`'s extension, `.png` or `.svg` in any case.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for any other or no extension.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "cannot tell the picture format of {}: name the file .png or .svg",
                    path.display()
                ),
            )),
        }
    }
}

/// Encodes an 8-bit RGB buffer as PNG.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let fail = |e: png::EncodingError| {
        Error::new(ErrorKind::Io, format!("PNG encoding failed: {e}")).with_source(e)
    };
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(rgb).map_err(fail)?;
        writer.finish().map_err(fail)?;
    }
    Ok(bytes)
}
