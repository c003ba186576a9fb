//! The large-UBM memory case: a 1,024-component diagonal UBM trained by splitting on
//! 1,000,000 x 39 synthetic f32 frames, with few iterations (the machine is shared).
//!
//! `cargo build --release --example ubm_memory && /usr/bin/time -v target/release/examples/ubm_memory`
//! (or `bench/memory/ubm.sh`). Arguments: `[N=1000000] [D=39] [K=1024] [ITERS_PER_SPLIT=1]
//! [FINAL_ITERS=2]`.
//!
//! Frames come from a random 64-component diagonal mixture (gmm-core's `random`, seed 20261126),
//! made here, in memory: 156 MB of data. Everything else the training holds is
//! `O(threads x block x K)` scratch and `O(K d)` parameters and statistics.

use std::time::Instant;

use gmm::speech::ubm::{UbmConfig, train_ubm};
use gmm::{CovarianceType, Error, GaussianMixture};

fn main() -> Result<(), Error> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, default: usize| args.get(i).copied().unwrap_or(default);
    let (n, d, k) = (arg(0, 1_000_000), arg(1, 39), arg(2, 1024));
    let (per_split, final_iters) = (arg(3, 1), arg(4, 2));
    let t = Instant::now();
    let source = GaussianMixture::<f32>::random(CovarianceType::Diag, 64, d, 3.0, 20261126)?;
    let (x, _) = source.sample(n, 1)?;
    println!(
        "frames: {n} x {d} f32 ({:.0} MB), made in {:.2} s",
        (n * d * 4) as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let config = UbmConfig::new(k).iters_per_split(per_split).final_iters(final_iters);
    let fit = train_ubm(&config, x.samples())?;
    let r = &fit.report;
    let (iters, secs) = r.final_iterations;
    println!(
        "UBM: {} components ({} removed), sizes {:?}, {} EM iterations in all, {:.2} s total",
        fit.model.n_components(),
        r.removed,
        r.sizes,
        r.log_likelihood.len(),
        r.seconds
    );
    println!(
        "final size: {iters} EM iterations, {:.3} s per iteration; mean log-likelihood {:.4}",
        secs / iters.max(1) as f64,
        r.log_likelihood.last().map(|&(_, ll)| ll).unwrap_or(f64::NAN)
    );
    Ok(())
}
