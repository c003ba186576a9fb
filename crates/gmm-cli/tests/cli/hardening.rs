//! Issue 15 (part B): outputs that never destroy, no aborts on any input, honest messages.
//! The bad-input tables: output targets, paths that collide, resource limits, inputs that read
//! forever, header detection, negative option values, and the messages of item 16.
//!
//! Devices are made here with `mknod` in a temporary directory (root only; the tests that need
//! one say so and pass elsewhere), never the system's `/dev` files.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use super::*;

type GaussianMixtureF32 = gmm_core::GaussianMixture<f32>;

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A character device `(major, minor)` at `path` (1,3: null; 1,7: full), if we may make one.
fn mknod(path: &Path, major: u32, minor: u32) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Releases a helper thread still blocked opening the FIFO at `path` because `gmm` never
/// opened it (a failure would otherwise hang the test): opens both ends without blocking.
fn unblock(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000; // Linux
    let _ = std::fs::File::options().read(true).custom_flags(O_NONBLOCK).open(path);
    let _ = std::fs::File::options().write(true).custom_flags(O_NONBLOCK).open(path);
}

/// Reads a FIFO to its end in a thread.
fn drain(path: PathBuf) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::fs::File::open(path).unwrap().read_to_end(&mut bytes).unwrap();
        bytes
    })
}

/// Feeds a FIFO with `chunk` until the reader leaves (or `limit` bytes), in a thread.
fn feed(path: PathBuf, chunk: Vec<u8>, limit: usize) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut out = std::fs::File::options().write(true).open(path).unwrap();
        let mut written = 0;
        while written < limit && out.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
        written
    })
}

