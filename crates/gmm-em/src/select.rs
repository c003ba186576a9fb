//! Model selection: fit a grid of component counts and covariance types, score every fit by an
//! information criterion, keep the best.
//!
//! # The maths
//!
//! For a fitted model with total log-likelihood `log L`, `p` free parameters
//! ([`GaussianMixture::n_parameters`]) and `n` samples (lower is better for all three):
//!
//! ```text
//! BIC = -2 log L + p ln n                      (scikit-learn's bic())
//! AIC = -2 log L + 2 p                         (scikit-learn's aic())
//! ICL = BIC + 2 Σ_n -ln max_k τ_nk             (Biernacki, Celeux & Govaert 2000;
//!                                               mclust's icl() with the sign flipped)
//! ```
//!
//! ICL adds twice the entropy of the MAP classification to BIC, so it prefers models whose
//! components are well separated (it penalises a cluster modelled by two overlapping
//! components, which BIC accepts when it improves the density).
//!
//! # Overview
//!
//! * [`SelectConfig`]: the grid (component counts x covariance types), the [`Criterion`] and a
//!   base [`EmConfig`] whose settings (restarts, seed, tolerances, `reg_covar`, threads) every
//!   fit uses;
//! * [`select`] runs the grid and returns a [`Selection`]: one [`Candidate`] per grid cell, in
//!   grid order (component counts outer, covariance types inner, as given), the index of the best
//!   and its model.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_em::{Criterion, EmConfig, SelectConfig, select};
//!
//! let truth = GaussianMixture::<f64>::new(
//!     CovarianceType::Spherical,
//!     vec![0.5, 0.5],
//!     vec![0.0, 0.0, 8.0, 0.0],
//!     vec![1.0, 1.0],
//! )?;
//! let (x, _) = truth.sample(600, 1)?;
//! let config = SelectConfig::new(vec![1, 2, 3], vec![CovarianceType::Spherical, CovarianceType::Full])
//!     .criterion(Criterion::Bic)
//!     .em(EmConfig::default().n_init(2).seed(5));
//! let selection = select(&config, x.samples())?;
//! assert_eq!(selection.best_candidate().n_components, 2);
//! assert_eq!(selection.candidates.len(), 6);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Rules
//!
//! * **Starts** ([`SelectConfig::default_em`]). Every cell runs two restarts and keeps the
//!   one with the higher log-likelihood: the deterministic start of mclust's model-based
//!   hierarchical agglomeration ([`Init::Hierarchical`], Fraley 1998) and one k-means start.
//!   One k-means start alone depends on luck: on Old Faithful it found the best model (3 tied,
//!   BIC 2314.9) for 1 seed in 5 and settled for 2 full (2322.2) otherwise; scikit-learn needs
//!   about 10 restarts per cell for the same. The hierarchical start finds it for every seed,
//!   and the k-means start covers the cells where the tree's partition is a poor start.
//!   [`Candidate`] says which start won.
//! * **Collapsed components.** A fit in which a component's covariance, less `reg_covar`, is
//!   singular ([`collapsed_components`]) is a spurious maximum of the likelihood — its BIC is
//!   bought by `reg_covar` — and is chosen only when no cell without one succeeded (mclust
//!   reports no BIC for such fits). The more thorough a search, the more of them it meets:
//!   iris's measurements, rounded to 0.1 cm, give fits of 5 or 7 full components with BIC
//!   below the best proper model's.
//! * **Seeds.** The cell `(k, type)` fits with seed `stream_seed(stream_seed(seed, k), t)`, `t`
//!   the type's index in [`CovarianceType::ALL`] (diag 0, full 1, spherical 2, tied 3): it
//!   depends on the cell alone, not on which other cells the grid holds, so adding a type or a
//!   `k` to the grid does not change the fits already there.
//! * **Failures.** A cell whose fit fails (more components than samples, a covariance that is
//!   no longer positive definite, ...) is reported with its error and takes no part in the
//!   choice; [`select`] fails only when every cell failed (or the configuration or data is
//!   invalid).
//! * **Ties** (equal criterion values, bit for bit) go to the model with fewer parameters, then
//!   to the earlier cell in grid order.
//! * **Determinism.** Cells run one after another, each fit on all the threads; every fit and
//!   every criterion is bit-identical for any thread count, so the table and the choice are too.
//!
//! # Current implementation
//!
//! Each cell is one [`crate::fit()`] (with its restarts) followed by one blocked pass of
//! [`GaussianMixture::criteria`] over the data for the log-likelihood and the classification
//! entropy, and the eigenvalues of its covariances (for collapsed components). The
//! hierarchical start's tree is built once for the whole grid — on data of more than 2,000
//! rows from a subsample drawn from the base seed alone — and each cell cuts it at its `k`
//! (0.25 s per tree at 2,000 rows of 26 features; the default search on one FSDD speaker's
//! 21,585 frames, k = 1..8 and the four types, takes ~1.7x the time of one k-means start per
//! cell). Only the best model is kept in memory.

