//! Beyond one machine's memory and one machine: `acc` / `sum-accs` / `update` rounds give the
//! model `fit` gives byte for byte (EM, MAP, VB; any shards), streamed fits equal in-memory
//! ones, the out-of-core fit runs under a low `ulimit -v`, and every bad statistics file is a
//! one-line error with nothing written.

use super::*;

fn headline(name: &str) -> String {
    arg(&root().join("tests/data/headline").join(name)).to_owned()
}

/// `rounds` rounds of `acc --shard i/n` (parts summed in reverse order) + `sum-accs` +
/// `update` from `start`; returns the last model's path (relative to the scratch directory).
fn file_rounds(
    s: &Scratch,
    data: &str,
    start: &str,
    n: usize,
    rounds: usize,
    update: &[&str],
) -> String {
    std::fs::copy(start, s.path("m0.json")).unwrap();
    let moments = update.contains(&"--moments");
    if moments {
        for i in 0..n {
            let shard = format!("{i}/{n}");
            assert_ok(&s.gmm(&[
                "acc",
                "--moments",
                data,
                "--shard",
                &shard,
                "-o",
                &format!("mom{i}.acc"),
            ]));
        }
        let mut args = vec!["sum-accs".to_string()];
        args.extend((0..n).map(|i| format!("mom{i}.acc")));
        args.extend(["-o".into(), "moments.acc".into()]);
        assert_ok(&s.gmm(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    for r in 0..rounds {
        let model = format!("m{r}.json");
        for i in 0..n {
            let shard = format!("{i}/{n}");
            assert_ok(&s.gmm(&[
                "acc",
                &model,
                data,
                "--shard",
                &shard,
                "-o",
                &format!("p{i}.acc"),
            ]));
        }
        let mut args = vec!["sum-accs".to_string()];
        args.extend((0..n).rev().map(|i| format!("p{i}.acc")));
        args.extend(["-o".into(), "all.acc".into()]);
        assert_ok(&s.gmm(&args.iter().map(String::as_str).collect::<Vec<_>>()));
        let next = format!("m{}.json", r + 1);
        let mut args = vec!["update", &model, "all.acc", "-o", &next, "-q"];
        args.extend(update.iter().map(|a| if *a == "--moments" { "--moments" } else { a }));
        if r + 1 == rounds {
            args.push("--finish");
        }
        assert_ok(&s.gmm(&args));
    }
    format!("m{rounds}.json")
}

fn bytes(s: &Scratch, name: &str) -> Vec<u8> {
    std::fs::read(s.path(name)).unwrap()
}

#[test]
fn ten_rounds_of_statistics_files_give_the_fit_byte_for_byte() {
    let data = headline("headline.npy");
    for cov in ["diag", "full"] {
        let start = headline(&format!("headline_init_{cov}.json"));
        let s = Scratch::new();
        let fit = ["fit", &data, "--init", &start, "--max-iter", "10", "--tol", "0", "-q"];
        assert_ok(&s.gmm(&[&fit[..], &["-o", "fit.json"]].concat()));
        for n in [3, 7] {
            let last = file_rounds(&s, &data, &start, n, 10, &[]);
            assert!(bytes(&s, &last) == bytes(&s, "fit.json"), "{cov}, {n} shards");
        }
        // Streamed in small chunks: the same model too.
        assert_ok(&s.gmm(&[&fit[..], &["--memory-budget", "2M", "-o", "streamed.json"]].concat()));
        assert!(bytes(&s, "streamed.json") == bytes(&s, "fit.json"), "{cov} streamed");
    }
}

#[test]
fn map_and_vb_updates_give_their_fits_byte_for_byte() {
    let data = headline("headline.npy");
    let start = headline("headline_init_diag.json");
    for method in ["map", "vb"] {
        let s = Scratch::new();
        let fit = [
            "fit",
            &data,
            "--init",
            &start,
            "--max-iter",
            "10",
            "--tol",
            "0",
            "-q",
            "--method",
            method,
        ];
        assert_ok(&s.gmm(&[&fit[..], &["-o", "fit.json"]].concat()));
        let last = file_rounds(
            &s,
            &data,
            &start,
            3,
            10,
            &["--method", method, "--moments", "moments.acc"],
        );
        assert!(bytes(&s, &last) == bytes(&s, "fit.json"), "{method}");
        assert_ok(&s.gmm(&[&fit[..], &["--memory-budget", "3M", "-o", "streamed.json"]].concat()));
        assert!(bytes(&s, "streamed.json") == bytes(&s, "fit.json"), "{method} streamed");
    }
}

#[test]
fn streamed_inits_ubm_and_score_equal_in_memory() {
    let s = Scratch::new();
    let truth =
        gmm_core::GaussianMixture::<f32>::random(gmm_core::CovarianceType::Diag, 5, 4, 3.0, 1)
            .unwrap();
    let (x, _) = truth.sample(30_000, 2).unwrap();
    gmm_io::write_npy_f32(&s.path("x.npy"), &x).unwrap();
    for init in ["kmeans", "kmeans++", "random", "random-resp"] {
        let fit = [
            "fit",
            "x.npy",
            "-k",
            "5",
            "--covariance",
            "diag",
            "--init",
            init,
            "--max-iter",
            "4",
            "--tol",
            "0",
            "-q",
        ];
        assert_ok(&s.gmm(&[&fit[..], &["-o", "a.json", "--memory-budget", "1G"]].concat()));
        assert_ok(
            &s.gmm(
                &[&fit[..], &["-o", "b.json", "--memory-budget", "300K", "--report", "r.json"]]
                    .concat(),
            ),
        );
        assert!(bytes(&s, "a.json") == bytes(&s, "b.json"), "{init}");
        let io = &s.json("r.json")["io"];
        assert_eq!(io["streamed"], Value::Bool(true));
        assert!(io["passes"].as_u64().unwrap() >= 5 && io["bytes_read"].as_u64().unwrap() > 0);
    }
    s.write("x.list", "x.npy\nx.npy\n");
    assert_ok(&s.gmm(&["ubm", "x.list", "-k", "6", "-o", "u1.json", "-q"]));
    assert_ok(&s.gmm(&[
        "ubm",
        "x.list",
        "-k",
        "6",
        "-o",
        "u2.json",
        "-q",
        "--memory-budget",
        "500K",
    ]));
    assert!(bytes(&s, "u1.json") == bytes(&s, "u2.json"), "ubm");
    let a = assert_ok(&s.gmm(&["score", "u1.json", "x.npy"]));
    let b = assert_ok(&s.gmm(&["score", "u1.json", "x.npy", "--memory-budget", "200K"]));
    assert_eq!(a, b);
}

/// The out-of-core fit under an address-space limit the data does not fit in: it streams by
/// itself (the default budget follows the limit) and writes the model it writes without it.
#[test]
fn out_of_core_fit_runs_under_a_low_address_space_limit() {
    let s = Scratch::new();
    let truth =
        gmm_core::GaussianMixture::<f32>::random(gmm_core::CovarianceType::Diag, 4, 16, 3.0, 3)
            .unwrap();
    let (x, _) = truth.sample(2_000_000, 4).unwrap(); // 128 MB of float32
    gmm_io::write_npy_f32(&s.path("big.npy"), &x).unwrap();
    drop(x);
    let fit = "fit big.npy -k 4 --covariance diag --init random --max-iter 3 --tol 0 -q";
    assert_ok(&s.gmm(&[fit.split(' ').collect::<Vec<_>>(), vec!["-o", "free.json"]].concat()));
    let gmm = env!("CARGO_BIN_EXE_gmm");
    let limited = |extra: &str, out: &str| {
        // glibc reserves 64 MB of address space for each thread's malloc arena, which
        // `ulimit -v` counts: one arena keeps this small limit about the data.
        Command::new("bash")
            .env("MALLOC_ARENA_MAX", "1")
            .arg("-c")
            .arg(format!("ulimit -v 120000 && exec {gmm} {fit} {extra} -o {out}"))
            .current_dir(s.path(""))
            .output()
            .unwrap()
    };
    let out = limited("", "limited.json");
    assert_ok(&out);
    assert!(bytes(&s, "limited.json") == bytes(&s, "free.json"));
    // Reading it whole does not fit under the same limit: the limit is real.
    let out = limited("--memory-budget 1G", "whole.json");
    assert!(!out.status.success(), "an in-memory fit fit under 120 MB");
    assert!(!s.path("whole.json").exists());
}

#[test]
fn bad_statistics_files_are_one_line_errors_and_write_nothing() {
    let s = Scratch::new();
    let data = headline("headline.npy");
    let start = headline("headline_init_diag.json");
    let full = headline("headline_init_full.json");
    std::fs::copy(&start, s.path("m.json")).unwrap();
    std::fs::copy(&full, s.path("full.json")).unwrap();
    for (model, shard, out) in
        [("m.json", "0/3", "a0.acc"), ("m.json", "1/3", "a1.acc"), ("m.json", "2/3", "a2.acc")]
    {
        assert_ok(&s.gmm(&["acc", model, &data, "--shard", shard, "-o", out]));
    }
    assert_ok(&s.gmm(&["sum-accs", "a0.acc", "a1.acc", "a2.acc", "-o", "all.acc"]));
    assert_ok(&s.gmm(&["update", "m.json", "all.acc", "-o", "other.json", "-q"]));
    assert_ok(&s.gmm(&["acc", "other.json", &data, "--shard", "1/3", "-o", "f1.acc"]));
    assert_ok(&s.gmm(&["acc", "full.json", &data, "--shard", "1/3", "-o", "c1.acc"]));
    assert_ok(
        &s.gmm(&["acc", "m.json", &data, "--shard", "1/3", "--dtype", "f32", "-o", "d1.acc"]),
    );
    assert_ok(&s.gmm(&["acc", "m.json", &data, "--shard", "1/2", "-o", "h1.acc"]));
    let good = bytes(&s, "a1.acc");
    s.write("trunc.acc", &good[..good.len() / 2]);
    let mut flipped = good.clone();
    flipped[good.len() / 3] ^= 0x40;
    s.write("flip.acc", &flipped);
    s.write("junk.acc", "not statistics");
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["sum-accs", "a0.acc", "f1.acc", "a2.acc"], vec!["f1.acc", "different models"]),
        (vec!["sum-accs", "a0.acc", "d1.acc", "a2.acc"], vec!["d1.acc", "dtype"]),
        (vec!["sum-accs", "a0.acc", "c1.acc", "a2.acc"], vec!["c1.acc", "covariance"]),
        (vec!["sum-accs", "a0.acc", "a1.acc", "a1.acc", "a2.acc"], vec!["a1.acc", "overlap"]),
        (vec!["sum-accs", "a0.acc", "h1.acc", "a2.acc"], vec!["overlap"]),
        (vec!["sum-accs", "a0.acc", "trunc.acc"], vec!["trunc.acc", "truncated"]),
        (vec!["sum-accs", "a0.acc", "flip.acc"], vec!["flip.acc", "corrupted"]),
        (vec!["sum-accs", "a0.acc", "junk.acc"], vec!["junk.acc", "not a gmm statistics file"]),
        (vec!["update", "m.json", "a1.acc"], vec!["a1.acc", "missing"]),
        (vec!["update", "other.json", "a1.acc"], vec!["a1.acc", "another model"]),
        (vec!["update", "m.json", "flip.acc"], vec!["flip.acc"]),
        (vec!["update", "m.json", "all.acc", "--method", "map"], vec!["moments"]),
        (
            vec!["update", "m.json", "all.acc", "--method", "map", "--moments", "all.acc"],
            vec!["all.acc", "moment"],
        ),
        (vec!["acc", "m.json", &data, "--rows", "100:500"], vec!["multiple of the block size"]),
        (vec!["acc", "m.json", &data, "--shard", "3/3"], vec!["shard"]),
    ];
    for (args, needles) in cases {
        let out = s.gmm(&[&args[..], &["-o", "out/x"]].concat());
        assert_one_line_error(&out, &needles);
        s.assert_no_output();
    }
    // The shards of one split, summed in any order: the same bytes; a partial sum is a part.
    assert_ok(&s.gmm(&["sum-accs", "a0.acc", "a1.acc", "a2.acc", "-o", "x.acc"]));
    assert_ok(&s.gmm(&["sum-accs", "a2.acc", "a0.acc", "a1.acc", "-o", "y.acc"]));
    assert!(bytes(&s, "x.acc") == bytes(&s, "y.acc"));
    assert_ok(&s.gmm(&["sum-accs", "a2.acc", "a0.acc", "-o", "z02.acc"]));
    assert_ok(&s.gmm(&["sum-accs", "z02.acc", "a1.acc", "-o", "z.acc"]));
    assert!(bytes(&s, "x.acc") == bytes(&s, "z.acc"));
}

/// Without the `mpi` feature, `--mpi` says how to get it.
#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_without_the_feature_is_a_one_line_error() {
    let s = Scratch::new();
    let data = headline("headline.npy");
    let out = s.gmm(&["fit", &data, "-k", "2", "--mpi", "-o", "out/m.json"]);
    assert_one_line_error(&out, &["--mpi", "--features mpi"]);
    s.assert_no_output();
}
