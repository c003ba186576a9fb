//! Every kernel against the naive reference formulas, both precisions, all covariance types,
//! every instruction set the machine has (`isa::with_isa` on a 1-thread pool, so the pass's
//! work stays on the thread that pins it), across shapes that hit the edge cases (d = 1,
//! k = 1, n below one block, n not a multiple of the SIMD width, several blocks).

use gmm_core::kernel::reference;
use gmm_core::{CovarianceType, GaussianMixture, Real, Samples};

use crate::common::{close, random_models, uniform_data};

/// (n, d, k) shapes.
const SHAPES: [(usize, usize, usize); 9] = [
    (1, 1, 1),
    (7, 1, 3),
    (13, 2, 1),
    (240, 3, 4),
    (241, 5, 2),
    (517, 15, 7),
    (1000, 8, 30),
    (2001, 4, 5),
    (33, 40, 3),
];

/// Relative tolerance for comparing a kernel with the reference: a few ulps times the work
/// per value (d² terms for full covariances).
fn tolerance<T: Real>(d: usize) -> f64 {
    T::EPSILON.to_f64() * 64.0 * (d * d + 8) as f64
}

fn check_against_reference<T: Real>(seed: u64) {
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for isa in gmm_core::isa::available() {
        one.install(|| gmm_core::isa::with_isa(isa, || check_on_this_isa::<T>(seed)));
    }
}

fn check_on_this_isa<T: Real>(seed: u64) {
    let isa = gmm_core::isa::current().as_str();
    for (case, &(n, d, k)) in SHAPES.iter().enumerate() {
        let x: Vec<T> = uniform_data(n, d, 3.0, seed + case as u64);
        let samples = Samples::new(&x, d).unwrap();
        for model in random_models::<T>(k, d, seed * 31 + case as u64) {
            let tol = tolerance::<T>(d);
            let what = format!("{} n={n} d={d} k={k} {} {isa}", model.covariance_type(), T::NAME);
            let ll = model.score_samples(samples).unwrap();
            let proba = model.predict_proba(samples).unwrap();
            let comp = model.component_log_densities(samples).unwrap();
            let labels = model.predict(samples).unwrap();
            let mut total = 0.0;
            for i in 0..n {
                let reference_ld = reference::weighted_log_densities(&model, samples.row(i));
                let reference_ll = reference::log_likelihood(&model, samples.row(i));
                total += reference_ll;
                assert!(
                    close(ll[i].to_f64(), reference_ll, tol),
                    "{what}: log p(x_{i}) = {} but the reference gives {reference_ll}",
                    ll[i]
                );
                let reference_post = reference::posteriors(&model, samples.row(i));
                let mut sum = 0.0;
                for c in 0..k {
                    let got = proba.row(i)[c].to_f64();
                    sum += got;
                    assert!(
                        (got - reference_post[c]).abs() <= tol * 10.0,
                        "{what}: posterior ({i}, {c}) = {got}, reference {}",
                        reference_post[c]
                    );
                    let unweighted = reference_ld[c] - model.weights()[c].to_f64().ln();
                    assert!(
                        close(comp.row(i)[c].to_f64(), unweighted, tol),
                        "{what}: log N(x_{i} | {c}) = {}, reference {unweighted}",
                        comp.row(i)[c]
                    );
                }
                assert!((sum - 1.0).abs() <= tol * k as f64, "{what}: posteriors sum to {sum}");
                let best = reference_ld[labels[i]];
                assert!(
                    reference_ld.iter().all(|&v| v <= best + tol * best.abs().max(1.0)),
                    "{what}: label {} of sample {i} is not the most probable",
                    labels[i]
                );
            }
            let mean = model.score(samples).unwrap();
            assert!(
                close(mean, total / n as f64, tol),
                "{what}: score {mean} vs {}",
                total / n as f64
            );
            let bic = model.bic(samples).unwrap();
            let expected_bic = -2.0 * total + model.n_parameters() as f64 * (n as f64).ln();
            assert!(close(bic, expected_bic, tol), "{what}: bic {bic} vs {expected_bic}");
        }
    }
}

#[test]
fn kernels_match_reference_f64() {
    check_against_reference::<f64>(1);
}

#[test]
fn kernels_match_reference_f32() {
    check_against_reference::<f32>(2);
}

