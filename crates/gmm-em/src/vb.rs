//! Variational Bayes: a mean-field posterior over weights, means and precisions (Bishop 2006,
//! ch. 10), with the parameters, defaults and updates of scikit-learn's
//! `BayesianGaussianMixture`.
//!
//! Priors: on the weights a Dirichlet distribution `Dir(α0, ..., α0)` or a Dirichlet process
//! truncated at `k` sticks (`v_k ~ Beta(1, γ0)`, `π_k = v_k Π_{j<k} (1 - v_j)`); on each
//! component a Gaussian-Wishart `μ_k | Λ_k ~ N(m0, (β0 Λ_k)⁻¹)`, `Λ_k ~ W(W0, ν0)` (a
//! Gamma per variance for diag, one for spherical, one shared Wishart for tied).
//! [`VbPrior::sklearn_default`]: `α0 = γ0 = 1/k`, `β0 = 1`, `m0` = the data mean, `ν0 = d`,
//! `W0⁻¹` = the data's covariance (`n - 1`; per-dimension variances for diag, their mean for
//! spherical).
//!
//! From statistics `N_k`, `x̄_k` and `S_k = W_k / N_k + reg_covar` (the components' weighted
//! scatter around `x̄_k`), the update of `q` is
//!
//! ```text
//! weights: DP: a_k = 1 + N_k, b_k = γ0 + Σ_{j>k} N_j;      Dirichlet: α_k = α0 + N_k
//! β_k = β0 + N_k,  m_k = (β0 m0 + N_k x̄_k) / β_k,  ν_k = ν0 + N_k
//! C_k = (W0⁻¹ + N_k S_k + N_k β0 / β_k (x̄_k - m0)(x̄_k - m0)ᵀ) / ν_k         (C_k = W_k⁻¹ / ν_k)
//! ```
//!
//! (tied: one `ν = ν0 + n/k`, `C = (W0⁻¹ + S n/k + β0/k Σ_k N_k/β_k e_k e_kᵀ) / ν`), and the
//! E-step's responsibilities are those of the mixture with log-weights
//!
//! ```text
//! E[log π_k] - ½ d log ν_k + ½ (d log 2 + Σ_{i<d} ψ((ν_k - i)/2) - d / β_k)
//! ```
//!
//! and Gaussians `N(m_k, C_k)`. [`VariationalRule`] is an [`UpdateRule`] whose update returns
//! exactly that mixture (its weights normalised), so the one EM driver and its fused pass run
//! VB unchanged; the rule's objective is scikit-learn's evidence lower bound (constants dropped)
//! per unit of sample weight, computed from the pass's statistics — the entropy of the
//! responsibilities is `Σ_n log p̃(x_n) - Σ_k N_k log w̃_k - Σ_nk r_nk log N(x_n | m_k, C_k)`,
//! and the last sum is `N_k (-½ d log 2π - ½ log|C_k|) - ½ tr(C_k⁻¹ S_k)` with `S_k` shifted by
//! `m_k`. The fit then returns the posterior's point estimate: weights `E[π]` (Dirichlet:
//! `α_k / Σ α`; DP: `a_k/(a_k+b_k) Π_{j<k} b_j/(a_j+b_j)`, renormalised), means `m_k`,
//! covariances `C_k` — scikit-learn's `weights_`, `means_`, `covariances_`.
//!
//! Iterations: pass `t` runs on the model of posterior `t` and reports the bound after the
//! update it feeds, so the report's `initial_log_likelihood` is scikit-learn's `lower_bound_`
//! after its first iteration and `log_likelihood[t-1]` after iteration `t + 1`. Components the
//! data does not need get weights that shrink towards 0 ([`active_components`]).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::vb::{VariationalRule, VbPrior, WeightPrior, active_components};
//! use gmm_em::{EmConfig, FitOptions, fit};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 4.0, 11)?;
//! let (x, _) = truth.sample(3000, 12)?;
//! let prior = VbPrior::sklearn_default(x.samples(), None, 10, CovarianceType::Full,
//!     WeightPrior::DirichletProcess)?;
//! let rule = VariationalRule::new(prior, 1e-6);
//! let config = EmConfig::new(10, CovarianceType::Full).max_iter(500).seed(1);
//! let vb = fit(&config, x.samples(), FitOptions { update: Some(&rule), ..Default::default() })?;
//! assert!(active_components(&vb.model, 0.01) <= 5);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use statrs::function::beta::ln_beta;
use statrs::function::gamma::{digamma, ln_gamma};

