//! MAP-regularised EM keeps a fit well-defined where maximum likelihood collapses: a cluster of
//! four identical points in 6 dimensions. `cargo run --release --example map_em`.

use gmm::em::map::{ConjugatePrior, MapRule};
use gmm::em::{FitOptions, Regularisation, fit};
use gmm::{CovarianceType, EmConfig, GaussianMixture, Samples};

fn main() -> Result<(), gmm::Error> {
    let truth = GaussianMixture::<f64>::random(CovarianceType::Full, 2, 6, 2.0, 5)?;
    let (sampled, _) = truth.sample(200, 6)?;
    let mut rows = sampled.as_slice().to_vec();
    for _ in 0..4 {
        rows.extend([9.0, 9.0, 9.0, 9.0, 9.0, 9.0]);
    }
    let x = Samples::new(&rows, 6)?;
    let config = EmConfig::new(3, CovarianceType::Full).reg_covar(0.0).seed(2).n_init(3);
    match config.fit(x) {
        Ok(fit) => println!("maximum likelihood: {:.4}", fit.report.final_log_likelihood),
        Err(e) => println!("maximum likelihood fails: {e}"),
    }
    let prior = ConjugatePrior::mclust_default(x, None, 3, CovarianceType::Full)?;
    println!(
        "mclust's default prior: shrinkage {}, dof {}, scale diagonal {:.4?}",
        prior.shrinkage,
        prior.dof,
        (0..6).map(|j| prior.scale[j * 6 + j]).collect::<Vec<_>>()
    );
    let rule = MapRule::new(prior, Regularisation { reg_covar: 0.0, variance_floor: None });
    let map = fit(&config, x, FitOptions { update: Some(&rule), ..Default::default() })?;
    println!(
        "MAP: {} iterations, mean log-likelihood {:.4}, BIC at the MAP estimate {:.2}, weights {:.3?}",
        map.report.n_iter,
        map.report.final_log_likelihood,
        map.model.bic(x)?,
        map.model.weights()
    );
    Ok(())
}
