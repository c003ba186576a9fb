//! Times the stages of one EM pass on the headline fixture, one thread (a developer tool):
//! `cargo run --release -p gmm-bench --example stages`.
use std::time::Instant;

fn main() -> Result<(), gmm_core::Error> {
    let w = gmm_bench::Workload::headline()?;
    let threads: usize =
        std::env::var("GMM_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    pool.install(|| {
        let only = std::env::args().nth(1);
        for (name, model) in [("diag", &w.start_diag), ("full", &w.start_full)] {
            if only.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            let x = w.x.samples();
            let stage = std::env::var("GMM_STAGE").unwrap_or_default();
            let t = Instant::now();
            for _ in 0..if stage == "step" { 0 } else { 10 } {
                std::hint::black_box(model.total_log_likelihood(x)?);
            }
            let score = t.elapsed().as_secs_f64() * 100.0;
            let reg = gmm_em::Regularisation { reg_covar: 1e-6, variance_floor: None };
            let t = Instant::now();
            for _ in 0..if stage == "score" { 0 } else { 10 } {
                std::hint::black_box(gmm_em::em_step(model, x, None, reg)?);
            }
            let step = t.elapsed().as_secs_f64() * 100.0;
            println!("{name}: score {score:.2} ms, em_step {step:.2} ms ({threads} threads)");
        }
        Ok(())
    })
}
