//! Scoring speaker models against a UBM: the average log-likelihood ratio of an utterance
//! ([`llr`]), exactly or over a [`GaussianSelection`] (see the [crate docs](crate) for the
//! maths).
//!
//! A selection is made once per utterance on the UBM and serves any number of speaker models
//! adapted from it: [`GaussianSelection::log_likelihoods`] for one,
//! [`GaussianSelection::log_likelihoods_many`] for several in one pass over the frames
//! (identification), [`GaussianSelection::llr`] for the ratio.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_speech::adapt::{AdaptConfig, adapt};
//! use gmm_speech::{GaussianSelection, TopC};
//!
//! let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 16, 2, 3.0, 1)?;
//! let (a, _) = ubm.sample(400, 2)?;
//! let (b, _) = ubm.sample(400, 3)?;
//! let speakers = [
//!     adapt(&ubm, a.samples(), &AdaptConfig::default())?,
//!     adapt(&ubm, b.samples(), &AdaptConfig::default())?,
//! ];
//! let selection = GaussianSelection::select(&ubm, a.samples(), TopC::new(4))?;
//! let scores = selection.log_likelihoods_many(&[&speakers[0], &speakers[1]], a.samples())?;
//! assert_eq!(scores[1], selection.log_likelihoods(&speakers[1], a.samples())?);
//! // The utterance scores higher under the model adapted to it.
//! assert!(selection.llr(&speakers[0], a.samples())? > selection.llr(&speakers[1], a.samples())?);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Current implementation
//!
//! Exact scoring is two blocked passes of gmm-core's kernels (speaker and UBM, `O(T K d)`
//! each). On a selection a model costs `O(T C d)`: blocks of frames in parallel, each scored
//! by gmm-core's `kernel::selected::score_selected` (a table of means and inverse variances in
//! the model's precision for diagonal models, quadratic forms in 8 partial sums added in one
//! fixed order, log-sum-exps by the SIMD `exp`). Per-frame values do not depend on the thread
//! count or the instruction set, and the ratio sums them in frame order.

use gmm_core::kernel::BLOCK_ROWS;
use gmm_core::kernel::selected::{SelectedScratch, SelectedTable, score_selected};
use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use rayon::prelude::*;

use crate::selection::{GaussianSelection, TopC};

/// Average per-frame log-likelihood ratio of `speaker` against `ubm` over the frames `x`:
/// exact with `top_c = None`, with Gaussian selection on the UBM by the rule `top_c` otherwise.
///
/// # Errors
/// Models of different shape (top-C needs the speaker model to share the UBM's `k` and `d`),
/// frames of the wrong dimension or not finite, no frames, a bad rule ([`TopC::validate`]).
pub fn llr<T: Real>(
    speaker: &GaussianMixture<T>,
    ubm: &GaussianMixture<T>,
    x: Samples<'_, T>,
    top_c: Option<TopC>,
) -> Result<f64> {
    if x.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames to score: give at least one"));
    }
    match top_c {
        None => {
            speaker.check_samples(x)?;
            let s = speaker.total_log_likelihood(x)?;
            let u = ubm.total_log_likelihood(x)?;
            Ok((s - u) / x.n_samples() as f64)
        }
        Some(rule) => GaussianSelection::select(ubm, x, rule)?.llr(speaker, x),
    }
}

impl GaussianSelection {
    /// `log p_s(x_t)` over the selected components of `model`, for every frame.
    ///
    /// # Errors
    /// `model` not of the UBM's shape, `x` not the frames the selection was made on (by count).
    pub fn log_likelihoods<T: Real>(
        &self,
        model: &GaussianMixture<T>,
        x: Samples<'_, T>,
    ) -> Result<Vec<f64>> {
        let mut all = self.log_likelihoods_many(&[model], x)?;
        Ok(all.pop().unwrap_or_default())
    }

    /// `log p_s(x_t)` over the selected components of every model of `models`, for every
    /// frame: one vector per model, in the order given. The same values as
    /// [`log_likelihoods`](Self::log_likelihoods) model by model, but one pass over the frames
    /// and the selection serves them all (speaker identification).
    ///
    /// # Errors
    /// A model not of the UBM's shape, `x` not the frames the selection was made on (by count).
    pub fn log_likelihoods_many<T: Real>(
        &self,
        models: &[&GaussianMixture<T>],
        x: Samples<'_, T>,
    ) -> Result<Vec<Vec<f64>>> {
        for model in models {
            self.check_model(model, x)?;
        }
        if let Some(first) = models.first() {
            first.check_samples(x)?;
        }
        let (n, m, c, d) = (self.n_frames(), models.len(), self.rule.get_c(), self.n_features);
        let tables: Vec<SelectedTable<'_, T>> =
            models.iter().map(|model| SelectedTable::new(model)).collect();
        // Frame-major: frame t's m values are out[t * m..(t + 1) * m].
        let mut out = vec![0.0f64; n * m];
        out.par_chunks_mut(BLOCK_ROWS * m.max(1)).enumerate().for_each_init(
            || (SelectedScratch::new(d, c), vec![0usize; BLOCK_ROWS]),
            |(scratch, counts), (block, out)| {
                let start = block * BLOCK_ROWS;
                let len = out.len() / m.max(1);
                let offsets = &self.offsets[start..=start + len];
                for (count, w) in counts.iter_mut().zip(offsets.windows(2)) {
                    *count = w[1] - w[0];
                }
                let idx = &self.indices[offsets[0]..offsets[len]];
                score_selected(&tables, x, start..start + len, idx, &counts[..len], scratch, out);
            },
        );
        Ok((0..m).map(|s| out.iter().skip(s).step_by(m).copied().collect()).collect())
    }

