"""Fitting a :class:`gmm_rs.GaussianMixture` to a Dask array.

Each EM iteration is a map and a reduce: :func:`gmm_rs.suff_stats` of every block of rows
under the current model (``map_blocks``, run wherever Dask runs its tasks), the blocks'
statistics added in block order, then the model's ``update_from_stats`` (one M-step) on the
client. Only the statistics — ``O(k d^2)`` numbers per block — travel; the data stays where it
is. The loop and its stopping rule are scikit-learn's, as in ``GaussianMixture.fit``.

.. code-block:: python

    import dask.array as da
    import gmm_rs
    import gmm_rs.dask

    X = da.from_zarr("frames.zarr")            # (n_samples, n_features), chunked by rows
    model = gmm_rs.GaussianMixture(64, covariance_type="diag", random_state=0)
    gmm_rs.dask.fit(model, X, max_iter=20)

The statistics merge in block order, so a fit is reproducible for a given chunking; with
chunks of whole engine blocks (multiples of 240 rows) it matches the in-memory fit to
rounding.
"""

from __future__ import annotations

import functools
import operator
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._gaussian_mixture import GaussianMixture
from ._stats import SuffStats, suff_stats


def _block_stats(block, *rest, model=None):
    """The statistics of one block, as a 1-element object array (Dask's block type)."""
    weights = rest[0][:, 0] if rest else None
    out = np.empty(1, dtype=object)
    out[0] = suff_stats(model, block, sample_weight=weights)
    return out


def block_stats(model, X, sample_weight=None) -> list[SuffStats]:
    """The statistics of every row block of the Dask array ``X`` under ``model``, in block
    order (computed)."""
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array, got {X.ndim} dimensions")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    arrays = [X]
    if sample_weight is not None:
        w = da.asarray(sample_weight)
        arrays.append(w.rechunk((X.chunks[0],))[:, None])
    n_blocks = len(X.chunks[0])
    parts = da.map_blocks(
        _block_stats,
        *arrays,
        model=model,
        dtype=object,
        drop_axis=1,
        chunks=((1,) * n_blocks,),
    )
    return list(parts.compute())


def fit(
    model: GaussianMixture,
    X,
    sample_weight=None,
    *,
    max_iter: int | None = None,
    tol: float | None = None,
    init_rows: int = 100_000,
) -> GaussianMixture:
    """Fit ``model`` to the Dask array ``X`` by EM, one map-reduce per iteration.

    Parameters
    ----------
    model : gmm_rs.GaussianMixture
        The estimator. A fitted one (or one with ``warm_start``) continues from its
        parameters; one with ``weights_init``, ``means_init`` and ``precisions_init`` starts
        from them; otherwise it is initialised by ``init_params`` on the first ``init_rows``
        rows.
    X : dask.array.Array of shape (n_samples, n_features)
        The samples, chunked by rows.
    sample_weight : dask or numpy array of shape (n_samples,), default=None
        Non-negative weight of every sample.
    max_iter, tol : default=None
        Override the model's.
    init_rows : int, default=100_000
        Rows a data-driven initialisation reads.

    Returns
    -------
    model : gmm_rs.GaussianMixture
        The fitted estimator (``n_iter_``, ``converged_``, ``lower_bound_``,
        ``lower_bounds_`` as ``fit`` sets them).
    """
    if not isinstance(model, GaussianMixture):
        raise TypeError("gmm_rs.dask.fit fits a gmm_rs.GaussianMixture")
    max_iter = model.max_iter if max_iter is None else int(max_iter)
    tol = model.tol if tol is None else float(tol)
    model._validate_params()
    given = all(
        v is not None for v in (model.weights_init, model.means_init, model.precisions_init)
    )
    resume = hasattr(model, "means_") and (model.warm_start or not given)
    if not resume:
        head = np.asarray(X[: min(int(init_rows), X.shape[0])].compute())
        w_head = None
        if sample_weight is not None:
            w_head = np.asarray(sample_weight[: head.shape[0]])
            w_head = getattr(w_head, "compute", lambda: w_head)()
        start = GaussianMixture(**{**model.get_params(), "max_iter": 0, "warm_start": False})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start.fit(head, sample_weight=w_head)
        for name, value in vars(start).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(model, name, value)
    lower_bound = float("-inf")
    bounds: list[float] = []
    converged = False
    for _ in range(max_iter):
        previous = lower_bound
        total = functools.reduce(operator.add, block_stats(model, X, sample_weight))
        lower_bound = total.log_likelihood / total.total_weight
        model.update_from_stats(total)
        bounds.append(lower_bound)
        if abs(lower_bound - previous) < tol:
            converged = True
            break
    model.n_iter_ = len(bounds)
    model.converged_ = converged
    model.lower_bound_ = lower_bound
    model.lower_bounds_ = bounds
    if not converged and max_iter > 0:
        warnings.warn(
            "Best performing initialization did not converge. "
            "Try different init parameters, or increase max_iter, "
            "tol, or check for degenerate data.",
            ConvergenceWarning,
        )
    return model
