#!/usr/bin/env python3
"""Write the small test fixture in tests/data/small/ (deterministic).

Usage (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
    .venv/bin/python tests/data/make_small_fixture.py [OUTDIR]

OUTDIR defaults to tests/data/small next to this script.

Seeds (numpy.random.default_rng, PCG64):
  * DATA_SEED = 20240608  -- the mixture and the samples (data.npy)
  * WEIGHTS_SEED = 20240609 -- per-sample weights (data_weights.npy)
  * INIT_SEED = 7          -- which data rows become the initial means

Data recipe: the same as the headline fixture in shared/bench (that recipe,
run with seed 20240607, n=100000, d=15, k=30, reproduces headline.npy bit for
bit), here with n=2000, d=3, k=4:

    rng = default_rng(DATA_SEED)
    means   = rng.normal(0, 3, (k, d))
    var     = rng.uniform(0.5, 2, (k, d))          # diagonal variances
    weights = rng.dirichlet(ones(k))
    labels  = rng.choice(k, n, p=weights)
    X       = means[labels] + rng.standard_normal((n, d)) * sqrt(var[labels])

Initial models: means = X[sorted(default_rng(7).choice(n, k, replace=False))]
(as the headline start), weights = 1/k, covariances from X.var(axis=0) (ddof 0).

Reference values come from scikit-learn's GaussianMixture with tol=0,
reg_covar=1e-6, started from those models (one separate fit per max_iter).
"""

import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

N, D, K = 2000, 3, 4
DATA_SEED = 20240608
WEIGHTS_SEED = 20240609
INIT_SEED = 7
REG_COVAR = 1e-6
MAX_ITERS = range(1, 11)
TYPES = ("diag", "full", "spherical", "tied")


def make_data():
    rng = np.random.default_rng(DATA_SEED)
    means = rng.normal(0.0, 3.0, (K, D))
    var = rng.uniform(0.5, 2.0, (K, D))
    weights = rng.dirichlet(np.ones(K))
    labels = rng.choice(K, N, p=weights)
    x = means[labels] + rng.standard_normal((N, D)) * np.sqrt(var[labels])
    x = np.ascontiguousarray(x, dtype=np.float64)
    sw = np.random.default_rng(WEIGHTS_SEED).uniform(0.5, 2.0, N)
    truth = {"weights": weights, "means": means, "variances": var}
    return x, sw, truth


def init_model(x, cov_type):
    n = x.shape[0]
    idx = np.sort(np.random.default_rng(INIT_SEED).choice(n, K, replace=False))
    means = x[idx].copy()
    weights = np.full(K, 1.0 / K)
    v = x.var(axis=0)  # ddof 0
    if cov_type == "diag":
        cov = np.tile(v, (K, 1))
    elif cov_type == "full":
        cov = np.tile(np.diag(v), (K, 1, 1))
    elif cov_type == "spherical":
        cov = np.full(K, v.mean())
    elif cov_type == "tied":
        cov = np.diag(v)
    else:
        raise ValueError(cov_type)
    return {"covariance_type": cov_type, "weights": weights, "means": means, "covariances": cov}


def precisions_of(cov, cov_type):
    """Inverse of the covariances in scikit-learn's precision shape."""
    if cov_type in ("diag", "spherical"):
        return 1.0 / cov
    if cov_type == "full":
        return np.array([np.linalg.inv(c) for c in cov])
    if cov_type == "tied":
        return np.linalg.inv(cov)
    raise ValueError(cov_type)


def model_json(cov_type, weights, means, cov):
    return {
        "covariance_type": cov_type,
        "weights": np.asarray(weights, dtype=float).tolist(),
        "means": np.asarray(means, dtype=float).tolist(),
        "covariances": np.asarray(cov, dtype=float).tolist(),
    }


