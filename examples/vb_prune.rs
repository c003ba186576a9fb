//! Variational Bayes switches off the components the data does not need: 10 components for
//! data drawn from 3, under a Dirichlet-process and a Dirichlet-distribution prior.
//! `cargo run --release --example vb_prune`.

use gmm::em::vb::{VariationalRule, VbPrior, WeightPrior, active_components};
use gmm::em::{FitOptions, fit};
use gmm::{CovarianceType, EmConfig, GaussianMixture};

fn main() -> Result<(), gmm::Error> {
    let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 5.0, 8)?;
    let (x, _) = truth.sample(2000, 9)?;
    for weight_prior in [WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution] {
        let prior =
            VbPrior::sklearn_default(x.samples(), None, 10, CovarianceType::Full, weight_prior)?;
        let rule = VariationalRule::new(prior, 1e-6);
        let config = EmConfig::new(10, CovarianceType::Full).max_iter(1000).tol(1e-8).seed(1);
        let vb =
            fit(&config, x.samples(), FitOptions { update: Some(&rule), ..Default::default() })?;
        let mut weights: Vec<f64> = vb.model.weights().to_vec();
        weights.sort_by(|a, b| b.total_cmp(a));
        println!(
            "{weight_prior:?}: {} iterations, lower bound per sample {:.4}, {} active components \
             (weight >= 0.01); weights {:.4?}",
            vb.report.n_iter,
            vb.report.final_log_likelihood,
            active_components(&vb.model, 0.01),
            weights
        );
    }
    Ok(())
}
