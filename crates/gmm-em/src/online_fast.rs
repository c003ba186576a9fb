//! The small-batch hot path of online EM for diag and spherical models under the
//! maximum-likelihood rule: the same recursion as [`crate::online::OnlineEm::partial_fit`],
//! without rebuilding a model per batch.
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
//! The E-step runs SIMD lanes over components: means and inverse variances are kept
//! transposed (`d x k`, `k` padded to a multiple of 8 with a log-normaliser of `-∞`), so a
//! sample's `k` log-densities cost `d` broadcasts and `d · k / lanes` vector operations, and
//! the exponentials and their sum are vectorised too. The components whose counts a sample
//! changes are found as a bit mask (no branch per component) and listed for the update, whose
//! per-dimension work (inverses, the log-normaliser's ratio, the drift test) is vectorised.

use gmm_core::kernel::exp::exp_f64s;
use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result};

use crate::mstep::{GuardCounts, Parameters, Regularisation};
use crate::stats::{MomentLayout, SuffStats};

/// Batches between exact recomputations of the per-component constants.
const REFRESH: u64 = 1024;
/// Below this the lazy scale is folded into the statistics.
const SMALL_SCALE: f64 = 1e-150;

/// The running state of stepwise EM for diag and spherical models under maximum likelihood.
pub(crate) struct Stepwise {
    k: usize,
    d: usize,
    spherical: bool,
    reg: Regularisation,
    kappa: f64,
    t0: f64,
    pub(crate) steps: u64,
    pub(crate) represented: Option<f64>,
    pub(crate) guards: GuardCounts,
    /// The lazy factor `c`: true statistics are `scale * stored`.
    scale: f64,
    shift: Vec<f64>,
    counts: Vec<f64>,
    first: Vec<f64>,
    second: Vec<f64>,
    total_weight: f64,
    log_likelihood: f64,
    /// Parameters (variances `k x d`, spherical repeated across `d`).
    means: Vec<f64>,
    variances: Vec<f64>,
    inverse: Vec<f64>,
    /// `k` rounded up to [`PAD`]: the E-step's SIMD lanes run over components.
    kp: usize,
    /// Means and inverse variances transposed, `d x kp` (padding: mean 0, inverse 0).
    means_t: Vec<f64>,
    inverse_t: Vec<f64>,
    /// `Σ_k N_k` in stored units, as of the last update.
    total: f64,
    /// `ln N_k - ½ d ln 2π - ½ Σ ln σ²_kj` with the `N_k` in `logged_counts`; `kp` long, the
    /// padding `-∞` (so padded components get exactly zero responsibility).
    constant: Vec<f64>,
    logged_counts: Vec<f64>,
    floored: Vec<usize>,
    /// Whether the next update recomputes every component (the first update after a start).
    dirty_all: bool,
    touched: Vec<bool>,
    /// The components with `touched` set, in the order they were first touched.
    touched_list: Vec<usize>,
    log_density: Vec<f64>,
    responsibilities: Vec<f64>,
    fresh: Vec<f64>,
}

/// The component count is padded to a multiple of this (the most `f64` lanes of any
/// register pulp dispatches to: AVX-512).
const PAD: usize = 8;

/// [`Stepwise::step`] under [`pulp`]'s dispatch.
struct StepOp<'a> {
    state: &'a mut Stepwise,
    rows: &'a [f64],
    weights: Option<&'a [f64]>,
}

impl pulp::WithSimd for StepOp<'_> {
    type Output = Result<(f64, f64)>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        self.state.step_inline(simd, self.rows, self.weights)
    }
}

