//! Information criteria against scikit-learn 1.9.1.
//!
//! `data/criteria/criteria.json` (made by `make_criteria_fixture.py` beside it): random models
//! of all four covariance types with non-diagonal covariances, and data drawn from them; our
//! BIC, AIC, mean log-likelihood and ICL of the same parameters against scikit-learn's `bic()`,
//! `aic()`, `score()` and an ICL from its `_estimate_log_prob_resp`. The models are in the
//! model-file layout (scikit-learn's fitted attributes); this test reads them with `serde_json`
//! alone (nested lists flattened row-major, as [`GaussianMixture::new`] takes them), so
//! gmm-core's tests need no file-format crate. (The facade's `small/` fixture test in
//! `tests/integration/parity.rs` covers fitted models, and `tests/integration/criteria.rs` the
//! selection on Old Faithful.)

use gmm_core::{CovarianceType, GaussianMixture, Matrix};
use serde_json::Value;

use crate::common::{close, data_path};

fn json(relative: &str) -> Value {
    let text = std::fs::read_to_string(data_path(relative)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// The numbers of a (possibly nested) JSON list, row-major.
fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
        _ => out.push(num(v)),
    }
}

fn flat(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    flatten(v, &mut out);
    out
}

/// A model in the model-file layout.
fn model(v: &Value) -> GaussianMixture<f64> {
    let covariance_type: CovarianceType = v["covariance_type"].as_str().unwrap().parse().unwrap();
    GaussianMixture::new(
        covariance_type,
        flat(&v["weights"]),
        flat(&v["means"]),
        flat(&v["covariances"]),
    )
    .unwrap()
}

#[test]
fn criteria_of_given_models_match_sklearn() {
    let fixture = json("criteria/criteria.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    let mut types_seen = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let model = model(&case["model"]);
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
