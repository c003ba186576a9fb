//! The facade's integration tests: end-to-end checks across crates (bad input through every
//! layer, model selection on real data, the examples' claims, release metadata). Each crate's
//! own tests live in that crate.

mod bad_input;
mod common;
mod criteria;
mod examples_selection;
mod release;

/// The 4-cluster mixture of `examples/auto_clustering.rs`, shared with `examples_selection`.
#[path = "../../examples/shared/four_clusters.rs"]
mod four_clusters;
