//! Online (stepwise) EM: one full-data step is a batch EM step, fits are reproducible and
//! resumable, mini-batches reach batch EM's log-likelihood, bad settings are typed errors.

use gmm_core::{CovarianceType, GaussianMixture, Samples};
use gmm_em::map::{ConjugatePrior, MapRule};
use gmm_em::online::{OnlineConfig, OnlineEm, fit_online};
use gmm_em::update::MaximumLikelihood;
use gmm_em::{EmConfig, FitOptions, Regularisation, em_step};
use gmm_io::{read_matrix, read_model};

use crate::common::{close, data_path};

const REG: Regularisation = Regularisation { reg_covar: 1e-6, variance_floor: None };

#[test]
fn one_step_on_all_the_data_with_unit_step_is_a_batch_em_step() {
    let x = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    for t in ["diag", "full", "spherical", "tied"] {
        let start = read_model::<f64>(&data_path(&format!("small/init_{t}.json"))).unwrap();
        let (batch, ll, _) = em_step(&start, x.samples(), None, REG).unwrap();
        let config = OnlineConfig::new().t0(0.0);
        let mut online = OnlineEm::new(start.clone(), &config).unwrap();
        assert_eq!(online.next_step_size(), 1.0);
        let online_ll = online.partial_fit(x.samples(), None, &MaximumLikelihood(REG)).unwrap();
        assert_eq!(online_ll, ll, "{t}");
        let m = online.model();
        for (name, a, b) in [
            ("weights", m.weights(), batch.weights()),
            ("means", m.means(), batch.means()),
            ("covariances", m.covariances(), batch.covariances()),
        ] {
            for (p, q) in a.iter().zip(b) {
                assert!(close(*p, *q, 1e-12), "{t} {name}: {p} vs {q}");
            }
        }
    }
}

#[test]
fn a_step_blends_the_start_statistics_with_the_batch() {
    // With γ < 1 the update of a diag model is the blend of the start's implied statistics and
    // the batch's, written out here by hand for a one-component model.
    let data = [1.0, 2.0, 3.0, 5.0, -1.0, 0.5];
    let x = Samples::new(&data, 2).unwrap();
    let start =
        GaussianMixture::new(CovarianceType::Diag, vec![1.0], vec![0.5, 1.0], vec![2.0, 3.0])
            .unwrap();
    let config = OnlineConfig::new().kappa(1.0).t0(1.0);
    let mut online = OnlineEm::new(start, &config).unwrap();
    let g = online.next_step_size();
    assert_eq!(g, 0.5);
    online
        .partial_fit(
            x,
            None,
            &MaximumLikelihood(Regularisation { reg_covar: 0.0, variance_floor: None }),
        )
        .unwrap();
    for j in 0..2 {
        let col: Vec<f64> = (0..3).map(|i| data[i * 2 + j]).collect();
        let (m0, v0) = ([0.5, 1.0][j], [2.0, 3.0][j]);
        let e1 = (1.0 - g) * m0 + g * col.iter().sum::<f64>() / 3.0;
        let e2 = (1.0 - g) * (v0 + m0 * m0) + g * col.iter().map(|v| v * v).sum::<f64>() / 3.0;
        assert!(close(online.model().means()[j], e1, 1e-14));
        assert!(close(online.model().covariances()[j], e2 - e1 * e1, 1e-13));
    }
}

