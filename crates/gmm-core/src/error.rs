//! The one error type of the gmm crates.
//!
//! Every public entry point validates its input and returns [`Error`]: an opaque value with a
//! [`kind`](Error::kind) to match on and a message a user can act on (what is wrong, where, and
//! what to do about it). Nothing in the library panics on bad input.
//!
//! # Causes
//!
//! An error that comes from another one (an operating-system I/O error, a JSON or CSV parser's
//! error, an image encoder's) keeps it as its [`source`](std::error::Error::source), so a
//! program can still ask, say, for the [`std::io::ErrorKind`] of a failed read:
//!
//! ```
//! use std::error::Error as _;
//! use std::path::Path;
//!
//! let io = std::io::Error::from(std::io::ErrorKind::NotFound);
//! let err = gmm_core::Error::io(Path::new("model.json"), "read", io);
//! assert_eq!(err.kind(), &gmm_core::ErrorKind::Io);
//! assert!(err.message().starts_with("cannot read model.json: "));
//! let cause = err.source().and_then(|s| s.downcast_ref::<std::io::Error>()).unwrap();
//! assert_eq!(cause.kind(), std::io::ErrorKind::NotFound);
//! ```
//!
//! The message stays self-contained: it already includes the cause's own text (one line), so
//! printing an error never loses the operating system's words. Code that prints a whole
//! `source()` chain will therefore show the cause twice; gmm's command line prints the message
//! only. The cause is shared behind an [`Arc`], so [`Error`] stays [`Clone`]; equality compares
//! the kind and the message only (errors from other crates cannot be compared).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

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
    /// A run stopped on request between iterations (a front end's Ctrl-C).
    Interrupted,
    /// A computation or its data would need more memory than the machine has (checked before
    /// allocating; the message names the size and the limit).
    TooLarge,
}

/// The cause of an [`Error`], shared so that errors can be cloned.
type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// An error from the gmm crates: a [`kind`](Self::kind), a human-readable message and, when it
/// comes from another error, that error as its [`source`](std::error::Error::source).
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Source>,
}

impl Error {
    /// Creates an error of `kind` with a message saying what is wrong and how to fix it.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// An [`ErrorKind::Io`] error for a failed `action` ("read", "open", "write", ...) on
    /// `path`, with the message `cannot {action} {path}: {source}` and `source` kept as the
    /// cause.
    pub fn io(path: &Path, action: &str, source: std::io::Error) -> Self {
        let message = format!("cannot {action} {}: {source}", path.display());
        Self::new(ErrorKind::Io, message).with_source(source)
    }

    /// Keeps `source` as the cause of this error (returned by
    /// [`std::error::Error::source`]); the message is not changed, so it should already say
    /// what `source` says, on one line.
    pub fn with_source<E>(mut self, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        self.source = Some(Arc::new(source));
        self
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message alone (also what `Display` prints).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with context, e.g. the file being read (the cause is kept).
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

impl PartialEq for Error {
    /// Equal kind and message; the causes are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for Error {}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// The io error given to [`Error::io`] is the `source()`, unchanged (kind and inner error),
    /// and survives `context` and `clone`.
    #[test]
    fn io_error_keeps_its_source() {
        let inner = std::io::Error::other("disk on fire");
        let original = std::io::Error::new(std::io::ErrorKind::PermissionDenied, inner);
        let err = Error::io(Path::new("dir/model.json"), "write", original);
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert_eq!(err.message(), "cannot write dir/model.json: disk on fire");
        let err = err.context("gmm fit").clone();
        assert_eq!(err.message(), "gmm fit: cannot write dir/model.json: disk on fire");
        let source = err.source().expect("the io error is kept");
        let io = source.downcast_ref::<std::io::Error>().expect("the source is the io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(io.get_ref().map(|e| e.to_string()).as_deref(), Some("disk on fire"));
    }

    #[test]
    fn plain_errors_have_no_source_and_compare_by_kind_and_message() {
        let plain = Error::new(ErrorKind::Parse, "bad");
        assert!(plain.source().is_none());
        let with = Error::new(ErrorKind::Parse, "bad").with_source(std::fmt::Error);
        assert!(with.source().is_some_and(|s| s.is::<std::fmt::Error>()));
        assert_eq!(plain, with);
        assert_ne!(plain, Error::new(ErrorKind::Io, "bad"));
        assert_ne!(plain, Error::new(ErrorKind::Parse, "worse"));
    }
}
