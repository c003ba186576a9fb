//! The full-covariance kernel: `ℓ_nk = log w_k + c_k - ½ ‖U_kᵀ (x_n - μ_k)‖²`, with `U_k` the
//! upper-triangular precision Cholesky factor (scikit-learn's `precisions_cholesky_`).
//!
//! # The maths
//!
//! `y = U_kᵀ (x - μ_k) = U_kᵀ x - m_k` with `m_k = U_kᵀ μ_k`, computed once per model (by
//! `GaussianMixture`, in `f64`, rounded once to the model's precision, stored negated). So the mean is folded into the start value
//! of every output: `y_j = -m_kj + Σ_{i≤j} U_ij x_i`, and the block is read as it is, with no
//! centred copy per component. This is scikit-learn's own form (`X @ U - μ @ U`); it loses
//! `ε |x| / σ` relative in `y` when the data sit far from the origin against their spread,
//! against `ε` for the centred form — for the log-density that is an absolute error of about
//! `ε ‖y‖² |x| / σ`, far below anything the log-sum-exp or the statistics can see (the
//! statistics themselves stay shifted, see `moments`).
//!
//! # Current implementation
//!
//! The triangular product is built in register tiles of 5 output dimensions x `N` registers of
//! samples (`N = 4` on AVX-512, where 32 registers hold 20 accumulators, 4 sample registers,
//! 4 squared norms and a broadcast, the block's last registers in groups of 3, 2, 1; `N = 2`
//! on AVX2's 16): each step loads `N` registers of `x_i` and broadcasts 5 entries of `U` for
//! `5N` independent FMAs (the factor rows are padded with zeros to a multiple of 4 columns,
//! which the tiles do not rely on). Each finished tile is squared into the accumulator. The
//! last tile is only as wide as the columns left, and a tile's diagonal block
//! skips the zeros below the diagonal (which add exact zeros, so the bits are those of full
//! tiles): `d(d+1)/2` FMAs for the product and `d` for the squares per sample and component,
//! the minimum. Tied models pass one factor for every component. Only the registers that hold
//! the block's `rows` samples are computed; the rest of `out` is left as it was.

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
    /// `k x round_up(d, 4)`: `-m_k = -U_kᵀ μ_k`, zero-padded (the model computes it once).
    pub minus_folded: &'a [T],
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
        let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
        for (c, out) in self.out.chunks_exact_mut(BLOCK_ROWS).enumerate() {
            let u = if shared {
                self.factors
            } else {
                &self.factors[c * d * width..(c + 1) * d * width]
            };
            let folded = &self.minus_folded[c * width..(c + 1) * width];
            let constant = T::simd_splat(simd, self.constants[c] + self.log_norms[c]);
            let (out, _) = T::as_mut_simd::<S>(out);
            let mut r = 0;
            if lanes * size_of::<T>() >= 64 {
                while r + 4 <= active {
                    let a = squared_norms::<T, S, 4>(simd, xt, regs, r, u, folded, d, width);
                    for n in 0..4 {
                        out[r + n] = T::simd_mul_add(simd, a[n], minus_half, constant);
                    }
                    r += 4;
                }
                while r + 3 <= active {
                    let a = squared_norms::<T, S, 3>(simd, xt, regs, r, u, folded, d, width);
                    for n in 0..3 {
                        out[r + n] = T::simd_mul_add(simd, a[n], minus_half, constant);
                    }
                    r += 3;
                }
            }
            while r + 2 <= active {
                let [a0, a1] = squared_norms::<T, S, 2>(simd, xt, regs, r, u, folded, d, width);
                out[r] = T::simd_mul_add(simd, a0, minus_half, constant);
                out[r + 1] = T::simd_mul_add(simd, a1, minus_half, constant);
                r += 2;
            }
            if r < active {
                let [a] = squared_norms::<T, S, 1>(simd, xt, regs, r, u, folded, d, width);
                out[r] = T::simd_mul_add(simd, a, minus_half, constant);
            }
        }
    }
}

