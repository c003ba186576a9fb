//! Starting models for EM (see [`Init`] for the methods).
//!
//! k-means and k-means++ run on a uniform subsample of the rows by default
//! ([`EmConfig::kmeans_sample_size`]); the labels that start EM are then computed for every
//! row. Every method except [`Init::RandomRows`] produces responsibilities — hard labels from
//! k-means or k-means++ seeds, or random soft ones — and turns them into a model with the same
//! statistics pass and M-step as EM itself. Components that receive no samples start at their
//! k-means centre with the data's per-dimension variance.
//!
//! **Scale.** k-means is invariant to a common scaling of the data, and the starts are too:
//! squared distances are computed in `f64` (k-means++) or, for nearest-centre assignment, as
//! the log-density of a spherical model whose variance is the data's mean per-dimension
//! variance `s²`, so the kernel's `-½‖x - c‖²/s²` is of order one whatever the units. (With a
//! unit variance, data scaled by `1e-10` gave squared distances of `1e-20` beside a
//! normalising constant of order one: every sample tied, all went to the first centre, and EM
//! started — and stayed — with one empty component.)
//!
//! Randomness: each restart has its own seed ([`stream_seed`] of the configured seed and the
//! restart number); per-block random draws use a stream seeded from the block index, so they do
//! not depend on the number of threads.

use gmm_core::kernel::{BLOCK_ROWS, BlockScratch, log_densities};
use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Real, Result, Samples};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::config::{EmConfig, Init};
use crate::fit::default_rule;
use crate::hierarchy::{Hierarchy, MAX_ROWS};
use crate::pass::accumulate;
use crate::stats::{MomentLayout, SuffStats};
use crate::stream::Data;
use crate::update::{GuardCounts, Parameters, UpdateRule};
use gmm_core::kernel::shared_centre::SharedCentre;

/// A 64-bit seed for stream `stream` of `seed` (SplitMix64 finaliser of their combination).
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The data's statistics as one component (every responsibility 1), shifted by the first row,
/// with the second moments in `layout`.
fn whole_data_stats<T: Real>(
    data: &Data<'_, T>,
    layout: MomentLayout,
) -> Result<(SuffStats, Vec<f64>)> {
    let shift: Vec<f64> = data.rows(&[0])?.iter().map(|v| v.to_f64()).collect();
    let stats = data.accumulate(1, layout, &shift, &crate::stream::ones::<T>)?;
    Ok((stats, shift))
}

/// Weighted mean and per-dimension variance (ddof 0) of the data, in `f64`.
pub fn data_moments<T: Real>(
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
) -> (Vec<f64>, Vec<f64>) {
    data_moments_of(&Data::Memory { x, weights: sample_weights })
        .expect("a pass over samples in memory does not fail")
}

/// [`data_moments`] of the rows of a stream (the same bits as in memory).
pub fn data_moments_stream<T: Real>(
    stream: &crate::stream::Stream<'_, T>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    data_moments_of(&Data::Stream(stream))
}

/// [`data_moments`] of any data (in memory or streamed).
pub(crate) fn data_moments_of<T: Real>(data: &Data<'_, T>) -> Result<(Vec<f64>, Vec<f64>)> {
    let (stats, shift) = whole_data_stats(data, MomentLayout::Diagonal)?;
    let n = stats.counts[0];
    let delta: Vec<f64> = stats.first.iter().map(|f| f / n).collect();
    let mean = shift.iter().zip(&delta).map(|(s, d)| s + d).collect();
    let var = stats.second.iter().zip(&delta).map(|(s, d)| (s / n - d * d).max(0.0)).collect();
    Ok((mean, var))
}

/// The data's moment statistics: one component, every responsibility 1, full second moments
/// around the first row (what the default MAP and VB priors are estimated from).
pub(crate) fn moment_stats<T: Real>(data: &Data<'_, T>) -> Result<SuffStats> {
    Ok(whole_data_stats(data, MomentLayout::Full)?.0)
}