use std::fmt;
use std::str::FromStr;

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};

use crate::config::{EmConfig, Init};
use crate::fit::{fit_on_tree, with_threads};
use crate::hierarchy::symmetric_eigen;
use crate::init::{StartTree, data_moments, stream_seed};
use crate::stream::Data;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The information criterion a selection minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Criterion {
    /// Bayesian information criterion (the default).
    #[default]
    Bic,
    /// Akaike information criterion.
    Aic,
    /// Integrated completed likelihood.
    Icl,
}

impl Criterion {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bic => "bic",
            Self::Aic => "aic",
            Self::Icl => "icl",
        }
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Criterion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "bic" => Ok(Self::Bic),
            "aic" => Ok(Self::Aic),
            "icl" => Ok(Self::Icl),
            _ => Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("unknown criterion {s:?}: use bic, aic or icl"),
            )),
        }
    }
}

/// The grid and settings of a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectConfig {
    components: Vec<usize>,
    covariance_types: Vec<CovarianceType>,
    criterion: Criterion,
    em: EmConfig,
}

impl SelectConfig {
    /// A grid of `components` x `covariance_types` scored by BIC with
    /// [`SelectConfig::default_em`]'s settings.
    pub fn new(components: Vec<usize>, covariance_types: Vec<CovarianceType>) -> Self {
        Self { components, covariance_types, criterion: Criterion::Bic, em: Self::default_em() }
    }

    /// The EM settings a selection uses unless told otherwise: [`EmConfig::default`] with
    /// [`Init::Hierarchical`] and two restarts — every cell tries the deterministic start of
    /// mclust's model-based agglomeration and one k-means start, and keeps the better (see the
    /// module docs).
    pub fn default_em() -> EmConfig {
        EmConfig::default().init(Init::Hierarchical).n_init(2)
    }

    /// The criterion to minimise (default BIC).
    pub fn criterion(mut self, criterion: Criterion) -> Self {
        self.criterion = criterion;
        self
    }

    /// EM settings of every fit (its `n_components` and `covariance_type` are replaced by the
    /// cell's; its seed is the base seed the cells' seeds derive from).
    pub fn em(mut self, em: EmConfig) -> Self {
        self.em = em;
        self
    }

    /// Component counts, in grid order.
    pub fn get_components(&self) -> &[usize] {
        &self.components
    }

    /// Covariance types, in grid order.
    pub fn get_covariance_types(&self) -> &[CovarianceType] {
        &self.covariance_types
    }

    /// The criterion.
    pub fn get_criterion(&self) -> Criterion {
        self.criterion
    }

    /// The base EM settings.
    pub fn get_em(&self) -> &EmConfig {
        &self.em
    }

    /// The EM configuration of cell `(k, covariance_type)`, with its derived seed (see the
    /// module docs).
    pub fn cell_config(&self, k: usize, covariance_type: CovarianceType) -> EmConfig {
        self.em.clone().n_components(k).covariance_type(covariance_type).seed(cell_seed(
            self.em.get_seed(),
            k,
            covariance_type,
        ))
    }

