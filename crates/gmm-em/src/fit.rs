//! Batch EM: restarts around [`crate::driver`]'s loop, and the report.
//!
//! One iteration is one pass over the data (the fused E-step of [`crate::pass`]) that evaluates the
//! current model — its mean log-likelihood per sample — and collects the statistics for the
//! next one, followed by the M-step ([`crate::driver::BatchEm`]). So after the pass that
//! evaluates the model of iteration `t` we know `ℓ_t`, and (the driver's rule):
//!
//! * if `t ≥ 1` and `|ℓ_t - ℓ_{t-1}| < tol`, the fit has converged and returns model `t`;
//! * if `t = max_iter`, it stops and returns model `t` (`converged = false` unless the test
//!   above also held); the statistics of that last pass are not used;
//! * otherwise the M-step builds model `t + 1`.
//!
//! `n_iter` counts M-steps; `log_likelihood[t-1] = ℓ_t` is the mean log-likelihood of the
//! model *after* iteration `t` (scikit-learn's `score(X)` after `t` iterations), and
//! `final_log_likelihood` is that of the returned model. `tol = 0` runs exactly `max_iter`
//! iterations; `max_iter = 0` returns the start. With `reg_covar = 0` and no floor, EM never
//! lowers the log-likelihood.
//!
//! The M-step is an [`UpdateRule`] ([`FitOptions::update`]; maximum likelihood by default, or
//! [`crate::map::MapRule`], [`crate::vb::VariationalRule`]), which also turns the
//! initialisation's statistics into the start. A rule may report its own objective instead of
//! the mean log-likelihood (variational Bayes: its lower bound per sample; then every pass,
//! the last included, collects statistics) and may replace the returned model by what it
//! derives from the statistics that made it (VB's posterior point estimate).
//!
//! Restarts (`n_init`) each re-initialise from their own seed; the one with the highest final
//! log-likelihood wins (the first on ties). With a given start model there is nothing to
//! re-draw, so one restart runs. Errors (a covariance that is no longer positive definite)
//! abort the fit and no model is returned; non-convergence is a flag, not an error.

use std::time::Instant;

use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, Samples};

use crate::checks::{ZeroWeights, check_sample_weights};
use crate::config::EmConfig;
use crate::driver::{BatchEm, StopRule, Trajectory, iterate_restart};
use crate::init::{StartTree, initial_model, stream_seed};
use crate::pass::e_step_unchecked;
use crate::stream::{Data, Stream};
use crate::update::{GuardCounts, MaximumLikelihood, Regularisation, UpdateRule, m_step};

pub use crate::driver::IterationInfo;

/// Optional inputs of a fit.
#[derive(Default)]
pub struct FitOptions<'a, T: Real> {
    /// Per-sample weights (`n` finite values >= 0, not all zero): a weight of 2 counts a sample
    /// twice. `None` weighs every sample 1.
    pub sample_weights: Option<&'a [f64]>,
    /// A given starting model; its `k` and covariance type must match the configuration.
    pub start: Option<&'a GaussianMixture<T>>,
    /// Called after every iteration of every restart.
    pub on_iteration: Option<&'a mut (dyn FnMut(&IterationInfo) + Send)>,
    /// The update rule of every iteration, and of the initialisation's statistics; `None` is
    /// maximum likelihood with the configuration's `reg_covar` and `variance_floor`
    /// ([`crate::update::MaximumLikelihood`]).
    pub update: Option<&'a dyn UpdateRule>,
}

/// What happened in one restart.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartSummary {
    /// The restart's seed.
    pub seed: u64,
    /// EM iterations run.
    pub n_iter: usize,
    /// Whether the tolerance was met.
    pub converged: bool,
    /// Mean log-likelihood of the restart's final model.
    pub final_log_likelihood: f64,
}

