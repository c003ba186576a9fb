//! `gmm-scaling`: how the time of one EM iteration scales with `n`, `k` and `d`.
//!
//! Three sweeps, each for diagonal and full covariances, in `f64`:
//!
//! | sweep | varies | fixed |
//! |---|---|---|
//! | `n` | n = 1e4, 3e4, 1e5, 3e5, 1e6, 2e6 | d = 15, k = 30 |
//! | `k` | k = 8, 16, ..., 1024 (full: up to 256) | n = 1e5, d = 15 |
//! | `d` | d = 2, 4, 8, 16, 32, 64 | n = 1e5, k = 30 |
//!
//! For each point it builds `Workload::synthetic(n, d, k, --seed)` (data from a random
//! diagonal mixture; the start has `k` data rows as means and the data's variance everywhere,
//! the full start holding the same variances on its diagonal) and, on a `--threads`-thread
//! rayon pool, runs one untimed warm-up `gmm_em::em_step` (fused E-step + M-step, `reg_covar`
//! 1e-6, no variance floor) and then `--repeats` timed ones, each from the same start. A point
//! whose warm-up step takes longer than 5 s is timed once only (the `repeats` field says how
//! many timed steps a point has).
//!
//! Per point it reports the median, min and max milliseconds per step, nanoseconds per
//! (sample x component) (`median / (n k)`), and GFLOP/s under this flop model per step:
//!
//! * diag: `6 n k d` — the kernel's `3 n k d` (difference, square, scale-and-add per feature)
//!   plus the statistics' `3 n k d` (first and second moments);
//! * full: `2 n k d (d + 1)` — the Cholesky kernel's `d (d + 1) / 2` FMAs (`n k d (d + 1)`
//!   flops) plus the second-moment outer product's `d (d + 1) / 2` FMAs (`n k d (d + 1)` flops).
//!
//! The model leaves out the exp/log work per (sample, component) and the M-step, so it
//! understates the work at small `d`.
//!
//! Output: one JSON object per point, one per line, to `--out` (default
//! `target/scaling.jsonl`, relative to the working directory; the file is rewritten), written
//! as each point finishes, and a Markdown table on stdout. `bench/scaling/plot.py` draws the
//! lines. `--quick` runs small sweeps (a smoke test, seconds).
//!
//! ```text
//! cargo run --release -p gmm-bench --bin gmm-scaling
//! cargo run --release -p gmm-bench --bin gmm-scaling -- --quick --out /tmp/s.jsonl
//! cargo run --release -p gmm-bench --bin gmm-scaling -- --sweep d --case full --repeats 5
//! ```
//!
//! Errors (bad arguments, an unwritable output file) print one line and exit with status 1.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use gmm_bench::Workload;
use gmm_bench::median;
use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Result, Samples};
use gmm_em::Regularisation;

/// Times one EM iteration (`gmm_em::em_step`, f64) over sweeps of n, k and d for diag and
/// full covariances.
#[derive(Parser, Debug)]
#[command(name = "gmm-scaling", version)]
struct Args {
    /// Timed steps per point (after one untimed warm-up step); points whose warm-up takes
    /// more than 5 s are timed once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Threads of the rayon pool the steps run on.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
    /// Small sweeps for a smoke test.
    #[arg(long)]
    quick: bool,
    /// Run only these sweeps (repeatable): n, k, d.
    #[arg(long = "sweep", value_name = "SWEEP", value_parser = ["n", "k", "d"])]
    sweeps: Vec<String>,
    /// Run only these cases (repeatable): diag, full.
    #[arg(long = "case", value_name = "CASE", value_parser = ["diag", "full"])]
    cases: Vec<String>,
    /// Seed of the synthetic workloads.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// JSON-lines output file (rewritten).
    #[arg(long, default_value = "target/scaling.jsonl")]
    out: PathBuf,
}

/// Warm-up steps slower than this many seconds make a point's timing a single step.
const LONG_STEP_SECONDS: f64 = 5.0;

/// `reg_covar` of every step.
const REGULARISATION: Regularisation = Regularisation { reg_covar: 1e-6, variance_floor: None };

