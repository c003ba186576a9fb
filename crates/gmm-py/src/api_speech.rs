//! The GMM-UBM speech recipe: UBM training by splitting, relevance-MAP adaptation,
//! log-likelihood ratios (exact or with Gaussian selection) and Baum-Welch statistics.
//!
//! Frames are one 2-D array per call (Python stacks or loops over utterances). Speech code
//! reads rows one by one, so Fortran-ordered frames are copied to C order first.

use gmm_speech::adapt::{AdaptConfig, adapt as adapt_to};
use gmm_speech::ubm::{UbmConfig, train_ubm as train};
use gmm_speech::{TopC, baum_welch_stats as bw_stats, llr as llr_of};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::dispatch::with_rows;
use crate::errors::IntoPy;
use crate::input::{Data, ModelArg, ModelParams};
use crate::output::model_tuple;
use gmm_em::Parameters;

/// A diagonal UBM of up to `n_components` Gaussians by component splitting; returns
/// `(model, report)`.
#[pyfunction]
#[pyo3(signature = (x, n_components, iters_per_split=4, final_iters=8, min_occupancy=10.0, min_weight=1e-5, remove_low_count=true, max_frames=None, reg_covar=1e-6, n_threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn train_ubm<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_components: usize,
    iters_per_split: usize,
    final_iters: usize,
    min_occupancy: f64,
    min_weight: f64,
    remove_low_count: bool,
    max_frames: Option<usize>,
    reg_covar: f64,
    n_threads: Option<usize>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let data = Data::borrow(x)?;
    let config = UbmConfig::new(n_components)
        .iters_per_split(iters_per_split)
        .final_iters(final_iters)
        .min_occupancy(min_occupancy)
        .min_weight(min_weight)
        .remove_low_count(remove_low_count)
        .max_frames(max_frames)
        .reg_covar(reg_covar)
        .threads(n_threads);
    let (params, removed, frames) = with_rows!(data, |rows: T| {
        let copy = rows.row_major();
        let samples = gmm_core::Samples::new(&copy, rows.n_features()).py_err()?;
        let fit = py.detach(|| train(&config, samples)).py_err()?;
        (Parameters::from_model(&fit.model), fit.report.removed, fit.report.frames_used)
    });
    let report = PyDict::new(py);
    report.set_item("removed", removed)?;
    report.set_item("frames_used", frames)?;
    Ok((model_tuple(py, &params).into_pyobject(py)?.into_any(), report))
}

/// `ubm` MAP-adapted to the frames `x` (relevance factor `relevance`).
#[pyfunction]
#[pyo3(signature = (ubm, x, relevance=16.0, means=true, weights=false, variances=false))]
pub fn adapt<'py>(
    py: Python<'py>,
    ubm: ModelArg<'py>,
    x: &Bound<'py, PyAny>,
    relevance: f64,
    means: bool,
    weights: bool,
    variances: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let data = Data::borrow(x)?;
    let params = Parameters::from_arg(&ubm)?;
    let config = AdaptConfig::default()
        .relevance(relevance)
        .adapt_means(means)
        .adapt_weights(weights)
        .adapt_variances(variances);
    let adapted = with_rows!(data, |rows: T| {
        let ubm = params.model::<T>()?;
        let copy = rows.row_major();
        let samples = gmm_core::Samples::new(&copy, rows.n_features()).py_err()?;
        let model = py.detach(|| adapt_to(&ubm, samples, &config)).py_err()?;
        Parameters::from_model(&model)
    });
    Ok(model_tuple(py, &adapted).into_pyobject(py)?.into_any())
}

/// Mean per-frame log-likelihood ratio of `speaker` against `ubm` over `x`: exact, or with
/// Gaussian selection of the `top_c` best UBM components (within `beam` nats of the best).
#[pyfunction]
#[pyo3(signature = (speaker, ubm, x, top_c=None, beam=None))]
pub fn llr<'py>(
    py: Python<'py>,
    speaker: ModelArg<'py>,
    ubm: ModelArg<'py>,
    x: &Bound<'py, PyAny>,
    top_c: Option<usize>,
    beam: Option<f64>,
) -> PyResult<f64> {
    let data = Data::borrow(x)?;
    let (spk, bg) = (Parameters::from_arg(&speaker)?, Parameters::from_arg(&ubm)?);
    let rule = top_c.map(|c| match beam {
        Some(b) => TopC::new(c).beam(b),
        None => TopC::new(c),
    });
    with_rows!(data, |rows: T| {
        let (spk, bg) = (spk.model::<T>()?, bg.model::<T>()?);
        let copy = rows.row_major();
        let samples = gmm_core::Samples::new(&copy, rows.n_features()).py_err()?;
        py.detach(|| llr_of(&spk, &bg, samples, rule)).py_err()
    })
}

/// Zeroth- and centred first-order statistics of the frames `x` under `ubm`:
/// `(zeroth (k,), first (k*d,), mean log-likelihood)`.
#[pyfunction]
pub fn baum_welch_stats<'py>(
    py: Python<'py>,
    ubm: ModelArg<'py>,
    x: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, f64)> {
    let data = Data::borrow(x)?;
    let params = Parameters::from_arg(&ubm)?;
    let stats = with_rows!(data, |rows: T| {
        let ubm = params.model::<T>()?;
        let copy = rows.row_major();
        let samples = gmm_core::Samples::new(&copy, rows.n_features()).py_err()?;
        py.detach(|| bw_stats(&ubm, samples)).py_err()?
    });
    Ok((
        stats.zeroth.into_pyarray(py).into_any(),
        stats.first.into_pyarray(py).into_any(),
        stats.log_likelihood,
    ))
}
