//! Data read a range of rows at a time: `.npy` files by positioned reads, and lists of files
//! stacked into one source — [`gmm_core::RowSource`]s for the streaming passes of `gmm-em`.
//!
//! [`NpySource`] checks the header like [`crate::read_npy`] (dtype, shape, that the file holds
//! the data) and then reads any rows with `pread` (no seek, so threads can share it): a chunk
//! of a C-order file is one read straight into the caller's buffer when the file's dtype is the
//! computation's, a Fortran-order chunk one read per column. Float32 files stay float32 in
//! memory; a source of the other precision converts as it reads. [`StackedSource`] puts
//! several sources end to end (the frames of many utterances), row indices running on from
//! one file to the next; text files in a list are read whole.
//!
//! ```
//! use gmm_core::{Matrix, RowSource};
//! use gmm_io::stream::NpySource;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("x.npy");
//! let m = Matrix::from_vec((0..12).map(|v| v as f32).collect(), 3)?;
//! gmm_io::write_npy_f32(&path, &m)?;
//! let source = NpySource::<f32>::open(&path)?;
//! let mut rows = vec![0.0f32; 6];
//! source.read_rows(2, &mut rows)?;
//! assert_eq!(rows, [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};

use gmm_core::{Error, ErrorKind, Matrix, Real, Result, RowSource};

use crate::data::read_matrix;
use crate::npy::{NpyLayout, open_npy};

/// The shape and precision of a `.npy` file, from its header alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpyInfo {
    /// Rows.
    pub n_rows: usize,
    /// Columns.
    pub n_cols: usize,
    /// Whether the file holds float32 (else float64).
    pub is_f32: bool,
}

impl NpyInfo {
    /// Bytes of data in the file.
    pub fn data_bytes(&self) -> u64 {
        (self.n_rows as u64) * (self.n_cols as u64) * if self.is_f32 { 4 } else { 8 }
    }
}

/// Reads the header of a `.npy` file (checked as [`crate::read_npy`] checks it).
pub fn npy_info(path: &Path) -> Result<NpyInfo> {
    let (_, layout) = open_npy(path)?;
    Ok(NpyInfo { n_rows: layout.n_rows, n_cols: layout.n_cols, is_f32: layout.is_f32 })
}

/// A `.npy` file as a [`RowSource`] of `T` (see the [module docs](self)).
#[derive(Debug)]
pub struct NpySource<T> {
    path: PathBuf,
    file: File,
    layout: NpyLayout,
    _values: std::marker::PhantomData<fn() -> T>,
}

impl<T: Real> NpySource<T> {
    /// Opens `path` and checks its header.
    ///
    /// # Errors
    /// As [`crate::read_npy`], before any data is read.
    pub fn open(path: &Path) -> Result<Self> {
        let (file, layout) = open_npy(path)?;
        Ok(Self { path: path.to_path_buf(), file, layout, _values: std::marker::PhantomData })
    }

    /// The file's shape and precision.
    pub fn info(&self) -> NpyInfo {
        NpyInfo {
            n_rows: self.layout.n_rows,
            n_cols: self.layout.n_cols,
            is_f32: self.layout.is_f32,
        }
    }

    fn read_at(&self, offset: u64, buffer: &mut [u8]) -> Result<()> {
        read_exact_at(&self.file, buffer, offset).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::new(
                    ErrorKind::Parse,
                    format!(
                        "{}: the file ended while reading its data (was it truncated while in \
                         use?)",
                        self.path.display()
                    ),
                )
                .with_source(e)
            } else {
                Error::io(&self.path, "read", e)
            }
        })
    }

    /// Reads `count` values of the file's own type starting at value `at` and converts them
    /// into `out`.
    fn read_values(&self, at: u64, out: &mut [T]) -> Result<()> {
        let item = if self.layout.is_f32 { 4 } else { 8 };
        let offset = self.layout.data_start + at * item;
        let native = !self.layout.big_endian;
        if native && item as usize == std::mem::size_of::<T>() {
            self.read_at(offset, bytemuck::cast_slice_mut::<T, u8>(out))?;
            return Ok(());
        }
        let mut bytes = vec![0u8; out.len() * item as usize];
        self.read_at(offset, &mut bytes)?;
        for (value, chunk) in out.iter_mut().zip(bytes.chunks_exact(item as usize)) {
            *value = match (self.layout.is_f32, self.layout.big_endian) {
                (true, false) => {
                    T::from_f64(f32::from_le_bytes(chunk.try_into().expect("4")).into())
                }
                (true, true) => {
                    T::from_f64(f32::from_be_bytes(chunk.try_into().expect("4")).into())
                }
                (false, false) => T::from_f64(f64::from_le_bytes(chunk.try_into().expect("8"))),
                (false, true) => T::from_f64(f64::from_be_bytes(chunk.try_into().expect("8"))),
            };
        }
        Ok(())
    }
}

