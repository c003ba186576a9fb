//! [`GaussianMixture`]: parameters plus the derived terms every kernel reads.
//!
//! A mixture of `k` Gaussians in `d` dimensions has density
//!
//! ```text
//! p(x) = Σ_k w_k N(x | μ_k, Σ_k),
//! log N(x | μ, Σ) = -½ (d log 2π + log det Σ + (x-μ)ᵀ Σ⁻¹ (x-μ)).
//! ```
//!
//! The model is immutable: it is built once from weights, means and covariances, which are
//! validated (shapes, finite values, weights non-negative and summing to one, covariances
//! symmetric positive definite), and the derived terms are
//! computed right then, in `f64`, and stored in the model's precision:
//!
//! * `log w_k` (the log-weights);
//! * for `diag` and `spherical`, inverse variances `1/σ²_kj` (spherical ones broadcast to `k x d`
//!   so both share the diagonal kernel);
//! * for `full` and `tied`, the precision Cholesky factor `U_k = L_k^{-T}` where `Σ_k = L_k L_kᵀ`
//!   (scikit-learn's `precisions_cholesky_`), so `(x-μ)ᵀ Σ⁻¹ (x-μ) = ‖(x-μ)ᵀ U_k‖²`;
//! * the normalising constant `-½ d log 2π + Σ_j log U_k,jj` (`log det U_k = -½ log det Σ_k`).
//!
//! Learning produces a new model rather than mutating one, so a failed fit can never leave a
//! half-updated model behind.

use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::{Mat, Par, Side};

use crate::covariance::CovarianceType;
use crate::error::{Error, ErrorKind, Result};
use crate::kernel::diag::F32_SCALED_RANGE;
use crate::real::Real;

/// `ln(2π)`.
pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// How a model's precision is stored for the kernels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Precision<T> {
    /// Diag and spherical: `k x d` inverse variances `p = 1 / σ²`; for `f64` models also the
    /// scaled form the diagonal kernel reads (`k x d` each, empty for `f32`; see
    /// `kernel::diag`): `root = 1 / σ` and `scaled_means = -μ / σ` (negated: the kernel's FMA
    /// adds it), both rounded once from `f64` values computed from the parameters.
    InverseVariances { inverse: Vec<T>, root: Vec<T>, scaled_means: Vec<T> },
    /// Upper-triangular `d x d` precision Cholesky factors, row-major; one per component
    /// (full) or a single shared one (tied). `padded` holds the same factors with rows padded
    /// with zeros to a multiple of 4 columns, the layout the Cholesky kernel reads (its tiles
    /// stop at column `d`; the padding only keeps every row starting at a multiple of 4 values).
    Cholesky {
        /// `d x d` factors.
        factors: Vec<T>,
        /// `d x round_up(d, 4)` factors.
        padded: Vec<T>,
        /// `k x round_up(d, 4)`: `-m_k = -U_kᵀ μ_k` (zero in the padding), each value summed in
        /// `f64` (over `i`, in order) and rounded once: the start value of the kernel's `y`
        /// (see `kernel::cholesky`), computed here once per model instead of once per block.
        minus_folded: Vec<T>,
    },
}

/// A Gaussian mixture model over `f32` or `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture<T: Real> {
    covariance_type: CovarianceType,
    n_components: usize,
    n_features: usize,
    weights: Vec<T>,
    means: Vec<T>,
    covariances: Vec<T>,
    // Derived terms, rebuilt by `refresh` from the parameters above.
    log_weights: Vec<T>,
    log_norms: Vec<T>,
    precision: Precision<T>,
}

