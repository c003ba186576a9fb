//! One module per subcommand, plus what they share: loading data in the requested precision.

pub mod acc;
pub mod adapt;
pub mod classify;
pub mod fit;
pub mod frames;
pub mod llr;
pub mod plot;
pub mod predict;
pub mod sample;
pub mod scale;
pub mod score;
pub mod select;
pub mod stats;
pub mod ubm;

use std::path::Path;

use gmm_core::{Matrix, Real, Result};
use gmm_io::DataMatrix;

use crate::args::Dtype;

/// Reads `path` in the computation's precision: `dtype`, or the file's own (`.npy` float32
/// stays float32, text is float64).
pub fn load_data(path: &Path, dtype: Option<Dtype>) -> Result<DataMatrix> {
    let data = gmm_io::read_matrix(path)?;
    Ok(match (dtype, data) {
        (Some(Dtype::F32), data @ DataMatrix::F64(_)) => DataMatrix::F32(data.into_real()),
        (Some(Dtype::F64), data @ DataMatrix::F32(_)) => DataMatrix::F64(data.into_f64()),
        (_, data) => data,
    })
}

/// `--threads`, passed on unchanged; when it is above what the machine runs at once the
/// library caps it ([`gmm_em::fit::effective_threads`]), and this says so on standard error.
pub fn threads(requested: Option<usize>) -> Option<usize> {
    if let Some(n) = requested {
        let used = gmm_em::fit::effective_threads(n);
        if used < n {
            eprintln!(
                "gmm: note: --threads {n} is more than the {used} threads this machine runs at \
                 once: using {used}"
            );
        }
    }
    requested
}

/// A matrix of results in `f64` (for the writers, which write float64); the shape is kept, so
/// this fails only on a bug.
pub fn to_f64<T: Real>(m: Matrix<T>) -> Result<Matrix<f64>> {
    let n_cols = m.n_cols();
    let values = m.into_vec().into_iter().map(|v| v.to_f64()).collect();
    Matrix::from_vec(values, n_cols)
}
