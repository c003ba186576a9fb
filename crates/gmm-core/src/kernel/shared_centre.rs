//! Moments around a shared centre: the statistics of many components as one matrix product.
//!
//! # The maths
//!
//! The moment kernel ([`super::moments`]) forms every product from `t = x - s_k`, the sample
//! minus the component's own shift, so the per-sample work is repeated for each component
//! with nothing shared between them. Around one centre `c` for several components, the
//! products of `z = x - c` are the same for all of them:
//!
//! ```text
//! p_n = (z_n, 1, z_n ⊗ z_n)          (the lower triangle of z zᵀ, or its diagonal)
//! A_k = Σ_n r_nk p_n                  (for all such k at once: A = R P, a matrix product)
//! ```
//!
//! and each component's shifted sums follow exactly, with `δ = s_k - c`, `N = Σ r`,
//! `F_c = Σ r z`:
//!
//! ```text
//! F_k = F_c - N δ,        S_k = S_c - δ F_cᵀ - F_k δᵀ.
//! ```
//!
//! The move cancels: `S_c` holds `N (Σ_k + δ δᵀ)`, so the relative error of `S_k`'s entry
//! `(i, j)` grows from `ε` to about `ε (1 + |δ_i| / σ_i)(1 + |δ_j| / σ_j)`. A component shares the
//! centre only if `|δ_j| <= SHARED_RADIUS σ_j` in every dimension, which bounds that at
//! `(1 + 16)² ε = 289 ε` (6.4e-14 relative: 8 of an `f64`'s 53 bits, the size of the rounding
//! the data themselves carry when they lie `~16 σ` from the origin, and far from
//! scikit-learn's diagonal path, which loses `(|μ| / σ)²` unbounded); the others keep the exact
//! per-component kernel. The centre is, per dimension, the weighted median of the shifts, so
//! one far component does not drag it away from the rest. This is the decision recorded in
//! `docs/DECISIONS.md` ("Performance, round six") under DESIGN §4's "shifted by a reference
//! point ... so one pass is stable". Every E-step under a model uses it
//! ([`SharedCentre::for_model`]); the initialisations' passes (hard labels, random
//! responsibilities) keep the exact kernel.
//!
//! # Current implementation
//!
//! *Full (and tied) moments*, this module: the block's rows are centred and their products
//! are rows `p_n` of `q` values (`D = d + 1` rounded up to 8: `z` and the 1 in `0..D`, then
//! the `d(d + 1)/2` products `z_i z_j`, `j <= i`, row by row), zero-padded to a multiple of 8.
//! On AVX-512 for `8 <= d < 16` (the headline's shape) they are never written whole: per chunk
//! of 120 samples the centred rows are formed once by 8 x 8 register transposes
//! (`centred_rows_v4`), and for each panel of the rows (the columns of one register tile) its
//! registers are formed for the chunk from two two-source permutes of `z` each
//! (`panel_products_v4`) and consumed by every group of members while they are in L1
//! (`accumulate_panel`; `moments::around_panels`). On AVX2 a fused kernel transposes 4 x 4
//! registers of columns into centred rows and stores the triangle a register per row segment,
//! unrolled for each `d <= 16` (`products_v3`), in chunks of 120 rows for `d = 15` (130 KB,
//! within Zen 3's 512 KiB L2); elsewhere a row-major copy and the same stores
//! (`form_products`). Then a register-tiled matrix product:
//! `CT` components x `VT` registers of `p` in `CT x VT` accumulators (6 x 4 on AVX-512, group
//! by group; 2 x 5 on AVX2, tile by tile over sub-chunks of 120 rows, so that a tile's columns
//! are read from L2 once and from L1 by every group: `accumulate`), one load per register of
//! `p` and one broadcast per component for `CT x VT` fused multiply-adds — 0.42 loads per FMA
//! on AVX-512 and 0.7 on AVX2, where the exact kernel needs about one.
//! Every output is one sequential sum over the samples, so the bits do not depend on the
//! instruction set. A group with fewer than `CT` components is padded with ghost components
//! (zero responsibilities, a dummy output row). At the flush each member's sums are moved to
//! its shift (on AVX-512 for `8 <= d < 16` in registers, `move_member_v4` and, for the full
//! triangle, `move_two_v4`; on AVX2 for full rows `move_rows_v3`: the same roundings as the
//! scalar move).
//!
//! *Diagonal (and spherical) moments*: on AVX-512 for `8 <= d < 16` by the same matrix product
//! over rows `(z, z²)` (32 values for `d = 15`; `centred_rows_v4` stores `z` and its squares
//! after the transpose, no permutes): 9.0 → 6.6 µs per headline block. Elsewhere in lanes over
//! samples (`moments::diag_around`): the columns `z_j` and `z_j²` formed once per chunk for
//! all members and 4 x 6 (AVX-512) or 3 x 3 (AVX2) tiles of members x columns, 2 FMAs per value
//! instead of a subtraction, a multiply, an add and an FMA, the members' lane slots holding
//! the sums around the centre for the diagonal flush to move. That form is bound by its 64-byte
//! loads (a register of `r` and one of a column per 2.4 FMAs; 8.3 µs per headline block, ~60 %
//! of the FMA peak), where the row form broadcasts `r` (8-byte loads) and runs at ~80 %.

use pulp::Simd;

use super::moments::{Columns, Responsibilities};

/// How far from the shared centre a component's shift may lie, in its own standard
/// deviations per dimension, for its moments to be formed around the centre (module docs):
/// the move then loses at most `(1 + 16)² = 289` ulps of relative precision in the second
/// moments (8.2 bits of an `f64`'s 53). On the headline every component shares with 16;
/// with 8, one to three of the 30 did not from the first iteration on, and each cost the
/// exact kernel's row-major copy and its own pass.
pub const SHARED_RADIUS: f64 = 16.0;

/// A point the moment kernel forms products around, shared by the components whose shift lies
/// within [`SHARED_RADIUS`] of their standard deviations of it (module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedCentre {
    /// The centre `c` (`d` values; empty when no component shares it).
    centre: Vec<f64>,
    /// Per component, whether its moments are formed around `c`.
    members: Vec<bool>,
}

impl SharedCentre {
    /// No shared centre: every component's products are formed around its own shift.
    pub fn none() -> Self {
        Self::default()
    }

    /// The centre for a pass with shifts `shift` (`k x d`, normally the model's means) and
    /// per-component variances `variance(c, j)` of the model: per dimension the median of the
    /// shifts weighted by `weights`, shared by every component within [`SHARED_RADIUS`] standard deviations of
    /// it in each dimension. A function of the model alone, so every route of a pass (threads,
    /// streams, shards, processes) forms the same products.
    pub fn for_shifts(
        shift: &[f64],
        weights: &[f64],
        variance: impl Fn(usize, usize) -> f64,
    ) -> Self {
        let k = weights.len();
        if k == 0 || !shift.len().is_multiple_of(k) {
            return Self::none();
        }
        let d = shift.len() / k;
        let total: f64 = weights.iter().sum();
        // Per dimension, the weighted median of the shifts: a far component does not drag
        // the centre away from the others (as a weighted mean would).
        let mut order: Vec<usize> = (0..k).collect();
        let centre: Vec<f64> = (0..d)
            .map(|j| {
                order.sort_by(|&a, &b| shift[a * d + j].total_cmp(&shift[b * d + j]));
                let mut below = 0.0;
                for &c in &order {
                    below += weights[c];
                    if below >= 0.5 * total {
                        return shift[c * d + j];
                    }
                }
                shift[order[k - 1] * d + j]
            })
            .collect();
        let members: Vec<bool> = (0..k)
            .map(|c| {
                (0..d).all(|j| {
                    let v = variance(c, j);
                    v > 0.0 && (shift[c * d + j] - centre[j]).abs() <= SHARED_RADIUS * v.sqrt()
                })
            })
            .collect();
        if d > 0 && centre.iter().all(|v| v.is_finite()) && members.contains(&true) {
            Self { centre, members }
        } else {
            Self::none()
        }
    }

