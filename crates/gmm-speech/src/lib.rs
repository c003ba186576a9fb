//! # gmm-speech: Gaussian mixtures for speaker recognition
//!
//! The GMM-UBM toolkit of speaker verification and identification (Reynolds, Quatieri & Dunn
//! 2000), on gmm's kernels:
//!
//! 1. train a **universal background model** on many speakers' frames ([`ubm`]: component
//!    splitting with Kaldi's low-count rule);
//! 2. **adapt** it to each speaker by relevance MAP ([`adapt`]);
//! 3. score an utterance by its **log-likelihood ratio** against the UBM, exactly or with
//!    **Gaussian selection** ([`scoring`], [`selection`]);
//! 4. or hand its **Baum-Welch statistics** to an i-vector / PLDA back-end ([`statistics`]).
//!
//! Should I use this crate? If the frames are acoustic features (MFCCs) and the task is "which
//! speaker" or "is it this speaker", yes. For general mixture fitting use `gmm-em`; everything
//! here consumes its statistics ([`gmm_em::SuffStats`]) and models ([`gmm_core::GaussianMixture`]).
//!
//! # The maths
//!
//! A speaker model `s` (usually MAP-adapted from the UBM `u`) scores an utterance of `T` frames
//! by the average per-frame log-likelihood ratio
//!
//! ```text
//! LLR = (1/T) Σ_t [ log p_s(x_t) - log p_u(x_t) ],     log p(x) = logsumexp_k ℓ_k(x),
//! ℓ_k(x) = log w_k + log N(x | μ_k, Σ_k).
//! ```
//!
//! **Top-C scoring** (Reynolds, Quatieri & Dunn 2000, §3.3; Kaldi's `gmm-gselect`): for each
//! frame the `C` components with the largest `ℓ_k^u(x)` under the UBM are chosen, and *both*
//! log-likelihoods are sums over those `C` components only:
//!
//! ```text
//! log p_u(x) ≈ logsumexp_{k ∈ top_C(x)} ℓ_k^u(x),    log p_s(x) ≈ logsumexp_{k ∈ top_C(x)} ℓ_k^s(x).
//! ```
//!
//! This works because an adapted model's components stay near their UBM parents, so the few
//! components that carry a frame's mass are the same in both; the truncation errors of the two
//! terms largely cancel in the ratio. The selection is made once and reused for any number of
//! speaker models ([`GaussianSelection`]).
//!
//! **The beam rule** ([`TopC::beam`]) keeps, of the `C` best, only the components within `b`
//! nats of the frame's best (`ℓ_k^u(x) ≥ max_j ℓ_j^u(x) - b`): a frame owned by one component
//! keeps one or two, a frame between clusters up to `C`. On FSDD with a 512-component UBM,
//! `C = 16, b = 8` keeps 7.6 components per frame on average and every utterance's LLR within
//! 0.0052 of exact, where a fixed `C = 5` is off by up to 0.058 and a fixed `C` needs 12 to stay
//! within 0.01 (`examples/fsdd_speakers.rs`, docs/PERFORMANCE.md).
//!
//! **Baum-Welch statistics** of an utterance under the UBM are the zeroth- and centred
//! first-order statistics `N_k = Σ_t γ_tk` and `F̃_k = Σ_t γ_tk (x_t - μ_k)` — the
//! [`SuffStats`](gmm_em::SuffStats) counts and first moments of one E-step, whose shift is the
//! UBM mean.
//!
//! # Modules
//!
//! * [`ubm`] — UBM training by splitting ([`ubm::train_ubm`]), on gmm-em's driver with the
//!   low-count rule [`gmm_em::update::HoldLowCounts`];
//! * [`adapt`] — relevance adaptation ([`adapt::adapt`], [`adapt::adapt_from_stats`]; the
//!   update rule [`adapt::RelevanceAdaptation`]);
//! * [`selection`] — the selection rule [`TopC`] and [`GaussianSelection`];
//! * [`scoring`] — [`llr`], and scoring speaker models on a selection
//!   ([`GaussianSelection::log_likelihoods`], [`GaussianSelection::log_likelihoods_many`],
//!   [`GaussianSelection::llr`]);
//! * [`statistics`] — [`BaumWelchStats`], [`baum_welch_stats`], [`ubm_statistics`].
//!
//! # Current implementation
//!
//! The SIMD work is gmm-core's: the UBM is scored once per block of frames by the blocked
//! kernels (`gmm_core::kernel::log_densities` in a `gmm_core::kernel::BlockPass`) — the only
//! `O(T K d)` work — and the components of each frame are chosen from the block's
//! component-major rows (`gmm_core::kernel::selection`: an insertion network for a fixed `C`,
//! a max pass and a compare pass for the beam). A speaker model then costs `O(T C d)`
//! (`gmm_core::kernel::selected`: a table of means and inverse variances in the model's
//! precision, quadratic forms in 8 partial sums added in one fixed order, log-sum-exps by the
//! SIMD `exp`). This crate holds the rules, the validation and the result types. Blocks run in
//! parallel; every per-frame value is independent of the thread count and sums are taken in
//! frame order, so scores are bit-identical for any number of threads.
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//! use gmm_speech::adapt::{AdaptConfig, adapt};
//! use gmm_speech::{TopC, llr};
//!
//! let ubm = GaussianMixture::<f64>::random(CovarianceType::Diag, 8, 3, 3.0, 1)?;
//! let (x, _) = ubm.sample(500, 2)?;
//! let speaker = adapt(&ubm, x.samples(), &AdaptConfig::default())?;
//! let exact = llr(&speaker, &ubm, x.samples(), None)?;
//! let fast = llr(&speaker, &ubm, x.samples(), Some(TopC::new(5)))?;
//! assert!(exact > 0.0 && (exact - fast).abs() < 0.05);
//! // Up to 5, only those within 8 nats of each frame's best.
//! let beam = llr(&speaker, &ubm, x.samples(), Some(TopC::new(5).beam(8.0)))?;
//! assert!((exact - beam).abs() < 0.05);
//! # Ok::<(), gmm_core::Error>(())
//! ```

pub mod adapt;
pub mod scoring;
pub mod selection;
pub mod statistics;
pub mod ubm;

pub use scoring::llr;
pub use selection::{DEFAULT_TOP_C, GaussianSelection, TopC};
pub use statistics::{BaumWelchStats, baum_welch_stats, ubm_statistics};
