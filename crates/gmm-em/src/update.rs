//! Update rules: the M-step side of the [`SuffStats`] seam.
//!
//! Every learner in this crate is the same loop — a pass over data produces [`SuffStats`], an
//! update rule turns them into parameters — with a different source of statistics (all the
//! data: batch EM; a running blend of mini-batches: [`crate::online`]) or a different rule:
//!
//! | rule | parameters from statistics `N_k, F_k, S_k` |
//! |---|---|
//! | [`MaximumLikelihood`] | the ML estimate ([`crate::mstep`]) |
//! | [`crate::map::MapRule`] | the posterior mode under a conjugate prior ([`crate::map`]) |
//!
//! A rule is an object-safe trait so a fit can take one as `&dyn UpdateRule`; it returns `f64`
//! [`Parameters`] that the driver validates into a model of the data's precision.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::update::MaximumLikelihood;
//! use gmm_em::{EmConfig, FitOptions, Regularisation, fit};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 2, 2.0, 1)?;
//! let (x, _) = truth.sample(500, 2)?;
//! let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
//! let config = EmConfig::new(2, CovarianceType::Diag);
//! let with_rule = fit(&config, x.samples(), FitOptions { update: Some(&rule), ..Default::default() })?;
//! let plain = config.fit(x.samples())?;
//! assert_eq!(with_rule.report.final_log_likelihood, plain.report.final_log_likelihood);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{CovarianceType, Result};

use crate::mstep::{
    Fallback, GuardCounts, Parameters, Regularisation, maximum_likelihood_parameters,
};
use crate::stats::SuffStats;

/// Turns sufficient statistics into mixture parameters.
pub trait UpdateRule: Sync {
    /// Parameters from `stats`; `fallback` holds the previous means and covariances (for
    /// components the statistics leave empty, if the rule needs them).
    fn update(
        &self,
        stats: &SuffStats,
        covariance_type: CovarianceType,
        fallback: &Fallback,
    ) -> Result<(Parameters, GuardCounts)>;

    /// The `reg_covar` the rule adds (quoted by errors about covariances).
    fn reg_covar(&self) -> f64;

    /// Whether the rule reports its own objective ([`UpdateRule::objective`]) instead of the
    /// mean log-likelihood of each pass. Default: no.
    fn has_objective(&self) -> bool {
        false
    }

    /// The objective, per unit of sample weight, of the pass that produced `stats` under the
    /// model `pass_model` (followed by this rule's update). Default: the pass's mean
    /// log-likelihood. Variational Bayes returns its evidence lower bound.
    fn objective(&self, stats: &SuffStats, pass_model: &Parameters) -> Result<f64> {
        let _ = pass_model;
        Ok(stats.log_likelihood / stats.total_weight)
    }

    /// The guards, when this rule is exactly the maximum-likelihood update
    /// ([`MaximumLikelihood`]): online EM then takes a faster path for small batches of diag
    /// and spherical models. Default: `None`.
    fn maximum_likelihood(&self) -> Option<Regularisation> {
        None
    }

    /// The parameters a fit returns when its last update came from `stats`, if they differ from
    /// what [`UpdateRule::update`] gives (variational Bayes returns the posterior's point
    /// estimate; its updates return the model of its E-step). Default: `None`.
    fn finish(
        &self,
        stats: &SuffStats,
        covariance_type: CovarianceType,
    ) -> Option<Result<Parameters>> {
        let _ = (stats, covariance_type);
        None
    }
}

/// The maximum-likelihood update of [`crate::mstep`] with its guards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaximumLikelihood(pub Regularisation);

impl UpdateRule for MaximumLikelihood {
    fn update(
        &self,
        stats: &SuffStats,
        covariance_type: CovarianceType,
        fallback: &Fallback,
    ) -> Result<(Parameters, GuardCounts)> {
        maximum_likelihood_parameters(stats, covariance_type, self.0, fallback)
    }

    fn reg_covar(&self) -> f64 {
        self.0.reg_covar
    }

    fn maximum_likelihood(&self) -> Option<Regularisation> {
        Some(self.0)
    }
}
