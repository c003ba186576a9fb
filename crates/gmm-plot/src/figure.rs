//! [`Figure`]s made of [`Panel`]s made of [`Layer`]s, and how they are drawn.
//!
//! A figure is a `rows x cols` grid of panels (filled row by row) under an optional title. A
//! panel is one pair of axes: a title, axis labels, ranges (automatic unless set) and layers
//! drawn in order — scatters, curves and markers. Layers with a label appear in the panel's
//! legend.
//!
//! ```
//! use gmm_plot::{Figure, Panel, palette};
//!
//! let panel = Panel::new()
//!     .title("two points and a line")
//!     .x_label("x")
//!     .y_label("y")
//!     .scatter(vec![[0.0, 0.0], [1.0, 1.0]], palette(0), Some("points"))
//!     .curve(vec![[0.0, 1.0], [1.0, 0.0]], palette(1), Some("line"));
//! let svg = Figure::new(400, 300).panel(panel).render_svg()?;
//! assert!(svg.contains("<svg") && svg.contains("two points and a line"));
//! # Ok::<(), gmm_core::Error>(())
//! ```

use plotters::coord::Shift;
use plotters::prelude::*;

use gmm_core::{Error, ErrorKind, Result};

use crate::output::{self, Format};

/// An opaque colour, red, green and blue in `0..=255`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// A dark grey for neutral elements.
    pub const GREY: Rgb = Rgb(90, 90, 90);

    /// `t` of the way from white to this colour (`t` clamped to `[0, 1]`): pale for small `t`.
    pub fn faded(self, t: f64) -> Rgb {
        let t = t.clamp(0.0, 1.0);
        let mix = |c: u8| (255.0 - (255.0 - c as f64) * t).round() as u8;
        Rgb(mix(self.0), mix(self.1), mix(self.2))
    }

    fn to_plotters(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// The categorical palette (Tableau 10), cycled: colour of component or series `i`.
pub fn palette(i: usize) -> Rgb {
    const TAB10: [Rgb; 10] = [
        Rgb(31, 119, 180),
        Rgb(255, 127, 14),
        Rgb(44, 160, 44),
        Rgb(214, 39, 40),
        Rgb(148, 103, 189),
        Rgb(140, 86, 75),
        Rgb(227, 119, 194),
        Rgb(127, 127, 127),
        Rgb(188, 189, 34),
        Rgb(23, 190, 207),
    ];
    TAB10[i % TAB10.len()]
}

/// A marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled disc.
    Dot,
    /// A ring (unfilled circle).
    Ring,
    /// An `x`.
    Cross,
}

/// One thing drawn in a panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// Points, each with its own colour.
    Scatter {
        /// The points.
        points: Vec<[f64; 2]>,
        /// One colour per point, or a single colour for all.
        colours: Vec<Rgb>,
        /// Radius in pixels.
        size: u32,
        /// Legend entry (drawn in the first point's colour).
        label: Option<String>,
    },
    /// A polyline.
    Curve {
        /// The vertices, in order.
        points: Vec<[f64; 2]>,
        /// Its colour.
        colour: Rgb,
        /// Line width in pixels.
        width: u32,
        /// Draw it dashed.
        dashed: bool,
        /// Legend entry.
        label: Option<String>,
    },
    /// Markers of one shape and colour.
    Markers {
        /// Where.
        points: Vec<[f64; 2]>,
        /// Shape.
        shape: Marker,
        /// Colour.
        colour: Rgb,
        /// Size in pixels.
        size: u32,
        /// Legend entry.
        label: Option<String>,
    },
}

impl Layer {
    fn points(&self) -> &[[f64; 2]] {
        match self {
            Layer::Scatter { points, .. }
            | Layer::Curve { points, .. }
            | Layer::Markers { points, .. } => points,
        }
    }

    /// The layer's legend entry, if it has one.
    pub fn label(&self) -> Option<&str> {
        match self {
            Layer::Scatter { label, .. }
            | Layer::Curve { label, .. }
            | Layer::Markers { label, .. } => label.as_deref(),
        }
    }
}

/// One pair of axes with its layers. Built fluently; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    title: Option<String>,
    x_label: Option<String>,
    y_label: Option<String>,
    x_range: Option<[f64; 2]>,
    y_range: Option<[f64; 2]>,
    integer_x: bool,
    layers: Vec<Layer>,
}

impl Panel {
    /// An empty panel.
    pub fn new() -> Self {
        Self::default()
    }

