//! Release readiness (issue 15): licence files, a changelog in Keep a Changelog's shape, and
//! real package metadata for every publishable crate. (`.ci/run` also runs `cargo package`
//! for each of them.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    text.parse::<toml::Table>().unwrap()
}

/// The package table's `key`, following `key.workspace = true` to the workspace's value.
fn field(package: &toml::Table, workspace: &toml::Table, key: &str) -> Option<toml::Value> {
    match package.get(key)? {
        toml::Value::Table(t) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
            workspace["workspace"]["package"].get(key).cloned()
        }
        other => Some(other.clone()),
    }
}

#[test]
fn licence_files_and_changelog_exist() {
    let mit = std::fs::read_to_string(root().join("LICENSE-MIT")).unwrap();
    assert!(mit.contains("Permission is hereby granted, free of charge"));
    let apache = std::fs::read_to_string(root().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0"));
    let log = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(log.starts_with("# Changelog\n"));
    assert!(log.contains("keepachangelog.com"));
    assert!(log.contains("\n## [Unreleased]\n"));
    for heading in log.lines().filter(|l| l.starts_with("### ")) {
        let kinds = ["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"];
        let kind = &heading[4..];
        assert!(kinds.contains(&kind), "not a Keep a Changelog section: {heading:?}");
    }
}

#[test]
fn publishable_crates_have_real_metadata() {
    let workspace = manifest(&root());
    let members = workspace["workspace"]["members"].as_array().unwrap();
    let mut dirs: Vec<PathBuf> = members.iter().map(|m| root().join(m.as_str().unwrap())).collect();
    dirs.push(root());
    let mut published = 0;
    for dir in dirs {
        let m = manifest(&dir);
        let package = m["package"].as_table().unwrap();
        let name = package["name"].as_str().unwrap();
        if package.get("publish") == Some(&toml::Value::Boolean(false)) {
            continue;
        }
        published += 1;
        for key in ["description", "readme", "license", "repository"] {
            let value = field(package, &workspace, key);
            let text = value.as_ref().and_then(|v| v.as_str()).unwrap_or("");
            assert!(text.len() > 10 || key == "readme", "{name}: {key} = {value:?}");
        }
        let repository = field(package, &workspace, "repository").unwrap();
        let repository = repository.as_str().unwrap();
        assert!(repository.starts_with("https://") && !repository.contains(".invalid"), "{name}");
        assert_eq!(
            field(package, &workspace, "license").unwrap().as_str(),
            Some("MIT OR Apache-2.0")
        );
        let readme = field(package, &workspace, "readme").unwrap();
        assert!(dir.join(readme.as_str().unwrap()).is_file(), "{name}: no readme");
        let keywords = package["keywords"].as_array().unwrap();
        assert!((1..=5).contains(&keywords.len()), "{name}: crates.io takes at most 5 keywords");
        for k in keywords {
            let k = k.as_str().unwrap();
            assert!(k.len() <= 20 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        }
        let categories = package["categories"].as_array().unwrap();
        assert!((1..=5).contains(&categories.len()), "{name}");
        // The licence texts travel with every package.
        for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
            assert!(dir.join(file).is_file(), "{name}: {file} missing");
        }
    }
    assert_eq!(published, 7, "gmm, gmm-core, gmm-em, gmm-speech, gmm-io, gmm-plot, gmm-cli");
}