    /// The centre for an E-step under `model` with its means as the shifts
    /// ([`for_shifts`](Self::for_shifts) with the model's weights and the diagonal of its
    /// covariances).
    pub fn for_model<T: crate::Real>(model: &crate::GaussianMixture<T>) -> Self {
        use crate::CovarianceType;
        let d = model.n_features();
        let shift: Vec<f64> = model.means().iter().map(|v| v.to_f64()).collect();
        let weights: Vec<f64> = model.weights().iter().map(|v| v.to_f64()).collect();
        let cov = model.covariances();
        let variance = |c: usize, j: usize| -> f64 {
            match model.covariance_type() {
                CovarianceType::Full => cov[c * d * d + j * d + j].to_f64(),
                CovarianceType::Tied => cov[j * d + j].to_f64(),
                CovarianceType::Diag => cov[c * d + j].to_f64(),
                CovarianceType::Spherical => cov[c].to_f64(),
            }
        };
        Self::for_shifts(&shift, &weights, variance)
    }

    /// `centre` (`d` values) shared by the components `members` marks (`k` values): for tests
    /// and benchmarks; a pass takes [`for_model`](Self::for_model).
    pub fn around(centre: Vec<f64>, members: Vec<bool>) -> Self {
        if members.contains(&true) { Self { centre, members } } else { Self::none() }
    }

    /// Whether component `c` is formed around the centre.
    pub fn shares(&self, c: usize) -> bool {
        self.members.get(c).copied().unwrap_or(false)
    }

    /// The centre (`d` values), empty when no component shares it.
    pub fn centre(&self) -> &[f64] {
        &self.centre
    }

    /// Whether no component shares the centre.
    pub fn is_none(&self) -> bool {
        self.centre.is_empty()
    }
}

/// Where the values of a product row lie (module docs): `z_j` at `j`, the 1 (so `N`) at `d`,
/// from `dp` on the packed lower triangle (full) or the squares `z_j²` (diagonal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ProductLayout {
    pub d: usize,
    /// `d + 1` rounded up to 8.
    pub dp: usize,
    /// Diagonal moments: the squares only.
    pub diag: bool,
    /// Values per row, a multiple of 8.
    pub stride: usize,
}

impl ProductLayout {
    /// Full product rows.
    pub fn new(d: usize, dp: usize) -> Self {
        // Under 8 dimensions, room for a whole register stored from the triangle's last row
        // (`form_products`).
        let second = if d < 8 { d * (d + 1) / 2 + 8 } else { d * (d + 1) / 2 };
        Self { d, dp, diag: false, stride: (dp + second).next_multiple_of(8) }
    }

    /// Diagonal product rows: `z` and its squares, `2 dp` values.
    pub fn diagonal(d: usize, dp: usize) -> Self {
        Self { d, dp, diag: true, stride: 2 * dp }
    }

    /// Column of `Σ r z_i z_j` (`j <= i`; diagonal rows: `j == i`).
    #[inline(always)]
    pub fn second(&self, i: usize, j: usize) -> usize {
        if self.diag { self.dp + i } else { self.dp + i * (i + 1) / 2 + j }
    }
}

/// The product rows of `count` row-major samples `xr` (`dp` values each: `x`, the 1, zeros)
/// around `centre` (`dp` values, zero from `d` on) into `products` (`layout.stride` each).
#[inline(always)]
pub(super) fn form_products<S: Simd>(
    simd: S,
    layout: ProductLayout,
    xr: &[f64],
    centre: &[f64],
    count: usize,
    products: &mut [f64],
) {
    if count == 0 {
        return;
    }
    let ProductLayout { d, dp, diag, stride } = layout;
    let w = size_of::<S::f64s>() / 8;
    let (cv, _) = S::as_simd_f64s(&centre[..dp]);
    let ops = if diag { Vec::new() } else { triangle_stores(d, w) };
    assert!(ops.iter().all(|&(i, start, at)| i < d && start + w <= dp && at + w <= stride - dp));
    for (x, p) in xr.chunks_exact(dp).zip(products.chunks_exact_mut(stride)).take(count) {
        let (xv, _) = S::as_simd_f64s(x);
        {
            let (zv, _) = S::as_mut_simd_f64s(&mut p[..dp]);
            for ((z, &x), &c) in zv.iter_mut().zip(xv).zip(cv) {
                *z = simd.sub_f64s(x, c);
            }
        }
        let (z, second) = p.split_at_mut(dp);
        if diag {
            let (zv, _) = S::as_simd_f64s(z);
            let (sv, _) = S::as_mut_simd_f64s(&mut second[..dp]);
            for (s, &z) in sv.iter_mut().zip(zv) {
                *s = simd.mul_f64s(z, z);
            }
            continue;
        }
        for &(i, start, at) in &ops {
            // SAFETY: every operation was checked against the row's bounds above.
            unsafe {
                // `z` as just stored: a broadcast load and a register load, no subtraction.
                let zi = simd.splat_f64s(*z.get_unchecked(i));
                let zv = S::as_simd_f64s(z.get_unchecked(start..start + w)).0[0];
                let v = simd.mul_f64s(zi, zv);
                S::as_mut_simd_f64s(second.get_unchecked_mut(at..at + w)).0[0] = v;
            }
        }
    }
}

