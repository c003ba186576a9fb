//! Scoring against a universal background model: log-likelihood ratios, top-C Gaussian
//! selection, and the Baum-Welch statistics that i-vector / PLDA back-ends consume.
//!
//! # The maths
//!
//! A speaker model `s` (usually [MAP-adapted](crate::adapt) from the UBM `u`) scores an
//! utterance of `T` frames by the average per-frame log-likelihood ratio
//!
//! ```text
//! LLR = (1/T) Σ_t [ log p_s(x_t) - log p_u(x_t) ],     log p(x) = logsumexp_k ℓ_k(x),
//! ℓ_k(x) = log w_k + log N(x | μ_k, Σ_k).
//! ```
//!
//! **Top-C scoring** (Reynolds, Quatieri & Dunn 2000, §3.3; Kaldi's `gmm-gselect`): for each
//! frame the `C` components with the largest `ℓ_k^u(x)` under the UBM are chosen, and *both*
//! log-likelihoods are sums over those `C` components only:
//!
//! ```text
//! log p_u(x) ≈ logsumexp_{k ∈ top_C(x)} ℓ_k^u(x),    log p_s(x) ≈ logsumexp_{k ∈ top_C(x)} ℓ_k^s(x).
//! ```
//!
//! This works because an adapted model's components stay near their UBM parents, so the few
//! components that carry a frame's mass are the same in both; the truncation errors of the two
//! terms largely cancel in the ratio. The selection is made once and reused for any number of
//! speaker models ([`GaussianSelection`]).
//!
//! **Baum-Welch statistics** of an utterance under the UBM are the zeroth- and centred
//! first-order statistics `N_k = Σ_t γ_tk` and `F̃_k = Σ_t γ_tk (x_t - μ_k)` — the
//! [`SuffStats`] counts and first moments of one E-step, whose shift is the UBM mean.
//!
//! # Types
//!
//! * [`llr`]: exact or top-C average LLR of one utterance;
//! * [`GaussianSelection`]: the top-C choice and UBM log-likelihoods of one utterance, reused
//!   to score speaker models ([`GaussianSelection::log_likelihoods`], [`GaussianSelection::llr`]);
//! * [`BaumWelchStats`] / [`baum_welch_stats`].
//!
//! # Current implementation
//!
//! Selection runs gmm-core's blocked kernel ([`log_densities`] on a [`BlockScratch`]) over the
//! UBM once per block of frames — the only `O(T K d)` work — and keeps the `C` largest values
//! per frame by one pass over the component-major rows (a SIMD compare per register of frames,
//! an insertion only when a value beats its frame's current `C`-th best). A speaker model then
//! costs `O(T C d)`: the `C` selected components are evaluated directly (an `f64` table of
//! means and inverse variances for diagonal models, the precision Cholesky factor otherwise),
//! and [`GaussianSelection::log_likelihoods_many`] scores several models in one pass. Blocks run in parallel; every
//! per-frame value is independent of the thread count and sums are taken in frame order, so
//! scores are bit-identical for any number of threads.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::adapt::{MapConfig, map_adapt};
//! use gmm_em::speech::llr;
//!
//! let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 8, 3, 3.0, 1)?;
//! let (x, _) = ubm.sample(500, 2)?;
//! let speaker = map_adapt(&ubm, x.samples(), &MapConfig::default())?;
//! let exact = llr(&speaker, &ubm, x.samples(), None)?;
//! let fast = llr(&speaker, &ubm, x.samples(), Some(5))?;
//! assert!(exact > 0.0 && (exact - fast).abs() < 0.05);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::kernel::{BLOCK_ROWS, BlockScratch, log_densities};
use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use rayon::prelude::*;

use crate::pass::e_step;
use crate::stats::SuffStats;

/// Default number of selected components per frame.
pub const DEFAULT_TOP_C: usize = 5;

/// Average per-frame log-likelihood ratio of `speaker` against `ubm` over the frames `x`:
/// exact with `top_c = None`, with top-C Gaussian selection on the UBM otherwise.
///
/// # Errors
/// Models of different shape (top-C needs the speaker model to share the UBM's `k` and `d`),
/// frames of the wrong dimension or not finite, no frames, `top_c = Some(0)`.
pub fn llr<T: Real>(
    speaker: &GaussianMixture<T>,
    ubm: &GaussianMixture<T>,
    x: Samples<'_, T>,
    top_c: Option<usize>,
) -> Result<f64> {
    if x.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames to score: give at least one"));
    }
    match top_c {
        None => {
            speaker.check_samples(x)?;
            let s = speaker.total_log_likelihood(x)?;
            let u = ubm.total_log_likelihood(x)?;
            Ok((s - u) / x.n_samples() as f64)
        }
        Some(c) => GaussianSelection::new(ubm, x, c)?.llr(speaker, x),
    }
}

