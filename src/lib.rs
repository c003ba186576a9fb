//! gmm
