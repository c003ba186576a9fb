//! Blocked log-density kernels.
//!
//! # The maths
//!
//! For every sample `x_n` of a block and every component `k` the kernels compute
//!
//! ```text
//! ℓ_nk = log w_k + log N(x_n | μ_k, Σ_k)
//!      = log w_k - ½ d log 2π + log det U_k - ½ ‖U_kᵀ (x_n - μ_k)‖²
//! ```
//!
//! with `U_k` the precision Cholesky factor (`diag(1/σ_k)` for diagonal covariances), then the
//! per-sample log-likelihood `log p(x_n) = logsumexp_k ℓ_nk` (shifted by the maximum, so no
//! `exp` ever sees an unshifted log-density) and, where EM needs them, responsibilities
//! `r_nk = exp(ℓ_nk - log p(x_n))`.
//!
//! # Current implementation
//!
//! Samples are processed in blocks of [`BLOCK_ROWS`] rows (240: a multiple of every SIMD width,
//! and not a power of two, which avoids cache-set aliasing between the columns of a block). A
//! block is transposed into a column-major scratch (`d x BLOCK_ROWS`, the last block padded
//! with zeros), so every kernel runs SIMD lanes over *samples*: this works for any `d`,
//! including `d = 1`, and needs no masked tails. Results are written component-major
//! (`k x BLOCK_ROWS`), which keeps the log-sum-exp over components vectorised too.
//!
//! * [`diag`]: `Σ_j (x_j - μ_j)² / σ²_j` with four independent accumulators per component;
//!   spherical models use it with their variances broadcast.
//! * [`cholesky`]: the block is centred on `μ_k`, then `y_j = Σ_{i≤j} U_ij c_i` and `Σ_j y_j²`
//!   by fused multiply-adds in 4 x 2 register tiles; tied models share one `U`.
//! * [`exp`]: the vectorised exponential of the log-sum-exp.
//!
//! Kernels are sequential; parallelism lives one level up, over ranges of blocks
//! ([`crate::par`]). Instruction sets are chosen at run time by `pulp` (AVX-512, AVX2+FMA or
//! scalar). [`reference`](mod@reference) holds the naive per-sample formulas the tests compare against.

pub mod cholesky;
pub mod diag;
pub mod exp;
pub mod reference;

use crate::data::Samples;
use crate::mixture::{GaussianMixture, Precision};
use crate::real::Real;

/// Rows per block (see the module docs for the choice).
pub const BLOCK_ROWS: usize = 240;

/// Number of blocks needed for `n` samples.
pub fn n_blocks(n: usize) -> usize {
    n.div_ceil(BLOCK_ROWS)
}

/// Caller-owned scratch for one block: the transposed samples, the `k x BLOCK_ROWS`
/// log-densities (or responsibilities) and per-sample log-likelihoods.
#[derive(Debug, Clone)]
pub struct BlockScratch<T> {
    /// Samples of the block, column-major `d x BLOCK_ROWS`, zero-padded.
    pub xt: Vec<T>,
    /// `ℓ_nk` (after [`log_likelihoods_and_responsibilities`], `r_nk`), component-major.
    pub log_density: Vec<T>,
    /// Per-sample `log p(x_n)`.
    pub log_likelihood: Vec<T>,
    /// Centred samples (full and tied kernels only).
    centred: Vec<T>,
    /// Rows in the current block (the rest is padding).
    pub len: usize,
}

impl<T: Real> BlockScratch<T> {
    /// Whether this scratch has the shape for `n_features` and `n_components`.
    pub fn fits(&self, n_features: usize, n_components: usize) -> bool {
        self.xt.len() == n_features * BLOCK_ROWS
            && self.log_density.len() == n_components * BLOCK_ROWS
    }

    /// Scratch for `n_features`-dimensional samples and `n_components` components.
    pub fn new(n_features: usize, n_components: usize) -> Self {
        Self {
            xt: vec![T::ZERO; n_features * BLOCK_ROWS],
            log_density: vec![T::ZERO; n_components * BLOCK_ROWS],
            log_likelihood: vec![T::ZERO; BLOCK_ROWS],
            centred: vec![T::ZERO; n_features * BLOCK_ROWS],
            len: 0,
        }
    }

    /// The component with the largest `log_density` for sample `b` of the block (the lowest
    /// index on ties).
    pub fn most_probable(&self, n_components: usize, b: usize) -> usize {
        let mut best = 0;
        for c in 1..n_components {
            if self.log_density[c * BLOCK_ROWS + b] > self.log_density[best * BLOCK_ROWS + b] {
                best = c;
            }
        }
        best
    }

    /// `(Σ_n w_n log p(x_n), Σ_n w_n)` over the loaded block, from `log_likelihood`; `weights`
    /// are the block's own sample weights (`None`: all 1).
    pub fn log_likelihood_sums(&self, weights: Option<&[f64]>) -> (f64, f64) {
        let values = &self.log_likelihood[..self.len];
        match weights {
            Some(w) => (
                values.iter().zip(w).map(|(l, w)| l.to_f64() * w).sum(),
                w[..self.len].iter().sum(),
            ),
            None => (values.iter().map(|l| l.to_f64()).sum(), self.len as f64),
        }
    }

