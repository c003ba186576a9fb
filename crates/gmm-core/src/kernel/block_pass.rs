//! The one block-pass skeleton: every pass over data that runs the kernels on blocks of rows and
//! reduces what it finds (a log-likelihood, information criteria, sufficient statistics, Gaussian
//! selections) is a [`BlockPass`].
//!
//! # What a pass does
//!
//! The rows of the pass — all of `x`, or the rows `rows` of `x` in that order, as if they had
//! been copied into a matrix first — are cut into blocks of [`BLOCK_ROWS`]. Blocks are grouped
//! into leaves and leaves are combined by the fixed tree of [`reduce_blocks`](crate::par::reduce_blocks): each leaf starts
//! from an empty accumulator (`leaf()`), visits its blocks in order, and neighbouring leaves are
//! merged left to right (`merge(left, right)`). The tree's shape depends on the number of
//! blocks only, so whatever `visit` and `merge` add up is bit-identical for any number of
//! threads.
//!
//! Before `visit(acc, block_scratch, extra, block)` runs, block `block` is loaded (transposed)
//! into `block_scratch.xt` ([`BlockScratch::load`] or [`BlockScratch::load_rows`]); `visit`
//! then calls the kernels it needs (`log_densities`, the log-sum-exp, a selection) and folds
//! the block into `acc`. The block's rows are the pass's rows [`block_rows`](BlockPass::block_rows)
//! (positions in `rows` for a pass over some rows: that is how per-sample weights are indexed).
//!
//! # Scratch
//!
//! A block needs a [`BlockScratch`] (hundreds of KiB for large `k`) and often some scratch of
//! the caller's (`f64` copies of the block, selected values); allocating them per leaf costs
//! page faults and zeroing on every pass. Both are kept per thread by
//! [`with_cached`], as one `(BlockScratch<T>, X)` object: a cached
//! one is reused when its block scratch fits `(d, k)` and `extra_fits` accepts its `X`
//! ([`run`](BlockPass::run) has no caller scratch). Contents are not cleared between uses:
//! `visit` must overwrite what it reads.
//!
//! ```
//! use gmm_core::kernel::{BlockPass, log_densities, log_likelihoods_and_responsibilities};
//! use gmm_core::{CovarianceType, GaussianMixture};
//!
//! let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 2.0, 1)?;
//! let (x, _) = model.sample(1000, 2)?;
//! // Σ_n log p(x_n), summed by the deterministic tree: the same bits for any thread count.
//! let total = BlockPass::new(x.samples(), 3)
//!     .run(
//!         || 0.0,
//!         |total, block, _| {
//!             log_densities(&model, block, true);
//!             log_likelihoods_and_responsibilities(3, block, false);
//!             *total += block.log_likelihood_sums(None).0;
//!         },
//!         |a, b| a + b,
//!     )
//!     .unwrap_or(0.0);
//! assert_eq!(total, model.total_log_likelihood(x.samples())?);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use std::ops::Range;

use super::{BLOCK_ROWS, BlockScratch, n_blocks};
use crate::data::Samples;
use crate::par::{BlockGrid, Piece};
use crate::real::Real;
use crate::scratch::with_cached;

/// A pass over blocks of rows (see the [module docs](self)): which rows, and the number of
/// components the kernels compute per row.
#[derive(Debug, Clone, Copy)]
pub struct BlockPass<'a, T> {
    x: Samples<'a, T>,
    rows: Option<&'a [usize]>,
    n_components: usize,
    first_block: usize,
}

impl<'a, T: Real> BlockPass<'a, T> {
    /// A pass over every row of `x`, in order, for a model of `n_components` components.
    pub fn new(x: Samples<'a, T>, n_components: usize) -> Self {
        Self { x, rows: None, n_components, first_block: 0 }
    }

    /// The pass's rows are the rows of blocks `first_block..` of a larger pass's global grid
    /// (a chunk of a file, one shard's rows): block indices given to `visit` and to
    /// [`block_rows`](Self::block_rows) are then global, and
    /// [`run_piece_with`](Self::run_piece_with) reduces pieces of that grid.
    pub fn first_block(self, first_block: usize) -> Self {
        Self { first_block, ..self }
    }