    /// The caption above the axes.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The `x` axis description.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = Some(label.into());
        self
    }

    /// The `y` axis description.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = Some(label.into());
        self
    }

    /// Fixes the `x` range (otherwise every layer's points plus a 4% margin).
    pub fn x_range(mut self, min: f64, max: f64) -> Self {
        self.x_range = Some([min, max]);
        self
    }

    /// Fixes the `y` range (otherwise every layer's points plus a 4% margin).
    pub fn y_range(mut self, min: f64, max: f64) -> Self {
        self.y_range = Some([min, max]);
        self
    }

    /// Labels the `x` axis with integers only (for counts such as `k`).
    pub fn integer_x(mut self) -> Self {
        self.integer_x = true;
        self
    }

    /// Adds any layer.
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    /// Draws `other`'s layers over this panel's (after them, in their order); this panel keeps
    /// its title, axis labels and ranges. For several models in one panel (see
    /// [`MixtureView::uniform`](crate::MixtureView::uniform)).
    pub fn overlay(mut self, other: Panel) -> Self {
        self.layers.extend(other.layers);
        self
    }

    /// Adds points of one colour (radius 2 px).
    pub fn scatter(self, points: Vec<[f64; 2]>, colour: Rgb, label: Option<&str>) -> Self {
        self.layer(Layer::Scatter {
            points,
            colours: vec![colour],
            size: 2,
            label: label.map(str::to_owned),
        })
    }

    /// Adds points, each in its own colour (radius 2 px).
    pub fn scatter_coloured(self, points: Vec<[f64; 2]>, colours: Vec<Rgb>) -> Self {
        self.layer(Layer::Scatter { points, colours, size: 2, label: None })
    }

    /// Adds a solid 2 px polyline.
    pub fn curve(self, points: Vec<[f64; 2]>, colour: Rgb, label: Option<&str>) -> Self {
        self.layer(Layer::Curve {
            points,
            colour,
            width: 2,
            dashed: false,
            label: label.map(str::to_owned),
        })
    }

    /// Adds markers.
    pub fn markers(
        self,
        points: Vec<[f64; 2]>,
        shape: Marker,
        colour: Rgb,
        size: u32,
        label: Option<&str>,
    ) -> Self {
        self.layer(Layer::Markers { points, shape, colour, size, label: label.map(str::to_owned) })
    }

    /// The layers, in drawing order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The ranges the panel will be drawn with.
    pub fn ranges(&self) -> ([f64; 2], [f64; 2]) {
        let mut bx = [f64::INFINITY, f64::NEG_INFINITY];
        let mut by = bx;
        for p in self.layers.iter().flat_map(|l| l.points()) {
            bx = [bx[0].min(p[0]), bx[1].max(p[0])];
            by = [by[0].min(p[1]), by[1].max(p[1])];
        }
        let pad = |b: [f64; 2]| {
            if !b[0].is_finite() {
                return [0.0, 1.0];
            }
            let w = b[1] - b[0];
            let m = if w > 0.0 { 0.04 * w } else { 0.5 * b[0].abs().max(1.0) };
            [b[0] - m, b[1] + m]
        };
        (self.x_range.unwrap_or_else(|| pad(bx)), self.y_range.unwrap_or_else(|| pad(by)))
    }

    /// The corner whose legend-sized box covers the fewest drawn points (upper right on ties).
    fn legend_corner(&self) -> SeriesLabelPosition {
        let entries = self.layers.iter().filter(|l| l.label().is_some()).count();
        let (xr, yr) = self.ranges();
        let (w, h) = (0.4 * (xr[1] - xr[0]), (0.07 * entries as f64 + 0.05) * (yr[1] - yr[0]));
        let corners = [
            (SeriesLabelPosition::UpperRight, [xr[1] - w, xr[1]], [yr[1] - h, yr[1]]),
            (SeriesLabelPosition::UpperLeft, [xr[0], xr[0] + w], [yr[1] - h, yr[1]]),
            (SeriesLabelPosition::LowerRight, [xr[1] - w, xr[1]], [yr[0], yr[0] + h]),
            (SeriesLabelPosition::LowerLeft, [xr[0], xr[0] + w], [yr[0], yr[0] + h]),
        ];
        let covered = |x: [f64; 2], y: [f64; 2]| {
            self.layers
                .iter()
                .flat_map(|l| l.points())
                .filter(|p| p[0] >= x[0] && p[0] <= x[1] && p[1] >= y[0] && p[1] <= y[1])
                .count()
        };
        let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
        for (pos, x, y) in corners {
            let n = covered(x, y);
            if n < best.0 {
                best = (n, pos);
            }
        }
        best.1
    }

    fn check(&self, index: usize) -> Result<()> {
        for (l, layer) in self.layers.iter().enumerate() {
            if let Some(p) = layer.points().iter().find(|p| !(p[0].is_finite() && p[1].is_finite()))
            {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("panel {index}, layer {l} has a non-finite point {p:?}"),
                ));
            }
            if let Layer::Scatter { points, colours, .. } = layer
                && colours.len() != 1
                && colours.len() != points.len()
            {
                return Err(Error::new(
                    ErrorKind::DimensionMismatch { expected: points.len(), found: colours.len() },
                    format!(
                        "panel {index}, layer {l}: {} colours for {} points (give one or one \
                         per point)",
                        colours.len(),
                        points.len()
                    ),
                ));
            }
        }
        let (x, y) = self.ranges();
        for (name, r) in [("x", x), ("y", y)] {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] < r[1]) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("panel {index}: {name} range [{}, {}] is empty", r[0], r[1]),
                ));
            }
        }
        Ok(())
    }
}