/// Runs `gmm` in `s` with standard input from `input`.
fn gmm_stdin(s: &Scratch, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gmm"))
        .args(args)
        .current_dir(s.path(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gmm runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("gmm ends");
    writer.join().unwrap();
    out
}

const MODEL: &str = r#"{"covariance_type": "diag", "weights": [0.5, 0.5],
    "means": [[2.0, 55.0], [4.3, 80.0]], "covariances": [[0.1, 30.0], [0.2, 35.0]]}"#;

// ---------------------------------------------------------------------------------------------
// Output targets (item 1)
// ---------------------------------------------------------------------------------------------

#[test]
fn outputs_through_a_fifo_are_written_not_replaced() {
    let s = Scratch::new();
    mkfifo(&s.path("pipe.json"));
    let reader = drain(s.path("pipe.json"));
    let out = s.gmm(&["fit", &faithful(), "-k", "2", "-o", "pipe.json", "-q"]);
    unblock(&s.path("pipe.json"));
    assert_ok(&out);
    let text = String::from_utf8(reader.join().unwrap()).unwrap();
    assert!(text.contains("\"covariance_type\": \"full\""), "{text}");
    assert!(std::fs::symlink_metadata(s.path("pipe.json")).unwrap().file_type().is_fifo());
    // predict -o, score --per-sample and sample -o through a FIFO too.
    s.write("m.json", MODEL);
    mkfifo(&s.path("pipe.txt"));
    for args in [
        vec!["predict", "m.json", &faithful(), "-o", "pipe.txt"],
        vec!["score", "m.json", &faithful(), "--per-sample", "pipe.txt"],
        vec!["sample", "m.json", "-n", "5", "-o", "pipe.txt"],
    ] {
        let reader = drain(s.path("pipe.txt"));
        let out = s.gmm(&args);
        unblock(&s.path("pipe.txt"));
        assert_ok(&out);
        assert!(!reader.join().unwrap().is_empty(), "{args:?}");
        assert!(std::fs::symlink_metadata(s.path("pipe.txt")).unwrap().file_type().is_fifo());
    }
}

#[test]
fn outputs_to_a_character_device_are_written_not_replaced() {
    let s = Scratch::new();
    if !mknod(&s.path("null"), 1, 3) {
        eprintln!("skipped: mknod needs root");
        return;
    }
    s.write("m.json", MODEL);
    for args in [
        vec!["fit", &faithful(), "-k", "2", "-o", "null", "--report", "null", "-q"],
        vec!["predict", "m.json", &faithful(), "-o", "null"],
        vec!["score", "m.json", &faithful(), "--per-sample", "null"],
        vec!["sample", "m.json", "-n", "5", "-o", "null", "--labels", "null"],
    ] {
        let out = s.gmm(&args);
        assert_ok(&out);
        let meta = std::fs::symlink_metadata(s.path("null")).unwrap();
        assert!(meta.file_type().is_char_device(), "{args:?} replaced the device");
    }
    // A link to the device: still written through.
    std::os::unix::fs::symlink("null", s.path("link")).unwrap();
    assert_ok(&s.gmm(&["sample", "m.json", "-n", "5", "-o", "link"]));
    assert!(std::fs::symlink_metadata(s.path("null")).unwrap().file_type().is_char_device());
    assert!(std::fs::symlink_metadata(s.path("link")).unwrap().file_type().is_symlink());
}

#[test]
fn symbolic_links_are_followed_and_permissions_kept() {
    let s = Scratch::new();
    s.write("real.json", "old");
    std::fs::set_permissions(s.path("real.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink("real.json", s.path("link.json")).unwrap();
    assert_ok(&s.gmm(&["fit", &faithful(), "-k", "2", "-o", "link.json", "-q"]));
    assert!(std::fs::symlink_metadata(s.path("link.json")).unwrap().file_type().is_symlink());
    let model = s.json("real.json");
    assert_eq!(as_array(&model["weights"]).len(), 2);
    let mode = std::fs::metadata(s.path("real.json")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the 0600 file kept its mode");
}

#[test]
fn dash_is_standard_output_and_standard_input() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    let out = assert_ok(&s.gmm(&["sample", "m.json", "-n", "4", "-o", "-", "--seed", "3"]));
    assert_eq!(parse_rows(&out).len(), 4);
    let labels = assert_ok(&s.gmm(&["predict", "m.json", &faithful(), "-o", "-"]));
    assert_eq!(labels.lines().count(), 272);
    // A model from standard input, data from a file; data from standard input.
    let csv = std::fs::read(faithful()).unwrap();
    let a = assert_ok(&gmm_stdin(&s, &["score", "-", &faithful()], MODEL.as_bytes()));
    let b = assert_ok(&gmm_stdin(&s, &["score", "m.json", "-"], &csv));
    assert_eq!(a, b);
    // .npy on standard input.
    let x = gmm_io::read_matrix(Path::new(&faithful())).unwrap().into_f64();
    gmm_io::write_npy_f64(&s.path("x.npy"), &x).unwrap();
    let npy = std::fs::read(s.path("x.npy")).unwrap();
    let c = assert_ok(&gmm_stdin(&s, &["score", "m.json", "-"], &npy));
    assert_eq!(a, c);
    // fit reads standard input and writes standard output: a filter.
    let model = assert_ok(&gmm_stdin(&s, &["fit", "-", "-k", "2", "-q"], &csv));
    assert!(model.contains("\"weights\""), "{model}");
    let out = s.gmm(&["score", "-", "-"]);
    assert_one_line_error(&out, &["MODEL and DATA both read standard input"]);
    let out = s.gmm(&["fit", &faithful(), "-k", "2", "-o", "-", "--report", "-", "-q"]);
    assert_one_line_error(&out, &["-o and --report both write to standard output"]);
}

// ---------------------------------------------------------------------------------------------
// Outputs equal to inputs (item 2)
// ---------------------------------------------------------------------------------------------

#[test]
fn an_output_that_is_an_input_is_refused() {
    let s = Scratch::new();
    let csv = std::fs::read(faithful()).unwrap();
    s.write("x.csv", &csv);
    s.write("m.json", MODEL);
    std::os::unix::fs::symlink("m.json", s.path("m-link.csv")).unwrap();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["fit", "x.csv", "-k", "2", "-o", "x.csv"], vec!["-o x.csv is the input DATA x.csv"]),
        (
            vec!["fit", "x.csv", "-k", "2", "-o", "out/r.json", "--report", "out/r.json"],
            vec!["-o out/r.json and --report out/r.json are the same file"],
        ),
        (vec!["fit", "x.csv", "-k", "2", "--report", "x.csv"], vec!["--report x.csv is the input"]),
        (vec!["fit", "x.csv", "--init", "m.json", "-o", "m.json"], vec!["is the input --init"]),
        (
            vec!["sample", "m.json", "-n", "3", "-o", "m-link.csv"],
            vec!["-o m-link.csv is the input MODEL m.json"],
        ),
        (
            vec!["sample", "m.json", "-n", "3", "-o", "out/s.csv", "--labels", "out/s.csv"],
            vec!["same file"],
        ),
        (vec!["predict", "m.json", "x.csv", "-o", "./x.csv"], vec!["is the input DATA"]),
        (vec!["score", "m.json", "x.csv", "--per-sample", "x.csv"], vec!["is the input DATA"]),
        (vec!["select", "x.csv", "-k", "1", "--report", "x.csv"], vec!["is the input DATA"]),
        (vec!["plot", "m.json", "x.csv", "-o", "out/p.svg"], vec![]),
    ];
    for (args, needles) in cases {
        let before = std::fs::read(s.path("x.csv")).unwrap();
        let out = s.gmm(&args);
        if needles.is_empty() {
            assert_ok(&out);
            std::fs::remove_file(s.path("out/p.svg")).unwrap();
            continue;
        }
        assert_one_line_error(&out, &needles);
        assert_eq!(std::fs::read(s.path("x.csv")).unwrap(), before, "{args:?}");
        assert_eq!(std::fs::read_to_string(s.path("m.json")).unwrap(), MODEL, "{args:?}");
        s.assert_no_output();
    }
}

// ---------------------------------------------------------------------------------------------
// Signals (item 3) and standard output (item 4)
// ---------------------------------------------------------------------------------------------

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".gmm-"))
        .collect()
}

