//! End-to-end tests of the `gmm` binary: every row of the bad-input policy (DESIGN.md §6) ends in
//! exactly one `gmm: error:` line with a non-zero exit status and no output file, and the happy
//! paths of `fit`, `score`, `predict` and `sample` produce what they promise.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gmm_core::Matrix;
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs the real `gmm` binary with `args`, in `dir` when given.
fn run_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gmm"));
    command.args(args).env("RUST_BACKTRACE", "1");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().expect("the gmm binary runs")
}

/// Runs the real `gmm` binary with `args`.
fn gmm(args: &[&str]) -> Output {
    run_in(None, args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts a clean failure: non-zero status, nothing on standard output, and exactly one line on
/// standard error that starts with `gmm: error:`, shows no panic or backtrace, and contains
/// every needle (case-sensitively; tests name their files so that a needle cannot match a path).
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(!out.status.success(), "expected failure, got {:?}; stderr: {err:?}", out.status);
    assert!(out.stdout.is_empty(), "stdout should be empty on error, got {:?}", stdout(out));
    assert!(err.ends_with('\n'), "stderr should end with a newline: {err:?}");
    assert_eq!(err.matches('\n').count(), 1, "stderr should be exactly one line: {err:?}");
    assert!(err.starts_with("gmm: error:"), "stderr should start with 'gmm: error:': {err:?}");
    for bad in ["panicked", "RUST_BACKTRACE", "thread 'main'", "internal error"] {
        assert!(!err.contains(bad), "stderr shows {bad:?}: {err:?}");
    }
    for needle in needles {
        assert!(err.contains(needle), "stderr should mention {needle:?}: {err:?}");
    }
}

/// Asserts exit status 0 and returns standard output.
fn assert_ok(out: &Output) -> String {
    assert!(out.status.success(), "gmm failed with {:?}; stderr: {}", out.status, stderr(out));
    stdout(out)
}

/// A path as a command-line argument.
fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn faithful() -> String {
    arg(&root().join("data/faithful.csv")).to_owned()
}

fn small(name: &str) -> String {
    arg(&root().join("tests/data/small").join(name)).to_owned()
}

/// A scratch directory, the working directory of the commands run with [`Scratch::gmm`], with
/// an `out/` subdirectory for their outputs, which a failed command must leave empty (no output
/// file, no temporary file left behind). Inputs and outputs are named relative to it, so error
/// messages hold only names the test chose.
struct Scratch {
    dir: TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(dir.path().join("out")).expect("out/ is created");
        Self { dir }
    }

    /// Runs `gmm` in the scratch directory.
    fn gmm(&self, args: &[&str]) -> Output {
        run_in(Some(self.dir.path()), args)
    }

    /// The absolute path of `name` (relative to the scratch directory).
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an input file; returns its relative name.
    fn write<'a>(&self, name: &'a str, bytes: impl AsRef<[u8]>) -> &'a str {
        std::fs::write(self.path(name), bytes).expect("the input file is written");
        name
    }

    /// Reads `name` (relative to the scratch directory) as JSON.
    fn json(&self, name: &str) -> Value {
        read_json(&self.path(name))
    }

    /// Asserts that nothing was written under `out/`.
    fn assert_no_output(&self) {
        let left: Vec<_> = std::fs::read_dir(self.path("out"))
            .expect("out/ is readable")
            .map(|e| e.expect("a directory entry").file_name())
            .collect();
        assert!(left.is_empty(), "a failed command left files behind: {left:?}");
    }
}

/// A version 1.0 `.npy` file with the given dtype, shape (as Python writes it) and raw data.
fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(header.len()).expect("a short header").to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Runs `fit DATA -k K -o out/m.json --report out/r.json -q EXTRA...` in the scratch directory.
fn fit_to_out(s: &Scratch, data: &str, k: &str, extra: &[&str]) -> Output {
    let mut args = vec!["fit", data, "-k", k, "-o", "out/m.json", "--report", "out/r.json", "-q"];
    args.extend_from_slice(extra);
    s.gmm(&args)
}

/// Runs a bad `fit`; checks the one-line error and that no file was written.
fn assert_fit_fails(s: &Scratch, data: &str, k: &str, extra: &[&str], needles: &[&str]) {
    let out = fit_to_out(s, data, k, extra);
    assert_one_line_error(&out, needles);
    s.assert_no_output();
}

/// A bad model file must be refused by `score`, `predict` and `fit --init`, each with one line
/// naming the file and containing `needles`, and without writing anything.
fn assert_model_refused(s: &Scratch, model: &str, needles: &[&str]) {
    let mut all = vec![model];
    all.extend_from_slice(needles);
    let data = faithful();
    let out = s.gmm(&["score", model, &data, "--per-sample", "out/ps.txt"]);
    assert_one_line_error(&out, &all);
    let out = s.gmm(&["predict", model, &data, "-o", "out/labels.txt"]);
    assert_one_line_error(&out, &all);
    let out = s.gmm(&["fit", &data, "--init", model, "-o", "out/m.json", "-q"]);
    assert_one_line_error(&out, &all);
    s.assert_no_output();
}

