//! The maximum-likelihood update: statistics in, a new validated model out.
//!
//! ```text
//! w_k = N_k / Σ_j N_j,     μ_k = s_k + F_k / N_k,     δ_k = F_k / N_k,
//! diag:      σ²_kj = S_kj / N_k - δ_kj² + reg_covar
//! spherical: σ²_k  = mean_j (S_kj / N_k - δ_kj²) + reg_covar
//! full:      Σ_k   = S_k / N_k - δ_k δ_kᵀ + reg_covar I
//! tied:      Σ     = Σ_k (S_k - N_k δ_k δ_kᵀ) / Σ_k N_k + reg_covar I
//! ```
//!
//! as scikit-learn's `_estimate_gaussian_parameters` (which adds `10 ε` to every `N_k`; here
//! empty components are handled explicitly instead, see below).
//!
//! **Guards.** `variance_floor`, when set, raises any variance (the diagonal of a full or tied
//! covariance) below it to it; every raised value is counted. A component whose `N_k` is at
//! most `10 ε Σ_j N_j` is *empty*: it keeps the mean and covariance of the `fallback` (the
//! previous model during EM) and gets weight `N_k / Σ_j N_j` (≈ 0), and is counted. A
//! covariance that is not positive definite after all this is an error naming the component.

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result};

use crate::stats::SuffStats;

/// The numeric guards of an M-step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularisation {
    /// Added to every variance (the covariance diagonal).
    pub reg_covar: f64,
    /// Lower bound applied to variances after `reg_covar`, if any.
    pub variance_floor: Option<f64>,
}

/// What the guards did in one M-step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardCounts {
    /// Components that were empty.
    pub empty_components: usize,
    /// Variances raised to the floor.
    pub floored_variances: usize,
}

impl GuardCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: GuardCounts) {
        self.empty_components += other.empty_components;
        self.floored_variances += other.floored_variances;
    }
}

/// Means and covariances an empty component keeps (the type's covariance layout, `f64`).
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    /// `k x d` means.
    pub means: Vec<f64>,
    /// Covariances laid out as the covariance type documents.
    pub covariances: Vec<f64>,
}

impl Fallback {
    /// The parameters of `model`.
    pub fn from_model<T: Real>(model: &GaussianMixture<T>) -> Self {
        Self {
            means: model.means().iter().map(|v| v.to_f64()).collect(),
            covariances: model.covariances().iter().map(|v| v.to_f64()).collect(),
        }
    }
}

/// Maximum-likelihood parameters from `stats` (see the module docs).
pub fn maximum_likelihood<T: Real>(
    stats: &SuffStats,
    covariance_type: CovarianceType,
    regularisation: Regularisation,
    fallback: &Fallback,
) -> Result<(GaussianMixture<T>, GuardCounts)> {
    let (parameters, guards) =
        maximum_likelihood_parameters(stats, covariance_type, regularisation, fallback)?;
    Ok((parameters.into_model(regularisation.reg_covar)?, guards))
}

/// The total weight of `stats`, or an error when it is not positive and finite.
pub(crate) fn total_weight(stats: &SuffStats) -> Result<f64> {
    let total: f64 = stats.counts.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(Error::new(
            ErrorKind::InvalidSampleWeights,
            format!(
                "the samples carry no weight (total {total}): give some samples positive weight"
            ),
        ));
    }
    Ok(total)
}

/// [`maximum_likelihood`]'s parameters in `f64`, before they are validated into a model.
pub fn maximum_likelihood_parameters(
    stats: &SuffStats,
    covariance_type: CovarianceType,
    regularisation: Regularisation,
    fallback: &Fallback,
) -> Result<(Parameters, GuardCounts)> {
    let (k, d) = (stats.n_components, stats.n_features);
    let total = total_weight(stats)?;
    let mut guards = GuardCounts::default();
    let empty_below = 10.0 * f64::EPSILON * total;
    let empty: Vec<bool> = stats.counts.iter().map(|&n| n <= empty_below).collect();
    guards.empty_components = empty.iter().filter(|&&e| e).count();
    let weights: Vec<f64> = stats.counts.iter().map(|n| n / total).collect();
    let mut means = vec![0.0; k * d];
    let mut deltas = vec![0.0; k * d];
    for c in 0..k {
        for j in 0..d {
            let at = c * d + j;
            if empty[c] {
                means[at] = fallback.means[at];
            } else {
                deltas[at] = stats.first[at] / stats.counts[c];
                means[at] = stats.shift[at] + deltas[at];
            }
        }
    }
    let reg = regularisation.reg_covar;
    let mut floor = |v: f64| match regularisation.variance_floor {
        Some(f) if v < f => {
            guards.floored_variances += 1;
            f
        }
        _ => v,
    };
    let covariances: Vec<f64> = match covariance_type {
        CovarianceType::Diag | CovarianceType::Spherical => {
            let mut variances = vec![0.0; k * d];
            for c in (0..k).filter(|&c| !empty[c]) {
                for j in 0..d {
                    let at = c * d + j;
                    variances[at] = stats.second[at] / stats.counts[c] - deltas[at] * deltas[at];
                }
            }
            if covariance_type == CovarianceType::Diag {
                (0..k * d)
                    .map(|at| {
                        if empty[at / d] {
                            fallback.covariances[at]
                        } else {
                            floor(variances[at] + reg)
                        }
                    })
                    .collect()
            } else {
                (0..k)
                    .map(|c| {
                        if empty[c] {
                            fallback.covariances[c]
                        } else {
                            floor(
                                variances[c * d..(c + 1) * d].iter().sum::<f64>() / d as f64 + reg,
                            )
                        }
                    })
                    .collect()
            }
        }
        CovarianceType::Full => {
            let mut out = vec![0.0; k * d * d];
            for c in 0..k {
                let cov = &mut out[c * d * d..(c + 1) * d * d];
                if empty[c] {
                    cov.copy_from_slice(&fallback.covariances[c * d * d..(c + 1) * d * d]);
                    continue;
                }
                let second = &stats.second[c * d * d..(c + 1) * d * d];
                let delta = &deltas[c * d..(c + 1) * d];
                for i in 0..d {
                    for j in 0..=i {
                        let v = second[i * d + j] / stats.counts[c] - delta[i] * delta[j];
                        cov[i * d + j] = v;
                        cov[j * d + i] = v;
                    }
                    cov[i * d + i] = floor(cov[i * d + i] + reg);
                }
            }
            out
        }
        CovarianceType::Tied => {
            let mut cov = vec![0.0; d * d];
            for c in (0..k).filter(|&c| !empty[c]) {
                let second = &stats.second[c * d * d..(c + 1) * d * d];
                let delta = &deltas[c * d..(c + 1) * d];
                for i in 0..d {
                    for j in 0..=i {
                        cov[i * d + j] += second[i * d + j] - stats.counts[c] * delta[i] * delta[j];
                    }
                }
            }
            for i in 0..d {
                for j in 0..=i {
                    let v = cov[i * d + j] / total;
                    cov[i * d + j] = v;
                    cov[j * d + i] = v;
                }
                cov[i * d + i] = floor(cov[i * d + i] + reg);
            }
            cov
        }
    };
    Ok((Parameters { covariance_type, weights, means, covariances }, guards))
}

/// Mixture parameters in `f64`, laid out as [`GaussianMixture`] documents: what an update rule
/// produces before it is validated (and converted to the data's precision) as a model.
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
