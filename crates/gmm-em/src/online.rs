//! Online (stepwise) EM: mini-batches blended into running sufficient statistics.
//!
//! Stepwise EM (Cappé & Moulines 2009; Liang & Klein 2009) keeps running statistics `s`,
//! normalised per unit of sample weight, and for the `t`-th batch `B_t` (t = 1, 2, ...)
//!
//! ```text
//! γ_t = (t + t0)^(-κ),   κ ∈ (0.5, 1],  t0 ≥ 0
//! s_t = (1 - γ_t) s_{t-1} + γ_t  s̄(B_t; θ_{t-1})       (s̄: the batch's statistics / its weight)
//! θ_t = update(s_t)                                      (any UpdateRule: ML, MAP)
//! ```
//!
//! `s_0` are the statistics the start model implies (`N_k = w_k`, first moments 0 around its
//! means, second moments `w_k Σ_k`), so the start counts as prior information until the step
//! sizes wash it out; with `t0 = 0` the first batch replaces it (`γ_1 = 1`). Batch size 1 is
//! the original per-sample recursive EM; a batch of all the data with `t0 = 0` is one step of
//! batch EM. `Σ γ_t = ∞, Σ γ_t² < ∞` for `κ ∈ (0.5, 1]`, the conditions under which the
//! recursion converges to a stationary point of the likelihood.
//!
//! Statistics from different batches are shifted by different models' means; each blend first
//! moves the running statistics to the batch's shift ([`SuffStats::reshift`]), so nothing is
//! computed as `E[x²] - E[x]²`. Each batch's E-step is [`crate::pass`]'s fused pass and the
//! update is an [`UpdateRule`] — the same seam as batch EM; only the source of statistics
//! differs. Rules that depend on absolute counts (MAP) see the running statistics scaled to
//! [`OnlineEm::represented_weight`] samples (by default the data's total weight in
//! [`fit_online`], the first batch's weight in a bare [`OnlineEm`]).
//!
//! Types: [`OnlineConfig`] (batch size, step size, epochs), [`OnlineEm`] (the state, with
//! [`OnlineEm::partial_fit`]: one batch at a time, stopped and resumed at will, `Clone` to
//! checkpoint), [`fit_online`] (epochs over in-memory data, shuffled from the seed).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::online::{OnlineConfig, fit_online};
//! use gmm_em::{EmConfig, FitOptions};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 3, 2, 3.0, 4)?;
//! let (x, _) = truth.sample(5000, 5)?;
//! let config = EmConfig::new(3, CovarianceType::Diag).seed(1).tol(0.0);
//! let online = OnlineConfig::new().batch_size(250).epochs(3);
//! let fit = fit_online(&config, &online, x.samples(), FitOptions::default())?;
//! assert!(fit.report.final_log_likelihood > truth.score(x.samples())? - 0.05);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Current implementation
//!
//! [`fit_online`] draws a permutation of the rows per epoch (Fisher–Yates from
//! `stream_seed(seed, 1_000_000 + epoch)`) and runs the blocked, thread-parallel pass on each
//! batch, whose blocks are loaded straight from the batch's rows (no copy of the batch: the
//! gather runs on every thread, and the result has the bits of the pass over a copy); a batch's
//! last, short block costs its own length. Results are bit-identical for any thread count.
//! Finite values are checked only when a batch's log-likelihood is not finite (which any NaN
//! or infinity in it makes it), so valid data is never scanned twice. After
//! each epoch it scores the whole data once (the report's per-epoch log-likelihood). Batches of
//! fewer than 32 rows skip the blocked kernels for
//! a per-row E-step from the model's cached terms, sequential, with the same statistics.
//! [`OnlineEm::partial_fit_rows`] (what [`fit_online`] calls once per epoch) runs batches under
//! 32 rows of diag and spherical models under the maximum-likelihood rule through a hot path
//! that does not rebuild the model per batch: running statistics with a lazy scale factor
//! (`(1-γ)` multiplies one number), rows gathered 64 at a time, all components scored in SIMD
//! lanes, only the components a batch can change recomputed (found from a bit mask), the
//! per-component log-normaliser updated by one `ln` of a variance ratio (exactly recomputed every
//! 1,024 batches), a fixed shift per component moved only when the mean has drifted a standard
//! deviation, and one validated model built at the end of the call. Its results equal the
//! per-batch update to rounding (a test checks all covariance types). Other cases (full, tied,
//! MAP, batches of 32 rows or more) run [`OnlineEm::partial_fit`]'s recursion per batch (on the
//! rows in place), which rebuilds the
//! model (the rule's update, validation, derived terms: `O(k d)` for diag and spherical,
//! `O(k d³)` for full).

use std::time::Instant;

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::checks::{ZeroWeights, check_sample_weights};
use crate::config::EmConfig;
use crate::driver::{Learner, StopRule, iterate};
use crate::fit::{
    Fit, FitOptions, FitReport, RestartSummary, check_inputs, default_rule, with_threads,
};
use crate::init::{initial_model, stream_seed};
use crate::online_fast::Stepwise;
use crate::pass::{e_step_rows, e_step_unchecked};
use crate::stats::{MomentLayout, SuffStats};
use crate::stream::Data;
use crate::update::{GuardCounts, Parameters, UpdateRule};