impl<T: Real> GaussianMixture<T> {
    /// Builds a mixture from its parameters.
    ///
    /// * `weights`: `k` non-negative values summing to one (within `max(1e-6, 10 k ε)`, so
    ///   weights written from an `f32` model load as `f64`; scikit-learn allows `1e-5`);
    /// * `means`: `k x d` row-major (so `d = means.len() / k`);
    /// * `covariances`: laid out as [`CovarianceType`] documents (`k x d`, `k x d x d`, `k`
    ///   or `d x d`); full and tied matrices must be symmetric (to `1e-9` relative for `f64`,
    ///   `1e-5` for `f32`) and positive definite; variances must be positive.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidParameter`] for shapes or non-finite values,
    /// [`ErrorKind::InvalidWeights`], [`ErrorKind::NotSymmetric`] and
    /// [`ErrorKind::NotPositiveDefinite`] (naming the component).
    pub fn new(
        covariance_type: CovarianceType,
        weights: Vec<T>,
        means: Vec<T>,
        covariances: Vec<T>,
    ) -> Result<Self> {
        let k = weights.len();
        if k == 0 {
            return Err(Error::invalid_parameter("a mixture needs at least one component"));
        }
        if means.is_empty() || !means.len().is_multiple_of(k) {
            return Err(Error::invalid_parameter(format!(
                "{} mean values do not make {k} rows (one per weight): give k x d means",
                means.len()
            )));
        }
        let d = means.len() / k;
        let expected = covariance_type.covariance_len(k, d);
        if covariances.len() != expected {
            return Err(Error::invalid_parameter(format!(
                "a {covariance_type} covariance for k = {k}, d = {d} needs {expected} values, \
                 got {}",
                covariances.len()
            )));
        }
        check_weights(&weights)?;
        if let Some(at) = means.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid_parameter(format!(
                "mean of component {} holds {} in dimension {}: means must be finite",
                at / d,
                means[at],
                at % d
            )));
        }
        if let Some(at) = covariances.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid_parameter(format!(
                "the covariances hold a non-finite value ({}) at flat index {at}",
                covariances[at]
            )));
        }
        let mut model = Self {
            covariance_type,
            n_components: k,
            n_features: d,
            weights,
            means,
            covariances,
            log_weights: Vec::new(),
            log_norms: Vec::new(),
            precision: Precision::InverseVariances {
                inverse: Vec::new(),
                root: Vec::new(),
                scaled_means: Vec::new(),
            },
        };
        model.refresh()?;
        Ok(model)
    }

    /// Rebuilds the derived terms (log-weights, precisions, normalising constants) from the
    /// parameters; the only place they are computed.
    fn refresh(&mut self) -> Result<()> {
        let (k, d) = (self.n_components, self.n_features);
        self.log_weights = self.weights.iter().map(|w| T::from_f64(w.to_f64().ln())).collect();
        let half_d_ln_2pi = 0.5 * d as f64 * LN_2PI;
        let mut log_norms = vec![0.0f64; k];
        self.precision = match self.covariance_type {
            CovarianceType::Diag | CovarianceType::Spherical => {
                let mut inverse = Vec::with_capacity(k * d);
                let (mut root, mut scaled_means) = (Vec::new(), Vec::new());
                for c in 0..k {
                    let mut half_log_det = 0.0;
                    for j in 0..d {
                        let var = match self.covariance_type {
                            CovarianceType::Diag => self.covariances[c * d + j],
                            _ => self.covariances[c],
                        }
                        .to_f64();
                        if var <= 0.0 {
                            return Err(not_positive_definite(
                                c,
                                format!("its variance in dimension {j} is {var}, not positive"),
                            ));
                        }
                        inverse.push(T::from_f64(1.0 / var));
                        let r = 1.0 / var.sqrt();
                        root.push(T::from_f64(r));
                        scaled_means.push(T::from_f64(-(self.means[c * d + j].to_f64() * r)));
                        half_log_det += 0.5 * var.ln();
                    }
                    log_norms[c] = -half_d_ln_2pi - half_log_det;
                }
                // The scaled form only far from overflow (|μ / σ| and 1 / σ below 1e150)
                // and, for `f32`, with every mean within `F32_SCALED_RANGE` standard
                // deviations of the origin; otherwise the exact form (`kernel::diag`).
                let limit = if T::as_f64_slice(&[]).is_some() { 1e150 } else { F32_SCALED_RANGE };
                let in_range = |v: &T| v.to_f64().abs() < 1e150;
                let near = |v: &T| v.to_f64().abs() <= limit;
                if !(root.iter().all(in_range) && scaled_means.iter().all(near)) {
                    (root, scaled_means) = (Vec::new(), Vec::new());
                }
                Precision::InverseVariances { inverse, root, scaled_means }
            }
            CovarianceType::Full | CovarianceType::Tied => {
                let n_mats = if self.covariance_type == CovarianceType::Full { k } else { 1 };
                let mut factors = Vec::with_capacity(n_mats * d * d);
                let mut mat_log_norms = Vec::with_capacity(n_mats);
                for m in 0..n_mats {
                    let cov = &self.covariances[m * d * d..(m + 1) * d * d];
                    let (factor, log_det_u) = precision_cholesky(cov, d, m)?;
                    factors.extend(factor.into_iter().map(T::from_f64));
                    mat_log_norms.push(-half_d_ln_2pi + log_det_u);
                }
                for c in 0..k {
                    log_norms[c] = mat_log_norms[if n_mats == 1 { 0 } else { c }];
                }
                let width = padded_width(d);
                let padded = pad_columns(&factors, d, width);
                let mut minus_folded = Vec::with_capacity(k * width);
                for c in 0..k {
                    let m = if n_mats == 1 { 0 } else { c };
                    let u = &padded[m * d * width..(m + 1) * d * width];
                    let mut sums = vec![0.0f64; width];
                    for (i, mu) in self.means[c * d..(c + 1) * d].iter().enumerate() {
                        let mu = mu.to_f64();
                        for (s, &v) in sums[i..].iter_mut().zip(&u[i * width + i..(i + 1) * width])
                        {
                            *s += v.to_f64() * mu;
                        }
                    }
                    minus_folded.extend(sums.iter().map(|&v| T::from_f64(-v)));
                }
                Precision::Cholesky { factors, padded, minus_folded }
            }
        };
        self.log_norms = log_norms.into_iter().map(T::from_f64).collect();
        Ok(())
    }

    /// The covariance structure.
    pub fn covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }

    /// Number of components `k`.
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// Dimension `d` of the samples.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The `k` mixture weights.
    pub fn weights(&self) -> &[T] {
        &self.weights
    }

    /// The means, `k x d` row-major.
    pub fn means(&self) -> &[T] {
        &self.means
    }

    /// Mean of component `c`.
    pub fn mean(&self, c: usize) -> &[T] {
        &self.means[c * self.n_features..(c + 1) * self.n_features]
    }

    /// The covariance parameters, laid out as [`CovarianceType`] documents.
    pub fn covariances(&self) -> &[T] {
        &self.covariances
    }

    /// The full `d x d` covariance matrix of component `c` (row-major), whatever the type.
    pub fn covariance_matrix(&self, c: usize) -> Vec<T> {
        let d = self.n_features;
        let mut out = vec![T::ZERO; d * d];
        match self.covariance_type {
            CovarianceType::Diag => {
                for j in 0..d {
                    out[j * d + j] = self.covariances[c * d + j];
                }
            }
            CovarianceType::Spherical => {
                for j in 0..d {
                    out[j * d + j] = self.covariances[c];
                }
            }
            CovarianceType::Full => {
                out.copy_from_slice(&self.covariances[c * d * d..(c + 1) * d * d])
            }
            CovarianceType::Tied => out.copy_from_slice(&self.covariances),
        }
        out
    }

    /// `log w_k` for every component.
    pub fn log_weights(&self) -> &[T] {
        &self.log_weights
    }

    /// `-½ d log 2π - ½ log det Σ_k` for every component.
    pub fn log_normalisers(&self) -> &[T] {
        &self.log_norms
    }

    pub(crate) fn precision(&self) -> &Precision<T> {
        &self.precision
    }

    /// The precision Cholesky factors `U` (upper triangular, `Σ⁻¹ = U Uᵀ`), row-major `d x d`,
    /// one per component for `full`, one in all for `tied`; `None` for `diag` and `spherical`.
    pub fn precision_cholesky(&self) -> Option<&[T]> {
        match &self.precision {
            Precision::Cholesky { factors, .. } => Some(factors),
            Precision::InverseVariances { .. } => None,
        }
    }

    /// The inverse variances, `k x d` (spherical ones repeated across `d`); `None` for `full`
    /// and `tied`.
    pub fn inverse_variances(&self) -> Option<&[T]> {
        match &self.precision {
            Precision::InverseVariances { inverse, .. } => Some(inverse),
            Precision::Cholesky { .. } => None,
        }
    }

    /// Number of free parameters `p`: `k d` means, `k - 1` weights, and the covariance's
    /// (`k d` diag, `k` spherical, `k d(d+1)/2` full, `d(d+1)/2` tied), as scikit-learn counts.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.n_components, self.n_features);
        k * d + (k - 1) + self.covariance_type.n_covariance_parameters(k, d)
    }

    /// The same model in another precision (derived terms recomputed there).
    pub fn cast<U: Real>(&self) -> Result<GaussianMixture<U>> {
        let conv = |v: &[T]| v.iter().map(|x| U::from_f64(x.to_f64())).collect::<Vec<U>>();
        GaussianMixture::new(
            self.covariance_type,
            conv(&self.weights),
            conv(&self.means),
            conv(&self.covariances),
        )
    }

    /// Checks that samples have this model's dimension.
    pub fn check_dimension(&self, n_features: usize) -> Result<()> {
        if n_features != self.n_features {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: self.n_features, found: n_features },
                format!(
                    "the data has {n_features} features per sample but the model has {}: \
                     use data with the model's dimension",
                    self.n_features
                ),
            ));
        }
        Ok(())
    }
}

