//! Output of the `gmm` command, in one place:
//!
//! * **results** by extension (`.npy`, or text: `.csv`, `.tsv`, `.txt`, no extension), written
//!   through gmm-io's output policy (atomic for files, in place for devices and FIFOs, `-` for
//!   standard output); an extension that cannot hold the result (`sample -o s.json`) is refused
//!   before any work;
//! * **checks before any work** ([`Paths`]): an output that is one of the inputs, two outputs
//!   naming one file, two outputs to standard output, two inputs from standard input;
//! * **standard output and error** that never panic: [`print`] returns an error that keeps the
//!   [`std::io::Error`] (so `main` can leave quietly on a closed pipe), [`note`] ignores a
//!   closed standard error;
//! * **numbers** in the shortest form that reads back exactly, in exponent notation when large
//!   or small (`1e300`, not 300 digits).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use gmm_core::{Error, ErrorKind, Matrix, Result};
use gmm_io::{OutputTarget, is_stdio};

/// How a result is written, from its path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// NumPy `.npy`.
    Npy,
    /// Text: values separated by this byte (`,` or a tab), one row per line.
    Text(u8),
}

/// The format of a matrix or vector result written to `path` (named `flag` in messages):
/// `.npy`, `.csv`/`.txt`/no extension/`-` (comma-separated text) or `.tsv` (tab-separated).
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for any other extension, naming the flag and the formats.
pub fn format(flag: &str, path: &Path) -> Result<Format> {
    if is_stdio(path) {
        return Ok(Format::Text(b','));
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("npy") => Ok(Format::Npy),
        None | Some("csv" | "txt") => Ok(Format::Text(b',')),
        Some("tsv") => Ok(Format::Text(b'\t')),
        Some(other) => Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "{flag} {}: gmm cannot write this result as .{other}: name a .npy, .csv, .tsv \
                 or .txt file (or - for standard output)",
                path.display()
            ),
        )),
    }
}

/// One value per sample: a float64 `.npy` vector, or text with one value per line.
pub fn write_values(flag: &str, path: &Path, values: &[f64]) -> Result<()> {
    if format(flag, path)? == Format::Npy {
        return gmm_io::write_npy_vector(path, values);
    }
    let mut text = String::with_capacity(values.len() * 20);
    for &v in values {
        let _ = writeln!(text, "{}", number(v));
    }
    gmm_io::write_text(path, &text)
}

/// Labels: an int64 `.npy` vector, or text with one per line.
pub fn write_labels(flag: &str, path: &Path, labels: &[usize]) -> Result<()> {
    if format(flag, path)? == Format::Npy {
        return gmm_io::write_npy_labels(path, labels);
    }
    gmm_io::write_text(path, &labels_text(labels))
}

/// A matrix: a float64 `.npy` array, or comma- (tab-, for `.tsv`) separated text without a
/// header.
pub fn write_matrix(flag: &str, path: &Path, matrix: &Matrix<f64>) -> Result<()> {
    match format(flag, path)? {
        Format::Npy => gmm_io::write_npy_f64(path, matrix),
        Format::Text(b',') => gmm_io::write_csv_matrix(path, matrix, None),
        Format::Text(separator) => gmm_io::write_text(path, &matrix_text(matrix, separator)),
    }
}

/// Labels as text, one per line.
pub fn labels_text(labels: &[usize]) -> String {
    let mut text = String::with_capacity(labels.len() * 3);
    for l in labels {
        let _ = writeln!(text, "{l}");
    }
    text
}

/// A matrix as lines of values separated by `separator`.
pub fn matrix_text(matrix: &Matrix<f64>, separator: u8) -> String {
    let mut text = String::new();
    for i in 0..matrix.n_rows() {
        for (j, &v) in matrix.row(i).iter().enumerate() {
            if j > 0 {
                text.push(char::from(separator));
            }
            text.push_str(&number(v));
        }
        text.push('\n');
    }
    text
}

/// A number in its shortest round-trip form, in exponent notation when it is large or small
/// (`0.1`, `3.0`, `1e300`, `1e-7`), never hundreds of digits.
pub fn number(v: f64) -> String {
    format!("{v:?}")
}

