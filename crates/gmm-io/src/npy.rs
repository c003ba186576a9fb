//! NumPy `.npy` files.
//!
//! # Reading
//! [`read_npy`] accepts what `numpy.save` writes for a float array:
//!
//! * format versions 1.0, 2.0 and 3.0 (header parsed by gmm's own
//!   parser for the Python literal it holds, so no header can make it panic);
//! * dtype `<f8`/`>f8` (float64) or `<f4`/`>f4` (float32); big-endian data is byte-swapped.
//!   Any other dtype is refused with a message saying how to convert
//!   (`x.astype(np.float64)`), never cast silently;
//! * a 2-D array `n x d` (one sample per row) or a 1-D array of `n`, read as `n x 1`;
//! * C or Fortran order; Fortran-order arrays are transposed into gmm's row-major layout.
//!
//! The header's shape is checked against the file size before anything is allocated, so a
//! truncated file gives a message with the expected and found byte counts and a corrupt header
//! cannot make the reader allocate more memory than the file holds. Bytes after the data are
//! ignored, as `numpy.load` ignores them. Values are not checked for NaN or infinity here; the
//! model code does that and names the row and column.
//!
//! # Writing
//! The writers produce version 1.0 files, C order, little-endian, with the header padded to a
//! multiple of 64 bytes like `numpy.save`: `float64` and `float32` matrices, `int64` label
//! vectors and `float64` vectors. All writes are atomic (see [`crate::atomic`]).

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use gmm_core::{Error, ErrorKind, Matrix, Real, Result};

use crate::atomic::{is_stdio, write_atomic_with};
use crate::data_matrix::DataMatrix;
use crate::errors::{file_error, parse_error};
use crate::npy_header::read_header;

/// The dtypes [`read_npy`] accepts, for messages.
const ACCEPTED_DTYPES: &str = "float32 or float64 ('<f4', '<f8', '>f4' or '>f8')";

/// Reads a float32 or float64 `.npy` file as a row-major matrix (a 1-D array of `n` becomes
/// `n x 1`).
///
/// # Errors
/// * [`ErrorKind::Io`] when the file cannot be opened or read;
/// * [`ErrorKind::Parse`] for a bad magic string or header, a dtype other than float32/float64
///   (naming the dtype found), more than two dimensions, or a file shorter than its header says
///   (naming the expected and found byte counts);
/// * [`ErrorKind::EmptyData`] when the array has no rows or no columns.
pub fn read_npy(path: &Path) -> Result<DataMatrix> {
    if is_stdio(path) {
        return read_npy_from(path, &mut BufReader::new(io::stdin().lock()), None);
    }
    let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, "read", e))?;
    // A FIFO, a device or standard input has no size: it is read as a stream.
    let file_len = meta.is_file().then_some(meta.len());
    read_npy_from(path, &mut BufReader::new(file), file_len)
}

/// Reads an `.npy` array from `reader` (`file_len`: the size of a regular file, `None` for a
/// stream, whose length is only known at its end); `path` names it in errors.
pub(crate) fn read_npy_from(
    path: &Path,
    reader: &mut impl Read,
    file_len: Option<u64>,
) -> Result<DataMatrix> {
    let layout = check_layout(path, reader, file_len)?;
    let shape = Shape {
        n_rows: layout.n_rows,
        n_cols: layout.n_cols,
        big_endian: layout.big_endian,
        fortran: layout.fortran,
        in_file: file_len.is_some(),
    };
    let result = if layout.is_f32 {
        read_values::<f32>(path, reader, shape).map(DataMatrix::F32)
    } else {
        read_values::<f64>(path, reader, shape).map(DataMatrix::F64)
    };
    result.map_err(|e| {
        match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<StreamEnded>()) {
            Some(ended) => layout.truncated(path, &ended.0.to_string()),
            None => e,
        }
    })
}