#[test]
fn a_signal_during_a_write_leaves_no_temporary_file() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    for signal in ["TERM", "INT"] {
        // Writing millions of CSV rows takes long enough to be caught in the act.
        let mut child = Command::new(env!("CARGO_BIN_EXE_gmm"))
            .args(["sample", "m.json", "-n", "4000000", "-o", "out/big.csv"])
            .current_dir(s.path(""))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while temporaries(&s.path("out")).is_empty() {
            assert!(start.elapsed().as_secs() < 60, "no temporary file appeared");
            assert!(child.try_wait().unwrap().is_none(), "gmm ended before the signal");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        let number = if signal == "TERM" { 15 } else { 2 };
        assert_eq!(status.signal(), Some(number), "{status:?}");
        assert_eq!(temporaries(&s.path("out")), Vec::<String>::new(), "SIG{signal}");
        s.assert_no_output();
    }
}

/// Runs `gmm args` with its standard output a pipe whose reading end is closed before the
/// process starts, so its first write fails whatever the scheduling (closing the end after
/// the spawn raced with a fast `--help`, which could fill the pipe's buffer first and exit 0).
fn with_closed_stdout(s: &Scratch, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_gmm"))
        .args(args)
        .current_dir(s.path(""))
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    let frames = GaussianMixtureF32::random(gmm_core::CovarianceType::Diag, 2, 2, 3.0, 1).unwrap();
    let (x, _) = frames.sample(400, 1).unwrap();
    gmm_io::write_npy_f32(&s.path("a.npy"), &x).unwrap();
    assert_ok(&s.gmm(&["ubm", "a.npy", "-k", "2", "-o", "ubm.json", "-q"]));
    let iris = arg(&root().join("data/iris.csv")).to_owned();
    for args in [
        vec!["fit", &faithful(), "-k", "2", "-q"],
        vec!["score", "m.json", &faithful()],
        vec!["predict", "m.json", &faithful()],
        vec!["sample", "m.json", "-n", "100000", "-o", "-"],
        vec!["select", &faithful(), "-k", "1..2", "--covariance", "diag"],
        vec!["classify", "train", &iris, "--label-column", "species", "-q"],
        vec!["llr", "ubm.json", "ubm.json", "a.npy"],
        vec!["--help"],
    ] {
        let out = with_closed_stdout(&s, &args);
        assert_eq!(stderr(&out), "", "{args:?} wrote to standard error");
        assert_eq!(out.status.signal(), Some(13), "{args:?}: {:?}", out.status);
    }
}

