//! Gaussian selection on a UBM: which components each frame keeps, and the UBM's
//! log-likelihood over them (see the [crate docs](crate) for the maths).
//!
//! Two rules ([`TopC`]):
//! * **fixed**: the `C` components with the largest `ℓ_k^u(x)`;
//! * **beam**: the same `C` at most, but only those within `beam` nats of the frame's best
//!   component (`ℓ_k^u(x) ≥ max_j ℓ_j^u(x) - beam`, i.e. posterior at least `e^-beam` times the
//!   best one's). Frames dominated by one component keep one or two, frames between clusters
//!   keep up to `C`.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_speech::{GaussianSelection, TopC};
//!
//! let ubm = GaussianMixture::<f32>::random(CovarianceType::Diag, 64, 13, 2.0, 1)?;
//! let (x, _) = ubm.sample(300, 2)?;
//! let selection = GaussianSelection::select(&ubm, x.samples(), TopC::new(16).beam(8.0))?;
//! assert_eq!(selection.n_frames(), 300);
//! assert!((1..=16).contains(&selection.components(0).len()));
//! assert!(selection.mean_selected() <= 16.0);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Current implementation
//!
//! One [`BlockPass`] over the frames scores the UBM block by block (`log_densities`, the only
//! `O(T K d)` work); gmm-core's selection kernels ([`select_top_c`], [`select_beam`]) choose
//! each frame's components from the block's component-major rows and
//! [`log_sum_exp_segments`] gives the UBM's log-likelihood over them. Selections are stored
//! frame by frame in one flat array (`offsets` into `indices`, as in a CSR matrix), in
//! increasing component order; ties for the last place go to the lower component index.

use gmm_core::kernel::selected::{log_sum_exp_segments, padded_entries};
use gmm_core::kernel::selection::{select_beam, select_top_c};
use gmm_core::kernel::{BLOCK_ROWS, BlockPass, log_densities};
use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, Samples};

/// Default number of selected components per frame.
pub const DEFAULT_TOP_C: usize = 5;

/// The selection rule: at most `c` components per frame, optionally only those within a beam
/// of the frame's best (see the [module docs](self)).
///
/// ```
/// use gmm_speech::TopC;
/// let rule = TopC::new(16).beam(8.0);
/// assert_eq!((rule.get_c(), rule.get_beam()), (16, Some(8.0)));
/// assert_eq!(TopC::default().get_c(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TopC {
    c: usize,
    beam: Option<f64>,
}

impl Default for TopC {
    /// [`DEFAULT_TOP_C`] components, no beam.
    fn default() -> Self {
        Self::new(DEFAULT_TOP_C)
    }
}

impl From<usize> for TopC {
    fn from(c: usize) -> Self {
        Self::new(c)
    }
}

impl TopC {
    /// The `c` best components of every frame.
    pub fn new(c: usize) -> Self {
        Self { c, beam: None }
    }

    /// Keeps only components within `nats` of the frame's best (`ℓ ≥ max ℓ - nats`).
    pub fn beam(mut self, nats: f64) -> Self {
        self.beam = Some(nats);
        self
    }

    /// The most components a frame keeps.
    pub fn get_c(&self) -> usize {
        self.c
    }

    /// The beam in nats, if any.
    pub fn get_beam(&self) -> Option<f64> {
        self.beam
    }

    /// Checks `c ≥ 1` and a finite, non-negative beam.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        if self.c == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "top-C is 0: select at least one component per frame (5 is usual)",
            ));
        }
        if let Some(beam) = self.beam
            && !(beam.is_finite() && beam >= 0.0)
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "the selection beam is {beam}: give a finite number of nats >= 0 \
                     (8 keeps components at least e^-8 as likely as the best)"
                ),
            ));
        }
        Ok(())
    }
}

