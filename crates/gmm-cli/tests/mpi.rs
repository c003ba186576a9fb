//! `gmm fit/ubm/score --mpi` under `mpirun` (only with `--features mpi`; `.ci/run` installs
//! Open MPI and runs these): models byte-identical to one process for 1, 2 and 3 ranks, and a
//! failing rank is one error line naming it, with no output written.
#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gmm(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gmm")).args(args).current_dir(dir).output().unwrap()
}

fn mpirun(dir: &Path, ranks: usize, args: &[&str]) -> Output {
    Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", &ranks.to_string()])
        .arg(env!("CARGO_BIN_EXE_gmm"))
        .args(args)
        .arg("--mpi")
        .current_dir(dir)
        .output()
        .expect("mpirun runs (install openmpi-bin)")
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fit_under_mpi_equals_one_process_for_1_2_and_3_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = root().join("tests/data/headline/headline.npy");
    let data = data.to_str().unwrap();
    for cov in ["diag", "full"] {
        let init = root().join(format!("tests/data/headline/headline_init_{cov}.json"));
        let fit =
            ["fit", data, "--init", init.to_str().unwrap(), "--max-iter", "10", "--tol", "0", "-q"];
        ok(&gmm(d, &[&fit[..], &["-o", "one.json"]].concat()));
        let one = std::fs::read(d.join("one.json")).unwrap();
        for ranks in [1, 2, 3] {
            let out = format!("mpi{ranks}.json");
            ok(&mpirun(d, ranks, &[&fit[..], &["-o", &out]].concat()));
            assert!(std::fs::read(d.join(&out)).unwrap() == one, "{cov}, {ranks} ranks");
        }
    }
    // A k-means start (a subsample read by random access on every rank) and MAP.
    let fit = [
        "fit",
        data,
        "-k",
        "5",
        "--covariance",
        "diag",
        "--max-iter",
        "4",
        "--tol",
        "0",
        "-q",
        "--method",
        "map",
    ];
    ok(&gmm(d, &[&fit[..], &["-o", "one.json"]].concat()));
    ok(&mpirun(d, 3, &[&fit[..], &["-o", "mpi.json"]].concat()));
    assert!(
        std::fs::read(d.join("mpi.json")).unwrap() == std::fs::read(d.join("one.json")).unwrap()
    );
    let one = ok(&gmm(d, &["score", "one.json", data]));
    let mpi = ok(&mpirun(d, 2, &["score", "one.json", data]));
    assert_eq!(one, mpi);
}

#[test]
fn ubm_on_fsdd_frames_under_mpi_equals_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fsdd = root().join("data/fsdd_mfcc");
    let list: String = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
        .iter()
        .map(|s| format!("{}\n", fsdd.join(format!("{s}.npy")).display()))
        .collect();
    std::fs::write(d.join("frames.list"), list).unwrap();
    let ubm =
        ["ubm", "frames.list", "-k", "32", "--iters-per-split", "2", "--final-iters", "3", "-q"];
    ok(&gmm(d, &[&ubm[..], &["-o", "one.json"]].concat()));
    ok(&mpirun(d, 2, &[&ubm[..], &["-o", "mpi.json"]].concat()));
    assert!(
        std::fs::read(d.join("mpi.json")).unwrap() == std::fs::read(d.join("one.json")).unwrap()
    );
}

#[test]
fn a_failing_rank_is_one_error_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 3,000 rows with a NaN in the last rank's share.
    let mut values: Vec<f64> = (0..6000).map(|i| (i % 7) as f64 * 0.3 + (i % 2) as f64).collect();
    values[2 * 2900 + 1] = f64::NAN;
    let m = gmm_core::Matrix::from_vec(values, 2).unwrap();
    gmm_io::write_npy_f64(&d.join("bad.npy"), &m).unwrap();
    let out = mpirun(
        d,
        3,
        &[
            "fit",
            "bad.npy",
            "-k",
            "2",
            "--covariance",
            "diag",
            "--init",
            "random",
            "-o",
            "out.json",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("gmm:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("rank 2") && lines[0].contains("row 2900"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!d.join("out.json").exists());
}
