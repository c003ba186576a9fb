//! scikit-learn's EM loop over gmm's statistics seam.
//!
//! `sklearn.mixture`'s `fit` runs, per restart, `for i in 1..=max_iter`: an E-step under the
//! current model (whose mean log-likelihood — or, for variational Bayes, whose evidence lower
//! bound after the update — is iteration `i`'s `lower_bound`), then the M-step, then the test
//! `|lower_bound_i - lower_bound_{i-1}| < tol`. So the returned model is one M-step past the
//! last evaluated one, `lower_bound_` belongs to the model before it, and `n_iter_` counts
//! M-steps. gmm's own convention (`gmm_em::fit`) stops at the evaluated model instead (see
//! `docs/DECISIONS.md`); a drop-in must reproduce scikit-learn's attributes exactly, so each
//! restart runs gmm-em's driver under scikit-learn's convention
//! (`gmm_em::driver::iterate_scikit_learn`) with a [`Learner`] on the public seam —
//! [`seam::e_step_rows`], [`Rule::objective`], [`seam::m_step`] — and takes only the starting
//! models from gmm-em's initialisation.
//!
//! # Current implementation
//!
//! The loop runs on the calling thread with the GIL released; every pass runs on the
//! caller's rayon pool (`n_threads`), so results are bit-identical for any thread count.
//! After every iteration the callback re-attaches to Python to check for signals (Ctrl-C
//! raises `KeyboardInterrupt` there, between iterations) and, when verbose, to print. The
//! starting models of every restart are drawn first, so a Fortran-ordered array's temporary
//! C-ordered copy (needed by the data-driven initialisations only) is freed before EM starts.

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use gmm_em::driver::{Learner, iterate_scikit_learn};
use gmm_em::init::stream_seed;
use gmm_em::vb::Posterior;
use gmm_em::{EmConfig, FitOptions, GuardCounts, Init, IterationInfo, SuffStats};
use pyo3::PyResult;
use pyo3::exceptions::PyValueError;

use crate::errors::{IntoPy, to_py};
use crate::input::ModelParams;
use crate::rows::Rows;
use crate::rule::{PriorArgs, Rule};
use crate::seam;
use gmm_em::Parameters;

/// Everything a fit needs besides the data.
#[derive(Debug, Clone)]
pub struct FitSpec {
    /// `n_components`.
    pub n_components: usize,
    /// `covariance_type`.
    pub covariance_type: CovarianceType,
    /// `tol` (per-sample mean log-likelihood, or total lower bound for variational Bayes).
    pub tol: f64,
    /// `reg_covar`.
    pub reg_covar: f64,
    /// `max_iter`.
    pub max_iter: usize,
    /// `n_init`.
    pub n_init: usize,
    /// The initialisation of every restart without a given start.
    pub init: Init,
    /// Seed of restart `r`'s initialisation: `stream_seed(seed, r)`.
    pub seed: u64,
    /// A complete start (all three inits given, or a warm start): one restart from it.
    pub start: Option<Parameters>,
    /// `weights_init` over a data-driven start.
    pub weights_init: Option<Vec<f64>>,
    /// `means_init` over a data-driven start.
    pub means_init: Option<Vec<f64>>,
    /// Covariances from `precisions_init` over a data-driven start.
    pub covariances_init: Option<Vec<f64>>,
    /// `"ml"`, `"map"` or `"vb"`.
    pub rule: String,
    /// The prior's settings (MAP, variational Bayes).
    pub prior: PriorArgs,
    /// The lower bound the first iteration's change is measured from (`-inf`, or the
    /// previous fit's on a warm start).
    pub initial_lower_bound: f64,
}

/// What a fit returns: the best restart.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The model (variational Bayes: scikit-learn's point estimate).
    pub params: Parameters,
    /// M-steps run.
    pub n_iter: usize,
    /// Whether the tolerance was met.
    pub converged: bool,
    /// The last iteration's lower bound (`-inf` when no iteration ran).
    pub lower_bound: f64,
    /// Every iteration's lower bound.
    pub lower_bounds: Vec<f64>,
    /// The variational posterior (variational Bayes after at least one iteration).
    pub posterior: Option<Posterior>,
    /// The prior the rule used (MAP, variational Bayes).
    pub prior: Option<PriorArgs>,
    /// Empty components and floored variances over the best restart's M-steps.
    pub guards: GuardCounts,
}

