//! The machine's own bound for the headline workload: measured peaks and a per-stage model.
//!
//! Targets for gmm's speed are ratios to the bound of the machine that runs the benchmark,
//! measured in the same run, because the machines differ (AVX-512 Xeons, AVX2-only EPYCs).
//! [`Peaks::measure`] probes the machine; [`Bound::headline`] turns the peaks into a lower bound
//! on the time of one headline EM iteration, stage by stage.
//!
//! # What is measured ([`Peaks`])
//!
//! * **FMA peak**, `f64` and `f32`, on 1 and on `threads` threads: a loop of 10 independent
//!   chains of register FMAs (`acc = acc * a + b`) on the instruction set the kernels run on
//!   ([`gmm_core::isa::arch`], so `--isa avx2` measures AVX2 on an AVX-512 machine), counted as
//!   2 flops per lane. All threads start together; the time is the slowest thread's; the best of
//!   several repeats is kept (a peak is the fastest the machine can go).
//! * **`exp` throughput**: gmm's own vectorised `exp` (`Real::simd_exp`, the one the log-sum-exp
//!   uses) over an L1-resident buffer, elements per second, on `threads` threads.
//! * **Read bandwidth**: a SIMD sum over a buffer of the given size (the headline data's, so
//!   the cache level it lives in is the one measured), split between `threads` threads.
//!
//! # The bound model ([`Bound`])
//!
//! One EM iteration of `gmm-headline` is one fused E-step pass (densities, log-sum-exp with
//! responsibilities, statistics) plus a tenth of the final scoring pass (densities and
//! log-sum-exp), because `gmm-headline` divides the whole fit, scoring pass included, by the
//! number of iterations. The M-step (`k` Cholesky factorisations of `d x d` matrices) is
//! below 1 % and left out. Each stage is charged at its own bound, and the bound of the
//! iteration is the **sum** of the stage bounds (the stages run one after the other on the same
//! execution units). The arithmetic counted is the minimum of the algorithm gmm runs (flops:
//! an FMA counts 2, an add, subtract or multiply 1), with `n` samples, `k` components and `d`
//! features:
//!
//! | stage | flops | at |
//! |---|---|---|
//! | diag densities `Σ_j (x_j - μ_j)² p_j` | `4 n k d` (subtract, multiply, FMA) | peak of `T` |
//! | full densities `‖Uᵀx - Uᵀμ‖²` (μ folded into the start value) | `n k (d(d+1) + 2d)` (`d(d+1)/2` FMAs, then `d` FMAs) | peak of `T` |
//! | log-sum-exp: max, subtract, sum, normalise | `4 n k` | peak of `T` |
//! | `exp` | `n k` evaluations | measured `exp` throughput of `T` |
//! | diag statistics `N, Σ r t, Σ r t²` with `t = x - s` | `n k (5d + 1)` | `f64` peak (statistics are `f64`) |
//! | full statistics, lower triangle of `Σ r t tᵀ` | `n k (d(d+1) + 3d + 1)` | `f64` peak |
//! | data | `n d size_of::<T>()` bytes | measured read bandwidth |
//!
//! For the headline (n = 100,000, d = 15, k = 30) that is ~0.42 GFLOP (diag) and ~1.7 GFLOP
//! (full) per E-step pass and 3,000,000 `exp`s.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

use gmm_core::{CovarianceType, Real};
use pulp::{Simd, WithSimd};

/// Independent FMA chains in the peak loop (enough to cover 4-cycle latency on 2 pipes, few
/// enough not to spill on AVX2's 16 registers).
const CHAINS: usize = 10;

/// Floating-point throughput and bandwidth measured on this machine.
#[derive(Debug, Clone, Copy)]
pub struct Peaks {
    /// Instruction set the probes ran on (`avx512`, `avx2`, `scalar`).
    pub isa: &'static str,
    /// Threads of the multi-thread figures.
    pub threads: usize,
    /// `f64` FMA peak on one thread, GFLOP/s.
    pub f64_1: f64,
    /// `f64` FMA peak on `threads` threads, GFLOP/s.
    pub f64_n: f64,
    /// `f32` FMA peak on one thread, GFLOP/s.
    pub f32_1: f64,
    /// `f32` FMA peak on `threads` threads, GFLOP/s.
    pub f32_n: f64,
    /// gmm's `f64` `exp` on `threads` threads, 10⁹ evaluations per second.
    pub exp_f64_n: f64,
    /// gmm's `f32` `exp` on `threads` threads, 10⁹ evaluations per second.
    pub exp_f32_n: f64,
    /// Read bandwidth over `bandwidth_bytes` on `threads` threads, GB/s.
    pub read_gbs: f64,
    /// Size of the buffer the bandwidth was read from.
    pub bandwidth_bytes: usize,
}

