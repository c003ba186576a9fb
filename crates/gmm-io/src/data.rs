//! Data matrices read from files, and the entry points that pick a reader by file extension.
//!
//! | extension | reader | layout |
//! |-----------|--------|--------|
//! | `.npy` | [`read_npy`] | float32 or float64, 1-D or 2-D |
//! | `.csv` | [`read_csv`](crate::read_csv) | comma-separated, optional header row |
//! | `.tsv` | [`read_delimited`](crate::read_delimited) with [`Delimiter::Tab`] | tab-separated, optional header row |
//! | `.txt` | [`read_delimited`](crate::read_delimited), comma-separated if the first line has a comma, else whitespace-separated (`numpy.savetxt`'s default) | optional header row, `#` comments |
//!
//! Extensions are matched without regard to case. `-` is standard input: an `.npy` array if it
//! starts with the `.npy` magic string, text (as `.txt`) otherwise.

use std::io::Read;
use std::path::Path;

use gmm_core::{Error, ErrorKind, Result};

use crate::atomic::is_stdio;
pub use crate::data_matrix::DataMatrix;
use crate::errors::file_error;
use crate::input::{TextLimits, read_checked, read_text_bytes};
use crate::npy::{read_npy, read_npy_from};
use crate::text::{Delimiter, parse_named_table, parse_named_text_matrix};

/// Reads a data matrix, choosing the format by extension (see the [module docs](self)); `-`
/// reads standard input, as an `.npy` array if it starts with the `.npy` magic string and as
/// text (like a `.txt` file) otherwise.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for an unsupported extension (the message lists the supported
/// ones; a list file gets its own hint); otherwise the errors of the chosen reader.
pub fn read_matrix(path: &Path) -> Result<DataMatrix> {
    read_matrix_with_names(path).map(|(m, _)| m)
}

/// [`read_matrix`], also returning the column names of a text file's header row (`None` for
/// `.npy` files and text without a header).
///
/// # Errors
/// As [`read_matrix`].
pub fn read_matrix_with_names(path: &Path) -> Result<(DataMatrix, Option<Vec<String>>)> {
    let text = |delimiter: Option<Delimiter>| -> Result<(DataMatrix, Option<Vec<String>>)> {
        let bytes = read_text_bytes(path, TextLimits::LINES)?;
        let (m, names) = match delimiter {
            Some(delimiter) => parse_named_table(path, &bytes, delimiter)?,
            None => parse_named_text_matrix(path, &bytes)?,
        };
        Ok((DataMatrix::F64(m), names))
    };
    if is_stdio(path) {
        return read_stdin(path);
    }
    match extension(path).as_deref() {
        Some("npy") => Ok((read_npy(path)?, None)),
        Some("csv") => text(Some(Delimiter::Comma)),
        Some("tsv") => text(Some(Delimiter::Tab)),
        Some("txt") => text(None),
        Some("list" | "lst" | "scp") => Err(file_error(
            path,
            ErrorKind::InvalidConfig,
            "a list file cannot name another list file: name the data files (.npy, .csv, .tsv \
             or .txt) in it",
        )),
        _ => Err(file_error(
            path,
            ErrorKind::InvalidConfig,
            "unsupported file type: use .npy (float32 or float64), .csv, .tsv or .txt",
        )),
    }
}

/// Standard input: `.npy` if it starts with the magic string, text otherwise.
fn read_stdin(path: &Path) -> Result<(DataMatrix, Option<Vec<String>>)> {
    let mut stdin = std::io::stdin().lock();
    let mut prefix = [0u8; 6];
    let mut got = 0;
    while got < prefix.len() {
        match stdin.read(&mut prefix[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, "read", e)),
        }
    }
    let mut reader = std::io::Cursor::new(prefix[..got].to_vec()).chain(stdin);
    if prefix[..got] == *b"\x93NUMPY" {
        let mut reader = std::io::BufReader::new(reader);
        return Ok((read_npy_from(path, &mut reader, None)?, None));
    }
    let bytes = read_checked(path, &mut reader, TextLimits::LINES)?;
    let (m, names) = parse_named_text_matrix(path, &bytes)?;
    Ok((DataMatrix::F64(m), names))
}