use crate::init::{check_moments, covariance_from_moments, moment_stats};
use crate::mstep::total_weight;
use crate::stream::Data;

use crate::stats::{MomentLayout, SuffStats};
use crate::update::{GuardCounts, Parameters, UpdateRule};

/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// The prior on the mixture weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightPrior {
    /// A Dirichlet process, truncated stick-breaking (scikit-learn's default).
    DirichletProcess,
    /// A symmetric Dirichlet distribution.
    DirichletDistribution,
}

/// The priors of variational Bayes, in scikit-learn's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct VbPrior {
    /// Dirichlet process or distribution.
    pub weight_prior: WeightPrior,
    /// `weight_concentration_prior` (`γ0` or `α0`, `> 0`).
    pub weight_concentration: f64,
    /// `mean_precision_prior` (`β0 > 0`).
    pub mean_precision: f64,
    /// `mean_prior` (`m0`, `d` values).
    pub mean: Vec<f64>,
    /// `degrees_of_freedom_prior` (`ν0 > d - 1`).
    pub dof: f64,
    /// `covariance_prior` (`W0⁻¹`): `d x d` for full and tied, `d` for diag, 1 for spherical.
    pub covariance: Vec<f64>,
}

impl VbPrior {
    /// scikit-learn's defaults for `x` (see the module docs).
    pub fn sklearn_default<T: Real>(
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
        n_components: usize,
        covariance_type: CovarianceType,
        weight_prior: WeightPrior,
    ) -> Result<Self> {
        let moments = moment_stats(&Data::Memory { x, weights: sample_weights })?;
        Self::sklearn_default_from_moments(&moments, n_components, covariance_type, weight_prior)
    }

    /// [`VbPrior::sklearn_default`] from the data's moment statistics
    /// ([`crate::stream::Stream::moments`]), as the statistics-file route estimates it.
    pub fn sklearn_default_from_moments(
        moments: &SuffStats,
        n_components: usize,
        covariance_type: CovarianceType,
        weight_prior: WeightPrior,
    ) -> Result<Self> {
        check_moments(moments)?;
        let d = moments.n_features();
        let (n, mean, cov) = covariance_from_moments(moments);
        if n.is_nan() || n <= 1.0 || n_components == 0 {
            return Err(Error::new(
                ErrorKind::TooFewSamples { n_samples: n as usize, n_components },
                "the default VB prior needs data of total weight above 1 and k >= 1",
            ));
        }
        let covariance = match covariance_type {
            CovarianceType::Full | CovarianceType::Tied => cov,
            CovarianceType::Diag => (0..d).map(|j| cov[j * d + j]).collect(),
            CovarianceType::Spherical => {
                vec![(0..d).map(|j| cov[j * d + j]).sum::<f64>() / d as f64]
            }
        };
        let prior = Self {
            weight_prior,
            weight_concentration: 1.0 / n_components as f64,
            mean_precision: 1.0,
            mean,
            dof: d as f64,
            covariance,
        };
        prior.validate(d, covariance_type)?;
        Ok(prior)
    }

    /// Checks shapes and ranges for `d` features.
    pub fn validate(&self, d: usize, covariance_type: CovarianceType) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if !(self.weight_concentration > 0.0 && self.weight_concentration.is_finite()) {
            return bad(format!(
                "weight concentration {} must be finite and > 0",
                self.weight_concentration
            ));
        }
        if !(self.mean_precision > 0.0 && self.mean_precision.is_finite()) {
            return bad(format!("mean precision {} must be finite and > 0", self.mean_precision));
        }
        if self.mean.len() != d || self.mean.iter().any(|v| !v.is_finite()) {
            return bad(format!("the mean prior needs {d} finite values"));
        }
        if !(self.dof > d as f64 - 1.0 && self.dof.is_finite()) {
            return bad(format!("degrees of freedom {} must exceed d - 1 = {}", self.dof, d - 1));
        }
        let expected = match covariance_type {
            CovarianceType::Full | CovarianceType::Tied => d * d,
            CovarianceType::Diag => d,
            CovarianceType::Spherical => 1,
        };
        let diagonal_positive = match covariance_type {
            CovarianceType::Full | CovarianceType::Tied => {
                self.covariance.len() == expected
                    && (0..d).all(|j| self.covariance[j * d + j] > 0.0)
            }
            _ => self.covariance.len() == expected && self.covariance.iter().all(|&v| v > 0.0),
        };
        if !diagonal_positive || self.covariance.iter().any(|v| !v.is_finite()) {
            return bad(format!(
                "a {covariance_type} covariance prior needs {expected} finite values with a \
                 positive diagonal: is a data column constant?"
            ));
        }
        Ok(())
    }
}

