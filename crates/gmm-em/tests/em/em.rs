//! Properties of EM: monotone log-likelihood, recovery of known parameters, exact starts,
//! thread-count independence, weights as repetitions, restarts, guards.

use gmm_core::{CovarianceType, ErrorKind, GaussianMixture, Samples};
use gmm_em::{EmConfig, FitOptions, Init, IterationInfo, fit};

use crate::common::close;

/// Runs `f` on a rayon pool of exactly `n` threads, whatever the machine's parallelism.
fn on_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
}

fn sampled(
    t: CovarianceType,
    k: usize,
    d: usize,
    n: usize,
    seed: u64,
) -> (GaussianMixture<f64>, Vec<f64>) {
    let truth = GaussianMixture::<f64>::random(t, k, d, 2.0, seed).unwrap();
    let (x, _) = truth.sample(n, seed + 1).unwrap();
    (truth, x.into_vec())
}

#[test]
fn log_likelihood_never_decreases_without_regularisation() {
    for (i, &t) in CovarianceType::ALL.iter().enumerate() {
        for init in [Init::KMeans, Init::RandomResponsibilities, Init::RandomRows] {
            let (_, x) = sampled(t, 3, 3, 3000, 10 + i as u64);
            let x = Samples::new(&x, 3).unwrap();
            let config =
                EmConfig::new(3, t).init(init).reg_covar(0.0).max_iter(60).tol(0.0).seed(4);
            let result = config.fit(x).unwrap();
            let mut previous = result.report.initial_log_likelihood;
            for (it, &ll) in result.report.log_likelihood.iter().enumerate() {
                assert!(
                    ll >= previous - 1e-12 * previous.abs(),
                    "{t} {init}: iteration {} lowered the log-likelihood {previous} -> {ll}",
                    it + 1
                );
                previous = ll;
            }
            assert_eq!(result.report.n_iter, 60);
        }
    }
}

/// Well-separated mixtures are recovered: weights, means and covariances of every component.
#[test]
fn parameters_of_a_sampled_mixture_are_recovered() {
    let d = 2;
    for &t in &CovarianceType::ALL {
        let truth = GaussianMixture::<f64>::new(
            t,
            vec![0.2, 0.5, 0.3],
            vec![-6.0, 0.0, 0.0, 6.0, 6.0, -2.0],
            match t {
                CovarianceType::Diag => vec![1.0, 0.5, 0.7, 1.2, 0.4, 0.9],
                CovarianceType::Spherical => vec![1.0, 0.6, 0.8],
                CovarianceType::Full => {
                    vec![1.0, 0.3, 0.3, 0.5, 0.7, -0.2, -0.2, 1.2, 0.4, 0.1, 0.1, 0.9]
                }
                CovarianceType::Tied => vec![1.0, 0.3, 0.3, 0.5],
            },
        )
        .unwrap();
        let n = 40_000;
        let (x, _) = truth.sample(n, 77).unwrap();
        let fitted =
            EmConfig::new(3, t).n_init(3).seed(5).tol(1e-8).max_iter(500).fit(x.samples()).unwrap();
        assert!(fitted.report.converged, "{t}: not converged");
        let model = fitted.model;
        for c in 0..3 {
            // Match the fitted component with the nearest mean.
            let m = (0..3)
                .min_by(|&a, &b| {
                    let da: f64 =
                        (0..d).map(|j| (model.mean(a)[j] - truth.mean(c)[j]).powi(2)).sum();
                    let db: f64 =
                        (0..d).map(|j| (model.mean(b)[j] - truth.mean(c)[j]).powi(2)).sum();
                    da.total_cmp(&db)
                })
                .unwrap();
            let w = truth.weights()[c];
            let nc = w * n as f64;
            assert!(
                (model.weights()[m] - w).abs() < 4.0 * (w * (1.0 - w) / n as f64).sqrt(),
                "{t} weight {c}"
            );
            let cov = truth.covariance_matrix(c);
            let got = model.covariance_matrix(m);
            for j in 0..d {
                let se = (cov[j * d + j] / nc).sqrt();
                assert!((model.mean(m)[j] - truth.mean(c)[j]).abs() < 5.0 * se, "{t} mean {c},{j}");
            }
            for a in 0..d * d {
                let (i, j) = (a / d, a % d);
                let scale = (cov[i * d + i] * cov[j * d + j]).sqrt();
                let pooled = if t == CovarianceType::Tied { n as f64 } else { nc };
                assert!(
                    (got[a] - cov[a]).abs() < 6.0 * scale / pooled.sqrt(),
                    "{t} cov {c} ({i},{j}): {} vs {}",
                    got[a],
                    cov[a]
                );
            }
        }
    }
}