    /// Checks the grid (non-empty, no zero and no repeated entries) and the EM settings.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if self.components.is_empty() {
            return bad("no component counts to try: give at least one k".into());
        }
        if self.covariance_types.is_empty() {
            return bad("no covariance types to try: give at least one".into());
        }
        if self.components.contains(&0) {
            return bad("a component count of 0 is in the grid: use k >= 1".into());
        }
        for (i, k) in self.components.iter().enumerate() {
            if self.components[..i].contains(k) {
                return bad(format!("k = {k} appears twice in the grid: give each k once"));
            }
        }
        for (i, t) in self.covariance_types.iter().enumerate() {
            if self.covariance_types[..i].contains(t) {
                return bad(format!("covariance type {t} appears twice: give each type once"));
            }
        }
        self.em.validate()
    }
}

/// The seed of grid cell `(k, covariance_type)` from the base `seed`.
pub fn cell_seed(seed: u64, k: usize, covariance_type: CovarianceType) -> u64 {
    let t = CovarianceType::ALL.iter().position(|&c| c == covariance_type).unwrap_or(0);
    stream_seed(stream_seed(seed, k as u64), t as u64)
}

/// A component's covariance less `reg_covar` is *singular* when its smallest eigenvalue, in
/// units of the data's per-dimension variances, is at most this (see
/// [`collapsed_components`]).
pub const COLLAPSED_EIGENVALUE: f64 = 1e-10;

/// How many components of `model` have *collapsed* onto a subspace of the data: their
/// covariance less `reg_covar` on the diagonal — the scatter of their samples — is singular to
/// rounding (smallest eigenvalue at most [`COLLAPSED_EIGENVALUE`] after scaling dimension `j`
/// by the data's standard deviation `√variance[j]`; spherical variances by the mean variance).
/// For tied models, every component when the shared covariance is singular. Dimensions in
/// which the data is constant are left out.
///
/// Such a fit is a spurious maximum of the likelihood (a component sitting on a few samples
/// that share a value, held up only by `reg_covar`): its log-likelihood, and so its BIC,
/// grows without bound as `reg_covar` shrinks. mclust reports no BIC for it (`NA`, a singular
/// covariance); [`select`] does not choose it while a cell without one succeeded. On iris, for
/// example, a thorough search finds 5 full components with BIC 488.3 — one of them on setosa
/// flowers of equal petal width, an eigenvalue of exactly `reg_covar` — where the best proper
/// model is 2 full components at 574.0.
pub fn collapsed_components<T: Real>(
    model: &GaussianMixture<T>,
    variance: &[f64],
    reg_covar: f64,
) -> usize {
    let (k, d) = (model.n_components(), model.n_features());
    let c: Vec<f64> = model.covariances().iter().map(|v| v.to_f64()).collect();
    let live: Vec<usize> = (0..d).filter(|&j| variance[j] > 0.0).collect();
    let singular_full = |m: &[f64]| -> bool {
        let e = live.len();
        if e == 0 {
            return false;
        }
        let mut scaled = vec![0.0; e * e];
        for (a, &i) in live.iter().enumerate() {
            for (b, &j) in live.iter().enumerate() {
                let reg = if i == j { reg_covar } else { 0.0 };
                scaled[a * e + b] = (m[i * d + j] - reg) / (variance[i] * variance[j]).sqrt();
            }
        }
        let (values, _) = symmetric_eigen(scaled, e);
        values.iter().copied().fold(f64::INFINITY, f64::min) <= COLLAPSED_EIGENVALUE
    };
    match model.covariance_type() {
        CovarianceType::Full => {
            (0..k).filter(|&c_| singular_full(&c[c_ * d * d..][..d * d])).count()
        }
        CovarianceType::Tied => {
            if singular_full(&c) {
                k
            } else {
                0
            }
        }
        CovarianceType::Diag => (0..k)
            .filter(|&c_| {
                live.iter()
                    .any(|&j| (c[c_ * d + j] - reg_covar) / variance[j] <= COLLAPSED_EIGENVALUE)
            })
            .count(),
        CovarianceType::Spherical => {
            let mean = variance.iter().sum::<f64>() / d as f64;
            if mean <= 0.0 {
                return 0;
            }
            c.iter().filter(|&&v| (v - reg_covar) / mean <= COLLAPSED_EIGENVALUE).count()
        }
    }
}

