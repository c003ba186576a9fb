//! Confidence ellipses and isodensity contours (`gmm_core::geometry`) against independent
//! references: faer's symmetric eigen-decomposition, explicit 2 x 2 inverses, the closed-form
//! chi-square quantile, sampling, and the bivariate normal density written out by hand.

use std::f64::consts::PI;

use faer::{Mat, Side};
use gmm_core::geometry::{
    Grid, Levels, auto_levels, chi2_quantile_2, confidence_ellipse, confidence_ellipses,
    density_contours, marginal, marginal_covariance, marginal_density,
};
use gmm_core::{CovarianceType, ErrorKind, GaussianMixture};
use rand::RngExt;

use crate::common::{close, random_models, rng};

/// `x' S^-1 x` with the explicit 2 x 2 inverse.
fn quad_form(s: [[f64; 2]; 2], x: [f64; 2]) -> f64 {
    let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    (s[1][1] * x[0] * x[0] - (s[0][1] + s[1][0]) * x[0] * x[1] + s[0][0] * x[1] * x[1]) / det
}

/// Density of `N(mu, S)` at `x`, written out.
fn bivariate_normal(mu: [f64; 2], s: [[f64; 2]; 2], x: [f64; 2]) -> f64 {
    let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    let q = quad_form(s, [x[0] - mu[0], x[1] - mu[1]]);
    (-0.5 * q).exp() / (2.0 * PI * det.sqrt())
}

/// A 3-D full-covariance model whose component `c` has the 2 x 2 block `R diag(l1, l2) R'`
/// (rotation `theta`) on dimensions (2, 0), and a random rest.
fn rotated_model(blocks: &[(f64, f64, f64)], means: &[[f64; 3]]) -> GaussianMixture<f64> {
    let k = blocks.len();
    let mut covariances = Vec::new();
    for &(theta, l1, l2) in blocks {
        let (s, c) = theta.sin_cos();
        // Block in (dim 2, dim 0) coordinates.
        let a = l1 * c * c + l2 * s * s;
        let b = (l1 - l2) * s * c;
        let e = l1 * s * s + l2 * c * c;
        // Dimension 1 independent with variance 1.3; dims 0 and 2 carry the block.
        let mut m = [0.0; 9];
        m[2 * 3 + 2] = a;
        m[2 * 3] = b;
        m[2] = b;
        m[0] = e;
        m[4] = 1.3;
        covariances.extend_from_slice(&m);
    }
    GaussianMixture::new(
        CovarianceType::Full,
        vec![1.0 / k as f64; k],
        means.iter().flatten().copied().collect(),
        covariances,
    )
    .unwrap()
}

