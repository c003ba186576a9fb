//! The statistics kernel: one block's contribution to a mixture's shifted moments, SIMD over
//! samples.
//!
//! # The maths
//!
//! For a block of samples `x_n` (column-major, `d x stride`), weighted responsibilities
//! `u_nk = w_n r_nk` (component-major, `k x stride`) and a shift `s_k` per component, it adds
//!
//! ```text
//! N_k += Σ_n u_nk,    F_k += Σ_n u_nk (x_n - s_k),    S_k += Σ_n u_nk (x_n - s_k)(x_n - s_k)ᵀ
//! ```
//!
//! (`S_k` as `d` diagonal values, or the lower triangle of a `d x d` matrix) into the caller's
//! sums. These are the sufficient statistics `gmm-em`'s `SuffStats` holds; the textbook
//! per-sample version the tests compare against is [`accumulate_reference`].
//!
//! The sums stay **shifted**: every product is formed from `t = x - s_k`, never from raw `x`
//! (DESIGN.md §4). A raw-moment form (`Σ r x xᵀ` re-shifted afterwards by `- N s sᵀ - ...`)
//! would save the subtraction but cancels digits when `|s_k|` is large against the spread of
//! the component (the `E[x²] - E[x]²` problem); with `s_k` the model's mean, `t` is of the
//! order of the component's standard deviation and nothing cancels.
//!
//! For full covariances the first moments come out of the same products: with the augmented
//! `z = (t, 1)`, `Σ r z zᵀ` holds `S` in its leading `d x d` block and `F` in its last row.
//!
//! ## Why not raw moments
//!
//! A prototype for issue 14 accumulated raw moments of `(x, 1)` and re-shifted them at the end
//! of a leaf; it agreed to ~2e-16 relative on the headline data, whose components sit near the
//! origin against their spread. In general the re-shift `S = Σ r x xᵀ - s Fᵀ - F sᵀ - N s sᵀ`
//! loses `(|s| / σ)²` in relative precision (speech features such as MFCC c0 have `|μ| / σ` of
//! 10-100: 2-4 digits), so the kernels keep forming `x - s` per sample. The cost is one
//! subtraction per value of `z` per sample and component, against `(d + 1) / 2` FMAs that use it.
//!
//! # Current implementation
//!
//! Dispatched once per block by `pulp` (AVX-512, AVX2+FMA or scalar). A leaf of a pass owns a
//! [`LaneMoments`]: blocks add into it, and [`LaneMoments::flush`] adds it into the caller's
//! `f64` statistics (each slot's lanes summed in a fixed pairwise order, the same on every
//! instruction set; a component untouched since the last flush is overwritten by its next block,
//! so the flush zeroes nothing). What a leaf's sums depend on is which
//! blocks it holds — never the thread count.
//!
//! * **Diagonal** — SIMD lanes over samples. Per component and group of 4 dimensions, 8
//!   vector accumulators (`F_j`, `S_j`, lane by lane) are loaded from the component's lane
//!   slots, the block's registers of samples stream through them (`t = x - s`, `q = r t`,
//!   `F += q`, `S += q t`: 8 independent chains; `r` is loaded once per register for 4
//!   dimensions) and they are stored back. The lanes are summed (pairwise) only at the
//!   flush, so no horizontal reduction runs per block. A short last register reads zero-padded
//!   copies, so samples past `len` add exactly nothing.
//! * **Full** — SIMD lanes over *dimensions*, which needs no horizontal reduction at all. The
//!   block is copied once into a row-major `x_n` with the augmented 1 and zero padding (`D`
//!   values per row: `d + 1` rounded up to 8). Per component, for groups of 64 samples,
//!   `z_n = x_n - s` is formed row by row (one subtraction per register); then, for each
//!   column register `cr` of `z` and up to 3 row registers from it, one pass over the group
//!   does `acc[a][c] += (r_n z_n[row register a]) z_n[cr W + c]` with the column values
//!   broadcast *from memory* (a load each, no shuffle competing with the FMAs) — `3 x W`
//!   accumulators. For `8 <= d < 16` on AVX-512 (`D = 16`, two registers) the whole lower
//!   triangle is one pass: columns 0-7 on both row registers, columns `8..d` on the second
//!   (column `d`, the augmented 1, and the padding after it are never read, so not computed):
//!   for `d = 15`, per sample 2 multiplies, 15 broadcast loads and 23 FMAs into 23
//!   accumulators. On the machine measured, its memory operations and its FMA-port operations
//!   bound this loop together: taking broadcasts from registers instead of memory changed
//!   nothing (see `docs/PERFORMANCE.md`, "What limits each kernel now"). The accumulators are
//!   loaded from and stored back to the leaf's dense `D x D` matrix (column-major, finished
//!   sums), whose last data row holds `F` (column `d` of `z` is 1). The flush adds the dense
//!   matrix into the caller's lower triangle entry by entry; on AVX-512 by 8 x 8 tiles
//!   transposed in registers, one masked addition per row (the same additions, so the same
//!   bits).
//! * A component whose responsibilities in the block are all exactly zero is skipped (it would
//!   add exactly nothing).
//! * **Around a shared centre** ([`LaneMoments::set_centre`]; module
//!   [`shared_centre`](super::shared_centre)): the components near a point `c` shared by the
//!   model have their products formed from `x - c` once per block for all of them — as one
//!   register-tiled matrix product with product rows (full moments; diagonal ones on AVX-512
//!   for `8 <= d < 16`), or by member x column tiles in lanes (other diagonal shapes,
//!   `diag_around`) — and their sums moved exactly to their own shift
//!   at the flush, with a bounded loss of precision (at most 289 ulps). The E-step uses it
//!   ([`SharedCentre::for_model`]); the other components keep the exact paths above.
//!
//! [`accumulate_moments`] is the one-block form (its own sums, flushed at once) for callers
//! outside a pass. Memory per leaf: `k (2d + 1) 8` values (diagonal) or `k (8 + D²)` (full).

use pulp::{Simd, WithSimd};

use super::AlignedVec;
use super::shared_centre::{self, ProductLayout, SharedCentre};

/// Values per lane slot: the widest register's `f64` lanes (AVX-512).
pub const MAX_LANES: usize = 8;

/// The per-component sums a block is added into.
pub struct MomentSums<'a> {
    /// Whether `second` holds full `d x d` matrices (lower triangle) or `d` diagonal values
    /// per component.
    pub full: bool,
    /// `k x d` shifts `s_k`.
    pub shift: &'a [f64],
    /// `k` counts `N_k`.
    pub counts: &'a mut [f64],
    /// `k x d` first moments `F_k`.
    pub first: &'a mut [f64],
    /// `k x d` or `k x d x d` second moments `S_k`.
    pub second: &'a mut [f64],
}

/// One block of samples and their weighted responsibilities.
#[derive(Clone, Copy)]
pub struct MomentBlock<'a> {
    /// Samples, column-major `d x stride`, in the precision they were loaded in.
    pub xt: Columns<'a>,
    /// Weighted responsibilities `w_n r_nk`, component-major `k x stride`.
    pub rw: Responsibilities<'a>,
    /// Row stride of `xt` and `rw`.
    pub stride: usize,
    /// Samples in the block (the first `len` of each row are read; what follows them may be
    /// anything, NaN included).
    pub len: usize,
}

