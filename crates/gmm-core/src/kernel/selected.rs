//! Scoring chosen components (after Gaussian selection): for frames `x_t` and a list of
//! components per frame, `log p(x_t)` over those components only,
//!
//! ```text
//! log p(x_t) ≈ logsumexp_{k ∈ S_t} ℓ_k(x_t),     ℓ_k(x) = log w_k + log N(x | μ_k, Σ_k),
//! ```
//!
//! at a cost of `O(|S_t| d)` per frame instead of `O(K d)`.
//!
//! # Overview
//!
//! * [`SelectedTable`]: one model's parameters as the scorer reads them;
//! * [`SelectedScratch`]: a thread's buffers for one block of frames;
//! * [`score_selected`]: `log p(x_t)` of a block of frames under several models, frame-major;
//! * [`log_sum_exp_segments`]: per-frame log-sum-exps over the frames' segments of one flat
//!   array (also the UBM side of a selection).
//!
//! # Current implementation
//!
//! Diagonal models (and spherical ones, through their broadcast inverse variances) are read
//! from a table in the model's precision, `[μ_k, 1/σ²_k]` per component zero-padded to a
//! multiple of [`ROW_PAD`] dimensions (a zero inverse variance adds nothing; `f32` tables for
//! `f32` models halve the cache lines), frames padded the same way. The quadratic form
//! `Σ_j (x_j - μ_j)² / σ²_j` is accumulated in [`ROW_PAD`] partial sums — sum `l` takes the
//! dimensions `j ≡ l (mod ROW_PAD)` in increasing order, whatever the SIMD width, with a
//! multiply and an add (no fused multiply-add) — held in registers over the row and added
//! after a group of 64 entries in one fixed halving order,
//! `((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7))`. So a value does not depend on the instruction
//! set. Full and tied models are evaluated per entry in `f64` from the precision Cholesky
//! factor (`‖Uᵀ(x - μ)‖²`).
//!
//! The log-sum-exp of a frame's segment is shifted by the segment's maximum, and the
//! exponentials of the whole block are taken together by the SIMD [`exp`](super::exp) (value
//! buffers are padded to a multiple of [`ENTRY_PAD`] entries, so no entry falls into a scalar
//! tail). A segment of `-inf` values only (weight-zero components) gives `-inf`.

use std::ops::Range;

use super::{BLOCK_ROWS, Dispatch};
use crate::covariance::CovarianceType;
use crate::data::Samples;
use crate::mixture::GaussianMixture;
use crate::real::Real;

/// Value buffers are padded to a multiple of this many entries: a multiple of every `f64` SIMD
/// width `pulp` may pick, so [`log_sum_exp_segments`] exponentiates whole registers only.
pub const ENTRY_PAD: usize = 8;

/// Padding of frames and diagonal tables, and the number of partial sums of a quadratic form.
pub const ROW_PAD: usize = 8;

/// Entries (frame, component) whose partial sums are held before they are reduced.
const GROUP_ENTRIES: usize = 64;

/// `n` rounded up to a multiple of [`ENTRY_PAD`]: the length of a value buffer for `n`
/// entries.
pub fn padded_entries(n: usize) -> usize {
    n.div_ceil(ENTRY_PAD) * ENTRY_PAD
}

/// One model's parameters as [`score_selected`] reads them (see the [module docs](self)).
#[derive(Debug, Clone)]
pub enum SelectedTable<'a, T: Real> {
    /// Diagonal or spherical: per component `[μ (dp), 1/σ² (dp)]` contiguous in the model's
    /// precision, zero-padded to `dp` (a multiple of [`ROW_PAD`]), and
    /// `log w_k + log normaliser_k` in `f64`.
    Diag {
        /// `k x 2 dp` values.
        table: Vec<T>,
        /// `k` constants.
        constants: Vec<f64>,
        /// `d` rounded up to a multiple of [`ROW_PAD`].
        dp: usize,
    },
    /// Full or tied: evaluated from the model.
    General(&'a GaussianMixture<T>),
}

