//! The README's speaker-identification walk-through, run as it is written there: the CLI alone
//! on the bundled FSDD frames (issue 15, item 18).

use super::*;

/// The shell block that follows the README's sentence naming this test.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md is readable");
    let marker = "runs this block as it is written here";
    let after = &readme[readme.find(marker).expect("the README names this test")..];
    let start = after.find("```sh\n").expect("a shell block follows") + "```sh\n".len();
    let end = after[start..].find("```").expect("the block ends");
    after[start..start + end].to_string()
}

#[test]
fn readme_speaker_walkthrough_runs_end_to_end() {
    let script = readme_block();
    assert!(
        script.contains("gmm ubm") && script.contains("gmm adapt") && script.contains("gmm llr")
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The block names data/fsdd_mfcc relative to the repository root: link it here.
    std::os::unix::fs::symlink(root().join("data"), dir.path().join("data")).expect("a link");
    let bin = Path::new(env!("CARGO_BIN_EXE_gmm")).parent().expect("the binary's folder");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "the walk-through failed: {}", stderr(&out));
    let text = stdout(&out);
    let line = text.lines().last().unwrap_or_default();
    let accuracy: f64 = line
        .strip_prefix("accuracy ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no accuracy line in {text:?}"));
    assert!(line.ends_with("(1500 utterances)"), "{line}");
    assert!(accuracy > 0.97, "{line}");
    // The README quotes the number this run prints.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("`{line}`")), "the README should quote {line:?}");
    let scores = std::fs::read_to_string(dir.path().join("scores.tsv")).unwrap();
    assert_eq!(scores.lines().count(), 6 * 1500);
}