#[test]
fn ellipse_axes_match_the_eigen_decomposition() {
    let mut r = rng(11);
    for _ in 0..50 {
        let theta = PI * (r.random::<f64>() - 0.5);
        let l2 = 0.05 + 2.0 * r.random::<f64>();
        let l1 = l2 + 0.01 + 3.0 * r.random::<f64>();
        let mean = [r.random::<f64>() * 4.0, 1.0, -r.random::<f64>()];
        let model = rotated_model(&[(theta, l1, l2)], &[mean]);
        let level = 0.5 + 0.49 * r.random::<f64>();
        let e = confidence_ellipse(&model, 0, [2, 0], level).unwrap();
        let s = marginal_covariance(&model, 0, [2, 0]).unwrap();
        // Independent eigenvalues from faer.
        let m = Mat::from_fn(2, 2, |i, j| s[i][j]);
        let mut ev = m.self_adjoint_eigenvalues(Side::Lower).unwrap();
        ev.sort_by(|a, b| b.total_cmp(a));
        assert!(close(e.eigenvalues[0], ev[0], 1e-12), "{:?} vs {ev:?}", e.eigenvalues);
        assert!(close(e.eigenvalues[1], ev[1], 1e-12), "{:?} vs {ev:?}", e.eigenvalues);
        assert!(close(e.eigenvalues[0], l1, 1e-12) && close(e.eigenvalues[1], l2, 1e-12));
        // S u = lambda u for both axes, and the axes are orthonormal.
        for (u, l) in e.axes.iter().zip(e.eigenvalues) {
            let su = [s[0][0] * u[0] + s[0][1] * u[1], s[1][0] * u[0] + s[1][1] * u[1]];
            assert!((su[0] - l * u[0]).abs() < 1e-12 * l1 && (su[1] - l * u[1]).abs() < 1e-12 * l1);
            assert!(close(u[0].hypot(u[1]), 1.0, 1e-14));
        }
        assert!((e.axes[0][0] * e.axes[1][0] + e.axes[0][1] * e.axes[1][1]).abs() < 1e-14);
        // The angle is the rotation we built in, modulo pi.
        assert!((e.angle - theta).sin().abs() < 1e-9, "angle {} vs {theta}", e.angle);
        let q = -2.0 * (1.0 - level).ln();
        assert!(close(e.radius * e.radius, q, 1e-9));
        assert!(close(e.semi_axes[0], (q * l1).sqrt(), 1e-9));
        assert!(close(e.semi_axes[1], (q * l2).sqrt(), 1e-9));
        assert_eq!(e.center, [mean[2], mean[0]]);
        // Every drawn point is on the ellipse: (p - mu)' S^-1 (p - mu) = q.
        for p in e.points(37) {
            let v = quad_form(s, [p[0] - e.center[0], p[1] - e.center[1]]);
            assert!(close(v, q, 1e-9), "{v} vs {q}");
        }
        // The bounding box touches the ellipse and holds every point.
        let [bx, by] = e.bounding_box();
        let pts = e.points(4000);
        let max_x = pts.iter().map(|p| p[0]).fold(f64::MIN, f64::max);
        let min_y = pts.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
        assert!(max_x <= bx[1] + 1e-12 && bx[1] - max_x < 1e-3 * e.semi_axes[0]);
        assert!(min_y >= by[0] - 1e-12 && min_y - by[0] < 1e-3 * e.semi_axes[0]);
    }
}

#[test]
fn marginal_covariance_is_the_sub_block_for_every_type() {
    for model in random_models::<f32>(3, 4, 5) {
        for c in 0..3 {
            for dims in [[0, 1], [3, 1], [2, 0]] {
                let s = marginal_covariance(&model, c, dims).unwrap();
                let full = model.covariance_matrix(c);
                for (a, &i) in dims.iter().enumerate() {
                    for (b, &j) in dims.iter().enumerate() {
                        assert_eq!(s[a][b], full[i * 4 + j] as f64, "{}", model.covariance_type());
                    }
                }
            }
        }
        // The marginal model keeps the type and gives the same sub-blocks.
        let m = marginal(&model, &[3, 1]).unwrap();
        assert_eq!(m.covariance_type(), model.covariance_type());
        assert_eq!(m.n_features(), 2);
        for c in 0..3 {
            let full = model.covariance_matrix(c);
            let sub = m.covariance_matrix(c);
            assert_eq!(sub, vec![full[15] as f64, full[13] as f64, full[7] as f64, full[5] as f64]);
            assert_eq!(m.mean(c), &[model.mean(c)[3] as f64, model.mean(c)[1] as f64]);
        }
    }
}

#[test]
fn diag_ellipse_is_axis_aligned() {
    let model = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![1.0],
        vec![1.0, 2.0, 3.0],
        vec![4.0, 9.0, 1.0],
    )
    .unwrap();
    let e = confidence_ellipse(&model, 0, [0, 1], 0.75).unwrap();
    let q = -2.0 * 0.25f64.ln();
    // Major axis along y (variance 9), minor along x (variance 4).
    assert!(
        close(e.semi_axes[0], 3.0 * q.sqrt(), 1e-9) && close(e.semi_axes[1], 2.0 * q.sqrt(), 1e-9)
    );
    assert!(e.axes[0][0].abs() < 1e-15 && close(e.axes[0][1].abs(), 1.0, 1e-15));
    let e = confidence_ellipse(&model, 0, [0, 2], 0.75).unwrap();
    assert!(e.angle.abs() < 1e-15 && e.center == [1.0, 3.0]);
}

