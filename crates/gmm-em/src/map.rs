//! MAP-regularised EM: the posterior mode under a conjugate prior (Fraley & Raftery 2007).
//!
//! The prior mclust uses by default (`priorControl()`): for every component,
//!
//! ```text
//! μ_k | Σ_k ~ N(μ_P, Σ_k / κ_P)
//! Σ_k       ~ inverse Wishart(ν_P, Λ_P)                     (full, tied)
//! σ²_kj     ~ inverse gamma(ν_P / 2, ς²_P / 2)              (diag: each variance; spherical: σ²_k)
//! ```
//!
//! with mclust's defaults ([`ConjugatePrior::mclust_default`]): shrinkage `κ_P = 0.01`, `μ_P` the
//! data mean, `ν_P = d + 2`, and the scale from the data's (`n - 1`) covariance `V` shrunk by
//! `G^(2/d)` for `G` components: `Λ_P = V / G^(2/d)` (full, tied) or
//! `ς²_P = tr(V) / d / G^(2/d)` (diag, spherical).
//!
//! The M-step of EM becomes the posterior mode. With `n_k = N_k`, `ȳ_k` the component's
//! weighted mean, `W_k = Σ_n r_nk (x_n - ȳ_k)(x_n - ȳ_k)ᵀ`, `e_k = ȳ_k - μ_P` and
//! `a_k = κ_P n_k / (κ_P + n_k)` (Fraley & Raftery 2007, table 2):
//!
//! ```text
//! w_k = n_k / n                          μ_k = (n_k ȳ_k + κ_P μ_P) / (κ_P + n_k)
//! full (VVV):      Σ_k   = (Λ_P + a_k e_k e_kᵀ + W_k) / (ν_P + d + 2 + n_k)
//! tied (EEE):      Σ     = (Λ_P + Σ_k (a_k e_k e_kᵀ + W_k)) / (ν_P + d + 1 + G + n)
//! diag (VVI):      σ²_kj = (ς²_P + a_k e_kj² + W_k,jj) / (ν_P + n_k + 3)
//! spherical (VII): σ²_k  = (ς²_P + a_k |e_k|² + tr W_k) / (ν_P + (n_k + 1) d + 2)
//! ```
//!
//! then `reg_covar` and the variance floor as in [`crate::mstep`] (set `reg_covar = 0` for
//! mclust's values). Every covariance is at least the prior's scale over its denominator, so
//! fits that collapse under maximum likelihood (duplicated points, fewer samples than
//! dimensions in a component, an empty component) stay well-defined; an empty component
//! (`n_k ≤ 10 ε n`) takes the prior mode (`μ_P`, `Λ_P / (ν_P + d + 2)`) and is counted.
//! As in mclust, BIC and the reported log-likelihood are those of the MAP estimate.
//!
//! [`MapRule`] is an [`UpdateRule`]: pass it as [`crate::FitOptions::update`] to run EM (or
//! [`crate::online`]) with it.
//!
//! ```
//! use gmm_core::CovarianceType;
//! use gmm_em::map::{ConjugatePrior, MapRule};
//! use gmm_em::{EmConfig, FitOptions, Regularisation, fit};
//!
//! // Four copies of one point in 5 dimensions next to a proper cluster: maximum likelihood
//! // gives the copies a singular covariance; the prior keeps it positive definite.
//! let mut rows = vec![];
//! for i in 0..40 {
//!     rows.extend((0..5).map(|j| ((i * 7 + j * 3) % 11) as f64 / 3.0));
//! }
//! for _ in 0..4 {
//!     rows.extend([20.0, 20.0, 20.0, 20.0, 20.0]);
//! }
//! let x = gmm_core::Samples::new(&rows, 5)?;
//! let config = EmConfig::new(2, CovarianceType::Full).reg_covar(0.0);
//! let prior = ConjugatePrior::mclust_default(x, None, 2, CovarianceType::Full)?;
//! let rule = MapRule::new(prior, Regularisation { reg_covar: 0.0, variance_floor: None });
//! let fit = fit(&config, x, FitOptions { update: Some(&rule), ..Default::default() })?;
//! assert!(fit.report.final_log_likelihood.is_finite());
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{CovarianceType, Error, ErrorKind, Real, Result, Samples};

use crate::init::{check_moments, covariance_from_moments, moment_stats};
use crate::mstep::total_weight;
use crate::stream::Data;

use crate::stats::{MomentLayout, SuffStats};
use crate::update::{GuardCounts, Parameters, Regularisation, UpdateRule};

