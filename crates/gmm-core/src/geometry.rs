//! Geometry of a mixture in a plane: confidence ellipses and isodensity contours.
//!
//! ## The maths
//!
//! The marginal of `N(μ, Σ)` on two dimensions `(i, j)` is `N(μ_ij, S)` with `S` the `2 x 2`
//! sub-block of `Σ` (for `diag` and `spherical` covariances the two variances on the diagonal).
//! For `x ~ N(μ_ij, S)`, the squared Mahalanobis distance `(x-μ)ᵀ S⁻¹ (x-μ)` is chi-square with
//! 2 degrees of freedom, so the set
//!
//! ```text
//! E_p = { x : (x-μ)ᵀ S⁻¹ (x-μ) ≤ q_p },   q_p = F⁻¹_χ²(2)(p) = -2 ln(1 - p)
//! ```
//!
//! holds probability `p`: the *confidence ellipse* at level `p`. With `S = λ₁ u₁u₁ᵀ + λ₂ u₂u₂ᵀ`
//! (`λ₁ ≥ λ₂`), its semi-axes are `√(q_p λ₁)` along `u₁` and `√(q_p λ₂)` along `u₂`, and its
//! points are `μ + √q_p (√λ₁ cos t · u₁ + √λ₂ sin t · u₂)`. The quantile comes from `statrs`
//! (the closed form above is what the tests check it against); the `2 x 2` eigen-decomposition
//! is the closed form `λ = (a+c)/2 ± √(((a-c)/2)² + b²)`, `θ = ½ atan2(2b, a - c)`.
//!
//! The 2-D marginal of the mixture is the mixture of the components' 2-D marginals with the
//! same weights, `p(x_i, x_j) = Σ_k w_k N((x_i, x_j) | μ_k,ij, S_k)`. [`marginal`] builds it as
//! a [`GaussianMixture`] of the same covariance type (so it is scored by the same kernels),
//! [`marginal_density`] evaluates it on a [`Grid`], and [`density_contours`] traces its level
//! sets with marching squares (the `contour` crate, with linear interpolation along cell edges).
//!
//! ## Types
//!
//! * [`Ellipse`] — centre, semi-axes, orientation and radius of one confidence ellipse, with
//!   [`Ellipse::points`] for drawing; built by [`confidence_ellipse`] / [`confidence_ellipses`].
//! * [`Grid`] — a rectangular grid of `nx x ny` points over `[x0, x1] x [y0, y1]`.
//! * [`Levels`] — contour levels, given or chosen automatically; [`Contour`] — the polylines
//!   of one level.
//!
//! ```
//! use gmm_core::geometry::{confidence_ellipse, density_contours, Grid, Levels};
//! use gmm_core::{CovarianceType, GaussianMixture};
//!
//! let model = GaussianMixture::<f64>::new(
//!     CovarianceType::Diag,
//!     vec![0.5, 0.5],
//!     vec![0.0, 0.0, 4.0, 4.0],
//!     vec![1.0, 4.0, 1.0, 1.0],
//! )?;
//! let e = confidence_ellipse(&model, 0, [0, 1], 0.75)?;
//! // The major axis is the y axis, of half-length sqrt(q * 4).
//! assert!((e.semi_axes[0] - (e.radius * 2.0)).abs() < 1e-12);
//! let outline = e.points(100);
//! assert_eq!(outline.len(), 100);
//!
//! let grid = Grid::new([-4.0, 8.0], [-7.0, 8.0], 121, 151)?;
//! let contours = density_contours(&model, [0, 1], &grid, &Levels::Auto(5))?;
//! assert_eq!(contours.len(), 5);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! ## Current implementation
//!
//! Everything here is computed in `f64` whatever the model's precision. The grid density is
//! `exp` of [`GaussianMixture::score_samples`] on the marginal model, so it is blocked and
//! parallel like all scoring (and deterministic).

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::covariance::CovarianceType;
use crate::data::Samples;
use crate::error::{Error, Result};
use crate::mixture::GaussianMixture;
use crate::real::Real;