impl Peaks {
    /// Measures everything (about a second) on `threads` threads, reading `bandwidth_bytes`
    /// for the bandwidth.
    pub fn measure(threads: usize, bandwidth_bytes: usize) -> Self {
        let threads = threads.max(1);
        Self {
            isa: gmm_core::isa::current().as_str(),
            threads,
            f64_1: fma_peak::<f64>(1),
            f64_n: fma_peak::<f64>(threads),
            f32_1: fma_peak::<f32>(1),
            f32_n: fma_peak::<f32>(threads),
            exp_f64_n: exp_throughput::<f64>(threads),
            exp_f32_n: exp_throughput::<f32>(threads),
            read_gbs: read_bandwidth(threads, bandwidth_bytes),
            bandwidth_bytes,
        }
    }

    /// The better of two measurements of the same machine, figure by figure: every figure
    /// is a best rate (a probe that another job disturbed reads low, which would loosen the
    /// bound), so the higher one is kept. `gmm-headline` probes before and after its fits.
    pub fn best(self, other: Self) -> Self {
        debug_assert_eq!((self.isa, self.threads), (other.isa, other.threads));
        Self {
            f64_1: self.f64_1.max(other.f64_1),
            f64_n: self.f64_n.max(other.f64_n),
            f32_1: self.f32_1.max(other.f32_1),
            f32_n: self.f32_n.max(other.f32_n),
            exp_f64_n: self.exp_f64_n.max(other.exp_f64_n),
            exp_f32_n: self.exp_f32_n.max(other.exp_f32_n),
            read_gbs: self.read_gbs.max(other.read_gbs),
            ..self
        }
    }

    /// FMA peak of `T` on `threads` (1 or [`threads`](Self::threads)), GFLOP/s.
    pub fn peak<T: Real>(&self, single_thread: bool) -> f64 {
        match (std::mem::size_of::<T>() == 4, single_thread) {
            (false, true) => self.f64_1,
            (false, false) => self.f64_n,
            (true, true) => self.f32_1,
            (true, false) => self.f32_n,
        }
    }
}

/// The stage bounds of one headline iteration, milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// Densities (E-step and a share of the scoring pass).
    pub densities_ms: f64,
    /// Log-sum-exp arithmetic outside `exp`.
    pub log_sum_exp_ms: f64,
    /// `exp` evaluations.
    pub exp_ms: f64,
    /// Statistics accumulation (`f64`).
    pub statistics_ms: f64,
    /// Reading the data.
    pub data_ms: f64,
}

impl Bound {
    /// The bound of one iteration (a pass plus `1 / iterations` of a scoring pass) of EM for a
    /// `covariance_type` model (`Diag` or `Full`) of `k` components on `n x d` samples of `T`,
    /// with `peaks` measured on the run's thread count (see the module docs).
    pub fn headline<T: Real>(
        peaks: &Peaks,
        covariance_type: CovarianceType,
        n: usize,
        d: usize,
        k: usize,
        iterations: usize,
    ) -> Self {
        let (n, d, k) = (n as f64, d as f64, k as f64);
        let full = covariance_type == CovarianceType::Full;
        // Passes that compute densities and exps per iteration: the E-step and a share of the
        // final scoring pass.
        let passes = 1.0 + 1.0 / iterations.max(1) as f64;
        let density_flops = if full { n * k * (d * (d + 1.0) + 2.0 * d) } else { 4.0 * n * k * d };
        let statistics_flops =
            if full { n * k * (d * (d + 1.0) + 3.0 * d + 1.0) } else { n * k * (5.0 * d + 1.0) };
        let peak_t = peaks.peak::<T>(false) * 1e9;
        let exp_rate =
            if std::mem::size_of::<T>() == 4 { peaks.exp_f32_n } else { peaks.exp_f64_n } * 1e9;
        let bytes = n * d * std::mem::size_of::<T>() as f64;
        Self {
            densities_ms: 1e3 * passes * density_flops / peak_t,
            log_sum_exp_ms: 1e3 * passes * 4.0 * n * k / peak_t,
            exp_ms: 1e3 * passes * n * k / exp_rate,
            statistics_ms: 1e3 * statistics_flops / (peaks.f64_n * 1e9),
            data_ms: 1e3 * passes * bytes / (peaks.read_gbs * 1e9),
        }
    }

