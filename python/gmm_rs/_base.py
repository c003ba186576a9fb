"""Machinery shared by the gmm_rs estimators.

The estimators are ordinary Python classes (so ``clone``, ``get_params``, pickling and
scikit-learn's estimator checks treat them like any other) holding their fitted parameters as
numpy arrays. Every computation is a call to a stateless function of the compiled engine,
``gmm_rs._engine``, which reads the samples in place (C- or Fortran-ordered ``float32`` or
``float64``), releases the GIL while it works and runs on ``n_threads`` threads with results
that do not depend on the thread count.

This module validates inputs the way ``sklearn.mixture`` does (same checks, same messages),
turns ``random_state`` into the engine's 64-bit seed, and runs scikit-learn's fitting loop in
the engine (``_engine.fit``), printing scikit-learn's verbose messages from its callback.
"""

from __future__ import annotations

import numbers
import warnings
from time import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _engine

#: dtypes the engine computes in; anything else is converted to float64 (as scikit-learn does).
FLOAT_DTYPES = [np.float64, np.float32]


def in_place(X: np.ndarray) -> np.ndarray:
    """``X`` as the engine reads it without a copy: C- or Fortran-contiguous."""
    if X.flags.c_contiguous or X.flags.f_contiguous:
        return X
    return np.ascontiguousarray(X)


def seed_of(random_state: Any) -> int:
    """The engine's seed for a scikit-learn ``random_state``.

    An int is used as it is (restart ``r`` initialises from the engine's stream ``r`` of it);
    ``None`` and a ``RandomState`` draw a seed from the generator, which advances it as
    scikit-learn would.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def model_arg(covariance_type: str, weights, means, covariances) -> tuple:
    """A model as the engine takes it: contiguous float64 arrays in scikit-learn's shapes."""
    as64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    return (covariance_type, as64(weights), as64(means), as64(covariances))


def covariance_shape(covariance_type: str, k: int, d: int) -> tuple:
    """scikit-learn's shape of ``covariances_``."""
    return {
        "full": (k, d, d),
        "tied": (d, d),
        "diag": (k, d),
        "spherical": (k,),
    }[covariance_type]