/// Columns of the padded Cholesky layout: `d` rounded up to a multiple of 4.
pub(crate) fn padded_width(d: usize) -> usize {
    d.div_ceil(4) * 4
}

/// Copies row-major `d x d` matrices into `d x width` rows padded with zeros.
fn pad_columns<T: Real>(matrices: &[T], d: usize, width: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(matrices.len() / d * width);
    for row in matrices.chunks_exact(d) {
        out.extend_from_slice(row);
        out.extend(std::iter::repeat_n(T::ZERO, width - d));
    }
    out
}

fn check_weights<T: Real>(weights: &[T]) -> Result<()> {
    let k = weights.len();
    for (c, w) in weights.iter().enumerate() {
        if !w.is_finite() || *w < T::ZERO {
            return Err(Error::new(
                ErrorKind::InvalidWeights,
                format!("weight {c} is {w}: mixture weights must be finite and non-negative"),
            ));
        }
    }
    let sum: f64 = weights.iter().map(|w| w.to_f64()).sum();
    let tolerance = (10.0 * k as f64 * T::EPSILON.to_f64()).max(1e-6);
    if (sum - 1.0).abs() > tolerance {
        return Err(Error::new(
            ErrorKind::InvalidWeights,
            format!("the weights sum to {sum}, not 1 (tolerance {tolerance:.1e}): normalise them"),
        ));
    }
    Ok(())
}