/// [`form_products`] fused with the row-major copy on AVX2 (full rows, `dp` a multiple of 4):
/// per 4 samples of the column-major block (`xt`, `stride` per dimension, samples
/// `start..start + count`, `count` a multiple of 4), each group of 4 columns (`x`, the
/// augmented 1, zeros) is transposed in registers into rows, centred and stored as the row's
/// `z`; then the triangle's register stores ([`triangle_stores`], in their order) each multiply
/// a broadcast `z_i` by a register of `z` loaded from the row just stored. The same products as
/// [`form_products`] (each `z_i = x_i - c_i` and `z_i z_j` rounded once), without the scalar
/// row-major copy it reads: 49.0 → 45.2 µs per headline block (`examples/moments`), and on the
/// headline (two threads, three interleaved rounds) full f64 23.87 → 23.61 ms per iteration,
/// full f32 17.31 → 17.06 (see `docs/PERFORMANCE.md`, round nine).
///
/// # Safety
///
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn products_v3(
    layout: ProductLayout,
    xt: Columns<'_>,
    stride: usize,
    start: usize,
    count: usize,
    centre: &[f64],
    products: &mut [f64],
) {
    let ProductLayout { d, dp, diag, stride: row } = layout;
    assert!(!diag && d >= 1 && dp > d && dp.is_multiple_of(4) && count.is_multiple_of(4));
    assert!(start + count <= stride && xt.len() >= (d - 1) * stride + start + count);
    assert!(centre.len() >= dp && products.len() >= count * row);
    let at = (xt, stride, start, count);
    // SAFETY: the caller's AVX2, and the bounds asserted above.
    unsafe {
        match d {
            1 => products_v3_for::<1>(layout, at, centre, products),
            2 => products_v3_for::<2>(layout, at, centre, products),
            3 => products_v3_for::<3>(layout, at, centre, products),
            4 => products_v3_for::<4>(layout, at, centre, products),
            5 => products_v3_for::<5>(layout, at, centre, products),
            6 => products_v3_for::<6>(layout, at, centre, products),
            7 => products_v3_for::<7>(layout, at, centre, products),
            8 => products_v3_for::<8>(layout, at, centre, products),
            9 => products_v3_for::<9>(layout, at, centre, products),
            10 => products_v3_for::<10>(layout, at, centre, products),
            11 => products_v3_for::<11>(layout, at, centre, products),
            12 => products_v3_for::<12>(layout, at, centre, products),
            13 => products_v3_for::<13>(layout, at, centre, products),
            14 => products_v3_for::<14>(layout, at, centre, products),
            15 => products_v3_for::<15>(layout, at, centre, products),
            16 => products_v3_for::<16>(layout, at, centre, products),
            _ => products_v3_for::<0>(layout, at, centre, products),
        }
    }
}

/// [`products_v3`] for `D = d` features known at compile time (`D = 0`: any `d`, the
/// triangle's stores walked at run time). With `D` known the triangle's
/// loops unroll into stores at constant offsets: per headline sample 36 register stores
/// instead of 36 trips through the list (three loads of an entry and the address arithmetic
/// each): 10.1 → 6.0 µs per headline block on the AMD EPYC (Zen 3) of round ten
/// (`examples/moments full --shared` with the accumulation switched off).
///
/// # Safety
///
/// The processor must have AVX2; [`products_v3`]'s bounds must hold.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn products_v3_for<const D: usize>(
    layout: ProductLayout,
    (xt, stride, start, count): (Columns<'_>, usize, usize, usize),
    centre: &[f64],
    products: &mut [f64],
) {
    use core::arch::x86_64::*;
    let ProductLayout { dp, stride: row, .. } = layout;
    debug_assert!(D == 0 || (D == layout.d && dp == (D + 8) / 8 * 8));
    // `d` a constant where `D` is given, so that the triangle's loops below unroll.
    let d = if D == 0 { layout.d } else { D };
    for_each_triangle_store(d, 4, |i, first, at| {
        assert!(i < d && first + 4 <= dp && dp + at + 4 <= row);
    });
    // SAFETY (all loads and stores below): `products_v3`'s assertions and the triangle's above
    // bound every offset.
    unsafe {
        let column = |j: usize, at: usize| {
            if j < d {
                let at = j * stride + at;
                match xt {
                    Columns::F64(x) => _mm256_loadu_pd(x.as_ptr().add(at)),
                    Columns::F32(x) => _mm256_cvtps_pd(_mm_loadu_ps(x.as_ptr().add(at))),
                }
            } else if j == d {
                _mm256_set1_pd(1.0)
            } else {
                _mm256_setzero_pd()
            }
        };
        for g in (0..count).step_by(4) {
            let out = products.as_mut_ptr().add(g * row);
            for j0 in (0..dp).step_by(4) {
                let columns = core::array::from_fn(|q| column(j0 + q, start + g));
                let rows = super::transpose_4x4_v3(columns);
                let cv = _mm256_loadu_pd(centre.as_ptr().add(j0));
                for (s, r) in rows.into_iter().enumerate() {
                    _mm256_storeu_pd(out.add(s * row + j0), _mm256_sub_pd(r, cv));
                }
            }
            for s in 0..4 {
                let z = out.add(s * row);
                let store = |i: usize, first: usize, at: usize| {
                    let v = _mm256_mul_pd(
                        _mm256_broadcast_sd(&*z.add(i)),
                        _mm256_loadu_pd(z.add(first)),
                    );
                    _mm256_storeu_pd(z.add(dp + at), v);
                };
                for_each_triangle_store(d, 4, store);
            }
        }
    }
}

/// The centred rows `z_n = (x_n, 1, 0...) - c` of samples `start..start + count` of the
/// column-major block `xt` (`count` a multiple of 8) on AVX-512 for `8 <= d < 16` (`z` in two
/// registers): per 8 samples the 16 columns (`x`, the augmented 1, zeros) are transposed in
/// registers into rows and centred, and each `z_n` is stored at the start of row `n` of `rows`
/// (`row` values each), followed by its squares when `squares` (the diagonal product rows
/// `(z, z²)`). Every store is whole; no row is copied and read back. The full product rows
/// are then formed panel by panel from `z` ([`panel_products_v4`]).
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn centred_rows_v4(
    d: usize,
    xt: Columns<'_>,
    (stride, start, count): (usize, usize, usize),
    centre: &[f64],
    (rows, row, squares): (&mut [f64], usize, bool),
) {
    use core::arch::x86_64::*;
    assert!((8..16).contains(&d) && count.is_multiple_of(8));
    assert!(start + count <= stride && xt.len() >= (d - 1) * stride + start + count);
    assert!(centre.len() >= 16 && row >= if squares { 32 } else { 16 });
    assert!(count == 0 || rows.len() >= (count - 1) * row + if squares { 32 } else { 16 });
    // SAFETY (all loads and stores below): the assertions above bound every offset.
    unsafe {
        let c0 = _mm512_loadu_pd(centre.as_ptr());
        let c1 = _mm512_loadu_pd(centre.as_ptr().add(8));
        for g in (0..count).step_by(8) {
            let column = |j: usize| {
                if j < d {
                    load_8(xt, j * stride + start + g)
                } else if j == d {
                    _mm512_set1_pd(1.0)
                } else {
                    _mm512_setzero_pd()
                }
            };
            let low = super::moments::transpose_8x8(core::array::from_fn(column));
            let high = super::moments::transpose_8x8(core::array::from_fn(|j| column(8 + j)));
            for s in 0..8 {
                let (z0, z1) = (_mm512_sub_pd(low[s], c0), _mm512_sub_pd(high[s], c1));
                let out = rows.as_mut_ptr().add((g + s) * row);
                _mm512_storeu_pd(out, z0);
                _mm512_storeu_pd(out.add(8), z1);
                if squares {
                    _mm512_storeu_pd(out.add(16), _mm512_mul_pd(z0, z0));
                    _mm512_storeu_pd(out.add(24), _mm512_mul_pd(z1, z1));
                }
            }
        }
    }
}

