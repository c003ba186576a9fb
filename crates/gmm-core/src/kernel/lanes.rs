//! Diagonal Gaussians in SIMD lanes over *components*: the E-step of a few rows at a time.
//!
//! The blocked kernels of [`crate::kernel`] run lanes over samples, which needs blocks of
//! hundreds of rows. Online EM's small mini-batches (down to one row) need the transpose:
//! one row against all `k` components at once. [`ComponentLanes`] keeps the means and inverse
//! variances transposed (`d x kp`, `k` padded to a multiple of [`PAD`] with a log-constant of
//! `-∞`, so padded components get exactly zero responsibility), so a row's `k` log-densities
//!
//! ```text
//! ℓ_k(x) = c_k - ½ Σ_j (x_j - μ_kj)² / σ²_kj,        c_k = log w_k + log-normaliser
//! ```
//!
//! cost `d` broadcasts and `d · kp / lanes` vector operations; the exponentials and their sum
//! are vectorised too, and the responsibilities come out scaled by the row's weight.
//! [`invert_variances`] is the update's SIMD half: a component's new inverse variances, and
//! the two reductions the caller needs (the log-determinant ratio and the mean's drift).
//!
//! # Current implementation
//!
//! One `pulp` dispatch per call. Element-wise SIMD, and every reduction in a fixed order
//! (sums by eights, products by fours): the bits do not depend on the register width (AVX2 or
//! AVX-512). The exponential is [`crate::kernel::exp`]'s, as the blocked kernels use.

use pulp::Simd;

use crate::kernel::exp::exp_f64s;
use crate::kernel::isa::arch;

/// The component count is padded to a multiple of this (the most `f64` lanes of any register
/// pulp dispatches to: AVX-512).
pub const PAD: usize = 8;

/// Diagonal Gaussians laid out for SIMD lanes over components (see the module docs).
#[derive(Debug, Clone)]
pub struct ComponentLanes {
    d: usize,
    kp: usize,
    /// Means and inverse variances transposed, `d x kp` (padding: mean 0, inverse 0).
    means_t: Vec<f64>,
    inverse_t: Vec<f64>,
    /// The log-constants `c_k`, `kp` long (the padding `-∞`).
    constant: Vec<f64>,
    /// Scratch: one row's densities.
    density: Vec<f64>,
}

impl ComponentLanes {
    /// `k` components in `d` dimensions, every mean 0, inverse variance 0 and constant `-∞`
    /// until set.
    pub fn new(k: usize, d: usize) -> Self {
        let kp = k.div_ceil(PAD) * PAD;
        Self {
            d,
            kp,
            means_t: vec![0.0; d * kp],
            inverse_t: vec![0.0; d * kp],
            constant: vec![f64::NEG_INFINITY; kp],
            density: vec![0.0; kp],
        }
    }

    /// The padded component count: responsibilities come `kp` per row.
    pub fn padded(&self) -> usize {
        self.kp
    }

    /// Sets component `c`'s mean and inverse variances (`d` values each).
    #[inline]
    pub fn set_component(&mut self, c: usize, mean: &[f64], inverse: &[f64]) {
        let kp = self.kp;
        for j in 0..self.d {
            self.means_t[j * kp + c] = mean[j];
            self.inverse_t[j * kp + c] = inverse[j];
        }
    }

    /// Component `c`'s log-constant `c_k`.
    #[inline]
    pub fn constant(&self, c: usize) -> f64 {
        self.constant[c]
    }

    /// Sets component `c`'s log-constant `c_k`.
    #[inline]
    pub fn set_constant(&mut self, c: usize, value: f64) {
        self.constant[c] = value;
    }

    /// The E-step of `rows` (row-major, `d` values each): writes each row's responsibilities
    /// times its weight (`kp` per row, padding 0) into `out` (resized), and returns
    /// `(Σ_n w_n (log Σ_k exp ℓ_k(x_n) - log_total), Σ_n w_n)` — with `log_total` the log of
    /// the sum of the unnormalised weights inside the constants, so the first is the weighted
    /// log-likelihood.
    pub fn responsibilities(
        &mut self,
        rows: &[f64],
        weights: Option<&[f64]>,
        log_total: f64,
        out: &mut Vec<f64>,
    ) -> (f64, f64) {
        arch().dispatch(Responsibilities { lanes: self, rows, weights, log_total, out })
    }
}

struct Responsibilities<'a> {
    lanes: &'a mut ComponentLanes,
    rows: &'a [f64],
    weights: Option<&'a [f64]>,
    log_total: f64,
    out: &'a mut Vec<f64>,
}