/// Reads a vector of per-sample values (e.g. sample weights): a 1-D or `n x 1` `.npy` array, or
/// a one-column `.csv`, `.tsv` or `.txt` file (header optional). Float32 values are converted to
/// `f64` exactly.
///
/// # Errors
/// As [`read_matrix`], plus [`ErrorKind::DimensionMismatch`] when the file holds more than one
/// column.
pub fn read_vector(path: &Path) -> Result<Vec<f64>> {
    let matrix = read_matrix(path)?;
    let (n_rows, n_cols) = (matrix.n_rows(), matrix.n_cols());
    if n_cols != 1 {
        return Err(file_error(
            path,
            ErrorKind::DimensionMismatch { expected: 1, found: n_cols },
            format!(
                "expected one value per sample (a 1-D array or one column) but the file holds \
                 a {n_rows} x {n_cols} matrix"
            ),
        ));
    }
    Ok(matrix.into_f64().into_vec())
}

/// The lower-cased extension, if any.
fn extension(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::Matrix;

    use crate::npy::{write_npy_f32, write_npy_f64};

    #[test]
    fn dispatches_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let m = Matrix::from_vec(vec![1.0, 2.0, 3.0, 4.0], 2).unwrap();
        let npy = dir.path().join("x.NPY");
        write_npy_f64(&npy, &m).unwrap();
        assert_eq!(read_matrix(&npy).unwrap(), DataMatrix::F64(m.clone()));

        let csv = dir.path().join("x.csv");
        std::fs::write(&csv, "a,b\n1,2\n3,4\n").unwrap();
        assert_eq!(read_matrix(&csv).unwrap(), DataMatrix::F64(m.clone()));

        let tsv = dir.path().join("x.tsv");
        std::fs::write(&tsv, "1\t2\n3\t4\n").unwrap();
        assert_eq!(read_matrix(&tsv).unwrap(), DataMatrix::F64(m.clone()));

        let txt = dir.path().join("x.txt");
        std::fs::write(&txt, "# a b\n1.0e+00 2.0e+00\n3.0e+00   4.0e+00\n").unwrap();
        assert_eq!(read_matrix(&txt).unwrap(), DataMatrix::F64(m.clone()));

        let other = dir.path().join("x.parquet");
        std::fs::write(&other, "").unwrap();
        let err = read_matrix(&other).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
        assert!(err.message().contains("x.parquet") && err.message().contains(".npy"), "{err}");
        let err = read_matrix(&dir.path().join("noext")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
    }

    #[test]
    fn vectors_from_npy_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npy");
        crate::npy::write_npy_vector(&path, &[0.5, 1.0, 2.0]).unwrap();
        assert_eq!(read_vector(&path).unwrap(), vec![0.5, 1.0, 2.0]);

        let path = dir.path().join("w32.npy");
        write_npy_f32(&path, &Matrix::from_vec(vec![0.25f32, 4.0], 1).unwrap()).unwrap();
        assert_eq!(read_vector(&path).unwrap(), vec![0.25, 4.0]);

        let path = dir.path().join("w.csv");
        std::fs::write(&path, "weight\n1\n2\n\n").unwrap();
        assert_eq!(read_vector(&path).unwrap(), vec![1.0, 2.0]);

        let path = dir.path().join("w.txt");
        std::fs::write(&path, "1\n2\n3\n").unwrap();
        assert_eq!(read_vector(&path).unwrap(), vec![1.0, 2.0, 3.0]);

        let path = dir.path().join("wide.npy");
        write_npy_f64(&path, &Matrix::from_vec(vec![1.0, 2.0, 3.0, 4.0], 2).unwrap()).unwrap();
        let err = read_vector(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::DimensionMismatch { expected: 1, found: 2 });
        assert!(err.message().contains("wide.npy") && err.message().contains("2 x 2"), "{err}");
    }
}