def check_sample_weight(sample_weight, X: np.ndarray) -> np.ndarray | None:
    """Validated float64 sample weights (``None`` stays ``None``): one per row, finite,
    non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    return np.ascontiguousarray(w, dtype=np.float64)


class VerbosePrinter:
    """scikit-learn's verbose messages, driven by the engine's per-iteration callback."""

    def __init__(self, verbose: int, verbose_interval: int, tol: float):
        self.verbose = verbose
        self.interval = verbose_interval
        self.tol = tol
        self.restart = None
        self.last = (float("-inf"), False)
        self.init_time = self.iter_time = time()

    def begin(self, restart: int) -> None:
        print("Initialization %d" % restart)
        self.restart = restart
        self.init_time = self.iter_time = time()

    def end(self) -> None:
        if self.restart is None:
            return
        bound, converged = self.last
        msg = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {msg}.")
        else:
            t = time() - self.init_time
            print(f"Initialization {msg}. time lapse {t:.5f}s\t lower bound {bound:.5f}.")

    def __call__(self, restart: int, iteration: int, bound: float, change: float) -> None:
        if restart != self.restart:
            self.end()
            self.begin(restart)
        if iteration % self.interval == 0:
            if self.verbose == 1:
                print("  Iteration %d" % iteration)
            else:
                now = time()
                print(
                    "  Iteration %d\t time lapse %.5fs\t ll change %.5f"
                    % (iteration, now - self.iter_time, change)
                )
                self.iter_time = now
        self.last = (bound, abs(change) < self.tol)


class BaseMixture(DensityMixin, BaseEstimator):
    """Base class of the gmm_rs mixtures: parameters, fit, scoring and prediction.

    Subclasses say which update rule they fit with (``_rule``), which extra engine arguments
    their parameters give (``_fit_arguments``), how a fit's result becomes their fitted
    attributes (``_set_fitted``) and which mixture scores samples (``_scoring_model``).
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(numbers.Real, 0.0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    _rule = "ml"

    # -- subclass hooks -------------------------------------------------------------------

    def _fit_arguments(self, X: np.ndarray) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_fitted(self, result: dict, dtype) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scoring_model(self) -> tuple[tuple, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _warm_start_model(self) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- fitting --------------------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Estimate model parameters with the EM algorithm.

        The method fits the model ``n_init`` times and sets the parameters with which the
        model has the largest likelihood or lower bound. Within each trial, the method
        iterates between E-step and M-step for ``max_iter`` times until the change of
        likelihood or lower bound is less than ``tol``, otherwise, a ``ConvergenceWarning``
        is raised. If ``warm_start`` is ``True``, then ``n_init`` is ignored and a single
        initialization is performed upon the first call. Upon consecutive calls, training
        starts where it left off.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            List of n_features-dimensional data points. Each row corresponds to a single
            data point. C- and Fortran-ordered float32 and float64 arrays are read in place.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every sample: fitting with weight ``w`` is fitting with
            the sample repeated ``w`` times. ``None`` weighs every sample 1.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Estimate model parameters using X and predict the labels for X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            List of n_features-dimensional data points.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every sample.

        Returns
        -------
        labels : array, shape (n_samples,)
            Component labels.
        """
        X = self._fit(X, sample_weight)
        return _engine.predict(X, self._scoring_model()[0], self.n_threads)

    def _fit(self, X, sample_weight) -> np.ndarray:
        """Fits and returns the validated ``X`` (read in place by the engine)."""
        self._validate_params()
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_min_samples=2)
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components "
                f"but got n_components = {self.n_components}, "
                f"n_samples = {X.shape[0]}"
            )
        X = in_place(X)
        sw = check_sample_weight(sample_weight, X)
        arguments = self._fit_arguments(X)
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        if not do_init:
            arguments.update(
                start=self._warm_start_model(),
                weights_init=None,
                means_init=None,
                covariances_init=None,
            )
        printer = (
            VerbosePrinter(self.verbose, self.verbose_interval, self.tol)
            if self.verbose
            else None
        )
        result = _engine.fit(
            X,
            sw,
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            tol=float(self.tol),
            reg_covar=float(self.reg_covar),
            max_iter=int(self.max_iter),
            n_init=int(self.n_init),
            init_params=self.init_params,
            seed=seed_of(self.random_state),
            n_threads=self.n_threads,
            rule=self._rule,
            initial_lower_bound=(float("-inf") if do_init else float(self.lower_bound_)),
            on_iteration=printer,
            **arguments,
        )
        if printer is not None:
            printer.end()
        self._set_fitted(result, X.dtype)
        self.converged_ = bool(result["converged"])
        self.n_iter_ = int(result["n_iter"])
        self.lower_bound_ = float(result["lower_bound"])
        self.lower_bounds_ = [float(v) for v in result["lower_bounds"]]
        for stale in ("_online_running", "_online_steps", "_online_represented"):
            self.__dict__.pop(stale, None)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. "
                "Try different init parameters, or increase max_iter, "
                "tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        return X

    # -- scoring --------------------------------------------------------------------------

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        return in_place(validate_data(self, X, reset=False, dtype=FLOAT_DTYPES))

    def score_samples(self, X):
        """Compute the log-likelihood of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            List of n_features-dimensional data points. Each row corresponds to a single
            data point.

        Returns
        -------
        log_prob : array, shape (n_samples,)
            Log-likelihood of each sample in `X` under the current model.
        """
        X = self._validated(X)
        model, offset = self._scoring_model()
        out = _engine.score_samples(X, model, self.n_threads).astype(np.float64, copy=False)
        return out + offset if offset else out

    def score(self, X, y=None):
        """Compute the per-sample average log-likelihood of the given data X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_dimensions)
            List of n_features-dimensional data points. Each row corresponds to a single
            data point.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_likelihood : float
            Log-likelihood of `X` under the Gaussian mixture model.
        """
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """Predict the labels for the data samples in X using trained model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            List of n_features-dimensional data points. Each row corresponds to a single
            data point.

        Returns
        -------
        labels : array, shape (n_samples,)
            Component labels.
        """
        X = self._validated(X)
        return _engine.predict(X, self._scoring_model()[0], self.n_threads)

    def predict_proba(self, X):
        """Evaluate the components' density for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            List of n_features-dimensional data points. Each row corresponds to a single
            data point.

        Returns
        -------
        resp : array, shape (n_samples, n_components)
            Density of each Gaussian component for each sample in X.
        """
        X = self._validated(X)
        proba = _engine.predict_proba(X, self._scoring_model()[0], self.n_threads)
        return proba.astype(np.float64, copy=False)

    def sample(self, n_samples=1):
        """Generate random samples from the fitted Gaussian distribution.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        Returns
        -------
        X : array, shape (n_samples, n_features)
            Randomly generated sample, grouped by component as scikit-learn's.
        y : array, shape (nsamples,)
            Component labels.
        """
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(
                "Invalid value for 'n_samples': %d . The sampling requires at "
                "least one sample." % (self.n_components)
            )
        model = model_arg(self.covariance_type, self.weights_, self.means_, self.covariances_)
        X, y = _engine.sample(model, int(n_samples), seed_of(self.random_state), False)
        order = np.argsort(y, kind="stable")
        return X[order], y[order]

    def _set_gaussian_attributes(self, model: tuple, dtype) -> None:
        """``weights_``, ``means_``, ``covariances_`` from an engine model (in ``dtype``) and
        the precisions scikit-learn derives from them."""
        from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

        covariance_type, weights, means, covariances = model
        k = weights.shape[0]
        d = means.shape[0] // k
        self.weights_ = weights.astype(dtype)
        self.means_ = means.reshape(k, d).astype(dtype)
        self.covariances_ = covariances.reshape(covariance_shape(covariance_type, k, d)).astype(
            dtype
        )
        self.precisions_cholesky_ = _compute_precision_cholesky(
            self.covariances_, self.covariance_type
        )
        if self.covariance_type == "full":
            self.precisions_ = np.einsum(
                "kij,klj->kil", self.precisions_cholesky_, self.precisions_cholesky_
            )
        elif self.covariance_type == "tied":
            self.precisions_ = self.precisions_cholesky_ @ self.precisions_cholesky_.T
        else:
            self.precisions_ = self.precisions_cholesky_**2
