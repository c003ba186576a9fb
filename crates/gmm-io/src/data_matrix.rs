//! [`DataMatrix`]: a data matrix in the precision its file stores.
//!
//! The `.npy` reader ([`crate::npy`]) returns it and the entry points that choose a reader by
//! extension ([`crate::data`]) wrap the text readers' matrices in it. It depends on no reader,
//! so those modules depend on it and not on each other.

use gmm_core::{Error, ErrorKind, Matrix, Real, Result};

/// A data matrix as stored in a file: `.npy` files keep their precision, text files are read as
/// `f64`.
#[derive(Debug, Clone, PartialEq)]
pub enum DataMatrix {
    /// A float32 `.npy` array.
    F32(Matrix<f32>),
    /// A float64 `.npy` array or a text file.
    F64(Matrix<f64>),
}

impl DataMatrix {
    /// Number of rows (samples).
    pub fn n_rows(&self) -> usize {
        match self {
            Self::F32(m) => m.n_rows(),
            Self::F64(m) => m.n_rows(),
        }
    }

    /// Number of columns (features).
    pub fn n_cols(&self) -> usize {
        match self {
            Self::F32(m) => m.n_cols(),
            Self::F64(m) => m.n_cols(),
        }
    }

    /// The element type as NumPy names it: `float32` or `float64`.
    pub fn dtype_name(&self) -> &'static str {
        match self {
            Self::F32(_) => f32::NAME,
            Self::F64(_) => f64::NAME,
        }
    }

    /// The matrix in `f64` (float32 values are converted exactly).
    pub fn into_f64(self) -> Matrix<f64> {
        match self {
            Self::F64(m) => m,
            Self::F32(m) => convert(m),
        }
    }

    /// The matrix in precision `T`: float32 to float64 is exact, float64 to float32 rounds to
    /// nearest; a matrix already in `T` is returned without a copy.
    pub fn into_real<T: Real>(self) -> Matrix<T> {
        match self {
            Self::F32(m) => convert(m),
            Self::F64(m) => convert(m),
        }
    }
}

impl DataMatrix {
    /// [`into_real`](Self::into_real), refusing a value that overflows `T` (1e39 in float32)
    /// instead of turning it into infinity.
    ///
    /// # Errors
    /// [`ErrorKind::NonFiniteValue`] naming the first such value's (zero-based) row and column,
    /// the value, and the fix (compute in float64).
    pub fn try_into_real<T: Real>(self) -> Result<Matrix<T>> {
        if std::mem::size_of::<T>() == 4
            && let Self::F64(m) = &self
            && let Some(at) = m
                .as_slice()
                .iter()
                .position(|&v| v.is_finite() && !T::from_f64(v).to_f64().is_finite())
        {
            let (row, column) = (at / m.n_cols(), at % m.n_cols());
            let value = m.as_slice()[at];
            return Err(Error::new(
                ErrorKind::NonFiniteValue { row, column },
                format!(
                    "row {row}, column {column}: {value:e} overflows float32 (largest {:e}): \
                     compute in float64 (--dtype f64) or rescale the data",
                    f32::MAX
                ),
            ));
        }
        Ok(self.into_real())
    }
}

/// `m` value by value in another precision (`B::from_f64(a.to_f64())`); in the same
/// precision, `m` itself (no copy: a frame file can be most of the memory).
fn convert<A: Real, B: Real>(m: Matrix<A>) -> Matrix<B> {
    let n_cols = m.n_cols();
    let values = match A::NAME == B::NAME {
        true => match bytemuck::allocation::try_cast_vec::<A, B>(m.into_vec()) {
            Ok(values) => values,
            // Same type, same size and alignment: the cast cannot fail.
            Err((_, values)) => values.into_iter().map(|v| B::from_f64(v.to_f64())).collect(),
        },
        false => m.into_vec().into_iter().map(|v| B::from_f64(v.to_f64())).collect(),
    };
    match Matrix::from_vec(values, n_cols) {
        Ok(m) => m,
        // A valid matrix converted value by value keeps its valid shape.
        Err(_) => unreachable!("converting a valid matrix keeps its shape"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_matrix_helpers() {
        let m = DataMatrix::F32(Matrix::from_vec(vec![0.1f32, 2.0, 3.0], 1).unwrap());
        assert_eq!((m.n_rows(), m.n_cols(), m.dtype_name()), (3, 1, "float32"));
        let m64 = m.into_f64();
        assert_eq!(m64.as_slice(), &[f64::from(0.1f32), 2.0, 3.0]);
        let m = DataMatrix::F64(m64);
        assert_eq!((m.n_rows(), m.n_cols(), m.dtype_name()), (3, 1, "float64"));
    }

    #[test]
    fn float32_overflow_is_named() {
        let m = DataMatrix::F64(Matrix::from_vec(vec![1.0, 2.0, 3.0, -1e39], 2).unwrap());
        let err = m.clone().try_into_real::<f32>().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::NonFiniteValue { row: 1, column: 1 });
        assert!(err.message().contains("-1e39 overflows float32"), "{err}");
        assert!(err.message().contains("row 1, column 1"), "{err}");
        assert_eq!(m.try_into_real::<f64>().unwrap().as_slice()[3], -1e39);
        let fine = DataMatrix::F64(Matrix::from_vec(vec![3e38, 1e-50], 1).unwrap());
        assert_eq!(fine.try_into_real::<f32>().unwrap().as_slice(), &[3e38f32, 0.0]);
    }

    #[test]
    fn into_real_converts_like_a_cast() {
        let m = DataMatrix::F64(Matrix::from_vec(vec![0.1, -2.5, 1e-3], 3).unwrap());
        let m32: Matrix<f32> = m.clone().into_real();
        assert_eq!((m32.n_rows(), m32.n_cols()), (1, 3));
        assert_eq!(m32.as_slice(), &[0.1f32, -2.5, 1e-3f32]);
        let again: Matrix<f64> = m.clone().into_real();
        assert_eq!(again, m.into_f64());
        let m = DataMatrix::F32(Matrix::from_vec(vec![0.1f32, 3.0], 1).unwrap());
        assert_eq!(m.clone().into_real::<f32>().as_slice(), &[0.1f32, 3.0]);
        assert_eq!(m.into_real::<f64>().as_slice(), &[f64::from(0.1f32), 3.0]);
    }
}