impl pulp::WithSimd for Responsibilities<'_> {
    type Output = (f64, f64);

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let Self { lanes, rows, weights, log_total, out } = self;
        let (d, kp) = (lanes.d, lanes.kp);
        let b = rows.len() / d;
        out.resize(kp * b, 0.0);
        let (mut ll, mut weight) = (0.0, 0.0);
        let width = std::mem::size_of::<S::f64s>() / std::mem::size_of::<f64>();
        let regs = kp / width;
        for (i, xs) in rows.chunks_exact(d).enumerate() {
            let (means_t, _) = S::as_simd_f64s(&lanes.means_t);
            let (inverse_t, _) = S::as_simd_f64s(&lanes.inverse_t);
            let (constant, _) = S::as_simd_f64s(&lanes.constant);
            let (density, _) = S::as_mut_simd_f64s(&mut lanes.density);
            let mut r0 = 0;
            while r0 < regs {
                let left = regs - r0;
                let n = if left >= 8 {
                    let q = half_quads::<S, 8>(simd, xs, means_t, inverse_t, regs, r0);
                    for (g, q) in q.iter().enumerate() {
                        density[r0 + g] = simd.add_f64s(constant[r0 + g], *q);
                    }
                    8
                } else if left >= 4 {
                    let q = half_quads::<S, 4>(simd, xs, means_t, inverse_t, regs, r0);
                    for (g, q) in q.iter().enumerate() {
                        density[r0 + g] = simd.add_f64s(constant[r0 + g], *q);
                    }
                    4
                } else if left >= 2 {
                    let q = half_quads::<S, 2>(simd, xs, means_t, inverse_t, regs, r0);
                    for (g, q) in q.iter().enumerate() {
                        density[r0 + g] = simd.add_f64s(constant[r0 + g], *q);
                    }
                    2
                } else {
                    let [q] = half_quads::<S, 1>(simd, xs, means_t, inverse_t, regs, r0);
                    density[r0] = simd.add_f64s(constant[r0], q);
                    1
                };
                r0 += n;
            }
            let mut top = density[0];
            for &v in &density[1..] {
                top = simd.max_f64s(top, v);
            }
            let max = simd.reduce_max_f64s(top);
            let shift = simd.splat_f64s(max);
            for v in density.iter_mut() {
                *v = exp_f64s(simd, simd.sub_f64s(*v, shift));
            }
            let total = sum_by_eights(&lanes.density);
            let (density, _) = S::as_simd_f64s(&lanes.density);
            let w = weights.map_or(1.0, |w| w[i]);
            let scale = simd.splat_f64s(w / total);
            let (r, _) = S::as_mut_simd_f64s(&mut out[i * kp..(i + 1) * kp]);
            for (r, &e) in r.iter_mut().zip(density.iter()) {
                *r = simd.mul_f64s(e, scale);
            }
            ll += w * (max + total.ln() - log_total);
            weight += w;
        }
        (ll, weight)
    }
}

/// `-½ Σ_j (x_j - μ_kj)² / σ²_kj` for the `N` registers of components from register `r0`
/// (`means_t`, `inverse_t`: `d` rows of `regs` registers), one accumulator per register.
#[inline(always)]
fn half_quads<S: Simd, const N: usize>(
    simd: S,
    x: &[f64],
    means_t: &[S::f64s],
    inverse_t: &[S::f64s],
    regs: usize,
    r0: usize,
) -> [S::f64s; N] {
    let mut acc = [simd.splat_f64s(0.0); N];
    for (j, &xj) in x.iter().enumerate() {
        let xv = simd.splat_f64s(xj);
        let at = j * regs + r0;
        for (g, a) in acc.iter_mut().enumerate() {
            let t = simd.sub_f64s(xv, means_t[at + g]);
            *a = simd.add_f64s(*a, simd.mul_f64s(simd.mul_f64s(t, t), inverse_t[at + g]));
        }
    }
    let minus_half = simd.splat_f64s(-0.5);
    acc.map(|a| simd.mul_f64s(a, minus_half))
}

/// `Σ_j (a_j - b_j)² w_j`, in four independent sums (a fixed order on every machine).
#[inline(always)]
fn weighted_squares(a: &[f64], b: &[f64], w: &[f64]) -> f64 {
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    let n4 = a.len() / 4 * 4;
    let (a4, b4, w4) = (&a[..n4], &b[..n4], &w[..n4]);
    for ((a, b), w) in a4.chunks_exact(4).zip(b4.chunks_exact(4)).zip(w4.chunks_exact(4)) {
        let t = [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]];
        s0 += t[0] * t[0] * w[0];
        s1 += t[1] * t[1] * w[1];
        s2 += t[2] * t[2] * w[2];
        s3 += t[3] * t[3] * w[3];
    }
    for j in n4..a.len() {
        let t = a[j] - b[j];
        s0 += t * t * w[j];
    }
    (s0 + s1) + (s2 + s3)
}

