//! [`Method`]: how a fit learns, as one value, and [`fit_with`], which turns it into an update
//! rule and a driver.
//!
//! Front ends (the command line, the Python package, a configuration file) choose a method and
//! its few settings; the library owns what follows from the choice: priors estimated from the
//! data (mclust's for MAP, scikit-learn's for variational Bayes), the rule built from them, and
//! whether batch EM or online EM's epochs run.
//!
//! | method | rule | driver | unset `max_iter`, `tol` |
//! |---|---|---|---|
//! | [`Method::Em`] | [`crate::update::MaximumLikelihood`] | batch EM | 100, 1e-3 |
//! | [`Method::Map`] | [`crate::map::MapRule`] under mclust's default prior | batch EM | 100, 1e-3 |
//! | [`Method::Vb`] | [`crate::vb::VariationalRule`] under scikit-learn's default prior | batch EM | 1000, 1e-6 ([`VB_TOL`]) |
//! | [`Method::Online`] | maximum likelihood, or MAP's rule | online EM's epochs | —, 1e-3 |
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

use crate::config::{DEFAULT_MAX_ITER, DEFAULT_TOL, EmConfig};
use crate::fit::{Fit, FitOptions, fit, fit_stream};
use crate::init::moment_stats;
use crate::map::{ConjugatePrior, MapRule};
use crate::online::{OnlineConfig, fit_online};
use crate::stats::SuffStats;
use crate::stream::{Data, Stream};
use crate::update::{MaximumLikelihood, Regularisation, UpdateRule};
use crate::vb::{VariationalRule, VbPrior, WeightPrior};

/// Variational Bayes' default convergence threshold on its lower bound *per sample*: 1e-6,
/// where EM's is 1e-3.
///
/// VB does its job — fading out the components the data does not need — slowly: their weights
/// shrink by a roughly constant factor per iteration, and the bound per sample changes by
/// about as much as the weight that moves. Stopping at 1e-3 left 9 of 10 components above
/// weight 0.02 on three well-separated clusters after 14 iterations; at 1e-6 the fit runs ~124
/// iterations and keeps exactly 3 (measurements in `docs/DECISIONS.md`). The threshold stays
/// per sample, like EM's (scikit-learn's `tol` = 1e-3 is on the *total* bound, i.e. 1e-3/n per
/// sample: 3.7e-6 on Old Faithful's 272 rows, 5e-8 on 20,000 frames, so it depends on the data
/// size and mostly ends at its `max_iter = 100` on large data).
pub const VB_TOL: f64 = 1e-6;

/// Variational Bayes' default iteration limit: 1000 (the measured fits converge in 17-194).
pub const VB_MAX_ITER: usize = 1000;

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

    /// `config` with this method's defaults for what it leaves unset: `max_iter` and `tol`.
    /// EM, MAP and online EM keep [`DEFAULT_MAX_ITER`] and [`DEFAULT_TOL`]; variational Bayes
    /// takes [`VB_MAX_ITER`] and [`VB_TOL`]. [`fit_with`] fits with the result.
    pub fn resolve(&self, config: &EmConfig) -> EmConfig {
        let (max_iter_set, tol_set) = config.has_stop_rule();
        let (max_iter, tol) = match self {
            Self::Vb(_) => (VB_MAX_ITER, VB_TOL),
            _ => (DEFAULT_MAX_ITER, DEFAULT_TOL),
        };
        let mut config = config.clone();
        if !max_iter_set {
            config = config.max_iter(max_iter);
        }
        if !tol_set {
            config = config.tol(tol);
        }
        config
    }

    /// Whether the rule needs priors estimated from the data (MAP and VB).
    pub fn needs_moments(&self) -> bool {
        matches!(self, Self::Map(_) | Self::Vb(_) | Self::Online { map: Some(_), .. })
    }

    /// The update rule this method fits `x` (weighted by `sample_weights`) with, its priors
    /// estimated from the data (maximum likelihood takes `config`'s guards).
    pub fn rule<T: Real>(
        &self,
        config: &EmConfig,
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
    ) -> Result<Box<dyn UpdateRule>> {
        let moments = match self.needs_moments() {
            true => Some(moment_stats(&Data::Memory { x, weights: sample_weights })?),
            false => None,
        };
        self.rule_from_moments(config, moments.as_ref())
    }

    /// [`Method::rule`] from the data's moment statistics ([`Stream::moments`], or `gmm acc
    /// --moments` summed over shards) instead of the data: the same rule, bit for bit. `None`
    /// is enough for maximum likelihood.
    pub fn rule_from_moments(
        &self,
        config: &EmConfig,
        moments: Option<&SuffStats>,
    ) -> Result<Box<dyn UpdateRule>> {
        let (k, t) = (config.get_n_components(), config.get_covariance_type());
        let regularisation = Regularisation {
            reg_covar: config.get_reg_covar(),
            variance_floor: config.get_variance_floor(),
        };
        let moments = || {
            moments.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "--method {} estimates its prior from the data: give the data's moment \
                         statistics (gmm acc --moments, summed like the others)",
                        self.name()
                    ),
                )
            })
        };
        let map_rule = |settings: &MapSettings| -> Result<Box<dyn UpdateRule>> {
            let moments = moments()?;
            let d = moments.n_features();
            let mut prior = ConjugatePrior::mclust_default_from_moments(moments, k, t)?;
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
                let moments = moments()?;
                let d = moments.n_features();
                let mut prior =
                    VbPrior::sklearn_default_from_moments(moments, k, t, settings.weight_prior)?;
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

/// [`fit_with`] over the rows of `stream` (see [`crate::fit::fit_stream`]): priors from a
/// streamed moment pass, then batch EM over the stream. Online EM needs the data in memory.
pub fn fit_with_stream<T: Real>(
    config: &EmConfig,
    method: &Method,
    stream: &Stream<'_, T>,
    options: FitOptions<'_, T>,
) -> Result<Fit<T>> {
    if options.update.is_some() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "fit_with_stream chooses the update rule from the method: leave FitOptions::update \
             empty, or call gmm_em::fit::fit_stream with your rule",
        ));
    }
    if let Method::Online { .. } = method {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "online EM reads the data in memory: give a --memory-budget the data fits in, or \
             use --method em, map or vb",
        ));
    }
    config.validate()?;
    let moments = match method.needs_moments() {
        true => Some(fit_threads(config, || stream.moments())?),
        false => None,
    };
    let rule = method.rule_from_moments(config, moments.as_ref())?;
    let FitOptions { sample_weights, start, on_iteration, .. } = options;
    let on_iteration = on_iteration.map(|f| f as &mut (dyn FnMut(&crate::IterationInfo) + Send));
    let options = FitOptions { sample_weights, start, on_iteration, update: Some(rule.as_ref()) };
    fit_stream(config, stream, options)
}

fn fit_threads<R: Send>(config: &EmConfig, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    crate::fit::with_threads(config.get_threads(), f)
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
    let config = &method.resolve(config);
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
