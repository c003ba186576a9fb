//! Model selection by BIC against scikit-learn 1.9.1: `criteria/faithful_sklearn.json` (made
//! by `faithful_select.py`) holds scikit-learn's BIC choice over k = 1..6 and the four types on
//! Old Faithful, which our selection must match. (The criteria of given models against
//! scikit-learn are gmm-core's: `crates/gmm-core/tests/core/criteria.rs`.)

use gmm::core::CovarianceType;
use gmm::em::{Criterion, EmConfig, SelectConfig, select};
use gmm::io::read_matrix;
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
