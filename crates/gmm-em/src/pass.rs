//! One pass over the data producing [`SuffStats`]: the fused E-step ([`e_step`], the public
//! seam every learner and every scale-out route is built on), and the same loop fed by other
//! sources of responsibilities (hard k-means labels, random draws).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::e_step;
//!
//! let model = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 2.0, 1)?;
//! let (x, _) = model.sample(1000, 2)?;
//! let (head, tail) = x.as_slice().split_at(2 * 480); // 480 rows: two whole blocks
//! let mut stats = e_step(&model, gmm_core::Samples::new(head, 2)?, None)?;
//! stats.merge(&e_step(&model, gmm_core::Samples::new(tail, 2)?, None)?)?;
//! let whole = e_step(&model, x.samples(), None)?;
//! assert_eq!(stats.counts().len(), 3);
//! assert!((stats.log_likelihood() - whole.log_likelihood()).abs() < 1e-9 * whole.log_likelihood().abs());
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Current implementation
//!
//! A [`BlockPass`] (gmm-core's one block-pass skeleton) loads blocks of [`BLOCK_ROWS`] samples;
//! a caller-supplied `fill` leaves the block's responsibilities `r_nk` (component-major) and
//! per-sample log-likelihoods in its [`BlockScratch`]; the block is then folded into the
//! leaf's statistics at once (gmm-core's moment kernel), so responsibilities for all `n`
//! samples never exist in memory. The moment kernel sums a block in its own form
//! ([`LaneMoments`]: SIMD lanes for diagonal moments, a dense `(d+1) x (d+1)` matrix for full
//! ones; one per thread), added into the leaf's [`SuffStats`] after every block: one addition
//! per block and statistic, so a leaf split between the parts of a sharded pass is refolded
//! from its blocks' values with the same bits (see `gmm_core::par::BlockGrid`). For `f64` data the
//! kernel reads the block and its responsibilities where the block pass left them (no copy;
//! sample weights are multiplied into a copy of the responsibilities); `f32` blocks are
//! converted to `f64` by the kernel, as it reads them or into its scratch (gmm-core's
//! `moments::Columns`). Leaves of blocks are reduced by a fixed tree, so results
//! are bit-identical for any number of threads. Memory beyond the data is
//! `O(threads x (block x k + k x d² x lanes))`.

use gmm_core::kernel::moments::{
    Columns, LaneMoments, MomentBlock, MomentScratch, MomentSums, Responsibilities,
};
use gmm_core::kernel::shared_centre::SharedCentre;
use gmm_core::kernel::{
    AlignedVec, BLOCK_ROWS, BlockPass, BlockScratch, log_densities,
    log_likelihoods_and_responsibilities,
};
use gmm_core::par::{BlockGrid, Piece};
use gmm_core::{GaussianMixture, Real, Samples};

use crate::checks::{ZeroWeights, check_sample_weights};
use crate::stats::{MomentLayout, SuffStats};

/// A pass's scratch beside the kernel's: an `f64` copy of the block's weighted
/// responsibilities (sample weights), and the moment kernel's buffers and lanes (one set per
/// thread, flushed after every block).
struct StatsScratch {
    /// Weighted responsibilities (64-byte aligned like every block the kernels read: the
    /// moment kernel's register loads would otherwise straddle cache lines).
    rw: AlignedVec<f64>,
    moments: MomentScratch,
    lanes: LaneMoments,
}

impl StatsScratch {
    fn new(full: bool, d: usize, k: usize) -> Self {
        Self {
            rw: AlignedVec::new(0.0, k * BLOCK_ROWS),
            moments: MomentScratch::new(d),
            lanes: LaneMoments::new(full, k, d),
        }
    }
}