/// The top-C components of a UBM for every frame of an utterance, and the UBM's top-C
/// log-likelihood of each frame (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianSelection {
    c: usize,
    n_components: usize,
    n_features: usize,
    /// `n x c` component indices, best first.
    indices: Vec<u32>,
    /// `n` values `logsumexp` of the selected `ℓ_k^u`.
    ubm_log_likelihood: Vec<f64>,
}

impl GaussianSelection {
    /// Selects the `c` best UBM components (`c` is capped at the UBM's `k`) of every frame.
    ///
    /// # Errors
    /// `c = 0`, frames of the wrong dimension or not finite.
    pub fn new<T: Real>(ubm: &GaussianMixture<T>, x: Samples<'_, T>, c: usize) -> Result<Self> {
        if c == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "top-C is 0: select at least one component per frame (5 is usual)",
            ));
        }
        ubm.check_samples(x)?;
        let (d, k) = (ubm.n_features(), ubm.n_components());
        let c = c.min(k);
        let n = x.n_samples();
        let mut indices = vec![0u32; n * c];
        let mut ubm_ll = vec![0.0f64; n];
        indices
            .par_chunks_mut(BLOCK_ROWS * c)
            .zip(ubm_ll.par_chunks_mut(BLOCK_ROWS))
            .enumerate()
            .for_each_init(
                || {
                    let padded = (BLOCK_ROWS * c).div_ceil(LANES) * LANES;
                    (BlockScratch::new(d, k), vec![f64::NEG_INFINITY; padded])
                },
                |(scratch, values), (block, (idx, ll))| {
                    scratch.load(x, block);
                    log_densities(ubm, scratch, true);
                    select_block(scratch, k, c, idx, values);
                    log_sum_exp_rows(values, c, ll);
                },
            );
        Ok(Self { c, n_components: k, n_features: d, indices, ubm_log_likelihood: ubm_ll })
    }

    /// Components kept per frame.
    pub fn top_c(&self) -> usize {
        self.c
    }

    /// Number of frames.
    pub fn n_frames(&self) -> usize {
        self.ubm_log_likelihood.len()
    }

    /// The selected components of frame `t`, best first.
    pub fn components(&self, t: usize) -> &[u32] {
        &self.indices[t * self.c..(t + 1) * self.c]
    }

    /// The UBM's top-C log-likelihood of every frame.
    pub fn ubm_log_likelihoods(&self) -> &[f64] {
        &self.ubm_log_likelihood
    }

    /// `log p_s(x_t)` over the selected components of `model`, for every frame.
    ///
    /// # Errors
    /// `model` not of the UBM's shape, `x` not the frames the selection was made on (by count).
    pub fn log_likelihoods<T: Real>(
        &self,
        model: &GaussianMixture<T>,
        x: Samples<'_, T>,
    ) -> Result<Vec<f64>> {
        let mut all = self.log_likelihoods_many(&[model], x)?;
        Ok(all.pop().unwrap_or_default())
    }

    /// `log p_s(x_t)` over the selected components of every model of `models`, for every
    /// frame: one vector per model, in the order given. The same values as
    /// [`log_likelihoods`](Self::log_likelihoods) model by model, but one pass over the frames
    /// and the selection serves them all (speaker identification).
    ///
    /// # Errors
    /// A model not of the UBM's shape, `x` not the frames the selection was made on (by count).
    pub fn log_likelihoods_many<T: Real>(
        &self,
        models: &[&GaussianMixture<T>],
        x: Samples<'_, T>,
    ) -> Result<Vec<Vec<f64>>> {
        for model in models {
            self.check_model(model, x)?;
        }
        let (n, m, c, d) = (self.n_frames(), models.len(), self.c, self.n_features);
        let dp = d.div_ceil(LANES) * LANES;
        let tables: Vec<ModelTable<'_, T>> =
            models.iter().map(|m| ModelTable::new(m, dp)).collect();
        // Frame-major: frame t's m values are out[t * m..(t + 1) * m].
        let mut out = vec![0.0f64; n * m];
        let padded = (BLOCK_ROWS * c).div_ceil(LANES) * LANES;
        out.par_chunks_mut(BLOCK_ROWS * m.max(1)).enumerate().for_each_init(
            || {
                (
                    vec![0.0f64; BLOCK_ROWS * dp],
                    vec![f64::NEG_INFINITY; padded],
                    vec![0.0f64; BLOCK_ROWS],
                )
            },
            |(rows, values, ll), (block, out)| {
                let start = block * BLOCK_ROWS;
                let len = out.len() / m.max(1);
                for b in 0..len {
                    for (r, v) in rows[b * dp..b * dp + d].iter_mut().zip(x.row(start + b)) {
                        *r = v.to_f64();
                    }
                }
                let idx = &self.indices[start * c..(start + len) * c];
                for (s, table) in tables.iter().enumerate() {
                    table.score(&rows[..len * dp], x, start, idx, c, values, &mut ll[..len]);
                    for (b, v) in ll[..len].iter().enumerate() {
                        out[b * m + s] = *v;
                    }
                }
            },
        );
        Ok((0..m).map(|s| out.iter().skip(s).step_by(m).copied().collect()).collect())
    }

    fn check_model<T: Real>(&self, model: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<()> {
        if model.n_components() != self.n_components || model.n_features() != self.n_features {
            return Err(Error::new(
                ErrorKind::DimensionMismatch {
                    expected: self.n_components,
                    found: model.n_components(),
                },
                format!(
                    "the model has {} components in {} dimensions but the UBM of the selection \
                     has {} in {}: top-C scoring needs a model adapted from that UBM",
                    model.n_components(),
                    model.n_features(),
                    self.n_components,
                    self.n_features
                ),
            ));
        }
        model.check_samples(x)?;
        if x.n_samples() != self.n_frames() {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: self.n_frames(), found: x.n_samples() },
                "the frames differ from those the selection was made on: select again",
            ));
        }
        Ok(())
    }

    /// Average top-C log-likelihood ratio of `speaker` against the UBM over `x`.
    ///
    /// # Errors
    /// As [`log_likelihoods`](Self::log_likelihoods).
    pub fn llr<T: Real>(&self, speaker: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<f64> {
        let s = self.log_likelihoods(speaker, x)?;
        let total: f64 = s.iter().zip(&self.ubm_log_likelihood).map(|(s, u)| s - u).sum();
        Ok(total / s.len().max(1) as f64)
    }
}

