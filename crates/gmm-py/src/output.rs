//! Values handed back to Python.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::rule::PriorArgs;
use gmm_em::Parameters;

/// `(covariance_type, weights, means, covariances)`, the arrays flat `float64` (Python gives
/// them scikit-learn's shapes).
pub type ModelTuple<'py> =
    (String, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// A model as a [`ModelTuple`].
pub fn model_tuple<'py>(py: Python<'py>, p: &Parameters) -> ModelTuple<'py> {
    (
        p.covariance_type.to_string(),
        p.weights.clone().into_pyarray(py),
        p.means.clone().into_pyarray(py),
        p.covariances.clone().into_pyarray(py),
    )
}

/// A prior as a dict (`None` without one).
pub fn prior_dict<'py>(py: Python<'py>, prior: Option<&PriorArgs>) -> PyResult<Bound<'py, PyAny>> {
    let Some(p) = prior else { return Ok(py.None().into_bound(py)) };
    let out = PyDict::new(py);
    out.set_item("weight_prior", p.weight_prior.clone())?;
    out.set_item("weight_concentration", p.weight_concentration)?;
    out.set_item("mean_precision", p.mean_precision)?;
    out.set_item("mean", p.mean.clone())?;
    out.set_item("dof", p.dof)?;
    out.set_item("covariance", p.covariance.clone())?;
    Ok(out.into_any())
}
