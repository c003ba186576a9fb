//! Input checks shared by every learner: one wording for each mistake.

use gmm_core::{Error, ErrorKind, Result};

/// Whether all-zero sample weights are acceptable (a shard or a mini-batch may carry none; a
/// whole fit may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZeroWeights {
    /// All zeros are fine.
    Allowed,
    /// At least one weight must be positive.
    Refused,
}

/// Checks `n` per-sample weights: finite, `>= 0`, and (unless allowed) not all zero.
pub(crate) fn check_sample_weights(w: &[f64], n: usize, zeros: ZeroWeights) -> Result<()> {
    if w.len() != n {
        return Err(Error::new(
            ErrorKind::DimensionMismatch { expected: n, found: w.len() },
            format!("{} sample weights for {n} samples: give one weight per sample", w.len()),
        ));
    }
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::new(
            ErrorKind::InvalidSampleWeights,
            format!("sample weight {i} is {}: weights must be finite and >= 0", w[i]),
        ));
    }
    if zeros == ZeroWeights::Refused && !w.iter().any(|&v| v > 0.0) {
        return Err(Error::new(
            ErrorKind::InvalidSampleWeights,
            "every sample weight is 0: give some samples positive weight",
        ));
    }
    Ok(())
}
