#!/usr/bin/env python3
"""scikit-learn's BIC choice on Old Faithful (data/faithful.csv), for comparison with
`gmm select data/faithful.csv -k 1..6 --n-init 5`.

Usage (from the repository root):

    /work/main/.venv/bin/python tests/data/criteria/faithful_select.py

Fits scikit-learn 1.9.1 GaussianMixture(n_components=k, covariance_type=t, n_init=5,
reg_covar=1e-6, tol=1e-3, max_iter=100, random_state=0) for k = 1..6 and the four covariance
types, prints the table (BIC, AIC, mean log-likelihood) and the choice (lowest BIC; ties to fewer
parameters), and writes tests/data/criteria/faithful_sklearn.json.
"""

import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

TYPES = ("diag", "full", "spherical", "tied")
KS = range(1, 7)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    x = np.loadtxt(os.path.join(root, "data", "faithful.csv"), delimiter=",", skiprows=1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = []
    print(f"{'k':>3} {'cov':<9} {'n_params':>8} {'bic':>14} {'aic':>14} {'score':>12}")
    for k in KS:
        for t in TYPES:
            gm = GaussianMixture(n_components=k, covariance_type=t, n_init=5, reg_covar=1e-6,
                                 tol=1e-3, max_iter=100, random_state=0).fit(x)
            row = {"n_components": k, "covariance_type": t,
                   "n_parameters": int(gm._n_parameters()),
                   "bic": float(gm.bic(x)), "aic": float(gm.aic(x)),
                   "score": float(gm.score(x)), "converged": bool(gm.converged_)}
            rows.append(row)
            print(f"{k:>3} {t:<9} {row['n_parameters']:>8} {row['bic']:>14.6f} "
                  f"{row['aic']:>14.6f} {row['score']:>12.6f}")
    best = min(rows, key=lambda r: (r["bic"], r["n_parameters"]))
    print(f"best by bic: k = {best['n_components']} {best['covariance_type']} "
          f"(bic = {best['bic']:.6f})")
    with open(os.path.join(here, "faithful_sklearn.json"), "w") as f:
        json.dump({"source": "tests/data/criteria/faithful_select.py",
                   "sklearn_version": sklearn.__version__,
                   "best": {"n_components": best["n_components"],
                            "covariance_type": best["covariance_type"],
                            "bic": best["bic"]},
                   "table": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
