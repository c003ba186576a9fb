//! Scoring a model on a [`GaussianSelection`](super::GaussianSelection): the selected
//! components' `ℓ_k(x_t) = log w_k + log N(x_t | μ_k, Σ_k)` evaluated one by one (`O(T C d)`),
//! and per-frame log-sum-exps over the frame's segment of a flat value array.

use gmm_core::{CovarianceType, GaussianMixture, Real, Samples};

/// Padding of the `f64` value buffers: a multiple of every `f64` SIMD width `pulp` may pick.
pub(super) const LANES: usize = 8;

/// Padding of frames and diagonal tables, and the number of partial sums of a quadratic form.
pub(super) const ROW_PAD: usize = 8;

/// One model's parameters as the top-C scorer reads them.
pub(super) enum ModelTable<'a, T: Real> {
    /// Diagonal: per component `[μ (dp), 1/σ² (dp)]` contiguous in the model's precision
    /// (half the cache lines in `f32`), zero-padded to `dp` (a zero inverse variance adds
    /// nothing), and `log w_k + log normaliser_k` in `f64`.
    Diag { table: Vec<T>, constants: Vec<f64>, dp: usize },
    /// Full, tied or spherical: evaluated from the model.
    General(&'a GaussianMixture<T>),
}

impl<'a, T: Real> ModelTable<'a, T> {
    pub(super) fn new(model: &'a GaussianMixture<T>, dp: usize) -> Self {
        let Some(inverse) = model.inverse_variances() else {
            return Self::General(model);
        };
        let (k, d) = (model.n_components(), model.n_features());
        let mut table = vec![T::ZERO; k * 2 * dp];
        for (comp, t) in table.chunks_exact_mut(2 * dp).enumerate() {
            t[..d].copy_from_slice(model.mean(comp));
            t[dp..dp + d].copy_from_slice(&inverse[comp * d..(comp + 1) * d]);
        }
        let constants = model
            .log_weights()
            .iter()
            .zip(model.log_normalisers())
            .map(|(w, n)| w.to_f64() + n.to_f64())
            .collect();
        Self::Diag { table, constants, dp }
    }

    /// `out[b] = log p(x_{start + b})` over the selected components of frame `b`
    /// (`counts[b]` entries of `idx`, frame after frame), compiled once per instruction set.
    /// `values` is scratch of at least `idx.len()` rounded up to [`LANES`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn score(
        &self,
        rows: &[T],
        x: Samples<'_, T>,
        start: usize,
        idx: &[u32],
        counts: &[usize],
        values: &mut [f64],
        out: &mut [f64],
    ) {
        struct Score<'a, 'b, T: Real> {
            table: &'a ModelTable<'b, T>,
            rows: &'a [T],
            x: Samples<'a, T>,
            start: usize,
            idx: &'a [u32],
            counts: &'a [usize],
            values: &'a mut [f64],
            out: &'a mut [f64],
        }
        impl<T: Real> pulp::WithSimd for Score<'_, '_, T> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: pulp::Simd>(self, simd: S) {
                let Self { table, rows, x, start, idx, counts, values, out } = self;
                table.evaluate(simd, rows, x, start, idx, counts, &mut values[..idx.len()]);
                log_sum_exp_segments_simd(simd, values, counts, out);
            }
        }
        pulp::Arch::new().dispatch(Score { table: self, rows, x, start, idx, counts, values, out });
    }

    /// `ℓ_k(x_t)` of the selected components `idx` (frame `b`'s `counts[b]` in turn) of the
    /// frames from `start`: `rows` are those frames, padded to `dp`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn evaluate<S: pulp::Simd>(
        &self,
        simd: S,
        rows: &[T],
        x: Samples<'_, T>,
        start: usize,
        idx: &[u32],
        counts: &[usize],
        values: &mut [f64],
    ) {
        let mut at = 0;
        match self {
            Self::Diag { table, constants, dp } => {
                let dp = *dp;
                // Entries go in groups: the SIMD partial sums of a group are stored first and
                // reduced afterwards, so no reduction waits on the store just made.
                let mut partials = [T::ZERO; GROUP_ENTRIES * ROW_PAD];
                let (mut group_start, mut n) = (0, 0);
                for (row, &count) in rows.chunks_exact(dp).zip(counts) {
                    for &comp in &idx[at..at + count] {
                        let t = &table[comp as usize * 2 * dp..(comp as usize + 1) * 2 * dp];
                        let out = &mut partials[n * ROW_PAD..(n + 1) * ROW_PAD];
                        partial_sums(simd, row, &t[..dp], &t[dp..], out);
                        n += 1;
                        if n == GROUP_ENTRIES {
                            let group = group_start..group_start + n;
                            reduce(&partials, &idx[group.clone()], constants, &mut values[group]);
                            (group_start, n) = (group_start + n, 0);
                        }
                    }
                    at += count;
                }
                let group = group_start..group_start + n;
                reduce(
                    &partials[..n * ROW_PAD],
                    &idx[group.clone()],
                    constants,
                    &mut values[group],
                );
            }
            Self::General(model) => {
                for (b, &count) in counts.iter().enumerate() {
                    for (v, &comp) in values[at..at + count].iter_mut().zip(&idx[at..at + count]) {
                        *v = component_log_density(model, comp as usize, x.row(start + b));
                    }
                    at += count;
                }
            }
        }
    }
}

/// Entries (frame, component) whose partial sums are held before they are reduced.
const GROUP_ENTRIES: usize = 64;