    fn check_model<T: Real>(&self, model: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<()> {
        if model.n_components() != self.n_components || model.n_features() != self.n_features {
            return Err(Error::new(
                ErrorKind::DimensionMismatch {
                    expected: self.n_components,
                    found: model.n_components(),
                },
                format!(
                    "the model has {} components in {} dimensions but the UBM of the selection \
                     has {} in {}: top-C scoring needs a model adapted from that UBM",
                    model.n_components(),
                    model.n_features(),
                    self.n_components,
                    self.n_features
                ),
            ));
        }
        if x.n_samples() != self.n_frames() {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: self.n_frames(), found: x.n_samples() },
                "the frames differ from those the selection was made on: select again",
            ));
        }
        Ok(())
    }

    /// Average top-C log-likelihood ratio of `speaker` against the UBM over `x`.
    ///
    /// # Errors
    /// As [`log_likelihoods`](Self::log_likelihoods).
    pub fn llr<T: Real>(&self, speaker: &GaussianMixture<T>, x: Samples<'_, T>) -> Result<f64> {
        let s = self.log_likelihoods(speaker, x)?;
        let total: f64 = s.iter().zip(&self.ubm_log_likelihood).map(|(s, u)| s - u).sum();
        Ok(total / s.len().max(1) as f64)
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::CovarianceType;
    use gmm_core::kernel::reference;

    #[test]
    fn exact_llr_matches_reference_and_top_all_is_exact() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 6, 2, 2.0, 1).unwrap();
        let spk = GaussianMixture::<f64>::random(CovarianceType::Diag, 6, 2, 2.0, 2).unwrap();
        let (x, _) = spk.sample(300, 3).unwrap();
        let x = x.samples();
        let want = (0..300)
            .map(|t| {
                reference::log_likelihood(&spk, x.row(t))
                    - reference::log_likelihood(&ubm, x.row(t))
            })
            .sum::<f64>()
            / 300.0;
        let exact = llr(&spk, &ubm, x, None).unwrap();
        let all = llr(&spk, &ubm, x, Some(TopC::new(6))).unwrap();
        assert!((exact - want).abs() < 1e-9, "{exact} vs {want}");
        assert!((all - want).abs() < 1e-9, "{all} vs {want}");
    }

    /// Each bad input is refused with its own error kind.
    #[test]
    fn bad_inputs_are_errors_of_their_kind() {
        let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 2, 2.0, 1).unwrap();
        let other = GaussianMixture::<f64>::random(CovarianceType::Diag, 5, 2, 2.0, 1).unwrap();
        let (x, _) = ubm.sample(10, 1).unwrap();
        let x = x.samples();
        let err = GaussianSelection::new(&ubm, x, 0).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{err}");
        for beam in [-1.0, f64::NAN, f64::INFINITY] {
            let rule = TopC::new(3).beam(beam);
            let err = GaussianSelection::select(&ubm, x, rule).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{beam}");
            let err = llr(&ubm, &ubm, x, Some(rule)).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{beam}");
        }
        // A speaker model that was not adapted from the UBM (5 components against 4).
        let err = llr(&other, &ubm, x, Some(TopC::new(2))).unwrap_err();
        let mismatch = ErrorKind::DimensionMismatch { expected: 4, found: 5 };
        assert_eq!(err.kind(), &mismatch, "{err}");
        // Frames of the wrong dimension for the speaker (exact) or the UBM (selection).
        let wide = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 3, 2.0, 1).unwrap();
        let err = llr(&wide, &ubm, x, None).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::DimensionMismatch { expected: 3, found: 2 }, "{err}");
        let err = llr(&ubm, &wide, x, Some(TopC::new(2))).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::DimensionMismatch { expected: 3, found: 2 }, "{err}");
        // Frames other than those of the selection.
        let sel = GaussianSelection::new(&ubm, x, 2).unwrap();
        let (y, _) = ubm.sample(11, 2).unwrap();
        let err = sel.log_likelihoods(&ubm, y.samples()).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::DimensionMismatch { expected: 10, found: 11 });
        // Non-finite frames.
        let mut bad = x.as_slice().to_vec();
        bad[5] = f64::INFINITY;
        let bad = gmm_core::Matrix::from_vec(bad, 2).unwrap();
        for rule in [None, Some(TopC::new(2)), Some(TopC::new(2).beam(3.0))] {
            let err = llr(&ubm, &ubm, bad.samples(), rule).unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::NonFiniteValue { .. }), "{rule:?}: {err}");
        }
        // No frames cannot even be formed: the matrix refuses them.
        let err = gmm_core::Matrix::<f64>::from_vec(vec![], 2).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::EmptyData);
    }
}