/// Settings of online EM (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineConfig {
    batch_size: usize,
    kappa: f64,
    t0: f64,
    epochs: usize,
    shuffle: bool,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl OnlineConfig {
    /// Batches of 1,000, `κ = 0.6`, `t0 = 2`, 3 epochs, shuffled.
    pub fn new() -> Self {
        Self { batch_size: 1000, kappa: 0.6, t0: 2.0, epochs: 3, shuffle: true }
    }

    /// Samples per batch (`>= 1`; 1 is per-sample recursive EM).
    pub fn batch_size(mut self, value: usize) -> Self {
        self.batch_size = value;
        self
    }

    /// The step-size exponent `κ ∈ (0.5, 1]`.
    pub fn kappa(mut self, value: f64) -> Self {
        self.kappa = value;
        self
    }

    /// The step-size offset `t0 >= 0`.
    pub fn t0(mut self, value: f64) -> Self {
        self.t0 = value;
        self
    }

    /// Passes over the data (`>= 1`).
    pub fn epochs(mut self, value: usize) -> Self {
        self.epochs = value;
        self
    }

    /// Whether each epoch visits the rows in a fresh random order (from the seed).
    pub fn shuffle(mut self, value: bool) -> Self {
        self.shuffle = value;
        self
    }

    /// Samples per batch.
    pub fn get_batch_size(&self) -> usize {
        self.batch_size
    }

    /// `κ`.
    pub fn get_kappa(&self) -> f64 {
        self.kappa
    }

    /// `t0`.
    pub fn get_t0(&self) -> f64 {
        self.t0
    }

    /// Epochs.
    pub fn get_epochs(&self) -> usize {
        self.epochs
    }

    /// Whether epochs are shuffled.
    pub fn get_shuffle(&self) -> bool {
        self.shuffle
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if self.batch_size == 0 {
            return bad("batch size 0: use at least 1 sample per batch".into());
        }
        if !(self.kappa > 0.5 && self.kappa <= 1.0) {
            return bad(format!("step kappa {} must be in (0.5, 1]", self.kappa));
        }
        if !(self.t0 >= 0.0 && self.t0.is_finite()) {
            return bad(format!("step t0 {} must be finite and >= 0", self.t0));
        }
        if self.epochs == 0 {
            return bad("0 epochs: run at least 1".into());
        }
        Ok(())
    }
}

/// The state of online EM: the current model and the running statistics.
#[derive(Debug, Clone)]
pub struct OnlineEm<T: Real> {
    model: GaussianMixture<T>,
    running: SuffStats,
    steps: u64,
    kappa: f64,
    t0: f64,
    represented: Option<f64>,
    guards: GuardCounts,
    last_guards: GuardCounts,
}

impl<T: Real> OnlineEm<T> {
    /// Starts from `start` with the step size of `config` (its batch size and epochs are not
    /// used here: the caller chooses the batches).
    pub fn new(start: GaussianMixture<T>, config: &OnlineConfig) -> Result<Self> {
        config.validate()?;
        let running = implied_stats(&start);
        Ok(Self {
            model: start,
            running,
            steps: 0,
            kappa: config.kappa,
            t0: config.t0,
            represented: None,
            guards: GuardCounts::default(),
            last_guards: GuardCounts::default(),
        })
    }

