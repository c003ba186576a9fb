//! Update rules: the M-step side of the [`SuffStats`] seam.
//!
//! Every learner in this crate is the same loop — a pass over data produces [`SuffStats`], an
//! update rule turns them into parameters — with a different source of statistics (all the
//! data: batch EM; a running blend of mini-batches: [`crate::online`]; files or machines) or a
//! different rule:
//!
//! | rule | parameters from statistics `N_k, F_k, S_k` |
//! |---|---|
//! | [`MaximumLikelihood`] | the ML estimate ([`crate::mstep`]) |
//! | [`crate::map::MapRule`] | the posterior mode under a conjugate prior ([`crate::map`]) |
//! | [`crate::vb::VariationalRule`] | the variational posterior's E-step model ([`crate::vb`]) |
//! | [`HoldLowCounts`] | another rule, with components seen too little kept as they were |
//!
//! and, outside this crate, relevance-MAP adaptation (`gmm-speech`) or a rule of your own
//! (`examples/custom_rule.rs`). A rule is an object-safe trait, so a fit takes one as
//! `&dyn UpdateRule`; it returns `f64` [`Parameters`] that the driver validates into a model
//! of the data's precision ([`m_step`] does the same for one update).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::update::{MaximumLikelihood, Regularisation};
//! use gmm_em::{EmConfig, FitOptions, e_step, fit, m_step};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 2, 2.0, 1)?;
//! let (x, _) = truth.sample(500, 2)?;
//! let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
//! // One EM iteration by hand: the E-step's statistics, then the rule.
//! let stats = e_step(&truth, x.samples(), None)?;
//! let (next, guards) = m_step(&rule, &stats, &truth)?;
//! assert_eq!(guards.empty_components, 0);
//! assert!(next.score(x.samples())? >= stats.mean_log_likelihood());
//! // The same rule in the ordinary driver.
//! let config = EmConfig::new(2, CovarianceType::Diag);
//! let with_rule = fit(&config, x.samples(), FitOptions { update: Some(&rule), ..Default::default() })?;
//! let plain = config.fit(x.samples())?;
//! assert_eq!(with_rule.report.final_log_likelihood, plain.report.final_log_likelihood);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result};

use crate::mstep::maximum_likelihood_parameters;
use crate::stats::{MomentLayout, SuffStats};

/// Mixture parameters in `f64`, laid out as [`GaussianMixture`] documents: what an update rule
/// produces before it is validated (and converted to the data's precision) as a model, and the
/// previous model it is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    /// The covariance type.
    pub covariance_type: CovarianceType,
    /// `k` weights.
    pub weights: Vec<f64>,
    /// `k x d` means.
    pub means: Vec<f64>,
    /// Covariances in the type's layout.
    pub covariances: Vec<f64>,
}

impl Parameters {
    /// The parameters of `model`, in `f64`.
    pub fn from_model<T: Real>(model: &GaussianMixture<T>) -> Self {
        let f = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<f64>>();
        Self {
            covariance_type: model.covariance_type(),
            weights: f(model.weights()),
            means: f(model.means()),
            covariances: f(model.covariances()),
        }
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.weights.len()
    }

    /// Dimension.
    pub fn n_features(&self) -> usize {
        self.means.len() / self.weights.len().max(1)
    }

    /// Validates the parameters into a model of precision `T`; a covariance that is not
    /// positive definite is an error that mentions `reg_covar` (the value used) and the fix.
    pub fn into_model<T: Real>(self, reg_covar: f64) -> Result<GaussianMixture<T>> {
        let conv = |v: Vec<f64>| v.into_iter().map(T::from_f64).collect::<Vec<T>>();
        GaussianMixture::new(
            self.covariance_type,
            conv(self.weights),
            conv(self.means),
            conv(self.covariances),
        )
        .map_err(|e| match e.kind() {
            ErrorKind::NotPositiveDefinite { .. } => e.context(format!(
                "after the M-step (reg_covar = {reg_covar}; raise it, or fit with a prior \
                 (MAP), if the data has duplicated points or collapsed dimensions)"
            )),
            _ => e,
        })
    }
}

/// The numeric guards of an M-step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularisation {
    /// Added to every variance (the covariance diagonal).
    pub reg_covar: f64,
    /// Lower bound applied to variances after `reg_covar`, if any.
    pub variance_floor: Option<f64>,
}

impl Regularisation {
    /// `v` raised to the floor (counting it in `guards`) when below it.
    pub fn floor(&self, v: f64, guards: &mut GuardCounts) -> f64 {
        match self.variance_floor {
            Some(f) if v < f => {
                guards.floored_variances += 1;
                f
            }
            _ => v,
        }
    }
}

