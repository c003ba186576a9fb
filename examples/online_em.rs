//! Online (mini-batch, stepwise) EM: a stream of batches consumed one at a time with
//! `partial_fit`, checkpointed and resumed, then compared with batch EM on the same data.
//! `cargo run --release --example online_em`.

use gmm::em::online::{OnlineConfig, OnlineEm, fit_online};
use gmm::em::update::MaximumLikelihood;
use gmm::em::{FitOptions, Regularisation};
use gmm::{CovarianceType, EmConfig, GaussianMixture, Samples};

fn main() -> Result<(), gmm::Error> {
    let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 5, 4, 3.0, 21)?;
    let (x, _) = truth.sample(50_000, 22)?;
    let config = EmConfig::new(5, CovarianceType::Diag).seed(3).tol(0.0);
    let start = EmConfig::new(5, CovarianceType::Diag).seed(3).max_iter(0).fit(x.samples())?.model;

    // A stream: batches of 500 rows in arrival order, one partial_fit each.
    let rule = MaximumLikelihood(Regularisation { reg_covar: 1e-6, variance_floor: None });
    let mut online = OnlineEm::new(start.clone(), &OnlineConfig::new().kappa(0.6).t0(2.0))?;
    let rows: Vec<&[f64]> = x.as_slice().chunks(500 * 4).collect();
    for batch in &rows[..50] {
        online.partial_fit(Samples::new(batch, 4)?, None, &rule)?;
    }
    let checkpoint = online.clone(); // stop here ...
    let mut resumed = checkpoint; // ... and resume later
    for batch in &rows[50..] {
        resumed.partial_fit(Samples::new(batch, 4)?, None, &rule)?;
    }
    println!(
        "one pass in {} batches of 500: mean log-likelihood {:.4}",
        resumed.steps(),
        resumed.model().score(x.samples())?
    );

    // Epochs over in-memory data, shuffled from the seed.
    let options = || FitOptions { start: Some(&start), ..FitOptions::default() };
    let fit = fit_online(
        &config,
        &OnlineConfig::new().batch_size(1000).epochs(3),
        x.samples(),
        options(),
    )?;
    println!("3 epochs of batches of 1,000: {:?}", fit.report.log_likelihood);
    let batch = gmm::em::fit(&config.clone().tol(1e-6).max_iter(500), x.samples(), options())?;
    println!(
        "batch EM: {} iterations, mean log-likelihood {:.4} (truth {:.4})",
        batch.report.n_iter,
        batch.report.final_log_likelihood,
        truth.score(x.samples())?
    );
    Ok(())
}
