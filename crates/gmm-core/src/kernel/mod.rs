//! Blocked log-density kernels.
//!
//! # The maths
//!
//! For every sample `x_n` of a block and every component `k` the kernels compute
//!
//! ```text
//! ℓ_nk = log w_k + log N(x_n | μ_k, Σ_k)
//!      = log w_k - ½ d log 2π + log det U_k - ½ ‖U_kᵀ (x_n - μ_k)‖²
//! ```
//!
//! with `U_k` the precision Cholesky factor (`diag(1/σ_k)` for diagonal covariances), then the
//! per-sample log-likelihood `log p(x_n) = logsumexp_k ℓ_nk` (shifted by the maximum, so no
//! `exp` ever sees an unshifted log-density) and, where EM needs them, responsibilities
//! `r_nk = exp(ℓ_nk - log p(x_n))`.
//!
//! # Current implementation
//!
//! Samples are processed in blocks of [`BLOCK_ROWS`] rows (240: a multiple of every SIMD width,
//! and not a power of two, which avoids cache-set aliasing between the columns of a block). A
//! block is transposed into a column-major scratch (`d x BLOCK_ROWS`, by gather instructions on
//! AVX-512 and register transposes on AVX2; a short last block is padded with zeros to a
//! multiple of [`PAD_ROWS`]),
//! so every kernel runs SIMD lanes over *samples*: this works for any `d`, including `d = 1`,
//! and needs no masked tails. Kernels compute only the registers that hold the block's
//! [`len`](BlockScratch::len) samples, so a short block (the last of a pass, an online
//! mini-batch's tail) costs its own length rather than a whole block; entries past the padded length are left as they were and must not be
//! read. Each lane is computed independently of the others, so a sample's values do not
//! depend on the block's length. Results are written component-major
//! (`k x BLOCK_ROWS`), which keeps the log-sum-exp over components vectorised too.
//!
//! * [`diag`]: `Σ_j (x_j - μ_j)² / σ²_j` with four independent accumulators per component;
//!   spherical models use it with their variances broadcast.
//! * [`cholesky`]: `y_j = Σ_{i≤j} U_ij x_i - (Uᵀμ)_j` (the mean folded into the start value)
//!   and `Σ_j y_j²` by fused multiply-adds in 4 x 3 (AVX-512) or 4 x 2 register tiles; tied
//!   models share one `U`.
//! * [`exp`]: the vectorised exponential of the log-sum-exp;
//! * [`selection`]: Gaussian selection, the components each sample keeps (the best `C`, or
//!   those within a beam of the best), from a block's log-densities;
//! * [`selected`]: log-likelihoods over selected components only, `O(C d)` per sample.
//!
//! Kernels are sequential; parallelism lives one level up, over ranges of blocks: a
//! [`BlockPass`] loads every block into a per-thread cached [`BlockScratch`], lets the caller
//! run the kernels on it and reduces the results by the fixed tree of [`crate::par`]. Instruction sets are chosen at run time by `pulp` (AVX-512, AVX2+FMA or
//! scalar). [`reference`](mod@reference) holds the naive per-sample formulas the tests compare against.

pub mod aligned;
pub mod block_pass;
pub mod cholesky;
pub mod diag;
pub mod exp;
pub mod isa;
pub mod lanes;
pub mod moments;
pub mod reference;
pub mod selected;
pub mod selection;
pub mod shared_centre;

pub use aligned::AlignedVec;
pub use block_pass::BlockPass;

use crate::data::Samples;
use crate::mixture::{GaussianMixture, Precision};
use crate::real::Real;

/// Rows per block (see the module docs for the choice).
pub const BLOCK_ROWS: usize = 240;

/// A short block is zero-padded to a multiple of this many rows: the widest register
/// (AVX-512, 16 lanes of `f32`), so the kernels' last register never reads stale samples.
pub const PAD_ROWS: usize = 16;

/// Runs a SIMD kernel on an instruction set: `pulp::Arch` (normally [`isa::arch`], the best
/// the machine has or the one forced), or in tests a chosen one ([`isa::Isa`]).
pub(crate) trait Dispatch {
    /// Runs `op` compiled for this instruction set.
    fn dispatch<Op: pulp::WithSimd>(&self, op: Op) -> Op::Output;
}

