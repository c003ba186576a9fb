//! Universal background models by component splitting ("mixing up", as HTK's `HHEd MU` and
//! Kaldi's `gmm-global-est --mix-up` do).
//!
//! # The algorithm
//!
//! 1. Start from one diagonal Gaussian: the data's mean and per-dimension variance.
//! 2. Repeat until the target `K`: split the `m = min(k, K - k)` heaviest components (largest
//!    weight; the lower index first on ties), then run [`UbmConfig::iters_per_split`] EM
//!    iterations. Splitting component `j` with mean `μ`, variances `σ²` and weight `w` makes two
//!    components with weight `w/2` each, the same variances, and means `μ ± ε σ_i e_i` moved
//!    apart along `i = argmax σ²` (the principal axis of a diagonal Gaussian),
//!    `ε` = [`UbmConfig::split_offset`], default `√(2/π) ≈ 0.8`: the centres of the best
//!    two-means split of a Gaussian along that axis. (HTK moves by 0.2 standard deviations
//!    and Kaldi by a small random perturbation; from such small moves EM separates heavily
//!    overlapping halves only slowly, so a few iterations per split leave them nearly
//!    merged: on four clusters 20 units apart, 0.2 σ left the means at ±3 after 8 iterations
//!    while 0.8 σ found them.) The count thus
//!    doubles each round: 1, 2, 4, ... and the last round adds what is left.
//! 3. Run [`UbmConfig::final_iters`] EM iterations at the final size.
//!
//! Every stage runs gmm-em's driver ([`gmm_em::driver::iterate`]) over batch EM
//! ([`gmm_em::driver::BatchEm`]: the fused E-step and an update rule). The rule is Kaldi's
//! low-count rule (`MleDiagGmmUpdate`) around maximum likelihood, [`HoldLowCounts`]: a
//! component whose occupancy `N_k` is below [`UbmConfig::min_occupancy`] (Kaldi's
//! `--min-gaussian-occupancy`, default 10 frames here as there) or whose weight is below
//! [`UbmConfig::min_weight`] (`--min-gaussian-weight`, 1e-5) keeps its previous mean and
//! variances (its weight is still updated). Kaldi's `train_diag_ubm.sh` keeps such components
//! during training and removes them only after the last iteration; with
//! [`UbmConfig::remove_low_count`] (default true) they are removed the same way, so the model
//! may end with fewer than `K` components ([`UbmReport::removed`] says how many).
//!
//! **Frame subsampling.** With [`UbmConfig::max_frames`] set and more frames than that, every
//! `⌈n / max⌉`-th frame is used (Kaldi's `subsample-feats --n`), a deterministic choice.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_speech::ubm::{UbmConfig, train_ubm};
//!
//! let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 2, 4.0, 1)?;
//! let (x, _) = truth.sample(4000, 2)?;
//! let fit = train_ubm(&UbmConfig::new(8), x.samples())?;
//! assert_eq!(fit.model.n_components() + fit.report.removed, 8);
//! # Ok::<(), gmm_core::Error>(())
//! ```

use std::time::Instant;

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};

use gmm_em::driver::{BatchEm, StopRule, iterate};
use gmm_em::fit::with_threads;
use gmm_em::init::{data_moments, data_moments_stream};
use gmm_em::stream::Stream;
use gmm_em::update::{HoldLowCounts, MaximumLikelihood, Regularisation};

/// Settings of UBM training (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct UbmConfig {
    n_components: usize,
    iters_per_split: usize,
    final_iters: usize,
    split_offset: f64,
    min_occupancy: f64,
    min_weight: f64,
    remove_low_count: bool,
    max_frames: Option<usize>,
    reg_covar: f64,
    variance_floor: Option<f64>,
    threads: Option<usize>,
}

macro_rules! setting {
    ($(#[$doc:meta])* $name:ident, $get:ident: $t:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $t) -> Self {
            self.$name = value;
            self
        }
        #[doc = concat!("The `", stringify!($name), "` setting.")]
        pub fn $get(&self) -> $t {
            self.$name
        }
    };
}

