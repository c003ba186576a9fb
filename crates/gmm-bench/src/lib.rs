//! # gmm-bench: workloads and the benchmark harness of gmm
//!
//! Everything the benchmarks and the headline runner measure is built here, so the criterion
//! benches (`benches/em.rs`) and the `gmm-headline` binary time the same inputs:
//!
//! * [`Workload::headline`] / [`Workload::from_fixture`] — the founding document's headline
//!   workload (100,000 x 15, k = 30, f64) with its shared starting models, read from
//!   `tests/data/headline/` ([`headline_dir`]);
//! * [`Workload::synthetic`] — a workload of any size, drawn from a random diagonal mixture
//!   and started like the fixture (k data rows as means, the data's variance everywhere);
//! * [`reference_mean_log_likelihood`] — scikit-learn's mean log-likelihood after each EM
//!   iteration from the same start, the headline fixture's accuracy reference;
//! * [`matrix_to_f32`] / [`Workload::x_f32`] / [`Workload::start_f32`] — the same workload in
//!   single precision;
//! * [`roofline`] — the machine's measured peaks and the per-stage bound of a headline
//!   iteration (`gmm-roofline`; `gmm-headline` prints its ratio to it);
//! * [`force_isa`] — the `--isa avx2|avx512|scalar` flag of the runners.
//!
//! ## Running
//!
//! ```text
//! cargo bench -p gmm-bench                       # criterion: kernel, em_step, fit10; seq and par
//! cargo bench -p gmm-bench -- fit10              # one group
//! cargo run --release -p gmm-bench --bin gmm-headline              # Markdown table
//! cargo run --release -p gmm-bench --bin gmm-headline -- --json    # JSON lines
//! cargo run --release -p gmm-bench --bin gmm-scaling               # em_step vs n, k, d
//! cargo run --release -p gmm-bench --bin gmm-roofline -- --isa avx2 # peaks and bounds
//! ```
//!
//! ```
//! use gmm_core::CovarianceType;
//! use gmm_bench::Workload;
//!
//! let w = Workload::synthetic(2_000, 3, 4, 7)?;
//! assert_eq!((w.x.n_rows(), w.x.n_cols(), w.n_components()), (2_000, 3, 4));
//! let start = w.start(CovarianceType::Full).expect("full starts are built");
//! assert!(start.score(w.x.samples())?.is_finite());
//! # Ok::<(), gmm_core::Error>(())
//! ```

use std::path::{Path, PathBuf};

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Matrix, Result};

pub mod roofline;

/// Pins every kernel of the process to the instruction set `name` (`avx512`, `avx2` or
/// `scalar`; `None`: the best the machine has) and returns the one in force.
///
/// # Errors
/// `InvalidConfig` for an unknown name or one this machine lacks.
pub fn force_isa(name: Option<&str>) -> Result<gmm_core::isa::Isa> {
    use gmm_core::isa;
    if let Some(name) = name {
        let wanted = isa::Isa::parse(name).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidConfig,
                format!("unknown instruction set {name:?}: use avx512, avx2 or scalar"),
            )
        })?;
        if !isa::force_global(Some(wanted)) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("this machine cannot run {name} (it has {:?})", isa::available()),
            ));
        }
    }
    Ok(isa::current())
}

/// Name of the headline data file inside a fixture folder.
pub const HEADLINE_DATA: &str = "headline.npy";
/// Name of scikit-learn's reference trajectories inside a fixture folder.
pub const HEADLINE_REFERENCE: &str = "headline_reference.json";

/// The folder of the headline fixture in this repository: `tests/data/headline` under the
/// workspace root (found from this crate's manifest directory at compile time).
pub fn headline_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/headline")
}

/// Data plus the two starting models (diagonal and full) that a benchmark fits from.
///
/// Both starts share means and weights; the full one holds the diagonal start's variances as
/// diagonal matrices, so diag and full fits begin from the same mixture.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The samples, `n x d`, row-major.
    pub x: Matrix<f64>,
    /// Diagonal-covariance starting model.
    pub start_diag: GaussianMixture<f64>,
    /// Full-covariance starting model.
    pub start_full: GaussianMixture<f64>,
}

impl Workload {
    /// The headline fixture from [`headline_dir`].
    ///
    /// # Errors
    /// As [`Workload::from_fixture`].
    pub fn headline() -> Result<Self> {
        Self::from_fixture(&headline_dir())
    }

    /// Reads a fixture folder: `headline.npy` (float32 or float64; kept as `f64`) and
    /// `headline_init_diag.json`, `headline_init_full.json` (scikit-learn-layout models).
    ///
    /// # Errors
    /// `Io` when a file is missing or unreadable, `Parse` when one is malformed (both name the
    /// file), and `DimensionMismatch` / `InvalidConfig` when the models do not fit the data.
    pub fn from_fixture(dir: &Path) -> Result<Self> {
        let x = gmm_io::read_matrix(&dir.join(HEADLINE_DATA))?.into_f64();
        let start_diag = gmm_io::read_model::<f64>(&dir.join("headline_init_diag.json"))?;
        let start_full = gmm_io::read_model::<f64>(&dir.join("headline_init_full.json"))?;
        let workload = Self { x, start_diag, start_full };
        workload.check()?;
        Ok(workload)
    }