impl<'a, T: Real> SelectedTable<'a, T> {
    /// The table of `model`.
    pub fn new(model: &'a GaussianMixture<T>) -> Self {
        let Some(inverse) = model.inverse_variances() else {
            return Self::General(model);
        };
        let (k, d) = (model.n_components(), model.n_features());
        let dp = padded_features(d);
        let mut table = vec![T::ZERO; k * 2 * dp];
        for (comp, t) in table.chunks_exact_mut(2 * dp).enumerate() {
            t[..d].copy_from_slice(model.mean(comp));
            t[dp..dp + d].copy_from_slice(&inverse[comp * d..(comp + 1) * d]);
        }
        let constants = model
            .log_weights()
            .iter()
            .zip(model.log_normalisers())
            .map(|(w, n)| w.to_f64() + n.to_f64())
            .collect();
        Self::Diag { table, constants, dp }
    }

    /// `ℓ_k(x_t)` of the selected components `idx` (frame `b`'s `counts[b]` in turn) of the
    /// frames from `start`: `rows` are those frames, padded to a multiple of [`ROW_PAD`].
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn evaluate<S: pulp::Simd>(
        &self,
        simd: S,
        rows: &[T],
        x: Samples<'_, T>,
        start: usize,
        idx: &[u32],
        counts: &[usize],
        values: &mut [f64],
    ) {
        let mut at = 0;
        match self {
            Self::Diag { table, constants, dp } => {
                let dp = *dp;
                // Entries go in groups: the SIMD partial sums of a group are stored first and
                // reduced afterwards, so no reduction waits on the store just made.
                let mut partials = [T::ZERO; GROUP_ENTRIES * ROW_PAD];
                let (mut group_start, mut n) = (0, 0);
                for (row, &count) in rows.chunks_exact(dp).zip(counts) {
                    for &comp in &idx[at..at + count] {
                        let t = &table[comp as usize * 2 * dp..(comp as usize + 1) * 2 * dp];
                        let out = &mut partials[n * ROW_PAD..(n + 1) * ROW_PAD];
                        partial_sums(simd, row, &t[..dp], &t[dp..], out);
                        n += 1;
                        if n == GROUP_ENTRIES {
                            let group = group_start..group_start + n;
                            reduce(&partials, &idx[group.clone()], constants, &mut values[group]);
                            (group_start, n) = (group_start + n, 0);
                        }
                    }
                    at += count;
                }
                let group = group_start..group_start + n;
                reduce(
                    &partials[..n * ROW_PAD],
                    &idx[group.clone()],
                    constants,
                    &mut values[group],
                );
            }
            Self::General(model) => {
                for (b, &count) in counts.iter().enumerate() {
                    for (v, &comp) in values[at..at + count].iter_mut().zip(&idx[at..at + count]) {
                        *v = component_log_density(model, comp as usize, x.row(start + b));
                    }
                    at += count;
                }
            }
        }
    }
}

/// `d` rounded up to a multiple of [`ROW_PAD`].
fn padded_features(d: usize) -> usize {
    d.div_ceil(ROW_PAD) * ROW_PAD
}

/// A thread's buffers for [`score_selected`]: one block of frames padded to a multiple of
/// [`ROW_PAD`], the values of its selected entries, and one model's per-frame results.
#[derive(Debug, Clone)]
pub struct SelectedScratch<T> {
    /// `BLOCK_ROWS x dp` frames; the padding columns stay zero.
    rows: Vec<T>,
    /// Values of the entries, padded ([`padded_entries`]); past the entries in use: finite
    /// or `-inf`.
    values: Vec<f64>,
    /// `log p(x_t)` of the block's frames under one model.
    log_likelihood: Vec<f64>,
    /// `d`.
    n_features: usize,
}

impl<T: Real> SelectedScratch<T> {
    /// Buffers for frames of `n_features` values with at most `max_per_frame` selected
    /// components each.
    pub fn new(n_features: usize, max_per_frame: usize) -> Self {
        Self {
            rows: vec![T::ZERO; BLOCK_ROWS * padded_features(n_features)],
            values: vec![f64::NEG_INFINITY; padded_entries(BLOCK_ROWS * max_per_frame)],
            log_likelihood: vec![0.0; BLOCK_ROWS],
            n_features,
        }
    }
}

