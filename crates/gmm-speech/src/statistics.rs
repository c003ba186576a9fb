//! Baum-Welch statistics of an utterance under a UBM: what i-vector extractors and PLDA
//! back-ends take, and what relevance-MAP adaptation ([`crate::adapt::adapt_from_stats`]) takes when
//! merged over several files.
//!
//! # The maths
//!
//! With the UBM's exact posteriors `γ_tk = w_k N(x_t | μ_k, Σ_k) / p(x_t)`:
//!
//! ```text
//! N_k = Σ_t γ_tk,        F̃_k = Σ_t γ_tk (x_t - μ_k),
//! ```
//!
//! the zeroth-order statistics and the first-order ones centred on the UBM means. They are the
//! counts and first moments of one E-step whose shift is the UBM mean ([`SuffStats`], which
//! [`ubm_statistics`] returns whole: with second moments, mergeable).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_speech::baum_welch_stats;
//!
//! let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 3, 2.0, 1)?;
//! let (x, _) = ubm.sample(200, 2)?;
//! let bw = baum_welch_stats(&ubm, x.samples())?;
//! assert_eq!((bw.zeroth.len(), bw.first.len()), (4, 12));
//! assert!((bw.zeroth.iter().sum::<f64>() - 200.0).abs() < 1e-9);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Current implementation
//!
//! One pass of gmm-em's fused E-step (`f64` statistics, blocked, reduced by a fixed tree:
//! bit-identical for any thread count).

use gmm_core::{GaussianMixture, Real, Result, Samples};
use gmm_em::SuffStats;

/// Zeroth- and centred first-order Baum-Welch statistics of one utterance under a UBM.
#[derive(Debug, Clone, PartialEq)]
pub struct BaumWelchStats {
    /// `N_k = Σ_t γ_tk`, `k` values.
    pub zeroth: Vec<f64>,
    /// `F̃_k = Σ_t γ_tk (x_t - μ_k)`, `k x d` row-major.
    pub first: Vec<f64>,
    /// Mean log-likelihood per frame under the UBM.
    pub log_likelihood: f64,
}

/// Baum-Welch statistics of the frames `x` under `ubm` (exact posteriors).
///
/// # Errors
/// Frames of the wrong dimension, not finite, or none.
pub fn baum_welch_stats<T: Real>(
    ubm: &GaussianMixture<T>,
    x: Samples<'_, T>,
) -> Result<BaumWelchStats> {
    let stats = ubm_statistics(ubm, x)?;
    Ok(BaumWelchStats {
        log_likelihood: stats.mean_log_likelihood(),
        zeroth: stats.counts().to_vec(),
        first: stats.first().to_vec(),
    })
}

/// The full [`SuffStats`] of one UBM E-step over `x` (shifted by the UBM means): what
/// [`crate::adapt::adapt_from_stats`] takes, mergeable over files.
///
/// # Errors
/// Frames of the wrong dimension, not finite, or none.
pub fn ubm_statistics<T: Real>(ubm: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<SuffStats> {
    gmm_em::e_step(ubm, x, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::CovarianceType;
    use gmm_core::ErrorKind;
    use gmm_core::kernel::reference;

    #[test]
    fn baum_welch_stats_match_posteriors() {
        let ubm = GaussianMixture::<f32>::random(CovarianceType::Diag, 4, 3, 2.0, 8).unwrap();
        let (x, _) = ubm.sample(250, 1).unwrap();
        let x = x.samples();
        let bw = baum_welch_stats(&ubm, x).unwrap();
        let (mut n, mut f) = (vec![0.0; 4], vec![0.0; 12]);
        for t in 0..250 {
            let p = reference::posteriors(&ubm, x.row(t));
            for k in 0..4 {
                n[k] += p[k];
                for j in 0..3 {
                    f[k * 3 + j] += p[k] * (x.row(t)[j] as f64 - ubm.mean(k)[j] as f64);
                }
            }
        }
        // f32 responsibilities: relative accuracy about 1e-6 per term.
        for k in 0..4 {
            assert!((bw.zeroth[k] - n[k]).abs() < 1e-4 * (1.0 + n[k]), "{k}");
            for j in 0..3 {
                let at = k * 3 + j;
                assert!((bw.first[at] - f[at]).abs() < 1e-4 * (1.0 + f[at].abs()), "{at}");
            }
        }
        let ll = (0..250).map(|t| reference::log_likelihood(&ubm, x.row(t))).sum::<f64>() / 250.0;
        assert!((bw.log_likelihood - ll).abs() < 1e-5 * (1.0 + ll.abs()), "{ll}");
    }

    #[test]
    fn bad_frames_are_errors_of_their_kind() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 2, 2.0, 1).unwrap();
        let x = gmm_core::Matrix::from_vec(vec![0.0, 1.0, 2.0], 3).unwrap();
        let err = baum_welch_stats(&ubm, x.samples()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DimensionMismatch { .. }), "{err}");
        let x = gmm_core::Matrix::from_vec(vec![0.0, f64::NAN], 2).unwrap();
        let err = ubm_statistics(&ubm, x.samples()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NonFiniteValue { .. }), "{err}");
    }
}