/// A figure: a grid of panels under an optional title, rendered as PNG or SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    width: u32,
    height: u32,
    rows: usize,
    cols: usize,
    title: Option<String>,
    panels: Vec<Panel>,
}

impl Figure {
    /// A `width x height` pixel figure with one panel slot.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, rows: 1, cols: 1, title: None, panels: Vec::new() }
    }

    /// Lays panels out in `rows x cols`, filled row by row.
    pub fn panels(mut self, rows: usize, cols: usize) -> Self {
        self.rows = rows;
        self.cols = cols;
        self
    }

    /// A title above all panels.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Adds the next panel.
    pub fn panel(mut self, panel: Panel) -> Self {
        self.panels.push(panel);
        self
    }

    /// The panels added so far.
    pub fn get_panels(&self) -> &[Panel] {
        &self.panels
    }

    /// Checks sizes, layout and every panel.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a size outside `16..=16384` pixels, an empty layout,
    /// more panels than slots, or a panel with non-finite points or an empty range.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if !(16..=16384).contains(&v) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("figure {name} {v} px is outside 16 to 16384"),
                ));
            }
        }
        if self.rows == 0 || self.cols == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "a {} x {} panel layout has no room: use at least 1 x 1",
                    self.rows, self.cols
                ),
            ));
        }
        if self.panels.len() > self.rows * self.cols {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "{} panels do not fit a {} x {} layout",
                    self.panels.len(),
                    self.rows,
                    self.cols
                ),
            ));
        }
        self.panels.iter().enumerate().try_for_each(|(i, p)| p.check(i))
    }

    /// Renders to SVG text.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn render_svg(&self) -> Result<String> {
        self.check()?;
        output::register_fonts();
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            self.draw(root).map_err(drawing_error)?;
        }
        Ok(svg)
    }

    /// Renders to PNG bytes (8-bit RGB).
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn render_png(&self) -> Result<Vec<u8>> {
        self.check()?;
        output::register_fonts();
        let mut rgb = vec![255u8; self.width as usize * self.height as usize * 3];
        {
            let root =
                BitMapBackend::with_buffer(&mut rgb, (self.width, self.height)).into_drawing_area();
            self.draw(root).map_err(drawing_error)?;
        }
        output::encode_png(&rgb, self.width, self.height)
    }

    /// Renders to the bytes of a `format` file: PNG, or SVG text in UTF-8. The whole figure is
    /// rendered in memory, so a caller that writes the bytes (atomically, with
    /// `gmm_io::write_atomic`) writes a complete picture or nothing.
    ///
    /// ```
    /// use gmm_plot::{Figure, Format, Panel, palette};
    ///
    /// let figure = Figure::new(300, 200).panel(Panel::new().scatter(
    ///     vec![[0.0, 1.0], [2.0, 3.0]],
    ///     palette(0),
    ///     None,
    /// ));
    /// let path = std::path::Path::new("points.svg");
    /// let bytes = figure.render(Format::from_path(path)?)?;
    /// assert!(bytes.starts_with(b"<svg"));
    /// // gmm_io::write_atomic(path, &bytes)?;
    /// # Ok::<(), gmm_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`check`](Self::check); [`ErrorKind::Io`] if drawing or PNG encoding fails.
    pub fn render(&self, format: Format) -> Result<Vec<u8>> {
        match format {
            Format::Png => self.render_png(),
            Format::Svg => Ok(self.render_svg()?.into_bytes()),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let area = match &self.title {
            Some(t) => root.titled(t, (output::FONT, 24).into_font().color(&BLACK))?,
            None => root,
        };
        let slots = area.split_evenly((self.rows, self.cols));
        for (panel, slot) in self.panels.iter().zip(&slots) {
            draw_panel(panel, slot)?;
        }
        area.present()?;
        Ok(())
    }
}