/// `v` with `decimals` decimals, or in exponent notation with as many when it is too large or
/// too small for that to be readable (tables and summaries).
pub fn fixed(v: f64, decimals: usize) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-4..1e15).contains(&a) {
        format!("{v:.decimals$e}")
    } else {
        format!("{v:.decimals$}")
    }
}

/// Writes `text` to standard output.
///
/// # Errors
/// [`ErrorKind::Io`] whose source is the [`std::io::Error`] (`BrokenPipe` for a closed pipe,
/// which `main` turns into a quiet exit).
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| {
        Error::new(ErrorKind::Io, format!("cannot write to standard output: {e}")).with_source(e)
    })
}

/// Writes `text` to standard error; a closed or full standard error is ignored (there is
/// nowhere left to say so).
pub fn note(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The files a command reads and writes, checked together before any work:
/// * an output that is one of the inputs (the same file, through any path or link) would
///   destroy it;
/// * two outputs naming one file would overwrite each other;
/// * two outputs to standard output, or two inputs from standard input, would mix.
///
/// Devices and FIFOs are written through, never replaced, so they are not compared
/// (`-o /dev/null --report /dev/null` is fine).
#[derive(Debug, Default)]
pub struct Paths {
    inputs: Vec<(String, PathBuf)>,
    outputs: Vec<(String, PathBuf)>,
}

/// What a path is, for comparisons.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// An existing regular file: device and inode (or its canonical path off Unix).
    File(u64, u64, PathBuf),
    /// A file to be created (normalised path).
    New(PathBuf),
    /// `-`.
    Stdio,
    /// A device, a FIFO, something missing: not compared.
    Other,
}

impl Paths {
    /// No files yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An input file, named `what` in messages (`DATA`, `MODEL`, `--weights`).
    pub fn input(mut self, what: &str, path: &Path) -> Self {
        self.inputs.push((what.to_string(), path.to_path_buf()));
        self
    }

    /// Every file of `paths` as inputs named `what`.
    pub fn inputs<'a>(mut self, what: &str, paths: impl IntoIterator<Item = &'a Path>) -> Self {
        for path in paths {
            self = self.input(what, path);
        }
        self
    }

    /// An optional input.
    pub fn maybe_input(self, what: &str, path: Option<&Path>) -> Self {
        match path {
            Some(path) => self.input(what, path),
            None => self,
        }
    }

    /// An output, named `flag` in messages; `None` is skipped.
    pub fn output(mut self, flag: &str, path: Option<&Path>) -> Self {
        if let Some(path) = path {
            self.outputs.push((flag.to_string(), path.to_path_buf()));
        }
        self
    }

    /// Checks the rules in the [type docs](Self).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming both paths and what to do; [`ErrorKind::Io`] when an
    /// output path cannot be resolved (a loop of links, a directory).
    pub fn check(&self) -> Result<()> {
        let conflict = |message: String| Err(Error::new(ErrorKind::InvalidConfig, message));
        let stdin: Vec<&(String, PathBuf)> =
            self.inputs.iter().filter(|(_, p)| is_stdio(p)).collect();
        if let [a, b, ..] = stdin.as_slice() {
            return conflict(format!(
                "{} and {} both read standard input (-): give one of them as a file",
                a.0, b.0
            ));
        }
        let inputs: Vec<(&String, &PathBuf, Identity)> =
            self.inputs.iter().map(|(w, p)| (w, p, input_identity(p))).collect();
        let mut seen: Vec<(&String, &PathBuf, Identity)> = Vec::new();
        for (flag, path) in &self.outputs {
            let id = output_identity(path)?;
            if id == Identity::Other {
                continue;
            }
            if id != Identity::Stdio
                && let Some((what, input, _)) = inputs.iter().find(|(_, _, i)| *i == id)
            {
                return conflict(format!(
                    "{flag} {} is the input {what} {}: writing it would destroy the input; \
                     choose another output file",
                    path.display(),
                    input.display()
                ));
            }
            if let Some((other, other_path, _)) = seen.iter().find(|(_, _, i)| *i == id) {
                return conflict(if id == Identity::Stdio {
                    format!(
                        "{other} and {flag} both write to standard output: send one of them to \
                         a file"
                    )
                } else {
                    format!(
                        "{other} {} and {flag} {} are the same file: give each output its own \
                         file",
                        other_path.display(),
                        path.display()
                    )
                });
            }
            seen.push((flag, path, id));
        }
        Ok(())
    }
}

