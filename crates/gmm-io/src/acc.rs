//! Statistics files (`.acc`): the statistics of one shard of a pass, as `gmm acc` writes them,
//! `gmm sum-accs` merges them and `gmm update` applies them (Kaldi's accumulate / sum /
//! estimate pattern).
//!
//! # Format (version 1, little-endian)
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `GMMACC\0\0` |
//! | 4 | format version (`u32`, 1) |
//! | 4 | kind (`u32`: 0 E-step statistics under a model, 1 the data's moments) |
//! | 8 | the model's fingerprint (FNV-1a 64 of its JSON text; 0 for moments) |
//! | 8 + 8 | `k`, `d` |
//! | 4 | covariance type (`u32`: 0 full, 1 tied, 2 diag, 3 spherical; 0 for moments) |
//! | 4 | dtype of the computation (`u32`: 0 float32, 1 float64) |
//! | 4 | weighted (`u32`: 1 when per-sample weights were used) |
//! | 4 | reserved (0) |
//! | 8 | rows of the whole data |
//! | 8 + 16 r | `r` row ranges this file covers (`start`, `end`), sorted |
//! | 8 + m | the data's name (`m` bytes of UTF-8, for messages) |
//! | 8 + p | the statistics (`p` bytes: `gmm_em::stream::PartialStats`' own byte form) |
//! | 8 | FNV-1a 64 checksum of every byte before it |
//!
//! Files are written atomically ([`crate::write_atomic`]). Reading checks the magic, the
//! version, the lengths and the checksum, and names the file in every error; what the
//! statistics themselves hold is checked by `gmm-em` when they are decoded.

use std::ops::Range;
use std::path::Path;

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result};

use crate::atomic::write_atomic;
use crate::errors::parse_error;
use crate::model_json::model_to_json;

/// What an `.acc` file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccKind {
    /// E-step statistics under a model.
    EStep,
    /// The data's moments (one component): what the MAP and VB priors are estimated from.
    Moments,
}

/// The self-description of an `.acc` file (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccHeader {
    /// What the file holds.
    pub kind: AccKind,
    /// [`model_fingerprint`] of the model the statistics were accumulated under (0 for moments).
    pub model_fingerprint: u64,
    /// Components `k`.
    pub n_components: usize,
    /// Features `d`.
    pub n_features: usize,
    /// The model's covariance type (`None` for moments).
    pub covariance_type: Option<CovarianceType>,
    /// Whether the computation ran in float32 (else float64).
    pub f32: bool,
    /// Whether per-sample weights were used.
    pub weighted: bool,
    /// Rows of the whole data.
    pub n_rows: usize,
    /// Row ranges the file covers, sorted and disjoint.
    pub rows: Vec<Range<usize>>,
    /// The data's name (for messages).
    pub data: String,
}

impl AccHeader {
    /// The dtype's name.
    pub fn dtype(&self) -> &'static str {
        if self.f32 { "float32" } else { "float64" }
    }

    /// Rows the file covers.
    pub fn row_count(&self) -> usize {
        self.rows.iter().map(|r| r.len()).sum()
    }

    /// The row ranges as text, `0..4800,9600..12000`.
    pub fn rows_text(&self) -> String {
        let parts: Vec<String> =
            self.rows.iter().map(|r| format!("{}..{}", r.start, r.end)).collect();
        if parts.is_empty() { "none".into() } else { parts.join(",") }
    }

    /// Checks that `other` (from `other_path`) describes statistics that can merge with these
    /// (from `path`): same kind, model, shape, covariance type, dtype, weighting and data size.
    ///
    /// # Errors
    /// [`ErrorKind::MismatchedStatistics`], one line naming both files and what differs.
    pub fn check_mergeable(&self, path: &Path, other: &AccHeader, other_path: &Path) -> Result<()> {
        let differs = |what: String| {
            Err(Error::new(
                ErrorKind::MismatchedStatistics,
                format!(
                    "{} and {} cannot be summed: {what}; accumulate every part with the same \
                     model, data and options",
                    other_path.display(),
                    path.display()
                ),
            ))
        };
        if self.kind != other.kind {
            return differs(format!(
                "one holds {:?} statistics, the other {:?}",
                other.kind, self.kind
            ));
        }
        if (self.n_components, self.n_features) != (other.n_components, other.n_features) {
            return differs(format!(
                "k x d is {} x {} against {} x {}",
                other.n_components, other.n_features, self.n_components, self.n_features
            ));
        }
        if self.covariance_type != other.covariance_type {
            return differs("their covariance types differ".into());
        }
        if self.f32 != other.f32 {
            return differs(format!("dtype {} against {}", other.dtype(), self.dtype()));
        }
        if self.model_fingerprint != other.model_fingerprint {
            return differs(format!(
                "they come from different models (fingerprints {:016x} and {:016x})",
                other.model_fingerprint, self.model_fingerprint
            ));
        }
        if self.weighted != other.weighted {
            return differs("one was accumulated with sample weights and the other without".into());
        }
        if self.n_rows != other.n_rows {
            return differs(format!(
                "they come from data of {} and {} rows",
                other.n_rows, self.n_rows
            ));
        }
        Ok(())
    }
}