impl Dispatch for pulp::Arch {
    #[inline(always)]
    fn dispatch<Op: pulp::WithSimd>(&self, op: Op) -> Op::Output {
        pulp::Arch::dispatch(*self, op)
    }
}

/// Number of blocks needed for `n` samples.
pub fn n_blocks(n: usize) -> usize {
    n.div_ceil(BLOCK_ROWS)
}

/// Caller-owned scratch for one block: the transposed samples, the `k x BLOCK_ROWS`
/// log-densities (or responsibilities) and per-sample log-likelihoods.
#[derive(Debug, Clone)]
pub struct BlockScratch<T> {
    /// Samples of the block, column-major `d x BLOCK_ROWS`, zero-padded to a multiple of
    /// [`PAD_ROWS`] rows (entries past that are stale).
    pub xt: AlignedVec<T>,
    /// `ℓ_nk` (after [`log_likelihoods_and_responsibilities`], `r_nk`), component-major;
    /// the kernels write the first `len` entries of each row (and a few past them, up to a
    /// whole register), the rest is stale.
    pub log_density: AlignedVec<T>,
    /// Per-sample `log p(x_n)` (first `len` entries; the rest is stale).
    pub log_likelihood: AlignedVec<T>,
    /// Rows in the current block (the rest is padding).
    pub len: usize,
    /// The next block's rows, still to be prefetched: `(address, bytes)` (an address, not a
    /// pointer, so the scratch stays `Send`; see [`prefetch_some`](Self::prefetch_some)).
    to_prefetch: (usize, usize),
}

/// Block rows (`len x d`, row-major) into the first `len` values of `d` columns of
/// [`BLOCK_ROWS`]: a register of a column per gather instruction on AVX-512 (a scalar strided
/// copy cost ~2 cycles per value, a third of a diagonal f64 iteration's data stage), by
/// register transposes on AVX2 (whose gathers are slow on AMD's Zen 3), value by value
/// elsewhere.
fn transpose<T: Real>(rows: &[T], xt: &mut [T], d: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use pulp::Arch::{V3, V4};
        let arch = crate::kernel::isa::arch();
        // SAFETY (each call): the dispatch found the instruction set the function needs.
        match (T::as_f64_slice(rows), arch) {
            (Some(rows), V4(_)) => unsafe {
                gather_v4_f64(rows, bytemuck::cast_slice_mut(xt), d, len)
            },
            (Some(rows), V3(_)) => unsafe {
                transpose_v3_f64(rows, bytemuck::cast_slice_mut(xt), d, len)
            },
            (None, V4(_)) => unsafe {
                gather_v4_f32(bytemuck::cast_slice(rows), bytemuck::cast_slice_mut(xt), d, len)
            },
            (None, V3(_)) => unsafe {
                transpose_v3_f32(bytemuck::cast_slice(rows), bytemuck::cast_slice_mut(xt), d, len)
            },
            _ => transpose_by_value(rows, xt, d, len),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    transpose_by_value(rows, xt, d, len);
}

/// [`transpose`] of `f64` rows on AVX2 by 4 x 4 register transposes: per 4 samples, their rows
/// are read a register at a time (4 values of each, contiguous), transposed by two unpacks and
/// two 128-bit permutes per pair, and stored as a register of each of the 4 columns. Where a
/// register would run past the end of `rows` (the block's last samples' last columns) and for
/// the samples past the last whole 4, value by value. Registers that run past the end of a row
/// read the next row's first values, which go nowhere (the columns past `d` are not stored).
///
/// The AVX2 gathers this replaces (`vgatherqpd`, 4 values each) cost 2.9-3.1 ms per headline
/// pass of loads alone on the AMD EPYC (Zen 3) of round ten, against 1.1 ms for this
/// (`f32`, 8 x 8: 1.1 → 0.63 ms); a diag f64 E-step 19.9 → 19.4 ms, f32 16.5 → 16.1 (one
/// thread, in-process alternation, a busy host).
///
/// # Safety
///
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_v3_f64(rows: &[f64], xt: &mut [f64], d: usize, len: usize) {
    use std::arch::x86_64::*;
    assert!(rows.len() >= len * d && xt.len() >= d * BLOCK_ROWS && len <= BLOCK_ROWS);
    let whole = len / 4;
    for g in 0..whole {
        let base = 4 * g * d;
        let mut j0 = 0;
        // Every register read lies in `rows`: its last sample's 4 values from `j0` do.
        while j0 < d && base + 3 * d + j0 + 4 <= rows.len() {
            // SAFETY: the loop's condition bounds the reads; the stores are at columns
            // `j0 + q < d`, samples `4g..4g + 4 <= len <= BLOCK_ROWS`, within `xt` (asserted).
            unsafe {
                let p = rows.as_ptr().add(base + j0);
                let (a, b) = (_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(d)));
                let (c, e) = (_mm256_loadu_pd(p.add(2 * d)), _mm256_loadu_pd(p.add(3 * d)));
                let columns = transpose_4x4_v3([a, b, c, e]);
                for (q, column) in columns.into_iter().enumerate().take(d - j0) {
                    _mm256_storeu_pd(xt.as_mut_ptr().add((j0 + q) * BLOCK_ROWS + 4 * g), column);
                }
            }
            j0 += 4;
        }
        for j in j0..d {
            for i in 0..4 {
                xt[j * BLOCK_ROWS + 4 * g + i] = rows[(4 * g + i) * d + j];
            }
        }
    }
    for b in whole * 4..len {
        for j in 0..d {
            xt[j * BLOCK_ROWS + b] = rows[b * d + j];
        }
    }
}

