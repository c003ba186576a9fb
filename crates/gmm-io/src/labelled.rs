//! Labelled data and classifiers: CSV files with a text label column, and classifiers (one
//! mixture per class, [`LabelledModels`]) as JSON.
//!
//! # Labelled CSV
//!
//! [`read_labelled_csv`] reads a CSV file (TSV for a `.tsv` name) whose first record is a header
//! row naming the columns; one column, named by the caller, holds class labels (any text; blank
//! or missing labels are refused), every other column numbers (the rules of [`crate::text`]:
//! missing, non-finite and non-numeric values are refused naming the line and column). With
//! [`LabelColumn::IfPresent`] the label column may be absent (data to classify), and a file
//! without a header row (numbers only) is accepted too.
//!
//! # Classifier JSON
//!
//! ```json
//! {
//!   "kind": "mixture_classifier",
//!   "classes": ["setosa", "versicolor"],
//!   "priors": [0.5, 0.5],
//!   "label_column": "species",
//!   "feature_names": ["sepal_length", "sepal_width"],
//!   "models": [
//!     { "covariance_type": "full", "weights": [...], "means": [...], "covariances": [...] },
//!     { ... }
//!   ]
//! }
//! ```
//!
//! Each entry of `models` has the layout of a model file ([`crate::model_json`]), in class
//! order. `label_column` and `feature_names` are optional (what the training file called
//! them). Files are written atomically.
//!
//! This crate reads and writes the file's contents, [`LabelledModels`] (classes, priors and
//! models) with the column names; it does not depend on the crate that classifies with them.
//! Reading checks the file's layout and every model (errors name the key: `models[1]: ...`);
//! the rules of a classifier (one prior and one model per class, distinct labels, priors
//! summing to one, one dimension) are checked by whoever builds one from the parts, e.g.
//! `gmm_em::MixtureClassifier::new(parts.classes, parts.priors, parts.models)`, and
//! `gmm_em::MixtureClassifier`'s `classes()`, `priors()` and `models()` give the parts back.

use std::path::Path;

use gmm_core::{Error, ErrorKind, GaussianMixture, Matrix, Real, Result};
use serde_json::Value;

use crate::atomic::write_text;
use crate::errors::{file_error, parse_error};
use crate::input::{TextLimits, read_json_text, read_text_bytes};
use crate::model_json::{model_to_json, parse_model};
use crate::text::{for_each_record, is_header_row, is_missing, parse_number, quote};

