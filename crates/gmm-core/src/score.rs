//! Scoring data with a mixture: per-sample log-likelihoods, per-component log-densities,
//! posteriors, hard labels, and the information criteria BIC, AIC and ICL.
//!
//! All of these run the blocked kernels of [`crate::kernel`] over blocks of rows on the
//! current rayon thread pool (use `ThreadPool::install` to choose the threads). Per-sample
//! outputs do not depend on the thread count at all; sums (the mean log-likelihood, BIC, AIC)
//! go through the fixed-shape reduction of [`crate::par`], so they are bit-identical for any
//! number of threads too.
//!
//! # Information criteria (lower is better)
//!
//! ```text
//! BIC = -2 log L + p ln n,        AIC = -2 log L + 2 p,
//! ```
//!
//! with `log L = Σ_n log p(x_n)` and `p` = [`GaussianMixture::n_parameters`] (with per-sample
//! weights, `log L = Σ_n w_n log p(x_n)` and `n = Σ_n w_n`: see [`Criteria`]):
//! `k d` means + `k - 1` weights + `k d` (diag), `k` (spherical), `k d(d+1)/2` (full) or
//! `d(d+1)/2` (tied) covariance parameters — the count scikit-learn's `bic()` / `aic()` use.
//!
//! The integrated completed likelihood of Biernacki, Celeux & Govaert (2000), in the same
//! lower-is-better sign (mclust's `icl` is its negative):
//!
//! ```text
//! ICL = BIC + 2 E,        E = Σ_n -ln max_k τ_nk,    τ_nk = w_k N(x_n | k) / p(x_n),
//! ```
//!
//! `E` is the entropy of the MAP classification: 0 when every sample belongs to one component
//! with certainty, so `ICL ≥ BIC` always, with equality for perfectly separated components.
//! It is computed block by block without responsibilities: `-ln max_k τ_nk = log p(x_n) -
//! max_k ℓ_nk`, the log-sum-exp minus its own shift. [`GaussianMixture::criteria`] gives all
//! three from one pass over the data.

use rayon::prelude::*;

use crate::data::{Matrix, Samples};
use crate::error::Result;
use crate::kernel::{
    BLOCK_ROWS, BlockPass, BlockScratch, log_densities, log_likelihoods_and_responsibilities,
};
use crate::mixture::GaussianMixture;
use crate::real::Real;

impl<T: Real> GaussianMixture<T> {
    /// Validates `x` for scoring: dimension and finite values.
    pub fn check_samples(&self, x: Samples<'_, T>) -> Result<()> {
        self.check_dimension(x.n_features())?;
        x.check_finite()
    }