/// The 4 x 4 transpose of four registers of `f64` (`out[q][i] = rows[i][q]`): two unpacks
/// per pair, then the 128-bit halves. Shared by the block loads and the product rows (AVX2
/// functions, which call it without `unsafe`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn transpose_4x4_v3(
    [a, b, c, e]: [std::arch::x86_64::__m256d; 4],
) -> [std::arch::x86_64::__m256d; 4] {
    use std::arch::x86_64::*;
    // a0 b0 a2 b2, a1 b1 a3 b3, c0 e0 c2 e2, c1 e1 c3 e3.
    let (t0, t1) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
    let (t2, t3) = (_mm256_unpacklo_pd(c, e), _mm256_unpackhi_pd(c, e));
    [
        _mm256_permute2f128_pd::<0x20>(t0, t2),
        _mm256_permute2f128_pd::<0x20>(t1, t3),
        _mm256_permute2f128_pd::<0x31>(t0, t2),
        _mm256_permute2f128_pd::<0x31>(t1, t3),
    ]
}

/// [`transpose`] of `f32` rows on AVX2 by 8 x 8 register transposes (unpacks, in-lane
/// shuffles, then 128-bit permutes), like [`transpose_v3_f64`] with 8 samples and 8 columns
/// per register.
///
/// # Safety
///
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_v3_f32(rows: &[f32], xt: &mut [f32], d: usize, len: usize) {
    use std::arch::x86_64::*;
    assert!(rows.len() >= len * d && xt.len() >= d * BLOCK_ROWS && len <= BLOCK_ROWS);
    let whole = len / 8;
    for g in 0..whole {
        let base = 8 * g * d;
        let mut j0 = 0;
        // Every register read lies in `rows`: its last sample's 8 values from `j0` do.
        while j0 < d && base + 7 * d + j0 + 8 <= rows.len() {
            // SAFETY: the loop's condition bounds the reads; the stores are at columns
            // `j0 + q < d`, samples `8g..8g + 8 <= len <= BLOCK_ROWS`, within `xt` (asserted).
            unsafe {
                let p = rows.as_ptr().add(base + j0);
                let r: [__m256; 8] = core::array::from_fn(|i| _mm256_loadu_ps(p.add(i * d)));
                let t: [__m256; 8] = core::array::from_fn(|i| {
                    let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
                    if i % 2 == 0 { _mm256_unpacklo_ps(a, b) } else { _mm256_unpackhi_ps(a, b) }
                });
                // u[q] (q < 4): column q (and q + 4 in the upper half) of samples 0-3; u[4 + q]:
                // of samples 4-7.
                let u: [__m256; 8] = core::array::from_fn(|i| {
                    let (h, q) = (i / 4 * 4, i % 4);
                    let (a, b) = (t[h + q / 2], t[h + 2 + q / 2]);
                    if q % 2 == 0 {
                        _mm256_shuffle_ps::<0x44>(a, b)
                    } else {
                        _mm256_shuffle_ps::<0xEE>(a, b)
                    }
                });
                for q in 0..8.min(d - j0) {
                    let column = if q < 4 {
                        _mm256_permute2f128_ps::<0x20>(u[q], u[4 + q])
                    } else {
                        _mm256_permute2f128_ps::<0x31>(u[q - 4], u[q])
                    };
                    _mm256_storeu_ps(xt.as_mut_ptr().add((j0 + q) * BLOCK_ROWS + 8 * g), column);
                }
            }
            j0 += 8;
        }
        for j in j0..d {
            for i in 0..8 {
                xt[j * BLOCK_ROWS + 8 * g + i] = rows[(8 * g + i) * d + j];
            }
        }
    }
    for b in whole * 8..len {
        for j in 0..d {
            xt[j * BLOCK_ROWS + b] = rows[b * d + j];
        }
    }
}

