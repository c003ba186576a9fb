//! The small-batch hot path of online EM for diag and spherical models under a rule with a
//! per-component form ([`DiagonalComponentRule`]; maximum likelihood has one): the same
//! recursion as [`crate::online::OnlineEm::partial_fit`], without rebuilding a model per batch.
//! The running statistics are [`SuffStats`] in all but storage (a lazy scale, see below), and
//! the update is the rule's own, per touched component: the seam, taken one component at a time.
//!
//! For ML every parameter is a ratio of running statistics (`w_k = N_k / Σ N`,
//! `μ_k = s_k + F_k / N_k`, `σ²_kj = S_kj / N_k - (F_kj / N_k)² + reg`), so a common factor of
//! all statistics cancels. The running statistics are stored as `u` with the true values
//! `c · u`: the blend `s ← (1-γ) s + γ s̄` is `c ← (1-γ) c` and `u += γ s̄ / c` (one multiply
//! instead of `k d` of them); `u` is renormalised when `c` gets small. Components whose share of
//! the batch cannot change their count (`q ≤ ½ ε N_k` for the blended weight `q = γ w r_nk`, so
//! `N_k + q = N_k` in floating point) are left alone: they keep their `u`, hence exactly their
//! parameters; only the others are recomputed. The skipped share moves the mean by at most
//! `½ ε |x - s_k|` and a variance by a relative `½ ε (x - s_k)²/σ²` (`≤ ε · 750` while `r_nk` is
//! representable): rounding-level, and the same order as what the straightforward update loses
//! to rounding; on the headline data it skips ~80% of the component updates at batch size 1. The per-component constant `ln N_k - ½ d ln 2π - ½ Σ_j ln σ²_kj` is updated by one
//! `ln` of `(N'/N)² Π_j σ²_j / σ'²_j` per touched component (recomputed exactly every
//! [`REFRESH`] batches), and the log-weights are `ln N_k - ln Σ N`. The statistics stay around a
//! fixed shift per component, moved to the component's mean ([`SuffStats::reshift`]'s formula)
//! only when the mean has moved more than one standard deviation from it. A validated
//! [`GaussianMixture`] is built only when the caller asks ([`Stepwise::into_parts`]).
//!
//! The E-step runs SIMD lanes over components (gmm-core's `kernel::lanes::ComponentLanes`:
//! means and inverse variances transposed, so a sample's `k` log-densities cost `d` broadcasts
//! and `d · k / lanes` vector operations, exponentials and their sum vectorised too). The
//! components whose counts a sample changes are found as a bit mask (no branch per component)
//! and listed for the update, whose per-dimension work (inverses, the log-normaliser's ratio,
//! the drift test) is vectorised (`kernel::lanes::invert_variances`).

use gmm_core::kernel::lanes::{ComponentLanes, invert_variances};
use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result};

use crate::stats::SuffStats;
use crate::update::{
    ComponentMoments, ComponentParameters, DiagonalComponentRule, GuardCounts, Parameters,
};

/// Batches between exact recomputations of the per-component constants.
const REFRESH: u64 = 1024;
/// Below this the lazy scale is folded into the statistics.
const SMALL_SCALE: f64 = 1e-150;

/// The running state of stepwise EM for diag and spherical models under a rule with a
/// per-component form.
pub(crate) struct Stepwise<'r> {
    k: usize,
    d: usize,
    spherical: bool,
    rule: &'r dyn DiagonalComponentRule,
    reg_covar: f64,
    kappa: f64,
    t0: f64,
    pub(crate) steps: u64,
    pub(crate) represented: Option<f64>,
    pub(crate) guards: GuardCounts,
    /// The guards of the last update.
    pub(crate) last_guards: GuardCounts,
    /// The lazy factor `c`: true statistics are `scale * stats`.
    scale: f64,
    /// The running statistics in stored units (diagonal layout).
    stats: SuffStats,
    /// Parameters (variances `k x d`, spherical repeated across `d`).
    means: Vec<f64>,
    variances: Vec<f64>,
    inverse: Vec<f64>,
    /// The E-step's SIMD lanes over components; their constants are
    /// `ln N_k - ½ d ln 2π - ½ Σ ln σ²_kj` with the `N_k` in `logged_counts`.
    lanes: ComponentLanes,
    /// `Σ_k N_k` in stored units, as of the last update.
    total: f64,
    logged_counts: Vec<f64>,
    floored: Vec<usize>,
    /// Whether the next update recomputes every component (the first update after a start).
    dirty_all: bool,
    touched: Vec<bool>,
    /// The components with `touched` set, in the order they were first touched.
    touched_list: Vec<usize>,
    responsibilities: Vec<f64>,
    fresh: Vec<f64>,
}

