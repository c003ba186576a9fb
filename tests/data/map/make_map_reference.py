#!/usr/bin/env python3
"""Reference values for MAP-regularised EM (tests/integration/map_em.rs), computed with numpy
straight from Fraley & Raftery (2007), table 2, and mclust's defaultPrior() -- independently of
the Rust code.

Usage (from the repository root):  .venv/bin/python tests/data/map/make_map_reference.py

Writes tests/data/map/map_reference.json with, per case: the data, the start (a model, or
hard responsibilities), the number of EM iterations, mclust's default prior for the data, and
the MAP parameters after those iterations (reg_covar = 0).

Cases:
  * faithful_<type>: data/faithful.csv (272 x 2), k = 3, start means = rows 0, 100, 200,
    covariances from the data's per-dimension variance (ddof 0), weights 1/3; 8 iterations.
  * degenerate_full / degenerate_diag: d = 5; 12 points of one cluster (default_rng(5)), and 4
    copies of one point (fewer samples than dimensions, all duplicated); k = 2, started from
    the hard labels; maximum likelihood gives the copies a singular covariance. 10 iterations.
"""
import json
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def default_prior(x, g, cov_type):
    n, d = x.shape
    v = np.cov(x, rowvar=False, ddof=1).reshape(d, d)
    fac = (1.0 / g) ** (2.0 / d)
    if cov_type in ("diag", "spherical"):
        scale = [fac * np.trace(v) / d]
    else:
        scale = (fac * v).ravel().tolist()
    return {"shrinkage": 0.01, "mean": x.mean(axis=0).tolist(), "dof": d + 2.0, "scale": scale}


def full_covs(cov_type, covs, k, d):
    if cov_type == "full":
        return np.asarray(covs).reshape(k, d, d)
    if cov_type == "tied":
        return np.repeat(np.asarray(covs).reshape(1, d, d), k, axis=0)
    if cov_type == "diag":
        return np.array([np.diag(c) for c in np.asarray(covs).reshape(k, d)])
    return np.array([np.eye(d) * c for c in np.asarray(covs).reshape(k)])


def log_gauss(x, mean, cov):
    d = x.shape[1]
    l = np.linalg.cholesky(cov)
    z = np.linalg.solve(l, (x - mean).T)
    return -0.5 * d * np.log(2 * np.pi) - np.log(np.diag(l)).sum() - 0.5 * (z * z).sum(axis=0)


def e_step(x, weights, means, covs):
    k = len(weights)
    lp = np.stack([np.log(weights[c]) + log_gauss(x, means[c], covs[c]) for c in range(k)], axis=1)
    m = lp.max(axis=1, keepdims=True)
    return np.exp(lp - m) / np.exp(lp - m).sum(axis=1, keepdims=True)


def map_step(x, r, prior, cov_type):
    """Fraley & Raftery (2007), table 2: VVV (full), EEE (tied), VVI (diag), VII (spherical)."""
    n, d = x.shape
    k = r.shape[1]
    kappa, mu_p, nu = prior["shrinkage"], np.array(prior["mean"]), prior["dof"]
    nk = r.sum(axis=0)
    ybar = (r.T @ x) / nk[:, None]
    means = (nk[:, None] * ybar + kappa * mu_p) / (kappa + nk[:, None])
    a = kappa * nk / (kappa + nk)
    e = ybar - mu_p
    w = [((x - ybar[c]).T * r[:, c]) @ (x - ybar[c]) for c in range(k)]
    if cov_type == "full":
        lam = np.array(prior["scale"]).reshape(d, d)
        covs = np.array([(lam + a[c] * np.outer(e[c], e[c]) + w[c]) / (nu + d + 2 + nk[c])
                         for c in range(k)])
        out = covs.ravel()
    elif cov_type == "tied":
        lam = np.array(prior["scale"]).reshape(d, d)
        tot = lam + sum(a[c] * np.outer(e[c], e[c]) + w[c] for c in range(k))
        out = (tot / (nu + d + 1 + k + n)).ravel()
    elif cov_type == "diag":
        s2 = prior["scale"][0]
        out = np.array([(s2 + a[c] * e[c] ** 2 + np.diag(w[c])) / (nu + nk[c] + 3)
                        for c in range(k)]).ravel()
    else:
        s2 = prior["scale"][0]
        out = np.array([(s2 + a[c] * (e[c] @ e[c]) + np.trace(w[c])) / (nu + (nk[c] + 1) * d + 2)
                        for c in range(k)])
    return nk / n, means, out


def run(x, k, cov_type, weights, means, covs, iters, prior):
    d = x.shape[1]
    for _ in range(iters):
        r = e_step(x, weights, means, full_covs(cov_type, covs, k, d))
        weights, means, covs = map_step(x, r, prior, cov_type)
    return weights, means, covs


def main():
    cases = []
    faithful = np.loadtxt(ROOT / "data" / "faithful.csv", delimiter=",", skiprows=1)
    k, d = 3, 2
    for cov_type in ("full", "tied", "diag", "spherical"):
        var = faithful.var(axis=0)
        start_means = faithful[[0, 100, 200]]
        start_covs = {
            "full": np.array([np.diag(var)] * k).ravel(),
            "tied": np.diag(var).ravel(),
            "diag": np.array([var] * k).ravel(),
            "spherical": np.full(k, var.mean()),
        }[cov_type]
        start_weights = np.full(k, 1.0 / k)
        prior = default_prior(faithful, k, cov_type)
        w, m, c = run(faithful, k, cov_type, start_weights, start_means, start_covs, 8, prior)
        cases.append({
            "name": f"faithful_{cov_type}", "covariance_type": cov_type, "k": k, "d": d,
            "data": faithful.ravel().tolist(), "iterations": 8,
            "start": {"weights": start_weights.tolist(), "means": start_means.ravel().tolist(),
                      "covariances": np.asarray(start_covs).ravel().tolist()},
            "responsibilities": None, "prior": prior,
            "expected": {"weights": w.tolist(), "means": m.ravel().tolist(),
                         "covariances": np.asarray(c).ravel().tolist()},
        })
    rng = np.random.default_rng(5)
    d = 5
    cluster = rng.normal(0.0, 1.0, (12, d))
    copies = np.tile(rng.normal(6.0, 1.0, (1, d)), (4, 1))
    x = np.vstack([cluster, copies])
    labels = np.array([0] * 12 + [1] * 4)
    resp = np.eye(2)[labels]
    for cov_type in ("full", "diag"):
        prior = default_prior(x, 2, cov_type)
        w, m, c = map_step(x, resp, prior, cov_type)
        w, m, c = run(x, 2, cov_type, w, m, c, 10, prior)
        cases.append({
            "name": f"degenerate_{cov_type}", "covariance_type": cov_type, "k": 2, "d": d,
            "data": x.ravel().tolist(), "iterations": 10, "start": None,
            "responsibilities": resp.ravel().tolist(), "prior": prior,
            "expected": {"weights": w.tolist(), "means": m.ravel().tolist(),
                         "covariances": np.asarray(c).ravel().tolist()},
        })
    (HERE / "map_reference.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
