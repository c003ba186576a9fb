//! Models as JSON, in the layout of scikit-learn's fitted attributes.
//!
//! ```json
//! {
//!   "covariance_type": "full",
//!   "weights": [0.4, 0.6],
//!   "means": [
//!     [0.0, 1.0],
//!     [5.0, 5.0]
//!   ],
//!   "covariances": [
//!     [
//!       [1.0, 0.2],
//!       [0.2, 2.0]
//!     ],
//!     [
//!       [0.5, 0.0],
//!       [0.0, 0.5]
//!     ]
//!   ]
//! }
//! ```
//!
//! | key | shape |
//! |-----|-------|
//! | `covariance_type` | `"diag"`, `"full"`, `"spherical"` or `"tied"` |
//! | `weights` | `k` numbers |
//! | `means` | `k` lists of `d` numbers |
//! | `covariances` | diag: `k` lists of `d` variances; full: `k` matrices `d x d` (lists of rows); spherical: `k` variances; tied: one `d x d` matrix |
//!
//! Other keys are ignored, so a file may carry extra information (`"n_features"`, provenance,
//! ...). Reading checks the JSON syntax (errors give line and column), the types and shapes of
//! the four keys (errors name the key and index, e.g. `covariances[2][1]`), then builds the model
//! with [`GaussianMixture::new`], which validates the values (weights, positive definiteness).
//!
//! Writing produces the layout above with the innermost lists on one line. Numbers are written
//! by `serde_json` in their shortest form that reads back to the same value (for an `f32` model,
//! the same `f32`), so writing, reading and writing again gives byte-identical files.

use std::path::Path;

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result};
use serde_json::{Map, Value};

use crate::atomic::write_text;
use crate::input::read_json_text;

/// Reads a model from a JSON file (see the [module docs](self) for the layout).
///
/// # Errors
/// [`ErrorKind::Io`] when the file cannot be read; otherwise the errors of [`parse_model`],
/// with the file name in front of the message.
pub fn read_model<T: Real>(path: &Path) -> Result<GaussianMixture<T>> {
    let text = read_json_text(path, "a JSON model")?;
    parse_model(&text).map_err(|e| e.context(path.display()))
}

/// Parses a model from JSON text (see the [module docs](self) for the layout).
///
/// # Errors
/// * [`ErrorKind::Parse`] for invalid JSON (with line and column), a missing key, or a value of
///   the wrong JSON type (naming the key and index);
/// * [`ErrorKind::InvalidParameter`] for lists of the wrong length (naming the key and index)
///   and the value checks of [`GaussianMixture::new`], which also gives
///   [`ErrorKind::InvalidWeights`], [`ErrorKind::NotSymmetric`] and
///   [`ErrorKind::NotPositiveDefinite`];
/// * [`ErrorKind::UnknownCovarianceType`] for a `covariance_type` other than the four names.
pub fn parse_model<T: Real>(json: &str) -> Result<GaussianMixture<T>> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::new(ErrorKind::Parse, format!("not valid JSON: {e}")).with_source(e))?;
    let Value::Object(object) = value else {
        return Err(Error::new(
            ErrorKind::Parse,
            format!(
                "a model must be a JSON object with keys \"covariance_type\", \"weights\", \
                 \"means\" and \"covariances\", not {}",
                describe(&value)
            ),
        ));
    };
    let covariance_type = match key(&object, "covariance_type")? {
        Value::String(name) => name.parse::<CovarianceType>()?,
        other => {
            return Err(Error::new(
                ErrorKind::Parse,
                format!(
                    "\"covariance_type\" must be one of the strings \"diag\", \"full\", \
                     \"spherical\" or \"tied\", not {}",
                    describe(other)
                ),
            ));
        }
    };

    let mut weights = Vec::new();
    let k = list(key(&object, "weights")?, "weights", None, "", &mut weights)?;
    if k == 0 {
        return Err(invalid("\"weights\" is empty: a model needs at least one component"));
    }

    let mut means = Vec::new();
    let means_value = key(&object, "means")?;
    let (_, d) = matrix(means_value, "means", Some(k), None, "one mean per weight", &mut means)?;
    if d == 0 {
        return Err(invalid("\"means[0]\" is empty: a model needs at least one feature"));
    }

    let covariances_value = key(&object, "covariances")?;
    let mut covariances = Vec::new();
    let per_feature = format!("d = {d}, the length of each mean");
    match covariance_type {
        CovarianceType::Diag => {
            let rows = "one row of variances per component";
            matrix(covariances_value, "covariances", Some(k), Some(d), rows, &mut covariances)?;
        }
        CovarianceType::Spherical => {
            let why = "one variance per component";
            list(covariances_value, "covariances", Some(k), why, &mut covariances)?;
        }
        CovarianceType::Tied => {
            matrix(
                covariances_value,
                "covariances",
                Some(d),
                Some(d),
                &per_feature,
                &mut covariances,
            )?;
        }
        CovarianceType::Full => {
            let items =
                items(covariances_value, "covariances", Some(k), "one matrix per component")?;
            for (c, item) in items.iter().enumerate() {
                let path = format!("covariances[{c}]");
                matrix(item, &path, Some(d), Some(d), &per_feature, &mut covariances)?;
            }
        }
    }

    GaussianMixture::new(
        covariance_type,
        cast::<T>(weights, "weights")?,
        cast::<T>(means, "means")?,
        cast::<T>(covariances, "covariances")?,
    )
}

