//! The gmm integration tests: one binary, one module per topic.

mod bad_input;
mod classify;
mod common;
mod criteria;
mod em;
mod geometry;
mod kernels;
mod parity;
mod speech;
