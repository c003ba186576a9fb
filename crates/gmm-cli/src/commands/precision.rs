//! Data in the computation's precision, centred when float32 would lose it.
//!
//! float32 holds about 7 significant digits, so data far from the origin compared with its
//! spread (a column with mean 1e8 and standard deviation 1) loses its spread when converted, and
//! the kernels' `x - mu` cancels what is left: `fit --dtype f32` on such data used to return a
//! wrong model without a word. When a computation runs in float32 and some column's mean
//! exceeds [`OFFSET_RATIO`] times its standard deviation, the data is **centred in float64**
//! (every column minus its mean) before it is converted; models read for the computation are
//! shifted the same way, and models written are shifted back (in float64, so the means keep
//! their digits). Log-likelihoods, posteriors and labels do not change under a shift.

use std::path::Path;

use gmm_core::{GaussianMixture, Matrix, Real, Result};
use gmm_io::DataMatrix;

use crate::args::Dtype;
use crate::output;

/// Centre float32 data when some column's |mean| exceeds this many standard deviations (at
/// 1e3 the float32 result already moves in the 4th digit on two Gaussian clusters; see
/// docs/DECISIONS.md).
pub const OFFSET_RATIO: f64 = 1e3;

/// Data in the computation's precision and the shift subtracted from it (float32 only).
pub struct Loaded {
    /// The data, centred when `shift` is set.
    pub data: DataMatrix,
    /// The column means subtracted (in float64) before the conversion to float32.
    pub shift: Option<Vec<f64>>,
}

/// Reads `path` in the computation's precision (`dtype`, or the file's own: `.npy` float32
/// stays float32, text is float64); float32 data far from the origin is centred first (see
/// the [module docs](self)). A value that overflows float32 is an error naming it.
pub fn load(path: &Path, dtype: Option<Dtype>) -> Result<Loaded> {
    let data = gmm_io::read_matrix(path)?;
    let to_f32 = match (dtype, &data) {
        (Some(Dtype::F32), _) | (None, DataMatrix::F32(_)) => true,
        (Some(Dtype::F64), _) | (None, DataMatrix::F64(_)) => false,
    };
    if !to_f32 {
        return Ok(Loaded { data: DataMatrix::F64(data.into_f64()), shift: None });
    }
    let shift = match &data {
        DataMatrix::F32(x) => offset(x),
        DataMatrix::F64(x) => offset(x),
    };
    let x = match (data, &shift) {
        // float32 data that needs no centring is used as it is: no copy (a 2M x 39 file is
        // 312 MB; a float64 detour would hold three times that).
        (DataMatrix::F32(x), None) => x,
        (DataMatrix::F32(x), Some(shift)) => {
            let d = x.n_cols();
            let mut values = x.into_vec();
            for row in values.chunks_exact_mut(d) {
                for (v, s) in row.iter_mut().zip(shift) {
                    *v = (f64::from(*v) - s) as f32;
                }
            }
            Matrix::from_vec(values, d)?
        }
        (data, shift) => {
            let x = data.into_f64();
            let x = match shift {
                Some(shift) => {
                    let d = x.n_cols();
                    let mut values = x.into_vec();
                    for row in values.chunks_exact_mut(d) {
                        for (v, s) in row.iter_mut().zip(shift) {
                            *v -= s;
                        }
                    }
                    Matrix::from_vec(values, d)?
                }
                None => x,
            };
            DataMatrix::F64(x).try_into_real::<f32>().map_err(|e| e.context(path.display()))?
        }
    };
    if let Some(shift) = &shift {
        let largest = shift.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        output::note(&format!(
            "gmm: note: {}: centred in float64 before float32 (column means up to {largest:.1e}, \
             far larger than the spread); models are shifted back\n",
            path.display(),
        ));
    }
    Ok(Loaded { data: DataMatrix::F32(x), shift })
}

/// The column means of `x` when some column's |mean| exceeds [`OFFSET_RATIO`] standard
/// deviations (float32 would lose its spread), `None` otherwise.
pub fn offset<T: Real>(x: &Matrix<T>) -> Option<Vec<f64>> {
    let (n, d) = (x.n_rows(), x.n_cols());
    let mut mean = vec![0.0; d];
    for row in x.as_slice().chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v.to_f64();
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; d];
    for row in x.as_slice().chunks_exact(d) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            let t = v.to_f64() - m;
            *s += t * t;
        }
    }
    let far = mean.iter().zip(&var).any(|(m, s)| {
        let sd = (s / n as f64).sqrt();
        m.abs() > OFFSET_RATIO * sd && m.abs() > 0.0
    });
    far.then_some(mean)
}

/// `model` with every mean moved by `sign * shift` (`sign = -1`: into the centred frame, `+1`:
/// back), in precision `B`.
pub fn shifted<A: Real, B: Real>(
    model: &GaussianMixture<A>,
    shift: Option<&[f64]>,
    sign: f64,
) -> Result<GaussianMixture<B>> {
    let d = model.n_features();
    let cast = |v: &[A]| v.iter().map(|x| B::from_f64(x.to_f64())).collect::<Vec<B>>();
    let means = match shift {
        Some(shift) => model
            .means()
            .chunks_exact(d)
            .flat_map(|mu| mu.iter().zip(shift).map(|(m, s)| B::from_f64(m.to_f64() + sign * s)))
            .collect(),
        None => cast(model.means()),
    };
    GaussianMixture::new(
        model.covariance_type(),
        cast(model.weights()),
        means,
        cast(model.covariances()),
    )
}

/// Reads a model for a computation in `T` on data centred by `shift` (see [`shifted`]).
pub fn read_model<T: Real>(path: &Path, shift: Option<&[f64]>) -> Result<GaussianMixture<T>> {
    match shift {
        None => gmm_io::read_model::<T>(path),
        Some(_) => {
            let model = gmm_io::read_model::<f64>(path)?;
            shifted(&model, shift, -1.0).map_err(|e| e.context(path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_found_per_column() {
        let x = Matrix::from_vec(vec![1e8, 0.0, 1e8 + 1.0, 1.0, 1e8 + 2.0, 2.0], 2).unwrap();
        let shift = offset(&x).unwrap();
        assert_eq!(shift, vec![1e8 + 1.0, 1.0]);
        let near = Matrix::from_vec(vec![10.0, 0.0, 11.0, 1.0, 12.0, 2.0], 2).unwrap();
        assert_eq!(offset(&near), None);
        let constant = Matrix::from_vec(vec![0.0, 0.0], 1).unwrap();
        assert_eq!(offset(&constant), None);
    }
}
