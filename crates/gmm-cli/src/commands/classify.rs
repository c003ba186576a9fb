//! `gmm classify`: discriminant analysis with one mixture per class.

use gmm_core::{Error, ErrorKind, Result};

use crate::args::ClassifyArgs;

/// Runs `gmm classify`.
pub fn run(_args: ClassifyArgs) -> Result<()> {
    Err(Error::new(ErrorKind::InvalidConfig, "not yet"))
}
