//! `gmm classify`: discriminant analysis with one mixture per class.
//!
//! * `train DATA.csv --label-column NAME`: fits the classifier, writes it as JSON (to `-o` or
//!   standard output) and prints a summary on standard error (classes, their models, training
//!   accuracy and, with `--cv`, the cross-validated accuracy and confusion matrix).
//! * `predict CLASSIFIER.json DATA`: one predicted label per line, in input order; `--proba`
//!   prints CSV with a header (`predicted` and the class names) and the posteriors after the
//!   label. A label column in DATA is ignored.

use std::fmt::Write as _;
use std::path::Path;

use gmm_core::{Error, ErrorKind, Matrix, Result};
use gmm_em::{
    ClassModel, ClassifierConfig, ConfusionMatrix, Criterion, EmConfig, MixtureClassifier, Priors,
    cross_validate,
};
use gmm_io::{ClassifierFile, LabelColumn, LabelledModels};

use super::select::em_config;
use crate::args::{
    ClassifyArgs, ClassifyCommand, ClassifyPredictArgs, ClassifyTrainArgs, PriorsArg,
};
use crate::output::{self, Paths};

/// Runs `gmm classify`.
pub fn run(args: ClassifyArgs) -> Result<()> {
    match args.command {
        ClassifyCommand::Train(args) => train(&args),
        ClassifyCommand::Predict(args) => predict(&args),
    }
}

fn config(args: &ClassifyTrainArgs) -> Result<ClassifierConfig> {
    let types = args.covariance.clone();
    let model = if args.select {
        ClassModel::Select {
            components: args.k.0.clone(),
            covariance_types: types,
            criterion: Criterion::Bic,
        }
    } else {
        match (args.k.0.as_slice(), types.as_slice()) {
            (&[k], &[t]) => ClassModel::fixed(k, t),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    "several component counts or covariance types need --select (choose per \
                     class by BIC); without it give one -k and one --covariance",
                ));
            }
        }
    };
    let priors = match args.priors {
        PriorsArg::Frequencies => Priors::Frequencies,
        PriorsArg::Uniform => Priors::Uniform,
    };
    Ok(ClassifierConfig::new(model).priors(priors).em(em_config(EmConfig::default(), &args.em)))
}

fn train(args: &ClassifyTrainArgs) -> Result<()> {
    Paths::new()
        .input("DATA", &args.data)
        .output("-o", Some(args.output.as_deref().unwrap_or(Path::new("-"))))
        .check()?;
    let config = config(args)?;
    let table = gmm_io::read_labelled_csv(&args.data, LabelColumn::Required(&args.label_column))?;
    let labels = table.labels.unwrap_or_default();
    let x = table.features;
    let context = |e: Error| e.context(args.data.display());
    let cv = match args.cv {
        Some(folds) => Some(cross_validate(&config, x.samples(), &labels, folds).map_err(context)?),
        None => None,
    };
    let classifier = MixtureClassifier::fit(&config, x.samples(), &labels).map_err(context)?;
    let training = classifier.confusion(x.samples(), &labels)?;
    let file = ClassifierFile {
        classifier: LabelledModels {
            classes: classifier.classes().to_vec(),
            priors: classifier.priors().to_vec(),
            models: classifier.models().to_vec(),
        },
        label_column: Some(args.label_column.clone()),
        feature_names: table.feature_names,
    };
    let json = gmm_io::classifier_to_json(&file);
    match &args.output {
        Some(path) => gmm_io::write_text(path, &json)?,
        None => output::print(&json)?,
    }
    if !args.quiet {
        let c = &classifier;
        let mut text = format!(
            "gmm classify train: {} rows x {} features, {} classes\n",
            x.n_rows(),
            x.n_cols(),
            c.classes().len()
        );
        for (i, class) in c.classes().iter().enumerate() {
            let m = &c.models()[i];
            let count: usize = (0..c.classes().len()).map(|p| training.count(i, p)).sum();
            let _ = writeln!(
                text,
                "  {class}: {count} rows, prior {:.4}, k = {} {}",
                c.priors()[i],
                m.n_components(),
                m.covariance_type()
            );
        }
        let _ = writeln!(
            text,
            "training accuracy {:.4} ({}/{})",
            training.accuracy(),
            training.correct(),
            training.total()
        );
        if let Some(cv) = &cv {
            let _ = writeln!(
                text,
                "{}-fold cross-validated accuracy {:.4} ({}/{})",
                cv.fold_accuracy.len(),
                cv.accuracy(),
                cv.confusion.correct(),
                cv.confusion.total()
            );
            text += &confusion_text(&cv.confusion);
        }
        output::note(&text);
    }
    Ok(())
}

