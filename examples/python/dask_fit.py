"""Fit a Gaussian mixture to a Dask array: one map-reduce of sufficient statistics per EM
iteration, the data never gathered in one place.

    python examples/python/dask_fit.py

The array here is made in memory and chunked; the same call takes any Dask array (from zarr,
HDF5, parquet, a cluster). The result equals the in-memory fit from the same start.
"""

import dask.array as da
import numpy as np

import gmm_rs
import gmm_rs.dask


def main():
    rng = np.random.default_rng(0)
    truth = gmm_rs.GaussianMixture(4, covariance_type="full", random_state=1)
    truth.fit(rng.normal(size=(400, 5)) * [1, 2, 3, 1, 1] + rng.integers(0, 8, size=(400, 1)))
    X_memory, _ = truth.sample(200_000)
    X = da.from_array(X_memory, chunks=(24_000, 5))  # 9 blocks of rows
    print(f"Dask array {X.shape}, {X.numblocks[0]} row blocks")

    start = dict(
        weights_init=np.full(4, 0.25),
        means_init=X_memory[[0, 60_000, 120_000, 180_000]],
        precisions_init=np.stack([np.eye(5)] * 4),
    )
    model = gmm_rs.GaussianMixture(4, covariance_type="full", tol=1e-6, max_iter=300, **start)
    gmm_rs.dask.fit(model, X)
    print(f"Dask: {model.n_iter_} iterations, converged {model.converged_}, "
          f"mean log-likelihood {model.lower_bound_:.10f}")

    memory = gmm_rs.GaussianMixture(4, covariance_type="full", tol=1e-6, max_iter=300, **start)
    memory.fit(X_memory)
    print(f"in memory: {memory.n_iter_} iterations, mean log-likelihood {memory.lower_bound_:.10f}")
    assert model.n_iter_ == memory.n_iter_
    np.testing.assert_allclose(model.means_, memory.means_, rtol=1e-8)
    print("same model: max |means difference| = "
          f"{np.abs(model.means_ - memory.means_).max():.2e}")


if __name__ == "__main__":
    main()
