//! Sample matrices: a borrowed row-major view ([`Samples`]) and an owned matrix ([`Matrix`]).
//!
//! gmm stores data the way a C-order `.npy` file or a CSV file lays it out: one sample per row,
//! `n_samples x n_features`, row-major. Kernels transpose small blocks of rows into their own
//! scratch, so callers never need a column-major copy of their data.

use crate::error::{Error, ErrorKind, Result};
use crate::real::Real;
use rayon::prelude::*;

/// A borrowed `n_samples x n_features` row-major matrix of samples.
#[derive(Debug, Clone, Copy)]
pub struct Samples<'a, T> {
    data: &'a [T],
    n_samples: usize,
    n_features: usize,
}

impl<'a, T: Real> Samples<'a, T> {
    /// Views `data` as rows of `n_features` values.
    ///
    /// Fails with [`ErrorKind::EmptyData`] when there are no rows or no columns and with
    /// [`ErrorKind::DimensionMismatch`] when `data.len()` is not a multiple of `n_features`.
    /// Values are not checked here; see [`check_finite`](Self::check_finite).
    pub fn new(data: &'a [T], n_features: usize) -> Result<Self> {
        if n_features == 0 || data.is_empty() {
            return Err(Error::new(
                ErrorKind::EmptyData,
                format!(
                    "the data is empty ({} values, {n_features} features per sample): \
                     give at least one sample with at least one feature",
                    data.len()
                ),
            ));
        }
        if !data.len().is_multiple_of(n_features) {
            return Err(Error::new(
                ErrorKind::DimensionMismatch {
                    expected: n_features,
                    found: data.len() % n_features,
                },
                format!(
                    "{} values do not make whole rows of {n_features} features: \
                     check the number of features",
                    data.len()
                ),
            ));
        }
        Ok(Self { data, n_samples: data.len() / n_features, n_features })
    }

    /// Number of samples (rows).
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of features (columns).
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Sample `i` as a slice of `n_features` values.
    pub fn row(&self, i: usize) -> &'a [T] {
        &self.data[i * self.n_features..(i + 1) * self.n_features]
    }

    /// All values, row after row.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// Fails with [`ErrorKind::NonFiniteValue`] naming the first NaN or infinite value.
    pub fn check_finite(&self) -> Result<()> {
        if all_finite(self.data) {
            return Ok(());
        }
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(at) => {
                let (row, column) = (at / self.n_features, at % self.n_features);
                Err(non_finite(self.data[at], row, column))
            }
        }
    }

    /// [`check_finite`](Self::check_finite) over the rows `rows` only, in that order; the
    /// error names the first bad value by its row and column in `self`.
    pub fn check_rows_finite(&self, rows: &[usize]) -> Result<()> {
        for &row in rows {
            if let Some(column) = self.row(row).iter().position(|v| !v.is_finite()) {
                return Err(non_finite(self.row(row)[column], row, column));
            }
        }
        Ok(())
    }
}

/// Rows that a pass reads a range at a time, or picks at random: a file, a list of files, a
/// matrix in memory. What the streaming passes of `gmm-em` read instead of a [`Samples`] when
/// the data does not fit in memory (gmm-io implements it for `.npy` files and lists of them).
pub trait RowSource<T>: Sync {
    /// Rows in the source.
    fn n_rows(&self) -> usize;

    /// Values per row.
    fn n_features(&self) -> usize;

    /// Reads the rows `first..first + out.len() / n_features()` into `out` (row-major). The
    /// values are not checked for NaN or infinity.
    ///
    /// # Errors
    /// An I/O or parse error naming the file, or [`ErrorKind::InvalidParameter`] for rows out
    /// of range.
    fn read_rows(&self, first: usize, out: &mut [T]) -> Result<()>;

    /// Where row `row` comes from, for messages ("x.npy row 17"); by default "row `row`".
    fn describe_row(&self, row: usize) -> String {
        format!("row {row}")
    }
}

impl<T: Real> RowSource<T> for Samples<'_, T> {
    fn n_rows(&self) -> usize {
        self.n_samples
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn read_rows(&self, first: usize, out: &mut [T]) -> Result<()> {
        let start = first.checked_mul(self.n_features);
        match start.and_then(|s| Some(s..s.checked_add(out.len())?)) {
            Some(range) if range.end <= self.data.len() => {
                out.copy_from_slice(&self.data[range]);
                Ok(())
            }
            _ => Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "rows from {first} ({} values) are out of range for {} rows",
                    out.len(),
                    self.n_samples
                ),
            )),
        }
    }
}

impl<T: Real> RowSource<T> for Matrix<T> {
    fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn n_features(&self) -> usize {
        self.n_cols
    }

    fn read_rows(&self, first: usize, out: &mut [T]) -> Result<()> {
        self.samples().read_rows(first, out)
    }
}

