//! Sufficient statistics for distributed engines (Dask): compute, merge, inspect, update; and
//! online EM's step (`partial_fit`) over them.
//!
//! Statistics travel as bytes (the seam's byte form), so the Python object that holds them
//! pickles and ships between processes as is.

use gmm_em::online::{OnlineConfig, OnlineEm};
use gmm_em::{MomentLayout, SuffStats};
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::dispatch::{pool, with_rows};
use crate::em::on_pool;
use crate::errors::IntoPy;
use crate::input::{Data, ModelArg, ModelParams, weights};
use crate::output::model_tuple;
use crate::rule::{PriorArgs, Rule};
use crate::seam;
use gmm_em::Parameters;

/// The E-step statistics of `x` under `model`, as bytes.
#[pyfunction]
#[pyo3(signature = (x, model, sample_weight=None, n_threads=None))]
pub fn suff_stats<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    model: ModelArg<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyBytes>> {
    let data = Data::borrow(x)?;
    let w = weights(&sample_weight)?;
    let params = Parameters::from_arg(&model)?;
    let pool = pool(n_threads)?;
    let stats = with_rows!(data, |rows: T| {
        let model = params.model::<T>()?;
        py.detach(|| on_pool(pool.as_ref(), || seam::e_step_rows(&model, rows, w))).py_err()?
    });
    Ok(PyBytes::new(py, &stats.to_bytes()))
}

/// `a + b` (same model, same shape) as bytes.
#[pyfunction]
pub fn stats_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let mut total = SuffStats::from_bytes(a).py_err()?;
    total.merge(&SuffStats::from_bytes(b).py_err()?).py_err()?;
    Ok(PyBytes::new(py, &total.to_bytes()))
}

/// What statistics hold: `n_components`, `n_features`, `layout`, `total_weight`,
/// `log_likelihood`, `counts`, `shift`, `first`, `second`.
#[pyfunction]
pub fn stats_info<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let s = SuffStats::from_bytes(bytes).py_err()?;
    let out = PyDict::new(py);
    out.set_item("n_components", s.n_components())?;
    out.set_item("n_features", s.n_features())?;
    out.set_item(
        "layout",
        match s.layout() {
            MomentLayout::Diagonal => "diagonal",
            MomentLayout::Full => "full",
        },
    )?;
    out.set_item("total_weight", s.total_weight())?;
    out.set_item("log_likelihood", s.log_likelihood())?;
    out.set_item("counts", s.counts().to_vec().into_pyarray(py))?;
    out.set_item("shift", s.shift().to_vec().into_pyarray(py))?;
    out.set_item("first", s.first().to_vec().into_pyarray(py))?;
    out.set_item("second", s.second().to_vec().into_pyarray(py))?;
    Ok(out)
}

/// The rule `kind` from a complete prior (no data at hand).
fn rule_of(kind: &str, prior: Option<PriorArgs>, reg_covar: f64, p: &Parameters) -> PyResult<Rule> {
    Rule::build::<f64>(
        kind,
        &prior.unwrap_or_default(),
        reg_covar,
        p.weights.len(),
        p.covariance_type,
        None,
    )
    .py_err()
}

/// A prior from its dict form (`prior_dict`'s keys).
fn prior_args(prior: Option<&Bound<'_, PyDict>>) -> PyResult<Option<PriorArgs>> {
    let Some(d) = prior else { return Ok(None) };
    let get = |key: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(d.get_item(key)?.filter(|v| !v.is_none()))
    };
    Ok(Some(PriorArgs {
        weight_prior: get("weight_prior")?.map(|v| v.extract()).transpose()?,
        weight_concentration: get("weight_concentration")?.map(|v| v.extract()).transpose()?,
        mean_precision: get("mean_precision")?.map(|v| v.extract()).transpose()?,
        mean: get("mean")?.map(|v| v.extract()).transpose()?,
        dof: get("dof")?.map(|v| v.extract()).transpose()?,
        covariance: get("covariance")?.map(|v| v.extract()).transpose()?,
    }))
}

/// The update rule `rule` applied to `stats` (bytes), `model` supplying what empty components
/// keep: returns `(model, posterior)` — the posterior (a dict) for variational Bayes, whose
/// model is then scikit-learn's point estimate.
#[pyfunction]
#[pyo3(signature = (stats, model, rule="ml", reg_covar=1e-6, prior=None))]
pub fn update_from_stats<'py>(
    py: Python<'py>,
    stats: &[u8],
    model: ModelArg<'py>,
    rule: &str,
    reg_covar: f64,
    prior: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let stats = SuffStats::from_bytes(stats).py_err()?;
    let params = Parameters::from_arg(&model)?;
    check_shape(&stats, &params)?;
    let rule = rule_of(rule, prior_args(prior)?, reg_covar, &params)?;
    let t = params.covariance_type;
    if let Rule::Variational(vb) = &rule {
        let q = vb.posterior(&stats, t).py_err()?;
        let point = vb.point_estimate(&q, t);
        let posterior = PyDict::new(py);
        posterior.set_item("weight_concentration", q.weight_concentration.into_pyarray(py))?;
        posterior.set_item("mean_precision", q.mean_precision.into_pyarray(py))?;
        posterior.set_item("means", q.means.into_pyarray(py))?;
        posterior.set_item("dof", q.dof.into_pyarray(py))?;
        posterior.set_item("covariances", q.covariances.into_pyarray(py))?;
        return Ok((model_tuple(py, &point).into_pyobject(py)?.into_any(), posterior.into_any()));
    }
    let previous = params.model::<f64>()?;
    let (next, _) = seam::m_step(rule.as_dyn(), &stats, &previous)
        .map_err(|e| e.context("update from statistics"))
        .py_err()?;
    Ok((
        model_tuple(py, &Parameters::from_model(&next)).into_pyobject(py)?.into_any(),
        py.None().into_bound(py),
    ))
}

