//! The command line, declared with clap.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use gmm_core::CovarianceType;

/// Gaussian mixture models from the shell: fit with EM, score, predict, sample, select a model,
/// classify, plot, and more (see the commands below).
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
    /// Fit a grid of component counts x covariance types and keep the best by BIC, AIC or ICL.
    Select(SelectArgs),
    /// Discriminant analysis: one mixture per class (train, predict).
    Classify(ClassifyArgs),
    /// Draw MODEL (and DATA) on two dimensions: ellipses, density contours, means (PNG or SVG).
    Plot(PlotArgs),
    /// Train a diagonal universal background model (UBM) by component splitting.
    Ubm(UbmArgs),
    /// MAP-adapt a UBM to one speaker's frames.
    Adapt(AdaptArgs),
    /// Print the average per-frame log-likelihood ratio of a speaker model against a UBM,
    /// one line per input file.
    Llr(LlrArgs),
    /// Write zeroth- and centred first-order Baum-Welch statistics per input file (.npy).
    Stats(StatsArgs),
    /// Accumulate the E-step statistics of one shard of DATA under MODEL into a .acc file
    /// (or, with --moments, the data's moments for the MAP and VB priors).
    Acc(AccArgs),
    /// Sum .acc files of one pass (any order, same bytes) into one.
    SumAccs(SumAccsArgs),
    /// Apply an update rule to summed statistics: the next model.
    Update(UpdateArgs),
}

/// Options of the out-of-core and distributed routes, shared by the data commands.
#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    /// Memory the data may take (e.g. 512M, 8G): a .npy file larger than this is read in
    /// chunks instead of whole [default: a quarter of the memory, at most half the address
    /// space limit].
    #[arg(long, value_parser = parse_bytes)]
    pub memory_budget: Option<u64>,
    /// Run as one rank of an MPI job (mpirun -np P gmm ...): each rank reads its share of the
    /// rows, statistics are combined exactly, rank 0 writes the outputs. Needs a gmm built with
    /// --features mpi.
    #[arg(long)]
    pub mpi: bool,
}

/// A byte count: a number with an optional K, M, G or T suffix (powers of 1024; "B", "iB"
/// allowed).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (number, factor) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * (factor as f64) < 1.8e19 => {
            Ok((v * factor as f64) as u64)
        }
        _ => Err(format!("{text:?} is not a size: use bytes with an optional K, M, G or T suffix")),
    }
}