fn input_identity(path: &Path) -> Identity {
    if is_stdio(path) {
        return Identity::Stdio;
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => file_identity(path, &meta),
        _ => Identity::Other,
    }
}

fn output_identity(path: &Path) -> Result<Identity> {
    Ok(match OutputTarget::resolve(path)? {
        OutputTarget::Stdout => Identity::Stdio,
        OutputTarget::Through { .. } => Identity::Other,
        OutputTarget::Atomic { path, existing: Some(meta) } => file_identity(&path, &meta),
        OutputTarget::Atomic { path, existing: None } => Identity::New(normalise(&path)),
    })
}

#[cfg(unix)]
fn file_identity(_path: &Path, meta: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::File(meta.dev(), meta.ino(), PathBuf::new())
}

#[cfg(not(unix))]
fn file_identity(path: &Path, _meta: &std::fs::Metadata) -> Identity {
    Identity::File(0, 0, std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// A path to a file that does not exist yet: its directory made canonical, then its name.
fn normalise(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// Whether `error` comes from writing to a closed pipe.
pub fn is_broken_pipe(error: &Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_exponents_when_large_or_small() {
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(-2.5e-9), "-2.5e-9");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(3.0), "3.0");
        assert_eq!(fixed(1e300, 4), "1.0000e300");
        assert_eq!(fixed(-2314.4, 2), "-2314.40");
        assert_eq!(fixed(0.0, 2), "0.00");
        assert_eq!(fixed(3e-7, 3), "3.000e-7");
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(format("-o", Path::new("x.NPY")).unwrap(), Format::Npy);
        assert_eq!(format("-o", Path::new("x.csv")).unwrap(), Format::Text(b','));
        assert_eq!(format("-o", Path::new("x")).unwrap(), Format::Text(b','));
        assert_eq!(format("-o", Path::new("-")).unwrap(), Format::Text(b','));
        assert_eq!(format("-o", Path::new("x.tsv")).unwrap(), Format::Text(b'\t'));
        let err = format("-o", Path::new("s.json")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
        assert!(err.message().contains("-o s.json") && err.message().contains(".json"));
    }

    #[test]
    fn paths_that_collide_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let x = dir.path().join("x.csv");
        std::fs::write(&x, "1\n").unwrap();
        let link = dir.path().join("link.csv");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&x, &link).unwrap();
        let new = dir.path().join("new.json");
        let same_new = dir.path().join(".").join("new.json");
        let ok = Paths::new().input("DATA", &x).output("-o", Some(&new)).check();
        assert!(ok.is_ok());
        for (paths, needle) in [
            (Paths::new().input("DATA", &x).output("-o", Some(&x)), "is the input DATA"),
            #[cfg(unix)]
            (Paths::new().input("DATA", &x).output("-o", Some(&link)), "is the input DATA"),
            (
                Paths::new().output("-o", Some(&new)).output("--report", Some(&same_new)),
                "are the same file",
            ),
            (
                Paths::new()
                    .output("-o", Some(Path::new("-")))
                    .output("--report", Some(Path::new("-"))),
                "both write to standard output",
            ),
            (
                Paths::new().input("MODEL", Path::new("-")).input("DATA", Path::new("-")),
                "both read standard input",
            ),
        ] {
            let err = paths.check().unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
            assert!(err.message().contains(needle), "{err}");
        }
        // Reading standard input and writing standard output is a filter, not a conflict.
        let filter = Paths::new().input("DATA", Path::new("-")).output("-o", Some(Path::new("-")));
        assert!(filter.check().is_ok());
    }
}