/// The largest finite value of `T`, as `f64`.
pub(crate) fn largest<T: Real>() -> f64 {
    if std::mem::size_of::<T>() == 4 { f64::from(f32::MAX) } else { f64::MAX }
}

/// `values` in precision `T`, refusing a finite value that `T` cannot hold (1e39 in float32).
fn cast<T: Real>(values: Vec<f64>, key: &str) -> Result<Vec<T>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let t = T::from_f64(v);
            if v.is_finite() && !t.to_f64().is_finite() {
                return Err(invalid(format!(
                    "\"{key}\" holds {v:e} (value {i} in reading order), which overflows {} \
                     (largest {:e}): use a float64 computation (--dtype f64)",
                    T::NAME,
                    largest::<T>()
                )));
            }
            Ok(t)
        })
        .collect()
}

/// The model as pretty-printed JSON (see the [module docs](self)); the same model always gives
/// the same bytes.
pub fn model_to_json<T: Real>(model: &GaussianMixture<T>) -> String {
    let d = model.n_features();
    let covariances = model.covariances();
    let covariances = match model.covariance_type() {
        CovarianceType::Diag => rows(covariances, d, 2),
        CovarianceType::Spherical => row(covariances),
        CovarianceType::Tied => rows(covariances, d, 2),
        CovarianceType::Full => {
            let matrices: Vec<String> =
                covariances.chunks(d * d).map(|m| format!("    {}", rows(m, d, 4))).collect();
            format!("[\n{}\n  ]", matrices.join(",\n"))
        }
    };
    format!(
        "{{\n  \"covariance_type\": \"{}\",\n  \"weights\": {},\n  \"means\": {},\n  \
         \"covariances\": {}\n}}\n",
        model.covariance_type(),
        row(model.weights()),
        rows(model.means(), d, 2),
        covariances
    )
}

/// Writes a model as JSON (see [`model_to_json`]), atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the file.
pub fn write_model<T: Real>(path: &Path, model: &GaussianMixture<T>) -> Result<()> {
    write_text(path, &model_to_json(model))
}

/// One number, shortest round-trip form for its precision.
fn number<T: Real>(x: T) -> String {
    let x = x.to_f64();
    let text = if std::mem::size_of::<T>() == 4 {
        // Exact: `x` came from an f32.
        serde_json::to_string(&(x as f32))
    } else {
        serde_json::to_string(&x)
    };
    // Serialising a float cannot fail (non-finite values, which a model never holds, become
    // `null`).
    text.unwrap_or_else(|_| "null".to_string())
}

/// `[a, b, c]` on one line.
fn row<T: Real>(values: &[T]) -> String {
    let items: Vec<String> = values.iter().map(|&v| number(v)).collect();
    format!("[{}]", items.join(", "))
}

/// A list of rows of `d`, one row per line, the closing bracket indented by `indent`.
fn rows<T: Real>(values: &[T], d: usize, indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let lines: Vec<String> = values.chunks(d.max(1)).map(|r| format!("{pad}{}", row(r))).collect();
    format!("[\n{}\n{}]", lines.join(",\n"), " ".repeat(indent))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidParameter, message)
}