/// The report of a fit (the best restart's values unless stated).
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// EM iterations (M-steps) run.
    pub n_iter: usize,
    /// Whether the change of mean log-likelihood fell below `tol`.
    pub converged: bool,
    /// Mean log-likelihood per sample after each iteration.
    pub log_likelihood: Vec<f64>,
    /// Mean log-likelihood per sample of the starting model.
    pub initial_log_likelihood: f64,
    /// Mean log-likelihood per sample of the returned model on the training data.
    pub final_log_likelihood: f64,
    /// Components of the returned model that were empty in the update that made it (they keep
    /// earlier parameters at weight ≈ 0): each component counts once, however many iterations
    /// it stayed empty. More than zero says the data supports fewer components.
    pub empty_components: usize,
    /// Variances of the returned model that the update that made it raised to
    /// `variance_floor`.
    pub floored_variances: usize,
    /// Every time a guard fired, over every update of every restart, initialisations included:
    /// component-iterations that were empty, variance-iterations floored (a component empty
    /// for 10 iterations counts 10 times here and once in
    /// [`empty_components`](Self::empty_components)).
    pub guard_totals: GuardCounts,
    /// Every restart, in order.
    pub restarts: Vec<RestartSummary>,
    /// Index of the best restart.
    pub best_restart: usize,
    /// Threads the fit ran on.
    pub threads: usize,
    /// Wall-clock seconds of the whole fit (initialisation and all restarts).
    pub fit_seconds: f64,
}

/// A fitted model and its report.
#[derive(Debug, Clone)]
pub struct Fit<T: Real> {
    /// The best restart's model.
    pub model: GaussianMixture<T>,
    /// How the fit went.
    pub report: FitReport,
}

impl EmConfig {
    /// Fits a mixture to `x` with default [`FitOptions`].
    pub fn fit<T: Real>(&self, x: Samples<'_, T>) -> Result<Fit<T>> {
        fit(self, x, FitOptions::default())
    }
}

/// Fits a mixture to `x` by EM (see the module docs).
pub fn fit<T: Real>(
    config: &EmConfig,
    x: Samples<'_, T>,
    options: FitOptions<'_, T>,
) -> Result<Fit<T>> {
    check_inputs(config, x, &options)?;
    let data = Data::Memory { x, weights: options.sample_weights };
    with_threads(config.get_threads(), || run(config, data, options, None))
}

/// [`fit()`] on the current pool, its hierarchical starts cut from `tree` (model selection
/// builds one tree for all its cells).
pub(crate) fn fit_on_tree<T: Real>(
    config: &EmConfig,
    x: Samples<'_, T>,
    tree: Option<&StartTree<T>>,
) -> Result<Fit<T>> {
    let options = FitOptions::default();
    check_inputs(config, x, &options)?;
    run(config, Data::Memory { x, weights: None }, options, tree)
}
/// [`fit`] over the rows of `stream` (read chunk by chunk, and with [`Stream::combine`] one
/// shard of several processes): the same model, bit for bit, as [`fit`] on the same rows in
/// memory. Sample weights go on the stream ([`Stream::weights`]); `options.sample_weights`
/// must be `None`. Inits read what they need by random access (k-means: a uniform subsample)
/// and otherwise pass over the stream like EM.
pub fn fit_stream<T: Real>(
    config: &EmConfig,
    stream: &Stream<'_, T>,
    options: FitOptions<'_, T>,
) -> Result<Fit<T>> {
    config.validate()?;
    check_memory::<T>(config, stream.n_features())?;
    if options.sample_weights.is_some() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "a streamed fit takes its sample weights from the stream: set Stream::weights",
        ));
    }
    let (n, k) = (stream.n_samples(), config.get_n_components());
    if n < k {
        return Err(Error::new(
            ErrorKind::TooFewSamples { n_samples: n, n_components: k },
            format!(
                "{n} samples cannot fit {k} components: use at most {n} components or more data"
            ),
        ));
    }
    if let Some(w) = stream.get_weights() {
        check_sample_weights(w, n, ZeroWeights::Refused)?;
    }
    if let Some(start) = options.start {
        check_start(config, start, stream.n_features())?;
    }
    with_threads(config.get_threads(), || run(config, Data::Stream(stream), options, None))
}

