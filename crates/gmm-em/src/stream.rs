//! Passes over data that does not fit in memory, or that is split between processes: the same
//! statistics, bit for bit, from rows read a chunk at a time, from one shard of the rows, or
//! from several machines.
//!
//! # One global block grid
//!
//! Every pass cuts its rows into blocks of [`BLOCK_ROWS`] by global row index and reduces the
//! blocks' statistics by one fixed tree ([`BlockGrid`]: leaves of up to 8 blocks, a balanced
//! binary tree over the leaves whose shape depends on the number of rows only). A [`Stream`]
//! reads its rows in chunks that are nodes of that tree, so holding one chunk at a time it
//! computes what the in-memory pass computes at that node; a shard covering rows `a..b` (at
//! block boundaries) reduces its range's decomposition in the tree — the largest nodes inside
//! it, at most two per level, plus the single blocks of a leaf it covers only partly — into a
//! [`PartialStats`]. [`PartialStats::assemble`] rebuilds the root from parts that tile the rows
//! exactly once, by the same tree: so threads, chunks, files and ranks all give the bits of
//! the in-memory [`crate::e_step`].
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::stream::{PartialStats, Stream};
//!
//! let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 2.0, 1)?;
//! let (x, _) = model.sample(100_000, 2)?;
//! let whole = gmm_em::e_step(&model, x.samples(), None)?;
//! // Three shards, each read in chunks of 4,800 rows.
//! let samples = x.samples();
//! let parts = (0..3)
//!     .map(|i| Stream::new(&samples).chunk_rows(4800).shard(i, 3)?.e_step_part(&model))
//!     .collect::<gmm_core::Result<Vec<_>>>()?;
//! let again = PartialStats::merge(parts.into_iter().enumerate().map(|(i, p)| (format!("part {i}"), p)))?
//!     .assemble()?;
//! assert_eq!(again.to_bytes(), whole.to_bytes());
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Current implementation
//!
//! A reader thread reads the next chunk while the pool computes the current one (so at most
//! three chunks are in memory: being read, waiting, being computed); a chunk's blocks are
//! reduced on all threads by the tree, exactly as in memory. Values are checked for NaN and
//! infinity as they are read (the error names the row and where it comes from). Per-sample
//! weights, when given, are held in memory (8 bytes a row).

use std::ops::Range;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use gmm_core::data::check_finite_rows;
use gmm_core::kernel::{
    BLOCK_ROWS, BlockPass, BlockScratch, log_densities, log_likelihoods_and_responsibilities,
    n_blocks,
};
use gmm_core::par::{BlockGrid, GridGap, Piece, TreeNode};
use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, RowSource, Samples};

use crate::checks::{ZeroWeights, check_sample_weights};
use crate::pass::accumulate_piece;
use crate::stats::{MomentLayout, SuffStats, fnv1a64};
use gmm_core::kernel::shared_centre::SharedCentre;

/// Rows a chunk holds by default (`--memory-budget` picks its own): 64 MiB of f32 x 39.
pub const DEFAULT_CHUNK_ROWS: usize = 430_080;

/// How the statistics of every process's part become the statistics of the whole pass: each
/// process calls [`combine`](Combine::combine) with its own part — or the error that stopped
/// it, so that the others learn of it instead of waiting — and every one of them gets the same
/// whole (or the same error).
pub trait Combine: Sync {
    /// The whole pass's statistics from this process's part.
    fn combine(&self, part: Result<PartialStats>) -> Result<SuffStats>;
}

/// One process holds every part: the whole is its part, assembled.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl Combine for Local {
    fn combine(&self, part: Result<PartialStats>) -> Result<SuffStats> {
        part?.assemble()
    }
}

/// What one pass read and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PassRecord {
    /// Rows read.
    pub rows: usize,
    /// Bytes of data read.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Progress within a pass, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassProgress {
    /// The pass, counting from 1.
    pub pass: usize,
    /// Rows of this part done so far in the pass.
    pub rows_done: usize,
    /// Rows of this part.
    pub rows_total: usize,
    /// Seconds since the pass started.
    pub seconds: f64,
}

/// The statistics of part of a pass: its pieces of the global grid (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PartialStats {
    n_rows: usize,
    rows: Vec<Range<usize>>,
    pieces: Vec<(Piece, SuffStats)>,
}

impl PartialStats {
    /// Rows in the whole data.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The row ranges this part covers, sorted and disjoint.
    pub fn rows(&self) -> &[Range<usize>] {
        &self.rows
    }

    /// The pieces and their statistics.
    pub fn pieces(&self) -> &[(Piece, SuffStats)] {
        &self.pieces
    }

    /// Whether the part covers every row.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }

    /// Row ranges no part covers.
    pub fn missing(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut at = 0;
        for r in &self.rows {
            if r.start > at {
                out.push(at..r.start);
            }
            at = at.max(r.end);
        }
        if at < self.n_rows {
            out.push(at..self.n_rows);
        }
        out
    }

