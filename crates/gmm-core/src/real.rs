//! The two floating-point types gmm computes in, `f32` and `f64`, behind one sealed trait.
//!
//! [`Real`] gives the conversions the library needs and a thin layer over `pulp`'s SIMD
//! registers (`V<S>` is `S::f32s` or `S::f64s`), so each kernel is written once and
//! instantiated for both precisions and for every instruction set `pulp` dispatches to
//! (AVX-512, AVX2+FMA, scalar fallback).

use pulp::Simd;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: the element type of data and model parameters.
///
/// Sufficient statistics and every sum over samples are kept in `f64` whatever `Real` is.
pub trait Real:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + PartialOrd
    + std::fmt::Debug
    + std::fmt::Display
    + Default
    + bytemuck::Pod
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + 'static
{
    /// A SIMD register of this type for instruction set `S`.
    type V<S: Simd>: Copy;

    /// Zero.
    const ZERO: Self;
    /// Machine epsilon.
    const EPSILON: Self;
    /// The type's name as NumPy spells it (`float32`, `float64`).
    const NAME: &'static str;

    /// Converts from `f64` (rounding to nearest for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// `true` unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `x` itself when `Self` is `f64` (so `f64` data need no copy), `None` for `f32`.
    fn as_f64_slice(x: &[Self]) -> Option<&[f64]>;

    /// Number of lanes of `V<S>`.
    fn lanes<S: Simd>() -> usize;
    /// Splits a slice into whole registers and a scalar tail.
    fn as_simd<S: Simd>(x: &[Self]) -> (&[Self::V<S>], &[Self]);
    /// Splits a mutable slice into whole registers and a scalar tail.
    fn as_mut_simd<S: Simd>(x: &mut [Self]) -> (&mut [Self::V<S>], &mut [Self]);
    /// Every lane set to `x`.
    fn simd_splat<S: Simd>(simd: S, x: Self) -> Self::V<S>;
    /// Lane-wise `a + b`.
    fn simd_add<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Lane-wise `a - b`.
    fn simd_sub<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Lane-wise `a * b`.
    fn simd_mul<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Lane-wise `a * b + c`, fused where the instruction set has FMA.
    fn simd_mul_add<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    /// Lane-wise `a / b`.
    fn simd_div<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Lane-wise maximum.
    fn simd_max<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Lane-wise minimum.
    fn simd_min<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Lane-wise `e^x` ([`crate::kernel::exp`]: inputs below the type's underflow limit,
    /// `-∞` included, give 0).
    fn simd_exp<S: Simd>(simd: S, x: Self::V<S>) -> Self::V<S>;
    /// Lane-wise `ln x` for positive normal `x` ([`crate::kernel::exp`], at most 1 ulp).
    fn simd_ln<S: Simd>(simd: S, x: Self::V<S>) -> Self::V<S>;
    /// `true` when some lane of `a` is greater than the same lane of `b`.
    fn simd_any_greater<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> bool;
    /// `true` when some lane of `a` is greater than or equal to the same lane of `b`.
    fn simd_any_at_least<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> bool;
    /// Bit `l` set when lane `l` of `a` is greater than or equal to lane `l` of `b`, for the
    /// first 32 lanes (`pulp`'s widest register has 16): the lanes to visit, branch-free.
    fn simd_mask_at_least<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> u32;
}

/// `true` when some lane of `ones` (a comparison mask selected into 1.0 / 0.0 lanes) is set:
/// an OR over its 64-bit words, branch-free (`pulp`'s `first_true` loops lane by lane);
/// `fallback` for registers not a whole number of words.
#[inline(always)]
fn any_lane<V: bytemuck::Pod>(ones: V, fallback: impl Fn() -> bool) -> bool {
    if std::mem::size_of::<V>().is_multiple_of(8) {
        let words = bytemuck::bytes_of(&ones).chunks_exact(8);
        words.fold(0u64, |a, w| a | u64::from_ne_bytes(w.try_into().unwrap_or([0; 8]))) != 0
    } else {
        fallback()
    }
}

macro_rules! impl_real {
    ($t:ident, $v:ident, $name:literal,
     $as_simd:ident, $as_mut_simd:ident, $splat:ident, $add:ident, $sub:ident, $mul:ident,
     $mul_add:ident, $div:ident, $max:ident, $min:ident, $lanes:ident, $exp:ident,
     $greater:ident, $at_least:ident, $first_true:ident, $select:ident, $f64_view:ident,
     $ln:ident) => {
        impl Real for $t {
            type V<S: Simd> = S::$v;
            const ZERO: Self = 0.0;
            const EPSILON: Self = $t::EPSILON;
            const NAME: &'static str = $name;

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $t::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $t::ln(self)
            }
            #[inline(always)]
            fn as_f64_slice(x: &[Self]) -> Option<&[f64]> {
                $f64_view(x)
            }
            #[inline(always)]
            fn lanes<S: Simd>() -> usize {
                S::$lanes
            }
            #[inline(always)]
            fn as_simd<S: Simd>(x: &[Self]) -> (&[Self::V<S>], &[Self]) {
                S::$as_simd(x)
            }
            #[inline(always)]
            fn as_mut_simd<S: Simd>(x: &mut [Self]) -> (&mut [Self::V<S>], &mut [Self]) {
                S::$as_mut_simd(x)
            }
            #[inline(always)]
            fn simd_splat<S: Simd>(simd: S, x: Self) -> Self::V<S> {
                simd.$splat(x)
            }
            #[inline(always)]
            fn simd_add<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                simd.$add(a, b)
            }
            #[inline(always)]
            fn simd_sub<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                simd.$sub(a, b)
            }
            #[inline(always)]
            fn simd_mul<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                simd.$mul(a, b)
            }
            #[inline(always)]
            fn simd_mul_add<S: Simd>(
                simd: S,
                a: Self::V<S>,
                b: Self::V<S>,
                c: Self::V<S>,
            ) -> Self::V<S> {
                simd.$mul_add(a, b, c)
            }
            #[inline(always)]
            fn simd_div<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                simd.$div(a, b)
            }
            #[inline(always)]
            fn simd_max<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                simd.$max(a, b)
            }
            #[inline(always)]
            fn simd_min<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                simd.$min(a, b)
            }
            #[inline(always)]
            fn simd_exp<S: Simd>(simd: S, x: Self::V<S>) -> Self::V<S> {
                crate::kernel::exp::$exp(simd, x)
            }
            #[inline(always)]
            fn simd_ln<S: Simd>(simd: S, x: Self::V<S>) -> Self::V<S> {
                crate::kernel::exp::$ln(simd, x)
            }
            #[inline(always)]
            fn simd_any_greater<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> bool {
                let m = simd.$greater(a, b);
                any_lane(simd.$select(m, simd.$splat(1.0), simd.$splat(0.0)), || {
                    simd.$first_true(m) < Self::lanes::<S>()
                })
            }
            #[inline(always)]
            fn simd_mask_at_least<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> u32 {
                let m = simd.$at_least(a, b);
                let ones = simd.$select(m, simd.$splat(1.0), simd.$splat(0.0));
                let lanes: &[$t] = bytemuck::cast_slice(bytemuck::bytes_of(&ones));
                lanes
                    .iter()
                    .take(32)
                    .enumerate()
                    .fold(0u32, |bits, (l, &v)| bits | (u32::from(v > 0.0) << l))
            }
            #[inline(always)]
            fn simd_any_at_least<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>) -> bool {
                let m = simd.$at_least(a, b);
                any_lane(simd.$select(m, simd.$splat(1.0), simd.$splat(0.0)), || {
                    simd.$first_true(m) < Self::lanes::<S>()
                })
            }
        }
    };
}