#[test]
fn max_iter_zero_returns_the_start() {
    let (truth, x) = sampled(CovarianceType::Full, 3, 2, 500, 3);
    let x = Samples::new(&x, 2).unwrap();
    let config = EmConfig::new(3, CovarianceType::Full).max_iter(0);
    let result = fit(&config, x, FitOptions { start: Some(&truth), ..Default::default() }).unwrap();
    assert_eq!(result.model, truth);
    assert_eq!(result.report.n_iter, 0);
    assert!(result.report.log_likelihood.is_empty());
    assert_eq!(result.report.final_log_likelihood, truth.score(x).unwrap());
    // Without a start, max_iter = 0 returns the initialisation itself.
    let a = config.clone().init(Init::KMeans).fit(x).unwrap();
    let b = config.max_iter(1).init(Init::KMeans).fit(x).unwrap();
    assert_eq!(a.report.final_log_likelihood, b.report.initial_log_likelihood);
}

/// The same seed gives bit-identical models and reports with 1 and 2 threads, for every
/// covariance type, initialisation and precision, with enough data for several leaves of
/// the reduction tree.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    for (i, &t) in CovarianceType::ALL.iter().enumerate() {
        let (_, x) = sampled(t, 4, 3, 9_000, 40 + i as u64);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        for init in
            [Init::KMeans, Init::KMeansPlusPlus, Init::RandomResponsibilities, Init::RandomRows]
        {
            let config = EmConfig::new(4, t).init(init).n_init(2).max_iter(15).tol(0.0).seed(9);
            // Pools of our own, so that a small machine still runs 2 and 3 threads
            // (`EmConfig::threads` is capped at the machine's parallelism).
            let one = on_threads(1, || config.fit(Samples::new(&x, 3).unwrap()).unwrap());
            let two = on_threads(2, || config.fit(Samples::new(&x, 3).unwrap()).unwrap());
            assert_eq!(one.model, two.model, "{t} {init} f64");
            assert_eq!(one.report.log_likelihood, two.report.log_likelihood, "{t} {init}");
            assert_eq!((one.report.threads, two.report.threads), (1, 2));
            let one = config.clone().threads(Some(1)).fit(Samples::new(&x32, 3).unwrap()).unwrap();
            let two = on_threads(3, || config.fit(Samples::new(&x32, 3).unwrap()).unwrap());
            assert_eq!(one.model, two.model, "{t} {init} f32");
        }
    }
}

/// Integer sample weights act as repetitions of the samples.
#[test]
fn sample_weights_equal_repeated_samples() {
    for &t in &CovarianceType::ALL {
        let (truth, x) = sampled(t, 3, 2, 700, 8);
        let weights: Vec<f64> = (0..700).map(|i| (i % 3) as f64).collect();
        let mut repeated = Vec::new();
        for i in 0..700 {
            for _ in 0..i % 3 {
                repeated.extend_from_slice(&x[2 * i..2 * i + 2]);
            }
        }
        let config = EmConfig::new(3, t).max_iter(20).tol(0.0);
        let a = fit(
            &config,
            Samples::new(&x, 2).unwrap(),
            FitOptions {
                sample_weights: Some(&weights),
                start: Some(&truth),
                ..Default::default()
            },
        )
        .unwrap();
        let b = fit(
            &config,
            Samples::new(&repeated, 2).unwrap(),
            FitOptions { start: Some(&truth), ..Default::default() },
        )
        .unwrap();
        for (p, q) in a.report.log_likelihood.iter().zip(&b.report.log_likelihood) {
            assert!(close(*p, *q, 1e-12), "{t}: {p} vs {q}");
        }
        for (p, q) in a.model.covariances().iter().zip(b.model.covariances()) {
            assert!(close(*p, *q, 1e-9), "{t}: covariance {p} vs {q}");
        }
    }
}

#[test]
fn convergence_stops_early_and_restarts_keep_the_best() {
    let (_, x) = sampled(CovarianceType::Diag, 5, 4, 4000, 12);
    let x = Samples::new(&x, 4).unwrap();
    let result = EmConfig::new(5, CovarianceType::Diag).n_init(4).seed(1).tol(1e-4).fit(x).unwrap();
    let r = &result.report;
    assert!(r.converged);
    assert!(r.n_iter < 100);
    let history = &r.log_likelihood;
    let last_change = history[history.len() - 1]
        - if history.len() > 1 { history[history.len() - 2] } else { r.initial_log_likelihood };
    assert!(last_change.abs() < 1e-4);
    assert_eq!(r.restarts.len(), 4);
    let best = r.restarts.iter().map(|s| s.final_log_likelihood).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(r.final_log_likelihood, best);
    assert_eq!(r.restarts[r.best_restart].final_log_likelihood, best);
    assert_eq!(result.model.score(x).unwrap(), r.final_log_likelihood);
    // Restarts really draw different starts.
    let seeds: std::collections::HashSet<u64> = r.restarts.iter().map(|s| s.seed).collect();
    assert_eq!(seeds.len(), 4);
}