/// What the guards did in one M-step (or, summed, in a fit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardCounts {
    /// Components that were empty ([`SuffStats::is_empty`]) and kept their previous mean and
    /// covariance.
    pub empty_components: usize,
    /// Variances raised to the floor.
    pub floored_variances: usize,
    /// Components [`HoldLowCounts`] kept at their previous mean and covariance.
    pub held_components: usize,
}

impl GuardCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: GuardCounts) {
        self.empty_components += other.empty_components;
        self.floored_variances += other.floored_variances;
        self.held_components += other.held_components;
    }
}

/// Turns sufficient statistics into mixture parameters.
pub trait UpdateRule: Sync {
    /// Parameters from `stats`. `previous` is the model the statistics were collected under
    /// (or, for a start, a provisional model): components the statistics leave empty keep its
    /// means and covariances; its covariance type is the type to produce.
    fn update(&self, stats: &SuffStats, previous: &Parameters)
    -> Result<(Parameters, GuardCounts)>;

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
        Ok(stats.mean_log_likelihood())
    }

    /// The parameters a fit returns when its last update came from `stats`, if they differ from
    /// what [`UpdateRule::update`] gives (variational Bayes returns the posterior's point
    /// estimate; its updates return the model of its E-step). Default: `None`.
    fn finish(&self, stats: &SuffStats, last: &Parameters) -> Option<Result<Parameters>> {
        let _ = (stats, last);
        None
    }

    /// The rule's per-component form for diagonal moments, if it has one
    /// ([`DiagonalComponentRule`]): learners that change a few components at a time (online
    /// EM's small batches) then update only those. Default: `None`.
    fn diagonal_components(&self) -> Option<&dyn DiagonalComponentRule> {
        None
    }
}

/// The per-component form of an update rule for diagonal moments (diag and spherical models).
///
/// A rule offers it when, for a component that is not empty, its mean and variances depend
/// only on that component's `N_k, F_k, S_k` and its weight is `N_k / Σ_j N_j`, and when none of
/// them changes if every statistic is multiplied by one positive factor (the learner may pass
/// statistics in scaled units). [`UpdateRule::update`] must then agree with it to rounding.
pub trait DiagonalComponentRule: Sync {
    /// Writes the mean and variances of a component into `out` from its statistics
    /// (`count > 0`); returns how many variances it floored.
    fn component(&self, stats: ComponentMoments<'_>, out: ComponentParameters<'_>) -> usize;
}

/// Where [`DiagonalComponentRule::component`] writes one component's parameters.
#[derive(Debug)]
pub struct ComponentParameters<'a> {
    /// Whether the model is spherical (one variance, written `d` times).
    pub spherical: bool,
    /// The mean, `d` values.
    pub mean: &'a mut [f64],
    /// The variances, `d` values.
    pub variances: &'a mut [f64],
}

/// One component's diagonal statistics (see [`SuffStats`]).
#[derive(Debug, Clone, Copy)]
pub struct ComponentMoments<'a> {
    /// `N_k`.
    pub count: f64,
    /// `s_k`, `d` values.
    pub shift: &'a [f64],
    /// `F_k`, `d` values.
    pub first: &'a [f64],
    /// The diagonal of `S_k`, `d` values.
    pub second: &'a [f64],
}

/// A reference to a rule is the rule (so wrappers such as [`HoldLowCounts`] can hold a
/// `&dyn UpdateRule` chosen at run time).
impl<R: UpdateRule + ?Sized> UpdateRule for &R {
    fn update(
        &self,
        stats: &SuffStats,
        previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        (**self).update(stats, previous)
    }

    fn reg_covar(&self) -> f64 {
        (**self).reg_covar()
    }

    fn has_objective(&self) -> bool {
        (**self).has_objective()
    }

    fn objective(&self, stats: &SuffStats, pass_model: &Parameters) -> Result<f64> {
        (**self).objective(stats, pass_model)
    }

    fn finish(&self, stats: &SuffStats, last: &Parameters) -> Option<Result<Parameters>> {
        (**self).finish(stats, last)
    }

    fn diagonal_components(&self) -> Option<&dyn DiagonalComponentRule> {
        (**self).diagonal_components()
    }
}

/// The maximum-likelihood update of [`crate::mstep`] with its guards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaximumLikelihood(pub Regularisation);

