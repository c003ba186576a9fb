//! gmm-em's integration tests: one binary, one module per topic — batch EM, MAP, VB, online
//! EM, discriminant analysis, model selection, and parity with scikit-learn's fixtures
//! (`tests/data/` at the repository root).

mod classify;
mod common;
mod em;
mod map_em;
mod online_em;
mod parity;
mod selection;
mod vb;
