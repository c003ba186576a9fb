//! Panels that show a mixture: data, confidence ellipses, density contours, means; and the
//! criterion-versus-`k` panel of model selection.
//!
//! [`mixture_panel`] turns a model (and optionally data) into a [`Panel`] as a [`MixtureView`]
//! asks: which two dimensions, the ellipses' probability level, how many contour levels, how
//! to colour the points ([`Colouring`]). [`criterion_panel`] plots a table of
//! `(k, covariance type, criterion)` rows, one line per covariance type, and rings the best.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_plot::{Colouring, Figure, MixtureView, mixture_panel};
//!
//! let model = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 1.5, 1)?;
//! let (x, _) = model.sample(300, 2)?;
//! let view = MixtureView::new([0, 1]).level(0.75).contours(6).colouring(Colouring::Predicted);
//! let panel = mixture_panel(&model, Some(x.samples()), &view)?;
//! let svg = Figure::new(500, 400).panel(panel).render_svg()?;
//! assert!(svg.contains("component 2"));
//! # Ok::<(), gmm_core::Error>(())
//! ```

use gmm_core::geometry::{
    Grid, Levels, check_dims, confidence_ellipses, contours_of, marginal_density,
};
use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result, Samples};

use crate::figure::{Layer, Marker, Panel, Rgb, palette};

/// The most automatic contour levels a panel draws ([`Levels::Auto`] asks for more are drawn
/// at this many). Past a few dozen, log-spaced isodensity lines merge into a solid fill, and
/// every level costs a marching-squares pass over the grid plus its polylines in the file
/// (100,000 levels took 57 s and 1.35 GB; 100 take 0.2 s). Given levels
/// ([`Levels::Given`]) are drawn as given.
pub const MAX_CONTOUR_LEVELS: usize = 100;

/// How data points are coloured.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Colouring {
    /// All grey.
    #[default]
    Single,
    /// By these labels (one per sample), in the palette's colours.
    Labels(Vec<usize>),
    /// By the model's most probable component.
    Predicted,
    /// By the most probable component, faded towards white as its posterior probability falls
    /// from 1 to `1/k`: uncertain points look pale.
    Posterior,
}

/// What [`mixture_panel`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureView {
    dims: [usize; 2],
    level: Option<f64>,
    contours: Option<Levels>,
    colouring: Colouring,
    names: Option<[String; 2]>,
    title: Option<String>,
    means: bool,
    legend: bool,
    resolution: usize,
    uniform: Option<(Rgb, String)>,
}

impl MixtureView {
    /// Dimensions `dims` (`x` then `y`), 75% ellipses, no contours, grey points, means marked,
    /// a legend.
    pub fn new(dims: [usize; 2]) -> Self {
        Self {
            dims,
            level: Some(0.75),
            contours: None,
            colouring: Colouring::Single,
            names: None,
            title: None,
            means: true,
            legend: true,
            resolution: 200,
            uniform: None,
        }
    }

    /// Confidence ellipses at this probability level (`0 < level < 1`).
    pub fn level(mut self, level: f64) -> Self {
        self.level = Some(level);
        self
    }

    /// No ellipses.
    pub fn no_ellipses(mut self) -> Self {
        self.level = None;
        self
    }

    /// `n` automatic isodensity contours ([`Levels::Auto`]), at most [`MAX_CONTOUR_LEVELS`]
    /// (more are drawn at that many); `0` for none.
    pub fn contours(mut self, n: usize) -> Self {
        self.contours = (n > 0).then_some(Levels::Auto(n));
        self
    }

    /// Contours at these density levels.
    pub fn contour_levels(mut self, levels: Levels) -> Self {
        self.contours = Some(levels);
        self
    }

    /// How to colour the points.
    pub fn colouring(mut self, colouring: Colouring) -> Self {
        self.colouring = colouring;
        self
    }

    /// Axis names (default `x0`, `x1`, ... by dimension).
    pub fn names(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.names = Some([x.into(), y.into()]);
        self
    }

    /// The panel's title (default: `k`, the covariance type and the level).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Whether to mark the means (default yes).
    pub fn means(mut self, show: bool) -> Self {
        self.means = show;
        self
    }

    /// Whether ellipses, means and data get legend entries (default yes).
    pub fn legend(mut self, show: bool) -> Self {
        self.legend = show;
        self
    }

    /// Draws every ellipse and contour in `colour` and names the model once in the legend, as
    /// `label` (instead of an entry per component, one for the contours and one for the
    /// means); the means stay black crosses. For several models in one panel: draw each with
    /// its own colour and combine the panels with [`Panel::overlay`].
    ///
    /// ```
    /// use gmm_core::{CovarianceType, GaussianMixture};
    /// use gmm_plot::{MixtureView, Rgb, mixture_panel};
    ///
    /// let a = GaussianMixture::<f64>::random(CovarianceType::Full, 2, 2, 1.0, 1)?;
    /// let b = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 1.0, 2)?;
    /// let view = |c, name: &str| MixtureView::new([0, 1]).uniform(c, name);
    /// let panel = mixture_panel(&a, None, &view(Rgb(200, 0, 0), "learned"))?
    ///     .overlay(mixture_panel(&b, None, &view(Rgb(0, 150, 0), "truth"))?);
    /// assert_eq!(panel.layers().iter().filter(|l| l.label().is_some()).count(), 2);
    /// # Ok::<(), gmm_core::Error>(())
    /// ```
    pub fn uniform(mut self, colour: Rgb, label: impl Into<String>) -> Self {
        self.uniform = Some((colour, label.into()));
        self
    }