/// `gmm acc`.
#[derive(Debug, Args)]
pub struct AccArgs {
    /// Model file (JSON) the statistics are accumulated under (not with --moments).
    #[arg(required_unless_present = "moments")]
    pub model: Option<PathBuf>,
    /// Data: .npy (streamed) or a text file.
    pub data: Option<PathBuf>,
    /// Accumulate the data's moments (for --method map and vb priors) instead: then the only
    /// positional argument is DATA.
    #[arg(long)]
    pub moments: bool,
    /// This process's shard I of N (from 0): the rows split at leaf boundaries of the block grid.
    #[arg(long, value_parser = parse_shard, conflicts_with = "rows")]
    pub shard: Option<(usize, usize)>,
    /// These rows A:B instead (A and B multiples of 240, or B the last row).
    #[arg(long, value_parser = parse_rows)]
    pub rows: Option<(usize, usize)>,
    /// Per-sample weights of every row: .npy (1-D) or a one-column text file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Compute in this precision [default: the data's].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Threads [default: all cores; more than the machine runs at once are capped]; results do
    /// not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub threads: Option<usize>,
    /// Memory the data chunks may take (e.g. 512M) [default: 192M, or less under ulimit -v].
    #[arg(long, value_parser = parse_bytes)]
    pub memory_budget: Option<u64>,
    /// Where to write the statistics (.acc).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{text:?} is not a shard: use I/N with 0 <= I < N (e.g. 0/4)");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) =
        (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

fn parse_rows(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{text:?} is not a row range: use A:B with A <= B (e.g. 0:48000)");
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    let (a, b): (usize, usize) =
        (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// `gmm sum-accs`.
#[derive(Debug, Args)]
pub struct SumAccsArgs {
    /// Statistics files of one pass (disjoint row ranges).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Where to write their sum (.acc).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// `gmm update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The model the statistics were accumulated under (JSON).
    pub model: PathBuf,
    /// The summed statistics of every row (.acc).
    pub stats: PathBuf,
    /// Update rule: em (maximum likelihood), map or vb.
    #[arg(long, value_enum, default_value = "em")]
    pub method: Method,
    /// The data's moments (gmm acc --moments, summed): needed by --method map and vb.
    #[arg(long)]
    pub moments: Option<PathBuf>,
    /// Added to every variance in every M-step.
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    pub reg_covar: f64,
    /// Lower bound on variances after --reg-covar.
    #[arg(long, allow_negative_numbers = true)]
    pub variance_floor: Option<f64>,
    /// The last round: write the model a fit returns (for vb its posterior point estimate;
    /// the same as the next model for em and map).
    #[arg(long)]
    pub finish: bool,
    /// The priors of vb and map.
    #[command(flatten)]
    pub priors: PriorArgs,
    /// Where to write the next model (JSON).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `--covariance`: the names of [`CovarianceType::ALL`] (listed in the help with their
/// descriptions, and suggested on a typo), parsed by `CovarianceType`'s `FromStr`.
fn covariance_type() -> impl TypedValueParser<Value = CovarianceType> {
    let names = CovarianceType::ALL.map(|t| PossibleValue::new(t.as_str()).help(t.description()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<CovarianceType>())
}

/// `--init` of `select` and `classify train`: a start method's name.
fn init_method() -> impl TypedValueParser<Value = gmm_em::Init> {
    let names = ["hierarchical", "kmeans", "kmeans++", "random", "random-resp"];
    PossibleValuesParser::new(names).try_map(|name| name.parse::<gmm_em::Init>())
}

/// A whole number option (`--seed`, `-k`, `-n`, ...): negative values reach this parser (clap
/// would otherwise read `-1` as an unknown option) and are refused in words.
pub fn whole<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim().parse::<T>().map_err(|_| {
        let t = text.trim();
        if t.starts_with('-') && t[1..].parse::<f64>().is_ok() {
            format!("{t} is negative: give a whole number from 0")
        } else if t.parse::<f64>().is_ok_and(|v| v.is_finite() && v > 0.0 && v.fract() == 0.0) {
            format!("{t} is too large")
        } else {
            format!("{t:?} is not a whole number (such as 3)")
        }
    })
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
    #[arg(short = 'k', long = "components", allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub k: Option<usize>,
    /// Covariance structure [default: full] (taken from the model file with --init MODEL.json).
    #[arg(long, value_parser = covariance_type())]
    pub covariance: Option<CovarianceType>,
    /// Start: kmeans, kmeans++, random (random rows), random-resp, hierarchical (mclust's
    /// agglomeration; further restarts use kmeans), or a model file (.json).
    #[arg(long, default_value = "kmeans")]
    pub init: String,
    /// Maximum EM iterations [default: 100; vb: 1000].
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub max_iter: Option<usize>,
    /// Stop when the mean log-likelihood per sample (vb: the lower bound per sample) changes
    /// by less than this (0: run exactly --max-iter iterations) [default: 1e-3; vb: 1e-6].
    #[arg(long, allow_hyphen_values = true)]
    pub tol: Option<f64>,
    /// Added to every variance in every M-step.
    #[arg(long, default_value_t = 1e-6, allow_hyphen_values = true)]
    pub reg_covar: f64,
    /// Lower bound on variances after --reg-covar.
    #[arg(long, allow_hyphen_values = true)]
    pub variance_floor: Option<f64>,
    /// Restarts, each from its own seed; the best is kept.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub n_init: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole::<u64>)]
    pub seed: u64,
    /// Threads [default: all cores; more than the machine runs at once are capped]; results do
    /// not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
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
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub batch_size: usize,
    /// online: step size (t + t0)^-kappa, kappa in (0.5, 1].
    #[arg(long, default_value_t = 0.6, allow_hyphen_values = true)]
    pub step_kappa: f64,
    /// online: step-size offset t0 >= 0.
    #[arg(long, default_value_t = 2.0, allow_hyphen_values = true)]
    pub step_t0: f64,
    /// online: passes over the data (each in a fresh order from --seed).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub epochs: usize,
    /// The priors of vb and map.
    #[command(flatten)]
    pub priors: PriorArgs,
    /// online: update with MAP's prior (mclust's default, --shrinkage and --dof apply) instead
    /// of maximum likelihood.
    #[arg(long)]
    pub prior_map: bool,
    /// Out of core and MPI.
    #[command(flatten)]
    pub scale: ScaleArgs,
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

/// The prior settings `fit` and `update` share (`--method vb` and `map`).
#[derive(Args, Debug, Clone)]
pub struct PriorArgs {
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
    /// Out of core and MPI.
    #[command(flatten)]
    pub scale: ScaleArgs,
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
    #[arg(short = 'n', long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub n: usize,
    /// Seed.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole::<u64>)]
    pub seed: u64,
    /// Output file: .npy (float64) or .csv.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Also write the component of every sample (.npy int64, or text).
    #[arg(long)]
    pub labels: Option<PathBuf>,
}

/// Component counts to try, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components(pub Vec<usize>);

/// `-k` of `gmm select`: `A..B` (inclusive), a comma list, or both (`1..4,6,8`).
pub fn parse_components(text: &str) -> Result<Components, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let number = |s: &str| {
            s.trim().parse::<usize>().map_err(|_| {
                format!("invalid component count {s:?} in {text:?}: use A..B or a list like 1,2,4")
            })
        };
        let values: Vec<usize> = match part.split_once("..") {
            Some((a, b)) => {
                let b = b.strip_prefix('=').unwrap_or(b);
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(format!(
                        "empty range {part:?}: the first bound must not exceed the second"
                    ));
                }
                (a..=b).collect()
            }
            None => vec![number(part)?],
        };
        for k in values {
            if k == 0 {
                return Err(format!("k = 0 in {text:?}: component counts start at 1"));
            }
            if out.contains(&k) {
                return Err(format!("k = {k} appears twice in {text:?}"));
            }
            if out.len() >= 10_000 {
                return Err(format!("{text:?} asks for more than 10000 fits"));
            }
            out.push(k);
        }
    }
    Ok(Components(out))
}

/// Information criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CriterionArg {
    /// Bayesian information criterion (-2 log L + p ln n).
    Bic,
    /// Akaike information criterion (-2 log L + 2 p).
    Aic,
    /// Integrated completed likelihood (BIC + 2 x entropy of the MAP classification).
    Icl,
}

/// EM settings shared by `gmm select` and `gmm classify train`.
#[derive(Debug, Args)]
pub struct EmArgs {
    /// Start of every fit: hierarchical (mclust's agglomeration, then k-means for further
    /// restarts), kmeans, kmeans++, random or random-resp [default: select hierarchical,
    /// classify kmeans].
    #[arg(long, value_parser = init_method())]
    pub init: Option<gmm_em::Init>,
    /// Restarts per fit, each from its own seed; the best is kept [default: select 2 (the
    /// hierarchical start and a k-means one), classify 1].
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub n_init: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole::<u64>)]
    pub seed: u64,
    /// Maximum EM iterations.
    #[arg(long, default_value_t = 100, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per sample changes by less than this.
    #[arg(long, default_value_t = 1e-3, allow_hyphen_values = true)]
    pub tol: f64,
    /// Added to every variance in every M-step.
    #[arg(long, default_value_t = 1e-6, allow_hyphen_values = true)]
    pub reg_covar: f64,
    /// Threads [default: all cores; more than the machine runs at once are capped]; results do
    /// not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub threads: Option<usize>,
}

