//! Delimited text files: CSV, TSV and whitespace-separated columns.
//!
//! One sample per line, one feature per field, every line with the same number of fields.
//!
//! * **Header.** The first record is a header row if none of its fields is a number (names,
//!   empty cells and `NA`-like tokens only); its names then appear in error messages and
//!   [`crate::read_matrix_with_names`] returns them. A first record with a number in it is data, so a bad
//!   cell there (`1e5x,2`, `1.2.3,4`) is an error naming it, never a header dropped in silence.
//! * **Numbers** are anything Rust's `f64` parser takes (`3`, `-0.5`, `1e-3`, `+2.`), with
//!   surrounding spaces ignored. CSV fields may be quoted.
//! * **Missing or non-finite values** (an empty field, `NA`, `NaN`, `null`, `?`, `inf`, `1e999`,
//!   ...) are refused, naming the line and column: gmm does not guess how to impute them.
//! * **Blank lines** are skipped, except between values of a one-column file, where a blank line
//!   is a missing value and is refused.
//! * **Whitespace-separated** files (`numpy.savetxt`'s default) split on runs of spaces and tabs
//!   and skip `#` comments, like `numpy.loadtxt`. CSV and TSV files have no comment syntax.
//!
//! Errors name the file, the 1-based line, the 1-based column (with its header name when there
//! is a header) and quote the offending field.

use std::fmt::Write as _;
use std::path::Path;

use gmm_core::{Error, ErrorKind, Matrix, Result};

use crate::atomic::write_atomic_with;
use crate::errors::{file_error, parse_error};
use crate::input::{TextLimits, read_text_bytes};

/// How the fields of a line are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `,` (CSV, with quoting).
    Comma,
    /// A tab (TSV, with quoting).
    Tab,
    /// Runs of spaces and tabs; `#` starts a comment.
    Whitespace,
}

/// Reads a comma-separated file of numbers (header row optional) as an `n x d` matrix.
///
/// # Errors
/// * [`ErrorKind::Io`] when the file cannot be read;
/// * [`ErrorKind::Parse`] for a field that is not a number, a missing or non-finite value, a
///   row with a different number of fields than the first, or text that is not UTF-8 — each
///   naming the file, line and column;
/// * [`ErrorKind::EmptyData`] when there are no data rows.
pub fn read_csv(path: &Path) -> Result<Matrix<f64>> {
    read_delimited(path, Delimiter::Comma)
}

/// Reads a delimited text file of numbers as an `n x d` matrix; see [`read_csv`].
///
/// # Errors
/// As [`read_csv`].
pub fn read_delimited(path: &Path, delimiter: Delimiter) -> Result<Matrix<f64>> {
    let bytes = read_text_bytes(path, TextLimits::LINES)?;
    parse_table(path, &bytes, delimiter)
}

/// Reads a `.txt` file: comma-separated if its first non-blank, non-comment line holds a comma,
/// whitespace-separated otherwise.
///
/// # Errors
/// As [`read_csv`].
pub fn read_text_matrix(path: &Path) -> Result<Matrix<f64>> {
    let bytes = read_text_bytes(path, TextLimits::LINES)?;
    parse_text_matrix(path, &bytes)
}

/// Parses the bytes of a `.txt` file (see [`read_text_matrix`]).
pub(crate) fn parse_text_matrix(path: &Path, bytes: &[u8]) -> Result<Matrix<f64>> {
    parse_named_text_matrix(path, bytes).map(|(m, _)| m)
}

/// [`parse_text_matrix`], also returning the header's names, if any.
pub(crate) fn parse_named_text_matrix(
    path: &Path,
    bytes: &[u8],
) -> Result<(Matrix<f64>, Option<Vec<String>>)> {
    let first_line = bytes
        .split(|&b| b == b'\n')
        .map(|line| line.trim_ascii())
        .find(|line| !line.is_empty() && !line.starts_with(b"#"));
    let delimiter = match first_line {
        Some(line) if line.contains(&b',') => Delimiter::Comma,
        _ => Delimiter::Whitespace,
    };
    parse_named_table(path, bytes, delimiter)
}