    /// `log p(x_n)` for every sample.
    ///
    /// The data are checked for NaN and infinite values block by block, as each block is read
    /// (one pass over memory instead of a scan first and the scoring after); a bad value is
    /// the same error as [`check_samples`](Self::check_samples) gives, naming its row and
    /// column.
    pub fn score_samples(&self, x: Samples<'_, T>) -> Result<Vec<T>> {
        self.check_dimension(x.n_features())?;
        let mut out = vec![T::ZERO; x.n_samples()];
        let (d, k) = (self.n_features(), self.n_components());
        let non_finite = std::sync::atomic::AtomicBool::new(false);
        // The block scratch is kept per thread (no allocation per rayon split).
        out.par_chunks_mut(BLOCK_ROWS).enumerate().for_each(|(block, out)| {
            let rows = &x.as_slice()[block * BLOCK_ROWS * d..(block * BLOCK_ROWS + out.len()) * d];
            if !crate::data::all_finite(rows) {
                non_finite.store(true, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            crate::scratch::with_cached(
                |s: &BlockScratch<T>| s.fits(d, k),
                || BlockScratch::new(d, k),
                |scratch| {
                    scratch.load(x, block);
                    log_densities(self, scratch, true);
                    log_likelihoods_and_responsibilities(k, scratch, false);
                    out.copy_from_slice(&scratch.log_likelihood[..out.len()]);
                },
            )
        });
        if non_finite.into_inner() {
            // The error for the first bad value.
            x.check_finite()?;
        }
        Ok(out)
    }

    /// Total log-likelihood `Σ_n log p(x_n)`, summed in `f64` by the deterministic tree.
    pub fn total_log_likelihood(&self, x: Samples<'_, T>) -> Result<f64> {
        Ok(self.weighted_log_likelihood(x, None)?.0)
    }

    /// `(Σ_n w_n log p(x_n), Σ_n w_n)`, with `w_n = 1` when `sample_weights` is `None`; both
    /// summed in `f64` by the deterministic tree.
    pub fn weighted_log_likelihood(
        &self,
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
    ) -> Result<(f64, f64)> {
        self.check_samples(x)?;
        self.log_likelihood_sums(x, sample_weights)
    }

    /// [`weighted_log_likelihood`](Self::weighted_log_likelihood) of data the caller has
    /// already found finite (a fit checks its data once, not before every pass): the dimension
    /// and the weights are checked, the values are not (a NaN gives a NaN sum, no panic).
    pub fn weighted_log_likelihood_of_finite(
        &self,
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
    ) -> Result<(f64, f64)> {
        self.check_dimension(x.n_features())?;
        self.log_likelihood_sums(x, sample_weights)
    }

    /// The sums of [`weighted_log_likelihood`](Self::weighted_log_likelihood) once `x` is
    /// checked: the weights' length, then the pass.
    fn log_likelihood_sums(
        &self,
        x: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
    ) -> Result<(f64, f64)> {
        if let Some(w) = sample_weights
            && w.len() != x.n_samples()
        {
            return Err(crate::Error::new(
                crate::ErrorKind::DimensionMismatch { expected: x.n_samples(), found: w.len() },
                format!(
                    "{} sample weights for {} samples: give one per sample",
                    w.len(),
                    x.n_samples()
                ),
            ));
        }
        let k = self.n_components();
        let total = BlockPass::new(x, k).run(
            || (0.0, 0.0),
            |(ll, weight), scratch, block| {
                log_densities(self, scratch, true);
                log_likelihoods_and_responsibilities(k, scratch, false);
                let weights = sample_weights.map(|w| &w[block * BLOCK_ROWS..]);
                let (block_ll, block_weight) = scratch.log_likelihood_sums(weights);
                *ll += block_ll;
                *weight += block_weight;
            },
            |a, b| (a.0 + b.0, a.1 + b.1),
        );
        Ok(total.unwrap_or((0.0, 0.0)))
    }

    /// Mean log-likelihood per sample (scikit-learn's `score`).
    pub fn score(&self, x: Samples<'_, T>) -> Result<f64> {
        Ok(self.total_log_likelihood(x)? / x.n_samples() as f64)
    }

    /// `log N(x_n | μ_k, Σ_k)` (without the weight), `n x k`.
    pub fn component_log_densities(&self, x: Samples<'_, T>) -> Result<Matrix<T>> {
        self.per_component(x, |scratch| log_densities(self, scratch, false))
    }

    /// Posterior probabilities `p(k | x_n)`, `n x k`; each row sums to one.
    pub fn predict_proba(&self, x: Samples<'_, T>) -> Result<Matrix<T>> {
        let k = self.n_components();
        self.per_component(x, |scratch| {
            log_densities(self, scratch, true);
            log_likelihoods_and_responsibilities(k, scratch, true);
        })
    }

    /// The most probable component of every sample (ties go to the lower index).
    pub fn predict(&self, x: Samples<'_, T>) -> Result<Vec<usize>> {
        self.check_samples(x)?;
        let (d, k) = (self.n_features(), self.n_components());
        let mut labels = vec![0usize; x.n_samples()];
        labels.par_chunks_mut(BLOCK_ROWS).enumerate().for_each_init(
            || BlockScratch::new(d, k),
            |scratch, (block, labels)| {
                scratch.load(x, block);
                log_densities(self, scratch, true);
                for (b, label) in labels.iter_mut().enumerate() {
                    *label = scratch.most_probable(k, b);
                }
            },
        );
        Ok(labels)
    }

    /// Bayesian information criterion `-2 log L + p ln n` (lower is better).
    pub fn bic(&self, x: Samples<'_, T>) -> Result<f64> {
        Ok(self.likelihood_criteria(x)?.bic())
    }

    /// Akaike information criterion `-2 log L + 2p` (lower is better).
    pub fn aic(&self, x: Samples<'_, T>) -> Result<f64> {
        Ok(self.likelihood_criteria(x)?.aic())
    }

    /// BIC's and AIC's ingredients from one log-likelihood pass (no entropy).
    fn likelihood_criteria(&self, x: Samples<'_, T>) -> Result<Criteria> {
        let total = self.total_log_likelihood(x)?;
        let n = x.n_samples();
        Ok(Criteria::from_log_likelihood(total, self.n_parameters(), n, n as f64))
    }

    /// Classification entropy `Σ_n -ln max_k τ_nk` of the MAP labels (see the module docs):
    /// 0 for perfectly separated components, at most `n ln k`.
    pub fn classification_entropy(&self, x: Samples<'_, T>) -> Result<f64> {
        Ok(self.criteria(x)?.classification_entropy)
    }

    /// Integrated completed likelihood `BIC + 2 Σ_n -ln max_k τ_nk` (lower is better; see the
    /// module docs).
    pub fn icl(&self, x: Samples<'_, T>) -> Result<f64> {
        Ok(self.criteria(x)?.icl())
    }

    /// The total log-likelihood and the classification entropy of `x` from one blocked pass,
    /// with which [`Criteria`] gives BIC, AIC and ICL. Sums go through the deterministic tree,
    /// so the result is bit-identical for any thread count.
    pub fn criteria(&self, x: Samples<'_, T>) -> Result<Criteria> {
        self.check_samples(x)?;
        let k = self.n_components();
        let total = BlockPass::new(x, k).run(
            || (0.0, 0.0),
            |(ll, entropy), scratch, _| {
                log_densities(self, scratch, true);
                // Leaves `log_density` as it is (no responsibilities).
                log_likelihoods_and_responsibilities(k, scratch, false);
                *ll += scratch.log_likelihood_sums(None).0;
                for b in 0..scratch.len {
                    let best = scratch.most_probable(k, b);
                    let top = scratch.log_density[best * BLOCK_ROWS + b].to_f64();
                    // log p(x_n) >= max_k ℓ_nk; the clamp only absorbs rounding.
                    *entropy += (scratch.log_likelihood[b].to_f64() - top).max(0.0);
                }
            },
            |a, b| (a.0 + b.0, a.1 + b.1),
        );
        let (log_likelihood, classification_entropy) = total.unwrap_or((0.0, 0.0));
        Ok(Criteria {
            log_likelihood,
            classification_entropy,
            n_parameters: self.n_parameters(),
            n_samples: x.n_samples(),
            total_weight: x.n_samples() as f64,
        })
    }

    /// Runs `fill` on every block and copies the `k x BLOCK_ROWS` result into an `n x k`
    /// matrix.
    fn per_component(
        &self,
        x: Samples<'_, T>,
        fill: impl Fn(&mut BlockScratch<T>) + Sync,
    ) -> Result<Matrix<T>> {
        self.check_samples(x)?;
        let (d, k) = (self.n_features(), self.n_components());
        let mut out = vec![T::ZERO; x.n_samples() * k];
        out.par_chunks_mut(BLOCK_ROWS * k).enumerate().for_each_init(
            || BlockScratch::new(d, k),
            |scratch, (block, out)| {
                scratch.load(x, block);
                fill(scratch);
                for (b, row) in out.chunks_exact_mut(k).enumerate() {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v = scratch.log_density[c * BLOCK_ROWS + b];
                    }
                }
            },
        );
        Ok(Matrix::from_parts(out, x.n_samples(), k))
    }
}

/// What the information criteria of a model on a data set are made of; from
/// [`GaussianMixture::criteria`], or from a log-likelihood computed elsewhere (a fit's report,
/// with per-sample weights) by [`Criteria::from_log_likelihood`].
///
/// With per-sample weights `w_n` the log-likelihood is `Σ_n w_n log p(x_n)` and the sample size
/// `n` of BIC's penalty and of the mean is `Σ_n w_n` ([`total_weight`](Self::total_weight)), so
/// integer weights count as repeated rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criteria {
    /// Total log-likelihood `Σ_n log p(x_n)` (`Σ_n w_n log p(x_n)` with sample weights).
    pub log_likelihood: f64,
    /// `Σ_n -ln max_k τ_nk`, the entropy of the MAP classification (NaN when unknown, see
    /// [`Criteria::from_log_likelihood`]).
    pub classification_entropy: f64,
    /// Free parameters `p` of the model.
    pub n_parameters: usize,
    /// Samples (rows) `n`.
    pub n_samples: usize,
    /// The sample size the criteria use: `Σ_n w_n` with sample weights, `n` without.
    pub total_weight: f64,
}

