//! [`Method`]: how a fit learns, as one value, and [`fit_with`], which turns it into an update
//! rule and a driver.
//!
//! Front ends (the command line, the Python package, a configuration file) choose a method and
//! its few settings; the library owns what follows from the choice: priors estimated from the
//! data (mclust's for MAP, scikit-learn's for variational Bayes), the rule built from them, and
//! whether batch EM or online EM's epochs run.
//!
//! | method | rule | driver |
//! |---|---|---|
//! | [`Method::Em`] | [`crate::update::MaximumLikelihood`] | batch EM |
//! | [`Method::Map`] | [`crate::map::MapRule`] under mclust's default prior | batch EM |
//! | [`Method::Vb`] | [`crate::vb::VariationalRule`] under scikit-learn's default prior | batch EM |
//! | [`Method::Online`] | maximum likelihood, or MAP's rule | online EM's epochs |
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::method::{MapSettings, Method, fit_with};
//! use gmm_em::{EmConfig, FitOptions};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 2, 2, 3.0, 1)?;
//! let (x, _) = truth.sample(600, 2)?;
//! let config = EmConfig::new(2, CovarianceType::Full).seed(4);
//! let map = fit_with(&config, &Method::Map(MapSettings::default()), x.samples(), FitOptions::default())?;
//! assert_eq!(map.model.n_components(), 2);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{Error, ErrorKind, Real, Result, Samples};

use crate::config::EmConfig;
use crate::fit::{Fit, FitOptions, fit};
use crate::map::{ConjugatePrior, MapRule};
use crate::online::{OnlineConfig, fit_online};
use crate::update::{MaximumLikelihood, Regularisation, UpdateRule};
use crate::vb::{VariationalRule, VbPrior, WeightPrior};

/// Overrides of mclust's default conjugate prior (`None`: the default).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MapSettings {
    /// `κ_P`, the shrinkage of the means towards the data mean (default 0.01).
    pub shrinkage: Option<f64>,
    /// `ν_P`, the degrees of freedom of the covariance prior (default `d + 2`).
    pub dof: Option<f64>,
}

/// The variational prior: scikit-learn's defaults with optional overrides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VbSettings {
    /// The prior on the weights.
    pub weight_prior: WeightPrior,
    /// The weight concentration (default `1 / k`).
    pub weight_concentration: Option<f64>,
    /// The precision prior on the means, `β_0` (default 1).
    pub mean_precision: Option<f64>,
    /// The degrees of freedom of the covariance prior (default `d`).
    pub dof: Option<f64>,
}

impl Default for VbSettings {
    fn default() -> Self {
        Self {
            weight_prior: WeightPrior::DirichletProcess,
            weight_concentration: None,
            mean_precision: None,
            dof: None,
        }
    }
}

/// How a fit learns (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Batch EM, maximum likelihood.
    Em,
    /// Batch MAP-regularised EM.
    Map(MapSettings),
    /// Variational Bayes.
    Vb(VbSettings),
    /// Online (stepwise, mini-batch) EM, with maximum-likelihood updates or, with `map`, MAP's.
    Online {
        /// Batches, step sizes, epochs.
        settings: OnlineConfig,
        /// MAP's prior for the updates, if any.
        map: Option<MapSettings>,
    },
}

impl Method {
    /// The name used on the command line and in reports: `em`, `map`, `vb` or `online`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Em => "em",
            Self::Map(_) => "map",
            Self::Vb(_) => "vb",
            Self::Online { .. } => "online",
        }
    }

    /// What the fit report's log-likelihoods hold: `mean_log_likelihood`, or for variational
    /// Bayes `lower_bound_per_sample`.
    pub fn objective_name(&self) -> &'static str {
        match self {
            Self::Vb(_) => "lower_bound_per_sample",
            _ => "mean_log_likelihood",
        }
    }

    /// What one iteration of the report is: an EM iteration, or an online epoch.
    pub fn iteration_name(&self) -> &'static str {
        match self {
            Self::Online { .. } => "epochs",
            _ => "iterations",
        }
    }

    /// The update rule this method fits `x` (weighted by `sample_weights`) with, its priors
    /// estimated from the data (maximum likelihood takes `config`'s guards).
    pub fn rule<T: Real>(
        &self,
        config: &EmConfig,
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
    ) -> Result<Box<dyn UpdateRule>> {
        let (k, t, d) = (config.get_n_components(), config.get_covariance_type(), x.n_features());
        let regularisation = Regularisation {
            reg_covar: config.get_reg_covar(),
            variance_floor: config.get_variance_floor(),
        };
        let map_rule = |settings: &MapSettings| -> Result<Box<dyn UpdateRule>> {
            let mut prior = ConjugatePrior::mclust_default(x, sample_weights, k, t)?;
            if let Some(v) = settings.shrinkage {
                prior.shrinkage = v;
            }
            if let Some(v) = settings.dof {
                prior.dof = v;
            }
            prior.validate(d, t)?;
            Ok(Box::new(MapRule::new(prior, regularisation)))
        };
        match self {
            Self::Em | Self::Online { map: None, .. } => {
                Ok(Box::new(MaximumLikelihood(regularisation)))
            }
            Self::Map(settings) | Self::Online { map: Some(settings), .. } => map_rule(settings),
            Self::Vb(settings) => {
                let mut prior =
                    VbPrior::sklearn_default(x, sample_weights, k, t, settings.weight_prior)?;
                if let Some(v) = settings.weight_concentration {
                    prior.weight_concentration = v;
                }
                if let Some(v) = settings.mean_precision {
                    prior.mean_precision = v;
                }
                if let Some(v) = settings.dof {
                    prior.dof = v;
                }
                prior.validate(d, t)?;
                Ok(Box::new(VariationalRule::new(prior, config.get_reg_covar())))
            }
        }
    }
}

/// Fits `x` by `method` (see the module docs). `options.update` must be `None`: the method
/// chooses the rule. Restarts, starts, weights and callbacks work as for [`crate::fit()`].
pub fn fit_with<T: Real>(
    config: &EmConfig,
    method: &Method,
    x: Samples<'_, T>,
    options: FitOptions<'_, T>,
) -> Result<Fit<T>> {
    if options.update.is_some() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "fit_with chooses the update rule from the method: leave FitOptions::update empty, \
             or call gmm_em::fit with your rule",
        ));
    }
    config.validate()?;
    x.check_finite()?;
    crate::fit::check_memory::<T>(config, x.n_features())?;
    let rule = method.rule(config, x, options.sample_weights)?;
    let FitOptions { sample_weights, start, on_iteration, .. } = options;
    // (The callback's trait object is reborrowed for the rule's shorter lifetime.)
    let on_iteration = on_iteration.map(|f| f as &mut (dyn FnMut(&crate::IterationInfo) + Send));
    let options = FitOptions { sample_weights, start, on_iteration, update: Some(rule.as_ref()) };
    match method {
        Method::Online { settings, .. } => fit_online(config, settings, x, options),
        _ => fit(config, x, options),
    }
}