/// A valid 2-component, 2-feature full model for faithful.csv, with `edit` applied.
fn model_json(edit: impl FnOnce(&mut Value)) -> String {
    let mut model = serde_json::json!({
        "covariance_type": "full",
        "weights": [0.5, 0.5],
        "means": [[2.0, 55.0], [4.3, 80.0]],
        "covariances": [[[0.1, 0.0], [0.0, 30.0]], [[0.2, 0.0], [0.0, 35.0]]],
    });
    edit(&mut model);
    model.to_string()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn as_f64(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn as_array(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("expected an array, got {v}"))
}

fn f64_list(v: &Value) -> Vec<f64> {
    as_array(v).iter().map(as_f64).collect()
}

fn assert_rel(a: f64, b: f64, tol: f64, what: &str) {
    let rel = (a - b).abs() / b.abs().max(f64::MIN_POSITIVE);
    assert!(rel <= tol, "{what}: {a} vs {b} (relative difference {rel:e} > {tol:e})");
}

/// All numbers of a JSON value, depth first.
fn numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.push(n.as_f64().expect("a finite number")),
        Value::Array(items) => items.iter().for_each(|item| numbers(item, out)),
        Value::Object(map) => map.values().for_each(|item| numbers(item, out)),
        _ => {}
    }
}

/// Parses `text` as lines of comma-separated numbers.
fn parse_rows(text: &str) -> Vec<Vec<f64>> {
    text.lines()
        .map(|line| line.split(',').map(|v| v.trim().parse().expect("a number")).collect())
        .collect()
}

/// The data of a 1-D little-endian int64 `.npy` file.
fn read_npy_i64(path: &Path) -> Vec<i64> {
    let bytes = std::fs::read(path).expect("the .npy file is readable");
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, 12),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(header.contains("'<i8'"), "labels should be int64: {header}");
    bytes[start + header_len..]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Bad input: one test per row, each one line on stderr and no output file
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_csv_header_only() {
    let s = Scratch::new();
    let data = s.write("x.csv", "eruptions,waiting\n");
    assert_fit_fails(&s, data, "2", &[], &["x.csv", "empty"]);
}

#[test]
fn empty_csv_zero_bytes() {
    let s = Scratch::new();
    let data = s.write("x.csv", "");
    assert_fit_fails(&s, data, "2", &[], &["x.csv", "empty"]);
}

#[test]
fn empty_npy_zero_rows() {
    let s = Scratch::new();
    let data = s.write("x.npy", npy_bytes("<f8", "(0, 2)", &[]));
    assert_fit_fails(&s, data, "2", &[], &["x.npy", "empty"]);
}

#[test]
fn fewer_samples_than_components() {
    let s = Scratch::new();
    assert_fit_fails(&s, &faithful(), "300", &[], &["272 samples", "300 components"]);
}

#[test]
fn dimension_mismatch_between_model_and_data() {
    let s = Scratch::new();
    let (model, data) = (small("init_diag.json"), faithful());
    let out = s.gmm(&["score", &model, &data, "--per-sample", "out/ps.npy"]);
    assert_one_line_error(&out, &["2 features", "3"]);
    let out = s.gmm(&["predict", &model, &data, "-o", "out/labels.npy"]);
    assert_one_line_error(&out, &["2 features", "3"]);
    s.assert_no_output();
}

#[test]
fn nan_in_csv_names_line_and_column() {
    let s = Scratch::new();
    let data = s.write("x.csv", "a,b\n1,2\n3,4\n5,nan\n6,7\n");
    assert_fit_fails(&s, data, "1", &[], &["x.csv", "line 4", "column 2", "\"nan\""]);
}

#[test]
fn inf_in_csv_names_line_and_column() {
    let s = Scratch::new();
    let data = s.write("x.csv", "a,b\n1,2\n3,4\n5,+inf\n6,7\n");
    assert_fit_fails(&s, data, "1", &[], &["x.csv", "line 4", "column 2", "\"+inf\""]);
}

/// A 6 x 2 float64 `.npy` written with gmm-io, `value` at row 4, column 1 (from 0).
fn npy_with<'a>(s: &Scratch, name: &'a str, value: f64) -> &'a str {
    let mut values: Vec<f64> = (0..12).map(f64::from).collect();
    values[4 * 2 + 1] = value;
    gmm_io::write_npy_f64(&s.path(name), &Matrix::from_vec(values, 2).unwrap()).unwrap();
    name
}

#[test]
fn nan_in_npy_names_row_and_column() {
    let s = Scratch::new();
    let data = npy_with(&s, "x.npy", f64::NAN);
    assert_fit_fails(&s, data, "1", &[], &["NaN", "row 4", "column 1"]);
}

#[test]
fn inf_in_npy_names_row_and_column() {
    let s = Scratch::new();
    let data = npy_with(&s, "x.npy", f64::INFINITY);
    assert_fit_fails(&s, data, "1", &[], &["inf", "row 4", "column 1"]);
}

