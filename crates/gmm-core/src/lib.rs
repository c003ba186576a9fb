//! # gmm-core: Gaussian mixture models, their parameters and their kernels
//!
//! The model side of gmm: [`GaussianMixture`] (parameters plus cached derived terms, over
//! `f32` or `f64`, with diag, full, spherical and tied covariances), random valid parameters,
//! sampling, and scoring (per-sample log-likelihood, per-component log-densities, posteriors,
//! labels, BIC and AIC), all on blocked SIMD kernels with deterministic parallel reduction.
//! Learning lives in `gmm-em`.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture, Samples};
//!
//! let model = GaussianMixture::<f64>::new(
//!     CovarianceType::Diag,
//!     vec![0.3, 0.7],
//!     vec![0.0, 0.0, 5.0, 5.0],
//!     vec![1.0, 1.0, 2.0, 0.5],
//! )?;
//! let (x, labels) = model.sample(1000, 42)?;
//! let mean_ll = model.score(x.samples())?;
//! let predicted = model.predict(x.samples())?;
//! let agree = predicted.iter().zip(&labels).filter(|(a, b)| a == b).count();
//! assert!(agree > 990 && mean_ll < 0.0);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! ## Modules
//! * [`mixture`] — the model, its validation and derived terms;
//! * [`isa`] — which instruction set the SIMD kernels run on (the best the machine has, or
//!   one forced for tests and benchmarks);
//! * [`score`] — scoring and information criteria;
//! * [`random`] — random parameters and sampling;
//! * [`geometry`] — confidence ellipses, 2-D marginals and isodensity contours;
//! * [`covariance`], [`data`], [`error`], [`real`] — the types all of it is written in.
//!
//! The kernels themselves (`kernel`: blocked log-density kernels, the moment, lane, selection
//! and selected-scoring kernels, the block-pass skeleton), the fixed-shape parallel reduction
//! (`par`) and per-thread scratch (`scratch`) are public for gmm's own crates only: they are
//! hidden from these docs and may change in any release. `docs/ARCHITECTURE.md` describes them.

pub mod covariance;
pub mod data;
pub mod error;
pub mod geometry;
#[doc(hidden)]
pub mod kernel;
pub mod memory;
pub mod mixture;
#[doc(hidden)]
pub mod par;
pub mod random;
pub mod real;
pub mod score;
#[doc(hidden)]
pub mod scratch;

pub use covariance::CovarianceType;
pub use data::{Matrix, RowSource, Samples};
pub use error::{Error, ErrorKind, Result};
pub use kernel::isa;
pub use mixture::GaussianMixture;
pub use real::Real;
pub use score::Criteria;
