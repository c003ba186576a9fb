//! One pass over the data producing [`SuffStats`]: the fused E-step, and the same loop fed by
//! other sources of responsibilities (hard k-means labels, random draws).
//!
//! # Current implementation
//!
//! Blocks of [`BLOCK_ROWS`] samples go through a caller-supplied `fill`, which leaves the
//! block's responsibilities `r_nk` (component-major) and per-sample log-likelihoods in a
//! [`BlockScratch`]; the block is then folded into the leaf's statistics at once, so
//! responsibilities for all `n` samples never exist in memory. Leaves of blocks are reduced by
//! [`gmm_core::par::reduce_blocks`]'s fixed tree, so results are bit-identical for any number
//! of threads. Memory beyond the data is `O(threads x (block x k + k x d²))`.

use gmm_core::kernel::{
    BLOCK_ROWS, BlockScratch, log_densities, log_likelihoods_and_responsibilities, n_blocks,
};
use gmm_core::par::reduce_blocks;
use gmm_core::scratch::with_cached;
use gmm_core::{GaussianMixture, Real, Samples};

use crate::stats::{MomentLayout, SuffStats};

/// Per-block scratch of a pass: the kernel scratch plus `f64` copies for the statistics.
pub(crate) struct PassScratch<T> {
    pub block: BlockScratch<T>,
    xt: Vec<f64>,
    rw: Vec<f64>,
    centred: Vec<f64>,
    weighted: Vec<f64>,
}

impl<T: Real> PassScratch<T> {
    fn new(d: usize, k: usize) -> Self {
        Self {
            block: BlockScratch::new(d, k),
            xt: vec![0.0; d * BLOCK_ROWS],
            rw: vec![0.0; k * BLOCK_ROWS],
            centred: vec![0.0; d * BLOCK_ROWS],
            weighted: vec![0.0; d * BLOCK_ROWS],
        }
    }
}

/// Accumulates statistics over all of `x`. `fill(scratch, block)` is called after the block
/// is loaded into `scratch.xt`; it must leave `r_nk` in `scratch.log_density` and
/// `log p(x_n)` (or zeros) in `scratch.log_likelihood`.
pub(crate) fn accumulate<T, F>(
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
    n_components: usize,
    layout: MomentLayout,
    shift: &[f64],
    fill: F,
) -> SuffStats
where
    T: Real,
    F: Fn(&mut BlockScratch<T>, usize) + Sync,
{
    let (d, k) = (x.n_features(), n_components);
    let empty = || SuffStats::new(k, d, layout, shift.to_vec());
    reduce_blocks(
        n_blocks(x.n_samples()),
        |blocks| {
            let mut stats = empty();
            let fits = |s: &PassScratch<T>| s.block.fits(d, k);
            with_cached(
                fits,
                || PassScratch::<T>::new(d, k),
                |s| {
                    for block in blocks {
                        s.block.load(x, block);
                        fill(&mut s.block, block);
                        let len = s.block.len;
                        let start = block * BLOCK_ROWS;
                        let weights = sample_weights.map(|w| &w[start..start + len]);
                        for (dst, src) in s.xt.iter_mut().zip(&s.block.xt) {
                            *dst = src.to_f64();
                        }
                        for c in 0..k {
                            let r = &s.block.log_density[c * BLOCK_ROWS..c * BLOCK_ROWS + len];
                            let rw = &mut s.rw[c * BLOCK_ROWS..c * BLOCK_ROWS + len];
                            match weights {
                                Some(w) => {
                                    for ((o, r), w) in rw.iter_mut().zip(r).zip(w) {
                                        *o = r.to_f64() * w;
                                    }
                                }
                                None => {
                                    for (o, r) in rw.iter_mut().zip(r) {
                                        *o = r.to_f64();
                                    }
                                }
                            }
                        }
                        let (ll, weight) = s.block.log_likelihood_sums(weights);
                        stats.log_likelihood += ll;
                        stats.total_weight += weight;
                        stats.accumulate_block(
                            &s.xt,
                            &s.rw,
                            BLOCK_ROWS,
                            len,
                            &mut s.centred,
                            &mut s.weighted,
                        );
                    }
                },
            );
            stats
        },
        |mut a, b| {
            a.merge(&b);
            a
        },
    )
    .unwrap_or_else(empty)
}

/// The fused E-step: responsibilities under `model`, statistics shifted by its means, and the
/// weighted log-likelihood `Σ w_n log p(x_n)` (in `stats.log_likelihood`).
pub(crate) fn e_step<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
) -> SuffStats {
    let k = model.n_components();
    let shift: Vec<f64> = model.means().iter().map(|v| v.to_f64()).collect();
    let layout = MomentLayout::for_covariance(model.covariance_type());
    accumulate(x, sample_weights, k, layout, &shift, |scratch, _| {
        log_densities(model, scratch, true);
        log_likelihoods_and_responsibilities(k, scratch, true);
    })
}