/// The samples of a [`MomentBlock`], in the precision they were loaded in.
///
/// `f32` ones are converted as they are read where a path reads them row by row (full
/// moments always: their row-major copies and the fused product rows; diagonal ones by
/// product rows, on AVX-512 for `8 <= d < 16`, when every component shares the centre), and
/// widened into the kernel's scratch only for the paths that read `f64` columns (the other
/// diagonal ones). The widened copy of a whole block that the E-step used to write first
/// (its stores missed L1) cost the headline's `f32` cases ~2-4 % of an iteration.
#[derive(Clone, Copy)]
pub enum Columns<'a> {
    /// `f64` values, read in place.
    F64(&'a [f64]),
    /// `f32` values, converted as they are read (or widened first where a path needs `f64`).
    F32(&'a [f32]),
}

impl<'a> Columns<'a> {
    /// Values held.
    pub fn len(&self) -> usize {
        match self {
            Self::F64(xt) => xt.len(),
            Self::F32(xt) => xt.len(),
        }
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples of a block of `T` (`d x stride`, column-major).
    pub fn of<T: crate::Real>(xt: &'a [T]) -> Self {
        match T::as_f64_slice(xt) {
            Some(xt) => Self::F64(xt),
            // `Real` is `f32` or `f64`: not `f64`, so `f32`.
            None => Self::F32(bytemuck::cast_slice(xt)),
        }
    }

    /// The samples in `f64`: the values themselves, or the first `len` of each of the `d`
    /// rows of `stride` widened into `buffer` (grown to fit).
    fn in_f64<'b>(
        &self,
        d: usize,
        stride: usize,
        len: usize,
        buffer: &'b mut AlignedVec<f64>,
    ) -> &'b [f64]
    where
        'a: 'b,
    {
        match *self {
            Self::F64(xt) => xt,
            Self::F32(xt) => {
                grow(buffer, d * stride);
                for (dst, src) in
                    buffer.chunks_exact_mut(stride).zip(xt.chunks_exact(stride)).take(d)
                {
                    widen_f32(&src[..len], &mut dst[..len]);
                }
                &buffer[..d * stride]
            }
        }
    }
}

/// The responsibilities of a [`MomentBlock`], in the precision they were computed in.
///
/// `f32` ones are widened to `f64` by the kernel one component (or group of samples) at a time,
/// into a buffer that stays in L1: widening the whole `k x stride` matrix first would write it
/// out to L2 and read it back, which cost `f32` EM ~7 % of an iteration.
#[derive(Clone, Copy)]
pub enum Responsibilities<'a> {
    /// `f64` values, read in place.
    F64(&'a [f64]),
    /// `f32` values, widened as they are used.
    F32(&'a [f32]),
}

impl<'a> Responsibilities<'a> {
    /// The values of `r` in their own precision.
    pub fn of<T: crate::Real>(r: &'a [T]) -> Self {
        match T::as_f64_slice(r) {
            Some(r) => Self::F64(r),
            // `Real` is `f32` or `f64`: not `f64`, so `f32`.
            None => Self::F32(bytemuck::cast_slice(r)),
        }
    }

    /// `self[range]` in `f64`: the values themselves, or widened into `buffer`.
    #[inline(always)]
    pub(super) fn get<'b>(&self, range: std::ops::Range<usize>, buffer: &'b mut [f64]) -> &'b [f64]
    where
        'a: 'b,
    {
        match *self {
            Self::F64(r) => &r[range],
            Self::F32(r) => {
                let r = &r[range];
                let buffer = &mut buffer[..r.len()];
                widen_f32(r, buffer);
                buffer
            }
        }
    }
}

/// Whether every value of `r` is zero (either sign; `magnitude` gives a value's bits with
/// the sign bit shifted out): 32 at a time by an OR of those bits, which vectorises, where
/// `all(|v| v == 0.0)` tests one value per step. Components far from a block are often
/// exactly zero there (an `f32` exponential underflows past `-103`), and their whole row was
/// read one by one.
#[inline(always)]
fn all_zero<V: Copy>(r: &[V], magnitude: impl Fn(V) -> u64 + Copy) -> bool {
    r.chunks(32).all(|chunk| chunk.iter().fold(0, |acc, &v| acc | magnitude(v)) == 0)
}

/// `dst[i] = src[i]` widened to `f64`, a whole register of `f64` per conversion on AVX-512 and
/// AVX2: the loop LLVM vectorises where AVX-512 is enabled converts four values at a time
/// into 256-bit registers, which made widening a headline `f32` block's responsibilities
/// ~5 % of an iteration.
///
/// # Panics
///
/// If `dst` is shorter than `src` (a caller's bug).
#[inline]
pub(super) fn widen_f32(src: &[f32], dst: &mut [f64]) {
    let dst = &mut dst[..src.len()];
    #[cfg(target_arch = "x86_64")]
    match crate::kernel::isa::arch() {
        // SAFETY: the dispatch found AVX-512 (AVX2) on this machine.
        pulp::Arch::V4(_) => return unsafe { widen_f32_v4(src, dst) },
        pulp::Arch::V3(_) => return unsafe { widen_f32_v3(src, dst) },
        _ => {}
    }
    for (o, v) in dst.iter_mut().zip(src) {
        *o = f64::from(*v);
    }
}

/// [`widen_f32`] on AVX-512: 8 values a conversion, the tail one by one.
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn widen_f32_v4(src: &[f32], dst: &mut [f64]) {
    use core::arch::x86_64::*;
    assert_eq!(src.len(), dst.len());
    let whole = src.len() / 8 * 8;
    for i in (0..whole).step_by(8) {
        // SAFETY: `i + 8 <= whole <= len` for both slices.
        unsafe {
            let v = _mm512_cvtps_pd(_mm256_loadu_ps(src.as_ptr().add(i)));
            _mm512_storeu_pd(dst.as_mut_ptr().add(i), v);
        }
    }
    for (o, v) in dst[whole..].iter_mut().zip(&src[whole..]) {
        *o = f64::from(*v);
    }
}

/// [`widen_f32`] on AVX2: 4 values a conversion, the tail one by one.
///
/// # Safety
///
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn widen_f32_v3(src: &[f32], dst: &mut [f64]) {
    use core::arch::x86_64::*;
    assert_eq!(src.len(), dst.len());
    let whole = src.len() / 4 * 4;
    for i in (0..whole).step_by(4) {
        // SAFETY: `i + 4 <= whole <= len` for both slices.
        unsafe {
            let v = _mm256_cvtps_pd(_mm_loadu_ps(src.as_ptr().add(i)));
            _mm256_storeu_pd(dst.as_mut_ptr().add(i), v);
        }
    }
    for (o, v) in dst[whole..].iter_mut().zip(&src[whole..]) {
        *o = f64::from(*v);
    }
}

/// Adds `block` into `sums` at once (a [`LaneMoments`] of its own, flushed). `centred` and
/// `weighted` are unused (kept for the callers' signature).
pub fn accumulate_moments(
    sums: MomentSums<'_>,
    block: MomentBlock<'_>,
    centred: &mut [f64],
    weighted: &mut [f64],
) {
    let _ = (centred, weighted);
    let k = sums.counts.len();
    let d = sums.first.len() / k.max(1);
    let mut lanes = LaneMoments::new(sums.full, k, d);
    let mut scratch = MomentScratch::new(d);
    lanes.add_block(sums.shift, block, &mut scratch);
    lanes.flush(sums);
}

/// The textbook sums, one sample at a time: the reference [`accumulate_moments`] is tested
/// against.
pub fn accumulate_reference(sums: MomentSums<'_>, block: MomentBlock<'_>) {
    let MomentSums { full, shift, counts, first, second } = sums;
    let MomentBlock { xt, rw, stride, len } = block;
    let k = counts.len();
    let d = first.len() / k.max(1);
    let x = |at: usize| match xt {
        Columns::F64(xt) => xt[at],
        Columns::F32(xt) => f64::from(xt[at]),
    };
    let mut buffer = [0.0];
    for n in 0..len {
        for c in 0..k {
            let at = c * stride + n;
            let r = rw.get(at..at + 1, &mut buffer)[0];
            counts[c] += r;
            let t: Vec<f64> = (0..d).map(|j| x(j * stride + n) - shift[c * d + j]).collect();
            for i in 0..d {
                first[c * d + i] += r * t[i];
                if full {
                    for j in 0..=i {
                        second[c * d * d + i * d + j] += r * t[i] * t[j];
                    }
                } else {
                    second[c * d + i] += r * t[i] * t[i];
                }
            }
        }
    }
}

/// A leaf's statistics held in SIMD lanes (see the module docs): for each component a slot of
/// [`MAX_LANES`] partial sums per statistic, added to by [`add_block`](Self::add_block) and
/// summed into `f64` statistics by [`flush`](Self::flush).
#[derive(Debug, Clone)]
pub struct LaneMoments {
    full: bool,
    n_components: usize,
    n_features: usize,
    /// Slots per component: `1 + 2d` (diagonal: `N`, `F`, `S`, each in lanes) or, for full
    /// moments, `N` in lanes and then the dense `D x D` matrix `Σ r z zᵀ` (`D = d + 1` rounded
    /// up to 8; column-major, each entry a finished sum over the leaf's samples).
    slots: usize,
    values: AlignedVec<f64>,
    /// Components some block has added to since the last flush (the others' values are
    /// stale: the next block writes them instead of adding).
    touched: Vec<bool>,
    /// One component's lane totals (the flush's scratch).
    totals: Vec<f64>,
    /// The components whose sums are formed around a shared centre (module
    /// `shared_centre`), and the centre.
    centre: SharedCentre,
    /// Where their products lie in a product row.
    layout: ProductLayout,
    /// Whether diagonal members go by product rows and the matrix product (AVX-512, `8 <= d <
    /// 16`, where a fused kernel forms the rows) instead of lanes (`diag_around`).
    diag_rows: bool,
    /// Their sums around the centre, a row of `layout.stride` per component and a last, dummy
    /// row for the ghosts of a partial group (empty until a centre is set).
    around: AlignedVec<f64>,
    /// The permute indices of the packed triangle (`shared_centre::pair_index`) where the
    /// AVX-512 kernel forms the full product rows (`8 <= d < 16`); empty elsewhere.
    pairs: Vec<[[i64; 8]; 2]>,
}

/// Scratch of the full kernel: a row-major copy of (a chunk of) the block with the augmented
/// `1` and zero padding (in `around_panels`, the chunk's centred rows), the padded shift of
/// one component, one row of `z`, and which components the block adds to.
#[derive(Debug, Clone)]
pub struct MomentScratch {
    xr: AlignedVec<f64>,
    shift: AlignedVec<f64>,
    z: AlignedVec<f64>,
    busy: Vec<bool>,
    /// One component's responsibilities widened to `f64` (see [`Responsibilities`]).
    r64: AlignedVec<f64>,
    /// An `f32` block's samples widened to `f64`, where a path reads them so (see
    /// [`Columns`]; empty until needed).
    xt64: AlignedVec<f64>,
    /// Of the busy components, those whose lanes hold nothing yet (their sums start at zero
    /// instead of being loaded).
    fresh: Vec<bool>,
    /// The block's components that share the centre.
    members: Vec<usize>,
    /// Whether each of them holds nothing yet (diagonal: its slots are written, not added to).
    member_fresh: Vec<bool>,
    /// Product rows around the centre (a chunk of whole rows, or one panel's registers of a
    /// chunk's rows in `around_panels`; empty until needed).
    products: AlignedVec<f64>,
    /// The centre, zero-padded to `dense_rows(d)`.
    centre: AlignedVec<f64>,
    /// A group's responsibilities widened to `f64`, and zeros for its ghosts.
    widened: AlignedVec<f64>,
    /// `f32` responsibilities of the block's members of the diagonal kernel around the
    /// centre (`diag_around`), widened once for their count and their sums:
    /// [`BLOCK_ROWS`](super::BLOCK_ROWS) per member, zero-padded to a whole register.
    member_r: AlignedVec<f64>,
    zeros: AlignedVec<f64>,
}

/// Samples per group whose `z` rows are formed before the passes over them (8 KiB of L1 for
/// `d = 15`).
const Z_ROWS: usize = 64;

/// Samples per row-major chunk of the full kernel.
const XR_ROWS: usize = super::BLOCK_ROWS;

/// Length of a row of `z = (x - s, 1, 0...)`: `d + 1` rounded up to the widest register.
fn dense_rows(d: usize) -> usize {
    (d + 1).next_multiple_of(MAX_LANES)
}

impl MomentScratch {
    /// Scratch for `d`-dimensional samples.
    pub fn new(d: usize) -> Self {
        let dp = dense_rows(d);
        Self {
            xr: AlignedVec::new(0.0, XR_ROWS * dp),
            shift: AlignedVec::new(0.0, dp),
            z: AlignedVec::new(0.0, Z_ROWS * dp),
            busy: Vec::new(),
            r64: AlignedVec::new(0.0, super::BLOCK_ROWS),
            xt64: AlignedVec::default(),
            fresh: Vec::new(),
            members: Vec::new(),
            member_fresh: Vec::new(),
            products: AlignedVec::new(0.0, 0),
            centre: AlignedVec::new(0.0, dp),
            widened: AlignedVec::new(0.0, 0),
            zeros: AlignedVec::new(0.0, 0),
            member_r: AlignedVec::new(0.0, 0),
        }
    }

    /// Whether this scratch serves `d`-dimensional samples.
    pub fn fits(&self, d: usize) -> bool {
        self.xr.len() == XR_ROWS * dense_rows(d)
    }
}

impl LaneMoments {
    /// Empty sums for `k` components of `d` features (`full`: full second moments).
    pub fn new(full: bool, k: usize, d: usize) -> Self {
        let slots = if full { 1 + dense_rows(d) * dense_rows(d) / MAX_LANES } else { 1 + 2 * d };
        Self {
            full,
            n_components: k,
            n_features: d,
            slots,
            values: AlignedVec::new(0.0, k * slots * MAX_LANES),
            touched: vec![false; k],
            totals: vec![0.0; slots],
            centre: SharedCentre::none(),
            layout: ProductLayout::new(d, dense_rows(d)),
            diag_rows: false,
            around: AlignedVec::new(0.0, 0),
            pairs: Vec::new(),
        }
    }

    /// Forms the sums of the components `centre` shares around it from the next block on
    /// (module `shared_centre`; [`SharedCentre::none`]: every component around its own shift).
    /// A change of centre is taken only between a flush and the next block.
    pub fn set_centre(&mut self, centre: &SharedCentre) {
        if self.centre == *centre {
            return;
        }
        assert!(!self.touched.contains(&true), "set_centre: the lanes hold unflushed sums");
        let fits = centre.is_none()
            || (centre.centre().len() == self.n_features
                && (0..self.n_components).any(|c| centre.shares(c)));
        self.centre = if fits { centre.clone() } else { SharedCentre::none() };
        let d = self.n_features;
        self.diag_rows = !self.full
            && (8..16).contains(&d)
            && matches!(crate::kernel::isa::arch(), pulp::Arch::V4(_));
        self.layout = if self.diag_rows {
            ProductLayout::diagonal(d, dense_rows(d))
        } else {
            ProductLayout::new(d, dense_rows(d))
        };
        let triangle_v4 = self.full
            && (8..16).contains(&d)
            && matches!(crate::kernel::isa::arch(), pulp::Arch::V4(_));
        self.pairs = if triangle_v4 && !self.centre.is_none() {
            shared_centre::pair_index(d)
        } else {
            Vec::new()
        };
        let rows = self.n_components + 1;
        let by_rows = self.full || self.diag_rows;
        if !self.centre.is_none() && by_rows && self.around.len() != rows * self.layout.stride {
            self.around = AlignedVec::new(0.0, rows * self.layout.stride);
        }
        // Diagonal members add into their lane slots; a last, dummy component's slots take the
        // ghosts of a partial tile (`diag_around`).
        let values = rows * self.slots * MAX_LANES;
        if !self.centre.is_none() && !self.full && self.values.len() < values {
            self.values = AlignedVec::new(0.0, values);
        }
    }

    /// Whether some path reads a block's samples as `f64` columns, so that `f32` ones need a
    /// widened copy ([`Columns`]): full moments read them only through row-major copies or the
    /// fused product rows, which convert as they read, and so do diagonal ones by product
    /// rows when every component shares the centre; the other diagonal paths read columns.
    fn reads_f64_columns(&self) -> bool {
        let rows_only = self.diag_rows
            && !self.centre.is_none()
            && (0..self.n_components).all(|c| self.centre.shares(c));
        !self.full && !rows_only
    }

    /// Whether these lanes serve `k` components of `d` features (`full`: full moments).
    pub fn fits(&self, full: bool, k: usize, d: usize) -> bool {
        self.full == full && self.n_components == k && self.n_features == d
    }

    /// Adds one block (shifted by `shift`, `k x d`) into the lanes.
    pub fn add_block(
        &mut self,
        shift: &[f64],
        block: MomentBlock<'_>,
        scratch: &mut MomentScratch,
    ) {
        debug_assert!(scratch.fits(self.n_features));
        crate::kernel::isa::arch().dispatch(BlockAccumulator {
            lanes: self,
            shift,
            block,
            scratch,
        });
    }

    /// Adds the lanes into `sums` and empties them: each statistic gets one addition, of the
    /// total of its [`MAX_LANES`] lanes in the fixed order of [`lane_total`] (whatever the
    /// instruction set).
    pub fn flush(&mut self, sums: MomentSums<'_>) {
        let MomentSums { full, shift, counts, first, second } = sums;
        debug_assert_eq!(full, self.full);
        if !self.centre.is_none() && (self.full || self.diag_rows) {
            self.flush_around(shift, counts, first, second);
        }
        if !self.full {
            // The instruction sets with a vector lane total of their own.
            #[cfg(target_arch = "x86_64")]
            let (v4, v3) = match crate::kernel::isa::arch() {
                pulp::Arch::V4(v4) => (Some(v4), None),
                pulp::Arch::V3(v3) => (None, Some(v3)),
                _ => (None, None),
            };
            #[cfg(not(target_arch = "x86_64"))]
            let (v4, v3) = (None, None);
            crate::kernel::isa::arch().dispatch(FlushDiag {
                lanes: self,
                v4,
                v3,
                shift,
                counts,
                first,
                second,
            });
            return;
        }
        let d = self.n_features;
        let dp = dense_rows(d);
        #[cfg(target_arch = "x86_64")]
        let v4 = matches!(crate::kernel::isa::arch(), pulp::Arch::V4(_));
        for c in 0..self.n_components {
            // An untouched component's values are stale: the next block overwrites them.
            if !std::mem::take(&mut self.touched[c]) {
                continue;
            }
            let values = &self.values[c * self.slots * MAX_LANES..(c + 1) * self.slots * MAX_LANES];
            counts[c] += lane_total(&values[..MAX_LANES]);
            let dense = &values[MAX_LANES..MAX_LANES + dp * dp];
            let second = &mut second[c * d * d..(c + 1) * d * d];
            let first = &mut first[c * d..(c + 1) * d];
            #[cfg(target_arch = "x86_64")]
            if v4 {
                // SAFETY: the dispatch found AVX-512.
                unsafe { add_dense_v4(dense, d, second, first) };
                continue;
            }
            add_dense(dense, d, second, first);
        }
    }
}

impl LaneMoments {
    /// The flush of the components formed around the shared centre: each touched one's sums
    /// moved to its own shift (module `shared_centre`) and added, one addition per statistic
    /// (compiled for the dispatched instruction set, so its row loops are vectorised).
    fn flush_around(
        &mut self,
        shift: &[f64],
        counts: &mut [f64],
        first: &mut [f64],
        second: &mut [f64],
    ) {
        crate::kernel::isa::arch().dispatch(FlushAround {
            lanes: self,
            shift,
            counts,
            first,
            second,
        });
    }
}

struct FlushAround<'a> {
    lanes: &'a mut LaneMoments,
    shift: &'a [f64],
    counts: &'a mut [f64],
    first: &'a mut [f64],
    second: &'a mut [f64],
}

