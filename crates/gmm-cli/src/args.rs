//! The command line, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Gaussian mixture models: fit with EM, score, predict, sample.
#[derive(Debug, Parser)]
#[command(name = "gmm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing `fit`'s options would buy nothing
pub enum Command {
    /// Fit a mixture to DATA with EM and write the model (JSON).
    Fit(FitArgs),
    /// Print the mean log-likelihood per sample of DATA under MODEL.
    Score(ScoreArgs),
    /// Print the most probable component of every sample (or the posteriors).
    Predict(PredictArgs),
    /// Draw samples from MODEL.
    Sample(SampleArgs),
}

/// Covariance structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Covariance {
    /// Diagonal covariance per component.
    Diag,
    /// Full covariance matrix per component.
    Full,
    /// One variance per component.
    Spherical,
    /// One full covariance shared by all components.
    Tied,
}

/// Precision of the computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dtype {
    /// Single precision (statistics still accumulate in f64).
    F32,
    /// Double precision.
    F64,
}

/// `gmm fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// Data: .npy (float32 or float64, C or Fortran order) or .csv/.tsv/.txt (header optional).
    pub data: PathBuf,
    /// Number of components (taken from the model file when --init names one).
    #[arg(short = 'k', long = "components")]
    pub k: Option<usize>,
    /// Covariance structure [default: full] (taken from the model file with --init MODEL.json).
    #[arg(long, value_enum)]
    pub covariance: Option<Covariance>,
    /// Start: kmeans, kmeans++, random (random rows), random-resp, or a model file (.json).
    #[arg(long, default_value = "kmeans")]
    pub init: String,
    /// Maximum EM iterations.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per sample changes by less than this (0: run
    /// exactly --max-iter iterations).
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub tol: f64,
    /// Added to every variance in every M-step.
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    pub reg_covar: f64,
    /// Lower bound on variances after --reg-covar.
    #[arg(long, allow_negative_numbers = true)]
    pub variance_floor: Option<f64>,
    /// Restarts, each from its own seed; the best is kept.
    #[arg(long, default_value_t = 1)]
    pub n_init: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Per-sample weights: .npy (1-D) or a one-column text file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Compute in this precision [default: the data's; text files are f64].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Where to write the model (JSON) [default: standard output].
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Where to write the fit report (JSON).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Learning method: batch EM (maximum likelihood), online (mini-batch stepwise) EM,
    /// variational Bayes, or MAP-regularised EM under mclust's default prior.
    #[arg(long, value_enum, default_value = "em")]
    pub method: Method,
    /// Start from these responsibilities instead of --init: an n x k matrix (.npy or text),
    /// rows summing to 1; k is its number of columns.
    #[arg(long)]
    pub init_resp: Option<PathBuf>,
    /// online: samples per mini-batch (1: per-sample recursive EM).
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// online: step size (t + t0)^-kappa, kappa in (0.5, 1].
    #[arg(long, default_value_t = 0.6, allow_negative_numbers = true)]
    pub step_kappa: f64,
    /// online: step-size offset t0 >= 0.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub step_t0: f64,
    /// online: passes over the data (each in a fresh order from --seed).
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// vb: prior on the weights.
    #[arg(long, value_enum, default_value = "dirichlet-process")]
    pub prior: WeightPriorArg,
    /// vb: weight concentration prior [default: 1/k].
    #[arg(long, allow_negative_numbers = true)]
    pub weight_concentration: Option<f64>,
    /// vb: precision prior on the means (beta0) [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub mean_precision: Option<f64>,
    /// vb and map: degrees of freedom of the covariance prior [default: vb d, map d + 2].
    #[arg(long, allow_negative_numbers = true)]
    pub dof: Option<f64>,
    /// map: shrinkage of the means towards the data mean (kappa_P) [default: 0.01].
    #[arg(long, allow_negative_numbers = true)]
    pub shrinkage: Option<f64>,
    /// online: update with MAP's prior (mclust's default, --shrinkage and --dof apply) instead
    /// of maximum likelihood.
    #[arg(long)]
    pub prior_map: bool,
}

/// `gmm fit --method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Batch EM, maximum likelihood.
    Em,
    /// Online (stepwise, mini-batch) EM.
    Online,
    /// Variational Bayes.
    Vb,
    /// MAP-regularised EM (conjugate prior, mclust's defaults).
    Map,
}

/// `gmm fit --prior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightPriorArg {
    /// Truncated stick-breaking Dirichlet process.
    DirichletProcess,
    /// Symmetric Dirichlet distribution.
    DirichletDistribution,
}

/// `gmm score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Model file (JSON).
    pub model: PathBuf,
    /// Data file.
    pub data: PathBuf,
    /// Also write log p(x) of every sample (.npy, or text with one value per line).
    #[arg(long)]
    pub per_sample: Option<PathBuf>,
    /// Compute in this precision [default: the data's].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
}

/// `gmm predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model file (JSON).
    pub model: PathBuf,
    /// Data file.
    pub data: PathBuf,
    /// Output posterior probabilities (n x k) instead of labels.
    #[arg(long)]
    pub proba: bool,
    /// Write to this file (.npy, or text) instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Compute in this precision [default: the data's].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
}

/// `gmm sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Model file (JSON).
    pub model: PathBuf,
    /// Number of samples.
    #[arg(short = 'n', long)]
    pub n: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file: .npy (float64) or .csv.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Also write the component of every sample (.npy int64, or text).
    #[arg(long)]
    pub labels: Option<PathBuf>,
}