/// Where and how a checked `.npy` file holds its matrix.
#[derive(Debug, Clone)]
pub(crate) struct NpyLayout {
    pub(crate) n_rows: usize,
    pub(crate) n_cols: usize,
    pub(crate) is_f32: bool,
    pub(crate) big_endian: bool,
    pub(crate) fortran: bool,
    pub(crate) data_start: u64,
    /// The header's shape as written, for messages.
    shape_text: String,
}

impl NpyLayout {
    /// The error for data that ends after `available` bytes.
    fn truncated(&self, path: &Path, available: &str) -> Error {
        let item_size = if self.is_f32 { 4 } else { 8 };
        let needed = (self.n_rows * self.n_cols * item_size).to_string();
        truncated_error(path, &self.shape_text, self.is_f32, self.data_start, &needed, available)
    }
}

fn truncated_error(
    path: &Path,
    shape: &str,
    is_f32: bool,
    data_start: u64,
    needed: &str,
    available: &str,
) -> Error {
    parse_error(
        path,
        format!(
            "the file is truncated: its header says shape {shape} of {}, which needs {needed} \
             data bytes, but only {available} bytes follow the {data_start}-byte header",
            if is_f32 { "float32" } else { "float64" },
        ),
    )
}

/// Opens the regular file `path` and checks its header (dtype, shape, that the file holds the
/// data), as [`read_npy`] does, without reading the data (the streaming reader's start).
pub(crate) fn open_npy(path: &Path) -> Result<(File, NpyLayout)> {
    let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, "read", e))?.len();
    let layout = check_layout(path, &mut BufReader::new(&file), Some(file_len))?;
    Ok((file, layout))
}

/// Reads and checks the header from `reader` (dtype, shape, and — for a regular file of
/// `file_len` bytes — that the file holds the data).
fn check_layout(path: &Path, reader: &mut impl Read, file_len: Option<u64>) -> Result<NpyLayout> {
    let header = read_header(path, reader, file_len)?;
    let (is_f32, big_endian) = float_dtype(path, &header.descr)?;
    let (n_rows, n_cols) = matrix_shape(path, &header.shape)?;
    let item_size: u64 = if is_f32 { 4 } else { 8 };
    let needed = n_rows.checked_mul(n_cols).and_then(|n| n.checked_mul(item_size));
    let too_big = || parse_error(path, "the array is too large for this platform's memory");
    match (needed, file_len) {
        (Some(needed), Some(len)) if needed <= len.saturating_sub(header.data_start) => {
            // The data fits in the file, so this only fails on 32-bit targets.
            usize::try_from(needed).map_err(|_| too_big())?;
        }
        (Some(needed), None) => {
            usize::try_from(needed).map_err(|_| too_big())?;
        }
        (_, len) => {
            let available = len.map_or(0, |len| len.saturating_sub(header.data_start));
            let needed = needed.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
            return Err(truncated_error(
                path,
                &shape_text(&header.shape),
                is_f32,
                header.data_start,
                &needed,
                &available.to_string(),
            ));
        }
    }
    Ok(NpyLayout {
        n_rows: usize::try_from(n_rows).map_err(|_| too_big())?,
        n_cols: usize::try_from(n_cols).map_err(|_| too_big())?,
        is_f32,
        big_endian,
        fortran: header.fortran_order,
        data_start: header.data_start,
        shape_text: shape_text(&header.shape),
    })
}

/// The data of a stream ended early, after this many bytes.
#[derive(Debug)]
struct StreamEnded(u64);

impl std::fmt::Display for StreamEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the data ended after {} bytes", self.0)
    }
}

impl std::error::Error for StreamEnded {}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Layout of the data bytes after the header.
#[derive(Clone, Copy)]
struct Shape {
    n_rows: usize,
    n_cols: usize,
    big_endian: bool,
    fortran: bool,
    /// Whether the data is known to be there (a regular file, checked against its size).
    in_file: bool,
}