    /// Resumes a state saved as its parts (a front end that keeps the state between calls, as
    /// Python's `partial_fit` does): the current `model`, the running statistics (`None`
    /// before the first batch: the start's implied statistics), the batches consumed, the
    /// weight the statistics stand for, and `config`'s step size. The statistics must be of
    /// the model's shape.
    pub fn from_parts(
        model: GaussianMixture<T>,
        running: Option<SuffStats>,
        steps: u64,
        represented: Option<f64>,
        config: &OnlineConfig,
    ) -> Result<Self> {
        let mut state = Self::new(model, config)?;
        if let Some(running) = running {
            let layout = MomentLayout::for_covariance(state.model.covariance_type());
            let shape = (running.n_components(), running.n_features(), running.layout());
            if shape != (state.model.n_components(), state.model.n_features(), layout) {
                return Err(Error::new(
                    ErrorKind::MismatchedStatistics,
                    "the running statistics do not fit the model: save and restore them together",
                ));
            }
            state.running = running;
        }
        if represented.is_some_and(|w| !(w.is_finite() && w > 0.0)) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("the represented weight is {represented:?}: give a finite value > 0"),
            ));
        }
        state.steps = steps;
        state.represented = represented;
        Ok(state)
    }

    /// The running statistics (before the first batch: the start's, per unit weight).
    pub fn running(&self) -> &SuffStats {
        &self.running
    }

    /// The weight the running statistics stand for (`None` until the first batch sets it).
    pub fn represented(&self) -> Option<f64> {
        self.represented
    }

    /// Sets how many samples the running statistics stand for when the update rule sees them
    /// (only rules that depend on absolute counts, such as MAP, care).
    pub fn represented_weight(mut self, weight: f64) -> Self {
        self.represented = Some(weight);
        self
    }

    /// The current model.
    pub fn model(&self) -> &GaussianMixture<T> {
        &self.model
    }

    /// Batches consumed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// What the update's guards did so far, summed over the updates.
    pub fn guards(&self) -> GuardCounts {
        self.guards
    }

    /// What the guards did in the last update: how many components of the current model are
    /// empty and how many of its variances are floored (zero before the first batch).
    pub fn last_guards(&self) -> GuardCounts {
        self.last_guards
    }

    /// The step size the next batch gets.
    pub fn next_step_size(&self) -> f64 {
        ((self.steps + 1) as f64 + self.t0).powf(-self.kappa).min(1.0)
    }

    /// Consumes one batch: its E-step under the current model, the blend, and `rule`'s update.
    /// Returns the batch's mean log-likelihood under the model *before* the update. On error
    /// the state is unchanged.
    pub fn partial_fit(
        &mut self,
        batch: Samples<'_, T>,
        sample_weights: Option<&[f64]>,
        rule: &dyn UpdateRule,
    ) -> Result<f64> {
        self.model.check_samples(batch)?;
        batch.check_finite()?;
        if let Some(w) = sample_weights {
            check_sample_weights(w, batch.n_samples(), ZeroWeights::Refused)?;
        }
        let stats = if batch.n_samples() < SMALL_BATCH {
            small_batch_e_step(&self.model, batch, sample_weights)
        } else {
            e_step_unchecked(&self.model, batch, sample_weights)
        };
        self.blend(stats, rule)
    }

    /// Consumes one batch whose E-step under the current model was taken elsewhere (statistics
    /// of the model's shape, shifted by its means, with positive weight): the blend and
    /// `rule`'s update, as [`OnlineEm::partial_fit`]. Returns the batch's mean log-likelihood;
    /// on error the state is unchanged.
    pub fn partial_fit_stats(&mut self, stats: SuffStats, rule: &dyn UpdateRule) -> Result<f64> {
        let model = &self.model;
        let layout = MomentLayout::for_covariance(model.covariance_type());
        let fits = (stats.n_components(), stats.n_features(), stats.layout())
            == (model.n_components(), model.n_features(), layout)
            && stats.shift().iter().zip(model.means()).all(|(s, m)| *s == m.to_f64());
        if !fits {
            return Err(Error::new(
                ErrorKind::MismatchedStatistics,
                "the batch's statistics were not taken under the current model: run its E-step \
                 under `model()`",
            ));
        }
        if stats.total_weight().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(Error::new(
                ErrorKind::InvalidSampleWeights,
                "the batch carries no weight: give it some samples of positive weight",
            ));
        }
        self.blend(stats, rule)
    }

    /// The blend of a batch's statistics `stats` (from the E-step under the current model) into
    /// the running ones and `rule`'s update; returns the batch's mean log-likelihood. On error
    /// the state is unchanged.
    fn blend(&mut self, mut stats: SuffStats, rule: &dyn UpdateRule) -> Result<f64> {
        let weight = stats.total_weight;
        let mean_ll = stats.log_likelihood / weight;
        let gamma = self.next_step_size();
        // The running statistics stand for `represented` samples (the rule sees them as such).
        let represented = self.represented.unwrap_or(weight);
        let mut running = self.running.clone();
        if self.steps == 0 {
            running.scale(represented); // from per unit weight (the start's statistics)
        }
        stats.scale(gamma * represented / weight);
        running.reshift(&stats.shift)?;
        running.scale(1.0 - gamma);
        running.merge(&stats)?;
        let (parameters, guards) = rule.update(&running, &Parameters::from_model(&self.model))?;
        self.model = parameters.into_model(rule.reg_covar())?;
        self.represented = Some(represented);
        self.running = running;
        self.steps += 1;
        self.guards.add(guards);
        self.last_guards = guards;
        Ok(mean_ll)
    }
}