/// Keeps the `c` largest `log_density` values of every frame of the loaded block:
/// `idx` (`len x c`) gets their components, `values` (`BLOCK_ROWS x c`) the values, best first
/// (equal values: the lower component first).
///
/// Two passes over the `k x BLOCK_ROWS` rows, SIMD over frames:
/// 1. *values*: a register of frames whose values beat some frame's running `c`-th best goes
///    through a branch-free insertion network that keeps the `c` largest values per frame
///    (`c` SIMD max/min pairs); the others cost one compare (for `c <= 16` the `c` best are
///    held in registers over all components, one register of frames at a time; larger `c`
///    streams the rows and keeps them in an L1-sized array);
/// 2. *indices*: with the exact `c`-th best value `t` of every frame known, the entries `≥ t`
///    are picked up: one SIMD compare per register, the scalar path only for registers with
///    such an entry (about `c` per frame).
fn select_block<T: Real>(
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    idx: &mut [u32],
    values: &mut [f64],
) {
    // Compiled once per instruction set and chosen at run time, like the kernels.
    struct Select<'a, T> {
        scratch: &'a BlockScratch<T>,
        k: usize,
        c: usize,
        idx: &'a mut [u32],
        values: &'a mut [f64],
    }
    impl<T: Real> pulp::WithSimd for Select<'_, T> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) {
            select_block_impl(simd, self.scratch, self.k, self.c, self.idx, self.values);
        }
    }
    pulp::Arch::new().dispatch(Select { scratch, k, c, idx, values });
}

