//! One module per subcommand, plus what they share: loading data in the requested precision
//! ([`precision`]) and frame inputs of the speech commands ([`frames`]).

pub mod acc;
pub mod adapt;
pub mod classify;
pub mod fit;
pub mod frames;
pub mod llr;
pub mod plot;
pub mod precision;
pub mod predict;
pub mod sample;
pub mod scale;
pub mod score;
pub mod select;
pub mod stats;
pub mod ubm;

use gmm_core::{Matrix, Real, Result};

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