/// The selected UBM components of every frame of an utterance, and the UBM's log-likelihood
/// of each frame over them (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianSelection {
    pub(crate) rule: TopC,
    pub(crate) n_components: usize,
    pub(crate) n_features: usize,
    /// Frame `t`'s components are `indices[offsets[t]..offsets[t + 1]]`.
    pub(crate) offsets: Vec<usize>,
    /// Component indices, increasing within a frame.
    pub(crate) indices: Vec<u32>,
    /// `n` values `logsumexp` of the selected `ℓ_k^u`.
    pub(crate) ubm_log_likelihood: Vec<f64>,
}

/// A thread's buffer for one block's selected values (entries past those in use: finite or
/// `-inf`, as [`log_sum_exp_segments`] needs).
struct SelectedValues(Vec<f64>);

/// One block's selection: per-frame counts, the components, their UBM log-likelihood.
struct BlockSelection {
    counts: Vec<usize>,
    indices: Vec<u32>,
    log_likelihood: Vec<f64>,
}

impl GaussianSelection {
    /// Selects the `c` best UBM components (`c` is capped at the UBM's `k`) of every frame.
    ///
    /// # Errors
    /// `c = 0`, frames of the wrong dimension or not finite.
    pub fn new<T: Real>(ubm: &GaussianMixture<T>, x: Samples<'_, T>, c: usize) -> Result<Self> {
        Self::select(ubm, x, TopC::new(c))
    }

    /// Selects components of every frame by `rule` (its `c` capped at the UBM's `k`).
    ///
    /// # Errors
    /// A bad rule ([`TopC::validate`]), frames of the wrong dimension or not finite.
    pub fn select<T: Real>(
        ubm: &GaussianMixture<T>,
        x: Samples<'_, T>,
        rule: TopC,
    ) -> Result<Self> {
        rule.validate()?;
        ubm.check_samples(x)?;
        let (d, k) = (ubm.n_features(), ubm.n_components());
        let rule = TopC { c: rule.c.min(k), ..rule };
        let c = rule.c;
        let n = x.n_samples();
        // Selected values of a block, padded for the log-sum-exp; kept per thread with the
        // kernel's block scratch (half a MB at k = 512), not allocated per block.
        let padded = padded_entries(BLOCK_ROWS * c);
        let blocks: Vec<BlockSelection> = BlockPass::new(x, k)
            .run_with(
                || SelectedValues(vec![f64::NEG_INFINITY; padded]),
                |values: &SelectedValues| values.0.len() >= padded,
                Vec::new,
                |blocks, scratch, SelectedValues(values), _| {
                    log_densities(ubm, scratch, true);
                    let len = scratch.len;
                    let mut out = BlockSelection {
                        counts: vec![c; len],
                        indices: vec![0; len * c],
                        log_likelihood: vec![0.0; len],
                    };
                    match rule.beam {
                        None => select_top_c(scratch, k, c, &mut out.indices, values),
                        Some(beam) => {
                            let used = select_beam(
                                scratch,
                                k,
                                c,
                                beam,
                                &mut out.counts,
                                &mut out.indices,
                                values,
                            );
                            out.indices.truncate(used);
                        }
                    }
                    log_sum_exp_segments(values, &out.counts, &mut out.log_likelihood);
                    blocks.push(out);
                },
                |mut left, right| {
                    left.extend(right);
                    left
                },
            )
            .unwrap_or_default();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let total: usize = blocks.iter().map(|b| b.indices.len()).sum();
        let (mut indices, mut ubm_ll) = (Vec::with_capacity(total), Vec::with_capacity(n));
        for b in blocks {
            for count in b.counts {
                offsets.push(offsets[offsets.len() - 1] + count);
            }
            indices.extend(b.indices);
            ubm_ll.extend(b.log_likelihood);
        }
        Ok(Self {
            rule,
            n_components: k,
            n_features: d,
            offsets,
            indices,
            ubm_log_likelihood: ubm_ll,
        })
    }

    /// The most components a frame keeps (`c` capped at the UBM's `k`).
    pub fn top_c(&self) -> usize {
        self.rule.c
    }

    /// The rule the selection was made with (`c` capped at the UBM's `k`).
    pub fn rule(&self) -> TopC {
        self.rule
    }

