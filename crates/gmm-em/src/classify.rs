//! Discriminant analysis with Gaussian mixtures: one mixture per class, Bayes' rule between
//! them (mixture discriminant analysis; with one full-covariance component per class it is
//! quadratic discriminant analysis).
//!
//! # The maths
//!
//! Each class `c` has a prior `π_c` and a class-conditional density `p(x | c)`, a Gaussian
//! mixture fitted by EM to the class's training rows. The posterior of a class is
//!
//! ```text
//! log p(c | x) = log π_c + log p(x | c) - logsumexp_c' (log π_c' + log p(x | c')),
//! ```
//!
//! computed in the log domain (max-shifted log-sum-exp, so a sample far from every class still
//! gets posteriors that sum to one), and the prediction is the class of highest posterior
//! (maximum a posteriori; on exact ties the first class in the classifier's order).
//!
//! # Overview
//!
//! * [`ClassifierConfig`]: the mixture of every class ([`ClassModel`]: a given `k` and
//!   covariance type, or one chosen per class by BIC/AIC/ICL over a grid with
//!   [`crate::select()`]), optional per-class overrides, the [`Priors`] and the EM settings;
//! * [`MixtureClassifier`]: classes, priors and models; [`fit`](MixtureClassifier::fit),
//!   posteriors, predictions, [`ConfusionMatrix`];
//! * [`cross_validate`]: stratified, shuffled k-fold cross-validation ([`CrossValidation`]).
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture, Matrix};
//! use gmm_em::{ClassModel, ClassifierConfig, MixtureClassifier};
//!
//! // Two classes in 2-D, 100 rows each.
//! let a = GaussianMixture::<f64>::new(CovarianceType::Spherical, vec![1.0], vec![0.0, 0.0], vec![1.0])?;
//! let b = GaussianMixture::<f64>::new(CovarianceType::Spherical, vec![1.0], vec![4.0, 0.0], vec![1.0])?;
//! let (xa, _) = a.sample(100, 1)?;
//! let (xb, _) = b.sample(100, 2)?;
//! let x = Matrix::from_vec([xa.as_slice(), xb.as_slice()].concat(), 2)?;
//! let labels: Vec<&str> = (0..200).map(|i| if i < 100 { "a" } else { "b" }).collect();
//!
//! let config = ClassifierConfig::new(ClassModel::fixed(1, CovarianceType::Full));
//! let classifier = MixtureClassifier::fit(&config, x.samples(), &labels)?;
//! assert_eq!(classifier.classes(), ["a", "b"]);
//! let confusion = classifier.confusion(x.samples(), &labels)?;
//! assert!(confusion.accuracy() > 0.95);
//! # Ok::<(), gmm_core::Error>(())
//! ```
//!
//! # Rules
//!
//! * **Class order.** Classes are kept sorted (byte order of their labels), whatever the order
//!   of the rows; posterior columns, the confusion matrix and the model file follow it.
//! * **Seeds.** Class `c` (its index in that order) fits with seed `stream_seed(seed, c)` (or,
//!   with a selection grid, uses that as the grid's base seed).
//! * **Priors.** The class frequencies in the training data by default; uniform; or given per
//!   class (positive values, normalised to sum to one).
//! * **Cross-validation.** Each class's rows are shuffled by a generator seeded from the EM seed
//!   and the class index, and dealt to the folds in turn (continuing from where the previous
//!   class stopped, so fold sizes differ by at most one); every fold trains a classifier on the
//!   other folds with the same configuration and predicts its own rows. Everything is
//!   deterministic, and bit-identical for any thread count.
//!
//! # Current implementation
//!
//! Training gathers each class's rows into their own matrix and runs [`crate::fit()`] (or
//! [`crate::select()`]) on it; classes are fitted one after another, each on all threads.
//! Scoring runs each class's blocked [`GaussianMixture::score_samples`] and combines the
//! `n x C` log-densities row by row.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

use gmm_core::{CovarianceType, Error, ErrorKind, GaussianMixture, Matrix, Real, Result, Samples};

use crate::config::EmConfig;
use crate::fit::{FitOptions, fit, with_threads};
use crate::init::stream_seed;
use crate::select::{Criterion, SelectConfig, select};

/// The mixture fitted to one class.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassModel {
    /// `n_components` components of the given covariance type.
    Fixed {
        /// Components.
        n_components: usize,
        /// Covariance type.
        covariance_type: CovarianceType,
    },
    /// The best model of a grid by a criterion (see [`crate::select()`]).
    Select {
        /// Component counts to try.
        components: Vec<usize>,
        /// Covariance types to try.
        covariance_types: Vec<CovarianceType>,
        /// The criterion to minimise.
        criterion: Criterion,
    },
}

