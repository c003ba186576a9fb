//! Covariance structures: the four shapes scikit-learn and mclust offer.
//!
//! | type        | parameters per model        | stored as                          |
//! |-------------|-----------------------------|------------------------------------|
//! | `diag`      | `k x d` variances           | row-major `k x d`                  |
//! | `spherical` | `k` variances (`σ_k² I`)     | `k` values                         |
//! | `full`      | `k` matrices `d x d`        | `k` row-major `d x d`, concatenated |
//! | `tied`      | one `d x d` matrix shared   | row-major `d x d`                  |

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// Which covariance structure a mixture uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CovarianceType {
    /// Diagonal covariance per component.
    Diag,
    /// Full covariance matrix per component.
    Full,
    /// One variance per component (`σ_k² I`).
    Spherical,
    /// One full covariance matrix shared by all components.
    Tied,
}

impl CovarianceType {
    /// All four, in the order used by tables and tests.
    pub const ALL: [CovarianceType; 4] = [Self::Diag, Self::Full, Self::Spherical, Self::Tied];

    /// The name used in model files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Diag => "diag",
            Self::Full => "full",
            Self::Spherical => "spherical",
            Self::Tied => "tied",
        }
    }

    /// A one-line description, e.g. for a command line's help.
    pub fn description(self) -> &'static str {
        match self {
            Self::Diag => "Diagonal covariance per component",
            Self::Full => "Full covariance matrix per component",
            Self::Spherical => "One variance per component",
            Self::Tied => "One full covariance shared by all components",
        }
    }

    /// Number of free covariance parameters for `k` components in `d` dimensions.
    pub fn n_covariance_parameters(self, k: usize, d: usize) -> usize {
        match self {
            Self::Diag => k * d,
            Self::Spherical => k,
            Self::Full => k * d * (d + 1) / 2,
            Self::Tied => d * (d + 1) / 2,
        }
    }

    /// How many values the covariance array holds for `k` components in `d` dimensions.
    pub fn covariance_len(self, k: usize, d: usize) -> usize {
        match self {
            Self::Diag => k * d,
            Self::Spherical => k,
            Self::Full => k * d * d,
            Self::Tied => d * d,
        }
    }
}

impl fmt::Display for CovarianceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CovarianceType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "diag" => Ok(Self::Diag),
            "full" => Ok(Self::Full),
            "spherical" => Ok(Self::Spherical),
            "tied" => Ok(Self::Tied),
            other => Err(Error::new(
                ErrorKind::UnknownCovarianceType,
                format!("unknown covariance type {other:?}: use diag, full, spherical or tied"),
            )),
        }
    }
}
