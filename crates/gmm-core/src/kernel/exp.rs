//! A vectorised `exp` for the log-sum-exp, in both precisions.
//!
//! # The maths
//!
//! `e^x = 2^n e^r` with `n = round(x / ln 2)` and `r = x - n ln 2 ∈ [-ln2/2, ln2/2]`, the
//! reduction done in two FMA steps with `ln 2` split into a high and a low part (Cody & Waite).
//! `e^r` is its Taylor polynomial — degree 13 for `f64` (truncation `|r|^14/14! < 4e-18`
//! relative), degree 7 for `f32` (`< 6e-9`) — evaluated by Horner's rule with FMAs, and `2^n`
//! is built directly in the exponent bits. Error against the C library's `exp`: at most
//! 2 ulp over the input range the kernels use (unit tests below, on the instruction set
//! `pulp` dispatches to on the test machine).
//!
//! # Domain
//!
//! The kernels only exponentiate `ℓ - max ℓ ≤ 0`. Inputs below `-708.39` (`f64`) / `-87.33`
//! (`f32`), including `-∞` (a component of weight zero), return exactly `0`: results that would
//! be subnormal are flushed, an absolute error below `2.3e-308` / `1.2e-38`. Inputs above
//! `709` / `88` are clamped there (not used by the kernels).

use pulp::Simd;

/// `e^x` for every lane of an `f64` register (see the module docs for domain and error).
#[inline(always)]
pub fn exp_f64s<S: Simd>(simd: S, x: S::f64s) -> S::f64s {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // ln 2 to 32 bits
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // ln 2 - LN2_HI
    const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    const BIAS: f64 = 4_503_599_627_371_519.0; // 2^52 + 1023
    const LOWEST: f64 = -708.39;
    const HIGHEST: f64 = 709.0;
    let too_small = simd.less_than_f64s(x, simd.splat_f64s(LOWEST));
    let x = simd.min_f64s(simd.max_f64s(x, simd.splat_f64s(LOWEST)), simd.splat_f64s(HIGHEST));
    let round = simd.splat_f64s(ROUND);
    let n = simd.sub_f64s(simd.mul_add_e_f64s(x, simd.splat_f64s(LOG2E), round), round);
    let r = simd.mul_add_e_f64s(n, simd.splat_f64s(-LN2_HI), x);
    let r = simd.mul_add_e_f64s(n, simd.splat_f64s(-LN2_LO), r);
    // Horner on 1/k!, k = 13 down to 0.
    const C: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let mut p = simd.splat_f64s(C[13]);
    for c in C[..13].iter().rev() {
        p = simd.mul_add_e_f64s(p, r, simd.splat_f64s(*c));
    }
    // 2^n: the integer n + 1023 sits in the low mantissa bits of n + 2^52 + 1023.
    let biased = simd.transmute_u64s_f64s(simd.add_f64s(n, simd.splat_f64s(BIAS)));
    let exponent = simd.sub_u64s(biased, simd.splat_u64s(ROUND_BITS_F64));
    let scale = simd.transmute_f64s_u64s(simd.mul_u64s(exponent, simd.splat_u64s(1 << 52)));
    let result = simd.mul_f64s(p, scale);
    simd.select_f64s(too_small, simd.splat_f64s(0.0), result)
}

/// Bits of `2^52` as an `f64`.
const ROUND_BITS_F64: u64 = 0x4330_0000_0000_0000;
/// Bits of `2^23` as an `f32`.
const ROUND_BITS_F32: u32 = 0x4B00_0000;