impl Criteria {
    /// The criteria of a total log-likelihood computed elsewhere, such as a fit's mean
    /// log-likelihood times `total_weight`: `log_likelihood = Σ_n w_n log p(x_n)` over
    /// `n_samples` rows whose weights sum to `total_weight` (`n_samples as f64` without
    /// weights). BIC and AIC follow; the classification entropy is not known, so it and
    /// [`icl`](Self::icl) are NaN.
    pub fn from_log_likelihood(
        log_likelihood: f64,
        n_parameters: usize,
        n_samples: usize,
        total_weight: f64,
    ) -> Self {
        Self {
            log_likelihood,
            classification_entropy: f64::NAN,
            n_parameters,
            n_samples,
            total_weight,
        }
    }

    /// `-2 log L + p ln n` (`n` = [`total_weight`](Self::total_weight)).
    pub fn bic(&self) -> f64 {
        -2.0 * self.log_likelihood + self.n_parameters as f64 * self.total_weight.ln()
    }

    /// `-2 log L + 2 p`.
    pub fn aic(&self) -> f64 {
        -2.0 * self.log_likelihood + 2.0 * self.n_parameters as f64
    }

    /// `BIC + 2 Σ_n -ln max_k τ_nk`.
    pub fn icl(&self) -> f64 {
        self.bic() + 2.0 * self.classification_entropy
    }

