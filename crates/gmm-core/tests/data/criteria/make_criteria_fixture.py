#!/usr/bin/env python3
"""Write crates/gmm-core/tests/data/criteria/criteria.json: scikit-learn's bic(), aic(),
score() and an ICL of random models of all four covariance types, on data drawn from them
(deterministic).

Usage (from the repository root):

    /work/main/.venv/bin/python crates/gmm-core/tests/data/criteria/make_criteria_fixture.py

For every case, a random model (numpy default_rng(SEED + case), PCG64): weights from a
Dirichlet(2, ..., 2), means N(0, SPREAD^2), covariances
  diag: U(0.3, 2) variances; spherical: U(0.3, 2); full: A A^T / d + 0.2 I with A ~ N(0, 1);
  tied: one such matrix.
n samples are drawn from the model (component labels by the weights, then Gaussian noise).
The model is set on a scikit-learn 1.9.1 GaussianMixture as if fitted: weights_, means_,
covariances_ and precisions_cholesky_ from sklearn's own _compute_precision_cholesky (so the
precisions come from the covariances exactly as scikit-learn computes them), then

  bic   = gm.bic(X),  aic = gm.aic(X),  score = gm.score(X)  (mean log-likelihood)
  entropy = sum_n -max_k log_resp[n, k]  with log_resp from gm._estimate_log_prob_resp(X)
  icl   = bic + 2 * entropy      (Biernacki, Celeux & Govaert 2000, lower is better)

SPREAD is small in some cases, so that components overlap and the entropy is not 0.
"""

import json
import os
import sys

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

SEED = 20261126
TYPES = ("diag", "full", "spherical", "tied")
# (k, d, n, spread)
SHAPES = ((1, 1, 50, 1.0), (3, 2, 150, 1.5), (4, 3, 200, 3.0), (2, 5, 120, 0.7))


def spd(rng, d):
    a = rng.normal(0.0, 1.0, (d, d))
    return a @ a.T / d + 0.2 * np.eye(d)


def random_model(rng, t, k, d, spread):
    weights = rng.dirichlet(np.full(k, 2.0))
    means = rng.normal(0.0, spread, (k, d))
    if t == "diag":
        cov = rng.uniform(0.3, 2.0, (k, d))
    elif t == "spherical":
        cov = rng.uniform(0.3, 2.0, k)
    elif t == "full":
        cov = np.array([spd(rng, d) for _ in range(k)])
    else:
        cov = spd(rng, d)
    return weights, means, cov


def full_cov(t, cov, c, d):
    if t == "diag":
        return np.diag(cov[c])
    if t == "spherical":
        return cov[c] * np.eye(d)
    if t == "full":
        return cov[c]
    return cov


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "criteria.json")
    cases = []
    case = 0
    for t in TYPES:
        for k, d, n, spread in SHAPES:
            rng = np.random.default_rng(SEED + case)
            case += 1
            weights, means, cov = random_model(rng, t, k, d, spread)
            labels = rng.choice(k, n, p=weights)
            x = np.empty((n, d))
            for i, c in enumerate(labels):
                x[i] = rng.multivariate_normal(means[c], full_cov(t, cov, c, d))
            gm = GaussianMixture(n_components=k, covariance_type=t, reg_covar=1e-6)
            gm.weights_ = weights
            gm.means_ = means
            gm.covariances_ = cov
            gm.precisions_cholesky_ = _compute_precision_cholesky(cov, t)
            gm.converged_ = True
            gm.n_iter_ = 0
            gm.lower_bound_ = float("nan")
            gm.n_features_in_ = d
            _, log_resp = gm._estimate_log_prob_resp(x)
            entropy = float(np.sum(-log_resp.max(axis=1)))
            bic = float(gm.bic(x))
            cases.append({
                "model": {
                    "covariance_type": t,
                    "weights": weights.tolist(),
                    "means": means.tolist(),
                    "covariances": cov.tolist(),
                },
                "data": x.tolist(),
                "n_parameters": int(gm._n_parameters()),
                "bic": bic,
                "aic": float(gm.aic(x)),
                "score": float(gm.score(x)),
                "classification_entropy": entropy,
                "icl": bic + 2.0 * entropy,
            })
    with open(out, "w") as f:
        json.dump({
            "source": "crates/gmm-core/tests/data/criteria/make_criteria_fixture.py (see its docstring)",
            "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__,
            "cases": cases,
        }, f)
        f.write("\n")


if __name__ == "__main__":
    main()