impl UpdateRule for MaximumLikelihood {
    fn update(
        &self,
        stats: &SuffStats,
        previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        maximum_likelihood_parameters(stats, previous, self.0)
    }

    fn reg_covar(&self) -> f64 {
        self.0.reg_covar
    }

    fn diagonal_components(&self) -> Option<&dyn DiagonalComponentRule> {
        Some(self)
    }
}

impl DiagonalComponentRule for MaximumLikelihood {
    fn component(&self, stats: ComponentMoments<'_>, out: ComponentParameters<'_>) -> usize {
        let ComponentMoments { count, shift, first, second } = stats;
        let ComponentParameters { spherical, mean, variances } = out;
        let mut guards = GuardCounts::default();
        let inv_n = 1.0 / count;
        let reg = self.0.reg_covar;
        if spherical {
            let mut sum = 0.0;
            for j in 0..shift.len() {
                let delta = first[j] * inv_n;
                mean[j] = shift[j] + delta;
                sum += second[j] * inv_n - delta * delta;
            }
            let v = self.0.floor(sum / shift.len() as f64 + reg, &mut guards);
            variances.fill(v);
        } else {
            for j in 0..shift.len() {
                let delta = first[j] * inv_n;
                mean[j] = shift[j] + delta;
                variances[j] = self.0.floor(second[j] * inv_n - delta * delta + reg, &mut guards);
            }
        }
        guards.floored_variances
    }
}

/// A rule that keeps components seen too little at their previous mean and covariance (their
/// weights still follow the inner rule), as Kaldi's `MleDiagGmmUpdate` does during UBM
/// training (`--min-gaussian-occupancy`, `--min-gaussian-weight`): a component is *held* when
/// `N_k < min_count` or `N_k / Σ_j N_j < min_weight`. Each held component is counted in
/// [`GuardCounts::held_components`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldLowCounts<R> {
    /// The rule whose update is kept for the other components.
    pub inner: R,
    /// Occupancy below which a component is held.
    pub min_count: f64,
    /// Weight below which a component is held.
    pub min_weight: f64,
}

impl<R> HoldLowCounts<R> {
    /// Which components `stats` holds (see the type's docs).
    pub fn held(&self, stats: &SuffStats) -> Vec<bool> {
        let total = stats.total_weight();
        stats.counts().iter().map(|&n| n < self.min_count || n / total < self.min_weight).collect()
    }
}

impl<R: UpdateRule> UpdateRule for HoldLowCounts<R> {
    fn update(
        &self,
        stats: &SuffStats,
        previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        let (mut next, mut guards) = self.inner.update(stats, previous)?;
        let d = stats.n_features();
        let per = match previous.covariance_type {
            CovarianceType::Diag => d,
            CovarianceType::Spherical => 1,
            CovarianceType::Full => d * d,
            CovarianceType::Tied => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    "a tied covariance cannot be held per component: use diag, spherical or full",
                ));
            }
        };
        for c in self.held(stats).iter().enumerate().filter(|(_, h)| **h).map(|(c, _)| c) {
            next.means[c * d..(c + 1) * d].copy_from_slice(&previous.means[c * d..(c + 1) * d]);
            next.covariances[c * per..(c + 1) * per]
                .copy_from_slice(&previous.covariances[c * per..(c + 1) * per]);
            guards.held_components += 1;
        }
        Ok((next, guards))
    }

    fn reg_covar(&self) -> f64 {
        self.inner.reg_covar()
    }
}

/// One update: `rule` applied to `stats` collected under `previous`, validated into a model of
/// `previous`'s precision. The statistics must have `previous`'s shape.
pub fn m_step<T: Real>(
    rule: &dyn UpdateRule,
    stats: &SuffStats,
    previous: &GaussianMixture<T>,
) -> Result<(GaussianMixture<T>, GuardCounts)> {
    let layout = MomentLayout::for_covariance(previous.covariance_type());
    let (k, d) = (previous.n_components(), previous.n_features());
    if stats.n_components() != k || stats.n_features() != d || stats.layout() != layout {
        return Err(Error::new(
            ErrorKind::MismatchedStatistics,
            format!(
                "statistics of {} components x {} features ({:?} moments) cannot update a {} \
                 model of {k} x {d}: accumulate them under this model",
                stats.n_components(),
                stats.n_features(),
                stats.layout(),
                previous.covariance_type()
            ),
        ));
    }
    let (parameters, guards) = rule.update(stats, &Parameters::from_model(previous))?;
    Ok((parameters.into_model(rule.reg_covar())?, guards))
}