    /// Mean log-likelihood per sample (scikit-learn's `score`; per unit weight with sample
    /// weights).
    pub fn mean_log_likelihood(&self) -> f64 {
        self.log_likelihood / self.total_weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;
    use crate::kernel::reference;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
    }

    /// `score_samples` checks the data block by block as it reads them: the error names the
    /// first bad value of the data even when a later block's is met first (on any number of
    /// threads), and good data are not rejected.
    #[test]
    fn score_samples_names_the_first_non_finite_value() {
        use crate::error::ErrorKind;
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 1.0, 1).unwrap();
        let (x, _) = model.sample(1000, 2).unwrap();
        assert_eq!(model.score_samples(x.samples()).unwrap().len(), 1000);
        let mut values = x.as_slice().to_vec();
        values[900 * 2 + 1] = f64::INFINITY;
        values[300 * 2] = f64::NAN;
        values[301 * 2 + 1] = f64::NAN;
        let bad = Samples::new(&values, 2).unwrap();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let err = pool.install(|| model.score_samples(bad)).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::NonFiniteValue { row: 300, column: 0 });
        }
    }

    /// The blocked entropy against `Σ_n -ln max_k τ_nk` from the naive per-sample posteriors,
    /// on more than one block and every covariance type, in f64 and f32.
    #[test]
    fn classification_entropy_matches_naive_formula() {
        for (i, &t) in CovarianceType::ALL.iter().enumerate() {
            let model = GaussianMixture::<f64>::random(t, 4, 3, 0.7, 11 + i as u64).unwrap();
            let (x, _) = model.sample(1000, 5).unwrap();
            let naive: f64 = (0..x.n_rows())
                .map(|n| {
                    let post = reference::posteriors(&model, x.row(n));
                    -post.iter().cloned().fold(f64::MIN, f64::max).ln()
                })
                .sum();
            assert!(naive > 1.0, "{t}: the sample should overlap ({naive})");
            let c = model.criteria(x.samples()).unwrap();
            assert!(close(c.classification_entropy, naive, 1e-10), "{t}: {c:?} vs {naive}");
            let ll = model.total_log_likelihood(x.samples()).unwrap();
            assert!(close(c.log_likelihood, ll, 1e-13), "{t}");
            assert!(close(c.bic(), model.bic(x.samples()).unwrap(), 1e-13));
            assert!(close(c.aic(), model.aic(x.samples()).unwrap(), 1e-13));
            assert!(close(model.icl(x.samples()).unwrap(), c.bic() + 2.0 * naive, 1e-10));

            let m32 = model.cast::<f32>().unwrap();
            let x32: Vec<f32> = x.as_slice().iter().map(|&v| v as f32).collect();
            let x32 = Samples::new(&x32, 3).unwrap();
            let e32 = m32.classification_entropy(x32).unwrap();
            assert!(close(e32, naive, 1e-3), "{t} f32: {e32} vs {naive}");
        }
    }

    /// ICL is never below BIC, and equals it when every posterior is exactly 0 or 1 (components
    /// thousands of standard deviations apart: the other terms underflow).
    #[test]
    fn icl_is_at_least_bic_and_equal_for_separated_components() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 0.5, 3).unwrap();
        let (x, _) = model.sample(500, 1).unwrap();
        let c = model.criteria(x.samples()).unwrap();
        assert!(c.icl() > c.bic(), "{c:?}");

        let separated = GaussianMixture::<f64>::new(
            CovarianceType::Spherical,
            vec![0.5, 0.5],
            vec![0.0, 0.0, 1e4, 0.0],
            vec![1.0, 1.0],
        )
        .unwrap();
        let (x, _) = separated.sample(300, 2).unwrap();
        let c = separated.criteria(x.samples()).unwrap();
        assert_eq!(c.classification_entropy, 0.0);
        assert_eq!(c.icl(), c.bic());
    }

    /// With integer sample weights the criteria of a weighted log-likelihood are those of the
    /// data with every row repeated `w_n` times; the entropy is unknown (NaN).
    #[test]
    fn weighted_criteria_count_weights_as_repeated_rows() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 0.8, 4).unwrap();
        let (x, _) = model.sample(300, 6).unwrap();
        let weights: Vec<f64> = (0..x.n_rows()).map(|n| (n % 4) as f64).collect();
        let repeated: Vec<f64> = (0..x.n_rows())
            .flat_map(|n| std::iter::repeat_n(x.row(n), n % 4).flatten().copied())
            .collect();
        let repeated = Matrix::from_vec(repeated, 2).unwrap();
        let (log_l, total_weight) =
            model.weighted_log_likelihood(x.samples(), Some(&weights)).unwrap();
        assert_eq!(total_weight, repeated.n_rows() as f64);
        let weighted =
            Criteria::from_log_likelihood(log_l, model.n_parameters(), x.n_rows(), total_weight);
        let plain = model.criteria(repeated.samples()).unwrap();
        assert!(close(weighted.bic(), plain.bic(), 1e-12), "{weighted:?} vs {plain:?}");
        assert!(close(weighted.aic(), plain.aic(), 1e-12));
        assert!(close(weighted.mean_log_likelihood(), plain.mean_log_likelihood(), 1e-12));
        assert!(weighted.classification_entropy.is_nan() && weighted.icl().is_nan());
        // Without weights the constructor gives the blocked pass's BIC and AIC bit for bit.
        let c = model.criteria(x.samples()).unwrap();
        let n = x.n_rows();
        let again = Criteria::from_log_likelihood(c.log_likelihood, c.n_parameters, n, n as f64);
        assert_eq!((again.bic(), again.aic()), (c.bic(), c.aic()));
        assert_eq!(model.bic(x.samples()).unwrap(), c.bic());
    }
}
