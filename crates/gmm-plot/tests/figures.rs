//! Figures render completely (valid PNG / SVG with the expected elements) or not at all.

use std::path::Path;

use gmm_core::{CovarianceType, ErrorKind, GaussianMixture};
use gmm_plot::{
    Colouring, Figure, Format, MixtureView, Panel, check_bundled_font, criterion_panel,
    mixture_panel, palette,
};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

fn model() -> GaussianMixture<f64> {
    GaussianMixture::new(
        CovarianceType::Full,
        vec![0.4, 0.6],
        vec![0.0, 0.0, 4.0, 3.0],
        vec![1.0, 0.5, 0.5, 1.0, 0.6, -0.2, -0.2, 0.4],
    )
    .unwrap()
}

fn mixture_figure() -> Figure {
    let m = model();
    let (x, _) = m.sample(400, 3).unwrap();
    let view = MixtureView::new([0, 1]).level(0.75).contours(6).colouring(Colouring::Posterior);
    let panel = mixture_panel(&m, Some(x.samples()), &view).unwrap().title("mixture title");
    Figure::new(640, 480).title("figure title").panel(panel)
}

#[test]
fn bundled_font_registers() {
    check_bundled_font().unwrap();
}

#[test]
fn png_renders_and_decodes() {
    let bytes = mixture_figure().render(Format::Png).unwrap();
    assert!(bytes.len() > 1000);
    assert_eq!(bytes[..8], PNG_SIGNATURE);
    // Decode it back: right size, and not blank (text, points and lines were drawn).
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (640, 480));
    let pixels = &buf[..info.buffer_size()];
    let non_white = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    assert!(non_white > 5_000, "{non_white} non-white pixels");
    // Some pixels carry the first component's hue (points or ellipse).
    let c = palette(0);
    assert!(
        pixels.chunks(3).any(|p| p[2] > 150 && p[0] < 100 && p[2] as i32 - p[0] as i32 > 80),
        "{c:?}"
    );
    assert_eq!(bytes, mixture_figure().render_png().unwrap());
}

#[test]
fn svg_has_title_legend_and_shapes() {
    let format = Format::from_path(Path::new("fig.SVG")).unwrap();
    assert_eq!(format, Format::Svg);
    let svg = String::from_utf8(mixture_figure().render(format).unwrap()).unwrap();
    assert!(svg.starts_with("<svg") || svg.contains("<svg"));
    for needle in [
        "figure title",
        "mixture title",
        "component 0 (w = 0.40)",
        "component 1 (w = 0.60)",
        "means",
        "density, 6 levels",
        "<circle",
        "<polyline",
        "x0",
        "x1",
    ] {
        assert!(svg.contains(needle), "SVG lacks {needle:?}");
    }
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg, mixture_figure().render_svg().unwrap());
}

#[test]
fn unknown_extension_is_an_error() {
    for name in ["fig.jpg", "fig", "fig.png.txt"] {
        let err = Format::from_path(Path::new(name)).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
        assert!(err.message().contains(".png or .svg") && err.message().contains(name), "{err}");
    }
    assert_eq!(Format::from_path(Path::new("a.PNG")).unwrap(), Format::Png);
}

/// Figures that cannot be drawn are refused before any drawing, in both formats. (That a
/// failed figure writes nothing and leaves an existing file intact is the writer's job:
/// `gmm_io::write_atomic`'s tests and the command line's `gmm plot` tests check it.)
#[test]
fn bad_figures_are_refused() {
    let nan_point = Panel::new().scatter(vec![[f64::NAN, 0.0]], palette(0), None);
    let infinite_point = Panel::new().scatter(vec![[0.0, f64::INFINITY]], palette(0), None);
    let cases = [
        // Too many panels for the layout.
        (Figure::new(300, 300).panels(1, 1).panel(Panel::new()).panel(Panel::new()), "2 panels"),
        // Non-finite points.
        (Figure::new(300, 300).panel(nan_point), "panel 0"),
        (Figure::new(300, 300).panel(infinite_point), "panel 0"),
        // Bad sizes and layouts.
        (Figure::new(0, 300), "figure width 0 px"),
        (Figure::new(300, 20_000), "figure height 20000 px"),
        (Figure::new(300, 300).panels(0, 2), "0 x 2 panel layout"),
    ];
    for (figure, needle) in cases {
        for format in [Format::Png, Format::Svg] {
            let err = figure.render(format).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{format:?}: {err}");
            assert!(err.message().contains(needle), "{format:?}: {err}");
        }
    }
}