/// Registers `first..first + N` of the product rows of `count` centred rows `zrows` (16 values
/// each, [`centred_rows_v4`]) into `panel` (`8 N` values per sample), on AVX-512 for
/// `8 <= d < 16`: registers 0 and 1 are `z` itself, register `2 + k` the packed triangle's
/// register `k`, the product of two two-source permutes of `z` (`index[k]`,
/// [`pair_index`]): each `z_i z_j` rounded once, the products of [`form_products`].
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn panel_products_v4<const N: usize>(
    zrows: &[f64],
    count: usize,
    index: &[[[i64; 8]; 2]],
    first: usize,
    panel: &mut [f64],
) {
    use core::arch::x86_64::*;
    assert!(zrows.len() >= count * 16 && panel.len() >= count * 8 * N);
    assert!(first + N <= 2 + index.len());
    // SAFETY (all loads and stores below): the assertions above bound every offset.
    unsafe {
        // Per register of the panel: which `z` register it is (0, 1), or 2 for a product,
        // with its index pair loaded once.
        let kind: [usize; N] = core::array::from_fn(|q| (first + q).min(2));
        let pair: [(__m512i, __m512i); N] =
            core::array::from_fn(|q| match (first + q).checked_sub(2) {
                Some(k) => (
                    _mm512_loadu_epi64(index[k][0].as_ptr()),
                    _mm512_loadu_epi64(index[k][1].as_ptr()),
                ),
                None => (_mm512_setzero_si512(), _mm512_setzero_si512()),
            });
        for s in 0..count {
            let z0 = _mm512_loadu_pd(zrows.as_ptr().add(s * 16));
            let z1 = _mm512_loadu_pd(zrows.as_ptr().add(s * 16 + 8));
            let out = panel.as_mut_ptr().add(s * 8 * N);
            for q in 0..N {
                let v = match kind[q] {
                    0 => z0,
                    1 => z1,
                    _ => _mm512_mul_pd(
                        _mm512_permutex2var_pd(z0, pair[q].0, z1),
                        _mm512_permutex2var_pd(z0, pair[q].1, z1),
                    ),
                };
                _mm512_storeu_pd(out.add(8 * q), v);
            }
        }
    }
}

/// Samples `at..at + 8` of `xt` in an AVX-512 register of `f64` (`f32` ones converted, which
/// is exact).
///
/// # Safety
///
/// The processor must have AVX-512F, and `at + 8 <= xt.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load_8(xt: Columns<'_>, at: usize) -> core::arch::x86_64::__m512d {
    use core::arch::x86_64::*;
    // SAFETY: the caller's bound.
    unsafe {
        match xt {
            Columns::F64(x) => _mm512_loadu_pd(x.as_ptr().add(at)),
            Columns::F32(x) => _mm512_cvtps_pd(_mm256_loadu_ps(x.as_ptr().add(at))),
        }
    }
}

/// The two-source permute indices of the packed triangle's registers (AVX-512, `d < 16`), one
/// `[is, js]` pair of index registers each: lane `l` of register `k` holds the pair `(i, j)`
/// with `8k + l = i(i+1)/2 + j` (each index below 8 takes the first register's lane, from 8
/// the second's); lanes past the triangle take `(0, 0)`. Made once per centre
/// (`LaneMoments::set_centre`) for the fused product rows.
pub(super) fn pair_index(d: usize) -> Vec<[[i64; 8]; 2]> {
    let triangle = d * (d + 1) / 2;
    let mut pairs = vec![(0i64, 0i64); triangle.next_multiple_of(8)];
    let mut p = 0;
    for i in 0..d {
        for j in 0..=i {
            pairs[p] = (i as i64, j as i64);
            p += 1;
        }
    }
    pairs
        .chunks_exact(8)
        .map(|lanes| [core::array::from_fn(|l| lanes[l].0), core::array::from_fn(|l| lanes[l].1)])
        .collect()
}

/// The move of one component's full second moments from the centre to its shift on AVX-512
/// (`8 <= d < 16`), added into `second` (`d x d`, row-major, lower triangle): row `i`'s
/// `i + 1` values `S_c - δ_i F_j - m_i δ_j` (the same roundings in the same order as the
/// scalar move), at most two registers each, formed from a masked load of the packed row
/// around the centre, broadcasts of `δ_i` and `m_i` and the registers of `F_c` and `δ`, then
/// added into `second`'s row by a masked load, add and store. The first registers of every row
/// go before the second ones, so no load overlaps the range of the store just before it (a
/// masked store still blocks a load that overlaps its whole range): 3.5 → 1.9 µs per headline
/// block of 30 components, where a packed store reloaded at other offsets stalled on store
/// forwarding. `row` is the component's row of sums around the centre, `delta` and `moved`
/// its `δ` and `F_k` zero-padded to 16.
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn move_two_v4(
    layout: ProductLayout,
    row: &[f64],
    delta: &[f64; 16],
    moved: &[f64; 16],
    second: &mut [f64],
) {
    use core::arch::x86_64::*;
    let ProductLayout { d, dp, diag, stride } = layout;
    assert!(!diag && (8..16).contains(&d) && dp == 16);
    assert!(row.len() >= stride && dp + (d * (d + 1) / 2).next_multiple_of(8) <= stride);
    assert!(second.len() >= d * d);
    // SAFETY (all loads and stores below): the assertions above bound every offset (row `i`'s
    // register at `j0` starts at `dp + i(i+1)/2 + j0` and reads at most `i + 1 - j0` lanes, all
    // within the triangle); masked-off lanes are neither read nor written.
    unsafe {
        let ds = [_mm512_loadu_pd(delta.as_ptr()), _mm512_loadu_pd(delta.as_ptr().add(8))];
        let fs = [_mm512_loadu_pd(row.as_ptr()), _mm512_loadu_pd(row.as_ptr().add(8))];
        for half in 0..2 {
            let j0 = 8 * half;
            for i in j0..d {
                let count = (i + 1 - j0).min(8);
                let mask = ((1u32 << count) - 1) as __mmask8;
                let s = _mm512_maskz_loadu_pd(mask, row.as_ptr().add(dp + i * (i + 1) / 2 + j0));
                let di = _mm512_set1_pd(delta[i]);
                let mi = _mm512_set1_pd(moved[i]);
                let v = _mm512_sub_pd(
                    _mm512_sub_pd(s, _mm512_mul_pd(di, fs[half])),
                    _mm512_mul_pd(mi, ds[half]),
                );
                let at = second.as_mut_ptr().add(i * d + j0);
                let sum = _mm512_add_pd(_mm512_maskz_loadu_pd(mask, at), v);
                _mm512_mask_storeu_pd(at, mask, sum);
            }
        }
    }
}

