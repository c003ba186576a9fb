//! Relevance adaptation of a universal background model (UBM) to one speaker's data (the
//! "MAP adaptation" of Reynolds, Quatieri & Dunn 2000, "Speaker verification using adapted
//! Gaussian mixture models"; named by its relevance factor here, so that "MAP" in gmm means one
//! thing: EM under a conjugate prior, [`gmm_em::map`]).
//!
//! # The maths
//!
//! One E-step of the UBM (`w_k, μ_k, Σ_k`) over the speaker's frames gives the statistics of
//! [`SuffStats`], shifted by the UBM means: `N_k = Σ_n r_nk`, `F_k = Σ_n r_nk (x_n - μ_k)`,
//! `S_k = Σ_n r_nk (x_n - μ_k)²` (per dimension; outer products for full covariances). With
//! the relevance factor `r` and the data-dependent coefficient `α_k = N_k / (N_k + r)`:
//!
//! ```text
//! means:      μ̂_k = α_k E_k[x] + (1 - α_k) μ_k            = μ_k + F_k / (N_k + r)
//! variances:  σ̂²_k = α_k E_k[x²] + (1 - α_k)(σ²_k + μ²_k) - μ̂²_k
//!                  = (S_k + r σ²_k) / (N_k + r) - δ_k²,    δ_k = μ̂_k - μ_k
//! weights:    ŵ_k = γ (α_k N_k / T + (1 - α_k) w_k),       T = Σ_k N_k, γ normalises Σ ŵ = 1
//! ```
//!
//! The right-hand forms are the same quantities written around the UBM mean, so nothing is
//! computed as `E[x²] - E[x]²` on raw values. Statistics collected under another model (a
//! second adaptation iteration, from the adapted model) are first moved to the UBM means
//! exactly ([`SuffStats::reshift`]). A component that sees no data (`N_k = 0`) keeps
//! the UBM's parameters exactly. One `r` is used for all parameters (the paper's choice);
//! `r = 16` is its default. Full covariances adapt by the same formula with outer products;
//! a tied covariance cannot be adapted per component (means and weights still can).
//!
//! # Types
//!
//! * [`AdaptConfig`]: the relevance factor and which parameters to adapt;
//! * [`RelevanceAdaptation`]: the update as an [`UpdateRule`] (the UBM is its prior), so it
//!   runs in the ordinary driver too (iterated adaptation);
//! * [`adapt`]: UBM + frames → adapted model; [`adapt_from_stats`]: the same from statistics
//!   already accumulated (for example merged over several files).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_speech::adapt::{AdaptConfig, adapt};
//!
//! let ubm = GaussianMixture::<f64>::new(
//!     CovarianceType::Diag, vec![0.5, 0.5], vec![-1.0, 1.0], vec![1.0, 1.0])?;
//! let frames = gmm_core::Matrix::from_vec(vec![1.5, 2.0, 2.5], 1)?;
//! let speaker = adapt(&ubm, frames.samples(), &AdaptConfig::default())?;
//! assert!(speaker.means()[1] > 1.0); // the right component moved toward the data
//! assert_eq!(speaker.covariances(), ubm.covariances()); // means only by default
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};

use gmm_em::update::{GuardCounts, Parameters, UpdateRule};
use gmm_em::{MomentLayout, SuffStats, e_step};

/// Settings of a MAP adaptation. Default: `r = 16`, means only (the paper's recommendation
/// for speaker verification).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptConfig {
    relevance: f64,
    means: bool,
    weights: bool,
    variances: bool,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        Self { relevance: 16.0, means: true, weights: false, variances: false }
    }
}

impl AdaptConfig {
    /// Relevance factor `r` (> 0, default 16): how many frames a component must see before
    /// its own data and the UBM weigh equally.
    pub fn relevance(mut self, r: f64) -> Self {
        self.relevance = r;
        self
    }
    /// Adapt the means (default true).
    pub fn adapt_means(mut self, yes: bool) -> Self {
        self.means = yes;
        self
    }
    /// Adapt the weights (default false).
    pub fn adapt_weights(mut self, yes: bool) -> Self {
        self.weights = yes;
        self
    }
    /// Adapt the variances (default false; not for tied covariances).
    pub fn adapt_variances(mut self, yes: bool) -> Self {
        self.variances = yes;
        self
    }
    /// Relevance factor.
    pub fn get_relevance(&self) -> f64 {
        self.relevance
    }
    /// Whether means are adapted.
    pub fn get_adapt_means(&self) -> bool {
        self.means
    }
    /// Whether weights are adapted.
    pub fn get_adapt_weights(&self) -> bool {
        self.weights
    }
    /// Whether variances are adapted.
    pub fn get_adapt_variances(&self) -> bool {
        self.variances
    }