/// The conjugate (normal / inverse-Wishart) prior of MAP-regularised EM.
#[derive(Debug, Clone, PartialEq)]
pub struct ConjugatePrior {
    /// `κ_P`: the prior's weight on `mean`, in samples (`>= 0`; 0 leaves the means unshrunk).
    pub shrinkage: f64,
    /// `μ_P`, `d` values.
    pub mean: Vec<f64>,
    /// `ν_P`, the degrees of freedom (`> d - 1` for a proper inverse Wishart).
    pub dof: f64,
    /// The scale: one value `ς²_P` for diag and spherical models, `Λ_P` (`d x d`, row-major,
    /// symmetric positive definite) for full and tied ones.
    pub scale: Vec<f64>,
}

impl ConjugatePrior {
    /// mclust's `defaultPrior(data, G, modelName)` for `x` (weighted by `sample_weights`) and
    /// `n_components = G` (see the module docs).
    pub fn mclust_default<T: Real>(
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
        n_components: usize,
        covariance_type: CovarianceType,
    ) -> Result<Self> {
        let moments = moment_stats(&Data::Memory { x, weights: sample_weights })?;
        Self::mclust_default_from_moments(&moments, n_components, covariance_type)
    }

    /// [`ConjugatePrior::mclust_default`] from the data's moment statistics
    /// ([`crate::stream::Stream::moments`]), as the statistics-file route estimates it.
    pub fn mclust_default_from_moments(
        moments: &SuffStats,
        n_components: usize,
        covariance_type: CovarianceType,
    ) -> Result<Self> {
        check_moments(moments)?;
        let d = moments.n_features();
        let (n, mean, cov) = covariance_from_moments(moments);
        if n.is_nan() || n <= 1.0 {
            return Err(Error::new(
                ErrorKind::TooFewSamples { n_samples: n as usize, n_components },
                format!(
                    "the data's total weight is {n}: the default prior needs more than one sample \
                     to estimate a variance"
                ),
            ));
        }
        // `cov` is unbiased (n - 1), as R's var().
        let factor = (1.0 / n_components as f64).powf(2.0 / d as f64);
        let scale = match covariance_type {
            CovarianceType::Diag | CovarianceType::Spherical => {
                vec![factor * (0..d).map(|j| cov[j * d + j]).sum::<f64>() / d as f64]
            }
            CovarianceType::Full | CovarianceType::Tied => cov.iter().map(|v| factor * v).collect(),
        };
        let prior = Self { shrinkage: 0.01, mean, dof: d as f64 + 2.0, scale };
        prior.validate(d, covariance_type)?;
        Ok(prior)
    }

    /// Checks the prior's shape and values for `d` features and `covariance_type`.
    pub fn validate(&self, d: usize, covariance_type: CovarianceType) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if !(self.shrinkage >= 0.0 && self.shrinkage.is_finite()) {
            return bad(format!("prior shrinkage {} must be finite and >= 0", self.shrinkage));
        }
        if self.mean.len() != d || self.mean.iter().any(|v| !v.is_finite()) {
            return bad(format!("the prior mean needs {d} finite values, got {:?}", self.mean));
        }
        if !(self.dof > d as f64 - 1.0 && self.dof.is_finite()) {
            return bad(format!(
                "prior degrees of freedom {} must exceed d - 1 = {}",
                self.dof,
                d - 1
            ));
        }
        let expected = match covariance_type {
            CovarianceType::Diag | CovarianceType::Spherical => 1,
            CovarianceType::Full | CovarianceType::Tied => d * d,
        };
        if self.scale.len() != expected || self.scale.iter().any(|v| !v.is_finite()) {
            return bad(format!(
                "a {covariance_type} model needs a prior scale of {expected} finite values, got {}",
                self.scale.len()
            ));
        }
        let positive = match covariance_type {
            CovarianceType::Diag | CovarianceType::Spherical => self.scale[0] > 0.0,
            CovarianceType::Full | CovarianceType::Tied => {
                (0..d).all(|j| self.scale[j * d + j] > 0.0)
            }
        };
        if !positive {
            return bad("the prior scale must be positive: is a data column constant?".into());
        }
        Ok(())
    }
}

/// The MAP update: [`ConjugatePrior`]'s posterior mode plus the numeric guards.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRule {
    /// The prior.
    pub prior: ConjugatePrior,
    /// `reg_covar` and the variance floor, applied after the posterior mode.
    pub regularisation: Regularisation,
}

impl MapRule {
    /// A rule from a prior and guards.
    pub fn new(prior: ConjugatePrior, regularisation: Regularisation) -> Self {
        Self { prior, regularisation }
    }
}

impl UpdateRule for MapRule {
    fn update(
        &self,
        stats: &SuffStats,
        previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        map_parameters(stats, previous.covariance_type, &self.prior, self.regularisation)
    }

    fn reg_covar(&self) -> f64 {
        self.regularisation.reg_covar
    }
}