#[test]
fn level_to_radius_is_minus_two_log_one_minus_p() {
    for i in 0..=49 {
        let p = 0.5 + 0.01 * i as f64;
        let q = chi2_quantile_2(p).unwrap();
        let exact = -2.0 * (1.0 - p).ln();
        assert!(close(q, exact, 1e-9), "p = {p}: {q} vs {exact}");
    }
    for p in [1e-6, 0.01, 0.3, 0.999, 0.999_999] {
        assert!(close(chi2_quantile_2(p).unwrap(), -2.0 * (-p).ln_1p(), 1e-8), "p = {p}");
    }
}

#[test]
fn ellipses_hold_their_probability() {
    // A correlated 2-D Gaussian; n samples; the fraction inside the p ellipse is binomial.
    let model = rotated_model(&[(0.6, 3.0, 0.4)], &[[1.0, -2.0, 0.5]]);
    let n = 40_000;
    let (x, _) = model.sample(n, 99).unwrap();
    for level in [0.25, 0.5, 0.75, 0.9, 0.99] {
        let e = confidence_ellipse(&model, 0, [2, 0], level).unwrap();
        let inside = (0..n).filter(|&i| e.contains([x.row(i)[2], x.row(i)[0]])).count();
        let fraction = inside as f64 / n as f64;
        let sd = (level * (1.0 - level) / n as f64).sqrt();
        assert!((fraction - level).abs() < 4.0 * sd, "level {level}: {fraction} (sd {sd})");
    }
}

#[test]
fn bad_levels_dims_and_components_are_typed_errors() {
    let model = random_models::<f64>(2, 3, 1).remove(0);
    for level in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
        let err = confidence_ellipse(&model, 0, [0, 1], level).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{level}");
        assert!(err.message().contains("between 0 and 1"), "{err}");
    }
    for dims in [[0, 0], [0, 3], [7, 1]] {
        let err = confidence_ellipse(&model, 0, dims, 0.5).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{dims:?}");
        let grid = Grid::new([0.0, 1.0], [0.0, 1.0], 3, 3).unwrap();
        let err = marginal_density(&model, dims, &grid).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{dims:?}");
    }
    let err = confidence_ellipse(&model, 2, [0, 1], 0.5).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
    assert!(err.message().contains("component 2"), "{err}");
    for (x, y, nx, needle) in [
        ([1.0, 1.0], [0.0, 1.0], 10, "grid x range"),
        ([0.0, 1.0], [0.0, f64::NAN], 10, "grid y range"),
        ([0.0, 1.0], [0.0, 1.0], 1, "1 x 10 points"),
    ] {
        let err = Grid::new(x, y, nx, 10).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{err}");
        assert!(err.message().contains(needle), "{err}");
    }
    let grid = Grid::new([0.0, 1.0], [0.0, 1.0], 4, 4).unwrap();
    for levels in [Levels::Auto(0), Levels::Given(vec![0.1, -1.0]), Levels::Given(vec![f64::NAN])] {
        assert_eq!(
            density_contours(&model, [0, 1], &grid, &levels).unwrap_err().kind(),
            &ErrorKind::InvalidConfig
        );
    }
    for (dims, needle) in [(&[][..], "at least one dimension"), (&[1, 1][..], "listed twice")] {
        let err = marginal(&model, dims).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{dims:?}");
        assert!(err.message().contains(needle), "{err}");
    }
}

#[test]
fn marginal_density_is_the_exact_bivariate_marginal() {
    let model =
        rotated_model(&[(0.3, 2.0, 0.5), (-1.1, 1.0, 0.2)], &[[0.0, 1.0, 0.0], [2.0, -1.0, 3.0]]);
    let grid = Grid::new([-4.0, 7.0], [-3.0, 5.0], 23, 17).unwrap();
    let density = marginal_density(&model, [2, 0], &grid).unwrap();
    assert_eq!(density.len(), 23 * 17);
    for b in 0..grid.ny {
        for a in 0..grid.nx {
            let p = grid.point(a, b);
            let exact: f64 = (0..2)
                .map(|c| {
                    let s = marginal_covariance(&model, c, [2, 0]).unwrap();
                    let mu = [model.mean(c)[2], model.mean(c)[0]];
                    0.5 * bivariate_normal(mu, s, p)
                })
                .sum();
            let got = density[b * grid.nx + a];
            assert!((got - exact).abs() <= 1e-12 * exact.max(1e-300) + 1e-300, "{got} vs {exact}");
        }
    }
}

