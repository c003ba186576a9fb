//! Top-C Gaussian selection on a UBM: which components each frame keeps, and the UBM's
//! log-likelihood over them (see the [module docs](super) for the maths).
//!
//! Two rules ([`TopC`]):
//! * **fixed**: the `C` components with the largest `ℓ_k^u(x)`; `select_block` keeps them with
//!   a SIMD insertion network over the component-major rows of a kernel block;
//! * **beam**: the same `C` at most, but only those within `beam` nats of the frame's best
//!   component (`ℓ_k^u(x) ≥ max_j ℓ_j^u(x) - beam`, i.e. posterior at least `e^-beam` times the
//!   best one's). Frames dominated by one component keep one or two, frames between clusters
//!   keep up to `C`; `select_beam_block` finds them with one max pass and one compare pass,
//!   no network.
//!
//! Selections are stored frame by frame in one flat array (`offsets` into `indices`, as in a
//! CSR matrix), in increasing component order; ties for the last place go to the lower
//! component index.

use gmm_core::kernel::{BLOCK_ROWS, BlockScratch, log_densities};
use gmm_core::scratch::with_cached;
use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use rayon::prelude::*;

use super::evaluate::{LANES, ModelTable, ROW_PAD, log_sum_exp_segments};

/// Default number of selected components per frame.
pub const DEFAULT_TOP_C: usize = 5;

/// The selection rule: at most `c` components per frame, optionally only those within a beam
/// of the frame's best (see the [module docs](super)).
///
/// ```
/// use gmm_em::speech::TopC;
/// let rule = TopC::new(16).beam(8.0);
/// assert_eq!((rule.get_c(), rule.get_beam()), (16, Some(8.0)));
/// assert_eq!(TopC::default().get_c(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TopC {
    c: usize,
    beam: Option<f64>,
}

impl Default for TopC {
    /// [`DEFAULT_TOP_C`] components, no beam.
    fn default() -> Self {
        Self::new(DEFAULT_TOP_C)
    }
}

impl From<usize> for TopC {
    fn from(c: usize) -> Self {
        Self::new(c)
    }
}

impl TopC {
    /// The `c` best components of every frame.
    pub fn new(c: usize) -> Self {
        Self { c, beam: None }
    }

    /// Keeps only components within `nats` of the frame's best (`ℓ ≥ max ℓ - nats`).
    pub fn beam(mut self, nats: f64) -> Self {
        self.beam = Some(nats);
        self
    }

    /// The most components a frame keeps.
    pub fn get_c(&self) -> usize {
        self.c
    }

    /// The beam in nats, if any.
    pub fn get_beam(&self) -> Option<f64> {
        self.beam
    }

    /// Checks `c ≥ 1` and a finite, non-negative beam.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        if self.c == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "top-C is 0: select at least one component per frame (5 is usual)",
            ));
        }
        if let Some(beam) = self.beam
            && !(beam.is_finite() && beam >= 0.0)
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "the selection beam is {beam}: give a finite number of nats >= 0 \
                     (8 keeps components at least e^-8 as likely as the best)"
                ),
            ));
        }
        Ok(())
    }
}

/// The selected UBM components of every frame of an utterance, and the UBM's log-likelihood
/// of each frame over them (see the [module docs](super)).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianSelection {
    rule: TopC,
    n_components: usize,
    n_features: usize,
    /// Frame `t`'s components are `indices[offsets[t]..offsets[t + 1]]`.
    offsets: Vec<usize>,
    /// Component indices, increasing within a frame.
    indices: Vec<u32>,
    /// `n` values `logsumexp` of the selected `ℓ_k^u`.
    ubm_log_likelihood: Vec<f64>,
}

/// A thread's scratch for selecting one block: the kernel's block and the selected values.
struct SelectScratch<T> {
    block: BlockScratch<T>,
    values: Vec<f64>,
}

/// One block's selection: per-frame counts, the components, their UBM log-likelihood.
struct BlockSelection {
    counts: Vec<usize>,
    indices: Vec<u32>,
    log_likelihood: Vec<f64>,
}

impl GaussianSelection {
    /// Selects the `c` best UBM components (`c` is capped at the UBM's `k`) of every frame.
    ///
    /// # Errors
    /// `c = 0`, frames of the wrong dimension or not finite.
    pub fn new<T: Real>(ubm: &GaussianMixture<T>, x: Samples<'_, T>, c: usize) -> Result<Self> {
        Self::select(ubm, x, TopC::new(c))
    }