#[inline(always)]
fn select_block_impl<S: pulp::Simd, T: Real>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    idx: &mut [u32],
    values: &mut [f64],
) {
    let len = scratch.len;
    let neg = T::from_f64(f64::NEG_INFINITY);
    // best[i * BLOCK_ROWS + b]: the i-th largest value of frame b.
    let mut best = vec![neg; c * BLOCK_ROWS];
    match c {
        1 => network_in_registers::<S, T, 1>(simd, scratch, k, &mut best),
        2 => network_in_registers::<S, T, 2>(simd, scratch, k, &mut best),
        3 => network_in_registers::<S, T, 3>(simd, scratch, k, &mut best),
        4 => network_in_registers::<S, T, 4>(simd, scratch, k, &mut best),
        5 => network_in_registers::<S, T, 5>(simd, scratch, k, &mut best),
        6 => network_in_registers::<S, T, 6>(simd, scratch, k, &mut best),
        7 => network_in_registers::<S, T, 7>(simd, scratch, k, &mut best),
        8 => network_in_registers::<S, T, 8>(simd, scratch, k, &mut best),
        9 => network_in_registers::<S, T, 9>(simd, scratch, k, &mut best),
        10 => network_in_registers::<S, T, 10>(simd, scratch, k, &mut best),
        11 => network_in_registers::<S, T, 11>(simd, scratch, k, &mut best),
        12 => network_in_registers::<S, T, 12>(simd, scratch, k, &mut best),
        13 => network_in_registers::<S, T, 13>(simd, scratch, k, &mut best),
        14 => network_in_registers::<S, T, 14>(simd, scratch, k, &mut best),
        15 => network_in_registers::<S, T, 15>(simd, scratch, k, &mut best),
        16 => network_in_registers::<S, T, 16>(simd, scratch, k, &mut best),
        _ => network_streaming(simd, scratch, k, c, &mut best),
    }
    // Pass 2. Per frame: how many selected values lie strictly above the threshold (those are
    // all taken); entries equal to it fill the rest in component order.
    let threshold = &best[(c - 1) * BLOCK_ROWS..c * BLOCK_ROWS];
    let mut room_for_ties = [0usize; BLOCK_ROWS];
    for b in 0..len {
        let above = (0..c).filter(|&i| best[i * BLOCK_ROWS + b] > threshold[b]).count();
        room_for_ties[b] = c - above;
    }
    let mut count = [0usize; BLOCK_ROWS];
    let mut picked = vec![neg; BLOCK_ROWS * c];
    let lanes = T::lanes::<S>();
    let (thresholds, _) = T::as_simd::<S>(threshold);
    for comp in 0..k {
        let row = &scratch.log_density[comp * BLOCK_ROWS..(comp + 1) * BLOCK_ROWS];
        let (regs, _) = T::as_simd::<S>(row);
        for (r, (v, t)) in regs.iter().zip(thresholds).enumerate() {
            // About C entries per frame reach the threshold: most registers have none.
            if !T::simd_any_at_least(simd, *v, *t) {
                continue;
            }
            for b in r * lanes..((r + 1) * lanes).min(len) {
                let v = row[b];
                let take = if v > threshold[b] {
                    true
                } else if v == threshold[b] && room_for_ties[b] > 0 {
                    room_for_ties[b] -= 1;
                    true
                } else {
                    false
                };
                if take && count[b] < c {
                    idx[b * c + count[b]] = comp as u32;
                    picked[b * c + count[b]] = v;
                    count[b] += 1;
                }
            }
        }
    }
    // Order each frame's picks best first (stable: equal values keep component order).
    for b in 0..len {
        let (ids, vals) = (&mut idx[b * c..(b + 1) * c], &mut picked[b * c..(b + 1) * c]);
        for i in 1..c {
            let mut j = i;
            while j > 0 && vals[j - 1] < vals[j] {
                vals.swap(j - 1, j);
                ids.swap(j - 1, j);
                j -= 1;
            }
        }
        for (o, v) in values[b * c..(b + 1) * c].iter_mut().zip(vals.iter()) {
            *o = v.to_f64();
        }
    }
}