#[test]
fn nan_in_npy_refused_by_score_and_predict() {
    let s = Scratch::new();
    let data = npy_with(&s, "x.npy", f64::NAN);
    let model = s.write("m.json", model_json(|_| {}));
    let out = s.gmm(&["score", model, data, "--per-sample", "out/ps.txt"]);
    assert_one_line_error(&out, &["NaN", "row 4", "column 1"]);
    let out = s.gmm(&["predict", model, data, "-o", "out/labels.txt"]);
    assert_one_line_error(&out, &["NaN", "row 4", "column 1"]);
    s.assert_no_output();
}

#[test]
fn model_with_negative_weight() {
    let s = Scratch::new();
    let model = s.write("m.json", model_json(|m| m["weights"] = serde_json::json!([-0.5, 1.5])));
    assert_model_refused(&s, model, &["weight 0", "-0.5"]);
}

#[test]
fn model_weights_not_summing_to_one() {
    let s = Scratch::new();
    let model = s.write("m.json", model_json(|m| m["weights"] = serde_json::json!([0.5, 0.6])));
    assert_model_refused(&s, model, &["sum", "1.1"]);
}

#[test]
fn model_covariance_not_positive_definite() {
    let s = Scratch::new();
    let model = s.write(
        "m.json",
        model_json(|m| m["covariances"][1] = serde_json::json!([[1.0, 2.0], [2.0, 1.0]])),
    );
    assert_model_refused(&s, model, &["component 1", "positive definite"]);
}

#[test]
fn model_covariance_not_symmetric() {
    let s = Scratch::new();
    let model = s.write(
        "m.json",
        model_json(|m| m["covariances"][0] = serde_json::json!([[2.0, 0.5], [0.1, 2.0]])),
    );
    assert_model_refused(&s, model, &["component 0", "symmetric"]);
}

#[test]
fn model_unknown_covariance_type() {
    let s = Scratch::new();
    let model = s.write("m.json", model_json(|m| m["covariance_type"] = Value::from("banana")));
    assert_model_refused(&s, model, &["banana", "covariance"]);
}

/// 50 identical rows.
fn identical_rows(s: &Scratch) -> &'static str {
    s.write("x.csv", "1.5,2.5\n".repeat(50))
}

#[test]
fn identical_samples_without_reg_covar_fail_clearly() {
    let s = Scratch::new();
    let data = identical_rows(&s);
    assert_fit_fails(&s, data, "1", &["--reg-covar", "0"], &["reg_covar"]);
    assert_fit_fails(&s, data, "2", &["--reg-covar", "0"], &["reg_covar"]);
}

#[test]
fn identical_samples_with_default_reg_covar_fit() {
    let s = Scratch::new();
    let data = identical_rows(&s);
    for k in [1, 2] {
        assert_ok(&fit_to_out(&s, data, &k.to_string(), &[]));
        let model = s.json("out/m.json");
        assert_eq!(as_array(&model["weights"]).len(), k);
        assert!(f64_list(&model["means"][0]) == [1.5, 2.5], "{model}");
    }
}

#[test]
fn csv_non_numeric_field() {
    let s = Scratch::new();
    // Data row 3 is line 4 (after the header).
    let data = s.write("x.csv", "a,b\n1,2\n3,4\n5,x7\n6,7\n");
    assert_fit_fails(&s, data, "1", &[], &["x.csv", "line 4", "column 2", "\"x7\""]);
}

#[test]
fn csv_ragged_rows() {
    let s = Scratch::new();
    let data = s.write("x.csv", "a,b\n1,2\n3,4,5\n6,7\n");
    assert_fit_fails(&s, data, "1", &[], &["x.csv", "line 3", "3 fields"]);
}

#[test]
fn npy_wrong_dtype() {
    let s = Scratch::new();
    let data = s.write("x.npy", npy_bytes("<i4", "(3, 2)", &[0u8; 24]));
    assert_fit_fails(&s, data, "1", &[], &["x.npy", "<i4"]);
}

#[test]
fn npy_truncated() {
    let s = Scratch::new();
    let values: Vec<u8> = [1.0_f64; 12].iter().flat_map(|v| v.to_le_bytes()).collect();
    let full = npy_bytes("<f8", "(6, 2)", &values);
    let data = s.write("x.npy", &full[..full.len() - 46]); // 50 of the 96 data bytes remain
    assert_fit_fails(&s, data, "1", &[], &["x.npy", "truncated", "96", "50"]);
}

#[test]
fn npy_garbage_bytes() {
    let s = Scratch::new();
    let data = s.write("x.npy", b"this is not what you think it is\x00\xff\x13".repeat(4));
    assert_fit_fails(&s, data, "1", &[], &["x.npy", "magic"]);
}

#[test]
fn missing_file_is_named() {
    let s = Scratch::new();
    assert_fit_fails(&s, "no-such-file.csv", "2", &[], &["no-such-file.csv"]);
    let out = s.gmm(&["score", "no-such-model.json", &faithful()]);
    assert_one_line_error(&out, &["no-such-model.json"]);
}

#[test]
fn unknown_init_method() {
    let s = Scratch::new();
    assert_fit_fails(&s, &faithful(), "2", &["--init", "bogus"], &["--init", "bogus"]);
}

