//! End-to-end tests of `gmm plot`: a picture is written on success; a bad dimension, level or
//! extension ends in one `gmm: error:` line, exit status 1 and no file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn faithful() -> String {
    root().join("data/faithful.csv").to_str().expect("UTF-8 path").to_owned()
}

/// A scratch directory holding `model.json`, a 2-component full model of Old Faithful.
struct Scratch {
    dir: TempDir,
}

impl Scratch {
    fn new() -> Self {
        let s = Scratch { dir: tempfile::tempdir().expect("temporary directory") };
        let out = s.gmm(&["fit", &faithful(), "-k", "2", "-o", "model.json", "-q"]);
        assert!(out.status.success(), "fit failed: {}", String::from_utf8_lossy(&out.stderr));
        s
    }

    fn gmm(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gmm"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("the gmm binary runs")
    }

    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("readable")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).expect("file written")
    }
}

/// Exit status 1, nothing on standard output, one `gmm: error:` line containing `needle`, and
/// no picture left behind.
fn assert_refused(s: &Scratch, args: &[&str], needle: &str) {
    let out = s.gmm(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.matches('\n').count(), 1, "one line: {err:?}");
    assert!(err.starts_with("gmm: error:") && err.contains(needle), "{args:?}: {err:?}");
    assert_eq!(s.files(), vec!["model.json"], "{args:?} left a file");
}

#[test]
fn plot_writes_png_and_svg() {
    let s = Scratch::new();
    let data = faithful();
    let out = s.gmm(&[
        "plot",
        "model.json",
        &data,
        "-o",
        "fig.png",
        "--contours",
        "8",
        "--labels",
        "--level",
        "0.9",
        "--dims",
        "0,1",
        "--title",
        "Old Faithful",
        "--width",
        "500",
        "--height",
        "400",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = s.read("fig.png");
    assert_eq!(png[..8], [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']);
    // Width and height from the IHDR chunk.
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 500);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 400);

    let out = s.gmm(&[
        "plot",
        "model.json",
        &data,
        "-o",
        "fig.svg",
        "--posterior",
        "--names",
        "duration,waiting",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8(s.read("fig.svg")).unwrap();
    for needle in ["<svg", "duration", "waiting", "component 1", "75% ellipses", "<circle"] {
        assert!(svg.contains(needle), "SVG lacks {needle:?}");
    }
    // The model alone, dims swapped, no ellipses but contours.
    let out = s.gmm(&[
        "plot",
        "model.json",
        "-o",
        "m.svg",
        "--dims",
        "1,0",
        "--no-ellipses",
        "--contours",
        "3",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8(s.read("m.svg")).unwrap();
    assert!(svg.contains("density, 3 levels") && !svg.contains("component 0"));
    assert_eq!(s.files(), vec!["fig.png", "fig.svg", "m.svg", "model.json"]);
}

#[test]
fn plot_refuses_bad_arguments_and_writes_nothing() {
    let s = Scratch::new();
    let data = faithful();
    assert_refused(&s, &["plot", "model.json", "-o", "fig.jpg"], ".png or .svg");
    assert_refused(&s, &["plot", "model.json", "-o", "fig"], ".png or .svg");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--dims", "0,0"], "must differ");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--dims", "0,2"], "dimension 2");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--dims", "1"], "two dimensions");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--level", "1"], "between 0 and 1");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--level", "0"], "between 0 and 1");
    assert_refused(
        &s,
        &["plot", "model.json", "-o", "fig.png", "--level", "-0.5"],
        "between 0 and 1",
    );
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--labels"], "DATA");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--names", "a"], "two names");
    assert_refused(&s, &["plot", "model.json", "-o", "fig.png", "--width", "0"], "width");
    assert_refused(&s, &["plot", "missing.json", &data, "-o", "fig.png"], "missing.json");
    assert_refused(&s, &["plot", "model.json", &data, "-o", "no/such/dir/fig.png"], "fig.png");
    // A figure that cannot be drawn leaves an existing file as it was.
    std::fs::write(s.dir.path().join("keep.svg"), "old").unwrap();
    let out = s.gmm(&["plot", "model.json", "-o", "keep.svg", "--width", "20000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("gmm: error:") && err.contains("figure width 20000 px"), "{err}");
    assert_eq!(s.read("keep.svg"), b"old");
    assert_eq!(s.files(), vec!["keep.svg", "model.json"]);
    std::fs::remove_file(s.dir.path().join("keep.svg")).unwrap();
    // Data of another dimension than the model.
    let other = tempfile::tempdir().unwrap();
    let three = other.path().join("three.csv");
    std::fs::write(&three, "1,2,3\n4,5,6\n").unwrap();
    assert_refused(
        &s,
        &["plot", "model.json", three.to_str().unwrap(), "-o", "f.png"],
        "three.csv",
    );
}