fn check_start<T: Real>(config: &EmConfig, start: &GaussianMixture<T>, d: usize) -> Result<()> {
    let k = config.get_n_components();
    if start.n_features() != d {
        return Err(Error::new(
            ErrorKind::DimensionMismatch { expected: start.n_features(), found: d },
            format!(
                "the data has {d} features but the start model {}: use data of the model's \
                 dimension",
                start.n_features()
            ),
        ));
    }
    if start.n_components() != k || start.covariance_type() != config.get_covariance_type() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "the start model has {} {} components but the configuration asks for {k} {}: \
                 make them agree",
                start.n_components(),
                start.covariance_type(),
                config.get_covariance_type()
            ),
        ));
    }
    Ok(())
}

/// Refuses a fit whose working memory would exceed what the machine has (one line naming the
/// size and the limit, instead of an aborted allocation).
pub(crate) fn check_memory<T: Real>(config: &EmConfig, d: usize) -> Result<()> {
    let threads = config.get_threads().unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    gmm_core::memory::check_fit(
        d,
        config.get_n_components(),
        config.get_covariance_type(),
        threads,
        std::mem::size_of::<T>(),
    )
}

/// The checks every fit of `x` runs before it starts.
pub(crate) fn check_inputs<T: Real>(
    config: &EmConfig,
    x: Samples<'_, T>,
    options: &FitOptions<'_, T>,
) -> Result<()> {
    config.validate()?;
    x.check_finite()?;
    check_memory::<T>(config, x.n_features())?;
    let k = config.get_n_components();
    if x.n_samples() < k {
        return Err(Error::new(
            ErrorKind::TooFewSamples { n_samples: x.n_samples(), n_components: k },
            format!(
                "{} samples cannot fit {k} components: use at most {} components or more data",
                x.n_samples(),
                x.n_samples()
            ),
        ));
    }
    if let Some(w) = options.sample_weights {
        check_sample_weights(w, x.n_samples(), ZeroWeights::Refused)?;
    }
    if let Some(start) = options.start {
        start.check_dimension(x.n_features())?; // (the values were checked above)
        check_start(config, start, x.n_features())?;
    }
    Ok(())
}

/// The most threads a fit runs on: the threads this process can run at once
/// ([`std::thread::available_parallelism`]: cores, CPU affinity and cgroup quotas), or 1 when
/// that is unknown (as rayon's own default).
///
/// Every pass is compute- or memory-bound and cut into fixed blocks, so threads beyond this
/// only add start-up, wake-up and scheduling costs (10,000 threads turned a 1 ms fit into a
/// 146 s one) and can never change a result.
pub fn max_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The threads a fit that asks for `requested` runs on: `requested` capped at
/// [`max_threads`].
pub fn effective_threads(requested: usize) -> usize {
    requested.min(max_threads())
}

/// Runs `f` on a pool of `threads` threads, capped at [`max_threads`] (the global pool for
/// `None`): the thread setting of [`EmConfig`] and of every driver built on it (selection,
/// classification, UBM training). To oversubscribe on purpose (a determinism test on a small
/// machine), install your own rayon pool and pass `None`.
pub fn with_threads<R>(threads: Option<usize>, f: impl FnOnce() -> Result<R> + Send) -> Result<R>
where
    R: Send,
{
    match threads.map(effective_threads) {
        None => f(),
        Some(threads) => {
            let pool =
                rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidConfig,
                        format!("cannot start {threads} threads: {e}"),
                    )
                })?;
            pool.install(f)
        }
    }
}

