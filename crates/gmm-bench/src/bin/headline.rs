//! `gmm-headline`: the headline EM workload, timed.
//!
//! Loads the headline fixture (100,000 x 15, k = 30, with its shared starting models) and, for
//! each case of diag f64, full f64, diag f32 and full f32, runs one untimed warm-up fit and then
//! `--repeats` fits of `--iterations` EM iterations (`tol = 0`, from the given start) on a
//! `--threads`-thread rayon pool, timing only the call to `gmm_em::fit`. It prints a Markdown
//! table (or, with `--json`, one JSON object per case) of:
//!
//! * the median, min and max milliseconds per iteration, where *per iteration* means the whole
//!   fit's wall-clock time divided by the number of iterations: a fit from a given start of
//!   `n` iterations makes `n` fused E+M passes plus one final scoring pass of the last model,
//!   so this slightly overstates the cost of one iteration (by about one scoring pass / `n`);
//! * the final mean log-likelihood per sample, and its relative difference
//!   `(ours - sklearn) / |sklearn|` from scikit-learn's value after the same number of
//!   iterations (`headline_reference.json`, `<type>.mean_log_likelihood_after_iteration`;
//!   the f32 cases are compared with the f64 reference);
//! * the machine's bound per iteration for the case, measured in the same run
//!   (`gmm_bench::roofline`: FMA peaks, `exp` throughput and read bandwidth on `--threads`
//!   threads and the instruction set in force, summed stage by stage), and the ratio of the
//!   median to it. The probes run before the fits and again after them, and each peak is the
//!   better of the two ([`Peaks::best`]): a probe disturbed by another job reads low, and a
//!   bound from it alone would flatter the ratio. The table is printed once both are in.
//!
//! `--isa avx2` (or `avx512`, `scalar`) pins the kernels and the probes to one instruction set.
//!
//! ```text
//! cargo run --release -p gmm-bench --bin gmm-headline -- --repeats 5 --threads 2
//! cargo run --release -p gmm-bench --bin gmm-headline -- --repeats 5 --isa avx2
//! ```
//!
//! Errors (a missing fixture, bad arguments) print one line and exit with status 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use gmm_bench::median;
use gmm_bench::roofline::{Bound, Peaks};
use gmm_bench::{Workload, headline_dir, reference_mean_log_likelihood};
use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use gmm_em::{EmConfig, FitOptions};

/// Times the headline EM workload (10 iterations, 100,000 x 15, k = 30) for diag and full
/// covariances in f64 and f32.
#[derive(Parser, Debug)]
#[command(name = "gmm-headline", version)]
struct Args {
    /// Timed fits per case (after one untimed warm-up fit).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Threads of the rayon pool the fits run on.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
    /// EM iterations per fit (scikit-learn's reference covers 1 to 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
    /// Folder holding headline.npy, headline_init_{diag,full}.json and headline_reference.json
    /// [default: the repository's tests/data/headline].
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Run only these cases (repeatable): diag-f64, full-f64, diag-f32, full-f32.
    #[arg(long = "case", value_name = "CASE")]
    cases: Vec<String>,
    /// Print one JSON object per case instead of a Markdown table.
    #[arg(long)]
    json: bool,
    /// Instruction set of every kernel: avx512, avx2 or scalar [default: the best the machine
    /// has].
    #[arg(long)]
    isa: Option<String>,
}

/// The four cases, in the order they run and print.
const CASES: [(&str, CovarianceType, bool); 4] = [
    ("diag-f64", CovarianceType::Diag, false),
    ("full-f64", CovarianceType::Full, false),
    ("diag-f32", CovarianceType::Diag, true),
    ("full-f32", CovarianceType::Full, true),
];

/// What one case measured.
struct CaseResult {
    case: &'static str,
    covariance_type: CovarianceType,
    dtype: &'static str,
    /// Wall-clock seconds of each timed fit.
    fit_seconds: Vec<f64>,
    n_iter: usize,
    final_log_likelihood: f64,
    reference: Option<f64>,
    threads: usize,
}

