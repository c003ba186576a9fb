//! A user-defined update rule on gmm's ordinary EM driver: a *scale mixture* whose components
//! share one mean.
//!
//! Heavy-tailed noise (measurement errors with outliers, financial returns) is often modelled
//! as a mixture of Gaussians around one centre with different spreads. No covariance type says
//! "one mean for all components", but the seam does not need one: the E-step's statistics
//! `N_k, F_k, S_k` ([`SuffStats`]) hold everything an M-step can want, and an [`UpdateRule`]
//! turns them into parameters. This one is an ECM step (Meng & Rubin 1993): with the previous
//! variances `σ²_kj` fixed, the common mean that maximises the expected log-likelihood is the
//! precision-weighted average of the components' weighted means,
//!
//! ```text
//! μ_j = Σ_k N_k x̄_kj / σ²_kj  /  Σ_k N_k / σ²_kj,        x̄_k = s_k + F_k / N_k,
//! ```
//!
//! then each variance is the scatter around that mean, `σ²_kj = S_kj(μ) / N_k + reg`, with
//! `S_kj(μ) = S_kj + 2 F_kj δ_kj + N_k δ_kj²`, `δ = s_k - μ` (moving the shift, exactly). Each
//! step still never lowers the likelihood, so the ordinary driver's stop rule applies as is.
//!
//! ```text
//! cargo run --release --example custom_rule
//! ```

use gmm::em::update::{GuardCounts, Parameters, UpdateRule};
use gmm::em::{EmConfig, FitOptions, SuffStats, fit};
use gmm::{CovarianceType, GaussianMixture, Result};

/// Diagonal components that share one mean (see the module docs).
struct SharedMean {
    reg_covar: f64,
}

impl UpdateRule for SharedMean {
    fn update(
        &self,
        stats: &SuffStats,
        previous: &Parameters,
    ) -> Result<(Parameters, GuardCounts)> {
        let (k, d) = (stats.n_components(), stats.n_features());
        let (counts, first, second, shift) =
            (stats.counts(), stats.first(), stats.second(), stats.shift());
        let total: f64 = counts.iter().sum();
        // The common mean, dimension by dimension, with the previous variances as weights.
        let mean: Vec<f64> = (0..d)
            .map(|j| {
                let (mut num, mut den) = (0.0, 0.0);
                for c in (0..k).filter(|&c| counts[c] > 0.0) {
                    let precision = counts[c] / previous.covariances[c * d + j];
                    num += precision * (shift[c * d + j] + first[c * d + j] / counts[c]);
                    den += precision;
                }
                num / den
            })
            .collect();
        let mut guards = GuardCounts::default();
        let mut covariances = previous.covariances.clone();
        for c in 0..k {
            if stats.is_empty(c) {
                guards.empty_components += 1;
                continue;
            }
            for j in 0..d {
                let at = c * d + j;
                let delta = shift[at] - mean[j];
                let scatter = second[at] + 2.0 * first[at] * delta + counts[c] * delta * delta;
                covariances[at] = scatter / counts[c] + self.reg_covar;
            }
        }
        let parameters = Parameters {
            covariance_type: CovarianceType::Diag,
            weights: counts.iter().map(|n| n / total).collect(),
            means: (0..k).flat_map(|_| mean.iter().copied()).collect(),
            covariances,
        };
        Ok((parameters, guards))
    }

    fn reg_covar(&self) -> f64 {
        self.reg_covar
    }
}

fn main() -> Result<()> {
    // Heavy-tailed data: three spreads around (1, -2).
    let truth = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![0.6, 0.3, 0.1],
        vec![1.0, -2.0, 1.0, -2.0, 1.0, -2.0],
        vec![1.0, 1.0, 4.0, 4.0, 25.0, 25.0],
    )?;
    let (x, _) = truth.sample(20_000, 7)?;
    let config = EmConfig::new(3, CovarianceType::Diag).seed(1).tol(1e-8).max_iter(500);

    let rule = SharedMean { reg_covar: 1e-6 };
    let options = FitOptions { update: Some(&rule), ..Default::default() };
    let shared = fit(&config, x.samples(), options)?;
    let free = config.fit(x.samples())?;

    let m = &shared.model;
    println!("scale mixture fitted by a custom UpdateRule on the ordinary EM driver");
    println!(
        "  {} iterations, converged: {}, mean log-likelihood {:.5}",
        shared.report.n_iter, shared.report.converged, shared.report.final_log_likelihood
    );
    for c in 0..m.n_components() {
        println!(
            "  component {c}: weight {:.3}, mean ({:.3}, {:.3}), variances ({:.2}, {:.2})",
            m.weights()[c],
            m.mean(c)[0],
            m.mean(c)[1],
            m.covariances()[2 * c],
            m.covariances()[2 * c + 1]
        );
    }
    println!(
        "  truth: weights (0.6, 0.3, 0.1), mean (1, -2), variances (1, 4, 25); its log-likelihood \
         {:.5}",
        truth.score(x.samples())?
    );
    println!(
        "  unconstrained EM (three free means, {} more parameters): {:.5}",
        (m.n_components() - 1) * m.n_features(),
        free.report.final_log_likelihood
    );
    let one_mean = (1..m.n_components()).all(|c| m.mean(c) == m.mean(0));
    assert!(one_mean, "every component has the common mean");
    Ok(())
}
