//! The one iteration driver: iterate, stop, call back, report.
//!
//! Every learner of the crate — batch EM with any [`UpdateRule`] (maximum likelihood, MAP,
//! variational Bayes), online EM's epochs, UBM training's stages — is a [`Learner`] run by
//! [`iterate`]. The driver owns the loop's semantics, so they are the same everywhere:
//!
//! * iteration `t = 0, 1, ...` first *evaluates* the current model `θ_t` (its objective
//!   `ℓ_t`, per unit of sample weight: the mean log-likelihood, or a rule's own objective);
//! * if `t ≥ 1` and `|ℓ_t - ℓ_{t-1}| < tol`, the run has converged and returns `θ_t`;
//! * if `t = max_iter`, it stops and returns `θ_t` (`converged = false` unless the test above
//!   also held);
//! * otherwise the learner *advances* to `θ_{t+1}`.
//!
//! So `max_iter = 0` returns the start, `tol = 0` runs exactly `max_iter` advances, and the
//! trajectory's `objective[t-1] = ℓ_t` is the objective of the model after `t` advances.
//! [`StopRule::score_last`] `= false` skips the evaluation of the model that will be returned
//! anyway (UBM training's intermediate stages, whose models are split at once): then nothing
//! is known of it, and the trajectory ends with the model before it.
//!
//! A learner decides what evaluating and advancing cost: batch EM evaluates with the fused
//! E-step pass, which also yields the statistics its advance turns into the next model (one
//! pass per iteration), and evaluates the returned model with a cheaper scoring pass; online
//! EM advances by an epoch of mini-batches and evaluates by scoring all the data.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::driver::{BatchEm, StopRule, iterate};
//! use gmm_em::update::{MaximumLikelihood, Regularisation};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 3.0, 1)?;
//! let (x, _) = truth.sample(2000, 2)?;
//! let start = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 3.0, 9)?;
//! // Without regularisation, EM never lowers the log-likelihood.
//! let rule = MaximumLikelihood(Regularisation { reg_covar: 0.0, variance_floor: None });
//! let mut em = BatchEm::new(x.samples(), None, &rule)?;
//! let stop = StopRule { max_iter: 500, tol: 1e-6, score_last: true };
//! let (model, run) = iterate(&mut em, start, stop, None)?;
//! assert!(run.converged, "{} iterations", run.objective.len());
//! assert!(run.objective.windows(2).all(|w| w[1] >= w[0] - 1e-12));
//! assert_eq!(model.n_components(), 3);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::{GaussianMixture, Real, Result, Samples};

use crate::checks::{ZeroWeights, check_sample_weights};
use crate::pass::e_step_unchecked;
use crate::stats::SuffStats;
use crate::stream::{Data, Stream};
use crate::update::{GuardCounts, Parameters, UpdateRule};

/// When the driver stops (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StopRule {
    /// The most advances.
    pub max_iter: usize,
    /// Stop when the objective changes by less than this between iterations (0: never).
    pub tol: f64,
    /// Whether the model reached after `max_iter` advances is evaluated (normally yes).
    pub score_last: bool,
}

/// Progress after one iteration, passed to the driver's callback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationInfo {
    /// Restart number, from 0.
    pub restart: usize,
    /// Iteration number, from 1.
    pub iteration: usize,
    /// The objective (mean log-likelihood per sample, or the rule's) of the model after this
    /// iteration.
    pub log_likelihood: f64,
    /// Change from the previous iteration's (or the start's) value.
    pub change: f64,
}

/// What a learner does each iteration, as the driver sees it.
pub trait Learner<T: Real> {
    /// The objective of `model`, per unit of sample weight. `then_advance` says whether
    /// [`Learner::advance`] will be called on the same model next.
    fn evaluate(&mut self, model: &GaussianMixture<T>, then_advance: bool) -> Result<f64>;

    /// The model after `model`, and what the guards did; `iteration` counts from 1 (for error
    /// messages).
    fn advance(
        &mut self,
        model: &GaussianMixture<T>,
        iteration: usize,
    ) -> Result<(GaussianMixture<T>, GuardCounts)>;

    /// The model the run returns in place of `model`, the last one reached (variational Bayes
    /// returns its posterior's point estimate). Default: `model`.
    fn finish(&mut self, model: GaussianMixture<T>) -> Result<GaussianMixture<T>> {
        Ok(model)
    }

    /// Called after every iteration's callback; an error stops the run (and is returned). A
    /// front end checks for interruption here (Python's Ctrl-C). Default: go on.
    fn after_iteration(&mut self, info: &IterationInfo) -> Result<()> {
        let _ = info;
        Ok(())
    }
}