    /// Selects components of every frame by `rule` (its `c` capped at the UBM's `k`).
    ///
    /// # Errors
    /// A bad rule ([`TopC::validate`]), frames of the wrong dimension or not finite.
    pub fn select<T: Real>(
        ubm: &GaussianMixture<T>,
        x: Samples<'_, T>,
        rule: TopC,
    ) -> Result<Self> {
        rule.validate()?;
        ubm.check_samples(x)?;
        let (d, k) = (ubm.n_features(), ubm.n_components());
        let rule = TopC { c: rule.c.min(k), ..rule };
        let c = rule.c;
        let n = x.n_samples();
        let blocks: Vec<BlockSelection> = (0..n.div_ceil(BLOCK_ROWS))
            .into_par_iter()
            .map(|block| {
                // Block-sized scratch (half a MB at k = 512) is reused per thread, not
                // allocated and zeroed per rayon job.
                let padded = (BLOCK_ROWS * c).div_ceil(LANES) * LANES;
                with_cached(
                    |s: &SelectScratch<T>| s.block.fits(d, k) && s.values.len() >= padded,
                    || SelectScratch {
                        block: BlockScratch::new(d, k),
                        values: vec![f64::NEG_INFINITY; padded],
                    },
                    |SelectScratch { block: scratch, values }| {
                        scratch.load(x, block);
                        log_densities(ubm, scratch, true);
                        let len = scratch.len;
                        let mut out = BlockSelection {
                            counts: vec![c; len],
                            indices: vec![0; len * c],
                            log_likelihood: vec![0.0; len],
                        };
                        match rule.beam {
                            None => select_block(scratch, k, c, &mut out.indices, values),
                            Some(beam) => {
                                let used = select_beam_block(
                                    scratch,
                                    k,
                                    c,
                                    beam,
                                    &mut out.counts,
                                    &mut out.indices,
                                    values,
                                );
                                out.indices.truncate(used);
                            }
                        }
                        log_sum_exp_segments(values, &out.counts, &mut out.log_likelihood);
                        out
                    },
                )
            })
            .collect();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let total: usize = blocks.iter().map(|b| b.indices.len()).sum();
        let (mut indices, mut ubm_ll) = (Vec::with_capacity(total), Vec::with_capacity(n));
        for b in blocks {
            for count in b.counts {
                offsets.push(offsets[offsets.len() - 1] + count);
            }
            indices.extend(b.indices);
            ubm_ll.extend(b.log_likelihood);
        }
        Ok(Self {
            rule,
            n_components: k,
            n_features: d,
            offsets,
            indices,
            ubm_log_likelihood: ubm_ll,
        })
    }

    /// The most components a frame keeps (`c` capped at the UBM's `k`).
    pub fn top_c(&self) -> usize {
        self.rule.c
    }

    /// The rule the selection was made with (`c` capped at the UBM's `k`).
    pub fn rule(&self) -> TopC {
        self.rule
    }

    /// Number of frames.
    pub fn n_frames(&self) -> usize {
        self.ubm_log_likelihood.len()
    }

    /// Average number of components a frame keeps (`c` without a beam).
    pub fn mean_selected(&self) -> f64 {
        self.indices.len() as f64 / self.n_frames().max(1) as f64
    }

    /// The selected components of frame `t`, in increasing order.
    ///
    /// # Panics
    /// If `t` is not below [`n_frames`](Self::n_frames).
    pub fn components(&self, t: usize) -> &[u32] {
        &self.indices[self.offsets[t]..self.offsets[t + 1]]
    }

