//! `gmm fit`: EM from the command line, a model file and a report.

use std::io::IsTerminal;
use std::path::Path;

use gmm_core::{CovarianceType, Criteria, Error, ErrorKind, GaussianMixture, Matrix, Real, Result};
use gmm_em::method::{MapSettings, VbSettings};
use gmm_em::online::OnlineConfig;
use gmm_em::vb::{WeightPrior, active_components};
use gmm_em::{EmConfig, FitOptions, Init, IterationInfo};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use gmm_io::DataMatrix;

use super::precision::{self, Loaded};
use super::scale::{IoReport, PassDisplay, Ranks, chunk_memory, file_precision, should_stream};
use crate::args::{Dtype, FitArgs, Method, PriorArgs, WeightPriorArg};
use crate::output::{self, Paths};
use gmm_io::StackedSource;

/// VB components with a weight below this have faded out (not counted as active).
const ACTIVE_WEIGHT: f64 = 0.01;

/// The report file (`--report`).
#[derive(Debug, Serialize)]
struct Report<'a> {
    data: String,
    method: &'a str,
    /// What `log_likelihood`, `initial_log_likelihood` and `final_log_likelihood` hold:
    /// "mean_log_likelihood" or, for VB, "lower_bound_per_sample".
    objective: &'a str,
    /// VB: components with weight >= 0.01 (the others faded out).
    #[serde(skip_serializing_if = "Option::is_none")]
    active_components: Option<usize>,
    n_samples: usize,
    n_features: usize,
    n_components: usize,
    covariance_type: &'a str,
    dtype: &'a str,
    init: String,
    seed: u64,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    reg_covar: f64,
    variance_floor: Option<f64>,
    n_iter: usize,
    converged: bool,
    log_likelihood: &'a [f64],
    initial_log_likelihood: f64,
    final_log_likelihood: f64,
    bic: f64,
    aic: f64,
    n_parameters: usize,
    /// Components of the returned model left empty by its last update (each counted once).
    empty_components: usize,
    /// Variances of the returned model held at --variance-floor.
    floored_variances: usize,
    /// Updates (all restarts, starts included) times components found empty in them.
    empty_component_iterations: usize,
    /// Updates times variances floored in them.
    floored_variance_iterations: usize,
    restarts: Vec<RestartReport>,
    best_restart: usize,
    threads: usize,
    fit_seconds: f64,
    /// Passes over the data, rows and bytes read, seconds per pass.
    io: IoReport,
}

#[derive(Debug, Serialize)]
struct RestartReport {
    seed: u64,
    n_iter: usize,
    converged: bool,
    final_log_likelihood: f64,
}

/// Runs `gmm fit`.
pub fn run(args: FitArgs) -> Result<()> {
    let init = Path::new(&args.init);
    let init_is_file = args.init.parse::<Init>().is_err();
    Paths::new()
        .input("DATA", &args.data)
        .maybe_input("--weights", args.weights.as_deref())
        .maybe_input("--init", init_is_file.then_some(init))
        .maybe_input("--init-resp", args.init_resp.as_deref())
        .output(
            if args.output.is_some() { "-o" } else { "the model (no -o)" },
            Some(args.output.as_deref().unwrap_or(Path::new("-"))),
        )
        .output("--report", args.report.as_deref())
        .check()?;
    let ranks = Ranks::start(args.scale.mpi)?;
    let dtype = file_precision(&args.data, args.dtype);
    let stream = dtype
        .as_ref()
        .ok()
        .map(|&d| should_stream(std::slice::from_ref(&args.data), d, &args.scale));
    match (dtype, stream) {
        (Ok(Dtype::F32), Some(Ok(true))) => fit_streamed::<f32>(&args, &ranks),
        (Ok(Dtype::F64), Some(Ok(true))) => fit_streamed::<f64>(&args, &ranks),
        (Err(e), _) | (_, Some(Err(e))) => Err(e),
        _ => {
            let Loaded { data, shift } = precision::load(&args.data, args.dtype)?;
            match data {
                DataMatrix::F32(x) => fit_typed(&args, x, shift.as_deref()),
                DataMatrix::F64(x) => fit_typed(&args, x, shift.as_deref()),
            }
        }
    }
}