impl<T: Real> RowSource<T> for NpySource<T> {
    fn n_rows(&self) -> usize {
        self.layout.n_rows
    }

    fn n_features(&self) -> usize {
        self.layout.n_cols
    }

    fn read_rows(&self, first: usize, out: &mut [T]) -> Result<()> {
        let (n, d) = (self.layout.n_rows, self.layout.n_cols);
        let count = out.len() / d;
        if !out.len().is_multiple_of(d) || first.checked_add(count).is_none_or(|end| end > n) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "{}: rows {first}..{} are out of range for its {n} rows",
                    self.path.display(),
                    first.saturating_add(count)
                ),
            ));
        }
        if !self.layout.fortran || d == 1 || n == 1 {
            return self.read_values((first * d) as u64, out);
        }
        // Column-major: one read per column, then interleave.
        let mut column = vec![T::ZERO; count];
        for j in 0..d {
            self.read_values((j * n + first) as u64, &mut column)?;
            for (i, v) in column.iter().enumerate() {
                out[i * d + j] = *v;
            }
        }
        Ok(())
    }

    fn describe_row(&self, row: usize) -> String {
        format!("{} row {row}", self.path.display())
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    // Positioned reads through a cloned handle (one per call: slower, but correct).
    let mut handle = file.try_clone()?;
    handle.seek(SeekFrom::Start(offset))?;
    handle.read_exact(buffer)
}

/// One file of a [`StackedSource`]: streamed when it is a `.npy` file, read whole otherwise.
#[derive(Debug)]
enum Part<T> {
    Npy(NpySource<T>),
    Memory(PathBuf, Matrix<T>),
}

impl<T: Real> Part<T> {
    fn source(&self) -> &dyn RowSource<T> {
        match self {
            Self::Npy(s) => s,
            Self::Memory(_, m) => m,
        }
    }

    fn path(&self) -> &Path {
        match self {
            Self::Npy(s) => &s.path,
            Self::Memory(p, _) => p,
        }
    }
}

/// Several files end to end as one [`RowSource`] (see the [module docs](self)).
#[derive(Debug)]
pub struct StackedSource<T> {
    parts: Vec<Part<T>>,
    /// First row of each part, and the total at the end.
    starts: Vec<usize>,
    n_features: usize,
}

impl<T: Real> StackedSource<T> {
    /// Opens every file (`.npy` streamed, text read whole); all must have the same number of
    /// columns.
    ///
    /// # Errors
    /// The files' own errors, [`ErrorKind::EmptyData`] for no files, and
    /// [`ErrorKind::DimensionMismatch`] naming a file whose width differs from the first's.
    pub fn open(paths: &[PathBuf]) -> Result<Self> {
        let mut parts = Vec::with_capacity(paths.len());
        let mut starts = vec![0];
        let mut width = None;
        for path in paths {
            let is_npy =
                path.extension().is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("npy"));
            let part = if is_npy {
                Part::Npy(NpySource::open(path)?)
            } else {
                Part::Memory(path.clone(), read_matrix(path)?.into_real())
            };
            let d = part.source().n_features();
            if let Some(w) = width
                && w != d
            {
                return Err(Error::new(
                    ErrorKind::DimensionMismatch { expected: w, found: d },
                    format!(
                        "{}: {d} columns, but the first file has {w}: give frames of one \
                         dimension",
                        path.display()
                    ),
                ));
            }
            width = Some(d);
            starts.push(starts.last().copied().unwrap_or(0) + part.source().n_rows());
            parts.push(part);
        }
        let Some(n_features) = width else {
            return Err(Error::new(ErrorKind::EmptyData, "no frame files given"));
        };
        Ok(Self { parts, starts, n_features })
    }

    /// The part holding row `row`.
    fn part_of(&self, row: usize) -> usize {
        self.starts.partition_point(|&s| s <= row).saturating_sub(1).min(self.parts.len() - 1)
    }
}

