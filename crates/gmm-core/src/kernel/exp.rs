//! A vectorised `exp` and `ln` for the log-sum-exp, in both precisions.
//!
//! # The maths of `exp`
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

//! # The maths of `ln`
//!
//! The log-sum-exp takes one `ln` per sample, of a sum of shifted exponentials that lies in
//! `[1, k]`. `x = 2^e m` with `m ∈ [√½, √2)`: the exponent field is masked out of the bits
//! (and moved down with a 32-bit lane shift, the only shift `pulp` offers on every instruction
//! set), the mantissa gets the exponent of 1 (halved, and `e` raised by one, above √2). With
//! `f = m - 1` and `s = f / (2 + f)`, `|s| < 0.1716`, `ln m = f - ½f² + s(½f² + R(s²))` where
//! `R` is fdlibm's minimax polynomial (degree 7 in `s²` for `f64`, error below 2^-58.45; degree 4
//! for `f32`), and `ln x = e ln2_hi - ((½f² - (s(½f² + R) + e ln2_lo)) - f)` (fdlibm's `log`,
//! `ln 2` in two parts). Error: at most 1 ulp from the C library's `ln` over `[1, 2^20]` (unit
//! tests). Defined for positive normal inputs only (the kernels pass sums `>= 1`).

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

/// `ln x` for every lane of an `f64` register, `x` positive and normal (see the module docs).
#[inline(always)]
pub fn ln_f64s<S: Simd>(simd: S, x: S::f64s) -> S::f64s {
    const LG: [f64; 7] = [
        6.666_666_666_666_735e-1,
        3.999_999_999_940_942e-1,
        2.857_142_874_366_239e-1,
        2.222_219_843_214_978_4e-1,
        1.818_357_216_161_805e-1,
        1.531_383_769_920_937_3e-1,
        1.479_819_860_511_658_6e-1,
    ];
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const EXPONENT: u64 = 0x7FF0_0000_0000_0000;
    const MANTISSA: u64 = 0x000F_FFFF_FFFF_FFFF;
    const ONE: u64 = 0x3FF0_0000_0000_0000;
    const MAGIC: u64 = 0x4330_0000_0000_0000; // 2^52
    let bits = simd.transmute_u64s_f64s(x);
    // The biased exponent E, moved from bits 52.. to bits 32.. (a shift of the high 32-bit half
    // by 20), then read as a float through 2^52: (2^52 + E 2^32 - 2^52) 2^-32 = E.
    let field = simd.and_u64s(bits, simd.splat_u64s(EXPONENT));
    let moved = shift_right_20::<S>(simd, field);
    let biased = simd.sub_f64s(
        simd.transmute_f64s_u64s(simd.or_u64s(moved, simd.splat_u64s(MAGIC))),
        simd.splat_f64s(4_503_599_627_370_496.0),
    );
    let mut e = simd.mul_add_e_f64s(
        biased,
        simd.splat_f64s(1.0 / 4_294_967_296.0),
        simd.splat_f64s(-1023.0),
    );
    let mut m = simd.transmute_f64s_u64s(
        simd.or_u64s(simd.and_u64s(bits, simd.splat_u64s(MANTISSA)), simd.splat_u64s(ONE)),
    );
    let big = simd.greater_than_f64s(m, simd.splat_f64s(std::f64::consts::SQRT_2));
    m = simd.select_f64s(big, simd.mul_f64s(m, simd.splat_f64s(0.5)), m);
    e = simd.select_f64s(big, simd.add_f64s(e, simd.splat_f64s(1.0)), e);
    let f = simd.sub_f64s(m, simd.splat_f64s(1.0));
    let half_f2 = simd.mul_f64s(simd.mul_f64s(f, f), simd.splat_f64s(0.5));
    let s = simd.div_f64s(f, simd.add_f64s(f, simd.splat_f64s(2.0)));
    let z = simd.mul_f64s(s, s);
    let mut r = simd.splat_f64s(LG[6]);
    for c in LG[..6].iter().rev() {
        r = simd.mul_add_e_f64s(r, z, simd.splat_f64s(*c));
    }
    let r = simd.mul_f64s(r, z);
    // e ln2_hi - ((½f² - (s (½f² + R) + e ln2_lo)) - f)
    let inner = simd.mul_add_e_f64s(
        s,
        simd.add_f64s(half_f2, r),
        simd.mul_f64s(e, simd.splat_f64s(LN2_LO)),
    );
    let tail = simd.sub_f64s(simd.sub_f64s(half_f2, inner), f);
    simd.mul_add_e_f64s(e, simd.splat_f64s(LN2_HI), simd.sub_f64s(simd.splat_f64s(0.0), tail))
}

/// `v >> 20` in every `u64` lane whose low 32 bits are zero: a shift of the high 32-bit halves
/// (the scalar backend, whose `u32s` is narrower than its `u64s`, shifts the `u64` itself).
#[inline(always)]
fn shift_right_20<S: Simd>(simd: S, v: S::u64s) -> S::u64s {
    if size_of::<S::u64s>() == size_of::<S::u32s>() {
        let by: S::u32s = bytemuck::cast(simd.splat_u64s(20 << 32));
        bytemuck::cast(simd.wrapping_dyn_shr_u32s(bytemuck::cast::<S::u64s, S::u32s>(v), by))
    } else {
        let mut v = v;
        for lane in bytemuck::cast_slice_mut::<S::u64s, u64>(std::slice::from_mut(&mut v)) {
            *lane >>= 20;
        }
        v
    }
}