impl<T: Real> OnlineEm<T> {
    /// Consumes the rows `order` of `x` (indices into `x`, in that order) in batches of
    /// `batch_size`: the same recursion as [`OnlineEm::partial_fit`] on each batch in turn
    /// (batches whose weights are all zero are skipped; `sample_weights` are indexed by the rows
    /// of `x`). Returns the mean log-likelihood of the consumed rows, each under the model
    /// before its batch's update. On error the state is unchanged.
    ///
    /// Batches under 32 rows of diag and spherical models under the maximum-likelihood rule
    /// take a hot path that keeps the running statistics with a lazy scale factor, updates only
    /// the components a batch touches, and validates a model only at the end of the call; other
    /// cases run [`OnlineEm::partial_fit`]'s recursion per batch, reading the rows in place (the
    /// same bits as `partial_fit` on copies of the batches). Rows are checked for NaN and
    /// infinite values only when a batch's log-likelihood is not finite; rows not in `order`
    /// are never read.
    pub fn partial_fit_rows(
        &mut self,
        x: Samples<'_, T>,
        order: &[usize],
        sample_weights: Option<&[f64]>,
        batch_size: usize,
        rule: &dyn UpdateRule,
    ) -> Result<f64> {
        // Finite values are checked only where a batch's log-likelihood is not finite (which
        // every non-finite value in a batch makes it): see `check_rows_finite`.
        if x.n_features() != self.model.n_features() {
            self.model.check_samples(x)?; // the dimension's error
        }
        let n = x.n_samples();
        if let Some(&bad) = order.iter().find(|&&i| i >= n) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("row index {bad} out of range for {n} samples: give indices below {n}"),
            ));
        }
        if batch_size == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "batch size 0: use at least 1 sample per batch",
            ));
        }
        if let Some(w) = sample_weights {
            check_sample_weights(w, n, ZeroWeights::Allowed)?;
        }
        let carries =
            |chunk: &[usize]| sample_weights.is_none_or(|w| chunk.iter().any(|&i| w[i] > 0.0));
        let fast = matches!(
            self.model.covariance_type(),
            CovarianceType::Diag | CovarianceType::Spherical
        ) && batch_size < SMALL_BATCH;
        let (mut ll, mut weight) = (0.0, 0.0);
        match rule.diagonal_components().filter(|_| fast) {
            Some(component_rule) => {
                let mut hot = Stepwise::new(
                    &self.model,
                    &self.running,
                    self.steps,
                    self.represented,
                    self.kappa,
                    self.t0,
                    component_rule,
                    rule.reg_covar(),
                );
                // Rows are gathered (as f64) a span of batches at a time: the span's row reads
                // are independent, so their cache misses overlap instead of stalling each batch.
                let d = x.n_features();
                let span = batch_size * (GATHER_ROWS / batch_size).max(1);
                let mut rows: Vec<f64> = Vec::with_capacity(span.min(n) * d);
                let mut weights: Vec<f64> = Vec::with_capacity(span.min(n));
                for group in order.chunks(span) {
                    rows.clear();
                    for &i in group {
                        rows.extend(x.row(i).iter().map(|v| v.to_f64()));
                    }
                    if let Some(w) = sample_weights {
                        weights.clear();
                        weights.extend(group.iter().map(|&i| w[i]));
                    }
                    for (at, chunk) in group.chunks(batch_size).enumerate() {
                        if !carries(chunk) {
                            continue;
                        }
                        let first = at * batch_size;
                        let batch = &rows[first * d..(first + chunk.len()) * d];
                        let bw = sample_weights.map(|_| &weights[first..first + chunk.len()]);
                        let (l, w) = hot
                            .step(batch, bw)
                            .or_else(|e| x.check_rows_finite(chunk).and(Err(e)))
                            .map_err(|e| e.context(format!("batch {}", hot.steps + 1)))?;
                        ll += l;
                        weight += w;
                    }
                }
                let (steps, represented, guards) = (hot.steps, hot.represented, hot.guards);
                let last_guards = hot.last_guards;
                let (model, running) = hot.into_parts()?;
                if steps > self.steps {
                    self.last_guards = last_guards;
                }
                self.model = model;
                self.running = running;
                self.steps = steps;
                self.represented = represented;
                self.guards.add(guards);
            }
            None => {
                let mut work = self.clone();
                let d = x.n_features();
                let mut rows: Vec<T> = Vec::new();
                let mut weights: Vec<f64> = Vec::with_capacity(batch_size.min(n));
                for chunk in order.chunks(batch_size).filter(|c| carries(c)) {
                    weights.clear();
                    if let Some(w) = sample_weights {
                        weights.extend(chunk.iter().map(|&i| w[i]));
                    }
                    let bw = sample_weights.map(|_| weights.as_slice());
                    let w: f64 = bw.map_or(chunk.len() as f64, |w| w.iter().sum());
                    // The E-step reads the rows where they are (bit-identical to a copy);
                    // batches under SMALL_BATCH rows are copied for the per-row E-step.
                    let stats = if chunk.len() < SMALL_BATCH {
                        rows.clear();
                        for &i in chunk {
                            rows.extend_from_slice(x.row(i));
                        }
                        small_batch_e_step(&work.model, Samples::new(&rows, d)?, bw)
                    } else {
                        e_step_rows(&work.model, x, chunk, bw)
                    };
                    if !stats.log_likelihood.is_finite() {
                        x.check_rows_finite(chunk)
                            .map_err(|e| e.context(format!("batch {}", work.steps + 1)))?;
                    }
                    let l = work
                        .blend(stats, rule)
                        .map_err(|e| e.context(format!("batch {}", work.steps + 1)))?;
                    ll += l * w;
                    weight += w;
                }
                *self = work;
            }
        }
        Ok(if weight > 0.0 { ll / weight } else { 0.0 })
    }
}

/// Rows the small-batch hot path gathers at a time (a multiple of its batch size).
const GATHER_ROWS: usize = 64;

/// Batches with fewer rows than this take [`small_batch_e_step`] instead of the blocked pass.
const SMALL_BATCH: usize = 32;

