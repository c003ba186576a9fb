//! Helpers shared by the gmm-core integration tests.

use std::path::PathBuf;

use gmm_core::{CovarianceType, GaussianMixture, Real};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A seeded generator.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// `n x d` uniform values in `[-scale, scale]`.
pub fn uniform_data<T: Real>(n: usize, d: usize, scale: f64, seed: u64) -> Vec<T> {
    let mut r = rng(seed);
    (0..n * d).map(|_| T::from_f64(scale * (2.0 * r.random::<f64>() - 1.0))).collect()
}

/// Path of a file under this crate's `tests/data`.
pub fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(relative)
}

/// A random model of every covariance type.
pub fn random_models<T: Real>(k: usize, d: usize, seed: u64) -> Vec<GaussianMixture<T>> {
    CovarianceType::ALL
        .iter()
        .map(|&t| GaussianMixture::random(t, k, d, 1.0, seed).expect("random parameters are valid"))
        .collect()
}

/// `|a - b| <= tol * max(1, |a|, |b|)`.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
}
