//! `gmm-online`: online EM on the headline fixture against batch EM, in one run.
//!
//! On the headline data (100,000 x 15, k = 30, diag or with `--full` full, f64, from
//! `headline_init_diag.json` / `headline_init_full.json`) it measures, on a `--threads`-thread pool:
//!
//! * batch EM: the median time of one EM iteration (`em_step`, `--repeats` times after a warm-up)
//!   and the final mean log-likelihood of a fit run to convergence (`tol = 1e-6`, at most
//!   `--max-iter` iterations);
//! * online EM, for each `--batch-size`: the median time of one epoch (`partial_fit_rows` over
//!   the shuffled order: `partial_fit` per batch, or the small-batch hot path; step `(t + t0)^-κ`), and the whole data's mean log-likelihood after each
//!   of `--epochs` epochs, with its gap to batch EM's final value in percent.
//!
//! ```text
//! cargo run --release -p gmm-bench --bin gmm-online -- --batch-size 1000 --batch-size 1
//! ```

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use gmm_bench::{Workload, median};
use gmm_core::Result;
use gmm_em::online::{OnlineConfig, OnlineEm};
use gmm_em::update::MaximumLikelihood;
use gmm_em::{EmConfig, FitOptions, Regularisation, em_step};
use rand::SeedableRng;
use rand::seq::SliceRandom;

/// Online EM against batch EM on the headline fixture (diag or full, f64).
#[derive(Parser, Debug)]
#[command(name = "gmm-online", version)]
struct Args {
    /// Mini-batch sizes to try (repeatable).
    #[arg(long = "batch-size", default_values_t = [1000usize])]
    batch_sizes: Vec<usize>,
    /// Epochs per batch size.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Step-size exponent.
    #[arg(long, default_value_t = 0.6)]
    kappa: f64,
    /// Step-size offset.
    #[arg(long, default_value_t = 2.0)]
    t0: f64,
    /// Timed EM iterations for the baseline.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Iteration cap of the converged batch-EM fit.
    #[arg(long, default_value_t = 300)]
    max_iter: usize,
    /// Threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Use the full-covariance start (`headline_init_full.json`) instead of the diag one.
    #[arg(long)]
    full: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(args.threads).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gmm-online: error: cannot start {} threads: {e}", args.threads);
            return ExitCode::FAILURE;
        }
    };
    match pool.install(|| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gmm-online: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let w = Workload::headline()?;
    let x = w.x.samples();
    let n = x.n_samples();
    let start = if args.full { &w.start_full } else { &w.start_diag };
    let reg = Regularisation { reg_covar: 1e-6, variance_floor: None };
    em_step(start, x, None, reg)?;
    let mut iteration_ms = Vec::new();
    for _ in 0..args.repeats {
        let t = Instant::now();
        em_step(start, x, None, reg)?;
        iteration_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    iteration_ms.sort_by(f64::total_cmp);
    let em_ms = median(&iteration_ms);
    let config = EmConfig::new(start.n_components(), start.covariance_type())
        .max_iter(args.max_iter)
        .tol(1e-6);
    let batch =
        gmm_em::fit(&config, x, FitOptions { start: Some(start), ..FitOptions::default() })?;
    let target = batch.report.final_log_likelihood;
    println!(
        "batch EM: {em_ms:.2} ms per iteration (median of {}); converged = {} after {} \
         iterations, final mean log-likelihood {target:.6}",
        args.repeats, batch.report.converged, batch.report.n_iter
    );
    let rule = MaximumLikelihood(reg);
    for &b in &args.batch_sizes {
        let online = OnlineConfig::new().kappa(args.kappa).t0(args.t0);
        let mut state = OnlineEm::new(start.clone(), &online)?;
        let mut order: Vec<usize> = (0..n).collect();
        let mut epoch_ms = Vec::new();
        for epoch in 0..args.epochs {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(epoch as u64);
            order.shuffle(&mut rng);
            let t = Instant::now();
            state.partial_fit_rows(x, &order, None, b, &rule)?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            epoch_ms.push(ms);
            let ll = state.model().score(x)?;
            println!(
                "online b={b:>5} epoch {}: {ms:9.1} ms ({:5.2} EM iterations), mean \
                 log-likelihood {ll:.6}, gap to batch EM {:+.3}%",
                epoch + 1,
                ms / em_ms,
                (target - ll) / target.abs() * 100.0
            );
        }
        epoch_ms.sort_by(f64::total_cmp);
        let m = median(&epoch_ms);
        // The baseline again, right after this batch size (the machine is shared).
        let mut again = Vec::new();
        for _ in 0..args.repeats {
            let t = Instant::now();
            em_step(start, x, None, reg)?;
            again.push(t.elapsed().as_secs_f64() * 1e3);
        }
        again.sort_by(f64::total_cmp);
        let after = median(&again);
        println!(
            "online b={b:>5}: median epoch {m:.1} ms = {:.2} batch EM iterations ({em_ms:.2} ms \
             before, {after:.2} ms after: {:.2} against the mean)",
            m / em_ms,
            2.0 * m / (em_ms + after)
        );
    }
    Ok(())
}
