//! Sufficient statistics: what every learning rule consumes and every pass over data produces.
//!
//! For responsibilities `r_nk`, sample weights `w_n` and a per-component shift `s_k` (the
//! component's current mean, so sums stay small and one pass is numerically stable):
//!
//! ```text
//! N_k  = Σ_n w_n r_nk
//! F_k  = Σ_n w_n r_nk (x_n - s_k)                      (first moment, d values)
//! S_k  = Σ_n w_n r_nk (x_n - s_k)(x_n - s_k)ᵀ          (second moment: d diagonal values
//!                                                        for diag/spherical, d x d otherwise)
//! ```
//!
//! from which `μ_k = s_k + F_k / N_k` and `Σ_k = S_k / N_k - (F_k/N_k)(F_k/N_k)ᵀ`; a variance is
//! never formed as `E[x²] - E[x]²` on raw values. Everything is `f64`, whatever the data's
//! precision. [`SuffStats::merge`] adds two sets with the same shift, so blocks, files, streams
//! or machines combine by the same rule; [`SuffStats::reshift`] moves a set to another shift
//! exactly (statistics from passes under different models can then be merged or blended).
//!
//! # The byte form
//!
//! [`SuffStats::to_bytes`] / [`SuffStats::from_bytes`] give a stable, versioned,
//! self-checking form for files, processes and machines (little-endian throughout):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `GMMSTAT\0` |
//! | 4 | format version (`u32`, 1) |
//! | 4 | layout (`u32`: 0 diagonal, 1 full) |
//! | 8 + 8 | `k`, `d` (`u64`) |
//! | 8 + 8 | total weight, weighted log-likelihood (`f64`) |
//! | 8 x ... | shift (`k d`), counts (`k`), first (`k d`), second (`k d` or `k d²`), `f64` |
//! | 8 | FNV-1a 64 checksum of every byte before it |
//!
//! The checksum is FNV-1a, written here in a few lines rather than taken from a crate: the
//! statistics files of the scale-out tools are meant to need no extra dependency, and the
//! checksum only has to catch truncation and corruption, not adversaries.

use gmm_core::kernel::moments::{
    Columns, MomentBlock, MomentSums, Responsibilities, accumulate_moments,
};
use gmm_core::{CovarianceType, Error, ErrorKind, Result};

/// Which second moments to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MomentLayout {
    /// `d` values per component (diag and spherical models).
    Diagonal,
    /// `d x d` values per component, lower triangle filled (full and tied models).
    Full,
}

impl MomentLayout {
    /// The layout a covariance type needs.
    pub fn for_covariance(covariance_type: CovarianceType) -> Self {
        match covariance_type {
            CovarianceType::Diag | CovarianceType::Spherical => Self::Diagonal,
            CovarianceType::Full | CovarianceType::Tied => Self::Full,
        }
    }

    /// Values of the second moment per component for `d` features.
    pub fn second_len(self, d: usize) -> usize {
        match self {
            Self::Diagonal => d,
            Self::Full => d * d,
        }
    }
}

/// Shifted, mergeable sufficient statistics of a weighted, softly assigned sample (see the
/// module docs). Produced by [`crate::e_step`] (or any other source of responsibilities),
/// consumed by an [`UpdateRule`](crate::update::UpdateRule).
#[derive(Debug, Clone, PartialEq)]
pub struct SuffStats {
    pub(crate) n_components: usize,
    pub(crate) n_features: usize,
    pub(crate) layout: MomentLayout,
    pub(crate) shift: Vec<f64>,
    pub(crate) counts: Vec<f64>,
    pub(crate) first: Vec<f64>,
    pub(crate) second: Vec<f64>,
    pub(crate) total_weight: f64,
    pub(crate) log_likelihood: f64,
}