/// The diagonal SIMD path and the Cholesky path agree when the covariance is diagonal, and
/// spherical and tied models agree with their diag and full expansions.
#[test]
fn covariance_paths_agree() {
    for &(n, d, k) in &SHAPES {
        let x: Vec<f64> = uniform_data(n, d, 2.0, 99);
        let samples = Samples::new(&x, d).unwrap();
        let diag = GaussianMixture::<f64>::random(CovarianceType::Diag, k, d, 1.0, 5).unwrap();
        let spherical =
            GaussianMixture::<f64>::random(CovarianceType::Spherical, k, d, 1.0, 6).unwrap();
        let tied = GaussianMixture::<f64>::random(CovarianceType::Tied, k, d, 1.0, 7).unwrap();
        let as_full = |m: &GaussianMixture<f64>| {
            let covs = (0..k).flat_map(|c| m.covariance_matrix(c)).collect();
            GaussianMixture::new(
                CovarianceType::Full,
                m.weights().to_vec(),
                m.means().to_vec(),
                covs,
            )
            .unwrap()
        };
        let spherical_as_diag = GaussianMixture::new(
            CovarianceType::Diag,
            spherical.weights().to_vec(),
            spherical.means().to_vec(),
            (0..k * d).map(|i| spherical.covariances()[i / d]).collect(),
        )
        .unwrap();
        for (a, b) in
            [(&diag, &as_full(&diag)), (&spherical, &spherical_as_diag), (&tied, &as_full(&tied))]
        {
            let la = a.score_samples(samples).unwrap();
            let lb = b.score_samples(samples).unwrap();
            for i in 0..n {
                assert!(
                    close(la[i], lb[i], 1e-12 * d as f64),
                    "{} vs {}: sample {i}: {} != {}",
                    a.covariance_type(),
                    b.covariance_type(),
                    la[i],
                    lb[i]
                );
            }
        }
    }
}

/// f32 and f64 kernels agree to f32 precision on the same model.
#[test]
fn precisions_agree() {
    let (n, d, k) = (600, 6, 5);
    let x64: Vec<f64> = uniform_data(n, d, 3.0, 4);
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    for model in random_models::<f64>(k, d, 8) {
        let model32 = model.cast::<f32>().unwrap();
        let a = model.score_samples(Samples::new(&x64, d).unwrap()).unwrap();
        let b = model32.score_samples(Samples::new(&x32, d).unwrap()).unwrap();
        for i in 0..n {
            assert!(
                close(a[i], b[i] as f64, 1e-4),
                "{}: {} vs {}",
                model.covariance_type(),
                a[i],
                b[i]
            );
        }
    }
}

/// Samples drawn from a model have the model's moments.
#[test]
fn sample_moments_match_parameters() {
    for model in random_models::<f64>(1, 3, 21) {
        let n = 200_000;
        let (x, labels) = model.sample(n, 5).unwrap();
        assert!(labels.iter().all(|&l| l == 0));
        let d = 3;
        let cov = model.covariance_matrix(0);
        let mut mean = [0.0; 3];
        for i in 0..n {
            for j in 0..d {
                mean[j] += x.row(i)[j] / n as f64;
            }
        }
        for j in 0..d {
            let se = (cov[j * d + j] / n as f64).sqrt();
            assert!(
                (mean[j] - model.mean(0)[j]).abs() < 5.0 * se,
                "mean {j}: {} vs {}",
                mean[j],
                model.mean(0)[j]
            );
        }
        for a in 0..d {
            for b in 0..d {
                let c: f64 =
                    (0..n).map(|i| (x.row(i)[a] - mean[a]) * (x.row(i)[b] - mean[b])).sum::<f64>()
                        / n as f64;
                let scale = (cov[a * d + a] * cov[b * d + b]).sqrt();
                assert!(
                    (c - cov[a * d + b]).abs() < 0.02 * scale,
                    "cov ({a},{b}): {c} vs {}",
                    cov[a * d + b]
                );
            }
        }
    }
}

/// Component frequencies follow the weights, and the same seed gives the same draw.
#[test]
fn sampling_is_reproducible_and_follows_weights() {
    let model = GaussianMixture::<f64>::random(CovarianceType::Diag, 4, 2, 1.0, 3).unwrap();
    let (a, la) = model.sample(50_000, 9).unwrap();
    let (b, lb) = model.sample(50_000, 9).unwrap();
    assert_eq!(a, b);
    assert_eq!(la, lb);
    let (c, _) = model.sample(50_000, 10).unwrap();
    assert_ne!(a, c);
    for k in 0..4 {
        let freq = la.iter().filter(|&&l| l == k).count() as f64 / 50_000.0;
        let w = model.weights()[k];
        assert!(
            (freq - w).abs() < 4.0 * (w * (1.0 - w) / 50_000.0).sqrt() + 1e-3,
            "component {k}: {freq} vs {w}"
        );
    }
}