/// `ln x` for every lane of an `f32` register, `x` positive and normal (see the module docs).
#[inline(always)]
pub fn ln_f32s<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    const LG: [f32; 4] = [0.666_666_6, 0.400_009_72, 0.284_987_87, 0.242_790_79];
    const LN2_HI: f32 = f32::from_bits(0x3F31_7180); // 6.931_381_2e-1
    const LN2_LO: f32 = f32::from_bits(0x3717_F7D1); // 9.058_000_6e-6
    let bits = simd.transmute_u32s_f32s(x);
    let field = simd.and_u32s(bits, simd.splat_u32s(0x7F80_0000));
    let moved = simd.wrapping_dyn_shr_u32s(field, simd.splat_u32s(23));
    let biased = simd.sub_f32s(
        simd.transmute_f32s_u32s(simd.or_u32s(moved, simd.splat_u32s(0x4B00_0000))),
        simd.splat_f32s(8_388_608.0),
    );
    let mut e = simd.sub_f32s(biased, simd.splat_f32s(127.0));
    let mut m =
        simd.transmute_f32s_u32s(simd.or_u32s(
            simd.and_u32s(bits, simd.splat_u32s(0x007F_FFFF)),
            simd.splat_u32s(0x3F80_0000),
        ));
    let big = simd.greater_than_f32s(m, simd.splat_f32s(std::f32::consts::SQRT_2));
    m = simd.select_f32s(big, simd.mul_f32s(m, simd.splat_f32s(0.5)), m);
    e = simd.select_f32s(big, simd.add_f32s(e, simd.splat_f32s(1.0)), e);
    let f = simd.sub_f32s(m, simd.splat_f32s(1.0));
    let half_f2 = simd.mul_f32s(simd.mul_f32s(f, f), simd.splat_f32s(0.5));
    let s = simd.div_f32s(f, simd.add_f32s(f, simd.splat_f32s(2.0)));
    let z = simd.mul_f32s(s, s);
    let mut r = simd.splat_f32s(LG[3]);
    for c in LG[..3].iter().rev() {
        r = simd.mul_add_e_f32s(r, z, simd.splat_f32s(*c));
    }
    let r = simd.mul_f32s(r, z);
    let inner = simd.mul_add_e_f32s(
        s,
        simd.add_f32s(half_f2, r),
        simd.mul_f32s(e, simd.splat_f32s(LN2_LO)),
    );
    let tail = simd.sub_f32s(simd.sub_f32s(half_f2, inner), f);
    simd.mul_add_e_f32s(e, simd.splat_f32s(LN2_HI), simd.sub_f32s(simd.splat_f32s(0.0), tail))
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

    struct Ln<'a, T>(&'a mut [T]);

    impl WithSimd for Ln<'_, f64> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let (head, tail) = S::as_mut_simd_f64s(self.0);
            for v in head {
                *v = ln_f64s(simd, *v);
            }
            assert!(tail.is_empty(), "test inputs are a multiple of every register width");
        }
    }

    impl WithSimd for Ln<'_, f32> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let (head, tail) = S::as_mut_simd_f32s(self.0);
            for v in head {
                *v = ln_f32s(simd, *v);
            }
            assert!(tail.is_empty(), "test inputs are a multiple of every register width");
        }
    }

    /// At most 1 ulp from the C library's `ln` over `[1, 2^20]` (the log-sum-exp's sums), and
    /// over `[2^-20, 1]` too, on every instruction set this machine has; exact at powers of 2.
    #[test]
    fn ln_error_bound() {
        for isa in available() {
            with_isa(isa, || {
                let n = 1 << 16;
                let inputs: Vec<f64> =
                    (0..n).map(|i| 2f64.powf(-20.0 + 40.0 * i as f64 / (n - 1) as f64)).collect();
                let mut values = inputs.clone();
                crate::kernel::isa::arch().dispatch(Ln(&mut values));
                let worst =
                    inputs.iter().zip(&values).map(|(x, v)| ulps_f64(*v, x.ln())).max().unwrap();
                assert!(worst <= 1, "{isa:?}: worst error {worst} ulp (f64)");
                let inputs: Vec<f32> = inputs.iter().map(|&x| x as f32).collect();
                let mut values = inputs.clone();
                crate::kernel::isa::arch().dispatch(Ln(&mut values));
                let worst =
                    inputs.iter().zip(&values).map(|(x, v)| ulps_f32(*v, x.ln())).max().unwrap();
                assert!(worst <= 1, "{isa:?}: worst error {worst} ulp (f32)");
                let mut exact: Vec<f64> = (0..16).map(|i| 2f64.powi(i)).collect();
                crate::kernel::isa::arch().dispatch(Ln(&mut exact));
                for (i, v) in exact.iter().enumerate() {
                    assert_eq!(*v, i as f64 * std::f64::consts::LN_2, "{isa:?}: ln 2^{i}");
                }
            });
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
