//! Deterministic parallel reduction over blocks of samples.
//!
//! Floating-point addition is not associative, so a reduction whose shape depended on the
//! number of threads (rayon's `sum`, `fold`) would give different bits on different machines.
//! Here the shape is fixed by the number of blocks alone: blocks are grouped into leaves of
//! [`leaf_blocks`]`(n_blocks)` (up to [`LEAF_BLOCKS`]; fewer for short passes, so that a
//! mini-batch of a few blocks still spreads over the threads), each leaf is reduced
//! sequentially in block order, and leaves are combined
//! by a balanced binary tree whose split points depend only on the number of leaves.
//! `rayon::join` runs the two halves of every node wherever threads are free. The result is
//! bit-identical for 1, 2 or 64 threads, and memory is `O(threads x depth)` partial results.

use std::ops::Range;

/// Most blocks reduced sequentially in one leaf of the tree (passes of 128 blocks or more).
pub const LEAF_BLOCKS: usize = 8;

/// Blocks per leaf for a pass of `n_blocks` blocks: `n_blocks / 16` clamped to
/// `1..=LEAF_BLOCKS`. A function of `n_blocks` only (never of the thread count), so the tree's
/// shape and the result's bits stay fixed; long passes keep leaves of [`LEAF_BLOCKS`] to
/// amortise per-leaf scratch and merges, short ones (online EM's mini-batches, small data)
/// get one block per leaf so both halves of the tree have work.
pub fn leaf_blocks(n_blocks: usize) -> usize {
    (n_blocks / 16).clamp(1, LEAF_BLOCKS)
}

/// Reduces `n_blocks` blocks: `leaf` turns a range of at most [`LEAF_BLOCKS`] consecutive
/// block indices into a partial result, `merge(left, right)` combines neighbours in order.
/// Returns `None` when there are no blocks.
pub fn reduce_blocks<A, L, M>(n_blocks: usize, leaf: L, merge: M) -> Option<A>
where
    A: Send,
    L: Fn(Range<usize>) -> A + Sync,
    M: Fn(A, A) -> A + Sync,
{
    fn node<A, L, M>(
        leaves: Range<usize>,
        n_blocks: usize,
        per_leaf: usize,
        leaf: &L,
        merge: &M,
    ) -> A
    where
        A: Send,
        L: Fn(Range<usize>) -> A + Sync,
        M: Fn(A, A) -> A + Sync,
    {
        if leaves.len() == 1 {
            let first = leaves.start * per_leaf;
            return leaf(first..(first + per_leaf).min(n_blocks));
        }
        let mid = leaves.start + leaves.len() / 2;
        let (left, right) = rayon::join(
            || node(leaves.start..mid, n_blocks, per_leaf, leaf, merge),
            || node(mid..leaves.end, n_blocks, per_leaf, leaf, merge),
        );
        merge(left, right)
    }
    let per_leaf = leaf_blocks(n_blocks);
    let n_leaves = n_blocks.div_ceil(per_leaf);
    (n_leaves > 0).then(|| node(0..n_leaves, n_blocks, per_leaf, &leaf, &merge))
}