/// Fails with [`ErrorKind::NonFiniteValue`] naming the first NaN or infinite value of `rows`
/// (row-major, `d` per row) by its row in the whole data (`first_row` is the row of `rows[0..d]`)
/// and where it comes from (`describe(row)`).
pub fn check_finite_rows<T: Real>(
    rows: &[T],
    d: usize,
    first_row: usize,
    describe: impl Fn(usize) -> String,
) -> Result<()> {
    if all_finite(rows) {
        return Ok(());
    }
    match rows.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(at) => {
            let (row, column) = (first_row + at / d, at % d);
            let plain = non_finite(rows[at], row, column);
            Err(Error::new(plain.kind().clone(), format!("{}: {}", describe(row), plain.message())))
        }
    }
}

/// Values per task of the parallel finiteness scan (2 MiB of `f64`).
const PARALLEL_CHUNK: usize = 1 << 18;

/// Whether every value of `values` is finite.
///
/// The test is folded over chunks with a branch-free `&`, which the compiler turns into SIMD
/// compares on the machine's widest registers (a `position` search stops at every value and runs scalar, ~8x slower: it cost
/// 7 % of a headline EM iteration when it ran once per iteration). The slow search that names
/// the bad value runs only when this says there is one.
pub fn all_finite<T: Real>(values: &[T]) -> bool {
    struct AllFinite<'a, T>(&'a [T]);
    impl<T: Real> pulp::WithSimd for AllFinite<'_, T> {
        type Output = bool;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> bool {
            self.0.chunks(1024).all(|chunk| chunk.iter().fold(true, |ok, v| ok & v.is_finite()))
        }
    }
    // Dispatched like the kernels, so the compares are as wide as the machine's registers;
    // split over the rayon pool, because one core's scan runs at its memory bandwidth
    // (~0.5 ms for the headline's 12 MB) and the scan runs once before a fit starts.
    let arch = crate::kernel::isa::arch();
    if values.len() <= PARALLEL_CHUNK {
        return arch.dispatch(AllFinite(values));
    }
    values.par_chunks(PARALLEL_CHUNK).all(|chunk| arch.dispatch(AllFinite(chunk)))
}

/// The error for a NaN or infinite `value` at (`row`, `column`).
fn non_finite<T: Real>(value: T, row: usize, column: usize) -> Error {
    Error::new(
        ErrorKind::NonFiniteValue { row, column },
        format!(
            "the data holds {value} at row {row}, column {column} (counting from 0): remove or \
             impute NaN and infinite values first"
        ),
    )
}

/// An owned `n_rows x n_cols` row-major matrix (data read from files, samples drawn from a
/// model, posteriors).
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix<T> {
    data: Vec<T>,
    n_rows: usize,
    n_cols: usize,
}

impl<T: Real> Matrix<T> {
    /// Wraps `data` as rows of `n_cols` values; fails like [`Samples::new`].
    pub fn from_vec(data: Vec<T>, n_cols: usize) -> Result<Self> {
        let n_rows = Samples::new(&data, n_cols)?.n_samples();
        Ok(Self { data, n_rows, n_cols })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }

    /// All values, row after row.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The values, row after row.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A [`Samples`] view of the rows.
    pub fn samples(&self) -> Samples<'_, T> {
        Samples { data: &self.data, n_samples: self.n_rows, n_features: self.n_cols }
    }
}

impl<T> Matrix<T> {
    /// Builds a matrix without checks; `data.len()` must equal `n_rows * n_cols`.
    pub(crate) fn from_parts(data: Vec<T>, n_rows: usize, n_cols: usize) -> Self {
        debug_assert_eq!(data.len(), n_rows * n_cols);
        Self { data, n_rows, n_cols }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast test agrees with a value-by-value one, and the error names the first bad
    /// value, wherever it sits against the chunks (first value, the SIMD fold's chunk edges,
    /// the parallel split's edges, last value).
    #[test]
    fn the_first_non_finite_value_is_named_wherever_it_is() {
        let (d, n) = (3, (2 * PARALLEL_CHUNK + 1000) / 3);
        let parallel_edges = [PARALLEL_CHUNK - 1, PARALLEL_CHUNK, 2 * PARALLEL_CHUNK + 1];
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for at in
                [0, 1, 1023, 1024, 1025, 2047, 2048, 3 * n - 1].into_iter().chain(parallel_edges)
            {
                let mut values: Vec<f64> = (0..d * n).map(|i| i as f64 * 0.5 - 7.0).collect();
                values[at] = bad;
                if at + 5 < values.len() {
                    values[at + 5] = f64::NAN; // a later bad value is not the one named
                }
                assert!(!all_finite(&values));
                let error = Samples::new(&values, d).unwrap().check_finite().unwrap_err();
                assert_eq!(
                    error.kind(),
                    &ErrorKind::NonFiniteValue { row: at / d, column: at % d },
                    "{bad} at {at}"
                );
                let f32s: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                let error = Samples::new(&f32s, d).unwrap().check_finite().unwrap_err();
                assert_eq!(
                    error.kind(),
                    &ErrorKind::NonFiniteValue { row: at / d, column: at % d }
                );
            }
        }
        let finite: Vec<f32> = (0..3000).map(|i| f32::MAX - i as f32).collect();
        assert!(all_finite(&finite));
        assert!(Samples::new(&finite, 3).unwrap().check_finite().is_ok());
    }
}
