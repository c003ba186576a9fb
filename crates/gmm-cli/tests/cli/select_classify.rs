//! `gmm select` and `gmm classify`: happy paths and bad input.

use super::*;

fn iris() -> String {
    arg(&root().join("data/iris.csv")).to_owned()
}

#[test]
fn select_prints_the_table_and_writes_the_best_model() {
    let s = Scratch::new();
    let data = faithful();
    let out = s.gmm(&[
        "select",
        &data,
        "-k",
        "1..3",
        "--covariance",
        "full,diag",
        "--n-init",
        "2",
        "-o",
        "out/best.json",
        "--report",
        "out/table.json",
    ]);
    let text = assert_ok(&out);
    let lines: Vec<&str> = text.lines().collect();
    // Header, 6 rows, the verdict.
    assert_eq!(lines.len(), 8, "{text}");
    assert!(lines[0].contains("bic") && lines[0].contains("icl"), "{text}");
    let marked: Vec<&&str> = lines[1..7].iter().filter(|l| l.starts_with('*')).collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(lines[7].starts_with("best by bic: k = 2 full"), "{text}");
    // Aligned columns: every row has the same length.
    assert!(lines[1..7].iter().all(|l| l.len() == lines[1].len()), "{text}");

    let table = s.json("out/table.json");
    let rows = as_array(&table["candidates"]);
    assert_eq!(rows.len(), 6);
    let best = &rows[table["best"].as_u64().unwrap() as usize];
    assert_eq!(
        (best["n_components"].as_u64(), best["covariance_type"].as_str()),
        (Some(2), Some("full"))
    );
    let bics: Vec<f64> = rows.iter().map(|r| as_f64(&r["bic"])).collect();
    assert!(bics.iter().all(|b| *b >= as_f64(&best["bic"])));
    // The written model is the best row's: its BIC, recomputed by `gmm score`, matches.
    let model = s.json("out/best.json");
    assert_eq!(model["covariance_type"], "full");
    assert_eq!(as_array(&model["weights"]).len(), 2);
    let score = assert_ok(&s.gmm(&["score", "out/best.json", &data]));
    let mean: f64 = score.trim().parse().unwrap();
    assert_rel(mean, as_f64(&best["mean_log_likelihood"]), 1e-12, "score of the best model");
}

#[test]
fn select_reports_failed_cells() {
    let s = Scratch::new();
    let data = s.write("tiny.csv", "1,2\n2,1\n3,3\n4,0\n");
    let out = s.gmm(&["select", data, "-k", "3..5", "--covariance", "diag"]);
    let text = assert_ok(&out);
    assert!(text.contains("failed: 4 samples cannot fit 5 components"), "{text}");
    // Every cell failing is an error.
    let out = s.gmm(&["select", data, "-k", "5,6", "--covariance", "diag", "-o", "out/m.json"]);
    assert_one_line_error(&out, &["every fit of the grid failed", "k = 6 diag"]);
    s.assert_no_output();
}

#[test]
fn select_is_the_same_on_any_thread_count() {
    let data = faithful();
    let a =
        assert_ok(&gmm(&["select", &data, "-k", "1..4", "--criterion", "icl", "--threads", "1"]));
    let b =
        assert_ok(&gmm(&["select", &data, "-k", "1..4", "--criterion", "icl", "--threads", "2"]));
    assert_eq!(a, b);
    assert!(a.contains("best by icl"));
}