/// Accumulates statistics over the rows `rows` of `x` (in that order; `None`: all of `x`) as if
/// they had been copied into a matrix first: the same blocks, the same tree, the same bits,
/// without the copy. `fill(scratch, block)` is called after the block is loaded into
/// `scratch.xt`; it must leave `r_nk` in `scratch.log_density` and `log p(x_n)` (or zeros) in
/// `scratch.log_likelihood`. `sample_weights` are indexed by position in `rows`. The
/// components `centre` shares have their sums formed around it (gmm-core's `shared_centre`;
/// [`SharedCentre::none`]: each around its own shift).
#[allow(clippy::too_many_arguments)]
pub(crate) fn accumulate<T, F>(
    x: Samples<'_, T>,
    rows: Option<&[usize]>,
    sample_weights: Option<&[f64]>,
    n_components: usize,
    layout: MomentLayout,
    shift: &[f64],
    centre: &SharedCentre,
    fill: F,
) -> SuffStats
where
    T: Real,
    F: Fn(&mut BlockScratch<T>, usize) + Sync,
{
    let (d, k) = (x.n_features(), n_components);
    let empty = || SuffStats::empty(k, d, layout, shift.to_vec());
    let pass = BlockPass::new(x, k).rows(rows);
    let grid = BlockGrid::new(pass.n_blocks());
    match grid.root() {
        Some(root) => {
            let root = Piece::Node(root);
            accumulate_piece(pass, &grid, root, sample_weights, layout, shift, centre, fill)
        }
        None => empty(),
    }
}

/// The statistics of one piece of `grid` (the global grid of a pass that `pass`'s rows are
/// part of; see [`BlockPass::first_block`]): what the whole pass's tree holds at that node or
/// block, bit for bit. `fill` gets global block indices; `sample_weights` are indexed by
/// position in `pass`; `centre` as in [`accumulate`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn accumulate_piece<T, F>(
    pass: BlockPass<'_, T>,
    grid: &BlockGrid,
    piece: Piece,
    sample_weights: Option<&[f64]>,
    layout: MomentLayout,
    shift: &[f64],
    centre: &SharedCentre,
    fill: F,
) -> SuffStats
where
    T: Real,
    F: Fn(&mut BlockScratch<T>, usize) + Sync,
{
    let (d, k) = (shift.len() / pass.n_components().max(1), pass.n_components());
    let empty = || SuffStats::empty(k, d, layout, shift.to_vec());
    let full = layout == MomentLayout::Full;
    pass.run_piece_with(
        grid,
        piece,
        || StatsScratch::new(full, d, k),
        |s: &StatsScratch| s.lanes.fits(full, k, d),
        empty,
        |stats, block_scratch, s, block| {
            fill(block_scratch, block);
            let len = block_scratch.len;
            let weights = sample_weights.map(|w| &w[pass.block_rows(block)]);
            // One addition per block into the leaf's sums (here and in the lanes' flush
            // below): what lets a leaf split between parts be refolded from its blocks' values.
            let (ll, weight) = block_scratch.log_likelihood_sums(weights);
            stats.log_likelihood += ll;
            stats.total_weight += weight;
            // The block's samples as they are (f32 ones converted by the kernel as it reads
            // them, or into its scratch where a path needs f64).
            let xt = Columns::of(&block_scratch.xt[..]);
            // Unweighted responsibilities are read in their own precision (f32 ones widened
            // by the kernel a component at a time); weighted ones are formed here in f64.
            let rw = match weights {
                None => Responsibilities::of(&block_scratch.log_density[..]),
                Some(w) => {
                    for c in 0..k {
                        let r = &block_scratch.log_density[c * BLOCK_ROWS..c * BLOCK_ROWS + len];
                        let rw = &mut s.rw[c * BLOCK_ROWS..c * BLOCK_ROWS + len];
                        for ((o, r), w) in rw.iter_mut().zip(r).zip(w) {
                            *o = r.to_f64() * w;
                        }
                    }
                    Responsibilities::F64(&s.rw)
                }
            };
            let block = MomentBlock { xt, rw, stride: BLOCK_ROWS, len };
            s.lanes.set_centre(centre);
            s.lanes.add_block(&stats.shift, block, &mut s.moments);
            s.lanes.flush(MomentSums {
                full,
                shift: &stats.shift,
                counts: &mut stats.counts,
                first: &mut stats.first,
                second: &mut stats.second,
            });
        },
        |mut a, b| {
            a.add(&b);
            a
        },
    )
}

/// The fused E-step over `x`: responsibilities under `model`, statistics shifted by its means,
/// and the weighted log-likelihood `Σ_n w_n log p(x_n)` ([`SuffStats::log_likelihood`]).
///
/// `sample_weights` (`n` finite values `>= 0`; `None`: 1 each) multiply the responsibilities.
/// The data must match the model's dimension and be finite. Any thread count gives the same
/// bits; merging the statistics of consecutive row ranges gives those of the whole range up
/// to the order of the additions (see `docs/ARCHITECTURE.md`).
pub fn e_step<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
) -> gmm_core::Result<SuffStats> {
    model.check_samples(x)?;
    if let Some(w) = sample_weights {
        check_sample_weights(w, x.n_samples(), ZeroWeights::Allowed)?;
    }
    Ok(e_step_unchecked(model, x, sample_weights))
}

