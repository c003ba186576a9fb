//! Scoring data with a mixture: per-sample log-likelihoods, per-component log-densities,
//! posteriors, hard labels, and the information criteria BIC and AIC.
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
//! with `log L = Σ_n log p(x_n)` and `p` = [`GaussianMixture::n_parameters`]:
//! `k d` means + `k - 1` weights + `k d` (diag), `k` (spherical), `k d(d+1)/2` (full) or
//! `d(d+1)/2` (tied) covariance parameters — the count scikit-learn's `bic()` / `aic()` use.

use rayon::prelude::*;

use crate::data::{Matrix, Samples};
use crate::error::Result;
use crate::kernel::{
    BLOCK_ROWS, BlockScratch, log_densities, log_likelihoods_and_responsibilities, n_blocks,
};
use crate::mixture::GaussianMixture;
use crate::par::reduce_blocks;
use crate::real::Real;
use crate::scratch::with_cached;

impl<T: Real> GaussianMixture<T> {
    /// Validates `x` for scoring: dimension and finite values.
    pub fn check_samples(&self, x: Samples<'_, T>) -> Result<()> {
        self.check_dimension(x.n_features())?;
        x.check_finite()
    }

    /// `log p(x_n)` for every sample.
    pub fn score_samples(&self, x: Samples<'_, T>) -> Result<Vec<T>> {
        self.check_samples(x)?;
        let mut out = vec![T::ZERO; x.n_samples()];
        let (d, k) = (self.n_features(), self.n_components());
        out.par_chunks_mut(BLOCK_ROWS).enumerate().for_each_init(
            || BlockScratch::new(d, k),
            |scratch, (block, out)| {
                scratch.load(x, block);
                log_densities(self, scratch, true);
                log_likelihoods_and_responsibilities(k, scratch, false);
                out.copy_from_slice(&scratch.log_likelihood[..out.len()]);
            },
        );
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
        let (d, k) = (self.n_features(), self.n_components());
        let total = reduce_blocks(
            n_blocks(x.n_samples()),
            |blocks| {
                let fits = |s: &BlockScratch<T>| s.fits(d, k);
                with_cached(
                    fits,
                    || BlockScratch::new(d, k),
                    |scratch| {
                        let (mut ll, mut weight) = (0.0, 0.0);
                        for block in blocks {
                            scratch.load(x, block);
                            log_densities(self, scratch, true);
                            log_likelihoods_and_responsibilities(k, scratch, false);
                            let weights = sample_weights.map(|w| &w[block * BLOCK_ROWS..]);
                            let (block_ll, block_weight) = scratch.log_likelihood_sums(weights);
                            ll += block_ll;
                            weight += block_weight;
                        }
                        (ll, weight)
                    },
                )
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
        let total = self.total_log_likelihood(x)?;
        Ok(-2.0 * total + self.n_parameters() as f64 * (x.n_samples() as f64).ln())
    }

    /// Akaike information criterion `-2 log L + 2p` (lower is better).
    pub fn aic(&self, x: Samples<'_, T>) -> Result<f64> {
        let total = self.total_log_likelihood(x)?;
        Ok(-2.0 * total + 2.0 * self.n_parameters() as f64)
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