/// Runs `f` on `pool`, or on the current pool.
pub fn on_pool<R: Send>(pool: Option<&rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Called after every iteration with `(restart, iteration, lower_bound, change)`; an error
/// (Ctrl-C) stops the fit.
pub type Progress<'a> = dyn FnMut(usize, usize, f64, f64) -> PyResult<()> + 'a;

/// Fits `rows` (weighted by `weights`) as `spec` says.
pub fn fit<T: Real>(
    rows: Rows<'_, T>,
    weights: Option<&[f64]>,
    spec: &FitSpec,
    pool: Option<&rayon::ThreadPool>,
    progress: &mut Progress<'_>,
) -> PyResult<FitOutcome> {
    let (k, t, d) = (spec.n_components, spec.covariance_type, rows.n_features());
    if rows.n_samples() < k {
        return Err(PyValueError::new_err(format!(
            "Expected n_samples >= n_components but got n_components = {k}, n_samples = {}",
            rows.n_samples()
        )));
    }
    let n_restarts = if spec.start.is_some() { 1 } else { spec.n_init.max(1) };
    let needs_rows = spec.start.is_none() || spec.prior.needs_data(&spec.rule);
    let (rule, starts) = {
        let copy = needs_rows.then(|| rows.row_major());
        let samples = copy.as_deref().map(|c| Samples::new(c, d)).transpose().py_err()?;
        let rule = on_pool(pool, || {
            Rule::build(
                &spec.rule,
                &spec.prior,
                spec.reg_covar,
                k,
                t,
                samples.map(|s| (s, weights)),
            )
        })
        .py_err()?;
        let starts = (0..n_restarts)
            .map(|r| start_model(spec, samples, weights, &rule, r, pool))
            .collect::<PyResult<Vec<GaussianMixture<T>>>>()?;
        (rule, starts)
    };
    let mut best: Option<(GaussianMixture<T>, Run)> = None;
    for (restart, start) in starts.into_iter().enumerate() {
        let (model, run) = run_restart(rows, weights, spec, &rule, start, restart, pool, progress)?;
        let max = best.as_ref().map_or(f64::NEG_INFINITY, |(_, b)| b.lower_bound);
        if run.lower_bound > max || max == f64::NEG_INFINITY {
            best = Some((model, run));
        }
    }
    let Some((model, run)) = best else {
        return Err(PyValueError::new_err("no restart ran: use n_init >= 1"));
    };
    let (params, posterior) = match &rule {
        Rule::Variational(vb) => {
            // With max_iter = 0 no update ran; the posterior is then the one the start's own
            // E-step gives (scikit-learn keeps the initialisation's, which gmm-em does not
            // expose).
            let stats = match run.last_stats {
                Some(stats) => stats,
                None => on_pool(pool, || seam::e_step_rows(&model, rows, weights)).py_err()?,
            };
            let q = vb.posterior(&stats, t).py_err()?;
            (vb.point_estimate(&q, t), Some(q))
        }
        _ => (Parameters::from_model(&model), None),
    };
    let (lower_bounds, converged, lower_bound, guards) =
        (run.lower_bounds, run.converged, run.lower_bound, run.guards);
    Ok(FitOutcome {
        params,
        n_iter: lower_bounds.len(),
        converged,
        lower_bound: if lower_bounds.is_empty() { f64::NEG_INFINITY } else { lower_bound },
        lower_bounds,
        posterior,
        prior: rule.prior(),
        guards,
    })
}

/// The starting model of restart `r`.
fn start_model<T: Real>(
    spec: &FitSpec,
    samples: Option<Samples<'_, T>>,
    weights: Option<&[f64]>,
    rule: &Rule,
    restart: usize,
    pool: Option<&rayon::ThreadPool>,
) -> PyResult<GaussianMixture<T>> {
    if let Some(start) = &spec.start {
        return start.model();
    }
    let Some(x) = samples else {
        return Err(PyValueError::new_err("a data-driven start needs the data"));
    };
    let config = EmConfig::new(spec.n_components, spec.covariance_type)
        .init(spec.init)
        .max_iter(0)
        .tol(0.0)
        .reg_covar(spec.reg_covar)
        .seed(stream_seed(spec.seed, restart as u64));
    let options =
        FitOptions { sample_weights: weights, update: Some(rule.as_dyn()), ..Default::default() };
    let fitted = on_pool(pool, || gmm_em::fit(&config, x, options)).py_err()?;
    let mut params = Parameters::from_model(&fitted.model);
    if let Some(w) = &spec.weights_init {
        params.weights = w.clone();
    }
    if let Some(m) = &spec.means_init {
        params.means = m.clone();
    }
    if let Some(c) = &spec.covariances_init {
        params.covariances = c.clone();
    }
    params.model()
}

/// One restart's course.
struct Run {
    lower_bound: f64,
    lower_bounds: Vec<f64>,
    converged: bool,
    last_stats: Option<SuffStats>,
    guards: GuardCounts,
}

/// Batch EM over [`Rows`] (either layout) as a driver [`Learner`]: an evaluation is the E-step
/// and the rule's objective, an advance the M-step from those statistics; after every
/// iteration the Python callback runs (Ctrl-C stops the fit there).
struct RowsEm<'a, 'p, T: Real> {
    rows: Rows<'a, T>,
    weights: Option<&'a [f64]>,
    rule: &'a Rule,
    pool: Option<&'a rayon::ThreadPool>,
    progress: &'a mut Progress<'p>,
    /// The statistics of the last evaluation, for the advance (and, afterwards, VB's posterior).
    stats: Option<SuffStats>,
    /// The Python error that stopped the run, if any.
    interrupted: Option<pyo3::PyErr>,
}

impl<T: Real> Learner<T> for RowsEm<'_, '_, T> {
    fn evaluate(&mut self, model: &GaussianMixture<T>, _then_advance: bool) -> Result<f64> {
        let stats = on_pool(self.pool, || seam::e_step_rows(model, self.rows, self.weights))?;
        let value = self.rule.objective(&stats, model)?;
        self.stats = Some(stats);
        Ok(value)
    }

    fn advance(
        &mut self,
        model: &GaussianMixture<T>,
        iteration: usize,
    ) -> Result<(GaussianMixture<T>, GuardCounts)> {
        let Some(stats) = self.stats.as_ref() else {
            return Err(Error::new(ErrorKind::InvalidConfig, "an advance before an evaluation"));
        };
        on_pool(self.pool, || seam::m_step(self.rule.as_dyn(), stats, model))
            .map_err(|e| e.context(format!("EM iteration {iteration}")))
    }

    fn after_iteration(&mut self, info: &IterationInfo) -> Result<()> {
        let (restart, iteration) = (info.restart, info.iteration);
        (self.progress)(restart, iteration, info.log_likelihood, info.change).map_err(|e| {
            self.interrupted = Some(e);
            Error::new(ErrorKind::Interrupted, "interrupted between iterations")
        })
    }
}

/// scikit-learn's iterations from `start` (module docs).
#[allow(clippy::too_many_arguments)]
fn run_restart<T: Real>(
    rows: Rows<'_, T>,
    weights: Option<&[f64]>,
    spec: &FitSpec,
    rule: &Rule,
    start: GaussianMixture<T>,
    restart: usize,
    pool: Option<&rayon::ThreadPool>,
    progress: &mut Progress<'_>,
) -> PyResult<(GaussianMixture<T>, Run)> {
    let mut em = RowsEm { rows, weights, rule, pool, progress, stats: None, interrupted: None };
    let (max_iter, tol, initial) = (spec.max_iter, spec.tol, spec.initial_lower_bound);
    match iterate_scikit_learn(&mut em, start, max_iter, tol, initial, restart) {
        Ok((model, t)) => Ok((
            model,
            Run {
                lower_bound: t.last,
                lower_bounds: t.objective,
                converged: t.converged,
                last_stats: em.stats,
                guards: t.guards,
            },
        )),
        // A Python error from the callback (Ctrl-C) goes back as it was raised.
        Err(e) => Err(em.interrupted.take().unwrap_or_else(|| to_py(e))),
    }
}