impl UbmConfig {
    /// A UBM of `n_components` diagonal Gaussians, other settings at their defaults.
    pub fn new(n_components: usize) -> Self {
        Self {
            n_components,
            iters_per_split: 4,
            final_iters: 8,
            split_offset: std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2,
            min_occupancy: 10.0,
            min_weight: 1e-5,
            remove_low_count: true,
            max_frames: None,
            reg_covar: 1e-6,
            variance_floor: None,
            threads: None,
        }
    }

    setting!(
        /// Target number of components `K`.
        n_components, get_n_components: usize);
    setting!(
        /// EM iterations after every split (default 4).
        iters_per_split, get_iters_per_split: usize);
    setting!(
        /// EM iterations at the final size (default 8).
        final_iters, get_final_iters: usize);
    setting!(
        /// How far split means move apart, in standard deviations of the largest-variance
        /// dimension (default `√(2/π) ≈ 0.798`).
        split_offset, get_split_offset: f64);
    setting!(
        /// Occupancy below which a component is not updated (default 10 frames).
        min_occupancy, get_min_occupancy: f64);
    setting!(
        /// Weight below which a component is not updated (default 1e-5).
        min_weight, get_min_weight: f64);
    setting!(
        /// Remove low-count components after the last iteration (default true, as Kaldi).
        remove_low_count, get_remove_low_count: bool);
    setting!(
        /// Use at most about this many frames (every `⌈n/max⌉`-th one); default all.
        max_frames, get_max_frames: Option<usize>);
    setting!(
        /// Added to every variance in every M-step (default 1e-6).
        reg_covar, get_reg_covar: f64);
    setting!(
        /// Optional lower bound on variances (default none).
        variance_floor, get_variance_floor: Option<f64>);
    setting!(
        /// Threads (default: the current rayon pool), capped at
        /// [`gmm_em::fit::max_threads`]; results do not depend on it.
        threads, get_threads: Option<usize>);

    /// Checks the settings; the error names the setting and the accepted range.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if self.n_components == 0 {
            return bad("n_components is 0: ask for at least one component".into());
        }
        if !(self.split_offset.is_finite() && self.split_offset > 0.0) {
            return bad(format!("split_offset is {:?}: use a finite value > 0", self.split_offset));
        }
        if !(self.min_occupancy.is_finite() && self.min_occupancy >= 0.0) {
            return bad(format!(
                "min_occupancy is {:?}: use a finite value >= 0",
                self.min_occupancy
            ));
        }
        if !(self.min_weight.is_finite() && (0.0..1.0).contains(&self.min_weight)) {
            return bad(format!("min_weight is {:?}: use a value in [0, 1)", self.min_weight));
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return bad(format!("reg_covar is {:?}: use a finite value >= 0", self.reg_covar));
        }
        if self.max_frames == Some(0) {
            return bad("max_frames is 0: use at least 1 frame (or none: every frame)".into());
        }
        if self.threads == Some(0) {
            return bad("threads is 0: use at least 1 thread (or none: every core)".into());
        }
        Ok(())
    }
}

/// What happened while training a UBM.
#[derive(Debug, Clone, PartialEq)]
pub struct UbmReport {
    /// Frames used (after subsampling).
    pub frames_used: usize,
    /// Component count after each splitting round, in order.
    pub sizes: Vec<usize>,
    /// Mean log-likelihood per frame before each EM iteration, with the component count then.
    pub log_likelihood: Vec<(usize, f64)>,
    /// Low-count components kept at their previous mean and variances, summed over iterations.
    pub not_updated: usize,
    /// Low-count components removed at the end.
    pub removed: usize,
    /// EM iterations at the final size and their total seconds.
    pub final_iterations: (usize, f64),
    /// Wall-clock seconds of the whole training.
    pub seconds: f64,
}

/// A trained UBM and its report.
#[derive(Debug, Clone)]
pub struct UbmFit<T: Real> {
    /// The model (diagonal covariances).
    pub model: GaussianMixture<T>,
    /// How training went.
    pub report: UbmReport,
}