#[test]
fn contours_lie_on_their_density_level() {
    let model =
        rotated_model(&[(0.3, 2.0, 0.5), (-1.1, 1.0, 0.2)], &[[0.0, 1.0, 0.0], [2.0, -1.0, 3.0]]);
    let plane = marginal(&model, &[2, 0]).unwrap();
    let grid = Grid::around(&model, [2, 0], 301).unwrap();
    let contours = density_contours(&model, [2, 0], &grid, &Levels::Auto(6)).unwrap();
    let density = marginal_density(&model, [2, 0], &grid).unwrap();
    let max = density.iter().copied().fold(0.0, f64::max);
    assert_eq!(contours.len(), 6);
    let expected = auto_levels(max, 6);
    assert!(close(expected[0], 0.01 * max, 1e-12));
    for (c, want) in contours.iter().zip(&expected) {
        assert_eq!(c.level, *want);
        assert!(!c.lines.is_empty(), "level {} has no line", c.level);
        for line in &c.lines {
            assert!(line.len() >= 4);
            assert_eq!(line.first(), line.last(), "closed");
            let xs: Vec<f64> = line.iter().flatten().copied().collect();
            let log_density = plane.score_samples(gmm_core::Samples::new(&xs, 2).unwrap()).unwrap();
            for ld in log_density {
                // Linear interpolation on a 301-point grid: within 1% of the level.
                let rel = (ld.exp() - c.level).abs() / c.level;
                assert!(rel < 0.01, "density {} vs level {}", ld.exp(), c.level);
            }
        }
    }
}

#[test]
fn contour_of_one_gaussian_is_its_ellipse() {
    // For one Gaussian the density level L is the ellipse q = -2 ln(2 pi sqrt(det S) L).
    let model = rotated_model(&[(0.8, 2.5, 0.3)], &[[-1.0, 0.0, 2.0]]);
    let s = marginal_covariance(&model, 0, [2, 0]).unwrap();
    let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    let peak = 1.0 / (2.0 * PI * det.sqrt());
    let levels = vec![0.1 * peak, 0.5 * peak];
    let grid = Grid::new([-5.0, 9.0], [-6.0, 4.0], 281, 201).unwrap();
    let contours = density_contours(&model, [2, 0], &grid, &Levels::Given(levels.clone())).unwrap();
    for (c, l) in contours.iter().zip(&levels) {
        assert_eq!(c.lines.len(), 1);
        let q = -2.0 * (l / peak).ln();
        for p in &c.lines[0] {
            let v = quad_form(s, [p[0] - 2.0, p[1] + 1.0]);
            assert!((v - q).abs() < 0.01 * q, "{v} vs {q}");
        }
    }
    // A level above the peak has no line.
    let none = density_contours(&model, [2, 0], &grid, &Levels::Given(vec![2.0 * peak])).unwrap();
    assert!(none[0].lines.is_empty());
}

#[test]
fn ellipses_for_every_component_and_type() {
    for model in random_models::<f64>(4, 3, 21) {
        let es = confidence_ellipses(&model, [1, 2], 0.9).unwrap();
        assert_eq!(es.len(), 4);
        for (c, e) in es.iter().enumerate() {
            assert_eq!(e.component, c);
            let s = marginal_covariance(&model, c, [1, 2]).unwrap();
            for p in e.points(16) {
                let v = quad_form(s, [p[0] - e.center[0], p[1] - e.center[1]]);
                assert!(close(v, e.radius * e.radius, 1e-9));
            }
        }
    }
}
