//! Helpers shared by gmm-em's integration tests.

use std::path::PathBuf;

/// Path of a file under the repository root (the fixtures are shared with the other crates'
/// tests and benches).
pub fn root_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// Path of a file under the repository's `tests/data`.
pub fn data_path(relative: &str) -> PathBuf {
    root_path("tests/data").join(relative)
}

/// `|a - b| <= tol * max(1, |a|, |b|)`.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
}