/// How one run of the driver went.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The objective after each advance (see the module docs).
    pub objective: Vec<f64>,
    /// The objective of the start (NaN when it was not evaluated).
    pub initial: f64,
    /// The objective of the last model evaluated: the returned one unless
    /// [`StopRule::score_last`] was off.
    pub last: f64,
    /// Whether the tolerance was met.
    pub converged: bool,
    /// What the guards did, summed over the advances (occurrences: a component empty in three
    /// updates counts three times).
    pub guards: GuardCounts,
    /// What the guards did in the advance that produced the returned model (zero when no
    /// advance ran): how many of *its* components are empty, how many of *its* variances are
    /// floored.
    pub final_guards: GuardCounts,
}

/// Runs `learner` from `start` until `stop` (see the module docs); `on_iteration` is called
/// after every evaluated iteration (its `restart` field is 0: [`crate::fit()`] numbers them).
/// An error aborts the run and returns no model.
pub fn iterate<T: Real, L: Learner<T> + ?Sized>(
    learner: &mut L,
    start: GaussianMixture<T>,
    stop: StopRule,
    on_iteration: Option<&mut (dyn FnMut(&IterationInfo) + Send + '_)>,
) -> Result<(GaussianMixture<T>, Trajectory)> {
    iterate_restart(learner, start, stop, 0, on_iteration)
}

/// [`iterate`] reporting `restart` to the callback.
pub(crate) fn iterate_restart<T: Real, L: Learner<T> + ?Sized>(
    learner: &mut L,
    start: GaussianMixture<T>,
    stop: StopRule,
    restart: usize,
    mut on_iteration: Option<&mut (dyn FnMut(&IterationInfo) + Send + '_)>,
) -> Result<(GaussianMixture<T>, Trajectory)> {
    let mut model = start;
    let mut objective = Vec::new();
    let (mut guards, mut final_guards) = (GuardCounts::default(), GuardCounts::default());
    let (mut previous, mut initial) = (f64::NAN, f64::NAN);
    let mut converged = false;
    for t in 0.. {
        let last = t == stop.max_iter;
        if last && !stop.score_last {
            break;
        }
        let value = learner.evaluate(&model, !last)?;
        if t == 0 {
            initial = value;
        } else {
            objective.push(value);
            let info = IterationInfo {
                restart,
                iteration: t,
                log_likelihood: value,
                change: value - previous,
            };
            if let Some(callback) = on_iteration.as_mut() {
                callback(&info);
            }
            learner.after_iteration(&info)?;
            if (value - previous).abs() < stop.tol {
                converged = true;
                break;
            }
        }
        if last {
            break;
        }
        let (next, step_guards) = learner.advance(&model, t + 1)?;
        guards.add(step_guards);
        final_guards = step_guards;
        previous = value;
        model = next;
    }
    let model = learner.finish(model)?;
    let last = objective.last().copied().unwrap_or(initial);
    Ok((model, Trajectory { objective, initial, last, converged, guards, final_guards }))
}

/// The driver under scikit-learn's convention, for drop-in front ends (the Python package):
/// iteration `i = 1 ..= max_iter` evaluates the current model (`ℓ_i`), advances, then stops if
/// `|ℓ_i - ℓ_{i-1}| < tol` with `ℓ_0 = initial` (`-∞` for a fresh fit, the previous fit's value
/// for a warm start). The returned model is one advance past the last evaluated one, the
/// trajectory's `objective` has one value per advance, and `last` is the objective of the
/// model before the last advance — what `sklearn.mixture` reports as `lower_bound_`.
pub fn iterate_scikit_learn<T: Real, L: Learner<T> + ?Sized>(
    learner: &mut L,
    start: GaussianMixture<T>,
    max_iter: usize,
    tol: f64,
    initial: f64,
    restart: usize,
) -> Result<(GaussianMixture<T>, Trajectory)> {
    let mut model = start;
    let mut objective = Vec::with_capacity(max_iter);
    let (mut guards, mut final_guards) = (GuardCounts::default(), GuardCounts::default());
    let (mut previous, mut converged) = (initial, false);
    for iteration in 1..=max_iter {
        let value = learner.evaluate(&model, true)?;
        let (next, step_guards) = learner.advance(&model, iteration)?;
        guards.add(step_guards);
        final_guards = step_guards;
        model = next;
        objective.push(value);
        let info =
            IterationInfo { restart, iteration, log_likelihood: value, change: value - previous };
        learner.after_iteration(&info)?;
        previous = value;
        if info.change.abs() < tol {
            converged = true;
            break;
        }
    }
    let model = learner.finish(model)?;
    let last = objective.last().copied().unwrap_or(initial);
    Ok((model, Trajectory { objective, initial, last, converged, guards, final_guards }))
}

/// Batch EM as a [`Learner`]: each evaluation is the fused E-step over all the data (its
/// statistics feed the next advance), each advance `rule`'s update of them. The model about to
/// be returned is scored by a plain scoring pass unless the rule has its own objective.
pub struct BatchEm<'a, T: Real> {
    data: Data<'a, T>,
    rule: &'a dyn UpdateRule,
    pending: Option<SuffStats>,
    used: Option<(SuffStats, Parameters)>,
}

impl<'a, T: Real> BatchEm<'a, T> {
    /// Batch EM over `x` (finite, with optional per-sample weights, not all zero) with `rule`.
    pub fn new(
        x: Samples<'a, T>,
        sample_weights: Option<&'a [f64]>,
        rule: &'a dyn UpdateRule,
    ) -> Result<Self> {
        x.check_finite()?;
        if let Some(w) = sample_weights {
            check_sample_weights(w, x.n_samples(), ZeroWeights::Refused)?;
        }
        Ok(Self::new_unchecked(x, sample_weights, rule))
    }

    /// [`BatchEm::new`] on inputs the caller has checked.
    pub(crate) fn new_unchecked(
        x: Samples<'a, T>,
        sample_weights: Option<&'a [f64]>,
        rule: &'a dyn UpdateRule,
    ) -> Self {
        Self { data: Data::Memory { x, weights: sample_weights }, rule, pending: None, used: None }
    }

    /// Batch EM over the rows of `stream` (read chunk by chunk, or this process's shard of
    /// them combined with the others'), with `rule`: bit-identical to [`BatchEm::new`] on the
    /// same rows in memory. Values are checked as they are read.
    pub fn streamed(stream: &'a Stream<'a, T>, rule: &'a dyn UpdateRule) -> Self {
        Self::from_data(Data::Stream(stream), rule)
    }

    pub(crate) fn from_data(data: Data<'a, T>, rule: &'a dyn UpdateRule) -> Self {
        Self { data, rule, pending: None, used: None }
    }

    /// The E-step of `model` over the data.
    fn e_step(&self, model: &GaussianMixture<T>) -> Result<SuffStats> {
        match self.data {
            Data::Memory { x, weights } => Ok(e_step_unchecked(model, x, weights)),
            Data::Stream(s) => s.e_step(model),
        }
    }

    /// The statistics behind the last advance and the rule's parameters from them (in `f64`,
    /// before they became the model), if there was an advance.
    pub fn last_update(&self) -> Option<(&SuffStats, &Parameters)> {
        self.used.as_ref().map(|(s, p)| (s, p))
    }
}

impl<T: Real> Learner<T> for BatchEm<'_, T> {
    fn evaluate(&mut self, model: &GaussianMixture<T>, then_advance: bool) -> Result<f64> {
        if let Data::Memory { x, weights } = self.data {
            // The values were checked when the learner was made; the model may be any.
            model.check_dimension(x.n_features())?;
            if !then_advance && !self.rule.has_objective() {
                let (ll, total) = model.weighted_log_likelihood_of_finite(x, weights)?;
                return Ok(ll / total);
            }
        }
        // (A streamed pass scores the last model with the E-step: its log-likelihood has the
        // bits of the scoring pass, which sums the same values by the same tree.)
        let stats = self.e_step(model)?;
        let value = if self.rule.has_objective() {
            self.rule.objective(&stats, &Parameters::from_model(model))?
        } else {
            stats.mean_log_likelihood()
        };
        self.pending = then_advance.then_some(stats);
        Ok(value)
    }

    fn advance(
        &mut self,
        model: &GaussianMixture<T>,
        iteration: usize,
    ) -> Result<(GaussianMixture<T>, GuardCounts)> {
        let stats = match self.pending.take() {
            Some(stats) => stats,
            None => self.e_step(model)?,
        };
        let rule = self.rule;
        let (parameters, guards) = rule
            .update(&stats, &Parameters::from_model(model))
            .map_err(|e| e.context(format!("EM iteration {iteration}")))?;
        let next = parameters
            .clone()
            .into_model(rule.reg_covar())
            .map_err(|e| e.context(format!("EM iteration {iteration}")))?;
        self.used = Some((stats, parameters));
        Ok((next, guards))
    }

    fn finish(&mut self, model: GaussianMixture<T>) -> Result<GaussianMixture<T>> {
        let Some((stats, _)) = self.used.as_ref() else { return Ok(model) };
        match self.rule.finish(stats, &Parameters::from_model(&model)) {
            Some(parameters) => parameters?.into_model(self.rule.reg_covar()),
            None => Ok(model),
        }
    }
}