/// One confidence ellipse: the region holding probability [`level`](Self::level) of a
/// component's 2-D marginal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipse {
    /// The component it belongs to.
    pub component: usize,
    /// The two dimensions `(i, j)`: `x` is dimension `i`, `y` dimension `j`.
    pub dims: [usize; 2],
    /// The probability level `p` in `(0, 1)`.
    pub level: f64,
    /// The centre `μ_ij`.
    pub center: [f64; 2],
    /// Semi-axis lengths, major first: `√(q λ₁) ≥ √(q λ₂)`.
    pub semi_axes: [f64; 2],
    /// Unit directions of the two axes (`u₁`, `u₂`; `u₂` is `u₁` turned by +90°).
    pub axes: [[f64; 2]; 2],
    /// Angle of the major axis from the `x` axis, radians in `(-π/2, π/2]`.
    pub angle: f64,
    /// `√q_p`: the Mahalanobis radius of the ellipse.
    pub radius: f64,
    /// The eigenvalues `λ₁ ≥ λ₂` of the `2 x 2` marginal covariance.
    pub eigenvalues: [f64; 2],
}

impl Ellipse {
    /// `n` points along the ellipse, evenly spaced in the parameter `t = 2π i / n` starting at the
    /// end of the major axis (`n = 0` gives none). Close the curve by repeating the first point.
    pub fn points(&self, n: usize) -> Vec<[f64; 2]> {
        let [a, b] = self.semi_axes;
        let [u, v] = self.axes;
        (0..n)
            .map(|i| {
                let t = std::f64::consts::TAU * i as f64 / n as f64;
                let (s, c) = t.sin_cos();
                [
                    self.center[0] + a * c * u[0] + b * s * v[0],
                    self.center[1] + a * c * u[1] + b * s * v[1],
                ]
            })
            .collect()
    }

    /// The squared Mahalanobis distance of `p` from the centre, scaled so that the ellipse is
    /// where it equals `q` ([`radius`](Self::radius) squared): `p` is inside when it is `≤ q`.
    pub fn mahalanobis_sq(&self, p: [f64; 2]) -> f64 {
        let d = [p[0] - self.center[0], p[1] - self.center[1]];
        let [u, v] = self.axes;
        let s = d[0] * u[0] + d[1] * u[1];
        let t = d[0] * v[0] + d[1] * v[1];
        s * s / self.eigenvalues[0] + t * t / self.eigenvalues[1]
    }

    /// Whether `p` lies inside (or on) the ellipse.
    pub fn contains(&self, p: [f64; 2]) -> bool {
        self.mahalanobis_sq(p) <= self.radius * self.radius
    }

    /// The axis-aligned bounding box `[[x_min, x_max], [y_min, y_max]]`.
    pub fn bounding_box(&self) -> [[f64; 2]; 2] {
        let [a, b] = self.semi_axes;
        let [u, v] = self.axes;
        let hx = ((a * u[0]).powi(2) + (b * v[0]).powi(2)).sqrt();
        let hy = ((a * u[1]).powi(2) + (b * v[1]).powi(2)).sqrt();
        [[self.center[0] - hx, self.center[0] + hx], [self.center[1] - hy, self.center[1] + hy]]
    }
}

/// The chi-square quantile with 2 degrees of freedom, `q_p` with `P(χ²₂ ≤ q_p) = p`.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) unless `0 < p < 1`.
pub fn chi2_quantile_2(level: f64) -> Result<f64> {
    check_level(level)?;
    let chi2 = ChiSquared::new(2.0)
        .map_err(|e| Error::invalid_config(format!("chi-square distribution: {e}")))?;
    Ok(chi2.inverse_cdf(level))
}

fn check_level(level: f64) -> Result<()> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::invalid_config(format!(
            "probability level {level} is not strictly between 0 and 1: use e.g. 0.75"
        )));
    }
    Ok(())
}

/// Checks that `dims` are two distinct dimensions of a `d`-dimensional model.
pub fn check_dims(dims: [usize; 2], n_features: usize) -> Result<()> {
    if let Some(&bad) = dims.iter().find(|&&j| j >= n_features) {
        return Err(Error::invalid_config(format!(
            "dimension {bad} does not exist: the model has {n_features} dimension{} (0 to {})",
            if n_features == 1 { "" } else { "s" },
            n_features.saturating_sub(1)
        )));
    }
    if dims[0] == dims[1] {
        return Err(Error::invalid_config(format!(
            "the two dimensions of a plane must differ, got {} twice",
            dims[0]
        )));
    }
    Ok(())
}

fn check_component<T: Real>(model: &GaussianMixture<T>, component: usize) -> Result<()> {
    let k = model.n_components();
    if component >= k {
        return Err(Error::invalid_config(format!(
            "component {component} does not exist: the model has {k} (0 to {})",
            k - 1
        )));
    }
    Ok(())
}