/// `gmm fit` on data read in chunks (larger than the memory budget, or one rank's share
/// under MPI): the same model as in memory.
fn fit_streamed<T: Real>(args: &FitArgs, ranks: &Ranks) -> Result<()> {
    let display = PassDisplay::new(!args.quiet && ranks.is_root());
    let update = |p: &gmm_em::stream::PassProgress| display.update(p);
    let setup = || -> Result<_> {
        if args.init_resp.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "--init-resp needs the data in memory: raise --memory-budget, or start from \
                 --init",
            ));
        }
        let source = StackedSource::<T>::open(std::slice::from_ref(&args.data))?;
        let weights = args.weights.as_deref().map(gmm_io::read_vector).transpose()?;
        let (start, config) = start_and_config::<T>(args, None, None)?;
        let method = method(args)?;
        Ok((source, weights, start, config, method))
    };
    let setup = setup();
    let status = setup.as_ref().map(|_| ()).map_err(Clone::clone);
    let (source, weights, start, config, method) = match ranks.agree(status) {
        Ok(()) => setup?,
        Err(e) => return Err(e),
    };
    let stream = ranks
        .stream(&source)?
        .memory_budget(chunk_memory(args.scale.memory_budget))
        .weights(weights.as_deref())
        .map_err(|e| e.context(args.data.display()))?
        .on_progress(&update);
    let options = FitOptions {
        sample_weights: None,
        start: start.as_ref(),
        on_iteration: None,
        update: None,
    };
    let fit = gmm_em::fit_with_stream(&config, &method, &stream, options);
    display.finish();
    let fit = fit.map_err(|e| e.context(args.data.display()))?;
    let n = stream.n_samples();
    let total_weight = weights.as_ref().map_or(n as f64, |w| w.iter().sum::<f64>());
    let is_vb = matches!(method, gmm_em::Method::Vb(_));
    let log_l = if is_vb {
        gmm_em::fit::with_threads(config.get_threads(), || stream.e_step(&fit.model))?
            .log_likelihood()
    } else {
        fit.report.final_log_likelihood * total_weight
    };
    let io = IoReport::streamed(&stream.passes(), ranks.size, stream.get_chunk_rows());
    if !ranks.is_root() {
        return Ok(());
    }
    let d = stream.n_features();
    let summary = DataSummary { n, d, total_weight, log_l, dtype: T::NAME, shift: None };
    write_outputs(args, &config, &method, &fit, &summary, io)
}

/// What the outputs say about the data.
struct DataSummary<'a> {
    n: usize,
    d: usize,
    total_weight: f64,
    log_l: f64,
    dtype: &'static str,
    /// The column means subtracted from float32 data (see [`precision`]).
    shift: Option<&'a [f64]>,
}

/// The start: a method name, or a model file whose k and type override the defaults.
fn start_and_config<T: Real>(
    args: &FitArgs,
    resp_columns: Option<usize>,
    shift: Option<&[f64]>,
) -> Result<(Option<GaussianMixture<T>>, EmConfig)> {
    let method: Option<Init> = args.init.parse().ok();
    let start = match method {
        Some(_) => None,
        None => {
            let path = Path::new(&args.init);
            if !path.exists() {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "--init {:?} is neither kmeans, kmeans++, random, random-resp, \
                         hierarchical nor an existing model file",
                        args.init
                    ),
                ));
            }
            Some(precision::read_model::<T>(path, shift)?)
        }
    };
    let (k, cov) = match &start {
        Some(model) => {
            if let Some(k) = args.k.filter(|&k| k != model.n_components()) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "-k {k} disagrees with the {} components of the start model {}: drop -k",
                        model.n_components(),
                        args.init
                    ),
                ));
            }
            if let Some(c) = args.covariance.filter(|&c| c != model.covariance_type()) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "--covariance {c} disagrees with the start model's {} covariance: drop \
                         --covariance",
                        model.covariance_type()
                    ),
                ));
            }
            (model.n_components(), model.covariance_type())
        }
        None if resp_columns.is_some() => {
            let columns = resp_columns.unwrap_or(0);
            if let Some(k) = args.k.filter(|&k| k != columns) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("-k {k} disagrees with the {columns} columns of --init-resp: drop -k"),
                ));
            }
            (columns, args.covariance.unwrap_or(CovarianceType::Full))
        }
        None => {
            let k = args.k.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    "the number of components is missing: give -k K or --init MODEL.json",
                )
            })?;
            (k, args.covariance.unwrap_or(CovarianceType::Full))
        }
    };
    let mut config = EmConfig::new(k, cov).init(method.unwrap_or(Init::KMeans));
    if let Some(max_iter) = args.max_iter {
        config = config.max_iter(max_iter);
    }
    if let Some(tol) = args.tol {
        config = config.tol(tol);
    }
    let config = config
        .reg_covar(args.reg_covar)
        .variance_floor(args.variance_floor)
        .n_init(args.n_init)
        .seed(args.seed)
        .threads(super::threads(args.threads));
    Ok((start, config))
}