/// Checks that `stats` are data-moment statistics (one component, full layout).
pub(crate) fn check_moments(stats: &SuffStats) -> Result<()> {
    if stats.n_components != 1 || stats.layout != MomentLayout::Full {
        return Err(Error::new(
            ErrorKind::MismatchedStatistics,
            format!(
                "these are statistics of {} components ({:?} moments), not the data's moments: \
                 accumulate them with gmm acc --moments",
                stats.n_components, stats.layout
            ),
        ));
    }
    Ok(())
}

/// Total weight `n`, mean and unbiased (`n - 1`, as R's `var` and numpy's `cov`) covariance
/// (`d x d`, row-major) of data-moment statistics ([`moment_stats`]), in `f64`.
/// The covariance is not finite when `n <= 1`: callers check `n` first.
pub(crate) fn covariance_from_moments(stats: &SuffStats) -> (f64, Vec<f64>, Vec<f64>) {
    let d = stats.n_features;
    let shift = &stats.shift;
    let n = stats.counts[0];
    let delta: Vec<f64> = stats.first.iter().map(|f| f / n).collect();
    let mean = shift.iter().zip(&delta).map(|(s, e)| s + e).collect();
    let mut cov = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let v = (stats.second[i * d + j] - n * delta[i] * delta[j]) / (n - 1.0);
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    (n, mean, cov)
}

/// Covariances in `covariance_type`'s layout that are diagonal with `variance` (+`reg`).
pub(crate) fn diagonal_covariances(
    covariance_type: CovarianceType,
    k: usize,
    variance: &[f64],
    reg: f64,
) -> Vec<f64> {
    let d = variance.len();
    let diag_matrix = || {
        let mut m = vec![0.0; d * d];
        for j in 0..d {
            m[j * d + j] = variance[j] + reg;
        }
        m
    };
    match covariance_type {
        CovarianceType::Diag => (0..k).flat_map(|_| variance.iter().map(|v| v + reg)).collect(),
        CovarianceType::Spherical => vec![variance.iter().sum::<f64>() / d as f64 + reg; k],
        CovarianceType::Full => (0..k).flat_map(|_| diag_matrix()).collect(),
        CovarianceType::Tied => diag_matrix(),
    }
}

