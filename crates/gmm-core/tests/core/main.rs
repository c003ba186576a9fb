//! The gmm-core integration tests: one binary, one module per topic.

mod common;
mod criteria;
mod geometry;
mod kernels;
