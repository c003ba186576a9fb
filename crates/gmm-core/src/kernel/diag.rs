//! The diagonal kernel: `ℓ_nk = log w_k + c_k - ½ Σ_j (x_nj - μ_kj)² / σ²_kj`.
//!
//! # Two forms of the sum
//!
//! * **Exact** (`f32` models): `t = x - μ`, `q = t p`, `acc += q t` with `p = 1 / σ²` — three
//!   instructions per value. `x - μ` is exact when `x` is near `μ`, so the terms carry only a
//!   few roundings of their own size.
//! * **Scaled** (`f64` models): `y = x a - m` in one FMA with `a = 1 / σ` and `m = μ / σ`
//!   (both rounded once, by the model), then `acc += y²` — two instructions per value, the
//!   densities' share of an EM iteration down by a third. The FMA forms `x a` exactly; what it
//!   adds is the rounding of `m`, an absolute error of `ε |μ| / σ` in `y`, which is the size of
//!   the rounding already in the data (`x` itself is `ε |x| ≈ ε |μ|` from its true value). In
//!   `f64` that is a relative error of `2.2e-16 |μ| / σ` per term: 2e-12 for data `10⁴`
//!   standard deviations from the origin, where scikit-learn's expanded form
//!   `x² p - 2 x μ p + μ² p` loses `(|μ| / σ)²`, 2e-8. `f32` (`ε = 6e-8`) keeps the exact
//!   form: there the same error would be visible for data a few hundred deviations out. A model
//!   whose `1 / σ` or `|μ| / σ` is near overflow (above `1e150`) keeps the exact form too.
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
    /// `k x d` `1 / σ` and `-μ / σ` for the scaled form (see the module docs); `None`: the
    /// exact form.
    pub scaled: Option<(&'a [T], &'a [T])>,
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
    fn with_simd<S: Simd>(mut self, simd: S) -> Self::Output {
        let lanes = T::lanes::<S>();
        let regs = BLOCK_ROWS / lanes;
        debug_assert_eq!(regs * lanes, BLOCK_ROWS);
        // Registers holding samples; each lane's value does not depend on the others.
        let active = self.rows.min(BLOCK_ROWS).div_ceil(lanes);
        let (xt, _) = T::as_simd::<S>(self.xt);
        // Groups of registers outside, components inside: the group's samples (`N x d`
        // registers) stay in L1 while every component reads them, instead of the whole block
        // being re-read from L2 once per component (the output rows push it out of L1).
        let mut r = 0;
        while r < active {
            let n = (active - r).min(DIAG_GROUP);
            match n {
                DIAG_GROUP => self.components::<S, DIAG_GROUP>(simd, xt, regs, r),
                1 => self.components::<S, 1>(simd, xt, regs, r),
                2 => self.components::<S, 2>(simd, xt, regs, r),
                3 => self.components::<S, 3>(simd, xt, regs, r),
                4 => self.components::<S, 4>(simd, xt, regs, r),
                _ => self.components::<S, 5>(simd, xt, regs, r),
            }
            r += n;
        }
    }
}