/// `log p(x_t)` over the selected components, for the frames `frames` of `x` (at most
/// [`BLOCK_ROWS`]) under every model of `tables` (all of `x`'s dimension and with the
/// components `idx` refers to): `out[b * m + s]` for frame `frames.start + b` and model `s`
/// of `m`. Frame `b`'s components are the next `counts[b]` entries of `idx` (frame after
/// frame).
///
/// # Panics
///
/// If `scratch` was made for another dimension or fewer selected components per frame, the
/// range is longer than a block or out of `x`, `counts` and `idx` disagree, or `out` is
/// shorter than `frames.len() x m`.
pub fn score_selected<T: Real>(
    tables: &[SelectedTable<'_, T>],
    x: Samples<'_, T>,
    frames: Range<usize>,
    idx: &[u32],
    counts: &[usize],
    scratch: &mut SelectedScratch<T>,
    out: &mut [f64],
) {
    score_selected_on(&crate::kernel::isa::arch(), tables, x, frames, idx, counts, scratch, out);
}

/// [`score_selected`] on the instruction set `isa` picks.
#[allow(clippy::too_many_arguments)]
fn score_selected_on<T: Real>(
    isa: &impl Dispatch,
    tables: &[SelectedTable<'_, T>],
    x: Samples<'_, T>,
    frames: Range<usize>,
    idx: &[u32],
    counts: &[usize],
    scratch: &mut SelectedScratch<T>,
    out: &mut [f64],
) {
    let (d, m, len) = (x.n_features(), tables.len(), frames.len());
    assert!(d == scratch.n_features && len <= BLOCK_ROWS && counts.len() == len);
    let dp = padded_features(d);
    for (b, t) in frames.clone().enumerate() {
        scratch.rows[b * dp..b * dp + d].copy_from_slice(x.row(t));
    }
    let ll = &mut scratch.log_likelihood[..len];
    for (s, table) in tables.iter().enumerate() {
        isa.dispatch(ScoreKernel {
            table,
            rows: &scratch.rows[..len * dp],
            x,
            start: frames.start,
            idx,
            counts,
            values: &mut scratch.values,
            out: ll,
        });
        for (b, v) in ll.iter().enumerate() {
            out[b * m + s] = *v;
        }
    }
}

/// One model on one block of frames: the selected entries' values, then their per-frame
/// log-sum-exps, on one instruction set.
struct ScoreKernel<'a, 'b, T: Real> {
    table: &'a SelectedTable<'b, T>,
    rows: &'a [T],
    x: Samples<'a, T>,
    start: usize,
    idx: &'a [u32],
    counts: &'a [usize],
    values: &'a mut [f64],
    out: &'a mut [f64],
}

impl<T: Real> pulp::WithSimd for ScoreKernel<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Self { table, rows, x, start, idx, counts, values, out } = self;
        table.evaluate(simd, rows, x, start, idx, counts, &mut values[..idx.len()]);
        log_sum_exp_segments_simd(simd, values, counts, out);
    }
}

