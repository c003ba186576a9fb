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

use crate::reduce::{dot, dot_and_weighted};

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

    /// Accumulates one block: `xt` is the block's samples column-major (`d x stride`),
    /// `rw` the weighted responsibilities `w_n r_nk` component-major (`k x stride`); only the
    /// first `len` samples are read. `centred` (`d x stride`) and `weighted` (`stride`) are
    /// scratch.
    pub fn accumulate_block(
        &mut self,
        xt: &[f64],
        rw: &[f64],
        stride: usize,
        len: usize,
        centred: &mut [f64],
        weighted: &mut [f64],
    ) {
        let (k, d) = (self.n_components, self.n_features);
        for c in 0..k {
            let r = &rw[c * stride..c * stride + len];
            self.counts[c] += r.iter().sum::<f64>();
            let shift = &self.shift[c * d..(c + 1) * d];
            for j in 0..d {
                let s = shift[j];
                let x = &xt[j * stride..j * stride + len];
                let t = &mut centred[j * stride..j * stride + len];
                for (t, &x) in t.iter_mut().zip(x) {
                    *t = x - s;
                }
            }
            let first = &mut self.first[c * d..(c + 1) * d];
            match self.layout {
                MomentLayout::Diagonal => {
                    let second = &mut self.second[c * d..(c + 1) * d];
                    for j in 0..d {
                        let t = &centred[j * stride..j * stride + len];
                        let (f, s2) = dot_and_weighted(r, t, t);
                        first[j] += f;
                        second[j] += s2;
                    }
                }
                MomentLayout::Full => {
                    // u_i = r ∘ t_i, then S_ij += u_i · t_j (lower triangle).
                    let second = &mut self.second[c * d * d..(c + 1) * d * d];
                    for i in 0..d {
                        let (ti, ui) = (&centred[i * stride..i * stride + len], &mut weighted[..len]);
                        for ((u, &t), &r) in ui.iter_mut().zip(ti).zip(r) {
                            *u = r * t;
                        }
                        first[i] += ui.iter().sum::<f64>();
                        for j in 0..=i {
                            second[i * d + j] += dot(ui, &centred[j * stride..j * stride + len]);
                        }
                    }
                }
            }
        }
    }
}

fn add_into(acc: &mut [f64], other: &[f64]) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a += b;
    }
}