    /// Number of frames.
    pub fn n_frames(&self) -> usize {
        self.ubm_log_likelihood.len()
    }

    /// Average number of components a frame keeps (`c` without a beam).
    pub fn mean_selected(&self) -> f64 {
        self.indices.len() as f64 / self.n_frames().max(1) as f64
    }

    /// The selected components of frame `t`, in increasing order.
    ///
    /// # Panics
    /// If `t` is not below [`n_frames`](Self::n_frames).
    pub fn components(&self, t: usize) -> &[u32] {
        &self.indices[self.offsets[t]..self.offsets[t + 1]]
    }

    /// The UBM's log-likelihood of every frame over its selected components.
    pub fn ubm_log_likelihoods(&self) -> &[f64] {
        &self.ubm_log_likelihood
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::CovarianceType;
    use gmm_core::kernel::reference;

    fn lse(values: &[f64]) -> f64 {
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return max;
        }
        max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
    }

    /// Top-C against a naive per-frame reference: sort all UBM log-densities, take the best C
    /// for both models.
    #[test]
    fn top_c_matches_naive_selection() {
        for covariance_type in [CovarianceType::Diag, CovarianceType::Full] {
            let ubm = GaussianMixture::<f64>::random(covariance_type, 12, 3, 2.0, 3).unwrap();
            let spk = GaussianMixture::<f64>::random(covariance_type, 12, 3, 2.0, 4).unwrap();
            let (x, _) = ubm.sample(517, 9).unwrap();
            let x = x.samples();
            for c in [1, 3, 12, 40] {
                let sel = GaussianSelection::new(&ubm, x, c).unwrap();
                let s = sel.log_likelihoods(&spk, x).unwrap();
                let mut total = 0.0;
                for t in 0..x.n_samples() {
                    let lu = reference::weighted_log_densities(&ubm, x.row(t));
                    let ls = reference::weighted_log_densities(&spk, x.row(t));
                    let mut order: Vec<usize> = (0..12).collect();
                    order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                    let mut top = order[..c.min(12)].to_vec();
                    top.sort_unstable();
                    let got: Vec<usize> = sel.components(t).iter().map(|&i| i as usize).collect();
                    assert_eq!(got, top, "frame {t}: the best C in component order");
                    let u = lse(&top.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                    let v = lse(&top.iter().map(|&k| ls[k]).collect::<Vec<_>>());
                    assert!((sel.ubm_log_likelihoods()[t] - u).abs() < 1e-9 * (1.0 + u.abs()));
                    assert!((s[t] - v).abs() < 1e-9 * (1.0 + v.abs()));
                    total += v - u;
                }
                let got = sel.llr(&spk, x).unwrap();
                assert!((got - total / x.n_samples() as f64).abs() < 1e-9);
            }
        }
    }

    /// Ties (duplicated components give bit-equal values: the lower index wins, as a stable
    /// sort orders them), `C >= k`, `C` on both sides of 16 (the register network and the
    /// streaming one), and several models in one pass equal to one model at a time, bit for bit.
    #[test]
    fn selection_with_ties_and_many_models_match_naive() {
        let base = GaussianMixture::<f32>::random(CovarianceType::Diag, 20, 3, 2.0, 11).unwrap();
        // Components 20..40 repeat 0..20 exactly: every frame has 20 exact ties.
        let twice = |v: &[f32]| [v, v].concat();
        let ubm = GaussianMixture::new(
            CovarianceType::Diag,
            twice(base.weights()).iter().map(|w| w / 2.0).collect(),
            twice(base.means()),
            twice(base.covariances()),
        )
        .unwrap();
        let spk = [
            GaussianMixture::<f32>::random(CovarianceType::Diag, 40, 3, 2.0, 12).unwrap(),
            GaussianMixture::<f32>::random(CovarianceType::Diag, 40, 3, 2.0, 13).unwrap(),
            ubm.clone(),
        ];
        let refs: Vec<&GaussianMixture<f32>> = spk.iter().collect();
        let (x, _) = ubm.sample(613, 5).unwrap();
        let x = x.samples();
        for c in [1, 2, 3, 5, 7, 10, 13, 16, 17, 25, 40, 45] {
            let sel = GaussianSelection::new(&ubm, x, c).unwrap();
            assert_eq!(sel.top_c(), c.min(40));
            let many = sel.log_likelihoods_many(&refs, x).unwrap();
            for (m, model) in spk.iter().enumerate() {
                assert_eq!(many[m], sel.log_likelihoods(model, x).unwrap(), "model {m}, C = {c}");
            }
            for t in 0..x.n_samples() {
                // The f32 values the selection compares, from the kernel's own scoring.
                let lu = reference::weighted_log_densities(&ubm, x.row(t));
                let mut order: Vec<usize> = (0..40).collect();
                order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                let got: Vec<usize> = sel.components(t).iter().map(|&i| i as usize).collect();
                let mut want = order[..c.min(40)].to_vec();
                // Tied pairs (k, k + 20) may be chosen in either order only if their f32
                // values differ from the f64 reference's order; compare as sets of values.
                want.sort_unstable();
                let mut got_sorted = got.clone();
                got_sorted.sort_unstable();
                let value = |i: usize| lu[i % 20];
                let mut gv: Vec<f64> = got_sorted.iter().map(|&i| value(i)).collect();
                let mut wv: Vec<f64> = want.iter().map(|&i| value(i)).collect();
                gv.sort_by(f64::total_cmp);
                wv.sort_by(f64::total_cmp);
                assert_eq!(gv, wv, "frame {t}, C = {c}");
                // Component order, and ties at the cut go to the lower component: a selected
                // upper twin k + 20 means its equal lower twin k is selected too.
                assert!(got.windows(2).all(|w| w[0] < w[1]), "frame {t}: {got:?}");
                for &i in got.iter().filter(|&&i| i >= 20) {
                    assert!(got.contains(&(i - 20)), "frame {t}: {got:?}");
                }
                // The UBM (a model equal to it) scores the same on the same selection.
                let u = lse(&got.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                assert!((many[2][t] - u).abs() < 1e-5 * (1.0 + u.abs()), "frame {t}");
            }
        }
    }

    /// The beam rule against a naive per-frame reference: sort all UBM log-densities, keep
    /// those within the beam of the best, at most `C`; a huge beam is the fixed rule, bit for
    /// bit.
    #[test]
    fn beam_selection_matches_naive_selection() {
        for covariance_type in [CovarianceType::Diag, CovarianceType::Full] {
            let ubm = GaussianMixture::<f64>::random(covariance_type, 13, 3, 1.0, 7).unwrap();
            let spk = [
                GaussianMixture::<f64>::random(covariance_type, 13, 3, 1.0, 8).unwrap(),
                ubm.clone(),
            ];
            let refs: Vec<&GaussianMixture<f64>> = spk.iter().collect();
            // 517 frames: two full blocks and a part, not a multiple of the SIMD width.
            let (x, _) = ubm.sample(517, 9).unwrap();
            let x = x.samples();
            for c in [1, 3, 12, 40] {
                for beam in [0.0, 1.5, 8.0] {
                    let sel = GaussianSelection::select(&ubm, x, TopC::new(c).beam(beam)).unwrap();
                    assert_eq!(sel.rule(), TopC::new(c.min(13)).beam(beam));
                    let many = sel.log_likelihoods_many(&refs, x).unwrap();
                    let mut kept = 0;
                    for t in 0..x.n_samples() {
                        let lu = reference::weighted_log_densities(&ubm, x.row(t));
                        let ls = reference::weighted_log_densities(&spk[0], x.row(t));
                        let mut order: Vec<usize> = (0..13).collect();
                        order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                        let floor = lu[order[0]] - beam;
                        let mut want: Vec<usize> =
                            order.iter().copied().filter(|&i| lu[i] >= floor).take(c).collect();
                        want.sort_unstable();
                        let got: Vec<usize> =
                            sel.components(t).iter().map(|&i| i as usize).collect();
                        assert_eq!(got, want, "frame {t}, C = {c}, beam {beam}");
                        kept += got.len();
                        let u = lse(&want.iter().map(|&k| lu[k]).collect::<Vec<_>>());
                        let v = lse(&want.iter().map(|&k| ls[k]).collect::<Vec<_>>());
                        let ubm_ll = sel.ubm_log_likelihoods()[t];
                        assert!((ubm_ll - u).abs() < 1e-9 * (1.0 + u.abs()), "frame {t}");
                        assert!((many[0][t] - v).abs() < 1e-9 * (1.0 + v.abs()), "frame {t}");
                        assert!((many[1][t] - u).abs() < 1e-9 * (1.0 + u.abs()), "frame {t}");
                    }
                    let mean = kept as f64 / x.n_samples() as f64;
                    assert_eq!(sel.mean_selected(), mean);
                    if beam == 0.0 {
                        assert_eq!(mean, 1.0, "no ties among random components");
                    }
                }
                // A beam wider than any gap: the fixed rule, bit for bit.
                let fixed = GaussianSelection::new(&ubm, x, c).unwrap();
                let wide = GaussianSelection::select(&ubm, x, TopC::new(c).beam(1e6)).unwrap();
                assert_eq!(fixed.indices, wide.indices);
                assert_eq!(fixed.offsets, wide.offsets);
                assert_eq!(fixed.ubm_log_likelihoods(), wide.ubm_log_likelihoods());
                assert_eq!(
                    fixed.log_likelihoods_many(&refs, x).unwrap(),
                    wide.log_likelihoods_many(&refs, x).unwrap()
                );
            }
        }
    }

    /// The beam rule in `f32` with exact ties (duplicated components) and a weight-zero-free
    /// UBM: the same components as the naive rule on the kernel's own values, ties to the lower
    /// index, and the same result for 1 and 2 threads.
    #[test]
    fn beam_selection_handles_ties_and_threads() {
        let base = GaussianMixture::<f32>::random(CovarianceType::Diag, 20, 3, 2.0, 11).unwrap();
        let twice = |v: &[f32]| [v, v].concat();
        let ubm = GaussianMixture::new(
            CovarianceType::Diag,
            twice(base.weights()).iter().map(|w| w / 2.0).collect(),
            twice(base.means()),
            twice(base.covariances()),
        )
        .unwrap();
        let (x, _) = ubm.sample(613, 5).unwrap();
        let x = x.samples();
        let densities = ubm.component_log_densities(x).unwrap();
        for (c, beam) in [(1, 0.0), (2, 0.0), (5, 3.0), (16, 6.0), (17, 6.0), (40, 1e3)] {
            let rule = TopC::new(c).beam(beam);
            let sel = GaussianSelection::select(&ubm, x, rule).unwrap();
            for t in 0..x.n_samples() {
                // The kernel's f32 values: log density + log weight, as the selection sees them.
                let row = &densities.as_slice()[t * 40..(t + 1) * 40];
                let lu: Vec<f32> = row.iter().zip(ubm.log_weights()).map(|(a, b)| a + b).collect();
                let mut order: Vec<usize> = (0..40).collect();
                order.sort_by(|&a, &b| lu[b].total_cmp(&lu[a]).then(a.cmp(&b)));
                let floor = lu[order[0]] - beam as f32;
                let mut want: Vec<u32> =
                    order.iter().filter(|&&i| lu[i] >= floor).take(c).map(|&i| i as u32).collect();
                want.sort_unstable();
                // Ties come in pairs (k, k + 20); a width-0 beam keeps both if C allows.
                assert_eq!(sel.components(t), &want[..], "frame {t}, C = {c}, beam {beam}");
            }
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            let single = one.install(|| GaussianSelection::select(&ubm, x, rule).unwrap());
            assert_eq!(single, sel);
        }
    }
}