    /// The sum of the stage bounds, milliseconds.
    pub fn total_ms(&self) -> f64 {
        self.densities_ms + self.log_sum_exp_ms + self.exp_ms + self.statistics_ms + self.data_ms
    }
}

/// Runs `work(thread)` on `threads` threads started together; returns the slowest thread's
/// seconds.
fn timed_on_threads(threads: usize, work: impl Fn(usize) + Sync) -> f64 {
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(t);
                    start.elapsed().as_secs_f64()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("probe thread")).fold(0.0, f64::max)
    })
}

/// `CHAINS` independent FMA chains, `iterations` steps each; returns a value that depends on
/// all of them (so nothing is optimised away).
struct FmaLoop<T> {
    iterations: usize,
    b: T,
}

impl<T: Real> WithSimd for FmaLoop<T> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let a = T::simd_splat(simd, T::from_f64(0.999_999));
        let b = T::simd_splat(simd, self.b);
        let mut acc = [T::simd_splat(simd, T::from_f64(1.0)); CHAINS];
        for _ in 0..self.iterations {
            for v in &mut acc {
                *v = T::simd_mul_add(simd, *v, a, b);
            }
        }
        let mut out = vec![T::ZERO; CHAINS * T::lanes::<S>()];
        let (head, _) = T::as_mut_simd::<S>(&mut out);
        head.copy_from_slice(&acc);
        out.iter().map(|v| v.to_f64()).sum()
    }
}

/// FMA peak of `T` on `threads` threads, GFLOP/s (best of 7).
pub fn fma_peak<T: Real>(threads: usize) -> f64 {
    let iterations = 4_000_000;
    let lanes = gmm_core::isa::arch().dispatch(Lanes::<T>(std::marker::PhantomData));
    let flops = (2 * lanes * CHAINS * iterations * threads) as f64;
    let best = (0..7)
        .map(|_| {
            timed_on_threads(threads, |t| {
                let op = FmaLoop { iterations: black_box(iterations), b: T::from_f64(t as f64) };
                black_box(gmm_core::isa::arch().dispatch(op));
            })
        })
        .fold(f64::INFINITY, f64::min);
    flops / best / 1e9
}

/// The number of `T` lanes of a register on the dispatched instruction set.
struct Lanes<T>(std::marker::PhantomData<T>);

impl<T: Real> WithSimd for Lanes<T> {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> usize {
        T::lanes::<S>()
    }
}

/// `repeats` sweeps of gmm's `exp` over `values` (kept in range: each sweep maps `v` to
/// `exp(v) - 1.5 ∈ [-1.5, -0.5]`).
struct ExpLoop<'a, T> {
    values: &'a mut [T],
    repeats: usize,
}

impl<T: Real> WithSimd for ExpLoop<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let offset = T::simd_splat(simd, T::from_f64(1.5));
        let (head, _) = T::as_mut_simd::<S>(self.values);
        for _ in 0..self.repeats {
            for v in head.iter_mut() {
                *v = T::simd_sub(simd, T::simd_exp(simd, *v), offset);
            }
        }
    }
}

/// gmm's `exp` of `T` on `threads` threads, 10⁹ evaluations per second (best of 7).
pub fn exp_throughput<T: Real>(threads: usize) -> f64 {
    let (len, repeats) = (2048, 2000);
    let best = (0..7)
        .map(|_| {
            timed_on_threads(threads, |t| {
                let mut values: Vec<T> =
                    (0..len).map(|i| T::from_f64(-1.0 - (i + t) as f64 * 1e-4)).collect();
                gmm_core::isa::arch().dispatch(ExpLoop { values: &mut values, repeats });
                black_box(&values);
            })
        })
        .fold(f64::INFINITY, f64::min);
    (len * repeats * threads) as f64 / best / 1e9
}

/// A SIMD sum of a slice with 4 independent accumulators.
struct SumLoop<'a>(&'a [f64]);

impl WithSimd for SumLoop<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let (head, tail) = S::as_simd_f64s(self.0);
        let mut acc = [simd.splat_f64s(0.0); 4];
        let mut chunks = head.chunks_exact(4);
        for c in &mut chunks {
            for l in 0..4 {
                acc[l] = simd.add_f64s(acc[l], c[l]);
            }
        }
        for &v in chunks.remainder() {
            acc[0] = simd.add_f64s(acc[0], v);
        }
        let total = simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]));
        simd.reduce_sum_f64s(total) + tail.iter().sum::<f64>()
    }
}