/// The fused E-step of [`crate::pass`] for a few rows, one row at a time from the model's cached
/// terms (`log w_k`, `-½ d log 2π - ½ log det Σ_k`, inverse variances or the precision
/// Cholesky `U`, `Σ⁻¹ = U Uᵀ`): the same statistics, shifted by the model's means, without
/// padding the batch to a block.
fn small_batch_e_step<T: Real>(
    model: &GaussianMixture<T>,
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
) -> SuffStats {
    let (n, d, k) = (x.n_samples(), x.n_features(), model.n_components());
    let shift: Vec<f64> = model.means().iter().map(|v| v.to_f64()).collect();
    let layout = MomentLayout::for_covariance(model.covariance_type());
    let mut stats = SuffStats::empty(k, d, layout, shift);
    let log_w: Vec<f64> = model.log_weights().iter().map(|v| v.to_f64()).collect();
    let log_norm: Vec<f64> = model.log_normalisers().iter().map(|v| v.to_f64()).collect();
    let inverse: Option<Vec<f64>> =
        model.inverse_variances().map(|v| v.iter().map(|x| x.to_f64()).collect());
    let factors: Option<Vec<f64>> =
        model.precision_cholesky().map(|v| v.iter().map(|x| x.to_f64()).collect());
    let tied = model.covariance_type() == CovarianceType::Tied;
    // Column-major d x n samples and k x n weighted responsibilities, as accumulate_block reads.
    let mut xt = vec![0.0; d * n];
    let mut rw = vec![0.0; k * n];
    let mut diff = vec![0.0; d];
    let mut log_density = vec![0.0; k];
    for row in 0..n {
        let xs = x.row(row);
        for j in 0..d {
            xt[j * n + row] = xs[j].to_f64();
        }
        for c in 0..k {
            for j in 0..d {
                diff[j] = xt[j * n + row] - stats.shift[c * d + j];
            }
            let quad = match (&inverse, &factors) {
                (Some(inv), _) => (0..d).map(|j| diff[j] * diff[j] * inv[c * d + j]).sum::<f64>(),
                (None, Some(f)) => {
                    let u = if tied { &f[..d * d] } else { &f[c * d * d..(c + 1) * d * d] };
                    (0..d)
                        .map(|j| {
                            let z: f64 = (0..=j).map(|i| u[i * d + j] * diff[i]).sum();
                            z * z
                        })
                        .sum()
                }
                // A model always caches one of the two; NaN would surface as a typed error.
                (None, None) => f64::NAN,
            };
            log_density[c] = log_w[c] + log_norm[c] - 0.5 * quad;
        }
        let max = log_density.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = log_density.iter().map(|l| (l - max).exp()).sum();
        let log_p = max + total.ln();
        let w = sample_weights.map_or(1.0, |w| w[row]);
        for c in 0..k {
            rw[c * n + row] = w * (log_density[c] - log_p).exp();
        }
        stats.log_likelihood += w * log_p;
        stats.total_weight += w;
    }
    let (mut centred, mut weighted) = (vec![0.0; d * n], vec![0.0; d * n]);
    stats.accumulate_block(&xt, &rw, n, n, &mut centred, &mut weighted);
    stats
}

/// The statistics `model` implies per unit weight: `N_k = w_k`, `F_k = 0` around its means,
/// `S_k = w_k Σ_k` (the diagonal for diag/spherical layouts).
fn implied_stats<T: Real>(model: &GaussianMixture<T>) -> SuffStats {
    let (k, d) = (model.n_components(), model.n_features());
    let t = model.covariance_type();
    let layout = MomentLayout::for_covariance(t);
    let shift: Vec<f64> = model.means().iter().map(|v| v.to_f64()).collect();
    let mut stats = SuffStats::empty(k, d, layout, shift);
    let cov: Vec<f64> = model.covariances().iter().map(|v| v.to_f64()).collect();
    for c in 0..k {
        let w = model.weights()[c].to_f64();
        stats.counts[c] = w;
        for i in 0..d {
            match t {
                CovarianceType::Diag => stats.second[c * d + i] = w * cov[c * d + i],
                CovarianceType::Spherical => stats.second[c * d + i] = w * cov[c],
                CovarianceType::Full | CovarianceType::Tied => {
                    let base = if t == CovarianceType::Full { c * d * d } else { 0 };
                    for j in 0..=i {
                        stats.second[c * d * d + i * d + j] = w * cov[base + i * d + j];
                    }
                }
            }
        }
    }
    stats.total_weight = 1.0;
    stats
}

/// Online EM over in-memory data: `online.epochs` passes in batches of `online.batch_size`,
/// each epoch in a fresh order drawn from `config`'s seed (unless shuffling is off), from
/// `options.start` or `config`'s initialisation, with `options.update` (default: maximum
/// likelihood with `config`'s guards). The report has one entry per epoch: `n_iter` counts
/// epochs, `log_likelihood[e]` is the whole data's mean log-likelihood after epoch `e + 1`, and
/// the fit stops early (`converged`) when it changes by less than `config`'s `tol` between
/// epochs (`tol = 0` runs every epoch). `max_iter` and `n_init` are not used.
pub fn fit_online<T: Real>(
    config: &EmConfig,
    online: &OnlineConfig,
    x: Samples<'_, T>,
    mut options: FitOptions<'_, T>,
) -> Result<Fit<T>> {
    check_inputs(config, x, &options)?;
    online.validate()?;
    with_threads(config.get_threads(), || {
        let started = Instant::now();
        let weights = options.sample_weights;
        let seed = stream_seed(config.get_seed(), 0);
        let (start, init_guards) = match options.start {
            Some(model) => (model.clone(), GuardCounts::default()),
            None => {
                let data = Data::Memory { x, weights };
                initial_model(&data, config, seed, 0, options.update, None)?
            }
        };
        let ml = default_rule(config);
        let rule: &dyn UpdateRule = options.update.unwrap_or(&ml);
        let n = x.n_samples();
        let total_weight = weights.map_or(n as f64, |w| w.iter().sum());
        let mut epochs = Epochs {
            x,
            weights,
            rule,
            state: OnlineEm::new(start.clone(), online)?.represented_weight(total_weight),
            order: (0..n).collect(),
            batch: online.batch_size.min(n),
            shuffle: online.shuffle.then_some(config.get_seed()),
            total_weight,
        };
        let stop = StopRule { max_iter: online.epochs, tol: config.get_tol(), score_last: true };
        let callback = options.on_iteration.as_deref_mut();
        let (model, run) = iterate(&mut epochs, start, stop, callback)?;
        let mut totals = init_guards;
        totals.add(run.guards);
        let final_guards =
            if run.objective.is_empty() { init_guards } else { epochs.state.last_guards() };
        let report = FitReport {
            n_iter: run.objective.len(),
            converged: run.converged,
            initial_log_likelihood: run.initial,
            final_log_likelihood: run.last,
            empty_components: final_guards.empty_components,
            floored_variances: final_guards.floored_variances,
            guard_totals: totals,
            restarts: vec![RestartSummary {
                seed,
                n_iter: run.objective.len(),
                converged: run.converged,
                final_log_likelihood: run.last,
            }],
            log_likelihood: run.objective,
            best_restart: 0,
            threads: rayon::current_num_threads(),
            fit_seconds: started.elapsed().as_secs_f64(),
        };
        Ok(Fit { model, report })
    })
}