#[test]
fn multi_panel_and_criterion_figures() {
    let m = model();
    let (x, labels) = m.sample(200, 9).unwrap();
    let mut fig = Figure::new(900, 600).panels(2, 3).title("six panels");
    for i in 0..5 {
        let view = MixtureView::new([0, 1])
            .colouring(if i % 2 == 0 {
                Colouring::Labels(labels.clone())
            } else {
                Colouring::Predicted
            })
            .title(format!("panel {i}"));
        fig = fig.panel(mixture_panel(&m, Some(x.samples()), &view).unwrap());
    }
    let rows = vec![
        (1, "full".to_string(), 900.0),
        (2, "full".to_string(), 850.0),
        (3, "full".to_string(), 870.0),
        (1, "diag".to_string(), 950.0),
        (2, "diag".to_string(), f64::NAN),
        (3, "diag".to_string(), 880.0),
    ];
    fig = fig.panel(criterion_panel(&rows, "BIC").unwrap());
    let svg = fig.render_svg().unwrap();
    for needle in [
        "six panels",
        "panel 0",
        "panel 4",
        "BIC by number of components",
        "best: full, k = 2",
        "diag",
    ] {
        assert!(svg.contains(needle), "SVG lacks {needle:?}");
    }
    let png = fig.render_png().unwrap();
    assert_eq!(png[..8], PNG_SIGNATURE);
    let err = criterion_panel(&[(1, "full", f64::NAN)], "BIC").unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{err}");
}

#[test]
fn mixture_panel_rejects_bad_input() {
    let m = model();
    let (x, _) = m.sample(10, 1).unwrap();
    for view in
        [MixtureView::new([0, 0]), MixtureView::new([0, 2]), MixtureView::new([0, 1]).level(1.0)]
    {
        let err = mixture_panel(&m, Some(x.samples()), &view).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
    }
    let view = MixtureView::new([0, 1]).colouring(Colouring::Labels(vec![0; 3]));
    assert!(matches!(
        mixture_panel(&m, Some(x.samples()), &view).unwrap_err().kind(),
        ErrorKind::DimensionMismatch { expected: 10, found: 3 }
    ));
    let three = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 3, 1.0, 1).unwrap();
    let (y, _) = three.sample(5, 1).unwrap();
    assert!(matches!(
        mixture_panel(&m, Some(y.samples()), &MixtureView::new([0, 1])).unwrap_err().kind(),
        ErrorKind::DimensionMismatch { .. }
    ));
}

#[test]
fn mixture_panel_draws_the_model_geometry_and_colours() {
    use gmm_core::geometry::confidence_ellipse;
    use gmm_plot::Layer;
    let m = model();
    let (x, _) = m.sample(300, 4).unwrap();
    let labels = m.predict(x.samples()).unwrap();
    let proba = m.predict_proba(x.samples()).unwrap();
    for (colouring, expect) in [
        (Colouring::Predicted, labels.iter().map(|&l| palette(l)).collect::<Vec<_>>()),
        (
            Colouring::Posterior,
            (0..300)
                .map(|i| {
                    let (l, p) = (labels[i], proba.row(i)[labels[i]]);
                    // k = 2: p in [0.5, 1] maps to a blend from 15% to 100% of the colour.
                    palette(l).faded(0.15 + 0.85 * (p - 0.5) / 0.5)
                })
                .collect(),
        ),
    ] {
        let view = MixtureView::new([1, 0]).level(0.6).colouring(colouring);
        let panel = mixture_panel(&m, Some(x.samples()), &view).unwrap();
        let mut curves = 0;
        for layer in panel.layers() {
            match layer {
                Layer::Scatter { points, colours, .. } => {
                    assert_eq!(colours, &expect);
                    // Dimension 1 on x, dimension 0 on y.
                    assert_eq!(points[7], [x.row(7)[1], x.row(7)[0]]);
                }
                Layer::Curve { points, label: Some(label), .. } => {
                    let c = curves;
                    assert!(label.starts_with(&format!("component {c}")), "{label}");
                    let e = confidence_ellipse(&m, c, [1, 0], 0.6).unwrap();
                    for p in points {
                        let r = e.mahalanobis_sq(*p).sqrt();
                        assert!((r - e.radius).abs() < 1e-9 * e.radius, "{r} vs {}", e.radius);
                    }
                    assert_eq!(points.first(), points.last(), "closed outline");
                    curves += 1;
                }
                _ => {}
            }
        }
        assert_eq!(curves, 2);
    }
    // Fading: t = 1 keeps the colour, t = 0 is white.
    assert_eq!(palette(3).faded(1.0), palette(3));
    assert_eq!(palette(3).faded(0.0), gmm_plot::Rgb(255, 255, 255));
}