/// Trains a diagonal UBM on `x` by mixing up (see the module docs).
///
/// # Errors
/// An invalid [`UbmConfig`], empty or non-finite data, fewer frames than components, a
/// covariance that collapses (raise `reg_covar` or set a variance floor).
pub fn train_ubm<T: Real>(config: &UbmConfig, x: Samples<'_, T>) -> Result<UbmFit<T>> {
    config.validate()?;
    if x.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames: give at least one"));
    }
    x.check_finite()?;
    with_threads(config.threads, || train(config, Frames::Memory(x)))
}

/// [`train_ubm`] over frames read chunk by chunk (and, with the stream's
/// [`Combine`](gmm_em::stream::Combine), one rank's share of them): every pass streams, and the
/// model is the one [`train_ubm`] gives on the same frames in memory, bit for bit. With
/// [`UbmConfig::max_frames`] the subsample is read once and trained on in memory.
pub fn train_ubm_stream<T: Real>(config: &UbmConfig, stream: &Stream<'_, T>) -> Result<UbmFit<T>> {
    config.validate()?;
    if stream.n_samples() == 0 {
        return Err(Error::new(ErrorKind::EmptyData, "no frames: give at least one"));
    }
    if stream.get_weights().is_some() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "UBM training weighs every frame 1: give a stream without sample weights",
        ));
    }
    with_threads(config.threads, || match config.max_frames {
        Some(max) if stream.n_samples() > max => {
            let rows = stream.every_nth(stream.n_samples().div_ceil(max))?;
            let x = gmm_core::Matrix::from_vec(rows, stream.n_features())?;
            train(config, Frames::Memory(x.samples()))
        }
        _ => train(config, Frames::Stream(stream)),
    })
}

/// The frames a UBM is trained on.
enum Frames<'a, T: Real> {
    Memory(Samples<'a, T>),
    Stream(&'a Stream<'a, T>),
}

fn train<T: Real>(config: &UbmConfig, frames: Frames<'_, T>) -> Result<UbmFit<T>> {
    let started = Instant::now();
    let subsampled;
    let frames = match frames {
        Frames::Memory(x) => match config.max_frames {
            Some(max) if x.n_samples() > max => {
                let d = x.n_features();
                let step = x.n_samples().div_ceil(max);
                let rows: Vec<T> = (0..x.n_samples())
                    .step_by(step)
                    .flat_map(|i| x.row(i).iter().copied())
                    .collect();
                subsampled = gmm_core::Matrix::from_vec(rows, d)?;
                Frames::Memory(subsampled.samples())
            }
            _ => Frames::Memory(x),
        },
        frames => frames,
    };
    let n_frames = match &frames {
        Frames::Memory(x) => x.n_samples(),
        Frames::Stream(s) => s.n_samples(),
    };
    let target = config.n_components;
    if n_frames < target {
        return Err(Error::new(
            ErrorKind::TooFewSamples { n_samples: n_frames, n_components: target },
            format!(
                "{n_frames} frames cannot train {target} components: use fewer components or \
                 more frames"
            ),
        ));
    }
    let (mean, var) = match &frames {
        Frames::Memory(x) => data_moments(*x, None),
        Frames::Stream(s) => data_moments_stream(s)?,
    };
    let mut params = DiagParams {
        weights: vec![1.0],
        means: mean,
        variances: var.iter().map(|v| v + config.reg_covar).collect(),
    };
    let mut report = UbmReport {
        frames_used: n_frames,
        sizes: vec![1],
        log_likelihood: Vec::new(),
        not_updated: 0,
        removed: 0,
        final_iterations: (0, 0.0),
        seconds: 0.0,
    };
    let rule = HoldLowCounts {
        inner: MaximumLikelihood(Regularisation {
            reg_covar: config.reg_covar,
            variance_floor: config.variance_floor,
        }),
        min_count: config.min_occupancy,
        min_weight: config.min_weight,
    };
    let mut em = match &frames {
        Frames::Memory(x) => BatchEm::new(*x, None, &rule)?,
        Frames::Stream(s) => BatchEm::streamed(s, &rule),
    };
    let mut low = vec![false; 1];
    loop {
        let k = params.weights.len();
        let at_target = k >= target;
        let iters = if at_target { config.final_iters } else { config.iters_per_split };
        let timer = Instant::now();
        // `iters` passes, each an E-step and an update; the model they end with is split (or
        // returned) without being scored.
        let stop = StopRule { max_iter: iters, tol: 0.0, score_last: false };
        let (_, run) = iterate(&mut em, params.model::<T>()?, stop, None)
            .map_err(|e| e.context("UBM training"))?;
        let scored = std::iter::once(run.initial).chain(run.objective).take(iters);
        report.log_likelihood.extend(scored.map(|ll| (k, ll)));
        report.not_updated += run.guards.held_components;
        // The stage's last update in f64 (not rounded to the data's precision), as before the
        // driver: what the next split divides.
        if iters > 0
            && let Some((stats, last)) = em.last_update()
        {
            low = rule.held(stats);
            params = DiagParams {
                weights: last.weights.clone(),
                means: last.means.clone(),
                variances: last.covariances.clone(),
            };
        }
        if at_target {
            report.final_iterations = (iters, timer.elapsed().as_secs_f64());
            break;
        }
        params.split((target - k).min(k), config.split_offset);
        low = vec![false; params.weights.len()];
        report.sizes.push(params.weights.len());
    }
    if config.remove_low_count && low.iter().any(|&l| l) && low.iter().any(|&l| !l) {
        report.removed = low.iter().filter(|&&l| l).count();
        params = params.without(&low);
    }
    let model = params.model()?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(UbmFit { model, report })
}

