//! SIMD reductions for the statistics: dot products with four independent accumulators,
//! dispatched once per call by `pulp` (AVX-512, AVX2+FMA or scalar), with a scalar tail.
//! The summation order depends only on the slice length, never on threads.

use pulp::{Arch, Simd, WithSimd};

/// `(Σ a_i b_i, Σ a_i b_i c_i)` for equal-length slices.
pub(crate) fn dot_and_weighted(a: &[f64], b: &[f64], c: &[f64]) -> (f64, f64) {
    Arch::new().dispatch(DotAndWeighted { a, b, c })
}

/// `Σ a_i b_i` for equal-length slices.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    Arch::new().dispatch(Dot { a, b })
}

struct Dot<'a> {
    a: &'a [f64],
    b: &'a [f64],
}

impl WithSimd for Dot<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        debug_assert_eq!(self.a.len(), self.b.len());
        let (a, a_tail) = S::as_simd_f64s(self.a);
        let (b, b_tail) = S::as_simd_f64s(self.b);
        let zero = simd.splat_f64s(0.0);
        let mut acc = [zero; 4];
        let mut chunks_a = a.chunks_exact(4);
        let mut chunks_b = b.chunks_exact(4);
        for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
            for l in 0..4 {
                acc[l] = simd.mul_add_e_f64s(ca[l], cb[l], acc[l]);
            }
        }
        for (&x, &y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
            acc[0] = simd.mul_add_e_f64s(x, y, acc[0]);
        }
        let sum = simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]));
        let mut total = simd.reduce_sum_f64s(sum);
        for (x, y) in a_tail.iter().zip(b_tail) {
            total += x * y;
        }
        total
    }
}

struct DotAndWeighted<'a> {
    a: &'a [f64],
    b: &'a [f64],
    c: &'a [f64],
}

impl WithSimd for DotAndWeighted<'_> {
    type Output = (f64, f64);

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> (f64, f64) {
        debug_assert!(self.a.len() == self.b.len() && self.b.len() == self.c.len());
        let (a, a_tail) = S::as_simd_f64s(self.a);
        let (b, b_tail) = S::as_simd_f64s(self.b);
        let (c, c_tail) = S::as_simd_f64s(self.c);
        let zero = simd.splat_f64s(0.0);
        let (mut f0, mut f1, mut s0, mut s1) = (zero, zero, zero, zero);
        let mut i = 0;
        while i + 2 <= a.len() {
            let ab0 = simd.mul_f64s(a[i], b[i]);
            let ab1 = simd.mul_f64s(a[i + 1], b[i + 1]);
            f0 = simd.add_f64s(f0, ab0);
            f1 = simd.add_f64s(f1, ab1);
            s0 = simd.mul_add_e_f64s(ab0, c[i], s0);
            s1 = simd.mul_add_e_f64s(ab1, c[i + 1], s1);
            i += 2;
        }
        if i < a.len() {
            let ab = simd.mul_f64s(a[i], b[i]);
            f0 = simd.add_f64s(f0, ab);
            s0 = simd.mul_add_e_f64s(ab, c[i], s0);
        }
        let mut first = simd.reduce_sum_f64s(simd.add_f64s(f0, f1));
        let mut second = simd.reduce_sum_f64s(simd.add_f64s(s0, s1));
        for ((x, y), z) in a_tail.iter().zip(b_tail).zip(c_tail) {
            let ab = x * y;
            first += ab;
            second += ab * z;
        }
        (first, second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against plain sums on lengths around every register and unroll width.
    #[test]
    fn reductions_match_scalar_sums() {
        for len in 0..70 {
            let a: Vec<f64> = (0..len).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..len).map(|i| (i as f64 * 0.11).cos() + 0.5).collect();
            let c: Vec<f64> = (0..len).map(|i| i as f64 * 0.01 - 0.2).collect();
            let naive_dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let naive_w: f64 = a.iter().zip(&b).zip(&c).map(|((x, y), z)| x * y * z).sum();
            let scale = len as f64 * 4.0 * f64::EPSILON + f64::MIN_POSITIVE;
            assert!((dot(&a, &b) - naive_dot).abs() <= scale * (1.0 + naive_dot.abs()), "len {len}");
            let (f, s) = dot_and_weighted(&a, &b, &c);
            assert!((f - naive_dot).abs() <= scale * (1.0 + naive_dot.abs()), "len {len}");
            assert!((s - naive_w).abs() <= scale * (1.0 + naive_w.abs()), "len {len}");
        }
    }
}