#[test]
fn callback_sees_every_iteration() {
    let (_, x) = sampled(CovarianceType::Spherical, 2, 2, 600, 2);
    let mut seen: Vec<IterationInfo> = Vec::new();
    let mut record = |info: &IterationInfo| seen.push(*info);
    let config = EmConfig::new(2, CovarianceType::Spherical).n_init(2).max_iter(7).tol(0.0);
    let result = fit(
        &config,
        Samples::new(&x, 2).unwrap(),
        FitOptions { on_iteration: Some(&mut record), ..Default::default() },
    )
    .unwrap();
    assert_eq!(seen.len(), 14);
    assert_eq!(seen[6].iteration, 7);
    assert_eq!(seen[7].restart, 1);
    let best = result.report.best_restart;
    let lls: Vec<f64> =
        seen.iter().filter(|i| i.restart == best).map(|i| i.log_likelihood).collect();
    assert_eq!(lls, result.report.log_likelihood);
}

#[test]
fn identical_samples_fit_with_regularisation_and_fail_clearly_without() {
    let x = [1.5f64, -2.0].repeat(50);
    let x = Samples::new(&x, 2).unwrap();
    for &t in &CovarianceType::ALL {
        let ok = EmConfig::new(2, t).fit(x).unwrap();
        assert!(ok.report.final_log_likelihood.is_finite(), "{t}");
        let err = EmConfig::new(2, t).reg_covar(0.0).fit(x).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NotPositiveDefinite { .. }), "{t}: {err}");
        assert!(err.message().contains("reg_covar"), "{t}: {err}");
    }
}

/// A component far from every sample is empty: it keeps its parameters, gets weight ~0, is
/// counted once as a component of the model (and once per update in the totals), and nothing
/// becomes NaN.
#[test]
fn empty_components_keep_their_parameters_and_are_counted() {
    let (_, x) = sampled(CovarianceType::Diag, 2, 2, 1000, 5);
    let x = Samples::new(&x, 2).unwrap();
    let start = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![0.45, 0.45, 0.1],
        vec![0.0, 0.0, 1.0, 1.0, 1e6, 1e6],
        vec![1.0; 6],
    )
    .unwrap();
    let config = EmConfig::new(3, CovarianceType::Diag).max_iter(5).tol(0.0);
    let result = fit(&config, x, FitOptions { start: Some(&start), ..Default::default() }).unwrap();
    assert_eq!(result.report.empty_components, 1);
    assert_eq!(result.report.guard_totals.empty_components, 5);
    assert_eq!(result.model.mean(2), &[1e6, 1e6]);
    assert!(result.model.weights()[2] < 1e-12);
    assert!(result.report.final_log_likelihood.is_finite());
}

#[test]
fn variance_floor_is_applied_and_counted() {
    let (_, x) = sampled(CovarianceType::Diag, 2, 3, 800, 6);
    let x = Samples::new(&x, 3).unwrap();
    let result = EmConfig::new(2, CovarianceType::Diag)
        .variance_floor(Some(50.0))
        .max_iter(3)
        .tol(0.0)
        .fit(x)
        .unwrap();
    assert!(result.model.covariances().iter().all(|&v| v >= 50.0));
    assert!(result.report.floored_variances > 0);
}

/// The default k-means start runs Lloyd on a subsample of the rows; on well-separated data it
/// starts EM about as well as k-means on every row, and both label every row.
#[test]
fn kmeans_on_a_subsample_starts_as_well_as_on_all_rows() {
    let (_, x) = sampled(CovarianceType::Diag, 8, 3, 30_000, 70);
    let x = Samples::new(&x, 3).unwrap();
    let config = EmConfig::new(8, CovarianceType::Diag).max_iter(0).seed(2);
    assert_eq!(config.get_kmeans_sample_size(30_000), 4096);
    let sub = config.clone().fit(x).unwrap().report.initial_log_likelihood;
    let all =
        config.kmeans_sample_size(Some(usize::MAX)).fit(x).unwrap().report.initial_log_likelihood;
    assert!(sub >= all - 0.02 * all.abs(), "subsample start {sub} vs all rows {all}");
}