    fn grid(&self) -> BlockGrid {
        BlockGrid::new(n_blocks(self.n_rows))
    }

    /// Merges named parts of one pass (names are for messages: file names, ranks): they must
    /// cover disjoint rows of the same data with statistics of one shape and shift. When they
    /// cover every row the result is assembled into one piece, the whole pass's statistics.
    ///
    /// # Errors
    /// [`ErrorKind::MismatchedStatistics`] naming the two parts that disagree (different data
    /// sizes, shapes or shifts, or overlapping rows), or an empty list.
    pub fn merge(parts: impl IntoIterator<Item = (String, PartialStats)>) -> Result<PartialStats> {
        let parts: Vec<(String, PartialStats)> = parts.into_iter().collect();
        let mismatch = |msg: String| Err(Error::new(ErrorKind::MismatchedStatistics, msg));
        let Some((first_name, first)) = parts.first() else {
            return mismatch("no statistics to merge: give at least one part".into());
        };
        let reference = first.pieces.first().map(|(_, s)| (first_name, s));
        let mut ranges: Vec<(Range<usize>, &str)> = Vec::new();
        for (name, part) in &parts {
            if part.n_rows != first.n_rows {
                return mismatch(format!(
                    "{name} holds statistics of data with {} rows but {first_name} of {} rows: \
                     accumulate every part from the same data",
                    part.n_rows, first.n_rows
                ));
            }
            if let (Some((ref_name, r)), Some((_, s))) = (reference, part.pieces.first()) {
                r.check_compatible(s).map_err(|e| {
                    Error::new(
                        ErrorKind::MismatchedStatistics,
                        format!("{name} cannot merge with {ref_name}: {}", e.message()),
                    )
                })?;
            }
            ranges.extend(part.rows.iter().map(|r| (r.clone(), name.as_str())));
        }
        ranges.sort_by_key(|(r, _)| (r.start, r.end));
        for w in ranges.windows(2) {
            if w[1].0.start < w[0].0.end {
                return mismatch(format!(
                    "{} (rows {}..{}) and {} (rows {}..{}) overlap: each row must be in exactly \
                     one part (a shard given twice, or shards of different splits)",
                    w[0].1, w[0].0.start, w[0].0.end, w[1].1, w[1].0.start, w[1].0.end
                ));
            }
        }
        let n_rows = first.n_rows;
        let mut rows: Vec<Range<usize>> = Vec::new();
        for (r, _) in ranges {
            match rows.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ if r.is_empty() => {}
                _ => rows.push(r),
            }
        }
        let mut pieces: Vec<(Piece, SuffStats)> =
            parts.into_iter().flat_map(|(_, p)| p.pieces).collect();
        // In grid order, so that the merged form does not depend on the parts' order.
        let grid = BlockGrid::new(n_blocks(n_rows));
        pieces.sort_by_key(|(p, _)| (grid.piece_blocks(*p).start, grid.piece_blocks(*p).end));
        let merged = PartialStats { n_rows, rows, pieces };
        if merged.is_complete() && merged.pieces.len() > 1 {
            let grid = merged.grid();
            let root = grid.root().map(Piece::Node);
            let stats = merged.assemble()?;
            return Ok(PartialStats {
                n_rows,
                rows: std::iter::once(0..n_rows).collect(),
                pieces: root.into_iter().map(|p| (p, stats.clone())).collect(),
            });
        }
        Ok(merged)
    }

    /// The whole pass's statistics, rebuilt by the one tree.
    ///
    /// # Errors
    /// [`ErrorKind::MismatchedStatistics`] naming the rows no part covers (a missing shard) or
    /// covered twice.
    pub fn assemble(self) -> Result<SuffStats> {
        let grid = self.grid();
        let n_rows = self.n_rows;
        let Some(template) = self.pieces.first().map(|(_, s)| s.clone()) else {
            return Err(Error::new(
                ErrorKind::MismatchedStatistics,
                format!(
                    "the statistics cover no rows of the {n_rows}: accumulate every shard \
                     (rows 0..{n_rows})"
                ),
            ));
        };
        for (_, s) in &self.pieces {
            template.check_compatible(s)?;
        }
        let empty = || {
            let t = &template;
            SuffStats::empty(t.n_components, t.n_features, t.layout, t.shift.clone())
        };
        let missing = self.missing();
        let block_rows = move |b: Range<usize>| {
            (b.start * BLOCK_ROWS).min(n_rows)..(b.end * BLOCK_ROWS).min(n_rows)
        };
        let result = grid.assemble(self.pieces, empty, |mut a, b| {
            a.add(&b);
            a
        });
        match result {
            Ok(stats) => Ok(stats),
            Err(GridGap::Missing(blocks)) => {
                let rows = missing.first().cloned().unwrap_or_else(|| block_rows(blocks));
                Err(Error::new(
                    ErrorKind::MismatchedStatistics,
                    format!(
                        "rows {}..{} of {n_rows} are in no part: a shard is missing (accumulate \
                         it and sum again)",
                        rows.start, rows.end
                    ),
                ))
            }
            Err(GridGap::Overlap(blocks)) => {
                let rows = block_rows(blocks);
                Err(Error::new(
                    ErrorKind::MismatchedStatistics,
                    format!(
                        "rows {}..{} of {n_rows} are in more than one part, or a part was not cut \
                         on this data's block grid: sum each shard once",
                        rows.start, rows.end
                    ),
                ))
            }
        }
    }

    /// A stable byte form (little-endian; each piece's statistics in [`SuffStats::to_bytes`]'s
    /// form; an FNV-1a checksum at the end).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(PART_MAGIC);
        out.extend_from_slice(&PART_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let put = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&(v as u64).to_le_bytes());
        put(&mut out, self.n_rows);
        put(&mut out, self.rows.len());
        for r in &self.rows {
            put(&mut out, r.start);
            put(&mut out, r.end);
        }
        put(&mut out, self.pieces.len());
        for (piece, stats) in &self.pieces {
            let (kind, a, b) = match *piece {
                Piece::Node(n) => (0, n.first_leaf, n.end_leaf),
                Piece::Block(b) => (1, b, b + 1),
            };
            put(&mut out, kind);
            put(&mut out, a);
            put(&mut out, b);
            let bytes = stats.to_bytes();
            put(&mut out, bytes.len());
            out.extend_from_slice(&bytes);
        }
        let checksum = fnv1a64(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes)'s form.
    ///
    /// # Errors
    /// [`ErrorKind::Parse`] for a wrong magic or version, a length or checksum mismatch, or
    /// pieces that do not fit the data's grid.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |msg: &str| Error::new(ErrorKind::Parse, msg.to_string());
        if bytes.len() < 16 + 8 || &bytes[..8] != PART_MAGIC {
            return Err(bad("not gmm partial statistics (truncated, or another kind of file)"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        if fnv1a64(body) != u64::from_le_bytes(tail.try_into().expect("8 bytes")) {
            return Err(bad("the partial statistics' checksum does not match: corrupted"));
        }
        let version = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        if version != PART_VERSION {
            return Err(bad(&format!(
                "partial statistics format version {version}: this build reads version \
                 {PART_VERSION}"
            )));
        }
        let mut cursor = Cursor { body, at: 16 };
        let n_rows = cursor.number()?;
        let n_ranges = cursor.number()?;
        let mut rows = Vec::new();
        for _ in 0..n_ranges.min(body.len() / 16) {
            let (a, b) = (cursor.number()?, cursor.number()?);
            if a > b || b > n_rows || rows.last().is_some_and(|r: &Range<usize>| r.end > a) {
                return Err(bad("the partial statistics hold row ranges out of order"));
            }
            rows.push(a..b);
        }
        if rows.len() != n_ranges {
            return Err(bad("the partial statistics end too early: truncated"));
        }
        let n_pieces = cursor.number()?;
        let grid = BlockGrid::new(n_blocks(n_rows));
        let mut pieces = Vec::new();
        for _ in 0..n_pieces.min(body.len() / 32) {
            let (kind, a, b, len) =
                (cursor.number()?, cursor.number()?, cursor.number()?, cursor.number()?);
            let piece = match kind {
                0 => Piece::Node(TreeNode { first_leaf: a, end_leaf: b }),
                1 if b == a + 1 => Piece::Block(a),
                _ => return Err(bad("the partial statistics hold an unknown kind of piece")),
            };
            let valid = match piece {
                Piece::Node(node) => grid.is_node(node),
                Piece::Block(b) => b < grid.n_blocks(),
            };
            if !valid {
                return Err(bad("a piece of the partial statistics is not on the data's grid"));
            }
            let stats = SuffStats::from_bytes(cursor.take(len)?)?;
            pieces.push((piece, stats));
        }
        if pieces.len() != n_pieces || cursor.at != body.len() {
            return Err(bad("the partial statistics' length does not match their header"));
        }
        Ok(Self { n_rows, rows, pieces })
    }
}

const PART_MAGIC: &[u8; 8] = b"GMMPART\0";

/// Reads numbers and byte strings off a byte form, refusing to run past its end.
struct Cursor<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.body.len()).ok_or_else(|| {
            Error::new(ErrorKind::Parse, "the partial statistics end too early: truncated")
        })?;
        let out = &self.body[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn number(&mut self) -> Result<usize> {
        let v = u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"));
        usize::try_from(v).map_err(|_| {
            Error::new(ErrorKind::Parse, "a count in the partial statistics is too large")
        })
    }
}
const PART_VERSION: u32 = 1;