/// One sweep: the name of the varied size and its points `(n, d, k)`, plus the largest `k`
/// the full case runs (`None`: all points).
struct Sweep {
    name: &'static str,
    points: Vec<(usize, usize, usize)>,
    full_max_k: Option<usize>,
}

fn sweeps(quick: bool) -> Vec<Sweep> {
    let (ns, n_fixed, ks, ds, d_fixed, k_fixed, full_max_k): (
        &[usize],
        usize,
        &[usize],
        &[usize],
        usize,
        usize,
        usize,
    ) = if quick {
        (&[1_000, 3_000, 10_000], 10_000, &[4, 8, 16, 32], &[2, 4, 8], 15, 8, 16)
    } else {
        (
            &[10_000, 30_000, 100_000, 300_000, 1_000_000, 2_000_000],
            100_000,
            &[8, 16, 32, 64, 128, 256, 512, 1024],
            &[2, 4, 8, 16, 32, 64],
            15,
            30,
            256,
        )
    };
    vec![
        Sweep {
            name: "n",
            points: ns.iter().map(|&n| (n, d_fixed, k_fixed)).collect(),
            full_max_k: None,
        },
        Sweep {
            name: "k",
            points: ks.iter().map(|&k| (n_fixed, d_fixed, k)).collect(),
            full_max_k: Some(full_max_k),
        },
        Sweep {
            name: "d",
            points: ds.iter().map(|&d| (n_fixed, d, k_fixed)).collect(),
            full_max_k: None,
        },
    ]
}

/// Flops of one EM step under the documented model.
fn flops_per_step(covariance_type: CovarianceType, n: usize, d: usize, k: usize) -> f64 {
    let (n, d, k) = (n as f64, d as f64, k as f64);
    match covariance_type {
        CovarianceType::Full => 2.0 * n * k * d * (d + 1.0),
        _ => 6.0 * n * k * d,
    }
}

/// What one (point, case) measured.
struct PointResult {
    sweep: &'static str,
    case: &'static str,
    n: usize,
    d: usize,
    k: usize,
    /// Milliseconds of each timed step, sorted.
    ms: Vec<f64>,
    warmup_ms: f64,
    flops: f64,
}

impl PointResult {
    fn median_ms(&self) -> f64 {
        median(&self.ms)
    }

    fn ns_per_sample_component(&self) -> f64 {
        self.median_ms() * 1e6 / (self.n as f64 * self.k as f64)
    }

    fn gflops(&self) -> f64 {
        self.flops / (self.median_ms() * 1e-3) / 1e9
    }
}

fn main() -> ExitCode {
    gmm_bench::runner_main::<Args>("gmm-scaling", run)
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::io(path, "write", e)
}

