//! Issue 15, part A: limits that cap with a note (`--threads`, `--contours`), starts that do
//! not depend on the data's units, and guard counts that count components.

use super::*;

/// Two clean clusters of 100 rows each (centres 10 apart, unit spread), times `scale`, as CSV.
fn two_clusters_csv(scale: f64) -> String {
    let truth = gmm_core::GaussianMixture::<f64>::new(
        gmm_core::CovarianceType::Spherical,
        vec![0.5, 0.5],
        vec![0.0, 0.0, 10.0, 10.0],
        vec![1.0, 1.0],
    )
    .unwrap();
    let (x, _) = truth.sample(200, 5).unwrap();
    let mut text = String::new();
    for row in x.as_slice().chunks_exact(2) {
        text.push_str(&format!("{:e},{:e}\n", row[0] * scale, row[1] * scale));
    }
    text
}

fn weights(model: &Value) -> Vec<f64> {
    as_array(&model["weights"]).iter().map(|w| w.as_f64().unwrap()).collect()
}

#[test]
fn threads_above_the_machine_are_capped_with_a_note() {
    let s = Scratch::new();
    let data = s.write("x.csv", two_clusters_csv(1.0));
    let started = std::time::Instant::now();
    let out = s.gmm(&["fit", data, "-k", "2", "--threads", "10000", "-o", "out/m.json"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(started.elapsed().as_secs_f64() < 30.0, "{:?}", started.elapsed());
    assert!(err.starts_with("gmm: note: --threads 10000 is more than the "), "{err}");
    assert!(err.contains("using "), "{err}");
    // select and classify train say so too.
    let out = s.gmm(&["select", data, "-k", "1..2", "--covariance", "diag", "--threads", "10000"]);
    assert!(out.status.success());
    assert!(stderr(&out).starts_with("gmm: note: --threads 10000"), "{}", stderr(&out));
    // A count the machine runs is passed on without a word.
    let out = s.gmm(&["fit", data, "-k", "2", "--threads", "1", "-o", "out/one.json", "-q"]);
    assert_ok(&out);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    assert_eq!(s.json("out/m.json"), s.json("out/one.json"));
}

#[test]
fn huge_contour_counts_are_capped_with_a_note() {
    let s = Scratch::new();
    let data = faithful();
    assert_ok(&s.gmm(&["fit", &data, "-k", "2", "-o", "out/m.json", "-q"]));
    let started = std::time::Instant::now();
    let out = s.gmm(&["plot", "out/m.json", &data, "--contours", "100000", "-o", "out/p.svg"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(started.elapsed().as_secs_f64() < 30.0, "{:?}", started.elapsed());
    assert_eq!(
        err,
        "gmm: note: --contours 100000 is more than the 100 levels a plot draws (more merge \
         into a solid fill): drawing 100\n"
    );
    let svg = std::fs::read_to_string(s.path("out/p.svg")).unwrap();
    assert!(svg.contains("density, 100 levels"));
}

/// `fit -k 2 --reg-covar 0` on two clean clusters scaled by 1e-10 finds [0.5, 0.5] with the
/// k-means and k-means++ starts (it gave [1, 0] and "converged").
#[test]
fn tiny_units_fit_like_unit_ones() {
    let s = Scratch::new();
    let data = s.write("tiny.csv", two_clusters_csv(1e-10));
    for init in ["kmeans", "kmeans++"] {
        let out = fit_to_out(&s, data, "2", &["--reg-covar", "0", "--init", init]);
        assert_ok(&out);
        let w = weights(&s.json("out/m.json"));
        assert!(w.iter().all(|&w| (w - 0.5).abs() < 0.05), "{init}: {w:?}");
        assert_eq!(s.json("out/r.json")["empty_components"], 0, "{init}");
    }
}

/// One of two components empty is "1 of 2 components empty", not one count per iteration.
#[test]
fn empty_components_are_counted_once() {
    let s = Scratch::new();
    let data = s.write("x.csv", two_clusters_csv(1.0));
    let start = serde_json::json!({
        "covariance_type": "diag",
        "weights": [0.5, 0.5],
        "means": [[5.0, 5.0], [1e6, 1e6]],
        "covariances": [[30.0, 30.0], [1.0, 1.0]],
    });
    let start = s.write("start.json", start.to_string());
    let out = s.gmm(&[
        "fit",
        data,
        "--init",
        start,
        "--max-iter",
        "5",
        "--tol",
        "0",
        "-o",
        "out/m.json",
        "--report",
        "out/r.json",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.ends_with("; guards: 1 of 2 components empty, 0 variances floored\n"), "{err}");
    let report = s.json("out/r.json");
    assert_eq!(report["empty_components"], 1);
    assert_eq!(report["empty_component_iterations"], 5);
    assert_eq!(report["floored_variances"], 0);
}

/// `fit --method vb` without `--tol`/`--max-iter` runs to VB's defaults (1e-6, 1000) and prunes;
/// EM keeps 1e-3 and 100; given values win.
#[test]
fn vb_runs_to_its_own_defaults() {
    let s = Scratch::new();
    let data = faithful();
    assert_ok(&fit_to_out(&s, &data, "10", &["--method", "vb"]));
    let report = s.json("out/r.json");
    assert_eq!((report["tol"].as_f64(), report["max_iter"].as_u64()), (Some(1e-6), Some(1000)));
    assert_eq!(report["converged"], true);
    let active = report["active_components"].as_u64().unwrap();
    assert!((2..=3).contains(&active), "{report}");
    assert_ok(&fit_to_out(&s, &data, "2", &[]));
    let report = s.json("out/r.json");
    assert_eq!((report["tol"].as_f64(), report["max_iter"].as_u64()), (Some(1e-3), Some(100)));
    assert_ok(&fit_to_out(&s, &data, "10", &["--method", "vb", "--tol", "1e-4"]));
    let report = s.json("out/r.json");
    assert_eq!((report["tol"].as_f64(), report["max_iter"].as_u64()), (Some(1e-4), Some(1000)));
}

/// `select` on Old Faithful over k = 1..6 finds mclust's 3 tied without tuning (it chose
/// 2 full with one k-means start); `--init kmeans --n-init 1` is the old search.
#[test]
fn select_finds_the_best_model_by_default() {
    let s = Scratch::new();
    let data = faithful();
    let text = assert_ok(&s.gmm(&["select", &data, "-k", "1..6", "--report", "out/t.json"]));
    assert!(text.ends_with("best by bic: k = 3 tied (bic = 2314.870507)\n"), "{text}");
    assert!(text.lines().next().unwrap().contains("start"), "{text}");
    let report = s.json("out/t.json");
    assert_eq!(
        (report["init"].as_str(), report["n_init"].as_u64()),
        (Some("hierarchical"), Some(2))
    );
    let old = &["select", &data, "-k", "1..6", "--init", "kmeans", "--n-init", "1"];
    let text = assert_ok(&s.gmm(old));
    assert!(text.ends_with("best by bic: k = 2 full (bic = 2322.195525)\n"), "{text}");
    // fit takes the hierarchical start too, deterministically.
    let hc = &["--init", "hierarchical", "--covariance", "tied"];
    assert_ok(&fit_to_out(&s, &data, "3", hc));
    let first = std::fs::read(s.path("out/m.json")).unwrap();
    assert_ok(&fit_to_out(&s, &data, "3", &[hc.as_slice(), &["--seed", "7"]].concat()));
    assert_eq!(first, std::fs::read(s.path("out/m.json")).unwrap());
}
