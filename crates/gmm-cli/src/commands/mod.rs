//! One module per subcommand, plus what they share: loading data in the requested precision.

pub mod adapt;
pub mod classify;
pub mod fit;
pub mod frames;
pub mod llr;
pub mod plot;
pub mod predict;
pub mod sample;
pub mod score;
pub mod select;
pub mod stats;
pub mod ubm;

use std::path::Path;

use gmm_core::{Matrix, Real, Result};
use gmm_io::DataMatrix;

use crate::args::Dtype;

/// Data converted to the computation's precision.
pub enum Data {
    /// Single precision.
    F32(Matrix<f32>),
    /// Double precision.
    F64(Matrix<f64>),
}

/// Reads `path` and converts it to `dtype` (default: the file's own precision).
pub fn load_data(path: &Path, dtype: Option<Dtype>) -> Result<Data> {
    let data = gmm_io::read_matrix(path)?;
    Ok(match (data, dtype) {
        (DataMatrix::F32(m), None | Some(Dtype::F32)) => Data::F32(m),
        (DataMatrix::F64(m), None | Some(Dtype::F64)) => Data::F64(m),
        (DataMatrix::F32(m), Some(Dtype::F64)) => Data::F64(convert(m)?),
        (DataMatrix::F64(m), Some(Dtype::F32)) => Data::F32(convert(m)?),
    })
}

/// The same matrix in another precision (the shape is kept, so this fails only on a bug).
fn convert<A: Real, B: Real>(m: Matrix<A>) -> Result<Matrix<B>> {
    let n_cols = m.n_cols();
    let values = m.into_vec().into_iter().map(|v| B::from_f64(v.to_f64())).collect();
    Matrix::from_vec(values, n_cols)
}

/// A matrix in `f64`.
pub fn to_f64<T: Real>(m: Matrix<T>) -> Result<Matrix<f64>> {
    convert(m)
}