/// The [`ROW_PAD`] partial sums of `Σ_j (x_j - μ_j)² p_j` over rows padded to a multiple of
/// [`ROW_PAD`] (sum `l` takes the dimensions `j ≡ l mod ROW_PAD`, whatever the SIMD width), in
/// the model's precision, stored to `out`; [`reduce`] adds them in one fixed order, so the
/// bits do not depend on the instruction set.
#[inline(always)]
fn partial_sums<S: pulp::Simd, T: Real>(simd: S, x: &[T], mu: &[T], p: &[T], out: &mut [T]) {
    let lanes = T::lanes::<S>();
    if lanes > ROW_PAD {
        // Registers wider than the partial sums (16 f32 lanes): the same sums, lane by lane.
        out.fill(T::ZERO);
        for (i, ((x, mu), p)) in x.iter().zip(mu).zip(p).enumerate() {
            let t = *x - *mu;
            out[i % ROW_PAD] += t * t * *p;
        }
        return;
    }
    let (x, _) = T::as_simd::<S>(x);
    let (mu, _) = T::as_simd::<S>(mu);
    let (p, _) = T::as_simd::<S>(p);
    // ROW_PAD / lanes registers hold the partial sums (one on AVX2 in f32, two in f64),
    // kept in registers over the row.
    let per = ROW_PAD / lanes;
    let mut acc = [T::simd_splat(simd, T::ZERO); ROW_PAD];
    for ((x, mu), p) in x.chunks_exact(per).zip(mu.chunks_exact(per)).zip(p.chunks_exact(per)) {
        for l in 0..per {
            let t = T::simd_sub(simd, x[l], mu[l]);
            acc[l] = T::simd_add(simd, acc[l], T::simd_mul(simd, T::simd_mul(simd, t, t), p[l]));
        }
    }
    let (out, _) = T::as_mut_simd::<S>(out);
    out.copy_from_slice(&acc[..per]);
}

/// `values[e] = constant_k - ½ Σ partials` for the entries `e` (component `idx[e]`), the
/// [`ROW_PAD`] partial sums added by halving, `((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7))`.
#[inline(always)]
fn reduce<T: Real>(partials: &[T], idx: &[u32], constants: &[f64], values: &mut [f64]) {
    for ((s, &comp), v) in partials.chunks_exact(ROW_PAD).zip(idx).zip(values.iter_mut()) {
        let q = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        *v = constants[comp as usize] - 0.5 * q.to_f64();
    }
}

/// `out[b] = logsumexp` of frame `b`'s segment of `values` (`counts[b]` entries, frame after
/// frame), the exponentials taken by gmm-core's SIMD `exp`. `values` is overwritten; entries
/// past the segments up to the next multiple of [`ENTRY_PAD`] must be finite or `-inf` (they
/// are exponentiated, never summed), so that every value goes through the same `exp`.
///
/// # Panics
///
/// If `values` is shorter than the segments rounded up to [`ENTRY_PAD`], or `out` shorter than
/// `counts`.
pub fn log_sum_exp_segments(values: &mut [f64], counts: &[usize], out: &mut [f64]) {
    crate::kernel::isa::arch().dispatch(SegmentsKernel { values, counts, out });
}

/// [`log_sum_exp_segments`] on one instruction set.
struct SegmentsKernel<'a> {
    values: &'a mut [f64],
    counts: &'a [usize],
    out: &'a mut [f64],
}

impl pulp::WithSimd for SegmentsKernel<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        log_sum_exp_segments_simd(simd, self.values, self.counts, self.out);
    }
}

#[inline(always)]
fn log_sum_exp_segments_simd<S: pulp::Simd>(
    simd: S,
    values: &mut [f64],
    counts: &[usize],
    out: &mut [f64],
) {
    let mut at = 0;
    for (&count, o) in counts.iter().zip(out.iter_mut()) {
        let segment = &mut values[at..at + count];
        let max = segment.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // All -inf (weight-zero components only): the segment sums to 0, its log is -inf.
        let shift = if max == f64::NEG_INFINITY { 0.0 } else { max };
        for v in segment.iter_mut() {
            *v -= shift;
        }
        *o = shift;
        at += count;
    }
    let used = padded_entries(at);
    let (head, tail) = f64::as_mut_simd::<S>(&mut values[..used]);
    for v in head.iter_mut() {
        *v = f64::simd_exp(simd, *v);
    }
    for v in tail.iter_mut() {
        *v = v.exp();
    }
    let mut at = 0;
    for (&count, o) in counts.iter().zip(out.iter_mut()) {
        *o += values[at..at + count].iter().sum::<f64>().ln();
        at += count;
    }
}

