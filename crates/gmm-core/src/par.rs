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
    let grid = BlockGrid::new(n_blocks);
    grid.root().map(|root| grid.reduce_node(root, &leaf, &merge))
}

/// The one global block grid of a pass over `n_blocks` blocks and its fixed reduction tree
/// (see the [module docs](self)): blocks by global index, leaves of
/// [`leaf_blocks`]`(n_blocks)` blocks, and the balanced binary tree over the leaves whose node
/// `first..end` (leaves) splits at `first + (end - first) / 2`.
///
/// A pass split between threads, processes, files or machines gives the same bits as the
/// whole pass when every part reduces the same nodes: a part covering blocks `a..b` reduces
/// [`cover`](Self::cover)`(a..b)` — the largest tree nodes inside it (its range's decomposition
/// in the tree: at most two per level) and, for a leaf it covers only partly, that leaf's
/// single blocks — and [`assemble`](Self::assemble) rebuilds the root from any parts that
/// tile the blocks exactly once. A leaf's value is a left fold of its blocks' values from an
/// empty accumulator, so a leaf split between parts is folded from its blocks' values again:
/// the same additions in the same order (as long as a leaf folds each block's value into its
/// accumulator as one addition, which every pass of the workspace does).
///
/// ```
/// use gmm_core::par::{BlockGrid, reduce_blocks};
///
/// // Sums of 1/(b + 1) over 1,000 blocks: whole, and from three arbitrary parts.
/// let value = |b: usize| 1.0 / (b as f64 + 1.0);
/// let leaf = |blocks: std::ops::Range<usize>| blocks.fold(0.0, |acc, b| acc + value(b));
/// let whole = reduce_blocks(1000, leaf, |a, b| a + b).unwrap();
/// let grid = BlockGrid::new(1000);
/// let mut pieces = Vec::new();
/// for part in [0..333, 333..700, 700..1000] {
///     for piece in grid.cover(part) {
///         pieces.push((piece, grid.reduce_piece(piece, &leaf, &|a, b| a + b)));
///     }
/// }
/// let again = grid.assemble(pieces, || 0.0, |a, b| a + b).unwrap();
/// assert_eq!(again.to_bits(), whole.to_bits());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockGrid {
    n_blocks: usize,
    per_leaf: usize,
    n_leaves: usize,
}

/// A node of a [`BlockGrid`]'s tree: the leaves `first_leaf..end_leaf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TreeNode {
    /// First leaf.
    pub first_leaf: usize,
    /// One past the last leaf.
    pub end_leaf: usize,
}

/// What one part of a pass reduces and sends: a whole tree node, or one block of a leaf that
/// the part covers only partly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Piece {
    /// The value of a tree node (all its blocks, reduced by the tree).
    Node(TreeNode),
    /// The value of one block, from an empty accumulator.
    Block(usize),
}

/// Why [`BlockGrid::assemble`] cannot rebuild the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridGap {
    /// These blocks are in no piece.
    Missing(Range<usize>),
    /// These blocks are in more than one piece (or a piece is not a node of this tree).
    Overlap(Range<usize>),
}

impl BlockGrid {
    /// The grid of a pass over `n_blocks` blocks.
    pub fn new(n_blocks: usize) -> Self {
        let per_leaf = leaf_blocks(n_blocks);
        Self { n_blocks, per_leaf, n_leaves: n_blocks.div_ceil(per_leaf) }
    }

    /// Blocks in the pass.
    pub fn n_blocks(&self) -> usize {
        self.n_blocks
    }

    /// Blocks per leaf (the last leaf may have fewer).
    pub fn per_leaf(&self) -> usize {
        self.per_leaf
    }

    /// Leaves in the pass.
    pub fn n_leaves(&self) -> usize {
        self.n_leaves
    }

    /// The root (`None` when there are no blocks).
    pub fn root(&self) -> Option<TreeNode> {
        (self.n_leaves > 0).then_some(TreeNode { first_leaf: 0, end_leaf: self.n_leaves })
    }

    /// A node's two children, `None` for a leaf.
    pub fn children(&self, node: TreeNode) -> Option<(TreeNode, TreeNode)> {
        let TreeNode { first_leaf, end_leaf } = node;
        (end_leaf - first_leaf > 1).then(|| {
            let mid = first_leaf + (end_leaf - first_leaf) / 2;
            (TreeNode { first_leaf, end_leaf: mid }, TreeNode { first_leaf: mid, end_leaf })
        })
    }