/// The library's [`gmm_em::Method`] for `--method` and its options.
fn method(args: &FitArgs) -> Result<gmm_em::Method> {
    if args.prior_map && args.method != Method::Online {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "--prior-map applies to --method online: use --method map for batch MAP EM",
        ));
    }
    let priors = &args.priors;
    Ok(match batch_method(args.method, priors) {
        Some(method) => method,
        None => gmm_em::Method::Online {
            settings: OnlineConfig::new()
                .batch_size(args.batch_size)
                .kappa(args.step_kappa)
                .t0(args.step_t0)
                .epochs(args.epochs),
            map: args.prior_map.then_some(priors.map()),
        },
    })
}

impl PriorArgs {
    fn map(&self) -> MapSettings {
        MapSettings { shrinkage: self.shrinkage, dof: self.dof }
    }
}

/// The library's batch method for `--method` (`None` for online EM, whose settings only `fit`
/// has).
pub(super) fn batch_method(method: Method, priors: &PriorArgs) -> Option<gmm_em::Method> {
    Some(match method {
        Method::Em => gmm_em::Method::Em,
        Method::Map => gmm_em::Method::Map(priors.map()),
        Method::Vb => gmm_em::Method::Vb(VbSettings {
            weight_prior: match priors.prior {
                WeightPriorArg::DirichletProcess => WeightPrior::DirichletProcess,
                WeightPriorArg::DirichletDistribution => WeightPrior::DirichletDistribution,
            },
            weight_concentration: priors.weight_concentration,
            mean_precision: priors.mean_precision,
            dof: priors.dof,
        }),
        Method::Online => return None,
    })
}

fn fit_typed<T: Real>(args: &FitArgs, x: Matrix<T>, shift: Option<&[f64]>) -> Result<()> {
    let resp =
        args.init_resp.as_deref().map(gmm_io::read_matrix).transpose()?.map(|m| m.into_f64());
    if resp.is_some() && args.init != "kmeans" {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "--init and --init-resp both name a start: give one of them",
        ));
    }
    let (start, config) = start_and_config::<T>(args, resp.as_ref().map(|r| r.n_cols()), shift)?;
    let weights = args.weights.as_deref().map(gmm_io::read_vector).transpose()?;
    let method = method(args)?;
    // The method's defaults for --max-iter and --tol, so the report shows what ran.
    let config = method.resolve(&config);
    let start = match &resp {
        Some(r) => {
            let rule = method.rule(&config, x.samples(), weights.as_deref())?;
            let model = gmm_em::init::model_from_responsibilities(
                x.samples(),
                r.as_slice(),
                weights.as_deref(),
                config.get_n_components(),
                config.get_covariance_type(),
                rule.as_ref(),
            )
            .map_err(|e| e.context("--init-resp"))?;
            Some(model)
        }
        None => start,
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let bar = show_progress.then(|| {
        let total = match &method {
            gmm_em::Method::Online { settings, .. } => settings.get_epochs() as u64,
            _ => {
                (config.get_max_iter() * if start.is_some() { 1 } else { config.get_n_init() })
                    as u64
            }
        };
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} EM [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut on_iteration = |info: &IterationInfo| {
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!(
                "restart {} log-likelihood {:.6} (change {:.2e})",
                info.restart + 1,
                info.log_likelihood,
                info.change
            ));
        }
    };
    let options = FitOptions {
        sample_weights: weights.as_deref(),
        start: start.as_ref(),
        on_iteration: Some(&mut on_iteration),
        update: None,
    };
    let fit = gmm_em::fit_with(&config, &method, x.samples(), options);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let fit = fit.map_err(|e| e.context(args.data.display()))?;
    let n = x.n_rows();
    let total_weight = weights.as_ref().map_or(n as f64, |w| w.iter().sum::<f64>());
    let is_vb = matches!(method, gmm_em::Method::Vb(_));
    // VB reports its bound; BIC and AIC use the returned model's log-likelihood.
    let log_l = if is_vb {
        fit.model.weighted_log_likelihood(x.samples(), weights.as_deref())?.0
    } else {
        fit.report.final_log_likelihood * total_weight
    };
    let bytes = std::mem::size_of_val(x.as_slice()) as u64;
    let d = x.n_cols();
    let summary = DataSummary { n, d, total_weight, log_l, dtype: T::NAME, shift };
    write_outputs(args, &config, &method, &fit, &summary, IoReport::in_memory(n, bytes))
}