/// Which column holds the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelColumn<'a> {
    /// This column must exist (training data).
    Required(&'a str),
    /// This column is dropped if the file has it (data to classify).
    IfPresent(&'a str),
}

/// A table read by [`read_labelled_csv`].
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledTable {
    /// The numeric columns, `n x d`.
    pub features: Matrix<f64>,
    /// Names of the numeric columns (empty when the file has no header row).
    pub feature_names: Vec<String>,
    /// The label of every row, when the file has the label column.
    pub labels: Option<Vec<String>>,
}

/// Reads a CSV file with a label column (see the [module docs](self)).
///
/// # Errors
/// * [`ErrorKind::Io`] when the file cannot be read;
/// * [`ErrorKind::Parse`] for a missing header or label column (the message lists the
///   columns), a blank label, a bad number, a ragged row, or text that is not UTF-8 — naming the
///   file, line and column;
/// * [`ErrorKind::EmptyData`] when there are no data rows or no numeric columns.
pub fn read_labelled_csv(path: &Path, label: LabelColumn<'_>) -> Result<LabelledTable> {
    let bytes = read_text_bytes(path, TextLimits::LINES)?;
    let separator =
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv")) { b'\t' } else { b',' };
    let (name, required) = match label {
        LabelColumn::Required(name) => (name, true),
        LabelColumn::IfPresent(name) => (name, false),
    };
    let mut header: Option<Vec<String>> = None;
    let mut first: Option<(usize, u64)> = None;
    let mut label_at: Option<usize> = None;
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for_each_record(path, &bytes, separator, |_, line, fields| {
        if fields.len() <= 1 && fields.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        let Some((expected, first_line)) = first else {
            first = Some((fields.len(), line));
            let names: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(j, f)| {
                    let f = f.trim();
                    if j == 0 { f.trim_start_matches('\u{feff}') } else { f }.to_string()
                })
                .collect();
            let cells: Vec<&str> = names.iter().map(String::as_str).collect();
            let is_header = is_header_row(&cells);
            if is_header {
                label_at = names.iter().position(|n| n == name);
                header = Some(names);
                if label_at.is_none() && required {
                    return Err(parse_error(
                        path,
                        format!(
                            "there is no label column {:?} (the columns are {}): name one of \
                             them",
                            name,
                            header.as_deref().unwrap_or_default().join(", ")
                        ),
                    ));
                }
                return Ok(());
            }
            if required {
                return Err(parse_error(
                    path,
                    format!(
                        "line {line} is not a header row: labelled data needs a header naming \
                         its columns, with a label column {name:?}"
                    ),
                ));
            }
            return push_row(path, None, None, line, fields, &mut values, &mut labels);
        };
        if fields.len() != expected {
            return Err(parse_error(
                path,
                format!(
                    "line {line} has {} fields but line {first_line} has {expected}: every row \
                     needs the same number of columns",
                    fields.len()
                ),
            ));
        }
        push_row(path, header.as_deref(), label_at, line, fields, &mut values, &mut labels)
    })?;
    let Some((n_fields, _)) = first else {
        return Err(file_error(path, ErrorKind::EmptyData, "the file is empty"));
    };
    let n_cols = n_fields - usize::from(label_at.is_some());
    if n_cols == 0 {
        return Err(file_error(
            path,
            ErrorKind::EmptyData,
            "the file has no numeric columns besides the labels",
        ));
    }
    if values.is_empty() {
        return Err(file_error(path, ErrorKind::EmptyData, "the file has no data rows"));
    }
    let features = Matrix::from_vec(values, n_cols).map_err(|e| e.context(path.display()))?;
    let feature_names = header
        .map(|h| {
            h.into_iter()
                .enumerate()
                .filter(|(j, _)| Some(*j) != label_at)
                .map(|(_, n)| n)
                .collect()
        })
        .unwrap_or_default();
    Ok(LabelledTable { features, feature_names, labels: label_at.map(|_| labels) })
}

fn push_row(
    path: &Path,
    header: Option<&[String]>,
    label_at: Option<usize>,
    line: u64,
    fields: &[&str],
    values: &mut Vec<f64>,
    labels: &mut Vec<String>,
) -> Result<()> {
    for (j, field) in fields.iter().enumerate() {
        if Some(j) == label_at {
            let label = field.trim();
            if is_missing(label) {
                return Err(parse_error(
                    path,
                    format!(
                        "line {line}, column {} (the label column): missing label {}: give every \
                         row a class",
                        j + 1,
                        quote(field)
                    ),
                ));
            }
            labels.push(label.to_string());
        } else {
            values.push(parse_number(path, header, line, j, field)?);
        }
    }
    Ok(())
}

/// One mixture per class: what a classifier file stores, in class order. The file format does
/// not check classifier rules (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledModels<T: Real> {
    /// The class labels.
    pub classes: Vec<String>,
    /// The prior of every class.
    pub priors: Vec<f64>,
    /// The mixture of every class.
    pub models: Vec<GaussianMixture<T>>,
}

/// A classifier file: the classes' models with what the training file called the columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierFile<T: Real> {
    /// The classes, their priors and their models.
    pub classifier: LabelledModels<T>,
    /// The label column of the training data, if known.
    pub label_column: Option<String>,
    /// The names of the feature columns, if known (empty otherwise).
    pub feature_names: Vec<String>,
}