/// The starting model of restart `restart` (seed `seed`).
///
/// Responsibilities become a model through `rule` (`None`: maximum likelihood with the
/// configuration's guards), the update the fit itself uses.
pub(crate) fn initial_model<T: Real>(
    data: &Data<'_, T>,
    config: &EmConfig,
    seed: u64,
    restart: usize,
    rule: Option<&dyn UpdateRule>,
    tree: Option<&StartTree<T>>,
) -> Result<(GaussianMixture<T>, GuardCounts)> {
    let k = config.get_n_components();
    let covariance_type = config.get_covariance_type();
    let reg = config.get_reg_covar();
    let (mean, variance) = data_moments_of(data)?;
    let ml = default_rule(config);
    let rule: &dyn UpdateRule = rule.unwrap_or(&ml);
    let layout = MomentLayout::for_covariance(covariance_type);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let d = data.n_features();
    let scale = distance_scale(&variance);
    let from_centres = |centres: Vec<f64>| -> Result<(GaussianMixture<T>, GuardCounts)> {
        let nearest = nearest_centre_model::<T>(&centres, k, scale)?;
        let stats = data.accumulate(k, layout, &centres, &|s, _| hard_assign(&nearest, s))?;
        let provisional = provisional(covariance_type, centres, k, &variance, reg);
        update_with(rule, &stats, &provisional)
    };
    let init = match config.get_init() {
        Init::Hierarchical if restart > 0 => Init::KMeans,
        init => init,
    };
    match init {
        Init::Hierarchical => {
            let shape = (k, covariance_type);
            let moments = (mean.as_slice(), variance.as_slice());
            let built;
            let tree = match tree {
                Some(tree) => tree,
                None => {
                    built = StartTree::new(data, &mut rng)?;
                    &built
                }
            };
            hierarchical_start(shape, moments, reg, rule, tree)
        }
        Init::KMeans | Init::KMeansPlusPlus => {
            let m = config.get_kmeans_sample_size(data.n_samples());
            let (rows, weights) = subsample(data, m, &mut rng)?;
            let sub = Samples::new(&rows, d)?;
            let seeds = kmeans_plus_plus(sub, weights.as_deref(), k, &mut rng);
            if init == Init::KMeansPlusPlus {
                return from_centres(seeds);
            }
            let tol = 1e-4 * variance.iter().sum::<f64>() / variance.len() as f64;
            let centres =
                lloyd(sub, weights.as_deref(), seeds, config.get_kmeans_max_iter(), tol, scale)?;
            from_centres(centres)
        }
        Init::RandomRows => {
            let mut rows = rand::seq::index::sample(&mut rng, data.n_samples(), k).into_vec();
            rows.sort_unstable();
            let means: Vec<T> = data.rows(&rows)?;
            debug_assert_eq!(means.len(), k * d);
            let covariances = diagonal_covariances(covariance_type, k, &variance, reg)
                .into_iter()
                .map(T::from_f64)
                .collect();
            let weights = vec![T::from_f64(1.0 / k as f64); k];
            let model = GaussianMixture::new(covariance_type, weights, means, covariances)?;
            Ok((model, GuardCounts::default()))
        }
        Init::RandomResponsibilities => {
            let shift: Vec<f64> = (0..k).flat_map(|_| mean.iter().copied()).collect();
            let stats = data.accumulate(k, layout, &shift, &|s, block| {
                random_responsibilities(s, k, stream_seed(seed, block as u64))
            })?;
            let provisional = provisional(covariance_type, shift, k, &variance, reg);
            update_with(rule, &stats, &provisional)
        }
    }
}

/// The hierarchical agglomeration behind [`Init::Hierarchical`] starts, over a uniform
/// subsample of at most [`MAX_ROWS`] rows (all rows of smaller data) less those of weight 0:
/// built once, it serves every `k` (model selection shares one across its cells). It keeps
/// its rows (read once, by random access when the data is streamed) and their weights.
#[derive(Debug, Clone)]
pub(crate) struct StartTree<T: Real> {
    /// The rows that took part, in data order, row-major.
    rows: Vec<T>,
    /// The number of features.
    d: usize,
    /// Their weights (`None`: all 1).
    weights: Option<Vec<f64>>,
    /// Their tree (over positions in `rows`).
    tree: Hierarchy,
}

impl<T: Real> StartTree<T> {
    /// The tree of `data`'s rows, subsampled with `rng` when there are more than [`MAX_ROWS`].
    pub(crate) fn new(data: &Data<'_, T>, rng: &mut Xoshiro256PlusPlus) -> Result<Self> {
        let d = data.n_features();
        let sample_weights = data.weights();
        // Rows of weight 0 take no part (nor a place in the subsample).
        let live: Vec<usize> =
            (0..data.n_samples()).filter(|&i| sample_weights.is_none_or(|w| w[i] > 0.0)).collect();
        let picked: Vec<usize> = if live.len() > MAX_ROWS {
            let mut picked = rand::seq::index::sample(rng, live.len(), MAX_ROWS).into_vec();
            picked.sort_unstable();
            picked.into_iter().map(|i| live[i]).collect()
        } else {
            live
        };
        let weights: Option<Vec<f64>> =
            sample_weights.map(|w| picked.iter().map(|&i| w[i]).collect());
        let rows = data.rows(&picked)?;
        let tree = Hierarchy::ward(Samples::new(&rows, d)?, weights.as_deref());
        Ok(Self { rows, d, weights, tree })
    }

    fn samples(&self) -> Samples<'_, T> {
        Samples::new(&self.rows, self.d).expect("the tree's rows are whole rows")
    }
}