/// Pass 1 for `C <= 16`: one register of frames at a time, its `C` best values held in
/// registers while every component's value goes through the network (no stores in the loop),
/// skipped when no frame's value beats that frame's current `C`-th best (one compare).
#[inline(always)]
fn network_in_registers<S: pulp::Simd, T: Real, const C: usize>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    best: &mut [T],
) {
    let (rows, _) = T::as_simd::<S>(&scratch.log_density[..k * BLOCK_ROWS]);
    let regs = BLOCK_ROWS / T::lanes::<S>();
    let neg = T::simd_splat(simd, T::from_f64(f64::NEG_INFINITY));
    for r in 0..regs {
        let mut b = [neg; C];
        for comp in 0..k {
            let mut v = rows[comp * regs + r];
            // Most values beat no frame's current C-th best: one compare, no network.
            if !T::simd_any_greater(simd, v, b[C - 1]) {
                continue;
            }
            for slot in b.iter_mut() {
                let hi = T::simd_max(simd, *slot, v);
                v = T::simd_min(simd, *slot, v);
                *slot = hi;
            }
        }
        for (i, slot) in b.iter().enumerate() {
            let (out, _) = T::as_mut_simd::<S>(&mut best[i * BLOCK_ROWS..(i + 1) * BLOCK_ROWS]);
            out[r] = *slot;
        }
    }
}

/// Pass 1 for `C > 16`: the rows in memory order (component by component, a register of frames at a
/// time), the `C` best values of every frame kept in `best` (`C x BLOCK_ROWS`, a few KB: L1).
/// A register goes through the insertion network (`C` max/min pairs) only when one of its
/// frames beats that frame's current `C`-th best; for `C << k` most do not, so the pass is one
/// streaming load, one compare and one test per register.
#[inline(always)]
fn network_streaming<S: pulp::Simd, T: Real>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    best: &mut [T],
) {
    let regs = BLOCK_ROWS / T::lanes::<S>();
    let (rows, _) = T::as_simd::<S>(&scratch.log_density[..k * BLOCK_ROWS]);
    let (best, _) = T::as_mut_simd::<S>(best);
    let last = (c - 1) * regs;
    for row in rows.chunks_exact(regs) {
        for (r, &value) in row.iter().enumerate() {
            if !T::simd_any_greater(simd, value, best[last + r]) {
                continue;
            }
            let mut v = value;
            for i in 0..c {
                let slot = &mut best[i * regs + r];
                let hi = T::simd_max(simd, *slot, v);
                v = T::simd_min(simd, *slot, v);
                *slot = hi;
            }
        }
    }
}

/// Padding of the `f64` rows and tables: a multiple of every SIMD width `pulp` may pick.
const LANES: usize = 8;

/// One model's parameters as the top-C scorer reads them.
enum ModelTable<'a, T: Real> {
    /// Diagonal: per component `[μ (dp), 1/σ² (dp)]` contiguous in `f64`, zero-padded to
    /// `dp` (a zero inverse variance adds nothing), and `log w_k + log normaliser_k`.
    Diag { table: Vec<f64>, constants: Vec<f64>, dp: usize },
    /// Full, tied or spherical: evaluated from the model.
    General(&'a GaussianMixture<T>),
}

impl<'a, T: Real> ModelTable<'a, T> {
    fn new(model: &'a GaussianMixture<T>, dp: usize) -> Self {
        let Some(inverse) = model.inverse_variances() else {
            return Self::General(model);
        };
        let (k, d) = (model.n_components(), model.n_features());
        let mut table = vec![0.0f64; k * 2 * dp];
        for (comp, t) in table.chunks_exact_mut(2 * dp).enumerate() {
            for j in 0..d {
                t[j] = model.mean(comp)[j].to_f64();
                t[dp + j] = inverse[comp * d + j].to_f64();
            }
        }
        let constants = model
            .log_weights()
            .iter()
            .zip(model.log_normalisers())
            .map(|(w, n)| w.to_f64() + n.to_f64())
            .collect();
        Self::Diag { table, constants, dp }
    }