/// The variational posterior `q` (scikit-learn's fitted attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// DP: `(a_k, b_k)` interleaved per component; Dirichlet: `α_k`.
    pub weight_concentration: Vec<f64>,
    /// `β_k`.
    pub mean_precision: Vec<f64>,
    /// `m_k`, `k x d`.
    pub means: Vec<f64>,
    /// `ν_k` (one value for tied).
    pub dof: Vec<f64>,
    /// `C_k = W_k⁻¹ / ν_k` in the covariance type's layout.
    pub covariances: Vec<f64>,
}

/// The VB update (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct VariationalRule {
    /// The priors.
    pub prior: VbPrior,
    /// Added to the diagonal of every `S_k` (scikit-learn's `reg_covar`).
    pub reg_covar: f64,
}

impl VariationalRule {
    /// A rule from priors and `reg_covar`.
    pub fn new(prior: VbPrior, reg_covar: f64) -> Self {
        Self { prior, reg_covar }
    }

    /// The posterior from statistics.
    pub fn posterior(
        &self,
        stats: &SuffStats,
        covariance_type: CovarianceType,
    ) -> Result<Posterior> {
        let p = &self.prior;
        let (k, d) = (stats.n_components, stats.n_features);
        p.validate(d, covariance_type)?;
        if MomentLayout::for_covariance(covariance_type) != stats.layout {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("{:?} statistics cannot fit a {covariance_type} model", stats.layout),
            ));
        }
        total_weight(stats)?;
        // scikit-learn adds 10 ε to every count.
        let nk: Vec<f64> = stats.counts.iter().map(|n| n + 10.0 * f64::EPSILON).collect();
        let mut xbar = vec![0.0; k * d];
        for c in 0..k {
            for j in 0..d {
                let at = c * d + j;
                xbar[at] = (stats.counts[c] * stats.shift[at] + stats.first[at]) / nk[c];
            }
        }
        // Scatter around x̄_k (the shift moved from s_k to x̄_k), over nk, plus reg_covar.
        let mut around = stats.clone();
        around.reshift(&xbar)?;
        let s_full = |c: usize, i: usize, j: usize| {
            let (i, j) = if i >= j { (i, j) } else { (j, i) };
            around.second[c * d * d + i * d + j] / nk[c] + if i == j { self.reg_covar } else { 0.0 }
        };
        let s_diag = |c: usize, j: usize| match around.layout {
            MomentLayout::Diagonal => around.second[c * d + j] / nk[c] + self.reg_covar,
            MomentLayout::Full => s_full(c, j, j),
        };
        let weight_concentration = match p.weight_prior {
            WeightPrior::DirichletProcess => {
                let mut out = vec![0.0; 2 * k];
                let mut after = 0.0;
                for c in (0..k).rev() {
                    out[2 * c] = 1.0 + nk[c];
                    out[2 * c + 1] = p.weight_concentration + after;
                    after += nk[c];
                }
                out
            }
            WeightPrior::DirichletDistribution => {
                nk.iter().map(|n| p.weight_concentration + n).collect()
            }
        };
        let beta: Vec<f64> = nk.iter().map(|n| p.mean_precision + n).collect();
        let mut means = vec![0.0; k * d];
        for c in 0..k {
            for j in 0..d {
                means[c * d + j] =
                    (p.mean_precision * p.mean[j] + nk[c] * xbar[c * d + j]) / beta[c];
            }
        }
        let e = |c: usize, j: usize| xbar[c * d + j] - p.mean[j];
        let (dof, covariances) = match covariance_type {
            CovarianceType::Full => {
                let dof: Vec<f64> = nk.iter().map(|n| p.dof + n).collect();
                let mut cov = vec![0.0; k * d * d];
                for c in 0..k {
                    let f = nk[c] * p.mean_precision / beta[c];
                    for i in 0..d {
                        for j in 0..d {
                            cov[c * d * d + i * d + j] = (p.covariance[i * d + j]
                                + nk[c] * s_full(c, i, j)
                                + f * e(c, i) * e(c, j))
                                / dof[c];
                        }
                    }
                }
                (dof, cov)
            }
            CovarianceType::Tied => {
                let per = nk.iter().sum::<f64>() / k as f64;
                let nu = p.dof + per;
                let mut cov = vec![0.0; d * d];
                for i in 0..d {
                    for j in 0..d {
                        // scikit-learn's tied S: Σ_k scatter_k / Σ_k N_k + reg.
                        let scatter: f64 = (0..k)
                            .map(|c| {
                                let (a, b) = if i >= j { (i, j) } else { (j, i) };
                                around.second[c * d * d + a * d + b]
                            })
                            .sum::<f64>()
                            / nk.iter().sum::<f64>()
                            + if i == j { self.reg_covar } else { 0.0 };
                        let means_term: f64 =
                            (0..k).map(|c| nk[c] / beta[c] * e(c, i) * e(c, j)).sum();
                        cov[i * d + j] = (p.covariance[i * d + j]
                            + scatter * per
                            + p.mean_precision / k as f64 * means_term)
                            / nu;
                    }
                }
                (vec![nu], cov)
            }
            CovarianceType::Diag => {
                let dof: Vec<f64> = nk.iter().map(|n| p.dof + n).collect();
                let mut cov = vec![0.0; k * d];
                for c in 0..k {
                    for j in 0..d {
                        cov[c * d + j] = (p.covariance[j]
                            + nk[c]
                                * (s_diag(c, j) + p.mean_precision / beta[c] * e(c, j).powi(2)))
                            / dof[c];
                    }
                }
                (dof, cov)
            }
            CovarianceType::Spherical => {
                let dof: Vec<f64> = nk.iter().map(|n| p.dof + n).collect();
                let cov = (0..k)
                    .map(|c| {
                        let s = (0..d).map(|j| s_diag(c, j)).sum::<f64>() / d as f64;
                        let e2 = (0..d).map(|j| e(c, j).powi(2)).sum::<f64>() / d as f64;
                        (p.covariance[0] + nk[c] * (s + p.mean_precision / beta[c] * e2)) / dof[c]
                    })
                    .collect();
                (dof, cov)
            }
        };
        Ok(Posterior { weight_concentration, mean_precision: beta, means, dof, covariances })
    }

    /// `E[log π_k]` under the posterior.
    fn expected_log_weights(&self, q: &Posterior) -> Vec<f64> {
        match self.prior.weight_prior {
            WeightPrior::DirichletProcess => {
                let k = q.mean_precision.len();
                let mut out = vec![0.0; k];
                let mut before = 0.0;
                for c in 0..k {
                    let (a, b) = (q.weight_concentration[2 * c], q.weight_concentration[2 * c + 1]);
                    let sum = digamma(a + b);
                    out[c] = digamma(a) - sum + before;
                    before += digamma(b) - sum;
                }
                out
            }
            WeightPrior::DirichletDistribution => {
                let total = digamma(q.weight_concentration.iter().sum());
                q.weight_concentration.iter().map(|&a| digamma(a) - total).collect()
            }
        }
    }

    /// The mixture whose responsibilities are the E-step's (module docs).
    pub fn e_step_parameters(&self, q: &Posterior, covariance_type: CovarianceType) -> Parameters {
        let k = q.mean_precision.len();
        let d = self.prior.mean.len();
        let df = d as f64;
        let log_w = self.expected_log_weights(q);
        let terms: Vec<f64> = (0..k)
            .map(|c| {
                let nu = if q.dof.len() == 1 { q.dof[0] } else { q.dof[c] };
                let log_lambda = df * std::f64::consts::LN_2
                    + (0..d).map(|i| digamma(0.5 * (nu - i as f64))).sum::<f64>();
                log_w[c] - 0.5 * df * nu.ln() + 0.5 * (log_lambda - df / q.mean_precision[c])
            })
            .collect();
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let unnormalised: Vec<f64> = terms.iter().map(|t| (t - max).exp()).collect();
        let total: f64 = unnormalised.iter().sum();
        Parameters {
            covariance_type,
            weights: unnormalised.iter().map(|w| w / total).collect(),
            means: q.means.clone(),
            covariances: q.covariances.clone(),
        }
    }

    /// The point estimate scikit-learn reports: `E[π]`, `m_k`, `C_k`.
    pub fn point_estimate(&self, q: &Posterior, covariance_type: CovarianceType) -> Parameters {
        let k = q.mean_precision.len();
        let weights: Vec<f64> = match self.prior.weight_prior {
            WeightPrior::DirichletProcess => {
                let mut w = vec![0.0; k];
                let mut remaining = 1.0;
                for c in 0..k {
                    let (a, b) = (q.weight_concentration[2 * c], q.weight_concentration[2 * c + 1]);
                    w[c] = a / (a + b) * remaining;
                    remaining *= b / (a + b);
                }
                let total: f64 = w.iter().sum();
                w.iter().map(|v| v / total).collect()
            }
            WeightPrior::DirichletDistribution => {
                let total: f64 = q.weight_concentration.iter().sum();
                q.weight_concentration.iter().map(|a| a / total).collect()
            }
        };
        Parameters {
            covariance_type,
            weights,
            means: q.means.clone(),
            covariances: q.covariances.clone(),
        }
    }

    /// scikit-learn's lower bound (total, constants dropped) for the pass that produced
    /// `stats` under `pass_model`, after the update from `stats`.
    pub fn lower_bound(&self, stats: &SuffStats, pass_model: &Parameters) -> Result<f64> {
        let (k, d) = (stats.n_components, stats.n_features);
        let t = pass_model.covariance_type;
        let df = d as f64;
        let q = self.posterior(stats, t)?;
        // Σ_nk r log r from the pass (statistics shifted by the pass model's means).
        let mut sum_r_log_density = 0.0;
        for c in 0..k {
            let n = stats.counts[c];
            if n <= 0.0 {
                continue;
            }
            let (log_det, trace) = log_det_and_trace(&pass_model.covariances, stats, c, t, d)?;
            let shifted_ok = (0..d).all(|j| stats.shift[c * d + j] == pass_model.means[c * d + j]);
            debug_assert!(shifted_ok, "VB statistics must be shifted by the pass model's means");
            sum_r_log_density += n * pass_model.weights[c].ln()
                + n * (-0.5 * df * LN_2PI - 0.5 * log_det)
                - 0.5 * trace;
        }
        let neg_entropy = sum_r_log_density - stats.log_likelihood;
        // log-Wishart normalisers of the new posterior.
        let log_wishart = |nu: f64, log_det_cov: f64| {
            let log_det_prec_chol = -0.5 * log_det_cov - 0.5 * df * nu.ln();
            -(nu * log_det_prec_chol
                + nu * df * 0.5 * std::f64::consts::LN_2
                + (0..d).map(|i| ln_gamma(0.5 * (nu - i as f64))).sum::<f64>())
        };
        let mut wishart = 0.0;
        for c in 0..k {
            let nu = if q.dof.len() == 1 { q.dof[0] } else { q.dof[c] };
            let cov_index = if t == CovarianceType::Tied { 0 } else { c };
            wishart += log_wishart(nu, log_det(&q.covariances, cov_index, t, d)?);
        }
        let norm_weight = match self.prior.weight_prior {
            WeightPrior::DirichletProcess => -(0..k)
                .map(|c| ln_beta(q.weight_concentration[2 * c], q.weight_concentration[2 * c + 1]))
                .sum::<f64>(),
            WeightPrior::DirichletDistribution => {
                ln_gamma(q.weight_concentration.iter().sum())
                    - q.weight_concentration.iter().map(|&a| ln_gamma(a)).sum::<f64>()
            }
        };
        Ok(-neg_entropy
            - wishart
            - norm_weight
            - 0.5 * df * q.mean_precision.iter().map(|b| b.ln()).sum::<f64>())
    }
}