#[test]
fn uniform_models_overlay_in_one_panel() {
    use gmm_plot::{Layer, Rgb};
    let (a, b) =
        (model(), GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 1.0, 7).unwrap());
    let (x, _) = a.sample(200, 5).unwrap();
    let (red, green) = (Rgb(200, 30, 30), Rgb(30, 150, 30));
    let view = |c, name: &str| MixtureView::new([0, 1]).level(0.9).contours(3).uniform(c, name);
    let learned = mixture_panel(&a, Some(x.samples()), &view(red, "learned")).unwrap();
    let truth = mixture_panel(&b, None, &view(green, "truth")).unwrap();
    let (n_learned, n_truth) = (learned.layers().len(), truth.layers().len());
    let panel = learned.clone().title("both").overlay(truth.clone());
    assert_eq!(panel.layers().len(), n_learned + n_truth);
    assert_eq!(&panel.layers()[n_learned..], truth.layers(), "the overlay comes last, in order");
    // The overlaid panel's automatic range covers both models.
    for (both, one) in [(panel.ranges(), learned.ranges()), (panel.ranges(), truth.ranges())] {
        assert!(both.0[0] <= one.0[0] && both.0[1] >= one.0[1], "{both:?} vs {one:?}");
    }
    // One legend entry per model (and the grey data's), every curve in its model's colour,
    // means unlabelled.
    let labels: Vec<&str> = panel.layers().iter().filter_map(|l| l.label()).collect();
    assert_eq!(labels, ["data (n = 200)", "learned", "truth"]);
    let mut curves = [0, 0];
    for (i, layer) in panel.layers().iter().enumerate() {
        if let Layer::Curve { colour, .. } = layer {
            let own = if i < n_learned { red } else { green };
            assert_eq!(*colour, own, "layer {i}");
            curves[usize::from(i >= n_learned)] += 1;
        }
    }
    // At least the ellipses (2 and 3) plus one line per contour level.
    assert!(curves[0] >= 2 + 3 && curves[1] >= 3 + 3, "{curves:?}");
    // Without a legend the model gets no entry.
    let quiet = mixture_panel(&a, None, &view(red, "learned").legend(false)).unwrap();
    assert!(quiet.layers().iter().all(|l| l.label().is_none()));
    let svg = Figure::new(500, 400).panel(panel).render_svg().unwrap();
    assert!(svg.contains("learned") && svg.contains("truth"));
}

/// Asking for more automatic contour levels than [`gmm_plot::MAX_CONTOUR_LEVELS`] draws that
/// many (100,000 levels took 57 s and 1.35 GB), through the view and through `Levels::Auto`.
#[test]
fn contour_levels_are_capped() {
    use gmm_core::geometry::Levels;
    use gmm_plot::{Layer, MAX_CONTOUR_LEVELS};
    let m = model();
    let legend = |view: &MixtureView| {
        let panel = mixture_panel(&m, None, view).unwrap();
        let labels: Vec<String> = panel
            .layers()
            .iter()
            .filter_map(|l| match l {
                Layer::Curve { label: Some(label), .. } if label.starts_with("density") => {
                    Some(label.clone())
                }
                _ => None,
            })
            .collect();
        labels
    };
    let started = std::time::Instant::now();
    let expected = vec![format!("density, {MAX_CONTOUR_LEVELS} levels")];
    assert_eq!(legend(&MixtureView::new([0, 1]).contours(100_000)), expected);
    let auto = MixtureView::new([0, 1]).contour_levels(Levels::Auto(usize::MAX));
    assert_eq!(legend(&auto), expected);
    assert!(started.elapsed().as_secs_f64() < 20.0, "{:?}", started.elapsed());
    assert_eq!(legend(&MixtureView::new([0, 1]).contours(7)), vec!["density, 7 levels"]);
}