/// `-½ Σ_j (x_j - μ_kj)² / σ²_kj` for the `N` registers of components from register `r0`
/// (`means_t`, `inverse_t`: `d` rows of `regs` registers), one accumulator per register.
#[inline(always)]
fn half_quads<S: pulp::Simd, const N: usize>(
    simd: S,
    x: &[f64],
    means_t: &[S::f64s],
    inverse_t: &[S::f64s],
    regs: usize,
    r0: usize,
) -> [S::f64s; N] {
    let mut acc = [simd.splat_f64s(0.0); N];
    for (j, &xj) in x.iter().enumerate() {
        let xv = simd.splat_f64s(xj);
        let at = j * regs + r0;
        for (g, a) in acc.iter_mut().enumerate() {
            let t = simd.sub_f64s(xv, means_t[at + g]);
            *a = simd.add_f64s(*a, simd.mul_f64s(simd.mul_f64s(t, t), inverse_t[at + g]));
        }
    }
    let minus_half = simd.splat_f64s(-0.5);
    acc.map(|a| simd.mul_f64s(a, minus_half))
}

/// `Σ_j (a_j - b_j)² w_j`, in four independent sums (a fixed order on every machine).
#[inline(always)]
fn weighted_squares(a: &[f64], b: &[f64], w: &[f64]) -> f64 {
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    let n4 = a.len() / 4 * 4;
    let (a4, b4, w4) = (&a[..n4], &b[..n4], &w[..n4]);
    for ((a, b), w) in a4.chunks_exact(4).zip(b4.chunks_exact(4)).zip(w4.chunks_exact(4)) {
        let t = [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]];
        s0 += t[0] * t[0] * w[0];
        s1 += t[1] * t[1] * w[1];
        s2 += t[2] * t[2] * w[2];
        s3 += t[3] * t[3] * w[3];
    }
    for j in n4..a.len() {
        let t = a[j] - b[j];
        s0 += t * t * w[j];
    }
    (s0 + s1) + (s2 + s3)
}

/// `Π_j a_j b_j`, in four independent products (a fixed order on every machine).
#[inline(always)]
fn product_of_products(a: &[f64], b: &[f64]) -> f64 {
    let (mut p0, mut p1, mut p2, mut p3) = (1.0, 1.0, 1.0, 1.0);
    let n4 = a.len() / 4 * 4;
    for (a, b) in a[..n4].chunks_exact(4).zip(b[..n4].chunks_exact(4)) {
        p0 *= a[0] * b[0];
        p1 *= a[1] * b[1];
        p2 *= a[2] * b[2];
        p3 *= a[3] * b[3];
    }
    for j in n4..a.len() {
        p0 *= a[j] * b[j];
    }
    (p0 * p1) * (p2 * p3)
}