impl UpdateRule for VariationalRule {
    fn update(
        &self,
        stats: &SuffStats,
        previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        let covariance_type = previous.covariance_type;
        let q = self.posterior(stats, covariance_type)?;
        Ok((self.e_step_parameters(&q, covariance_type), GuardCounts::default()))
    }

    fn reg_covar(&self) -> f64 {
        self.reg_covar
    }

    fn has_objective(&self) -> bool {
        true
    }

    fn objective(&self, stats: &SuffStats, pass_model: &Parameters) -> Result<f64> {
        Ok(self.lower_bound(stats, pass_model)? / stats.total_weight())
    }

    fn finish(&self, stats: &SuffStats, last: &Parameters) -> Option<Result<Parameters>> {
        let covariance_type = last.covariance_type;
        Some(
            self.posterior(stats, covariance_type)
                .map(|q| self.point_estimate(&q, covariance_type)),
        )
    }
}

/// Components whose weight is at least `threshold` (the ones VB kept; the rest faded out).
pub fn active_components<T: Real>(model: &GaussianMixture<T>, threshold: f64) -> usize {
    model.weights().iter().filter(|w| w.to_f64() >= threshold).count()
}

/// Lower Cholesky factor of a symmetric `d x d` matrix, `None` if not positive definite.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for m in 0..j {
                s -= l[i * d + m] * l[j * d + m];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

