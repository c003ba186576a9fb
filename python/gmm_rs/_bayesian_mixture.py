"""``BayesianGaussianMixture``: scikit-learn's variational Bayes on gmm's engine.

The engine's variational rule returns, after every update, the mixture whose
responsibilities equal the variational E-step's: weights proportional to
``exp(E[log pi_k] - d/2 log nu_k + 1/2 (E[log |Lambda_k|] - d / beta_k))`` and the Gaussians
``N(m_k, W_k^-1 / nu_k)``. Prediction uses that mixture too (``_scoring_model``); scikit-learn's
``score_samples`` differs from its log-likelihood by the log of the weights' normaliser, which
is added back.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import digamma, logsumexp
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from . import _engine
from ._base import FLOAT_DTYPES, BaseMixture, model_arg


class BayesianGaussianMixture(BaseMixture):
    """Variational Bayesian estimation of a Gaussian mixture, on gmm's Rust engine.

    A drop-in for :class:`sklearn.mixture.BayesianGaussianMixture`: the same parameters,
    defaults, validation, methods and fitted attributes. From the same responsibilities
    its posterior follows scikit-learn's to rounding. Beyond scikit-learn it takes
    ``sample_weight`` in ``fit`` and ``n_threads``.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components (an upper bound: unneeded ones fade out).
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The type of covariance parameters to use.
    tol : float, default=1e-3
        The convergence threshold on the lower bound (total, as scikit-learn's).
    reg_covar : float, default=1e-6
        Non-negative regularization added to the diagonal of covariance.
    max_iter : int, default=100
        The number of EM iterations to perform.
    n_init : int, default=1
        The number of initializations to perform. The result with the highest lower bound
        value on the likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        The method used to initialize the responsibilities (see
        :class:`gmm_rs.GaussianMixture`).
    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}, \
            default='dirichlet_process'
        String describing the type of the weight concentration prior.
    weight_concentration_prior : float or None, default=None
        The dirichlet concentration of each component on the weight distribution
        (``1 / n_components`` if None).
    mean_precision_prior : float or None, default=None
        The precision prior on the mean distribution (1 if None).
    mean_prior : array-like, shape (n_features,), default=None
        The prior on the mean distribution (the mean of X if None).
    degrees_of_freedom_prior : float or None, default=None
        The prior of the number of degrees of freedom on the covariance distributions
        (``n_features`` if None).
    covariance_prior : float or array-like, default=None
        The prior on the covariance distribution (the covariance of X if None).
    random_state : int, RandomState instance or None, default=None
        Controls the random seed given to the method chosen to initialize the parameters.
    warm_start : bool, default=False
        If True, the solution of the last fitting is used as initialization for the next
        call of fit().
    verbose : int, default=0
        Enable verbose output.
    verbose_interval : int, default=10
        Number of iteration done before the next print.
    n_threads : int, default=None
        Threads of the engine; None uses every core. Results do not depend on it.

    Attributes
    ----------
    weights_ : array-like of shape (n_components,)
        The weights of each mixture components.
    means_ : array-like of shape (n_components, n_features)
        The mean of each mixture component.
    covariances_ : array-like
        The covariance of each mixture component.
    precisions_ : array-like
        The precision matrices for each component in the mixture.
    precisions_cholesky_ : array-like
        The cholesky decomposition of the precision matrices of each mixture component.
    converged_ : bool
        True when convergence of the best fit of inference was reached, False otherwise.
    n_iter_ : int
        Number of step used by the best fit of inference to reach the convergence.
    lower_bound_ : float
        Lower bound value on the model evidence of the best fit of inference.
    lower_bounds_ : list of float
        The lower bound values of each iteration of the best fit.
    weight_concentration_prior_ : float
        The dirichlet concentration of each component on the weight distribution.
    weight_concentration_ : array-like of shape (n_components,) or tuple of two arrays
        The dirichlet concentration of each component (process: the Beta parameters).
    mean_precision_prior_ : float
        The precision prior on the mean distribution.
    mean_precision_ : array-like of shape (n_components,)
        The precision of each components on the mean distribution.
    mean_prior_ : array-like of shape (n_features,)
        The prior on the mean distribution.
    degrees_of_freedom_prior_ : float
        The prior of the number of degrees of freedom on the covariance distributions.
    degrees_of_freedom_ : array-like of shape (n_components,)
        The number of degrees of freedom of each components in the model.
    covariance_prior_ : float or array-like
        The prior on the covariance distribution.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has feature names that are all strings.

    Examples
    --------
    >>> import numpy as np
    >>> from gmm_rs import BayesianGaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [12, 4], [10, 7]])
    >>> bgm = BayesianGaussianMixture(n_components=2, random_state=42).fit(X)
    >>> bgm.predict([[0, 0], [9, 3]]).tolist() in ([0, 1], [1, 0])
    True
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "covariance_type": [StrOptions({"spherical", "tied", "diag", "full"})],
        "weight_concentration_prior_type": [
            StrOptions({"dirichlet_process", "dirichlet_distribution"})
        ],
        "weight_concentration_prior": [None, Interval(numbers.Real, 0.0, None, closed="neither")],
        "mean_precision_prior": [None, Interval(numbers.Real, 0.0, None, closed="neither")],
        "mean_prior": [None, "array-like"],
        "degrees_of_freedom_prior": [None, Interval(numbers.Real, 0.0, None, closed="neither")],
        "covariance_prior": [None, "array-like", Interval(numbers.Real, 0.0, None, closed="neither")],
    }

    _rule = "vb"

    def __init__(
        self,
        *,
        n_components=1,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_threads=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_threads = n_threads

    # -- engine hooks ---------------------------------------------------------------------

    def _fit_arguments(self, X: np.ndarray) -> dict:
        """The priors as scikit-learn checks them (same messages); None: from the data."""
        from sklearn.mixture._base import _check_shape
        from sklearn.mixture._gaussian_mixture import (
            _check_precision_matrix,
            _check_precision_positivity,
        )

        n_features = X.shape[1]
        out = {
            "weight_prior": self.weight_concentration_prior_type,
            "weight_concentration": self.weight_concentration_prior,
            "mean_precision": self.mean_precision_prior,
        }
        if self.mean_prior is not None:
            mean = check_array(self.mean_prior, dtype=FLOAT_DTYPES, ensure_2d=False)
            _check_shape(mean, (n_features,), "means")
            out["prior_mean"] = mean.astype(np.float64).tolist()
        if self.degrees_of_freedom_prior is not None:
            if not self.degrees_of_freedom_prior > n_features - 1.0:
                raise ValueError(
                    "The parameter 'degrees_of_freedom_prior' "
                    "should be greater than %d, but got %.3f."
                    % (n_features - 1, self.degrees_of_freedom_prior)
                )
            out["prior_dof"] = float(self.degrees_of_freedom_prior)
        if self.covariance_prior is not None:
            t = self.covariance_type
            if t in ("full", "tied"):
                cov = check_array(self.covariance_prior, dtype=FLOAT_DTYPES, ensure_2d=False)
                _check_shape(cov, (n_features, n_features), "%s covariance_prior" % t)
                _check_precision_matrix(cov, t)
            elif t == "diag":
                cov = check_array(self.covariance_prior, dtype=FLOAT_DTYPES, ensure_2d=False)
                _check_shape(cov, (n_features,), "%s covariance_prior" % t)
                _check_precision_positivity(cov, t)
            else:
                cov = np.asarray(float(self.covariance_prior))
            out["prior_covariance"] = np.atleast_1d(cov).astype(np.float64).ravel().tolist()
        return out

    def _set_fitted(self, result: dict, dtype) -> None:
        self._set_gaussian_attributes(result["model"], dtype)
        k, d = self.means_.shape
        q, prior = result["posterior"], result["prior"]
        wc = np.asarray(q["weight_concentration"], dtype=np.float64)
        if self.weight_concentration_prior_type == "dirichlet_process":
            self.weight_concentration_ = (wc[0::2].copy(), wc[1::2].copy())
        else:
            self.weight_concentration_ = wc
        self.mean_precision_ = np.asarray(q["mean_precision"], dtype=np.float64)
        dof = np.asarray(q["dof"], dtype=np.float64)
        self.degrees_of_freedom_ = dof[0] if self.covariance_type == "tied" else dof
        self.weight_concentration_prior_ = prior["weight_concentration"]
        self.mean_precision_prior_ = prior["mean_precision"]
        self.mean_prior_ = np.asarray(prior["mean"], dtype=np.float64)
        self.degrees_of_freedom_prior_ = prior["dof"]
        cov = np.asarray(prior["covariance"], dtype=np.float64)
        self.covariance_prior_ = {
            "full": lambda: cov.reshape(d, d),
            "tied": lambda: cov.reshape(d, d),
            "diag": lambda: cov,
            "spherical": lambda: float(cov[0]),
        }[self.covariance_type]()

    def _estimate_log_weights(self) -> np.ndarray:
        """``E[log pi_k]`` under the posterior (scikit-learn's formula)."""
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = self.weight_concentration_
            digamma_sum = digamma(a + b)
            return (
                digamma(a)
                - digamma_sum
                + np.hstack((0, np.cumsum(digamma(b) - digamma_sum)[:-1]))
            )
        wc = self.weight_concentration_
        return digamma(wc) - digamma(np.sum(wc))

    def _estep_terms(self) -> np.ndarray:
        """``log`` of the E-step mixture's unnormalised weights (module docs)."""
        d = self.means_.shape[1]
        dof = np.asarray(self.degrees_of_freedom_, dtype=np.float64)
        log_lambda = d * np.log(2.0) + np.sum(
            digamma(0.5 * (np.atleast_1d(dof)[:, None] - np.arange(d)[None, :])), axis=1
        )
        if self.covariance_type == "tied":
            log_lambda = log_lambda[0]
        return (
            self._estimate_log_weights()
            - 0.5 * d * np.log(dof)
            + 0.5 * (log_lambda - d / self.mean_precision_)
        )

    def _scoring_model(self) -> tuple[tuple, float]:
        terms = self._estep_terms()
        offset = float(logsumexp(terms))
        weights = np.exp(terms - offset)
        weights /= weights.sum()
        model = model_arg(self.covariance_type, weights, self.means_, self.covariances_)
        return model, offset

    def _warm_start_model(self) -> tuple:
        return self._scoring_model()[0]

    def _prior_dict(self) -> dict:
        return {
            "weight_prior": self.weight_concentration_prior_type,
            "weight_concentration": float(self.weight_concentration_prior_),
            "mean_precision": float(self.mean_precision_prior_),
            "mean": np.asarray(self.mean_prior_, dtype=np.float64).tolist(),
            "dof": float(self.degrees_of_freedom_prior_),
            "covariance": np.atleast_1d(np.asarray(self.covariance_prior_, np.float64))
            .ravel()
            .tolist(),
        }

    def update_from_stats(self, stats):
        """Re-estimate the posterior from sufficient statistics (one variational update).

        ``stats`` are those of :func:`gmm_rs.suff_stats` under this model (which uses its
        E-step mixture), summed over any number of blocks.

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
        model, posterior = _engine.update_from_stats(
            stats.to_bytes(),
            self._warm_start_model(),
            rule="vb",
            reg_covar=float(self.reg_covar),
            prior=self._prior_dict(),
        )
        self._set_fitted(
            {"model": model, "posterior": posterior, "prior": self._prior_dict()},
            self.means_.dtype,
        )
        return self