    /// Points along each side of the contour grid (default 200).
    pub fn resolution(mut self, n: usize) -> Self {
        self.resolution = n;
        self
    }
}

/// The colour of contour `i` of `n`: light to dark blue as the density rises.
pub fn contour_colour(i: usize, n: usize) -> Rgb {
    let (lo, hi) = ([158.0, 202.0, 225.0], [8.0, 48.0, 107.0]);
    let t = if n <= 1 { 1.0 } else { i as f64 / (n - 1) as f64 };
    let c = |j: usize| (lo[j] + (hi[j] - lo[j]) * t).round() as u8;
    Rgb(c(0), c(1), c(2))
}

/// A panel showing `model` (and `data` when given) on two dimensions, as `view` asks.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for bad dimensions or level (see
/// [`gmm_core::geometry`]), [`ErrorKind::DimensionMismatch`] for data of another dimension or
/// labels that are not one per sample, and the model's scoring errors (non-finite data).
pub fn mixture_panel<T: Real>(
    model: &GaussianMixture<T>,
    data: Option<Samples<'_, T>>,
    view: &MixtureView,
) -> Result<Panel> {
    let dims = view.dims;
    check_dims(dims, model.n_features())?;
    let k = model.n_components();
    let [xn, yn] = view.names.clone().unwrap_or([format!("x{}", dims[0]), format!("x{}", dims[1])]);
    let title = view.title.clone().unwrap_or_else(|| {
        let mut t =
            format!("{k} {} component{}", model.covariance_type(), if k == 1 { "" } else { "s" });
        if let Some(l) = view.level {
            t.push_str(&format!(", {}% ellipses", l * 100.0));
        }
        t
    });
    let mut panel = Panel::new().title(title).x_label(xn).y_label(yn);
    // With a uniform colour, the model's single legend entry goes on its first curve.
    let mut uniform_label = view.uniform.as_ref().filter(|_| view.legend).map(|u| u.1.clone());
    let ellipses = match view.level {
        Some(level) => confidence_ellipses(model, dims, level)?,
        None => Vec::new(),
    };

    let mut points = Vec::new();
    if let Some(x) = data {
        model.check_samples(x)?;
        points = (0..x.n_samples())
            .map(|i| [x.row(i)[dims[0]].to_f64(), x.row(i)[dims[1]].to_f64()])
            .collect();
        let colours: Vec<Rgb> = match &view.colouring {
            Colouring::Single => vec![Rgb(120, 120, 120)],
            Colouring::Labels(labels) => {
                if labels.len() != points.len() {
                    return Err(Error::new(
                        ErrorKind::DimensionMismatch {
                            expected: points.len(),
                            found: labels.len(),
                        },
                        format!(
                            "{} labels for {} samples: give one per sample",
                            labels.len(),
                            points.len()
                        ),
                    ));
                }
                labels.iter().map(|&l| palette(l)).collect()
            }
            Colouring::Predicted => model.predict(x)?.into_iter().map(palette).collect(),
            Colouring::Posterior => {
                let proba = model.predict_proba(x)?;
                let floor = 1.0 / k as f64;
                (0..proba.n_rows())
                    .map(|i| {
                        let row = proba.row(i);
                        let (best, p) =
                            row.iter().enumerate().fold((0, f64::MIN), |acc, (c, v)| {
                                if v.to_f64() > acc.1 { (c, v.to_f64()) } else { acc }
                            });
                        let t = if k == 1 { 1.0 } else { (p - floor) / (1.0 - floor) };
                        palette(best).faded(0.15 + 0.85 * t)
                    })
                    .collect()
            }
        };
        let label = (view.legend && matches!(view.colouring, Colouring::Single))
            .then(|| format!("data (n = {})", points.len()));
        panel = panel.layer(Layer::Scatter { points: points.clone(), colours, size: 2, label });
    }

    if let Some(levels) = &view.contours {
        let grid = contour_grid(model, dims, &points, view.resolution)?;
        let density = marginal_density(model, dims, &grid)?;
        let values = match levels {
            Levels::Auto(n) => {
                if *n == 0 {
                    return Err(Error::new(
                        ErrorKind::InvalidConfig,
                        "ask for at least one contour level",
                    ));
                }
                let n = (*n).min(MAX_CONTOUR_LEVELS);
                gmm_core::geometry::auto_levels(density.iter().copied().fold(0.0, f64::max), n)
            }
            Levels::Given(v) => {
                if let Some(bad) = v.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
                    return Err(Error::new(
                        ErrorKind::InvalidConfig,
                        format!("contour level {bad} must be a positive density value"),
                    ));
                }
                v.clone()
            }
        };
        let n = values.len();
        for (i, contour) in contours_of(&density, &grid, &values)?.into_iter().enumerate() {
            for (j, line) in contour.lines.into_iter().enumerate() {
                let label = match &view.uniform {
                    Some(_) => uniform_label.take(),
                    None => (view.legend && i + 1 == n && j == 0)
                        .then(|| format!("density, {n} level{}", if n == 1 { "" } else { "s" })),
                };
                panel = panel.layer(Layer::Curve {
                    points: line,
                    colour: view.uniform.as_ref().map_or(contour_colour(i, n), |u| u.0),
                    width: 1,
                    dashed: false,
                    label,
                });
            }
        }
    }

    for e in &ellipses {
        let mut outline = e.points(180);
        outline.push(outline[0]);
        let label = match &view.uniform {
            Some(_) => uniform_label.take(),
            None => view.legend.then(|| {
                let w = model.weights()[e.component].to_f64();
                format!("component {} (w = {w:.2})", e.component)
            }),
        };
        panel = panel.layer(Layer::Curve {
            points: outline,
            colour: view.uniform.as_ref().map_or(darker(palette(e.component)), |u| u.0),
            width: 2,
            dashed: false,
            label,
        });
    }
    if view.means {
        let means = (0..k)
            .map(|c| [model.mean(c)[dims[0]].to_f64(), model.mean(c)[dims[1]].to_f64()])
            .collect();
        let label = (view.legend && view.uniform.is_none()).then_some("means");
        panel = panel.markers(means, Marker::Cross, Rgb::BLACK, 6, label);
    }
    Ok(panel)
}