fn not_pd(c: usize) -> Error {
    Error::new(
        ErrorKind::NotPositiveDefinite { component: c },
        format!("the VB covariance of component {c} is not positive definite: raise reg_covar"),
    )
}

/// `log |C|` of covariance `c` (`covariances` in type `t`'s layout).
fn log_det(covariances: &[f64], c: usize, t: CovarianceType, d: usize) -> Result<f64> {
    Ok(match t {
        CovarianceType::Full | CovarianceType::Tied => {
            let l =
                cholesky(&covariances[c * d * d..(c + 1) * d * d], d).ok_or_else(|| not_pd(c))?;
            2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>()
        }
        CovarianceType::Diag => covariances[c * d..(c + 1) * d].iter().map(|v| v.ln()).sum(),
        CovarianceType::Spherical => d as f64 * covariances[c].ln(),
    })
}

/// `log |C_c|` and `tr(C_c⁻¹ S_c)` for the pass model's covariance of component `c`.
fn log_det_and_trace(
    covariances: &[f64],
    stats: &SuffStats,
    c: usize,
    t: CovarianceType,
    d: usize,
) -> Result<(f64, f64)> {
    match t {
        CovarianceType::Full | CovarianceType::Tied => {
            let at = if t == CovarianceType::Tied { 0 } else { c };
            let l = cholesky(&covariances[at * d * d..(at + 1) * d * d], d)
                .ok_or_else(|| not_pd(at))?;
            // tr(C⁻¹ S) = Σ_j ‖L⁻¹ s_j‖² over S's symmetric columns.
            let s = |i: usize, j: usize| {
                let (i, j) = if i >= j { (i, j) } else { (j, i) };
                stats.second[c * d * d + i * d + j]
            };
            // C⁻¹ S = L⁻ᵀ L⁻¹ S: trace = Σ_i (L⁻¹ S L⁻ᵀ)_ii.
            let mut y = vec![0.0; d * d]; // y = L⁻¹ S (column by column)
            for col in 0..d {
                for i in 0..d {
                    let mut v = s(i, col);
                    for m in 0..i {
                        v -= l[i * d + m] * y[m * d + col];
                    }
                    y[i * d + col] = v / l[i * d + i];
                }
            }
            // z = y L⁻ᵀ, i.e. rows of y solved against L: z_i· = L⁻¹ y_i·ᵀ; trace = Σ z_ii.
            let mut trace = 0.0;
            for row in 0..d {
                let mut z = vec![0.0; d];
                for i in 0..d {
                    let mut v = y[row * d + i];
                    for m in 0..i {
                        v -= l[i * d + m] * z[m];
                    }
                    z[i] = v / l[i * d + i];
                }
                trace += z[row];
            }
            let log_det = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
            Ok((log_det, trace))
        }
        CovarianceType::Diag => {
            let v = &covariances[c * d..(c + 1) * d];
            let trace = (0..d).map(|j| stats.second[c * d + j] / v[j]).sum();
            Ok((v.iter().map(|x| x.ln()).sum(), trace))
        }
        CovarianceType::Spherical => {
            let v = covariances[c];
            let trace = (0..d).map(|j| stats.second[c * d + j]).sum::<f64>() / v;
            Ok((d as f64 * v.ln(), trace))
        }
    }
}