/// `gmm select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Data: .npy or .csv/.tsv/.txt (numbers only, header optional).
    pub data: PathBuf,
    /// Component counts: A..B (inclusive) and/or a comma list, e.g. 1..8 or 1,2,4.
    #[arg(short = 'k', long = "components", value_parser = parse_components, default_value = "1..8", allow_hyphen_values = true)]
    pub k: Components,
    /// Covariance types to try, comma-separated.
    #[arg(
        long,
        value_parser = covariance_type(),
        value_delimiter = ',',
        default_value = "diag,full,spherical,tied"
    )]
    pub covariance: Vec<CovarianceType>,
    /// The criterion to minimise.
    #[arg(long, value_enum, default_value = "bic")]
    pub criterion: CriterionArg,
    /// EM settings.
    #[command(flatten)]
    pub em: EmArgs,
    /// Compute in this precision [default: the data's; text files are f64].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Where to write the best model (JSON).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Where to write the whole table (JSON).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// `gmm classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Train or predict.
    #[command(subcommand)]
    pub command: ClassifyCommand,
}

/// The subcommands of `gmm classify`.
#[derive(Debug, Subcommand)]
pub enum ClassifyCommand {
    /// Fit one mixture per class of a labelled CSV file and write the classifier (JSON).
    Train(ClassifyTrainArgs),
    /// Print the most probable class of every row (one per line, in input order).
    Predict(ClassifyPredictArgs),
}

