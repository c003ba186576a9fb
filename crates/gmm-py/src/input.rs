//! Arguments from Python: sample matrices (read in place), sample weights and models.

use gmm_core::{CovarianceType, GaussianMixture, Real};
use gmm_em::Parameters;
use numpy::{
    Element, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::rows::{Layout, Rows};

/// A 2-D `float32` or `float64` array, borrowed read-only for the length of a call.
pub enum Data<'py> {
    /// `float64` samples.
    F64(PyReadonlyArray2<'py, f64>),
    /// `float32` samples.
    F32(PyReadonlyArray2<'py, f32>),
}

impl<'py> Data<'py> {
    /// Borrows `x`, which must be a 2-D `float32` or `float64` array.
    pub fn borrow(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(a) = x.extract::<PyReadonlyArray2<'py, f64>>() {
            return Ok(Self::F64(a));
        }
        if let Ok(a) = x.extract::<PyReadonlyArray2<'py, f32>>() {
            return Ok(Self::F32(a));
        }
        Err(PyTypeError::new_err(
            "expected a 2-D float32 or float64 numpy array: validate X with the estimator first",
        ))
    }
}

/// The rows of `array` in place; fails unless it is C- or Fortran-contiguous.
pub fn rows<'a, T: Real + Element>(array: &'a PyReadonlyArray2<'_, T>) -> PyResult<Rows<'a, T>> {
    let shape = array.shape();
    let (n, d) = (shape[0], shape[1]);
    // Check the flags first: `as_slice` also succeeds for Fortran order.
    let layout = if array.is_c_contiguous() {
        Layout::RowMajor
    } else if array.is_fortran_contiguous() {
        Layout::ColumnMajor
    } else {
        return Err(PyValueError::new_err(
            "X is neither C- nor Fortran-contiguous: pass np.ascontiguousarray(X)",
        ));
    };
    let data = array
        .as_slice()
        .map_err(|e| PyValueError::new_err(format!("cannot read X in place: {e}")))?;
    if n == 0 || d == 0 {
        return Err(PyValueError::new_err(format!(
            "X has shape ({n}, {d}): give at least one sample with at least one feature"
        )));
    }
    Ok(Rows::new(data, n, d, layout))
}

/// Optional per-sample weights, contiguous `float64`.
pub fn weights<'a>(w: &'a Option<PyReadonlyArray1<'_, f64>>) -> PyResult<Option<&'a [f64]>> {
    w.as_ref()
        .map(|w| {
            w.as_slice().map_err(|_| PyValueError::new_err("sample_weight must be contiguous"))
        })
        .transpose()
}

/// A model as Python passes it: `(covariance_type, weights, means, covariances)`, all
/// contiguous `float64` in scikit-learn's shapes.
pub type ModelArg<'py> = (
    String,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
);

/// Models crossing the boundary: gmm-em's [`Parameters`] read from a [`ModelArg`] and made
/// into models.
pub trait ModelParams: Sized {
    /// Reads a [`ModelArg`] (copied: models are small).
    fn from_arg(model: &ModelArg<'_>) -> PyResult<Self>;
    /// The model in precision `T` (validated, with its derived terms).
    fn model<T: Real>(&self) -> PyResult<GaussianMixture<T>>;
}

impl ModelParams for Parameters {
    fn from_arg(model: &ModelArg<'_>) -> PyResult<Self> {
        let slice = |a: &PyReadonlyArrayDyn<'_, f64>| -> PyResult<Vec<f64>> {
            Ok(a.as_slice()
                .map_err(|_| PyValueError::new_err("model arrays must be contiguous float64"))?
                .to_vec())
        };
        Ok(Self {
            covariance_type: covariance_type(&model.0)?,
            weights: slice(&model.1)?,
            means: slice(&model.2)?,
            covariances: slice(&model.3)?,
        })
    }

    fn model<T: Real>(&self) -> PyResult<GaussianMixture<T>> {
        let conv = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        GaussianMixture::new(
            self.covariance_type,
            conv(&self.weights),
            conv(&self.means),
            conv(&self.covariances),
        )
        .py_err()
    }
}

/// A covariance type from scikit-learn's name.
pub fn covariance_type(name: &str) -> PyResult<CovarianceType> {
    name.parse().py_err()
}