    /// Whether `node` is a node of this tree (reached from the root by halving).
    pub fn is_node(&self, node: TreeNode) -> bool {
        let mut at = match self.root() {
            Some(root) => root,
            None => return false,
        };
        loop {
            if at == node {
                return true;
            }
            match self.children(at) {
                Some((l, _)) if node.end_leaf <= l.end_leaf => at = l,
                Some((_, r)) if node.first_leaf >= r.first_leaf => at = r,
                _ => return false,
            }
        }
    }

    /// The blocks of a node.
    pub fn blocks(&self, node: TreeNode) -> Range<usize> {
        node.first_leaf * self.per_leaf..(node.end_leaf * self.per_leaf).min(self.n_blocks)
    }

    /// The blocks of a piece.
    pub fn piece_blocks(&self, piece: Piece) -> Range<usize> {
        match piece {
            Piece::Node(node) => self.blocks(node),
            Piece::Block(b) => b..b + 1,
        }
    }

    /// What a part covering `blocks` reduces, left to right: the largest tree nodes inside it
    /// and the single blocks of the leaves it covers only partly (see the type's docs).
    pub fn cover(&self, blocks: Range<usize>) -> Vec<Piece> {
        let (a, b) = (blocks.start, blocks.end.min(self.n_blocks));
        let mut out = Vec::new();
        if a >= b {
            return out;
        }
        let leaf_range = |l: usize| l * self.per_leaf..((l + 1) * self.per_leaf).min(self.n_blocks);
        let (mut first, mut end) = (a / self.per_leaf, (b - 1) / self.per_leaf + 1);
        let mut tail = Vec::new();
        if leaf_range(first).start < a || leaf_range(first).end > b {
            out.extend((a..b.min(leaf_range(first).end)).map(Piece::Block));
            first += 1;
        }
        if end > first && leaf_range(end - 1).end > b {
            tail.extend((leaf_range(end - 1).start..b).map(Piece::Block));
            end -= 1;
        }
        if first < end
            && let Some(root) = self.root()
        {
            self.collect(root, first..end, &mut out);
        }
        out.extend(tail);
        out
    }

    fn collect(&self, node: TreeNode, leaves: Range<usize>, out: &mut Vec<Piece>) {
        if node.end_leaf <= leaves.start || node.first_leaf >= leaves.end {
            return;
        }
        if node.first_leaf >= leaves.start && node.end_leaf <= leaves.end {
            out.push(Piece::Node(node));
            return;
        }
        if let Some((l, r)) = self.children(node) {
            self.collect(l, leaves.clone(), out);
            self.collect(r, leaves, out);
        }
    }

    /// The parts of `blocks` a streaming pass reads one at a time: `node`'s largest
    /// descendants of at most `max_blocks` blocks (leaves when even those are larger), left to
    /// right. [`reduce_streamed`](Self::reduce_streamed) reduces them in this order.
    pub fn chunks(&self, node: TreeNode, max_blocks: usize) -> Vec<TreeNode> {
        let mut out = Vec::new();
        self.chunks_into(node, max_blocks.max(1), &mut out);
        out
    }

    fn chunks_into(&self, node: TreeNode, max_blocks: usize, out: &mut Vec<TreeNode>) {
        match self.children(node) {
            Some((l, r)) if self.blocks(node).len() > max_blocks => {
                self.chunks_into(l, max_blocks, out);
                self.chunks_into(r, max_blocks, out);
            }
            _ => out.push(node),
        }
    }

    /// Reduces `node` from the values of its [`chunks`](Self::chunks)`(node, max_blocks)`,
    /// which `chunk` computes one after another, left to right (so a streaming pass holds one
    /// chunk of data at a time); merged by the tree, the result has the bits of
    /// [`reduce_node`](Self::reduce_node). The first error stops the pass.
    pub fn reduce_streamed<A, E>(
        &self,
        node: TreeNode,
        max_blocks: usize,
        chunk: &mut impl FnMut(TreeNode) -> Result<A, E>,
        merge: &impl Fn(A, A) -> A,
    ) -> Result<A, E> {
        match self.children(node) {
            Some((l, r)) if self.blocks(node).len() > max_blocks.max(1) => {
                let a = self.reduce_streamed(l, max_blocks, chunk, merge)?;
                let b = self.reduce_streamed(r, max_blocks, chunk, merge)?;
                Ok(merge(a, b))
            }
            _ => chunk(node),
        }
    }

