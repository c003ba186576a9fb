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
//! most `10 ε Σ_j N_j` is *empty*: it keeps the mean and covariance of the previous model and gets weight `N_k / Σ_j N_j` (≈ 0), and is counted. A
//! covariance that is not positive definite after all this is an error naming the component.

use gmm_core::{CovarianceType, Error, ErrorKind, Result};

use crate::stats::SuffStats;
use crate::update::{GuardCounts, Parameters, Regularisation};

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

/// Maximum-likelihood parameters from `stats` (see the module docs) of `previous`'s covariance
/// type; empty components keep `previous`'s means and covariances.
pub fn maximum_likelihood_parameters(
    stats: &SuffStats,
    previous: &Parameters,
    regularisation: Regularisation,
) -> Result<(Parameters, GuardCounts)> {
    let (k, d) = (stats.n_components, stats.n_features);
    let covariance_type = previous.covariance_type;
    let fallback = previous;
    let total = total_weight(stats)?;
    let mut guards = GuardCounts::default();
    let empty_below = stats.empty_threshold();
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
    let mut floored = GuardCounts::default();
    let mut floor = |v: f64| regularisation.floor(v, &mut floored);
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
    guards.floored_variances = floored.floored_variances;
    Ok((Parameters { covariance_type, weights, means, covariances }, guards))
}