/// [`e_step`] on inputs the caller has checked.
pub(crate) fn e_step_unchecked<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
) -> SuffStats {
    model_pass(model, x, None, sample_weights)
}

/// [`e_step`] over the rows `rows` of `x`, in that order (`sample_weights` by position in
/// `rows`): bit-identical to [`e_step`] on a copy of those rows.
pub(crate) fn e_step_rows<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    rows: &[usize],
    sample_weights: Option<&[f64]>,
) -> SuffStats {
    model_pass(model, x, Some(rows), sample_weights)
}

/// The fused E-step over `rows` of `x` (`None`: all of them).
fn model_pass<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    rows: Option<&[usize]>,
    sample_weights: Option<&[f64]>,
) -> SuffStats {
    let k = model.n_components();
    let shift: Vec<f64> = model.means().iter().map(|v| v.to_f64()).collect();
    let layout = MomentLayout::for_covariance(model.covariance_type());
    let centre = SharedCentre::for_model(model);
    accumulate(x, rows, sample_weights, k, layout, &shift, &centre, |scratch, _| {
        log_densities(model, scratch, true);
        log_likelihoods_and_responsibilities(k, scratch, true);
    })
}

#[cfg(test)]
mod tests {
    use gmm_core::CovarianceType;

    use super::*;