/// The diagonal kernel's scaled form (`f64`) far from the origin: components `10⁴` standard
/// deviations out, samples around them. The error the form adds is `ε |μ| / σ` per term (see
/// `kernel::diag`), so the log-densities match the reference to `64 ε (|μ| / σ) d`, on every
/// instruction set; means near overflow (`|μ| / σ > 1e150`) take the exact form and match
/// to the ordinary tolerance.
#[test]
fn diagonal_densities_far_from_the_origin() {
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (k, d, n) = (3, 7, 300);
    for (offset, sigma) in [(1e4, 1.0), (-3e6, 250.0), (1e160, 1.0)] {
        let means: Vec<f64> = (0..k * d).map(|i| offset + sigma * (i % 5) as f64).collect();
        let variances: Vec<f64> =
            (0..k * d).map(|i| sigma * sigma * (0.5 + (i % 3) as f64)).collect();
        let model =
            GaussianMixture::new(CovarianceType::Diag, vec![0.2, 0.3, 0.5], means, variances)
                .unwrap();
        let x: Vec<f64> = uniform_data::<f64>(n, d, 3.0, 11)
            .iter()
            .enumerate()
            .map(|(i, v)| offset + sigma * (v + (i % d % 5) as f64))
            .collect();
        let samples = Samples::new(&x, d).unwrap();
        let ratio = if offset.abs() / sigma > 1e150 { 1.0 } else { offset.abs() / sigma };
        let tol = f64::EPSILON * 64.0 * ratio * d as f64;
        densities_match_the_reference(&one, &model, samples, tol, &format!("offset {offset}"));
    }
}

/// The diagonal kernel in `f32`: with every mean within `F32_SCALED_RANGE` standard deviations
/// of the origin it takes the scaled form, whose error is `ε |μ| / σ` per term (so the
/// log-densities match the reference to `64 ε (|μ| / σ) d`); farther out it keeps the exact
/// form, which matches to `64 ε d` — where the scaled form would be `|μ| / σ = 1.4e5` times
/// off. On every instruction set.
#[test]
fn f32_diagonal_densities_take_the_scaled_form_only_near_the_origin() {
    use gmm_core::kernel::diag::F32_SCALED_RANGE;
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (k, d, n) = (3, 7, 300);
    for offset in [8.0f32, -10.0, -40.0, 1e5] {
        let means: Vec<f32> = (0..k * d).map(|i| offset + (i % 5) as f32 * 0.25).collect();
        let variances: Vec<f32> = (0..k * d).map(|i| 0.5 + (i % 3) as f32).collect();
        // The largest |μ| / σ: 12.7 and 15.6 for the first two offsets, 58 and 1.4e5 after.
        let ratio = means
            .iter()
            .zip(&variances)
            .map(|(&m, &v)| f64::from(m).abs() / f64::from(v).sqrt())
            .fold(0.0, f64::max);
        let scaled = ratio <= F32_SCALED_RANGE;
        assert_eq!(scaled, offset.abs() < 16.0, "offset {offset}: ratio {ratio}");
        let model =
            GaussianMixture::new(CovarianceType::Diag, vec![0.2, 0.3, 0.5], means, variances)
                .unwrap();
        let x: Vec<f32> = uniform_data::<f32>(n, d, 3.0, 11).iter().map(|v| offset + v).collect();
        let samples = Samples::new(&x, d).unwrap();
        let tol = f64::from(f32::EPSILON) * 64.0 * if scaled { ratio } else { 1.0 } * d as f64;
        densities_match_the_reference(&one, &model, samples, tol, &format!("offset {offset}"));
    }
}

/// Every component's log-density of every sample against the reference, to `tol` relative, on
/// every instruction set this machine has (on the 1-thread pool `one`).
fn densities_match_the_reference<T: Real>(
    one: &rayon::ThreadPool,
    model: &GaussianMixture<T>,
    samples: Samples<'_, T>,
    tol: f64,
    what: &str,
) {
    for isa in gmm_core::isa::available() {
        let comp = one
            .install(|| gmm_core::isa::with_isa(isa, || model.component_log_densities(samples)))
            .expect("an available instruction set")
            .unwrap();
        for i in 0..samples.n_samples() {
            let reference = reference::weighted_log_densities(model, samples.row(i));
            for (c, r) in reference.iter().enumerate() {
                let expected = r - model.weights()[c].to_f64().ln();
                let got = comp.row(i)[c].to_f64();
                assert!(
                    close(got, expected, tol),
                    "{what} {isa:?}: log N(x_{i} | {c}) = {got}, reference {expected}"
                );
            }
        }
    }
}