/// Parses the contents of a delimited file.
pub(crate) fn parse_table(path: &Path, bytes: &[u8], delimiter: Delimiter) -> Result<Matrix<f64>> {
    parse_named_table(path, bytes, delimiter).map(|(m, _)| m)
}

/// Parses the contents of a delimited file; also returns the header's names, if any.
pub(crate) fn parse_named_table(
    path: &Path,
    bytes: &[u8],
    delimiter: Delimiter,
) -> Result<(Matrix<f64>, Option<Vec<String>>)> {
    let mut table = Table::new(path);
    match delimiter {
        Delimiter::Comma | Delimiter::Tab => {
            let separator = if delimiter == Delimiter::Tab { b'\t' } else { b',' };
            for_each_record(path, bytes, separator, |blank, line, fields| {
                if let Some(blank) = blank {
                    table.blank_line(blank);
                }
                table.push(line, fields)
            })?;
        }
        Delimiter::Whitespace => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                let number = i as u64 + 1;
                let text = std::str::from_utf8(line).map_err(|_| {
                    parse_error(path, format!("line {number}: the text is not UTF-8"))
                })?;
                if text.trim_start().starts_with('#') {
                    continue;
                }
                let text = text.split('#').next().unwrap_or("");
                let fields: Vec<&str> = text.split_whitespace().collect();
                table.push(number, &fields)?;
            }
        }
    }
    table.finish()
}

/// Calls `f(blank, line, fields)` for every record of a CSV/TSV file (fields separated by
/// `separator`, quoting allowed), with the 1-based line the record starts on and, when blank
/// lines were skipped right before it, the first of them.
pub(crate) fn for_each_record(
    path: &Path,
    bytes: &[u8],
    separator: u8,
    mut f: impl FnMut(Option<u64>, u64, &[&str]) -> Result<()>,
) -> Result<()> {
    // Records end at '\n' only: a '\r' before it is trimmed with the other white space.
    // Line numbers are counted here from byte offsets, as the reader's own count
    // drifts after blank lines.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let (mut line, mut counted_to) = (1u64, 0usize);
    loop {
        let offset = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| parse_error(path, format!("after line {line}: {e}")).with_source(e))?;
        if !more {
            break;
        }
        // The reader skips empty lines before a record.
        let rest = bytes.get(offset..).unwrap_or_default();
        let skipped = rest.iter().take_while(|&&b| b == b'\n').count();
        let start = offset.saturating_add(skipped);
        line += count_newlines(bytes.get(counted_to..start).unwrap_or_default());
        counted_to = start.max(counted_to);
        let blank = (skipped > 0).then(|| line - skipped as u64);
        let fields = record
            .iter()
            .enumerate()
            .map(|(j, field)| {
                std::str::from_utf8(field).map_err(|_| {
                    parse_error(
                        path,
                        format!("line {line}, column {}: the text is not UTF-8", j + 1),
                    )
                })
            })
            .collect::<Result<Vec<&str>>>()?;
        f(blank, line, &fields)?;
    }
    Ok(())
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Whether the first record of a file is a header row: no cell of it is a number (names, empty
/// cells and missing-value tokens only). A first row with both numbers and text is data, and
/// its text cells are errors.
pub(crate) fn is_header_row(fields: &[&str]) -> bool {
    fields.iter().all(|f| f.trim().trim_start_matches('\u{feff}').trim().parse::<f64>().is_err())
}

/// Tokens read as a missing value (compared without regard to case).
const MISSING: [&str; 8] = ["", "na", "n/a", "nan", "null", "none", "?", "-nan"];

pub(crate) fn is_missing(field: &str) -> bool {
    MISSING.iter().any(|m| field.eq_ignore_ascii_case(m))
}

/// Accumulates rows, checking their shape and values.
struct Table<'p> {
    path: &'p Path,
    /// Column names, when the first record was a header.
    header: Option<Vec<String>>,
    /// Number of fields and line of the first record.
    first: Option<(usize, u64)>,
    /// A blank line seen after data, not yet followed by data.
    pending_blank: Option<u64>,
    values: Vec<f64>,
}

impl<'p> Table<'p> {
    fn new(path: &'p Path) -> Self {
        Self { path, header: None, first: None, pending_blank: None, values: Vec::new() }
    }