/// `f64` data as they are.
fn f64_view_of_f64(x: &[f64]) -> Option<&[f64]> {
    Some(x)
}

/// `f32` data have no `f64` view.
fn f64_view_of_f32(_: &[f32]) -> Option<&[f64]> {
    None
}

impl_real!(
    f32,
    f32s,
    "float32",
    as_simd_f32s,
    as_mut_simd_f32s,
    splat_f32s,
    add_f32s,
    sub_f32s,
    mul_f32s,
    mul_add_e_f32s,
    div_f32s,
    max_f32s,
    min_f32s,
    F32_LANES,
    exp_f32s,
    greater_than_f32s,
    greater_than_or_equal_f32s,
    first_true_m32s,
    select_f32s,
    f64_view_of_f32,
    ln_f32s
);
impl_real!(
    f64,
    f64s,
    "float64",
    as_simd_f64s,
    as_mut_simd_f64s,
    splat_f64s,
    add_f64s,
    sub_f64s,
    mul_f64s,
    mul_add_e_f64s,
    div_f64s,
    max_f64s,
    min_f64s,
    F64_LANES,
    exp_f64s,
    greater_than_f64s,
    greater_than_or_equal_f64s,
    first_true_m64s,
    select_f64s,
    f64_view_of_f64,
    ln_f64s
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD any-lane tests and lane masks against the scalar definition, every lane position, with ties,
    /// infinities, both precisions, on the instruction set `pulp` dispatches to.
    fn check<T: Real>() {
        struct Probe<T>(std::marker::PhantomData<T>);
        impl<T: Real> pulp::WithSimd for Probe<T> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) {
                let lanes = T::lanes::<S>();
                let pool = [-f64::INFINITY, -3.0, -1.0, 0.0, 1.0, 2.5];
                let mut state = 12_345u64;
                for _ in 0..2_000 {
                    let mut pick = || {
                        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        T::from_f64(pool[(state >> 33) as usize % pool.len()])
                    };
                    let a: Vec<T> = (0..lanes).map(|_| pick()).collect();
                    let b: Vec<T> = (0..lanes).map(|_| pick()).collect();
                    let (va, _) = T::as_simd::<S>(&a);
                    let (vb, _) = T::as_simd::<S>(&b);
                    let gt = a.iter().zip(&b).any(|(x, y)| x > y);
                    let ge = a.iter().zip(&b).any(|(x, y)| x >= y);
                    assert_eq!(T::simd_any_greater(simd, va[0], vb[0]), gt, "{a:?} > {b:?}");
                    assert_eq!(T::simd_any_at_least(simd, va[0], vb[0]), ge, "{a:?} >= {b:?}");
                    let mask = a
                        .iter()
                        .zip(&b)
                        .enumerate()
                        .fold(0u32, |m, (l, (x, y))| m | (u32::from(x >= y) << l));
                    assert_eq!(T::simd_mask_at_least(simd, va[0], vb[0]), mask, "{a:?} >= {b:?}");
                }
            }
        }
        crate::kernel::isa::arch().dispatch(Probe::<T>(std::marker::PhantomData));
    }

    #[test]
    fn any_lane_comparisons_match_scalar() {
        check::<f32>();
        check::<f64>();
    }
}