    /// The same pass over the rows `rows` of `x` instead, in that order (`None`: every row):
    /// the blocks a copy of those rows would give, without the copy.
    ///
    /// # Panics
    ///
    /// [`run`](Self::run) panics if an index in `rows` is out of range for `x`.
    pub fn rows(self, rows: Option<&'a [usize]>) -> Self {
        Self { rows, ..self }
    }

    /// Components the kernels compute per row.
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// Rows in the pass.
    pub fn n_rows(&self) -> usize {
        self.rows.map_or(self.x.n_samples(), <[usize]>::len)
    }

    /// Blocks in the pass.
    pub fn n_blocks(&self) -> usize {
        n_blocks(self.n_rows())
    }

    /// The positions in the pass (in `rows` for a pass over some rows) of block `block`'s rows
    /// (`block` counted in the global grid: see [`first_block`](Self::first_block)).
    pub fn block_rows(&self, block: usize) -> Range<usize> {
        let start = (block - self.first_block) * BLOCK_ROWS;
        start..(start + BLOCK_ROWS).min(self.n_rows())
    }

    /// Runs the pass with no scratch beyond the kernel's: `leaf()` starts each leaf's
    /// accumulator, `visit(acc, scratch, block)` folds the loaded block `block` into it,
    /// `merge(left, right)` combines neighbouring leaves. `None` when there are no rows.
    pub fn run<A: Send>(
        &self,
        leaf: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, &mut BlockScratch<T>, usize) + Sync,
        merge: impl Fn(A, A) -> A + Sync,
    ) -> Option<A> {
        self.run_with(
            || (),
            |_| true,
            leaf,
            |acc, scratch, _, block| visit(acc, scratch, block),
            merge,
        )
    }

    /// Runs the pass with caller scratch `X` beside the kernel's, kept per thread with it:
    /// `extra()` makes one, `extra_fits(x)` says whether a cached one can serve this pass (it
    /// only needs to check what is not determined by `d` and `k`: the block scratch cached
    /// with it already fits those). Otherwise as [`run`](Self::run).
    pub fn run_with<X: 'static, A: Send>(
        &self,
        extra: impl Fn() -> X + Sync,
        extra_fits: impl Fn(&X) -> bool + Sync,
        leaf: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, &mut BlockScratch<T>, &mut X, usize) + Sync,
        merge: impl Fn(A, A) -> A + Sync,
    ) -> Option<A> {
        let grid = BlockGrid::new(self.n_blocks());
        let root = grid.root()?;
        Some(self.run_piece_with(&grid, Piece::Node(root), extra, extra_fits, leaf, visit, merge))
    }

    /// Reduces one piece of `grid` (the global grid this pass's rows are part of, starting at
    /// block [`first_block`](Self::first_block)) as the whole pass over the grid would: the
    /// piece's blocks must be among the pass's. Otherwise as [`run_with`](Self::run_with).
    ///
    /// # Panics
    /// If the piece has blocks outside the pass.
    pub fn run_piece_with<X: 'static, A: Send>(
        &self,
        grid: &BlockGrid,
        piece: Piece,
        extra: impl Fn() -> X + Sync,
        extra_fits: impl Fn(&X) -> bool + Sync,
        leaf: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, &mut BlockScratch<T>, &mut X, usize) + Sync,
        merge: impl Fn(A, A) -> A + Sync,
    ) -> A {
        let (x, rows) = (self.x, self.rows);
        let (d, k) = (x.n_features(), self.n_components);
        let blocks = grid.piece_blocks(piece);
        assert!(
            blocks.start >= self.first_block && blocks.end <= self.first_block + self.n_blocks(),
            "piece {blocks:?} outside the pass's blocks"
        );
        let leaf = |blocks: Range<usize>| {
            with_cached(
                |(block, own): &(BlockScratch<T>, X)| block.fits(d, k) && extra_fits(own),
                || (BlockScratch::new(d, k), extra()),
                |(scratch, own)| {
                    let mut acc = leaf();
                    for block in blocks {
                        match rows {
                            Some(rows) => scratch.load_rows(x, &rows[self.block_rows(block)]),
                            None => scratch.load(x, block - self.first_block),
                        }
                        visit(&mut acc, scratch, own, block);
                    }
                    acc
                },
            )
        };
        grid.reduce_piece(piece, &leaf, &merge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;
    use crate::mixture::GaussianMixture;

    /// Every row visited exactly once, in order, with the block's rows loaded; a pass over some
    /// rows sees the rows a copy would hold; the same result on 1 and 2 threads.
    #[test]
    fn visits_every_block_once_with_its_rows_loaded() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 3, 1.0, 1).unwrap();
        let (x, _) = model.sample(1300, 2).unwrap();
        let x = x.samples();
        for n in [1, 7, 240, 241, 1000, 1300] {
            let order: Vec<usize> = (0..n).map(|i| (i * 7919 + 3) % 1300).collect();
            let head = Samples::new(&x.as_slice()[..n * 3], 3).unwrap();
            for subset in [false, true] {
                let pass = match subset {
                    true => BlockPass::new(x, 2).rows(Some(&order)),
                    false => BlockPass::new(head, 2),
                };
                assert_eq!(pass.n_rows(), n);
                let run = || {
                    pass.run(
                        Vec::new,
                        |seen: &mut Vec<usize>, scratch, block| {
                            let range = pass.block_rows(block);
                            assert_eq!(scratch.len, range.len());
                            for (b, at) in range.enumerate() {
                                let row = if subset { order[at] } else { at };
                                for j in 0..3 {
                                    assert_eq!(scratch.xt[j * BLOCK_ROWS + b], x.row(row)[j]);
                                }
                                seen.push(at);
                            }
                        },
                        |mut a, b| {
                            a.extend(b);
                            a
                        },
                    )
                };
                let seen = run().unwrap();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}, subset {subset}");
                let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
                assert_eq!(one.install(run).unwrap(), seen);
            }
        }
    }

    /// Caller scratch is cached with the block scratch: made once per thread when it fits,
    /// once per leaf when `extra_fits` refuses it.
    #[test]
    fn caller_scratch_is_reused_only_when_it_fits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// A type no other test caches.
        struct Marker;
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 3, 1.0, 1).unwrap();
        let (x, _) = model.sample(4000, 2).unwrap();
        let pass = BlockPass::new(x.samples(), 2);
        let made = AtomicUsize::new(0);
        let run = |fits: bool| {
            pass.run_with(
                || {
                    made.fetch_add(1, Ordering::Relaxed);
                    Marker
                },
                |_: &Marker| fits,
                || 0usize,
                |leaves, _, _, _| *leaves = 1,
                |a, b| a + b,
            )
        };
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let leaves = one.install(|| run(true)).unwrap();
        assert!(leaves > 1 && made.swap(0, Ordering::Relaxed) == 1, "{leaves} leaves");
        assert_eq!(one.install(|| run(true)), Some(leaves));
        assert_eq!(made.swap(0, Ordering::Relaxed), 0);
        one.install(|| run(false));
        assert_eq!(made.load(Ordering::Relaxed), leaves);
    }

    /// Sums through the pass are bit-identical for 1 and 2 threads and equal to a sequential
    /// sum in the tree's order.
    #[test]
    fn sums_do_not_depend_on_the_thread_count() {
        let model = GaussianMixture::<f32>::random(CovarianceType::Full, 4, 3, 1.0, 3).unwrap();
        let (x, _) = model.sample(5000, 4).unwrap();
        let pass = BlockPass::new(x.samples(), 4);
        let run = || {
            pass.run(
                || 0.0f64,
                |acc, scratch, _| {
                    super::super::log_densities(&model, scratch, true);
                    *acc +=
                        scratch.log_density[..scratch.len].iter().map(|v| v.to_f64()).sum::<f64>();
                },
                |a, b| a + b,
            )
        };
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(one.install(run).map(f64::to_bits), two.install(run).map(f64::to_bits));
        assert!(pass.n_blocks() == 21 && run().is_some_and(f64::is_finite));
    }

    #[test]
    fn an_empty_subset_has_no_blocks() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 3, 1.0, 1).unwrap();
        let (x, _) = model.sample(10, 2).unwrap();
        let pass = BlockPass::new(x.samples(), 2).rows(Some(&[]));
        assert_eq!(pass.n_blocks(), 0);
        assert!(pass.run(|| 0, |_, _, _| unreachable!(), |a, b| a + b).is_none());
    }
}
