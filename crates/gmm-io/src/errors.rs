//! Building [`Error`]s that name the file involved (I/O errors, which keep the operating
//! system's error as their source, come from [`Error::io`]).

use std::path::Path;

use gmm_core::{Error, ErrorKind};

/// An [`ErrorKind::Parse`] error: `{path}: {message}`.
pub(crate) fn parse_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Parse, format!("{}: {message}", path.display()))
}

/// Any kind of error prefixed with the file name.
pub(crate) fn file_error(path: &Path, kind: ErrorKind, message: impl std::fmt::Display) -> Error {
    Error::new(kind, format!("{}: {message}", path.display()))
}