/// `log w_k + log N(x | μ_k, Σ_k)` for one frame and one component, in `f64`.
fn component_log_density<T: Real>(model: &GaussianMixture<T>, comp: usize, x: &[T]) -> f64 {
    let d = model.n_features();
    let mean = model.mean(comp);
    let constant = model.log_weights()[comp].to_f64() + model.log_normalisers()[comp].to_f64();
    let quad = if let Some(inverse) = model.inverse_variances() {
        let inv = &inverse[comp * d..(comp + 1) * d];
        let mut q = 0.0;
        for j in 0..d {
            let t = x[j].to_f64() - mean[j].to_f64();
            q += t * t * inv[j].to_f64();
        }
        q
    } else {
        // Full or tied: y = Uᵀ (x - μ) with U upper triangular, row-major d x d.
        let factors = model.precision_cholesky().unwrap_or(&[]);
        let u = if model.covariance_type() == CovarianceType::Tied {
            &factors[..d * d]
        } else {
            &factors[comp * d * d..(comp + 1) * d * d]
        };
        let mut q = 0.0;
        for j in 0..d {
            let mut y = 0.0;
            for i in 0..=j {
                y += u[i * d + j].to_f64() * (x[i].to_f64() - mean[i].to_f64());
            }
            q += y * y;
        }
        q
    };
    constant - 0.5 * quad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::isa::Isa;
    use crate::kernel::reference;

    /// [`SelectedTable::evaluate`] on one instruction set.
    struct Evaluate<'a, 'b, T: Real> {
        table: &'a SelectedTable<'b, T>,
        rows: &'a [T],
        x: Samples<'a, T>,
        idx: &'a [u32],
        counts: &'a [usize],
        values: &'a mut [f64],
    }

    impl<T: Real> pulp::WithSimd for Evaluate<'_, '_, T> {
        type Output = ();
        fn with_simd<S: pulp::Simd>(self, simd: S) {
            let Self { table, rows, x, idx, counts, values } = self;
            table.evaluate(simd, rows, x, 0, idx, counts, values);
        }
    }

    /// A deterministic pseudo-random stream in `[0, 1)`.
    struct Stream(u64);
    impl Stream {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Per frame 1 to `max` distinct components in increasing order (at least one frame with
    /// `max`), as a selection lists them: `(counts, idx)`.
    fn selection(n: usize, k: usize, max: usize, seed: u64) -> (Vec<usize>, Vec<u32>) {
        let mut s = Stream(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (mut counts, mut idx) = (Vec::new(), Vec::new());
        for t in 0..n {
            let count = if t == 0 { max } else { 1 + (s.next() * max as f64) as usize % max };
            let mut picked: Vec<u32> = (0..k as u32).collect();
            for i in 0..count {
                let j = i + (s.next() * (k - i) as f64) as usize % (k - i);
                picked.swap(i, j);
            }
            let mut picked = picked[..count].to_vec();
            picked.sort_unstable();
            counts.push(count);
            idx.extend(picked);
        }
        (counts, idx)
    }

    /// The diagonal table's value, scalar, in the order the module docs fix: partial sum `l`
    /// over the dimensions `j ≡ l (mod 8)` in increasing order in the model's precision, then
    /// the halving sum and the constant in `f64`.
    fn scalar_value<T: Real>(model: &GaussianMixture<T>, comp: usize, x: &[T]) -> f64 {
        let d = model.n_features();
        let inv = &model.inverse_variances().unwrap()[comp * d..(comp + 1) * d];
        let mut s = [T::ZERO; ROW_PAD];
        for j in 0..d {
            let t = x[j] - model.mean(comp)[j];
            s[j % ROW_PAD] += t * t * inv[j];
        }
        let q = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        model.log_weights()[comp].to_f64() + model.log_normalisers()[comp].to_f64()
            - 0.5 * q.to_f64()
    }

    /// Selected values on every instruction set: diagonal and spherical tables bit for bit
    /// equal to the scalar order (more entries than a group of 64, `d` below, at and above a
    /// multiple of 8, `k = 1`), full and tied against the naive formula.
    fn values_match_references<T: Real>() {
        for (case, &(k, d, n, max)) in
            [(1, 1, 7, 1), (5, 3, 240, 5), (40, 8, 100, 16), (30, 13, 33, 30), (9, 17, 240, 2)]
                .iter()
                .enumerate()
        {
            for t in CovarianceType::ALL {
                let model = GaussianMixture::<T>::random(t, k, d, 2.0, 3 + case as u64).unwrap();
                let (x, _) = model.sample(n, 4 + case as u64).unwrap();
                let x = x.samples();
                let (counts, idx) = selection(n, k, max, case as u64);
                let table = SelectedTable::new(&model);
                let dp = padded_features(d);
                let mut rows = vec![T::ZERO; n * dp];
                for b in 0..n {
                    rows[b * dp..b * dp + d].copy_from_slice(x.row(b));
                }
                for isa in Isa::available() {
                    let what = format!("{} {t} {isa:?} k={k} d={d} n={n}", T::NAME);
                    let mut values = vec![f64::NAN; idx.len()];
                    let (rows, counts, idx) = (&rows, &counts, &idx);
                    isa.run(Evaluate { table: &table, rows, x, idx, counts, values: &mut values });
                    let mut at = 0;
                    for (b, &count) in counts.iter().enumerate() {
                        let naive = reference::weighted_log_densities(&model, x.row(b));
                        for (&v, &comp) in values[at..at + count].iter().zip(&idx[at..at + count]) {
                            let comp = comp as usize;
                            if matches!(table, SelectedTable::Diag { .. }) {
                                let want = scalar_value(&model, comp, x.row(b));
                                assert_eq!(v.to_bits(), want.to_bits(), "{what} frame {b}");
                            }
                            let tol = 1e3 * T::EPSILON.to_f64() * (1.0 + naive[comp].abs());
                            assert!((v - naive[comp]).abs() < tol, "{what}: {v} vs {naive:?}");
                        }
                        at += count;
                    }
                }
            }
        }
    }

    #[test]
    fn values_match_references_f64() {
        values_match_references::<f64>();
    }

    #[test]
    fn values_match_references_f32() {
        values_match_references::<f32>();
    }

    fn naive_log_sum_exp(values: &[f64]) -> f64 {
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return max;
        }
        max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
    }

    /// Segmented log-sum-exps on every instruction set against the naive formula, with
    /// segments of one entry, of several registers, of `-inf` only and empty; AVX2 and
    /// AVX-512 give the same bits.
    #[test]
    fn segments_match_naive_log_sum_exp() {
        let mut s = Stream(77);
        let counts: Vec<usize> = (0..50).map(|i| [1, 3, 0, 8, 17, 2, 40][i % 7]).collect();
        let n: usize = counts.iter().sum();
        let mut values: Vec<f64> = (0..n).map(|_| -700.0 * s.next().powi(3)).collect();
        // Segment 1 (entries 1..4) has -inf only; segment 3 has one -inf among finite values.
        values[1..4].fill(f64::NEG_INFINITY);
        values[4] = f64::NEG_INFINITY;
        let mut results: Vec<(Isa, Vec<f64>)> = Vec::new();
        for isa in Isa::available() {
            let mut buffer = values.clone();
            buffer.resize(padded_entries(n), f64::NEG_INFINITY);
            let mut out = vec![f64::NAN; counts.len()];
            isa.run(SegmentsKernel { values: &mut buffer, counts: &counts, out: &mut out });
            let mut at = 0;
            for (b, &count) in counts.iter().enumerate() {
                let want = naive_log_sum_exp(&values[at..at + count]);
                if want == f64::NEG_INFINITY {
                    assert_eq!(out[b], want, "{isa:?} segment {b}");
                } else {
                    let tol = 1e-14 * (1.0 + want.abs());
                    assert!(
                        (out[b] - want).abs() < tol,
                        "{isa:?} segment {b}: {} vs {want}",
                        out[b]
                    );
                }
                at += count;
            }
            results.push((isa, out));
        }
        #[cfg(target_arch = "x86_64")]
        {
            let wide: Vec<&Vec<f64>> =
                results.iter().filter(|(isa, _)| *isa != Isa::Scalar).map(|(_, r)| r).collect();
            assert!(
                wide.windows(2)
                    .all(|w| w[0].iter().zip(w[1]).all(|(a, b)| a.to_bits() == b.to_bits()))
            );
        }
        let mut buffer = values.clone();
        buffer.resize(padded_entries(n), f64::NEG_INFINITY);
        let mut out = vec![0.0; counts.len()];
        log_sum_exp_segments(&mut buffer, &counts, &mut out);
        let dispatched = results.iter().find(|(isa, _)| *isa == *Isa::available().last().unwrap());
        assert_eq!(dispatched.map(|(_, r)| r), Some(&out));
    }

    /// Several models on blocks of selected frames against the naive per-frame formula, all
    /// covariance types and both precisions; the instruction sets with fused multiply-adds
    /// (AVX2, AVX-512) give the same bits, and the dispatching entry point is one of them.
    fn scores_match_naive<T: Real>() {
        for (case, &(k, d, max)) in [(1, 1, 1), (12, 3, 5), (40, 13, 20)].iter().enumerate() {
            for t in CovarianceType::ALL {
                let models: Vec<GaussianMixture<T>> = (0..3)
                    .map(|s| GaussianMixture::random(t, k, d, 2.0, 10 * case as u64 + s).unwrap())
                    .collect();
                let tables: Vec<SelectedTable<'_, T>> =
                    models.iter().map(SelectedTable::new).collect();
                let (x, _) = models[0].sample(500, 5).unwrap();
                let x = x.samples();
                let (counts, idx) = selection(500, k, max, 7 + case as u64);
                let mut per_isa = Vec::new();
                for isa in Isa::available().into_iter().map(Some).chain([None]) {
                    let what = format!("{} {t} {isa:?} k={k} d={d}", T::NAME);
                    let mut out = vec![f64::NAN; 500 * 3];
                    let mut scratch = SelectedScratch::new(d, max);
                    let mut at = 0;
                    for start in (0..500).step_by(BLOCK_ROWS) {
                        let frames = start..(start + BLOCK_ROWS).min(500);
                        let counts = &counts[frames.clone()];
                        let used: usize = counts.iter().sum();
                        let idx = &idx[at..at + used];
                        let out = &mut out[start * 3..frames.end * 3];
                        match isa {
                            Some(isa) => score_selected_on(
                                &isa,
                                &tables,
                                x,
                                frames,
                                idx,
                                counts,
                                &mut scratch,
                                out,
                            ),
                            None => {
                                score_selected(&tables, x, frames, idx, counts, &mut scratch, out)
                            }
                        }
                        at += used;
                    }
                    let mut at = 0;
                    for (b, &count) in counts.iter().enumerate() {
                        for (s, model) in models.iter().enumerate() {
                            let all = reference::weighted_log_densities(model, x.row(b));
                            let chosen: Vec<f64> =
                                idx[at..at + count].iter().map(|&c| all[c as usize]).collect();
                            let want = naive_log_sum_exp(&chosen);
                            let got = out[b * 3 + s];
                            let tol = 1e3 * T::EPSILON.to_f64() * (1.0 + want.abs());
                            assert!((got - want).abs() < tol, "{what} frame {b}: {got} vs {want}");
                        }
                        at += count;
                    }
                    per_isa.push((isa, out));
                }
                let fused: Vec<Vec<u64>> = per_isa
                    .iter()
                    .filter(|(isa, _)| *isa != Some(Isa::Scalar))
                    .map(|(_, out)| out.iter().map(|v| v.to_bits()).collect())
                    .collect();
                assert!(fused.windows(2).all(|w| w[0] == w[1]), "{} {t} k={k}", T::NAME);
            }
        }
    }

    #[test]
    fn scores_match_naive_f64() {
        scores_match_naive::<f64>();
    }

    #[test]
    fn scores_match_naive_f32() {
        scores_match_naive::<f32>();
    }
}
