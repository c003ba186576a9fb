//! The gmm integration tests: one binary, one module per topic.

mod bad_input;
mod common;
mod em;
mod kernels;
mod map_em;
mod online_em;
mod parity;
mod vb;