    /// Notes a blank line (only matters once data has started).
    fn blank_line(&mut self, line: u64) {
        if !self.values.is_empty() && self.pending_blank.is_none() {
            self.pending_blank = Some(line);
        }
    }

    fn push(&mut self, line: u64, fields: &[&str]) -> Result<()> {
        if fields.iter().all(|f| f.trim().is_empty()) && fields.len() <= 1 {
            self.blank_line(line);
            return Ok(());
        }
        let n_fields = fields.len();
        match self.first {
            None => {
                self.first = Some((n_fields, line));
                if is_header_row(fields) {
                    self.header = Some(fields.iter().map(|f| f.trim().to_string()).collect());
                    return Ok(());
                }
                // A first row with a numeric cell is data: a bad cell in it is an error that
                // says why the row was not taken as a header.
                for (j, field) in fields.iter().enumerate() {
                    let value = self.parse_field(line, j, field).map_err(|e| {
                        Error::new(
                            e.kind().clone(),
                            format!(
                                "{} (the first row is data, not a header, because it has \
                                 numeric cells; a header row has none)",
                                e.message()
                            ),
                        )
                    })?;
                    self.values.push(value);
                }
                return Ok(());
            }
            Some((expected, first_line)) if expected != n_fields => {
                return Err(parse_error(
                    self.path,
                    format!(
                        "line {line} has {n_fields} field{} but line {first_line} has \
                         {expected}: every row needs the same number of columns",
                        if n_fields == 1 { "" } else { "s" }
                    ),
                ));
            }
            Some(_) => {}
        }
        if let Some(blank) = self.pending_blank.take()
            && n_fields == 1
        {
            return Err(parse_error(
                self.path,
                format!(
                    "line {blank} is blank but more values follow: in a one-column file a blank \
                     line is a missing value; remove or impute missing values"
                ),
            ));
        }
        for (j, field) in fields.iter().enumerate() {
            let value = self.parse_field(line, j, field)?;
            self.values.push(value);
        }
        Ok(())
    }

    fn parse_field(&self, line: u64, column: usize, raw: &str) -> Result<f64> {
        parse_number(self.path, self.header.as_deref(), line, column, raw)
    }

    fn finish(self) -> Result<(Matrix<f64>, Option<Vec<String>>)> {
        let n_cols = self.first.map_or(0, |(n, _)| n);
        if self.values.is_empty() {
            return Err(file_error(
                self.path,
                ErrorKind::EmptyData,
                if self.header.is_some() {
                    "the data is empty: the file has a header row but no data rows"
                } else {
                    "the data is empty: the file holds no data"
                },
            ));
        }
        let matrix =
            Matrix::from_vec(self.values, n_cols).map_err(|e| e.context(self.path.display()))?;
        Ok((matrix, self.header))
    }
}

/// Parses one numeric field (line and column 1-based and 0-based), refusing missing and
/// non-finite values; errors name the file, line, column and its header name.
pub(crate) fn parse_number(
    path: &Path,
    header: Option<&[String]>,
    line: u64,
    column: usize,
    raw: &str,
) -> Result<f64> {
    let field = raw.trim();
    let at = || {
        let name = header
            .and_then(|h| h.get(column))
            .map(|name| format!(" ({})", quote(name)))
            .unwrap_or_default();
        format!("line {line}, column {}{name}", column + 1)
    };
    if is_missing(field) {
        return Err(parse_error(
            path,
            format!(
                "{}: missing value {}: remove or impute missing values first",
                at(),
                quote(raw)
            ),
        ));
    }
    match field.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(parse_error(
            path,
            format!(
                "{}: {} is not a finite number: remove or impute missing and infinite \
                 values first",
                at(),
                quote(raw)
            ),
        )),
        Err(_) => Err(parse_error(
            path,
            format!(
                "{}: cannot read {} as a number: gmm reads numeric columns only (drop or \
                 encode text columns first)",
                at(),
                quote(raw)
            ),
        )),
    }
}

/// A field in double quotes, shortened if long.
pub(crate) fn quote(field: &str) -> String {
    const MAX: usize = 40;
    match field.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", &field[..cut]),
        None => format!("{field:?}"),
    }
}