/// A model's fingerprint: FNV-1a 64 of its JSON text ([`model_to_json`]), so statistics can
/// name the model they belong to.
pub fn model_fingerprint<T: Real>(model: &GaussianMixture<T>) -> u64 {
    fnv1a64(model_to_json(model).as_bytes())
}

const MAGIC: &[u8; 8] = b"GMMACC\0\0";
const VERSION: u32 = 1;

fn covariance_code(t: Option<CovarianceType>) -> u32 {
    match t {
        None | Some(CovarianceType::Full) => 0,
        Some(CovarianceType::Tied) => 1,
        Some(CovarianceType::Diag) => 2,
        Some(CovarianceType::Spherical) => 3,
    }
}

/// The bytes of an `.acc` file.
pub fn acc_to_bytes(header: &AccHeader, statistics: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + statistics.len());
    out.extend_from_slice(MAGIC);
    let u32s = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    let u64s = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
    u32s(&mut out, VERSION);
    u32s(&mut out, matches!(header.kind, AccKind::Moments) as u32);
    u64s(&mut out, header.model_fingerprint);
    u64s(&mut out, header.n_components as u64);
    u64s(&mut out, header.n_features as u64);
    u32s(&mut out, covariance_code(header.covariance_type));
    u32s(&mut out, if header.f32 { 0 } else { 1 });
    u32s(&mut out, header.weighted as u32);
    u32s(&mut out, 0);
    u64s(&mut out, header.n_rows as u64);
    u64s(&mut out, header.rows.len() as u64);
    for r in &header.rows {
        u64s(&mut out, r.start as u64);
        u64s(&mut out, r.end as u64);
    }
    u64s(&mut out, header.data.len() as u64);
    out.extend_from_slice(header.data.as_bytes());
    u64s(&mut out, statistics.len() as u64);
    out.extend_from_slice(statistics);
    let checksum = fnv1a64(&out);
    u64s(&mut out, checksum);
    out
}

/// Writes an `.acc` file atomically.
///
/// # Errors
/// As [`write_atomic`].
pub fn write_acc(path: &Path, header: &AccHeader, statistics: &[u8]) -> Result<()> {
    write_atomic(path, &acc_to_bytes(header, statistics))
}

/// Reads an `.acc` file: its header and the statistics' bytes.
///
/// # Errors
/// [`ErrorKind::Io`] when it cannot be read; [`ErrorKind::Parse`] naming the file for a wrong
/// magic or version, a truncated or corrupted file (checksum), or an impossible header.
pub fn read_acc(path: &Path) -> Result<(AccHeader, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
    parse_acc(path, &bytes)
}

