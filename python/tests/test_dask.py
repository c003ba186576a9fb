"""Fitting a Dask array: the same model as the in-memory fit."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gmm_rs
from conftest import start_arguments

da = pytest.importorskip("dask.array")
import gmm_rs.dask  # noqa: E402


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical", "tied"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dask_fit_equals_the_in_memory_fit(small, covariance_type, weighted):
    X, starts, w = small
    w = w if weighted else None
    settings = dict(tol=0, max_iter=8, **start_arguments(starts[covariance_type]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        memory = gmm_rs.GaussianMixture(4, covariance_type=covariance_type, **settings)
        memory.fit(X, sample_weight=w)
        distributed = gmm_rs.GaussianMixture(4, covariance_type=covariance_type, **settings)
        chunks = da.from_array(X, chunks=(480, 3))
        weights = None if w is None else da.from_array(w, chunks=480)
        gmm_rs.dask.fit(distributed, chunks, sample_weight=weights)
    assert distributed.n_iter_ == memory.n_iter_ == 8
    assert_allclose(distributed.lower_bounds_, memory.lower_bounds_, rtol=1e-12)
    for name in ("weights_", "means_", "covariances_"):
        assert_allclose(getattr(distributed, name), getattr(memory, name), rtol=1e-10)


def test_dask_fit_initialises_and_converges(small):
    X, _, _ = small
    model = gmm_rs.GaussianMixture(4, covariance_type="diag", random_state=0, tol=1e-6)
    gmm_rs.dask.fit(model, da.from_array(X, chunks=(500, 3)), max_iter=200)
    assert model.converged_
    reference = gmm_rs.GaussianMixture(4, covariance_type="diag", random_state=0).fit(X)
    assert model.score(X) > reference.score(X) - 0.05
