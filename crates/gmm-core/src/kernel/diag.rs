//! The diagonal kernel: `ℓ_nk = log w_k + c_k - ½ Σ_j (x_nj - μ_kj)² / σ²_kj`.
//!
//! SIMD lanes run over the samples of a transposed block; four registers of samples are
//! processed together so four independent FMA chains hide the instruction latency. Only the
//! registers that hold the block's `rows` samples are computed (a short last block costs its own
//! length, rounded up to a register); the rest of `out` is left as it was.

use pulp::{Simd, WithSimd};

use super::BLOCK_ROWS;
use crate::real::Real;

/// One block, all components (see the module docs).
pub struct DiagKernel<'a, T> {
    /// Transposed block, `d x BLOCK_ROWS`.
    pub xt: &'a [T],
    /// `d`.
    pub n_features: usize,
    /// `k x d` means.
    pub means: &'a [T],
    /// `k x d` inverse variances.
    pub inverse_variances: &'a [T],
    /// `log w_k`.
    pub constants: &'a [T],
    /// `-½ d log 2π - ½ log det Σ_k`.
    pub log_norms: &'a [T],
    /// `k x BLOCK_ROWS` output.
    pub out: &'a mut [T],
    /// Samples in the block (`<= BLOCK_ROWS`): only the registers holding them are computed.
    pub rows: usize,
}

impl<T: Real> WithSimd for DiagKernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let d = self.n_features;
        let lanes = T::lanes::<S>();
        let regs = BLOCK_ROWS / lanes;
        debug_assert_eq!(regs * lanes, BLOCK_ROWS);
        // Registers holding samples; each lane's value does not depend on the others.
        let active = self.rows.min(BLOCK_ROWS).div_ceil(lanes);
        let (xt, _) = T::as_simd::<S>(self.xt);
        let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
        for (c, out) in self.out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
            let mean = &self.means[c * d..(c + 1) * d];
            let inv = &self.inverse_variances[c * d..(c + 1) * d];
            let constant = T::simd_splat(simd, self.constants[c] + self.log_norms[c]);
            let (out, _) = T::as_mut_simd::<S>(out);
            let mut r = 0;
            while r + 4 <= active {
                let zero = T::simd_splat(simd, T::ZERO);
                let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
                for j in 0..d {
                    let mu = T::simd_splat(simd, mean[j]);
                    let p = T::simd_splat(simd, inv[j]);
                    let col = &xt[j * regs + r..j * regs + r + 4];
                    let t0 = T::simd_sub(simd, col[0], mu);
                    let t1 = T::simd_sub(simd, col[1], mu);
                    let t2 = T::simd_sub(simd, col[2], mu);
                    let t3 = T::simd_sub(simd, col[3], mu);
                    a0 = T::simd_mul_add(simd, T::simd_mul(simd, t0, p), t0, a0);
                    a1 = T::simd_mul_add(simd, T::simd_mul(simd, t1, p), t1, a1);
                    a2 = T::simd_mul_add(simd, T::simd_mul(simd, t2, p), t2, a2);
                    a3 = T::simd_mul_add(simd, T::simd_mul(simd, t3, p), t3, a3);
                }
                out[r] = T::simd_mul_add(simd, a0, minus_half, constant);
                out[r + 1] = T::simd_mul_add(simd, a1, minus_half, constant);
                out[r + 2] = T::simd_mul_add(simd, a2, minus_half, constant);
                out[r + 3] = T::simd_mul_add(simd, a3, minus_half, constant);
                r += 4;
            }
            while r < active {
                let mut a = T::simd_splat(simd, T::ZERO);
                for j in 0..d {
                    let t = T::simd_sub(simd, xt[j * regs + r], T::simd_splat(simd, mean[j]));
                    a = T::simd_mul_add(
                        simd,
                        T::simd_mul(simd, t, T::simd_splat(simd, inv[j])),
                        t,
                        a,
                    );
                }
                out[r] = T::simd_mul_add(simd, a, minus_half, constant);
                r += 1;
            }
        }
    }
}
