//! Running a generic computation on the data's precision, on a pool, without the GIL.

use pyo3::PyResult;
use pyo3::exceptions::PyValueError;

/// Runs `$body` with `$rows` bound to the in-place rows of `$data` (a [`crate::input::Data`])
/// and `$t` to its element type.
macro_rules! with_rows {
    ($data:expr, |$rows:ident: $t:ident| $body:expr) => {
        match &$data {
            $crate::input::Data::F64(array) => {
                #[allow(dead_code)]
                type $t = f64;
                let $rows = $crate::input::rows(array)?;
                $body
            }
            $crate::input::Data::F32(array) => {
                #[allow(dead_code)]
                type $t = f32;
                let $rows = $crate::input::rows(array)?;
                $body
            }
        }
    };
}
pub(crate) use with_rows;

/// A pool of `n_threads` threads, or `None` for rayon's global pool (all cores).
pub fn pool(n_threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match n_threads {
        None => Ok(None),
        Some(0) => Err(PyValueError::new_err("n_threads must be >= 1 or None")),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(Some)
            .map_err(|e| PyValueError::new_err(format!("cannot start {n} threads: {e}"))),
    }
}