/// The start from the partition into `k` clusters of the hierarchical agglomeration of (a
/// subsample of at most [`crate::hierarchy::MAX_ROWS`] of) the rows: their hard labels make
/// statistics over those rows, and `rule` a model.
fn hierarchical_start<T: Real>(
    (k, covariance_type): (usize, CovarianceType),
    (mean, variance): (&[f64], &[f64]),
    reg: f64,
    rule: &dyn UpdateRule,
    tree: &StartTree<T>,
) -> Result<(GaussianMixture<T>, GuardCounts)> {
    let x = tree.samples();
    let d = mean.len();
    let layout = MomentLayout::for_covariance(covariance_type);
    let labels = tree.tree.partition(k);
    let weights = tree.weights.as_deref();
    let weight = |r: usize| weights.map_or(1.0, |w| w[r]);
    // Cluster means, the statistics' shift (a cluster the tree cannot form — fewer rows than
    // k — stays empty and keeps the provisional model's data mean).
    let mut centres = vec![0.0; k * d];
    let mut mass = vec![0.0; k];
    for (r, &l) in labels.iter().enumerate() {
        mass[l] += weight(r);
        for (c, v) in centres[l * d..(l + 1) * d].iter_mut().zip(x.row(r)) {
            *c += weight(r) * v.to_f64();
        }
    }
    for c in 0..k {
        for j in 0..d {
            centres[c * d + j] = if mass[c] > 0.0 { centres[c * d + j] / mass[c] } else { mean[j] };
        }
    }
    let stats =
        accumulate(x, None, weights, k, layout, &centres, &SharedCentre::none(), |s, block| {
            let start = block * BLOCK_ROWS;
            for b in 0..s.len {
                let label = labels[start + b];
                for c in 0..k {
                    s.log_density[c * BLOCK_ROWS + b] =
                        T::from_f64(if c == label { 1.0 } else { 0.0 });
                }
            }
            s.log_likelihood.fill(T::ZERO);
        });
    let provisional = provisional(covariance_type, centres, k, variance, reg);
    update_with(rule, &stats, &provisional)
}

/// `rule`'s update of `stats` collected around `provisional`'s means, as a model.
fn update_with<T: Real>(
    rule: &dyn UpdateRule,
    stats: &SuffStats,
    provisional: &Parameters,
) -> Result<(GaussianMixture<T>, GuardCounts)> {
    let (parameters, guards) = rule.update(stats, provisional)?;
    Ok((parameters.into_model(rule.reg_covar())?, guards))
}

/// The provisional model a start's statistics update: equal weights, `means`, and the data's
/// per-dimension variance (plus `reg`) as every covariance — what components the start leaves
/// empty keep.
fn provisional(
    covariance_type: CovarianceType,
    means: Vec<f64>,
    k: usize,
    variance: &[f64],
    reg: f64,
) -> Parameters {
    Parameters {
        covariance_type,
        weights: vec![1.0 / k as f64; k],
        means,
        covariances: diagonal_covariances(covariance_type, k, variance, reg),
    }
}