    /// Checks the settings; the error names the setting and the accepted range.
    pub fn validate(&self) -> Result<()> {
        if !(self.relevance.is_finite() && self.relevance > 0.0) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "relevance factor is {:?}: use a finite value > 0 (16 is usual)",
                    self.relevance
                ),
            ));
        }
        Ok(())
    }

    /// [`AdaptConfig::validate`], and that a UBM of `covariance_type` can be adapted this way.
    fn validate_for(&self, covariance_type: CovarianceType) -> Result<()> {
        self.validate()?;
        if self.variances && covariance_type == CovarianceType::Tied {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "a tied covariance cannot be MAP-adapted per component: adapt means and weights \
                 only, or use a diag or full UBM",
            ));
        }
        Ok(())
    }
}

/// Adapts `ubm` to the frames `x` (see the module docs): one E-step under the UBM, then
/// [`RelevanceAdaptation`].
pub fn adapt<T: Real>(
    ubm: &GaussianMixture<T>,
    x: Samples<'_, T>,
    config: &AdaptConfig,
) -> Result<GaussianMixture<T>> {
    config.validate_for(ubm.covariance_type())?;
    let stats = e_step(ubm, x, None)?;
    adapt_from_stats(ubm, &stats, config)
}

/// The adapted model from statistics already accumulated under `ubm` (its E-step, perhaps
/// merged over several files).
pub fn adapt_from_stats<T: Real>(
    ubm: &GaussianMixture<T>,
    stats: &SuffStats,
    config: &AdaptConfig,
) -> Result<GaussianMixture<T>> {
    config.validate_for(ubm.covariance_type())?;
    let (k, d) = (ubm.n_components(), ubm.n_features());
    let layout = MomentLayout::for_covariance(ubm.covariance_type());
    let same_shift = stats.shift().len() == k * d
        && stats.shift().iter().zip(ubm.means()).all(|(s, m)| *s == m.to_f64());
    if stats.n_components() != k
        || stats.n_features() != d
        || stats.layout() != layout
        || !same_shift
    {
        return Err(Error::new(
            ErrorKind::MismatchedStatistics,
            "the statistics were not collected with this UBM: accumulate them with the UBM's \
             own E-step (shifted by its means)",
        ));
    }
    let rule = RelevanceAdaptation::new(ubm, *config)?;
    let (p, _) = rule.update(stats, &rule.ubm)?;
    let conv = |v: Vec<f64>| v.into_iter().map(T::from_f64).collect::<Vec<T>>();
    GaussianMixture::new(p.covariance_type, conv(p.weights), conv(p.means), conv(p.covariances))
        .map_err(|e| {
            e.context("after relevance adaptation (raise the relevance factor or adapt means only)")
        })
}

/// Relevance adaptation as an [`UpdateRule`]: the UBM (held in `f64`) is the prior; the
/// statistics may come from any model of the UBM's shape (they are moved to the UBM's means
/// first). The `previous` model of [`UpdateRule::update`] is not used: components without
/// data keep the UBM's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RelevanceAdaptation {
    ubm: Parameters,
    config: AdaptConfig,
}

impl RelevanceAdaptation {
    /// The rule adapting `ubm` with `config`.
    pub fn new<T: Real>(ubm: &GaussianMixture<T>, config: AdaptConfig) -> Result<Self> {
        config.validate_for(ubm.covariance_type())?;
        Ok(Self { ubm: Parameters::from_model(ubm), config })
    }
}