impl<T: Real> RowSource<T> for StackedSource<T> {
    fn n_rows(&self) -> usize {
        *self.starts.last().unwrap_or(&0)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn read_rows(&self, first: usize, out: &mut [T]) -> Result<()> {
        let d = self.n_features;
        let count = out.len() / d;
        if first.checked_add(count).is_none_or(|end| end > self.n_rows()) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("rows {first}.. are out of range for {} frames", self.n_rows()),
            ));
        }
        let (mut row, mut done) = (first, 0);
        while done < count {
            let p = self.part_of(row);
            let local = row - self.starts[p];
            let take = (self.starts[p + 1] - row).min(count - done);
            self.parts[p].source().read_rows(local, &mut out[done * d..(done + take) * d])?;
            row += take;
            done += take;
        }
        Ok(())
    }

    fn describe_row(&self, row: usize) -> String {
        let p = self.part_of(row);
        format!("{} row {}", self.parts[p].path().display(), row - self.starts[p])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::{write_npy_f32, write_npy_f64};

    #[test]
    fn reads_any_rows_in_either_precision_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<f64> = (0..35).map(|v| v as f64 * 0.5).collect();
        let m = Matrix::from_vec(values.clone(), 5).unwrap();
        let p64 = dir.path().join("x64.npy");
        write_npy_f64(&p64, &m).unwrap();
        let p32 = dir.path().join("x32.npy");
        write_npy_f32(
            &p32,
            &Matrix::from_vec(values.iter().map(|&v| v as f32).collect(), 5).unwrap(),
        )
        .unwrap();
        // A Fortran-order big-endian float64 file, written by hand.
        let mut fortran = b"\x93NUMPY\x01\x00".to_vec();
        let mut dict = "{'descr': '>f8', 'fortran_order': True, 'shape': (7, 5), }".to_string();
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        fortran.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        fortran.extend_from_slice(dict.as_bytes());
        for j in 0..5 {
            for i in 0..7 {
                fortran.extend_from_slice(&values[i * 5 + j].to_be_bytes());
            }
        }
        let pf = dir.path().join("xf.npy");
        std::fs::write(&pf, fortran).unwrap();
        for path in [&p64, &p32, &pf] {
            let s64 = NpySource::<f64>::open(path).unwrap();
            let s32 = NpySource::<f32>::open(path).unwrap();
            assert_eq!((s64.n_rows(), s64.n_features()), (7, 5));
            for (first, count) in [(0, 7), (2, 3), (6, 1)] {
                let mut a = vec![0.0f64; count * 5];
                s64.read_rows(first, &mut a).unwrap();
                assert_eq!(a, values[first * 5..(first + count) * 5], "{}", path.display());
                let mut b = vec![0.0f32; count * 5];
                s32.read_rows(first, &mut b).unwrap();
                assert!(b.iter().zip(&a).all(|(x, y)| f64::from(*x) == *y));
            }
            let mut over = vec![0.0f64; 10];
            assert!(s64.read_rows(6, &mut over).is_err());
        }
        let stacked = StackedSource::<f64>::open(&[p64.clone(), p32.clone(), pf.clone()]).unwrap();
        assert_eq!(stacked.n_rows(), 21);
        let mut all = vec![0.0; 21 * 5];
        stacked.read_rows(0, &mut all).unwrap();
        assert_eq!(&all[35..70], &values[..]);
        let mut mid = vec![0.0; 4 * 5];
        stacked.read_rows(5, &mut mid).unwrap();
        assert_eq!(&mid[..10], &values[25..35]);
        assert_eq!(&mid[10..], &values[..10]);
        assert!(stacked.describe_row(8).ends_with("x32.npy row 1"));
    }

    #[test]
    fn truncated_and_mismatched_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        write_npy_f64(&path, &Matrix::from_vec(vec![1.0; 40], 4).unwrap()).unwrap();
        let source = NpySource::<f64>::open(&path).unwrap();
        // Truncated while in use.
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 8).unwrap();
        let mut out = vec![0.0; 40];
        let e = source.read_rows(0, &mut out).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Parse, "{e}");
        assert!(NpySource::<f64>::open(&path).is_err());
        let wide = dir.path().join("wide.npy");
        write_npy_f64(&wide, &Matrix::from_vec(vec![1.0; 10], 5).unwrap()).unwrap();
        let ok = dir.path().join("ok.npy");
        write_npy_f64(&ok, &Matrix::from_vec(vec![1.0; 8], 4).unwrap()).unwrap();
        let e = StackedSource::<f64>::open(&[ok, wide]).unwrap_err();
        assert!(e.message().contains("wide.npy"), "{e}");
    }
}
