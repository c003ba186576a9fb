//! The bad-input table: one test per row, each asserting the error kind and what the message
//! tells the user. (The command-line side of the same table is in `crates/gmm-cli/tests`.)

use std::io::Write;

use gmm::core::{CovarianceType, Error, ErrorKind, GaussianMixture, Matrix, Samples};
use gmm::em::{EmConfig, FitOptions, fit};
use gmm::io::{parse_model, read_csv, read_npy, read_vector, write_npy_f64};

fn assert_error(result: Result<impl std::fmt::Debug, Error>, kind: ErrorKind, needles: &[&str]) {
    let err = result.expect_err("bad input must be refused");
    assert_eq!(err.kind(), &kind, "wrong kind for: {err}");
    for needle in needles {
        assert!(err.message().contains(needle), "{needle:?} missing from: {err}");
    }
    assert!(!err.message().contains('\n'), "multi-line message: {err}");
}

fn two_blobs() -> Vec<f64> {
    (0..40).flat_map(|i| [(i % 2) as f64 * 5.0 + i as f64 * 0.01, (i % 3) as f64]).collect()
}

fn diag_model() -> GaussianMixture<f64> {
    GaussianMixture::new(
        CovarianceType::Diag,
        vec![0.5, 0.5],
        vec![0.0, 0.0, 5.0, 1.0],
        vec![1.0; 4],
    )
    .unwrap()
}

#[test]
fn empty_data() {
    assert_error(Samples::<f64>::new(&[], 2), ErrorKind::EmptyData, &["empty"]);
    assert_error(Samples::<f64>::new(&[1.0], 0), ErrorKind::EmptyData, &["empty"]);
}

#[test]
fn fewer_samples_than_components() {
    let x = [1.0, 2.0, 3.0];
    let result = EmConfig::new(5, CovarianceType::Diag).fit(Samples::new(&x, 1).unwrap());
    assert_error(
        result.map(|f| f.model),
        ErrorKind::TooFewSamples { n_samples: 3, n_components: 5 },
        &["3 samples", "5 components"],
    );
}

#[test]
fn dimension_mismatch_between_model_and_data() {
    let x = vec![0.0; 12];
    let x = Samples::new(&x, 3).unwrap();
    let model = diag_model();
    assert_error(
        model.score(x),
        ErrorKind::DimensionMismatch { expected: 2, found: 3 },
        &["3 features", "has 2"],
    );
    let config = EmConfig::new(2, CovarianceType::Diag);
    let result = fit(&config, x, FitOptions { start: Some(&model), ..Default::default() });
    assert_error(
        result.map(|f| f.model),
        ErrorKind::DimensionMismatch { expected: 2, found: 3 },
        &["3 features"],
    );
}

#[test]
fn nan_in_data_names_row_and_column() {
    let mut x = two_blobs();
    x[4 * 2 + 1] = f64::NAN;
    let samples = Samples::new(&x, 2).unwrap();
    let needles = ["NaN", "row 4, column 1"];
    assert_error(
        diag_model().score(samples),
        ErrorKind::NonFiniteValue { row: 4, column: 1 },
        &needles,
    );
    let fitted = EmConfig::new(2, CovarianceType::Full).fit(samples).map(|f| f.model);
    assert_error(fitted, ErrorKind::NonFiniteValue { row: 4, column: 1 }, &needles);
}

#[test]
fn infinity_in_data_names_row_and_column() {
    let mut x = two_blobs();
    x[7 * 2] = f64::NEG_INFINITY;
    let fitted =
        EmConfig::new(2, CovarianceType::Diag).fit(Samples::new(&x, 2).unwrap()).map(|f| f.model);
    assert_error(
        fitted,
        ErrorKind::NonFiniteValue { row: 7, column: 0 },
        &["-inf", "row 7, column 0"],
    );
}

#[test]
fn negative_weights() {
    let m = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![-0.5, 1.5],
        vec![0.0, 1.0],
        vec![1.0, 1.0],
    );
    assert_error(m, ErrorKind::InvalidWeights, &["weight 0 is -0.5", "non-negative"]);
}

#[test]
fn weights_not_summing_to_one() {
    let m = GaussianMixture::<f64>::new(
        CovarianceType::Spherical,
        vec![0.5, 0.6],
        vec![0.0, 1.0],
        vec![1.0, 1.0],
    );
    assert_error(m, ErrorKind::InvalidWeights, &["sum to 1.1", "normalise"]);
}

#[test]
fn covariance_not_positive_definite() {
    let full = GaussianMixture::<f64>::new(
        CovarianceType::Full,
        vec![0.5, 0.5],
        vec![0.0; 4],
        vec![1.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 1.0],
    );
    assert_error(
        full,
        ErrorKind::NotPositiveDefinite { component: 1 },
        &["component 1", "not positive definite"],
    );
    let diag = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![1.0],
        vec![0.0, 0.0],
        vec![1.0, 0.0],
    );
    assert_error(diag, ErrorKind::NotPositiveDefinite { component: 0 }, &["dimension 1"]);
}

