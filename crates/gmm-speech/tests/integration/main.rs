//! gmm-speech's integration tests: one binary, one module per topic.

use std::path::PathBuf;

mod speech;

/// The FSDD split of `examples/fsdd_speakers.rs`, shared with the example.
#[path = "../../../../examples/shared/fsdd.rs"]
mod fsdd;

/// The FSDD MFCC frames of the repository (`data/fsdd_mfcc/`).
fn fsdd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/fsdd_mfcc")
}