fn check_shape(stats: &SuffStats, p: &Parameters) -> PyResult<()> {
    let (k, d) = (p.n_components(), p.n_features());
    if stats.n_components() != k || stats.n_features() != d {
        return Err(PyValueError::new_err(format!(
            "statistics of {} components x {} features do not fit a model of {k} x {d}: \
             compute them with this model",
            stats.n_components(),
            stats.n_features()
        )));
    }
    Ok(())
}

/// One step of online (stepwise) EM with `x` as the batch — `gmm_em::online::OnlineEm`
/// resumed from its state ([`OnlineEm::from_parts`]) and stepped by
/// [`OnlineEm::partial_fit_stats`], the state passed back out: `running` (bytes; `None` before the first
/// batch), `steps` and `represented`. Returns `(model, running, steps, represented,
/// batch_mean_log_likelihood)`.
#[pyfunction]
#[pyo3(signature = (x, model, running, steps, represented, kappa, t0, sample_weight=None, rule="ml", reg_covar=1e-6, prior=None, n_threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn online_step<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    model: ModelArg<'py>,
    running: Option<&[u8]>,
    steps: u64,
    represented: Option<f64>,
    kappa: f64,
    t0: f64,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    rule: &str,
    reg_covar: f64,
    prior: Option<&Bound<'py, PyDict>>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    if !(kappa > 0.5 && kappa <= 1.0 && t0 >= 0.0 && t0.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "learning_decay must be in (0.5, 1] and learning_offset >= 0, got {kappa} and {t0}"
        )));
    }
    let data = Data::borrow(x)?;
    let w = weights(&sample_weight)?;
    let params = Parameters::from_arg(&model)?;
    let rule = rule_of(rule, prior_args(prior)?, reg_covar, &params)?;
    let running = running.map(SuffStats::from_bytes).transpose().py_err()?;
    let pool = pool(n_threads)?;
    let config = OnlineConfig::new().kappa(kappa).t0(t0);
    let (next, running, represented, mean_ll) = with_rows!(data, |rows: T| {
        let model = params.model::<T>()?;
        py.detach(|| -> gmm_core::Result<_> {
            // gmm-em's own state and blend, resumed from the parts Python keeps.
            let mut online = OnlineEm::from_parts(model, running, steps, represented, &config)?;
            let stats = on_pool(pool.as_ref(), || seam::e_step_rows(online.model(), rows, w))?;
            let mean_ll = online.partial_fit_stats(stats, rule.as_dyn())?;
            let represented = online.represented().unwrap_or(f64::NAN);
            Ok((
                Parameters::from_model(online.model()),
                online.running().clone(),
                represented,
                mean_ll,
            ))
        })
        .py_err()?
    });
    let out = (
        model_tuple(py, &next),
        PyBytes::new(py, &running.to_bytes()),
        steps + 1,
        represented,
        mean_ll,
    );
    Ok(out.into_pyobject(py)?.into_any())
}

/// Test oracle: `gmm_em::online::OnlineEm::partial_fit` (maximum likelihood) from `model` over
/// `batches` in order; returns the final model.
#[pyfunction]
#[pyo3(signature = (model, batches, kappa, t0, reg_covar=1e-6))]
pub fn online_reference<'py>(
    py: Python<'py>,
    model: ModelArg<'py>,
    batches: Vec<Bound<'py, PyAny>>,
    kappa: f64,
    t0: f64,
    reg_covar: f64,
) -> PyResult<crate::output::ModelTuple<'py>> {
    use gmm_em::update::MaximumLikelihood;
    let params = Parameters::from_arg(&model)?;
    let config = OnlineConfig::new().kappa(kappa).t0(t0);
    let rule = MaximumLikelihood(gmm_em::Regularisation { reg_covar, variance_floor: None });
    let mut online = OnlineEm::new(params.model::<f64>()?, &config).py_err()?;
    for batch in &batches {
        let data = Data::borrow(batch)?;
        let Data::F64(array) = &data else {
            return Err(PyValueError::new_err("online_reference takes float64 batches"));
        };
        let rows = crate::input::rows(array)?;
        let copy = rows.row_major();
        let samples = gmm_core::Samples::new(&copy, rows.n_features()).py_err()?;
        online.partial_fit(samples, None, &rule).py_err()?;
    }
    Ok(model_tuple(py, &Parameters::from_model(online.model())))
}
