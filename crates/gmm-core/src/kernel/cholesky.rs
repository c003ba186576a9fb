//! The full-covariance kernel: `ℓ_nk = log w_k + c_k - ½ ‖U_kᵀ (x_n - μ_k)‖²`, with `U_k` the
//! upper-triangular precision Cholesky factor (scikit-learn's `precisions_cholesky_`).
//!
//! Per component the block is centred once (`c_i = x_i - μ_ki`, SIMD over samples), then for
//! each output dimension `j` the triangular product `y_j = Σ_{i≤j} U_ij c_i` is built by FMAs
//! and squared into the accumulator: `d(d+1)/2` FMAs per sample and component, the minimum
//! for a dense triangular factor. Tied models pass one factor for every component.

use pulp::{Simd, WithSimd};

use super::BLOCK_ROWS;
use crate::real::Real;

/// One block, all components (see the module docs).
pub struct CholeskyKernel<'a, T> {
    /// Transposed block, `d x BLOCK_ROWS`.
    pub xt: &'a [T],
    /// `d`.
    pub n_features: usize,
    /// `k x d` means.
    pub means: &'a [T],
    /// `k` (full) or one (tied) row-major upper-triangular `d x d` factors.
    pub factors: &'a [T],
    /// `log w_k`.
    pub constants: &'a [T],
    /// `-½ d log 2π + log det U_k`.
    pub log_norms: &'a [T],
    /// Scratch for the centred block, `d x BLOCK_ROWS`.
    pub centred: &'a mut [T],
    /// `k x BLOCK_ROWS` output.
    pub out: &'a mut [T],
}

impl<T: Real> WithSimd for CholeskyKernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let d = self.n_features;
        let lanes = T::lanes::<S>();
        let regs = BLOCK_ROWS / lanes;
        debug_assert_eq!(regs * lanes, BLOCK_ROWS);
        let shared = self.factors.len() == d * d;
        let (xt, _) = T::as_simd::<S>(self.xt);
        let (centred, _) = T::as_mut_simd::<S>(self.centred);
        let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
        for (c, out) in self.out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
            let mean = &self.means[c * d..(c + 1) * d];
            let u = if shared { self.factors } else { &self.factors[c * d * d..(c + 1) * d * d] };
            for j in 0..d {
                let mu = T::simd_splat(simd, mean[j]);
                for r in 0..regs {
                    centred[j * regs + r] = T::simd_sub(simd, xt[j * regs + r], mu);
                }
            }
            let constant = T::simd_splat(simd, self.constants[c] + self.log_norms[c]);
            let (out, _) = T::as_mut_simd::<S>(out);
            // Four registers of samples at a time: four independent FMA chains per output.
            let mut r = 0;
            while r + 4 <= regs {
                let zero = T::simd_splat(simd, T::ZERO);
                let mut acc = [zero; 4];
                for j in 0..d {
                    let mut y = [zero; 4];
                    for i in 0..=j {
                        let uij = T::simd_splat(simd, u[i * d + j]);
                        let row = &centred[i * regs + r..i * regs + r + 4];
                        for l in 0..4 {
                            y[l] = T::simd_mul_add(simd, row[l], uij, y[l]);
                        }
                    }
                    for l in 0..4 {
                        acc[l] = T::simd_mul_add(simd, y[l], y[l], acc[l]);
                    }
                }
                for l in 0..4 {
                    out[r + l] = T::simd_mul_add(simd, acc[l], minus_half, constant);
                }
                r += 4;
            }
            while r < regs {
                let mut a = T::simd_splat(simd, T::ZERO);
                for j in 0..d {
                    let mut y = T::simd_splat(simd, T::ZERO);
                    for i in 0..=j {
                        y = T::simd_mul_add(
                            simd,
                            centred[i * regs + r],
                            T::simd_splat(simd, u[i * d + j]),
                            y,
                        );
                    }
                    a = T::simd_mul_add(simd, y, y, a);
                }
                out[r] = T::simd_mul_add(simd, a, minus_half, constant);
                r += 1;
            }
        }
    }
}
