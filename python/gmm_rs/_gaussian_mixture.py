"""``GaussianMixture``: scikit-learn's estimator on gmm's engine, plus sample weights,
``partial_fit`` (online EM), ``n_threads`` and a MAP option (mclust's conjugate prior)."""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, validate_data

from . import _engine
from ._base import (
    FLOAT_DTYPES,
    BaseMixture,
    check_sample_weight,
    in_place,
    model_arg,
    seed_of,
)


def _checked_inits(estimator, n_features: int) -> dict:
    """``weights_init``, ``means_init`` and ``precisions_init`` checked as scikit-learn does
    (same messages), the precisions turned into covariances; the estimator is not changed."""
    from sklearn.mixture._gaussian_mixture import (
        _check_means,
        _check_precisions,
        _check_weights,
    )

    def call(check, *args):
        # Newer scikit-learn's helpers take the array namespace (``xp``); numpy is it here.
        if "xp" in inspect.signature(check).parameters:
            return check(*args, xp=np)
        return check(*args)

    k, t = estimator.n_components, estimator.covariance_type
    out = {"weights_init": None, "means_init": None, "covariances_init": None}
    if estimator.weights_init is not None:
        w = call(_check_weights, estimator.weights_init, k)
        out["weights_init"] = np.asarray(w, dtype=np.float64).ravel().tolist()
    if estimator.means_init is not None:
        m = call(_check_means, estimator.means_init, k, n_features)
        out["means_init"] = np.asarray(m, dtype=np.float64).ravel().tolist()
    if estimator.precisions_init is not None:
        p = call(_check_precisions, estimator.precisions_init, t, k, n_features)
        p = np.asarray(p, np.float64)
        if t == "full":
            cov = np.linalg.inv(p)
            cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        elif t == "tied":
            cov = np.linalg.inv(p)
            cov = 0.5 * (cov + cov.T)
        else:
            cov = 1.0 / p
        out["covariances_init"] = cov.ravel().tolist()
    return out