impl WithSimd for FlushAround<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { lanes, shift, counts, first, second } = self;
        let (d, layout) = (lanes.n_features, lanes.layout);
        let centre = lanes.centre.centre();
        // On AVX-512 for 8 <= d < 16 (full rows: where the centre's permute indices were
        // made; diagonal ones: the product rows), each member's move by registers.
        #[cfg(target_arch = "x86_64")]
        let v4 = matches!(crate::kernel::isa::arch(), pulp::Arch::V4(_))
            && (8..16).contains(&d)
            && (!lanes.pairs.is_empty() || lanes.diag_rows);
        // AVX2, full rows: each member's rows of second moments moved by registers.
        #[cfg(target_arch = "x86_64")]
        let v3 = matches!(crate::kernel::isa::arch(), pulp::Arch::V3(_));
        let mut delta = vec![0.0; d];
        let mut moved = vec![0.0; d];
        for c in 0..lanes.n_components {
            if !lanes.centre.shares(c) || !std::mem::take(&mut lanes.touched[c]) {
                continue;
            }
            let row = &lanes.around[c * layout.stride..(c + 1) * layout.stride];
            #[cfg(target_arch = "x86_64")]
            if v4 {
                let second = if layout.diag {
                    &mut second[c * d..(c + 1) * d]
                } else {
                    &mut second[c * d * d..(c + 1) * d * d]
                };
                // SAFETY: `v4` is only set where the dispatch found AVX-512.
                unsafe {
                    shared_centre::move_member_v4(
                        layout,
                        row,
                        &shift[c * d..(c + 1) * d],
                        centre,
                        &mut counts[c],
                        &mut first[c * d..(c + 1) * d],
                        second,
                    )
                };
                continue;
            }
            let n = row[d];
            let fc = &row[..d];
            for (((dl, m), (&s, &cj)), &f) in
                delta.iter_mut().zip(&mut moved).zip(shift[c * d..].iter().zip(centre)).zip(fc)
            {
                *dl = s - cj;
                *m = f - n * *dl;
            }
            counts[c] += n;
            for (f, m) in first[c * d..(c + 1) * d].iter_mut().zip(&moved) {
                *f += m;
            }
            // S_k = S_c - δ F_cᵀ - F_k δᵀ, entry by entry.
            if layout.diag {
                let sc = &row[layout.second(0, 0)..layout.second(0, 0) + d];
                let target = &mut second[c * d..(c + 1) * d];
                for ((t, &s), ((&f, &dj), &mj)) in
                    target.iter_mut().zip(sc).zip(fc.iter().zip(&delta).zip(&moved))
                {
                    *t += s - dj * f - mj * dj;
                }
                continue;
            }
            let second = &mut second[c * d * d..(c + 1) * d * d];
            #[cfg(target_arch = "x86_64")]
            if v3 {
                // SAFETY: `v3` is only set where the dispatch found AVX2.
                unsafe { shared_centre::move_rows_v3(layout, row, (&delta, &moved), second) };
                continue;
            }
            for i in 0..d {
                let (di, mi) = (delta[i], moved[i]);
                let sc = &row[layout.second(i, 0)..layout.second(i, 0) + i + 1];
                let target = &mut second[i * d..i * d + i + 1];
                for ((t, &s), (&f, &dj)) in target.iter_mut().zip(sc).zip(fc.iter().zip(&delta)) {
                    *t += s - di * f - mi * dj;
                }
            }
        }
    }
}

/// Adds a full flush's dense `dp x dp` matrix (column-major, `dp = dense_rows(d)`; entry
/// `(i, j)`, `i >= j`, is `Σ r z_i z_j`, row `d` holds `Σ r z_j`) into one component's lower
/// triangle of `second` (`d x d`, row-major) and its `first` (`d`): one addition per entry.
fn add_dense(dense: &[f64], d: usize, second: &mut [f64], first: &mut [f64]) {
    let dp = dense_rows(d);
    for i in 0..d {
        for j in 0..=i {
            second[i * d + j] += dense[j * dp + i];
        }
    }
    for j in 0..d {
        first[j] += dense[j * dp + d];
    }
}

/// [`add_dense`] on AVX-512, the same additions: per 8 x 8 tile of the dense matrix on or below
/// its diagonal, the 8 column registers are transposed into rows (three rounds of shuffles),
/// and each row's entries on or left of the diagonal (`j <= i`, `j < d`) are added into
/// `second`'s row `i` — or, for row `d`, into `first` — by one masked load, add and store,
/// instead of a strided scalar addition per entry: 3.1 → 2.1 µs for a headline block's 30
/// components (`d = 15`), against ~45 µs for the block's moments.
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_dense_v4(dense: &[f64], d: usize, second: &mut [f64], first: &mut [f64]) {
    use core::arch::x86_64::*;
    let dp = dense_rows(d);
    assert!(dense.len() >= dp * dp && second.len() >= d * d && first.len() >= d);
    let blocks = dp / MAX_LANES;
    for bi in 0..blocks {
        for bj in 0..=bi {
            // SAFETY: column bj·8 + b < dp and rows bi·8..bi·8 + 8 <= dp of a dp x dp matrix.
            let v: [__m512d; 8] = core::array::from_fn(|b| unsafe {
                _mm512_loadu_pd(dense.as_ptr().add((bj * 8 + b) * dp + bi * 8))
            });
            let rows = transpose_8x8(v);
            let j0 = bj * 8;
            for (a, row) in rows.iter().enumerate() {
                let i = bi * 8 + a;
                // Row i of second takes columns j <= i; row d is first, columns j < d.
                let (target, end) = match i.cmp(&d) {
                    core::cmp::Ordering::Less => (&mut second[i * d..(i + 1) * d], i + 1),
                    core::cmp::Ordering::Equal => (&mut *first, d),
                    core::cmp::Ordering::Greater => break,
                };
                if end <= j0 {
                    continue;
                }
                let count = (end - j0).min(8);
                let mask = ((1u32 << count) - 1) as __mmask8;
                // SAFETY: lanes j0..j0 + count lie in `target` (j0 + count <= end <= its
                // length); masked-off lanes are neither read nor written.
                unsafe {
                    let at = target.as_mut_ptr().add(j0);
                    let sum = _mm512_add_pd(_mm512_maskz_loadu_pd(mask, at), *row);
                    _mm512_mask_storeu_pd(at, mask, sum);
                }
            }
        }
    }
}

/// The transpose of 8 registers of 8 `f64`: `out[a][b] = v[b][a]` (adjacent pairs, then
/// 128-bit lanes twice, as in [`lane_totals_v4`] but keeping every value).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn transpose_8x8(
    v: [core::arch::x86_64::__m512d; 8],
) -> [core::arch::x86_64::__m512d; 8] {
    use core::arch::x86_64::*;
    // t[2p] = [v(2p)[0], v(2p+1)[0], v(2p)[2], v(2p+1)[2], ...], t[2p+1] the odd lanes.
    let t: [__m512d; 8] = core::array::from_fn(|i| {
        let (x, y) = (v[i / 2 * 2], v[i / 2 * 2 + 1]);
        if i % 2 == 0 { _mm512_unpacklo_pd(x, y) } else { _mm512_unpackhi_pd(x, y) }
    });
    // Lanes 0, 2 (0x88) or 1, 3 (0xDD) of each operand's 128-bit lanes.
    let u = [
        _mm512_shuffle_f64x2::<0x88>(t[0], t[2]),
        _mm512_shuffle_f64x2::<0x88>(t[1], t[3]),
        _mm512_shuffle_f64x2::<0xDD>(t[0], t[2]),
        _mm512_shuffle_f64x2::<0xDD>(t[1], t[3]),
        _mm512_shuffle_f64x2::<0x88>(t[4], t[6]),
        _mm512_shuffle_f64x2::<0x88>(t[5], t[7]),
        _mm512_shuffle_f64x2::<0xDD>(t[4], t[6]),
        _mm512_shuffle_f64x2::<0xDD>(t[5], t[7]),
    ];
    [
        _mm512_shuffle_f64x2::<0x88>(u[0], u[4]),
        _mm512_shuffle_f64x2::<0x88>(u[1], u[5]),
        _mm512_shuffle_f64x2::<0x88>(u[2], u[6]),
        _mm512_shuffle_f64x2::<0x88>(u[3], u[7]),
        _mm512_shuffle_f64x2::<0xDD>(u[0], u[4]),
        _mm512_shuffle_f64x2::<0xDD>(u[1], u[5]),
        _mm512_shuffle_f64x2::<0xDD>(u[2], u[6]),
        _mm512_shuffle_f64x2::<0xDD>(u[3], u[7]),
    ]
}