    /// The UBM's log-likelihood of every frame over its selected components.
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
        if let Some(first) = models.first() {
            first.check_samples(x)?;
        }
        let (n, m, c, d) = (self.n_frames(), models.len(), self.rule.c, self.n_features);
        let dp = d.div_ceil(ROW_PAD) * ROW_PAD;
        let tables: Vec<ModelTable<'_, T>> =
            models.iter().map(|m| ModelTable::new(m, dp)).collect();
        // Frame-major: frame t's m values are out[t * m..(t + 1) * m].
        let mut out = vec![0.0f64; n * m];
        let padded = (BLOCK_ROWS * c).div_ceil(LANES) * LANES;
        out.par_chunks_mut(BLOCK_ROWS * m.max(1)).enumerate().for_each_init(
            || {
                (
                    vec![T::ZERO; BLOCK_ROWS * dp],
                    vec![f64::NEG_INFINITY; padded],
                    vec![0.0f64; BLOCK_ROWS],
                    vec![0usize; BLOCK_ROWS],
                )
            },
            |(rows, values, ll, counts), (block, out)| {
                let start = block * BLOCK_ROWS;
                let len = out.len() / m.max(1);
                for b in 0..len {
                    rows[b * dp..b * dp + d].copy_from_slice(x.row(start + b));
                }
                let offsets = &self.offsets[start..=start + len];
                for (count, w) in counts.iter_mut().zip(offsets.windows(2)) {
                    *count = w[1] - w[0];
                }
                let idx = &self.indices[offsets[0]..offsets[len]];
                for (s, table) in tables.iter().enumerate() {
                    table.score(
                        &rows[..len * dp],
                        x,
                        start,
                        idx,
                        &counts[..len],
                        values,
                        &mut ll[..len],
                    );
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

/// The beam rule on one loaded block: for every frame, the components with
/// `ℓ ≥ max ℓ - beam`, at most `c` of them (the best; ties to the lower index), in component
/// order.
/// `counts[b]` gets frame `b`'s count, `idx` the components frame after frame, `values` their
/// `f64` values in the same order; returns the number of entries written.
///
/// One register of frames at a time: a SIMD max over the `k` components, then a SIMD compare
/// of every component against `max - beam` (the scalar insertion runs only for registers with
/// a frame in the beam; about the selected count per frame).
fn select_beam_block<T: Real>(
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    beam: f64,
    counts: &mut [usize],
    idx: &mut [u32],
    values: &mut [f64],
) -> usize {
    struct Beam<'a, T> {
        scratch: &'a BlockScratch<T>,
        k: usize,
        c: usize,
        beam: f64,
        counts: &'a mut [usize],
        idx: &'a mut [u32],
        values: &'a mut [f64],
    }
    impl<T: Real> pulp::WithSimd for Beam<'_, T> {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) -> usize {
            let Self { scratch, k, c, beam, counts, idx, values } = self;
            select_beam_impl(simd, scratch, k, c, beam, counts, idx, values)
        }
    }
    pulp::Arch::new().dispatch(Beam { scratch, k, c, beam, counts, idx, values })
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn select_beam_impl<S: pulp::Simd, T: Real>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    beam: f64,
    counts: &mut [usize],
    idx: &mut [u32],
    values: &mut [f64],
) -> usize {
    let len = scratch.len;
    let lanes = T::lanes::<S>();
    let regs = BLOCK_ROWS / lanes;
    let (rows, _) = T::as_simd::<S>(&scratch.log_density[..k * BLOCK_ROWS]);
    let neg = T::from_f64(f64::NEG_INFINITY);
    // Registers holding the block's frames (a short last block leaves the rest stale).
    let live = len.div_ceil(lanes);
    // Pass 1, the rows in memory order: every frame's best value, then its floor.
    let mut floor = vec![neg; BLOCK_ROWS];
    {
        let (best, _) = T::as_mut_simd::<S>(&mut floor);
        for row in rows.chunks_exact(regs) {
            for (b, v) in best.iter_mut().zip(&row[..live]) {
                *b = T::simd_max(simd, *b, *v);
            }
        }
        let beam = T::simd_splat(simd, T::from_f64(beam));
        for b in best.iter_mut() {
            *b = T::simd_sub(simd, *b, beam);
        }
    }
    // Pass 2, in memory order again: entries at or above their frame's floor are appended
    // to the frame's buffer of `2c` (value, component); a full buffer is cut to its best `c`
    // and the frame's bar raised to the `c`-th value. A register costs a compare; only lanes
    // in the beam are visited (about 8 per frame here, ~5% of registers).
    let room = 2 * c;
    let mut kept = vec![(neg, 0u32); BLOCK_ROWS * room];
    let mut n_kept = [0usize; BLOCK_ROWS];
    // Entries must be above `bar` (strictly: an equal later component loses the tie) once a
    // buffer has been cut; `-inf` before.
    let mut bar = [neg; BLOCK_ROWS];
    let (floors, _) = T::as_simd::<S>(&floor);
    // 2a: the registers with a lane in the beam, listed branch-free (the index is always
    // written, the count moves only on a hit), so the loop stays a load, a compare and a test.
    let mut hits = vec![0u32; k * regs];
    let mut n_hits = 0;
    for (comp, row) in rows.chunks_exact(regs).enumerate() {
        let first = (comp * regs) as u32;
        for (r, (v, f)) in row[..live].iter().zip(floors).enumerate() {
            hits[n_hits] = first + r as u32;
            n_hits += usize::from(T::simd_any_at_least(simd, *v, *f));
        }
    }
    // 2b: their lanes in the beam, from a lane mask.
    for &at in &hits[..n_hits] {
        let (comp, r) = (at as usize / regs, at as usize % regs);
        let mut mask = T::simd_mask_at_least(simd, rows[at as usize], floors[r]);
        while mask != 0 {
            let b = r * lanes + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let value = scratch.log_density[comp * BLOCK_ROWS + b];
            if bar[b] != neg && value <= bar[b] {
                continue;
            }
            let buffer = &mut kept[b * room..(b + 1) * room];
            buffer[n_kept[b]] = (value, comp as u32);
            n_kept[b] += 1;
            if n_kept[b] == room {
                bar[b] = keep_best(buffer, c);
                n_kept[b] = c;
            }
        }
    }
    for b in 0..len {
        if n_kept[b] > c {
            keep_best(&mut kept[b * room..b * room + n_kept[b]], c);
            n_kept[b] = c;
        }
    }
    let kept_at = |b: usize| b * room;
    let mut used = 0;
    for b in 0..len {
        let n = n_kept[b];
        counts[b] = n;
        for (i, &(value, comp)) in kept[kept_at(b)..kept_at(b) + n].iter().enumerate() {
            idx[used + i] = comp;
            values[used + i] = value.to_f64();
        }
        used += n;
    }
    used
}

/// Moves the `c` best of `entries` (larger values first, equal values by lower component)
/// to the front, in component order, and returns the `c`-th best value.
fn keep_best<T: Real>(entries: &mut [(T, u32)], c: usize) -> T {
    let better = |a: &(T, u32), b: &(T, u32)| {
        b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1))
    };
    entries.select_nth_unstable_by(c - 1, better);
    let bar = entries[c - 1].0;
    entries[..c].sort_unstable_by_key(|&(_, comp)| comp);
    bar
}

