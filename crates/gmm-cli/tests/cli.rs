//! End-to-end tests of the `gmm` binary: every row of the bad-input policy (DESIGN.md §6) ends in
//! exactly one `gmm: error:` line with a non-zero exit status and no output file, and the happy
//! paths of `fit`, `score`, `predict` and `sample` produce what they promise.

use std::ffi::OsStr;
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