impl ClassModel {
    /// Checks the model's settings (as [`EmConfig::validate`] and [`SelectConfig::validate`]
    /// would for the fits it asks for).
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Fixed { n_components: 0, .. } => Err(Error::new(
                ErrorKind::InvalidConfig,
                "a class model of 0 components: ask for at least one",
            )),
            Self::Fixed { .. } => Ok(()),
            Self::Select { components, covariance_types, criterion } => {
                SelectConfig::new(components.clone(), covariance_types.clone())
                    .criterion(*criterion)
                    .validate()
            }
        }
    }

    /// `n_components` components of `covariance_type`.
    pub fn fixed(n_components: usize, covariance_type: CovarianceType) -> Self {
        Self::Fixed { n_components, covariance_type }
    }

    /// The best by BIC over `components` x `covariance_types`.
    pub fn select_by_bic(components: Vec<usize>, covariance_types: Vec<CovarianceType>) -> Self {
        Self::Select { components, covariance_types, criterion: Criterion::Bic }
    }
}

/// Class priors.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Priors {
    /// Frequencies of the classes in the training data (the default).
    #[default]
    Frequencies,
    /// `1 / C` each.
    Uniform,
    /// Given per class label: positive values, normalised to sum to one; every class of the
    /// data needs one.
    Given(Vec<(String, f64)>),
}

/// Settings of a [`MixtureClassifier`] fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierConfig {
    model: ClassModel,
    per_class: Vec<(String, ClassModel)>,
    priors: Priors,
    em: EmConfig,
}

impl ClassifierConfig {
    /// Checks every setting that does not depend on the data (the EM settings, each class
    /// model, given priors finite and `> 0`); the error names the setting.
    pub fn validate(&self) -> Result<()> {
        self.em.validate()?;
        self.model.validate()?;
        for (label, model) in &self.per_class {
            model.validate().map_err(|e| e.context(format!("class {label:?}")))?;
        }
        if let Priors::Given(given) = &self.priors
            && let Some((label, p)) = given.iter().find(|(_, p)| !(p.is_finite() && *p > 0.0))
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("the prior of class {label:?} is {p}: give finite values > 0"),
            ));
        }
        Ok(())
    }

    /// Every class gets `model`; frequency priors; default EM settings.
    pub fn new(model: ClassModel) -> Self {
        Self { model, per_class: Vec::new(), priors: Priors::Frequencies, em: EmConfig::default() }
    }

    /// The model of class `label` (overrides the default for that class).
    pub fn class_model(mut self, label: impl Into<String>, model: ClassModel) -> Self {
        let label = label.into();
        self.per_class.retain(|(l, _)| *l != label);
        self.per_class.push((label, model));
        self
    }

    /// The priors (default: class frequencies).
    pub fn priors(mut self, priors: Priors) -> Self {
        self.priors = priors;
        self
    }

    /// EM settings of every fit (restarts, seed, tolerances, `reg_covar`, threads); its
    /// `n_components` and covariance type are replaced by the class's.
    pub fn em(mut self, em: EmConfig) -> Self {
        self.em = em;
        self
    }

    /// The default class model.
    pub fn get_model(&self) -> &ClassModel {
        &self.model
    }

    /// The per-class overrides.
    pub fn get_class_models(&self) -> &[(String, ClassModel)] {
        &self.per_class
    }

    /// The priors.
    pub fn get_priors(&self) -> &Priors {
        &self.priors
    }

    /// The EM settings.
    pub fn get_em(&self) -> &EmConfig {
        &self.em
    }

    /// The model of class `label`.
    pub fn model_for(&self, label: &str) -> &ClassModel {
        self.per_class.iter().find(|(l, _)| l == label).map_or(&self.model, |(_, m)| m)
    }
}

/// One Gaussian mixture per class and the class priors.
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureClassifier<T: Real> {
    classes: Vec<String>,
    priors: Vec<f64>,
    log_priors: Vec<f64>,
    models: Vec<GaussianMixture<T>>,
}