/// The `2 x 2` marginal covariance `[[s_ii, s_ij], [s_ji, s_jj]]` of `component` on `dims`.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) for a component or a dimension
/// that does not exist, or two equal dimensions.
pub fn marginal_covariance<T: Real>(
    model: &GaussianMixture<T>,
    component: usize,
    dims: [usize; 2],
) -> Result<[[f64; 2]; 2]> {
    check_component(model, component)?;
    check_dims(dims, model.n_features())?;
    let d = model.n_features();
    let cov = model.covariances();
    let [i, j] = dims;
    let f = |v: T| v.to_f64();
    Ok(match model.covariance_type() {
        CovarianceType::Diag => {
            [[f(cov[component * d + i]), 0.0], [0.0, f(cov[component * d + j])]]
        }
        CovarianceType::Spherical => [[f(cov[component]), 0.0], [0.0, f(cov[component])]],
        CovarianceType::Full | CovarianceType::Tied => {
            let base =
                if model.covariance_type() == CovarianceType::Full { component * d * d } else { 0 };
            let at = |r: usize, c: usize| f(cov[base + r * d + c]);
            [[at(i, i), at(i, j)], [at(j, i), at(j, j)]]
        }
    })
}

/// Eigen-decomposition of a symmetric `2 x 2` matrix in closed form: eigenvalues `λ₁ ≥ λ₂`
/// and the angle `θ` of `u₁ = (cos θ, sin θ)`, in `(-π/2, π/2]`.
pub fn symmetric_eigen_2x2(s: [[f64; 2]; 2]) -> ([f64; 2], f64) {
    let (a, b, c) = (s[0][0], 0.5 * (s[0][1] + s[1][0]), s[1][1]);
    let mid = 0.5 * (a + c);
    let half = (0.5 * (a - c)).hypot(b);
    let mut angle = 0.5 * (2.0 * b).atan2(a - c);
    if angle <= -std::f64::consts::FRAC_PI_2 {
        angle += std::f64::consts::PI;
    }
    ([mid + half, mid - half], angle)
}

/// The confidence ellipse of `component` on dimensions `dims` at probability `level`.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) unless `0 < level < 1`, the
/// dimensions are distinct and below `d`, and `component < k`.
pub fn confidence_ellipse<T: Real>(
    model: &GaussianMixture<T>,
    component: usize,
    dims: [usize; 2],
    level: f64,
) -> Result<Ellipse> {
    let q = chi2_quantile_2(level)?;
    let s = marginal_covariance(model, component, dims)?;
    let (eigenvalues, angle) = symmetric_eigen_2x2(s);
    // A sub-block of a positive definite matrix is positive definite; clamp only rounding.
    let eigenvalues = [eigenvalues[0].max(0.0), eigenvalues[1].max(f64::MIN_POSITIVE)];
    let (sin, cos) = angle.sin_cos();
    let mean = model.mean(component);
    let radius = q.sqrt();
    Ok(Ellipse {
        component,
        dims,
        level,
        center: [mean[dims[0]].to_f64(), mean[dims[1]].to_f64()],
        semi_axes: [radius * eigenvalues[0].sqrt(), radius * eigenvalues[1].sqrt()],
        axes: [[cos, sin], [-sin, cos]],
        angle,
        radius,
        eigenvalues,
    })
}

/// The confidence ellipses of every component, in component order.
///
/// # Errors
/// As [`confidence_ellipse`].
pub fn confidence_ellipses<T: Real>(
    model: &GaussianMixture<T>,
    dims: [usize; 2],
    level: f64,
) -> Result<Vec<Ellipse>> {
    (0..model.n_components()).map(|c| confidence_ellipse(model, c, dims, level)).collect()
}

