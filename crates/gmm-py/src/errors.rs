//! gmm's typed errors as the Python exceptions scikit-learn raises.
//!
//! Every error becomes a `ValueError` (scikit-learn's exception for bad data and bad
//! parameters) whose message is gmm's one-line message. A covariance that stops being positive
//! definite gets scikit-learn's own sentence first, which its users and tests match on.

use gmm_core::{Error, ErrorKind};
use pyo3::PyErr;
use pyo3::exceptions::PyValueError;

/// scikit-learn's message for a covariance that is not positive definite during a fit.
pub const ILL_DEFINED: &str = "Fitting the mixture model failed because some components have \
     ill-defined empirical covariance (for instance caused by singleton or collapsed samples). \
     Try to decrease the number of components, increase reg_covar, or scale the input data.";

/// The Python exception for a gmm error.
pub fn to_py(error: Error) -> PyErr {
    match error.kind() {
        ErrorKind::NotPositiveDefinite { .. } => {
            PyValueError::new_err(format!("{ILL_DEFINED} ({error})"))
        }
        _ => PyValueError::new_err(error.to_string()),
    }
}

/// `Result<T, gmm_core::Error>` to `PyResult<T>`.
pub trait IntoPy<T> {
    /// Converts the error, if any.
    fn py_err(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPy<T> for gmm_core::Result<T> {
    fn py_err(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}

/// An [`ErrorKind::InvalidConfig`] error with `message`.
pub fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidConfig, message)
}