impl<'r> Stepwise<'r> {
    /// The state of an online fit at `model` with running statistics `running` after `steps`
    /// batches.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new<T: Real>(
        model: &GaussianMixture<T>,
        running: &SuffStats,
        steps: u64,
        represented: Option<f64>,
        kappa: f64,
        t0: f64,
        rule: &'r dyn DiagonalComponentRule,
        reg_covar: f64,
    ) -> Self {
        let (k, d) = (model.n_components(), model.n_features());
        let spherical = model.covariance_type() == CovarianceType::Spherical;
        let cov: Vec<f64> = model.covariances().iter().map(|v| v.to_f64()).collect();
        let variances: Vec<f64> =
            (0..k * d).map(|at| if spherical { cov[at / d] } else { cov[at] }).collect();
        let mut state = Self {
            k,
            d,
            lanes: ComponentLanes::new(k, d),
            total: 0.0,
            spherical,
            rule,
            reg_covar,
            kappa,
            t0,
            steps,
            represented,
            guards: GuardCounts::default(),
            last_guards: GuardCounts::default(),
            scale: 1.0,
            stats: running.clone(),
            means: model.means().iter().map(|v| v.to_f64()).collect(),
            inverse: variances.iter().map(|v| 1.0 / v).collect(),
            variances,
            logged_counts: model.weights().iter().map(|v| v.to_f64()).collect(),
            floored: vec![0; k],
            dirty_all: true,
            touched: vec![false; k],
            touched_list: Vec::with_capacity(k),
            responsibilities: Vec::new(),
            fresh: Vec::new(),
        };
        for c in 0..k {
            state.lanes.set_constant(c, state.exact_constant(c));
            state.transpose(c);
        }
        state.total = state.stored_total();
        state
    }

    /// Marks component `c` for the next update.
    #[inline(always)]
    fn touch(&mut self, c: usize) {
        if !self.touched[c] {
            self.touched[c] = true;
            self.touched_list.push(c);
        }
    }

    /// Copies component `c`'s means and inverse variances into the transposed arrays.
    #[inline(always)]
    fn transpose(&mut self, c: usize) {
        let at = c * self.d..(c + 1) * self.d;
        self.lanes.set_component(c, &self.means[at.clone()], &self.inverse[at]);
    }

    fn exact_constant(&self, c: usize) -> f64 {
        let d = self.d;
        let log_det: f64 = self.variances[c * d..(c + 1) * d].iter().map(|v| v.ln()).sum();
        self.logged_counts[c].ln()
            - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
            - 0.5 * log_det
    }

    /// `Σ_k N_k` in stored units.
    fn stored_total(&self) -> f64 {
        // Four independent sums (one chain of k dependent additions costs more than the rest
        // of a small update).
        let mut sums = [0.0; 4];
        let mut quads = self.stats.counts.chunks_exact(4);
        for q in &mut quads {
            for (s, v) in sums.iter_mut().zip(q) {
                *s += v;
            }
        }
        let tail: f64 = quads.remainder().iter().sum();
        (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
    }

    /// One batch: `rows` (row-major, `d` values per row, as `f64`) with weights `weights`
    /// (`None`: 1 each). Returns the batch's `(Σ w log p, Σ w)` under the parameters before the
    /// update. The caller checks the inputs and skips batches without positive weight.
    pub(crate) fn step(&mut self, rows: &[f64], weights: Option<&[f64]>) -> Result<(f64, f64)> {
        let (k, d) = (self.k, self.d);
        let kp = self.lanes.padded();
        // SIMD lanes over components (the padding's responsibility is exactly 0); element-wise
        // SIMD and reductions in a fixed order, so the bits do not depend on the register width.
        let log_total = self.total.ln();
        let (ll, weight) =
            self.lanes.responsibilities(rows, weights, log_total, &mut self.responsibilities);
        if !ll.is_finite() {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "online EM: a sample's log-likelihood is not finite under the current model",
            ));
        }
        // The blend, in stored units.
        let gamma = ((self.steps + 1) as f64 + self.t0).powf(-self.kappa).min(1.0);
        let represented = *self.represented.get_or_insert(weight);
        if self.steps == 0 {
            self.scale = represented; // the start's statistics are per unit weight
        }
        if 1.0 - gamma == 0.0 {
            for v in self
                .stats
                .counts
                .iter_mut()
                .chain(&mut self.stats.first)
                .chain(&mut self.stats.second)
            {
                *v = 0.0;
            }
            self.stats.total_weight = 0.0;
            self.stats.log_likelihood = 0.0;
            self.scale = 1.0;
            self.dirty_all = true;
        } else {
            self.scale *= 1.0 - gamma;
        }
        let a = gamma * represented / weight / self.scale;
        for (i, xs) in rows.chunks_exact(d).enumerate() {
            for word in 0..k.div_ceil(64) {
                // Which components' counts the share changes (see the module docs: a share
                // `q <= ½ ε N_k` cannot), as bits, without a branch per component.
                let mut bits = 0u64;
                let at = word * 64..k.min(word * 64 + 64);
                let r = &self.responsibilities[i * kp + at.start..i * kp + at.end];
                for (l, (&r, &n)) in r.iter().zip(&self.stats.counts[at]).enumerate() {
                    // (Responsibilities are finite here: the log-likelihood was checked.)
                    bits |= u64::from(a * r > 0.5 * f64::EPSILON * n) << l;
                }
                while bits != 0 {
                    let c = word * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    self.touch(c);
                    let q = a * self.responsibilities[i * kp + c];
                    self.stats.counts[c] += q;
                    let shift = &self.stats.shift[c * d..(c + 1) * d];
                    let first = &mut self.stats.first[c * d..(c + 1) * d];
                    let second = &mut self.stats.second[c * d..(c + 1) * d];
                    for j in 0..d {
                        let t = xs[j] - shift[j];
                        first[j] += q * t;
                        second[j] += q * t * t;
                    }
                }
            }
        }
        self.stats.total_weight += a * weight;
        self.stats.log_likelihood += a * ll;
        if self.scale < SMALL_SCALE {
            self.fold_scale();
        }
        self.update()?;
        self.steps += 1;
        Ok((ll, weight))
    }

    /// Folds the lazy factor into the stored statistics.
    fn fold_scale(&mut self) {
        let s = self.scale;
        for v in
            self.stats.counts.iter_mut().chain(&mut self.stats.first).chain(&mut self.stats.second)
        {
            *v *= s;
        }
        self.stats.total_weight *= s;
        self.stats.log_likelihood *= s;
        self.scale = 1.0;
    }

    /// The rule's update of the touched components, and this batch's guard counts.
    fn update(&mut self) -> Result<()> {
        let (k, d) = (self.k, self.d);
        let total = self.stored_total();
        let empty_below = 10.0 * f64::EPSILON * total;
        let refresh = self.steps % REFRESH == REFRESH - 1;
        let mut bad = false;
        if self.dirty_all {
            for c in 0..k {
                self.touch(c);
            }
        }
        let mut list = std::mem::take(&mut self.touched_list);
        self.fresh.resize(d, 0.0);
        for &c in &list {
            self.touched[c] = false;
            let n = self.stats.counts[c];
            let mut log_ratio = 1.0;
            if n > empty_below {
                let at = c * d..(c + 1) * d;
                let (first, second) =
                    (&self.stats.first[at.clone()], &self.stats.second[at.clone()]);
                let (means, variances) = (&mut self.means[at.clone()], &mut self.variances[at]);
                let shift = &self.stats.shift[c * d..(c + 1) * d];
                let inverse = &mut self.inverse[c * d..(c + 1) * d];
                let fresh = &mut self.fresh;
                let moments = ComponentMoments { count: n, shift, first, second };
                let out = ComponentParameters {
                    spherical: self.spherical,
                    mean: means,
                    variances: fresh,
                };
                let floored = self.rule.component(moments, out);
                let moved;
                if self.spherical {
                    let v = fresh[0];
                    let inv_v = 1.0 / v;
                    log_ratio = (variances[0] * inv_v).powi(d as i32);
                    moved = means.iter().zip(shift).map(|(m, s)| (m - s) * (m - s)).sum::<f64>()
                        * inv_v;
                    variances.fill(v);
                    inverse.fill(inv_v);
                    bad |= !(v > 0.0 && v.is_finite());
                } else {
                    let low;
                    (low, log_ratio, moved) =
                        invert_variances(fresh, variances, inverse, means, shift);
                    bad |= low || !log_ratio.is_finite();
                }
                self.floored[c] = floored;
                if moved > 1.0 {
                    self.reshift(c);
                }
                self.transpose(c);
            }
            let r = n / self.logged_counts[c];
            self.logged_counts[c] = n;
            let updated = self.lanes.constant(c) + 0.5 * (r * r * log_ratio).ln();
            let constant =
                if updated.is_finite() && !refresh { updated } else { self.exact_constant(c) };
            self.lanes.set_constant(c, constant);
        }
        list.clear();
        self.touched_list = list;
        self.dirty_all = false;
        if refresh {
            for c in 0..k {
                self.lanes.set_constant(c, self.exact_constant(c));
            }
        }
        let mut guards = GuardCounts::default();
        for (&n, &floored) in self.stats.counts.iter().zip(&self.floored) {
            let empty = n <= empty_below;
            guards.empty_components += usize::from(empty);
            guards.floored_variances += if empty { 0 } else { floored };
        }
        self.total = total;
        if bad || !total.is_finite() {
            // The validation's own error (which names the component and the fix).
            return match self.parameters().into_model::<f64>(self.reg_covar) {
                Err(e) => Err(e),
                Ok(_) => Err(Error::new(
                    ErrorKind::InvalidParameter,
                    "online EM: a variance is not finite after the update",
                )),
            };
        }
        self.guards.add(guards);
        self.last_guards = guards;
        Ok(())
    }

    /// Moves component `c`'s statistics to its mean (exact: `F' = F + N δ`,
    /// `S' = S + 2 F δ + N δ²` with `δ = s - s'`).
    fn reshift(&mut self, c: usize) {
        let d = self.d;
        let n = self.stats.counts[c];
        for j in 0..d {
            let at = c * d + j;
            let delta = self.stats.shift[at] - self.means[at];
            self.stats.second[at] += 2.0 * self.stats.first[at] * delta + n * delta * delta;
            self.stats.first[at] += n * delta;
            self.stats.shift[at] = self.means[at];
        }
    }

    fn parameters(&self) -> Parameters {
        let (k, d) = (self.k, self.d);
        let total = self.stored_total();
        let covariances = if self.spherical {
            (0..k).map(|c| self.variances[c * d]).collect()
        } else {
            self.variances.clone()
        };
        Parameters {
            covariance_type: if self.spherical {
                CovarianceType::Spherical
            } else {
                CovarianceType::Diag
            },
            weights: self.stats.counts.iter().map(|n| n / total).collect(),
            means: self.means.clone(),
            covariances,
        }
    }

    /// The validated model and the running statistics in true units.
    pub(crate) fn into_parts<T: Real>(mut self) -> Result<(GaussianMixture<T>, SuffStats)> {
        self.fold_scale();
        let model = self.parameters().into_model(self.reg_covar)?;
        Ok((model, self.stats))
    }
}