/// [`transpose`] one value at a time.
fn transpose_by_value<T: Real>(rows: &[T], xt: &mut [T], d: usize, len: usize) {
    for (j, col) in xt.chunks_exact_mut(BLOCK_ROWS).take(d).enumerate() {
        for (b, dst) in col[..len].iter_mut().enumerate() {
            *dst = rows[b * d + j];
        }
    }
}

/// Zeros rows `len..padded` of the `d` columns of a block.
fn zero_padding<T: Real>(xt: &mut [T], d: usize, len: usize, padded: usize) {
    for col in xt.chunks_exact_mut(BLOCK_ROWS).take(d) {
        col[len..padded].fill(T::ZERO);
    }
}

/// A [`transpose`] by gathers: `$lanes` rows of a column per instruction, the rows past the
/// last whole register one by one. Each function is compiled for its instruction set (a
/// closure would not be, hence the macro).
macro_rules! gather_transpose {
    ($($doc:literal $name:ident, $t:ty, $feature:literal, $lanes:literal, $index:ty,
     |$base:ident, $offsets:ident| $gather:expr, $load_index:ident, $store:ident;)*) => {$(
        #[doc = $doc]
        ///
        /// # Safety
        ///
        /// The processor must have the instruction set named in `target_feature`.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        unsafe fn $name(rows: &[$t], xt: &mut [$t], d: usize, len: usize) {
            #[allow(unused_imports)]
            use std::arch::x86_64::*;
            let whole = len / $lanes;
            // Row `i` of a register is `i d` values on (a block spans far less than the
            // index type holds).
            let index: [$index; $lanes] = core::array::from_fn(|i| (i * d) as $index);
            // SAFETY: `index` holds exactly one register of indices.
            let $offsets = unsafe { $load_index(index.as_ptr().cast()) };
            for (j, col) in xt.chunks_exact_mut(BLOCK_ROWS).take(d).enumerate() {
                for (g, out) in col[..whole * $lanes].chunks_exact_mut($lanes).enumerate() {
                    // Every value read is rows[(lanes g + i) d + j], i < lanes, and
                    // (lanes g + i) d + j < len d = rows.len().
                    let $base = rows[$lanes * g * d + j..].as_ptr();
                    // SAFETY: base + offsets[i] is rows[(lanes g + i) d + j], in bounds
                    // (above), and `out` holds exactly one register.
                    unsafe { $store(out.as_mut_ptr(), $gather) };
                }
                for (b, out) in col[..len].iter_mut().enumerate().skip(whole * $lanes) {
                    *out = rows[b * d + j];
                }
            }
        }
    )*};
}

// Name, element, instruction set, lanes, index type; the gather; the index load; the store.
gather_transpose! {
    "`f64` rows, AVX-512: 8 per gather." gather_v4_f64, f64, "avx512f", 8, i64,
        |base, offsets| _mm512_i64gather_pd::<8>(offsets, base), _mm512_loadu_si512, _mm512_storeu_pd;
    "`f32` rows, AVX-512: 16 per gather." gather_v4_f32, f32, "avx512f", 16, i32,
        |base, offsets| _mm512_i32gather_ps::<4>(offsets, base), _mm512_loadu_si512, _mm512_storeu_ps;
}

impl<T: Real> BlockScratch<T> {
    /// Whether this scratch has the shape for `n_features` and `n_components`.
    pub fn fits(&self, n_features: usize, n_components: usize) -> bool {
        self.xt.len() == n_features * BLOCK_ROWS
            && self.log_density.len() == n_components * BLOCK_ROWS
    }