/// The classifier as pretty-printed JSON (see the [module docs](self)); the same classifier
/// always gives the same bytes.
pub fn classifier_to_json<T: Real>(file: &ClassifierFile<T>) -> String {
    let string = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
    let list = |items: Vec<String>| format!("[{}]", items.join(", "));
    let c = &file.classifier;
    let mut out = String::from("{\n  \"kind\": \"mixture_classifier\",\n");
    out += &format!("  \"classes\": {},\n", list(c.classes.iter().map(|s| string(s)).collect()));
    out += &format!(
        "  \"priors\": {},\n",
        list(
            c.priors
                .iter()
                .map(|p| serde_json::to_string(p).unwrap_or_else(|_| "null".into()))
                .collect()
        )
    );
    if let Some(label) = &file.label_column {
        out += &format!("  \"label_column\": {},\n", string(label));
    }
    if !file.feature_names.is_empty() {
        out += &format!(
            "  \"feature_names\": {},\n",
            list(file.feature_names.iter().map(|s| string(s)).collect())
        );
    }
    let models: Vec<String> = c
        .models
        .iter()
        .map(|m| {
            let text = model_to_json(m);
            let lines: Vec<String> = text.trim_end().lines().map(|l| format!("    {l}")).collect();
            lines.join("\n")
        })
        .collect();
    out += &format!("  \"models\": [\n{}\n  ]\n}}\n", models.join(",\n"));
    out
}

/// Writes a classifier as JSON, atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the file.
pub fn write_classifier<T: Real>(path: &Path, file: &ClassifierFile<T>) -> Result<()> {
    write_text(path, &classifier_to_json(file))
}

/// Reads a classifier from a JSON file.
///
/// # Errors
/// [`ErrorKind::Io`] when the file cannot be read; otherwise those of [`parse_classifier`]
/// with the file name in front.
pub fn read_classifier<T: Real>(path: &Path) -> Result<ClassifierFile<T>> {
    let text = read_json_text(path, "a JSON classifier")?;
    parse_classifier(&text).map_err(|e| e.context(path.display()))
}

