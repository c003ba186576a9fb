//! `fit`: scikit-learn's EM (maximum likelihood, MAP or variational Bayes) on the engine.

use gmm_em::Init;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::dispatch::{pool, with_rows};
use crate::em::{FitSpec, fit as run_fit};
use crate::input::{Data, ModelArg, ModelParams, covariance_type, weights};
use crate::output::{model_tuple, prior_dict};
use crate::rule::PriorArgs;
use gmm_em::Parameters;

/// gmm's initialisation for scikit-learn's `init_params`.
fn init_from(name: &str) -> PyResult<Init> {
    Ok(match name {
        "kmeans" => Init::KMeans,
        "k-means++" => Init::KMeansPlusPlus,
        "random" => Init::RandomResponsibilities,
        "random_from_data" => Init::RandomRows,
        other => {
            return Err(PyValueError::new_err(format!(
                "Unimplemented initialization method '{other}'"
            )));
        }
    })
}

/// Fits a mixture to `x`; returns a dict of the fitted model and the course of the fit
/// (`model`, `n_iter`, `converged`, `lower_bound`, `lower_bounds`, `posterior`, `prior`,
/// `empty_components`). `on_iteration(restart, iteration, lower_bound, change)` is called after
/// every iteration (with the GIL; Ctrl-C is checked there too).
#[pyfunction]
#[pyo3(signature = (
    x, sample_weight, *, n_components, covariance_type, tol, reg_covar, max_iter, n_init,
    init_params, seed, n_threads=None, start=None, weights_init=None, means_init=None,
    covariances_init=None, rule="ml", weight_prior=None, weight_concentration=None,
    mean_precision=None, prior_mean=None, prior_dof=None, prior_covariance=None,
    initial_lower_bound=f64::NEG_INFINITY, on_iteration=None
))]
#[allow(clippy::too_many_arguments)]
pub fn fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    n_components: usize,
    covariance_type: &str,
    tol: f64,
    reg_covar: f64,
    max_iter: usize,
    n_init: usize,
    init_params: &str,
    seed: u64,
    n_threads: Option<usize>,
    start: Option<ModelArg<'py>>,
    weights_init: Option<Vec<f64>>,
    means_init: Option<Vec<f64>>,
    covariances_init: Option<Vec<f64>>,
    rule: &str,
    weight_prior: Option<String>,
    weight_concentration: Option<f64>,
    mean_precision: Option<f64>,
    prior_mean: Option<Vec<f64>>,
    prior_dof: Option<f64>,
    prior_covariance: Option<Vec<f64>>,
    initial_lower_bound: f64,
    on_iteration: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let data = Data::borrow(x)?;
    let w = weights(&sample_weight)?;
    let spec = FitSpec {
        n_components,
        covariance_type: self::covariance_type(covariance_type)?,
        tol,
        reg_covar,
        max_iter,
        n_init,
        init: init_from(init_params)?,
        seed,
        start: start.as_ref().map(Parameters::from_arg).transpose()?,
        weights_init,
        means_init,
        covariances_init,
        rule: rule.to_string(),
        prior: PriorArgs {
            weight_prior,
            weight_concentration,
            mean_precision,
            mean: prior_mean,
            dof: prior_dof,
            covariance: prior_covariance,
        },
        initial_lower_bound,
    };
    let pool = pool(n_threads)?;
    let mut progress = |restart: usize, iteration: usize, bound: f64, change: f64| {
        Python::attach(|py| {
            py.check_signals()?;
            if let Some(callback) = &on_iteration {
                callback.call1(py, (restart, iteration, bound, change))?;
            }
            Ok(())
        })
    };
    let outcome = with_rows!(data, |rows: T| {
        py.detach(|| run_fit::<T>(rows, w, &spec, pool.as_ref(), &mut progress))?
    });
    let out = PyDict::new(py);
    out.set_item("model", model_tuple(py, &outcome.params))?;
    out.set_item("n_iter", outcome.n_iter)?;
    out.set_item("converged", outcome.converged)?;
    out.set_item("lower_bound", outcome.lower_bound)?;
    out.set_item("lower_bounds", outcome.lower_bounds)?;
    out.set_item("empty_components", outcome.guards.empty_components)?;
    match &outcome.posterior {
        None => out.set_item("posterior", py.None())?,
        Some(q) => {
            let p = PyDict::new(py);
            p.set_item("weight_concentration", q.weight_concentration.clone().into_pyarray(py))?;
            p.set_item("mean_precision", q.mean_precision.clone().into_pyarray(py))?;
            p.set_item("means", q.means.clone().into_pyarray(py))?;
            p.set_item("dof", q.dof.clone().into_pyarray(py))?;
            p.set_item("covariances", q.covariances.clone().into_pyarray(py))?;
            out.set_item("posterior", p)?;
        }
    }
    out.set_item("prior", prior_dict(py, outcome.prior.as_ref())?)?;
    Ok(out)
}
