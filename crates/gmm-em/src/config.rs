//! [`EmConfig`]: every setting of a fit, fluent to build, validated once.

use std::fmt;
use std::str::FromStr;

use gmm_core::{CovarianceType, Error, ErrorKind, Result};

/// How each restart chooses its starting model (a given model is passed to
/// [`crate::fit()`] through [`crate::FitOptions::start`] instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// k-means++ seeds refined by Lloyd's k-means, then one M-step from the hard labels
    /// (the original package's default, and scikit-learn's).
    KMeans,
    /// k-means++ seeds alone, then one M-step from the nearest-seed labels.
    KMeansPlusPlus,
    /// `k` distinct random rows as means, the data's per-dimension variance (plus
    /// `reg_covar`) as every component's (diagonal) covariance, equal weights.
    RandomRows,
    /// Responsibilities drawn uniformly and normalised per sample, then one M-step
    /// (scikit-learn's `init_params="random"`).
    RandomResponsibilities,
    /// The first restart starts from the partition into `k` clusters of a model-based
    /// hierarchical agglomeration (Ward's criterion in mclust's scaled-SVD space, on at most
    /// 2,000 rows: [`crate::hierarchy`]) and one M-step — deterministic, as mclust's default;
    /// every further restart from k-means with its own seed, so `n_init = 2` tries both
    /// (the default of [`crate::SelectConfig`]).
    Hierarchical,
}

impl Init {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KMeans => "kmeans",
            Self::KMeansPlusPlus => "kmeans++",
            Self::RandomRows => "random",
            Self::RandomResponsibilities => "random-resp",
            Self::Hierarchical => "hierarchical",
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Init {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "kmeans" => Ok(Self::KMeans),
            "kmeans++" => Ok(Self::KMeansPlusPlus),
            "random" => Ok(Self::RandomRows),
            "random-resp" => Ok(Self::RandomResponsibilities),
            "hierarchical" | "hc" => Ok(Self::Hierarchical),
            other => Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "unknown init {other:?}: use kmeans, kmeans++, random, random-resp or \
                     hierarchical"
                ),
            )),
        }
    }
}

/// EM's convergence threshold unless the configuration or the method says otherwise: the mean
/// log-likelihood per sample changing by less than this (scikit-learn's `tol`).
pub const DEFAULT_TOL: f64 = 1e-3;

/// EM's iteration limit unless the configuration or the method says otherwise (scikit-learn's).
pub const DEFAULT_MAX_ITER: usize = 100;

/// Settings of an EM fit. Defaults follow scikit-learn where it has the setting.
///
/// `max_iter` and `tol` left unset take the default of the method that fits
/// ([`crate::Method::resolve`]): [`DEFAULT_MAX_ITER`] and [`DEFAULT_TOL`] for EM, MAP and online
/// EM, longer runs to a tighter threshold for variational Bayes, whose job — pruning the
/// components the data does not need — takes hundreds of iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct EmConfig {
    n_components: usize,
    covariance_type: CovarianceType,
    init: Init,
    max_iter: Option<usize>,
    tol: Option<f64>,
    n_init: usize,
    seed: u64,
    threads: Option<usize>,
    reg_covar: f64,
    variance_floor: Option<f64>,
    kmeans_max_iter: usize,
    kmeans_sample_size: Option<usize>,
}

impl Default for EmConfig {
    fn default() -> Self {
        Self {
            n_components: 1,
            covariance_type: CovarianceType::Full,
            init: Init::KMeans,
            max_iter: None,
            tol: None,
            n_init: 1,
            seed: 0,
            threads: None,
            reg_covar: 1e-6,
            variance_floor: None,
            kmeans_max_iter: 100,
            kmeans_sample_size: None,
        }
    }
}

macro_rules! setting {
    ($(#[$doc:meta])* $name:ident: $t:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $t) -> Self {
            self.$name = value;
            self
        }
    };
}

impl EmConfig {
    /// `k` components of the given type, other settings at their defaults.
    pub fn new(n_components: usize, covariance_type: CovarianceType) -> Self {
        Self { n_components, covariance_type, ..Self::default() }
    }

    setting!(
        /// Number of components `k` (default 1).
        n_components: usize);
    setting!(
        /// Covariance structure (default full, as scikit-learn).
        covariance_type: CovarianceType);
    setting!(
        /// Initialisation of every restart (default k-means).
        init: Init);
    /// Maximum EM iterations per restart (default: the method's, [`DEFAULT_MAX_ITER`] for
    /// EM); 0 returns the start.
    pub fn max_iter(mut self, value: usize) -> Self {
        self.max_iter = Some(value);
        self
    }