/// The k-means and k-means++ starts are invariant to a common scaling of the data: two clean
/// clusters scaled by 1e-10 (or 1e10) with `reg_covar = 0` get weights [0.5, 0.5] and the
/// scaled means, in f64 and f32, as at unit scale. (Before the fix, the nearest-centre kernel
/// used a unit variance: at 1e-10 every squared distance vanished beside its normalising
/// constant, every sample went to the first centre, and EM "converged" with weights [1, 0].)
#[test]
fn kmeans_starts_are_scale_invariant() {
    let truth = GaussianMixture::<f64>::new(
        CovarianceType::Spherical,
        vec![0.5, 0.5],
        vec![0.0, 0.0, 10.0, 10.0],
        vec![1.0, 1.0],
    )
    .unwrap();
    let (unit, labels) = truth.sample(400, 3).unwrap();
    let half = labels.iter().filter(|&&l| l == 0).count() as f64 / 400.0;
    for init in [Init::KMeans, Init::KMeansPlusPlus] {
        for scale in [1e-10, 1.0, 1e10] {
            let x: Vec<f64> = unit.as_slice().iter().map(|v| v * scale).collect();
            let config = EmConfig::new(2, CovarianceType::Full).init(init).reg_covar(0.0).seed(1);
            let fit = config.fit(Samples::new(&x, 2).unwrap()).unwrap();
            let mut w = fit.model.weights().to_vec();
            w.sort_by(f64::total_cmp);
            assert!(close(w[0], half.min(1.0 - half), 1e-12), "{init} x{scale:e} f64: {w:?}");
            assert_eq!(fit.report.empty_components, 0, "{init} x{scale:e}");
            let mut far = fit.model.mean(0)[0].max(fit.model.mean(1)[0]);
            far /= scale;
            assert!((far - 10.0).abs() < 0.5, "{init} x{scale:e}: mean {far}");
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let fit = config.fit(Samples::new(&x32, 2).unwrap()).unwrap();
            let mut w: Vec<f64> = fit.model.weights().iter().map(|&v| v as f64).collect();
            w.sort_by(f64::total_cmp);
            assert!(close(w[0], half.min(1.0 - half), 1e-5), "{init} x{scale:e} f32: {w:?}");
        }
    }
}

/// One of two components empty is reported as one empty component, not as the number of
/// updates it was empty in (the "guards: 2 empty components" counted the start and the
/// one EM iteration), for batch EM with restarts and for online EM.
#[test]
fn empty_components_count_components_not_iterations() {
    let (_, x) = sampled(CovarianceType::Full, 1, 2, 500, 21);
    let x = Samples::new(&x, 2).unwrap();
    let start = GaussianMixture::<f64>::new(
        CovarianceType::Full,
        vec![0.5, 0.5],
        vec![0.0, 0.0, 1e6, 1e6],
        vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
    )
    .unwrap();
    let config = EmConfig::new(2, CovarianceType::Full).max_iter(8).tol(0.0);
    let options = || FitOptions { start: Some(&start), ..Default::default() };
    let batch = fit(&config, x, options()).unwrap();
    assert_eq!(batch.report.empty_components, 1);
    assert_eq!(batch.report.guard_totals.empty_components, 8);
    // max_iter = 0: the start has had no update, so nothing is counted.
    let none = fit(&config.clone().max_iter(0), x, options()).unwrap();
    assert_eq!((none.report.empty_components, none.report.guard_totals.empty_components), (0, 0));
    // Online EM (t0 = 0: the first batch replaces the start's statistics): the last batch's
    // update, not the sum over batches and epochs; full covariances take the general path,
    // small diagonal batches the fast one.
    let online = gmm_em::online::OnlineConfig::new().batch_size(50).epochs(3).t0(0.0);
    let run = gmm_em::online::fit_online(&config, &online, x, options()).unwrap();
    assert_eq!(run.report.empty_components, 1);
    assert_eq!(run.report.guard_totals.empty_components, 30);
    let diag_start = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![0.5, 0.5],
        vec![0.0, 0.0, 1e6, 1e6],
        vec![1.0; 4],
    )
    .unwrap();
    let diag = EmConfig::new(2, CovarianceType::Diag);
    let online = online.batch_size(10);
    let options = FitOptions { start: Some(&diag_start), ..Default::default() };
    let run = gmm_em::online::fit_online(&diag, &online, x, options).unwrap();
    assert_eq!(run.report.empty_components, 1);
    assert_eq!(run.report.guard_totals.empty_components, 150);
    // A variance floor that holds every variance: counted per variance of the model.
    let floored = EmConfig::new(2, CovarianceType::Diag)
        .variance_floor(Some(1e3))
        .max_iter(4)
        .tol(0.0)
        .n_init(3)
        .seed(2)
        .fit(x)
        .unwrap();
    assert_eq!(floored.report.floored_variances, 4);
    assert!(floored.report.guard_totals.floored_variances >= 3 * 5 * 4, "{:?}", floored.report);
}

