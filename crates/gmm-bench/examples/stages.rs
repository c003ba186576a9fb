//! Times scoring against one EM step on the headline fixture (a developer tool, for profiling):
//!
//! ```sh
//! GMM_THREADS=2 cargo run --release -p gmm-bench --example stages [diag|full] [score|step]
//! ```
//!
//! Each stage runs 10 times from the fixture's start model; the mean is printed in ms. The
//! optional arguments restrict the run to one covariance type and one stage (handy under
//! `perf record`). `GMM_THREADS` sets the thread count (default 1).
use std::time::Instant;

fn main() -> Result<(), gmm_core::Error> {
    let w = gmm_bench::Workload::headline()?;
    let threads: usize =
        std::env::var("GMM_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |what: &str, choices: &[&str]| {
        !args.iter().any(|a| choices.contains(&a.as_str())) || args.iter().any(|a| a == what)
    };
    let (types, stages) = (["diag", "full"], ["score", "step"]);
    let reg = gmm_em::Regularisation { reg_covar: 1e-6, variance_floor: None };
    pool.install(|| {
        for (name, model) in [("diag", &w.start_diag), ("full", &w.start_full)] {
            if !wanted(name, &types) {
                continue;
            }
            let x = w.x.samples();
            let mut line = format!("{name} ({threads} threads):");
            if wanted("score", &stages) {
                let t = Instant::now();
                for _ in 0..10 {
                    std::hint::black_box(model.total_log_likelihood(x)?);
                }
                line += &format!(" score {:.2} ms", t.elapsed().as_secs_f64() * 100.0);
            }
            if wanted("step", &stages) {
                let t = Instant::now();
                for _ in 0..10 {
                    std::hint::black_box(gmm_em::em_step(model, x, None, reg)?);
                }
                line += &format!(" em_step {:.2} ms", t.elapsed().as_secs_f64() * 100.0);
            }
            println!("{line}");
        }
        Ok(())
    })
}