    /// Scratch for `n_features`-dimensional samples and `n_components` components.
    pub fn new(n_features: usize, n_components: usize) -> Self {
        Self {
            xt: AlignedVec::new(T::ZERO, n_features * BLOCK_ROWS),
            log_density: AlignedVec::new(T::ZERO, n_components * BLOCK_ROWS),
            log_likelihood: AlignedVec::new(T::ZERO, BLOCK_ROWS),
            len: 0,
            to_prefetch: (0, 0),
        }
    }

    /// The component with the largest `log_density` for sample `b` of the block (the lowest
    /// index on ties).
    pub fn most_probable(&self, n_components: usize, b: usize) -> usize {
        let mut best = 0;
        for c in 1..n_components {
            if self.log_density[c * BLOCK_ROWS + b] > self.log_density[best * BLOCK_ROWS + b] {
                best = c;
            }
        }
        best
    }

    /// `(Σ_n w_n log p(x_n), Σ_n w_n)` over the loaded block, from `log_likelihood`; `weights`
    /// are the block's own sample weights (`None`: all 1).
    pub fn log_likelihood_sums(&self, weights: Option<&[f64]>) -> (f64, f64) {
        let values = &self.log_likelihood[..self.len];
        match weights {
            Some(w) => (
                values.iter().zip(w).map(|(l, w)| l.to_f64() * w).sum(),
                w[..self.len].iter().sum(),
            ),
            None => (values.iter().map(|l| l.to_f64()).sum(), self.len as f64),
        }
    }

    /// Transposes block `block` of `x` into [`xt`](Self::xt), padding with zeros to a multiple
    /// of [`PAD_ROWS`] rows.
    pub fn load(&mut self, x: Samples<'_, T>, block: usize) {
        let d = x.n_features();
        let start = block * BLOCK_ROWS;
        let len = BLOCK_ROWS.min(x.n_samples() - start);
        let padded = len.next_multiple_of(PAD_ROWS).min(BLOCK_ROWS);
        let rows = &x.as_slice()[start * d..(start + len) * d];
        transpose(rows, &mut self.xt, d, len);
        zero_padding(&mut self.xt, d, len, padded);
        self.len = len;
        let next = &x.as_slice()[(start + len) * d..];
        let next = &next[..next.len().min(BLOCK_ROWS * d)];
        self.to_prefetch = (next.as_ptr() as usize, size_of_val(next));
        self.prefetch_some(PREFETCH_PARTS);
    }

    /// Asks the processor to bring the next `1 / parts` of the rows of the block after this
    /// one into the L2 cache (`parts`: how many calls are left in this block, the last one
    /// taking what remains), without waiting for them.
    ///
    /// [`load`](Self::load) starts it and the density and log-sum-exp stages continue it, so
    /// the misses of the next block are spread over this block's work: the block is computed
    /// on for tens of microseconds, long enough for the lines to arrive, and the next load
    /// finds them in L2 instead of waiting on L3 or memory line after line (it reads the block
    /// column by column, which the hardware prefetchers do not run far enough ahead of). All
    /// of a block's lines at once would stall on the processor's few outstanding-miss
    /// buffers. A pass that does not load the next block in order (online EM's shuffled rows)
    /// has nothing to prefetch.
    #[inline]
    pub fn prefetch_some(&mut self, parts: usize) {
        let (address, bytes) = self.to_prefetch;
        let now = bytes.div_ceil(parts.max(1)).next_multiple_of(64).min(bytes);
        #[cfg(target_arch = "x86_64")]
        for offset in (0..now).step_by(64) {
            use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
            // SAFETY: a prefetch is a hint that never faults or reads into the program,
            // whatever the address (this one is the next block's, or past it if the data went).
            unsafe { _mm_prefetch::<_MM_HINT_T1>((address + offset) as *const i8) };
        }
        self.to_prefetch = (address + now, bytes - now);
    }

