//! MAP-regularised EM against numpy: Fraley & Raftery's (2007) posterior-mode formulas and
//! mclust's default prior, computed independently by `tests/data/map/make_map_reference.py`.

use gmm_core::{CovarianceType, ErrorKind, GaussianMixture, Samples};
use gmm_em::init::model_from_responsibilities;
use gmm_em::map::{ConjugatePrior, MapRule};
use gmm_em::update::MaximumLikelihood;
use gmm_em::{EmConfig, FitOptions, Regularisation, fit};
use serde_json::Value;

use crate::common::{close, data_path};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(data_path("map/map_reference.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

const NO_GUARDS: Regularisation = Regularisation { reg_covar: 0.0, variance_floor: None };

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w, tol), "{what}[{i}]: {g} vs numpy {w}");
    }
}

#[test]
fn map_em_matches_the_published_formulas() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let t: CovarianceType = case["covariance_type"].as_str().unwrap().parse().unwrap();
        let (k, d) = (case["k"].as_u64().unwrap() as usize, case["d"].as_u64().unwrap() as usize);
        let data = floats(&case["data"]);
        let x = Samples::new(&data, d).unwrap();
        let prior = ConjugatePrior::mclust_default(x, None, k, t).unwrap();
        let p = &case["prior"];
        assert_eq!(prior.shrinkage, p["shrinkage"].as_f64().unwrap(), "{name}");
        assert_eq!(prior.dof, p["dof"].as_f64().unwrap(), "{name}");
        assert_close(&prior.mean, &floats(&p["mean"]), 1e-13, &format!("{name} prior mean"));
        assert_close(&prior.scale, &floats(&p["scale"]), 1e-12, &format!("{name} prior scale"));
        let rule = MapRule::new(prior, NO_GUARDS);
        let start = if case["start"].is_null() {
            let resp = floats(&case["responsibilities"]);
            model_from_responsibilities(x, &resp, None, k, t, &rule).unwrap()
        } else {
            let s = &case["start"];
            GaussianMixture::new(
                t,
                floats(&s["weights"]),
                floats(&s["means"]),
                floats(&s["covariances"]),
            )
            .unwrap()
        };
        let iterations = case["iterations"].as_u64().unwrap() as usize;
        let config = EmConfig::new(k, t).max_iter(iterations).tol(0.0).reg_covar(0.0);
        let options = FitOptions { start: Some(&start), update: Some(&rule), ..Default::default() };
        let result = fit(&config, x, options).unwrap();
        assert_eq!(result.report.n_iter, iterations, "{name}");
        let e = &case["expected"];
        let tol = 1e-10;
        assert_close(result.model.weights(), &floats(&e["weights"]), tol, &format!("{name} w"));
        assert_close(result.model.means(), &floats(&e["means"]), tol, &format!("{name} means"));
        assert_close(
            result.model.covariances(),
            &floats(&e["covariances"]),
            tol,
            &format!("{name} covariances"),
        );
        // BIC at the MAP estimate, as mclust reports it.
        let bic = result.model.bic(x).unwrap();
        let expected_bic = -2.0 * result.model.score(x).unwrap() * x.n_samples() as f64
            + result.model.n_parameters() as f64 * (x.n_samples() as f64).ln();
        assert!(close(bic, expected_bic, 1e-12), "{name}: bic {bic} vs {expected_bic}");
    }
}

#[test]
fn maximum_likelihood_fails_where_the_prior_fits() {
    for case in cases().into_iter().filter(|c| c["name"] == "degenerate_full") {
        let data = floats(&case["data"]);
        let x = Samples::new(&data, 5).unwrap();
        let resp = floats(&case["responsibilities"]);
        let ml = MaximumLikelihood(NO_GUARDS);
        let err =
            model_from_responsibilities(x, &resp, None, 2, CovarianceType::Full, &ml).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NotPositiveDefinite { .. }), "{err}");
        assert!(err.to_string().contains("prior"), "the message names the fix: {err}");
        let prior = ConjugatePrior::mclust_default(x, None, 2, CovarianceType::Full).unwrap();
        let rule = MapRule::new(prior, NO_GUARDS);
        let model =
            model_from_responsibilities(x, &resp, None, 2, CovarianceType::Full, &rule).unwrap();
        assert!(model.score(x).unwrap().is_finite());
    }
}

#[test]
fn an_empty_component_takes_the_prior_mode() {
    let data: Vec<f64> = (0..60).map(|i| ((i * 37) % 23) as f64 / 5.0).collect();
    let x = Samples::new(&data, 3).unwrap();
    let mut resp = vec![0.0; 20 * 2];
    for n in 0..20 {
        resp[n * 2] = 1.0;
    }
    let prior = ConjugatePrior::mclust_default(x, None, 2, CovarianceType::Full).unwrap();
    let rule = MapRule::new(prior.clone(), NO_GUARDS);
    let model =
        model_from_responsibilities(x, &resp, None, 2, CovarianceType::Full, &rule).unwrap();
    assert_eq!(model.weights()[1], 0.0);
    assert_close(&model.means()[3..], &prior.mean, 0.0, "empty mean");
    let mode: Vec<f64> = prior.scale.iter().map(|v| v / (prior.dof + 3.0 + 2.0)).collect();
    assert_close(&model.covariances()[9..], &mode, 1e-15, "empty covariance");
}

#[test]
fn bad_priors_and_responsibilities_are_typed_errors() {
    let data: Vec<f64> = (0..40).map(|i| (i % 7) as f64).collect();
    let x = Samples::new(&data, 2).unwrap();
    let mut prior = ConjugatePrior::mclust_default(x, None, 2, CovarianceType::Diag).unwrap();
    prior.dof = 0.5;
    let err = prior.validate(2, CovarianceType::Diag).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{err}");
    assert!(err.message().contains("degrees of freedom 0.5"), "{err}");
    let ml = MaximumLikelihood(NO_GUARDS);
    let short = vec![0.5; 10];
    let err =
        model_from_responsibilities(x, &short, None, 2, CovarianceType::Diag, &ml).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::DimensionMismatch { .. }), "{err}");
    let not_summing = vec![0.7; 40];
    let err = model_from_responsibilities(x, &not_summing, None, 2, CovarianceType::Diag, &ml)
        .unwrap_err();
    assert!(err.to_string().contains("sum to 1"), "{err}");
}