/// The [`ROW_PAD`] partial sums of `Σ_j (x_j - μ_j)² p_j` over rows padded to a multiple of
/// [`ROW_PAD`] (sum `l` takes the dimensions `j ≡ l mod ROW_PAD`, whatever the SIMD width), in
/// the model's precision, stored to `out`; [`reduce`] adds them in one fixed order, so the
/// bits do not depend on the instruction set.
#[inline(always)]
fn partial_sums<S: pulp::Simd, T: Real>(simd: S, x: &[T], mu: &[T], p: &[T], out: &mut [T]) {
    let lanes = T::lanes::<S>();
    if lanes > ROW_PAD {
        // Registers wider than the partial sums (16 f32 lanes): the same sums, lane by lane.
        out.fill(T::ZERO);
        for (i, ((x, mu), p)) in x.iter().zip(mu).zip(p).enumerate() {
            let t = *x - *mu;
            out[i % ROW_PAD] += t * t * *p;
        }
        return;
    }
    let (x, _) = T::as_simd::<S>(x);
    let (mu, _) = T::as_simd::<S>(mu);
    let (p, _) = T::as_simd::<S>(p);
    // ROW_PAD / lanes registers hold the partial sums (one on AVX2 in f32, two in f64),
    // kept in registers over the row.
    let per = ROW_PAD / lanes;
    let mut acc = [T::simd_splat(simd, T::ZERO); ROW_PAD];
    for ((x, mu), p) in x.chunks_exact(per).zip(mu.chunks_exact(per)).zip(p.chunks_exact(per)) {
        for l in 0..per {
            let t = T::simd_sub(simd, x[l], mu[l]);
            acc[l] = T::simd_add(simd, acc[l], T::simd_mul(simd, T::simd_mul(simd, t, t), p[l]));
        }
    }
    let (out, _) = T::as_mut_simd::<S>(out);
    out.copy_from_slice(&acc[..per]);
}

/// `values[e] = constant_k - ½ Σ partials` for the entries `e` (component `idx[e]`), the
/// [`ROW_PAD`] partial sums added by halving, `((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7))`.
#[inline(always)]
fn reduce<T: Real>(partials: &[T], idx: &[u32], constants: &[f64], values: &mut [f64]) {
    for ((s, &comp), v) in partials.chunks_exact(ROW_PAD).zip(idx).zip(values.iter_mut()) {
        let q = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        *v = constants[comp as usize] - 0.5 * q.to_f64();
    }
}

/// `out[b] = logsumexp` of frame `b`'s segment of `values` (`counts[b]` entries, frame after
/// frame), the exponentials taken by gmm-core's SIMD `exp`. `values` is overwritten; entries
/// past the segments up to the next multiple of [`LANES`] must be finite or `-inf` (they are
/// exponentiated, never summed), so that every value goes through the same `exp`.
pub(super) fn log_sum_exp_segments(values: &mut [f64], counts: &[usize], out: &mut [f64]) {
    struct Lse<'a> {
        values: &'a mut [f64],
        counts: &'a [usize],
        out: &'a mut [f64],
    }
    impl pulp::WithSimd for Lse<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) {
            log_sum_exp_segments_simd(simd, self.values, self.counts, self.out);
        }
    }
    pulp::Arch::new().dispatch(Lse { values, counts, out });
}

#[inline(always)]
fn log_sum_exp_segments_simd<S: pulp::Simd>(
    simd: S,
    values: &mut [f64],
    counts: &[usize],
    out: &mut [f64],
) {
    let mut at = 0;
    for (&count, o) in counts.iter().zip(out.iter_mut()) {
        let segment = &mut values[at..at + count];
        let max = segment.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // All -inf (weight-zero components only): the segment sums to 0, its log is -inf.
        let shift = if max == f64::NEG_INFINITY { 0.0 } else { max };
        for v in segment.iter_mut() {
            *v -= shift;
        }
        *o = shift;
        at += count;
    }
    let used = at.div_ceil(LANES) * LANES;
    let (head, tail) = f64::as_mut_simd::<S>(&mut values[..used]);
    for v in head.iter_mut() {
        *v = f64::simd_exp(simd, *v);
    }
    for v in tail.iter_mut() {
        *v = v.exp();
    }
    let mut at = 0;
    for (&count, o) in counts.iter().zip(out.iter_mut()) {
        *o += values[at..at + count].iter().sum::<f64>().ln();
        at += count;
    }
}

/// `log w_k + log N(x | μ_k, Σ_k)` for one frame and one component, in `f64`.
fn component_log_density<T: Real>(model: &GaussianMixture<T>, comp: usize, x: &[T]) -> f64 {
    let d = model.n_features();
    let mean = model.mean(comp);
    let constant = model.log_weights()[comp].to_f64() + model.log_normalisers()[comp].to_f64();
    let quad = if let Some(inverse) = model.inverse_variances() {
        let inv = &inverse[comp * d..(comp + 1) * d];
        let mut q = 0.0;
        for j in 0..d {
            let t = x[j].to_f64() - mean[j].to_f64();
            q += t * t * inv[j].to_f64();
        }
        q
    } else {
        // Full or tied: y = Uᵀ (x - μ) with U upper triangular, row-major d x d.
        let factors = model.precision_cholesky().unwrap_or(&[]);
        let u = if model.covariance_type() == CovarianceType::Tied {
            &factors[..d * d]
        } else {
            &factors[comp * d * d..(comp + 1) * d * d]
        };
        let mut q = 0.0;
        for j in 0..d {
            let mut y = 0.0;
            for i in 0..=j {
                y += u[i * d + j].to_f64() * (x[i].to_f64() - mean[i].to_f64());
            }
            q += y * y;
        }
        q
    };
    constant - 0.5 * quad
}