/// A starting model from given responsibilities: `responsibilities` is `n x k` row-major
/// (row `n` holds `r_n1 .. r_nk`, finite, `>= 0`, each row summing to 1 within `1e-6`), turned
/// into a model by one statistics pass and `rule` — the M-step EM itself would take from them
/// (scikit-learn's `_initialize(X, resp)`). Components with no responsibility start at the
/// data mean with the data's per-dimension variance.
pub fn model_from_responsibilities<T: Real>(
    x: Samples<'_, T>,
    responsibilities: &[f64],
    sample_weights: Option<&[f64]>,
    n_components: usize,
    covariance_type: CovarianceType,
    rule: &dyn UpdateRule,
) -> Result<GaussianMixture<T>> {
    let (n, k) = (x.n_samples(), n_components);
    x.check_finite()?;
    if k == 0 || responsibilities.len() != n * k {
        return Err(Error::new(
            ErrorKind::DimensionMismatch { expected: n * k, found: responsibilities.len() },
            format!(
                "{} responsibilities for {n} samples and {k} components: give an n x k matrix \
                 ({n} rows of {k})",
                responsibilities.len()
            ),
        ));
    }
    for (i, row) in responsibilities.chunks_exact(k).enumerate() {
        let total: f64 = row.iter().sum();
        if row.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || (total - 1.0).abs() > 1e-6 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "responsibility row {i} is {row:?}: each row must hold k values >= 0 that \
                     sum to 1"
                ),
            ));
        }
    }
    let (mean, variance) = data_moments(x, sample_weights);
    let shift: Vec<f64> = (0..k).flat_map(|_| mean.iter().copied()).collect();
    let layout = MomentLayout::for_covariance(covariance_type);
    let stats = accumulate(
        x,
        None,
        sample_weights,
        k,
        layout,
        &shift,
        &SharedCentre::none(),
        |s, block| {
            let start = block * BLOCK_ROWS;
            for b in 0..s.len {
                for c in 0..k {
                    s.log_density[c * BLOCK_ROWS + b] =
                        T::from_f64(responsibilities[(start + b) * k + c]);
                }
            }
            s.log_likelihood.fill(T::ZERO);
        },
    );
    let provisional = provisional(covariance_type, shift, k, &variance, rule.reg_covar());
    let (model, _) = update_with(rule, &stats, &provisional)?;
    Ok(model)
}

