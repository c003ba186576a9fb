//! Deterministic parallel reduction over blocks of samples.
//!
//! Floating-point addition is not associative, so a reduction whose shape depended on the
//! number of threads (rayon's `sum`, `fold`) would give different bits on different machines.
//! Here the shape is fixed by the number of blocks alone: blocks are grouped into leaves of
//! [`LEAF_BLOCKS`], each leaf is reduced sequentially in block order, and leaves are combined
//! by a balanced binary tree whose split points depend only on the number of leaves.
//! `rayon::join` runs the two halves of every node wherever threads are free. The result is
//! bit-identical for 1, 2 or 64 threads, and memory is `O(threads x depth)` partial results.

use std::ops::Range;

/// Blocks reduced sequentially in one leaf of the tree.
pub const LEAF_BLOCKS: usize = 8;

/// Reduces `n_blocks` blocks: `leaf` turns a range of at most [`LEAF_BLOCKS`] consecutive
/// block indices into a partial result, `merge(left, right)` combines neighbours in order.
/// Returns `None` when there are no blocks.
pub fn reduce_blocks<A, L, M>(n_blocks: usize, leaf: L, merge: M) -> Option<A>
where
    A: Send,
    L: Fn(Range<usize>) -> A + Sync,
    M: Fn(A, A) -> A + Sync,
{
    fn node<A, L, M>(leaves: Range<usize>, n_blocks: usize, leaf: &L, merge: &M) -> A
    where
        A: Send,
        L: Fn(Range<usize>) -> A + Sync,
        M: Fn(A, A) -> A + Sync,
    {
        if leaves.len() == 1 {
            let first = leaves.start * LEAF_BLOCKS;
            return leaf(first..(first + LEAF_BLOCKS).min(n_blocks));
        }
        let mid = leaves.start + leaves.len() / 2;
        let (left, right) = rayon::join(
            || node(leaves.start..mid, n_blocks, leaf, merge),
            || node(mid..leaves.end, n_blocks, leaf, merge),
        );
        merge(left, right)
    }
    let n_leaves = n_blocks.div_ceil(LEAF_BLOCKS);
    (n_leaves > 0).then(|| node(0..n_leaves, n_blocks, &leaf, &merge))
}