    /// `n` samples in `d` dimensions drawn (with `seed`) from
    /// `GaussianMixture::random(Diag, k, d, 1.0, seed)`, started like the headline fixture:
    /// means are `k` data rows (rows `0, n/k, 2n/k, ...`; the samples are independent, so these
    /// are as good as randomly chosen ones), every variance is the data's per-dimension
    /// variance (`ddof = 0`), weights are `1/k`.
    ///
    /// # Errors
    /// `InvalidConfig` when `n < k` or a size is zero; the errors of
    /// [`GaussianMixture::random`] and [`GaussianMixture::sample`].
    pub fn synthetic(n: usize, d: usize, k: usize, seed: u64) -> Result<Self> {
        if n == 0 || d == 0 || k == 0 || n < k {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "a synthetic workload needs n >= k >= 1 and d >= 1, got n = {n}, d = {d}, \
                     k = {k}"
                ),
            ));
        }
        let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, k, d, 1.0, seed)?;
        let (x, _) = truth.sample(n, seed.wrapping_add(1))?;
        let stride = n / k;
        let means: Vec<f64> = (0..k).flat_map(|c| x.row(c * stride).to_vec()).collect();
        let (start_diag, start_full) = starts_from_means(&x, means, k)?;
        Ok(Self { x, start_diag, start_full })
    }

    /// Number of components `k` of the starting models.
    pub fn n_components(&self) -> usize {
        self.start_diag.n_components()
    }

    /// The starting model for `covariance_type`; `None` for spherical and tied, which this
    /// workload does not carry.
    pub fn start(&self, covariance_type: CovarianceType) -> Option<&GaussianMixture<f64>> {
        match covariance_type {
            CovarianceType::Diag => Some(&self.start_diag),
            CovarianceType::Full => Some(&self.start_full),
            _ => None,
        }
    }

    /// The data in single precision (see [`matrix_to_f32`]).
    pub fn x_f32(&self) -> Matrix<f32> {
        matrix_to_f32(&self.x)
    }

    /// The starting model for `covariance_type` in single precision (`None` as for
    /// [`start`](Self::start)).
    ///
    /// # Errors
    /// Those of [`GaussianMixture::cast`] (a covariance that rounds to a non-positive-definite
    /// `f32` matrix).
    pub fn start_f32(
        &self,
        covariance_type: CovarianceType,
    ) -> Result<Option<GaussianMixture<f32>>> {
        self.start(covariance_type).map(GaussianMixture::cast::<f32>).transpose()
    }

    /// Checks that both starts match the data's dimension and each other's `k`.
    fn check(&self) -> Result<()> {
        for start in [&self.start_diag, &self.start_full] {
            start.check_samples(self.x.samples())?;
        }
        if self.start_diag.n_components() != self.start_full.n_components() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "the diag start has {} components but the full start has {}",
                    self.start_diag.n_components(),
                    self.start_full.n_components()
                ),
            ));
        }
        Ok(())
    }
}

/// Diagonal and full starts with the given means, equal weights and the data's variance.
fn starts_from_means(
    x: &Matrix<f64>,
    means: Vec<f64>,
    k: usize,
) -> Result<(GaussianMixture<f64>, GaussianMixture<f64>)> {
    let d = x.n_cols();
    let variance = column_variances(x);
    let weights = vec![1.0 / k as f64; k];
    let diag_cov: Vec<f64> = (0..k).flat_map(|_| variance.iter().copied()).collect();
    let mut full_cov = vec![0.0; k * d * d];
    for c in 0..k {
        for j in 0..d {
            full_cov[c * d * d + j * d + j] = variance[j];
        }
    }
    let diag =
        GaussianMixture::new(CovarianceType::Diag, weights.clone(), means.clone(), diag_cov)?;
    let full = GaussianMixture::new(CovarianceType::Full, weights, means, full_cov)?;
    Ok((diag, full))
}