/// The rows a pass reads from a [`RowSource`], chunk by chunk; optionally one part of them
/// (a shard), per-sample weights, and how parts combine (see the module docs).
pub struct Stream<'a, T> {
    source: &'a dyn RowSource<T>,
    weights: Option<&'a [f64]>,
    rows: Range<usize>,
    chunk_rows: usize,
    combine: &'a dyn Combine,
    on_progress: Option<&'a (dyn Fn(&PassProgress) + Sync)>,
    log: Mutex<Vec<PassRecord>>,
}

impl<'a, T: Real> Stream<'a, T> {
    /// Every row of `source`, [`DEFAULT_CHUNK_ROWS`] at a time, in one process.
    pub fn new(source: &'a dyn RowSource<T>) -> Self {
        Self {
            source,
            weights: None,
            rows: 0..source.n_rows(),
            chunk_rows: DEFAULT_CHUNK_ROWS,
            combine: &Local,
            on_progress: None,
            log: Mutex::new(Vec::new()),
        }
    }

    /// Reads `rows` rows at a time (rounded down to whole blocks, at least one block).
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = (rows / BLOCK_ROWS).max(1) * BLOCK_ROWS;
        self
    }

    /// Chunks sized so that the chunks in memory at once (three) take at most `bytes`.
    pub fn memory_budget(self, bytes: u64) -> Self {
        let row = (self.source.n_features() * std::mem::size_of::<T>()).max(1) as u64;
        let rows = usize::try_from(bytes / (3 * row)).unwrap_or(usize::MAX);
        self.chunk_rows(rows)
    }

    /// Rows per chunk.
    pub fn get_chunk_rows(&self) -> usize {
        self.chunk_rows
    }

    /// Per-sample weights of every row of the source (finite, `>= 0`).
    pub fn weights(mut self, weights: Option<&'a [f64]>) -> Result<Self> {
        if let Some(w) = weights {
            check_sample_weights(w, self.source.n_rows(), ZeroWeights::Allowed)?;
        }
        self.weights = weights;
        Ok(self)
    }

    /// Only the rows `rows` of the source (this process's part): the start must be a multiple of
    /// [`BLOCK_ROWS`], the end too or the source's last row.
    pub fn rows(mut self, rows: Range<usize>) -> Result<Self> {
        let n = self.source.n_rows();
        let aligned = |r: usize| r.is_multiple_of(BLOCK_ROWS) || r == n;
        if rows.start > rows.end || rows.end > n || !aligned(rows.start) || !aligned(rows.end) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "rows {}..{} of {n}: a part must lie within the data and start and end at a \
                     multiple of the block size {BLOCK_ROWS} (or at the last row)",
                    rows.start, rows.end
                ),
            ));
        }
        self.rows = rows;
        Ok(self)
    }

    /// Shard `index` of `count` (from 0): the rows of leaves `index·L/count ..
    /// (index+1)·L/count` of the grid's `L` leaves, so shards split at leaf boundaries and send
    /// only tree nodes.
    pub fn shard(self, index: usize, count: usize) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("shard {index} of {count}: give I/N with 0 <= I < N"),
            ));
        }
        let range = shard_rows(self.source.n_rows(), index, count);
        self.rows(range)
    }

    /// How parts combine across processes (default: [`Local`], one process).
    pub fn combine(mut self, combine: &'a dyn Combine) -> Self {
        self.combine = combine;
        self
    }

    /// Called after every chunk (for a progress display).
    pub fn on_progress(mut self, f: &'a (dyn Fn(&PassProgress) + Sync)) -> Self {
        self.on_progress = Some(f);
        self
    }

    /// Rows of the whole source.
    pub fn n_samples(&self) -> usize {
        self.source.n_rows()
    }

    /// Features per row.
    pub fn n_features(&self) -> usize {
        self.source.n_features()
    }

    /// This part's rows.
    pub fn part_rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    /// The weights, if any.
    pub fn get_weights(&self) -> Option<&'a [f64]> {
        self.weights
    }

    /// Every pass so far.
    pub fn passes(&self) -> Vec<PassRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Reads the rows `indices` (sorted or not) of the source by random access, checked finite.
    pub fn read_indices(&self, indices: &[usize]) -> Result<Vec<T>> {
        let d = self.n_features();
        let mut out = vec![T::ZERO; indices.len() * d];
        for (row, slot) in indices.iter().zip(out.chunks_exact_mut(d)) {
            self.source.read_rows(*row, slot)?;
            check_finite_rows(slot, d, *row, |r| self.source.describe_row(r))?;
        }
        Ok(out)
    }

    /// The statistics of this part over every row: each block's responsibilities left in its
    /// scratch by `fill(scratch, global block)` (as [`crate::pass`]'s passes), shifted by
    /// `shift` (`k x d`).
    pub fn accumulate_part(
        &self,
        n_components: usize,
        layout: MomentLayout,
        shift: &[f64],
        fill: &(dyn Fn(&mut BlockScratch<T>, usize) + Sync),
    ) -> Result<PartialStats> {
        self.accumulate_part_around(n_components, layout, shift, &SharedCentre::none(), fill)
    }

    /// [`accumulate_part`](Self::accumulate_part) with the components `centre` shares formed
    /// around it (as [`crate::e_step`] does).
    fn accumulate_part_around(
        &self,
        n_components: usize,
        layout: MomentLayout,
        shift: &[f64],
        centre: &SharedCentre,
        fill: &(dyn Fn(&mut BlockScratch<T>, usize) + Sync),
    ) -> Result<PartialStats> {
        let n = self.n_samples();
        let d = self.n_features();
        let grid = BlockGrid::new(n_blocks(n));
        let first_block = self.rows.start / BLOCK_ROWS;
        let end_block =
            if self.rows.end == n { grid.n_blocks() } else { self.rows.end / BLOCK_ROWS };
        let pieces = grid.cover(first_block..end_block);
        let max_blocks = self.chunk_rows / BLOCK_ROWS;
        // Chunks in the order they are computed.
        let chunks: Vec<Range<usize>> = pieces
            .iter()
            .flat_map(|&piece| match piece {
                Piece::Node(node) => grid
                    .chunks(node, max_blocks)
                    .into_iter()
                    .map(|c| grid.blocks(c))
                    .collect::<Vec<_>>(),
                Piece::Block(b) => std::iter::once(b..b + 1).collect(),
            })
            .collect();
        let started = Instant::now();
        let pass = self.log.lock().map(|l| l.len() + 1).unwrap_or(1);
        let rows_total = self.rows.len();
        let row_range = |blocks: &Range<usize>| {
            (blocks.start * BLOCK_ROWS).min(n)..(blocks.end * BLOCK_ROWS).min(n)
        };
        let (ready, receive) = sync_channel::<Result<(Range<usize>, Vec<T>)>>(1);
        let (recycle, reuse) = sync_channel::<Vec<T>>(3);
        let result = std::thread::scope(|scope| {
            let chunks_for_reader = chunks.clone();
            scope.spawn(move || self.read_chunks(&chunks_for_reader, ready, reuse));
            let mut done = 0usize;
            let mut next = |expected: Range<usize>| -> Result<(Vec<T>, Range<usize>)> {
                let (blocks, values) = receive.recv().map_err(|_| {
                    Error::new(ErrorKind::Io, "the reader thread stopped before the pass ended")
                })??;
                debug_assert_eq!(blocks, expected);
                let rows = row_range(&blocks);
                done += rows.len();
                if let Some(f) = self.on_progress {
                    f(&PassProgress {
                        pass,
                        rows_done: done,
                        rows_total,
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                Ok((values, rows))
            };
            let compute = |values: &[T], rows: Range<usize>, piece: Piece| -> Result<SuffStats> {
                let x = Samples::new(values, d)?;
                let weights = self.weights.map(|w| &w[rows.clone()]);
                let pass = BlockPass::new(x, n_components).first_block(rows.start / BLOCK_ROWS);
                Ok(accumulate_piece(pass, &grid, piece, weights, layout, shift, centre, fill))
            };
            let mut out = Vec::with_capacity(pieces.len());
            for &piece in &pieces {
                let stats = match piece {
                    Piece::Node(node) => grid.reduce_streamed(
                        node,
                        max_blocks,
                        &mut |chunk| {
                            let (values, rows) = next(grid.blocks(chunk))?;
                            let stats = compute(&values, rows, Piece::Node(chunk));
                            let _ = recycle.try_send(values);
                            stats
                        },
                        &|mut a: SuffStats, b: SuffStats| {
                            a.add(&b);
                            a
                        },
                    )?,
                    Piece::Block(b) => {
                        let (values, rows) = next(b..b + 1)?;
                        let stats = compute(&values, rows, piece)?;
                        let _ = recycle.try_send(values);
                        stats
                    }
                };
                out.push((piece, stats));
            }
            drop(receive);
            Ok::<_, Error>(out)
        })?;
        let seconds = started.elapsed().as_secs_f64();
        if let Ok(mut log) = self.log.lock() {
            log.push(PassRecord {
                rows: rows_total,
                bytes: (rows_total * d * std::mem::size_of::<T>()) as u64,
                seconds,
            });
        }
        let rows = if self.rows.is_empty() { Vec::new() } else { vec![self.rows.clone()] };
        Ok(PartialStats { n_rows: n, rows, pieces: result })
    }

    /// The reader thread: reads `chunks` (block ranges) in order into (reused) buffers.
    fn read_chunks(
        &self,
        chunks: &[Range<usize>],
        ready: SyncSender<Result<(Range<usize>, Vec<T>)>>,
        reuse: Receiver<Vec<T>>,
    ) {
        let (n, d) = (self.n_samples(), self.n_features());
        for blocks in chunks {
            let rows = (blocks.start * BLOCK_ROWS).min(n)..(blocks.end * BLOCK_ROWS).min(n);
            let mut values = reuse.try_recv().unwrap_or_default();
            values.clear();
            let read = values
                .try_reserve_exact(rows.len() * d)
                .map_err(|_| {
                    Error::new(
                        ErrorKind::Io,
                        format!(
                            "cannot allocate a chunk of {} rows: give a smaller memory budget",
                            rows.len()
                        ),
                    )
                })
                .and_then(|()| {
                    values.resize(rows.len() * d, T::ZERO);
                    self.source.read_rows(rows.start, &mut values)
                })
                .and_then(|()| {
                    check_finite_rows(&values, d, rows.start, |r| self.source.describe_row(r))
                })
                .map(|()| (blocks.clone(), values));
            let failed = read.is_err();
            if ready.send(read).is_err() || failed {
                return;
            }
        }
    }

    /// [`accumulate_part`](Self::accumulate_part), combined into the whole pass's statistics.
    pub fn accumulate(
        &self,
        n_components: usize,
        layout: MomentLayout,
        shift: &[f64],
        fill: &(dyn Fn(&mut BlockScratch<T>, usize) + Sync),
    ) -> Result<SuffStats> {
        self.combine.combine(self.accumulate_part(n_components, layout, shift, fill))
    }

    /// This part's E-step statistics under `model` (as [`crate::e_step`] computes them).
    pub fn e_step_part(&self, model: &GaussianMixture<T>) -> Result<PartialStats> {
        check_dimension(model, self.n_features())?;
        let k = model.n_components();
        let shift: Vec<f64> = model.means().iter().map(|v| v.to_f64()).collect();
        let layout = MomentLayout::for_covariance(model.covariance_type());
        let centre = SharedCentre::for_model(model);
        self.accumulate_part_around(k, layout, &shift, &centre, &|scratch, _| {
            log_densities(model, scratch, true);
            log_likelihoods_and_responsibilities(k, scratch, true);
        })
    }

    /// The whole pass's E-step statistics (bit-identical to [`crate::e_step`] on all rows).
    pub fn e_step(&self, model: &GaussianMixture<T>) -> Result<SuffStats> {
        self.combine.combine(self.e_step_part(model))
    }

    /// This part's data-moment statistics: one component, every responsibility 1, full second
    /// moments around the data's first row — what the default MAP and VB priors are estimated
    /// from ([`crate::method::Method::rule_from_moments`]).
    pub fn moments_part(&self) -> Result<PartialStats> {
        let shift = self.read_indices(&[0])?;
        let shift: Vec<f64> = shift.iter().map(|v| v.to_f64()).collect();
        self.accumulate_part(1, MomentLayout::Full, &shift, &ones::<T>)
    }

    /// The whole data's moment statistics (see [`moments_part`](Self::moments_part)).
    pub fn moments(&self) -> Result<SuffStats> {
        self.combine.combine(self.moments_part())
    }

    /// Every `step`-th row (rows `0, step, 2 step, ...`) of the whole source, read chunk by
    /// chunk, checked finite.
    pub fn every_nth(&self, step: usize) -> Result<Vec<T>> {
        let (n, d) = (self.n_samples(), self.n_features());
        let step = step.max(1);
        let mut out = Vec::with_capacity(n.div_ceil(step) * d);
        let mut buffer = Vec::new();
        let mut first = 0;
        while first < n {
            let count = self.chunk_rows.min(n - first);
            buffer.resize(count * d, T::ZERO);
            self.source.read_rows(first, &mut buffer)?;
            check_finite_rows(&buffer, d, first, |r| self.source.describe_row(r))?;
            let offset = (step - first % step) % step;
            for r in (offset..count).step_by(step) {
                out.extend_from_slice(&buffer[r * d..(r + 1) * d]);
            }
            first += count;
        }
        Ok(out)
    }
}

/// What a learner passes over: samples in memory (with the in-memory passes, unchanged), or a
/// [`Stream`].
#[derive(Clone, Copy)]
pub(crate) enum Data<'a, T: Real> {
    /// Rows in memory and their optional weights.
    Memory { x: Samples<'a, T>, weights: Option<&'a [f64]> },
    /// Rows read chunk by chunk (weights on the stream).
    Stream(&'a Stream<'a, T>),
}

impl<T: Real> Data<'_, T> {
    pub(crate) fn n_samples(&self) -> usize {
        match self {
            Self::Memory { x, .. } => x.n_samples(),
            Self::Stream(s) => s.n_samples(),
        }
    }

    pub(crate) fn n_features(&self) -> usize {
        match self {
            Self::Memory { x, .. } => x.n_features(),
            Self::Stream(s) => s.n_features(),
        }
    }

    pub(crate) fn weights(&self) -> Option<&[f64]> {
        match self {
            Self::Memory { weights, .. } => *weights,
            Self::Stream(s) => s.get_weights(),
        }
    }

    /// The rows `indices`, row-major.
    pub(crate) fn rows(&self, indices: &[usize]) -> Result<Vec<T>> {
        match self {
            Self::Memory { x, .. } => {
                Ok(indices.iter().flat_map(|&i| x.row(i).iter().copied()).collect())
            }
            Self::Stream(s) => s.read_indices(indices),
        }
    }

    /// A whole pass's statistics (see [`Stream::accumulate`]).
    pub(crate) fn accumulate(
        &self,
        n_components: usize,
        layout: MomentLayout,
        shift: &[f64],
        fill: &(dyn Fn(&mut BlockScratch<T>, usize) + Sync),
    ) -> Result<SuffStats> {
        match self {
            Self::Memory { x, weights } => {
                let (x, weights, none) = (*x, *weights, &SharedCentre::none());
                Ok(crate::pass::accumulate(
                    x,
                    None,
                    weights,
                    n_components,
                    layout,
                    shift,
                    none,
                    fill,
                ))
            }
            Self::Stream(s) => s.accumulate(n_components, layout, shift, fill),
        }
    }
}

