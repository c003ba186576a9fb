//! The moment kernel alone on a headline-shaped block (d = 15, k = 30, 240 rows), in thread
//! CPU time, without and with a flush after every block (a developer tool, for `perf record`):
//!
//! ```sh
//! cargo run --release -p gmm-bench --example moments -- [diag|full] [--isa avx2] [--shared]
//! ```
//!
//! `--shared`: every component's sums formed around one shared centre (the mean of the
//! shifts), the matrix-product form of `gmm_core::kernel::shared_centre`.

use std::hint::black_box;

use gmm_core::kernel::AlignedVec;
use gmm_core::kernel::moments::{
    Columns, LaneMoments, MomentBlock, MomentScratch, MomentSums, Responsibilities,
};
use gmm_core::kernel::shared_centre::SharedCentre;

fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn main() -> Result<(), gmm_core::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let isa = gmm_bench::force_isa(value("--isa").map(String::as_str))?;
    let (d, k, stride) = (15, 30, 240);
    let value = |i: usize| ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7;
    let xt = AlignedVec::from_slice(&(0..d * stride).map(value).collect::<Vec<f64>>());
    let rw = AlignedVec::from_slice(
        &(0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0 + 0.01).collect::<Vec<f64>>(),
    );
    let shift: Vec<f64> = (0..k * d).map(|i| value(i * 3 + 1) * 0.5).collect();
    for full in [false, true] {
        if args.iter().any(|a| a == if full { "diag" } else { "full" }) {
            continue;
        }
        let mut lanes = LaneMoments::new(full, k, d);
        if args.iter().any(|a| a == "--shared") {
            let centre = (0..d).map(|j| (0..k).map(|c| shift[c * d + j]).sum::<f64>() / k as f64);
            lanes.set_centre(&SharedCentre::around(centre.collect(), vec![true; k]));
        }
        let mut scratch = MomentScratch::new(d);
        let block = MomentBlock {
            xt: Columns::F64(&xt),
            rw: Responsibilities::F64(&rw),
            stride,
            len: stride,
        };
        let mut times = Vec::new();
        for _ in 0..21 {
            let start = thread_cpu_ns();
            for _ in 0..100 {
                lanes.add_block(&shift, black_box(block), &mut scratch);
            }
            times.push((thread_cpu_ns() - start) as f64 / 100.0);
        }
        // Empty the lanes before the next measure.
        let (mut n, mut f, mut s) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * d * d]);
        let second_len = if full { k * d * d } else { k * d };
        lanes.flush(MomentSums {
            full,
            shift: &shift,
            counts: &mut n,
            first: &mut f,
            second: &mut s[..second_len],
        });
        times.sort_by(f64::total_cmp);
        // A pass's use: every block flushed at once.
        let mut flushed = Vec::new();
        for _ in 0..21 {
            let start = thread_cpu_ns();
            for _ in 0..100 {
                lanes.add_block(&shift, black_box(block), &mut scratch);
                let second = &mut s[..second_len];
                lanes.flush(MomentSums {
                    full,
                    shift: &shift,
                    counts: &mut n,
                    first: &mut f,
                    second,
                });
            }
            flushed.push((thread_cpu_ns() - start) as f64 / 100.0);
        }
        flushed.sort_by(f64::total_cmp);
        black_box((&n, &f, &s));
        let flops = if full { 240.0 * 30.0 * 286.0 } else { 240.0 * 30.0 * 76.0 };
        println!(
            "{} {}: {:.1} µs per block (median of 21 x 100), {:.1} GFLOP/s by the bound model; \
             {:.1} µs per block flushed after each",
            isa.as_str(),
            if full { "full" } else { "diag" },
            times[10] / 1e3,
            flops / times[10],
            flushed[10] / 1e3
        );
    }
    Ok(())
}