/// `m` distinct rows of the data drawn uniformly (in their original order; read by random
/// access when streamed) and their weights; all rows when `m >= n`.
fn subsample<T: Real>(
    data: &Data<'_, T>,
    m: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(Vec<T>, Option<Vec<f64>>)> {
    let n = data.n_samples();
    let picked: Vec<usize> = if m >= n {
        (0..n).collect()
    } else {
        let mut picked = rand::seq::index::sample(rng, n, m).into_vec();
        picked.sort_unstable();
        picked
    };
    let rows = data.rows(&picked)?;
    let weights = data.weights().map(|w| picked.iter().map(|&i| w[i]).collect());
    Ok((rows, weights))
}

/// The variance of the spherical model that assigns samples to their nearest centre: the
/// data's mean per-dimension variance, or 1 when that is not a positive normal number (constant
/// data, where every distance is 0 anyway).
fn distance_scale(variance: &[f64]) -> f64 {
    let s = variance.iter().sum::<f64>() / variance.len() as f64;
    if s.is_normal() && s > 0.0 { s } else { 1.0 }
}

/// A spherical, equal-weight model with variance `scale` whose most probable component for a
/// sample is its nearest centre (squared Euclidean distance), so assignment reuses the SIMD
/// kernel. `scale` makes the kernel's quadratic term of order one (see the module docs); a
/// scale the precision `T` cannot hold (an `f32` variance below its smallest normal number)
/// falls back to 1.
fn nearest_centre_model<T: Real>(
    centres: &[f64],
    k: usize,
    scale: f64,
) -> Result<GaussianMixture<T>> {
    let scale = if T::from_f64(scale).to_f64().is_normal() { scale } else { 1.0 };
    GaussianMixture::new(
        CovarianceType::Spherical,
        vec![T::from_f64(1.0 / k as f64); k],
        centres.iter().map(|&v| T::from_f64(v)).collect(),
        vec![T::from_f64(scale); k],
    )
}

/// Replaces the block's kernel output by one-hot responsibilities of the nearest centre.
fn hard_assign<T: Real>(nearest: &GaussianMixture<T>, s: &mut BlockScratch<T>) {
    let k = nearest.n_components();
    log_densities(nearest, s, true);
    for b in 0..BLOCK_ROWS {
        let best = s.most_probable(k, b);
        for c in 0..k {
            s.log_density[c * BLOCK_ROWS + b] = T::from_f64(if c == best { 1.0 } else { 0.0 });
        }
    }
    s.log_likelihood.fill(T::ZERO);
}

fn random_responsibilities<T: Real>(s: &mut BlockScratch<T>, k: usize, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut row = vec![0.0f64; k];
    for b in 0..s.len {
        for v in row.iter_mut() {
            *v = rng.random::<f64>();
        }
        let total: f64 = row.iter().sum();
        for (c, v) in row.iter().enumerate() {
            s.log_density[c * BLOCK_ROWS + b] = T::from_f64(v / total);
        }
    }
    s.log_likelihood.fill(T::ZERO);
}

/// Index drawn with probability proportional to `mass` (`total` = its sum > 0).
fn draw_index(mass: impl Iterator<Item = f64>, total: f64, rng: &mut Xoshiro256PlusPlus) -> usize {
    let target = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut last_positive = 0;
    for (i, m) in mass.enumerate() {
        if m > 0.0 {
            last_positive = i;
            acc += m;
            if acc > target {
                return i;
            }
        }
    }
    last_positive
}

/// k-means++ seeding (Arthur & Vassilvitskii 2007), weighted: the first centre is drawn with
/// probability `∝ w_n`, each next one `∝ w_n D(x_n)²`. When every sample already sits on a
/// centre (`Σ w D² = 0`, e.g. duplicated data) the draw falls back to `∝ w_n`.
/// Returns `k x d` centres.
pub(crate) fn kmeans_plus_plus<T: Real>(
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
    k: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<f64> {
    let (n, d) = (x.n_samples(), x.n_features());
    let weight = |i: usize| sample_weights.map_or(1.0, |w| w[i]);
    let total_weight: f64 = (0..n).map(weight).sum();
    let first = draw_index((0..n).map(weight), total_weight, rng);
    let mut centres: Vec<f64> = x.row(first).iter().map(|v| v.to_f64()).collect();
    let mut dist2 = vec![f64::INFINITY; n];
    for c in 1..k {
        let centre = &centres[(c - 1) * d..c * d];
        dist2.par_chunks_mut(BLOCK_ROWS).enumerate().for_each(|(block, chunk)| {
            for (i, slot) in chunk.iter_mut().enumerate() {
                let row = x.row(block * BLOCK_ROWS + i);
                let dd: f64 = row.iter().zip(centre).map(|(a, m)| (a.to_f64() - m).powi(2)).sum();
                if dd < *slot {
                    *slot = dd;
                }
            }
        });
        let mass = |i: usize| weight(i) * dist2[i];
        let total: f64 = (0..n).map(mass).sum();
        let next = if total > 0.0 {
            draw_index((0..n).map(mass), total, rng)
        } else {
            draw_index((0..n).map(weight), total_weight, rng)
        };
        centres.extend(x.row(next).iter().map(|v| v.to_f64()));
    }
    centres
}

/// Lloyd's k-means from `centres` until the summed squared centre shift is at most `tol` or
/// `max_iter` iterations; a centre that loses all its samples stays where it is. `scale` is the
/// data's [`distance_scale`].
pub(crate) fn lloyd<T: Real>(
    x: Samples<'_, T>,
    sample_weights: Option<&[f64]>,
    mut centres: Vec<f64>,
    max_iter: usize,
    tol: f64,
    scale: f64,
) -> Result<Vec<f64>> {
    let d = x.n_features();
    let k = centres.len() / d;
    for _ in 0..max_iter {
        let nearest = nearest_centre_model::<T>(&centres, k, scale)?;
        let stats = accumulate(
            x,
            None,
            sample_weights,
            k,
            MomentLayout::Diagonal,
            &centres,
            &SharedCentre::none(),
            |s, _| hard_assign(&nearest, s),
        );
        let mut moved = 0.0;
        for c in 0..k {
            if stats.counts[c] > 0.0 {
                for j in 0..d {
                    let step = stats.first[c * d + j] / stats.counts[c];
                    centres[c * d + j] += step;
                    moved += step * step;
                }
            }
        }
        if moved <= tol {
            break;
        }
    }
    Ok(centres)
}
