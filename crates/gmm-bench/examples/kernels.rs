//! Single-thread kernel timings on the headline fixture in **thread CPU time** (a developer
//! tool: CPU time is much less disturbed than wall-clock time when other jobs share the
//! machine; see docs/PERFORMANCE.md).
//!
//! ```sh
//! cargo run --release -p gmm-bench --example kernels -- [--isa avx2] [--repeats 15] [--case diag-f64]
//! ```
//!
//! On a 1-thread pool, per case (diag/full x f64/f32), the median over the repeats of: a pass
//! that only loads the blocks (`block loads`), one pass of the density kernel over all blocks
//! (`+densities`), densities + log-sum-exp with
//! responsibilities (`+lse`), the scoring pass (`score_samples`), and the fused E-step
//! (`e_step`); `stats ≈ e_step - (+lse)`. Milliseconds.

use std::hint::black_box;

use gmm_core::kernel::{BlockPass, log_densities, log_likelihoods_and_responsibilities};
use gmm_core::{GaussianMixture, Real, Samples};

/// CPU time of the calling thread, nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = thread_cpu_ns();
            f();
            (thread_cpu_ns() - start) as f64 / 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn case<T: Real>(name: &str, model: &GaussianMixture<T>, x: Samples<'_, T>, repeats: usize) {
    let k = model.n_components();
    let pass = BlockPass::new(x, k);
    let load = median_ms(repeats, || {
        black_box(pass.run(|| (), |_, s, _| _ = black_box(s.xt[0]), |_, _| ()));
    });
    let densities = median_ms(repeats, || {
        black_box(pass.run(|| (), |_, s, _| log_densities(model, s, true), |_, _| ()));
    });
    let lse = median_ms(repeats, || {
        black_box(pass.run(
            || (),
            |_, s, _| {
                log_densities(model, s, true);
                log_likelihoods_and_responsibilities(k, s, true);
            },
            |_, _| (),
        ));
    });
    let score = median_ms(repeats, || {
        black_box(model.score_samples(x).expect("scores"));
    });
    let step = median_ms(repeats, || {
        black_box(gmm_em::e_step(model, x, None).expect("statistics"));
    });
    println!(
        "| {name} | {load:.2} | {densities:.2} | {lse:.2} | {score:.2} | {step:.2} | {:.2} | {:.2} |",
        step - lse,
        score / step
    );
}

fn main() -> Result<(), gmm_core::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let isa = gmm_bench::force_isa(value("--isa").map(String::as_str))?;
    let repeats = value("--repeats").and_then(|r| r.parse().ok()).unwrap_or(15);
    let w = gmm_bench::Workload::headline()?;
    let x32 = w.x_f32();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool");
    println!("{} 1 thread, thread CPU ms, median of {repeats}\n", isa.as_str());
    println!(
        "| case | block loads | +densities | +lse | score_samples | e_step | ≈ stats | score / e_step |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let only = value("--case").cloned();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    pool.install(|| -> Result<(), gmm_core::Error> {
        if wanted("diag-f64") {
            case("diag-f64", &w.start_diag, w.x.samples(), repeats);
        }
        if wanted("full-f64") {
            case("full-f64", &w.start_full, w.x.samples(), repeats);
        }
        if wanted("diag-f32") {
            case("diag-f32", &w.start_diag.cast::<f32>()?, x32.samples(), repeats);
        }
        if wanted("full-f32") {
            case("full-f32", &w.start_full.cast::<f32>()?, x32.samples(), repeats);
        }
        Ok(())
    })
}
