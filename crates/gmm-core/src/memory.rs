//! Sizes checked before allocating, so that a request too large for the machine ends in one
//! line naming the size and the limit ([`ErrorKind::TooLarge`]) instead of an abort
//! ("memory allocation of 1.6 TB failed").
//!
//! The limit is the memory the operating system says is available now (`MemAvailable` in
//! `/proc/meminfo` on Linux); where it cannot say, only sizes that overflow the address space
//! are refused.
//!
//! # What a fit needs beyond the data
//!
//! [`fit_bytes`] estimates it: per thread, two cached blocks (one per kind of pass) of
//! `BLOCK_ROWS` (240) rows transposed, with their `k` log-densities (and, for full and tied
//! covariances, the block centred once more); per live partial sum (about `threads + 2`), the
//! statistics `N_k`, `F_k` and `S_k` in `f64`; and a few copies of the model's parameters. That
//! is `O(threads x block x (d + k))` for diagonal and spherical covariances, plus
//! `O(threads x k x d²)` for full ones (`O(threads x d²)` tied) — never `n x k`. A block has
//! 240 rows whatever `n` is, so for wide data with few rows the blocks outweigh the data: a
//! diagonal fit of 2 x 200,000 float64 values (3.2 MB) holds two blocks of 240 x 200,000
//! (384 MB each).

use crate::covariance::CovarianceType;
use crate::error::{Error, ErrorKind, Result};
use crate::kernel::BLOCK_ROWS;

/// The memory available to this process now, in bytes, if the operating system says.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `bytes` for people: `512 B`, `3.2 MB`, `1.6 TB` (powers of 1000, as disks and `df -H`).
pub fn human(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// Refuses `bytes` (`None`: beyond any count) for `what` when it exceeds the available memory
/// (see the [module docs](self)); `fix` says what to do instead.
///
/// # Errors
/// [`ErrorKind::TooLarge`]: "`what` needs `size`, more than the `limit` available: `fix`".
pub fn check(bytes: Option<u128>, what: &str, fix: &str) -> Result<()> {
    check_against(bytes, available_bytes(), what, fix)
}

/// [`check`] against a given limit (`None`: unknown, only overflows refused).
pub fn check_against(bytes: Option<u128>, limit: Option<u64>, what: &str, fix: &str) -> Result<()> {
    let too_large = |needs: String, limit: String| {
        Err(Error::new(
            ErrorKind::TooLarge,
            format!("{what} needs {needs}, more than {limit}: {fix}"),
        ))
    };
    match (bytes, limit) {
        (None, _) => too_large("more than 2^128 bytes".into(), "any machine has".into()),
        (Some(b), _) if b > isize::MAX as u128 => {
            too_large(human(b), "this platform can address".into())
        }
        (Some(b), Some(limit)) if b > u128::from(limit) => {
            too_large(human(b), format!("the {} of memory available", human(u128::from(limit))))
        }
        _ => Ok(()),
    }
}

/// Bytes of `count` values of `size` bytes each (`None` on overflow).
pub fn bytes_of(count: u128, size: usize) -> Option<u128> {
    count.checked_mul(size as u128)
}

/// About what a fit of `k` components of `covariance_type` to `d`-dimensional data needs
/// beyond the data with `threads` threads, values of `value_size` bytes (4 or 8); `None` on
/// overflow. See the [module docs](self).
pub fn fit_bytes(
    d: usize,
    k: usize,
    covariance_type: CovarianceType,
    threads: usize,
    value_size: usize,
) -> Option<u128> {
    let (d, k, t) = (d as u128, k as u128, threads.max(1) as u128);
    let rows = BLOCK_ROWS as u128;
    let wide = matches!(covariance_type, CovarianceType::Full | CovarianceType::Tied);
    let block = rows.checked_mul(d.checked_mul(1 + u128::from(wide))?.checked_add(k + 1)?)?;
    let scratch = (2 * t).checked_mul(block)?.checked_mul(value_size as u128)?;
    let second = match covariance_type {
        CovarianceType::Diag => k.checked_mul(d)?,
        CovarianceType::Spherical => k,
        CovarianceType::Full => k.checked_mul(d.checked_mul(d)?)?,
        CovarianceType::Tied => d.checked_mul(d)?,
    };
    let stats = k.checked_add(k.checked_mul(d)?)?.checked_add(second)?.checked_mul(8)?;
    let partial_sums = (t + 2).checked_mul(stats)?;
    let model = second.checked_add(k.checked_mul(d)?)?.checked_mul(4 * value_size as u128)?;
    scratch.checked_add(partial_sums)?.checked_add(model)
}

/// Refuses a fit that cannot fit in memory (see [`fit_bytes`] and [`check`]).
///
/// # Errors
/// [`ErrorKind::TooLarge`] naming the size, the limit and what to do.
pub fn check_fit(
    d: usize,
    k: usize,
    covariance_type: CovarianceType,
    threads: usize,
    value_size: usize,
) -> Result<()> {
    let what = format!(
        "a fit of {k} {covariance_type} component{} in {d} dimensions",
        if k == 1 { "" } else { "s" }
    );
    let fix = match covariance_type {
        CovarianceType::Full | CovarianceType::Tied => {
            "use diagonal or spherical covariances (--covariance diag), fewer dimensions or fewer \
             components"
        }
        _ => "use fewer components or fewer dimensions",
    };
    check(fit_bytes(d, k, covariance_type, threads, value_size), &what, fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_named_in_words() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3_200_000), "3.2 MB");
        assert_eq!(human(1_600_000_000_000), "1.6 TB");
    }

    #[test]
    fn limits_refuse_with_size_and_limit() {
        let ok = check_against(Some(1000), Some(2000), "x", "y");
        assert!(ok.is_ok());
        let err =
            check_against(Some(3_000_000_000), Some(2_000_000_000), "sampling", "ask for less")
                .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooLarge);
        assert_eq!(
            err.message(),
            "sampling needs 3.0 GB, more than the 2.0 GB of memory available: ask for less"
        );
        let err = check_against(None, None, "x", "y").unwrap_err();
        assert!(err.message().contains("2^128"), "{err}");
        let err = check_against(Some(u128::MAX / 2), None, "x", "y").unwrap_err();
        assert!(err.message().contains("this platform can address"), "{err}");
    }

    #[test]
    fn fit_estimates_grow_as_promised() {
        // Full covariances: k d² dominates.
        let full = fit_bytes(40_000, 1, CovarianceType::Full, 2, 8).unwrap();
        assert!(full > 40_000u128 * 40_000 * 8 * 4, "{full}");
        // Diagonal: linear in d, whatever k.
        let diag = fit_bytes(200_000, 1, CovarianceType::Diag, 2, 8).unwrap();
        assert!(diag < 200_000 * 8 * 240 * 5, "{diag}");
        assert!(diag > 200_000 * 8 * 240 * 4, "{diag}");
        let err = check_against(Some(full), Some(8 << 30), "a fit", "use diag").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooLarge);
        assert!(fit_bytes(usize::MAX, usize::MAX, CovarianceType::Full, 2, 8).is_none());
    }
}