#[test]
fn unknown_covariance_is_a_usage_error() {
    let s = Scratch::new();
    let out = fit_to_out(&s, &faithful(), "2", &["--covariance", "banana"]);
    assert_eq!(out.status.code(), Some(2), "a malformed command line exits with 2");
    assert_one_line_error(&out, &["banana", "--covariance"]);
    s.assert_no_output();
}

#[test]
fn negative_tol() {
    let s = Scratch::new();
    assert_fit_fails(&s, &faithful(), "2", &["--tol=-1"], &["tol", "-1"]);
    // Written with a space, clap reads `-1` as a flag: still one line, still no output.
    assert_fit_fails(&s, &faithful(), "2", &["--tol", "-1"], &["-1"]);
}

#[test]
fn zero_restarts() {
    let s = Scratch::new();
    assert_fit_fails(&s, &faithful(), "2", &["--n-init", "0"], &["n_init"]);
}

#[test]
fn zero_threads() {
    let s = Scratch::new();
    assert_fit_fails(&s, &faithful(), "2", &["--threads", "0"], &["threads"]);
}

#[test]
fn weights_of_wrong_length() {
    let s = Scratch::new();
    gmm_io::write_npy_vector(&s.path("w.npy"), &[1.0; 10]).unwrap();
    assert_fit_fails(&s, &faithful(), "2", &["--weights", "w.npy"], &["10", "272"]);
}

#[test]
fn negative_sample_weight() {
    let s = Scratch::new();
    let mut values = vec![1.0; 272];
    values[5] = -1.0;
    gmm_io::write_npy_vector(&s.path("w.npy"), &values).unwrap();
    assert_fit_fails(&s, &faithful(), "2", &["--weights", "w.npy"], &["weight 5", "-1"]);
}

#[test]
fn init_model_disagrees_with_k() {
    let s = Scratch::new();
    let init = small("init_full.json");
    let needles = ["-k 2", "4 components"];
    assert_fit_fails(&s, &small("data.npy"), "2", &["--init", &init], &needles);
}

#[test]
fn init_model_disagrees_with_covariance() {
    let s = Scratch::new();
    let (init, data) = (small("init_full.json"), small("data.npy"));
    let out = s.gmm(&["fit", &data, "--init", &init, "--covariance", "diag", "-o", "out/m.json"]);
    assert_one_line_error(&out, &["diag", "full"]);
    s.assert_no_output();
}

// ---------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------

/// Fits faithful.csv (k = 2, full, seed 1) into `out/m.json` and `out/r.json`.
fn fit_faithful(s: &Scratch) -> (Value, Value) {
    let out = fit_to_out(s, &faithful(), "2", &["--covariance", "full", "--seed", "1"]);
    assert_ok(&out);
    assert!(out.stdout.is_empty(), "with -o the model goes to the file, not stdout");
    assert!(out.stderr.is_empty(), "-q prints nothing: {}", stderr(&out));
    (s.json("out/m.json"), s.json("out/r.json"))
}

#[test]
fn fit_writes_model_and_report() {
    let s = Scratch::new();
    let (model, report) = fit_faithful(&s);

    let keys = [
        "n_iter",
        "converged",
        "log_likelihood",
        "final_log_likelihood",
        "fit_seconds",
        "threads",
        "bic",
        "aic",
    ];
    for key in keys {
        assert!(report.get(key).is_some(), "the report lacks {key}: {report}");
    }
    let n_iter = usize::try_from(report["n_iter"].as_u64().expect("n_iter is an integer")).unwrap();
    assert!(n_iter >= 1);
    assert!(report["converged"].is_boolean());
    let trace = f64_list(&report["log_likelihood"]);
    assert_eq!(trace.len(), n_iter);
    for pair in trace.windows(2) {
        assert!(pair[1] >= pair[0], "the log-likelihood decreased: {trace:?}");
    }
    let last = as_f64(&report["final_log_likelihood"]);
    assert!(last.is_finite());
    assert_eq!(last, trace[n_iter - 1]);
    assert!(as_f64(&report["fit_seconds"]) >= 0.0);
    assert!(report["threads"].as_u64().unwrap() >= 1);
    assert_eq!(report["dtype"], "float64");
    // full covariance, k = 2, d = 2: 1 + 2 * 2 + 2 * 3 = 11 free parameters.
    let (n, p) = (272.0_f64, 11.0);
    assert_rel(as_f64(&report["bic"]), -2.0 * n * last + p * n.ln(), 1e-12, "bic");
    assert_rel(as_f64(&report["aic"]), -2.0 * n * last + 2.0 * p, 1e-12, "aic");

    assert_eq!(model["covariance_type"], "full");
    let weights = f64_list(&model["weights"]);
    assert_eq!(weights.len(), 2);
    assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let means = as_array(&model["means"]);
    assert_eq!(means.len(), 2);
    assert!(means.iter().all(|m| as_array(m).len() == 2));
    let covariances = as_array(&model["covariances"]);
    assert_eq!(covariances.len(), 2);
    for c in covariances {
        let rows = as_array(c);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| as_array(r).len() == 2));
        assert_eq!(as_f64(&rows[0][1]), as_f64(&rows[1][0]), "symmetric");
    }
}

