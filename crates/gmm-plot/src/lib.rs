//! # gmm-plot: pictures of Gaussian mixtures
//!
//! PNG and SVG figures drawn with `plotters`, with a bundled font (DejaVu Sans, see
//! `fonts/DejaVuSans-LICENSE.txt`) so nothing depends on the fonts of the machine.
//!
//! * [`figure`] — the small builder the pictures are made with: a [`Figure`] is a grid of
//!   [`Panel`]s (`Figure::new(w, h).panels(2, 2)`), a panel holds [`Layer`]s (scatters,
//!   curves, markers) with optional legend entries; [`Figure::render`] draws it in memory as
//!   the bytes of a PNG or SVG file ([`Format::from_path`] picks the format by extension).
//! * [`mixture`] — panels for mixtures: [`mixture_panel`] draws data (coloured by labels,
//!   predictions or posteriors), confidence ellipses, isodensity contours and means from a
//!   [`gmm_core::GaussianMixture`] (geometry from [`gmm_core::geometry`]);
//!   [`criterion_panel`] draws a model-selection criterion against `k`.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_plot::{Figure, Format, MixtureView, mixture_panel};
//!
//! let model = GaussianMixture::<f64>::new(
//!     CovarianceType::Diag,
//!     vec![0.5, 0.5],
//!     vec![0.0, 0.0, 5.0, 5.0],
//!     vec![1.0, 2.0, 1.5, 0.5],
//! )?;
//! let (x, _) = model.sample(500, 1)?;
//! let panel = mixture_panel(&model, Some(x.samples()), &MixtureView::new([0, 1]).contours(5))?;
//! let path = std::path::Path::new("mixture.png");
//! let png = Figure::new(600, 450).panel(panel).render(Format::from_path(path)?)?;
//! assert!(png.starts_with(b"\x89PNG"));
//! // Then write it, e.g. atomically with gmm_io::write_atomic(path, &png).
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! ## Files
//!
//! This crate draws; it does not write files. A figure becomes bytes ([`Figure::render`],
//! [`Figure::render_png`], [`Figure::render_svg`]) and the caller writes them — gmm's command
//! line and examples through `gmm_io::write_atomic`, the one place that decides how gmm writes
//! files (complete or not at all). So plotting depends on the model crate only, and the output
//! policy is not repeated here.
//!
//! ## Errors
//!
//! Every function returns [`gmm_core::Error`]: `InvalidConfig` for an unknown file extension,
//! a bad layout, level or dimension, or non-finite points; `Io` when drawing or PNG encoding
//! fails.

pub mod figure;
pub mod mixture;
mod output;

pub use figure::{Figure, Layer, Marker, Panel, Rgb, palette};
pub use mixture::{
    Colouring, MAX_CONTOUR_LEVELS, MixtureView, contour_colour, criterion_panel, mixture_panel,
};
pub use output::{Format, check_bundled_font};