/// Online EM's epochs as a [`Learner`] of the driver: an advance is one epoch of mini-batches
/// over the rows in a fresh order (drawn from `stream_seed(seed, 1_000_000 + epoch)` when
/// shuffling), an evaluation scores all the data.
struct Epochs<'a, T: Real> {
    x: Samples<'a, T>,
    weights: Option<&'a [f64]>,
    rule: &'a dyn UpdateRule,
    state: OnlineEm<T>,
    order: Vec<usize>,
    batch: usize,
    /// The seed of the shuffles, or `None` to keep the rows in order.
    shuffle: Option<u64>,
    total_weight: f64,
}

impl<T: Real> Learner<T> for Epochs<'_, T> {
    fn evaluate(&mut self, model: &GaussianMixture<T>, _then_advance: bool) -> Result<f64> {
        let (ll, _) = model.weighted_log_likelihood(self.x, self.weights)?;
        Ok(ll / self.total_weight)
    }

    fn advance(
        &mut self,
        _model: &GaussianMixture<T>,
        epoch: usize,
    ) -> Result<(GaussianMixture<T>, GuardCounts)> {
        if let Some(seed) = self.shuffle {
            let stream = stream_seed(seed, 1_000_000 + (epoch - 1) as u64);
            self.order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(stream));
        }
        let before = self.state.guards;
        self.state
            .partial_fit_rows(self.x, &self.order, self.weights, self.batch, self.rule)
            .map_err(|e| e.context(format!("online EM, epoch {epoch}")))?;
        let mut guards = self.state.guards;
        guards.empty_components -= before.empty_components;
        guards.floored_variances -= before.floored_variances;
        guards.held_components -= before.held_components;
        Ok((self.state.model.clone(), guards))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::{MaximumLikelihood, Regularisation};

    #[test]
    fn the_small_batch_e_step_matches_the_blocked_pass() {
        for t in CovarianceType::ALL {
            let model = GaussianMixture::<f64>::random(t, 4, 5, 1.5, 3).unwrap();
            let (x, _) = model.sample(37, 4).unwrap();
            let w: Vec<f64> = (0..37).map(|i| 0.5 + (i % 3) as f64).collect();
            for weights in [None, Some(w.as_slice())] {
                for n in [1, 2, 31, 37] {
                    let rows = Samples::new(&x.as_slice()[..n * 5], 5).unwrap();
                    let ws = weights.map(|w| &w[..n]);
                    let small = small_batch_e_step(&model, rows, ws);
                    let blocked = e_step_unchecked(&model, rows, ws);
                    let close =
                        |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()));
                    assert!(close(small.log_likelihood, blocked.log_likelihood), "{t} n={n}");
                    assert_eq!(small.total_weight, blocked.total_weight);
                    for (a, b) in small
                        .counts
                        .iter()
                        .chain(&small.first)
                        .chain(&small.second)
                        .zip(blocked.counts.iter().chain(&blocked.first).chain(&blocked.second))
                    {
                        assert!(close(*a, *b), "{t} n={n}: {a} vs {b}");
                    }
                }
            }
        }
    }

    /// The reference: [`OnlineEm::partial_fit`] on each batch (the straightforward update).
    fn reference<T: Real>(
        state: &mut OnlineEm<T>,
        x: Samples<'_, T>,
        order: &[usize],
        weights: Option<&[f64]>,
        b: usize,
        rule: &dyn UpdateRule,
    ) {
        let d = x.n_features();
        for chunk in order.chunks(b) {
            let rows: Vec<T> = chunk.iter().flat_map(|&i| x.row(i).to_vec()).collect();
            let w: Option<Vec<f64>> = weights.map(|w| chunk.iter().map(|&i| w[i]).collect());
            if w.as_ref().is_some_and(|w| !w.iter().any(|&v| v > 0.0)) {
                continue;
            }
            state.partial_fit(Samples::new(&rows, d).unwrap(), w.as_deref(), rule).unwrap();
        }
    }

    fn max_relative_gap<T: Real>(a: &GaussianMixture<T>, b: &GaussianMixture<T>) -> f64 {
        let pairs = [
            (a.weights(), b.weights()),
            (a.means(), b.means()),
            (a.covariances(), b.covariances()),
        ];
        let mut gap = 0.0f64;
        for (p, q) in pairs {
            for (u, v) in p.iter().zip(q) {
                let (u, v) = (u.to_f64(), v.to_f64());
                gap = gap.max((u - v).abs() / (1.0 + v.abs()));
            }
        }
        gap
    }

    fn fast_path_case<T: Real>(tolerance: f64) {
        let rule =
            MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: Some(0.05) });
        let mut floored = 0;
        for t in CovarianceType::ALL {
            let truth = GaussianMixture::<T>::random(t, 3, 4, 2.0, 11).unwrap();
            let (x, _) = truth.sample(400, 12).unwrap();
            let start = GaussianMixture::<T>::random(t, 3, 4, 2.0, 13).unwrap();
            let w: Vec<f64> = (0..400).map(|i| [0.0, 0.5, 1.0, 2.5][i % 4]).collect();
            let order: Vec<usize> = (0..400).map(|i| (i * 7919) % 400).collect();
            for (b, t0) in [(1, 2.0), (1, 10.0), (5, 2.0)] {
                for weights in [None, Some(w.as_slice())] {
                    let config = OnlineConfig::new().t0(t0).kappa(0.7);
                    let mut slow = OnlineEm::new(start.clone(), &config).unwrap();
                    let mut fast = slow.clone().represented_weight(400.0);
                    slow = slow.represented_weight(400.0);
                    reference(&mut slow, x.samples(), &order, weights, b, &rule);
                    // In two calls, so the hand-over between calls is covered too.
                    let (first, second) = order.split_at(200);
                    fast.partial_fit_rows(x.samples(), first, weights, b, &rule).unwrap();
                    fast.partial_fit_rows(x.samples(), second, weights, b, &rule).unwrap();
                    assert_eq!(fast.steps(), slow.steps(), "{t} b={b}");
                    assert_eq!(fast.guards(), slow.guards(), "{t} b={b}");
                    floored += slow.guards().floored_variances;
                    let gap = max_relative_gap(fast.model(), slow.model());
                    assert!(gap <= tolerance, "{t} b={b} t0={t0}: gap {gap:e}");
                    for (u, v) in fast.running.counts.iter().zip(&slow.running.counts) {
                        assert!((u - v).abs() <= tolerance * v.abs().max(1.0), "{t}: {u} vs {v}");
                    }
                }
            }
        }
        assert!(floored > 0, "the variance floor is exercised");
    }

    #[test]
    fn the_fast_path_equals_the_per_batch_update_f64() {
        fast_path_case::<f64>(1e4 * f64::EPSILON);
    }

    #[test]
    fn the_fast_path_equals_the_per_batch_update_f32() {
        fast_path_case::<f32>(1e3 * f32::EPSILON as f64);
    }

    #[test]
    fn the_fast_path_handles_edge_shapes() {
        // k = 1, d = 1, k > 64 (more than one word of touched bits), k and d not multiples of
        // any SIMD width, batches of 1 and 3 against `partial_fit` per batch.
        let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
        for (k, d) in [(1, 1), (1, 7), (70, 1), (67, 5), (9, 3)] {
            for t in [CovarianceType::Diag, CovarianceType::Spherical] {
                let truth = GaussianMixture::<f64>::random(t, k, d, 2.0, 21).unwrap();
                let (x, _) = truth.sample(500, 22).unwrap();
                let start = GaussianMixture::<f64>::random(t, k, d, 2.0, 23).unwrap();
                let order: Vec<usize> = (0..500).map(|i| (i * 7919) % 500).collect();
                for b in [1, 3] {
                    let config = OnlineConfig::new().t0(5.0).kappa(0.7);
                    let mut slow =
                        OnlineEm::new(start.clone(), &config).unwrap().represented_weight(500.0);
                    let mut fast = slow.clone();
                    reference(&mut slow, x.samples(), &order, None, b, &rule);
                    fast.partial_fit_rows(x.samples(), &order, None, b, &rule).unwrap();
                    assert_eq!(fast.guards(), slow.guards(), "{t} k={k} d={d} b={b}");
                    let gap = max_relative_gap(fast.model(), slow.model());
                    assert!(gap <= 1e4 * f64::EPSILON, "{t} k={k} d={d} b={b}: gap {gap:e}");
                }
            }
        }
    }

    #[test]
    fn the_fast_path_handles_a_first_step_of_one() {
        // t0 = 0: the first sample replaces the start's statistics (γ_1 = 1).
        let rule =
            MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: Some(0.05) });
        for t in [CovarianceType::Diag, CovarianceType::Spherical] {
            let start = GaussianMixture::<f64>::random(t, 3, 4, 2.0, 13).unwrap();
            let (x, _) = start.sample(50, 3).unwrap();
            let order: Vec<usize> = (0..3).collect();
            let config = OnlineConfig::new().t0(0.0);
            let mut slow = OnlineEm::new(start, &config).unwrap().represented_weight(50.0);
            let mut fast = slow.clone();
            reference(&mut slow, x.samples(), &order, None, 1, &rule);
            fast.partial_fit_rows(x.samples(), &order, None, 1, &rule).unwrap();
            assert_eq!(fast.guards(), slow.guards(), "{t}");
            // Variances of 1-3 points lose digits to S/N - δ² (around different shifts in the
            // two paths), hence 10x the tolerance of the longer runs.
            let gap = max_relative_gap(fast.model(), slow.model());
            assert!(gap <= 1e5 * f64::EPSILON, "{t}: gap {gap:e}");
        }
    }

    #[test]
    fn batches_read_in_place_equal_per_batch_partial_fit() {
        // Batches of 32 rows or more: the E-step reads the rows where they lie; the same bits
        // as `partial_fit` on copies, weighted or not, for every covariance type.
        let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
        for t in CovarianceType::ALL {
            let start = GaussianMixture::<f64>::random(t, 3, 4, 2.0, 5).unwrap();
            let (x, _) = start.sample(700, 6).unwrap();
            let w: Vec<f64> = (0..700).map(|i| [0.0, 0.5, 1.0, 2.5][i % 4]).collect();
            let order: Vec<usize> = (0..700).map(|i| (i * 7919) % 700).collect();
            for b in [32, 250, 700] {
                for weights in [None, Some(w.as_slice())] {
                    let config = OnlineConfig::new().kappa(0.7);
                    let mut slow = OnlineEm::new(start.clone(), &config).unwrap();
                    let mut fast = slow.clone();
                    reference(&mut slow, x.samples(), &order, weights, b, &rule);
                    fast.partial_fit_rows(x.samples(), &order, weights, b, &rule).unwrap();
                    assert_eq!(fast.model().means(), slow.model().means(), "{t} b={b}");
                    assert_eq!(fast.model().covariances(), slow.model().covariances());
                    assert_eq!(fast.model().weights(), slow.model().weights());
                }
            }
        }
    }

    #[test]
    fn a_non_finite_value_in_a_batch_is_reported_and_changes_nothing() {
        let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
        for t in [CovarianceType::Diag, CovarianceType::Full] {
            let start = GaussianMixture::<f64>::random(t, 3, 4, 2.0, 5).unwrap();
            let (x, _) = start.sample(300, 6).unwrap();
            for (bad, value) in [(17, f64::NAN), (250, f64::INFINITY), (0, f64::NEG_INFINITY)] {
                let mut data = x.as_slice().to_vec();
                data[bad * 4 + 2] = value;
                // A bad row outside `order` is never read.
                data[299 * 4] = f64::NAN;
                let x = Samples::new(&data, 4).unwrap();
                let order: Vec<usize> = (0..299).rev().collect();
                for b in [1, 5, 64, 299] {
                    let mut state = OnlineEm::new(start.clone(), &OnlineConfig::new()).unwrap();
                    let clean: Vec<usize> = order.iter().copied().filter(|&i| i != bad).collect();
                    state.partial_fit_rows(x, &clean, None, b, &rule).unwrap();
                    let before = state.clone();
                    let e = state.partial_fit_rows(x, &order, None, b, &rule).unwrap_err();
                    assert_eq!(
                        e.kind(),
                        &ErrorKind::NonFiniteValue { row: bad, column: 2 },
                        "{t} b={b}"
                    );
                    assert_eq!(state.steps(), before.steps());
                    assert_eq!(state.model().means(), before.model().means());
                }
            }
        }
    }

    #[test]
    fn a_state_saved_as_parts_resumes_bit_for_bit() {
        let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
        for t in CovarianceType::ALL {
            let start = GaussianMixture::<f64>::random(t, 3, 4, 2.0, 5).unwrap();
            let (x, _) = start.sample(600, 6).unwrap();
            let config = OnlineConfig::new().kappa(0.7).t0(1.0);
            let mut continuous = OnlineEm::new(start.clone(), &config).unwrap();
            let (mut model, mut running, mut steps, mut represented) = (start, None, 0, None);
            for batch in x.as_slice().chunks(4 * 200) {
                let batch = Samples::new(batch, 4).unwrap();
                let a = continuous.partial_fit(batch, None, &rule).unwrap();
                let mut resumed =
                    OnlineEm::from_parts(model, running, steps, represented, &config).unwrap();
                let stats = crate::e_step(resumed.model(), batch, None).unwrap();
                let b = resumed.partial_fit_stats(stats, &rule).unwrap();
                assert_eq!(a.to_bits(), b.to_bits(), "{t}");
                assert_eq!(resumed.model().means(), continuous.model().means(), "{t}");
                assert_eq!(resumed.model().covariances(), continuous.model().covariances());
                assert_eq!(resumed.running(), continuous.running());
                (model, running, steps, represented) = (
                    resumed.model().clone(),
                    Some(resumed.running().clone()),
                    resumed.steps(),
                    resumed.represented(),
                );
            }
            // Statistics from another model, or of the wrong shape, are refused.
            let other = GaussianMixture::<f64>::random(t, 3, 4, 2.0, 9).unwrap();
            let stats = crate::e_step(&other, x.samples(), None).unwrap();
            let mut state = OnlineEm::new(model.clone(), &config).unwrap();
            let e = state.partial_fit_stats(stats.clone(), &rule).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::MismatchedStatistics, "{e}");
            let e = OnlineEm::from_parts(other, Some(stats), 1, Some(10.0), &config).map(|_| ());
            assert!(e.is_ok(), "statistics of the same shape resume");
            let wide = GaussianMixture::<f64>::random(t, 3, 5, 2.0, 9).unwrap();
            let e = OnlineEm::from_parts(wide, running.clone(), 1, Some(10.0), &config);
            assert_eq!(e.unwrap_err().kind(), &ErrorKind::MismatchedStatistics);
            let e = OnlineEm::from_parts(model, running, 1, Some(-1.0), &config);
            assert_eq!(e.unwrap_err().kind(), &ErrorKind::InvalidParameter);
        }
    }

    #[test]
    fn the_fast_path_is_deterministic() {
        let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
        let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 3, 2.0, 1).unwrap();
        let (x, _) = truth.sample(300, 2).unwrap();
        let order: Vec<usize> = (0..300).rev().collect();
        let run = || {
            let mut s = OnlineEm::new(truth.clone(), &OnlineConfig::new()).unwrap();
            s.partial_fit_rows(x.samples(), &order, None, 1, &rule).unwrap();
            s
        };
        let (a, b) = (run(), run());
        assert_eq!(a.model().means(), b.model().means());
        assert_eq!(a.model().covariances(), b.model().covariances());
        assert_eq!(a.model().weights(), b.model().weights());
    }
}