/// Writes a matrix as CSV, atomically: an optional header row, then one row per line with
/// values in Rust's shortest round-trip form (`0.1`, `1e-7`, `3.0`).
///
/// # Errors
/// [`ErrorKind::DimensionMismatch`] when the header has a different number of names than the
/// matrix has columns; [`ErrorKind::Io`] naming the file.
pub fn write_csv_matrix(path: &Path, matrix: &Matrix<f64>, header: Option<&[&str]>) -> Result<()> {
    if let Some(names) = header
        && names.len() != matrix.n_cols()
    {
        return Err(file_error(
            path,
            ErrorKind::DimensionMismatch { expected: matrix.n_cols(), found: names.len() },
            format!("{} column names for a matrix with {} columns", names.len(), matrix.n_cols()),
        ));
    }
    // The writer's own I/O error as it is (a closed pipe stays `BrokenPipe`), others wrapped.
    let to_io = |e: csv::Error| {
        if e.is_io_error()
            && let csv::ErrorKind::Io(io) = e.into_kind()
        {
            return io;
        }
        std::io::Error::other("the CSV writer failed")
    };
    let mut cell = String::new();
    write_atomic_with(path, |w| {
        let mut writer = csv::Writer::from_writer(w);
        if let Some(names) = header {
            writer.write_record(names).map_err(to_io)?;
        }
        for row in matrix.as_slice().chunks(matrix.n_cols().max(1)) {
            for value in row {
                cell.clear();
                let _ = write!(cell, "{value:?}");
                writer.write_field(&cell).map_err(to_io)?;
            }
            writer.write_record(None::<&[u8]>).map_err(to_io)?;
        }
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn parse_err(text: &str) -> gmm_core::Error {
        let dir = tempfile::tempdir().unwrap();
        read_csv(&csv_file(&dir, "bad.csv", text)).unwrap_err()
    }

    #[test]
    fn with_and_without_header() {
        let dir = tempfile::tempdir().unwrap();
        let expected = [3.6, 79.0, 1.8, 54.0];
        for text in [
            "eruptions,waiting\n3.600,79\n1.800,54\n",
            "\"eruptions\",\"waiting\"\r\n3.600,79\r\n1.800,54\r\n",
            "3.600,79\n1.800,54",
            " 3.600 , 79\n1.800,54\n\n\n",
            "\u{feff}eruptions,waiting\n3.600,79\n1.800,54\n",
            "x,\n3.600,79\n1.800,54\n",
            ",NA\n3.600,79\n1.800,54\n",
        ] {
            let m = read_csv(&csv_file(&dir, "ok.csv", text)).unwrap();
            assert_eq!((m.n_rows(), m.n_cols()), (2, 2), "{text:?}");
            assert_eq!(m.as_slice(), &expected, "{text:?}");
        }
    }

    /// A header is a first row with no numeric cell; a first row mixing numbers and text is
    /// data, and its text cell is an error naming it (issue 15: it used to be dropped as a
    /// header in silence).
    #[test]
    fn header_detection() {
        for (text, at, cell) in [
            ("1e5x,2\n3,4\n", "line 1, column 1", "\"1e5x\""),
            ("1.2.3,4\n3,4\n", "line 1, column 1", "\"1.2.3\""),
            ("0x10,2\n3,4\n", "line 1, column 1", "\"0x10\""),
            ("2,1e5x\n3,4\n", "line 1, column 2", "\"1e5x\""),
            ("x,1\n3,4\n", "line 1, column 1", "\"x\""),
            ("NA,2\n3,4\n", "line 1, column 1", "\"NA\""),
            ("\n\n5,,6\n", "line 3, column 2", "\"\""),
        ] {
            let err = parse_err(text);
            assert_eq!(err.kind(), &ErrorKind::Parse, "{text:?}");
            let msg = err.message();
            assert!(msg.contains(at) && msg.contains(cell), "{text:?}: {msg}");
            assert!(msg.contains("not a header"), "{text:?}: {msg}");
        }
        // No numeric cell: a header, whatever the names look like.
        let dir = tempfile::tempdir().unwrap();
        for (text, names) in [
            ("a,b\n1,2\n", vec!["a", "b"]),
            ("NA,x\n1,2\n", vec!["NA", "x"]),
            (",x\n1,2\n", vec!["", "x"]),
            ("1e5x,1.2.3\n1,2\n", vec!["1e5x", "1.2.3"]),
        ] {
            let path = csv_file(&dir, "h.csv", text);
            let (m, found) = crate::read_matrix_with_names(&path).unwrap();
            assert_eq!(m.into_f64().as_slice(), &[1.0, 2.0], "{text:?}");
            assert_eq!(found, Some(names.iter().map(|n| n.to_string()).collect()), "{text:?}");
        }
        let path = csv_file(&dir, "n.csv", "1,2\n");
        assert_eq!(crate::read_matrix_with_names(&path).unwrap().1, None);
    }

    #[test]
    fn ragged_rows() {
        let err = parse_err("a,b\n1,2\n3,4,5\n");
        assert_eq!(err.kind(), &ErrorKind::Parse);
        let msg = err.message();
        assert!(msg.contains("bad.csv") && msg.contains("line 3 has 3 fields"), "{msg}");
        assert!(msg.contains("line 1 has 2"), "{msg}");
        let err = parse_err("1,2\n3\n");
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 2 has 1 field but line 1 has 2"), "{err}");
    }

    #[test]
    fn non_numeric_field_names_line_column_and_header() {
        let err = parse_err("sepal_length,species\n5.1,0\n4.9,setosa\n");
        assert_eq!(err.kind(), &ErrorKind::Parse);
        let msg = err.message();
        assert!(msg.contains("bad.csv"), "{msg}");
        assert!(msg.contains("line 3, column 2 (\"species\")"), "{msg}");
        assert!(msg.contains("\"setosa\""), "{msg}");
        // Without a header: no name.
        let err = parse_err("1,2\n3,x4\n");
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 2, column 2: cannot read \"x4\""), "{err}");
    }

    #[test]
    fn missing_and_non_finite_values() {
        for (text, at, field) in [
            ("a,b\n1,NaN\n", "line 2, column 2 (\"b\")", "\"NaN\""),
            ("a,b\n1,2\n,3\n", "line 3, column 1 (\"a\")", "\"\""),
            ("1,2\nNA,3\n", "line 2, column 1", "\"NA\""),
            ("1,2\n3,inf\n", "line 2, column 2", "\"inf\""),
            ("1,2\n3,-Infinity\n", "line 2, column 2", "\"-Infinity\""),
            ("1,2\n3,1e999\n", "line 2, column 2", "\"1e999\""),
            ("nan,2\n3,4\n", "line 1, column 1", "\"nan\""),
        ] {
            let err = parse_err(text);
            assert_eq!(err.kind(), &ErrorKind::Parse, "{text:?}");
            let msg = err.message();
            assert!(msg.contains("bad.csv") && msg.contains(at), "{text:?}: {msg}");
            assert!(msg.contains(field) && msg.contains("impute"), "{text:?}: {msg}");
        }
    }

    #[test]
    fn blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        // Leading, inner and trailing blank lines in a multi-column file are skipped.
        let m = read_csv(&csv_file(&dir, "a.csv", "\n\na,b\n1,2\n\n3,4\n\n  \n")).unwrap();
        assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
        // In a one-column file an inner blank line is a missing value.
        let err = read_csv(&csv_file(&dir, "w.csv", "w\n1\n\n3\n")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("w.csv") && err.message().contains("line 3"), "{err}");
        let err = read_csv(&csv_file(&dir, "w2.csv", "1\n2\n   \n3\n")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 3 is blank"), "{err}");
        // Trailing blank lines are fine.
        let m = read_csv(&csv_file(&dir, "w3.csv", "1\n2\n\n\n")).unwrap();
        assert_eq!(m.as_slice(), &[1.0, 2.0]);
        // Same for whitespace-separated files.
        let path = csv_file(&dir, "w.txt", "1\n\n2\n");
        let err = read_delimited(&path, Delimiter::Whitespace).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 2 is blank"), "{err}");
        // Comment lines are not blank lines.
        let path = csv_file(&dir, "c.txt", "# w\n1\n# between\n2\n");
        let m = read_delimited(&path, Delimiter::Whitespace).unwrap();
        assert_eq!(m.as_slice(), &[1.0, 2.0]);
    }

    #[test]
    fn line_numbers_survive_blank_lines_crlf_and_quotes() {
        for (text, at) in [
            ("a,b\n1,2\n\n\n3,x\n", "line 5, column 2"),
            ("a,b\r\n1,2\r\n\r\n3,x\r\n", "line 4, column 2"),
            ("\"a\nb\",c\n1,2\n3,x\n", "line 4, column 2 (\"c\")"),
            ("\n\n1,2\n3,x\n", "line 4, column 2"),
            ("1\r\n2\r\n\r\n3\r\n", "line 3 is blank"),
        ] {
            let err = parse_err(text);
            assert_eq!(err.kind(), &ErrorKind::Parse, "{text:?}");
            assert!(err.message().contains(at), "{text:?}: {err}");
        }
    }

    #[test]
    fn empty_files() {
        for text in ["", "\n\n", "a,b\n", "a,b\n\n"] {
            let err = parse_err(text);
            assert_eq!(err.kind(), &ErrorKind::EmptyData, "{text:?}");
            assert!(err.message().contains("bad.csv"), "{err}");
        }
    }

    #[test]
    fn not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.csv");
        std::fs::write(&path, b"a,b\n1,2\n3,\xe94\n").unwrap();
        let err = read_csv(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 3, column 2") && err.message().contains("UTF-8"));
    }

    #[test]
    fn whitespace_and_tsv() {
        let dir = tempfile::tempdir().unwrap();
        let path = csv_file(&dir, "s.txt", "# x y\n 1.5\t2 # first\n3   4\n");
        let m = read_delimited(&path, Delimiter::Whitespace).unwrap();
        assert_eq!(m.as_slice(), &[1.5, 2.0, 3.0, 4.0]);
        let path = csv_file(&dir, "s2.txt", "1 2\n3 4 5\n");
        let err = read_text_matrix(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 2 has 3 fields"), "{err}");
        let path = csv_file(&dir, "c.txt", "1,2\n3,4\n");
        assert_eq!(read_text_matrix(&path).unwrap().as_slice(), &[1.0, 2.0, 3.0, 4.0]);
        let path = csv_file(&dir, "t.tsv", "a\tb\n1\t2\n");
        assert_eq!(read_delimited(&path, Delimiter::Tab).unwrap().as_slice(), &[1.0, 2.0]);
    }

    #[test]
    fn missing_file_is_io() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_csv(&dir.path().join("absent.csv")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("absent.csv"), "{err}");
        // The operating system's error is the source, unchanged.
        let source = std::error::Error::source(&err).expect("the io error is kept");
        let io = source.downcast_ref::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn long_fields_are_shortened() {
        let long = "x".repeat(500);
        let err = parse_err(&format!("1\n{long}\n"));
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().len() < 300, "{err}");
    }

    #[test]
    fn write_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let m = Matrix::from_vec(vec![0.1, 1e-7, 3.0, -2.5e300, 1.0 / 3.0, 7.0], 2).unwrap();
        write_csv_matrix(&path, &m, Some(&["a", "b"])).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("a,b\n0.1,1e-7\n3.0,-2.5e300\n"), "{text}");
        assert_eq!(read_csv(&path).unwrap(), m);
        write_csv_matrix(&path, &m, None).unwrap();
        assert_eq!(read_csv(&path).unwrap(), m);
        let err = write_csv_matrix(&path, &m, Some(&["a"])).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::DimensionMismatch { expected: 2, found: 1 });
    }

    #[test]
    fn real_data_files() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let faithful = read_csv(&data.join("faithful.csv")).unwrap();
        assert_eq!((faithful.n_rows(), faithful.n_cols()), (272, 2));
        assert_eq!(faithful.row(0), &[3.6, 79.0]);
        assert_eq!(faithful.row(271), &[4.467, 74.0]);
        // Iris has a text column: refused, pointing at it.
        let err = read_csv(&data.join("iris.csv")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 2, column 5 (\"species\")"), "{err}");
    }
}