/// `threads` above the machine's parallelism is capped to it (10,000 threads turned a 1 ms fit
/// into 146 s); the report says how many ran and the result is the same.
#[test]
fn threads_are_capped_at_the_available_parallelism() {
    let limit = gmm_em::fit::max_threads();
    assert!(limit >= 1);
    assert_eq!(gmm_em::fit::effective_threads(10_000), limit);
    assert_eq!(gmm_em::fit::effective_threads(1), 1);
    let (_, x) = sampled(CovarianceType::Diag, 2, 2, 500, 31);
    let x = Samples::new(&x, 2).unwrap();
    let config = EmConfig::new(2, CovarianceType::Diag).seed(3);
    let started = std::time::Instant::now();
    let many = config.clone().threads(Some(10_000)).fit(x).unwrap();
    assert!(started.elapsed().as_secs_f64() < 10.0, "{:?}", started.elapsed());
    assert_eq!(many.report.threads, limit);
    let one = config.threads(Some(1)).fit(x).unwrap();
    assert_eq!(one.model, many.model);
}

/// The hierarchical start treats integer sample weights as repetitions (rows of weight 0 take
/// no part), is deterministic whatever the seed, and later restarts fall back to k-means.
#[test]
fn hierarchical_start_weights_are_repetitions() {
    for &t in &CovarianceType::ALL {
        let (_, x) = sampled(t, 3, 2, 300, 41);
        let weights: Vec<f64> = (0..300).map(|i| (i % 3) as f64).collect();
        let mut repeated = Vec::new();
        for i in 0..300 {
            for _ in 0..i % 3 {
                repeated.extend_from_slice(&x[2 * i..2 * i + 2]);
            }
        }
        let config = EmConfig::new(3, t).init(Init::Hierarchical).max_iter(0);
        let options = FitOptions { sample_weights: Some(&weights), ..Default::default() };
        let a = fit(&config, Samples::new(&x, 2).unwrap(), options).unwrap();
        let b = config.fit(Samples::new(&repeated, 2).unwrap()).unwrap();
        for (p, q) in a.model.means().iter().zip(b.model.means()) {
            assert!(close(*p, *q, 1e-9), "{t}: mean {p} vs {q}");
        }
        for (p, q) in a.model.covariances().iter().zip(b.model.covariances()) {
            assert!(close(*p, *q, 1e-9), "{t}: covariance {p} vs {q}");
        }
        let c = config.clone().seed(99).fit(Samples::new(&repeated, 2).unwrap()).unwrap();
        assert_eq!(b.model, c.model, "{t}: the start does not depend on the seed");
        // Two restarts: the second is k-means (with its own seed), so they differ.
        let two = config.n_init(2).max_iter(5).fit(Samples::new(&x, 2).unwrap()).unwrap();
        assert_eq!(two.report.restarts.len(), 2);
        assert_ne!(two.report.restarts[0].seed, two.report.restarts[1].seed);
    }
}

/// On more than 2,000 rows the hierarchy runs on a subsample drawn from the restart's seed
/// (rows of weight 0 are never drawn), and the start still recovers separated clusters.
#[test]
fn hierarchical_start_on_large_data_subsamples() {
    let truth = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![0.3, 0.7],
        vec![0.0, 0.0, 20.0, 20.0],
        vec![1.0; 4],
    )
    .unwrap();
    let (x, _) = truth.sample(6000, 8).unwrap();
    // Only every tenth row counts.
    let weights: Vec<f64> = (0..6000).map(|i| if i % 10 == 0 { 1.0 } else { 0.0 }).collect();
    let config = EmConfig::new(2, CovarianceType::Diag).init(Init::Hierarchical).max_iter(0);
    for w in [None, Some(weights.as_slice())] {
        let options = || FitOptions { sample_weights: w, ..Default::default() };
        let a = fit(&config.clone().seed(1), x.samples(), options()).unwrap();
        let b = fit(&config.clone().seed(1), x.samples(), options()).unwrap();
        assert_eq!(a.model, b.model);
        let mut weights = a.model.weights().to_vec();
        weights.sort_by(f64::total_cmp);
        assert!((weights[0] - 0.3).abs() < 0.05, "{weights:?}");
    }
}
