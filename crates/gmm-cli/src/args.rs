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
pub enum Command {
    /// Fit a mixture to DATA with EM and write the model (JSON).
    Fit(FitArgs),
    /// Print the mean log-likelihood per sample of DATA under MODEL.
    Score(ScoreArgs),
    /// Print the most probable component of every sample (or the posteriors).
    Predict(PredictArgs),
    /// Draw samples from MODEL.
    Sample(SampleArgs),
    /// Train a diagonal universal background model (UBM) by component splitting.
    Ubm(UbmArgs),
    /// MAP-adapt a UBM to one speaker's frames.
    Adapt(AdaptArgs),
    /// Print the average per-frame log-likelihood ratio of a speaker model against a UBM,
    /// one line per input file.
    Llr(LlrArgs),
    /// Write zeroth- and centred first-order Baum-Welch statistics per input file (.npy).
    Stats(StatsArgs),
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

/// `gmm ubm`.
#[derive(Debug, Args)]
pub struct UbmArgs {
    /// Frame files (.npy, f32 or f64, or text), or list files (.list/.lst/.scp: one path per
    /// line, relative to the list); all are stacked.
    #[arg(required = true)]
    pub frames: Vec<PathBuf>,
    /// Number of components.
    #[arg(short = 'k', long = "components")]
    pub k: usize,
    /// EM iterations after every split.
    #[arg(long, default_value_t = 4)]
    pub iters_per_split: usize,
    /// EM iterations at the final size.
    #[arg(long, default_value_t = 8)]
    pub final_iters: usize,
    /// Use at most about this many frames (every n-th one).
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// Occupancy below which a component is not updated.
    #[arg(long, default_value_t = 10.0)]
    pub min_occupancy: f64,
    /// Keep low-count components at the end instead of removing them.
    #[arg(long)]
    pub keep_low_count: bool,
    /// Added to every variance in every M-step.
    #[arg(long, default_value_t = 1e-6)]
    pub reg_covar: f64,
    /// Threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Compute in this precision [default: the first file's].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Where to write the model (JSON).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `gmm adapt`.
#[derive(Debug, Args)]
pub struct AdaptArgs {
    /// The UBM (JSON).
    pub ubm: PathBuf,
    /// The speaker's frame files or list files (stacked).
    #[arg(required = true)]
    pub frames: Vec<PathBuf>,
    /// Relevance factor r.
    #[arg(long, default_value_t = 16.0)]
    pub relevance: f64,
    /// Keep the UBM means (by default they are adapted).
    #[arg(long)]
    pub no_means: bool,
    /// Also adapt the weights.
    #[arg(long)]
    pub weights: bool,
    /// Also adapt the variances.
    #[arg(long)]
    pub variances: bool,
    /// Where to write the adapted model (JSON).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// `gmm llr`.
#[derive(Debug, Args)]
pub struct LlrArgs {
    /// The speaker model (JSON).
    pub speaker: PathBuf,
    /// The UBM (JSON).
    pub ubm: PathBuf,
    /// Frame files or list files; one score per frame file, in input order.
    #[arg(required = true)]
    pub frames: Vec<PathBuf>,
    /// Score with the C best UBM components of every frame instead of all of them.
    #[arg(long)]
    pub top_c: Option<usize>,
}

/// `gmm stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The UBM (JSON).
    pub ubm: PathBuf,
    /// Frame files or list files; one row of statistics per frame file, in input order.
    #[arg(required = true)]
    pub frames: Vec<PathBuf>,
    /// Output prefix: writes PREFIX.zeroth.npy (files x k) and PREFIX.first.npy
    /// (files x k*d, centred on the UBM means).
    #[arg(short = 'o', long, default_value = "stats")]
    pub output: String,
}