/// Reads `n_rows * n_cols` values of `T` (already checked to be in the file) and returns them
/// row-major in native byte order.
fn read_values<T: Real>(path: &Path, reader: &mut impl Read, shape: Shape) -> Result<Matrix<T>> {
    let n = shape.n_rows * shape.n_cols;
    let out_of_memory = || {
        Error::new(
            ErrorKind::Io,
            format!(
                "{}: cannot allocate {} MB to read the data whole: the data is larger than the \
                 memory this process may use (give a smaller --memory-budget so that it is \
                 read in chunks)",
                path.display(),
                (n * std::mem::size_of::<T>()) >> 20
            ),
        )
    };
    // Filled a chunk at a time, so a stream that ends early (a FIFO whose header lies) never
    // makes the reader hold much more than the stream gave. A regular file is known to hold
    // the data: its memory is reserved at once. Either way, memory the process may not have
    // is an error, not an abort.
    const CHUNK: usize = 1 << 20;
    let mut values: Vec<T> = Vec::new();
    if shape.in_file {
        values.try_reserve_exact(n).map_err(|_| out_of_memory())?;
    }
    while values.len() < n {
        let start = values.len();
        let step = (n - start).min(CHUNK);
        values.try_reserve(step).map_err(|_| out_of_memory())?;
        values.resize(start + step, T::ZERO);
        let bytes = bytemuck::cast_slice_mut::<T, u8>(&mut values[start..]);
        let got = read_full(reader, bytes).map_err(|e| Error::io(path, "read", e))?;
        if got < bytes.len() {
            let read = (start * std::mem::size_of::<T>() + got) as u64;
            return Err(parse_error(path, "the data ended early").with_source(StreamEnded(read)));
        }
    }
    if shape.big_endian != cfg!(target_endian = "big") {
        let size = std::mem::size_of::<T>();
        for value in bytemuck::cast_slice_mut::<T, u8>(&mut values).chunks_exact_mut(size) {
            value.reverse();
        }
    }
    if shape.fortran && shape.n_rows > 1 && shape.n_cols > 1 {
        // Column-major: element (i, j) is at j * n_rows + i.
        let column_major = values;
        values = Vec::with_capacity(n);
        for i in 0..shape.n_rows {
            values.extend(column_major.iter().skip(i).step_by(shape.n_rows).copied());
        }
    }
    Matrix::from_vec(values, shape.n_cols).map_err(|e| e.context(path.display()))
}

/// `(is_f32, big_endian)` for the accepted dtypes; a parse error naming the dtype otherwise.
fn float_dtype(path: &Path, descr: &str) -> Result<(bool, bool)> {
    match descr {
        "<f4" => Ok((true, false)),
        ">f4" => Ok((true, true)),
        "<f8" => Ok((false, false)),
        ">f8" => Ok((false, true)),
        _ => Err(parse_error(
            path,
            format!(
                "the array's dtype is '{descr}' but gmm reads only {ACCEPTED_DTYPES} arrays: \
                 convert with x.astype(np.float64) before numpy.save"
            ),
        )),
    }
}

/// `(rows, columns)` of a 1-D or 2-D shape.
fn matrix_shape(path: &Path, shape: &[u64]) -> Result<(u64, u64)> {
    let (n_rows, n_cols) = match *shape {
        [n] => (n, 1),
        [n, d] => (n, d),
        _ => {
            return Err(parse_error(
                path,
                format!(
                    "the array has shape {} ({} dimensions): gmm reads a 2-D array \
                     (samples x features) or a 1-D array",
                    shape_text(shape),
                    shape.len()
                ),
            ));
        }
    };
    if n_rows == 0 || n_cols == 0 {
        return Err(file_error(
            path,
            ErrorKind::EmptyData,
            format!(
                "the array has shape {}: the data is empty (give at least one sample with at \
                 least one feature)",
                shape_text(shape)
            ),
        ));
    }
    Ok((n_rows, n_cols))
}

