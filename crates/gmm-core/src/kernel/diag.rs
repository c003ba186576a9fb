//! The diagonal kernel: `ℓ_nk = log w_k + c_k - ½ Σ_j (x_nj - μ_kj)² / σ²_kj`.
//!
//! # Two forms of the sum
//!
//! * **Exact**: `t = x - μ`, `q = t p`, `acc += q t` with `p = 1 / σ²` — three instructions
//!   per value. `x - μ` is exact when `x` is near `μ`, so the terms carry only a few roundings
//!   of their own size.
//! * **Scaled**: `y = x a - m` in one FMA with `a = 1 / σ` and `m = μ / σ` (both rounded once,
//!   by the model, `-m` stored), then `acc += y²` — two instructions per value instead of
//!   three. The FMA forms `x a` exactly; what it adds is the rounding of `m` (and of `a`), an
//!   absolute error of `ε |μ| / σ` in `y`, which is the size of the rounding already in the
//!   data (`x` itself is `ε |x| ≈ ε |μ|` from its true value). In `f64` that is a relative
//!   error of `2.2e-16 |μ| / σ` per term: 2e-12 for data `10⁴` standard deviations from the
//!   origin, where scikit-learn's expanded form `x² p - 2 x μ p + μ² p` loses `(|μ| / σ)²`,
//!   2e-8.
//!
//! `f64` models take the scaled form unless their `1 / σ` or `|μ| / σ` is near overflow
//! (above `1e150`). `f32` models (`ε = 6e-8`) take it only while every `|μ| / σ` is at most
//! [`F32_SCALED_RANGE`] (16): the error is then at most `16 ε ≈ 1e-6` in units of `σ`, the
//! size of the `f32` sum of a few terms, where data a few hundred deviations out would see
//! it; farther out they keep the exact form. (Until round seven every `f32` model took the
//! exact form; on the headline, means within 3.6 σ of the origin, the scaled form cut the
//! `f32` density stage from ~1.45 to ~1.0 ms per iteration and moved the final
//! log-likelihood by 2e-9 relative, the size of its `f32` difference from scikit-learn.)
//!
//! # Current implementation
//!
//! SIMD lanes run over the samples of a transposed block. Groups of six registers of samples
//! (the last registers of a block as one group of up to five) are the outer loop and the
//! components the inner one, so a group's `6 d` registers stay in L1 while every component
//! reads them. Several components go through a group together (each sample register loaded
//! once for all of them): three with groups of six registers on AVX-512's 32 registers (18
//! accumulators; three rather than two cut the density stage by ~5 %: its loads, not its FMAs,
//! bound it on the machine measured), two with groups of four on AVX2's 16 (8). The loop over
//! dimensions walks the block's columns and the parameters with iterators: indexed slices
//! left a bounds check per dimension and register copies in the loop, which cost a fifth of
//! the kernel. Only the registers that hold the block's `rows` samples are
//! computed (a short last block costs its own length, rounded up to a register); the rest of
//! `out` is left as it was. Every accumulator sums its dimensions in order, so the grouping
//! changes no bit.

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
        // Six registers a group on 512-bit registers (32 of them: 12 accumulators for two
        // components), four on narrower ones (16 AVX2 registers: 8 accumulators).
        let group = if size_of::<T::V<S>>() == 64 { DIAG_GROUP } else { 4 };
        let mut r = 0;
        while r < active {
            let n = (active - r).min(group);
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
    /// Registers `r..r + N` of every component's output, three (512-bit registers) or two
    /// (`N <= 4`) components per pass over the group's samples (each sample register loaded
    /// once for all of them), the rest one by one.
    #[inline(always)]
    fn components<S: Simd, const N: usize>(
        &mut self,
        simd: S,
        xt: &[T::V<S>],
        regs: usize,
        r: usize,
    ) {
        // The output is taken out of `self` (and put back) so the groups can read the rest.
        let whole = std::mem::take(&mut self.out);
        let (out, _) = T::as_mut_simd::<S>(&mut *whole);
        let k = out.len() / regs;
        let wide = size_of::<T::V<S>>() == 64;
        let mut first = 0;
        if wide {
            // Three components a pass on 512-bit registers (3 N accumulators, 3 x 2 broadcasts
            // per sample load: fewer loads per FMA than two, which the loads bound).
            for (p, three) in out.chunks_exact_mut(3 * regs).enumerate() {
                let (out0, rest) = three.split_at_mut(regs);
                let (out1, out2) = rest.split_at_mut(regs);
                let outs = [out0, out1, out2];
                match self.scaled {
                    Some(_) => self.group::<S, N, 3, true>(simd, xt, regs, r, 3 * p, outs),
                    None => self.group::<S, N, 3, false>(simd, xt, regs, r, 3 * p, outs),
                }
            }
            first = k - k % 3;
        }
        if wide || N <= 4 {
            let pairs = out[first * regs..].chunks_exact_mut(2 * regs);
            for (p, two) in pairs.enumerate() {
                let (out0, out1) = two.split_at_mut(regs);
                let c = first + 2 * p;
                match self.scaled {
                    Some(_) => self.group::<S, N, 2, true>(simd, xt, regs, r, c, [out0, out1]),
                    None => self.group::<S, N, 2, false>(simd, xt, regs, r, c, [out0, out1]),
                }
            }
            first = k - (k - first) % 2;
        }
        for (c, out) in out.chunks_exact_mut(regs).enumerate().skip(first) {
            match self.scaled {
                Some(_) => self.group::<S, N, 1, true>(simd, xt, regs, r, c, [out]),
                None => self.group::<S, N, 1, false>(simd, xt, regs, r, c, [out]),
            }
        }
        self.out = whole;
    }

    /// `ℓ = constant - ½ Σ_j term_j` for `N` registers of samples from register `r` and the
    /// `C` components from `c0`, with `term = (x a - m)²` (`SCALED`: `a = 1 / σ`, `-m = -μ / σ`
    /// read as stored) or `(x - μ)² p` (the exact form), each sample register loaded once for
    /// the `C` components.
    #[inline(always)]
    fn group<S: Simd, const N: usize, const C: usize, const SCALED: bool>(
        &self,
        simd: S,
        xt: &[T::V<S>],
        regs: usize,
        r: usize,
        c0: usize,
        out: [&mut [T::V<S>]; C],
    ) {
        let d = self.n_features;
        // (a, b) per component: (1 / σ, -μ / σ) or (p, μ).
        let (a, b) = match self.scaled {
            Some((root, minus_scaled_means)) if SCALED => (root, minus_scaled_means),
            _ => (self.inverse_variances, self.means),
        };
        let a: [&[T]; C] = std::array::from_fn(|c| &a[(c0 + c) * d..(c0 + c + 1) * d]);
        let b: [&[T]; C] = std::array::from_fn(|c| &b[(c0 + c) * d..(c0 + c + 1) * d]);
        let zero = T::simd_splat(simd, T::ZERO);
        let mut acc = [[zero; N]; C];
        for (j, column) in xt.chunks_exact(regs).take(d).enumerate() {
            let col: &[T::V<S>; N] = column[r..r + N].try_into().unwrap();
            for c in 0..C {
                let aj = T::simd_splat(simd, a[c][j]);
                let bj = T::simd_splat(simd, b[c][j]);
                for n in 0..N {
                    acc[c][n] = if SCALED {
                        let y = T::simd_mul_add(simd, col[n], aj, bj);
                        T::simd_mul_add(simd, y, y, acc[c][n])
                    } else {
                        let t = T::simd_sub(simd, col[n], bj);
                        T::simd_mul_add(simd, T::simd_mul(simd, t, aj), t, acc[c][n])
                    };
                }
            }
        }
        let minus_half = T::simd_splat(simd, T::from_f64(-0.5));
        for (c, out) in out.into_iter().enumerate() {
            let constant = self.constants[c0 + c] + self.log_norms[c0 + c];
            let constant = T::simd_splat(simd, constant);
            for n in 0..N {
                out[r + n] = T::simd_mul_add(simd, acc[c][n], minus_half, constant);
            }
        }
    }
}

/// How far from the origin, in its own standard deviations, every mean of an `f32` model may
/// lie for the diagonal kernel to take the scaled form (module docs): the rounding of
/// `m = μ / σ` is then at most `16 ε` in units of `σ`, the size of the rounding the data
/// themselves carry there (`x` near `μ` is stored to `ε |x| ≈ 16 ε σ`) and of the `f32` sum of
/// a few terms; farther out the exact form keeps `f32` results free of it.
pub const F32_SCALED_RANGE: f64 = 16.0;

/// Registers of samples per group on 512-bit registers: 6 independent FMA chains per
/// component; a block's 30 AVX-512 registers of `f64` make 5 groups (AVX2 takes groups of 4).
const DIAG_GROUP: usize = 6;