/// `Π_j a_j b_j`, in four independent products (a fixed order on every machine).
#[inline(always)]
fn product_of_products(a: &[f64], b: &[f64]) -> f64 {
    let (mut p0, mut p1, mut p2, mut p3) = (1.0, 1.0, 1.0, 1.0);
    let n4 = a.len() / 4 * 4;
    for (a, b) in a[..n4].chunks_exact(4).zip(b[..n4].chunks_exact(4)) {
        p0 *= a[0] * b[0];
        p1 *= a[1] * b[1];
        p2 *= a[2] * b[2];
        p3 *= a[3] * b[3];
    }
    for j in n4..a.len() {
        p0 *= a[j] * b[j];
    }
    (p0 * p1) * (p2 * p3)
}

/// `Σ_c v_c` over a multiple of 8 values, in eight sums by `c mod 8` combined by a fixed tree:
/// the same bits whatever the register width.
#[inline(always)]
pub fn sum_by_eights(v: &[f64]) -> f64 {
    let mut s = [0.0; 8];
    for chunk in v.chunks_exact(8) {
        for (s, x) in s.iter_mut().zip(chunk) {
            *s += x;
        }
    }
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

/// For a diag component's new variances `fresh`: the inverses into `inverse` (SIMD over the
/// dimensions: element-wise, so the same bits at any width), then `variances ← fresh`, and
/// `(some inverse is not in (0, ∞), Π_j old σ²_j / σ'²_j, Σ_j (μ_j - s_j)² / σ'²_j)`, the two
/// reductions in a fixed order.
pub fn invert_variances(
    fresh: &[f64],
    variances: &mut [f64],
    inverse: &mut [f64],
    means: &[f64],
    shift: &[f64],
) -> (bool, f64, f64) {
    arch().dispatch(Invert { fresh, variances, inverse, means, shift })
}

struct Invert<'a> {
    fresh: &'a [f64],
    variances: &'a mut [f64],
    inverse: &'a mut [f64],
    means: &'a [f64],
    shift: &'a [f64],
}