    /// Transposes block `block` of `x` into [`xt`](Self::xt), padding with zeros.
    pub fn load(&mut self, x: Samples<'_, T>, block: usize) {
        let d = x.n_features();
        let start = block * BLOCK_ROWS;
        let len = BLOCK_ROWS.min(x.n_samples() - start);
        let rows = &x.as_slice()[start * d..(start + len) * d];
        for j in 0..d {
            let col = &mut self.xt[j * BLOCK_ROWS..(j + 1) * BLOCK_ROWS];
            for (b, dst) in col[..len].iter_mut().enumerate() {
                *dst = rows[b * d + j];
            }
            col[len..].fill(T::ZERO);
        }
        self.len = len;
    }
}

/// Fills `scratch.log_density` with `ℓ_nk = log w_k + log N(x_n | k)` for the loaded block, or
/// with `log N(x_n | k)` alone when `with_weights` is false.
pub fn log_densities<T: Real>(
    model: &GaussianMixture<T>,
    scratch: &mut BlockScratch<T>,
    with_weights: bool,
) {
    let arch = pulp::Arch::new();
    let d = model.n_features();
    let zeros;
    let constants = if with_weights {
        model.log_weights()
    } else {
        zeros = vec![T::ZERO; model.n_components()];
        &zeros
    };
    match model.precision() {
        Precision::InverseVariances(inverse) => arch.dispatch(diag::DiagKernel {
            xt: &scratch.xt,
            n_features: d,
            means: model.means(),
            inverse_variances: inverse,
            constants,
            log_norms: model.log_normalisers(),
            out: &mut scratch.log_density,
        }),
        Precision::Cholesky { padded, .. } => arch.dispatch(cholesky::CholeskyKernel {
            xt: &scratch.xt,
            n_features: d,
            means: model.means(),
            factors: padded,
            constants,
            log_norms: model.log_normalisers(),
            centred: &mut scratch.centred,
            out: &mut scratch.log_density,
        }),
    }
}

/// Log-sum-exp over components: fills `scratch.log_likelihood` from `scratch.log_density`.
/// With `responsibilities`, also replaces `ℓ_nk` by `r_nk = exp(ℓ_nk - log p(x_n))`.
///
/// `log p(x_n) = m_n + ln Σ_k exp(ℓ_nk - m_n)` with `m_n = max_k ℓ_nk`; the shifted
/// exponentials ([`exp`]) are kept and divided by their sum, one `exp` per entry.
pub fn log_likelihoods_and_responsibilities<T: Real>(
    n_components: usize,
    scratch: &mut BlockScratch<T>,
    responsibilities: bool,
) {
    pulp::Arch::new().dispatch(LogSumExp {
        log_density: &mut scratch.log_density,
        n_components,
        out: &mut scratch.log_likelihood,
        responsibilities,
    });
}

/// The log-sum-exp kernel, SIMD over samples.
struct LogSumExp<'a, T> {
    log_density: &'a mut [T],
    n_components: usize,
    out: &'a mut [T],
    responsibilities: bool,
}

impl<T: Real> pulp::WithSimd for LogSumExp<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        let Self { log_density, n_components: k, out, responsibilities } = self;
        let mut sums_buffer = [T::ZERO; BLOCK_ROWS];
        let mut inverse_buffer = [T::ZERO; BLOCK_ROWS];
        {
            let (max, _) = T::as_mut_simd::<S>(out);
            let (first, _) = T::as_simd::<S>(&log_density[..BLOCK_ROWS]);
            max.copy_from_slice(first);
            for c in 1..k {
                let (row, _) = T::as_simd::<S>(&log_density[c * BLOCK_ROWS..(c + 1) * BLOCK_ROWS]);
                for (m, v) in max.iter_mut().zip(row) {
                    *m = T::simd_max(simd, *m, *v);
                }
            }
            let (sums, _) = T::as_mut_simd::<S>(&mut sums_buffer);
            for c in 0..k {
                let (row, _) =
                    T::as_mut_simd::<S>(&mut log_density[c * BLOCK_ROWS..(c + 1) * BLOCK_ROWS]);
                for ((v, s), m) in row.iter_mut().zip(sums.iter_mut()).zip(max.iter()) {
                    let e = T::simd_exp(simd, T::simd_sub(simd, *v, *m));
                    *s = T::simd_add(simd, *s, e);
                    if responsibilities {
                        *v = e;
                    }
                }
            }
            if responsibilities {
                let one = T::simd_splat(simd, T::from_f64(1.0));
                let (inverse, _) = T::as_mut_simd::<S>(&mut inverse_buffer);
                for (i, s) in inverse.iter_mut().zip(sums.iter()) {
                    *i = T::simd_div(simd, one, *s);
                }
                for c in 0..k {
                    let (row, _) =
                        T::as_mut_simd::<S>(&mut log_density[c * BLOCK_ROWS..(c + 1) * BLOCK_ROWS]);
                    for (v, i) in row.iter_mut().zip(inverse.iter()) {
                        *v = T::simd_mul(simd, *v, *i);
                    }
                }
            }
        }
        for (m, s) in out.iter_mut().zip(&sums_buffer) {
            *m += s.ln();
        }
    }
}
