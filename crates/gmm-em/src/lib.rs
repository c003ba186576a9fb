//! # gmm-em: expectation-maximisation for Gaussian mixtures
//!
//! Fits [`gmm_core::GaussianMixture`]s to data. Everything that learns goes through one seam:
//! a pass over the data produces [`SuffStats`] (counts and shifted first and second moments,
//! `f64`, mergeable), and an update rule turns them into a model. Batch EM is
//! [`pass`]'s fused E-step plus the maximum-likelihood update of [`mstep`].
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::EmConfig;
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 2.0, 7)?;
//! let (x, _) = truth.sample(3000, 1)?;
//! let fit = EmConfig::new(3, CovarianceType::Full).seed(3).fit(x.samples())?;
//! assert!(fit.report.converged);
//! assert!(fit.report.final_log_likelihood >= truth.score(x.samples())? - 0.05);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! * [`config`] — [`EmConfig`] and [`Init`];
//! * [`init`] — k-means, k-means++, random rows, random responsibilities, given responsibilities;
//! * [`stats`] — [`SuffStats`];
//! * [`mstep`] — the maximum-likelihood update, its guards and the empty-component policy;
//! * [`update`] — the update-rule seam ([`update::UpdateRule`]);
//! * [`fit`](mod@fit) — the driver and [`FitReport`];
//! * [`map`] — MAP-regularised EM under mclust's conjugate prior;
//! * [`vb`] — variational Bayes (Dirichlet distribution or process, Gaussian-Wishart);
//! * [`online`] — online (stepwise, mini-batch) EM with `partial_fit`;
//! * [`select`](mod@select) — choosing `k` and the covariance type by BIC, AIC or ICL;
//! * [`classify`] — discriminant analysis with one mixture per class ([`MixtureClassifier`]);
//! * [`ubm`] — universal background models by component splitting;
//! * [`adapt`] — MAP adaptation (relevance factor) of a UBM to a speaker.
//!
//! Log-likelihood ratios, Gaussian selection and Baum-Welch statistics live in `gmm-speech`.

pub mod adapt;
pub mod classify;
pub mod config;
pub mod fit;
pub mod init;
pub mod map;
pub mod mstep;
pub mod online;
mod online_fast;
pub mod pass;
mod reduce;
pub mod select;
pub mod stats;
pub mod ubm;
pub mod update;
pub mod vb;

pub use classify::{
    ClassModel, ClassifierConfig, ConfusionMatrix, CrossValidation, MixtureClassifier, Priors,
    cross_validate,
};
pub use config::{EmConfig, Init};
pub use fit::{Fit, FitOptions, FitReport, IterationInfo, RestartSummary, em_step, fit};
pub use mstep::{GuardCounts, Parameters, Regularisation};
pub use select::{Candidate, CandidateScore, Criterion, SelectConfig, Selection, select};
pub use stats::{MomentLayout, SuffStats};

/// The fused E-step over all of `x`: responsibilities under `model`, statistics shifted by its
/// means, and `Σ w_n log p(x_n)` in `log_likelihood` (`sample_weights`: `None` for all 1).
/// Inputs are not checked (callers validate `x` against `model`).
///
/// The door through which `gmm-speech` collects UBM statistics until the statistics seam of
/// [`pass`] is public (issue 11).
#[doc(hidden)]
pub fn e_step<T: gmm_core::Real>(
    model: &gmm_core::GaussianMixture<T>,
    x: gmm_core::Samples<'_, T>,
    sample_weights: Option<&[f64]>,
) -> SuffStats {
    pass::e_step(model, x, sample_weights)
}