    /// Reduces `node` on the current rayon pool: each leaf by `leaf(its blocks)`, leaves by the
    /// tree (see [`reduce_blocks`]).
    pub fn reduce_node<A, L, M>(&self, node: TreeNode, leaf: &L, merge: &M) -> A
    where
        A: Send,
        L: Fn(Range<usize>) -> A + Sync,
        M: Fn(A, A) -> A + Sync,
    {
        match self.children(node) {
            None => leaf(self.blocks(node)),
            Some((l, r)) => {
                let (a, b) = rayon::join(
                    || self.reduce_node(l, leaf, merge),
                    || self.reduce_node(r, leaf, merge),
                );
                merge(a, b)
            }
        }
    }

    /// The value of one piece: a node by [`reduce_node`](Self::reduce_node), a block by
    /// `leaf(block..block + 1)`.
    pub fn reduce_piece<A, L, M>(&self, piece: Piece, leaf: &L, merge: &M) -> A
    where
        A: Send,
        L: Fn(Range<usize>) -> A + Sync,
        M: Fn(A, A) -> A + Sync,
    {
        match piece {
            Piece::Node(node) => self.reduce_node(node, leaf, merge),
            Piece::Block(b) => leaf(b..b + 1),
        }
    }

    /// Rebuilds the root's value from `pieces` (in any order) that cover every block exactly
    /// once: a node present is taken as it is, a missing leaf is folded from its blocks'
    /// values (`merge(merge(empty(), b0), b1) ...`, as the leaf itself folds its blocks), and
    /// nodes are merged by the tree. Bit-identical to reducing the whole pass at once.
    ///
    /// # Errors
    /// [`GridGap::Missing`] naming blocks no piece covers, [`GridGap::Overlap`] naming blocks
    /// covered twice (or a piece that is not a node or block of this grid).
    pub fn assemble<A>(
        &self,
        pieces: impl IntoIterator<Item = (Piece, A)>,
        empty: impl Fn() -> A,
        merge: impl Fn(A, A) -> A,
    ) -> Result<A, GridGap> {
        let mut found = std::collections::BTreeMap::new();
        for (piece, value) in pieces {
            let valid = match piece {
                Piece::Node(node) => self.is_node(node),
                Piece::Block(b) => b < self.n_blocks,
            };
            if !valid || found.insert(piece, value).is_some() {
                return Err(GridGap::Overlap(self.piece_blocks(piece)));
            }
        }
        let Some(root) = self.root() else {
            return match found.keys().next() {
                Some(&piece) => Err(GridGap::Overlap(self.piece_blocks(piece))),
                None => Ok(empty()),
            };
        };
        let value = self.build(root, &mut found, &empty, &merge)?;
        match found.keys().next() {
            Some(&piece) => Err(GridGap::Overlap(self.piece_blocks(piece))),
            None => Ok(value),
        }
    }

