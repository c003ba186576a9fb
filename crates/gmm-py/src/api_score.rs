//! Scoring and sampling: `score_samples`, `predict_proba`, `predict`, `sample`.

use gmm_core::{Real, Result, Samples};
use numpy::{Element, IntoPyArray, PyArray1, PyArrayMethods};
use pyo3::prelude::*;

use crate::dispatch::{pool, with_rows};
use crate::em::on_pool;
use crate::errors::IntoPy;
use crate::input::{Data, ModelArg, ModelParams};
use crate::rows::Rows;
use gmm_em::Parameters;

/// `f(chunk)` for every chunk of `rows`, results concatenated in row order.
fn per_chunk<T: Real, R>(
    rows: Rows<'_, T>,
    f: impl Fn(Samples<'_, T>) -> Result<Vec<R>>,
) -> Result<Vec<R>> {
    let mut out: Option<Vec<R>> = None;
    rows.for_each_chunk(|chunk, _| {
        let part = f(chunk)?;
        match out.as_mut() {
            None => out = Some(part),
            Some(o) => o.extend(part),
        }
        Ok(())
    })?;
    Ok(out.unwrap_or_default())
}

fn array1<'py, T: Element>(py: Python<'py>, v: Vec<T>) -> Bound<'py, PyArray1<T>> {
    v.into_pyarray(py)
}

/// Per-sample log-likelihood `log p(x_n)` under the model, in the data's precision.
#[pyfunction]
#[pyo3(signature = (x, model, n_threads=None))]
pub fn score_samples<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    model: ModelArg<'py>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let data = Data::borrow(x)?;
    let params = Parameters::from_arg(&model)?;
    let pool = pool(n_threads)?;
    with_rows!(data, |rows: T| {
        let model = params.model::<T>()?;
        let out = py
            .detach(|| on_pool(pool.as_ref(), || per_chunk(rows, |c| model.score_samples(c))))
            .py_err()?;
        Ok(array1(py, out).into_any())
    })
}

/// Posterior probabilities of the components, `n x k`, in the data's precision.
#[pyfunction]
#[pyo3(signature = (x, model, n_threads=None))]
pub fn predict_proba<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    model: ModelArg<'py>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let data = Data::borrow(x)?;
    let params = Parameters::from_arg(&model)?;
    let k = params.n_components();
    let pool = pool(n_threads)?;
    with_rows!(data, |rows: T| {
        let model = params.model::<T>()?;
        let n = rows.n_samples();
        let out = py
            .detach(|| {
                on_pool(pool.as_ref(), || {
                    per_chunk(rows, |c| Ok(model.predict_proba(c)?.into_vec()))
                })
            })
            .py_err()?;
        Ok(array1(py, out).reshape([n, k])?.into_any())
    })
}

/// The most probable component of every sample (`int64`).
#[pyfunction]
#[pyo3(signature = (x, model, n_threads=None))]
pub fn predict<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    model: ModelArg<'py>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let data = Data::borrow(x)?;
    let params = Parameters::from_arg(&model)?;
    let pool = pool(n_threads)?;
    with_rows!(data, |rows: T| {
        let model = params.model::<T>()?;
        let out = py
            .detach(|| {
                on_pool(pool.as_ref(), || {
                    per_chunk(rows, |c| {
                        Ok(model.predict(c)?.into_iter().map(|l| l as i64).collect())
                    })
                })
            })
            .py_err()?;
        Ok(array1(py, out))
    })
}

/// `n` samples of the model and their components, drawn from `seed`; `float32` samples when
/// `single` is true.
#[pyfunction]
pub fn sample<'py>(
    py: Python<'py>,
    model: ModelArg<'py>,
    n: usize,
    seed: u64,
    single: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyArray1<i64>>)> {
    let params = Parameters::from_arg(&model)?;
    let d = params.n_features();
    fn draw<T: Real>(p: &Parameters, n: usize, seed: u64) -> PyResult<(Vec<T>, Vec<i64>)> {
        let model = p.model::<T>()?;
        let (x, labels) = model.sample(n, seed).py_err()?;
        Ok((x.into_vec(), labels.into_iter().map(|l| l as i64).collect()))
    }
    let x = if single {
        let (x, labels) = py.detach(|| draw::<f32>(&params, n, seed))?;
        (array1(py, x).reshape([n, d])?.into_any(), array1(py, labels))
    } else {
        let (x, labels) = py.detach(|| draw::<f64>(&params, n, seed))?;
        (array1(py, x).reshape([n, d])?.into_any(), array1(py, labels))
    };
    Ok(x)
}