/// One member's flush on AVX-512 (`8 <= d < 16`): from its row of sums around the centre
/// (`F_c` at `0..d`, `N` at `d`, diagonal `S_c` from `dp`), `δ = s - c` and `F_k = F_c - N δ`
/// in two registers each; `N` added to `count`, `F_k` to `first`; the diagonal second moments
/// `S_c - δ F_c - F_k δ` added to `second` (`d` values), or the full ones by
/// [`move_two_v4`] (`d x d`). The same roundings in the same order as the scalar flush
/// (`moments::FlushAround`), which formed them value by value: the headline's diagonal flush
/// went from 1.0 to 0.5 µs per block.
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn move_member_v4(
    layout: ProductLayout,
    row: &[f64],
    shift: &[f64],
    centre: &[f64],
    count: &mut f64,
    first: &mut [f64],
    second: &mut [f64],
) {
    use core::arch::x86_64::*;
    let ProductLayout { d, dp, diag, stride } = layout;
    assert!((8..16).contains(&d) && dp == 16 && row.len() >= stride && stride >= 2 * dp);
    assert!(shift.len() >= d && centre.len() >= d && first.len() >= d);
    assert!(second.len() >= if diag { d } else { d * d });
    let masks: [__mmask8; 2] = [0xFF, ((1u32 << (d - 8)) - 1) as __mmask8];
    let (mut delta, mut moved) = ([0.0f64; 16], [0.0f64; 16]);
    let n = row[d];
    // SAFETY (all loads and stores below): every access is masked to the lanes below `d`
    // of `shift`, `centre`, `first` and `second` (checked above), or within `row`'s first
    // `2 dp <= stride` values, or within the 16-value arrays.
    unsafe {
        let nv = _mm512_set1_pd(n);
        for (h, &m) in masks.iter().enumerate() {
            let o = 8 * h;
            let s = _mm512_maskz_loadu_pd(m, shift.as_ptr().add(o));
            let dl = _mm512_sub_pd(s, _mm512_maskz_loadu_pd(m, centre.as_ptr().add(o)));
            let f = _mm512_maskz_loadu_pd(m, row.as_ptr().add(o));
            let mv = _mm512_sub_pd(f, _mm512_mul_pd(nv, dl));
            let at = first.as_mut_ptr().add(o);
            _mm512_mask_storeu_pd(at, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, at), mv));
            if diag {
                let sc = _mm512_maskz_loadu_pd(m, row.as_ptr().add(dp + o));
                let v =
                    _mm512_sub_pd(_mm512_sub_pd(sc, _mm512_mul_pd(dl, f)), _mm512_mul_pd(mv, dl));
                let t = second.as_mut_ptr().add(o);
                _mm512_mask_storeu_pd(t, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, t), v));
            }
            _mm512_storeu_pd(delta.as_mut_ptr().add(o), dl);
            _mm512_storeu_pd(moved.as_mut_ptr().add(o), mv);
        }
        *count += n;
        if !diag {
            move_two_v4(layout, row, &delta, &moved, second);
        }
    }
}

/// The second moments of one member's flush of full product rows on AVX2 (any `d`), from its
/// row of sums around the centre (`F_c` at `0..d`, the packed triangle `S_c` from `dp`) and
/// its `δ = s - c` and `F_k = F_c - N δ` (formed by the scalar flush, `moments::FlushAround`):
/// each row `i` of `S_c - δ_i F_cᵀ - F_k,i δᵀ` added into `second`'s row (`d x d`, row-major,
/// lower triangle) 4 values at a time (the row's last ones by masked loads and a masked
/// store). The same roundings in the same order as the scalar flush, whose short row loops
/// the compiler left mostly scalar (the flush of a headline block: 3.5-3.9 → 2.1-2.3 µs).
///
/// # Safety
///
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn move_rows_v3(
    layout: ProductLayout,
    row: &[f64],
    (delta, moved): (&[f64], &[f64]),
    second: &mut [f64],
) {
    use core::arch::x86_64::*;
    let ProductLayout { d, dp, diag, stride } = layout;
    assert!(!diag && dp > d && row.len() >= stride && stride >= dp + d * (d + 1) / 2);
    assert!(second.len() >= d * d && delta.len() >= d && moved.len() >= d);
    // Lanes 0..m of a masked load or store, m = 1, 2, 3.
    const MASKS: [[i64; 4]; 4] = [[0, 0, 0, 0], [-1, 0, 0, 0], [-1, -1, 0, 0], [-1, -1, -1, 0]];
    // SAFETY (all loads and stores below): row `i`'s values `j <= i < d` lie at
    // `dp + i(i+1)/2 + j` of `row`, `j` of `row`, `delta` and `moved`, and `i d + j` of
    // `second` (checked above); the masked tail reads and writes lanes `j <= i` only.
    unsafe {
        for i in 0..d {
            let (di, mi) = (_mm256_set1_pd(delta[i]), _mm256_set1_pd(moved[i]));
            let sc = row.as_ptr().add(dp + i * (i + 1) / 2);
            let target = second.as_mut_ptr().add(i * d);
            let value = |s: __m256d, f: __m256d, dj: __m256d| {
                _mm256_sub_pd(_mm256_sub_pd(s, _mm256_mul_pd(di, f)), _mm256_mul_pd(mi, dj))
            };
            let mut j = 0;
            while j + 4 <= i + 1 {
                let v = value(
                    _mm256_loadu_pd(sc.add(j)),
                    _mm256_loadu_pd(row.as_ptr().add(j)),
                    _mm256_loadu_pd(delta.as_ptr().add(j)),
                );
                let at = target.add(j);
                _mm256_storeu_pd(at, _mm256_add_pd(_mm256_loadu_pd(at), v));
                j += 4;
            }
            if j <= i {
                let m = _mm256_loadu_si256(MASKS[i + 1 - j].as_ptr().cast());
                let v = value(
                    _mm256_maskload_pd(sc.add(j), m),
                    _mm256_maskload_pd(row.as_ptr().add(j), m),
                    _mm256_maskload_pd(delta.as_ptr().add(j), m),
                );
                let at = target.add(j);
                _mm256_maskstore_pd(at, m, _mm256_add_pd(_mm256_maskload_pd(at, m), v));
            }
        }
    }
}

/// The register stores of a row's triangle, `(i, start, at)`: `z_i z[start..start + w]` into
/// the products at `at`. Row `i` (`z_i z[0..=i]`) is stored a whole register at a time, in
/// increasing order: a register past the end of row `i` is overwritten by row `i + 1`'s first
/// one (a masked store costs a call in pulp). The triangle's last register ends at its last
/// value instead (its first lanes again: the same products), or, for `d` under a register,
/// spills into the row's slack (`ProductLayout::new`).
fn triangle_stores(d: usize, w: usize) -> Vec<(usize, usize, usize)> {
    let mut ops = Vec::new();
    for_each_triangle_store(d, w, |i, start, at| ops.push((i, start, at)));
    ops
}

/// Calls `store(i, start, at)` for each of [`triangle_stores`]'s stores, in their order,
/// without a list: with `d` and `w` known at compile time the loops unroll into stores at
/// constant offsets (`products_v3_for`).
#[inline(always)]
fn for_each_triangle_store(d: usize, w: usize, mut store: impl FnMut(usize, usize, usize)) {
    let mut off = 0;
    for i in 0..d {
        let mut a = 0;
        while a <= i {
            let start = if i + 1 == d && a + w > d && d >= w { d - w } else { a };
            store(i, start, off + start);
            a += w;
        }
        off += i + 1;
    }
}

/// Components per register tile and registers of `p` per tile on an instruction set of `w`
/// lanes: `CT x VT` accumulators, `VT` loads and a broadcast within 32 registers (AVX-512) or
/// 16 (AVX2: 2 x 5, ten independent chains of FMAs, where 3 x 3's nine left too little slack
/// over the FMA's 4-cycle latency on 2 pipes; [`accumulate`]).
pub(super) const fn tile_shape(w: usize) -> (usize, usize) {
    if w == 8 { (6, 4) } else { (2, 5) }
}