impl UpdateRule for RelevanceAdaptation {
    fn update(
        &self,
        stats: &SuffStats,
        _previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        let ubm = &self.ubm;
        let covariance_type = ubm.covariance_type;
        let (k, d) = (ubm.n_components(), ubm.n_features());
        let layout = MomentLayout::for_covariance(covariance_type);
        if stats.n_components() != k || stats.n_features() != d || stats.layout() != layout {
            return Err(Error::new(
                ErrorKind::MismatchedStatistics,
                format!(
                    "statistics of {} components x {} features cannot adapt a UBM of {k} x {d}: \
                     accumulate them under the UBM or a model adapted from it",
                    stats.n_components(),
                    stats.n_features()
                ),
            ));
        }
        let moved;
        let stats = if stats.shift() == ubm.means {
            stats
        } else {
            let mut s = stats.clone();
            s.reshift(&ubm.means)?;
            moved = s;
            &moved
        };
        let config = &self.config;
        let r = config.relevance;
        let (w0, mu0, cov0) = (&ubm.weights, &ubm.means, &ubm.covariances);
        let alpha: Vec<f64> = stats.counts().iter().map(|&n| n / (n + r)).collect();
        // δ_k = F_k / (N_k + r): the move of the mean (0 where no data was seen).
        let delta: Vec<f64> =
            (0..k * d).map(|at| stats.first()[at] / (stats.counts()[at / d] + r)).collect();

        let means = if config.means {
            mu0.iter().zip(&delta).map(|(m, dl)| m + dl).collect()
        } else {
            mu0.clone()
        };
        let weights = if config.weights {
            let total: f64 = stats.counts().iter().sum();
            let raw: Vec<f64> = (0..k)
                .map(|c| {
                    let ml = if total > 0.0 { stats.counts()[c] / total } else { 0.0 };
                    alpha[c] * ml + (1.0 - alpha[c]) * w0[c]
                })
                .collect();
            let sum: f64 = raw.iter().sum();
            raw.iter().map(|v| v / sum).collect()
        } else {
            w0.clone()
        };
        // With means kept, the variance is taken around the UBM mean: δ = 0 in the formula.
        let shift_of = |at: usize| if config.means { delta[at] } else { 0.0 };
        let covariances = if !config.variances {
            cov0.clone()
        } else {
            let n_r = |c: usize| stats.counts()[c] + r;
            match covariance_type {
                CovarianceType::Diag => (0..k * d)
                    .map(|at| {
                        (stats.second()[at] + r * cov0[at]) / n_r(at / d) - shift_of(at).powi(2)
                    })
                    .collect(),
                CovarianceType::Spherical => (0..k)
                    .map(|c| {
                        (0..d)
                            .map(|j| {
                                let at = c * d + j;
                                (stats.second()[at] + r * cov0[c]) / n_r(c) - shift_of(at).powi(2)
                            })
                            .sum::<f64>()
                            / d as f64
                    })
                    .collect(),
                CovarianceType::Full => {
                    let mut out = vec![0.0; k * d * d];
                    for c in 0..k {
                        let s = &stats.second()[c * d * d..(c + 1) * d * d];
                        for i in 0..d {
                            for j in 0..=i {
                                let at = c * d * d + i * d + j;
                                let v = (s[i * d + j] + r * cov0[at]) / n_r(c)
                                    - shift_of(c * d + i) * shift_of(c * d + j);
                                out[at] = v;
                                out[c * d * d + j * d + i] = v;
                            }
                        }
                    }
                    out
                }
                // Rejected by `validate`.
                CovarianceType::Tied => cov0.clone(),
            }
        };
        Ok((Parameters { covariance_type, weights, means, covariances }, GuardCounts::default()))
    }

    fn reg_covar(&self) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::Matrix;

    /// One-dimensional, two components, three frames: every number below is worked by hand
    /// (posteriors from the closed form of two equal-variance Gaussians).
    #[test]
    fn means_match_textbook_formula_by_hand() {
        let ubm = GaussianMixture::<f64>::new(
            CovarianceType::Diag,
            vec![0.5, 0.5],
            vec![-1.0, 1.0],
            vec![1.0, 1.0],
        )
        .unwrap();
        let xs = [0.0, 1.0, 3.0];
        let x = Matrix::from_vec(xs.to_vec(), 1).unwrap();
        // Equal weights and variances: p(right | x) = 1 / (1 + exp(-2x)).
        let right: Vec<f64> = xs.iter().map(|&v| 1.0 / (1.0 + (-2.0 * v).exp())).collect();
        let left: Vec<f64> = right.iter().map(|p| 1.0 - p).collect();
        let r = 4.0;
        let adapted = |resp: &[f64], mu: f64| {
            let n: f64 = resp.iter().sum();
            let ex = resp.iter().zip(&xs).map(|(p, v)| p * v).sum::<f64>() / n;
            let a = n / (n + r);
            a * ex + (1.0 - a) * mu
        };
        let expected = [adapted(&left, -1.0), adapted(&right, 1.0)];
        let model = adapt(&ubm, x.samples(), &AdaptConfig::default().relevance(r)).unwrap();
        // By hand: N_right = 0.5 + 0.8808 + 0.9975 = 2.3783, E[x] = (0.8808 + 2.9926) / 2.3783
        // = 1.6287, α = 2.3783 / 6.3783 = 0.3729, μ̂ = 0.3729 · 1.6287 + 0.6271 · 1 = 1.2344.
        assert!((expected[1] - 1.2344).abs() < 1e-4, "{expected:?}");
        for c in 0..2 {
            assert!((model.means()[c] - expected[c]).abs() < 1e-12, "{c}: {:?}", model.means());
        }
        assert_eq!(model.weights(), ubm.weights());
        assert_eq!(model.covariances(), ubm.covariances());
    }

