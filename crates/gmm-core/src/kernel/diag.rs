//! The diagonal kernel: `ℓ_nk = log w_k + c_k - ½ Σ_j (x_nj - μ_kj)² / σ²_kj`.
//!
//! SIMD lanes run over the samples of a transposed block; six registers of samples are
//! processed together (six independent FMA chains; the last registers of a block as one group
//! of up to five, never a latency-bound single chain). Only the
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
        for (c, out) in self.out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
            let mean = &self.means[c * d..(c + 1) * d];
            let inv = &self.inverse_variances[c * d..(c + 1) * d];
            let constant = T::simd_splat(simd, self.constants[c] + self.log_norms[c]);
            let (out, _) = T::as_mut_simd::<S>(out);
            let mut r = 0;
            while r + DIAG_GROUP <= active {
                diag_group::<T, S, DIAG_GROUP>(simd, xt, regs, r, mean, inv, constant, out);
                r += DIAG_GROUP;
            }
            // The last registers: as many independent chains as there are registers left.
            match active - r {
                0 => {}
                1 => diag_group::<T, S, 1>(simd, xt, regs, r, mean, inv, constant, out),
                2 => diag_group::<T, S, 2>(simd, xt, regs, r, mean, inv, constant, out),
                3 => diag_group::<T, S, 3>(simd, xt, regs, r, mean, inv, constant, out),
                4 => diag_group::<T, S, 4>(simd, xt, regs, r, mean, inv, constant, out),
                _ => diag_group::<T, S, 5>(simd, xt, regs, r, mean, inv, constant, out),
            }
        }
    }
}

/// Registers of samples per group: 6 independent FMA chains (`t = x - μ`, `q = t p`,
/// `acc += q t`: with 2 FP pipes the group is throughput-bound, not latency-bound); 30
/// AVX-512 registers of `f64` make 5 groups, 60 AVX2 ones 10.
const DIAG_GROUP: usize = 6;

/// `ℓ = constant - ½ Σ_j (x_j - μ_j)² p_j` for `N` registers of samples from register `r`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn diag_group<T: Real, S: Simd, const N: usize>(
    simd: S,
    xt: &[T::V<S>],
    regs: usize,
    r: usize,
    mean: &[T],
    inv: &[T],
    constant: T::V<S>,
    out: &mut [T::V<S>],
) {
    let zero = T::simd_splat(simd, T::ZERO);
    let mut acc = [zero; N];
    for j in 0..mean.len() {
        let mu = T::simd_splat(simd, mean[j]);
        let p = T::simd_splat(simd, inv[j]);
        let col = &xt[j * regs + r..j * regs + r + N];
        for n in 0..N {
            let t = T::simd_sub(simd, col[n], mu);
            acc[n] = T::simd_mul_add(simd, T::simd_mul(simd, t, p), t, acc[n]);
        }
    }
    let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
    for n in 0..N {
        out[r + n] = T::simd_mul_add(simd, acc[n], minus_half, constant);
    }
}
