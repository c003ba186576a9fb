//! Random valid parameters (the original package's `gen_param`) and sampling.
//!
//! Both are reproducible from a seed: one `Xoshiro256PlusPlus` stream, consumed in a fixed
//! order (for sampling: per sample, one uniform for the component, then `d` standard normals).

use faer::{Mat, Side};
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::covariance::CovarianceType;
use crate::data::Matrix;
use crate::error::{Error, Result};
use crate::mixture::GaussianMixture;
use crate::real::Real;

impl<T: Real> GaussianMixture<T> {
    /// Random valid parameters, after the original `gen_param(d, k, varmode, spread)`:
    ///
    /// * weights `∝ |z| + 0.05` (`z` standard normal), so none is negligible;
    /// * means `spread · √k · z` per coordinate;
    /// * diag variances `|z| + 0.05`; spherical ones the same per component;
    /// * full (and tied) covariances `A Aᵀ / d + 0.05 I` with `A` a `d x d` standard normal
    ///   matrix.
    ///
    /// The `0.05` floors (not in the original) keep every draw well conditioned.
    pub fn random(
        covariance_type: CovarianceType,
        n_components: usize,
        n_features: usize,
        spread: f64,
        seed: u64,
    ) -> Result<Self> {
        if n_components == 0 || n_features == 0 {
            return Err(Error::invalid_config(
                "random parameters need at least one component and one feature",
            ));
        }
        if !(spread.is_finite() && spread > 0.0) {
            return Err(Error::invalid_config(format!("spread must be positive, got {spread}")));
        }
        let (k, d) = (n_components, n_features);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut normal = || -> f64 { rng.sample(StandardNormal) };
        let raw: Vec<f64> = (0..k).map(|_| normal().abs() + 0.05).collect();
        let total: f64 = raw.iter().sum();
        let weights = raw.iter().map(|w| T::from_f64(w / total)).collect();
        let scale = spread * (k as f64).sqrt();
        let means = (0..k * d).map(|_| T::from_f64(scale * normal())).collect();
        let mut random_spd = || {
            let a: Vec<f64> = (0..d * d).map(|_| normal()).collect();
            let mut cov = vec![T::ZERO; d * d];
            for i in 0..d {
                for j in 0..d {
                    let dot: f64 = (0..d).map(|m| a[i * d + m] * a[j * d + m]).sum();
                    cov[i * d + j] = T::from_f64(dot / d as f64 + if i == j { 0.05 } else { 0.0 });
                }
            }
            cov
        };
        let covariances: Vec<T> = match covariance_type {
            CovarianceType::Diag => {
                (0..k * d).map(|_| T::from_f64(normal().abs() + 0.05)).collect()
            }
            CovarianceType::Spherical => {
                (0..k).map(|_| T::from_f64(normal().abs() + 0.05)).collect()
            }
            CovarianceType::Full => (0..k).flat_map(|_| random_spd()).collect(),
            CovarianceType::Tied => random_spd(),
        };
        Self::new(covariance_type, weights, means, covariances)
    }

    /// Draws `n` samples and the component each came from.
    ///
    /// `x = μ_k + L_k z` with `Σ_k = L_k L_kᵀ` (the square roots of the variances for diag and
    /// spherical covariances) and `z` standard normal; the component is drawn by inverting
    /// the cumulative weights with one uniform per sample.
    pub fn sample(&self, n: usize, seed: u64) -> Result<(Matrix<T>, Vec<usize>)> {
        if n == 0 {
            return Err(Error::invalid_config("asked for 0 samples: ask for at least one"));
        }
        let (k, d) = (self.n_components(), self.n_features());
        let bytes = crate::memory::bytes_of(n as u128, d * std::mem::size_of::<T>() + 8);
        crate::memory::check(
            bytes,
            &format!("drawing {n} samples of {d} features"),
            "ask for fewer samples (and write them in several runs with different seeds)",
        )?;
        let factors: Vec<Vec<f64>> =
            (0..k).map(|c| self.covariance_factor(c)).collect::<Result<_>>()?;
        let mut cumulative = Vec::with_capacity(k);
        let mut acc = 0.0;
        for w in self.weights() {
            acc += w.to_f64();
            cumulative.push(acc);
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut data = Vec::with_capacity(n * d);
        let mut labels = Vec::with_capacity(n);
        let mut z = vec![0.0f64; d];
        for _ in 0..n {
            let u: f64 = rng.random::<f64>() * acc;
            let c = cumulative.iter().position(|&cum| u < cum).unwrap_or(k - 1);
            for v in z.iter_mut() {
                *v = rng.sample(StandardNormal);
            }
            let l = &factors[c];
            let mean = self.mean(c);
            for i in 0..d {
                let dot: f64 = (0..=i).map(|j| l[i * d + j] * z[j]).sum();
                data.push(T::from_f64(mean[i].to_f64() + dot));
            }
            labels.push(c);
        }
        Ok((Matrix::from_parts(data, n, d), labels))
    }

    /// Lower Cholesky factor of component `c`'s covariance, row-major, in `f64`.
    fn covariance_factor(&self, c: usize) -> Result<Vec<f64>> {
        let d = self.n_features();
        let cov = self.covariance_matrix(c);
        let m = Mat::<f64>::from_fn(d, d, |i, j| cov[i * d + j].to_f64());
        let llt = m.llt(Side::Lower).map_err(|_| {
            Error::new(
                crate::ErrorKind::NotPositiveDefinite { component: c },
                format!("the covariance of component {c} is not positive definite"),
            )
        })?;
        let l = llt.L();
        Ok((0..d * d)
            .map(|idx| if idx % d <= idx / d { l[(idx / d, idx % d)] } else { 0.0 })
            .collect())
    }
}