/// The posterior mode of the module docs.
pub fn map_parameters(
    stats: &SuffStats,
    covariance_type: CovarianceType,
    prior: &ConjugatePrior,
    regularisation: Regularisation,
) -> Result<(Parameters, GuardCounts)> {
    let (k, d) = (stats.n_components, stats.n_features);
    prior.validate(d, covariance_type)?;
    if MomentLayout::for_covariance(covariance_type) != stats.layout {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "statistics with {:?} moments cannot fit a {covariance_type} model",
                stats.layout
            ),
        ));
    }
    let total = total_weight(stats)?;
    let mut guards = GuardCounts::default();
    let empty_below = stats.empty_threshold();
    let kappa = prior.shrinkage;
    let mut means = vec![0.0; k * d];
    // Per component: the count used (0 when empty), a_k and e_k.
    let mut used = vec![0.0; k];
    let mut a = vec![0.0; k];
    let mut e = vec![0.0; k * d];
    let mut delta = vec![0.0; k * d];
    for c in 0..k {
        let n = stats.counts[c];
        if n <= empty_below {
            guards.empty_components += 1;
            means[c * d..(c + 1) * d].copy_from_slice(&prior.mean);
            continue;
        }
        used[c] = n;
        a[c] = kappa * n / (kappa + n);
        for j in 0..d {
            let at = c * d + j;
            delta[at] = stats.first[at] / n;
            let ybar = stats.shift[at] + delta[at];
            e[at] = ybar - prior.mean[j];
            means[at] = (n * ybar + kappa * prior.mean[j]) / (kappa + n);
        }
    }
    // W_k (around the component's weighted mean) from the shifted moments.
    let scatter_diag = |c: usize, j: usize| {
        let at = c * d + j;
        match stats.layout {
            MomentLayout::Diagonal => stats.second[at] - used[c] * delta[at] * delta[at],
            MomentLayout::Full => {
                stats.second[c * d * d + j * d + j] - used[c] * delta[at] * delta[at]
            }
        }
    };
    let scatter_full = |c: usize, i: usize, j: usize| {
        let (i, j) = if i >= j { (i, j) } else { (j, i) };
        stats.second[c * d * d + i * d + j] - used[c] * delta[c * d + i] * delta[c * d + j]
    };
    let reg = regularisation.reg_covar;
    let mut floored = GuardCounts::default();
    let mut floor = |v: f64| regularisation.floor(v, &mut floored);
    let nu = prior.dof;
    let df = d as f64;
    let covariances: Vec<f64> = match covariance_type {
        CovarianceType::Diag => {
            let mut out = vec![0.0; k * d];
            for c in 0..k {
                for j in 0..d {
                    let w = if used[c] > 0.0 { scatter_diag(c, j) } else { 0.0 };
                    let e2 = e[c * d + j] * e[c * d + j];
                    let v = (prior.scale[0] + a[c] * e2 + w) / (nu + used[c] + 3.0);
                    out[c * d + j] = floor(v + reg);
                }
            }
            out
        }
        CovarianceType::Spherical => (0..k)
            .map(|c| {
                let (mut w, mut e2) = (0.0, 0.0);
                for j in 0..d {
                    if used[c] > 0.0 {
                        w += scatter_diag(c, j);
                    }
                    e2 += e[c * d + j] * e[c * d + j];
                }
                let v = (prior.scale[0] + a[c] * e2 + w) / (nu + (used[c] + 1.0) * df + 2.0);
                floor(v + reg)
            })
            .collect(),
        CovarianceType::Full => {
            let mut out = vec![0.0; k * d * d];
            for c in 0..k {
                let denominator = nu + df + 2.0 + used[c];
                let cov = &mut out[c * d * d..(c + 1) * d * d];
                for i in 0..d {
                    for j in 0..=i {
                        let w = if used[c] > 0.0 { scatter_full(c, i, j) } else { 0.0 };
                        let v = (prior.scale[i * d + j] + a[c] * e[c * d + i] * e[c * d + j] + w)
                            / denominator;
                        cov[i * d + j] = v;
                        cov[j * d + i] = v;
                    }
                    cov[i * d + i] = floor(cov[i * d + i] + reg);
                }
            }
            out
        }
        CovarianceType::Tied => {
            let n: f64 = used.iter().sum();
            let denominator = nu + df + 1.0 + k as f64 + n;
            let mut cov = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..=i {
                    let mut v = prior.scale[i * d + j];
                    for c in (0..k).filter(|&c| used[c] > 0.0) {
                        v += a[c] * e[c * d + i] * e[c * d + j] + scatter_full(c, i, j);
                    }
                    cov[i * d + j] = v / denominator;
                    cov[j * d + i] = v / denominator;
                }
                cov[i * d + i] = floor(cov[i * d + i] + reg);
            }
            cov
        }
    };
    guards.floored_variances = floored.floored_variances;
    let weights = stats.counts.iter().map(|n| n / total).collect();
    Ok((Parameters { covariance_type, weights, means, covariances }, guards))
}