/// Class priors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PriorsArg {
    /// The classes' frequencies in the training data.
    Frequencies,
    /// Equal priors.
    Uniform,
}

/// `gmm classify train`.
#[derive(Debug, Args)]
pub struct ClassifyTrainArgs {
    /// Labelled data: CSV (or .tsv) with a header row, numeric columns and a label column.
    pub data: PathBuf,
    /// Name of the label column.
    #[arg(long)]
    pub label_column: String,
    /// Components per class (with --select: the counts to choose from, e.g. 1..4).
    #[arg(short = 'k', long = "components", value_parser = parse_components, default_value = "1", allow_hyphen_values = true)]
    pub k: Components,
    /// Covariance type per class (with --select: the types to choose from, comma-separated).
    #[arg(long, value_parser = covariance_type(), value_delimiter = ',', default_value = "full")]
    pub covariance: Vec<CovarianceType>,
    /// Choose k and the covariance type of every class by BIC over -k and --covariance.
    #[arg(long)]
    pub select: bool,
    /// Class priors.
    #[arg(long, value_enum, default_value = "frequencies")]
    pub priors: PriorsArg,
    /// Also run stratified k-fold cross-validation with this many folds and print its accuracy.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub cv: Option<usize>,
    /// EM settings.
    #[command(flatten)]
    pub em: EmArgs,
    /// Where to write the classifier (JSON) [default: standard output].
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// No summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `gmm classify predict`.
#[derive(Debug, Args)]
pub struct ClassifyPredictArgs {
    /// Classifier file (JSON, from `gmm classify train`).
    pub classifier: PathBuf,
    /// Data: CSV (or .tsv); a label column, if present, is ignored.
    pub data: PathBuf,
    /// Name of the label column to ignore [default: the one named at training].
    #[arg(long)]
    pub label_column: Option<String>,
    /// Print the posterior probability of every class after the label (CSV with a header).
    #[arg(long)]
    pub proba: bool,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

/// `gmm plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Model file (JSON).
    pub model: PathBuf,
    /// Data to draw under the model (optional).
    pub data: Option<PathBuf>,
    /// Output picture: .png or .svg.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Probability level of the confidence ellipses, strictly between 0 and 1.
    #[arg(long, default_value_t = 0.75, allow_hyphen_values = true)]
    pub level: f64,
    /// Draw no ellipses.
    #[arg(long)]
    pub no_ellipses: bool,
    /// The two dimensions to draw, x then y (zero-based).
    #[arg(long, default_value = "0,1", value_delimiter = ',', allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub dims: Vec<usize>,
    /// Number of isodensity contour levels (0: none).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub contours: usize,
    /// Colour the data by each sample's most probable component.
    #[arg(long)]
    pub labels: bool,
    /// Colour the data by posterior: the most probable component's colour, paler when unsure.
    #[arg(long, conflicts_with = "labels")]
    pub posterior: bool,
    /// Axis names, x then y [default: x<i>, x<j>].
    #[arg(long, value_delimiter = ',')]
    pub names: Option<Vec<String>>,
    /// Title [default: the number of components, the covariance type and the level].
    #[arg(long)]
    pub title: Option<String>,
    /// Width in pixels.
    #[arg(long, default_value_t = 800, allow_negative_numbers = true, value_parser = whole::<u32>)]
    pub width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 650, allow_negative_numbers = true, value_parser = whole::<u32>)]
    pub height: u32,
}

