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
//! or machines combine by the same rule.

use gmm_core::CovarianceType;

/// Which second moments to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Shifted, mergeable sufficient statistics of a weighted, softly assigned sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SuffStats {
    /// Number of components `k`.
    pub n_components: usize,
    /// Dimension `d`.
    pub n_features: usize,
    /// Second-moment layout.
    pub layout: MomentLayout,
    /// Shift `s_k`, `k x d`.
    pub shift: Vec<f64>,
    /// `N_k`.
    pub counts: Vec<f64>,
    /// `F_k`, `k x d`.
    pub first: Vec<f64>,
    /// `S_k`: `k x d` (diagonal) or `k x d x d` (full; lower triangle, `i >= j`).
    pub second: Vec<f64>,
    /// `Σ_n w_n`.
    pub total_weight: f64,
    /// `Σ_n w_n log p(x_n)` under the model that produced the responsibilities (0 when they
    /// did not come from a model).
    pub log_likelihood: f64,
}

impl SuffStats {
    /// Empty statistics around `shift` (`k x d`).
    pub fn new(
        n_components: usize,
        n_features: usize,
        layout: MomentLayout,
        shift: Vec<f64>,
    ) -> Self {
        let (k, d) = (n_components, n_features);
        debug_assert_eq!(shift.len(), k * d);
        let second_len = match layout {
            MomentLayout::Diagonal => k * d,
            MomentLayout::Full => k * d * d,
        };
        Self {
            n_components,
            n_features,
            layout,
            shift,
            counts: vec![0.0; k],
            first: vec![0.0; k * d],
            second: vec![0.0; second_len],
            total_weight: 0.0,
            log_likelihood: 0.0,
        }
    }

    /// Adds `other` (same shape and shift) into `self`.
    pub fn merge(&mut self, other: &SuffStats) {
        debug_assert_eq!(self.shift, other.shift);
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
    pub fn reshift(&mut self, shift: &[f64]) {
        let (k, d) = (self.n_components, self.n_features);
        debug_assert_eq!(shift.len(), k * d);
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
    pub fn accumulate_block(
        &mut self,
        xt: &[f64],
        rw: &[f64],
        stride: usize,
        len: usize,
        centred: &mut [f64],
        weighted: &mut [f64],
    ) {
        pulp::Arch::new().dispatch(crate::reduce::BlockAccumulator {
            stats: self,
            xt,
            rw,
            stride,
            len,
            centred,
            weighted,
        });
    }
}

fn add_into(acc: &mut [f64], other: &[f64]) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook sums, one sample at a time: the reference for `accumulate_block`.
    fn accumulate_reference(
        stats: &mut SuffStats,
        xt: &[f64],
        rw: &[f64],
        stride: usize,
        len: usize,
    ) {
        let (k, d) = (stats.n_components, stats.n_features);
        for n in 0..len {
            for c in 0..k {
                let r = rw[c * stride + n];
                stats.counts[c] += r;
                let t: Vec<f64> =
                    (0..d).map(|j| xt[j * stride + n] - stats.shift[c * d + j]).collect();
                for i in 0..d {
                    stats.first[c * d + i] += r * t[i];
                    match stats.layout {
                        MomentLayout::Diagonal => stats.second[c * d + i] += r * t[i] * t[i],
                        MomentLayout::Full => {
                            for j in 0..=i {
                                stats.second[c * d * d + i * d + j] += r * t[i] * t[j];
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reshift_matches_accumulating_around_the_new_shift() {
        let (stride, len) = (64, 50);
        for &(d, k) in &[(1, 1), (3, 2), (5, 4)] {
            for layout in [MomentLayout::Diagonal, MomentLayout::Full] {
                let value = |i: usize| ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7;
                let xt: Vec<f64> = (0..d * stride).map(value).collect();
                let rw: Vec<f64> = (0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0).collect();
                let old: Vec<f64> = (0..k * d).map(|i| value(i * 3 + 1) * 0.5).collect();
                let new: Vec<f64> = (0..k * d).map(|i| value(i * 5 + 2) * 0.3).collect();
                let mut moved = SuffStats::new(k, d, layout, old);
                accumulate_reference(&mut moved, &xt, &rw, stride, len);
                moved.reshift(&new);
                let mut direct = SuffStats::new(k, d, layout, new);
                accumulate_reference(&mut direct, &xt, &rw, stride, len);
                for (a, b) in [
                    (&moved.first, &direct.first),
                    (&moved.second, &direct.second),
                    (&moved.counts, &direct.counts),
                ] {
                    for (x, y) in a.iter().zip(b.iter()) {
                        assert!((x - y).abs() <= 1e-11 * (1.0 + y.abs()), "{layout:?} {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn block_accumulation_matches_reference() {
        let stride = 240;
        for &(d, k, len) in
            &[(1, 1, 1), (1, 3, 7), (2, 1, 240), (3, 4, 239), (15, 5, 100), (7, 2, 17)]
        {
            for layout in [MomentLayout::Diagonal, MomentLayout::Full] {
                let value = |i: usize| ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7;
                let xt: Vec<f64> = (0..d * stride).map(value).collect();
                let rw: Vec<f64> = (0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0).collect();
                let shift: Vec<f64> = (0..k * d).map(|i| value(i * 3 + 1) * 0.5).collect();
                let mut fast = SuffStats::new(k, d, layout, shift.clone());
                let mut slow = SuffStats::new(k, d, layout, shift);
                let (mut centred, mut weighted) = (vec![0.0; d * stride], vec![0.0; d * stride]);
                for _ in 0..2 {
                    fast.accumulate_block(&xt, &rw, stride, len, &mut centred, &mut weighted);
                    accumulate_reference(&mut slow, &xt, &rw, stride, len);
                }
                let tol = 1e-13 * len as f64;
                for (name, a, b) in [
                    ("counts", &fast.counts, &slow.counts),
                    ("first", &fast.first, &slow.first),
                    ("second", &fast.second, &slow.second),
                ] {
                    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                        assert!(
                            (x - y).abs() <= tol * (1.0 + y.abs()),
                            "{layout:?} d={d} k={k} len={len} {name}[{i}]: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }
}