impl<T: Real> MixtureClassifier<T> {
    /// A classifier from its parts: distinct class labels, a positive prior per class (summing
    /// to one within `1e-6`) and a model per class, all of the same dimension.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidParameter`] for empty or mismatched lists, repeated labels or bad
    /// priors; [`ErrorKind::DimensionMismatch`] for models of different dimensions.
    pub fn new(
        classes: Vec<String>,
        priors: Vec<f64>,
        models: Vec<GaussianMixture<T>>,
    ) -> Result<Self> {
        let invalid = |m: String| Err(Error::new(ErrorKind::InvalidParameter, m));
        if classes.is_empty() {
            return invalid("a classifier needs at least one class".into());
        }
        if priors.len() != classes.len() || models.len() != classes.len() {
            return invalid(format!(
                "{} classes, {} priors and {} models: give one prior and one model per class",
                classes.len(),
                priors.len(),
                models.len()
            ));
        }
        for (i, c) in classes.iter().enumerate() {
            if classes[..i].contains(c) {
                return invalid(format!("class {c:?} appears twice: class labels must differ"));
            }
        }
        if let Some(i) = priors.iter().position(|p| !(p.is_finite() && *p > 0.0)) {
            return invalid(format!(
                "the prior of class {:?} is {}: priors must be positive",
                classes[i], priors[i]
            ));
        }
        let sum: f64 = priors.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return invalid(format!("the priors sum to {sum}, not 1: normalise them"));
        }
        let d = models[0].n_features();
        if let Some(i) = models.iter().position(|m| m.n_features() != d) {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: d, found: models[i].n_features() },
                format!(
                    "the model of class {:?} has {} features but that of {:?} has {d}: every \
                     class model needs the same dimension",
                    classes[i],
                    models[i].n_features(),
                    classes[0]
                ),
            ));
        }
        let log_priors = priors.iter().map(|p| p.ln()).collect();
        Ok(Self { classes, priors, log_priors, models })
    }

    /// Fits one mixture per class of `labels` (one label per row of `x`; see the module docs
    /// for class order, seeds and priors).
    ///
    /// # Errors
    /// * [`ErrorKind::DimensionMismatch`] when `labels` and `x` have different lengths;
    /// * [`ErrorKind::TooFewSamples`] for a class with fewer rows than its `k` (naming it);
    /// * [`ErrorKind::UnknownLabel`] for a per-class model or a given prior naming a class
    ///   that is not in `labels`, and [`ErrorKind::InvalidConfig`] for a class without a given
    ///   prior, or priors that are not positive;
    /// * the errors of [`crate::fit()`] and [`crate::select()`], prefixed with the class.
    pub fn fit<S: AsRef<str>>(
        config: &ClassifierConfig,
        x: Samples<'_, T>,
        labels: &[S],
    ) -> Result<Self> {
        config.validate()?;
        x.check_finite()?;
        check_label_count(labels.len(), x.n_samples())?;
        let (classes, index) = class_index(labels);
        for (label, _) in &config.per_class {
            if !classes.contains(label) {
                return Err(unknown_label(label, &classes, "a per-class model names"));
            }
        }
        let priors = priors(&config.priors, &classes, &index)?;
        let run = || -> Result<Vec<GaussianMixture<T>>> {
            let mut models = Vec::with_capacity(classes.len());
            for (c, class) in classes.iter().enumerate() {
                let rows = gather(x, &index, c)?;
                let model = fit_class(config, c, class, rows.samples())
                    .map_err(|e| e.context(format!("class {class:?}")))?;
                models.push(model);
            }
            Ok(models)
        };
        let models = with_threads(config.em.get_threads(), run)?;
        Self::new(classes, priors, models)
    }

    /// The class labels, in order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The class priors, in class order.
    pub fn priors(&self) -> &[f64] {
        &self.priors
    }

    /// The class models, in class order.
    pub fn models(&self) -> &[GaussianMixture<T>] {
        &self.models
    }

    /// Dimension of the samples.
    pub fn n_features(&self) -> usize {
        self.models[0].n_features()
    }

    /// The index of class `label`.
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == label)
    }

    /// `log p(c | x_n)`, `n x C` in class order; every row's exponentials sum to one.
    ///
    /// # Errors
    /// As [`GaussianMixture::score_samples`] (dimension, non-finite values).
    pub fn log_proba(&self, x: Samples<'_, T>) -> Result<Matrix<f64>> {
        let n_classes = self.classes.len();
        let mut joint = vec![0.0f64; x.n_samples() * n_classes];
        for (c, model) in self.models.iter().enumerate() {
            let log_density = model.score_samples(x)?;
            for (n, v) in log_density.iter().enumerate() {
                joint[n * n_classes + c] = v.to_f64() + self.log_priors[c];
            }
        }
        for row in joint.chunks_exact_mut(n_classes) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            for v in row.iter_mut() {
                *v -= total;
            }
        }
        Matrix::from_vec(joint, n_classes)
    }

    /// `p(c | x_n)`, `n x C` in class order; rows sum to one.
    ///
    /// # Errors
    /// As [`log_proba`](Self::log_proba).
    pub fn predict_proba(&self, x: Samples<'_, T>) -> Result<Matrix<f64>> {
        let log = self.log_proba(x)?;
        let n_classes = log.n_cols();
        Matrix::from_vec(log.into_vec().into_iter().map(f64::exp).collect(), n_classes)
    }

    /// The index of the most probable class of every row (the first on exact ties).
    ///
    /// # Errors
    /// As [`log_proba`](Self::log_proba).
    pub fn predict(&self, x: Samples<'_, T>) -> Result<Vec<usize>> {
        let log = self.log_proba(x)?;
        Ok((0..log.n_rows())
            .map(|n| {
                let row = log.row(n);
                let mut best = 0;
                for (c, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = c;
                    }
                }
                best
            })
            .collect())
    }

    /// The label of the most probable class of every row.
    ///
    /// # Errors
    /// As [`log_proba`](Self::log_proba).
    pub fn predict_labels(&self, x: Samples<'_, T>) -> Result<Vec<&str>> {
        Ok(self.predict(x)?.into_iter().map(|c| self.classes[c].as_str()).collect())
    }

    /// The confusion matrix of the predictions on `x` against the true `labels`.
    ///
    /// # Errors
    /// [`ErrorKind::DimensionMismatch`] when the lengths differ, [`ErrorKind::UnknownLabel`]
    /// for a true label the classifier does not know, and the errors of
    /// [`log_proba`](Self::log_proba).
    pub fn confusion<S: AsRef<str>>(
        &self,
        x: Samples<'_, T>,
        labels: &[S],
    ) -> Result<ConfusionMatrix> {
        check_label_count(labels.len(), x.n_samples())?;
        let truth = labels
            .iter()
            .map(|l| {
                self.class_index(l.as_ref())
                    .ok_or_else(|| unknown_label(l.as_ref(), &self.classes, "the data holds"))
            })
            .collect::<Result<Vec<usize>>>()?;
        let predicted = self.predict(x)?;
        let mut confusion = ConfusionMatrix::new(self.classes.clone());
        for (t, p) in truth.into_iter().zip(predicted) {
            confusion.add(t, p);
        }
        Ok(confusion)
    }
}

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: Vec<String>,
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// An empty matrix over `classes`.
    pub fn new(classes: Vec<String>) -> Self {
        let n = classes.len();
        Self { classes, counts: vec![0; n * n] }
    }

    /// Counts one row of true class `truth` predicted as `predicted` (indices into
    /// [`classes`](Self::classes)).
    pub fn add(&mut self, truth: usize, predicted: usize) {
        let n = self.classes.len();
        self.counts[truth * n + predicted] += 1;
    }

    /// The class labels (rows: true, columns: predicted).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Rows of true class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.classes.len() + predicted]
    }

    /// The counts, row-major `C x C` (rows: true class, columns: predicted).
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }

    /// All rows counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Rows predicted correctly.
    pub fn correct(&self) -> usize {
        (0..self.classes.len()).map(|c| self.count(c, c)).sum()
    }

    /// `correct / total` (0 when empty).
    pub fn accuracy(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => self.correct() as f64 / total as f64,
        }
    }
}