/// The value of a required key.
fn key<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a Value> {
    object.get(name).ok_or_else(|| {
        Error::new(
            ErrorKind::Parse,
            format!(
                "the model has no \"{name}\" key (a model needs \"covariance_type\", \
                 \"weights\", \"means\" and \"covariances\")"
            ),
        )
    })
}

/// What a JSON value is, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".to_string(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The items of a list at `path`, checking their number against `len` (`why` says where that
/// number comes from).
fn items<'a>(value: &'a Value, path: &str, len: Option<usize>, why: &str) -> Result<&'a [Value]> {
    let Value::Array(items) = value else {
        return Err(Error::new(
            ErrorKind::Parse,
            format!("\"{path}\" must be a list, not {}", describe(value)),
        ));
    };
    if let Some(len) = len
        && items.len() != len
    {
        return Err(invalid(format!(
            "\"{path}\" has {} items but needs {len} ({why})",
            items.len()
        )));
    }
    Ok(items)
}

/// A list of numbers at `path`, appended to `out`; returns its length.
fn list(
    value: &Value,
    path: &str,
    len: Option<usize>,
    why: &str,
    out: &mut Vec<f64>,
) -> Result<usize> {
    let items = items(value, path, len, why)?;
    for (i, item) in items.iter().enumerate() {
        match item.as_f64() {
            Some(x) => out.push(x),
            _ => {
                return Err(Error::new(
                    ErrorKind::Parse,
                    format!("\"{path}[{i}]\" must be a number, not {}", describe(item)),
                ));
            }
        }
    }
    Ok(items.len())
}