/// A shape as Python prints it: `(5,)`, `(3, 2)`, `()`.
fn shape_text<N: std::fmt::Display>(shape: &[N]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// The header of a version 1.0 (or, for very long headers, 2.0) C-order file.
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}", shape_text(shape));
    let (version, len_bytes) =
        if dict.len() + 11 + 63 <= usize::from(u16::MAX) { (1u8, 2) } else { (2u8, 4) };
    let prefix = 8 + len_bytes;
    // Pad with spaces and end with a newline so that the data starts at a multiple of 64.
    let unpadded = prefix + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = Vec::with_capacity(prefix + dict.len());
    out.extend_from_slice(b"\x93NUMPY");
    out.extend_from_slice(&[version, 0]);
    if len_bytes == 2 {
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Writes `values` little-endian.
fn write_le<T: bytemuck::Pod>(w: &mut dyn Write, values: &[T]) -> io::Result<()> {
    if cfg!(target_endian = "little") {
        return w.write_all(bytemuck::cast_slice(values));
    }
    let size = std::mem::size_of::<T>();
    for chunk in values.chunks(8192) {
        let mut bytes = bytemuck::cast_slice::<T, u8>(chunk).to_vec();
        for value in bytes.chunks_exact_mut(size) {
            value.reverse();
        }
        w.write_all(&bytes)?;
    }
    Ok(())
}

fn write_npy<T: bytemuck::Pod>(
    path: &Path,
    descr: &str,
    shape: &[usize],
    values: &[T],
) -> Result<()> {
    let header = npy_header(descr, shape);
    write_atomic_with(path, |w| {
        w.write_all(&header)?;
        write_le(w, values)
    })
}

/// Writes a float64 matrix as a 2-D C-order `.npy` file (`<f8`), atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the file.
pub fn write_npy_f64(path: &Path, matrix: &Matrix<f64>) -> Result<()> {
    write_npy(path, "<f8", &[matrix.n_rows(), matrix.n_cols()], matrix.as_slice())
}

/// Writes a float32 matrix as a 2-D C-order `.npy` file (`<f4`), atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the file.
pub fn write_npy_f32(path: &Path, matrix: &Matrix<f32>) -> Result<()> {
    write_npy(path, "<f4", &[matrix.n_rows(), matrix.n_cols()], matrix.as_slice())
}

/// Writes labels (component indices) as a 1-D int64 `.npy` file (`<i8`), atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the file; [`ErrorKind::InvalidParameter`] for a label above
/// `i64::MAX`.
pub fn write_npy_labels(path: &Path, labels: &[usize]) -> Result<()> {
    let values = labels
        .iter()
        .map(|&label| i64::try_from(label))
        .collect::<std::result::Result<Vec<i64>, _>>()
        .map_err(|_| {
            file_error(path, ErrorKind::InvalidParameter, "a label does not fit in int64")
        })?;
    write_npy(path, "<i8", &[values.len()], &values)
}

/// Writes a vector as a 1-D float64 `.npy` file (`<f8`), atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the file.
pub fn write_npy_vector(path: &Path, values: &[f64]) -> Result<()> {
    write_npy(path, "<f8", &[values.len()], values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1.0 `.npy` file with the given header dict and data bytes.
    fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut text = dict.to_string();
        let unpadded = 10 + text.len() + 1;
        text.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        text.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn f64_le(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn f64_matrix(m: DataMatrix) -> (usize, usize, Vec<f64>) {
        match m {
            DataMatrix::F64(m) => (m.n_rows(), m.n_cols(), m.into_vec()),
            DataMatrix::F32(_) => panic!("expected float64"),
        }
    }

    #[test]
    fn reads_c_order_f64() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
            &f64_le(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        );
        let path = write_file(&dir, "c.npy", &bytes);
        let (n, d, v) = f64_matrix(read_npy(&path).unwrap());
        assert_eq!((n, d), (3, 2));
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn reads_fortran_order_as_row_major() {
        let dir = tempfile::tempdir().unwrap();
        // The matrix [[1, 2], [3, 4], [5, 6]] stored column by column.
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }",
            &f64_le(&[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]),
        );
        let path = write_file(&dir, "f.npy", &bytes);
        let (n, d, v) = f64_matrix(read_npy(&path).unwrap());
        assert_eq!((n, d), (3, 2));
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn reads_1d_as_column() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
            &f64_le(&[0.5, 1.5, 2.5, 3.5]),
        );
        let path = write_file(&dir, "v.npy", &bytes);
        let (n, d, v) = f64_matrix(read_npy(&path).unwrap());
        assert_eq!((n, d), (4, 1));
        assert_eq!(v, [0.5, 1.5, 2.5, 3.5]);
    }

    #[test]
    fn reads_f32_and_big_endian() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> =
            [1.5f32, -2.0, 3.25, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let path = write_file(
            &dir,
            "f4.npy",
            &npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", &data),
        );
        let m = read_npy(&path).unwrap();
        assert_eq!(m.dtype_name(), "float32");
        match m {
            DataMatrix::F32(m) => assert_eq!(m.as_slice(), &[1.5, -2.0, 3.25, 4.0]),
            DataMatrix::F64(_) => panic!("expected float32"),
        }
        let data: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let path = write_file(
            &dir,
            "be.npy",
            &npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }", &data),
        );
        let (n, d, v) = f64_matrix(read_npy(&path).unwrap());
        assert_eq!((n, d, v), (1, 2, vec![1.5, -2.0]));
    }

    #[test]
    fn refuses_integer_dtype() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = [1i32, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let path = write_file(
            &dir,
            "ints.npy",
            &npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", &data),
        );
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        let msg = err.message();
        assert!(msg.contains("ints.npy"), "{msg}");
        assert!(msg.contains("'<i4'"), "{msg}");
        assert!(msg.contains("float64") && msg.contains("astype(np.float64)"), "{msg}");
    }

    #[test]
    fn truncated_data_names_byte_counts() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (10, 3), }",
            &f64_le(&[1.0; 29]),
        );
        let path = write_file(&dir, "short.npy", &bytes);
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        let msg = err.message();
        assert!(msg.contains("short.npy") && msg.contains("truncated"), "{msg}");
        assert!(msg.contains("240") && msg.contains("232") && msg.contains("(10, 3)"), "{msg}");
    }

    #[test]
    fn absurd_shape_is_truncation_not_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
            &f64_le(&[1.0; 2]),
        );
        let path = write_file(&dir, "huge.npy", &bytes);
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("truncated"), "{err}");
    }

    #[test]
    fn bad_magic_and_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(&dir, "text.npy", b"this is not numpy data at all");
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("text.npy") && err.message().contains(".npy"), "{err}");

        let path = write_file(&dir, "tiny.npy", b"\x93NU");
        assert_eq!(read_npy(&path).unwrap_err().kind(), &ErrorKind::Parse);

        let path = write_file(&dir, "hdr.npy", &npy_bytes("{'descr': '<f8', 'shape': (", &[]));
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("hdr.npy"), "{err}");

        // Header length pointing past the end of the file.
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&1000u16.to_le_bytes());
        bytes.extend_from_slice(b"{'descr'");
        let path = write_file(&dir, "cut.npy", &bytes);
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("cut.npy") && err.message().contains("header"), "{err}");
    }

    #[test]
    fn empty_and_3d_arrays() {
        let dir = tempfile::tempdir().unwrap();
        for (name, shape) in [("rows.npy", "(0, 3)"), ("cols.npy", "(5, 0)"), ("none.npy", "(0,)")]
        {
            let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
            let path = write_file(&dir, name, &npy_bytes(&dict, &[]));
            let err = read_npy(&path).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::EmptyData, "{err}");
            assert!(err.message().contains(name) && err.message().contains(shape), "{err}");
        }
        let path = write_file(
            &dir,
            "cube.npy",
            &npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }",
                &f64_le(&[0.0; 8]),
            ),
        );
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("(2, 2, 2)") && err.message().contains("cube.npy"));
        let path = write_file(
            &dir,
            "scalar.npy",
            &npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", &f64_le(&[1.0])),
        );
        assert_eq!(read_npy(&path).unwrap_err().kind(), &ErrorKind::Parse);
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let good = npy_bytes(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }",
            &f64_le(&[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]),
        );
        let path = dir.path().join("fuzz.npy");
        for at in 0..good.len() {
            for byte in [0u8, b' ', b'(', b')', b',', b'9', b'\'', 0xff] {
                let mut bytes = good.clone();
                bytes[at] = byte;
                std::fs::write(&path, &bytes).unwrap();
                let _ = read_npy(&path);
                std::fs::write(&path, &bytes[..at]).unwrap();
                let _ = read_npy(&path);
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn reads_from_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.npy");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
            &f64_le(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        );
        let feed = |bytes: Vec<u8>| {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut out = File::options().write(true).open(fifo).unwrap();
                let _ = out.write_all(&bytes);
            })
        };
        let writer = feed(bytes.clone());
        let (n, d, v) = f64_matrix(read_npy(&fifo).unwrap());
        writer.join().unwrap();
        assert_eq!((n, d, v), (3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        // A stream that ends early: truncated, with the byte counts.
        let writer = feed(bytes[..bytes.len() - 12].to_vec());
        let err = read_npy(&fifo).unwrap_err();
        writer.join().unwrap();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("truncated") && err.message().contains("36 bytes"), "{err}");
    }

    #[test]
    fn huge_headers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[b' '; 100]);
        let path = write_file(&dir, "big.npy", &bytes);
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("4294967295 bytes") && err.message().contains("1024 KiB"));
    }

    #[test]
    fn missing_file_is_io() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_npy(&dir.path().join("absent.npy")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("absent.npy"), "{err}");
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let values = vec![0.1, -2.5e-300, 3.0, f64::MAX, 5.0, 6.0];
        let m = Matrix::from_vec(values.clone(), 3).unwrap();
        let path = dir.path().join("m.npy");
        write_npy_f64(&path, &m).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(bytes.len(), 10 + header_len + 6 * 8);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"));
        assert!(header.ends_with(" \n"));
        let (n, d, v) = f64_matrix(read_npy(&path).unwrap());
        assert_eq!((n, d, v), (2, 3, values));

        let m32 = Matrix::from_vec(vec![1.0f32, 2.0, 3.0], 1).unwrap();
        let path = dir.path().join("m32.npy");
        write_npy_f32(&path, &m32).unwrap();
        assert_eq!(read_npy(&path).unwrap(), DataMatrix::F32(m32));

        let path = dir.path().join("v.npy");
        write_npy_vector(&path, &[1.0, 2.0]).unwrap();
        let (n, d, v) = f64_matrix(read_npy(&path).unwrap());
        assert_eq!((n, d, v), (2, 1, vec![1.0, 2.0]));
    }

    #[test]
    fn labels_are_int64() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.npy");
        write_npy_labels(&path, &[0, 2, 1]).unwrap();
        let file = npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(file.shape(), &[3]);
        assert_eq!(file.dtype().descr(), "'<i8'");
        assert_eq!(file.into_vec::<i64>().unwrap(), vec![0, 2, 1]);
        // Read back through our reader: refused, with the dtype named.
        let err = read_npy(&path).unwrap_err();
        assert!(err.message().contains("'<i8'"), "{err}");
        // An empty label vector is a valid file.
        write_npy_labels(&path, &[]).unwrap();
        let file = npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(file.shape(), &[0]);
    }

    #[test]
    fn npyz_reads_our_matrices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npy");
        write_npy_f64(&path, &Matrix::from_vec(vec![1.0, 2.0, 3.0, 4.0], 2).unwrap()).unwrap();
        let file = npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(file.shape(), &[2, 2]);
        assert_eq!(file.order(), npyz::Order::C);
        assert_eq!(file.into_vec::<f64>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
    }
}