    /// Transposes the rows `rows` of `x` (at most [`BLOCK_ROWS`] of them, in that order) into
    /// [`xt`](Self::xt), padded like [`load`](Self::load): the block a copy of those rows would
    /// give, without the copy (online EM's shuffled mini-batches).
    ///
    /// # Panics
    ///
    /// If `rows` holds more than [`BLOCK_ROWS`] indices or an index out of range for `x`.
    pub fn load_rows(&mut self, x: Samples<'_, T>, rows: &[usize]) {
        let d = x.n_features();
        let len = rows.len();
        assert!(len <= BLOCK_ROWS, "a block holds at most {BLOCK_ROWS} rows, not {len}");
        let padded = len.next_multiple_of(PAD_ROWS).min(BLOCK_ROWS);
        // Scattered rows miss the cache. A first pass that only reads each row's first and last
        // value is a few instructions per row, so the processor has the misses of many rows in
        // flight at once; the transposition below then finds them in cache (this halves the
        // cost of loading a shuffled block).
        let mut touched = T::ZERO;
        for &i in rows {
            let row = x.row(i);
            touched = touched + row[0] + row[d - 1];
        }
        std::hint::black_box(touched);
        for (b, &i) in rows.iter().enumerate() {
            for (j, &v) in x.row(i).iter().enumerate() {
                self.xt[j * BLOCK_ROWS + b] = v;
            }
        }
        zero_padding(&mut self.xt, d, len, padded);
        self.len = len;
        self.to_prefetch = (0, 0);
    }
}

/// Calls of [`BlockScratch::prefetch_some`] per block: in the load, after the densities,
/// after the log-sum-exp.
const PREFETCH_PARTS: usize = 3;

/// Fills `scratch.log_density` with `ℓ_nk = log w_k + log N(x_n | k)` for the loaded block, or
/// with `log N(x_n | k)` alone when `with_weights` is false.
pub fn log_densities<T: Real>(
    model: &GaussianMixture<T>,
    scratch: &mut BlockScratch<T>,
    with_weights: bool,
) {
    let arch = crate::kernel::isa::arch();
    let d = model.n_features();
    let zeros;
    let constants = if with_weights {
        model.log_weights()
    } else {
        zeros = vec![T::ZERO; model.n_components()];
        &zeros
    };
    match model.precision() {
        Precision::InverseVariances { inverse, root, scaled_means } => {
            arch.dispatch(diag::DiagKernel {
                xt: &scratch.xt,
                n_features: d,
                means: model.means(),
                inverse_variances: inverse,
                scaled: (!root.is_empty()).then_some((root.as_slice(), scaled_means.as_slice())),
                constants,
                log_norms: model.log_normalisers(),
                out: &mut scratch.log_density,
                rows: scratch.len,
            })
        }
        Precision::Cholesky { padded, minus_folded, .. } => {
            arch.dispatch(cholesky::CholeskyKernel {
                xt: &scratch.xt,
                n_features: d,
                means: model.means(),
                factors: padded,
                constants,
                log_norms: model.log_normalisers(),
                minus_folded,
                out: &mut scratch.log_density,
                rows: scratch.len,
            })
        }
    }
    scratch.prefetch_some(PREFETCH_PARTS - 1);
}

/// Log-sum-exp over components: fills `scratch.log_likelihood` from `scratch.log_density`
/// for the block's `scratch.len` samples (whole registers). With `responsibilities`, also
/// replaces `ℓ_nk` by `r_nk = exp(ℓ_nk - log p(x_n))`.
///
/// `log p(x_n) = m_n + ln Σ_k exp(ℓ_nk - m_n)` with `m_n = max_k ℓ_nk`; the shifted
/// exponentials ([`exp`]) are kept and divided by their sum, one `exp` per entry, and the `ln`
/// is vectorised too ([`exp::ln_f64s`]). Four registers of samples go through the components
/// together, their maxima and sums held in registers.
pub fn log_likelihoods_and_responsibilities<T: Real>(
    n_components: usize,
    scratch: &mut BlockScratch<T>,
    responsibilities: bool,
) {
    crate::kernel::isa::arch().dispatch(LogSumExp {
        log_density: &mut scratch.log_density,
        n_components,
        out: &mut scratch.log_likelihood,
        responsibilities,
        rows: scratch.len,
    });
    scratch.prefetch_some(1);
}

/// The log-sum-exp kernel, SIMD over samples.
struct LogSumExp<'a, T> {
    log_density: &'a mut [T],
    n_components: usize,
    out: &'a mut [T],
    responsibilities: bool,
    /// Samples in the block: only the registers holding them are computed.
    rows: usize,
}

