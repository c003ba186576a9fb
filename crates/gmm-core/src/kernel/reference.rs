//! Naive reference formulas, for tests only: one sample, one component at a time, in `f64`,
//! straight from the textbook
//!
//! ```text
//! log w_k + log N(x | μ_k, Σ_k) = log w_k - ½ (d log 2π + log det Σ_k + (x-μ_k)ᵀ Σ_k⁻¹ (x-μ_k)),
//! ```
//!
//! with `Σ_k⁻¹` and `det Σ_k` from Gauss-Jordan elimination with partial pivoting on the dense
//! covariance matrix. Nothing here shares code with the kernels (no blocks, no SIMD, no faer,
//! no cached derived terms), which is the point.

use crate::mixture::{GaussianMixture, LN_2PI};
use crate::real::Real;

/// `log w_k + log N(x | μ_k, Σ_k)` for every component.
pub fn weighted_log_densities<T: Real>(model: &GaussianMixture<T>, x: &[T]) -> Vec<f64> {
    let d = model.n_features();
    (0..model.n_components())
        .map(|c| {
            let cov: Vec<f64> = model.covariance_matrix(c).iter().map(|v| v.to_f64()).collect();
            let (inverse, log_det) = inverse_and_log_det(&cov, d);
            let diff: Vec<f64> =
                x.iter().zip(model.mean(c)).map(|(a, m)| a.to_f64() - m.to_f64()).collect();
            let mut quad = 0.0;
            for i in 0..d {
                for j in 0..d {
                    quad += diff[i] * inverse[i * d + j] * diff[j];
                }
            }
            model.weights()[c].to_f64().ln() - 0.5 * (d as f64 * LN_2PI + log_det + quad)
        })
        .collect()
}

/// `log p(x)` by a max-shifted log-sum-exp of [`weighted_log_densities`].
pub fn log_likelihood<T: Real>(model: &GaussianMixture<T>, x: &[T]) -> f64 {
    log_sum_exp(&weighted_log_densities(model, x))
}

/// Posterior probabilities `r_k = p(k | x)`.
pub fn posteriors<T: Real>(model: &GaussianMixture<T>, x: &[T]) -> Vec<f64> {
    let l = weighted_log_densities(model, x);
    let total = log_sum_exp(&l);
    l.iter().map(|v| (v - total).exp()).collect()
}

fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// Inverse and log-determinant of a dense `d x d` matrix by Gauss-Jordan elimination.
fn inverse_and_log_det(a: &[f64], d: usize) -> (Vec<f64>, f64) {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let mut log_det = 0.0;
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&p, &q| m[p * d + col].abs().total_cmp(&m[q * d + col].abs()))
            .expect("non-empty range");
        if pivot != col {
            for j in 0..d {
                m.swap(pivot * d + j, col * d + j);
                inv.swap(pivot * d + j, col * d + j);
            }
        }
        let p = m[col * d + col];
        log_det += p.abs().ln();
        for j in 0..d {
            m[col * d + j] /= p;
            inv[col * d + j] /= p;
        }
        for row in 0..d {
            if row != col {
                let f = m[row * d + col];
                for j in 0..d {
                    m[row * d + j] -= f * m[col * d + j];
                    inv[row * d + j] -= f * inv[col * d + j];
                }
            }
        }
    }
    (inv, log_det)
}
