//! The gmm integration tests: one binary, one module per topic.

mod bad_input;
mod classify;
mod common;
mod criteria;
mod em;
mod examples_selection;
mod map_em;
mod online_em;
mod parity;
mod vb;

/// The 4-cluster mixture of `examples/auto_clustering.rs`, shared with `examples_selection`.
#[path = "../../examples/shared/four_clusters.rs"]
mod four_clusters;
