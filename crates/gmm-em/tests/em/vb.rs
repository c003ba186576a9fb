//! Variational Bayes against scikit-learn's `BayesianGaussianMixture` from the same initial
//! responsibilities (`tests/data/vb/make_vb_reference.py`), the bound's monotonicity, and the
//! pruning of unneeded components.

use gmm_core::{CovarianceType, Matrix};
use gmm_em::init::model_from_responsibilities;
use gmm_em::vb::{VariationalRule, VbPrior, WeightPrior, active_components};
use gmm_em::{EmConfig, FitOptions, fit};
use gmm_io::read_matrix;
use serde_json::Value;

use crate::common::{close, data_path};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn data(name: &str) -> Matrix<f64> {
    let path = match name {
        "faithful" => crate::common::root_path("data/faithful.csv"),
        other => data_path(&format!("vb/{other}.npy")),
    };
    read_matrix(&path).unwrap().into_f64()
}

fn prior_type(name: &str) -> WeightPrior {
    match name {
        "dirichlet_process" => WeightPrior::DirichletProcess,
        _ => WeightPrior::DirichletDistribution,
    }
}

/// A VB fit of `iterations` from the responsibilities in `resp`.
fn vb_fit(
    x: &Matrix<f64>,
    resp: &[f64],
    k: usize,
    t: CovarianceType,
    weights: WeightPrior,
    reg_covar: f64,
    iterations: usize,
) -> gmm_em::Fit<f64> {
    let prior = VbPrior::sklearn_default(x.samples(), None, k, t, weights).unwrap();
    let rule = VariationalRule::new(prior, reg_covar);
    let start = model_from_responsibilities(x.samples(), resp, None, k, t, &rule).unwrap();
    let config = EmConfig::new(k, t).max_iter(iterations).tol(0.0).reg_covar(reg_covar);
    let options = FitOptions { start: Some(&start), update: Some(&rule), ..Default::default() };
    fit(&config, x.samples(), options).unwrap()
}

#[test]
fn vb_matches_scikit_learn() {
    let text = std::fs::read_to_string(data_path("vb/vb_reference.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let iterations = reference["iterations"].as_u64().unwrap() as usize;
    for case in reference["cases"].as_array().unwrap() {
        let name = case["data"].as_str().unwrap();
        let t: CovarianceType = case["covariance_type"].as_str().unwrap().parse().unwrap();
        let prior = case["prior"].as_str().unwrap();
        let what = format!("{name} {t} {prior}");
        let k = case["k"].as_u64().unwrap() as usize;
        let x = data(name);
        let resp = read_matrix(&data_path(&format!("vb/resp_{name}.npy"))).unwrap().into_f64();
        let result = vb_fit(&x, resp.as_slice(), k, t, prior_type(prior), 1e-6, iterations);
        // Bounds: ours are per sample and one iteration ahead (see gmm_em::vb).
        let n = x.n_rows() as f64;
        let bounds = floats(&case["lower_bound"]);
        let ours: Vec<f64> = std::iter::once(result.report.initial_log_likelihood)
            .chain(result.report.log_likelihood.iter().copied())
            .collect();
        for (i, (a, b)) in ours.iter().zip(&bounds).enumerate() {
            assert!(
                close(*a * n, *b, 1e-6),
                "{what}: bound after iteration {}: {} vs {b}",
                i + 1,
                a * n
            );
        }
        for (field, got) in [
            ("weights", result.model.weights()),
            ("means", result.model.means()),
            ("covariances", result.model.covariances()),
        ] {
            let want = floats(&case[field]);
            assert_eq!(got.len(), want.len(), "{what} {field}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let ok = (g - w).abs() <= 1e-6 * g.abs().max(w.abs()) || (g - w).abs() <= 1e-12;
                assert!(ok, "{what} {field}[{i}]: {g} vs scikit-learn {w}");
            }
        }
    }
}

#[test]
fn the_bound_never_decreases() {
    for (name, k) in [("faithful", 4), ("sampled", 6)] {
        let x = data(name);
        let resp = read_matrix(&data_path(&format!("vb/resp_{name}.npy"))).unwrap().into_f64();
        for t in CovarianceType::ALL {
            for weights in [WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution] {
                let result = vb_fit(&x, resp.as_slice(), k, t, weights, 0.0, 150);
                let mut previous = result.report.initial_log_likelihood;
                for (i, &b) in result.report.log_likelihood.iter().enumerate() {
                    assert!(
                        b >= previous - 1e-12 * previous.abs(),
                        "{name} {t} {weights:?}: bound fell at iteration {}: {previous} -> {b}",
                        i + 1
                    );
                    previous = b;
                }
            }
        }
    }
}

#[test]
fn unneeded_components_fade_out() {
    // 10 components for data drawn from 3: about 3 keep a non-negligible weight.
    let x = data("sampled");
    for t in [CovarianceType::Diag, CovarianceType::Full] {
        for weights in [WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution] {
            let prior = VbPrior::sklearn_default(x.samples(), None, 10, t, weights).unwrap();
            let rule = VariationalRule::new(prior, 1e-6);
            let config = EmConfig::new(10, t).max_iter(1000).tol(1e-8).seed(4);
            let options = FitOptions { update: Some(&rule), ..Default::default() };
            let result = fit(&config, x.samples(), options).unwrap();
            assert!(result.report.converged, "{t} {weights:?}");
            let active = active_components(&result.model, 0.01);
            assert_eq!(active, 3, "{t} {weights:?}: weights {:?}", result.model.weights());
        }
    }
}

#[test]
fn integer_sample_weights_equal_duplicated_rows() {
    // VB and MAP with weight 2 on some rows = the same rows given twice (priors included).
    use gmm_em::Regularisation;
    use gmm_em::map::{ConjugatePrior, MapRule};
    let x = data("faithful");
    let d = 2;
    let weights: Vec<f64> = (0..x.n_rows()).map(|i| if i % 3 == 0 { 2.0 } else { 1.0 }).collect();
    let mut rows = x.as_slice().to_vec();
    for i in (0..x.n_rows()).step_by(3) {
        rows.extend_from_slice(x.row(i));
    }
    let doubled = gmm_core::Samples::new(&rows, d).unwrap();
    for t in [CovarianceType::Full, CovarianceType::Diag] {
        let start = EmConfig::new(3, t).max_iter(0).seed(1).fit(x.samples()).unwrap().model;
        let config = EmConfig::new(3, t).max_iter(25).tol(0.0);
        let vb = |s: gmm_core::Samples<'_, f64>, w: Option<&[f64]>| {
            let prior =
                VbPrior::sklearn_default(s, w, 3, t, WeightPrior::DirichletProcess).unwrap();
            let rule = VariationalRule::new(prior, 1e-6);
            let options = FitOptions {
                start: Some(&start),
                sample_weights: w,
                update: Some(&rule),
                ..Default::default()
            };
            fit(&config, s, options).unwrap().model
        };
        let map = |s: gmm_core::Samples<'_, f64>, w: Option<&[f64]>| {
            let prior = ConjugatePrior::mclust_default(s, w, 3, t).unwrap();
            let rule = MapRule::new(prior, Regularisation { reg_covar: 0.0, variance_floor: None });
            let options = FitOptions {
                start: Some(&start),
                sample_weights: w,
                update: Some(&rule),
                ..Default::default()
            };
            fit(&config.clone().reg_covar(0.0), s, options).unwrap().model
        };
        for (name, a, b) in [
            ("vb", vb(x.samples(), Some(&weights)), vb(doubled, None)),
            ("map", map(x.samples(), Some(&weights)), map(doubled, None)),
        ] {
            for (p, q) in a.covariances().iter().zip(b.covariances()) {
                assert!(close(*p, *q, 1e-9), "{name} {t}: {p} vs {q}");
            }
            for (p, q) in a.means().iter().zip(b.means()).chain(a.weights().iter().zip(b.weights()))
            {
                assert!(close(*p, *q, 1e-9), "{name} {t}: {p} vs {q}");
            }
        }
    }
}