/// Per-column variance with `ddof = 0`, by two passes (mean first) so no digits are lost.
pub fn column_variances(x: &Matrix<f64>) -> Vec<f64> {
    let (n, d) = (x.n_rows(), x.n_cols());
    let mut mean = vec![0.0; d];
    for i in 0..n {
        for (m, v) in mean.iter_mut().zip(x.row(i)) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; d];
    for i in 0..n {
        for ((s, v), m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    var.iter_mut().for_each(|s| *s /= n as f64);
    var
}

/// The matrix rounded to single precision.
pub fn matrix_to_f32(x: &Matrix<f64>) -> Matrix<f32> {
    let values = x.as_slice().iter().map(|&v| v as f32).collect();
    match Matrix::from_vec(values, x.n_cols()) {
        Ok(m) => m,
        // The source is a valid matrix, so the same shape is valid again.
        Err(_) => unreachable!("a valid matrix keeps its shape when converted"),
    }
}

/// scikit-learn's mean log-likelihood per sample after EM iteration `iteration` (counting
/// from 1) for `covariance_type`, read from `headline_reference.json` in `dir`
/// (`<type>.mean_log_likelihood_after_iteration[iteration - 1]`).
///
/// # Errors
/// `Io` when the file cannot be read; `Parse` when it is not JSON or lacks the value.
pub fn reference_mean_log_likelihood(
    dir: &Path,
    covariance_type: CovarianceType,
    iteration: usize,
) -> Result<f64> {
    let path = dir.join(HEADLINE_REFERENCE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, "read", e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let message = format!("{} is not valid JSON: {e}", path.display());
        Error::new(ErrorKind::Parse, message).with_source(e)
    })?;
    let key = covariance_type.as_str();
    iteration
        .checked_sub(1)
        .and_then(|i| json.get(key)?.get("mean_log_likelihood_after_iteration")?.get(i)?.as_f64())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Parse,
                format!(
                    "{} has no number at {key}.mean_log_likelihood_after_iteration[{}]",
                    path.display(),
                    iteration as i64 - 1
                ),
            )
        })
}

/// The median of an ascending slice (the mean of the two middle values for even lengths);
/// NaN for an empty slice.
pub fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// The `main` of a runner binary: parses `A`, runs `run`, and turns every failure into one
/// line on standard error prefixed by `name` and exit code 1 (`--help` exits 0).
pub fn runner_main<A: clap::Parser>(
    name: &str,
    run: impl FnOnce(&A) -> Result<()>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("{name}: {line} (see --help)");
            return ExitCode::from(1);
        }
        // --help and --version.
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {}", e.message().replace('\n', " "));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_workload_has_the_asked_shape_and_shared_start() {
        let w = Workload::synthetic(500, 4, 5, 3).unwrap();
        assert_eq!((w.x.n_rows(), w.x.n_cols(), w.n_components()), (500, 4, 5));
        assert_eq!(w.start_diag.means(), w.start_full.means());
        let var = column_variances(&w.x);
        for c in 0..5 {
            assert_eq!(w.start_diag.mean(c), w.x.row(c * 100));
            assert_eq!(&w.start_diag.covariances()[c * 4..(c + 1) * 4], &var[..]);
        }
        // Same start, same log-likelihood whichever covariance type carries it.
        let (a, b) = (
            w.start_diag.score(w.x.samples()).unwrap(),
            w.start_full.score(w.x.samples()).unwrap(),
        );
        assert!((a - b).abs() <= 1e-12 * a.abs());
        let err = Workload::synthetic(3, 2, 4, 0).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{err}");
        assert!(err.message().contains("n = 3, d = 2, k = 4"), "{err}");
    }

    #[test]
    fn synthetic_workload_is_reproducible() {
        let a = Workload::synthetic(300, 3, 4, 11).unwrap();
        let b = Workload::synthetic(300, 3, 4, 11).unwrap();
        assert_eq!(a.x, b.x);
        assert_eq!(a.start_full, b.start_full);
    }

    #[test]
    fn f32_helpers_round() {
        let w = Workload::synthetic(100, 2, 3, 1).unwrap();
        let x32 = w.x_f32();
        assert_eq!(x32.as_slice()[7], w.x.as_slice()[7] as f32);
        assert!(w.start_f32(CovarianceType::Full).unwrap().is_some());
        assert!(w.start_f32(CovarianceType::Tied).unwrap().is_none());
    }

    #[test]
    fn headline_fixture_and_reference_load() {
        let dir = headline_dir();
        if !dir.join(HEADLINE_DATA).exists() {
            return;
        }
        let w = Workload::from_fixture(&dir).unwrap();
        assert_eq!((w.x.n_rows(), w.x.n_cols(), w.n_components()), (100_000, 15, 30));
        let r = reference_mean_log_likelihood(&dir, CovarianceType::Diag, 10).unwrap();
        assert_eq!(r, -26.46415699223154);
        for (t, iteration, at) in [
            (CovarianceType::Full, 11, "full.mean_log_likelihood_after_iteration[10]"),
            (CovarianceType::Full, 0, "full.mean_log_likelihood_after_iteration[-1]"),
            (CovarianceType::Tied, 1, "tied.mean_log_likelihood_after_iteration[0]"),
        ] {
            let err = reference_mean_log_likelihood(&dir, t, iteration).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Parse, "{err}");
            assert!(err.message().contains(at), "{err}");
        }
        let err = reference_mean_log_likelihood(&dir.join("absent"), CovarianceType::Diag, 1)
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io, "{err}");
        let source = std::error::Error::source(&err).expect("the io error is kept");
        assert!(source.is::<std::io::Error>(), "{source:?}");
    }

    #[test]
    fn missing_fixture_is_an_error() {
        let err = Workload::from_fixture(Path::new("/nonexistent/fixture")).unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::Io);
    }
}
