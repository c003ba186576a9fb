//! Discriminant analysis on Fisher's iris (150 flowers, 4 measurements in cm, 3 species): one
//! full-covariance Gaussian per species (quadratic discriminant analysis) and a per-species
//! BIC-selected mixture; training accuracy, the confusion matrix and 10-fold cross-validated
//! accuracy; a figure on petal length and width of each species' isodensity curves and of the
//! training errors: `cargo run --release --example iris_discriminant` (writes
//! `docs/img/iris_discriminant.png`).

use std::path::Path;

use gmm::em::{ClassModel, ClassifierConfig, ConfusionMatrix, MixtureClassifier, cross_validate};
use gmm::io::{LabelColumn, read_labelled_csv};
use gmm::plot::{
    Colouring, Figure, Format, Marker, MixtureView, Panel, Rgb, mixture_panel, palette,
};
use gmm::{CovarianceType, EmConfig, Error, ErrorKind, Samples};

const FOLDS: usize = 10;

fn print_confusion(confusion: &ConfusionMatrix) {
    let classes = confusion.classes();
    print!("  {:>12} |", "true \\ pred");
    for c in classes {
        print!(" {c:>10}");
    }
    println!();
    for (t, name) in classes.iter().enumerate() {
        print!("  {name:>12} |");
        for p in 0..classes.len() {
            print!(" {:>10}", confusion.count(t, p));
        }
        println!();
    }
}

/// Trains `config`, prints its training and cross-validated results; returns the classifier.
fn evaluate(
    name: &str,
    config: &ClassifierConfig,
    x: Samples<'_, f64>,
    labels: &[String],
) -> Result<MixtureClassifier<f64>, Error> {
    let classifier = MixtureClassifier::fit(config, x, labels)?;
    let training = classifier.confusion(x, labels)?;
    let cv = cross_validate(config, x, labels, FOLDS)?;
    println!("{name}:");
    for (class, model) in classifier.classes().iter().zip(classifier.models()) {
        println!(
            "  {class:>10}: {} {} component{}",
            model.n_components(),
            model.covariance_type(),
            if model.n_components() == 1 { "" } else { "s" }
        );
    }
    println!(
        "  training accuracy {:.4} ({} of {}), {FOLDS}-fold cross-validated accuracy {:.4} ({} \
         of {})",
        training.accuracy(),
        training.correct(),
        training.total(),
        cv.accuracy(),
        cv.confusion.correct(),
        cv.confusion.total()
    );
    println!("  training confusion matrix (rows: true species, columns: predicted):");
    print_confusion(&training);
    Ok(classifier)
}

fn main() -> Result<(), Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = read_labelled_csv(&root.join("data/iris.csv"), LabelColumn::Required("species"))?;
    let labels = table
        .labels
        .ok_or_else(|| Error::new(ErrorKind::Parse, "data/iris.csv has no species column"))?;
    let x = table.features.samples();
    println!(
        "iris: {} flowers x {} measurements ({}), {FOLDS}-fold cross-validation",
        x.n_samples(),
        x.n_features(),
        table.feature_names.join(", ")
    );

    let qda = ClassifierConfig::new(ClassModel::fixed(1, CovarianceType::Full));
    let classifier = evaluate("one full Gaussian per species (QDA)", &qda, x, &labels)?;
    // The figure: petal length and width (dimensions 2 and 3), QDA's models and predictions.
    let dims = [2, 3];
    let names = ("petal length (cm)", "petal width (cm)");
    let truth: Vec<usize> = labels
        .iter()
        .map(|l| {
            classifier
                .class_index(l)
                .ok_or_else(|| Error::new(ErrorKind::UnknownLabel, format!("unknown class {l}")))
        })
        .collect::<Result<_, _>>()?;
    let predicted = classifier.predict(x)?;
    let mut left: Option<Panel> = None;
    for (c, (class, model)) in classifier.classes().iter().zip(classifier.models()).enumerate() {
        let view = MixtureView::new(dims)
            .no_ellipses()
            .contours(4)
            .means(false)
            .names(names.0, names.1)
            .colouring(Colouring::Labels(truth.clone()))
            .uniform(darker(palette(c)), format!("{class} density"));
        left = Some(match left {
            // The points once, under the first class's curves.
            None => mixture_panel(model, Some(x), &view)?,
            Some(panel) => panel.overlay(mixture_panel(model, None, &view)?),
        });
    }
    let left = left
        .ok_or_else(|| Error::new(ErrorKind::EmptyData, "no classes"))?
        .title("(a) training data by species, class isodensity curves");

    let point = |i: usize| [x.row(i)[dims[0]], x.row(i)[dims[1]]];
    let (right_pts, wrong): (Vec<usize>, Vec<usize>) =
        (0..x.n_samples()).partition(|&i| predicted[i] == truth[i]);
    let (green, red) = (Rgb(44, 160, 44), Rgb(214, 39, 40));
    let right = Panel::new()
        .title("(b) training predictions (from all 4 measurements)")
        .x_label(names.0)
        .y_label(names.1)
        .scatter(
            right_pts.iter().map(|&i| point(i)).collect(),
            green,
            Some(&format!("correct ({})", right_pts.len())),
        )
        .markers(
            wrong.iter().map(|&i| point(i)).collect(),
            Marker::Cross,
            red,
            7,
            Some(&format!("misclassified ({})", wrong.len())),
        );
    for &i in &wrong {
        println!(
            "  misclassified: row {} ({}, petal {:.1} x {:.1} cm) predicted {}",
            i + 1,
            labels[i],
            x.row(i)[2],
            x.row(i)[3],
            classifier.classes()[predicted[i]]
        );
    }
    let by_bic = ClassifierConfig::new(ClassModel::select_by_bic(
        vec![1, 2, 3],
        CovarianceType::ALL.to_vec(),
    ))
    .em(EmConfig::default().n_init(3).seed(1));
    evaluate("per-species mixture chosen by BIC (k = 1..3, all types)", &by_bic, x, &labels)?;

    // The same axes on both sides.
    let (lx, ly) = left.ranges();
    let out = root.join("docs/img/iris_discriminant.png");
    let figure = Figure::new(1300, 600)
        .panels(1, 2)
        .title("Iris: quadratic discriminant analysis on petal length and width")
        .panel(left)
        .panel(right.x_range(lx[0], lx[1]).y_range(ly[0], ly[1]));
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// A darker shade of `c`, so the curves stand out over points of the same hue.
fn darker(c: Rgb) -> Rgb {
    let f = |v: u8| (f64::from(v) * 0.7).round() as u8;
    Rgb(f(c.0), f(c.1), f(c.2))
}