/// The model, the report and the summary line of a fit.
fn write_outputs<T: Real>(
    args: &FitArgs,
    config: &EmConfig,
    method: &gmm_em::Method,
    fit: &gmm_em::Fit<T>,
    data: &DataSummary<'_>,
    io: IoReport,
) -> Result<()> {
    let model = &fit.model;
    let r = &fit.report;
    let (n, total_weight, log_l, shift) = (data.n, data.total_weight, data.log_l, data.shift);
    let is_vb = matches!(method, gmm_em::Method::Vb(_));
    let criteria = Criteria::from_log_likelihood(log_l, model.n_parameters(), n, total_weight);
    let (bic, aic) = (criteria.bic(), criteria.aic());
    // Data centred for float32 gives a model in the centred frame: moved back in float64.
    let json = match shift {
        Some(_) => gmm_io::model_to_json(&precision::shifted::<T, f64>(model, shift, 1.0)?),
        None => gmm_io::model_to_json(model),
    };
    match &args.output {
        Some(path) => gmm_io::write_text(path, &json)?,
        None => output::print(&format!("{json}\n"))?,
    }
    if let Some(path) = &args.report {
        let report = Report {
            data: args.data.display().to_string(),
            method: method.name(),
            objective: method.objective_name(),
            active_components: is_vb.then(|| active_components(model, ACTIVE_WEIGHT)),
            n_samples: n,
            n_features: data.d,
            n_components: model.n_components(),
            covariance_type: model.covariance_type().as_str(),
            dtype: data.dtype,
            io,
            init: args.init.clone(),
            seed: config.get_seed(),
            n_init: r.restarts.len(),
            max_iter: config.get_max_iter(),
            tol: config.get_tol(),
            reg_covar: config.get_reg_covar(),
            variance_floor: config.get_variance_floor(),
            n_iter: r.n_iter,
            converged: r.converged,
            log_likelihood: &r.log_likelihood,
            initial_log_likelihood: r.initial_log_likelihood,
            final_log_likelihood: r.final_log_likelihood,
            bic,
            aic,
            n_parameters: model.n_parameters(),
            empty_components: r.empty_components,
            floored_variances: r.floored_variances,
            empty_component_iterations: r.guard_totals.empty_components,
            floored_variance_iterations: r.guard_totals.floored_variances,
            restarts: r
                .restarts
                .iter()
                .map(|s| RestartReport {
                    seed: s.seed,
                    n_iter: s.n_iter,
                    converged: s.converged,
                    final_log_likelihood: s.final_log_likelihood,
                })
                .collect(),
            best_restart: r.best_restart,
            threads: r.threads,
            fit_seconds: r.fit_seconds,
        };
        let text = serde_json::to_string_pretty(&report).map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot encode the report: {e}")).with_source(e)
        })?;
        gmm_io::write_text(path, &(text + "\n"))?;
    }
    if !args.quiet {
        output::note(&format!(
            "gmm fit: {} x {} {}, k = {} {}, {}: {} {} ({}), {} {}, BIC {}, {:.3} s on {} \
             threads{}\n",
            n,
            data.d,
            data.dtype,
            model.n_components(),
            model.covariance_type(),
            method.name(),
            r.n_iter,
            method.iteration_name(),
            if r.converged { "converged" } else { "not converged" },
            if is_vb {
                format!(
                    "lower bound per sample (active components {})",
                    active_components(model, ACTIVE_WEIGHT)
                )
            } else {
                "mean log-likelihood".to_string()
            },
            output::fixed(r.final_log_likelihood, 10),
            output::fixed(bic, 4),
            r.fit_seconds,
            r.threads,
            match r.empty_components + r.floored_variances {
                0 => String::new(),
                _ => format!(
                    "; guards: {} of {} components empty, {} variances floored",
                    r.empty_components,
                    model.n_components(),
                    r.floored_variances
                ),
            }
        ));
    }
    Ok(())
}
