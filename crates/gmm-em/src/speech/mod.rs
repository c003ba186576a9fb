//! Scoring against a universal background model: log-likelihood ratios, top-C Gaussian
//! selection, and the Baum-Welch statistics that i-vector / PLDA back-ends consume.
//!
//! # The maths
//!
//! A speaker model `s` (usually [MAP-adapted](crate::adapt) from the UBM `u`) scores an
//! utterance of `T` frames by the average per-frame log-likelihood ratio
//!
//! ```text
//! LLR = (1/T) Σ_t [ log p_s(x_t) - log p_u(x_t) ],     log p(x) = logsumexp_k ℓ_k(x),
//! ℓ_k(x) = log w_k + log N(x | μ_k, Σ_k).
//! ```
//!
//! **Top-C scoring** (Reynolds, Quatieri & Dunn 2000, §3.3; Kaldi's `gmm-gselect`): for each
//! frame the `C` components with the largest `ℓ_k^u(x)` under the UBM are chosen, and *both*
//! log-likelihoods are sums over those `C` components only:
//!
//! ```text
//! log p_u(x) ≈ logsumexp_{k ∈ top_C(x)} ℓ_k^u(x),    log p_s(x) ≈ logsumexp_{k ∈ top_C(x)} ℓ_k^s(x).
//! ```
//!
//! This works because an adapted model's components stay near their UBM parents, so the few
//! components that carry a frame's mass are the same in both; the truncation errors of the two
//! terms largely cancel in the ratio. The selection is made once and reused for any number of
//! speaker models ([`GaussianSelection`]).
//!
//! **The beam rule** ([`TopC::beam`]) keeps, of the `C` best, only the components within `b`
//! nats of the frame's best (`ℓ_k^u(x) ≥ max_j ℓ_j^u(x) - b`): a frame owned by one component
//! keeps one or two, a frame between clusters up to `C`. On FSDD with a 512-component UBM,
//! `C = 16, b = 8` keeps 7.6 components per frame on average and every utterance's LLR within
//! 0.0052 of exact, where a fixed `C = 5` is off by up to 0.058 and a fixed `C` needs 12 to stay
//! within 0.01 (`examples/fsdd_speakers.rs`, docs/PERFORMANCE.md).
//!
//! **Baum-Welch statistics** of an utterance under the UBM are the zeroth- and centred
//! first-order statistics `N_k = Σ_t γ_tk` and `F̃_k = Σ_t γ_tk (x_t - μ_k)` — the
//! [`SuffStats`] counts and first moments of one E-step, whose shift is the UBM mean.
//!
//! # Types
//!
//! * [`llr`]: exact or top-C average LLR of one utterance;
//! * [`TopC`]: the selection rule (`C`, optional beam);
//! * [`GaussianSelection`]: the selected components and UBM log-likelihoods of one utterance,
//!   reused to score speaker models ([`GaussianSelection::log_likelihoods`],
//!   [`GaussianSelection::log_likelihoods_many`], [`GaussianSelection::llr`]);
//! * [`BaumWelchStats`] / [`baum_welch_stats`].
//!
//! # Current implementation
//!
//! `selection.rs`: gmm-core's blocked kernel (`log_densities` on a `BlockScratch`) scores the
//! UBM once per block of frames — the only `O(T K d)` work — and the selection reads its
//! component-major rows: a fixed `C` by a SIMD insertion network, the beam rule by a SIMD max
//! pass and a SIMD compare pass whose few hits (a lane mask, then the set bits) are appended to
//! per-frame buffers (cut to the best `C` when full). `evaluate.rs`: a speaker model then costs
//! `O(T C d)`: the selected components are evaluated one by one (a table of means and inverse
//! variances in the model's precision for diagonal models, the precision Cholesky factor
//! otherwise), the quadratic forms with 8 SIMD partial sums added in one fixed order, and the
//! log-sum-exps with gmm-core's vectorised `exp`. [`GaussianSelection::log_likelihoods_many`]
//! scores several models in one pass. Blocks run in parallel; every per-frame value is
//! independent of the thread count and sums are taken in frame order, so scores are
//! bit-identical for any number of threads.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::adapt::{AdaptConfig, adapt};
//! use gmm_em::speech::{TopC, llr};
//!
//! let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 8, 3, 3.0, 1)?;
//! let (x, _) = ubm.sample(500, 2)?;
//! let speaker = adapt(&ubm, x.samples(), &AdaptConfig::default())?;
//! let exact = llr(&speaker, &ubm, x.samples(), None)?;
//! let fast = llr(&speaker, &ubm, x.samples(), Some(TopC::new(5)))?;
//! assert!(exact > 0.0 && (exact - fast).abs() < 0.05);
//! // Up to 5, only those within 8 nats of each frame's best.
//! let beam = llr(&speaker, &ubm, x.samples(), Some(TopC::new(5).beam(8.0)))?;
//! assert!((exact - beam).abs() < 0.05);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, Samples};