/// The scores of a successful fit.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateScore {
    /// BIC of the fitted model on the data.
    pub bic: f64,
    /// AIC.
    pub aic: f64,
    /// ICL.
    pub icl: f64,
    /// Total log-likelihood `Σ_n log p(x_n)` of the fitted model.
    pub log_likelihood: f64,
    /// Mean log-likelihood per sample (scikit-learn's `score`).
    pub mean_log_likelihood: f64,
    /// Free parameters.
    pub n_parameters: usize,
    /// Whether the best restart converged.
    pub converged: bool,
    /// EM iterations of the best restart.
    pub n_iter: usize,
    /// Components that collapsed onto a subspace of the data ([`collapsed_components`]): a
    /// cell with any is chosen only when no cell without one succeeded.
    pub collapsed_components: usize,
    /// Which start the fit came from: `"hierarchical"` or `"kmeans"` (the restart that won,
    /// for [`Init::Hierarchical`]), else the configured start's name.
    pub start: &'static str,
}

impl CandidateScore {
    /// The value of `criterion`.
    pub fn value(&self, criterion: Criterion) -> f64 {
        match criterion {
            Criterion::Bic => self.bic,
            Criterion::Aic => self.aic,
            Criterion::Icl => self.icl,
        }
    }
}

/// One cell of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Components `k`.
    pub n_components: usize,
    /// Covariance type.
    pub covariance_type: CovarianceType,
    /// The cell's seed (see the module docs).
    pub seed: u64,
    /// The scores, or why the fit failed.
    pub outcome: std::result::Result<CandidateScore, Error>,
}

/// The outcome of [`select`].
#[derive(Debug, Clone)]
pub struct Selection<T: Real> {
    /// The criterion minimised.
    pub criterion: Criterion,
    /// Every cell, in grid order.
    pub candidates: Vec<Candidate>,
    /// Index of the best cell in [`candidates`](Self::candidates).
    pub best: usize,
    /// The best cell's scores (also in its candidate).
    pub score: CandidateScore,
    /// The best cell's fitted model.
    pub model: GaussianMixture<T>,
}

impl<T: Real> Selection<T> {
    /// The best cell.
    pub fn best_candidate(&self) -> &Candidate {
        &self.candidates[self.best]
    }
}

/// Fits every cell of the grid and keeps the one with the lowest criterion (see the module
/// docs for seeds, failures and ties).
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for an empty or repeated grid or invalid EM settings, the data
/// checks of [`crate::fit()`] (empty data, non-finite values), and — when every cell failed —
/// the first cell's error kind with every cell's message.
pub fn select<T: Real>(config: &SelectConfig, x: Samples<'_, T>) -> Result<Selection<T>> {
    config.validate()?;
    x.check_finite()?;
    with_threads(config.em.get_threads(), || run(config, x))
}

fn run<T: Real>(config: &SelectConfig, x: Samples<'_, T>) -> Result<Selection<T>> {
    let criterion = config.criterion;
    let mut candidates =
        Vec::with_capacity(config.components.len() * config.covariance_types.len());
    // (criterion value, parameters, index, model) of the best so far.
    let mut best: Option<(CandidateScore, usize, GaussianMixture<T>)> = None;
    let (_, variance) = data_moments(x, None);
    // One tree for every cell's hierarchical start (from a subsample drawn from the base seed
    // on data of more than 2,000 rows).
    let tree = match config.em.get_init() {
        Init::Hierarchical => {
            let mut rng =
                Xoshiro256PlusPlus::seed_from_u64(stream_seed(config.em.get_seed(), u64::MAX));
            Some(StartTree::new(&Data::Memory { x, weights: None }, &mut rng)?)
        }
        _ => None,
    };
    for &k in &config.components {
        for &covariance_type in &config.covariance_types {
            let em = config.cell_config(k, covariance_type).threads(None);
            let outcome = fit_cell(&em, x, &variance, tree.as_ref());
            let index = candidates.len();
            let outcome = match outcome {
                Ok((score, model)) => {
                    let value = score.value(criterion);
                    let proper = score.collapsed_components == 0;
                    let better = best.as_ref().is_none_or(|(b, _, _)| {
                        let v = b.value(criterion);
                        let best_proper = b.collapsed_components == 0;
                        (proper && !best_proper)
                            || (proper == best_proper
                                && (value < v
                                    || (value == v && score.n_parameters < b.n_parameters)))
                    });
                    if better {
                        best = Some((score.clone(), index, model));
                    }
                    Ok(score)
                }
                Err(e) => Err(e),
            };
            candidates.push(Candidate {
                n_components: k,
                covariance_type,
                seed: em.get_seed(),
                outcome,
            });
        }
    }
    match best {
        Some((score, best, model)) => Ok(Selection { criterion, candidates, best, score, model }),
        None => Err(all_failed(&candidates)),
    }
}