class GaussianMixture(BaseMixture):
    """Gaussian Mixture, fitted by EM on gmm's Rust engine.

    A drop-in for :class:`sklearn.mixture.GaussianMixture`: the same parameters, defaults,
    validation, methods, fitted attributes, errors and warnings. From the same starting
    model it follows scikit-learn's iterations to rounding (parity tests at 1e-9); fits are
    bit-identical for any ``n_threads``. Beyond scikit-learn it takes ``sample_weight`` in
    ``fit``, learns online with ``partial_fit``, and can fit the posterior mode under
    mclust's conjugate prior (``prior="mclust"``).

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The type of covariance parameters to use.
    tol : float, default=1e-3
        The convergence threshold. EM iterations will stop when the lower bound average
        gain (the weighted mean log-likelihood per sample) is below this threshold.
    reg_covar : float, default=1e-6
        Non-negative regularization added to the diagonal of covariance.
    max_iter : int, default=100
        The number of EM iterations to perform.
    n_init : int, default=1
        The number of initializations to perform. The best results are kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        The method used to initialize the weights, the means and the precisions:
        'kmeans' (k-means++ seeds refined by Lloyd's k-means, then an M-step from the
        labels), 'k-means++' (the seeds alone, then an M-step from the nearest-seed labels),
        'random' (random responsibilities), 'random_from_data' (random rows as means, the
        data's variance as covariance). The draws come from gmm's generator, so they differ
        from scikit-learn's for the same ``random_state``.
    weights_init : array-like of shape (n_components, ), default=None
        The user-provided initial weights.
    means_init : array-like of shape (n_components, n_features), default=None
        The user-provided initial means.
    precisions_init : array-like, default=None
        The user-provided initial precisions (inverse of the covariance matrices), of shape
        (n_components,) spherical, (n_features, n_features) tied, (n_components, n_features)
        diag or (n_components, n_features, n_features) full.
    random_state : int, RandomState instance or None, default=None
        Controls the random seed given to the method chosen to initialize the parameters and
        the draws of :meth:`sample`. An int is the engine's seed itself.
    warm_start : bool, default=False
        If True, the solution of the last fitting is used as initialization for the next
        call of fit().
    verbose : int, default=0
        Enable verbose output (1: each initialization and iteration; >1: with timings).
    verbose_interval : int, default=10
        Number of iteration done before the next print.
    n_threads : int, default=None
        Threads of the engine; None uses every core. Results do not depend on it.
    learning_decay : float, default=0.6
        ``partial_fit``'s step-size exponent κ in (0.5, 1]: batch ``t`` is blended into the
        running statistics with weight ``(t + learning_offset) ** -κ``.
    learning_offset : float, default=2.0
        ``partial_fit``'s step-size offset ``t0 >= 0``; larger values let the first batches
        move the model less.
    prior : {None, 'mclust'}, default=None
        None fits by maximum likelihood; 'mclust' fits the posterior mode under the
        conjugate prior of Fraley & Raftery (2007) with mclust's defaults, which keeps
        covariances well defined where maximum likelihood collapses.
    mean_precision_prior : float, default=None
        MAP: the shrinkage of the means towards ``mean_prior`` (mclust's 0.01 if None).
    mean_prior : array-like of shape (n_features,), default=None
        MAP: the prior mean (the data mean if None).
    degrees_of_freedom_prior : float, default=None
        MAP: the prior's degrees of freedom (``n_features + 2`` if None).
    covariance_prior : float or array-like, default=None
        MAP: the prior scale, (n_features, n_features) for full and tied, a float for diag
        and spherical (mclust's data covariance over ``n_components ** (2 / n_features)`` if
        None).

    Attributes
    ----------
    weights_ : array-like of shape (n_components,)
        The weights of each mixture components.
    means_ : array-like of shape (n_components, n_features)
        The mean of each mixture component.
    covariances_ : array-like
        The covariance of each mixture component (shape as ``precisions_init``).
    precisions_ : array-like
        The precision matrices for each component in the mixture.
    precisions_cholesky_ : array-like
        The cholesky decomposition of the precision matrices of each mixture component.
    converged_ : bool
        True when convergence of the best fit of EM was reached, False otherwise.
    n_iter_ : int
        Number of step used by the best fit of EM to reach the convergence (``partial_fit``:
        batches consumed).
    lower_bound_ : float
        Lower bound value on the log-likelihood (of the training data with respect to the
        model) of the best fit of EM.
    lower_bounds_ : list of float
        The lower bound values of each iteration of the best fit of EM.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has feature names that are all strings.
    mean_prior_, mean_precision_prior_, degrees_of_freedom_prior_, covariance_prior_
        MAP only: the prior used.

    Notes
    -----
    Float32 input is fitted in float32 (statistics accumulated in float64) and keeps
    float32 attributes. C- and Fortran-ordered arrays are read in place; the GIL is released
    while the engine works and Ctrl-C stops a fit between iterations.

    Examples
    --------
    >>> import numpy as np
    >>> from gmm_rs import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> sorted(np.round(gm.means_[:, 0]).tolist())
    [1.0, 10.0]
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "learning_decay": [Interval(numbers.Real, 0.5, 1.0, closed="right")],
        "learning_offset": [Interval(numbers.Real, 0.0, None, closed="left")],
        "prior": [StrOptions({"mclust"}), None],
        "mean_precision_prior": [None, Interval(numbers.Real, 0.0, None, closed="left")],
        "mean_prior": [None, "array-like"],
        "degrees_of_freedom_prior": [None, Interval(numbers.Real, 0.0, None, closed="neither")],
        "covariance_prior": [None, "array-like", Interval(numbers.Real, 0.0, None, closed="neither")],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_threads=None,
        learning_decay=0.6,
        learning_offset=2.0,
        prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_threads = n_threads
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.prior = prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior

    @property
    def _rule(self) -> str:
        return "ml" if self.prior is None else "map"

    # -- engine hooks ---------------------------------------------------------------------

    def _prior_arguments(self, n_features: int) -> dict:
        if self.prior is None:
            return {}
        out = {
            "mean_precision": self.mean_precision_prior,
            "prior_dof": self.degrees_of_freedom_prior,
        }
        if self.mean_prior is not None:
            mean = check_array(self.mean_prior, dtype=FLOAT_DTYPES, ensure_2d=False)
            if mean.shape != (n_features,):
                raise ValueError(
                    "The parameter 'means' should have the shape of %s, but got %s"
                    % ((n_features,), mean.shape)
                )
            out["prior_mean"] = mean.astype(np.float64).tolist()
        if self.covariance_prior is not None:
            cov = np.asarray(self.covariance_prior, dtype=np.float64)
            want = (n_features, n_features) if self.covariance_type in ("full", "tied") else ()
            if cov.shape != want:
                raise ValueError(
                    "The parameter '%s covariance_prior' should have the shape of %s, but got %s"
                    % (self.covariance_type, want, cov.shape)
                )
            out["prior_covariance"] = np.atleast_1d(cov).ravel().tolist()
        return out

    def _fit_arguments(self, X: np.ndarray) -> dict:
        n_features = X.shape[1]
        arguments = _checked_inits(self, n_features)
        if all(arguments[key] is not None for key in arguments):
            arguments["start"] = model_arg(
                self.covariance_type,
                arguments["weights_init"],
                arguments["means_init"],
                arguments["covariances_init"],
            )
            arguments.update(weights_init=None, means_init=None, covariances_init=None)
        arguments.update(self._prior_arguments(n_features))
        return arguments

    def _warm_start_model(self) -> tuple:
        return model_arg(self.covariance_type, self.weights_, self.means_, self.covariances_)

    def _scoring_model(self) -> tuple[tuple, float]:
        return self._warm_start_model(), 0.0

    def _set_fitted(self, result: dict, dtype) -> None:
        self._set_gaussian_attributes(result["model"], dtype)
        prior = result.get("prior")
        if prior is not None:
            d = self.means_.shape[1]
            self.mean_precision_prior_ = prior["mean_precision"]
            self.mean_prior_ = np.asarray(prior["mean"], dtype=np.float64)
            self.degrees_of_freedom_prior_ = prior["dof"]
            cov = np.asarray(prior["covariance"], dtype=np.float64)
            self.covariance_prior_ = (
                cov.reshape(d, d) if self.covariance_type in ("full", "tied") else float(cov[0])
            )

    def _prior_dict(self) -> dict | None:
        if self.prior is None:
            return None
        return {
            "weight_prior": None,
            "weight_concentration": None,
            "mean_precision": float(self.mean_precision_prior_),
            "mean": np.asarray(self.mean_prior_, dtype=np.float64).tolist(),
            "dof": float(self.degrees_of_freedom_prior_),
            "covariance": np.atleast_1d(np.asarray(self.covariance_prior_, np.float64))
            .ravel()
            .tolist(),
        }

    # -- online EM ------------------------------------------------------------------------

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one mini-batch by online (stepwise) EM.

        The running sufficient statistics are blended with the batch's,
        ``s <- (1 - g) s + g s_batch`` with ``g = (t + learning_offset) ** -learning_decay``
        for the ``t``-th batch, and the parameters are re-estimated from them (Cappé &
        Moulines 2009). The first call starts from the fitted model, if any, or else
        initializes one from the batch with ``init_params``. The same recursion as
        ``gmm_em::online::OnlineEm::partial_fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The batch.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every sample of the batch.

        Returns
        -------
        self : object
            The updated mixture.
        """
        first = not hasattr(self, "_online_steps")
        if first:
            self._validate_params()
            fitted = hasattr(self, "means_")
            X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=not fitted)
        else:
            X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        X = in_place(X)
        sw = check_sample_weight(sample_weight, X)
        if first and not hasattr(self, "means_"):
            self._initialize_online(X, sw)
        if first:
            self._online_running = None
            self._online_steps = 0
            self._online_represented = None
            self.lower_bounds_ = []
        model, running, steps, represented, batch_ll = _engine.online_step(
            X,
            self._warm_start_model(),
            self._online_running,
            self._online_steps,
            self._online_represented,
            float(self.learning_decay),
            float(self.learning_offset),
            sample_weight=sw,
            rule=self._rule,
            reg_covar=float(self.reg_covar),
            prior=self._prior_dict(),
            n_threads=self.n_threads,
        )
        self._set_gaussian_attributes(model, self.means_.dtype)
        self._online_running = running
        self._online_steps = steps
        self._online_represented = represented
        self.n_iter_ = int(steps)
        self.converged_ = False
        self.lower_bound_ = float(batch_ll)
        self.lower_bounds_ = list(self.lower_bounds_) + [float(batch_ll)]
        return self

    def _initialize_online(self, X, sw) -> None:
        """The starting model of online EM, drawn from the first batch."""
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components "
                f"but got n_components = {self.n_components}, "
                f"n_samples = {X.shape[0]}"
            )
        arguments = self._fit_arguments(X)
        result = _engine.fit(
            X,
            sw,
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            tol=0.0,
            reg_covar=float(self.reg_covar),
            max_iter=0,
            n_init=1,
            init_params=self.init_params,
            seed=seed_of(self.random_state),
            n_threads=self.n_threads,
            rule=self._rule,
            **arguments,
        )
        self._set_fitted(result, X.dtype)

    # -- criteria -------------------------------------------------------------------------

    def _n_parameters(self) -> int:
        """Return the number of free parameters in the model."""
        _, n_features = self.means_.shape
        if self.covariance_type == "full":
            cov_params = self.n_components * n_features * (n_features + 1) / 2.0
        elif self.covariance_type == "diag":
            cov_params = self.n_components * n_features
        elif self.covariance_type == "tied":
            cov_params = n_features * (n_features + 1) / 2.0
        else:
            cov_params = self.n_components
        mean_params = n_features * self.n_components
        return int(cov_params + mean_params + self.n_components - 1)

    def bic(self, X):
        """Bayesian information criterion for the current model on the input X.

        Parameters
        ----------
        X : array of shape (n_samples, n_dimensions)
            The input samples.

        Returns
        -------
        bic : float
            The lower the better.
        """
        n = np.shape(X)[0]
        return -2 * self.score(X) * n + self._n_parameters() * math.log(n)

    def aic(self, X):
        """Akaike information criterion for the current model on the input X.

        Parameters
        ----------
        X : array of shape (n_samples, n_dimensions)
            The input samples.

        Returns
        -------
        aic : float
            The lower the better.
        """
        return -2 * self.score(X) * np.shape(X)[0] + 2 * self._n_parameters()

    # -- statistics for distributed engines ------------------------------------------------

    def update_from_stats(self, stats):
        """Re-estimate the parameters from sufficient statistics (one M-step).

        ``stats`` are those of :func:`gmm_rs.suff_stats` under this model, summed over any
        number of blocks (``+``); with the blocks covering the data this is one EM iteration,
        the step :func:`gmm_rs.dask.fit` repeats.

        Parameters
        ----------
        stats : gmm_rs.SuffStats
            Statistics computed under this model.

        Returns
        -------
        self : object
            The updated mixture.
        """
        from ._stats import SuffStats

        if not isinstance(stats, SuffStats):
            raise TypeError(f"expected gmm_rs.SuffStats, got {type(stats).__name__}")
        model, _ = _engine.update_from_stats(
            stats.to_bytes(),
            self._warm_start_model(),
            rule=self._rule,
            reg_covar=float(self.reg_covar),
            prior=self._prior_dict(),
        )
        self._set_gaussian_attributes(model, self.means_.dtype)
        return self