fn drawing_error<E>(e: DrawingAreaErrorKind<E>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    Error::new(ErrorKind::Io, format!("drawing the figure failed: {e}")).with_source(e)
}

/// A number on an axis, with no more digits than the tick spacing needs.
fn tick(v: f64, span: f64) -> String {
    // Ticks are multiples of 1, 2 or 5 times a power of ten at least span / 20: this many
    // decimals hold them, and trailing zeros are dropped ("2", "2.5", "0.25").
    let digits =
        if span > 0.0 { (2.0 - span.log10().floor()).clamp(0.0, 10.0) as usize } else { 3 };
    let mut s = format!("{v:.digits$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    match s.strip_prefix('-') {
        Some("0") => "0".to_owned(),
        _ => s,
    }
}

fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, Shift>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (xr, yr) = panel.ranges();
    let mut builder = ChartBuilder::on(area);
    builder.margin(12).x_label_area_size(48).y_label_area_size(64);
    if let Some(t) = &panel.title {
        builder.caption(t, (output::FONT, 20));
    }
    let mut chart = builder.build_cartesian_2d(xr[0]..xr[1], yr[0]..yr[1])?;
    let (xspan, yspan) = (xr[1] - xr[0], yr[1] - yr[0]);
    let integer_x = panel.integer_x;
    let x_fmt = move |v: &f64| {
        if integer_x {
            if (v - v.round()).abs() < 1e-9 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        } else {
            tick(*v, xspan)
        }
    };
    let y_fmt = move |v: &f64| tick(*v, yspan);
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .label_style((output::FONT, 15))
        .axis_desc_style((output::FONT, 16))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_labels(if integer_x { (xspan.round() as usize + 1).min(20) } else { 8 })
        .y_labels(8);
    if let Some(l) = &panel.x_label {
        mesh.x_desc(l.as_str());
    }
    if let Some(l) = &panel.y_label {
        mesh.y_desc(l.as_str());
    }
    mesh.draw()?;

    let mut has_legend = false;
    for layer in &panel.layers {
        match layer {
            Layer::Scatter { points, colours, size, label } => {
                let size = *size as i32;
                let colour_of = |i: usize| colours[if colours.len() == 1 { 0 } else { i }];
                let series = chart.draw_series(points.iter().enumerate().map(|(i, p)| {
                    Circle::new((p[0], p[1]), size, colour_of(i).to_plotters().filled())
                }))?;
                if let (Some(l), Some(&c)) = (label, colours.first()) {
                    has_legend = true;
                    let c = c.to_plotters();
                    series.label(l).legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
                }
            }
            Layer::Curve { points, colour, width, dashed, label } => {
                let style = colour.to_plotters().stroke_width(*width);
                let pts = points.iter().map(|p| (p[0], p[1]));
                let series = if *dashed {
                    chart.draw_series(DashedLineSeries::new(pts, 8, 5, style))?
                } else {
                    chart.draw_series(LineSeries::new(pts, style))?
                };
                if let Some(l) = label {
                    has_legend = true;
                    series
                        .label(l)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                }
            }
            Layer::Markers { points, shape, colour, size, label } => {
                let c = colour.to_plotters();
                let (shape, size) = (*shape, *size as i32);
                let element = move |p: (f64, f64)| -> DynElement<'static, DB, (f64, f64)> {
                    match shape {
                        Marker::Dot => Circle::new(p, size, c.filled()).into_dyn(),
                        Marker::Ring => Circle::new(p, size, c.stroke_width(2)).into_dyn(),
                        Marker::Cross => Cross::new(p, size, c.stroke_width(3)).into_dyn(),
                    }
                };
                let series = chart.draw_series(points.iter().map(|p| element((p[0], p[1]))))?;
                if let Some(l) = label {
                    has_legend = true;
                    series.label(l).legend(move |(x, y)| match shape {
                        Marker::Dot => Circle::new((x + 8, y), 5, c.filled()).into_dyn(),
                        Marker::Ring => Circle::new((x + 8, y), 5, c.stroke_width(2)).into_dyn(),
                        Marker::Cross => Cross::new((x + 8, y), 5, c.stroke_width(3)).into_dyn(),
                    });
                }
            }
        }
    }
    if has_legend {
        chart
            .configure_series_labels()
            .position(panel.legend_corner())
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font((output::FONT, 14))
            .draw()?;
    }
    Ok(())
}
