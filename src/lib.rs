//! # gmm: Gaussian mixture models, exact and fast
//!
//! The facade of the gmm workspace: it re-exports the model side ([`core`], `gmm-core`), the
//! learning side ([`em`], `gmm-em`), the speaker-recognition toolkit ([`speech`],
//! `gmm-speech`), the file formats ([`io`], `gmm-io`) and the pictures ([`plot`], `gmm-plot`).
//!
//! ```
//! use gmm::{CovarianceType, EmConfig, GaussianMixture};
//!
//! // A known mixture, data drawn from it, and a model fitted back by EM.
//! let truth = GaussianMixture::<f64>::new(
//!     CovarianceType::Diag,
//!     vec![0.4, 0.6],
//!     vec![-3.0, 0.0, 3.0, 1.0],
//!     vec![1.0, 0.5, 0.8, 1.2],
//! )?;
//! let (x, _labels) = truth.sample(5_000, 42)?;
//! let fit = EmConfig::new(2, CovarianceType::Diag).seed(1).fit(x.samples())?;
//! println!("{} iterations, mean log-likelihood {}", fit.report.n_iter, fit.report.final_log_likelihood);
//! let labels = fit.model.predict(x.samples())?;
//! assert_eq!(labels.len(), 5_000);
//! # Ok::<(), gmm::Error>(())
//! ```

pub use gmm_core as core;
pub use gmm_em as em;
pub use gmm_io as io;
pub use gmm_plot as plot;
pub use gmm_speech as speech;

pub use gmm_core::{
    CovarianceType, Error, ErrorKind, GaussianMixture, Matrix, Real, Result, Samples,
};
pub use gmm_em::{EmConfig, Fit, FitOptions, FitReport, Init};

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
