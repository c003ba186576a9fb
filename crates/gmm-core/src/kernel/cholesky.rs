//! The full-covariance kernel: `ℓ_nk = log w_k + c_k - ½ ‖U_kᵀ (x_n - μ_k)‖²`, with `U_k` the
//! upper-triangular precision Cholesky factor (scikit-learn's `precisions_cholesky_`).
//!
//! Per component the block is centred once (`c_i = x_i - μ_ki`, SIMD over samples), then the
//! triangular product `y_j = Σ_{i≤j} U_ij c_i` is built in register tiles of 4 output
//! dimensions x 2 registers of samples: each step loads 2 registers of `c_i` and broadcasts 4
//! entries of `U` for 8 independent FMAs (the factor rows are padded with zeros to a multiple
//! of 4 columns, so tiles need no edge cases). Each finished tile is squared into the
//! accumulator. That is about `d(d+5)/2` FMAs per sample and component against the minimum
//! `d(d+1)/2`, in exchange for 8 independent chains and 0.75 loads per FMA. Tied models pass
//! one factor for every component. Only the registers that hold the block's `rows` samples are
//! computed; the rest of `out` is left as it was.

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
    /// `k` (full) or one (tied) upper-triangular factors, `d` rows of `round_up(d, 4)`
    /// columns, zero-padded.
    pub factors: &'a [T],
    /// `log w_k`.
    pub constants: &'a [T],
    /// `-½ d log 2π + log det U_k`.
    pub log_norms: &'a [T],
    /// Scratch for the centred block, `d x BLOCK_ROWS`.
    pub centred: &'a mut [T],
    /// `k x BLOCK_ROWS` output.
    pub out: &'a mut [T],
    /// Samples in the block (`<= BLOCK_ROWS`): only the registers holding them are computed.
    pub rows: usize,
}

impl<T: Real> WithSimd for CholeskyKernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let d = self.n_features;
        let width = d.div_ceil(4) * 4;
        let lanes = T::lanes::<S>();
        let regs = BLOCK_ROWS / lanes;
        debug_assert_eq!(regs * lanes, BLOCK_ROWS);
        // Registers holding samples; each lane's value does not depend on the others.
        let active = self.rows.min(BLOCK_ROWS).div_ceil(lanes);
        let shared = self.factors.len() == d * width;
        let (xt, _) = T::as_simd::<S>(self.xt);
        let (centred, _) = T::as_mut_simd::<S>(self.centred);
        let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
        for (c, out) in self.out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
            let mean = &self.means[c * d..(c + 1) * d];
            let u = if shared {
                self.factors
            } else {
                &self.factors[c * d * width..(c + 1) * d * width]
            };
            for j in 0..d {
                let mu = T::simd_splat(simd, mean[j]);
                for r in 0..active {
                    centred[j * regs + r] = T::simd_sub(simd, xt[j * regs + r], mu);
                }
            }
            let constant = T::simd_splat(simd, self.constants[c] + self.log_norms[c]);
            let (out, _) = T::as_mut_simd::<S>(out);
            let mut r = 0;
            while r + 2 <= active {
                let [a0, a1] = squared_norms::<T, S, 2>(simd, centred, regs, r, u, d, width);
                out[r] = T::simd_mul_add(simd, a0, minus_half, constant);
                out[r + 1] = T::simd_mul_add(simd, a1, minus_half, constant);
                r += 2;
            }
            if r < active {
                let [a] = squared_norms::<T, S, 1>(simd, centred, regs, r, u, d, width);
                out[r] = T::simd_mul_add(simd, a, minus_half, constant);
            }
        }
    }
}

/// `‖Uᵀ c‖²` for `N` registers of samples starting at register `r`, in tiles of 4 columns.
#[inline(always)]
fn squared_norms<T: Real, S: Simd, const N: usize>(
    simd: S,
    centred: &[T::V<S>],
    regs: usize,
    r: usize,
    u: &[T],
    d: usize,
    width: usize,
) -> [T::V<S>; N] {
    let zero = T::simd_splat(simd, T::ZERO);
    let mut acc = [zero; N];
    for j0 in (0..d).step_by(4) {
        let mut y = [[zero; N]; 4];
        // U is upper triangular: rows below j0 + 3 contribute nothing to columns j0..j0+4.
        for i in 0..(j0 + 4).min(d) {
            let row = &u[i * width + j0..i * width + j0 + 4];
            let mut cv = [zero; N];
            for (n, v) in cv.iter_mut().enumerate() {
                *v = centred[i * regs + r + n];
            }
            for q in 0..4 {
                let uq = T::simd_splat(simd, row[q]);
                for n in 0..N {
                    y[q][n] = T::simd_mul_add(simd, cv[n], uq, y[q][n]);
                }
            }
        }
        for yq in &y {
            for n in 0..N {
                acc[n] = T::simd_mul_add(simd, yq[n], yq[n], acc[n]);
            }
        }
    }
    acc
}