/// The total of one slot's [`MAX_LANES`] lanes, pairwise: `((l0 + l1) + (l2 + l3)) + ((l4 +
/// l5) + (l6 + l7))`. The flush's order on every instruction set (AVX-512 computes it for 8
/// slots at once, [`lane_totals_v4`]).
#[inline(always)]
fn lane_total(l: &[f64]) -> f64 {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// [`lane_total`] of 8 consecutive slots (`l`: 64 values) at once: a transpose-and-add of the
/// 8 registers (adjacent lanes, then 128-bit halves, then 256-bit halves), the same additions
/// in the same order.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lane_totals_v4(v4: pulp::x86::V4, l: &[f64]) -> [f64; MAX_LANES] {
    use core::arch::x86_64::__m512d;
    let f = v4.avx512f;
    let v: [__m512d; 8] = core::array::from_fn(|i| {
        let slot: [f64; MAX_LANES] = l[i * MAX_LANES..(i + 1) * MAX_LANES].try_into().unwrap();
        pulp::cast(slot)
    });
    // [a0 + a1, b0 + b1, a2 + a3, b2 + b3, ...]
    let pairs = |a, b| f._mm512_add_pd(f._mm512_unpacklo_pd(a, b), f._mm512_unpackhi_pd(a, b));
    // 128-bit lanes [a0 + a1, a2 + a3, b0 + b1, b2 + b3]
    let halves = |a, b| {
        f._mm512_add_pd(
            f._mm512_shuffle_f64x2::<0b10_00_10_00>(a, b),
            f._mm512_shuffle_f64x2::<0b11_01_11_01>(a, b),
        )
    };
    let quarters = [pairs(v[0], v[1]), pairs(v[2], v[3]), pairs(v[4], v[5]), pairs(v[6], v[7])];
    let halves4 = [halves(quarters[0], quarters[1]), halves(quarters[2], quarters[3])];
    pulp::cast(halves(halves4[0], halves4[1]))
}

/// [`lane_total`] of 4 consecutive slots (`l`: 32 values) at once on AVX2: horizontal adds
/// of adjacent lanes (`l0 + l1`, `l2 + l3`, and the same of the upper four), the 128-bit
/// halves of two slots' pairs exchanged and added, then the two halves of the slot: the same
/// additions in the same order.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lane_totals_v3(v3: pulp::x86::V3, l: &[f64]) -> [f64; 4] {
    let lower = half_totals_v3(v3, l, 0);
    let upper = half_totals_v3(v3, l, 4);
    pulp::cast(v3.avx._mm256_add_pd(lower, upper))
}

/// `(a + b) + (c + d)` of lanes `offset..offset + 4` (a, b, c, d) of 4 consecutive slots:
/// horizontal adds give `[s0 (a + b), s1 (a + b), s0 (c + d), s1 (c + d)]` and the same for s2,
/// s3; the 128-bit halves are exchanged and added. (Functions, not closures: a closure is
/// compiled without AVX and would call every intrinsic.)
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn half_totals_v3(v3: pulp::x86::V3, l: &[f64], offset: usize) -> core::arch::x86_64::__m256d {
    let f = v3.avx;
    let at = |slot: usize| -> [f64; 4] {
        l[slot * MAX_LANES + offset..slot * MAX_LANES + offset + 4].try_into().unwrap()
    };
    let two = f._mm256_hadd_pd(pulp::cast(at(0)), pulp::cast(at(1)));
    let next = f._mm256_hadd_pd(pulp::cast(at(2)), pulp::cast(at(3)));
    f._mm256_add_pd(
        f._mm256_permute2f128_pd::<0x20>(two, next),
        f._mm256_permute2f128_pd::<0x31>(two, next),
    )
}

/// [`LaneMoments::flush`] of diagonal moments: per touched component, the lane totals of its
/// `1 + 2d` slots, then one addition each into `N`, `F` and `S`.
struct FlushDiag<'a> {
    lanes: &'a mut LaneMoments,
    #[cfg(target_arch = "x86_64")]
    v4: Option<pulp::x86::V4>,
    #[cfg(not(target_arch = "x86_64"))]
    v4: Option<()>,
    #[cfg(target_arch = "x86_64")]
    v3: Option<pulp::x86::V3>,
    #[cfg(not(target_arch = "x86_64"))]
    v3: Option<()>,
    /// The shifts (`k x d`): members of the shared centre are moved to theirs.
    shift: &'a [f64],
    counts: &'a mut [f64],
    first: &'a mut [f64],
    second: &'a mut [f64],
}

impl WithSimd for FlushDiag<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let Self { lanes, v4, v3, shift, counts, first, second } = self;
        let _ = simd;
        let (d, slots) = (lanes.n_features, lanes.slots);
        let LaneMoments { values, touched, totals, centre, .. } = lanes;
        for c in 0..touched.len() {
            // An untouched component's values are stale: the next block overwrites them.
            if !std::mem::take(&mut touched[c]) {
                continue;
            }
            let values = &values[c * slots * MAX_LANES..(c + 1) * slots * MAX_LANES];
            let mut i = 0;
            #[cfg(target_arch = "x86_64")]
            if let Some(v4) = v4 {
                while i + MAX_LANES <= slots {
                    let t = lane_totals_v4(v4, &values[i * MAX_LANES..(i + 8) * MAX_LANES]);
                    totals[i..i + MAX_LANES].copy_from_slice(&t);
                    i += MAX_LANES;
                }
                if i < slots && slots >= MAX_LANES {
                    // The last 8 slots (some done already: the same values again).
                    let last = slots - MAX_LANES;
                    let t = lane_totals_v4(v4, &values[last * MAX_LANES..]);
                    totals[last..slots].copy_from_slice(&t);
                    i = slots;
                }
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(v3) = v3 {
                while i + 4 <= slots {
                    let t = lane_totals_v3(v3, &values[i * MAX_LANES..(i + 4) * MAX_LANES]);
                    totals[i..i + 4].copy_from_slice(&t);
                    i += 4;
                }
            }
            let _ = (v4, v3);
            for i in i..slots {
                totals[i] = lane_total(&values[i * MAX_LANES..(i + 1) * MAX_LANES]);
            }
            if centre.shares(c) {
                // Sums around the centre, moved to the component's shift (module
                // `shared_centre`): F_k = F_c - N δ, S_k = S_c - δ F_c - F_k δ.
                let n = totals[0];
                let (f, s) = totals[1..1 + 2 * d].split_at_mut(d);
                for (((f, s), &sj), &cj) in
                    f.iter_mut().zip(s).zip(&shift[c * d..(c + 1) * d]).zip(centre.centre())
                {
                    let delta = sj - cj;
                    let moved = *f - n * delta;
                    *s = *s - delta * *f - moved * delta;
                    *f = moved;
                }
            }
            // Slot 0 is `N`, 1 + j is `F_j`, 1 + d + j is `S_j`.
            counts[c] += totals[0];
            for (f, t) in first[c * d..(c + 1) * d].iter_mut().zip(&totals[1..=d]) {
                *f += t;
            }
            for (s, t) in second[c * d..(c + 1) * d].iter_mut().zip(&totals[1 + d..1 + 2 * d]) {
                *s += t;
            }
        }
    }
}

struct BlockAccumulator<'a> {
    lanes: &'a mut LaneMoments,
    shift: &'a [f64],
    block: MomentBlock<'a>,
    scratch: &'a mut MomentScratch,
}

/// A [`MomentBlock`] as the paths read it: its samples as `f64` columns (`xt`; empty where
/// no path reads them so, see [`LaneMoments::reads_f64_columns`]) and as they are
/// (`columns`, for the paths that convert as they read).
#[derive(Clone, Copy)]
struct Block<'a> {
    xt: &'a [f64],
    columns: Columns<'a>,
    rw: Responsibilities<'a>,
    stride: usize,
    len: usize,
}

/// The register in lane slot `slot` of `values`.
#[inline(always)]
fn load_slot<S: Simd>(values: &[f64], slot: usize) -> S::f64s {
    let lanes = size_of::<S::f64s>() / 8;
    S::as_simd_f64s(&values[slot * MAX_LANES..slot * MAX_LANES + lanes]).0[0]
}

#[inline(always)]
fn store_slot<S: Simd>(values: &mut [f64], slot: usize, v: S::f64s) {
    let lanes = size_of::<S::f64s>() / 8;
    S::as_mut_simd_f64s(&mut values[slot * MAX_LANES..slot * MAX_LANES + lanes]).0[0] = v;
}

/// `len` values of `x` from `start` in one register, zero-padded.
#[inline(always)]
fn load_partial<S: Simd>(simd: S, x: &[f64]) -> S::f64s {
    let mut buffer = [0.0; MAX_LANES];
    buffer[..x.len()].copy_from_slice(x);
    let lanes = size_of::<S::f64s>() / 8;
    let _ = simd;
    S::as_simd_f64s(&buffer[..lanes]).0[0]
}

impl WithSimd for BlockAccumulator<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let Self { lanes, shift, block, scratch } = self;
        let MomentBlock { xt: columns, rw, stride, len } = block;
        if scratch.r64.len() < len {
            scratch.r64 = AlignedVec::new(0.0, len);
        }
        let (k, d, slots) = (lanes.n_components, lanes.n_features, lanes.slots);
        let width = size_of::<S::f64s>() / 8;
        // `f32` samples widened only where some path reads them in `f64` (see `Columns`).
        let mut xt64 = std::mem::take(&mut scratch.xt64);
        let xt = match columns {
            Columns::F32(_) if !lanes.reads_f64_columns() => &[][..],
            _ => columns.in_f64(d, stride, len, &mut xt64),
        };
        let block = Block { xt, columns, rw, stride, len };
        let whole = len / width;
        let rest = len % width;
        if let Responsibilities::F32(_) = rw
            && !lanes.full
            && !lanes.diag_rows
            && !lanes.centre.is_none()
        {
            // (`grow` does not keep what the buffer held.)
            grow(&mut scratch.member_r, k * super::BLOCK_ROWS);
        }
        for c in 0..k {
            if lanes.centre.shares(c) && (lanes.full || lanes.diag_rows) {
                // Formed around the shared centre, with the block's other members at once (its
                // `N` among the product's sums): here only whether the block adds anything,
                // from the responsibilities as they are (`f32` ones are not widened for it).
                let at = c * stride..c * stride + len;
                let nothing = match rw {
                    Responsibilities::F64(r) => all_zero(&r[at], |v: f64| v.to_bits() << 1),
                    Responsibilities::F32(r) => {
                        all_zero(&r[at], |v: f32| u64::from(v.to_bits() << 1))
                    }
                };
                if !nothing {
                    let fresh = !std::mem::replace(&mut lanes.touched[c], true);
                    scratch.members.push(c);
                    scratch.member_fresh.push(fresh);
                }
                continue;
            }
            let at = c * stride..c * stride + len;
            let r = match rw {
                // A member of the diagonal kernel around the centre: widened where that
                // kernel reads it (zero-padded to a whole register), once for both.
                Responsibilities::F32(_) if !lanes.full && lanes.centre.shares(c) => {
                    let m = scratch.members.len();
                    let buffer =
                        &mut scratch.member_r[m * super::BLOCK_ROWS..][..super::BLOCK_ROWS];
                    buffer[len..len.next_multiple_of(width)].fill(0.0);
                    rw.get(at, buffer)
                }
                _ => rw.get(at, &mut scratch.r64),
            };
            // Σ r over the block, in lanes; the tail zero-padded.
            let (rh, _) = S::as_simd_f64s(&r[..whole * width]);
            let r_tail = load_partial(simd, &r[whole * width..]);
            let weight = {
                let zero = simd.splat_f64s(0.0);
                let mut acc = [zero; 4];
                let mut chunks = rh.chunks_exact(4);
                for chunk in &mut chunks {
                    for l in 0..4 {
                        acc[l] = simd.add_f64s(acc[l], chunk[l]);
                    }
                }
                for &v in chunks.remainder() {
                    acc[0] = simd.add_f64s(acc[0], v);
                }
                acc[1] = simd.add_f64s(acc[1], r_tail);
                simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]))
            };
            if simd.reduce_sum_f64s(weight) == 0.0 {
                // Every r_nk of the block is exactly 0 (they are never negative): the block adds
                // exactly nothing to this component, so skipping it changes no bit.
                continue;
            }
            // A component untouched since the last flush holds stale values: its sums are
            // written instead of added to (the same bits as adding to zeros).
            let fresh = !std::mem::replace(&mut lanes.touched[c], true);
            let member = lanes.centre.shares(c);
            if lanes.full {
                if scratch.busy.len() != k {
                    scratch.busy = vec![false; k];
                    scratch.fresh = vec![false; k];
                }
                scratch.busy[c] = true;
                scratch.fresh[c] = fresh;
            }
            let values = &mut lanes.values[c * slots * MAX_LANES..(c + 1) * slots * MAX_LANES];
            if fresh && width < MAX_LANES {
                // The lanes past the register stay zero for the flush.
                values.fill(0.0);
            }
            let n = if fresh { simd.splat_f64s(0.0) } else { load_slot::<S>(values, 0) };
            let n = simd.add_f64s(n, weight);
            store_slot::<S>(values, 0, n);
            if member {
                // Diagonal moments around the shared centre, with the block's other members.
                scratch.members.push(c);
                scratch.member_fresh.push(fresh);
                continue;
            }
            let s = &shift[c * d..(c + 1) * d];
            if !lanes.full {
                let mut j = 0;
                while j + 4 <= d {
                    diag_group::<S, 4>(simd, values, fresh, d, j, s, xt, rh, r_tail, stride, len);
                    j += 4;
                }
                match d - j {
                    3 => diag_group::<S, 3>(
                        simd, values, fresh, d, j, s, xt, rh, r_tail, stride, len,
                    ),
                    2 => diag_group::<S, 2>(
                        simd, values, fresh, d, j, s, xt, rh, r_tail, stride, len,
                    ),
                    1 => diag_group::<S, 1>(
                        simd, values, fresh, d, j, s, xt, rh, r_tail, stride, len,
                    ),
                    _ => {}
                }
                let _ = rest;
            }
        }
        if !scratch.members.is_empty() {
            if lanes.full || lanes.diag_rows {
                around_block(simd, lanes, block, scratch);
            } else {
                diag_around(simd, lanes, block, scratch);
            }
            scratch.members.clear();
            scratch.member_fresh.clear();
        }
        if lanes.full && scratch.busy.len() == k {
            full_block(simd, lanes, shift, block, scratch);
            scratch.busy.fill(false);
            scratch.fresh.fill(false);
        }
        scratch.xt64 = xt64;
    }
}

