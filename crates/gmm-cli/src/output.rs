//! Writing results: by extension, `.npy` or text, always atomically (via gmm-io).

use std::fmt::Write as _;
use std::path::Path;

use gmm_core::{Matrix, Result};

fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// One value per sample: `.npy` float64 vector, otherwise text, one value per line.
pub fn write_values(path: &Path, values: &[f64]) -> Result<()> {
    if is_npy(path) {
        return gmm_io::write_npy_vector(path, values);
    }
    let mut text = String::with_capacity(values.len() * 20);
    for v in values {
        let _ = writeln!(text, "{v}");
    }
    gmm_io::write_text(path, &text)
}

/// Labels: `.npy` int64 vector, otherwise text, one per line.
pub fn write_labels(path: &Path, labels: &[usize]) -> Result<()> {
    if is_npy(path) {
        return gmm_io::write_npy_labels(path, labels);
    }
    gmm_io::write_text(path, &labels_text(labels))
}

/// A matrix: `.npy` float64, otherwise CSV without header.
pub fn write_matrix(path: &Path, matrix: &Matrix<f64>) -> Result<()> {
    if is_npy(path) {
        return gmm_io::write_npy_f64(path, matrix);
    }
    gmm_io::write_csv_matrix(path, matrix, None)
}

/// Labels as text, one per line.
pub fn labels_text(labels: &[usize]) -> String {
    let mut text = String::with_capacity(labels.len() * 3);
    for l in labels {
        let _ = writeln!(text, "{l}");
    }
    text
}

/// A matrix as comma-separated lines.
pub fn matrix_text(matrix: &Matrix<f64>) -> String {
    let mut text = String::new();
    for i in 0..matrix.n_rows() {
        let row: Vec<String> = matrix.row(i).iter().map(|v| v.to_string()).collect();
        let _ = writeln!(text, "{}", row.join(","));
    }
    text
}