impl SuffStats {
    /// Empty statistics of `n_components x n_features` around `shift` (`k x d` values).
    pub fn new(
        n_components: usize,
        n_features: usize,
        layout: MomentLayout,
        shift: Vec<f64>,
    ) -> Result<Self> {
        let (k, d) = (n_components, n_features);
        if k == 0 || d == 0 {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("statistics of {k} components in {d} dimensions: both must be at least 1"),
            ));
        }
        let expected = k.checked_mul(d).ok_or_else(|| too_large(k, d))?;
        if shift.len() != expected || shift.iter().any(|v| !v.is_finite()) {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected, found: shift.len() },
                format!(
                    "a shift of {} values for {k} components in {d} dimensions: give {expected} \
                     finite values (k x d)",
                    shift.len()
                ),
            ));
        }
        layout.second_len(d).checked_mul(k).ok_or_else(|| too_large(k, d))?;
        Ok(Self::empty(k, d, layout, shift))
    }

    /// [`SuffStats::new`] for shapes the caller has already checked.
    pub(crate) fn empty(
        n_components: usize,
        n_features: usize,
        layout: MomentLayout,
        shift: Vec<f64>,
    ) -> Self {
        let (k, d) = (n_components, n_features);
        debug_assert_eq!(shift.len(), k * d);
        Self {
            n_components,
            n_features,
            layout,
            shift,
            counts: vec![0.0; k],
            first: vec![0.0; k * d],
            second: vec![0.0; k * layout.second_len(d)],
            total_weight: 0.0,
            log_likelihood: 0.0,
        }
    }

    /// Statistics from their parts (shapes as the accessors document): for sources of
    /// statistics outside this crate. Counts must be finite and `>= 0`, every value finite.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        layout: MomentLayout,
        shift: Vec<f64>,
        counts: Vec<f64>,
        first: Vec<f64>,
        second: Vec<f64>,
        total_weight: f64,
        log_likelihood: f64,
    ) -> Result<Self> {
        let k = counts.len();
        let d = shift.len().checked_div(k).unwrap_or(0);
        let mut stats = Self::new(k, d, layout, shift)?;
        for (name, values, expected) in [
            ("first moments", &first, k * d),
            ("second moments", &second, k * layout.second_len(d)),
        ] {
            if values.len() != expected {
                return Err(Error::new(
                    ErrorKind::DimensionMismatch { expected, found: values.len() },
                    format!(
                        "{} {name} for {k} components in {d} dimensions: give {expected}",
                        values.len()
                    ),
                ));
            }
        }
        stats.counts = counts;
        stats.first = first;
        stats.second = second;
        stats.total_weight = total_weight;
        stats.log_likelihood = log_likelihood;
        stats.check_values()?;
        Ok(stats)
    }

    fn check_values(&self) -> Result<()> {
        if let Some(c) = self.counts.iter().position(|n| !(n.is_finite() && *n >= 0.0)) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("count {c} of the statistics is {}: counts must be finite and >= 0", {
                    self.counts[c]
                }),
            ));
        }
        let finite = self.first.iter().chain(&self.second).all(|v| v.is_finite())
            && self.total_weight.is_finite()
            && self.total_weight >= 0.0
            && !self.log_likelihood.is_nan();
        if !finite {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "the statistics hold a NaN or infinite moment or weight: they were not \
                 accumulated from finite data",
            ));
        }
        Ok(())
    }

    /// Number of components `k`.
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// Dimension `d`.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Second-moment layout.
    pub fn layout(&self) -> MomentLayout {
        self.layout
    }

    /// The shift `s_k`, `k x d` row-major.
    pub fn shift(&self) -> &[f64] {
        &self.shift
    }

    /// The counts `N_k`.
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// The first moments `F_k`, `k x d` row-major.
    pub fn first(&self) -> &[f64] {
        &self.first
    }

    /// The second moments `S_k`: `k x d` (diagonal layout) or `k x d x d` (full layout; the
    /// lower triangle `i >= j` of each matrix is filled, the rest is 0).
    pub fn second(&self) -> &[f64] {
        &self.second
    }

    /// `Σ_n w_n`.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// `Σ_n w_n log p(x_n)` under the model that produced the responsibilities (0 when they
    /// did not come from a model).
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// `Σ_n w_n log p(x_n) / Σ_n w_n`: the mean log-likelihood of the pass (NaN when the
    /// statistics carry no weight).
    pub fn mean_log_likelihood(&self) -> f64 {
        self.log_likelihood / self.total_weight
    }

    /// The weighted means `μ_k = s_k + F_k / N_k` (`k x d`; NaN for a component with `N_k = 0`).
    pub fn means(&self) -> Vec<f64> {
        let d = self.n_features;
        (0..self.n_components * d)
            .map(|at| self.shift[at] + self.first[at] / self.counts[at / d])
            .collect()
    }

    /// The count at or below which a component counts as empty: `10 ε Σ_k N_k`. Every update
    /// rule of this crate leaves such a component at its previous parameters.
    pub fn empty_threshold(&self) -> f64 {
        10.0 * f64::EPSILON * self.counts.iter().sum::<f64>()
    }

    /// Whether component `c` is empty (see [`SuffStats::empty_threshold`]).
    pub fn is_empty(&self, c: usize) -> bool {
        self.counts[c] <= self.empty_threshold()
    }

    /// Checks that `other` can be merged into `self`: the same `k`, `d`, layout and shift.
    pub fn check_compatible(&self, other: &SuffStats) -> Result<()> {
        let shape = |s: &SuffStats| (s.n_components, s.n_features, s.layout);
        if shape(self) != shape(other) {
            return Err(Error::new(
                ErrorKind::MismatchedStatistics,
                format!(
                    "statistics of {} components x {} features ({:?} moments) cannot merge with \
                     {} x {} ({:?}): they come from different models",
                    self.n_components,
                    self.n_features,
                    self.layout,
                    other.n_components,
                    other.n_features,
                    other.layout
                ),
            ));
        }
        if self.shift != other.shift {
            return Err(Error::new(
                ErrorKind::MismatchedStatistics,
                "statistics around different shifts cannot merge: accumulate them under the same \
                 model, or reshift one to the other's shift first",
            ));
        }
        Ok(())
    }

    /// Adds `other` (same shape and shift) into `self`; on error `self` is unchanged.
    pub fn merge(&mut self, other: &SuffStats) -> Result<()> {
        self.check_compatible(other)?;
        self.add(other);
        Ok(())
    }

    /// [`SuffStats::merge`] for statistics known to be compatible (the reduction over blocks).
    pub(crate) fn add(&mut self, other: &SuffStats) {
        debug_assert!(self.check_compatible(other).is_ok());
        add_into(&mut self.counts, &other.counts);
        add_into(&mut self.first, &other.first);
        add_into(&mut self.second, &other.second);
        self.total_weight += other.total_weight;
        self.log_likelihood += other.log_likelihood;
    }

    /// Moves the statistics to a new shift (`k x d`) without another pass: with
    /// `δ = s_k - s'_k`, `F' = F + N δ` and `S' = S + F δᵀ + δ Fᵀ + N δ δᵀ`. Statistics from
    /// different passes (whose shifts are the means of different models) can then be merged
    /// or blended ([`crate::online`]).
    pub fn reshift(&mut self, shift: &[f64]) -> Result<()> {
        let (k, d) = (self.n_components, self.n_features);
        if shift.len() != k * d || shift.iter().any(|v| !v.is_finite()) {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: k * d, found: shift.len() },
                format!("a shift of {} values: give {} finite values (k x d)", shift.len(), k * d),
            ));
        }
        for c in 0..k {
            let n = self.counts[c];
            let delta: Vec<f64> =
                (0..d).map(|j| self.shift[c * d + j] - shift[c * d + j]).collect();
            let first: Vec<f64> = self.first[c * d..(c + 1) * d].to_vec();
            match self.layout {
                MomentLayout::Diagonal => {
                    for j in 0..d {
                        self.second[c * d + j] +=
                            2.0 * first[j] * delta[j] + n * delta[j] * delta[j];
                    }
                }
                MomentLayout::Full => {
                    let second = &mut self.second[c * d * d..(c + 1) * d * d];
                    for i in 0..d {
                        for j in 0..=i {
                            second[i * d + j] +=
                                first[i] * delta[j] + delta[i] * first[j] + n * delta[i] * delta[j];
                        }
                    }
                }
            }
            for j in 0..d {
                self.first[c * d + j] += n * delta[j];
            }
        }
        self.shift.copy_from_slice(shift);
        Ok(())
    }

    /// Multiplies every sum (counts, moments, total weight, log-likelihood) by `factor`.
    pub fn scale(&mut self, factor: f64) {
        for values in [&mut self.counts, &mut self.first, &mut self.second] {
            for v in values.iter_mut() {
                *v *= factor;
            }
        }
        self.total_weight *= factor;
        self.log_likelihood *= factor;
    }

    /// Accumulates one block: `xt` is the block's samples column-major (`d x stride`),
    /// `rw` the weighted responsibilities `w_n r_nk` component-major (`k x stride`); only the
    /// first `len` samples are read. `centred` and `weighted` (`d x stride` each) are scratch.
    pub(crate) fn accumulate_block(
        &mut self,
        xt: &[f64],
        rw: &[f64],
        stride: usize,
        len: usize,
        centred: &mut [f64],
        weighted: &mut [f64],
    ) {
        let sums = MomentSums {
            full: self.layout == MomentLayout::Full,
            shift: &self.shift,
            counts: &mut self.counts,
            first: &mut self.first,
            second: &mut self.second,
        };
        accumulate_moments(
            sums,
            MomentBlock { xt: Columns::F64(xt), rw: Responsibilities::F64(rw), stride, len },
            centred,
            weighted,
        );
    }

    /// The byte form of the module docs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let values = self.shift.len() + self.counts.len() + self.first.len() + self.second.len();
        let mut out = Vec::with_capacity(HEADER_LEN + 8 * values + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let layout: u32 = match self.layout {
            MomentLayout::Diagonal => 0,
            MomentLayout::Full => 1,
        };
        out.extend_from_slice(&layout.to_le_bytes());
        out.extend_from_slice(&(self.n_components as u64).to_le_bytes());
        out.extend_from_slice(&(self.n_features as u64).to_le_bytes());
        out.extend_from_slice(&self.total_weight.to_le_bytes());
        out.extend_from_slice(&self.log_likelihood.to_le_bytes());
        for v in self.shift.iter().chain(&self.counts).chain(&self.first).chain(&self.second) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let checksum = fnv1a64(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        out
    }

    /// Reads [`SuffStats::to_bytes`]'s form. A wrong magic, an unknown version, a length that
    /// does not match the header, a checksum mismatch or a non-finite value is a `Parse` error
    /// that says which; nothing is allocated beyond what the bytes hold.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |msg: String| Err(Error::new(ErrorKind::Parse, msg));
        if bytes.len() < HEADER_LEN + 8 || &bytes[..8] != MAGIC {
            return bad(format!(
                "not gmm statistics: {} bytes without the GMMSTAT header (truncated, or another \
                 kind of file)",
                bytes.len()
            ));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let stored = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        let f64_at = |at: usize| f64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return bad(format!(
                "statistics format version {version}: this build reads version {FORMAT_VERSION} \
                 (re-accumulate them with this version of gmm)"
            ));
        }
        let layout = match u32_at(12) {
            0 => MomentLayout::Diagonal,
            1 => MomentLayout::Full,
            other => return bad(format!("unknown moment layout {other} in the statistics")),
        };
        let (k, d) = (u64_at(16), u64_at(24));
        let values = usize::try_from(k)
            .ok()
            .zip(usize::try_from(d).ok())
            .and_then(|(k, d)| {
                let kd = k.checked_mul(d)?;
                let per_component = match layout {
                    MomentLayout::Diagonal => d,
                    MomentLayout::Full => d.checked_mul(d)?,
                };
                let second = k.checked_mul(per_component)?;
                kd.checked_mul(2)?.checked_add(k)?.checked_add(second)
            })
            .filter(|&v| {
                v.checked_mul(8).and_then(|b| b.checked_add(HEADER_LEN)) == Some(body.len())
            });
        let Some(_) = values else {
            return bad(format!(
                "statistics of {k} x {d} need a different length than the {} bytes given \
                 (truncated or corrupted)",
                bytes.len()
            ));
        };
        if fnv1a64(body) != stored {
            return bad("the statistics' checksum does not match: the bytes are corrupted".into());
        }
        let (k, d) = (k as usize, d as usize);
        let mut at = HEADER_LEN;
        let mut take = |n: usize| -> Vec<f64> {
            let v = (0..n).map(|i| f64_at(at + 8 * i)).collect();
            at += 8 * n;
            v
        };
        let shift = take(k * d);
        let counts = take(k);
        let first = take(k * d);
        let second = take(k * layout.second_len(d));
        Self::from_parts(layout, shift, counts, first, second, f64_at(32), f64_at(40))
            .map_err(|e| e.context("statistics bytes"))
    }
}