/// The outcome of [`cross_validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidation {
    /// Accuracy on each fold's held-out rows.
    pub fold_accuracy: Vec<f64>,
    /// Held-out predictions of every row, pooled over the folds.
    pub confusion: ConfusionMatrix,
}

impl CrossValidation {
    /// Pooled held-out accuracy: rows predicted correctly by the classifier that did not see
    /// them, over all rows.
    pub fn accuracy(&self) -> f64 {
        self.confusion.accuracy()
    }
}

/// Stratified `folds`-fold cross-validation of `config` on `x` and `labels` (see the module
/// docs for how rows are dealt to folds).
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for fewer than 2 folds or more folds than rows, the errors of
/// [`MixtureClassifier::fit`] (prefixed with the fold; e.g. a class with too few training rows
/// for its `k`).
pub fn cross_validate<T: Real, S: AsRef<str>>(
    config: &ClassifierConfig,
    x: Samples<'_, T>,
    labels: &[S],
    folds: usize,
) -> Result<CrossValidation> {
    if folds < 2 || folds > x.n_samples() {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "{folds} folds for {} rows: use between 2 and the number of rows",
                x.n_samples()
            ),
        ));
    }
    check_label_count(labels.len(), x.n_samples())?;
    let (classes, index) = class_index(labels);
    let fold_of = assign_folds(&index, classes.len(), folds, config.em.get_seed());
    let d = x.n_features();
    let mut confusion = ConfusionMatrix::new(classes.clone());
    let mut fold_accuracy = Vec::with_capacity(folds);
    for fold in 0..folds {
        let (mut train, mut test) = (Vec::new(), Vec::new());
        let (mut train_labels, mut test_truth) = (Vec::new(), Vec::new());
        for n in 0..x.n_samples() {
            if fold_of[n] == fold {
                test.extend_from_slice(x.row(n));
                test_truth.push(index[n]);
            } else {
                train.extend_from_slice(x.row(n));
                train_labels.push(classes[index[n]].as_str());
            }
        }
        let context =
            |e: Error| e.context(format!("cross-validation fold {} of {folds}", fold + 1));
        let train = Matrix::from_vec(train, d).map_err(context)?;
        let classifier =
            MixtureClassifier::fit(config, train.samples(), &train_labels).map_err(context)?;
        let test = Matrix::from_vec(test, d).map_err(context)?;
        let predicted = classifier.predict(test.samples())?;
        // The fold's classes are a subset of all classes (one may be missing when all its rows
        // fell in this fold): map its class indices to the full list.
        let to_full = classifier
            .classes()
            .iter()
            .map(|c| classes.binary_search(c))
            .collect::<std::result::Result<Vec<usize>, usize>>()
            .map_err(|_| Error::new(ErrorKind::UnknownLabel, "a fold learned an unknown class"))?;
        let mut correct = 0;
        for (truth, p) in test_truth.iter().zip(predicted) {
            let p = to_full[p];
            confusion.add(*truth, p);
            correct += usize::from(p == *truth);
        }
        fold_accuracy.push(correct as f64 / test_truth.len() as f64);
    }
    Ok(CrossValidation { fold_accuracy, confusion })
}