/// Diagonal moments of dimensions `j0..j0 + G` of one component: `F_j += Σ r t`,
/// `S_j += Σ r t²` with `t = x_j - s_j`, in the lanes (`fresh`: the lanes are overwritten
/// instead).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn diag_group<S: Simd, const G: usize>(
    simd: S,
    values: &mut [f64],
    fresh: bool,
    d: usize,
    j0: usize,
    s: &[f64],
    xt: &[f64],
    rh: &[S::f64s],
    r_tail: S::f64s,
    stride: usize,
    len: usize,
) {
    let width = size_of::<S::f64s>() / 8;
    let whole = rh.len();
    let mut f = [simd.splat_f64s(0.0); G];
    let mut q = [simd.splat_f64s(0.0); G];
    let mut sv = [simd.splat_f64s(0.0); G];
    let mut xs: [&[S::f64s]; G] = [&[]; G];
    for g in 0..G {
        if !fresh {
            f[g] = load_slot::<S>(values, 1 + j0 + g);
            q[g] = load_slot::<S>(values, 1 + d + j0 + g);
        }
        sv[g] = simd.splat_f64s(s[j0 + g]);
        let row = &xt[(j0 + g) * stride..(j0 + g) * stride + whole * width];
        xs[g] = S::as_simd_f64s(row).0;
    }
    for b in 0..whole {
        let r = rh[b];
        for g in 0..G {
            let t = simd.sub_f64s(xs[g][b], sv[g]);
            let u = simd.mul_f64s(r, t);
            f[g] = simd.add_f64s(f[g], u);
            q[g] = simd.mul_add_e_f64s(u, t, q[g]);
        }
    }
    if len > whole * width {
        for g in 0..G {
            let row = &xt[(j0 + g) * stride + whole * width..(j0 + g) * stride + len];
            // Padded lanes: x = 0, r = 0, so u = 0 · (0 - s) = 0 exactly.
            let t = simd.sub_f64s(load_partial(simd, row), sv[g]);
            let u = simd.mul_f64s(r_tail, t);
            f[g] = simd.add_f64s(f[g], u);
            q[g] = simd.mul_add_e_f64s(u, t, q[g]);
        }
    }
    for g in 0..G {
        store_slot::<S>(values, 1 + j0 + g, f[g]);
        store_slot::<S>(values, 1 + d + j0 + g, q[g]);
    }
}

/// Full moments of the components marked busy, lanes over dimensions: for a chunk of
/// samples, a row-major copy `x_n` with the augmented 1; then per component, per column
/// register `cr` of `z` and group of up to 3 row registers from it, a pass over the samples
/// with `3 x W` accumulators (`W` lanes): `acc[a][c] += (r_n z_n[rows a]) z_n[cr W + c]`, the
/// column values broadcast from a stored copy of `z_n`'s register. The accumulators hold
/// finished sums over the chunk (no horizontal reduction) and are added into the dense matrix.
#[inline(always)]
fn full_block<S: Simd>(
    simd: S,
    lanes: &mut LaneMoments,
    shift: &[f64],
    block: Block<'_>,
    scratch: &mut MomentScratch,
) {
    let Block { columns, rw, stride, len, .. } = block;
    let (k, d, slots) = (lanes.n_components, lanes.n_features, lanes.slots);
    let dp = dense_rows(d);
    let width = size_of::<S::f64s>() / 8;
    // Registers of z that hold 0..=d.
    let registers = (d + 1).div_ceil(width);
    let MomentScratch { xr, shift: sp, z, busy, fresh, r64, .. } = scratch;
    let mut start = 0;
    while start < len {
        let count = XR_ROWS.min(len - start);
        row_major(columns, stride, d, start, count, xr);
        for c in 0..k {
            if !busy[c] {
                continue;
            }
            sp[..d].copy_from_slice(&shift[c * d..(c + 1) * d]);
            sp[d..].fill(0.0);
            let values = &mut lanes.values[c * slots * MAX_LANES..(c + 1) * slots * MAX_LANES];
            let dense = &mut values[MAX_LANES..MAX_LANES + dp * dp];
            let mut first = 0;
            while first < count {
                let group = Z_ROWS.min(count - first);
                // z_n = x_n - s (the augmented 1 and the padding have a zero shift).
                {
                    let (sv, _) = S::as_simd_f64s(sp);
                    let (zv, _) = S::as_mut_simd_f64s(&mut z[..group * dp]);
                    let (xv, _) = S::as_simd_f64s(&xr[first * dp..(first + group) * dp]);
                    let per_row = dp / width;
                    for (zrow, xrow) in zv.chunks_exact_mut(per_row).zip(xv.chunks_exact(per_row)) {
                        for (zo, (&xi, &si)) in zrow.iter_mut().zip(xrow.iter().zip(sv)) {
                            *zo = simd.sub_f64s(xi, si);
                        }
                    }
                }
                let at = c * stride + start + first;
                let r = rw.get(at..at + group, r64);
                // The block's first group of a fresh component overwrites the matrix.
                let zeroed = fresh[c] && start == 0 && first == 0;
                if width == 8 && registers == 2 {
                    // 8 <= d < 16 on AVX-512: the whole triangle in one pass.
                    // Columns 8.. of the second register that the flush reads: those below d
                    // (column d is the augmented 1, whose products with rows >= d are unused,
                    // and the ones past it are padding).
                    let pass = (dp, group, zeroed);
                    match d - 8 {
                        0 => dense_pass_two::<S, 0>(simd, pass, z, r, dense),
                        1 => dense_pass_two::<S, 1>(simd, pass, z, r, dense),
                        2 => dense_pass_two::<S, 2>(simd, pass, z, r, dense),
                        3 => dense_pass_two::<S, 3>(simd, pass, z, r, dense),
                        4 => dense_pass_two::<S, 4>(simd, pass, z, r, dense),
                        5 => dense_pass_two::<S, 5>(simd, pass, z, r, dense),
                        6 => dense_pass_two::<S, 6>(simd, pass, z, r, dense),
                        _ => dense_pass_two::<S, 7>(simd, pass, z, r, dense),
                    }
                    first += group;
                    continue;
                }
                for cr in 0..registers {
                    let mut rg = cr;
                    while rg < registers {
                        let nr = (registers - rg).min(3);
                        let at = Pass { dp, count: group, cr, rg, zeroed };
                        let z = &*z;
                        match (width, nr) {
                            (8, 1) => dense_pass::<S, 1, 8>(simd, at, z, r, dense),
                            (8, 2) => dense_pass::<S, 2, 8>(simd, at, z, r, dense),
                            (8, _) => dense_pass::<S, 3, 8>(simd, at, z, r, dense),
                            (4, 1) => dense_pass::<S, 1, 4>(simd, at, z, r, dense),
                            (4, 2) => dense_pass::<S, 2, 4>(simd, at, z, r, dense),
                            (4, _) => dense_pass::<S, 3, 4>(simd, at, z, r, dense),
                            (_, 1) => dense_pass::<S, 1, 1>(simd, at, z, r, dense),
                            (_, 2) => dense_pass::<S, 2, 1>(simd, at, z, r, dense),
                            (_, _) => dense_pass::<S, 3, 1>(simd, at, z, r, dense),
                        }
                        rg += nr;
                    }
                }
                first += group;
            }
        }
        start += count;
    }
}

/// Samples `start..start + count` of the column-major block `xt` (`d` rows of `stride`) as
/// rows of `dense_rows(d)` values in `xr`: `x_n` (`f32` values widened), the augmented 1,
/// zeros.
fn row_major(xt: Columns<'_>, stride: usize, d: usize, start: usize, count: usize, xr: &mut [f64]) {
    let dp = dense_rows(d);
    let rows: &mut [f64] = &mut xr[..count * dp];
    for row in rows.chunks_exact_mut(dp) {
        row[d] = 1.0;
        row[d + 1..].fill(0.0);
    }
    // Column by column into the rows, by iterators (an index per value cost a bounds check
    // and a slice of the aligned buffer each).
    fn columns<V: Copy>(
        xt: &[V],
        f64_of: impl Fn(V) -> f64,
        (stride, d, start, count, dp): (usize, usize, usize, usize, usize),
        rows: &mut [f64],
    ) {
        for (j, col) in xt.chunks(stride).take(d).enumerate() {
            for (row, &v) in rows.chunks_exact_mut(dp).zip(&col[start..start + count]) {
                row[j] = f64_of(v);
            }
        }
    }
    let shape = (stride, d, start, count, dp);
    match xt {
        Columns::F64(xt) => columns(xt, |v| v, shape, rows),
        Columns::F32(xt) => columns(xt, f64::from, shape, rows),
    }
}

/// Makes `buffer` at least `len` long (its values are scratch: a new one is zeros).
fn grow(buffer: &mut AlignedVec<f64>, len: usize) {
    if buffer.len() < len {
        *buffer = AlignedVec::new(0.0, len);
    }
}

/// Samples per chunk of the diagonal kernel around the shared centre on an instruction set
/// of `width` lanes. AVX-512: 120, so that its `z` and `z²` columns (`2d x 120`, 28 KiB for
/// `d = 15`) stay in L1 (48 KiB on the Xeons measured). AVX2: a whole block (240). On the
/// AMD EPYC (Zen 3, 32 KiB L1) of round ten every chunk's loads and stores of each tile's
/// accumulators cost more than the columns' trips to L2: `examples/moments diag --shared`
/// 13.6 → 12.1 µs per headline block (`f32` 15.1 → 13.5); 64, 80, 96 and 160 rows were slower
/// than 120.
fn diag_rows(width: usize) -> usize {
    if width == 8 { 120 } else { super::BLOCK_ROWS }
}

