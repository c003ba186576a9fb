//! Parity with scikit-learn 1.9.1 from the same starting models: the mean log-likelihood after
//! every one of 10 EM iterations within 1e-9 relative, the fitted parameters, BIC and AIC.
//! Fixtures and the script that made them: `tests/data/` (see the READMEs there).

use gmm_core::{GaussianMixture, Real, Samples};
use gmm_em::{EmConfig, FitOptions, fit};
use gmm_io::{parse_model, read_matrix, read_model};
use serde_json::Value;

use crate::common::{close, data_path};

fn json(relative: &str) -> Value {
    let text = std::fs::read_to_string(data_path(relative)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number or array: {other}"),
    }
}

/// Runs 10 EM iterations from `start` with `tol = 0`, as the references were made.
fn ten_iterations<T: Real>(x: Samples<'_, T>, start: &GaussianMixture<T>) -> gmm_em::Fit<T> {
    let config = EmConfig::new(start.n_components(), start.covariance_type()).max_iter(10).tol(0.0);
    fit(&config, x, FitOptions { start: Some(start), ..Default::default() }).unwrap()
}

fn assert_trajectory(got: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: number of iterations");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(close(*g, *e, tol), "{what}: iteration {}: {g} vs scikit-learn {e}", i + 1);
    }
}

#[test]
fn small_fixture_matches_sklearn_for_every_covariance_type() {
    let x = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    let reference = json("small/reference.json");
    for t in ["diag", "full", "spherical", "tied"] {
        let start = read_model::<f64>(&data_path(&format!("small/init_{t}.json"))).unwrap();
        let result = ten_iterations(x.samples(), &start);
        let r = &reference[t];
        assert_trajectory(&result.report.log_likelihood, &floats(&r["log_likelihood"]), 1e-9, t);
        assert!(close(result.report.final_log_likelihood, floats(&r["log_likelihood"])[9], 1e-9));
        let expected: GaussianMixture<f64> = parse_model(&r["final_model"].to_string()).unwrap();
        for (name, got, want) in [
            ("weights", result.model.weights(), expected.weights()),
            ("means", result.model.means(), expected.means()),
            ("covariances", result.model.covariances(), expected.covariances()),
        ] {
            for (g, w) in got.iter().zip(want) {
                assert!(close(*g, *w, 1e-7), "{t} {name}: {g} vs scikit-learn {w}");
            }
        }
        let bic = result.model.bic(x.samples()).unwrap();
        let aic = result.model.aic(x.samples()).unwrap();
        assert!(close(bic, r["bic"].as_f64().unwrap(), 1e-9), "{t} bic {bic}");
        assert!(close(aic, r["aic"].as_f64().unwrap(), 1e-9), "{t} aic {aic}");
    }
}

/// Scoring a given model (no fitting) agrees with scikit-learn's `score`, `score_samples`,
/// `bic` and `aic` of the same parameters.
#[test]
fn scoring_given_models_matches_sklearn() {
    let x = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    let reference = json("small/bic_aic.json");
    for t in ["diag", "full", "spherical", "tied"] {
        let model = read_model::<f64>(&data_path(&format!("small/init_{t}.json"))).unwrap();
        let r = &reference[t];
        assert_eq!(model.n_parameters() as u64, r["n_parameters"].as_u64().unwrap(), "{t}");
        let score = model.score(x.samples()).unwrap();
        assert!(close(score, r["score"].as_f64().unwrap(), 1e-12), "{t} score {score}");
        let per_sample = model.score_samples(x.samples()).unwrap();
        for (i, e) in floats(&r["score_samples_first5"]).iter().enumerate() {
            assert!(close(per_sample[i], *e, 1e-12), "{t} sample {i}: {} vs {e}", per_sample[i]);
        }
        assert!(
            close(model.bic(x.samples()).unwrap(), r["bic"].as_f64().unwrap(), 1e-12),
            "{t} bic"
        );
        assert!(
            close(model.aic(x.samples()).unwrap(), r["aic"].as_f64().unwrap(), 1e-12),
            "{t} aic"
        );
    }
}

/// The headline workload (100,000 x 15, k = 30) from the shared start, diag and full.
#[test]
fn headline_fixture_matches_sklearn() {
    let x = read_matrix(&data_path("headline/headline.npy")).unwrap().into_f64();
    let reference = json("headline/headline_reference.json");
    for t in ["diag", "full"] {
        let start =
            read_model::<f64>(&data_path(&format!("headline/headline_init_{t}.json"))).unwrap();
        let result = ten_iterations(x.samples(), &start);
        let expected = floats(&reference[t]["mean_log_likelihood_after_iteration"]);
        assert_trajectory(&result.report.log_likelihood, &expected, 1e-9, t);
    }
}

/// The f32 path ends close to the f64 one from the same start.
#[test]
fn f32_fit_tracks_f64_fit() {
    let x64 = read_matrix(&data_path("small/data.npy")).unwrap().into_f64();
    let x32: Vec<f32> = x64.as_slice().iter().map(|&v| v as f32).collect();
    let x32 = Samples::new(&x32, 3).unwrap();
    for t in ["diag", "full", "spherical", "tied"] {
        let path = data_path(&format!("small/init_{t}.json"));
        let a = ten_iterations(x64.samples(), &read_model::<f64>(&path).unwrap());
        let b = ten_iterations(x32, &read_model::<f32>(&path).unwrap());
        let (fa, fb) = (a.report.final_log_likelihood, b.report.final_log_likelihood);
        assert!(close(fa, fb, 1e-5), "{t}: f64 {fa} vs f32 {fb}");
    }
}