/// Fits one cell and scores it; a non-finite criterion counts as a failure. `variance` is the
/// data's per-dimension variance.
fn fit_cell<T: Real>(
    em: &EmConfig,
    x: Samples<'_, T>,
    variance: &[f64],
    tree: Option<&StartTree<T>>,
) -> Result<(CandidateScore, GaussianMixture<T>)> {
    let fit = fit_on_tree(em, x, tree)?;
    let start = match em.get_init() {
        Init::Hierarchical if fit.report.best_restart > 0 => Init::KMeans.as_str(),
        init => init.as_str(),
    };
    let c = fit.model.criteria(x)?;
    let score = CandidateScore {
        bic: c.bic(),
        aic: c.aic(),
        icl: c.icl(),
        log_likelihood: c.log_likelihood,
        mean_log_likelihood: c.mean_log_likelihood(),
        n_parameters: c.n_parameters,
        converged: fit.report.converged,
        n_iter: fit.report.n_iter,
        collapsed_components: collapsed_components(&fit.model, variance, em.get_reg_covar()),
        start,
    };
    if ![score.bic, score.aic, score.icl].iter().all(|v| v.is_finite()) {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "the fitted model's log-likelihood is {}: raise reg_covar or scale the data",
                score.log_likelihood
            ),
        ));
    }
    Ok((score, fit.model))
}