/// Every responsibility 1, no log-likelihood: the data's own moments.
pub(crate) fn ones<T: Real>(s: &mut BlockScratch<T>, _block: usize) {
    s.log_density[..BLOCK_ROWS].fill(T::from_f64(1.0));
    s.log_likelihood.fill(T::ZERO);
}

fn check_dimension<T: Real>(model: &GaussianMixture<T>, d: usize) -> Result<()> {
    if model.n_features() != d {
        return Err(Error::new(
            ErrorKind::DimensionMismatch { expected: model.n_features(), found: d },
            format!(
                "the data has {d} features but the model {}: use data of the model's dimension",
                model.n_features()
            ),
        ));
    }
    Ok(())
}

/// The rows of shard `index` of `count` of data with `n_rows` rows (see [`Stream::shard`]).
pub fn shard_rows(n_rows: usize, index: usize, count: usize) -> Range<usize> {
    let grid = BlockGrid::new(n_blocks(n_rows));
    let leaves = grid.n_leaves();
    let leaf_rows = |l: usize| (l * grid.per_leaf() * BLOCK_ROWS).min(n_rows);
    let (a, b) = (index * leaves / count.max(1), (index + 1) * leaves / count.max(1));
    leaf_rows(a)..leaf_rows(b)
}

#[cfg(test)]
mod tests {
    use gmm_core::CovarianceType;