struct DiagParams {
    weights: Vec<f64>,
    means: Vec<f64>,
    variances: Vec<f64>,
}

impl DiagParams {
    fn model<T: Real>(&self) -> Result<GaussianMixture<T>> {
        let conv = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let sum: f64 = self.weights.iter().sum();
        let weights: Vec<f64> = self.weights.iter().map(|w| w / sum).collect();
        GaussianMixture::new(
            CovarianceType::Diag,
            conv(&weights),
            conv(&self.means),
            conv(&self.variances),
        )
    }

    /// Splits the `m` heaviest components (see the module docs); new components go at the end.
    fn split(&mut self, m: usize, offset: f64) {
        let d = self.means.len() / self.weights.len();
        let mut order: Vec<usize> = (0..self.weights.len()).collect();
        order.sort_by(|&a, &b| self.weights[b].total_cmp(&self.weights[a]).then(a.cmp(&b)));
        for &c in &order[..m] {
            let var = &self.variances[c * d..(c + 1) * d];
            let axis = (0..d).fold(0, |best, j| if var[j] > var[best] { j } else { best });
            let step = offset * var[axis].sqrt();
            let mut mean: Vec<f64> = self.means[c * d..(c + 1) * d].to_vec();
            self.means[c * d + axis] -= step;
            mean[axis] += step;
            self.weights[c] /= 2.0;
            self.weights.push(self.weights[c]);
            self.means.extend_from_slice(&mean);
            self.variances.extend_from_within(c * d..(c + 1) * d);
        }
    }

    fn without(&self, drop: &[bool]) -> Self {
        let d = self.means.len() / self.weights.len();
        let keep: Vec<usize> = (0..drop.len()).filter(|&c| !drop[c]).collect();
        Self {
            weights: keep.iter().map(|&c| self.weights[c]).collect(),
            means: keep.iter().flat_map(|&c| self.means[c * d..(c + 1) * d].to_vec()).collect(),
            variances: keep
                .iter()
                .flat_map(|&c| self.variances[c * d..(c + 1) * d].to_vec())
                .collect(),
        }
    }
}