    /// `out[b] = log p(x_{start + b})` over the selected components, compiled once per
    /// instruction set (the quadratic forms and the exponentials vectorised).
    #[allow(clippy::too_many_arguments)]
    fn score(
        &self,
        rows: &[f64],
        x: Samples<'_, T>,
        start: usize,
        idx: &[u32],
        c: usize,
        values: &mut [f64],
        out: &mut [f64],
    ) {
        struct Score<'a, 'b, T: Real> {
            table: &'a ModelTable<'b, T>,
            rows: &'a [f64],
            x: Samples<'a, T>,
            start: usize,
            idx: &'a [u32],
            c: usize,
            values: &'a mut [f64],
            out: &'a mut [f64],
        }
        impl<T: Real> pulp::WithSimd for Score<'_, '_, T> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: pulp::Simd>(self, simd: S) {
                let Self { table, rows, x, start, idx, c, values, out } = self;
                let len = out.len();
                table.evaluate(rows, x, start, idx, c, &mut values[..len * c]);
                log_sum_exp_rows_simd(simd, values, c, out);
            }
        }
        pulp::Arch::new().dispatch(Score { table: self, rows, x, start, idx, c, values, out });
    }

    /// `ℓ_k(x_t)` of the selected components `idx` (`len x c`) of `len` frames from `start`:
    /// `rows` are those frames in `f64`, padded to `dp`.
    #[inline(always)]
    fn evaluate(
        &self,
        rows: &[f64],
        x: Samples<'_, T>,
        start: usize,
        idx: &[u32],
        c: usize,
        values: &mut [f64],
    ) {
        match self {
            Self::Diag { table, constants, dp } => {
                let dp = *dp;
                for ((row, ids), vals) in
                    rows.chunks_exact(dp).zip(idx.chunks_exact(c)).zip(values.chunks_exact_mut(c))
                {
                    for (v, &comp) in vals.iter_mut().zip(ids) {
                        let comp = comp as usize;
                        let t = &table[comp * 2 * dp..(comp + 1) * 2 * dp];
                        *v = constants[comp] - 0.5 * quadratic(row, &t[..dp], &t[dp..]);
                    }
                }
            }
            Self::General(model) => {
                for (b, (ids, vals)) in
                    idx.chunks_exact(c).zip(values.chunks_exact_mut(c)).enumerate()
                {
                    for (v, &comp) in vals.iter_mut().zip(ids) {
                        *v = component_log_density(model, comp as usize, x.row(start + b));
                    }
                }
            }
        }
    }
}

/// `Σ_j (x_j - μ_j)² p_j` over rows padded to a multiple of [`LANES`]: eight independent
/// partial sums (vectorised by the compiler), added in a fixed order.
#[inline(always)]
fn quadratic(x: &[f64], mu: &[f64], p: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    for ((x, mu), p) in x.chunks_exact(LANES).zip(mu.chunks_exact(LANES)).zip(p.chunks_exact(LANES))
    {
        for l in 0..LANES {
            let t = x[l] - mu[l];
            acc[l] += t * t * p[l];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// `out[b] = logsumexp(values[b c..(b + 1) c])` for every `b < out.len()`, the exponentials
/// taken by gmm-core's SIMD `exp` (`values` is overwritten; its length must be a multiple of
/// [`LANES`] and at least `out.len() * c`).
fn log_sum_exp_rows(values: &mut [f64], c: usize, out: &mut [f64]) {
    struct Lse<'a> {
        values: &'a mut [f64],
        c: usize,
        out: &'a mut [f64],
    }
    impl pulp::WithSimd for Lse<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) {
            log_sum_exp_rows_simd(simd, self.values, self.c, self.out);
        }
    }
    pulp::Arch::new().dispatch(Lse { values, c, out });
}