#[test]
fn a_failing_standard_output_is_one_line() {
    let s = Scratch::new();
    if !mknod(&s.path("full"), 1, 7) {
        eprintln!("skipped: mknod needs root");
        return;
    }
    s.write("m.json", MODEL);
    for args in [
        vec!["fit", &faithful(), "-k", "2", "-q"],
        vec!["score", "m.json", &faithful()],
        vec!["select", &faithful(), "-k", "1", "--covariance", "diag"],
    ] {
        let full = std::fs::File::options().write(true).open(s.path("full")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_gmm"))
            .args(&args)
            .current_dir(s.path(""))
            .stdout(full)
            .output()
            .unwrap();
        assert_one_line_error(&out, &["cannot write to standard output", "No space left"]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Resources (items 5, 6)
// ---------------------------------------------------------------------------------------------

#[test]
fn requests_too_large_for_memory_are_refused_in_one_line() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    let out = s.gmm(&["sample", "m.json", "-n", "100000000000", "-o", "out/s.npy"]);
    assert_one_line_error(&out, &["drawing 100000000000 samples", "needs 2.4 TB", "available"]);
    // Two rows, 40,000 columns, a full covariance: k d² alone is 12.8 GB a copy.
    let row: Vec<String> = (0..40_000).map(|j| (j % 7).to_string()).collect();
    let row = row.join(",");
    s.write("wide.csv", format!("{row}\n{row}\n"));
    let out = s.gmm(&["fit", "wide.csv", "-k", "1", "-o", "out/m.json", "-q"]);
    assert_one_line_error(
        &out,
        &["wide.csv", "full component in 40000 dimensions", "--covariance diag"],
    );
    s.assert_no_output();
}

#[test]
fn inputs_that_read_forever_stop_at_once() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    // A FIFO of zeros (as /dev/zero) as data, as a model, as a list, through a link.
    std::fs::create_dir(s.path("in")).unwrap();
    for (name, args, needle) in [
        ("zero.csv", vec!["fit", "in/zero.csv", "-k", "1", "-o", "out/m.json"], "NUL"),
        ("zero.json", vec!["score", "in/zero.json", &faithful()], "NUL"),
        ("zero.list", vec!["ubm", "in/zero.list", "-k", "1", "-o", "out/u.json"], "NUL"),
        ("link.txt", vec!["fit", "in/link.txt", "-k", "1", "-o", "out/m.json"], "NUL"),
    ] {
        let fifo = s.path("in/zero.fifo");
        let _ = std::fs::remove_file(&fifo);
        mkfifo(&fifo);
        let _ = std::fs::remove_file(s.path("in").join(name));
        std::os::unix::fs::symlink("zero.fifo", s.path("in").join(name)).unwrap();
        let writer = feed(fifo.clone(), vec![0u8; 1 << 16], 1 << 34);
        let out = s.gmm(&args);
        unblock(&fifo);
        assert_one_line_error(&out, &[needle]);
        assert!(writer.join().unwrap() < 1 << 28, "{name}: read far too much");
    }
    // A line that never ends.
    let fifo = s.path("in/ones.csv");
    mkfifo(&fifo);
    let writer = feed(fifo.clone(), vec![b'1'; 1 << 16], 1 << 34);
    let out = s.gmm(&["fit", "in/ones.csv", "-k", "1", "-o", "out/m.json"]);
    unblock(&fifo);
    assert_one_line_error(&out, &["line 1 is longer than 64 MiB"]);
    assert!(writer.join().unwrap() < 1 << 28);
    s.assert_no_output();
}

#[test]
fn an_npy_file_from_a_fifo_is_read() {
    let s = Scratch::new();
    let x = gmm_io::read_matrix(Path::new(&faithful())).unwrap().into_f64();
    gmm_io::write_npy_f64(&s.path("x.npy"), &x).unwrap();
    let bytes = std::fs::read(s.path("x.npy")).unwrap();
    mkfifo(&s.path("pipe.npy"));
    let writer = feed(s.path("pipe.npy"), bytes.clone(), bytes.len());
    s.write("m.json", MODEL);
    let out = s.gmm(&["score", "m.json", "pipe.npy"]);
    unblock(&s.path("pipe.npy"));
    let from_fifo = assert_ok(&out);
    writer.join().unwrap();
    assert_eq!(from_fifo, assert_ok(&s.gmm(&["score", "m.json", "x.npy"])));
}

// ---------------------------------------------------------------------------------------------
// Silent wrong answers (items 10, 11, 13)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_mixed_first_row_is_an_error_naming_the_cell() {
    let s = Scratch::new();
    for (text, cell) in [
        ("1e5x,2\n1,2\n3,4\n5,6\n", "\"1e5x\""),
        ("1.2.3,4\n1,2\n3,4\n5,6\n", "\"1.2.3\""),
        ("0x10,2\n1,2\n3,4\n5,6\n", "\"0x10\""),
    ] {
        s.write("mixed.csv", text);
        let out = s.gmm(&["fit", "mixed.csv", "-k", "1", "-o", "out/m.json", "-q"]);
        assert_one_line_error(&out, &["mixed.csv", "line 1, column 1", cell, "not a header"]);
    }
    // A header has no numeric cell, and then nothing is dropped.
    s.write("named.csv", "a,b\n1,2\n3,4\n5,7\n");
    assert_ok(&s.gmm(&[
        "fit",
        "named.csv",
        "-k",
        "1",
        "-o",
        "out/m.json",
        "--report",
        "out/r.json",
        "-q",
    ]));
    assert_eq!(s.json("out/r.json")["n_samples"], 3);
}

#[test]
fn float32_keeps_the_fit_of_data_far_from_the_origin() {
    let s = Scratch::new();
    // Two clusters at 1e8 (the issue's case): float32 holds 1e8 to within 4.
    let x = gmm_io::read_matrix(Path::new(&faithful())).unwrap().into_f64();
    let shifted: Vec<f64> = x.as_slice().iter().map(|v| v + 1e8).collect();
    let shifted = Matrix::from_vec(shifted, 2).unwrap();
    gmm_io::write_csv_matrix(&s.path("far.csv"), &shifted, Some(&["a", "b"])).unwrap();
    let fit = |dtype: &str, name: &str| {
        let out = s.gmm(&[
            "fit",
            "far.csv",
            "-k",
            "2",
            "--dtype",
            dtype,
            "-o",
            &format!("out/{name}.json"),
            "--report",
            &format!("out/{name}.r.json"),
            "-q",
            "--seed",
            "1",
        ]);
        assert_ok(&out);
        stderr(&out)
    };
    assert_eq!(fit("f64", "m64"), "");
    let note = fit("f32", "m32");
    assert!(note.contains("centred in float64"), "{note}");
    let ll = |name: &str| as_f64(&s.json(&format!("out/{name}.r.json"))["final_log_likelihood"]);
    assert_rel(ll("m32"), ll("m64"), 1e-6, "float32 vs float64 at 1e8");
    // The model is in the data's frame, with its means' digits (written in float64).
    let means: Vec<f64> =
        as_array(&s.json("out/m32.json")["means"]).iter().flat_map(f64_list).collect();
    let means64: Vec<f64> =
        as_array(&s.json("out/m64.json")["means"]).iter().flat_map(f64_list).collect();
    for (a, b) in means.iter().zip(&means64) {
        assert!((a - b).abs() < 1e-3, "{means:?} vs {means64:?}");
    }
    // Scoring in float32 is shifted the same way.
    let a: f64 = assert_ok(&s.gmm(&["score", "out/m64.json", "far.csv", "--dtype", "f32"]))
        .trim()
        .parse()
        .unwrap();
    let b: f64 = assert_ok(&s.gmm(&["score", "out/m64.json", "far.csv"])).trim().parse().unwrap();
    assert_rel(a, b, 1e-6, "score in float32 vs float64");
}

#[test]
fn outputs_take_their_format_from_the_extension_or_are_refused() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    for (args, needle) in [
        (vec!["sample", "m.json", "-n", "3", "-o", "out/s.json"], "-o out/s.json"),
        (
            vec!["sample", "m.json", "-n", "3", "-o", "out/s.csv", "--labels", "out/l.json"],
            "--labels",
        ),
        (vec!["predict", "m.json", &faithful(), "-o", "out/p.json"], "-o out/p.json"),
        (vec!["score", "m.json", &faithful(), "--per-sample", "out/p.parquet"], ".parquet"),
    ] {
        let out = s.gmm(&args);
        assert_one_line_error(&out, &[needle, ".npy, .csv, .tsv or .txt"]);
        s.assert_no_output();
    }
    assert_ok(&s.gmm(&["sample", "m.json", "-n", "3", "-o", "out/s.tsv"]));
    let text = std::fs::read_to_string(s.path("out/s.tsv")).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().all(|l| l.split('\t').count() == 2), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Messages (item 16) and plot axes (item 17)
// ---------------------------------------------------------------------------------------------

#[test]
fn negative_option_values_are_named() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    let data = faithful();
    for (args, needles) in [
        (vec!["fit", &data, "-k", "2", "--seed", "-1"], vec!["'-1'", "--seed", "negative"]),
        (vec!["fit", &data, "-k", "-1"], vec!["'-1'", "--components", "negative"]),
        (vec!["fit", &data, "-k", "2", "--max-iter", "-5"], vec!["--max-iter", "negative"]),
        (vec!["fit", &data, "-k", "2", "--threads", "-2"], vec!["--threads", "negative"]),
        (vec!["sample", "m.json", "-n", "-3", "-o", "out/s.csv"], vec!["-n", "negative"]),
        (vec!["select", &data, "-k", "-1"], vec!["--components", "\"-1\""]),
        (vec!["fit", &data, "-k", "x"], vec!["\"x\" is not a whole number"]),
    ] {
        let out = s.gmm(&args);
        assert_one_line_error(&out, &needles);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // Negative and infinite reals reach the checks that name them.
    let out = s.gmm(&["fit", &data, "-k", "2", "--tol", "-inf", "-o", "out/m.json"]);
    assert_one_line_error(&out, &["tol"]);
    let out = s.gmm(&["fit", &data, "-k", "2", "--reg-covar", "-.5", "-o", "out/m.json"]);
    assert_one_line_error(&out, &["reg_covar"]);
    s.assert_no_output();
}

#[test]
fn messages_say_what_is_wrong() {
    let s = Scratch::new();
    let model = GaussianMixtureF32::random(gmm_core::CovarianceType::Diag, 2, 2, 3.0, 1).unwrap();
    let (x, _) = model.sample(300, 1).unwrap();
    gmm_io::write_npy_f32(&s.path("a.npy"), &x).unwrap();
    let out = s.gmm(&["ubm", "a.npy", "-k", "2", "--max-frames", "0", "-o", "out/u.json"]);
    assert_one_line_error(&out, &["max_frames is 0"]);
    assert!(!stderr(&out).contains("threads"), "{}", stderr(&out));
    s.write("inner.list", "a.npy\n");
    s.write("outer.list", "# nested\ninner.list\n");
    let out = s.gmm(&["ubm", "outer.list", "-k", "2", "-o", "out/u.json"]);
    assert_one_line_error(
        &out,
        &["outer.list: line 2 names the list file inner.list", "do not nest"],
    );
    // float32 overflow.
    s.write("big.csv", "1,2\n3,1e39\n5,6\n");
    let out = s.gmm(&["fit", "big.csv", "-k", "1", "--dtype", "f32", "-o", "out/m.json"]);
    assert_one_line_error(
        &out,
        &["big.csv", "row 1, column 1", "1e39 overflows float32", "--dtype f64"],
    );
    // Huge numbers in exponent notation, not 300 digits.
    s.write("m.json", MODEL);
    s.write("far.csv", "1e150,1e150\n");
    let out = assert_ok(&s.gmm(&["score", "m.json", "far.csv"]));
    assert!(out.trim().ends_with("e299") || out.trim().ends_with("e300"), "{out}");
    assert!(out.len() < 30, "{out}");
    s.assert_no_output();
}

#[test]
fn plot_axes_are_named_from_the_csv_header() {
    let s = Scratch::new();
    s.write("m.json", MODEL);
    assert_ok(&s.gmm(&["plot", "m.json", &faithful(), "-o", "out/p.svg"]));
    let svg = std::fs::read_to_string(s.path("out/p.svg")).unwrap();
    assert!(svg.contains("eruptions") && svg.contains("waiting"), "axes not named");
    assert!(!svg.contains(">x0<"), "default names used");
    // --names still wins, and data without a header keeps x0/x1.
    assert_ok(&s.gmm(&["plot", "m.json", &faithful(), "-o", "out/q.svg", "--names", "d,w"]));
    let svg = std::fs::read_to_string(s.path("out/q.svg")).unwrap();
    assert!(!svg.contains("eruptions"));
}

// ---------------------------------------------------------------------------------------------
// Segments (item 18)
// ---------------------------------------------------------------------------------------------

#[test]
fn segments_select_row_ranges_for_every_speech_command() {
    use gmm_core::CovarianceType;
    let s = Scratch::new();
    let background = GaussianMixtureF32::random(CovarianceType::Diag, 4, 3, 3.0, 1).unwrap();
    let (a, _) = background.sample(1000, 3).unwrap();
    let (b, _) = background.sample(600, 4).unwrap();
    gmm_io::write_npy_f32(&s.path("a.npy"), &a).unwrap();
    gmm_io::write_npy_f32(&s.path("b.npy"), &b).unwrap();
    s.write("segs", "u1 a.npy 0 400\nu2 a.npy 400 600\n# b\nu3 b.npy 100 500\n");
    s.write(
        "index.csv",
        "utterance,speaker,split,frame_start,frame_count\nu1,a,train,0,400\nu2,a,test,400,600\n\
         u3,b,test,100,500\n",
    );
    // The UBM on segments equals the UBM on the same rows as files.
    let rows = |m: &Matrix<f32>, from: usize, n: usize| {
        Matrix::from_vec(m.as_slice()[from * 3..(from + n) * 3].to_vec(), 3).unwrap()
    };
    gmm_io::write_npy_f32(&s.path("u1.npy"), &rows(&a, 0, 400)).unwrap();
    gmm_io::write_npy_f32(&s.path("u2.npy"), &rows(&a, 400, 600)).unwrap();
    gmm_io::write_npy_f32(&s.path("u3.npy"), &rows(&b, 100, 500)).unwrap();
    assert_ok(&s.gmm(&["ubm", "--segments", "segs", "-k", "4", "-o", "out/u-seg.json", "-q"]));
    assert_ok(&s.gmm(&[
        "ubm",
        "u1.npy",
        "u2.npy",
        "u3.npy",
        "-k",
        "4",
        "-o",
        "out/u-file.json",
        "-q",
    ]));
    assert_eq!(
        std::fs::read_to_string(s.path("out/u-seg.json")).unwrap(),
        std::fs::read_to_string(s.path("out/u-file.json")).unwrap()
    );
    // adapt on the CSV index, filtered; the same as adapting on the file of those rows.
    let csv = ["--segments", "index.csv", "--file-template", "{speaker}.npy"];
    let mut args = vec!["adapt", "out/u-seg.json"];
    args.extend(csv);
    args.extend(["--where", "split=train", "-o", "out/spk.json"]);
    assert_ok(&s.gmm(&args));
    assert_ok(&s.gmm(&["adapt", "out/u-seg.json", "u1.npy", "-o", "out/spk-file.json"]));
    assert_eq!(s.json("out/spk.json"), s.json("out/spk-file.json"));
    // llr: one line per utterance, named.
    let mut args = vec!["llr", "out/spk.json", "out/u-seg.json"];
    args.extend(csv);
    args.extend(["--where", "split=test"]);
    let out = assert_ok(&s.gmm(&args));
    let names: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(names, ["u2", "u3"]);
    let by_file = assert_ok(&s.gmm(&["llr", "out/spk.json", "out/u-seg.json", "u2.npy", "u3.npy"]));
    let scores =
        |t: &str| t.lines().map(|l| l.split('\t').nth(1).unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(scores(&out), scores(&by_file));
    // stats: one row per utterance.
    assert_ok(&s.gmm(&["stats", "out/u-seg.json", "--segments", "segs", "-o", "out/bw"]));
    let zeroth = gmm_io::read_npy(&s.path("out/bw.zeroth.npy")).unwrap().into_f64();
    assert_eq!((zeroth.n_rows(), zeroth.n_cols()), (3, 4));
    for (row, n) in [(0, 400.0), (1, 600.0), (2, 500.0)] {
        assert_rel(zeroth.row(row).iter().sum::<f64>(), n, 1e-6, "occupancy");
    }
    // Ranges past the end of a file are named.
    s.write("bad-segs", "u9 b.npy 500 200\n");
    let out = s.gmm(&["stats", "out/u-seg.json", "--segments", "bad-segs", "-o", "out/x"]);
    assert_one_line_error(&out, &["utterance u9", "rows 500..700", "b.npy", "600 rows"]);
}