/// One EM iteration with Kaldi's low-count rule: the new parameters, the mean log-likelihood
/// of `model`, and which components were not updated.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_moves_means_along_the_largest_variance() {
        let mut p = DiagParams {
            weights: vec![0.3, 0.7],
            means: vec![0.0, 0.0, 10.0, 10.0],
            variances: vec![1.0, 1.0, 1.0, 4.0],
        };
        p.split(1, 0.5);
        assert_eq!(p.weights, vec![0.3, 0.35, 0.35]);
        assert_eq!(p.means, vec![0.0, 0.0, 10.0, 9.0, 10.0, 11.0]);
        assert_eq!(p.variances, vec![1.0, 1.0, 1.0, 4.0, 1.0, 4.0]);
    }

    #[test]
    fn reaches_the_target_and_fits_separated_clusters() {
        let truth = GaussianMixture::<f64>::new(
            CovarianceType::Diag,
            vec![0.25; 4],
            vec![-10.0, -10.0, -10.0, 10.0, 10.0, -10.0, 10.0, 10.0],
            vec![1.0; 8],
        )
        .unwrap();
        let (x, _) = truth.sample(4000, 3).unwrap();
        let fit = train_ubm(&UbmConfig::new(4), x.samples()).unwrap();
        assert_eq!(fit.report.sizes, vec![1, 2, 4]);
        assert_eq!(fit.model.n_components(), 4);
        let mut found: Vec<(i64, i64)> = (0..4)
            .map(|c| (fit.model.mean(c)[0].round() as i64, fit.model.mean(c)[1].round() as i64))
            .collect();
        found.sort();
        assert_eq!(found, vec![(-10, -10), (-10, 10), (10, -10), (10, 10)]);
        let truth_ll = truth.score(x.samples()).unwrap();
        assert!(fit.model.score(x.samples()).unwrap() >= truth_ll - 0.01);
    }

    /// Streamed in small chunks (and subsampled from a stream): the in-memory UBM, bit for bit.
    #[test]
    fn streamed_training_equals_in_memory_training() {
        let truth = GaussianMixture::<f32>::random(CovarianceType::Diag, 6, 3, 3.0, 2).unwrap();
        let (x, _) = truth.sample(12_000, 4).unwrap();
        let s = x.samples();
        for config in [UbmConfig::new(8), UbmConfig::new(5).max_frames(Some(5000))] {
            let memory = train_ubm(&config, s).unwrap();
            let stream = Stream::new(&s).chunk_rows(1500);
            let streamed = train_ubm_stream(&config, &stream).unwrap();
            assert_eq!(streamed.model, memory.model);
            assert_eq!(streamed.report.log_likelihood, memory.report.log_likelihood);
            assert_eq!(streamed.report.removed, memory.report.removed);
        }
    }

    #[test]
    fn non_power_of_two_subsampling_and_low_counts() {
        let truth = GaussianMixture::<f32>::random(CovarianceType::Diag, 3, 2, 3.0, 5).unwrap();
        let (x, _) = truth.sample(3000, 1).unwrap();
        let config = UbmConfig::new(6).max_frames(Some(1000)).min_occupancy(1e9);
        let fit = train_ubm(&config, x.samples()).unwrap();
        assert_eq!(fit.report.frames_used, 1000);
        assert_eq!(fit.report.sizes, vec![1, 2, 4, 6]);
        // Every component is low-count: nothing moves and nothing is removed.
        assert_eq!(fit.model.n_components(), 6);
        assert_eq!(fit.report.removed, 0);
        let e = train_ubm(&UbmConfig::new(0), x.samples()).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidConfig, "{e}");
        // As many components as two thirds of the frames: trained (most end low-count).
        let fit = train_ubm(&UbmConfig::new(2000), x.samples()).unwrap();
        assert_eq!(fit.model.n_components() + fit.report.removed, 2000);
        let e = train_ubm(&UbmConfig::new(5000), x.samples()).unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::TooFewSamples { n_samples: 3000, n_components: 5000 },
            "{e}"
        );
    }

    #[test]
    fn each_bad_setting_is_named_alone() {
        let x = [0.0f64, 1.0, 2.0, 3.0];
        let x = gmm_core::Samples::new(&x, 1).unwrap();
        for (config, needle, absent) in [
            (UbmConfig::new(1).max_frames(Some(0)), "max_frames is 0", "threads"),
            (UbmConfig::new(1).threads(Some(0)), "threads is 0", "max_frames"),
            (UbmConfig::new(1).reg_covar(-1e300), "reg_covar is -1e300", "000000"),
        ] {
            let e = train_ubm(&config, x).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidConfig, "{e}");
            assert!(e.message().contains(needle) && !e.message().contains(absent), "{e}");
        }
    }
}