#[inline(always)]
fn log_sum_exp_rows_simd<S: pulp::Simd>(simd: S, values: &mut [f64], c: usize, out: &mut [f64]) {
    for (row, o) in values.chunks_exact_mut(c).zip(out.iter_mut()) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // All -inf (weight-zero components only): the row sums to 0, its log is -inf.
        let shift = if max == f64::NEG_INFINITY { 0.0 } else { max };
        for v in row.iter_mut() {
            *v -= shift;
        }
        *o = shift;
    }
    let used = (out.len() * c).div_ceil(LANES) * LANES;
    let (head, tail) = f64::as_mut_simd::<S>(&mut values[..used]);
    for v in head.iter_mut() {
        *v = f64::simd_exp(simd, *v);
    }
    for v in tail.iter_mut() {
        *v = v.exp();
    }
    for (row, o) in values.chunks_exact(c).zip(out.iter_mut()) {
        *o += row.iter().sum::<f64>().ln();
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

/// Zeroth- and centred first-order Baum-Welch statistics of one utterance under a UBM.
#[derive(Debug, Clone, PartialEq)]
pub struct BaumWelchStats {
    /// `N_k = Σ_t γ_tk`, `k` values.
    pub zeroth: Vec<f64>,
    /// `F̃_k = Σ_t γ_tk (x_t - μ_k)`, `k x d` row-major.
    pub first: Vec<f64>,
    /// Mean log-likelihood per frame under the UBM.
    pub log_likelihood: f64,
}

/// Baum-Welch statistics of the frames `x` under `ubm` (exact posteriors).
///
/// # Errors
/// Frames of the wrong dimension, not finite, or none.
pub fn baum_welch_stats<T: Real>(
    ubm: &GaussianMixture<T>,
    x: Samples<'_, T>,
) -> Result<BaumWelchStats> {
    let stats = ubm_statistics(ubm, x)?;
    Ok(BaumWelchStats {
        log_likelihood: stats.log_likelihood / stats.total_weight,
        zeroth: stats.counts,
        first: stats.first,
    })
}

/// The full [`SuffStats`] of one UBM E-step over `x` (shifted by the UBM means): what
/// [`crate::adapt::map_update`] takes, mergeable over files.
///
/// # Errors
/// Frames of the wrong dimension, not finite, or none.
pub fn ubm_statistics<T: Real>(ubm: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<SuffStats> {
    ubm.check_samples(x)?;
    if x.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames: give at least one"));
    }
    Ok(e_step(ubm, x, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::kernel::reference;

    fn lse(values: &[f64]) -> f64 {
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return max;
        }
        max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
    }

    /// Top-C against a naive per-frame reference: sort all UBM log-densities, take the best C
    /// for both models.
    #[test]
    fn top_c_matches_naive_selection() {
        for covariance_type in [CovarianceType::Diag, CovarianceType::Full] {
            let ubm = GaussianMixture::<f64>::random(covariance_type, 12, 3, 2.0, 3).unwrap();
            let spk = GaussianMixture::<f64>::random(covariance_type, 12, 3, 2.0, 4).unwrap();
            let (x, _) = ubm.sample(517, 9).unwrap();
            let x = x.samples();
            for c in [1, 3, 12, 40] {
                let sel = GaussianSelection::new(&ubm, x, c).unwrap();
                let s = sel.log_likelihoods(&spk, x).unwrap();
                let mut total = 0.0;
                for t in 0..x.n_samples() {
                    let lu = reference::weighted_log_densities(&ubm, x.row(t));
                    let ls = reference::weighted_log_densities(&spk, x.row(t));
                    let mut order: Vec<usize> = (0..12).collect();
                    order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                    let top = &order[..c.min(12)];
                    let got: Vec<usize> = sel.components(t).iter().map(|&i| i as usize).collect();
                    assert_eq!(got, top, "frame {t}");
                    let u = lse(&top.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                    let v = lse(&top.iter().map(|&k| ls[k]).collect::<Vec<_>>());
                    assert!((sel.ubm_log_likelihoods()[t] - u).abs() < 1e-9 * (1.0 + u.abs()));
                    assert!((s[t] - v).abs() < 1e-9 * (1.0 + v.abs()));
                    total += v - u;
                }
                let got = sel.llr(&spk, x).unwrap();
                assert!((got - total / x.n_samples() as f64).abs() < 1e-9);
            }
        }
    }

    /// Ties (duplicated components give bit-equal values: the lower index wins, as a stable
    /// sort orders them), `C >= k`, `C` on both sides of 16 (the register network and the
    /// streaming one), and several models in one pass equal to one model at a time, bit for bit.
    #[test]
    fn selection_with_ties_and_many_models_match_naive() {
        let base = GaussianMixture::<f32>::random(CovarianceType::Diag, 20, 3, 2.0, 11).unwrap();
        // Components 20..40 repeat 0..20 exactly: every frame has 20 exact ties.
        let twice = |v: &[f32]| [v, v].concat();
        let ubm = GaussianMixture::new(
            CovarianceType::Diag,
            twice(base.weights()).iter().map(|w| w / 2.0).collect(),
            twice(base.means()),
            twice(base.covariances()),
        )
        .unwrap();
        let spk = [
            GaussianMixture::<f32>::random(CovarianceType::Diag, 40, 3, 2.0, 12).unwrap(),
            GaussianMixture::<f32>::random(CovarianceType::Diag, 40, 3, 2.0, 13).unwrap(),
            ubm.clone(),
        ];
        let refs: Vec<&GaussianMixture<f32>> = spk.iter().collect();
        let (x, _) = ubm.sample(613, 5).unwrap();
        let x = x.samples();
        for c in [1, 2, 3, 5, 7, 10, 13, 16, 17, 25, 40, 45] {
            let sel = GaussianSelection::new(&ubm, x, c).unwrap();
            assert_eq!(sel.top_c(), c.min(40));
            let many = sel.log_likelihoods_many(&refs, x).unwrap();
            for (m, model) in spk.iter().enumerate() {
                assert_eq!(many[m], sel.log_likelihoods(model, x).unwrap(), "model {m}, C = {c}");
            }
            for t in 0..x.n_samples() {
                // The f32 values the selection compares, from the kernel's own scoring.
                let lu = reference::weighted_log_densities(&ubm, x.row(t));
                let mut order: Vec<usize> = (0..40).collect();
                order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                let got: Vec<usize> = sel.components(t).iter().map(|&i| i as usize).collect();
                let mut want = order[..c.min(40)].to_vec();
                // Tied pairs (k, k + 20) may be chosen in either order only if their f32
                // values differ from the f64 reference's order; compare as sets of values.
                want.sort_unstable();
                let mut got_sorted = got.clone();
                got_sorted.sort_unstable();
                let value = |i: usize| lu[i % 20];
                let mut gv: Vec<f64> = got_sorted.iter().map(|&i| value(i)).collect();
                let mut wv: Vec<f64> = want.iter().map(|&i| value(i)).collect();
                gv.sort_by(f64::total_cmp);
                wv.sort_by(f64::total_cmp);
                assert_eq!(gv, wv, "frame {t}, C = {c}");
                // Within a tie the lower component comes first.
                for w in got.windows(2) {
                    if w[0] % 20 == w[1] % 20 {
                        assert!(w[0] < w[1], "frame {t}: {got:?}");
                    }
                }
                // The UBM (a model equal to it) scores the same on the same selection.
                let u = lse(&got.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                assert!((many[2][t] - u).abs() < 1e-5 * (1.0 + u.abs()), "frame {t}");
            }
        }
    }

    #[test]
    fn exact_llr_matches_reference_and_top_all_is_exact() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 6, 2, 2.0, 1).unwrap();
        let spk = GaussianMixture::<f64>::random(CovarianceType::Diag, 6, 2, 2.0, 2).unwrap();
        let (x, _) = spk.sample(300, 3).unwrap();
        let x = x.samples();
        let want = (0..300)
            .map(|t| {
                reference::log_likelihood(&spk, x.row(t))
                    - reference::log_likelihood(&ubm, x.row(t))
            })
            .sum::<f64>()
            / 300.0;
        let exact = llr(&spk, &ubm, x, None).unwrap();
        let all = llr(&spk, &ubm, x, Some(6)).unwrap();
        assert!((exact - want).abs() < 1e-9, "{exact} vs {want}");
        assert!((all - want).abs() < 1e-9, "{all} vs {want}");
    }

    #[test]
    fn baum_welch_stats_match_posteriors() {
        let ubm = GaussianMixture::<f32>::random(CovarianceType::Diag, 4, 3, 2.0, 8).unwrap();
        let (x, _) = ubm.sample(250, 1).unwrap();
        let x = x.samples();
        let bw = baum_welch_stats(&ubm, x).unwrap();
        let (mut n, mut f) = (vec![0.0; 4], vec![0.0; 12]);
        for t in 0..250 {
            let p = reference::posteriors(&ubm, x.row(t));
            for k in 0..4 {
                n[k] += p[k];
                for j in 0..3 {
                    f[k * 3 + j] += p[k] * (x.row(t)[j] as f64 - ubm.mean(k)[j] as f64);
                }
            }
        }
        // f32 responsibilities: relative accuracy about 1e-6 per term.
        for k in 0..4 {
            assert!((bw.zeroth[k] - n[k]).abs() < 1e-4 * (1.0 + n[k]), "{k}");
            for j in 0..3 {
                let at = k * 3 + j;
                assert!((bw.first[at] - f[at]).abs() < 1e-4 * (1.0 + f[at].abs()), "{at}");
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 2, 2.0, 1).unwrap();
        let other = GaussianMixture::<f64>::random(CovarianceType::Diag, 5, 2, 2.0, 1).unwrap();
        let (x, _) = ubm.sample(10, 1).unwrap();
        assert!(GaussianSelection::new(&ubm, x.samples(), 0).is_err());
        assert!(llr(&other, &ubm, x.samples(), Some(2)).is_err());
        let empty = gmm_core::Matrix::<f64>::from_vec(vec![], 2);
        if let Ok(m) = empty {
            assert!(llr(&ubm, &ubm, m.samples(), None).is_err());
        }
    }
}