/// The confusion matrix as aligned text (rows: true class, columns: predicted).
fn confusion_text(confusion: &ConfusionMatrix) -> String {
    let classes = confusion.classes();
    let corner = "true \\ predicted";
    let width = classes.iter().map(|c| c.chars().count()).chain([corner.len()]).max().unwrap_or(0);
    let columns: Vec<usize> = classes.iter().map(|c| c.chars().count().max(5)).collect();
    let mut text = format!("{corner:<width$}");
    for (c, w) in classes.iter().zip(&columns) {
        let _ = write!(text, "  {c:>w$}");
    }
    text.push('\n');
    for (t, class) in classes.iter().enumerate() {
        let _ = write!(text, "{class:<width$}");
        for (p, w) in columns.iter().enumerate() {
            let _ = write!(text, "  {:>w$}", confusion.count(t, p));
        }
        text.push('\n');
    }
    text
}

fn is_text(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["csv", "tsv"].iter().any(|t| e.eq_ignore_ascii_case(t)))
}

fn predict(args: &ClassifyPredictArgs) -> Result<()> {
    let out = args.output.as_deref().unwrap_or(Path::new("-"));
    if output::format("-o", out)? == output::Format::Npy {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "-o {}: class labels are text: name a .csv, .tsv or .txt file (or - for \
                 standard output)",
                out.display()
            ),
        ));
    }
    Paths::new()
        .input("CLASSIFIER", &args.classifier)
        .input("DATA", &args.data)
        .output("-o", Some(out))
        .check()?;
    let file = gmm_io::read_classifier::<f64>(&args.classifier)?;
    let LabelledModels { classes, priors, models } = file.classifier;
    let c = MixtureClassifier::new(classes, priors, models)
        .map_err(|e| e.context(args.classifier.display()))?;
    let label = args.label_column.as_deref().or(file.label_column.as_deref());
    let x: Matrix<f64> = match label {
        Some(name) if is_text(&args.data) => {
            let table = gmm_io::read_labelled_csv(&args.data, LabelColumn::IfPresent(name))?;
            if !file.feature_names.is_empty()
                && !table.feature_names.is_empty()
                && table.feature_names != file.feature_names
            {
                return Err(Error::new(
                    ErrorKind::DimensionMismatch {
                        expected: file.feature_names.len(),
                        found: table.feature_names.len(),
                    },
                    format!(
                        "{}: the columns are {} but the classifier was trained on {} (label \
                         column {name:?} dropped): give the same columns in the same order",
                        args.data.display(),
                        table.feature_names.join(", "),
                        file.feature_names.join(", ")
                    ),
                ));
            }
            table.features
        }
        _ => gmm_io::read_matrix(&args.data)?.into_f64(),
    };
    let context = |e: Error| e.context(args.data.display());
    let mut text = String::new();
    if args.proba {
        let proba = c.predict_proba(x.samples()).map_err(context)?;
        text.push_str("predicted");
        for class in c.classes() {
            text.push(',');
            text.push_str(&csv_field(class));
        }
        text.push('\n');
        for n in 0..proba.n_rows() {
            let row = proba.row(n);
            let best = (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b });
            text.push_str(&csv_field(&c.classes()[best]));
            for v in row {
                let _ = write!(text, ",{v:?}");
            }
            text.push('\n');
        }
    } else {
        for label in c.predict_labels(x.samples()).map_err(context)? {
            text.push_str(label);
            text.push('\n');
        }
    }
    gmm_io::write_text(out, &text)
}

/// A CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