/// With default settings, variational Bayes prunes (issue 15): ten full components on three
/// well-separated clusters keep exactly three (they kept ten at the old per-sample 1e-3 after
/// 14 iterations), and Old Faithful keeps two or three; `Method::resolve` gives VB its own
/// `max_iter` and `tol` only where the configuration leaves them unset.
#[test]
fn default_settings_prune() {
    use gmm_core::GaussianMixture;
    use gmm_em::Method;
    use gmm_em::method::{VB_MAX_ITER, VB_TOL, VbSettings};
    let truth = GaussianMixture::<f64>::new(
        CovarianceType::Full,
        vec![1.0 / 3.0; 3],
        vec![0.0, 0.0, 8.0, 0.0, 4.0, 7.0],
        [1.0, 0.3, 0.3, 0.6].repeat(3),
    )
    .unwrap();
    let (x, _) = truth.sample(3000, 7).unwrap();
    let vb = |concentration| {
        Method::Vb(VbSettings { weight_concentration: concentration, ..VbSettings::default() })
    };
    let config = EmConfig::new(10, CovarianceType::Full).seed(1);
    for concentration in [Some(0.01), None] {
        let method = vb(concentration);
        let fit = gmm_em::fit_with(&config, &method, x.samples(), FitOptions::default()).unwrap();
        assert!(fit.report.converged, "{concentration:?}: {} iterations", fit.report.n_iter);
        assert_eq!(active_components(&fit.model, 0.01), 3, "{:?}", fit.model.weights());
        // The old default stopped early with every component still alive.
        let early = config.clone().tol(1e-3);
        let fit = gmm_em::fit_with(&early, &method, x.samples(), FitOptions::default()).unwrap();
        assert!(active_components(&fit.model, 0.01) > 3, "{:?}", fit.model.weights());
    }
    let faithful = data("faithful");
    let fit =
        gmm_em::fit_with(&config, &vb(None), faithful.samples(), FitOptions::default()).unwrap();
    assert!(fit.report.converged);
    assert!((2..=3).contains(&active_components(&fit.model, 0.01)), "{:?}", fit.model.weights());
    // Defaults only where unset; EM keeps its own.
    let resolved = vb(None).resolve(&config);
    assert_eq!((resolved.get_max_iter(), resolved.get_tol()), (VB_MAX_ITER, VB_TOL));
    let given = vb(None).resolve(&config.clone().tol(1e-4));
    assert_eq!((given.get_max_iter(), given.get_tol()), (VB_MAX_ITER, 1e-4));
    let em = Method::Em.resolve(&config);
    assert_eq!((em.get_max_iter(), em.get_tol()), (100, 1e-3));
}