/// A list of `rows` lists of `cols` numbers at `path` (`None`: any number of rows; any number of
/// columns, the same in every row), appended row by row to `out`; returns `(rows, cols)`.
fn matrix(
    value: &Value,
    path: &str,
    rows: Option<usize>,
    cols: Option<usize>,
    why: &str,
    out: &mut Vec<f64>,
) -> Result<(usize, usize)> {
    let items = items(value, path, rows, why)?;
    let mut n_cols = cols;
    for (i, item) in items.iter().enumerate() {
        let row_path = format!("{path}[{i}]");
        let row_why = match (cols, i) {
            (Some(_), _) => why.to_string(),
            (None, 0) => String::new(),
            (None, _) => format!("as many as \"{path}[0]\""),
        };
        let len = list(item, &row_path, n_cols, &row_why, out)?;
        n_cols.get_or_insert(len);
    }
    Ok((items.len(), n_cols.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_models<T: Real>() -> Vec<GaussianMixture<T>> {
        CovarianceType::ALL
            .iter()
            .enumerate()
            .map(|(i, &ct)| GaussianMixture::<T>::random(ct, 3, 4, 2.0, 100 + i as u64).unwrap())
            .collect()
    }

    #[test]
    fn round_trip_all_types_f64() {
        let dir = tempfile::tempdir().unwrap();
        for model in all_models::<f64>() {
            let path = dir.path().join(format!("{}.json", model.covariance_type()));
            write_model(&path, &model).unwrap();
            let back: GaussianMixture<f64> = read_model(&path).unwrap();
            assert_eq!(back, model, "{}", model.covariance_type());
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(model_to_json(&back), text, "byte-identical");
            // Plain JSON that serde reads, with the documented shapes.
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["covariance_type"], model.covariance_type().as_str());
            assert_eq!(v["weights"].as_array().unwrap().len(), 3);
            assert_eq!(v["means"].as_array().unwrap().len(), 3);
            assert_eq!(v["means"][2].as_array().unwrap().len(), 4);
            let cov = &v["covariances"];
            match model.covariance_type() {
                CovarianceType::Diag => assert_eq!(cov[2].as_array().unwrap().len(), 4),
                CovarianceType::Spherical => assert!(cov[2].is_number()),
                CovarianceType::Full => assert_eq!(cov[2][3].as_array().unwrap().len(), 4),
                CovarianceType::Tied => assert_eq!(cov[3].as_array().unwrap().len(), 4),
            }
        }
    }

    #[test]
    fn round_trip_all_types_f32() {
        for model in all_models::<f32>() {
            let json = model_to_json(&model);
            let back: GaussianMixture<f32> = parse_model(&json).unwrap();
            assert_eq!(back, model, "{}", model.covariance_type());
            assert_eq!(model_to_json(&back), json);
        }
    }

    #[test]
    fn layout_of_a_full_model() {
        let model = GaussianMixture::<f64>::new(
            CovarianceType::Full,
            vec![0.4, 0.6],
            vec![0.0, 1.0, 5.0, 5.0],
            vec![1.0, 0.2, 0.2, 2.0, 0.5, 0.0, 0.0, 0.5],
        )
        .unwrap();
        let expected = r#"{
  "covariance_type": "full",
  "weights": [0.4, 0.6],
  "means": [
    [0.0, 1.0],
    [5.0, 5.0]
  ],
  "covariances": [
    [
      [1.0, 0.2],
      [0.2, 2.0]
    ],
    [
      [0.5, 0.0],
      [0.0, 0.5]
    ]
  ]
}
"#;
        assert_eq!(model_to_json(&model), expected);
    }

    #[test]
    fn reads_each_type_and_ignores_extra_keys() {
        let m: GaussianMixture<f64> = parse_model(
            r#"{"n_features": 2, "covariance_type": "diag", "weights": [0.5, 0.5],
                "means": [[0, 0], [1, 1e1]], "covariances": [[1, 2], [3, 4]], "note": null}"#,
        )
        .unwrap();
        assert_eq!(m.covariances(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.means(), &[0.0, 0.0, 1.0, 10.0]);
        let m: GaussianMixture<f64> = parse_model(
            r#"{"covariance_type": "spherical", "weights": [0.25, 0.75],
                "means": [[0, 0], [1, 1]], "covariances": [1.5, 2.5]}"#,
        )
        .unwrap();
        assert_eq!(m.covariances(), &[1.5, 2.5]);
        let m: GaussianMixture<f64> = parse_model(
            r#"{"covariance_type": "tied", "weights": [0.25, 0.75],
                "means": [[0, 0], [1, 1]], "covariances": [[2, 1], [1, 2]]}"#,
        )
        .unwrap();
        assert_eq!(m.covariances(), &[2.0, 1.0, 1.0, 2.0]);
    }

    fn shape_err(json: &str) -> Error {
        parse_model::<f64>(json).unwrap_err()
    }

    #[test]
    fn shape_errors_name_key_and_index() {
        let cases = [
            // (json, kind, must contain)
            (
                r#"{"covariance_type": "diag", "weights": [0.5, 0.5], "means": [[0, 0], [1]],
                    "covariances": [[1, 1], [1, 1]]}"#,
                ErrorKind::InvalidParameter,
                "\"means[1]\" has 1 items but needs 2",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [0.5, 0.5], "means": [[0, 0]],
                    "covariances": [[1, 1], [1, 1]]}"#,
                ErrorKind::InvalidParameter,
                "\"means\" has 1 items but needs 2",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [0.5, 0.5], "means": [[0, 0], [1, 1]],
                    "covariances": [[1, 1], [1, 1, 1]]}"#,
                ErrorKind::InvalidParameter,
                "\"covariances[1]\" has 3 items but needs 2",
            ),
            (
                r#"{"covariance_type": "full", "weights": [0.5, 0.5], "means": [[0, 0], [1, 1]],
                    "covariances": [[[1, 0], [0, 1]], [[1, 0], [0]]]}"#,
                ErrorKind::InvalidParameter,
                "\"covariances[1][1]\" has 1 items but needs 2",
            ),
            (
                r#"{"covariance_type": "full", "weights": [0.5, 0.5], "means": [[0, 0], [1, 1]],
                    "covariances": [[[1, 0], [0, 1]]]}"#,
                ErrorKind::InvalidParameter,
                "\"covariances\" has 1 items but needs 2",
            ),
            (
                r#"{"covariance_type": "spherical", "weights": [0.5, 0.5],
                    "means": [[0, 0], [1, 1]], "covariances": [1, 1, 1]}"#,
                ErrorKind::InvalidParameter,
                "\"covariances\" has 3 items but needs 2",
            ),
            (
                r#"{"covariance_type": "tied", "weights": [0.5, 0.5], "means": [[0, 0], [1, 1]],
                    "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}"#,
                ErrorKind::Parse,
                "\"covariances[0][0]\" must be a number, not a list of 2 items",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [0.5, "0.5"], "means": [[0, 0], [1, 1]],
                    "covariances": [[1, 1], [1, 1]]}"#,
                ErrorKind::Parse,
                "\"weights[1]\" must be a number, not the string \"0.5\"",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [0.5, 0.5], "means": [[0, 0], [1, null]],
                    "covariances": [[1, 1], [1, 1]]}"#,
                ErrorKind::Parse,
                "\"means[1][1]\" must be a number, not null",
            ),
            (
                r#"{"covariance_type": "diag", "weights": 1, "means": [[0]], "covariances": [[1]]}"#,
                ErrorKind::Parse,
                "\"weights\" must be a list, not the number 1",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [1], "means": [[0]]}"#,
                ErrorKind::Parse,
                "no \"covariances\" key",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [], "means": [], "covariances": []}"#,
                ErrorKind::InvalidParameter,
                "\"weights\" is empty",
            ),
            (
                r#"{"covariance_type": "diag", "weights": [1], "means": [[]], "covariances": [[]]}"#,
                ErrorKind::InvalidParameter,
                "at least one feature",
            ),
            (
                r#"{"covariance_type": "diagonal", "weights": [1], "means": [[0]], "covariances": [[1]]}"#,
                ErrorKind::UnknownCovarianceType,
                "\"diagonal\"",
            ),
            (
                r#"{"covariance_type": 3, "weights": [1], "means": [[0]], "covariances": [[1]]}"#,
                ErrorKind::Parse,
                "\"covariance_type\" must be one of",
            ),
            (r#"[1, 2]"#, ErrorKind::Parse, "JSON object"),
        ];
        for (json, kind, needle) in cases {
            let err = shape_err(json);
            assert_eq!(err.kind(), &kind, "{json}: {err}");
            assert!(err.message().contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = shape_err("{\n  \"covariance_type\": \"diag\",\n  \"weights\": [0.5 0.5]\n}");
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 3 column"), "{err}");
        let err = shape_err("{\"weights\": [1e999]}");
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 1 column"), "{err}");
        let err = shape_err("");
        assert_eq!(err.kind(), &ErrorKind::Parse);
    }

    #[test]
    fn float32_overflow_is_named() {
        let json = r#"{"covariance_type": "diag", "weights": [1.0], "means": [[0.0, 1e39]],
            "covariances": [[1.0, 1.0]]}"#;
        let err = parse_model::<f32>(json).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidParameter);
        assert!(err.message().contains("\"means\" holds 1e39"), "{err}");
        assert!(err.message().contains("overflows float32"), "{err}");
        assert!(parse_model::<f64>(json).is_ok());
    }

    #[test]
    fn validation_errors_get_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad_weights.json");
        std::fs::write(
            &path,
            r#"{"covariance_type": "diag", "weights": [0.5, 0.6], "means": [[0], [1]],
                "covariances": [[1], [1]]}"#,
        )
        .unwrap();
        let err = read_model::<f64>(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidWeights);
        assert!(err.message().contains("bad_weights.json: "), "{err}");

        let path = dir.path().join("not_pd.json");
        std::fs::write(
            &path,
            r#"{"covariance_type": "full", "weights": [1], "means": [[0, 0]],
                "covariances": [[[1, 2], [2, 1]]]}"#,
        )
        .unwrap();
        let err = read_model::<f64>(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::NotPositiveDefinite { component: 0 });
        assert!(err.message().contains("not_pd.json: "), "{err}");

        let path = dir.path().join("shape.json");
        std::fs::write(
            &path,
            r#"{"covariance_type": "diag", "weights": [1], "means": [[0, 0]],
                "covariances": [[1]]}"#,
        )
        .unwrap();
        let err = read_model::<f64>(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidParameter);
        assert!(err.message().contains("shape.json: \"covariances[0]\""), "{err}");

        let err = read_model::<f64>(&dir.path().join("absent.json")).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("absent.json"), "{err}");

        let path = dir.path().join("binary.json");
        std::fs::write(&path, b"\xff\xfe{}").unwrap();
        let err = read_model::<f64>(&path).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("binary.json"), "{err}");
    }

    #[test]
    fn deeply_nested_json_does_not_overflow() {
        let json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(shape_err(&json).kind(), &ErrorKind::Parse);
    }
}