fn not_positive_definite(component: usize, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::NotPositiveDefinite { component },
        format!(
            "the covariance of component {component} is not positive definite ({why}): \
             add a small value to its diagonal (reg_covar), use fewer components, or scale the data"
        ),
    )
}

/// Relative asymmetry a covariance matrix may have for type `T`.
fn symmetry_tolerance<T: Real>() -> f64 {
    if T::EPSILON.to_f64() > 1e-10 { 1e-5 } else { 1e-9 }
}

/// Precision Cholesky factor `U = L^{-T}` (row-major, upper) of the symmetric matrix `cov`, and
/// `log det U = Σ log U_jj`. The matrix is symmetrised (mean of both triangles) first.
fn precision_cholesky<T: Real>(cov: &[T], d: usize, component: usize) -> Result<(Vec<f64>, f64)> {
    let tol = symmetry_tolerance::<T>();
    for i in 0..d {
        for j in 0..i {
            let (a, b) = (cov[i * d + j].to_f64(), cov[j * d + i].to_f64());
            let scale = (cov[i * d + i].to_f64().abs() * cov[j * d + j].to_f64().abs()).sqrt();
            if (a - b).abs() > tol * scale.max(a.abs()).max(f64::MIN_POSITIVE) {
                return Err(Error::new(
                    ErrorKind::NotSymmetric { component },
                    format!(
                        "the covariance of component {component} is not symmetric: \
                         entry ({i}, {j}) is {a} but ({j}, {i}) is {b}"
                    ),
                ));
            }
        }
    }
    let sym =
        Mat::<f64>::from_fn(d, d, |i, j| 0.5 * (cov[i * d + j].to_f64() + cov[j * d + i].to_f64()));
    let llt = sym.llt(Side::Lower).map_err(|e| {
        let faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } = e;
        not_positive_definite(
            component,
            format!("its Cholesky factorisation fails at pivot {index}"),
        )
    })?;
    let mut inverse = Mat::<f64>::zeros(d, d);
    invert_lower_triangular(inverse.as_mut(), llt.L(), Par::Seq);
    let mut factor = vec![0.0; d * d];
    let mut log_det = 0.0;
    for i in 0..d {
        for j in i..d {
            // U = (L^{-1})ᵀ: U[i][j] = L^{-1}[j][i], zero below the diagonal.
            factor[i * d + j] = inverse[(j, i)];
        }
        let diag = factor[i * d + i];
        if !(diag.is_finite() && diag > 0.0) {
            return Err(not_positive_definite(component, "its Cholesky factor is singular"));
        }
        log_det += diag.ln();
    }
    if !log_det.is_finite() || factor.iter().any(|v| !v.is_finite()) {
        return Err(not_positive_definite(component, "its precision overflows"));
    }
    Ok((factor, log_det))
}