/// `e^x` for every lane of an `f32` register (see the module docs for domain and error).
#[inline(always)]
pub fn exp_f32s<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23
    const BIAS: f32 = 8_388_735.0; // 2^23 + 127
    const LOWEST: f32 = -87.33;
    const HIGHEST: f32 = 88.0;
    let too_small = simd.less_than_f32s(x, simd.splat_f32s(LOWEST));
    let x = simd.min_f32s(simd.max_f32s(x, simd.splat_f32s(LOWEST)), simd.splat_f32s(HIGHEST));
    let round = simd.splat_f32s(ROUND);
    let n = simd.sub_f32s(simd.mul_add_e_f32s(x, simd.splat_f32s(LOG2E), round), round);
    let r = simd.mul_add_e_f32s(n, simd.splat_f32s(-LN2_HI), x);
    let r = simd.mul_add_e_f32s(n, simd.splat_f32s(-LN2_LO), r);
    const C: [f32; 8] =
        [1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5_040.0];
    let mut p = simd.splat_f32s(C[7]);
    for c in C[..7].iter().rev() {
        p = simd.mul_add_e_f32s(p, r, simd.splat_f32s(*c));
    }
    let biased = simd.transmute_u32s_f32s(simd.add_f32s(n, simd.splat_f32s(BIAS)));
    let exponent = simd.sub_u32s(biased, simd.splat_u32s(ROUND_BITS_F32));
    let scale = simd.transmute_f32s_u32s(simd.mul_u32s(exponent, simd.splat_u32s(1 << 23)));
    let result = simd.mul_f32s(p, scale);
    simd.select_f32s(too_small, simd.splat_f32s(0.0), result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::isa::{available, with_isa};
    use pulp::WithSimd;

    struct Apply<'a, T>(&'a mut [T]);

    impl WithSimd for Apply<'_, f64> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let (head, tail) = S::as_mut_simd_f64s(self.0);
            for v in head {
                *v = exp_f64s(simd, *v);
            }
            assert!(tail.is_empty(), "test inputs are a multiple of every register width");
        }
    }

    impl WithSimd for Apply<'_, f32> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let (head, tail) = S::as_mut_simd_f32s(self.0);
            for v in head {
                *v = exp_f32s(simd, *v);
            }
            assert!(tail.is_empty(), "test inputs are a multiple of every register width");
        }
    }

    fn ulps_f64(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    fn ulps_f32(a: f32, b: f32) -> u32 {
        (a.to_bits() as i32 - b.to_bits() as i32).unsigned_abs()
    }

    /// At most 2 ulp from the C library's `exp` over the kernels' domain, on every
    /// instruction set this machine has; exact 0 below the underflow limit and for -∞.
    #[test]
    fn exp_f64_error_bound() {
        for isa in available() {
            with_isa(isa, exp_f64_case);
        }
    }

    fn exp_f64_case() {
        let n = 1 << 16;
        let inputs: Vec<f64> =
            (0..n).map(|i| -708.3 * (i as f64 / (n - 1) as f64).powi(3)).collect();
        let mut values = inputs.clone();
        crate::kernel::isa::arch().dispatch(Apply(&mut values));
        let worst = inputs.iter().zip(&values).map(|(x, v)| ulps_f64(*v, x.exp())).max().unwrap();
        assert!(worst <= 2, "worst error {worst} ulp");
        let mut special = vec![0.0, -1e-300, -708.5, -745.2, -1e6, f64::NEG_INFINITY, 1.0, 700.0];
        special.resize(16, 0.0);
        crate::kernel::isa::arch().dispatch(Apply(&mut special));
        assert_eq!(special[0], 1.0);
        assert_eq!(special[1], 1.0);
        assert_eq!(&special[2..6], &[0.0; 4]);
        assert!(ulps_f64(special[6], 1f64.exp()) <= 2);
        assert!(ulps_f64(special[7], 700f64.exp()) <= 2);
    }

    #[test]
    fn exp_f32_error_bound() {
        for isa in available() {
            with_isa(isa, exp_f32_case);
        }
    }

    fn exp_f32_case() {
        let n = 1 << 16;
        let inputs: Vec<f32> =
            (0..n).map(|i| -87.3 * (i as f32 / (n - 1) as f32).powi(3)).collect();
        let mut values = inputs.clone();
        crate::kernel::isa::arch().dispatch(Apply(&mut values));
        let worst = inputs.iter().zip(&values).map(|(x, v)| ulps_f32(*v, x.exp())).max().unwrap();
        assert!(worst <= 2, "worst error {worst} ulp");
        let mut special = vec![0.0f32, -87.4, -1e4, f32::NEG_INFINITY, 1.0, 80.0, 0.0, 0.0];
        special.resize(16, 0.0);
        crate::kernel::isa::arch().dispatch(Apply(&mut special));
        assert_eq!(special[0], 1.0);
        assert_eq!(&special[1..4], &[0.0; 3]);
        assert!(ulps_f32(special[4], 1f32.exp()) <= 2);
        assert!(ulps_f32(special[5], 80f32.exp()) <= 2);
    }
}