/// A slightly darker shade, so outlines stand out over points of the same hue.
fn darker(c: Rgb) -> Rgb {
    let f = |v: u8| (v as f64 * 0.8).round() as u8;
    Rgb(f(c.0), f(c.1), f(c.2))
}

/// A grid covering every component's 0.999 ellipse and the data.
fn contour_grid<T: Real>(
    model: &GaussianMixture<T>,
    dims: [usize; 2],
    points: &[[f64; 2]],
    resolution: usize,
) -> Result<Grid> {
    let around = Grid::around(model, dims, resolution.max(2))?;
    let (mut x, mut y) = (around.x, around.y);
    for p in points {
        x = [x[0].min(p[0]), x[1].max(p[0])];
        y = [y[0].min(p[1]), y[1].max(p[1])];
    }
    let (mx, my) = (0.02 * (x[1] - x[0]), 0.02 * (y[1] - y[0]));
    Grid::new([x[0] - mx, x[1] + mx], [y[0] - my, y[1] + my], around.nx, around.ny)
}

/// A criterion-versus-`k` panel: one line with dots per covariance type (in order of first
/// appearance), the best (lowest) row ringed and named in the legend. `rows` are
/// `(k, covariance type name, value)`; non-finite values are skipped.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] when no row has a finite value.
pub fn criterion_panel<S: AsRef<str>>(rows: &[(usize, S, f64)], criterion: &str) -> Result<Panel> {
    let finite: Vec<(usize, &str, f64)> =
        rows.iter().filter(|r| r.2.is_finite()).map(|r| (r.0, r.1.as_ref(), r.2)).collect();
    let best = finite.iter().copied().min_by(|a, b| a.2.total_cmp(&b.2)).ok_or_else(|| {
        Error::new(ErrorKind::InvalidConfig, format!("no finite {criterion} value to plot"))
    })?;
    let mut names: Vec<&str> = Vec::new();
    for r in &finite {
        if !names.contains(&r.1) {
            names.push(r.1);
        }
    }
    let (kmin, kmax) = finite.iter().fold((usize::MAX, 0), |a, r| (a.0.min(r.0), a.1.max(r.0)));
    let (ymin, ymax) =
        finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, r| (a.0.min(r.2), a.1.max(r.2)));
    let pad = if ymax > ymin { 0.06 * (ymax - ymin) } else { 1.0 };
    let mut panel = Panel::new()
        .title(format!("{criterion} by number of components"))
        .x_label("components k")
        .y_label(criterion)
        .integer_x()
        .x_range(kmin as f64 - 0.3, kmax as f64 + 0.3)
        .y_range(ymin - pad, ymax + pad);
    for (i, name) in names.iter().enumerate() {
        let mut pts: Vec<[f64; 2]> =
            finite.iter().filter(|r| r.1 == *name).map(|r| [r.0 as f64, r.2]).collect();
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        panel = panel.curve(pts.clone(), palette(i), Some(name)).markers(
            pts,
            Marker::Dot,
            palette(i),
            4,
            None,
        );
    }
    let label = format!("best: {}, k = {}", best.1, best.0);
    Ok(panel.markers(vec![[best.0 as f64, best.2]], Marker::Ring, Rgb::BLACK, 10, Some(&label)))
}