#[test]
fn fit_without_output_prints_the_model() {
    let text = assert_ok(&gmm(&["fit", &faithful(), "-k", "2", "--seed", "1", "-q"]));
    let model: Value = serde_json::from_str(&text).expect("stdout is the model JSON");
    assert_eq!(as_array(&model["weights"]).len(), 2);
}

#[test]
fn results_do_not_depend_on_threads() {
    let s = Scratch::new();
    let data = small("data.npy");
    for cov in ["full", "diag", "spherical", "tied"] {
        let mut models = Vec::new();
        for threads in ["1", "2"] {
            let path = format!("out/{cov}-{threads}.json");
            let out = s.gmm(&[
                "fit",
                &data,
                "-k",
                "4",
                "--covariance",
                cov,
                "--init",
                "kmeans",
                "--n-init",
                "2",
                "--max-iter",
                "20",
                "--tol",
                "0",
                "--threads",
                threads,
                "-o",
                &path,
                "-q",
            ]);
            assert_ok(&out);
            models.push(std::fs::read(s.path(&path)).unwrap());
        }
        assert!(
            models[0] == models[1],
            "{cov}: --threads 1 and --threads 2 wrote different models"
        );
    }
}

/// Ten EM steps from `init_<cov>.json`; writes `out/m-<cov>.json`, returns the report.
fn fit_from_start(s: &Scratch, cov: &str, data: &str, extra: &[&str]) -> Value {
    let init = small(&format!("init_{cov}.json"));
    let (model, report) = (format!("out/m-{cov}.json"), format!("out/r-{cov}.json"));
    let mut args = vec!["fit", data, "--init", &init, "--max-iter", "10", "--tol", "0"];
    args.extend(["--report", &report, "-o", &model, "-q"]);
    args.extend_from_slice(extra);
    assert_ok(&s.gmm(&args));
    s.json(&report)
}

fn assert_matches_reference(cov: &str) {
    let s = Scratch::new();
    let report = fit_from_start(&s, cov, &small("data.npy"), &[]);
    let reference = read_json(Path::new(&small("reference.json")));
    assert_eq!(report["n_iter"], 10);
    let expected = as_f64(&reference[cov]["log_likelihood"][9]);
    assert_rel(as_f64(&report["final_log_likelihood"]), expected, 1e-9, cov);
    let trace = f64_list(&report["log_likelihood"]);
    let ref_trace = f64_list(&reference[cov]["log_likelihood"]);
    assert_eq!(trace.len(), ref_trace.len());
    for (i, (a, b)) in trace.iter().zip(&ref_trace).enumerate() {
        assert_rel(*a, *b, 1e-9, &format!("{cov} iteration {}", i + 1));
    }
}

#[test]
fn matches_sklearn_reference_full() {
    assert_matches_reference("full");
}

#[test]
fn matches_sklearn_reference_diag() {
    assert_matches_reference("diag");
}

#[test]
fn matches_sklearn_reference_spherical() {
    assert_matches_reference("spherical");
}

#[test]
fn matches_sklearn_reference_tied() {
    assert_matches_reference("tied");
}

#[test]
fn max_iter_zero_returns_the_start_model() {
    let s = Scratch::new();
    let data = small("data.npy");
    for cov in ["full", "diag", "spherical", "tied"] {
        let init = small(&format!("init_{cov}.json"));
        let path = format!("out/{cov}.json");
        assert_ok(&s.gmm(&["fit", &data, "--init", &init, "--max-iter", "0", "-o", &path, "-q"]));
        let (written, start) = (s.json(&path), read_json(Path::new(&init)));
        assert_eq!(written["covariance_type"], start["covariance_type"]);
        for key in ["weights", "means", "covariances"] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            numbers(&written[key], &mut a);
            numbers(&start[key], &mut b);
            assert_eq!(a, b, "{cov}: {key} changed with --max-iter 0");
        }
    }
}

#[test]
fn score_matches_the_fit_report() {
    let s = Scratch::new();
    let (_, report) = fit_faithful(&s);
    let expected = as_f64(&report["final_log_likelihood"]);
    let n = 272;
    for per_sample in ["out/ps.npy", "out/ps.txt"] {
        let text =
            assert_ok(&s.gmm(&["score", "out/m.json", &faithful(), "--per-sample", per_sample]));
        assert_eq!(text.lines().count(), 1, "score prints one number: {text:?}");
        let score: f64 = text.trim().parse().expect("a number");
        assert_rel(score, expected, 1e-12, "score vs final_log_likelihood");
    }
    let from_npy = gmm_io::read_vector(&s.path("out/ps.npy")).unwrap();
    let from_txt: Vec<f64> = std::fs::read_to_string(s.path("out/ps.txt"))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().expect("a number"))
        .collect();
    for values in [&from_npy, &from_txt] {
        assert_eq!(values.len(), n);
        let mean = values.iter().sum::<f64>() / n as f64;
        assert_rel(mean, expected, 1e-12, "mean of --per-sample");
    }
    assert_eq!(from_npy, from_txt, "the text values round-trip exactly");
}

