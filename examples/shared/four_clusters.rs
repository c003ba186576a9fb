//! The 4-cluster example of automatic clustering (`examples/auto_clustering.rs`), shared with
//! its test (`tests/integration/examples_selection.rs`): the true mixture, the sample size and
//! the selection settings.

use gmm::em::{EmConfig, SelectConfig};
use gmm::{CovarianceType, GaussianMixture};

/// Samples drawn from the true mixture.
pub const N_SAMPLES: usize = 1200;

/// The seed the example samples with (the test tries others too).
pub const SAMPLE_SEED: u64 = 2024;

/// The true mixture: 4 full-covariance components in 2-D, elongated at different angles and
/// of different sizes; neighbours overlap in their tails.
pub fn four_clusters() -> Result<GaussianMixture<f64>, gmm::Error> {
    // (weight, mean, standard deviations along the principal axes, angle of the first in degrees)
    let parts: [(f64, [f64; 2], [f64; 2], f64); 4] = [
        (0.30, [0.0, 0.0], [2.0, 0.7], 30.0),
        (0.25, [6.0, -1.0], [1.6, 0.6], -45.0),
        (0.25, [2.0, 5.0], [1.8, 0.8], 100.0),
        (0.20, [7.5, 5.0], [1.2, 1.0], 0.0),
    ];
    let (mut weights, mut means, mut covariances) = (Vec::new(), Vec::new(), Vec::new());
    for (w, m, [a, b], degrees) in parts {
        // Σ = R diag(a², b²) Rᵀ with R the rotation by `degrees`.
        let (s, c) = degrees.to_radians().sin_cos();
        let (xx, yy, xy) =
            (a * a * c * c + b * b * s * s, a * a * s * s + b * b * c * c, (a * a - b * b) * s * c);
        weights.push(w);
        means.extend(m);
        covariances.extend([xx, xy, xy, yy]);
    }
    GaussianMixture::new(CovarianceType::Full, weights, means, covariances)
}

/// BIC over k = 1..6 full-covariance mixtures, 3 k-means restarts each, tolerance 1e-6, seed 1.
pub fn selection_config() -> SelectConfig {
    SelectConfig::new((1..=6).collect(), vec![CovarianceType::Full])
        .em(EmConfig::default().n_init(3).tol(1e-6).seed(1))
}