/// Diagonal moments of the block's members (`scratch.members`) around the shared centre,
/// lanes over samples, into their lane slots (`F_j` at `1 + j`, `S_j` at `1 + d + j`, around
/// the centre; the flush moves them to each member's shift): per chunk of samples the
/// columns `z_j = x_j - c_j` and `z_j²` (zero-padded samples past `len`: `-c_j`, with zero
/// responsibilities), then register tiles of members x columns, `acc[c][q] += r_c p_q`: one
/// load per register of responsibilities and of columns for `CT x QT` fused multiply-adds,
/// where the exact kernel runs a subtraction, a multiply, an add and an FMA per value.
#[inline(always)]
fn diag_around<S: Simd>(
    simd: S,
    lanes: &mut LaneMoments,
    block: Block<'_>,
    scratch: &mut MomentScratch,
) {
    let Block { xt, rw, stride, len, .. } = block;
    let (k, d, slots) = (lanes.n_components, lanes.n_features, lanes.slots);
    let width = size_of::<S::f64s>() / 8;
    // Members per tile: 4 x 6 accumulators, 4 registers of r and one column on AVX-512; 3 x 3
    // (and 3 + 1) within AVX2's 16.
    let ct = if width == 8 { 4 } else { 3 };
    let columns = 2 * d;
    let rows = diag_rows(width);
    grow(&mut scratch.products, columns * rows);
    grow(&mut scratch.widened, ct * rows);
    grow(&mut scratch.zeros, rows);
    let centre = lanes.centre.centre();
    let MomentScratch { products: cols, widened, zeros, members, member_fresh, member_r, .. } =
        scratch;
    let mut start = 0;
    while start < len {
        let count = rows.min(len - start);
        let registers = count.div_ceil(width);
        let padded = registers * width;
        // z and z² columns of the chunk, `rows` apart.
        for j in 0..d {
            let cj = simd.splat_f64s(centre[j]);
            let x = &xt[j * stride + start..j * stride + start + count];
            let (z, rest) = cols[j * rows..].split_at_mut(rows);
            let zz = &mut rest[(d - 1) * rows..d * rows];
            let (zv, _) = S::as_mut_simd_f64s(&mut z[..padded]);
            let (zzv, _) = S::as_mut_simd_f64s(&mut zz[..padded]);
            let (xv, xtail) = S::as_simd_f64s(x);
            for ((zo, zzo), &xi) in zv.iter_mut().zip(zzv.iter_mut()).zip(xv) {
                let t = simd.sub_f64s(xi, cj);
                *zo = t;
                *zzo = simd.mul_f64s(t, t);
            }
            if !xtail.is_empty() {
                let t = simd.sub_f64s(load_partial(simd, xtail), cj);
                zv[registers - 1] = t;
                zzv[registers - 1] = simd.mul_f64s(t, t);
            }
        }
        for (g, (group, fresh)) in members.chunks(ct).zip(member_fresh.chunks(ct)).enumerate() {
            // A group of fresh members starts its sums at zero; in a mixed one (lanes kept
            // over several blocks) the fresh members' slots are zeroed first.
            let zeroed = start == 0 && fresh.iter().all(|&f| f);
            if start == 0 && !zeroed {
                for (&c, _) in group.iter().zip(fresh).filter(|(_, f)| **f) {
                    let at = c * slots * MAX_LANES;
                    lanes.values[at + MAX_LANES..at + slots * MAX_LANES].fill(0.0);
                }
            }
            // The group's responsibilities: in place (f64, whole registers), copied and
            // zero-padded into `widened` (f64, a short last register), or as `add_block`
            // widened them (f32, zero-padded).
            if let Responsibilities::F64(r) = rw
                && padded != count
            {
                for (&c, buffer) in group.iter().zip(widened.chunks_exact_mut(rows)) {
                    let at = c * stride + start;
                    buffer[..count].copy_from_slice(&r[at..at + count]);
                    buffer[count..padded].fill(0.0);
                }
            }
            let mut r: [&[f64]; 6] = [&zeros[..padded]; 6];
            let mut comps = [k; 6];
            for (i, &c) in group.iter().enumerate() {
                r[i] = match rw {
                    Responsibilities::F64(rw) if padded == count => {
                        &rw[c * stride + start..][..padded]
                    }
                    Responsibilities::F64(_) => &widened[i * rows..i * rows + padded],
                    Responsibilities::F32(_) => {
                        &member_r[(g * ct + i) * super::BLOCK_ROWS + start..][..padded]
                    }
                };
                comps[i] = c;
            }
            let at = (slots, rows, registers, zeroed);
            if width == 8 {
                let (r, comps) =
                    ([r[0], r[1], r[2], r[3]], [comps[0], comps[1], comps[2], comps[3]]);
                diag_tiles::<S, 4, 6>(simd, cols, at, r, comps, &mut lanes.values);
            } else {
                let (r, comps) = ([r[0], r[1], r[2]], [comps[0], comps[1], comps[2]]);
                diag_tiles::<S, 3, 3>(simd, cols, at, r, comps, &mut lanes.values);
            }
        }
        start += count;
    }
}

/// All column tiles of one group of `CT` members (`comps`; a ghost is component `k`, the
/// dummy one) over `registers` registers of samples.
#[inline(always)]
fn diag_tiles<S: Simd, const CT: usize, const QT: usize>(
    simd: S,
    cols: &[f64],
    (slots, rows, registers, zeroed): (usize, usize, usize, bool),
    r: [&[f64]; CT],
    comps: [usize; CT],
    values: &mut [f64],
) {
    let columns = slots - 1;
    let mut q = 0;
    while q < columns {
        let at = (q, slots, rows, registers, zeroed);
        match (columns - q).min(QT) {
            n if n == QT => diag_tile::<S, CT, QT>(simd, cols, at, r, comps, values),
            1 => diag_tile::<S, CT, 1>(simd, cols, at, r, comps, values),
            2 => diag_tile::<S, CT, 2>(simd, cols, at, r, comps, values),
            3 => diag_tile::<S, CT, 3>(simd, cols, at, r, comps, values),
            4 => diag_tile::<S, CT, 4>(simd, cols, at, r, comps, values),
            _ => diag_tile::<S, CT, 5>(simd, cols, at, r, comps, values),
        }
        q += QT;
    }
}

/// Slots `1 + q0 .. 1 + q0 + QT` of the `CT` members `comps`, `+= Σ_v r_c[v] p_q[v]` lane by
/// lane over `registers` registers (columns `p_q` of `cols`, `rows` apart).
#[inline(always)]
fn diag_tile<S: Simd, const CT: usize, const QT: usize>(
    simd: S,
    cols: &[f64],
    (q0, slots, rows, registers, zeroed): (usize, usize, usize, usize, bool),
    r: [&[f64]; CT],
    comps: [usize; CT],
    values: &mut [f64],
) {
    let width = size_of::<S::f64s>() / 8;
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; QT]; CT];
    for c in (0..CT).filter(|_| !zeroed) {
        for q in 0..QT {
            acc[c][q] = load_slot::<S>(&values[comps[c] * slots * MAX_LANES..], 1 + q0 + q);
        }
    }
    let p: [&[S::f64s]; QT] = core::array::from_fn(|q| {
        let at = (q0 + q) * rows;
        S::as_simd_f64s(&cols[at..at + registers * width]).0
    });
    let r: [&[S::f64s]; CT] =
        core::array::from_fn(|c| S::as_simd_f64s(&r[c][..registers * width]).0);
    for v in 0..registers {
        let rv: [S::f64s; CT] = core::array::from_fn(|c| r[c][v]);
        for q in 0..QT {
            let pv = p[q][v];
            for c in 0..CT {
                acc[c][q] = simd.mul_add_e_f64s(rv[c], pv, acc[c][q]);
            }
        }
    }
    for c in 0..CT {
        for q in 0..QT {
            store_slot::<S>(&mut values[comps[c] * slots * MAX_LANES..], 1 + q0 + q, acc[c][q]);
        }
    }
}

/// Values of full product rows kept in L2 at once: chunks of `AROUND_VALUES / stride` samples
/// (at most a block, at least 16): 120 samples (130 KB) for `d = 15`. Smaller chunks that fit
/// L1 (32 rows) were slower, 28.7 against 27.1 µs per headline block on an Intel Xeon: each
/// chunk reloads and stores every tile's accumulators. A whole block's rows (261 KB, the
/// size until round ten) fit the Xeons' 2 MiB L2 but crowded the 512 KiB of the AMD EPYC
/// (Zen 3) with the block's other data: `valgrind --tool=cachegrind --LL=524288,8,64` on a
/// full f64 E-step counted 2.78 → 1.47 million misses of such an L2 (80 rows: 1.37), and the
/// E-step's fastest tenth went 53.7 → 51.3 ms (f32 40.6 → 40.0; one thread, in-process
/// alternation, 20 rounds, a busy host).
const AROUND_VALUES: usize = 16_384;

/// Fewest samples per chunk by [`AROUND_VALUES`]; rows too long for that many
/// take [`LONG_ROWS_VALUES`] instead (`d >= 25`).
const AROUND_MIN_ROWS: usize = 48;

/// Values of long full product rows at once (the budget of every `d` before round ten).
const LONG_ROWS_VALUES: usize = 40_000;

/// Values of diagonal product rows at once: chunks of `DIAG_AROUND_VALUES / stride` samples,
/// a multiple of 8 (96 for `d = 15`), whose rows (24 KB) stay in L1 with the group's
/// responsibilities while every group of members reads them; a whole block's rows (61 KB)
/// were streamed from L2 once per group, and evicted the `f32` responsibilities widened for
/// the next group (their stores then missed L1). Headline, one thread, four interleaved
/// rounds: diag f32 6.68 → 6.47 ms per iteration, diag f64 8.88 → 8.52 (48 or 120 rows: the
/// same within the noise).
const DIAG_AROUND_VALUES: usize = 3_072;