/// [`read_acc`] on bytes already read (`path` names them in errors).
pub fn parse_acc(path: &Path, bytes: &[u8]) -> Result<(AccHeader, Vec<u8>)> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(parse_error(
            path,
            "not a gmm statistics file (no GMMACC header): give files written by gmm acc or \
             gmm sum-accs",
        ));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 8);
    if fnv1a64(body) != u64::from_le_bytes(tail.try_into().expect("8 bytes")) {
        return Err(parse_error(
            path,
            "the checksum does not match: the file is truncated or corrupted (run gmm acc for \
             this shard again)",
        ));
    }
    let mut at = 8;
    let truncated = || parse_error(path, "the header ends early: the file is truncated");
    let mut take = |n: usize| -> Result<&[u8]> {
        let end = at + n;
        if end > body.len() {
            return Err(truncated());
        }
        let out = &body[at..end];
        at = end;
        Ok(out)
    };
    let version = u32::from_le_bytes(take(4)?.try_into().expect("4"));
    if version != VERSION {
        return Err(parse_error(
            path,
            format!(
                "statistics file version {version}: this gmm reads version {VERSION} (accumulate again with this version)"
            ),
        ));
    }
    let kind = u32::from_le_bytes(take(4)?.try_into().expect("4"));
    let fingerprint = u64::from_le_bytes(take(8)?.try_into().expect("8"));
    let k = u64::from_le_bytes(take(8)?.try_into().expect("8"));
    let d = u64::from_le_bytes(take(8)?.try_into().expect("8"));
    let cov = u32::from_le_bytes(take(4)?.try_into().expect("4"));
    let dtype = u32::from_le_bytes(take(4)?.try_into().expect("4"));
    let weighted = u32::from_le_bytes(take(4)?.try_into().expect("4"));
    let _reserved = take(4)?;
    let n_rows = u64::from_le_bytes(take(8)?.try_into().expect("8"));
    let n_ranges = u64::from_le_bytes(take(8)?.try_into().expect("8"));
    let bad = |what: &str| parse_error(path, format!("{what}: the file is corrupted"));
    let kind = match kind {
        0 => AccKind::EStep,
        1 => AccKind::Moments,
        _ => return Err(bad("unknown statistics kind")),
    };
    let covariance_type = match (kind, cov) {
        (AccKind::Moments, _) => None,
        (_, 0) => Some(CovarianceType::Full),
        (_, 1) => Some(CovarianceType::Tied),
        (_, 2) => Some(CovarianceType::Diag),
        (_, 3) => Some(CovarianceType::Spherical),
        _ => return Err(bad("unknown covariance type")),
    };
    if dtype > 1 || weighted > 1 {
        return Err(bad("unknown dtype or weighting"));
    }
    let usize_of = |v: u64| usize::try_from(v).map_err(|_| bad("a count is too large"));
    let mut rows = Vec::new();
    for _ in 0..n_ranges {
        let a = usize_of(u64::from_le_bytes(take(8)?.try_into().expect("8")))?;
        let b = usize_of(u64::from_le_bytes(take(8)?.try_into().expect("8")))?;
        rows.push(a..b);
    }
    let name_len = usize_of(u64::from_le_bytes(take(8)?.try_into().expect("8")))?;
    let data = String::from_utf8_lossy(take(name_len)?).into_owned();
    let stats_len = usize_of(u64::from_le_bytes(take(8)?.try_into().expect("8")))?;
    let statistics = take(stats_len)?.to_vec();
    if at != body.len() {
        return Err(bad("bytes after the statistics"));
    }
    let header = AccHeader {
        kind,
        model_fingerprint: fingerprint,
        n_components: usize_of(k)?,
        n_features: usize_of(d)?,
        covariance_type,
        f32: dtype == 0,
        weighted: weighted == 1,
        n_rows: usize_of(n_rows)?,
        rows,
        data,
    };
    Ok((header, statistics))
}

/// FNV-1a, 64 bits (the checksum of gmm's statistics forms; no dependency).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> AccHeader {
        AccHeader {
            kind: AccKind::EStep,
            model_fingerprint: 0x1234,
            n_components: 3,
            n_features: 2,
            covariance_type: Some(CovarianceType::Diag),
            f32: true,
            weighted: false,
            n_rows: 1000,
            rows: std::iter::once(0..480).collect(),
            data: "x.npy".into(),
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.acc");
        write_acc(&path, &header(), b"statistics").unwrap();
        let (h, s) = read_acc(&path).unwrap();
        assert_eq!((h, s.as_slice()), (header(), &b"statistics"[..]));
        let bytes = std::fs::read(&path).unwrap();
        for at in [0, 8, 20, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 4;
            let e = parse_acc(&path, &bad).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Parse);
            assert!(e.message().contains("p.acc"), "{e}");
        }
        let e = parse_acc(&path, &bytes[..bytes.len() - 5]).unwrap_err();
        assert!(e.message().contains("truncated"), "{e}");
    }

    #[test]
    fn mismatches_name_both_files_and_the_difference() {
        let (a, b) = (Path::new("a.acc"), Path::new("b.acc"));
        let mut other = header();
        other.f32 = false;
        let e = header().check_mergeable(a, &other, b).unwrap_err();
        assert!(e.message().contains("a.acc") && e.message().contains("dtype"), "{e}");
        let mut other = header();
        other.model_fingerprint = 9;
        let e = header().check_mergeable(a, &other, b).unwrap_err();
        assert!(e.message().contains("different models"), "{e}");
        let mut other = header();
        other.n_components = 4;
        assert!(header().check_mergeable(a, &other, b).is_err());
        assert!(header().check_mergeable(a, &header(), b).is_ok());
    }
}