#[test]
fn online_fits_are_reproducible_and_resumable() {
    let x = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    let start = read_model::<f64>(&data_path("small/init_full.json")).unwrap();
    let config = EmConfig::new(4, CovarianceType::Full).tol(0.0).seed(9);
    let online = OnlineConfig::new().batch_size(64).epochs(2);
    let options = || FitOptions { start: Some(&start), ..FitOptions::default() };
    let one =
        fit_online(&config.clone().threads(Some(1)), &online, x.samples(), options()).unwrap();
    let two =
        fit_online(&config.clone().threads(Some(2)), &online, x.samples(), options()).unwrap();
    assert_eq!(one.model.means(), two.model.means());
    assert_eq!(one.model.covariances(), two.model.covariances());
    assert_eq!(one.report.n_iter, 2);
    // Stopping and resuming (a checkpoint by Clone) gives the same model as running through.
    let rule = MaximumLikelihood(REG);
    let batches: Vec<&[f64]> = x.as_slice().chunks(3 * 100).collect();
    let mut through = OnlineEm::new(start.clone(), &online).unwrap();
    for b in &batches {
        through.partial_fit(Samples::new(b, 3).unwrap(), None, &rule).unwrap();
    }
    let mut first = OnlineEm::new(start.clone(), &online).unwrap();
    for b in &batches[..7] {
        first.partial_fit(Samples::new(b, 3).unwrap(), None, &rule).unwrap();
    }
    let mut resumed = first.clone();
    drop(first);
    for b in &batches[7..] {
        resumed.partial_fit(Samples::new(b, 3).unwrap(), None, &rule).unwrap();
    }
    assert_eq!(resumed.steps(), batches.len() as u64);
    assert_eq!(resumed.model().means(), through.model().means());
    assert_eq!(resumed.model().covariances(), through.model().covariances());
}

#[test]
fn mini_batches_reach_batch_em() {
    let x = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    for t in ["diag", "full", "spherical", "tied"] {
        let start = read_model::<f64>(&data_path(&format!("small/init_{t}.json"))).unwrap();
        let ct = start.covariance_type();
        let options = || FitOptions { start: Some(&start), ..FitOptions::default() };
        let batch =
            gmm_em::fit(&EmConfig::new(4, ct).tol(1e-8).max_iter(1000), x.samples(), options())
                .unwrap();
        let target = batch.report.final_log_likelihood;
        let online = OnlineConfig::new().batch_size(100).epochs(3);
        let fit =
            fit_online(&EmConfig::new(4, ct).tol(0.0).seed(1), &online, x.samples(), options())
                .unwrap();
        let got = fit.report.final_log_likelihood;
        assert!(got >= target - 0.005 * target.abs(), "{t}: online {got} vs batch EM {target}");
        assert!(close(got, fit.model.score(x.samples()).unwrap(), 1e-12));
    }
}

#[test]
fn online_map_and_bad_settings() {
    let x = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    let prior = ConjugatePrior::mclust_default(x.samples(), None, 4, CovarianceType::Diag).unwrap();
    let rule = MapRule::new(prior, REG);
    let config = EmConfig::new(4, CovarianceType::Diag).seed(2).tol(0.0);
    let online = OnlineConfig::new().batch_size(50).epochs(1);
    let options = FitOptions { update: Some(&rule), ..FitOptions::default() };
    let fit = fit_online(&config, &online, x.samples(), options).unwrap();
    assert!(fit.report.final_log_likelihood.is_finite());
    for bad in [
        OnlineConfig::new().kappa(0.5),
        OnlineConfig::new().kappa(1.5),
        OnlineConfig::new().batch_size(0),
        OnlineConfig::new().epochs(0),
        OnlineConfig::new().t0(-1.0),
    ] {
        let err = fit_online(&config, &bad, x.samples(), FitOptions::default()).unwrap_err();
        assert_eq!(err.kind(), &gmm_core::ErrorKind::InvalidConfig, "{err}");
    }
    let start = read_model::<f64>(&data_path("small/init_diag.json")).unwrap();
    let mut state = OnlineEm::new(start, &OnlineConfig::new()).unwrap();
    let wrong = [1.0, 2.0];
    let err = state.partial_fit(Samples::new(&wrong, 2).unwrap(), None, &rule).unwrap_err();
    assert_eq!(err.kind(), &gmm_core::ErrorKind::DimensionMismatch { expected: 3, found: 2 });
    assert_eq!(state.steps(), 0);
}