fn run(args: &Args) -> Result<()> {
    let threads = args.threads as usize;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
        Error::new(ErrorKind::InvalidConfig, format!("cannot start {threads} threads: {e}"))
    })?;
    if let Some(dir) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    let mut out = BufWriter::new(File::create(&args.out).map_err(|e| io_error(&args.out, e))?);
    let cpu = cpu_name();
    let started_unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_secs());
    let wanted = |list: &[String], name: &str| list.is_empty() || list.iter().any(|s| s == name);

    println!(
        "EM step scaling ({}): f64, gmm_em::em_step (fused E-step + M-step, reg_covar 1e-6) \
         from the synthetic workload's start, {threads} threads, median of {} timed steps after \
         1 warm-up (1 when the warm-up exceeds {LONG_STEP_SECONDS} s); CPU: {cpu}.\n\
         Flop model per step: diag 6·n·k·d (kernel 3nkd + statistics 3nkd), full 2·n·k·d(d+1) \
         (kernel n·k·d(d+1) + statistics n·k·d(d+1)); exp/log and the M-step are not counted.\n",
        if args.quick { "quick" } else { "default sweeps" },
        args.repeats,
    );
    println!(
        "| sweep | case | n | d | k | median ms | min ms | max ms | ns/(sample·comp) | GFLOP/s \
         | repeats |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");

    let total = Instant::now();
    let mut written = 0usize;
    for sweep in sweeps(args.quick) {
        if !wanted(&args.sweeps, sweep.name) {
            continue;
        }
        for &(n, d, k) in &sweep.points {
            let run_diag = wanted(&args.cases, "diag");
            let run_full = wanted(&args.cases, "full") && sweep.full_max_k.is_none_or(|m| k <= m);
            if !run_diag && !run_full {
                continue;
            }
            let workload = Workload::synthetic(n, d, k, args.seed)
                .map_err(|e| e.context(format!("synthetic workload n = {n}, d = {d}, k = {k}")))?;
            for (case, run_case, start) in
                [("diag", run_diag, &workload.start_diag), ("full", run_full, &workload.start_full)]
            {
                if !run_case {
                    continue;
                }
                let (ms, warmup_ms) = pool
                    .install(|| time_steps(workload.x.samples(), start, args.repeats))
                    .map_err(|e| e.context(format!("{case} step at n = {n}, d = {d}, k = {k}")))?;
                let result = PointResult {
                    sweep: sweep.name,
                    case,
                    n,
                    d,
                    k,
                    ms,
                    warmup_ms,
                    flops: flops_per_step(start.covariance_type(), n, d, k),
                };
                print_row(&result);
                let line = json_line(&result, threads, &cpu, started_unix);
                writeln!(out, "{line}")
                    .and_then(|()| out.flush())
                    .map_err(|e| io_error(&args.out, e))?;
                written += 1;
            }
        }
    }
    println!(
        "\n{} points written to {} in {:.1} s.",
        written,
        args.out.display(),
        total.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One untimed warm-up step, then `repeats` timed steps (one if the warm-up was slow), all
/// from `start`, on the current rayon pool. Returns the sorted milliseconds and the warm-up's.
fn time_steps(
    x: Samples<'_, f64>,
    start: &GaussianMixture<f64>,
    repeats: u32,
) -> Result<(Vec<f64>, f64)> {
    let started = Instant::now();
    std::hint::black_box(gmm_em::em_step(start, x, None, REGULARISATION)?);
    let warmup_seconds = started.elapsed().as_secs_f64();
    let repeats = if warmup_seconds > LONG_STEP_SECONDS { 1 } else { repeats };
    let mut ms = Vec::with_capacity(repeats as usize);
    for _ in 0..repeats {
        let started = Instant::now();
        let step = gmm_em::em_step(start, std::hint::black_box(x), None, REGULARISATION);
        let elapsed = started.elapsed().as_secs_f64();
        std::hint::black_box(step?);
        ms.push(1e3 * elapsed);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms, 1e3 * warmup_seconds))
}

fn print_row(r: &PointResult) {
    println!(
        "| {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} | {} |",
        r.sweep,
        r.case,
        r.n,
        r.d,
        r.k,
        r.median_ms(),
        r.ms[0],
        r.ms[r.ms.len() - 1],
        r.ns_per_sample_component(),
        r.gflops(),
        r.ms.len(),
    );
}

fn json_line(r: &PointResult, threads: usize, cpu: &str, started_unix: u64) -> serde_json::Value {
    serde_json::json!({
        "sweep": r.sweep,
        "case": r.case,
        "dtype": "f64",
        "n": r.n,
        "d": r.d,
        "k": r.k,
        "median_ms": r.median_ms(),
        "min_ms": r.ms[0],
        "max_ms": r.ms[r.ms.len() - 1],
        "ns_per_sample_component": r.ns_per_sample_component(),
        "gflops": r.gflops(),
        "flops_per_step": r.flops,
        "repeats": r.ms.len(),
        "step_ms": r.ms,
        "warmup_ms": r.warmup_ms,
        "threads": threads,
        "cpu": cpu,
        "started_unix": started_unix,
    })
}

/// The first `model name` of `/proc/cpuinfo` with the logical core count, or `unknown`.
fn cpu_name() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |c| c.get());
    format!("{model}, {cores} logical cores")
}
