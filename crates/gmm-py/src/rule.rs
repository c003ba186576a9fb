//! The update rule of a fit — maximum likelihood, MAP under mclust's prior, or variational
//! Bayes under scikit-learn's priors — and the objective scikit-learn reports for it.

use gmm_core::{CovarianceType, GaussianMixture, Real, Result, Samples};
use gmm_em::map::{ConjugatePrior, MapRule};
use gmm_em::update::{MaximumLikelihood, UpdateRule};
use gmm_em::vb::{VariationalRule, VbPrior, WeightPrior};
use gmm_em::{Parameters, Regularisation, SuffStats};

use crate::errors::invalid;

/// Prior settings given from Python; `None` takes the default computed from the data.
///
/// For MAP, `mean_precision` is mclust's shrinkage `κ_P`, `dof` is `ν_P` and `covariance` the
/// scale (`d x d` for full and tied, one value for diag and spherical); for variational Bayes
/// they are scikit-learn's `mean_precision_prior`, `degrees_of_freedom_prior` and
/// `covariance_prior`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriorArgs {
    /// `"dirichlet_process"` or `"dirichlet_distribution"` (variational Bayes).
    pub weight_prior: Option<String>,
    /// `weight_concentration_prior`.
    pub weight_concentration: Option<f64>,
    /// `mean_precision_prior` (MAP: shrinkage).
    pub mean_precision: Option<f64>,
    /// `mean_prior`.
    pub mean: Option<Vec<f64>>,
    /// `degrees_of_freedom_prior`.
    pub dof: Option<f64>,
    /// `covariance_prior` (MAP: scale).
    pub covariance: Option<Vec<f64>>,
}

impl PriorArgs {
    /// Whether a default must be computed from the data.
    pub fn needs_data(&self, kind: &str) -> bool {
        match kind {
            "map" | "vb" => self.mean.is_none() || self.covariance.is_none(),
            _ => false,
        }
    }
}

/// One of the three update rules.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Maximum likelihood.
    MaximumLikelihood(MaximumLikelihood),
    /// MAP under a conjugate prior.
    Map(MapRule),
    /// Variational Bayes.
    Variational(VariationalRule),
}

impl Rule {
    /// The rule `kind` (`"ml"`, `"map"` or `"vb"`) with `prior`; `data` gives the samples a
    /// default prior is computed from (called only when one is needed).
    pub fn build<'a, T: Real>(
        kind: &str,
        prior: &PriorArgs,
        reg_covar: f64,
        n_components: usize,
        covariance_type: CovarianceType,
        data: Option<(Samples<'a, T>, Option<&'a [f64]>)>,
    ) -> Result<Self> {
        let regularisation = Regularisation { reg_covar, variance_floor: None };
        let missing =
            || invalid("a default prior needs the data: give mean_prior and covariance_prior");
        match kind {
            "ml" => Ok(Self::MaximumLikelihood(MaximumLikelihood(regularisation))),
            "map" => {
                let mut p = match data {
                    Some((x, w)) if prior.needs_data(kind) => {
                        ConjugatePrior::mclust_default(x, w, n_components, covariance_type)?
                    }
                    _ => ConjugatePrior {
                        shrinkage: 0.01,
                        mean: prior.mean.clone().ok_or_else(missing)?,
                        dof: 0.0,
                        scale: prior.covariance.clone().ok_or_else(missing)?,
                    },
                };
                let d = p.mean.len();
                p.dof = prior.dof.unwrap_or(d as f64 + 2.0);
                if let Some(v) = prior.mean_precision {
                    p.shrinkage = v;
                }
                if let Some(v) = &prior.mean {
                    p.mean = v.clone();
                }
                if let Some(v) = &prior.covariance {
                    p.scale = v.clone();
                }
                p.validate(d, covariance_type)?;
                Ok(Self::Map(MapRule::new(p, regularisation)))
            }
            "vb" => {
                let weight_prior = match prior.weight_prior.as_deref() {
                    None | Some("dirichlet_process") => WeightPrior::DirichletProcess,
                    Some("dirichlet_distribution") => WeightPrior::DirichletDistribution,
                    Some(other) => {
                        return Err(invalid(format!(
                            "unknown weight_concentration_prior_type {other:?}: use \
                             dirichlet_process or dirichlet_distribution"
                        )));
                    }
                };
                let mut p = match data {
                    Some((x, w)) if prior.needs_data(kind) => {
                        VbPrior::sklearn_default(x, w, n_components, covariance_type, weight_prior)?
                    }
                    _ => VbPrior {
                        weight_prior,
                        weight_concentration: 1.0 / n_components as f64,
                        mean_precision: 1.0,
                        mean: prior.mean.clone().ok_or_else(missing)?,
                        dof: 0.0,
                        covariance: prior.covariance.clone().ok_or_else(missing)?,
                    },
                };
                let d = p.mean.len();
                p.dof = prior.dof.unwrap_or(d as f64);
                if let Some(v) = prior.weight_concentration {
                    p.weight_concentration = v;
                }
                if let Some(v) = prior.mean_precision {
                    p.mean_precision = v;
                }
                if let Some(v) = &prior.mean {
                    p.mean = v.clone();
                }
                if let Some(v) = &prior.covariance {
                    p.covariance = v.clone();
                }
                p.validate(d, covariance_type)?;
                Ok(Self::Variational(VariationalRule::new(p, reg_covar)))
            }
            other => Err(invalid(format!("unknown rule {other:?}: use ml, map or vb"))),
        }
    }

    /// The rule as gmm-em's seam takes it.
    pub fn as_dyn(&self) -> &dyn UpdateRule {
        match self {
            Self::MaximumLikelihood(r) => r,
            Self::Map(r) => r,
            Self::Variational(r) => r,
        }
    }

    /// scikit-learn's `lower_bound` of the iteration whose E-step under `model` produced
    /// `stats`: the weighted mean log-likelihood per sample (maximum likelihood, MAP), or the
    /// total evidence lower bound after the update those statistics feed (variational Bayes).
    pub fn objective<T: Real>(&self, stats: &SuffStats, model: &GaussianMixture<T>) -> Result<f64> {
        match self {
            Self::Variational(r) => r.lower_bound(stats, &Parameters::from_model(model)),
            _ => Ok(stats.log_likelihood() / stats.total_weight()),
        }
    }

    /// The prior actually used, as `PriorArgs` (for the estimator's fitted attributes).
    pub fn prior(&self) -> Option<PriorArgs> {
        match self {
            Self::MaximumLikelihood(_) => None,
            Self::Map(r) => Some(PriorArgs {
                weight_prior: None,
                weight_concentration: None,
                mean_precision: Some(r.prior.shrinkage),
                mean: Some(r.prior.mean.clone()),
                dof: Some(r.prior.dof),
                covariance: Some(r.prior.scale.clone()),
            }),
            Self::Variational(r) => Some(PriorArgs {
                weight_prior: Some(
                    match r.prior.weight_prior {
                        WeightPrior::DirichletProcess => "dirichlet_process",
                        WeightPrior::DirichletDistribution => "dirichlet_distribution",
                    }
                    .to_string(),
                ),
                weight_concentration: Some(r.prior.weight_concentration),
                mean_precision: Some(r.prior.mean_precision),
                mean: Some(r.prior.mean.clone()),
                dof: Some(r.prior.dof),
                covariance: Some(r.prior.covariance.clone()),
            }),
        }
    }
}