/// Product rows per sub-chunk of [`accumulate`]'s tile-major order on AVX2 (and the scalar
/// path): a tile's columns of them (at most 5 registers: 120 x 160 B = 19 KB) stay in L1
/// while every group of members reads them.
const TILE_ROWS: usize = 120;

/// `out[rows[c]][to..to + VT w] += Σ_n r[c][n] p_n[col..col + VT w]` for the `count` rows of
/// `p` (`stride` values each; `out`'s rows hold `out_stride`).
#[inline(always)]
fn tile<S: Simd, const CT: usize, const VT: usize>(
    simd: S,
    p: &[f64],
    (stride, count, col, zeroed): (usize, usize, usize, bool),
    r: [&[f64]; CT],
    (rows, out_stride, to): ([usize; CT], usize, usize),
    out: &mut [f64],
) {
    let w = size_of::<S::f64s>() / 8;
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; VT]; CT];
    for c in (0..CT).filter(|_| !zeroed) {
        let at = rows[c] * out_stride + to;
        let (v, _) = S::as_simd_f64s(&out[at..at + VT * w]);
        acc[c].copy_from_slice(&v[..VT]);
    }
    let r: [&[f64]; CT] = core::array::from_fn(|c| &r[c][..count]);
    for (n, row) in (0..count).zip(p.chunks_exact(stride)) {
        let (pv, _) = S::as_simd_f64s(&row[col..col + VT * w]);
        for c in 0..CT {
            let rb = simd.splat_f64s(r[c][n]);
            for v in 0..VT {
                acc[c][v] = simd.mul_add_e_f64s(rb, pv[v], acc[c][v]);
            }
        }
    }
    for c in 0..CT {
        let at = rows[c] * out_stride + to;
        let (v, _) = S::as_mut_simd_f64s(&mut out[at..at + VT * w]);
        v[..VT].copy_from_slice(&acc[c]);
    }
}

/// Whether a group of members' tiles write their sums instead of adding to them: on the
/// block's first chunk (`first`) a group of fresh members (nothing added since the last flush)
/// starts its sums at zero; in a mixed group the fresh members' rows of `out` (`stride` values
/// each) are zeroed instead (when `clear`: once per block).
#[inline(always)]
fn start_group(
    (group, fresh): (&[usize], &[bool]),
    first: bool,
    clear: bool,
    (out, stride): (&mut [f64], usize),
) -> bool {
    let zeroed = first && fresh.iter().all(|&f| f);
    if first && !zeroed && clear {
        for (&c, _) in group.iter().zip(fresh).filter(|(_, f)| **f) {
            out[c * stride..(c + 1) * stride].fill(0.0);
        }
    }
    zeroed
}

/// The register tiles of a row of `registers` registers, at most `most` each, as even as they
/// can be (17 registers by 4: 4, 4, 3, 3, 3, not 4, 4, 4, 4, 1 — a tile of one register needs
/// a load and `CT` broadcasts for `CT` FMAs): `(first register, registers)` of each, in order.
pub(super) fn even_tiles(registers: usize, most: usize) -> impl Iterator<Item = (usize, usize)> {
    let tiles = registers.div_ceil(most);
    (0..tiles).scan(0, move |first, t| {
        let n = registers / tiles + usize::from(t < registers % tiles);
        *first += n;
        Some((*first - n, n))
    })
}

/// [`tile`] for a tile of `n` registers (`1 <= n <= VT <= 5`), `n` known at run time.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn tile_of<S: Simd, const CT: usize, const VT: usize>(
    n: usize,
    simd: S,
    p: &[f64],
    shape: (usize, usize, usize, bool),
    r: [&[f64]; CT],
    to: ([usize; CT], usize, usize),
    out: &mut [f64],
) {
    debug_assert!((1..=VT).contains(&n) && VT <= 5);
    match n {
        n if n == VT => tile::<S, CT, VT>(simd, p, shape, r, to, out),
        1 => tile::<S, CT, 1>(simd, p, shape, r, to, out),
        2 => tile::<S, CT, 2>(simd, p, shape, r, to, out),
        3 => tile::<S, CT, 3>(simd, p, shape, r, to, out),
        _ => tile::<S, CT, 4>(simd, p, shape, r, to, out),
    }
}

/// All register tiles of one group of `CT` components over `count` product rows.
#[inline(always)]
fn group_tiles<S: Simd, const CT: usize, const VT: usize>(
    simd: S,
    p: &[f64],
    (stride, count, zeroed): (usize, usize, bool),
    r: [&[f64]; CT],
    rows: [usize; CT],
    out: &mut [f64],
) {
    let w = size_of::<S::f64s>() / 8;
    for (first, n) in even_tiles(stride / w, VT) {
        let col = first * w;
        let to = (rows, stride, col);
        tile_of::<S, CT, VT>(n, simd, p, (stride, count, col, zeroed), r, to, out);
    }
}

/// `out[rows[c]] += Σ_n r_nc p_n` for every member `c` of `members`, over the `count` product
/// rows `p` of samples `start..start + count` of the block (`rw`: component-major, `r_stride`
/// per component), in groups of `CT` ([`tile_shape`]), the last padded with ghosts
/// (responsibilities `zeros`, output row `ghost`).
///
/// * AVX-512 (`group_major`): group by group, all of a group's tiles over all `count` rows
///   (the rows there are the diagonal ones, one tile, or full rows of shapes the panels of
///   `moments::around_panels` do not take); `f32` responsibilities widened into `widened`
///   (`CT x count`) a group at a time.
/// * Elsewhere (`tile_major`): per sub-chunk of [`TILE_ROWS`] rows, tile by tile, every group
///   — a tile's columns are read from L2 once per sub-chunk and then from L1 by every group,
///   where the group-major order streamed the whole rows from L2 once per group (ten times a
///   block for 30 components). `f32` responsibilities are widened for all members first
///   (`widened`: `members x count`).
///
/// Every output is the same sequential sum over the samples in both orders (a sub-chunk's
/// accumulators are stored and reloaded unchanged), so the bits do not depend on the order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn accumulate<S: Simd>(
    simd: S,
    p: &[f64],
    stride: usize,
    count: usize,
    members: (&[usize], &[bool], bool),
    from: (Responsibilities<'_>, usize, usize),
    widened: &mut [f64],
    zeros: &[f64],
    ghost: usize,
    out: &mut [f64],
) {
    let rows = (p, stride, count);
    if size_of::<S::f64s>() == 64 {
        group_major::<S, 6, 4>(simd, rows, members, from, (widened, zeros, ghost), out);
    } else {
        tile_major::<S, 2, 5>(simd, rows, members, from, (widened, zeros, ghost), out);
    }
}

