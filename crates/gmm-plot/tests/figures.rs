//! Figures are written completely (valid PNG / SVG with the expected elements) or not at all.

use std::path::Path;

use gmm_core::{CovarianceType, ErrorKind, GaussianMixture};
use gmm_plot::{
    Colouring, Figure, Format, MixtureView, Panel, bundled_font_is_valid, criterion_panel,
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

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
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
    assert!(bundled_font_is_valid());
}

#[test]
fn png_is_written_and_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.png");
    mixture_figure().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
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
    assert_eq!(files_in(dir.path()), vec!["fig.png"]);
}

#[test]
fn svg_has_title_legend_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.SVG");
    mixture_figure().save(&path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
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
}

#[test]
fn unknown_extension_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["fig.jpg", "fig", "fig.png.txt"] {
        let err = mixture_figure().save(dir.path().join(name)).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
        assert!(err.message().contains(".png or .svg"), "{err}");
    }
    assert!(files_in(dir.path()).is_empty());
    assert_eq!(Format::from_path(Path::new("a.PNG")).unwrap(), Format::Png);
}

#[test]
fn failed_figures_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // Too many panels for the layout: rejected before anything is written.
    let fig = Figure::new(300, 300).panels(1, 1).panel(Panel::new()).panel(Panel::new());
    assert_eq!(fig.save(dir.path().join("a.png")).unwrap_err().kind(), &ErrorKind::InvalidConfig);
    // A non-finite point.
    let fig =
        Figure::new(300, 300).panel(Panel::new().scatter(vec![[f64::NAN, 0.0]], palette(0), None));
    assert_eq!(fig.save(dir.path().join("b.svg")).unwrap_err().kind(), &ErrorKind::InvalidConfig);
    // Bad sizes.
    assert!(Figure::new(0, 300).save(dir.path().join("c.png")).is_err());
    assert!(Figure::new(300, 300).panels(0, 2).save(dir.path().join("c.png")).is_err());
    // A missing directory: an I/O error and no stray temporary file.
    let err = mixture_figure().save(dir.path().join("missing/d.png")).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Io);
    assert!(files_in(dir.path()).is_empty());
    // An existing file is replaced whole, never half-written: the old one survives a failure.
    let path = dir.path().join("keep.svg");
    std::fs::write(&path, "old").unwrap();
    let fig = Figure::new(300, 300).panel(Panel::new().scatter(
        vec![[0.0, f64::INFINITY]],
        palette(0),
        None,
    ));
    assert!(fig.save(&path).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    assert_eq!(files_in(dir.path()), vec!["keep.svg"]);
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
    assert!(criterion_panel(&[(1, "full", f64::NAN)], "BIC").is_err());
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
