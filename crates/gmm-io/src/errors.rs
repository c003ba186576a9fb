//! Building [`Error`]s that name the file involved.

use std::io;
use std::path::Path;

use gmm_core::{Error, ErrorKind};

/// An [`ErrorKind::Io`] error: `cannot {action} {path}: {OS message}`.
pub(crate) fn io_error(path: &Path, action: &str, error: &io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("cannot {action} {}: {error}", path.display()))
}

/// An [`ErrorKind::Parse`] error: `{path}: {message}`.
pub(crate) fn parse_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Parse, format!("{}: {message}", path.display()))
}

/// Any kind of error prefixed with the file name.
pub(crate) fn file_error(path: &Path, kind: ErrorKind, message: impl std::fmt::Display) -> Error {
    Error::new(kind, format!("{}: {message}", path.display()))
}