    /// Weights and variances against the textbook forms (`E[x²]` about the origin) computed
    /// from the reference posteriors, for diag and full models.
    #[test]
    fn weights_and_variances_match_textbook_forms() {
        for covariance_type in [CovarianceType::Diag, CovarianceType::Full] {
            let ubm = GaussianMixture::<f64>::random(covariance_type, 3, 2, 2.0, 11).unwrap();
            let (x, _) = ubm.sample(200, 5).unwrap();
            let x = x.samples();
            let r = 8.0;
            let config =
                AdaptConfig::default().relevance(r).adapt_weights(true).adapt_variances(true);
            let model = adapt(&ubm, x, &config).unwrap();
            let (k, d) = (3, 2);
            let post: Vec<Vec<f64>> = (0..x.n_samples())
                .map(|n| gmm_core::kernel::reference::posteriors(&ubm, x.row(n)))
                .collect();
            let nk: Vec<f64> = (0..k).map(|c| post.iter().map(|p| p[c]).sum()).collect();
            let total: f64 = nk.iter().sum();
            let raw: Vec<f64> = (0..k)
                .map(|c| {
                    let a = nk[c] / (nk[c] + r);
                    a * nk[c] / total + (1.0 - a) * ubm.weights()[c]
                })
                .collect();
            let sum: f64 = raw.iter().sum();
            for c in 0..k {
                assert!((model.weights()[c] - raw[c] / sum).abs() < 1e-12);
                let a = nk[c] / (nk[c] + r);
                let cov0 = ubm.covariance_matrix(c);
                let cov = model.covariance_matrix(c);
                for i in 0..d {
                    for j in 0..d {
                        if covariance_type == CovarianceType::Diag && i != j {
                            continue;
                        }
                        let exx = (0..x.n_samples())
                            .map(|n| post[n][c] * x.row(n)[i] * x.row(n)[j])
                            .sum::<f64>()
                            / nk[c];
                        let (mi, mj) = (ubm.mean(c)[i], ubm.mean(c)[j]);
                        let prior = cov0[i * d + j] + mi * mj;
                        let (ni, nj) = (model.mean(c)[i], model.mean(c)[j]);
                        let want = a * exx + (1.0 - a) * prior - ni * nj;
                        assert!(
                            (cov[i * d + j] - want).abs() < 1e-10 * (1.0 + want.abs()),
                            "{covariance_type} {c} {i} {j}: {} vs {want}",
                            cov[i * d + j]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unseen_components_keep_the_ubm() {
        let ubm = GaussianMixture::<f64>::new(
            CovarianceType::Diag,
            vec![0.5, 0.5],
            vec![-100.0, 100.0],
            vec![1.0, 1.0],
        )
        .unwrap();
        let x = Matrix::from_vec(vec![99.0, 101.5], 1).unwrap();
        let config = AdaptConfig::default().adapt_weights(true).adapt_variances(true);
        let model = adapt(&ubm, x.samples(), &config).unwrap();
        assert_eq!(model.means()[0], -100.0);
        assert_eq!(model.covariances()[0], 1.0);
        assert!(model.weights()[1] > 0.5);
    }

    #[test]
    fn bad_settings_are_errors() {
        let ubm =
            GaussianMixture::<f64>::new(CovarianceType::Diag, vec![1.0], vec![0.0], vec![1.0])
                .unwrap();
        let x = Matrix::from_vec(vec![1.0], 1).unwrap();
        for r in [0.0, -1.0, f64::NAN] {
            let e = adapt(&ubm, x.samples(), &AdaptConfig::default().relevance(r)).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidConfig);
        }
        let x2 = Matrix::from_vec(vec![1.0, 2.0], 2).unwrap();
        let e = adapt(&ubm, x2.samples(), &AdaptConfig::default()).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::DimensionMismatch { .. }), "{e}");
    }
}