fn all_failed(candidates: &[Candidate]) -> Error {
    let mut kind = ErrorKind::InvalidConfig;
    let mut parts = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        if let Err(e) = &c.outcome {
            if i == 0 {
                kind = e.kind().clone();
            }
            parts.push(format!("k = {} {}: {}", c.n_components, c.covariance_type, e.message()));
        }
    }
    Error::new(kind, format!("every fit of the grid failed ({})", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::Matrix;

    /// Four well-separated round clusters in 2-D (centres 12 standard deviations apart).
    fn four_clusters(n: usize, seed: u64) -> Matrix<f64> {
        let truth = GaussianMixture::<f64>::new(
            CovarianceType::Spherical,
            vec![0.25; 4],
            vec![0.0, 0.0, 12.0, 0.0, 0.0, 12.0, 12.0, 12.0],
            vec![1.0; 4],
        )
        .unwrap();
        truth.sample(n, seed).unwrap().0
    }

    #[test]
    fn bic_picks_four_clusters_for_several_seeds() {
        for seed in 0..5 {
            let x = four_clusters(600, 100 + seed);
            let config = SelectConfig::new((1..=6).collect(), CovarianceType::ALL.to_vec())
                .em(EmConfig::default().n_init(2).seed(seed));
            let s = select(&config, x.samples()).unwrap();
            assert_eq!(s.candidates.len(), 24);
            let best = s.best_candidate();
            assert_eq!(best.n_components, 4, "seed {seed}: {best:?}");
            assert_eq!(s.model.n_components(), 4);
            // The table's numbers are the model's: BIC recomputed from the returned model.
            assert_eq!(s.model.bic(x.samples()).unwrap(), s.score.bic);
            assert_eq!(best.outcome.as_ref().unwrap(), &s.score);
            // Nothing in the table is lower than the choice.
            for c in &s.candidates {
                let score = c.outcome.as_ref().unwrap();
                assert!(score.bic >= s.score.bic, "{c:?}");
                assert!(score.icl >= score.bic, "ICL below BIC: {c:?}");
                let p = score.n_parameters as f64;
                let expected = 2.0 * p - p * 600f64.ln();
                assert!((score.aic - score.bic - expected).abs() < 1e-9 * score.bic.abs());
            }
        }
    }

    #[test]
    fn failed_cells_are_reported_not_fatal() {
        let x = four_clusters(5, 1);
        let config = SelectConfig::new((1..=8).collect(), vec![CovarianceType::Diag])
            .em(EmConfig::default().seed(3));
        let s = select(&config, x.samples()).unwrap();
        assert_eq!(s.candidates.len(), 8);
        for c in &s.candidates {
            match (&c.outcome, c.n_components > 5) {
                (Err(e), true) => assert!(
                    matches!(e.kind(), ErrorKind::TooFewSamples { n_samples: 5, .. }),
                    "{e:?}"
                ),
                (Ok(_), false) => {}
                other => panic!("k = {}: {other:?}", c.n_components),
            }
        }
        assert!(s.best_candidate().n_components <= 5);
    }

    #[test]
    fn every_cell_failing_is_an_error() {
        let x = four_clusters(3, 1);
        let config = SelectConfig::new(vec![4, 5], vec![CovarianceType::Full]);
        let err = select(&config, x.samples()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::TooFewSamples { .. }), "{err:?}");
        assert!(err.message().contains("k = 4 full") && err.message().contains("k = 5 full"));
    }

    #[test]
    fn bad_grids_are_refused() {
        let x = four_clusters(50, 1);
        for config in [
            SelectConfig::new(vec![], vec![CovarianceType::Full]),
            SelectConfig::new(vec![1], vec![]),
            SelectConfig::new(vec![0, 1], vec![CovarianceType::Full]),
            SelectConfig::new(vec![2, 2], vec![CovarianceType::Full]),
            SelectConfig::new(vec![2], vec![CovarianceType::Full, CovarianceType::Full]),
            SelectConfig::new(vec![2], vec![CovarianceType::Full])
                .em(EmConfig::default().n_init(0)),
        ] {
            let err = select(&config, x.samples()).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{config:?}");
        }
    }

    /// The same table, bit for bit, on 1, 2 and 3 threads; and a cell's fit does not depend on
    /// the rest of the grid.
    #[test]
    fn deterministic_for_any_thread_count_and_grid() {
        // Overlapping clusters on more than one leaf of blocks, so restarts and EM matter.
        let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 3, 0.5, 9).unwrap();
        let (x, _) = truth.sample(5000, 2).unwrap();
        let grid =
            SelectConfig::new(vec![2, 3, 4], vec![CovarianceType::Full, CovarianceType::Diag])
                .criterion(Criterion::Icl)
                .em(EmConfig::default().n_init(2).seed(11));
        // Pools of our own: `threads` is capped at the machine's parallelism.
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| select(&grid, x.samples()).unwrap())
        };
        let one = on(1);
        for threads in [2, 3] {
            let other = on(threads);
            assert_eq!(one.candidates, other.candidates, "{threads} threads");
            assert_eq!(one.model, other.model);
        }
        let single = SelectConfig::new(vec![3], vec![CovarianceType::Diag])
            .em(EmConfig::default().n_init(2).seed(11));
        let s = select(&single, x.samples()).unwrap();
        let same = one
            .candidates
            .iter()
            .find(|c| c.n_components == 3 && c.covariance_type == CovarianceType::Diag)
            .unwrap();
        assert_eq!(&s.candidates[0], same);
    }

    #[test]
    fn criterion_names() {
        for c in [Criterion::Bic, Criterion::Aic, Criterion::Icl] {
            assert_eq!(c.as_str().parse::<Criterion>().unwrap(), c);
        }
        assert_eq!("BIC".parse::<Criterion>().unwrap(), Criterion::Bic);
        assert_eq!("dic".parse::<Criterion>().unwrap_err().kind(), &ErrorKind::InvalidConfig);
    }
}