/// Keeps the `c` largest `log_density` values of every frame of the loaded block:
/// `idx` (`len x c`) gets their components, `values` (`BLOCK_ROWS x c`) the values, in component
/// order (equal values at the cut: the lower component is kept).
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
    // The picks are in component order already.
    for b in 0..len {
        for (o, v) in values[b * c..(b + 1) * c].iter_mut().zip(&picked[b * c..(b + 1) * c]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::CovarianceType;
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
                    let mut top = order[..c.min(12)].to_vec();
                    top.sort_unstable();
                    let got: Vec<usize> = sel.components(t).iter().map(|&i| i as usize).collect();
                    assert_eq!(got, top, "frame {t}: the best C in component order");
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
                // Component order, and ties at the cut go to the lower component: a selected
                // upper twin k + 20 means its equal lower twin k is selected too.
                assert!(got.windows(2).all(|w| w[0] < w[1]), "frame {t}: {got:?}");
                for &i in got.iter().filter(|&&i| i >= 20) {
                    assert!(got.contains(&(i - 20)), "frame {t}: {got:?}");
                }
                // The UBM (a model equal to it) scores the same on the same selection.
                let u = lse(&got.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                assert!((many[2][t] - u).abs() < 1e-5 * (1.0 + u.abs()), "frame {t}");
            }
        }
    }

    /// The beam rule against a naive per-frame reference: sort all UBM log-densities, keep
    /// those within the beam of the best, at most `C`; a huge beam is the fixed rule, bit for
    /// bit.
    #[test]
    fn beam_selection_matches_naive_selection() {
        for covariance_type in [CovarianceType::Diag, CovarianceType::Full] {
            let ubm = GaussianMixture::<f64>::random(covariance_type, 13, 3, 1.0, 7).unwrap();
            let spk = [
                GaussianMixture::<f64>::random(covariance_type, 13, 3, 1.0, 8).unwrap(),
                ubm.clone(),
            ];
            let refs: Vec<&GaussianMixture<f64>> = spk.iter().collect();
            // 517 frames: two full blocks and a part, not a multiple of the SIMD width.
            let (x, _) = ubm.sample(517, 9).unwrap();
            let x = x.samples();
            for c in [1, 3, 12, 40] {
                for beam in [0.0, 1.5, 8.0] {
                    let sel = GaussianSelection::select(&ubm, x, TopC::new(c).beam(beam)).unwrap();
                    assert_eq!(sel.rule(), TopC::new(c.min(13)).beam(beam));
                    let many = sel.log_likelihoods_many(&refs, x).unwrap();
                    let mut kept = 0;
                    for t in 0..x.n_samples() {
                        let lu = reference::weighted_log_densities(&ubm, x.row(t));
                        let ls = reference::weighted_log_densities(&spk[0], x.row(t));
                        let mut order: Vec<usize> = (0..13).collect();
                        order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                        let floor = lu[order[0]] - beam;
                        let mut want: Vec<usize> =
                            order.iter().copied().filter(|&i| lu[i] >= floor).take(c).collect();
                        want.sort_unstable();
                        let got: Vec<usize> =
                            sel.components(t).iter().map(|&i| i as usize).collect();
                        assert_eq!(got, want, "frame {t}, C = {c}, beam {beam}");
                        kept += got.len();
                        let u = lse(&want.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                        let v = lse(&want.iter().map(|&k| ls[k]).collect::<Vec<_>>());
                        let ubm_ll = sel.ubm_log_likelihoods()[t];
                        assert!((ubm_ll - u).abs() < 1e-9 * (1.0 + u.abs()), "frame {t}");
                        assert!((many[0][t] - v).abs() < 1e-9 * (1.0 + v.abs()), "frame {t}");
                        assert!((many[1][t] - u).abs() < 1e-9 * (1.0 + u.abs()), "frame {t}");
                    }
                    let mean = kept as f64 / x.n_samples() as f64;
                    assert_eq!(sel.mean_selected(), mean);
                    if beam == 0.0 {
                        assert_eq!(mean, 1.0, "no ties among random components");
                    }
                }
                // A beam wider than any gap: the fixed rule, bit for bit.
                let fixed = GaussianSelection::new(&ubm, x, c).unwrap();
                let wide = GaussianSelection::select(&ubm, x, TopC::new(c).beam(1e6)).unwrap();
                assert_eq!(fixed.indices, wide.indices);
                assert_eq!(fixed.offsets, wide.offsets);
                assert_eq!(fixed.ubm_log_likelihoods(), wide.ubm_log_likelihoods());
                assert_eq!(
                    fixed.log_likelihoods_many(&refs, x).unwrap(),
                    wide.log_likelihoods_many(&refs, x).unwrap()
                );
            }
        }
    }

    /// The beam rule in `f32` with exact ties (duplicated components) and a weight-zero-free
    /// UBM: the same components as the naive rule on the kernel's own values, ties to the lower
    /// index, and the same result for 1 and 2 threads.
    #[test]
    fn beam_selection_handles_ties_and_threads() {
        let base = GaussianMixture::<f32>::random(CovarianceType::Diag, 20, 3, 2.0, 11).unwrap();
        let twice = |v: &[f32]| [v, v].concat();
        let ubm = GaussianMixture::new(
            CovarianceType::Diag,
            twice(base.weights()).iter().map(|w| w / 2.0).collect(),
            twice(base.means()),
            twice(base.covariances()),
        )
        .unwrap();
        let (x, _) = ubm.sample(613, 5).unwrap();
        let x = x.samples();
        let densities = ubm.component_log_densities(x).unwrap();
        for (c, beam) in [(1, 0.0), (2, 0.0), (5, 3.0), (16, 6.0), (17, 6.0), (40, 1e3)] {
            let rule = TopC::new(c).beam(beam);
            let sel = GaussianSelection::select(&ubm, x, rule).unwrap();
            for t in 0..x.n_samples() {
                // The kernel's f32 values: log density + log weight, as the selection sees them.
                let row = &densities.as_slice()[t * 40..(t + 1) * 40];
                let lu: Vec<f32> = row.iter().zip(ubm.log_weights()).map(|(a, b)| a + b).collect();
                let mut order: Vec<usize> = (0..40).collect();
                order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                let floor = lu[order[0]] - beam as f32;
                let mut want: Vec<u32> =
                    order.iter().filter(|&&i| lu[i] >= floor).take(c).map(|&i| i as u32).collect();
                want.sort_unstable();
                // Ties come in pairs (k, k + 20); a width-0 beam keeps both if C allows.
                assert_eq!(sel.components(t), &want[..], "frame {t}, C = {c}, beam {beam}");
            }
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            let single = one.install(|| GaussianSelection::select(&ubm, x, rule).unwrap());
            assert_eq!(single, sel);
        }
    }
}
