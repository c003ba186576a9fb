//! Information criteria and model selection against scikit-learn 1.9.1.
//!
//! * `criteria/criteria.json` (made by `make_criteria_fixture.py` beside it): random models of
//!   all four covariance types with non-diagonal covariances, and data drawn from them; our BIC,
//!   AIC, mean log-likelihood and ICL of the same parameters against scikit-learn's `bic()`,
//!   `aic()`, `score()` and an ICL from its `_estimate_log_prob_resp`. (The `small/` fixture's
//!   test in `parity.rs` covers the fitted and starting models of that fixture.)
//! * `criteria/faithful_sklearn.json` (made by `faithful_select.py`): scikit-learn's BIC choice
//!   over k = 1..6 and the four types on Old Faithful, which our selection must match.

use gmm::core::{CovarianceType, GaussianMixture, Matrix};
use gmm::em::{Criterion, EmConfig, SelectConfig, select};
use gmm::io::{parse_model, read_matrix};
use serde_json::Value;

use crate::common::{close, data_path};

fn json(relative: &str) -> Value {
    let text = std::fs::read_to_string(data_path(relative)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn criteria_of_given_models_match_sklearn() {
    let fixture = json("criteria/criteria.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    let mut types_seen = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let model: GaussianMixture<f64> = parse_model(&case["model"].to_string()).unwrap();
        types_seen.push(model.covariance_type());
        let rows = case["data"].as_array().unwrap();
        let d = model.n_features();
        let values: Vec<f64> =
            rows.iter().flat_map(|r| r.as_array().unwrap().iter().map(num)).collect();
        let x = Matrix::from_vec(values, d).unwrap();
        let what = format!("case {i} ({} k = {})", model.covariance_type(), model.n_components());
        assert_eq!(model.n_parameters() as u64, case["n_parameters"].as_u64().unwrap(), "{what}");
        let c = model.criteria(x.samples()).unwrap();
        for (name, got, want, tol) in [
            ("bic", model.bic(x.samples()).unwrap(), num(&case["bic"]), 1e-9),
            ("aic", model.aic(x.samples()).unwrap(), num(&case["aic"]), 1e-9),
            ("score", model.score(x.samples()).unwrap(), num(&case["score"]), 1e-9),
            ("criteria bic", c.bic(), num(&case["bic"]), 1e-9),
            ("criteria aic", c.aic(), num(&case["aic"]), 1e-9),
            ("icl", model.icl(x.samples()).unwrap(), num(&case["icl"]), 1e-9),
            // Entropies near 0 are compared in absolute terms (close() floors the scale at 1).
            ("entropy", c.classification_entropy, num(&case["classification_entropy"]), 1e-9),
        ] {
            assert!(close(got, want, tol), "{what} {name}: {got} vs scikit-learn {want}");
        }
    }
    for t in CovarianceType::ALL {
        assert!(types_seen.contains(&t), "no {t} case");
    }
}

#[test]
fn faithful_selection_agrees_with_sklearn() {
    let x = read_matrix(&gmm_root().join("data/faithful.csv")).unwrap().into_f64();
    let reference = json("criteria/faithful_sklearn.json");
    let config = SelectConfig::new((1..=6).collect(), CovarianceType::ALL.to_vec())
        .criterion(Criterion::Bic)
        .em(EmConfig::default().n_init(5).seed(0));
    let selection = select(&config, x.samples()).unwrap();
    let best = selection.best_candidate();
    let want = &reference["best"];
    assert_eq!(best.n_components as u64, want["n_components"].as_u64().unwrap());
    assert_eq!(best.covariance_type.as_str(), want["covariance_type"].as_str().unwrap());
    // The same local optimum, reached by two EM runs that stop at tol = 1e-3.
    let (ours, theirs) = (selection.score.bic, num(&want["bic"]));
    assert!(close(ours, theirs, 1e-5), "BIC {ours} vs scikit-learn {theirs}");
}

fn gmm_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