    /// Stop when the objective per sample (mean log-likelihood, or VB's bound) changes by less
    /// than this between iterations (default: the method's, [`DEFAULT_TOL`] for EM); 0 runs
    /// exactly `max_iter` iterations.
    pub fn tol(mut self, value: f64) -> Self {
        self.tol = Some(value);
        self
    }
    setting!(
        /// Restarts, each initialised from its own seed; the best log-likelihood wins (default 1).
        n_init: usize);
    setting!(
        /// Seed of every random choice (default 0).
        seed: u64);
    setting!(
        /// Threads (`None`, the default: the current rayon pool), at most
        /// [`crate::fit::max_threads`]: more are capped to it (the report's `threads` says how
        /// many ran). Results do not depend on it.
        threads: Option<usize>);
    setting!(
        /// Added to every variance in every M-step (default 1e-6, as scikit-learn).
        reg_covar: f64);
    setting!(
        /// Optional lower bound on variances after `reg_covar` (default none).
        variance_floor: Option<f64>);
    setting!(
        /// Maximum Lloyd iterations of the k-means initialisation (default 100).
        kmeans_max_iter: usize);
    setting!(
        /// Rows the k-means (and k-means++) start runs on: `None` (the default) takes a uniform
        /// random subsample of `max(4096, 100 k)` rows when the data has more, so the start
        /// costs about as much as two EM iterations on large data; `Some(m)` takes `m` rows
        /// (`Some(usize::MAX)`: all of them). The final labels always cover every row.
        kmeans_sample_size: Option<usize>);

    /// Number of components.
    pub fn get_n_components(&self) -> usize {
        self.n_components
    }
    /// Covariance type.
    pub fn get_covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }
    /// Initialisation.
    pub fn get_init(&self) -> Init {
        self.init
    }
    /// Maximum iterations ([`DEFAULT_MAX_ITER`] when unset).
    pub fn get_max_iter(&self) -> usize {
        self.max_iter.unwrap_or(DEFAULT_MAX_ITER)
    }
    /// Convergence threshold ([`DEFAULT_TOL`] when unset).
    pub fn get_tol(&self) -> f64 {
        self.tol.unwrap_or(DEFAULT_TOL)
    }
    /// Whether `max_iter` and `tol` were set (unset ones take the method's defaults).
    pub fn has_stop_rule(&self) -> (bool, bool) {
        (self.max_iter.is_some(), self.tol.is_some())
    }
    /// Restarts.
    pub fn get_n_init(&self) -> usize {
        self.n_init
    }
    /// Seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }
    /// Threads.
    pub fn get_threads(&self) -> Option<usize> {
        self.threads
    }
    /// `reg_covar`.
    pub fn get_reg_covar(&self) -> f64 {
        self.reg_covar
    }
    /// Variance floor.
    pub fn get_variance_floor(&self) -> Option<f64> {
        self.variance_floor
    }
    /// Lloyd iterations of the k-means start.
    pub fn get_kmeans_max_iter(&self) -> usize {
        self.kmeans_max_iter
    }

    /// Rows the k-means start uses for `n` samples (see
    /// [`kmeans_sample_size`](Self::kmeans_sample_size)).
    pub fn get_kmeans_sample_size(&self, n: usize) -> usize {
        self.kmeans_sample_size
            .unwrap_or(4096.max(100 * self.n_components))
            .clamp(self.n_components, n.max(self.n_components))
            .min(n)
    }

    /// Checks every setting; the error names the setting and the accepted range.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if self.n_components == 0 {
            return bad("n_components is 0: ask for at least one component".into());
        }
        let tol = self.get_tol();
        if !(tol.is_finite() && tol >= 0.0) {
            return bad(format!("tol is {tol}: use a finite value >= 0"));
        }
        if self.n_init == 0 {
            return bad("n_init is 0: use at least one restart".into());
        }
        if self.threads == Some(0) {
            return bad("threads is 0: use at least one thread".into());
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return bad(format!("reg_covar is {}: use a finite value >= 0", self.reg_covar));
        }
        if self.kmeans_sample_size.is_some_and(|m| m < self.n_components) {
            return bad(format!(
                "kmeans_sample_size is below n_components ({}): use at least one row per component",
                self.n_components
            ));
        }
        if let Some(f) = self.variance_floor
            && !(f.is_finite() && f >= 0.0)
        {
            return bad(format!("variance_floor is {f}: use a finite value >= 0"));
        }
        Ok(())
    }
}