    /// The fused E-step forms the sums of the components near the shared centre around it
    /// (gmm-core's `shared_centre`): the same statistics as the exact per-component kernel to
    /// the precision the centre's radius allows, for every covariance type, with one component
    /// moved 100 standard deviations away (it keeps its own shift) and the rest sharing.
    #[test]
    fn e_step_around_the_shared_centre_matches_the_exact_kernel() {
        for t in CovarianceType::ALL {
            let (k, d) = (7, 5);
            let base = GaussianMixture::<f64>::random(t, k, d, 0.5, 3).unwrap();
            let mut means = base.means().to_vec();
            // Component 0's first variance (full, diagonal, spherical) or the shared one's
            // (tied).
            let sd0 = base.covariances()[0].sqrt();
            means[0] += 100.0 * sd0;
            let model = GaussianMixture::new(
                t,
                base.weights().to_vec(),
                means,
                base.covariances().to_vec(),
            )
            .unwrap();
            let centre = SharedCentre::for_model(&model);
            assert!(!centre.shares(0), "{t}: the far component shares the centre");
            assert!((1..k).filter(|&c| centre.shares(c)).count() >= 3, "{t}: {centre:?}");
            let (x, _) = model.sample(2000, 5).unwrap();
            let shared = e_step(&model, x.samples(), None).unwrap();
            let shift: Vec<f64> = model.means().to_vec();
            let layout = MomentLayout::for_covariance(t);
            let exact =
                accumulate(x.samples(), None, None, k, layout, &shift, &SharedCentre::none(), {
                    |scratch: &mut BlockScratch<f64>, _| {
                        log_densities(&model, scratch, true);
                        log_likelihoods_and_responsibilities(k, scratch, true);
                    }
                });
            assert_eq!(shared.log_likelihood.to_bits(), exact.log_likelihood.to_bits());
            let close = |a: &[f64], b: &[f64], what: &str| {
                let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    assert!((x - y).abs() <= 1e-12 * scale, "{t} {what}[{i}]: {x} vs {y}");
                }
            };
            close(&shared.counts, &exact.counts, "counts");
            close(&shared.first, &exact.first, "first");
            close(&shared.second, &exact.second, "second");
            // The exact kernel and the centred one do differ (the test would pass vacuously
            // if the centre were not used).
            assert_ne!(shared.second, exact.second, "{t}");
        }
    }

    /// The precision the radius promises, at its edge: components 15 standard deviations from
    /// the centre on either side (they share it), the data far from the origin (offset 1e4).
    /// Each second moment around the component's shift, from the centre, agrees with the exact
    /// kernel's to within `(1 + 15)²` ulps of `N σ_i σ_j`, times a small factor for the sums'
    /// own rounding.
    #[test]
    fn moments_at_the_edge_of_the_radius_keep_their_precision() {
        let d = 3;
        let offset = 1.0e4;
        let means: Vec<f64> = [-15.0, 0.0, 15.0]
            .iter()
            .flat_map(|&m| (0..d).map(move |j| offset + m * (1.0 + 0.1 * j as f64)))
            .collect();
        let covariances: Vec<f64> =
            (0..3).flat_map(|_| (0..d).map(|j| (1.0 + 0.1 * j as f64).powi(2))).collect();
        let model =
            GaussianMixture::new(CovarianceType::Diag, vec![0.3, 0.4, 0.3], means, covariances)
                .unwrap();
        let centre = SharedCentre::for_model(&model);
        assert!((0..3).all(|c| centre.shares(c)), "{centre:?}");
        // The same components with full covariances (diagonal matrices).
        let variances = model.covariances();
        let mut full_cov = vec![0.0; 3 * d * d];
        for c in 0..3 {
            for j in 0..d {
                full_cov[c * d * d + j * d + j] = variances[c * d + j];
            }
        }
        let full = GaussianMixture::new(
            CovarianceType::Full,
            model.weights().to_vec(),
            model.means().to_vec(),
            full_cov,
        )
        .unwrap();
        for model in [&model, &full] {
            let t = model.covariance_type();
            let (x, _) = model.sample(4800, 9).unwrap();
            let shared = e_step(model, x.samples(), None).unwrap();
            let shift: Vec<f64> = model.means().to_vec();
            let layout = MomentLayout::for_covariance(t);
            let exact =
                accumulate(x.samples(), None, None, 3, layout, &shift, &SharedCentre::none(), {
                    |scratch: &mut BlockScratch<f64>, _| {
                        log_densities(model, scratch, true);
                        log_likelihoods_and_responsibilities(3, scratch, true);
                    }
                });
            let per = shared.second.len() / 3;
            for c in 0..3 {
                let n = exact.counts[c];
                for e in 0..per {
                    let (i, j) = if per == d { (e, e) } else { (e / d, e % d) };
                    let scale = n * (1.0 + 0.1 * i as f64) * (1.0 + 0.1 * j as f64);
                    let (a, b) = (shared.second[c * per + e], exact.second[c * per + e]);
                    // (1 + 15)² = 256 ulps from the move, times 8 for the sums' own rounding
                    // (122 ulps was the largest difference seen).
                    let bound = 256.0 * 8.0 * f64::EPSILON * scale;
                    assert!((a - b).abs() <= bound, "{t} c={c} ({i}, {j}): {a} vs {b}");
                }
            }
        }
    }

    /// `e_step_rows` against `e_step` on a copy of the same rows: the same bits, for every
    /// covariance type, with and without weights, batches under one block, of several blocks
    /// and not a multiple of any SIMD width, `d = 1` and `k = 1`.
    #[test]
    fn e_step_rows_equals_e_step_on_a_copy() {
        for (case, &(d, k)) in [(1, 1), (3, 1), (1, 4), (15, 30)].iter().enumerate() {
            for t in CovarianceType::ALL {
                let model = GaussianMixture::<f64>::random(t, k, d, 2.0, case as u64).unwrap();
                let (x, _) = model.sample(1100, 10 + case as u64).unwrap();
                let x = x.samples();
                let w: Vec<f64> = (0..1100).map(|i| [0.0, 0.5, 1.0, 3.0][i % 4]).collect();
                for n in [1, 7, 40, 240, 241, 1000] {
                    let order: Vec<usize> = (0..n).map(|i| (i * 7919 + 3) % 1100).collect();
                    let copy: Vec<f64> = order.iter().flat_map(|&i| x.row(i).to_vec()).collect();
                    let copy = Samples::new(&copy, d).unwrap();
                    let bw: Vec<f64> = order.iter().map(|&i| w[i]).collect();
                    for weights in [None, Some(bw.as_slice())] {
                        let a = e_step_rows(&model, x, &order, weights);
                        let b = e_step(&model, copy, weights).unwrap();
                        let what = format!("{t} d={d} k={k} n={n}");
                        assert_eq!(
                            a.log_likelihood.to_bits(),
                            b.log_likelihood.to_bits(),
                            "{what}"
                        );
                        assert_eq!(a.total_weight, b.total_weight, "{what}");
                        assert_eq!(a.counts, b.counts, "{what}");
                        assert_eq!(a.first, b.first, "{what}");
                        assert_eq!(a.second, b.second, "{what}");
                    }
                }
            }
        }
    }
}