/// The sums of the block's components that share the centre (`scratch.members`), added into
/// their rows of `lanes.around`: per chunk of samples, the row-major copy, its product rows
/// around the centre, and the register-tiled product with the members' responsibilities
/// (module `shared_centre`).
#[inline(always)]
fn around_block<S: Simd>(
    simd: S,
    lanes: &mut LaneMoments,
    block: Block<'_>,
    scratch: &mut MomentScratch,
) {
    let Block { columns, rw, stride, len, .. } = block;
    let (k, d) = (lanes.n_components, lanes.n_features);
    let layout = lanes.layout;
    let width = size_of::<S::f64s>() / 8;
    #[cfg(target_arch = "x86_64")]
    if width == 8
        && !layout.diag
        && !lanes.pairs.is_empty()
        && let pulp::Arch::V4(_) = crate::kernel::isa::arch()
    {
        // Full rows on AVX-512 for 8 <= d < 16: by panels that stay in L1.
        around_panels(simd, lanes, block, scratch);
        return;
    }
    let (ct, _) = shared_centre::tile_shape(width);
    let chunk = if layout.diag {
        (DIAG_AROUND_VALUES / layout.stride / 8 * 8).clamp(16, XR_ROWS)
    } else {
        // Whole registers, so that a whole block's chunks are all the fused kernel's.
        let rows = match AROUND_VALUES / layout.stride {
            // Long rows (d >= 25): the budget before round ten, not measured since.
            rows if rows < AROUND_MIN_ROWS => LONG_ROWS_VALUES / layout.stride,
            rows => rows,
        };
        rows.clamp(16, XR_ROWS) / 8 * 8
    };
    grow(&mut scratch.products, chunk * layout.stride);
    // AVX-512: one group's `f32` responsibilities at a time; elsewhere every member's.
    let widened = if width == 8 { ct } else { scratch.members.len().max(ct) };
    grow(&mut scratch.widened, widened * chunk);
    grow(&mut scratch.zeros, chunk);
    scratch.centre[..d].copy_from_slice(lanes.centre.centre());
    scratch.centre[d..].fill(0.0);
    let mut start = 0;
    while start < len {
        let count = chunk.min(len - start);
        // Diagonal rows on AVX-512 (8 <= d < 16) and full ones on AVX2: whole registers of
        // samples by a fused transposing kernel; the rest by the row-major copy. (Full rows on
        // AVX-512 for 8 <= d < 16 went to `around_panels` above.)
        #[cfg(target_arch = "x86_64")]
        let fused = if width == 8 && lanes.diag_rows {
            let fused = count / 8 * 8;
            if let pulp::Arch::V4(_) = crate::kernel::isa::arch() {
                // SAFETY: the dispatch found AVX-512.
                unsafe {
                    shared_centre::centred_rows_v4(
                        d,
                        columns,
                        (stride, start, fused),
                        &scratch.centre,
                        (&mut scratch.products, layout.stride, true),
                    )
                };
                fused
            } else {
                0
            }
        } else if width == 4 && !layout.diag {
            // AVX2: whole groups of 4 samples by the fused transposing kernel.
            if let pulp::Arch::V3(_) = crate::kernel::isa::arch() {
                let fused = count / 4 * 4;
                // SAFETY: the dispatch found AVX2.
                unsafe {
                    shared_centre::products_v3(
                        layout,
                        columns,
                        stride,
                        start,
                        fused,
                        &scratch.centre,
                        &mut scratch.products,
                    )
                };
                fused
            } else {
                0
            }
        } else {
            0
        };
        #[cfg(not(target_arch = "x86_64"))]
        let fused = 0;
        let rest = count - fused;
        row_major(columns, stride, d, start + fused, rest, &mut scratch.xr);
        shared_centre::form_products(
            simd,
            layout,
            &scratch.xr,
            &scratch.centre,
            rest,
            &mut scratch.products[fused * layout.stride..],
        );
        shared_centre::accumulate(
            simd,
            &scratch.products,
            layout.stride,
            count,
            (&scratch.members, &scratch.member_fresh, start == 0),
            (rw, stride, start),
            &mut scratch.widened,
            &scratch.zeros,
            k,
            &mut lanes.around,
        );
        start += count;
    }
}

/// Samples per chunk of [`around_panels`]: its centred rows (15 KiB) and one panel of their
/// product rows (at most 30 KiB) stay in L1 while every group of members reads them.
const PANEL_ROWS: usize = 120;

/// Registers of a product row per panel of [`around_panels`] (the tiles' `VT` on AVX-512).
const PANEL_REGISTERS: usize = 4;

/// [`around_block`]'s full moments on AVX-512 for `8 <= d < 16`, by panels: per chunk of
/// [`PANEL_ROWS`] samples the centred rows are formed once ([`shared_centre::centred_rows_v4`]),
/// then for each panel of the product rows (the columns of one register tile, at most
/// [`PANEL_REGISTERS`] registers) its registers are formed for the chunk
/// ([`shared_centre::panel_products_v4`]) and every group of members accumulates them
/// ([`shared_centre::accumulate_panel`]). The whole product rows of a block (261 KB for
/// `d = 15`) were written to L2 and read back; a panel is written and read in L1. The same
/// products and the same sums in the same order, so the same bits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn around_panels<S: Simd>(
    simd: S,
    lanes: &mut LaneMoments,
    block: Block<'_>,
    scratch: &mut MomentScratch,
) {
    let Block { columns, rw, stride, len, .. } = block;
    let d = lanes.n_features;
    let layout = lanes.layout;
    let dp = layout.dp;
    let registers = layout.stride / MAX_LANES;
    let members = scratch.members.len();
    grow(&mut scratch.products, PANEL_ROWS * PANEL_REGISTERS * MAX_LANES);
    grow(&mut scratch.widened, members * PANEL_ROWS);
    grow(&mut scratch.zeros, PANEL_ROWS);
    scratch.centre[..d].copy_from_slice(lanes.centre.centre());
    scratch.centre[d..].fill(0.0);
    let mut start = 0;
    while start < len {
        let count = PANEL_ROWS.min(len - start);
        let fused = count / 8 * 8;
        // SAFETY: the caller's dispatch found AVX-512.
        unsafe {
            shared_centre::centred_rows_v4(
                d,
                columns,
                (stride, start, fused),
                &scratch.centre,
                (&mut scratch.xr, dp, false),
            )
        };
        if count > fused {
            // The last samples of a short block: copied row by row, then centred (the same
            // subtractions).
            let rows = &mut scratch.xr[fused * dp..count * dp];
            row_major(columns, stride, d, start + fused, count - fused, rows);
            for row in rows.chunks_exact_mut(dp) {
                for (v, c) in row.iter_mut().zip(&scratch.centre[..dp]) {
                    *v -= c;
                }
            }
        }
        if let Responsibilities::F32(_) = rw {
            for (&c, buffer) in scratch.members.iter().zip(scratch.widened.chunks_exact_mut(count))
            {
                let at = c * stride + start;
                rw.get(at..at + count, buffer);
            }
        }
        for (first, n) in shared_centre::even_tiles(registers, PANEL_REGISTERS) {
            let at = (count, first, first == 0);
            let from = (rw, stride, start);
            // SAFETY: the caller's dispatch found AVX-512.
            match n {
                4 => unsafe { panel::<S, 4>(simd, lanes, scratch, at, from) },
                3 => unsafe { panel::<S, 3>(simd, lanes, scratch, at, from) },
                2 => unsafe { panel::<S, 2>(simd, lanes, scratch, at, from) },
                _ => unsafe { panel::<S, 1>(simd, lanes, scratch, at, from) },
            }
        }
        start += count;
    }
}

/// One panel of [`around_panels`]: registers `first..first + N` of the chunk's `count` product
/// rows formed from its centred rows (`scratch.xr`), then accumulated by every group of the
/// block's members (`clear`: the block's first panel; `from`: the responsibilities, their
/// stride and the chunk's first sample).
///
/// # Safety
///
/// The processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn panel<S: Simd, const N: usize>(
    simd: S,
    lanes: &mut LaneMoments,
    scratch: &mut MomentScratch,
    (count, first, clear): (usize, usize, bool),
    from: (Responsibilities<'_>, usize, usize),
) {
    let MomentScratch { xr, products, members, member_fresh, widened, zeros, .. } = scratch;
    let layout = lanes.layout;
    // SAFETY: the caller's bound.
    unsafe {
        shared_centre::panel_products_v4::<N>(
            &xr[..count * layout.dp],
            count,
            &lanes.pairs,
            first,
            products,
        )
    };
    shared_centre::accumulate_panel::<S, N>(
        simd,
        products,
        (count, first, layout.stride),
        (members, member_fresh, from.2 == 0, clear),
        from,
        widened,
        zeros,
        lanes.n_components,
        &mut lanes.around,
    );
}

/// [`dense_pass`] for the whole triangle of two 8-lane registers at once (`9 <= d + 1 <= 16`
/// on AVX-512): columns 0-7 on both row registers, columns `8..8 + HIGH` (those below `d`) on
/// the second. The columns from `d` on are never read by the flush (column `d` holds the
/// augmented 1, whose products with rows `>= d` give only `N`, counted apart), so they are not
/// computed: for `d = 15`, 15 broadcasts and 23 FMAs per sample instead of 16 and 24.
#[inline(always)]
fn dense_pass_two<S: Simd, const HIGH: usize>(
    simd: S,
    (dp, count, zeroed): (usize, usize, bool),
    z: &[f64],
    r: &[f64],
    dense: &mut [f64],
) {
    const W: usize = 8;
    let zero = simd.splat_f64s(0.0);
    let mut low = [[zero; W]; 2];
    let mut high = [zero; HIGH];
    for b in (0..W).filter(|_| !zeroed) {
        for a in 0..2 {
            let at = b * dp + a * W;
            low[a][b] = S::as_simd_f64s(&dense[at..at + W]).0[0];
        }
    }
    for b in (0..HIGH).filter(|_| !zeroed) {
        let at = (W + b) * dp + W;
        high[b] = S::as_simd_f64s(&dense[at..at + W]).0[0];
    }
    for n in 0..count {
        let row = &z[n * dp..(n + 1) * dp];
        let (zv, _) = S::as_simd_f64s(row);
        let rv = simd.splat_f64s(r[n]);
        let q = [simd.mul_f64s(rv, zv[0]), simd.mul_f64s(rv, zv[1])];
        for b in 0..W {
            let zb = simd.splat_f64s(row[b]);
            low[0][b] = simd.mul_add_e_f64s(q[0], zb, low[0][b]);
            low[1][b] = simd.mul_add_e_f64s(q[1], zb, low[1][b]);
            if b < HIGH {
                let zh = simd.splat_f64s(row[W + b]);
                high[b] = simd.mul_add_e_f64s(q[1], zh, high[b]);
            }
        }
    }
    for b in 0..W {
        for a in 0..2 {
            let at = b * dp + a * W;
            S::as_mut_simd_f64s(&mut dense[at..at + W]).0[0] = low[a][b];
        }
    }
    for (b, high) in high.iter().enumerate() {
        let at = (W + b) * dp + W;
        S::as_mut_simd_f64s(&mut dense[at..at + W]).0[0] = *high;
    }
}

/// Where a pass of [`dense_pass`] works: row length `dp`, `count` rows of `z`, column
/// register `cr`, first row register `rg`.
#[derive(Clone, Copy)]
struct Pass {
    dp: usize,
    count: usize,
    cr: usize,
    rg: usize,
    /// Whether the accumulators start at zero (the matrix holds nothing yet).
    zeroed: bool,
}