#[test]
fn select_bad_ranges_are_usage_errors() {
    let data = faithful();
    for (k, needle) in [
        ("3..1", "empty range"),
        ("0..2", "k = 0"),
        ("1,x", "invalid component count"),
        ("1..3,2", "appears twice"),
        ("", "invalid component count"),
    ] {
        let out = gmm(&["select", &data, "-k", k]);
        assert_eq!(out.status.code(), Some(2), "{k:?}");
        assert_one_line_error(&out, &[needle]);
    }
    let out = gmm(&["select", &data, "--covariance", "full,round"]);
    assert_eq!(out.status.code(), Some(2));
    assert_one_line_error(&out, &["round"]);
    let out = gmm(&["select", &data, "--criterion", "dic"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn classify_train_and_predict_round_trip() {
    let s = Scratch::new();
    let data = iris();
    let out = s.gmm(&[
        "classify",
        "train",
        &data,
        "--label-column",
        "species",
        "-o",
        "out/c.json",
        "--cv",
        "10",
    ]);
    assert_ok(&out);
    let summary = stderr(&out);
    assert!(summary.contains("10-fold cross-validated accuracy"), "{summary}");
    let classifier = s.json("out/c.json");
    assert_eq!(classifier["classes"], serde_json::json!(["setosa", "versicolor", "virginica"]));
    assert_eq!(classifier["label_column"], "species");
    assert_eq!(as_array(&classifier["models"]).len(), 3);

    let text = assert_ok(&s.gmm(&["classify", "predict", "out/c.json", &data]));
    let predicted: Vec<&str> = text.lines().collect();
    assert_eq!(predicted.len(), 150);
    let truth: Vec<String> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect();
    let correct = predicted.iter().zip(&truth).filter(|(p, t)| **p == t.as_str()).count();
    assert!(correct >= 145, "training accuracy {correct}/150");
    assert!(
        summary
            .contains(&format!("training accuracy {:.4} ({correct}/150)", correct as f64 / 150.0)),
        "{summary}"
    );

    // Posteriors: a header with the class names, rows summing to one, the same labels.
    let text = assert_ok(&s.gmm(&["classify", "predict", "out/c.json", &data, "--proba"]));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("predicted,setosa,versicolor,virginica"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 150);
    for (i, row) in rows.iter().enumerate() {
        let mut fields = row.split(',');
        assert_eq!(fields.next(), Some(predicted[i]));
        let p: Vec<f64> = fields.map(|v| v.parse().unwrap()).collect();
        assert_eq!(p.len(), 3);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "row {i}: {p:?}");
    }

    // Data without the label column (and without a header) gives the same labels; -o writes them.
    let unlabelled: String = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
        .collect();
    let plain = s.write("plain.csv", unlabelled);
    let out = s.gmm(&["classify", "predict", "out/c.json", plain, "-o", "out/labels.txt"]);
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(s.path("out/labels.txt")).unwrap(), text_labels(&predicted));
}

fn text_labels(labels: &[&str]) -> String {
    labels.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn classify_select_chooses_per_class() {
    let s = Scratch::new();
    let out = s.gmm(&[
        "classify",
        "train",
        &iris(),
        "--label-column",
        "species",
        "-k",
        "1..2",
        "--covariance",
        "full,diag",
        "--select",
        "--n-init",
        "2",
        "-o",
        "out/c.json",
    ]);
    assert_ok(&out);
    assert_eq!(as_array(&s.json("out/c.json")["models"]).len(), 3);
    // Several k without --select is refused.
    let out = s.gmm(&[
        "classify",
        "train",
        &iris(),
        "--label-column",
        "species",
        "-k",
        "1..2",
        "-o",
        "out/d.json",
    ]);
    assert_one_line_error(&out, &["--select"]);
    assert!(!s.path("out/d.json").exists());
}

#[test]
fn classify_bad_input_is_one_line() {
    let s = Scratch::new();
    let data = iris();
    let out = s.gmm(&["classify", "train", &data, "--label-column", "specie", "-o", "out/c.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_one_line_error(&out, &["no label column \"specie\"", "sepal_length"]);
    let out = s.gmm(&[
        "classify",
        "train",
        &data,
        "--label-column",
        "species",
        "-k",
        "60",
        "-o",
        "out/c.json",
    ]);
    assert_one_line_error(&out, &["class \"setosa\"", "50 rows cannot fit 60 components"]);
    let bad = s.write("bad.csv", "a,b,label\n1,2,x\n3,oops,y\n");
    let out = s.gmm(&["classify", "train", bad, "--label-column", "label", "-o", "out/c.json"]);
    assert_one_line_error(&out, &["bad.csv", "line 3, column 2"]);
    s.assert_no_output();

    // Predicting with data of the wrong shape, or with a broken classifier file.
    let out =
        s.gmm(&["classify", "train", &data, "--label-column", "species", "-o", "c.json", "-q"]);
    assert_ok(&out);
    let two = s.write("two.csv", "1,2\n3,4\n");
    let out = s.gmm(&["classify", "predict", "c.json", two, "-o", "out/p.txt"]);
    assert_one_line_error(&out, &["2 features", "4"]);
    let broken = s.write("broken.json", "{\"classes\": [\"a\"], \"priors\": [1.0]}");
    let out = s.gmm(&["classify", "predict", broken, &data, "-o", "out/p.txt"]);
    assert_one_line_error(&out, &["broken.json", "\"models\""]);
    // A well-formed file that breaks a classifier rule: the file reader keeps what it says,
    // building the classifier refuses it, naming the file.
    let mut classifier = s.json("c.json");
    classifier["priors"] = serde_json::json!([0.5, 0.5, 0.5]);
    let priors = s.write("priors.json", classifier.to_string());
    let out = s.gmm(&["classify", "predict", priors, &data, "-o", "out/p.txt"]);
    assert_one_line_error(&out, &["priors.json: ", "the priors sum to 1.5, not 1"]);
    let mut classifier = s.json("c.json");
    classifier["classes"] = serde_json::json!(["setosa", "versicolor"]);
    let classes = s.write("classes.json", classifier.to_string());
    let out = s.gmm(&["classify", "predict", classes, &data, "-o", "out/p.txt"]);
    assert_one_line_error(&out, &["classes.json: ", "2 classes, 3 priors and 3 models"]);
    s.assert_no_output();
}
