"""The estimators' API beyond scikit-learn's checks: pickling, float32, sample weights,
partial_fit, Fortran order, errors, MAP, statistics."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

import gmm_rs
from gmm_rs import _engine
from conftest import start_arguments

TYPES = ("diag", "full", "spherical", "tied")


def _quiet(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(*args, **kwargs)


@pytest.mark.parametrize("cls", [gmm_rs.GaussianMixture, gmm_rs.BayesianGaussianMixture])
def test_pickle_round_trip_and_clone(small, cls):
    X, _, _ = small
    model = cls(n_components=3, covariance_type="diag", random_state=0).fit(X)
    back = pickle.loads(pickle.dumps(model))
    assert_array_equal(back.score_samples(X), model.score_samples(X))
    assert_array_equal(back.predict(X), model.predict(X))
    fresh = clone(model)
    assert not hasattr(fresh, "means_")
    assert fresh.get_params() == model.get_params()


@pytest.mark.parametrize("covariance_type", TYPES)
def test_float32_is_kept(small, covariance_type):
    X, _, _ = small
    gm = gmm_rs.GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    gm.fit(X.astype(np.float32))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert getattr(gm, name).dtype == np.float32, name
    ref = gmm_rs.GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    assert abs(gm.score(X) - ref.score(X)) < 1e-3


@pytest.mark.parametrize("covariance_type", TYPES)
def test_sample_weight_equals_repeated_rows(small, covariance_type):
    X, starts, _ = small
    X = X[:600]
    w = np.random.default_rng(3).integers(0, 4, size=X.shape[0])
    repeated = np.repeat(X, w, axis=0)
    for settings in (
        dict(tol=0, max_iter=15, **start_arguments(starts[covariance_type])),
        dict(random_state=5),  # the k-means start draws rows in proportion to their weight
    ):
        a = _quiet(gmm_rs.GaussianMixture(4, covariance_type=covariance_type, **settings), X,
                   sample_weight=w)
        b = _quiet(gmm_rs.GaussianMixture(4, covariance_type=covariance_type, **settings),
                   repeated)
        assert a.n_iter_ == b.n_iter_
        for name in ("weights_", "means_", "covariances_"):
            assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
        assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-11)


def test_sample_weight_errors(small):
    X, _, w = small
    gm = gmm_rs.GaussianMixture(2)
    with pytest.raises(ValueError, match="sample_weight"):
        gm.fit(X, sample_weight=w[:10])
    with pytest.raises(ValueError, match="[Nn]egative"):
        gm.fit(X, sample_weight=-w)
    with pytest.raises(ValueError):
        gm.fit(X, sample_weight=np.zeros(X.shape[0]))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_partial_fit_is_the_rust_online_em(small, covariance_type):
    X, starts, _ = small
    gm = gmm_rs.GaussianMixture(
        4,
        covariance_type=covariance_type,
        learning_decay=0.7,
        learning_offset=3.0,
        max_iter=0,
        **start_arguments(starts[covariance_type]),
    )
    gm.fit(X)  # max_iter=0: the start itself, from which partial_fit continues
    model = (covariance_type, gm.weights_, gm.means_, gm.covariances_)
    batches = [X[i : i + 100] for i in range(0, 2000, 100)]
    for batch in batches:
        gm.partial_fit(batch)
    _, weights, means, covariances = _engine.online_reference(model, batches, 0.7, 3.0)
    assert gm.n_iter_ == len(batches)
    assert_array_equal(gm.weights_, weights)
    assert_array_equal(gm.means_.ravel(), means)
    assert_array_equal(gm.covariances_.ravel(), covariances)


def test_partial_fit_learns_and_continues_a_fit(small):
    X, _, _ = small
    online = gmm_rs.GaussianMixture(4, covariance_type="diag", random_state=0)
    for epoch in range(3):
        for i in range(0, 2000, 250):
            online.partial_fit(X[i : i + 250])
    batch = gmm_rs.GaussianMixture(4, covariance_type="diag", random_state=0).fit(X)
    assert online.score(X) > batch.score(X) - 0.05
    with pytest.raises(ValueError, match="features"):
        online.partial_fit(X[:10, :2])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_fortran_order_gives_the_c_order_results(small, dtype, covariance_type):
    X, starts, _ = small
    X = np.tile(X, (9, 1)).astype(dtype)  # 18,000 rows: more than one staged chunk
    F = np.asfortranarray(X)
    settings = dict(tol=0, max_iter=5, **start_arguments(starts[covariance_type]))
    a = _quiet(gmm_rs.GaussianMixture(4, covariance_type=covariance_type, **settings), X)
    b = _quiet(gmm_rs.GaussianMixture(4, covariance_type=covariance_type, **settings), F)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert_allclose(a.means_, b.means_, rtol=rtol)
    assert_array_equal(a.score_samples(X), a.score_samples(F))
    assert_array_equal(a.predict_proba(X), a.predict_proba(F))
    assert_array_equal(a.predict(X), a.predict(F))


def test_non_contiguous_input_is_accepted(small):
    X, _, _ = small
    gm = gmm_rs.GaussianMixture(2, random_state=0).fit(X)
    view = np.hstack([X, X])[:, ::2]
    assert_allclose(gm.score_samples(view), gm.score_samples(np.ascontiguousarray(view)))


def test_errors_are_scikit_learns(small):
    X, _, _ = small
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        gmm_rs.GaussianMixture(5).fit(X[:3])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gmm_rs.GaussianMixture(2).fit(bad)
    with pytest.raises(ValueError, match="n_components"):
        gmm_rs.GaussianMixture(0).fit(X)
    with pytest.raises(ValueError, match="The parameter 'means' should have the shape"):
        gmm_rs.GaussianMixture(2, means_init=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="The parameter 'weights' should be normalized"):
        gmm_rs.GaussianMixture(2, weights_init=[0.2, 0.2]).fit(X)
    gm = gmm_rs.GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 2 features"):
        gm.predict(X[:, :2])
    # Ill-defined covariances: scikit-learn's message.
    dup = np.repeat(X[:2], 20, axis=0)
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        gmm_rs.GaussianMixture(2, reg_covar=0, covariance_type="full", random_state=0).fit(dup)


def test_convergence_warning():
    from sklearn.exceptions import ConvergenceWarning

    X = np.random.default_rng(0).normal(size=(300, 2))
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        gmm_rs.GaussianMixture(3, max_iter=1, random_state=0).fit(X)


def test_map_prior_keeps_collapsed_components_defined(small):
    X, _, _ = small
    dup = np.vstack([X[:200], np.repeat(X[:1], 30, axis=0)])
    gm = gmm_rs.GaussianMixture(
        3, covariance_type="full", reg_covar=0, prior="mclust", random_state=0
    ).fit(dup)
    assert np.isfinite(gm.score(dup))
    assert np.all(np.linalg.eigvalsh(gm.covariances_) > 0)
    assert gm.degrees_of_freedom_prior_ == X.shape[1] + 2
    assert gm.mean_precision_prior_ == 0.01


def test_suff_stats_merge_and_update_equal_one_iteration(small):
    X, starts, w = small
    start = start_arguments(starts["full"])
    gm = gmm_rs.GaussianMixture(4, covariance_type="full", max_iter=1, tol=0, **start)
    _quiet(gm, X, sample_weight=w)
    stepped = gmm_rs.GaussianMixture(4, covariance_type="full", max_iter=0, **start)
    stepped.fit(X)
    parts = [gmm_rs.suff_stats(stepped, X[i : i + 480], w[i : i + 480]) for i in range(0, 2000, 480)]
    total = sum(parts)
    assert total.total_weight == pytest.approx(w.sum())
    again = pickle.loads(pickle.dumps(total))
    assert again == total and again.n_components == 4
    stepped.update_from_stats(total)
    assert_allclose(stepped.means_, gm.means_, rtol=1e-11)
    assert_allclose(stepped.covariances_, gm.covariances_, rtol=1e-10)
    other = gmm_rs.GaussianMixture(4, covariance_type="full", random_state=1).fit(X)
    with pytest.raises(ValueError, match="different shifts cannot merge"):
        total + gmm_rs.suff_stats(other, X)


def test_speech_recipe(small):
    X, _, _ = small
    rng = np.random.default_rng(0)
    ubm = gmm_rs.speech.train_ubm([X[:1000], X[1000:]], 8)
    assert ubm.covariance_type == "diag" and ubm.means_.shape[1] == 3
    speaker_frames = X[:300] + 0.5
    spk = gmm_rs.speech.adapt(ubm, [speaker_frames], relevance=16)
    assert not np.allclose(spk.means_, ubm.means_)
    scores = gmm_rs.speech.llr(spk, ubm, [speaker_frames, X[1500:1800]])
    assert scores[0] > scores[1]
    top = gmm_rs.speech.llr(spk, ubm, [speaker_frames], top_c=8)
    assert_allclose(top, scores[:1], rtol=1e-9)
    zeroth, first = gmm_rs.speech.baum_welch_stats(ubm, [X[:10], X[10:30]])
    assert zeroth.shape == (2, ubm.n_components) and first.shape == (2, ubm.n_components, 3)
    assert_allclose(zeroth.sum(axis=1), [10, 20])
    del rng


def test_sample_is_grouped_by_component(small):
    X, _, _ = small
    gm = gmm_rs.GaussianMixture(3, random_state=0).fit(X)
    samples, labels = gm.sample(500)
    assert samples.shape == (500, 3) and np.all(np.diff(labels) >= 0)
    again, _ = gm.sample(500)
    assert_array_equal(samples, again)  # an int random_state repeats its draws