/// One pass over a group of samples' rows of `z`: `NR` row registers from `rg` x the `W`
/// columns of register `cr` (see [`full_block`]), the accumulators taken from and returned to
/// the dense matrix; the column values are broadcast from memory (a load each, no shuffle).
#[inline(always)]
fn dense_pass<S: Simd, const NR: usize, const W: usize>(
    simd: S,
    at: Pass,
    z: &[f64],
    r: &[f64],
    dense: &mut [f64],
) {
    let Pass { dp, count, cr, rg, zeroed } = at;
    debug_assert_eq!(W, size_of::<S::f64s>() / 8);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; W]; NR];
    for b in (0..W).filter(|_| !zeroed) {
        for a in 0..NR {
            let at = (cr * W + b) * dp + (rg + a) * W;
            acc[a][b] = S::as_simd_f64s(&dense[at..at + W]).0[0];
        }
    }
    for n in 0..count {
        let row = &z[n * dp..(n + 1) * dp];
        let (zv, _) = S::as_simd_f64s(row);
        let rv = simd.splat_f64s(r[n]);
        let mut q = [zero; NR];
        for a in 0..NR {
            q[a] = simd.mul_f64s(rv, zv[rg + a]);
        }
        let columns = &row[cr * W..cr * W + W];
        for b in 0..W {
            let zb = simd.splat_f64s(columns[b]);
            for a in 0..NR {
                acc[a][b] = simd.mul_add_e_f64s(q[a], zb, acc[a][b]);
            }
        }
    }
    for b in 0..W {
        for a in 0..NR {
            let at = (cr * W + b) * dp + (rg + a) * W;
            S::as_mut_simd_f64s(&mut dense[at..at + W]).0[0] = acc[a][b];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD kernel against the per-sample reference on every instruction set the machine
    /// has: blocks of one sample, under a register, not a multiple of any SIMD width, and full;
    /// `d` from 1 to 39 (every remainder of the groups of 4); `k = 1`; both layouts; entries
    /// past `len` NaN (they must not be read); several blocks kept in the lanes before one
    /// flush, and the one-block form.
    #[test]
    fn block_moments_match_the_reference() {
        for isa in crate::kernel::isa::available() {
            crate::kernel::isa::with_isa(isa, block_moments_case);
        }
    }

    fn block_moments_case() {
        let stride = 240;
        for &(d, k, len) in &[
            (1, 1, 1),
            (1, 3, 7),
            (2, 1, 240),
            (3, 4, 239),
            (15, 5, 100),
            (7, 2, 17),
            (4, 2, 240),
            (16, 3, 233),
            (39, 2, 97),
            // d = 8..=15 on AVX-512: the one-pass triangle with 0 and 3 columns past 8.
            (8, 2, 61),
            (11, 3, 240),
        ] {
            for full in [false, true] {
                let value = |i: usize| ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7;
                let mut xt: Vec<f64> = (0..d * stride).map(value).collect();
                let mut rw: Vec<f64> =
                    (0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0).collect();
                for row in 0..d {
                    xt[row * stride + len..(row + 1) * stride].fill(f64::NAN);
                }
                for row in 0..k {
                    rw[row * stride + len..(row + 1) * stride].fill(f64::NAN);
                }
                // A component with no weight in the block (it is skipped).
                if k > 1 {
                    rw[stride..stride + len].fill(0.0);
                }
                let shift: Vec<f64> = (0..k * d).map(|i| value(i * 3 + 1) * 0.5).collect();
                let second_len = if full { k * d * d } else { k * d };
                let mut fast = (vec![0.0; k], vec![0.0; k * d], vec![0.0; second_len]);
                let mut lane = fast.clone();
                let mut slow = fast.clone();
                let (mut centred, mut weighted) = (vec![0.0; d * stride], vec![0.0; d * stride]);
                let block = MomentBlock {
                    xt: Columns::F64(&xt),
                    rw: Responsibilities::F64(&rw),
                    stride,
                    len,
                };
                let mut lanes = LaneMoments::new(full, k, d);
                let mut scratch = MomentScratch::new(d);
                for _ in 0..3 {
                    let sums = MomentSums {
                        full,
                        shift: &shift,
                        counts: &mut fast.0,
                        first: &mut fast.1,
                        second: &mut fast.2,
                    };
                    accumulate_moments(sums, block, &mut centred, &mut weighted);
                    lanes.add_block(&shift, block, &mut scratch);
                    let sums = MomentSums {
                        full,
                        shift: &shift,
                        counts: &mut slow.0,
                        first: &mut slow.1,
                        second: &mut slow.2,
                    };
                    accumulate_reference(sums, block);
                }
                let sums = MomentSums {
                    full,
                    shift: &shift,
                    counts: &mut lane.0,
                    first: &mut lane.1,
                    second: &mut lane.2,
                };
                lanes.flush(sums);
                // Flushing empties the lanes.
                let mut again = (vec![0.0; k], vec![0.0; k * d], vec![0.0; second_len]);
                let sums = MomentSums {
                    full,
                    shift: &shift,
                    counts: &mut again.0,
                    first: &mut again.1,
                    second: &mut again.2,
                };
                lanes.flush(sums);
                assert!(again.0.iter().chain(&again.1).chain(&again.2).all(|v| *v == 0.0));
                // f32 responsibilities, widened by the kernel: the bits of the same values
                // widened beforehand (NaN past `len` included, never read).
                let rw32: Vec<f32> = rw.iter().map(|&v| v as f32).collect();
                let widened: Vec<f64> = rw32.iter().map(|&v| f64::from(v)).collect();
                let mut by_precision = Vec::new();
                for rw in [Responsibilities::F32(&rw32), Responsibilities::F64(&widened)] {
                    let block = MomentBlock { xt: Columns::F64(&xt), rw, stride, len };
                    let mut sums = (vec![0.0; k], vec![0.0; k * d], vec![0.0; second_len]);
                    let mut lanes = LaneMoments::new(full, k, d);
                    lanes.add_block(&shift, block, &mut MomentScratch::new(d));
                    lanes.flush(MomentSums {
                        full,
                        shift: &shift,
                        counts: &mut sums.0,
                        first: &mut sums.1,
                        second: &mut sums.2,
                    });
                    let bits: Vec<u64> =
                        sums.0.iter().chain(&sums.1).chain(&sums.2).map(|v| v.to_bits()).collect();
                    by_precision.push(bits);
                }
                assert_eq!(by_precision[0], by_precision[1], "f32 full={full} d={d} k={k}");
                let tol = 1e-13 * len as f64;
                for got in [&fast, &lane] {
                    for (name, a, b) in [
                        ("counts", &got.0, &slow.0),
                        ("first", &got.1, &slow.1),
                        ("second", &got.2, &slow.2),
                    ] {
                        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                            assert!(
                                (x - y).abs() <= tol * (1.0 + y.abs()),
                                "full={full} d={d} k={k} len={len} {name}[{i}]: {x} vs {y}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The AVX-512 dense flush adds exactly what the scalar one adds, bit for bit: `d` under,
    /// at and over one and two 8 x 8 tiles (`d + 1` a multiple of 8 or not), values of mixed
    /// magnitude and sign, and targets that already hold sums.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn dense_flush_on_avx512_matches_the_scalar_one() {
        if !matches!(crate::kernel::isa::arch(), pulp::Arch::V4(_)) {
            return;
        }
        let value =
            |i: usize| ((i * 7919 % 1013) as f64 / 101.0 - 5.0) * 1.3e3f64.powi((i % 7) as i32 - 3);
        for d in [1, 2, 6, 7, 8, 9, 14, 15, 16, 17, 23, 24, 31, 39] {
            let dp = dense_rows(d);
            let dense: Vec<f64> = (0..dp * dp).map(value).collect();
            let second: Vec<f64> = (0..d * d).map(|i| value(i + 77) * 0.5).collect();
            let first: Vec<f64> = (0..d).map(|i| value(i + 5) * 2.0).collect();
            let (mut s1, mut f1) = (second.clone(), first.clone());
            let (mut s2, mut f2) = (second.clone(), first.clone());
            add_dense(&dense, d, &mut s1, &mut f1);
            // SAFETY: checked above that the machine has AVX-512.
            unsafe { add_dense_v4(&dense, d, &mut s2, &mut f2) };
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&s1), bits(&s2), "second, d = {d}");
            assert_eq!(bits(&f1), bits(&f2), "first, d = {d}");
            // The upper triangle is left as it was.
            for i in 0..d {
                for j in i + 1..d {
                    assert_eq!(s2[i * d + j].to_bits(), second[i * d + j].to_bits());
                }
            }
        }
    }

    /// `all_zero` against `all(|v| v == 0.0)`: rows of zeros of either sign, of lengths around
    /// its chunk of 32, with one value changed to the smallest subnormal, a NaN, a one or a
    /// negative zero at every position.
    #[test]
    fn all_zero_is_the_test_of_every_value() {
        for len in [0, 1, 31, 32, 33, 64, 100] {
            for spot in 0..len {
                for odd in [f64::from_bits(1), f64::NAN, 1.0, -0.0] {
                    let mut r: Vec<f64> =
                        (0..len).map(|i| if i % 3 == 0 { -0.0 } else { 0.0 }).collect();
                    r[spot] = odd;
                    let expected = r.iter().all(|&v| v == 0.0);
                    assert_eq!(all_zero(&r, |v: f64| v.to_bits() << 1), expected, "{len} {spot}");
                    let r32: Vec<f32> = r
                        .iter()
                        .map(|&v| if v.to_bits() == 1 { f32::from_bits(1) } else { v as f32 })
                        .collect();
                    let expected = r32.iter().all(|&v| v == 0.0);
                    let got = all_zero(&r32, |v: f32| u64::from(v.to_bits() << 1));
                    assert_eq!(got, expected, "f32 {len} {spot}");
                }
            }
        }
    }

    /// `Columns::in_f64` gives each value's own `f64` on every instruction set (`f32` ones by
    /// `widen_f32`, `f64` ones in place): lengths 0, 1, under, at and over a register of
    /// either width, values of every magnitude (subnormal, huge, negative zero) and both
    /// precisions.
    #[test]
    fn widen_converts_every_value() {
        let value = |i: usize| {
            let v = ((i * 7919 % 1013) as f32 / 101.0 - 5.0) * 1e3f32.powi((i % 9) as i32 - 4);
            match i % 11 {
                3 => -0.0,
                7 => f32::MIN_POSITIVE / 8.0,
                _ => v,
            }
        };
        for isa in crate::kernel::isa::available() {
            crate::kernel::isa::with_isa(isa, || {
                for len in [0, 1, 3, 7, 8, 9, 15, 16, 17, 33, 240] {
                    // One row of a block's stride, its first `len` values widened.
                    let stride = 240;
                    let mut buffer = AlignedVec::new(f64::NAN, stride);
                    let src: Vec<f32> = (0..stride).map(value).collect();
                    let dst = Columns::F32(&src).in_f64(1, stride, len, &mut buffer);
                    for (o, v) in dst[..len].iter().zip(&src) {
                        assert_eq!(o.to_bits(), f64::from(*v).to_bits(), "{isa:?}, len {len}");
                    }
                    let src: Vec<f64> = src.iter().map(|&v| f64::from(v) / 3.0).collect();
                    let dst = Columns::F64(&src).in_f64(1, stride, len, &mut buffer);
                    assert!(dst.iter().zip(&src).all(|(o, v)| o.to_bits() == v.to_bits()));
                }
            });
        }
    }

    /// The diagonal flush against its definition (the sum of each slot's lanes) within
    /// rounding, and bit for bit the same on every instruction set (the fixed pairwise order):
    /// `d = 1` and `k = 1` included, slot counts under, at and over 8 registers' worth, an
    /// untouched component left out, and lanes emptied by the flush.
    #[test]
    fn diagonal_flush_matches_the_lane_sums() {
        for &(d, k) in &[(1, 1), (1, 3), (3, 2), (4, 1), (15, 3), (20, 2)] {
            let mut lanes = LaneMoments::new(false, k, d);
            let value = |i: usize| {
                ((i * 7919 % 1013) as f64 / 101.0 - 5.0) * 1.3e3f64.powi((i % 5) as i32 - 2)
            };
            let fill = |lanes: &mut LaneMoments| {
                for (i, v) in lanes.values.iter_mut().enumerate() {
                    *v = value(i);
                }
                lanes.touched.fill(true);
                if k > 1 {
                    lanes.touched[1] = false;
                }
            };
            let mut expect = (vec![0.5; k], vec![0.25; k * d], vec![1.0; k * d]);
            fill(&mut lanes);
            for c in (0..k).filter(|&c| lanes.touched[c]) {
                let slot = |i: usize| -> f64 {
                    let at = (c * lanes.slots + i) * MAX_LANES;
                    lanes.values[at..at + MAX_LANES].iter().sum()
                };
                expect.0[c] += slot(0);
                for j in 0..d {
                    expect.1[c * d + j] += slot(1 + j);
                    expect.2[c * d + j] += slot(1 + d + j);
                }
            }
            let mut results = Vec::new();
            for isa in crate::kernel::isa::available() {
                fill(&mut lanes);
                let mut got = (vec![0.5; k], vec![0.25; k * d], vec![1.0; k * d]);
                crate::kernel::isa::with_isa(isa, || {
                    let sums = MomentSums {
                        full: false,
                        shift: &[],
                        counts: &mut got.0,
                        first: &mut got.1,
                        second: &mut got.2,
                    };
                    lanes.flush(sums);
                });
                assert!(lanes.touched.iter().all(|t| !t), "{isa:?}: the flush empties the lanes");
                for (x, y) in got
                    .0
                    .iter()
                    .chain(&got.1)
                    .chain(&got.2)
                    .zip(expect.0.iter().chain(&expect.1).chain(&expect.2))
                {
                    // Rounding of 8 additions of lanes up to `largest`.
                    let largest = lanes.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    assert!(
                        (x - y).abs() <= 8.0 * f64::EPSILON * 8.0 * largest,
                        "{isa:?} d={d} k={k}: {x} vs {y}"
                    );
                }
                results.push((isa, got));
            }
            for (isa, got) in &results[1..] {
                assert_eq!(got, &results[0].1, "{isa:?} against {:?} d={d} k={k}", results[0].0);
            }
        }
    }
}