fn run<T: Real>(
    config: &EmConfig,
    data: Data<'_, T>,
    mut options: FitOptions<'_, T>,
    tree: Option<&StartTree<T>>,
) -> Result<Fit<T>> {
    let started = Instant::now();
    let n_restarts = if options.start.is_some() { 1 } else { config.get_n_init() };
    let mut best: Option<(GaussianMixture<T>, RestartRun)> = None;
    let mut restarts = Vec::with_capacity(n_restarts);
    let mut totals = GuardCounts::default();
    let mut best_restart = 0;
    for restart in 0..n_restarts {
        let seed = stream_seed(config.get_seed(), restart as u64);
        let (start, init_guards) = match options.start {
            Some(model) => (model.clone(), GuardCounts::default()),
            None => initial_model(&data, config, seed, restart, options.update, tree)?,
        };
        let (model, outcome) = run_restart(config, data, &mut options, start, restart)?;
        let mut restart_totals = init_guards;
        restart_totals.add(outcome.guards);
        // The returned model's guards: its last update's, or the start's when none ran.
        let final_guards =
            if outcome.log_likelihood.is_empty() { init_guards } else { outcome.final_guards };
        restarts.push(RestartSummary {
            seed,
            n_iter: outcome.log_likelihood.len(),
            converged: outcome.converged,
            final_log_likelihood: outcome.final_log_likelihood,
        });
        let better = best
            .as_ref()
            .is_none_or(|(_, b)| outcome.final_log_likelihood > b.final_log_likelihood);
        if better {
            best = Some((model, RestartRun { final_guards, ..outcome }));
            best_restart = restart;
        }
        totals.add(restart_totals);
    }
    let (model, outcome) = best.expect("at least one restart runs");
    let report = FitReport {
        n_iter: outcome.log_likelihood.len(),
        converged: outcome.converged,
        log_likelihood: outcome.log_likelihood,
        initial_log_likelihood: outcome.initial_log_likelihood,
        final_log_likelihood: outcome.final_log_likelihood,
        empty_components: outcome.final_guards.empty_components,
        floored_variances: outcome.final_guards.floored_variances,
        guard_totals: totals,
        restarts,
        best_restart,
        threads: rayon::current_num_threads(),
        fit_seconds: started.elapsed().as_secs_f64(),
    };
    Ok(Fit { model, report })
}

struct RestartRun {
    log_likelihood: Vec<f64>,
    initial_log_likelihood: f64,
    final_log_likelihood: f64,
    converged: bool,
    guards: GuardCounts,
    final_guards: GuardCounts,
}

impl From<Trajectory> for RestartRun {
    fn from(t: Trajectory) -> Self {
        Self {
            final_log_likelihood: t.last,
            log_likelihood: t.objective,
            initial_log_likelihood: t.initial,
            converged: t.converged,
            guards: t.guards,
            final_guards: t.final_guards,
        }
    }
}

/// The maximum-likelihood rule of `config`'s guards.
pub(crate) fn default_rule(config: &EmConfig) -> MaximumLikelihood {
    MaximumLikelihood(Regularisation {
        reg_covar: config.get_reg_covar(),
        variance_floor: config.get_variance_floor(),
    })
}

fn run_restart<T: Real>(
    config: &EmConfig,
    data: Data<'_, T>,
    options: &mut FitOptions<'_, T>,
    start: GaussianMixture<T>,
    restart: usize,
) -> Result<(GaussianMixture<T>, RestartRun)> {
    let ml = default_rule(config);
    let rule: &dyn UpdateRule = options.update.unwrap_or(&ml);
    let mut em = BatchEm::from_data(data, rule);
    let stop =
        StopRule { max_iter: config.get_max_iter(), tol: config.get_tol(), score_last: true };
    let callback = options.on_iteration.as_deref_mut();
    let (model, trajectory) = iterate_restart(&mut em, start, stop, restart, callback)?;
    Ok((model, trajectory.into()))
}

/// One EM iteration from `model`: the fused E-step (which also yields `model`'s mean
/// log-likelihood per sample) and the maximum-likelihood M-step. Runs on the current rayon
/// pool; the data's finiteness is not checked (a NaN shows as a NaN log-likelihood).
pub fn em_step<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
    regularisation: Regularisation,
) -> Result<(GaussianMixture<T>, f64, GuardCounts)> {
    model.check_samples(x)?;
    if let Some(w) = sample_weights {
        check_sample_weights(w, x.n_samples(), ZeroWeights::Refused)?;
    }
    let stats = e_step_unchecked(model, x, sample_weights);
    let (next, guards) = m_step(&MaximumLikelihood(regularisation), &stats, model)?;
    Ok((next, stats.mean_log_likelihood(), guards))
}