const MAGIC: &[u8; 8] = b"GMMSTAT\0";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 48;

/// FNV-1a, 64 bits (see the module docs for why it is written here).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn too_large(k: usize, d: usize) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!("statistics of {k} components in {d} dimensions do not fit in memory"),
    )
}

fn add_into(acc: &mut [f64], other: &[f64]) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use gmm_core::kernel::moments::accumulate_reference;

    use super::*;

    fn reference(stats: &mut SuffStats, xt: &[f64], rw: &[f64], stride: usize, len: usize) {
        let sums = MomentSums {
            full: stats.layout == MomentLayout::Full,
            shift: &stats.shift,
            counts: &mut stats.counts,
            first: &mut stats.first,
            second: &mut stats.second,
        };
        accumulate_reference(
            sums,
            MomentBlock { xt: Columns::F64(xt), rw: Responsibilities::F64(rw), stride, len },
        );
    }

    fn value(i: usize) -> f64 {
        ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7
    }

    fn example(d: usize, k: usize, layout: MomentLayout, shift_seed: usize) -> SuffStats {
        let (stride, len) = (64, 50);
        let xt: Vec<f64> = (0..d * stride).map(value).collect();
        let rw: Vec<f64> = (0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0).collect();
        let shift: Vec<f64> = (0..k * d).map(|i| value(i * shift_seed + 1) * 0.5).collect();
        let mut stats = SuffStats::new(k, d, layout, shift).unwrap();
        reference(&mut stats, &xt, &rw, stride, len);
        stats.total_weight = 50.0;
        stats.log_likelihood = -123.25;
        stats
    }

    #[test]
    fn reshift_matches_accumulating_around_the_new_shift() {
        for &(d, k) in &[(1, 1), (3, 2), (5, 4)] {
            for layout in [MomentLayout::Diagonal, MomentLayout::Full] {
                let mut moved = example(d, k, layout, 3);
                let direct = example(d, k, layout, 5);
                moved.reshift(&direct.shift).unwrap();
                for (a, b) in [
                    (&moved.first, &direct.first),
                    (&moved.second, &direct.second),
                    (&moved.counts, &direct.counts),
                ] {
                    for (x, y) in a.iter().zip(b.iter()) {
                        assert!((x - y).abs() <= 1e-11 * (1.0 + y.abs()), "{layout:?} {x} vs {y}");
                    }
                }
                let e = moved.reshift(&vec![0.0; k * d + 1]).unwrap_err();
                assert!(matches!(e.kind(), ErrorKind::DimensionMismatch { .. }), "{e}");
            }
        }
    }

    #[test]
    fn merge_adds_compatible_statistics_and_refuses_others() {
        let a = example(3, 2, MomentLayout::Full, 3);
        let mut sum = a.clone();
        sum.merge(&a).unwrap();
        let mut doubled = a.clone();
        doubled.scale(2.0);
        assert_eq!(sum, doubled);
        for other in [
            example(3, 2, MomentLayout::Diagonal, 3),
            example(3, 3, MomentLayout::Full, 3),
            example(2, 2, MomentLayout::Full, 3),
            example(3, 2, MomentLayout::Full, 5),
        ] {
            let mut target = a.clone();
            let e = target.merge(&other).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::MismatchedStatistics, "{e}");
            assert_eq!(target, a, "unchanged on error");
        }
    }

    #[test]
    fn bytes_round_trip_exactly() {
        for layout in [MomentLayout::Diagonal, MomentLayout::Full] {
            for (d, k) in [(1, 1), (4, 3)] {
                let stats = example(d, k, layout, 3);
                let bytes = stats.to_bytes();
                let back = SuffStats::from_bytes(&bytes).unwrap();
                assert_eq!(back, stats);
                assert_eq!(back.to_bytes(), bytes);
                assert_eq!(back.log_likelihood().to_bits(), stats.log_likelihood().to_bits());
            }
        }
    }

    #[test]
    fn corrupted_or_truncated_bytes_are_parse_errors() {
        let bytes = example(4, 3, MomentLayout::Full, 3).to_bytes();
        let mut cases: Vec<(String, Vec<u8>)> = vec![
            ("empty".into(), Vec::new()),
            ("truncated".into(), bytes[..bytes.len() - 9].to_vec()),
            ("header only".into(), bytes[..HEADER_LEN].to_vec()),
            ("extended".into(), [bytes.clone(), vec![0; 8]].concat()),
        ];
        for at in [0, 8, 12, 16, 24, 40, HEADER_LEN + 3, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            cases.push((format!("byte {at} flipped"), flipped));
        }
        let mut huge = bytes.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        cases.push(("huge k".into(), huge));
        for (what, case) in cases {
            let e = SuffStats::from_bytes(&case).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Parse, "{what}: {e}");
        }
    }

    #[test]
    fn bad_parts_are_refused() {
        let e = SuffStats::new(0, 2, MomentLayout::Diagonal, vec![]).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidParameter);
        let e = SuffStats::new(2, 2, MomentLayout::Diagonal, vec![0.0; 3]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::DimensionMismatch { expected: 4, found: 3 }));
        let e = SuffStats::from_parts(
            MomentLayout::Diagonal,
            vec![0.0; 2],
            vec![1.0, -1.0],
            vec![0.0; 2],
            vec![0.0; 2],
            0.0,
            0.0,
        )
        .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidParameter, "{e}");
        let e = SuffStats::from_parts(
            MomentLayout::Full,
            vec![0.0; 2],
            vec![1.0, 1.0],
            vec![0.0; 2],
            vec![0.0; 3],
            0.0,
            0.0,
        )
        .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::DimensionMismatch { expected: 2, found: 3 }), "{e}");
    }
}
