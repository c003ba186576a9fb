//! # gmm-py: the engine under the `gmm_rs` Python package
//!
//! `gmm_rs` is a drop-in for `sklearn.mixture` (see `python/gmm_rs/`). Its estimators are
//! Python classes — so `clone`, `get_params`, pickling and scikit-learn's checks behave as for
//! any estimator — that hold their parameters as numpy arrays and call the stateless functions
//! of this extension module, `gmm_rs._engine`, for every computation.
//!
//! Every function:
//!
//! * reads the samples in place: a C-ordered `float32`/`float64` array is gmm's row-major
//!   layout as it is, a Fortran-ordered one is read in chunks ([`rows`]);
//! * computes in the data's precision (a `float32` array gets an `f32` model), builds the model
//!   from `float64` parameter arrays (models are small, so they are copied), and returns new
//!   arrays;
//! * releases the GIL for the computation (`py.detach`), so other Python threads run, and runs
//!   on `n_threads` threads (rayon's global pool by default) with results bit-identical for any
//!   thread count;
//! * turns gmm's typed errors into `ValueError`s ([`errors`]).
//!
//! Fitting follows scikit-learn's loop exactly ([`em`]) over gmm's statistics seam ([`seam`]),
//! checking for Ctrl-C between iterations.

mod api_fit;
mod api_score;
mod api_speech;
mod api_stats;
mod dispatch;
pub mod em;
pub mod errors;
pub mod input;
mod output;
pub mod rows;
pub mod rule;
pub mod seam;

use pyo3::prelude::*;

/// The extension module `gmm_rs._engine`.
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(api_fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(api_score::score_samples, m)?)?;
    m.add_function(wrap_pyfunction!(api_score::predict_proba, m)?)?;
    m.add_function(wrap_pyfunction!(api_score::predict, m)?)?;
    m.add_function(wrap_pyfunction!(api_score::sample, m)?)?;
    m.add_function(wrap_pyfunction!(api_stats::suff_stats, m)?)?;
    m.add_function(wrap_pyfunction!(api_stats::stats_merge, m)?)?;
    m.add_function(wrap_pyfunction!(api_stats::stats_info, m)?)?;
    m.add_function(wrap_pyfunction!(api_stats::update_from_stats, m)?)?;
    m.add_function(wrap_pyfunction!(api_stats::online_step, m)?)?;
    m.add_function(wrap_pyfunction!(api_stats::online_reference, m)?)?;
    m.add_function(wrap_pyfunction!(api_speech::train_ubm, m)?)?;
    m.add_function(wrap_pyfunction!(api_speech::adapt, m)?)?;
    m.add_function(wrap_pyfunction!(api_speech::llr, m)?)?;
    m.add_function(wrap_pyfunction!(api_speech::baum_welch_stats, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