#[test]
fn predict_labels_and_probabilities() {
    let s = Scratch::new();
    fit_faithful(&s);
    let data = faithful();
    let (n, k) = (272, 2);

    let text = assert_ok(&s.gmm(&["predict", "out/m.json", &data]));
    let labels: Vec<usize> = text.lines().map(|l| l.parse().expect("a label")).collect();
    assert_eq!(labels.len(), n);
    assert!(labels.iter().all(|&l| l < k));
    assert!((0..k).all(|c| labels.contains(&c)), "both clusters of faithful are found");

    let proba = parse_rows(&assert_ok(&s.gmm(&["predict", "out/m.json", &data, "--proba"])));
    assert_eq!(proba.len(), n);
    for (i, row) in proba.iter().enumerate() {
        assert_eq!(row.len(), k);
        assert!(row.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!((row.iter().sum::<f64>() - 1.0).abs() <= 1e-12, "row {i} sums to {row:?}");
        if (row[0] - row[1]).abs() > 1e-9 {
            assert_eq!(usize::from(row[1] > row[0]), labels[i], "the label is the likeliest");
        }
    }

    let out = s.gmm(&["predict", "out/m.json", &data, "-o", "out/labels.npy"]);
    assert_ok(&out);
    assert!(out.stdout.is_empty());
    let from_npy: Vec<usize> = read_npy_i64(&s.path("out/labels.npy"))
        .into_iter()
        .map(|l| usize::try_from(l).unwrap())
        .collect();
    assert_eq!(from_npy, labels);

    assert_ok(&s.gmm(&["predict", "out/m.json", &data, "--proba", "-o", "out/proba.npy"]));
    let m = gmm_io::read_matrix(&s.path("out/proba.npy")).unwrap().into_f64();
    assert_eq!((m.n_rows(), m.n_cols()), (n, k));
    for (i, row) in proba.iter().enumerate() {
        assert_eq!(m.row(i), row.as_slice(), "row {i}: .npy and text agree");
    }
}

#[test]
fn sample_is_reproducible() {
    let s = Scratch::new();
    fit_faithful(&s);
    let draw = |seed: &str, tag: &str| -> (Vec<u8>, Vec<u8>) {
        let (x, l) = (format!("out/s-{tag}.npy"), format!("out/l-{tag}.txt"));
        let args = ["sample", "out/m.json", "-n", "500", "--seed", seed, "-o", &x, "--labels", &l];
        assert_ok(&s.gmm(&args));
        (std::fs::read(s.path(&x)).unwrap(), std::fs::read(s.path(&l)).unwrap())
    };
    let a = draw("3", "a");
    let b = draw("3", "b");
    let c = draw("4", "c");
    assert!(a == b, "the same seed gives the same files");
    assert!(a.0 != c.0 && a.1 != c.1, "another seed gives other samples");

    let x = gmm_io::read_matrix(&s.path("out/s-a.npy")).unwrap();
    assert_eq!((x.n_rows(), x.n_cols()), (500, 2));
    let labels: Vec<usize> =
        String::from_utf8(a.1).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(labels.len(), 500);
    assert!(labels.iter().all(|&l| l < 2));
}

#[test]
fn sample_weights_change_the_fit() {
    let s = Scratch::new();
    let data = small("data.npy");
    let plain = fit_from_start(&s, "full", &data, &[]);
    let plain_model = std::fs::read(s.path("out/m-full.json")).unwrap();
    let weighted = fit_from_start(&s, "full", &data, &["--weights", &small("data_weights.npy")]);
    let weighted_model = std::fs::read(s.path("out/m-full.json")).unwrap();
    assert!(plain_model != weighted_model, "--weights changed nothing in the model");
    let (a, b) =
        (as_f64(&plain["final_log_likelihood"]), as_f64(&weighted["final_log_likelihood"]));
    assert!(a.is_finite() && b.is_finite());
    assert_ne!(a, b, "--weights changed nothing in the log-likelihood");
}

#[test]
fn help_exits_zero() {
    for args in [&["--help"][..], &["fit", "--help"], &["score", "--help"], &["--version"]] {
        let text = assert_ok(&gmm(args));
        assert!(!text.is_empty(), "{args:?} prints something");
    }
    assert!(stdout(&gmm(&["fit", "--help"])).contains("--covariance"));
}

#[test]
fn float32_input_fits_in_float32() {
    let s = Scratch::new();
    let x64 = gmm_io::read_matrix(Path::new(&small("data.npy"))).unwrap().into_f64();
    let n_cols = x64.n_cols();
    let x32: Vec<f32> = x64.into_vec().into_iter().map(|v| v as f32).collect();
    gmm_io::write_npy_f32(&s.path("x32.npy"), &Matrix::from_vec(x32, n_cols).unwrap()).unwrap();

    let r32 = fit_from_start(&s, "full", "x32.npy", &[]);
    assert_eq!(r32["dtype"], "float32");
    let r64 = fit_from_start(&s, "full", &small("data.npy"), &[]);
    assert_eq!(r64["dtype"], "float64");
    let (a, b) = (as_f64(&r32["final_log_likelihood"]), as_f64(&r64["final_log_likelihood"]));
    assert_rel(a, b, 1e-5, "float32 vs float64");
}

#[path = "cli/scale.rs"]
mod scale;
#[path = "cli/select_classify.rs"]
mod select_classify;
// ---------------------------------------------------------------------------------------------
// Speech commands: ubm, adapt, llr, stats
// ---------------------------------------------------------------------------------------------

/// Writes `n` f32 frames drawn from `model` to `name` in the scratch directory.
fn write_frames(
    s: &Scratch,
    name: &str,
    model: &gmm_core::GaussianMixture<f32>,
    n: usize,
    seed: u64,
) {
    let (x, _) = model.sample(n, seed).expect("sampling works");
    gmm_io::write_npy_f32(&s.path(name), &x).expect("frames are written");
}

#[test]
fn speech_commands_train_adapt_score_and_collect_statistics() {
    use gmm_core::{CovarianceType, GaussianMixture};
    let s = Scratch::new();
    let background = GaussianMixture::<f32>::random(CovarianceType::Diag, 4, 3, 3.0, 1).unwrap();
    let speaker = GaussianMixture::<f32>::random(CovarianceType::Diag, 4, 3, 3.0, 2).unwrap();
    write_frames(&s, "a.npy", &background, 2000, 3);
    write_frames(&s, "b.npy", &speaker, 500, 4);
    s.write("train.list", "# background frames\na.npy\n\n");
    assert_ok(&s.gmm(&["ubm", "train.list", "-k", "4", "-o", "out/ubm.json", "-q"]));
    assert_eq!(as_array(&s.json("out/ubm.json")["weights"]).len(), 4);
    assert_ok(&s.gmm(&["adapt", "out/ubm.json", "b.npy", "-o", "out/spk.json"]));

    let ubm = gmm_io::read_model::<f32>(&s.path("out/ubm.json")).unwrap();
    let spk = gmm_io::read_model::<f32>(&s.path("out/spk.json")).unwrap();
    use gmm_speech::TopC;
    for (top_c, extra) in [
        (None, vec![]),
        (Some(TopC::new(2)), vec!["--top-c", "2"]),
        (Some(TopC::new(3).beam(1.5)), vec!["--top-c", "3", "--beam", "1.5"]),
    ] {
        let mut args = vec!["llr", "out/spk.json", "out/ubm.json", "b.npy", "a.npy"];
        args.extend(extra);
        let out = assert_ok(&s.gmm(&args));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        let mut scores = Vec::new();
        for (line, name) in lines.iter().zip(["b.npy", "a.npy"]) {
            let (file, score) = line.rsplit_once('\t').expect("name<TAB>score");
            assert_eq!(file, name);
            let x = match gmm_io::read_npy(&s.path(name)).unwrap() {
                gmm_io::DataMatrix::F32(m) => m,
                gmm_io::DataMatrix::F64(_) => unreachable!("written as f32"),
            };
            let want = gmm_speech::llr(&spk, &ubm, x.samples(), top_c).unwrap();
            let got: f64 = score.parse().expect("a number");
            assert_rel(got, want, 1e-12, "llr");
            scores.push(got);
        }
        assert!(scores[0] > scores[1], "the speaker's own frames score higher: {scores:?}");
    }

    assert_ok(&s.gmm(&["stats", "out/ubm.json", "a.npy", "b.npy", "-o", "out/bw"]));
    let zeroth = gmm_io::read_npy(&s.path("out/bw.zeroth.npy")).unwrap().into_f64();
    let first = gmm_io::read_npy(&s.path("out/bw.first.npy")).unwrap().into_f64();
    assert_eq!((zeroth.n_rows(), zeroth.n_cols()), (2, 4));
    assert_eq!((first.n_rows(), first.n_cols()), (2, 12));
    for (row, n) in [(0, 2000.0), (1, 500.0)] {
        assert_rel(zeroth.row(row).iter().sum::<f64>(), n, 1e-6, "occupancies sum to frames");
    }
}

#[test]
fn speech_commands_refuse_bad_input_in_one_line() {
    use gmm_core::{CovarianceType, GaussianMixture};
    let s = Scratch::new();
    let model = GaussianMixture::<f32>::random(CovarianceType::Diag, 2, 2, 3.0, 1).unwrap();
    write_frames(&s, "a.npy", &model, 300, 3);
    assert_ok(&s.gmm(&["ubm", "a.npy", "-k", "2", "-o", "ubm.json", "-q"]));
    let out = s.gmm(&["adapt", "ubm.json", "a.npy", "-o", "out/x.json", "--relevance", "0"]);
    assert_one_line_error(&out, &["relevance"]);
    let out = s.gmm(&["llr", "ubm.json", "ubm.json", "missing.npy"]);
    assert_one_line_error(&out, &["missing.npy"]);
    let out = s.gmm(&["llr", "ubm.json", "ubm.json", "a.npy", "--top-c", "0"]);
    assert_one_line_error(&out, &["top-C"]);
    let out = s.gmm(&["llr", "ubm.json", "ubm.json", "a.npy", "--top-c", "2", "--beam=-1"]);
    assert_one_line_error(&out, &["beam"]);
    let out = s.gmm(&["ubm", "a.npy", "-k", "1000", "-o", "out/u.json", "-q"]);
    assert_one_line_error(&out, &["300 frames"]);
    s.write("empty.list", "# nothing\n");
    let out = s.gmm(&["stats", "ubm.json", "empty.list", "-o", "out/bw"]);
    assert_one_line_error(&out, &["no frame files"]);
    s.assert_no_output();
}

// ---------------------------------------------------------------------------------------------
// fit --method online | vb | map, --init-resp
// ---------------------------------------------------------------------------------------------

fn vb_data(name: &str) -> String {
    arg(&root().join("tests/data/vb").join(name)).to_owned()
}

#[test]
fn every_method_writes_a_model_and_a_report() {
    let s = Scratch::new();
    let data = faithful();
    for method in ["em", "online", "vb", "map"] {
        let out = fit_to_out(&s, &data, "3", &["--method", method, "--seed", "2"]);
        assert_ok(&out);
        let report = s.json("out/r.json");
        let model = s.json("out/m.json");
        assert_eq!(report["method"], method);
        let objective =
            if method == "vb" { "lower_bound_per_sample" } else { "mean_log_likelihood" };
        assert_eq!(report["objective"], objective);
        assert_eq!(report.get("active_components").is_some(), method == "vb", "{method}");
        assert!(as_f64(&report["final_log_likelihood"]).is_finite());
        assert_eq!(f64_list(&model["weights"]).len(), 3);
        if method == "online" {
            assert_eq!(report["n_iter"].as_u64(), Some(3), "three epochs by default");
        }
    }
}

#[test]
fn vb_prunes_and_the_resp_start_sets_k() {
    let s = Scratch::new();
    let sampled = vb_data("sampled.npy");
    let out = fit_to_out(
        &s,
        &sampled,
        "10",
        &["--method", "vb", "--covariance", "diag", "--max-iter", "1000", "--tol", "1e-8"],
    );
    assert_ok(&out);
    assert_eq!(s.json("out/r.json")["active_components"].as_u64(), Some(3));
    let resp = vb_data("resp_sampled.npy");
    let out = s.gmm(&[
        "fit",
        &sampled,
        "--init-resp",
        &resp,
        "--method",
        "vb",
        "--prior",
        "dirichlet-distribution",
        "-o",
        "out/m.json",
        "--report",
        "out/r.json",
        "-q",
    ]);
    assert_ok(&out);
    assert_eq!(s.json("out/r.json")["n_components"].as_u64(), Some(6));
}

#[test]
fn online_takes_the_map_prior() {
    let s = Scratch::new();
    let data = faithful();
    let means = |extra: &[&str]| {
        let mut a = vec!["--method", "online", "--seed", "2", "--batch-size", "1"];
        a.extend_from_slice(extra);
        let out = fit_to_out(&s, &data, "3", &a);
        assert_ok(&out);
        as_array(&s.json("out/m.json")["means"]).iter().flat_map(f64_list).collect::<Vec<f64>>()
    };
    let spread = |m: &[f64]| {
        (0..2).map(|j| (m[j] - m[2 + j]).abs().max((m[j] - m[4 + j]).abs())).fold(0.0, f64::max)
    };
    let plain = means(&[]);
    // Overwhelming shrinkage pulls every mean to the prior's mean (the data mean).
    let shrunk = means(&["--prior-map", "--shrinkage", "1e12"]);
    assert!(spread(&plain) > 1.0, "{plain:?}");
    assert!(spread(&shrunk) < 1e-3 * spread(&plain), "{shrunk:?}");
    let fresh = Scratch::new();
    assert_fit_fails(&fresh, &data, "2", &["--method", "em", "--prior-map"], &["--prior-map"]);
}

#[test]
fn bad_method_options_fail_cleanly() {
    let s = Scratch::new();
    let data = faithful();
    assert_fit_fails(&s, &data, "2", &["--method", "online", "--step-kappa", "0.4"], &["kappa"]);
    assert_fit_fails(&s, &data, "2", &["--method", "online", "--batch-size", "0"], &["batch size"]);
    assert_fit_fails(
        &s,
        &data,
        "2",
        &["--method", "vb", "--weight-concentration", "-1"],
        &["concentration"],
    );
    assert_fit_fails(&s, &data, "2", &["--method", "map", "--shrinkage", "-1"], &["shrinkage"]);
    let resp = vb_data("resp_sampled.npy");
    assert_fit_fails(&s, &data, "6", &["--init-resp", &resp], &["responsibilities"]);
    assert_fit_fails(&s, &data, "3", &["--init-resp", &resp], &["disagrees"]);
}

#[path = "cli/defaults_limits.rs"]
mod defaults_limits;

#[path = "cli/walkthrough.rs"]
mod walkthrough;

#[path = "cli/hardening.rs"]
mod hardening;
