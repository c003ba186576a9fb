//! Frame inputs of the speech commands: files or list files, loaded in one precision.

use std::path::{Path, PathBuf};

use gmm_core::{Error, ErrorKind, Matrix, Real, Result};

use crate::args::Dtype;

/// Whether `path` names a list file (`.list`, `.lst`, `.scp`).
fn is_list(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(),
        Some("list" | "lst" | "scp")
    )
}

/// The frame files named by `inputs`, list files expanded in place (one path per line; blank
/// lines and lines starting with `#` skipped; relative paths relative to the list's folder).
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if !is_list(input) {
            out.push(input.clone());
            continue;
        }
        let text = std::fs::read_to_string(input).map_err(|e| {
            let message = format!("{}: cannot read the list: {e}", input.display());
            Error::new(ErrorKind::Io, message).with_source(e)
        })?;
        let base = input.parent().unwrap_or(Path::new(""));
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p = Path::new(line);
            out.push(if p.is_absolute() { p.to_path_buf() } else { base.join(p) });
        }
    }
    if out.is_empty() {
        return Err(Error::new(ErrorKind::EmptyData, "no frame files given (the lists are empty)"));
    }
    Ok(out)
}

/// The precision to compute in: `dtype`, or the first file's (from a `.npy` header alone).
pub fn precision(first: &Path, dtype: Option<Dtype>) -> Result<Dtype> {
    super::scale::file_precision(first, dtype)
}

/// Loads one file as `T`.
pub fn load<T: Real>(path: &Path) -> Result<Matrix<T>> {
    Ok(gmm_io::read_matrix(path)?.into_real())
}

/// Loads and stacks every file as `T`; all must have the same number of columns.
pub fn load_stacked<T: Real>(paths: &[PathBuf]) -> Result<Matrix<T>> {
    let mut values = Vec::new();
    let mut d = None;
    for path in paths {
        let m = load::<T>(path)?;
        if let Some(d) = d
            && m.n_cols() != d
        {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: d, found: m.n_cols() },
                format!(
                    "{}: {} columns, but the first file has {d}: give frames of one dimension",
                    path.display(),
                    m.n_cols()
                ),
            ));
        }
        d = Some(m.n_cols());
        values.extend(m.into_vec());
    }
    Matrix::from_vec(values, d.unwrap_or(1))
}
