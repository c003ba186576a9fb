//! # gmm-plot: pictures of Gaussian mixtures
//!
//! PNG and SVG figures drawn with `plotters`, with a bundled font (DejaVu Sans, see
//! `fonts/DejaVuSans-LICENSE.txt`) so nothing depends on the fonts of the machine.
//!
//! * [`figure`] — the small builder the pictures are made with: a [`Figure`] is a grid of
//!   [`Panel`]s (`Figure::new(w, h).panels(2, 2)`), a panel holds [`Layer`]s (scatters,
//!   curves, markers) with optional legend entries; [`Figure::save`] picks PNG or SVG from the
//!   file's extension and writes atomically.
//! * [`mixture`] — panels for mixtures: [`mixture_panel`] draws data (coloured by labels,
//!   predictions or posteriors), confidence ellipses, isodensity contours and means from a
//!   [`gmm_core::GaussianMixture`] (geometry from [`gmm_core::geometry`]);
//!   [`criterion_panel`] draws a model-selection criterion against `k`.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_plot::{Figure, MixtureView, mixture_panel};
//!
//! let model = GaussianMixture::<f64>::new(
//!     CovarianceType::Diag,
//!     vec![0.5, 0.5],
//!     vec![0.0, 0.0, 5.0, 5.0],
//!     vec![1.0, 2.0, 1.5, 0.5],
//! )?;
//! let (x, _) = model.sample(500, 1)?;
//! let panel = mixture_panel(&model, Some(x.samples()), &MixtureView::new([0, 1]).contours(5))?;
//! let dir = tempfile::tempdir().unwrap();
//! Figure::new(600, 450).panel(panel).save(dir.path().join("mixture.png"))?;
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! ## Errors
//!
//! Every function returns [`gmm_core::Error`]: `InvalidConfig` for an unknown file extension,
//! a bad layout, level or dimension, or non-finite points; `Io` when drawing or writing fails.
//! Nothing is written unless the whole figure rendered.

pub mod figure;
pub mod mixture;
mod output;

pub use figure::{Figure, Layer, Marker, Panel, Rgb, palette};
pub use mixture::{Colouring, MixtureView, contour_colour, criterion_panel, mixture_panel};
pub use output::{Format, bundled_font_is_valid};