/// Fold of every row: each class's rows (in data order) shuffled by a generator seeded from
/// `seed` and the class index, then dealt round-robin, continuing from the previous class.
fn assign_folds(index: &[usize], n_classes: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut fold_of = vec![0; index.len()];
    let mut next = 0;
    for c in 0..n_classes {
        let mut rows: Vec<usize> = (0..index.len()).filter(|&n| index[n] == c).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, c as u64));
        rows.shuffle(&mut rng);
        for n in rows {
            fold_of[n] = next;
            next = (next + 1) % folds;
        }
    }
    fold_of
}

/// Sorted distinct labels and the class index of every row.
fn class_index<S: AsRef<str>>(labels: &[S]) -> (Vec<String>, Vec<usize>) {
    let mut classes: Vec<String> = labels.iter().map(|l| l.as_ref().to_string()).collect();
    classes.sort_unstable();
    classes.dedup();
    let index = labels
        .iter()
        .map(|l| classes.binary_search_by(|c| c.as_str().cmp(l.as_ref())).unwrap_or(0))
        .collect();
    (classes, index)
}

fn unknown_label(label: &str, classes: &[String], what: &str) -> Error {
    Error::new(
        ErrorKind::UnknownLabel,
        format!("{what} class {label:?}, which is not among the classes {classes:?}"),
    )
}

fn priors(priors: &Priors, classes: &[String], index: &[usize]) -> Result<Vec<f64>> {
    let n_classes = classes.len();
    match priors {
        Priors::Frequencies => {
            let mut counts = vec![0usize; n_classes];
            for &c in index {
                counts[c] += 1;
            }
            Ok(counts.iter().map(|&n| n as f64 / index.len() as f64).collect())
        }
        Priors::Uniform => Ok(vec![1.0 / n_classes as f64; n_classes]),
        Priors::Given(given) => {
            for (label, _) in given {
                if !classes.contains(label) {
                    return Err(unknown_label(label, classes, "a given prior names"));
                }
            }
            let mut out = Vec::with_capacity(n_classes);
            for class in classes {
                let Some((_, p)) = given.iter().find(|(l, _)| l == class) else {
                    return Err(Error::new(
                        ErrorKind::InvalidConfig,
                        format!("class {class:?} has no prior: give one for every class"),
                    ));
                };
                if !(p.is_finite() && *p > 0.0) {
                    return Err(Error::new(
                        ErrorKind::InvalidConfig,
                        format!("the prior of class {class:?} is {p}: priors must be positive"),
                    ));
                }
                out.push(*p);
            }
            let sum: f64 = out.iter().sum();
            Ok(out.into_iter().map(|p| p / sum).collect())
        }
    }
}

