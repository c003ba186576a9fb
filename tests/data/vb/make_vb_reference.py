#!/usr/bin/env python3
"""Reference values for variational Bayes (tests/integration/vb.rs) from scikit-learn's
BayesianGaussianMixture (1.9.1), started from given responsibilities.

Usage (from the repository root):  .venv/bin/python tests/data/vb/make_vb_reference.py

Writes, next to this script:
  * sampled.npy -- 600 x 3 samples of a 3-component mixture (numpy default_rng(20261126):
    means N(0, 4^2), diagonal variances U(0.5, 1.5), weights Dirichlet(5, 5, 5));
  * resp_faithful.npy (272 x 4), resp_sampled.npy (600 x 6) -- the initial responsibilities:
    rows of default_rng(1) / default_rng(2) uniform draws, normalised;
  * vb_reference.json -- per case (data x covariance type x prior type): scikit-learn's
    lower bound after each of ITERATIONS iterations and its weights_, means_, covariances_.

scikit-learn is driven through its own private steps, exactly as `fit` runs them but from the
given responsibilities (`fit` would draw its own): `_check_parameters(X)`,
`_initialize(X, resp)`, then per iteration `_e_step`, `_m_step`, `_compute_lower_bound`.
Defaults everywhere (reg_covar 1e-6, priors from the data) except the prior type.
"""
import json
import pathlib

import numpy as np
from sklearn.mixture import BayesianGaussianMixture

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ITERATIONS = 400


def sampled():
    rng = np.random.default_rng(20261126)
    k, d, n = 3, 3, 600
    means = rng.normal(0, 4, (k, d))
    var = rng.uniform(0.5, 1.5, (k, d))
    weights = rng.dirichlet([5.0] * k)
    labels = rng.choice(k, n, p=weights)
    return means[labels] + rng.standard_normal((n, d)) * np.sqrt(var[labels])


def responsibilities(n, k, seed):
    r = np.random.default_rng(seed).uniform(size=(n, k))
    return r / r.sum(axis=1, keepdims=True)


def run(x, resp, cov_type, prior_type):
    k = resp.shape[1]
    bgm = BayesianGaussianMixture(
        n_components=k, covariance_type=cov_type, weight_concentration_prior_type=prior_type
    )
    bgm._check_parameters(x)
    bgm._initialize(x, resp)
    bounds = []
    for _ in range(ITERATIONS):
        log_prob_norm, log_resp = bgm._e_step(x)
        bgm._m_step(x, log_resp)
        bound = np.asarray(bgm._compute_lower_bound(log_resp, log_prob_norm))
        assert bound.size == 1, bound.shape  # tied: a 1-element array
        bounds.append(float(bound.ravel()[0]))
    if prior_type == "dirichlet_process":
        a, b = bgm.weight_concentration_
        tmp = b / (a + b)
        w = a / (a + b) * np.hstack((1, np.cumprod(tmp[:-1])))
        weights = w / w.sum()
    else:
        weights = bgm.weight_concentration_ / bgm.weight_concentration_.sum()
    return {
        "lower_bound": bounds,
        "weights": weights.tolist(),
        "means": bgm.means_.ravel().tolist(),
        "covariances": np.asarray(bgm.covariances_).ravel().tolist(),
    }


def main():
    faithful = np.loadtxt(ROOT / "data" / "faithful.csv", delimiter=",", skiprows=1)
    x2 = sampled()
    np.save(HERE / "sampled.npy", x2)
    r1 = responsibilities(len(faithful), 4, 1)
    r2 = responsibilities(len(x2), 6, 2)
    np.save(HERE / "resp_faithful.npy", r1)
    np.save(HERE / "resp_sampled.npy", r2)
    cases = []
    for name, x, r in [("faithful", faithful, r1), ("sampled", x2, r2)]:
        for cov_type in ("diag", "full", "spherical", "tied"):
            for prior in ("dirichlet_process", "dirichlet_distribution"):
                out = run(x, r, cov_type, prior)
                out.update(data=name, covariance_type=cov_type, prior=prior, k=r.shape[1])
                cases.append(out)
    doc = {"iterations": ITERATIONS, "cases": cases}
    (HERE / "vb_reference.json").write_text(json.dumps(doc) + "\n")


if __name__ == "__main__":
    main()
