//! # gmm-plot: pictures of Gaussian mixtures
//!
//! PNG and SVG figures drawn with `plotters`, with a bundled font (DejaVu Sans, see
//! `fonts/DejaVuSans-LICENSE.txt`) so nothing depends on the fonts of the machine.