impl pulp::WithSimd for Invert<'_> {
    type Output = (bool, f64, f64);

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let Self { fresh, variances, inverse, means, shift } = self;
        let (one, zero) = (simd.splat_f64s(1.0), simd.splat_f64s(0.0));
        let infinity = simd.splat_f64s(f64::INFINITY);
        let (fh, ft) = S::as_simd_f64s(fresh);
        let (uh, ut) = S::as_mut_simd_f64s(inverse);
        // `good` lanes hold 1 while every inverse seen there is in (0, ∞) (NaN compares false).
        let mut good = one;
        for (u, &f) in uh.iter_mut().zip(fh) {
            *u = simd.div_f64s(one, f);
            let fine = simd
                .and_m64s(simd.greater_than_f64s(*u, zero), simd.greater_than_f64s(infinity, *u));
            good = simd.min_f64s(good, simd.select_f64s(fine, one, zero));
        }
        let mut low = simd.reduce_min_f64s(good) < 1.0;
        for (u, &f) in ut.iter_mut().zip(ft) {
            *u = 1.0 / f;
            low |= !(*u > 0.0 && *u < f64::INFINITY);
        }
        let ratio = product_of_products(variances, inverse);
        variances.copy_from_slice(fresh);
        let moved = weighted_squares(means, shift, inverse);
        (low, ratio, moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::isa::{Isa, available, with_isa};

    fn value(i: usize) -> f64 {
        ((i * 7919 + 13) % 1000) as f64 / 250.0 - 2.0
    }

    /// Lanes of `k` components with constants from `weights`-like values.
    fn lanes(k: usize, d: usize) -> (ComponentLanes, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut lanes = ComponentLanes::new(k, d);
        let means: Vec<f64> = (0..k * d).map(|i| value(3 * i + 1)).collect();
        let inverse: Vec<f64> = (0..k * d).map(|i| 0.5 + value(5 * i + 2).abs()).collect();
        let constant: Vec<f64> = (0..k).map(|c| -1.0 - value(c).abs()).collect();
        for c in 0..k {
            lanes.set_component(c, &means[c * d..(c + 1) * d], &inverse[c * d..(c + 1) * d]);
            lanes.set_constant(c, constant[c]);
        }
        (lanes, means, inverse, constant)
    }

    /// The naive per-row, per-component formula.
    fn naive(
        rows: &[f64],
        d: usize,
        means: &[f64],
        inverse: &[f64],
        constant: &[f64],
        weights: Option<&[f64]>,
        log_total: f64,
    ) -> (Vec<f64>, f64) {
        let k = constant.len();
        let mut out = Vec::new();
        let mut ll = 0.0;
        for (i, x) in rows.chunks_exact(d).enumerate() {
            let l: Vec<f64> = (0..k)
                .map(|c| {
                    constant[c]
                        - 0.5
                            * (0..d)
                                .map(|j| (x[j] - means[c * d + j]).powi(2) * inverse[c * d + j])
                                .sum::<f64>()
                })
                .collect();
            let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = l.iter().map(|v| (v - max).exp()).sum();
            let w = weights.map_or(1.0, |w| w[i]);
            out.extend(l.iter().map(|v| w * (v - max).exp() / total));
            ll += w * (max + total.ln() - log_total);
        }
        (out, ll)
    }

    #[test]
    fn responsibilities_match_the_naive_formula_on_every_isa() {
        for &(k, d, b) in &[(1, 1, 1), (3, 2, 5), (8, 15, 3), (30, 15, 2), (67, 4, 7), (9, 1, 1)] {
            let rows: Vec<f64> = (0..b * d).map(|i| value(11 * i + 7) * 1.5).collect();
            let weights: Vec<f64> = (0..b).map(|i| [1.0, 0.5, 2.0][i % 3]).collect();
            for w in [None, Some(weights.as_slice())] {
                let mut per_isa = Vec::new();
                for isa in available() {
                    let (mut l, means, inverse, constant) = lanes(k, d);
                    let mut out = Vec::new();
                    let (ll, weight) =
                        with_isa(isa, || l.responsibilities(&rows, w, 0.25, &mut out)).unwrap();
                    let (expected, expected_ll) =
                        naive(&rows, d, &means, &inverse, &constant, w, 0.25);
                    let kp = l.padded();
                    assert_eq!(weight, w.map_or(b as f64, |w| w.iter().sum()));
                    assert!((ll - expected_ll).abs() <= 1e-12 * (1.0 + expected_ll.abs()));
                    for i in 0..b {
                        for c in 0..kp {
                            let got = out[i * kp + c];
                            if c >= k {
                                assert_eq!(got, 0.0, "padding");
                                continue;
                            }
                            let want = expected[i * k + c];
                            assert!(
                                (got - want).abs() <= 1e-13,
                                "{isa:?} k={k} d={d}: {got} vs {want}"
                            );
                        }
                    }
                    per_isa.push((isa, ll, out));
                }
                // The vector paths agree bit for bit (fixed reduction orders).
                let vector: Vec<_> =
                    per_isa.iter().filter(|(isa, ..)| *isa != Isa::Scalar).collect();
                for pair in vector.windows(2) {
                    assert_eq!(pair[0].1.to_bits(), pair[1].1.to_bits(), "k={k} d={d}");
                    assert_eq!(pair[0].2, pair[1].2, "k={k} d={d}");
                }
            }
        }
    }

    #[test]
    fn inverting_variances_matches_the_scalar_formula() {
        for d in [1, 3, 4, 9, 16, 17] {
            let fresh: Vec<f64> = (0..d).map(|j| 0.25 + value(j).abs()).collect();
            let old: Vec<f64> = (0..d).map(|j| 0.5 + value(j + 40).abs()).collect();
            let means: Vec<f64> = (0..d).map(|j| value(j + 80)).collect();
            let shift: Vec<f64> = (0..d).map(|j| value(j + 120)).collect();
            for isa in available() {
                let (mut variances, mut inverse) = (old.clone(), vec![0.0; d]);
                let (low, ratio, moved) = with_isa(isa, || {
                    invert_variances(&fresh, &mut variances, &mut inverse, &means, &shift)
                })
                .unwrap();
                assert!(!low);
                assert_eq!(variances, fresh);
                let want_ratio: f64 = (0..d).map(|j| old[j] / fresh[j]).product();
                let want_moved: f64 =
                    (0..d).map(|j| (means[j] - shift[j]).powi(2) / fresh[j]).sum();
                assert!((ratio - want_ratio).abs() <= 1e-13 * want_ratio, "{isa:?} d={d}");
                assert!((moved - want_moved).abs() <= 1e-13 * (1.0 + want_moved), "{isa:?} d={d}");
                for j in 0..d {
                    assert_eq!(inverse[j], 1.0 / fresh[j]);
                }
            }
            let mut bad = fresh.clone();
            bad[d - 1] = 0.0;
            let (mut variances, mut inverse) = (old.clone(), vec![0.0; d]);
            let (low, ..) = invert_variances(&bad, &mut variances, &mut inverse, &means, &shift);
            assert!(low, "a zero variance is reported (d={d})");
        }
    }
}
