//! `gmm-roofline`: this machine's bound for the headline EM workload.
//!
//! Measures the FMA peak (`f64`, `f32`; 1 and `--threads` threads), the throughput of gmm's
//! vectorised `exp` and the read bandwidth over a buffer the size of the headline data, on the
//! instruction set the kernels run on (`--isa` pins one), then prints each headline case's
//! bound per EM iteration, stage by stage (the model is documented in `gmm_bench::roofline`).
//!
//! ```text
//! cargo run --release -p gmm-bench --bin gmm-roofline -- --threads 2
//! cargo run --release -p gmm-bench --bin gmm-roofline -- --threads 2 --isa avx2
//! ```

use clap::Parser;
use gmm_bench::roofline::{Bound, Peaks};
use gmm_core::{CovarianceType, Result};

/// Measures this machine's peaks and prints the headline workload's per-stage bound.
#[derive(Parser, Debug)]
#[command(name = "gmm-roofline", version)]
struct Args {
    /// Threads of the multi-thread figures (and of the bound).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
    /// Instruction set to measure: avx512, avx2 or scalar [default: the best the machine has].
    #[arg(long)]
    isa: Option<String>,
    /// EM iterations of the headline fit (each carries 1/iterations of the scoring pass).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

/// The headline shape: n, d, k.
const SHAPE: (usize, usize, usize) = (100_000, 15, 30);

fn main() -> std::process::ExitCode {
    gmm_bench::runner_main::<Args>("gmm-roofline", run)
}

fn run(args: &Args) -> Result<()> {
    gmm_bench::force_isa(args.isa.as_deref())?;
    let (n, d, k) = SHAPE;
    let threads = args.threads as usize;
    let peaks = Peaks::measure(threads, n * d * 8);
    let cases = [
        ("diag-f64", CovarianceType::Diag, false),
        ("full-f64", CovarianceType::Full, false),
        ("diag-f32", CovarianceType::Diag, true),
        ("full-f32", CovarianceType::Full, true),
    ];
    let iterations = args.iterations as usize;
    let bounds: Vec<(&str, Bound)> = cases
        .iter()
        .map(|&(name, t, single)| {
            let b = if single {
                Bound::headline::<f32>(&peaks, t, n, d, k, iterations)
            } else {
                Bound::headline::<f64>(&peaks, t, n, d, k, iterations)
            };
            (name, b)
        })
        .collect();
    if args.json {
        let cases: Vec<_> = bounds
            .iter()
            .map(|(name, b)| {
                serde_json::json!({
                    "case": name, "bound_ms": b.total_ms(), "densities_ms": b.densities_ms,
                    "log_sum_exp_ms": b.log_sum_exp_ms, "exp_ms": b.exp_ms,
                    "statistics_ms": b.statistics_ms, "data_ms": b.data_ms,
                })
            })
            .collect();
        let value = serde_json::json!({
            "isa": peaks.isa, "threads": threads,
            "f64_gflops_1": peaks.f64_1, "f64_gflops_n": peaks.f64_n,
            "f32_gflops_1": peaks.f32_1, "f32_gflops_n": peaks.f32_n,
            "exp_f64_per_ns": peaks.exp_f64_n, "exp_f32_per_ns": peaks.exp_f32_n,
            "read_gb_per_s": peaks.read_gbs, "read_bytes": peaks.bandwidth_bytes,
            "cases": cases,
        });
        println!("{value}");
        return Ok(());
    }
    println!("Machine peaks ({}, {threads} threads):\n", peaks.isa);
    println!("| what | 1 thread | {threads} threads |");
    println!("|---|---:|---:|");
    println!("| f64 FMA peak, GFLOP/s | {:.1} | {:.1} |", peaks.f64_1, peaks.f64_n);
    println!("| f32 FMA peak, GFLOP/s | {:.1} | {:.1} |", peaks.f32_1, peaks.f32_n);
    println!("| exp f64, 10⁹/s | | {:.2} |", peaks.exp_f64_n);
    println!("| exp f32, 10⁹/s | | {:.2} |", peaks.exp_f32_n);
    println!(
        "| read bandwidth over {:.0} MB, GB/s | | {:.1} |",
        peaks.bandwidth_bytes as f64 / 1e6,
        peaks.read_gbs
    );
    println!(
        "\nBound per EM iteration, n = {n}, d = {d}, k = {k}, {iterations} iterations \
         (ms; sum of the stage bounds):\n"
    );
    println!("| case | densities | log-sum-exp | exp | statistics | data | **bound** |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, b) in &bounds {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | **{:.2}** |",
            b.densities_ms,
            b.log_sum_exp_ms,
            b.exp_ms,
            b.statistics_ms,
            b.data_ms,
            b.total_ms()
        );
    }
    Ok(())
}