/// The rows of class `c`.
fn gather<T: Real>(x: Samples<'_, T>, index: &[usize], c: usize) -> Result<Matrix<T>> {
    let mut values = Vec::new();
    for (n, &i) in index.iter().enumerate() {
        if i == c {
            values.extend_from_slice(x.row(n));
        }
    }
    Matrix::from_vec(values, x.n_features())
}

fn fit_class<T: Real>(
    config: &ClassifierConfig,
    c: usize,
    class: &str,
    x: Samples<'_, T>,
) -> Result<GaussianMixture<T>> {
    let seed = stream_seed(config.em.get_seed(), c as u64);
    let em = config.em.clone().seed(seed).threads(None);
    match config.model_for(class) {
        ClassModel::Fixed { n_components, covariance_type } => {
            if x.n_samples() < *n_components {
                return Err(Error::new(
                    ErrorKind::TooFewSamples {
                        n_samples: x.n_samples(),
                        n_components: *n_components,
                    },
                    format!(
                        "{} rows cannot fit {n_components} components: use at most {} \
                         components for this class, or more data",
                        x.n_samples(),
                        x.n_samples()
                    ),
                ));
            }
            let em = em.n_components(*n_components).covariance_type(*covariance_type);
            Ok(fit(&em, x, FitOptions::default())?.model)
        }
        ClassModel::Select { components, covariance_types, criterion } => {
            let grid = SelectConfig::new(components.clone(), covariance_types.clone())
                .criterion(*criterion)
                .em(em);
            Ok(select(&grid, x)?.model)
        }
    }
}