/// Read bandwidth over `bytes` (split between `threads` threads), GB/s (best of 7, after a
/// sweep that touches the buffer).
pub fn read_bandwidth(threads: usize, bytes: usize) -> f64 {
    let per_thread = (bytes / 8).div_ceil(threads).max(1024);
    let buffers: Vec<Vec<f64>> = (0..threads).map(|t| vec![t as f64 + 0.5; per_thread]).collect();
    let sweep = || {
        timed_on_threads(threads, |t| {
            black_box(gmm_core::isa::arch().dispatch(SumLoop(&buffers[t])));
        })
    };
    sweep();
    let best = (0..7).map(|_| sweep()).fold(f64::INFINITY, f64::min);
    (per_thread * threads * 8) as f64 / best / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's arithmetic for the headline shapes (the figures the module docs quote).
    #[test]
    fn headline_flop_counts() {
        let peaks = Peaks {
            isa: "test",
            threads: 2,
            f64_1: 1.0,
            f64_n: 1.0,
            f32_1: 2.0,
            f32_n: 2.0,
            exp_f64_n: 1.0,
            exp_f32_n: 2.0,
            read_gbs: 1.0,
            bandwidth_bytes: 0,
        };
        // With a peak of 1 GFLOP/s, milliseconds are MFLOP; one pass (iterations = ∞ ~ 10⁹).
        let diag = Bound::headline::<f64>(&peaks, CovarianceType::Diag, 100_000, 15, 30, 1 << 30);
        assert!((diag.densities_ms - 180.0).abs() < 1e-3, "{diag:?}");
        assert!((diag.statistics_ms - 228.0).abs() < 1e-3);
        assert!((diag.exp_ms - 3.0).abs() < 1e-3);
        assert!((diag.data_ms - 12.0).abs() < 1e-3);
        let full = Bound::headline::<f64>(&peaks, CovarianceType::Full, 100_000, 15, 30, 1 << 30);
        assert!((full.densities_ms - 810.0).abs() < 1e-3);
        assert!((full.statistics_ms - 858.0).abs() < 1e-3);
        // f32 densities at twice the peak, statistics still at the f64 peak, half the bytes.
        let f32 = Bound::headline::<f32>(&peaks, CovarianceType::Full, 100_000, 15, 30, 1 << 30);
        assert!((f32.densities_ms - 405.0).abs() < 1e-3 && (f32.data_ms - 6.0).abs() < 1e-3);
        assert!((f32.statistics_ms - 858.0).abs() < 1e-3);
        // 10 iterations: a tenth of a scoring pass more densities.
        let ten = Bound::headline::<f64>(&peaks, CovarianceType::Diag, 100_000, 15, 30, 10);
        assert!((ten.densities_ms - 198.0).abs() < 1e-3);
    }

    /// `best` keeps the higher of each figure, whichever measurement it came from.
    #[test]
    fn best_keeps_each_higher_figure() {
        let a = Peaks {
            isa: "test",
            threads: 2,
            f64_1: 1.0,
            f64_n: 4.0,
            f32_1: 2.0,
            f32_n: 9.0,
            exp_f64_n: 1.5,
            exp_f32_n: 2.0,
            read_gbs: 7.0,
            bandwidth_bytes: 64,
        };
        let b = Peaks {
            f64_1: 3.0,
            f64_n: 2.0,
            f32_1: 1.0,
            f32_n: 10.0,
            exp_f64_n: 0.5,
            exp_f32_n: 3.0,
            read_gbs: 6.0,
            ..a
        };
        for best in [a.best(b), b.best(a)] {
            let figures = [
                best.f64_1,
                best.f64_n,
                best.f32_1,
                best.f32_n,
                best.exp_f64_n,
                best.exp_f32_n,
                best.read_gbs,
            ];
            assert_eq!(figures, [3.0, 4.0, 2.0, 10.0, 1.5, 3.0, 7.0]);
            assert_eq!((best.threads, best.bandwidth_bytes), (2, 64));
        }
    }

    #[test]
    fn probes_measure_something() {
        let peaks = Peaks::measure(1, 1 << 20);
        for v in [peaks.f64_1, peaks.f32_1, peaks.exp_f64_n, peaks.exp_f32_n, peaks.read_gbs] {
            assert!(v.is_finite() && v > 0.0, "{peaks:?}");
        }
    }
}