#[test]
fn covariance_not_symmetric() {
    let tied = GaussianMixture::<f64>::new(
        CovarianceType::Tied,
        vec![1.0],
        vec![0.0; 2],
        vec![2.0, 0.5, 0.4, 2.0],
    );
    assert_error(tied, ErrorKind::NotSymmetric { component: 0 }, &["not symmetric", "(1, 0)"]);
}

#[test]
fn identical_samples_without_regularisation() {
    let x = vec![3.0f64; 60];
    let x = Samples::new(&x, 3).unwrap();
    let err = EmConfig::new(1, CovarianceType::Full).reg_covar(0.0).fit(x).map(|f| f.model);
    assert_error(
        err,
        ErrorKind::NotPositiveDefinite { component: 0 },
        &["reg_covar = 0", "raise it"],
    );
    let ok = EmConfig::new(1, CovarianceType::Full).fit(x).unwrap();
    assert_eq!(ok.model.mean(0), &[3.0, 3.0, 3.0]);
}

#[test]
fn unknown_covariance_type() {
    let err = "banana".parse::<CovarianceType>();
    assert_error(
        err,
        ErrorKind::UnknownCovarianceType,
        &["banana", "diag, full, spherical or tied"],
    );
    let json = r#"{"covariance_type": "banana", "weights": [1.0], "means": [[0.0]], "covariances": [1.0]}"#;
    assert_error(parse_model::<f64>(json), ErrorKind::UnknownCovarianceType, &["banana"]);
}

#[test]
fn invalid_configuration() {
    let x = two_blobs();
    let x = Samples::new(&x, 2).unwrap();
    let base = EmConfig::new(2, CovarianceType::Diag);
    for (config, needle) in [
        (base.clone().tol(-1.0), "tol"),
        (base.clone().n_init(0), "n_init"),
        (base.clone().reg_covar(f64::NAN), "reg_covar"),
        (base.clone().threads(Some(0)), "threads"),
        (base.clone().n_components(0), "n_components"),
        (base.clone().variance_floor(Some(-1.0)), "variance_floor"),
        (base.clone().kmeans_sample_size(Some(1)), "kmeans_sample_size"),
    ] {
        assert_error(config.fit(x).map(|f| f.model), ErrorKind::InvalidConfig, &[needle]);
    }
}

#[test]
fn bad_sample_weights() {
    let x = two_blobs();
    let x = Samples::new(&x, 2).unwrap();
    let config = EmConfig::new(2, CovarianceType::Diag);
    let short = vec![1.0; 3];
    let r = fit(&config, x, FitOptions { sample_weights: Some(&short), ..Default::default() });
    assert_error(
        r.map(|f| f.model),
        ErrorKind::DimensionMismatch { expected: 40, found: 3 },
        &["3 sample weights"],
    );
    let mut negative = vec![1.0; 40];
    negative[6] = -1.0;
    let r = fit(&config, x, FitOptions { sample_weights: Some(&negative), ..Default::default() });
    assert_error(r.map(|f| f.model), ErrorKind::InvalidSampleWeights, &["sample weight 6 is -1"]);
    let zeros = vec![0.0; 40];
    let r = fit(&config, x, FitOptions { sample_weights: Some(&zeros), ..Default::default() });
    assert_error(
        r.map(|f| f.model),
        ErrorKind::InvalidSampleWeights,
        &["every sample weight is 0"],
    );
}

fn temp_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

#[test]
fn malformed_csv() {
    let dir = tempfile::tempdir().unwrap();
    let bad_field = temp_file(&dir, "bad.csv", b"a,b\n1.0,2.0\n3.0,abc\n");
    assert_error(read_csv(&bad_field), ErrorKind::Parse, &["bad.csv", "line 3", "column 2", "abc"]);
    let ragged = temp_file(&dir, "ragged.csv", b"1.0,2.0\n3.0\n");
    assert_error(read_csv(&ragged), ErrorKind::Parse, &["ragged.csv", "line 2"]);
    let nan = temp_file(&dir, "nan.csv", b"x,y\n1,2\nnan,3\n");
    assert_error(read_csv(&nan), ErrorKind::Parse, &["nan.csv", "line 3", "column 1"]);
}

#[test]
fn malformed_npy() {
    let dir = tempfile::tempdir().unwrap();
    // A valid int32 array: refused for its dtype.
    let mut header = String::from("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 24]);
    let int32 = temp_file(&dir, "int32.npy", &bytes);
    assert_error(read_npy(&int32), ErrorKind::Parse, &["int32.npy", "<i4"]);
    // A float64 array cut short.
    let good = dir.path().join("good.npy");
    write_npy_f64(&good, &Matrix::from_vec(vec![1.0; 20], 4).unwrap()).unwrap();
    let full = std::fs::read(&good).unwrap();
    let truncated = temp_file(&dir, "truncated.npy", &full[..full.len() - 12]);
    assert_error(read_npy(&truncated), ErrorKind::Parse, &["truncated.npy", "160", "148"]);
    let garbage = temp_file(&dir, "garbage.npy", b"this is not numpy");
    assert_error(read_npy(&garbage), ErrorKind::Parse, &["garbage.npy"]);
    let missing = dir.path().join("missing.npy");
    assert_error(read_vector(&missing), ErrorKind::Io, &["missing.npy"]);
}