impl CaseResult {
    /// Milliseconds per iteration of each timed fit, sorted.
    fn ms_per_iteration(&self) -> Vec<f64> {
        let mut ms: Vec<f64> =
            self.fit_seconds.iter().map(|s| 1e3 * s / self.n_iter.max(1) as f64).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    fn relative_difference(&self) -> Option<f64> {
        self.reference.map(|r| (self.final_log_likelihood - r) / r.abs())
    }
}

fn main() -> ExitCode {
    gmm_bench::runner_main::<Args>("gmm-headline", run)
}

fn run(args: &Args) -> Result<()> {
    for case in &args.cases {
        if !CASES.iter().any(|(name, _, _)| name == case) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("unknown case {case:?}: use diag-f64, full-f64, diag-f32 or full-f32"),
            ));
        }
    }
    let isa = gmm_bench::force_isa(args.isa.as_deref())?;
    let dir = args.fixture.clone().unwrap_or_else(headline_dir);
    let workload = Workload::from_fixture(&dir).map_err(|e| {
        e.context(format!("cannot load the headline fixture from {}", dir.display()))
    })?;
    let x32 = workload.x_f32();
    let threads = args.threads as usize;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
        Error::new(ErrorKind::InvalidConfig, format!("cannot start {threads} threads: {e}"))
    })?;
    let iterations = args.iterations as usize;
    let (n, d, k) = (workload.x.n_rows(), workload.x.n_cols(), workload.n_components());
    let before = Peaks::measure(threads, n * d * 8);
    let mut results = Vec::new();
    for (case, covariance_type, single) in CASES {
        if !args.cases.is_empty() && !args.cases.iter().any(|c| c == case) {
            continue;
        }
        // A reference beyond the recorded iterations is simply absent.
        let reference = reference_mean_log_likelihood(&dir, covariance_type, iterations).ok();
        let start = workload.start(covariance_type).ok_or_else(|| {
            Error::new(ErrorKind::InvalidConfig, format!("no {covariance_type} start model"))
        })?;
        let result = if single {
            let start = start.cast::<f32>()?;
            pool.install(|| time_case(case, x32.samples(), &start, args, reference))?
        } else {
            pool.install(|| time_case(case, workload.x.samples(), start, args, reference))?
        };
        results.push((result, covariance_type, single));
    }
    let peaks = before.best(Peaks::measure(threads, n * d * 8));
    if !args.json {
        println!(
            "Headline EM: n = {}, d = {}, k = {}, {iterations} iterations (tol 0, shared start), \
             {threads} threads, {} timed fits per case after 1 warm-up; ms per iteration = \
             fit time / iterations (includes the final scoring pass).\n",
            workload.x.n_rows(),
            workload.x.n_cols(),
            workload.n_components(),
            args.repeats
        );
        println!(
            "Instruction set {}; peaks measured in this run on {threads} threads (best of before \
             and after the fits): f64 {:.1} \
             GFLOP/s, f32 {:.1} GFLOP/s, exp f64 {:.2}/ns, exp f32 {:.2}/ns, read {:.1} GB/s \
             (bound = sum of the stage bounds, see gmm_bench::roofline).\n",
            isa.as_str(),
            peaks.f64_n,
            peaks.f32_n,
            peaks.exp_f64_n,
            peaks.exp_f32_n,
            peaks.read_gbs
        );
        println!(
            "| case | median ms/iter | min ms/iter | max ms/iter | bound ms/iter | median / \
             bound | final mean log-lik | sklearn | rel. diff |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    for (result, covariance_type, single) in &results {
        let bound = if *single {
            Bound::headline::<f32>(&peaks, *covariance_type, n, d, k, iterations)
        } else {
            Bound::headline::<f64>(&peaks, *covariance_type, n, d, k, iterations)
        };
        if args.json {
            print_json(result, &workload, args, &bound, isa.as_str());
        } else {
            print_row(result, &bound);
        }
    }
    Ok(())
}

/// One warm-up fit, then `args.repeats` timed fits on the current rayon pool.
fn time_case<T: Real>(
    case: &'static str,
    x: Samples<'_, T>,
    start: &GaussianMixture<T>,
    args: &Args,
    reference: Option<f64>,
) -> Result<CaseResult> {
    let config = EmConfig::new(start.n_components(), start.covariance_type())
        .max_iter(args.iterations as usize)
        .tol(0.0);
    let fit_once =
        || gmm_em::fit(&config, x, FitOptions { start: Some(start), ..FitOptions::default() });
    let mut last = fit_once().map_err(|e| e.context(format!("{case} warm-up fit")))?;
    let mut fit_seconds = Vec::with_capacity(args.repeats as usize);
    for _ in 0..args.repeats {
        let started = Instant::now();
        let fit = fit_once();
        let elapsed = started.elapsed().as_secs_f64();
        last = fit.map_err(|e| e.context(format!("{case} fit")))?;
        fit_seconds.push(elapsed);
    }
    Ok(CaseResult {
        case,
        covariance_type: start.covariance_type(),
        dtype: T::NAME,
        fit_seconds,
        n_iter: last.report.n_iter,
        final_log_likelihood: last.report.final_log_likelihood,
        reference,
        threads: last.report.threads,
    })
}

fn print_row(r: &CaseResult, bound: &Bound) {
    let ms = r.ms_per_iteration();
    let (reference, diff) = match (r.reference, r.relative_difference()) {
        (Some(reference), Some(diff)) => (format!("{reference:.10}"), format!("{diff:.2e}")),
        _ => ("—".to_string(), "—".to_string()),
    };
    println!(
        "| {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2}x | {:.10} | {reference} | {diff} |",
        r.case,
        median(&ms),
        ms[0],
        ms[ms.len() - 1],
        bound.total_ms(),
        median(&ms) / bound.total_ms(),
        r.final_log_likelihood,
    );
}

fn print_json(r: &CaseResult, w: &Workload, args: &Args, bound: &Bound, isa: &str) {
    let ms = r.ms_per_iteration();
    let value = serde_json::json!({
        "case": r.case,
        "covariance_type": r.covariance_type.as_str(),
        "dtype": r.dtype,
        "n_samples": w.x.n_rows(),
        "n_features": w.x.n_cols(),
        "n_components": w.n_components(),
        "threads": r.threads,
        "iterations": r.n_iter,
        "repeats": args.repeats,
        "median_ms_per_iteration": median(&ms),
        "min_ms_per_iteration": ms[0],
        "max_ms_per_iteration": ms[ms.len() - 1],
        "fit_seconds": r.fit_seconds,
        "final_mean_log_likelihood": r.final_log_likelihood,
        "sklearn_mean_log_likelihood": r.reference,
        "relative_difference": r.relative_difference(),
        "isa": isa,
        "bound_ms_per_iteration": bound.total_ms(),
        "median_over_bound": median(&ms) / bound.total_ms(),
    });
    println!("{value}");
}
