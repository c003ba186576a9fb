"""Sufficient statistics: what a distributed engine maps over blocks of rows and reduces.

For responsibilities ``r_nk`` under a model, sample weights ``w_n`` and a shift ``s_k`` (the
model's means), the statistics are ``N_k = sum w r``, ``F_k = sum w r (x - s_k)``,
``S_k = sum w r (x - s_k)(x - s_k)^T`` (the diagonal for diag and spherical models), the total
weight and ``sum w log p(x)``; all float64 whatever the data's precision. They add: the
statistics of two blocks under one model are the sum of each block's, so a Dask array (or
files, or machines) is fitted by mapping :func:`suff_stats` over its blocks, adding, and
calling the model's ``update_from_stats``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _engine
from ._base import FLOAT_DTYPES, check_sample_weight, in_place, model_arg


class SuffStats:
    """Mergeable, picklable sufficient statistics of a weighted sample under one model.

    Add them with ``+`` (or ``sum(parts)``) or :meth:`merge`; both sides must come from the
    same model. The byte form (:meth:`to_bytes`) is stable and versioned, and is what
    pickling stores.
    """

    __slots__ = ("_bytes", "_info")

    def __init__(self, data: bytes):
        self._bytes = bytes(data)
        self._info = _engine.stats_info(self._bytes)

    @classmethod
    def from_bytes(cls, data: bytes) -> "SuffStats":
        """Statistics from :meth:`to_bytes`' form."""
        return cls(data)

    def to_bytes(self) -> bytes:
        """The stable byte form."""
        return self._bytes

    def merge(self, other: "SuffStats") -> "SuffStats":
        """The statistics of both samples (same model, same shape)."""
        if not isinstance(other, SuffStats):
            raise TypeError(f"cannot merge SuffStats with {type(other).__name__}")
        return SuffStats(_engine.stats_merge(self._bytes, other._bytes))

    def __add__(self, other):
        if isinstance(other, (int, float)) and other == 0:
            return self
        if not isinstance(other, SuffStats):
            return NotImplemented
        return self.merge(other)

    __radd__ = __add__

    def __reduce__(self):
        return (SuffStats, (self._bytes,))

    def __eq__(self, other) -> bool:
        return isinstance(other, SuffStats) and self._bytes == other._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        i = self._info
        return (
            f"SuffStats(n_components={i['n_components']}, n_features={i['n_features']}, "
            f"total_weight={i['total_weight']:.6g})"
        )

    @property
    def n_components(self) -> int:
        """Number of components."""
        return int(self._info["n_components"])

    @property
    def n_features(self) -> int:
        """Number of features."""
        return int(self._info["n_features"])

    @property
    def total_weight(self) -> float:
        """``sum_n w_n``."""
        return float(self._info["total_weight"])

    @property
    def log_likelihood(self) -> float:
        """``sum_n w_n log p(x_n)`` under the model the statistics were computed with."""
        return float(self._info["log_likelihood"])

    @property
    def counts(self) -> np.ndarray:
        """``N_k``, shape (n_components,)."""
        return self._info["counts"]

    @property
    def means(self) -> np.ndarray:
        """The weighted means of the components, ``s_k + F_k / N_k``."""
        k, d = self.n_components, self.n_features
        shift = self._info["shift"].reshape(k, d)
        first = self._info["first"].reshape(k, d)
        with np.errstate(divide="ignore", invalid="ignore"):
            return shift + first / self.counts[:, None]


def _engine_model(model) -> tuple:
    """The mixture whose E-step ``model`` runs (a fitted gmm_rs or scikit-learn mixture)."""
    check_is_fitted(model)
    scoring = getattr(model, "_scoring_model", None)
    if scoring is not None:
        return scoring()[0]
    return model_arg(model.covariance_type, model.weights_, model.means_, model.covariances_)


def suff_stats(model, X, sample_weight=None, n_threads=None) -> SuffStats:
    """Sufficient statistics of ``X`` under a fitted mixture (one E-step).

    Parameters
    ----------
    model : gmm_rs.GaussianMixture, gmm_rs.BayesianGaussianMixture or a fitted
        sklearn.mixture.GaussianMixture
        The model whose E-step runs.
    X : array-like of shape (n_samples, n_features)
        The samples (C- or Fortran-ordered float32/float64 arrays are read in place).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weight of every sample.
    n_threads : int, default=None
        Threads of the engine (default: the model's ``n_threads``, else every core).

    Returns
    -------
    stats : SuffStats
        Mergeable statistics; ``model.update_from_stats(sum(parts))`` is one EM iteration.
    """
    engine_model = _engine_model(model)
    if hasattr(model, "n_features_in_") and hasattr(model, "_validate_params"):
        X = validate_data(model, X, reset=False, dtype=FLOAT_DTYPES)
    else:
        X = check_array(X, dtype=FLOAT_DTYPES)
    X = in_place(X)
    sw = check_sample_weight(sample_weight, X)
    if n_threads is None:
        n_threads = getattr(model, "n_threads", None)
    return SuffStats(_engine.suff_stats(X, engine_model, sw, n_threads))