/// The marginal mixture on `dims` (any non-empty list of distinct dimensions, in the order
/// given), in `f64`, with the same weights and covariance type.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) for an empty list, a repeated
/// dimension or one that does not exist.
pub fn marginal<T: Real>(
    model: &GaussianMixture<T>,
    dims: &[usize],
) -> Result<GaussianMixture<f64>> {
    let (k, d) = (model.n_components(), model.n_features());
    if dims.is_empty() {
        return Err(Error::invalid_config("a marginal needs at least one dimension"));
    }
    for (a, &i) in dims.iter().enumerate() {
        if i >= d {
            return Err(Error::invalid_config(format!(
                "dimension {i} does not exist: the model has {d} (0 to {})",
                d - 1
            )));
        }
        if dims[..a].contains(&i) {
            return Err(Error::invalid_config(format!("dimension {i} is listed twice")));
        }
    }
    let m = dims.len();
    let f = |v: &T| v.to_f64();
    let weights: Vec<f64> = model.weights().iter().map(f).collect();
    let means: Vec<f64> =
        (0..k).flat_map(|c| dims.iter().map(move |&i| model.mean(c)[i].to_f64())).collect();
    let cov = model.covariances();
    let block = |base: usize| -> Vec<f64> {
        dims.iter()
            .flat_map(|&r| dims.iter().map(move |&c| cov[base + r * d + c].to_f64()))
            .collect()
    };
    let covariances: Vec<f64> = match model.covariance_type() {
        CovarianceType::Diag => {
            (0..k).flat_map(|c| dims.iter().map(move |&i| cov[c * d + i].to_f64())).collect()
        }
        CovarianceType::Spherical => cov.iter().map(f).collect(),
        CovarianceType::Full => (0..k).flat_map(|c| block(c * d * d)).collect(),
        CovarianceType::Tied => block(0),
    };
    debug_assert_eq!(covariances.len(), model.covariance_type().covariance_len(k, m));
    GaussianMixture::new(model.covariance_type(), weights, means, covariances)
}

/// A rectangular grid of `nx x ny` points: `x_a = x0 + a (x1 - x0)/(nx - 1)`, likewise `y_b`.
/// Values on it are stored row-major by `y`: the value at `(x_a, y_b)` is at `b * nx + a`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// `[x0, x1]`, `x0 < x1`.
    pub x: [f64; 2],
    /// `[y0, y1]`, `y0 < y1`.
    pub y: [f64; 2],
    /// Number of points along `x` (at least 2).
    pub nx: usize,
    /// Number of points along `y` (at least 2).
    pub ny: usize,
}

impl Grid {
    /// A grid over `[x0, x1] x [y0, y1]` with `nx x ny` points.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) for non-finite or empty
    /// ranges, fewer than 2 points along an axis, or more than 10⁸ points in all.
    pub fn new(x: [f64; 2], y: [f64; 2], nx: usize, ny: usize) -> Result<Self> {
        for (name, r) in [("x", x), ("y", y)] {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] < r[1]) {
                return Err(Error::invalid_config(format!(
                    "grid {name} range [{}, {}] must be finite with min < max",
                    r[0], r[1]
                )));
            }
        }
        if nx < 2 || ny < 2 || nx.saturating_mul(ny) > 100_000_000 {
            return Err(Error::invalid_config(format!(
                "a grid of {nx} x {ny} points: use at least 2 and at most 10^8 points in all"
            )));
        }
        Ok(Self { x, y, nx, ny })
    }

    /// A `resolution x resolution` grid covering every component's `0.999` ellipse on `dims`
    /// (plus a 5% margin), so the contours of the density's upper levels close inside it. The
    /// same number of points goes along both axes whatever their units, as a plot shows them
    /// at similar lengths.
    ///
    /// # Errors
    /// As [`confidence_ellipse`]; `resolution < 2` is an error.
    pub fn around<T: Real>(
        model: &GaussianMixture<T>,
        dims: [usize; 2],
        resolution: usize,
    ) -> Result<Self> {
        let mut bx = [f64::INFINITY, f64::NEG_INFINITY];
        let mut by = bx;
        for e in confidence_ellipses(model, dims, 0.999)? {
            let [x, y] = e.bounding_box();
            bx = [bx[0].min(x[0]), bx[1].max(x[1])];
            by = [by[0].min(y[0]), by[1].max(y[1])];
        }
        let (mx, my) = (0.05 * (bx[1] - bx[0]), 0.05 * (by[1] - by[0]));
        Self::new([bx[0] - mx, bx[1] + mx], [by[0] - my, by[1] + my], resolution, resolution)
    }

    /// Spacing between neighbouring points, `(dx, dy)`.
    pub fn step(&self) -> (f64, f64) {
        (
            (self.x[1] - self.x[0]) / (self.nx - 1) as f64,
            (self.y[1] - self.y[0]) / (self.ny - 1) as f64,
        )
    }

    /// The point `(x_a, y_b)`.
    pub fn point(&self, a: usize, b: usize) -> [f64; 2] {
        let (dx, dy) = self.step();
        [self.x[0] + a as f64 * dx, self.y[0] + b as f64 * dy]
    }
}