/// Parses a classifier from JSON text (see the [module docs](self)).
///
/// # Errors
/// [`ErrorKind::Parse`] for invalid JSON or a missing or mistyped key (naming it), the errors of
/// [`parse_model`] for each model (prefixed `models[i]`), and
/// [`ErrorKind::InvalidParameter`] for feature names that do not match the models' dimension.
/// The classifier rules are not checked here (see the [module docs](self)).
pub fn parse_classifier<T: Real>(json: &str) -> Result<ClassifierFile<T>> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::new(ErrorKind::Parse, format!("not valid JSON: {e}")).with_source(e))?;
    let parse = |m: String| Error::new(ErrorKind::Parse, m);
    let Value::Object(object) = value else {
        return Err(parse(
            "a classifier must be a JSON object with keys \"classes\", \"priors\" \
                          and \"models\""
                .into(),
        ));
    };
    let get = |key: &str| {
        object.get(key).ok_or_else(|| {
            parse(format!(
                "the classifier has no \"{key}\" key (it needs \"classes\", \"priors\" and \
                 \"models\")"
            ))
        })
    };
    let array = |key: &str| -> Result<&Vec<Value>> {
        get(key)?.as_array().ok_or_else(|| parse(format!("\"{key}\" must be a list")))
    };
    let strings = |key: &str, items: &Vec<Value>| -> Result<Vec<String>> {
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| parse(format!("\"{key}[{i}]\" must be a string")))
            })
            .collect()
    };
    let classes = strings("classes", array("classes")?)?;
    let priors = array("priors")?
        .iter()
        .enumerate()
        .map(|(i, v)| v.as_f64().ok_or_else(|| parse(format!("\"priors[{i}]\" must be a number"))))
        .collect::<Result<Vec<f64>>>()?;
    let models = array("models")?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse_model::<T>(&v.to_string()).map_err(|e| e.context(format!("models[{i}]")))
        })
        .collect::<Result<Vec<_>>>()?;
    let label_column = match object.get("label_column") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(parse("\"label_column\" must be a string".into())),
    };
    let feature_names = match object.get("feature_names") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => strings("feature_names", items)?,
        Some(_) => return Err(parse("\"feature_names\" must be a list of strings".into())),
    };
    if !feature_names.is_empty()
        && let Some(m) = models.first()
        && feature_names.len() != m.n_features()
    {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "{} feature names for models of {} features: give one name per feature",
                feature_names.len(),
                m.n_features()
            ),
        ));
    }
    let classifier = LabelledModels { classes, priors, models };
    Ok(ClassifierFile { classifier, label_column, feature_names })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::{CovarianceType, GaussianMixture};

    fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_labels_and_features() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "a.csv", "x,species,y\n1, setosa ,2\n\n3,\"virginica\",4.5\n");
        let t = read_labelled_csv(&path, LabelColumn::Required("species")).unwrap();
        assert_eq!(t.features.as_slice(), &[1.0, 2.0, 3.0, 4.5]);
        assert_eq!(t.features.n_cols(), 2);
        assert_eq!(t.feature_names, ["x", "y"]);
        assert_eq!(t.labels.unwrap(), ["setosa", "virginica"]);
        // Optional: present, absent, and no header at all.
        let t = read_labelled_csv(&path, LabelColumn::IfPresent("species")).unwrap();
        assert_eq!(t.features.n_cols(), 2);
        let path = file(&dir, "b.csv", "x,y\n1,2\n3,4\n");
        let t = read_labelled_csv(&path, LabelColumn::IfPresent("species")).unwrap();
        assert_eq!((t.features.n_cols(), t.labels), (2, None));
        let path = file(&dir, "c.csv", "1,2\n3,4\n");
        let t = read_labelled_csv(&path, LabelColumn::IfPresent("species")).unwrap();
        assert_eq!(t.features.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
        assert!(t.feature_names.is_empty());
        let path = file(&dir, "d.tsv", "x\tlabel\n1\ta\n");
        let t = read_labelled_csv(&path, LabelColumn::Required("label")).unwrap();
        assert_eq!(t.labels.unwrap(), ["a"]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("x,species\n1,a\n", "label", ErrorKind::Parse, "no label column \"label\""),
            ("1,2\n", "label", ErrorKind::Parse, "line 1 is not a header"),
            ("x,label\n1,a\nfoo,b\n", "label", ErrorKind::Parse, "line 3, column 1 (\"x\")"),
            ("x,label\n1,a\n2,\n", "label", ErrorKind::Parse, "line 3, column 2"),
            ("x,label\n1,a\n2,NA\n", "label", ErrorKind::Parse, "missing label"),
            ("x,label\n1,a\n2,b,3\n", "label", ErrorKind::Parse, "line 3 has 3 fields"),
            ("x,label\n", "label", ErrorKind::EmptyData, "no data rows"),
            ("label\na\n", "label", ErrorKind::EmptyData, "no numeric columns"),
            ("\n\n", "label", ErrorKind::EmptyData, "the file is empty"),
        ];
        for (text, label, kind, needle) in cases {
            let path = file(&dir, "bad.csv", text);
            let err = read_labelled_csv(&path, LabelColumn::Required(label)).unwrap_err();
            assert_eq!(err.kind(), &kind, "{text:?}: {err}");
            assert!(err.message().contains(needle), "{text:?}: {err}");
            assert!(err.message().contains("bad.csv"), "{text:?}: {err}");
        }
    }

    fn classifier() -> ClassifierFile<f64> {
        let a = GaussianMixture::random(CovarianceType::Full, 2, 3, 1.0, 1).unwrap();
        let b = GaussianMixture::random(CovarianceType::Diag, 3, 3, 1.0, 2).unwrap();
        let c = GaussianMixture::random(CovarianceType::Tied, 1, 3, 1.0, 3).unwrap();
        let classifier = LabelledModels {
            classes: vec!["a \"quoted\"".into(), "b".into(), "c".into()],
            priors: vec![0.2, 0.3, 0.5],
            models: vec![a, b, c],
        };
        ClassifierFile {
            classifier,
            label_column: Some("species".into()),
            feature_names: vec!["x".into(), "y".into(), "z".into()],
        }
    }

    #[test]
    fn classifier_round_trips_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let original = classifier();
        write_classifier(&path, &original).unwrap();
        let again = read_classifier::<f64>(&path).unwrap();
        assert_eq!(again, original);
        assert_eq!(classifier_to_json(&again), std::fs::read_to_string(&path).unwrap());
        // f32 reads the same file.
        let f32 = read_classifier::<f32>(&path).unwrap();
        assert_eq!(f32.classifier.classes, original.classifier.classes);
        assert_eq!(f32.classifier.models[1], original.classifier.models[1].cast().unwrap());
    }

    #[test]
    fn bad_classifier_files_are_refused() {
        let good: Value = serde_json::from_str(&classifier_to_json(&classifier())).unwrap();
        let edit = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            parse_classifier::<f64>(&v.to_string()).unwrap_err()
        };
        let err = edit(&|v| {
            v.as_object_mut().unwrap().remove("priors");
        });
        assert_eq!(err.kind(), &ErrorKind::Parse, "{err}");
        assert!(err.message().contains("\"priors\""), "{err}");
        let err = edit(&|v| v["models"][1]["weights"] = serde_json::json!([0.5, 0.6, -0.1]));
        assert_eq!(err.kind(), &ErrorKind::InvalidWeights, "{err}");
        assert!(err.message().starts_with("models[1]"), "{err}");
        let err = edit(&|v| v["classes"][0] = serde_json::json!(3));
        assert_eq!(err.kind(), &ErrorKind::Parse, "{err}");
        assert!(err.message().contains("classes[0]"), "{err}");
        let err = edit(&|v| v["feature_names"] = serde_json::json!(["x", "y"]));
        assert_eq!(err.kind(), &ErrorKind::InvalidParameter, "{err}");
        assert!(err.message().contains("2 feature names for models of 3 features"), "{err}");
        let err = parse_classifier::<f64>("[1, 2]").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        let err = parse_classifier::<f64>("{\"classes\": [").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().starts_with("not valid JSON: "), "{err}");
        let source = std::error::Error::source(&err).expect("the JSON parser's error is kept");
        assert!(source.is::<serde_json::Error>(), "{source:?}");
    }

    /// The classifier rules (one prior and one model per class, priors summing to one) belong
    /// to whoever builds a classifier from the parts: the file reader keeps what the file says.
    /// (The command line's tests check that `gmm classify predict` refuses such files.)
    #[test]
    fn classifier_rules_are_not_the_file_formats() {
        let good: Value = serde_json::from_str(&classifier_to_json(&classifier())).unwrap();
        let mut v = good.clone();
        v["priors"] = serde_json::json!([0.5, 0.5, 0.5]);
        let parsed = parse_classifier::<f64>(&v.to_string()).unwrap();
        assert_eq!(parsed.classifier.priors, [0.5, 0.5, 0.5]);
        let mut v = good;
        v["classes"] = serde_json::json!(["a", "b"]);
        let parsed = parse_classifier::<f64>(&v.to_string()).unwrap();
        assert_eq!((parsed.classifier.classes.len(), parsed.classifier.models.len()), (2, 3));
    }

    #[test]
    fn unreadable_classifier_keeps_the_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_classifier::<f64>(&dir.path().join("absent.json")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("absent.json"), "{err}");
        let source = std::error::Error::source(&err).expect("the io error is kept");
        let io = source.downcast_ref::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }
}