/// Utterances as row ranges of frame files, for `ubm`, `adapt`, `llr` and `stats`.
#[derive(Debug, Args, Default)]
pub struct SegmentArgs {
    /// Utterances as row ranges of frame files: Kaldi-style lines `UTTERANCE FILE FIRST-ROW
    /// ROW-COUNT` (rows from 0), or a CSV index with a header (`.csv`: columns utterance,
    /// frame_start, frame_count and file or --file-template; FSDD's index.csv is one). Files
    /// are relative to the segments file.
    #[arg(long)]
    pub segments: Option<PathBuf>,
    /// With --segments: keep the utterances whose COLUMN is VALUE (repeatable, all must hold),
    /// e.g. --where split=train --where speaker=george.
    #[arg(long = "where", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
    /// With a CSV index: the frame file of a row from its columns, e.g. '{speaker}.npy'
    /// [default: the file column].
    #[arg(long)]
    pub file_template: Option<String>,
}

/// `gmm ubm`.
#[derive(Debug, Args)]
pub struct UbmArgs {
    /// Frame files (.npy, f32 or f64, or text), or list files (.list/.lst/.scp: one path per
    /// line, relative to the list); all are stacked.
    #[arg(required_unless_present = "segments")]
    pub frames: Vec<PathBuf>,
    /// Utterances as row ranges (--segments, --where, --file-template).
    #[command(flatten)]
    pub segments: SegmentArgs,
    /// Number of components.
    #[arg(short = 'k', long = "components", allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub k: usize,
    /// EM iterations after every split.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub iters_per_split: usize,
    /// EM iterations at the final size.
    #[arg(long, default_value_t = 8, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub final_iters: usize,
    /// Use at most about this many frames (every n-th one).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub max_frames: Option<usize>,
    /// Occupancy below which a component is not updated.
    #[arg(long, default_value_t = 10.0, allow_hyphen_values = true)]
    pub min_occupancy: f64,
    /// Keep low-count components at the end instead of removing them.
    #[arg(long)]
    pub keep_low_count: bool,
    /// Added to every variance in every M-step.
    #[arg(long, default_value_t = 1e-6, allow_hyphen_values = true)]
    pub reg_covar: f64,
    /// Threads [default: all cores; more than the machine runs at once are capped]; results do
    /// not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub threads: Option<usize>,
    /// Compute in this precision [default: the first file's].
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Where to write the model (JSON).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// No summary.
    /// Out of core and MPI.
    #[command(flatten)]
    pub scale: ScaleArgs,
    #[arg(short, long)]
    pub quiet: bool,
}

/// `gmm adapt`.
#[derive(Debug, Args)]
pub struct AdaptArgs {
    /// The UBM (JSON).
    pub ubm: PathBuf,
    /// The speaker's frame files or list files (stacked).
    #[arg(required_unless_present = "segments")]
    pub frames: Vec<PathBuf>,
    /// Utterances as row ranges (--segments, --where, --file-template).
    #[command(flatten)]
    pub segments: SegmentArgs,
    /// Relevance factor r.
    #[arg(long, default_value_t = 16.0, allow_hyphen_values = true)]
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
    /// Frame files or list files; one score per frame file (then per segment), in input order.
    #[arg(required_unless_present = "segments")]
    pub frames: Vec<PathBuf>,
    /// Utterances as row ranges (--segments, --where, --file-template).
    #[command(flatten)]
    pub segments: SegmentArgs,
    /// Score with the C best UBM components of every frame instead of all of them.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub top_c: Option<usize>,
    /// With --top-c: keep only components within this many nats of the frame's best (e.g.
    /// `--top-c 16 --beam 8`: up to 16, usually far fewer).
    #[arg(long, requires = "top_c", allow_hyphen_values = true)]
    pub beam: Option<f64>,
}

/// `gmm stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The UBM (JSON).
    pub ubm: PathBuf,
    /// Frame files or list files; one row of statistics per frame file (then per segment), in
    /// input order.
    #[arg(required_unless_present = "segments")]
    pub frames: Vec<PathBuf>,
    /// Utterances as row ranges (--segments, --where, --file-template).
    #[command(flatten)]
    pub segments: SegmentArgs,
    /// Output prefix: writes PREFIX.zeroth.npy (files x k) and PREFIX.first.npy
    /// (files x k*d, centred on the UBM means).
    #[arg(short = 'o', long, default_value = "stats")]
    pub output: String,
}