def gm_from_start(m, max_iter):
    t = m["covariance_type"]
    return GaussianMixture(
        n_components=K,
        covariance_type=t,
        tol=0.0,
        reg_covar=REG_COVAR,
        max_iter=max_iter,
        weights_init=m["weights"],
        means_init=m["means"],
        precisions_init=precisions_of(m["covariances"], t),
    )


def unfitted_gm(m):
    """A GaussianMixture holding model m as if fitted (no EM step run)."""
    t = m["covariance_type"]
    gm = GaussianMixture(n_components=K, covariance_type=t, reg_covar=REG_COVAR)
    gm.weights_ = np.asarray(m["weights"], dtype=float)
    gm.means_ = np.asarray(m["means"], dtype=float)
    gm.covariances_ = np.asarray(m["covariances"], dtype=float)
    gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, t)
    # precisions_ as sklearn's _set_parameters would make them (not needed for
    # scoring, set for completeness)
    pc = gm.precisions_cholesky_
    if t == "full":
        gm.precisions_ = np.array([p @ p.T for p in pc])
    elif t == "tied":
        gm.precisions_ = pc @ pc.T
    else:
        gm.precisions_ = pc**2
    gm.converged_ = True
    gm.n_iter_ = 0
    gm.lower_bound_ = float("nan")
    gm.n_features_in_ = D
    return gm


def dump(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "small")
    os.makedirs(out, exist_ok=True)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    x, sw, truth = make_data()
    np.save(os.path.join(out, "data.npy"), x)
    np.save(os.path.join(out, "data_weights.npy"), sw)

    reference = {}
    bic_aic = {}
    for t in TYPES:
        m = init_model(x, t)
        dump(model_json(t, m["weights"], m["means"], m["covariances"]),
             os.path.join(out, f"init_{t}.json"))

        # sklearn on the unfitted start
        gm0 = unfitted_gm(m)
        bic_aic[t] = {
            "bic": float(gm0.bic(x)),
            "aic": float(gm0.aic(x)),
            "score": float(gm0.score(x)),
            "score_samples_first5": [float(v) for v in gm0.score_samples(x)[:5]],
            "n_parameters": int(gm0._n_parameters()),
        }

        lls = []
        gm = None
        for i in MAX_ITERS:
            gm = gm_from_start(m, i).fit(x)
            assert gm.n_iter_ == i, (t, i, gm.n_iter_)
            lls.append(float(gm.score(x)))
        reference[t] = {
            "log_likelihood": lls,
            "final_model": model_json(t, gm.weights_, gm.means_, gm.covariances_),
            "bic": float(gm.bic(x)),
            "aic": float(gm.aic(x)),
            "n_iter": int(gm.n_iter_),
        }

    reference["source"] = (
        "scikit-learn GaussianMixture(n_components=4, tol=0, reg_covar=1e-6, max_iter=i) "
        "started from init_<type>.json; log_likelihood[i-1] = score(X) after a fit with "
        "max_iter=i; final_model/bic/aic after max_iter=10"
    )
    reference["sklearn_version"] = sklearn.__version__
    reference["numpy_version"] = np.__version__
    dump(reference, os.path.join(out, "reference.json"))

    bic_aic["source"] = (
        "scikit-learn bic/aic/score/score_samples of the unfitted init_<type>.json models "
        "(fitted attributes set directly, precisions_cholesky_ from "
        "_compute_precision_cholesky), evaluated on data.npy"
    )
    bic_aic["sklearn_version"] = sklearn.__version__
    bic_aic["numpy_version"] = np.__version__
    dump(bic_aic, os.path.join(out, "bic_aic.json"))

    print(f"wrote {out}: sklearn {sklearn.__version__}, numpy {np.__version__}")
    print("true mixture weights:", np.round(truth["weights"], 4).tolist())
    for t in TYPES:
        r = reference[t]
        print(f"{t:9s} ll[1]={r['log_likelihood'][0]:.6f} ll[10]={r['log_likelihood'][-1]!r} "
              f"bic={r['bic']:.4f} aic={r['aic']:.4f}")


if __name__ == "__main__":
    main()