impl<T: Real> DiagKernel<'_, T> {
    /// Registers `r..r + N` of every component's output.
    #[inline(always)]
    fn components<S: Simd, const N: usize>(
        &mut self,
        simd: S,
        xt: &[T::V<S>],
        regs: usize,
        r: usize,
    ) {
        let d = self.n_features;
        let (out, _) = T::as_mut_simd::<S>(self.out);
        let mut first = 0;
        if let Some((root, minus_scaled_means)) = self.scaled
            && size_of::<T::V<S>>() == 64
        {
            // 512-bit registers (32 of them): two components per pass over the group's
            // samples, `2 N` accumulators, each sample register loaded once for both.
            let k = out.len() / regs;
            let mut pairs = out.chunks_exact_mut(2 * regs);
            for (p, two) in (&mut pairs).enumerate() {
                let (c0, c1) = (2 * p, 2 * p + 1);
                let (out0, out1) = two.split_at_mut(regs);
                let constants = [
                    T::simd_splat(simd, self.constants[c0] + self.log_norms[c0]),
                    T::simd_splat(simd, self.constants[c1] + self.log_norms[c1]),
                ];
                scaled_pair::<T, S, N>(
                    simd,
                    xt,
                    regs,
                    r,
                    [
                        &minus_scaled_means[c0 * d..(c0 + 1) * d],
                        &minus_scaled_means[c1 * d..(c1 + 1) * d],
                    ],
                    [&root[c0 * d..(c0 + 1) * d], &root[c1 * d..(c1 + 1) * d]],
                    constants,
                    [out0, out1],
                );
            }
            first = k - k % 2;
        }
        for (c, out) in out.chunks_exact_mut(regs).enumerate().skip(first) {
            let constant = T::simd_splat(simd, self.constants[c] + self.log_norms[c]);
            let at = c * d..(c + 1) * d;
            match self.scaled {
                Some((root, minus_scaled_means)) => scaled_group::<T, S, N>(
                    simd,
                    xt,
                    regs,
                    r,
                    &minus_scaled_means[at.clone()],
                    &root[at],
                    constant,
                    out,
                ),
                None => diag_group::<T, S, N>(
                    simd,
                    xt,
                    regs,
                    r,
                    &self.means[at.clone()],
                    &self.inverse_variances[at],
                    constant,
                    out,
                ),
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
    for (column, (&mu, &p)) in xt.chunks_exact(regs).zip(mean.iter().zip(inv)) {
        let mu = T::simd_splat(simd, mu);
        let p = T::simd_splat(simd, p);
        let col: &[T::V<S>; N] = column[r..r + N].try_into().unwrap();
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

/// `ℓ = constant - ½ Σ_j (x_j a_j - m_j)²` for `N` registers of samples from register `r`
/// (`a = 1 / σ`, `m = μ / σ`, read negated; the scaled form of the module docs).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn scaled_group<T: Real, S: Simd, const N: usize>(
    simd: S,
    xt: &[T::V<S>],
    regs: usize,
    r: usize,
    minus_scaled_mean: &[T],
    root: &[T],
    constant: T::V<S>,
    out: &mut [T::V<S>],
) {
    let zero = T::simd_splat(simd, T::ZERO);
    let mut acc = [zero; N];
    let columns = xt.chunks_exact(regs).zip(root.iter().zip(minus_scaled_mean));
    for (column, (&a, &minus_m)) in columns {
        let minus_m = T::simd_splat(simd, minus_m);
        let a = T::simd_splat(simd, a);
        let col: &[T::V<S>; N] = column[r..r + N].try_into().unwrap();
        for n in 0..N {
            let y = T::simd_mul_add(simd, col[n], a, minus_m);
            acc[n] = T::simd_mul_add(simd, y, y, acc[n]);
        }
    }
    let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
    for n in 0..N {
        out[r + n] = T::simd_mul_add(simd, acc[n], minus_half, constant);
    }
}

/// [`scaled_group`] for two components at once (their `-μ / σ`, `1 / σ`, constants and
/// output rows), each sample register loaded once for both.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn scaled_pair<T: Real, S: Simd, const N: usize>(
    simd: S,
    xt: &[T::V<S>],
    regs: usize,
    r: usize,
    minus_scaled_mean: [&[T]; 2],
    root: [&[T]; 2],
    constant: [T::V<S>; 2],
    out: [&mut [T::V<S>]; 2],
) {
    let zero = T::simd_splat(simd, T::ZERO);
    let mut acc = [[zero; N]; 2];
    let per_column =
        root[0].iter().zip(root[1]).zip(minus_scaled_mean[0].iter().zip(minus_scaled_mean[1]));
    for (column, ((&a0, &a1), (&m0, &m1))) in xt.chunks_exact(regs).zip(per_column) {
        let (a0, a1) = (T::simd_splat(simd, a0), T::simd_splat(simd, a1));
        let (m0, m1) = (T::simd_splat(simd, m0), T::simd_splat(simd, m1));
        let col: &[T::V<S>; N] = column[r..r + N].try_into().unwrap();
        for n in 0..N {
            let y0 = T::simd_mul_add(simd, col[n], a0, m0);
            acc[0][n] = T::simd_mul_add(simd, y0, y0, acc[0][n]);
            let y1 = T::simd_mul_add(simd, col[n], a1, m1);
            acc[1][n] = T::simd_mul_add(simd, y1, y1, acc[1][n]);
        }
    }
    let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
    for (which, out) in out.into_iter().enumerate() {
        for n in 0..N {
            out[r + n] = T::simd_mul_add(simd, acc[which][n], minus_half, constant[which]);
        }
    }
}