    use super::*;

    fn parts_of<T: Real>(
        model: &GaussianMixture<T>,
        x: Samples<'_, T>,
        weights: Option<&[f64]>,
        cuts: &[usize],
        chunk: usize,
    ) -> Vec<(String, PartialStats)> {
        cuts.windows(2)
            .map(|w| {
                let stream =
                    Stream::new(&x).chunk_rows(chunk).weights(weights).unwrap().rows(w[0]..w[1]);
                let part = stream.unwrap().e_step_part(model).unwrap();
                (format!("{}..{}", w[0], w[1]), part)
            })
            .collect()
    }

    /// Chunks, shards at block boundaries (not only leaf boundaries), weights, both precisions
    /// and every covariance type: the bytes of the in-memory E-step.
    #[test]
    fn any_split_gives_the_in_memory_bits() {
        for (case, t) in CovarianceType::ALL.into_iter().enumerate() {
            let model = GaussianMixture::<f64>::random(t, 4, 3, 2.0, case as u64).unwrap();
            let (x, _) = model.sample(50_000, 7).unwrap();
            let w: Vec<f64> = (0..50_000).map(|i| [0.5, 1.0, 2.0][i % 3]).collect();
            for weights in [None, Some(w.as_slice())] {
                let whole = crate::e_step(&model, x.samples(), weights).unwrap().to_bytes();
                for cuts in [
                    vec![0, 50_000],
                    vec![0, 240, 50_000],
                    vec![0, 4800, 9840, 31_200, 50_000],
                    vec![0, 24_000, 24_000, 50_000],
                ] {
                    for chunk in [240, 2400, 1 << 20] {
                        let parts = parts_of(&model, x.samples(), weights, &cuts, chunk);
                        let mut shuffled = parts.clone();
                        shuffled.reverse();
                        for p in [parts, shuffled] {
                            let stats = PartialStats::merge(p).unwrap().assemble().unwrap();
                            assert_eq!(stats.to_bytes(), whole, "{t} {cuts:?} chunk {chunk}");
                        }
                    }
                }
            }
            let x32: Vec<f32> = x.as_slice().iter().map(|&v| v as f32).collect();
            let x32 = Samples::new(&x32, 3).unwrap();
            let m32 = GaussianMixture::<f32>::random(t, 4, 3, 2.0, case as u64).unwrap();
            let whole = crate::e_step(&m32, x32, None).unwrap().to_bytes();
            let parts = parts_of(&m32, x32, None, &[0, 2400, 50_000], 960);
            assert_eq!(PartialStats::merge(parts).unwrap().assemble().unwrap().to_bytes(), whole);
        }
    }