    fn build<A>(
        &self,
        node: TreeNode,
        found: &mut std::collections::BTreeMap<Piece, A>,
        empty: &impl Fn() -> A,
        merge: &impl Fn(A, A) -> A,
    ) -> Result<A, GridGap> {
        if let Some(value) = found.remove(&Piece::Node(node)) {
            return Ok(value);
        }
        match self.children(node) {
            Some((l, r)) => {
                let a = self.build(l, found, empty, merge)?;
                let b = self.build(r, found, empty, merge)?;
                Ok(merge(a, b))
            }
            None => {
                let mut acc = empty();
                for b in self.blocks(node) {
                    match found.remove(&Piece::Block(b)) {
                        Some(value) => acc = merge(acc, value),
                        None => {
                            // Pieces to the left are consumed: the gap ends where the
                            // nearest remaining piece starts.
                            let end = found
                                .keys()
                                .map(|&p| self.piece_blocks(p).start)
                                .filter(|&s| s > b)
                                .min()
                                .unwrap_or(self.n_blocks);
                            return Err(GridGap::Missing(b..end));
                        }
                    }
                }
                Ok(acc)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(b: usize) -> f64 {
        ((b * 7919 % 1009) as f64 - 500.0) / 3.0 + 1e-3 * b as f64
    }

    fn leaf(blocks: Range<usize>) -> f64 {
        blocks.fold(0.0, |acc, b| acc + value(b))
    }

    /// Any split at block boundaries, reassembled, gives the whole pass's bits.
    #[test]
    fn any_split_reassembles_to_the_same_bits() {
        for n in [1, 2, 7, 15, 16, 17, 100, 127, 128, 129, 1000, 4321] {
            let grid = BlockGrid::new(n);
            let whole = reduce_blocks(n, leaf, |a, b| a + b).unwrap();
            for parts in [1, 2, 3, 7] {
                // Uneven cuts at arbitrary blocks.
                let mut cuts: Vec<usize> = (0..=parts).map(|i| i * n / parts).collect();
                for (i, c) in cuts.iter_mut().enumerate().take(parts).skip(1) {
                    *c = (*c + i * 3).min(n);
                }
                cuts.sort_unstable();
                let mut pieces = Vec::new();
                for w in cuts.windows(2) {
                    for piece in grid.cover(w[0]..w[1]) {
                        pieces.push((piece, grid.reduce_piece(piece, &leaf, &|a, b| a + b)));
                    }
                }
                pieces.reverse();
                let again = grid.assemble(pieces, || 0.0, |a, b| a + b).unwrap();
                assert_eq!(again.to_bits(), whole.to_bits(), "n = {n}, parts = {parts}");
            }
            // Streamed chunk by chunk, for several chunk sizes.
            for max in [1, 3, 8, 50, usize::MAX] {
                let root = grid.root().unwrap();
                let chunks = grid.chunks(root, max);
                let mut seen = Vec::new();
                let streamed = grid
                    .reduce_streamed::<f64, ()>(
                        root,
                        max,
                        &mut |node| {
                            seen.push(node);
                            Ok(grid.reduce_node(node, &leaf, &|a, b| a + b))
                        },
                        &|a, b| a + b,
                    )
                    .unwrap();
                assert_eq!(seen, chunks);
                assert_eq!(streamed.to_bits(), whole.to_bits(), "n = {n}, max = {max}");
            }
        }
    }

    #[test]
    fn cover_pieces_tile_the_range_with_few_pieces() {
        let grid = BlockGrid::new(10_000);
        assert_eq!(grid.per_leaf(), 8);
        for (a, b) in [(0, 10_000), (3, 9_999), (8, 16), (5, 6), (1600, 8000)] {
            let pieces = grid.cover(a..b);
            let mut at = a;
            for p in &pieces {
                let r = grid.piece_blocks(*p);
                assert_eq!(r.start, at);
                at = r.end;
            }
            assert_eq!(at, b);
            // At most two nodes per level and two partial leaves' blocks.
            assert!(pieces.len() <= 2 * 12 + 2 * 7, "{a}..{b}: {}", pieces.len());
        }
        assert_eq!(grid.cover(0..10_000), vec![Piece::Node(grid.root().unwrap())]);
    }

    #[test]
    fn missing_and_overlapping_pieces_are_named() {
        let grid = BlockGrid::new(100);
        let sum = |a: f64, b: f64| a + b;
        let part = |r: Range<usize>| {
            grid.cover(r)
                .into_iter()
                .map(|p| (p, grid.reduce_piece(p, &leaf, &sum)))
                .collect::<Vec<_>>()
        };
        let mut gap = part(0..40);
        gap.extend(part(45..100));
        assert_eq!(grid.assemble(gap, || 0.0, sum), Err(GridGap::Missing(40..45)));
        let mut twice = part(0..50);
        twice.extend(part(40..100));
        assert!(matches!(grid.assemble(twice, || 0.0, sum), Err(GridGap::Overlap(_))));
        let mut same = part(0..100);
        same.extend(part(0..100));
        assert!(matches!(grid.assemble(same, || 0.0, sum), Err(GridGap::Overlap(_))));
        let bogus = vec![(Piece::Node(TreeNode { first_leaf: 1, end_leaf: 3 }), 1.0)];
        assert!(matches!(grid.assemble(bogus, || 0.0, sum), Err(GridGap::Overlap(_))));
        assert_eq!(grid.assemble(Vec::new(), || 0.0, sum), Err(GridGap::Missing(0..100)));
    }
}