use crate::pass::e_step;
use crate::stats::SuffStats;

mod evaluate;
mod selection;

pub use selection::{DEFAULT_TOP_C, GaussianSelection, TopC};

/// Average per-frame log-likelihood ratio of `speaker` against `ubm` over the frames `x`:
/// exact with `top_c = None`, with Gaussian selection on the UBM by the rule `top_c` otherwise.
///
/// # Errors
/// Models of different shape (top-C needs the speaker model to share the UBM's `k` and `d`),
/// frames of the wrong dimension or not finite, no frames, a bad rule ([`TopC::validate`]).
pub fn llr<T: Real>(
    speaker: &GaussianMixture<T>,
    ubm: &GaussianMixture<T>,
    x: Samples<'_, T>,
    top_c: Option<TopC>,
) -> Result<f64> {
    if x.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames to score: give at least one"));
    }
    match top_c {
        None => {
            speaker.check_samples(x)?;
            let s = speaker.total_log_likelihood(x)?;
            let u = ubm.total_log_likelihood(x)?;
            Ok((s - u) / x.n_samples() as f64)
        }
        Some(rule) => GaussianSelection::select(ubm, x, rule)?.llr(speaker, x),
    }
}

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
        log_likelihood: stats.log_likelihood / stats.total_weight,
        zeroth: stats.counts,
        first: stats.first,
    })
}

/// The full [`SuffStats`] of one UBM E-step over `x` (shifted by the UBM means): what
/// [`crate::adapt::adapt_from_stats`] takes, mergeable over files.
///
/// # Errors
/// Frames of the wrong dimension, not finite, or none.
pub fn ubm_statistics<T: Real>(ubm: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<SuffStats> {
    ubm.check_samples(x)?;
    if x.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames: give at least one"));
    }
    e_step(ubm, x, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::CovarianceType;
    use gmm_core::kernel::reference;

    #[test]
    fn exact_llr_matches_reference_and_top_all_is_exact() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 6, 2, 2.0, 1).unwrap();
        let spk = GaussianMixture::<f64>::random(CovarianceType::Diag, 6, 2, 2.0, 2).unwrap();
        let (x, _) = spk.sample(300, 3).unwrap();
        let x = x.samples();
        let want = (0..300)
            .map(|t| {
                reference::log_likelihood(&spk, x.row(t))
                    - reference::log_likelihood(&ubm, x.row(t))
            })
            .sum::<f64>()
            / 300.0;
        let exact = llr(&spk, &ubm, x, None).unwrap();
        let all = llr(&spk, &ubm, x, Some(TopC::new(6))).unwrap();
        assert!((exact - want).abs() < 1e-9, "{exact} vs {want}");
        assert!((all - want).abs() < 1e-9, "{all} vs {want}");
    }

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
    }

    #[test]
    fn bad_inputs_are_errors() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 2, 2.0, 1).unwrap();
        let other = GaussianMixture::<f64>::random(CovarianceType::Diag, 5, 2, 2.0, 1).unwrap();
        let (x, _) = ubm.sample(10, 1).unwrap();
        assert!(GaussianSelection::new(&ubm, x.samples(), 0).is_err());
        for beam in [-1.0, f64::NAN, f64::INFINITY] {
            let rule = TopC::new(3).beam(beam);
            let err = GaussianSelection::select(&ubm, x.samples(), rule).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{beam}");
        }
        assert!(llr(&other, &ubm, x.samples(), Some(TopC::new(2))).is_err());
        let empty = gmm_core::Matrix::<f64>::from_vec(vec![], 2);
        if let Ok(m) = empty {
            assert!(llr(&ubm, &ubm, m.samples(), None).is_err());
        }
    }
}