/// One label per row, or a [`ErrorKind::DimensionMismatch`] saying so.
fn check_label_count(n_labels: usize, n_rows: usize) -> Result<()> {
    if n_labels != n_rows {
        return Err(Error::new(
            ErrorKind::DimensionMismatch { expected: n_rows, found: n_labels },
            format!("{n_labels} labels for {n_rows} rows: give one label per row"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::kernel::reference;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
    }

    /// Rows of three classes: "b" bimodal, "a" and "c" round; labels interleaved so that row
    /// order and class order differ.
    fn three_classes(n_per_class: usize, seed: u64) -> (Matrix<f64>, Vec<String>) {
        let sph = |w: Vec<f64>, m: Vec<f64>| {
            let k = w.len();
            GaussianMixture::<f64>::new(CovarianceType::Spherical, w, m, vec![0.5; k]).unwrap()
        };
        let models = [
            ("c", sph(vec![1.0], vec![0.0, 0.0])),
            ("a", sph(vec![1.0], vec![3.0, 3.0])),
            ("b", sph(vec![0.5, 0.5], vec![-4.0, 3.0, 4.0, -3.0])),
        ];
        let samples: Vec<Matrix<f64>> = models
            .iter()
            .enumerate()
            .map(|(i, (_, m))| m.sample(n_per_class, seed + i as u64).unwrap().0)
            .collect();
        let (mut values, mut labels) = (Vec::new(), Vec::new());
        for n in 0..n_per_class {
            for (i, (name, _)) in models.iter().enumerate() {
                values.extend_from_slice(samples[i].row(n));
                labels.push(name.to_string());
            }
        }
        (Matrix::from_vec(values, 2).unwrap(), labels)
    }

    #[test]
    fn configurations_are_checked_before_any_fit() {
        let diag = ClassModel::fixed(2, CovarianceType::Diag);
        assert!(ClassifierConfig::new(diag.clone()).validate().is_ok());
        let zero = ClassifierConfig::new(ClassModel::fixed(0, CovarianceType::Diag));
        let empty_grid = ClassifierConfig::new(diag.clone())
            .class_model("a", ClassModel::select_by_bic(vec![], vec![CovarianceType::Full]));
        let bad_prior = ClassifierConfig::new(diag.clone())
            .priors(Priors::Given(vec![("a".into(), 0.5), ("b".into(), -1.0)]));
        let bad_em = ClassifierConfig::new(diag).em(EmConfig::default().tol(f64::NAN));
        for config in [zero, empty_grid, bad_prior, bad_em] {
            let e = config.validate().unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidConfig, "{e}");
        }
    }

    #[test]
    fn posteriors_match_bayes_rule_by_the_naive_formula() {
        let models: Vec<GaussianMixture<f64>> = CovarianceType::ALL
            .iter()
            .enumerate()
            .map(|(i, &t)| GaussianMixture::random(t, 2, 3, 1.0, 40 + i as u64).unwrap())
            .collect();
        let priors = vec![0.1, 0.2, 0.3, 0.4];
        let classes: Vec<String> = ["w", "x", "y", "z"].iter().map(|s| s.to_string()).collect();
        let classifier = MixtureClassifier::new(classes, priors.clone(), models.clone()).unwrap();
        let (x, _) = models[1].sample(300, 9).unwrap();
        let log = classifier.log_proba(x.samples()).unwrap();
        let proba = classifier.predict_proba(x.samples()).unwrap();
        let predicted = classifier.predict(x.samples()).unwrap();
        for n in 0..x.n_rows() {
            let joint: Vec<f64> = models
                .iter()
                .zip(&priors)
                .map(|(m, p)| p.ln() + reference::log_likelihood(m, x.row(n)))
                .collect();
            let max = joint.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total = max + joint.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            for c in 0..4 {
                assert!(close(log.row(n)[c], joint[c] - total, 1e-10), "row {n} class {c}");
            }
            let sum: f64 = proba.row(n).iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "row {n}: {sum}");
            let best = (0..4).fold(0, |b, c| if joint[c] > joint[b] { c } else { b });
            assert_eq!(predicted[n], best, "row {n}");
        }
    }

    #[test]
    fn fit_sorts_classes_and_learns_them() {
        let (x, labels) = three_classes(150, 1);
        let config = ClassifierConfig::new(ClassModel::fixed(2, CovarianceType::Full))
            .em(EmConfig::default().n_init(2).seed(4));
        let classifier = MixtureClassifier::fit(&config, x.samples(), &labels).unwrap();
        assert_eq!(classifier.classes(), ["a", "b", "c"]);
        assert_eq!(classifier.priors(), [1.0 / 3.0; 3]);
        let confusion = classifier.confusion(x.samples(), &labels).unwrap();
        assert_eq!(confusion.total(), 450);
        for c in 0..3 {
            let row: usize = (0..3).map(|p| confusion.count(c, p)).sum();
            assert_eq!(row, 150);
        }
        assert!(confusion.accuracy() > 0.95, "{confusion:?}");
        let predicted = classifier.predict_labels(x.samples()).unwrap();
        let agree = predicted.iter().zip(&labels).filter(|(p, l)| *p == l).count();
        assert_eq!(agree, confusion.correct());

        // Uniform and given priors.
        // Half the "a" rows dropped: frequencies 75, 150, 150 of 375.
        let keep: Vec<usize> = (0..450).filter(|&n| !(labels[n] == "a" && n % 2 == 0)).collect();
        let values: Vec<f64> = keep.iter().flat_map(|&n| x.row(n).to_vec()).collect();
        let sub = Matrix::from_vec(values, 2).unwrap();
        let sub_labels: Vec<&str> = keep.iter().map(|&n| labels[n].as_str()).collect();
        let c = MixtureClassifier::fit(&config, sub.samples(), &sub_labels).unwrap();
        assert_eq!(c.priors(), [0.2, 0.4, 0.4]);
        let uniform = config.clone().priors(Priors::Uniform);
        let c = MixtureClassifier::fit(&uniform, sub.samples(), &sub_labels).unwrap();
        assert_eq!(c.priors(), [1.0 / 3.0; 3]);
        let given = config.clone().priors(Priors::Given(vec![
            ("c".into(), 2.0),
            ("a".into(), 1.0),
            ("b".into(), 1.0),
        ]));
        let c = MixtureClassifier::fit(&given, x.samples(), &labels).unwrap();
        assert_eq!(c.priors(), [0.25, 0.25, 0.5]);
    }

    #[test]
    fn select_per_class_finds_the_bimodal_class() {
        let (x, labels) = three_classes(200, 2);
        let config = ClassifierConfig::new(ClassModel::select_by_bic(
            vec![1, 2, 3],
            vec![CovarianceType::Spherical, CovarianceType::Full],
        ))
        .em(EmConfig::default().n_init(2));
        let classifier = MixtureClassifier::fit(&config, x.samples(), &labels).unwrap();
        let ks: Vec<usize> = classifier.models().iter().map(|m| m.n_components()).collect();
        assert_eq!(ks, [1, 2, 1]);
        // A per-class override wins.
        let config = config.class_model("a", ClassModel::fixed(3, CovarianceType::Diag));
        let classifier = MixtureClassifier::fit(&config, x.samples(), &labels).unwrap();
        assert_eq!(classifier.models()[0].n_components(), 3);
        assert_eq!(classifier.models()[0].covariance_type(), CovarianceType::Diag);
    }

    #[test]
    fn typed_errors() {
        let (x, labels) = three_classes(10, 3);
        let base = ClassifierConfig::new(ClassModel::fixed(1, CovarianceType::Full));
        let few = ClassifierConfig::new(ClassModel::fixed(1, CovarianceType::Diag))
            .class_model("b", ClassModel::fixed(11, CovarianceType::Diag));
        let err = MixtureClassifier::fit(&few, x.samples(), &labels).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::TooFewSamples { n_samples: 10, n_components: 11 }));
        assert!(err.message().starts_with("class \"b\""), "{err}");

        let unknown = base.clone().class_model("d", ClassModel::fixed(1, CovarianceType::Full));
        let err = MixtureClassifier::fit(&unknown, x.samples(), &labels).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::UnknownLabel, "{err}");
        let err = MixtureClassifier::fit(
            &base.clone().priors(Priors::Given(vec![("a".into(), 1.0), ("zz".into(), 1.0)])),
            x.samples(),
            &labels,
        )
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::UnknownLabel, "{err}");
        let err = MixtureClassifier::fit(
            &base.clone().priors(Priors::Given(vec![("a".into(), 1.0)])),
            x.samples(),
            &labels,
        )
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{err}");

        let err = MixtureClassifier::fit(&base, x.samples(), &labels[1..]).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DimensionMismatch { expected: 30, found: 29 }));

        let classifier = MixtureClassifier::fit(&base, x.samples(), &labels).unwrap();
        let mut wrong = labels.clone();
        wrong[4] = "q".into();
        let err = classifier.confusion(x.samples(), &wrong).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::UnknownLabel, "{err}");
        let three_d = Matrix::from_vec(vec![0.0; 9], 3).unwrap();
        let err = classifier.predict(three_d.samples()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DimensionMismatch { expected: 2, found: 3 }));

        for folds in [0, 1, 31] {
            let err = cross_validate(&base, x.samples(), &labels, folds).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidConfig, "{folds}: {err}");
        }
    }

    #[test]
    fn folds_are_stratified_and_balanced() {
        // Class sizes 7, 5 and 4 in 3 folds.
        let index: Vec<usize> = [0; 7].iter().chain(&[1; 5]).chain(&[2; 4]).copied().collect();
        let fold_of = assign_folds(&index, 3, 3, 8);
        let mut sizes = [0usize; 3];
        for c in 0..3 {
            let mut per_fold = [0usize; 3];
            for (n, &f) in fold_of.iter().enumerate() {
                if index[n] == c {
                    per_fold[f] += 1;
                    sizes[f] += 1;
                }
            }
            let (lo, hi) = (per_fold.iter().min().unwrap(), per_fold.iter().max().unwrap());
            assert!(hi - lo <= 1, "class {c}: {per_fold:?}");
        }
        let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(hi - lo <= 1, "{sizes:?}");
        assert_eq!(fold_of, assign_folds(&index, 3, 3, 8));
        assert_ne!(fold_of, assign_folds(&index, 3, 3, 9));
    }

    #[test]
    fn cross_validation_is_deterministic_for_any_thread_count() {
        let (x, labels) = three_classes(60, 5);
        let config = |threads| {
            ClassifierConfig::new(ClassModel::fixed(2, CovarianceType::Diag))
                .em(EmConfig::default().seed(2).threads(Some(threads)))
        };
        let one = cross_validate(&config(1), x.samples(), &labels, 5).unwrap();
        let two = cross_validate(&config(2), x.samples(), &labels, 5).unwrap();
        assert_eq!(one, two);
        assert_eq!(one.fold_accuracy.len(), 5);
        assert_eq!(one.confusion.total(), 180);
        assert!(one.accuracy() > 0.9, "{one:?}");
        let mean: f64 = one.fold_accuracy.iter().sum::<f64>() / 5.0;
        // Equal fold sizes (36 rows each), so the pooled accuracy is the mean of the folds'.
        assert!((mean - one.accuracy()).abs() < 1e-12);
    }
}
