//! Samples read in place from a numpy array, C or Fortran order.
//!
//! gmm's kernels read row-major samples ([`Samples`]). A C-ordered array *is* that layout, so
//! it is passed through untouched: one view of all rows, the same bits as the Rust API. A
//! Fortran-ordered array (what `np.asarray` of a pandas frame usually gives) stores column
//! after column; it is read in chunks of [`CHUNK_ROWS`] rows, each transposed into one reused
//! row-major buffer, so the memory beyond the data stays `O(CHUNK_ROWS x d)` however large the
//! array. Chunks are whole kernel blocks and their statistics merge in row order.
//!
//! `numpy`'s `as_slice` returns the memory of a Fortran-ordered array as readily as that of a
//! C-ordered one, so the layout is decided from the array's flags (`is_c_contiguous`), never
//! from `as_slice` succeeding.

use std::borrow::Cow;

use gmm_core::kernel::BLOCK_ROWS;
use gmm_core::{Real, Result, Samples};

/// Rows staged per chunk of a Fortran-ordered array (64 kernel blocks).
pub const CHUNK_ROWS: usize = BLOCK_ROWS * 64;

/// How the values of an `n x d` array are laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row after row (C order).
    RowMajor,
    /// Column after column (Fortran order).
    ColumnMajor,
}

/// An `n x d` matrix of samples borrowed from an array, in either layout.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a, T> {
    data: &'a [T],
    n_samples: usize,
    n_features: usize,
    layout: Layout,
}

impl<'a, T: Real> Rows<'a, T> {
    /// Views `data` (`n_samples * n_features` values in `layout`).
    pub fn new(data: &'a [T], n_samples: usize, n_features: usize, layout: Layout) -> Self {
        debug_assert_eq!(data.len(), n_samples * n_features);
        Self { data, n_samples, n_features, layout }
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Calls `f(chunk, first_row)` on consecutive row ranges covering every sample, in order:
    /// all rows at once for C order, staged chunks of [`CHUNK_ROWS`] for Fortran order.
    pub fn for_each_chunk(
        &self,
        mut f: impl FnMut(Samples<'_, T>, usize) -> Result<()>,
    ) -> Result<()> {
        let d = self.n_features;
        match self.layout {
            Layout::RowMajor => f(Samples::new(self.data, d)?, 0),
            Layout::ColumnMajor => {
                let mut buffer = vec![T::ZERO; CHUNK_ROWS.min(self.n_samples) * d];
                let mut start = 0;
                while start < self.n_samples {
                    let len = CHUNK_ROWS.min(self.n_samples - start);
                    self.stage(start, len, &mut buffer[..len * d]);
                    f(Samples::new(&buffer[..len * d], d)?, start)?;
                    start += len;
                }
                Ok(())
            }
        }
    }

    /// The rows in C order: borrowed for C order, a copy for Fortran order (used only where a
    /// computation needs every row at once, such as a data-driven initialisation).
    pub fn row_major(&self) -> Cow<'a, [T]> {
        match self.layout {
            Layout::RowMajor => Cow::Borrowed(self.data),
            Layout::ColumnMajor => {
                let mut copy = vec![T::ZERO; self.data.len()];
                self.stage(0, self.n_samples, &mut copy);
                Cow::Owned(copy)
            }
        }
    }

    /// Copies rows `start..start + len` of a Fortran-ordered matrix into `out`, row-major.
    fn stage(&self, start: usize, len: usize, out: &mut [T]) {
        let (n, d) = (self.n_samples, self.n_features);
        for j in 0..d {
            let column = &self.data[j * n + start..j * n + start + len];
            for (i, &v) in column.iter().enumerate() {
                out[i * d + j] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_major_chunks_are_the_rows_in_order() {
        let (n, d) = (CHUNK_ROWS + 17, 3);
        let row_major: Vec<f64> = (0..n * d).map(|v| v as f64).collect();
        let mut column_major = vec![0.0; n * d];
        for i in 0..n {
            for j in 0..d {
                column_major[j * n + i] = row_major[i * d + j];
            }
        }
        let rows = Rows::new(&column_major, n, d, Layout::ColumnMajor);
        let mut seen = Vec::new();
        let mut starts = Vec::new();
        rows.for_each_chunk(|chunk, start| {
            starts.push(start);
            seen.extend_from_slice(chunk.as_slice());
            Ok(())
        })
        .unwrap();
        assert_eq!(starts, vec![0, CHUNK_ROWS]);
        assert_eq!(seen, row_major);
        assert_eq!(rows.row_major().as_ref(), row_major.as_slice());
        let c = Rows::new(&row_major, n, d, Layout::RowMajor);
        assert!(matches!(c.row_major(), Cow::Borrowed(_)));
    }
}