/// Contour levels: given, or `n` chosen automatically.
#[derive(Debug, Clone, PartialEq)]
pub enum Levels {
    /// `n` levels spaced evenly in log density from 1% of the grid's maximum density up to
    /// `0.01^(1/n)` of it (for `n = 8`, about 56%): `m · 0.01^((n - i)/n)` for `i = 0..n`.
    /// Log spacing shows the tails and small components, which evenly spaced levels would
    /// leave blank.
    Auto(usize),
    /// These density values, in the order given.
    Given(Vec<f64>),
}

/// The polylines of one density level.
#[derive(Debug, Clone, PartialEq)]
pub struct Contour {
    /// The density value.
    pub level: f64,
    /// Closed polylines (first point repeated at the end) in plot coordinates.
    pub lines: Vec<Vec<[f64; 2]>>,
}

/// The mixture's marginal density on `dims` at every point of `grid`, row-major by `y`
/// (see [`Grid`]).
///
/// # Errors
/// As [`marginal`] (distinct dimensions below `d`).
pub fn marginal_density<T: Real>(
    model: &GaussianMixture<T>,
    dims: [usize; 2],
    grid: &Grid,
) -> Result<Vec<f64>> {
    check_dims(dims, model.n_features())?;
    let plane = marginal(model, &dims)?;
    let mut points = Vec::with_capacity(2 * grid.nx * grid.ny);
    for b in 0..grid.ny {
        for a in 0..grid.nx {
            points.extend_from_slice(&grid.point(a, b));
        }
    }
    let log_density = plane.score_samples(Samples::new(&points, 2)?)?;
    Ok(log_density.into_iter().map(f64::exp).collect())
}

/// The levels [`Levels::Auto`] picks for a grid whose largest density is `max`.
pub fn auto_levels(max: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| max * 0.01f64.powf((n - i) as f64 / n as f64)).collect()
}

/// Isodensity contours of the mixture's marginal on `dims`, traced on `grid` by marching
/// squares with linear interpolation: one [`Contour`] per level, in the order of the levels.
///
/// A level set that leaves the grid is closed along the grid's edge, so choose a grid that
/// covers the density (e.g. [`Grid::around`]).
///
/// # Errors
/// As [`marginal_density`]; [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) for
/// a level that is not finite and positive, or `Auto(0)`.
pub fn density_contours<T: Real>(
    model: &GaussianMixture<T>,
    dims: [usize; 2],
    grid: &Grid,
    levels: &Levels,
) -> Result<Vec<Contour>> {
    let density = marginal_density(model, dims, grid)?;
    let levels = match levels {
        Levels::Auto(0) => {
            return Err(Error::invalid_config("ask for at least one contour level"));
        }
        Levels::Auto(n) => auto_levels(density.iter().copied().fold(0.0, f64::max), *n),
        Levels::Given(v) => {
            if let Some(bad) = v.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
                return Err(Error::invalid_config(format!(
                    "contour level {bad} must be a positive density value"
                )));
            }
            v.clone()
        }
    };
    contours_of(&density, grid, &levels)
}

/// Traces `levels` through values on `grid` (row-major by `y`, as [`marginal_density`] gives).
///
/// # Errors
/// [`ErrorKind::DimensionMismatch`](crate::ErrorKind::DimensionMismatch) when `values` does not
/// hold `nx * ny` values.
pub fn contours_of(values: &[f64], grid: &Grid, levels: &[f64]) -> Result<Vec<Contour>> {
    let expected = grid.nx * grid.ny;
    if values.len() != expected {
        return Err(Error::new(
            crate::ErrorKind::DimensionMismatch { expected, found: values.len() },
            format!("{} grid values for a {} x {} grid", values.len(), grid.nx, grid.ny),
        ));
    }
    let (dx, dy) = grid.step();
    // The contour crate puts value `a` of a row at coordinate `a + 0.5`; shift it back.
    let builder = contour::ContourBuilder::new(grid.nx, grid.ny, true)
        .x_origin(grid.x[0] - 0.5 * dx)
        .y_origin(grid.y[0] - 0.5 * dy)
        .x_step(dx)
        .y_step(dy);
    let lines = builder
        .lines(values, levels)
        .map_err(|e| Error::invalid_config(format!("contour tracing failed: {e:?}")))?;
    Ok(lines
        .into_iter()
        .map(|line| {
            let (geometry, level) = line.into_inner();
            let lines = geometry
                .0
                .into_iter()
                .map(|ls| ls.0.into_iter().map(|c| [c.x, c.y]).collect())
                .collect();
            Contour { level, lines }
        })
        .collect())
}
