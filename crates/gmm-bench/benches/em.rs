//! Criterion benches: the scoring kernel, one EM step and a 10-iteration fit, each sequential
//! (`seq`, a 1-thread rayon pool) and parallel (`par`, 2 threads), f64.
//!
//! * `kernel/{diag,full}-{shape}/{seq,par}` — `GaussianMixture::score_samples` (log-density
//!   kernel + log-sum-exp) on synthetic workloads of the shapes in `benches/shapes.toml` (at the
//!   workspace root);
//! * `em_step/{diag,full}-{shape}/{seq,par}` — one `gmm_em::em_step` (fused E-step + M-step) on
//!   the same workloads;
//! * `fit10/{diag,full}/{seq,par}` — `gmm_em::fit` with `max_iter = 10`, `tol = 0` from the
//!   headline fixture's start (100,000 x 15, k = 30); skipped with a message when the fixture is
//!   missing.
//!
//! Run with `cargo bench -p gmm-bench` (about 2-3 minutes on the 2-core machine), or one group
//! with `cargo bench -p gmm-bench -- em_step`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use gmm_bench::Workload;
use gmm_core::CovarianceType;
use gmm_em::{EmConfig, FitOptions, Regularisation};
use rayon::{ThreadPool, ThreadPoolBuilder};

/// Seed of the synthetic workloads.
const SEED: u64 = 20_240_607;

/// One entry of `benches/shapes.toml`.
#[derive(serde::Deserialize)]
struct Shape {
    name: String,
    n: usize,
    d: usize,
    k: usize,
}

#[derive(serde::Deserialize)]
struct Shapes {
    shape: Vec<Shape>,
}

/// The shapes of `benches/shapes.toml` with their synthetic workloads.
fn workloads() -> Vec<(String, Workload)> {
    let text = include_str!("../../../benches/shapes.toml");
    let shapes: Shapes =
        toml::from_str(text).unwrap_or_else(|e| panic!("benches/shapes.toml is malformed: {e}"));
    shapes
        .shape
        .into_iter()
        .map(|s| {
            let w = Workload::synthetic(s.n, s.d, s.k, SEED).unwrap_or_else(|e| {
                panic!("cannot build the {} workload ({} x {}, k = {}): {e}", s.name, s.n, s.d, s.k)
            });
            (s.name, w)
        })
        .collect()
}

const TYPES: [CovarianceType; 2] = [CovarianceType::Diag, CovarianceType::Full];

/// The `seq` (1 thread) and `par` (2 threads) pools.
fn pools() -> Vec<(&'static str, ThreadPool)> {
    [("seq", 1), ("par", 2)]
        .into_iter()
        .map(|(name, threads)| {
            let pool = ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap_or_else(|e| panic!("cannot start a {threads}-thread pool: {e}"));
            (name, pool)
        })
        .collect()
}

fn kernel(c: &mut Criterion) {
    let workloads = workloads();
    let pools = pools();
    let mut group = c.benchmark_group("kernel");
    // Flat sampling (equal iterations per sample) keeps each bench near its measurement time;
    // linear sampling needs ~n(n+1)/2 iterations of these millisecond-scale calls.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for (shape, w) in &workloads {
        for t in TYPES {
            let model = w.start(t).expect("diag and full starts exist");
            for (name, pool) in &pools {
                let id = BenchmarkId::new(format!("{t}-{shape}"), name);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        pool.install(|| model.score_samples(black_box(w.x.samples())).unwrap())
                    })
                });
            }
        }
    }
    group.finish();
}

fn em_step(c: &mut Criterion) {
    let workloads = workloads();
    let pools = pools();
    let regularisation = Regularisation { reg_covar: 1e-6, variance_floor: None };
    let mut group = c.benchmark_group("em_step");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for (shape, w) in &workloads {
        for t in TYPES {
            let model = w.start(t).expect("diag and full starts exist");
            for (name, pool) in &pools {
                let id = BenchmarkId::new(format!("{t}-{shape}"), name);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        pool.install(|| {
                            gmm_em::em_step(model, black_box(w.x.samples()), None, regularisation)
                                .unwrap()
                        })
                    })
                });
            }
        }
    }
    group.finish();
}

fn fit10(c: &mut Criterion) {
    let w = match Workload::headline() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("fit10: skipped, the headline fixture is not available ({e})");
            return;
        }
    };
    let pools = pools();
    let mut group = c.benchmark_group("fit10");
    // Each fit takes tenths of a second to seconds: one fit per sample, 10 samples.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for t in TYPES {
        let start = w.start(t).expect("diag and full starts exist");
        let config = EmConfig::new(start.n_components(), t).max_iter(10).tol(0.0);
        for (name, pool) in &pools {
            group.bench_function(BenchmarkId::new(t.as_str(), name), |b| {
                b.iter(|| {
                    pool.install(|| {
                        let options = FitOptions { start: Some(start), ..FitOptions::default() };
                        gmm_em::fit(&config, black_box(w.x.samples()), options).unwrap()
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, kernel, em_step, fit10);
criterion_main!(benches);