/// Output dimensions per register tile: `5 x N` accumulators, with `N` sample registers, the
/// `N` squared norms and a broadcast, fill 29 of AVX-512's 32 registers (`N = 4`) and 15 of
/// AVX2's 16 (`N = 2`). Five rather than four: 9 loads per 20 FMAs instead of 8 per 16, which
/// took the density stage of the headline's full case from 11.2-11.5 to 10.5-10.8 ms on
/// AVX-512 and from 21.6 to 18.5 ms on AVX2 (one thread, `examples/kernels`; see
/// `docs/PERFORMANCE.md`).
const TILE_COLUMNS: usize = 5;

/// `‖Uᵀ x - m‖²` for `N` registers of samples starting at register `r`, in tiles of
/// [`TILE_COLUMNS`] columns (the last one as wide as the columns left: the padding is not
/// computed). The squares are added in the order of the columns, whatever the tiling.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn squared_norms<T: Real, S: Simd, const N: usize>(
    simd: S,
    xt: &[T::V<S>],
    regs: usize,
    r: usize,
    u: &[T],
    folded: &[T],
    d: usize,
    width: usize,
) -> [T::V<S>; N] {
    let mut acc = [T::simd_splat(simd, T::ZERO); N];
    for j0 in (0..d).step_by(TILE_COLUMNS) {
        let at = Tile { r, j0, regs, width };
        match d - j0 {
            1 => tile::<T, S, N, 1>(simd, at, xt, u, folded, &mut acc),
            2 => tile::<T, S, N, 2>(simd, at, xt, u, folded, &mut acc),
            3 => tile::<T, S, N, 3>(simd, at, xt, u, folded, &mut acc),
            4 => tile::<T, S, N, 4>(simd, at, xt, u, folded, &mut acc),
            _ => tile::<T, S, N, TILE_COLUMNS>(simd, at, xt, u, folded, &mut acc),
        }
    }
    acc
}

/// Where a [`tile`] works: sample register `r`, first column `j0`, and the strides of the
/// block (`regs` registers per column) and of the factor (`width` values per row).
#[derive(Clone, Copy)]
struct Tile {
    r: usize,
    j0: usize,
    regs: usize,
    width: usize,
}

/// Adds `Σ_q y_q²` over the `Q` columns `j0..j0 + Q` to `acc`, `y_q = -m_q + Σ_{i≤q} U_iq x_i`.
///
/// The rows above the tile's diagonal block take all `Q` columns; the diagonal block's rows
/// only the columns on and right of the diagonal (`U` is zero below it). The terms left out
/// are exact zeros (`x · 0` added to `y`), so every `y_q` is summed over the same non-zero
/// terms in the same order of `i` as a full-width tile would: the same bits, about a fifth fewer
/// FMAs for `d = 15`.
#[inline(always)]
fn tile<T: Real, S: Simd, const N: usize, const Q: usize>(
    simd: S,
    at: Tile,
    xt: &[T::V<S>],
    u: &[T],
    folded: &[T],
    acc: &mut [T::V<S>; N],
) {
    let Tile { r, j0, regs, width } = at;
    let mut y = [[T::simd_splat(simd, T::ZERO); N]; Q];
    for (q, yq) in y.iter_mut().enumerate() {
        *yq = [T::simd_splat(simd, folded[j0 + q]); N];
    }
    // The factor's rows by offset, not by `chunks_exact(width)`: its length is divided by the
    // run-time `width` (an integer division per tile, on the loop's trip count).
    let mut columns = xt.chunks_exact(regs);
    let mut at = j0;
    for column in (&mut columns).take(j0) {
        let row: &[T; Q] = u[at..at + Q].try_into().unwrap();
        at += width;
        let xv: [T::V<S>; N] = column[r..r + N].try_into().unwrap();
        for q in 0..Q {
            let uq = T::simd_splat(simd, row[q]);
            for n in 0..N {
                y[q][n] = T::simd_mul_add(simd, xv[n], uq, y[q][n]);
            }
        }
    }
    for (di, column) in columns.take(Q).enumerate() {
        let row: &[T; Q] = u[at..at + Q].try_into().unwrap();
        at += width;
        let xv: [T::V<S>; N] = column[r..r + N].try_into().unwrap();
        for q in di..Q {
            let uq = T::simd_splat(simd, row[q]);
            for n in 0..N {
                y[q][n] = T::simd_mul_add(simd, xv[n], uq, y[q][n]);
            }
        }
    }
    for yq in &y {
        for n in 0..N {
            acc[n] = T::simd_mul_add(simd, yq[n], yq[n], acc[n]);
        }
    }
}