/// The responsibilities of the `CT` members of `group` (the `g`-th group) over `count`
/// samples from `start` — in place (`f64`) or from `widened` (`f32`: member `m`'s at
/// `m * member_len + offset`) — and their output rows; ghosts get `zeros` and `ghost`.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn group_slices<'a, const CT: usize>(
    (group, g): (&[usize], usize),
    (rw, r_stride, start, count): (Responsibilities<'a>, usize, usize, usize),
    (widened, member_len, offset): (&'a [f64], usize, usize),
    (zeros, ghost): (&'a [f64], usize),
) -> ([&'a [f64]; CT], [usize; CT]) {
    let mut slices: [&[f64]; CT] = [&zeros[..count]; CT];
    let mut rows = [ghost; CT];
    for (i, &c) in group.iter().enumerate() {
        let at = c * r_stride + start;
        let m = (g * CT + i) * member_len + offset;
        slices[i] = match rw {
            Responsibilities::F64(r) => &r[at..at + count],
            Responsibilities::F32(_) => &widened[m..m + count],
        };
        rows[i] = c;
    }
    (slices, rows)
}

/// [`accumulate`] group by group (AVX-512).
#[inline(always)]
#[allow(clippy::type_complexity)]
fn group_major<S: Simd, const CT: usize, const VT: usize>(
    simd: S,
    (p, stride, count): (&[f64], usize, usize),
    (members, fresh, first): (&[usize], &[bool], bool),
    (rw, r_stride, start): (Responsibilities<'_>, usize, usize),
    (widened, zeros, ghost): (&mut [f64], &[f64], usize),
    out: &mut [f64],
) {
    assert!(widened.len() >= CT * count && zeros.len() >= count);
    for (group, fresh) in members.chunks(CT).zip(fresh.chunks(CT)) {
        let zeroed = start_group((group, fresh), first, true, (out, stride));
        if let Responsibilities::F32(_) = rw {
            for (&c, buffer) in group.iter().zip(widened.chunks_exact_mut(count)) {
                let at = c * r_stride + start;
                rw.get(at..at + count, buffer);
            }
        }
        let (slices, rows) = group_slices::<CT>(
            (group, 0),
            (rw, r_stride, start, count),
            (widened, count, 0),
            (zeros, ghost),
        );
        group_tiles::<S, CT, VT>(simd, p, (stride, count, zeroed), slices, rows, out);
    }
}

/// [`accumulate`] tile by tile within sub-chunks of [`TILE_ROWS`] rows (AVX2, scalar).
#[inline(always)]
#[allow(clippy::type_complexity)]
fn tile_major<S: Simd, const CT: usize, const VT: usize>(
    simd: S,
    (p, stride, count): (&[f64], usize, usize),
    (members, fresh, first_chunk): (&[usize], &[bool], bool),
    (rw, r_stride, start): (Responsibilities<'_>, usize, usize),
    (widened, zeros, ghost): (&mut [f64], &[f64], usize),
    out: &mut [f64],
) {
    let w = size_of::<S::f64s>() / 8;
    assert!(VT <= 5 && widened.len() >= members.len() * count && zeros.len() >= count);
    if let Responsibilities::F32(_) = rw {
        for (&c, buffer) in members.iter().zip(widened.chunks_exact_mut(count)) {
            let at = c * r_stride + start;
            rw.get(at..at + count, buffer);
        }
    }
    // Fresh members' rows zeroed before any tile of theirs (mixed groups).
    for (group, fresh) in members.chunks(CT).zip(fresh.chunks(CT)) {
        start_group((group, fresh), first_chunk, true, (out, stride));
    }
    let mut from = 0;
    while from < count {
        let n = TILE_ROWS.min(count - from);
        let rows_from = &p[from * stride..];
        for (first, nr) in even_tiles(stride / w, VT) {
            let col = first * w;
            for (g, (group, fresh)) in members.chunks(CT).zip(fresh.chunks(CT)).enumerate() {
                // A group of fresh members writes its first sub-chunk's sums (as `start_group`
                // decided).
                let write = first_chunk && from == 0 && fresh.iter().all(|&f| f);
                let (slices, rows) = group_slices::<CT>(
                    (group, g),
                    (rw, r_stride, start + from, n),
                    (widened, count, from),
                    (zeros, ghost),
                );
                let to = (rows, stride, col);
                tile_of::<S, CT, VT>(nr, simd, rows_from, (stride, n, col, write), slices, to, out);
            }
        }
        from += n;
    }
}

/// [`accumulate`] for one panel of the product rows (AVX-512): `out[c][8 first..8 (first + N)]`
/// (rows of `out_stride`) `+= Σ_n r_nc panel_n` for every member `c`, the `count` rows of
/// `panel` holding registers `first..first + N` of each product row (`8 N` values). `clear`:
/// the block's first panel, where fresh members in a mixed group get their whole rows zeroed
/// (on its first chunk, `first_chunk`). `f32` responsibilities come widened in `widened`, member
/// by member (`count` each).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn accumulate_panel<S: Simd, const N: usize>(
    simd: S,
    panel: &[f64],
    (count, first, out_stride): (usize, usize, usize),
    (members, fresh, first_chunk, clear): (&[usize], &[bool], bool, bool),
    (rw, r_stride, start): (Responsibilities<'_>, usize, usize),
    widened: &[f64],
    zeros: &[f64],
    ghost: usize,
    out: &mut [f64],
) {
    const CT: usize = 6;
    assert!(size_of::<S::f64s>() == 64 && zeros.len() >= count);
    for (g, (group, fresh)) in members.chunks(CT).zip(fresh.chunks(CT)).enumerate() {
        let zeroed = start_group((group, fresh), first_chunk, clear, (out, out_stride));
        let (slices, rows) = group_slices::<CT>(
            (group, g),
            (rw, r_stride, start, count),
            (widened, count, 0),
            (zeros, ghost),
        );
        let shape = (8 * N, count, 0, zeroed);
        tile::<S, CT, N>(simd, panel, shape, slices, (rows, out_stride, 8 * first), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::isa::{self, Isa};
    use crate::kernel::moments::{
        LaneMoments, MomentBlock, MomentScratch, MomentSums, accumulate_reference,
    };

    /// `(counts, first, second)` of a pass.
    type Sums = (Vec<f64>, Vec<f64>, Vec<f64>);

    /// Block `a` added around `centre` and flushed, then `b, a, a` and a flush (`b`: a block
    /// where some component has no weight, so the next block finds it fresh, its sums stale
    /// from the first flush, and the others not).
    fn lane_sums(
        full: bool,
        (k, d): (usize, usize),
        shift: &[f64],
        centre: &SharedCentre,
        [a, b]: [MomentBlock<'_>; 2],
    ) -> Sums {
        let second = if full { k * d * d } else { k * d };
        let mut sums = (vec![0.0; k], vec![0.0; k * d], vec![0.0; second]);
        let mut lanes = LaneMoments::new(full, k, d);
        let mut scratch = MomentScratch::new(d);
        lanes.set_centre(centre);
        for blocks in [&[a][..], &[b, a, a]] {
            for &block in blocks {
                lanes.add_block(shift, block, &mut scratch);
            }
            lanes.flush(MomentSums {
                full,
                shift,
                counts: &mut sums.0,
                first: &mut sums.1,
                second: &mut sums.2,
            });
        }
        sums
    }

    fn bits(s: &Sums) -> Vec<u64> {
        s.0.iter().chain(&s.1).chain(&s.2).map(|v| v.to_bits()).collect()
    }

    /// The bits of the members' sums only (the exact kernel's lanes depend on the register
    /// width).
    fn member_bits(s: &Sums, shared: &SharedCentre) -> Vec<u64> {
        let k = s.0.len();
        let (d, per) = (s.1.len() / k, s.2.len() / k);
        (0..k)
            .filter(|&c| shared.shares(c))
            .flat_map(|c| {
                let sums = [s.0[c]].into_iter();
                let sums = sums.chain(s.1[c * d..(c + 1) * d].iter().copied());
                sums.chain(s.2[c * per..(c + 1) * per].iter().copied()).map(f64::to_bits)
            })
            .collect()
    }

    /// Sums formed around a shared centre against the per-sample reference around each
    /// component's own shift, on every instruction set: `d` from 1 to 39 (product rows of one
    /// to many registers, several chunks per block for `d = 39`), `k` under, at and over a
    /// register tile's components (ghosts), every component or some sharing the centre, blocks
    /// of one sample to a whole block, entries past `len` NaN, a component with no weight in
    /// the first block (fresh in the next when the others are not). The SIMD instruction sets give
    /// the members the same bits (every sum is sequential over the samples), and `f32`
    /// responsibilities and samples the bits of the same values widened beforehand, on each.
    #[test]
    fn moments_around_a_shared_centre_match_the_reference() {
        let stride = 240;
        for &(d, k, len) in &[
            (1, 1, 1),
            (1, 7, 37),
            (2, 3, 240),
            (3, 13, 239),
            (15, 30, 240),
            (15, 5, 100),
            (8, 6, 61),
            (9, 7, 96),
            (16, 4, 233),
            (39, 2, 97),
            (39, 7, 240),
        ] {
            let value = |i: usize| ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7;
            let mut xt: Vec<f64> = (0..d * stride).map(value).collect();
            let mut rw: Vec<f64> = (0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0).collect();
            for row in 0..d {
                xt[row * stride + len..(row + 1) * stride].fill(f64::NAN);
            }
            for row in 0..k {
                rw[row * stride + len..(row + 1) * stride].fill(f64::NAN);
            }
            let shift: Vec<f64> = (0..k * d).map(|i| value(i * 3 + 1) * 0.5).collect();
            let centre: Vec<f64> = (0..d).map(|j| value(j * 11 + 5) * 0.3).collect();
            for full in [false, true] {
                let second = if full { k * d * d } else { k * d };
                let mut slow = (vec![0.0; k], vec![0.0; k * d], vec![0.0; second]);
                let block = MomentBlock {
                    xt: Columns::F64(&xt),
                    rw: Responsibilities::F64(&rw),
                    stride,
                    len,
                };
                // The same block with component 1 (if any) at zero weight.
                let mut rw_b = rw.clone();
                if k > 1 {
                    rw_b[stride..2 * stride].fill(0.0);
                }
                let block_b = MomentBlock {
                    xt: Columns::F64(&xt),
                    rw: Responsibilities::F64(&rw_b),
                    stride,
                    len,
                };
                for block in [block_b, block, block, block] {
                    accumulate_reference(
                        MomentSums {
                            full,
                            shift: &shift,
                            counts: &mut slow.0,
                            first: &mut slow.1,
                            second: &mut slow.2,
                        },
                        block,
                    );
                }
                for members in [vec![true; k], (0..k).map(|c| c % 3 != 1).collect()] {
                    let shared = SharedCentre::around(centre.clone(), members);
                    let what = format!("full={full} d={d} k={k} len={len}");
                    let mut simd_bits: Option<Vec<u64>> = None;
                    for isa in isa::available() {
                        let got = isa::with_isa(isa, || {
                            lane_sums(full, (k, d), &shift, &shared, [block, block_b])
                        })
                        .unwrap();
                        let tol = 1e-13 * len as f64;
                        for (name, a, b) in [
                            ("counts", &got.0, &slow.0),
                            ("first", &got.1, &slow.1),
                            ("second", &got.2, &slow.2),
                        ] {
                            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                                assert!(
                                    (x - y).abs() <= tol * (1.0 + y.abs()),
                                    "{isa:?} {what} {name}[{i}]: {x} vs {y}"
                                );
                            }
                        }
                        if isa != Isa::Scalar && full {
                            match &simd_bits {
                                None => simd_bits = Some(member_bits(&got, &shared)),
                                Some(b) => {
                                    assert_eq!(b, &member_bits(&got, &shared), "{isa:?} {what}")
                                }
                            }
                        }
                    }
                    let rw32: Vec<f32> = rw.iter().map(|&v| v as f32).collect();
                    let widened: Vec<f64> = rw32.iter().map(|&v| f64::from(v)).collect();
                    let xt32: Vec<f32> = xt.iter().map(|&v| v as f32).collect();
                    let xt_widened: Vec<f64> = xt32.iter().map(|&v| f64::from(v)).collect();
                    for isa in isa::available() {
                        let sums = |xt, rw| {
                            let block = MomentBlock { xt, rw, stride, len };
                            let got = isa::with_isa(isa, || {
                                lane_sums(full, (k, d), &shift, &shared, [block; 2])
                            });
                            bits(&got.unwrap())
                        };
                        // f32 responsibilities, then f32 samples too (read by the fused
                        // kernel as they are where every component shares the centre).
                        assert_eq!(
                            sums(Columns::F64(&xt), Responsibilities::F32(&rw32)),
                            sums(Columns::F64(&xt), Responsibilities::F64(&widened)),
                            "{isa:?} f32 responsibilities {what}"
                        );
                        assert_eq!(
                            sums(Columns::F32(&xt32), Responsibilities::F32(&rw32)),
                            sums(Columns::F64(&xt_widened), Responsibilities::F64(&widened)),
                            "{isa:?} f32 samples {what}"
                        );
                    }
                }
            }
        }
    }

    /// The centre of a model: per dimension the weighted median of the means, shared by the
    /// components within the radius in every dimension, and none at all when no component is.
    #[test]
    fn centre_takes_the_components_within_the_radius() {
        // Three components at -1, 0 and 3R (weights 2:2:1: the median is 0), standard
        // deviations sd: a component shares when |mean| <= R sd.
        let r = SHARED_RADIUS;
        let means = [-1.0, 0.0, 3.0 * r];
        let shares = |sd: [f64; 3]| {
            let c = SharedCentre::for_shifts(&means, &[2.0, 2.0, 1.0], |c, _| sd[c] * sd[c]);
            (c.centre().to_vec(), [c.shares(0), c.shares(1), c.shares(2)])
        };
        assert_eq!(shares([1.0, 1.0, 1.0]), (vec![0.0], [true, true, false]));
        assert_eq!(shares([1.0, 1.0, 3.0]), (vec![0.0], [true, true, true]));
        // sd 1 / (2R) for the first: 1 > 1/2, it keeps its own shift.
        assert_eq!(shares([0.5 / r, 1.0, 1.0]), (vec![0.0], [false, true, false]));
        // Weights moving the median: 1:1:3 puts it at 3R.
        let far = SharedCentre::for_shifts(&means, &[1.0, 1.0, 3.0], |_, _| 1.0);
        assert_eq!((far.centre(), far.shares(0), far.shares(2)), (&[3.0 * r][..], false, true));
        // Nobody within the radius: no centre at all (here: a zero variance).
        let none = SharedCentre::for_shifts(&[-1.0, 3.0], &[3.0, 1.0], |_, _| 0.0);
        assert!(none.is_none() && !none.shares(0));
    }
}
