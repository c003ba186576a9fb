"""Parity with scikit-learn from the same start: the headline fixture (against scikit-learn's
recorded scores), the small fixture for all four covariance types and variational Bayes with
both weight priors (against scikit-learn run here)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import mixture as sk

import gmm_rs
from conftest import start_arguments

TYPES = ("diag", "full", "spherical", "tied")


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_headline_matches_scikit_learn_after_every_iteration(headline, covariance_type):
    X, starts, reference = headline
    want = reference[covariance_type]["mean_log_likelihood_after_iteration"]
    gm = gmm_rs.GaussianMixture(
        30,
        covariance_type=covariance_type,
        tol=0,
        max_iter=10,
        **start_arguments(starts[covariance_type]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    # lower_bounds_[i] is the score of the model after i iterations (i = 0 is the start).
    assert_allclose(gm.lower_bounds_[1:], want[:9], rtol=1e-9, atol=0)
    assert_allclose(gm.score(X), want[9], rtol=1e-9, atol=0)
    assert gm.n_iter_ == 10 and not gm.converged_


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_fixture_matches_scikit_learn(small, covariance_type, dtype):
    X, starts, _ = small
    X = X.astype(dtype)
    settings = dict(
        n_components=4,
        covariance_type=covariance_type,
        tol=0,
        max_iter=10,
        **start_arguments(starts[covariance_type]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = gmm_rs.GaussianMixture(**settings).fit(X)
        theirs = sk.GaussianMixture(**settings).fit(X)
    rtol = 1e-9 if dtype == np.float64 else 2e-4
    assert ours.n_iter_ == theirs.n_iter_ == 10
    assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=rtol)
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=rtol * 100, atol=rtol)
    assert_allclose(ours.score(X), theirs.score(X), rtol=rtol)
    assert_allclose(ours.score_samples(X[:50]), theirs.score_samples(X[:50]), rtol=rtol)
    assert_allclose(ours.predict_proba(X[:50]), theirs.predict_proba(X[:50]), atol=rtol * 100)
    assert_allclose(ours.bic(X), theirs.bic(X), rtol=rtol)
    assert_allclose(ours.aic(X), theirs.aic(X), rtol=rtol)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_convergence_follows_scikit_learn(small, covariance_type):
    """With a tolerance, the same number of iterations, the same stopping model."""
    X, starts, _ = small
    settings = dict(
        n_components=4,
        covariance_type=covariance_type,
        tol=1e-4,
        **start_arguments(starts[covariance_type]),
    )
    ours = gmm_rs.GaussianMixture(**settings).fit(X)
    theirs = sk.GaussianMixture(**settings).fit(X)
    assert ours.converged_ and theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.means_, theirs.means_, rtol=1e-8)
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-10)


class _FromResponsibilities(sk.BayesianGaussianMixture):
    """scikit-learn's VB started from given responsibilities."""

    resp = None

    def _initialize_parameters(self, X, random_state, xp=None):
        self._initialize(X, self.resp)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("prior", ["dirichlet_process", "dirichlet_distribution"])
def test_variational_bayes_matches_scikit_learn(faithful, covariance_type, prior):
    X = faithful
    resp = np.random.default_rng(1).uniform(size=(X.shape[0], 4))
    resp /= resp.sum(axis=1, keepdims=True)
    settings = dict(
        n_components=4,
        covariance_type=covariance_type,
        weight_concentration_prior_type=prior,
        tol=0,
    )
    # scikit-learn's posterior from the responsibilities (no iteration)...
    theirs = _FromResponsibilities(max_iter=0, warm_start=True, **settings)
    theirs.resp = resp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X)
        # ...is where both start: a warm start continues from the posterior's attributes.
        ours = gmm_rs.BayesianGaussianMixture(max_iter=0, warm_start=True, **settings).fit(X)
        for name, value in vars(theirs).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(ours, name, value)
        ours.set_params(max_iter=30)
        theirs.set_params(max_iter=30)
        ours.fit(X)
        theirs.fit(X)
    assert ours.n_iter_ == theirs.n_iter_ == 30
    # scikit-learn keeps tied bounds as 1-element arrays.
    assert_allclose(np.ravel(ours.lower_bounds_), np.ravel(theirs.lower_bounds_), rtol=1e-9)
    for name in ("weights_", "means_", "covariances_", "mean_precision_", "degrees_of_freedom_"):
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-7, atol=1e-10)
    assert_allclose(
        np.ravel(ours.weight_concentration_), np.ravel(theirs.weight_concentration_), rtol=1e-7
    )
    assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-8)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)