impl<T: Real> pulp::WithSimd for LogSumExp<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        let Self { log_density, n_components: k, out, responsibilities, rows } = self;
        let lanes = T::lanes::<S>();
        let regs = BLOCK_ROWS / lanes;
        // Whole registers holding the block's samples.
        let active = rows.min(BLOCK_ROWS).div_ceil(lanes);
        let (values, _) = T::as_mut_simd::<S>(&mut log_density[..k * BLOCK_ROWS]);
        let (out, _) = T::as_mut_simd::<S>(&mut out[..active * lanes]);
        let mut r = 0;
        while r + LSE_GROUP <= active {
            lse_group::<T, S, LSE_GROUP>(simd, values, k, regs, r, out, responsibilities);
            r += LSE_GROUP;
        }
        while r < active {
            lse_group::<T, S, 1>(simd, values, k, regs, r, out, responsibilities);
            r += 1;
        }
    }
}

/// Registers of samples the log-sum-exp carries through the components together.
const LSE_GROUP: usize = 4;

/// The log-sum-exp of `G` registers of samples from register `r`: the maximum, the sum of
/// shifted exponentials (kept as responsibilities when asked) and `m + ln Σ`, each over the
/// components with the `G` running values in registers.
#[inline(always)]
fn lse_group<T: Real, S: pulp::Simd, const G: usize>(
    simd: S,
    values: &mut [T::V<S>],
    k: usize,
    regs: usize,
    r: usize,
    out: &mut [T::V<S>],
    responsibilities: bool,
) {
    let mut max = [values[r]; G];
    for (i, m) in max.iter_mut().enumerate() {
        *m = values[r + i];
    }
    for c in 1..k {
        for i in 0..G {
            max[i] = T::simd_max(simd, max[i], values[c * regs + r + i]);
        }
    }
    let mut sums = [T::simd_splat(simd, T::ZERO); G];
    for c in 0..k {
        for i in 0..G {
            let v = &mut values[c * regs + r + i];
            let e = T::simd_exp(simd, T::simd_sub(simd, *v, max[i]));
            sums[i] = T::simd_add(simd, sums[i], e);
            if responsibilities {
                *v = e;
            }
        }
    }
    if responsibilities {
        let one = T::simd_splat(simd, T::from_f64(1.0));
        let mut inverse = sums;
        for i in 0..G {
            inverse[i] = T::simd_div(simd, one, sums[i]);
        }
        for c in 0..k {
            for i in 0..G {
                let v = &mut values[c * regs + r + i];
                *v = T::simd_mul(simd, *v, inverse[i]);
            }
        }
    }
    for i in 0..G {
        out[r + i] = T::simd_add(simd, max[i], T::simd_ln(simd, sums[i]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;

    /// Bit-for-bit equality.
    fn same<T: Real>(a: &[T], b: &[T]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(u, v)| u.to_f64().to_bits() == v.to_f64().to_bits())
    }

    /// The kernels on a short block (`len < BLOCK_ROWS`, its scratch full of stale NaNs past
    /// the padding) against the same rows in a whole block: every value of the short block's
    /// rows has the same bits, for `load` and `load_rows`, both precisions, all covariance
    /// types, `d = 1`, `k = 1` and lengths that are not a multiple of any SIMD width.
    fn short_blocks_match_whole_ones<T: Real>() {
        for (case, &(d, k)) in [(1, 1), (1, 3), (2, 1), (5, 4), (15, 30)].iter().enumerate() {
            for t in CovarianceType::ALL {
                let model = GaussianMixture::<T>::random(t, k, d, 2.0, 7 + case as u64).unwrap();
                let (x, _) = model.sample(BLOCK_ROWS, 3 + case as u64).unwrap();
                let x = x.samples();
                let mut whole = BlockScratch::new(d, k);
                whole.load(x, 0);
                log_densities(&model, &mut whole, true);
                let mut densities = whole.clone();
                log_likelihoods_and_responsibilities(k, &mut whole, true);
                log_likelihoods_and_responsibilities(k, &mut densities, false);
                for len in [1, 3, 5, 16, 17, 40, 100, 239] {
                    let order: Vec<usize> = (0..len).collect();
                    for by_index in [false, true] {
                        let what = format!("{} {t} d={d} k={k} len={len}", T::NAME);
                        let nan = T::from_f64(f64::NAN);
                        let mut short = BlockScratch::new(d, k);
                        short.xt.fill(nan);
                        short.log_density.fill(nan);
                        short.log_likelihood.fill(nan);
                        if by_index {
                            short.load_rows(x, &order);
                        } else {
                            let rows = Samples::new(&x.as_slice()[..len * d], d).unwrap();
                            short.load(rows, 0);
                        }
                        assert_eq!(short.len, len, "{what}");
                        log_densities(&model, &mut short, true);
                        for c in 0..k {
                            let at = c * BLOCK_ROWS..c * BLOCK_ROWS + len;
                            let (a, b) =
                                (&short.log_density[at.clone()], &densities.log_density[at]);
                            assert!(same(a, b), "{what}");
                        }
                        let mut plain = short.clone();
                        log_likelihoods_and_responsibilities(k, &mut plain, false);
                        log_likelihoods_and_responsibilities(k, &mut short, true);
                        for s in [&plain, &short] {
                            let (a, b) = (&s.log_likelihood[..len], &whole.log_likelihood[..len]);
                            assert!(same(a, b), "{what}");
                        }
                        for c in 0..k {
                            let at = c * BLOCK_ROWS..c * BLOCK_ROWS + len;
                            let (a, b) = (&short.log_density[at.clone()], &whole.log_density[at]);
                            assert!(same(a, b), "{what}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn short_blocks_match_whole_ones_f64() {
        short_blocks_match_whole_ones::<f64>();
    }

    #[test]
    fn short_blocks_match_whole_ones_f32() {
        short_blocks_match_whole_ones::<f32>();
    }

    /// `load` (gathers on AVX-512, register transposes on AVX2) against the textbook transposition, on every
    /// instruction set the machine has, both precisions: `d` from 1 to past a register, blocks
    /// of every length around the gather widths, the last block of the data included (a
    /// gather must not read past the rows), the padding zeroed.
    fn loads_transpose<T: Real>() {
        for isa in crate::kernel::isa::Isa::available() {
            for d in [1, 2, 3, 5, 8, 15, 16, 17] {
                for n in
                    [1, 4, 7, 8, 9, 15, 16, 17, 33, BLOCK_ROWS, BLOCK_ROWS + 1, 2 * BLOCK_ROWS + 13]
                {
                    let values: Vec<T> =
                        (0..n * d).map(|i| T::from_f64(i as f64 * 0.25 - 3.0)).collect();
                    let x = Samples::new(&values, d).unwrap();
                    let mut scratch = BlockScratch::<T>::new(d, 1);
                    for block in 0..n.div_ceil(BLOCK_ROWS) {
                        scratch.xt.fill(T::from_f64(f64::NAN));
                        crate::kernel::isa::with_isa(isa, || scratch.load(x, block));
                        let len = BLOCK_ROWS.min(n - block * BLOCK_ROWS);
                        assert_eq!(scratch.len, len);
                        let padded = len.next_multiple_of(PAD_ROWS).min(BLOCK_ROWS);
                        for j in 0..d {
                            for b in 0..padded {
                                let expected = if b < len {
                                    values[(block * BLOCK_ROWS + b) * d + j]
                                } else {
                                    T::ZERO
                                };
                                let got = scratch.xt[j * BLOCK_ROWS + b];
                                assert!(
                                    got.to_f64().to_bits() == expected.to_f64().to_bits(),
                                    "{isa:?} d {d} n {n} block {block} ({b}, {j})"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn loads_transpose_in_both_precisions() {
        loads_transpose::<f64>();
        loads_transpose::<f32>();
    }

    #[test]
    fn load_rows_gathers_like_a_copy() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 3, 1.0, 1).unwrap();
        let (x, _) = model.sample(50, 2).unwrap();
        let x = x.samples();
        let order: Vec<usize> = (0..37).map(|i| (i * 17 + 5) % 50).collect();
        let copy: Vec<f64> = order.iter().flat_map(|&i| x.row(i).to_vec()).collect();
        let (mut a, mut b) = (BlockScratch::new(3, 2), BlockScratch::new(3, 2));
        a.load_rows(x, &order);
        b.load(Samples::new(&copy, 3).unwrap(), 0);
        assert_eq!(a.len, 37);
        assert_eq!(a.xt, b.xt);
    }
}
