//! The one error type of the gmm crates.
//!
//! Every public entry point validates its input and returns [`Error`]: an opaque value with a
//! [`kind`](Error::kind) to match on and a message a user can act on (what is wrong, where, and
//! what to do about it). Nothing in the library panics on bad input.

use std::fmt;

/// What went wrong. New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The data has no rows or no columns.
    EmptyData,
    /// Fewer samples than components.
    TooFewSamples {
        /// Number of samples given.
        n_samples: usize,
        /// Number of components asked for.
        n_components: usize,
    },
    /// Two things that must share a dimension do not (model vs data, weights vs rows, ...).
    DimensionMismatch {
        /// What was expected.
        expected: usize,
        /// What was found.
        found: usize,
    },
    /// A NaN or infinite value in the data.
    NonFiniteValue {
        /// Zero-based row.
        row: usize,
        /// Zero-based column.
        column: usize,
    },
    /// Mixture weights that are negative, not finite or do not sum to one.
    InvalidWeights,
    /// A covariance that is not symmetric positive definite (including one that stopped being
    /// positive definite during EM).
    NotPositiveDefinite {
        /// Zero-based component (0 for a tied covariance).
        component: usize,
    },
    /// A covariance matrix that is not symmetric.
    NotSymmetric {
        /// Zero-based component (0 for a tied covariance).
        component: usize,
    },
    /// A model parameter with the wrong shape or a non-finite value.
    InvalidParameter,
    /// An unknown covariance type name.
    UnknownCovarianceType,
    /// A configuration value out of range.
    InvalidConfig,
    /// Per-sample weights that are negative, not finite or all zero.
    InvalidSampleWeights,
    /// Reading or writing a file failed.
    Io,
    /// A file's contents could not be parsed (the message names the file and position).
    Parse,
    /// A class label the classifier or its configuration does not know.
    UnknownLabel,
    /// Sufficient statistics that cannot be combined or applied: different shapes, shifts or
    /// models.
    MismatchedStatistics,
}

/// An error from the gmm crates: a [`kind`](Self::kind) and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Creates an error of `kind` with a message saying what is wrong and how to fix it.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message alone (also what `Display` prints).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with context, e.g. the file being read.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub(crate) fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