    #[test]
    fn shards_tile_the_rows_and_bytes_round_trip() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Full, 2, 2, 2.0, 1).unwrap();
        let (x, _) = model.sample(10_000, 2).unwrap();
        let s = x.samples();
        for count in [1, 2, 3, 7, 100] {
            let mut at = 0;
            for i in 0..count {
                let r = shard_rows(10_000, i, count);
                assert_eq!(r.start, at);
                at = r.end;
            }
            assert_eq!(at, 10_000);
        }
        let part = Stream::new(&s).shard(1, 3).unwrap().e_step_part(&model).unwrap();
        let back = PartialStats::from_bytes(&part.to_bytes()).unwrap();
        assert_eq!(back, part);
        let bytes = part.to_bytes();
        for at in [0, 9, 20, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            assert_eq!(PartialStats::from_bytes(&bad).unwrap_err().kind(), &ErrorKind::Parse);
        }
        assert!(PartialStats::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn missing_overlapping_and_mismatched_parts_are_refused() {
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 2, 2.0, 1).unwrap();
        let (x, _) = model.sample(10_000, 2).unwrap();
        let s = x.samples();
        let part = |i, n| Stream::new(&s).shard(i, n).unwrap().e_step_part(&model).unwrap();
        let named = |v: Vec<PartialStats>| {
            v.into_iter().enumerate().map(|(i, p)| (format!("p{i}.acc"), p)).collect::<Vec<_>>()
        };
        let e = PartialStats::merge(named(vec![part(0, 3), part(2, 3)]))
            .unwrap()
            .assemble()
            .unwrap_err();
        assert!(e.message().contains("missing"), "{e}");
        let e = PartialStats::merge(named(vec![part(0, 3), part(0, 3)])).unwrap_err();
        assert!(e.message().contains("p0.acc") && e.message().contains("overlap"), "{e}");
        let e = PartialStats::merge(named(vec![part(0, 2), part(1, 3)])).unwrap_err();
        assert!(e.message().contains("overlap"), "{e}");
        let other = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 2, 2.0, 9).unwrap();
        let foreign = Stream::new(&s).shard(1, 2).unwrap().e_step_part(&other).unwrap();
        let e = PartialStats::merge(named(vec![part(0, 2), foreign])).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::MismatchedStatistics, "{e}");
        let e = Stream::new(&s).rows(100..500).err().unwrap();
        assert_eq!(e.kind(), &ErrorKind::InvalidConfig, "{e}");
    }

    /// Fits over a stream read in small chunks, every init and method: the in-memory model,
    /// bit for bit.
    #[test]
    fn streamed_fits_equal_in_memory_fits() {
        use crate::config::{EmConfig, Init};
        use crate::method::{MapSettings, Method, VbSettings};
        use crate::{FitOptions, fit_with, fit_with_stream};
        let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 3.0, 4).unwrap();
        let (x, _) = truth.sample(9_000, 5).unwrap();
        let s = x.samples();
        for init in
            [Init::KMeans, Init::KMeansPlusPlus, Init::RandomRows, Init::RandomResponsibilities]
        {
            for method in
                [Method::Em, Method::Map(MapSettings::default()), Method::Vb(VbSettings::default())]
            {
                for t in [CovarianceType::Diag, CovarianceType::Full] {
                    let config = EmConfig::new(3, t).init(init).max_iter(5).tol(0.0).seed(3);
                    let config = config.kmeans_sample_size(Some(2000));
                    let memory = fit_with(&config, &method, s, FitOptions::default()).unwrap();
                    let stream = Stream::new(&s).chunk_rows(1000);
                    let streamed =
                        fit_with_stream(&config, &method, &stream, FitOptions::default()).unwrap();
                    let what = format!("{init} {} {t}", method.name());
                    assert_eq!(streamed.model, memory.model, "{what}");
                    assert_eq!(streamed.report.log_likelihood, memory.report.log_likelihood);
                    assert_eq!(
                        streamed.report.final_log_likelihood.to_bits(),
                        memory.report.final_log_likelihood.to_bits(),
                        "{what}"
                    );
                    assert!(stream.passes().len() >= 5, "{what}");
                }
            }
        }
    }

    /// A NaN in a chunk is reported with its global row.
    #[test]
    fn non_finite_rows_are_named() {
        let mut values = vec![0.5f64; 3000 * 2];
        values[2 * 2500 + 1] = f64::NAN;
        let x = Samples::new(&values, 2).unwrap();
        let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 2, 2.0, 1).unwrap();
        let e = Stream::new(&x).chunk_rows(480).e_step(&model).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::NonFiniteValue { row: 2500, column: 1 }, "{e}");
    }
}
