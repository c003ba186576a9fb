//! # gmm-em: expectation-maximisation for Gaussian mixtures
//!
//! Fits [`gmm_core::GaussianMixture`]s to data. Everything that learns goes through one seam:
//!
//! ```text
//! e_step(model, rows, weights) -> SuffStats -> merge (blocks, files, machines) -> UpdateRule -> model
//! ```
//!
//! a pass over the data ([`e_step`]) produces [`SuffStats`] (counts and shifted first and
//! second moments, `f64`, mergeable, with a stable byte form), and an [`UpdateRule`] turns them
//! into a model ([`m_step`]). One driver ([`driver::iterate`]) runs every learner — batch EM
//! with any rule, online EM's epochs, UBM training — with one stop rule, callback and report.
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
//! * [`init`] — k-means, k-means++, random rows, random responsibilities, given responsibilities,
//!   hierarchical agglomeration ([`hierarchy`]);
//! * [`pass`] — [`e_step`], the fused E-step;
//! * [`stats`] — [`SuffStats`];
//! * [`stream`] — passes over data read in chunks, shards and processes ([`stream::Stream`],
//!   [`stream::PartialStats`]): the same bits as in memory;
//! * [`mstep`] — the maximum-likelihood update, its guards and the empty-component policy;
//! * [`update`] — the update-rule seam ([`UpdateRule`], [`m_step`]);
//! * [`driver`] — the one iteration loop ([`driver::Learner`], [`driver::iterate`]);
//! * [`fit`](mod@fit) — batch EM with restarts, and [`FitReport`];
//! * [`method`] — [`Method`], how a fit learns, and [`fit_with`];
//! * [`map`] — MAP-regularised EM under mclust's conjugate prior;
//! * [`vb`] — variational Bayes (Dirichlet distribution or process, Gaussian-Wishart);
//! * [`online`] — online (stepwise, mini-batch) EM with `partial_fit`;
//! * [`select`](mod@select) — choosing `k` and the covariance type by BIC, AIC or ICL;
//! * [`classify`] — discriminant analysis with one mixture per class ([`MixtureClassifier`]);
//!
//! Speech (UBM training, relevance adaptation, log-likelihood ratios, Gaussian selection,
//! Baum-Welch statistics) lives in `gmm-speech`, on this crate's driver and rules.

mod checks;
pub mod classify;
pub mod config;
pub mod driver;
pub mod fit;
pub mod hierarchy;
pub mod init;
pub mod map;
pub mod method;
pub mod mstep;
pub mod online;
mod online_fast;
pub mod pass;
pub mod select;
pub mod stats;
pub mod stream;
pub mod update;
pub mod vb;

pub use classify::{
    ClassModel, ClassifierConfig, ConfusionMatrix, CrossValidation, MixtureClassifier, Priors,
    cross_validate,
};
pub use config::{EmConfig, Init};
pub use driver::IterationInfo;
pub use fit::{Fit, FitOptions, FitReport, RestartSummary, em_step, fit, fit_stream};
pub use method::{Method, fit_with, fit_with_stream};
pub use pass::e_step;
pub use select::{Candidate, CandidateScore, Criterion, SelectConfig, Selection, select};
pub use stats::{MomentLayout, SuffStats};
pub use update::{GuardCounts, Parameters, Regularisation, UpdateRule, m_step};