/// `Σ_c v_c` over a multiple of 8 values, in eight sums by `c mod 8` combined by a fixed tree:
/// the same bits whatever the register width.
#[inline(always)]
fn sum_by_eights(v: &[f64]) -> f64 {
    let mut s = [0.0; 8];
    for chunk in v.chunks_exact(8) {
        for (s, x) in s.iter_mut().zip(chunk) {
            *s += x;
        }
    }
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

/// For a diag component's new variances `fresh`: the inverses into `inverse` (SIMD over the
/// dimensions: element-wise, so the same bits at any width), then `variances ← fresh`, and
/// `(some inverse is not in (0, ∞), Π_j old σ²_j / σ'²_j, Σ_j (μ_j - s_j)² / σ'²_j)`, the two
/// reductions in a fixed order.
#[inline(always)]
fn invert<S: pulp::Simd>(
    simd: S,
    fresh: &[f64],
    variances: &mut [f64],
    inverse: &mut [f64],
    means: &[f64],
    shift: &[f64],
) -> (bool, f64, f64) {
    let (one, zero) = (simd.splat_f64s(1.0), simd.splat_f64s(0.0));
    let infinity = simd.splat_f64s(f64::INFINITY);
    let (fh, ft) = S::as_simd_f64s(fresh);
    let (uh, ut) = S::as_mut_simd_f64s(inverse);
    // `good` lanes hold 1 while every inverse seen there is in (0, ∞) (NaN compares false).
    let mut good = one;
    for (u, &f) in uh.iter_mut().zip(fh) {
        *u = simd.div_f64s(one, f);
        let fine =
            simd.and_m64s(simd.greater_than_f64s(*u, zero), simd.greater_than_f64s(infinity, *u));
        good = simd.min_f64s(good, simd.select_f64s(fine, one, zero));
    }
    let mut low = simd.reduce_min_f64s(good) < 1.0;
    for (u, &f) in ut.iter_mut().zip(ft) {
        *u = 1.0 / f;
        low |= !(*u > 0.0 && *u < f64::INFINITY);
    }
    let ratio = product_of_products(variances, inverse);
    variances.copy_from_slice(fresh);
    let moved = weighted_squares(means, shift, inverse);
    (low, ratio, moved)
}

impl Stepwise {
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
        reg: Regularisation,
    ) -> Self {
        let (k, d) = (model.n_components(), model.n_features());
        let spherical = model.covariance_type() == CovarianceType::Spherical;
        let cov: Vec<f64> = model.covariances().iter().map(|v| v.to_f64()).collect();
        let variances: Vec<f64> =
            (0..k * d).map(|at| if spherical { cov[at / d] } else { cov[at] }).collect();
        let kp = k.div_ceil(PAD) * PAD;
        let mut state = Self {
            k,
            d,
            kp,
            means_t: vec![0.0; d * kp],
            inverse_t: vec![0.0; d * kp],
            total: 0.0,
            spherical,
            reg,
            kappa,
            t0,
            steps,
            represented,
            guards: GuardCounts::default(),
            scale: 1.0,
            shift: running.shift.clone(),
            counts: running.counts.clone(),
            first: running.first.clone(),
            second: running.second.clone(),
            total_weight: running.total_weight,
            log_likelihood: running.log_likelihood,
            means: model.means().iter().map(|v| v.to_f64()).collect(),
            inverse: variances.iter().map(|v| 1.0 / v).collect(),
            variances,
            constant: vec![f64::NEG_INFINITY; kp],
            logged_counts: model.weights().iter().map(|v| v.to_f64()).collect(),
            floored: vec![0; k],
            dirty_all: true,
            touched: vec![false; k],
            touched_list: Vec::with_capacity(k),
            log_density: vec![0.0; kp],
            responsibilities: Vec::new(),
            fresh: Vec::new(),
        };
        for c in 0..k {
            state.constant[c] = state.exact_constant(c);
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
        let (d, kp) = (self.d, self.kp);
        for j in 0..d {
            self.means_t[j * kp + c] = self.means[c * d + j];
            self.inverse_t[j * kp + c] = self.inverse[c * d + j];
        }
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
        let mut quads = self.counts.chunks_exact(4);
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
        // Compiled for the machine's vector extensions. Element-wise SIMD and reductions in a
        // fixed order: the bits do not depend on the register width (AVX2 or AVX-512); the
        // exponential's polynomial is fused where the machine has FMA (as in batch EM).
        pulp::Arch::new().dispatch(StepOp { state: self, rows, weights })
    }

    #[inline(always)]
    fn step_inline<S: pulp::Simd>(
        &mut self,
        simd: S,
        rows: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<(f64, f64)> {
        let (k, d, kp) = (self.k, self.d, self.kp);
        let b = rows.len() / d;
        self.responsibilities.resize(kp * b, 0.0);
        let log_total = self.total.ln();
        let (mut ll, mut weight) = (0.0, 0.0);
        // SIMD lanes over components, `kp` of them (the padding's log-density is -∞, whose
        // exponential is exactly 0).
        let lanes = std::mem::size_of::<S::f64s>() / std::mem::size_of::<f64>();
        let regs = kp / lanes;
        for (i, xs) in rows.chunks_exact(d).enumerate() {
            let (means_t, _) = S::as_simd_f64s(&self.means_t);
            let (inverse_t, _) = S::as_simd_f64s(&self.inverse_t);
            let (constant, _) = S::as_simd_f64s(&self.constant);
            let (density, _) = S::as_mut_simd_f64s(&mut self.log_density);
            let mut r0 = 0;
            while r0 < regs {
                let left = regs - r0;
                let n = if left >= 8 {
                    let q = half_quads::<S, 8>(simd, xs, means_t, inverse_t, regs, r0);
                    for (g, q) in q.iter().enumerate() {
                        density[r0 + g] = simd.add_f64s(constant[r0 + g], *q);
                    }
                    8
                } else if left >= 4 {
                    let q = half_quads::<S, 4>(simd, xs, means_t, inverse_t, regs, r0);
                    for (g, q) in q.iter().enumerate() {
                        density[r0 + g] = simd.add_f64s(constant[r0 + g], *q);
                    }
                    4
                } else if left >= 2 {
                    let q = half_quads::<S, 2>(simd, xs, means_t, inverse_t, regs, r0);
                    for (g, q) in q.iter().enumerate() {
                        density[r0 + g] = simd.add_f64s(constant[r0 + g], *q);
                    }
                    2
                } else {
                    let [q] = half_quads::<S, 1>(simd, xs, means_t, inverse_t, regs, r0);
                    density[r0] = simd.add_f64s(constant[r0], q);
                    1
                };
                r0 += n;
            }
            let mut top = density[0];
            for &v in &density[1..] {
                top = simd.max_f64s(top, v);
            }
            let max = simd.reduce_max_f64s(top);
            let shift = simd.splat_f64s(max);
            // gmm-core's vectorised exp, as batch EM's kernels use it.
            for v in density.iter_mut() {
                *v = exp_f64s(simd, simd.sub_f64s(*v, shift));
            }
            let total = sum_by_eights(&self.log_density);
            let (density, _) = S::as_simd_f64s(&self.log_density);
            let w = weights.map_or(1.0, |w| w[i]);
            let scale = simd.splat_f64s(w / total);
            let (r, _) = S::as_mut_simd_f64s(&mut self.responsibilities[i * kp..(i + 1) * kp]);
            for (r, &e) in r.iter_mut().zip(density.iter()) {
                *r = simd.mul_f64s(e, scale);
            }
            ll += w * (max + total.ln() - log_total);
            weight += w;
        }
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
            for v in self.counts.iter_mut().chain(&mut self.first).chain(&mut self.second) {
                *v = 0.0;
            }
            self.total_weight = 0.0;
            self.log_likelihood = 0.0;
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
                for (l, (&r, &n)) in r.iter().zip(&self.counts[at]).enumerate() {
                    // (Responsibilities are finite here: the log-likelihood was checked.)
                    bits |= u64::from(a * r > 0.5 * f64::EPSILON * n) << l;
                }
                while bits != 0 {
                    let c = word * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    self.touch(c);
                    let q = a * self.responsibilities[i * kp + c];
                    self.counts[c] += q;
                    let shift = &self.shift[c * d..(c + 1) * d];
                    let first = &mut self.first[c * d..(c + 1) * d];
                    let second = &mut self.second[c * d..(c + 1) * d];
                    for j in 0..d {
                        let t = xs[j] - shift[j];
                        first[j] += q * t;
                        second[j] += q * t * t;
                    }
                }
            }
        }
        self.total_weight += a * weight;
        self.log_likelihood += a * ll;
        if self.scale < SMALL_SCALE {
            self.fold_scale();
        }
        self.update(simd)?;
        self.steps += 1;
        Ok((ll, weight))
    }

    /// Folds the lazy factor into the stored statistics.
    fn fold_scale(&mut self) {
        let s = self.scale;
        for v in self.counts.iter_mut().chain(&mut self.first).chain(&mut self.second) {
            *v *= s;
        }
        self.total_weight *= s;
        self.log_likelihood *= s;
        self.scale = 1.0;
    }

    /// The ML update of the touched components, and this batch's guard counts.
    #[inline(always)]
    fn update<S: pulp::Simd>(&mut self, simd: S) -> Result<()> {
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
        for &c in &list {
            self.touched[c] = false;
            let n = self.counts[c];
            let mut log_ratio = 1.0;
            if n > empty_below {
                let at = c * d..(c + 1) * d;
                let (first, second) = (&self.first[at.clone()], &self.second[at.clone()]);
                let (means, variances) = (&mut self.means[at.clone()], &mut self.variances[at]);
                let shift = &self.shift[c * d..(c + 1) * d];
                let mut floored = 0;
                let mut moved = 0.0;
                let floor = |v: f64, floored: &mut usize| match self.reg.variance_floor {
                    Some(f) if v < f => {
                        *floored += 1;
                        f
                    }
                    _ => v,
                };
                let inv_n = 1.0 / n;
                let inverse = &mut self.inverse[c * d..(c + 1) * d];
                if self.spherical {
                    let mut sum = 0.0;
                    for j in 0..d {
                        let delta = first[j] * inv_n;
                        means[j] = shift[j] + delta;
                        sum += second[j] * inv_n - delta * delta;
                        moved += delta * delta;
                    }
                    let v = floor(sum / d as f64 + self.reg.reg_covar, &mut floored);
                    let inv_v = 1.0 / v;
                    log_ratio = (variances[0] * inv_v).powi(d as i32);
                    moved *= inv_v;
                    variances.fill(v);
                    inverse.fill(inv_v);
                    bad |= !(v > 0.0 && v.is_finite());
                } else {
                    let fresh = &mut self.fresh;
                    fresh.resize(d, 0.0);
                    let reg = self.reg.reg_covar;
                    for ((((f, m), &s1), &s2), &sh) in
                        fresh.iter_mut().zip(means.iter_mut()).zip(first).zip(second).zip(shift)
                    {
                        let delta = s1 * inv_n;
                        *m = sh + delta;
                        *f = s2 * inv_n - delta * delta + reg;
                    }
                    if let Some(floor) = self.reg.variance_floor {
                        for f in fresh.iter_mut().filter(|f| **f < floor) {
                            floored += 1;
                            *f = floor;
                        }
                    }
                    let low;
                    (low, log_ratio, moved) = invert(simd, fresh, variances, inverse, means, shift);
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
            let updated = self.constant[c] + 0.5 * (r * r * log_ratio).ln();
            self.constant[c] =
                if updated.is_finite() && !refresh { updated } else { self.exact_constant(c) };
        }
        list.clear();
        self.touched_list = list;
        self.dirty_all = false;
        if refresh {
            for c in 0..k {
                self.constant[c] = self.exact_constant(c);
            }
        }
        let mut guards = GuardCounts::default();
        for (&n, &floored) in self.counts.iter().zip(&self.floored) {
            let empty = n <= empty_below;
            guards.empty_components += usize::from(empty);
            guards.floored_variances += if empty { 0 } else { floored };
        }
        self.total = total;
        if bad || !total.is_finite() {
            // The validation's own error (which names the component and the fix).
            let reg = self.reg.reg_covar;
            return match self.parameters().into_model::<f64>(reg) {
                Err(e) => Err(e),
                Ok(_) => Err(Error::new(
                    ErrorKind::InvalidParameter,
                    "online EM: a variance is not finite after the update",
                )),
            };
        }
        self.guards.add(guards);
        Ok(())
    }

    /// Moves component `c`'s statistics to its mean (exact: `F' = F + N δ`,
    /// `S' = S + 2 F δ + N δ²` with `δ = s - s'`).
    fn reshift(&mut self, c: usize) {
        let d = self.d;
        let n = self.counts[c];
        for j in 0..d {
            let at = c * d + j;
            let delta = self.shift[at] - self.means[at];
            self.second[at] += 2.0 * self.first[at] * delta + n * delta * delta;
            self.first[at] += n * delta;
            self.shift[at] = self.means[at];
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
            weights: self.counts.iter().map(|n| n / total).collect(),
            means: self.means.clone(),
            covariances,
        }
    }

    /// The validated model and the running statistics in true units.
    pub(crate) fn into_parts<T: Real>(mut self) -> Result<(GaussianMixture<T>, SuffStats)> {
        self.fold_scale();
        let model = self.parameters().into_model(self.reg.reg_covar)?;
        let layout = MomentLayout::Diagonal;
        let mut running = SuffStats::new(self.k, self.d, layout, self.shift);
        running.counts = self.counts;
        running.first = self.first;
        running.second = self.second;
        running.total_weight = self.total_weight;
        running.log_likelihood = self.log_likelihood;
        Ok((model, running))
    }
}
