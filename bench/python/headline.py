"""gmm_rs against scikit-learn on the headline fixture, in one Python process.

10 EM iterations (tol=0) on 100,000 x 15 float64 with 30 components, diag and full, both
estimators started from the shared model (``tests/data/headline/``). Prints, per case, the
median and range of the fit times, the speed-up and both final scores (``score(X)``) with
their relative difference.

    target/py-venv/bin/python bench/python/headline.py [--repeats 5] [--sklearn-repeats 3]
                                                       [--threads N]

``--threads N`` gives gmm_rs ``n_threads=N`` and limits scikit-learn's BLAS to N threads
(threadpoolctl); by default both use every core.
"""

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGM
from threadpoolctl import threadpool_limits

import gmm_rs

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "headline"


def start(covariance_type):
    model = json.loads((DATA / f"headline_init_{covariance_type}.json").read_text())
    cov = np.asarray(model["covariances"], dtype=np.float64)
    precisions = np.linalg.inv(cov) if covariance_type == "full" else 1.0 / cov
    return dict(
        weights_init=np.asarray(model["weights"]),
        means_init=np.asarray(model["means"]),
        precisions_init=precisions,
    )


def timed(make, X, repeats):
    times, model = [], None
    for _ in range(repeats):
        model = make()
        t = time.perf_counter()
        model.fit(X)
        times.append(time.perf_counter() - t)
    return times, model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sklearn-repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        threadpool_limits(args.threads)
    X = np.load(DATA / "headline.npy")
    warnings.simplefilter("ignore")
    print("| case | gmm_rs fit, median (min-max) | scikit-learn fit, median (min-max) "
          "| speed-up | gmm_rs score | scikit-learn score | rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for t in ("diag", "full"):
        settings = dict(n_components=30, covariance_type=t, tol=0, max_iter=10, **start(t))
        threads = dict(n_threads=args.threads)
        gmm_rs.GaussianMixture(**settings, **threads).fit(X)  # warm-up
        ours, a = timed(lambda: gmm_rs.GaussianMixture(**settings, **threads), X, args.repeats)
        theirs, b = timed(lambda: SklearnGM(**settings), X, args.sklearn_repeats)
        sa, sb = a.score(X), b.score(X)
        mo, mt = statistics.median(ours), statistics.median(theirs)
        print(
            f"| {t} | {mo * 1e3:.1f} ms ({min(ours) * 1e3:.1f}-{max(ours) * 1e3:.1f}) "
            f"| {mt * 1e3:.0f} ms ({min(theirs) * 1e3:.0f}-{max(theirs) * 1e3:.0f}) "
            f"| **{mt / mo:.1f}x** | {sa:.14f} | {sb:.14f} | {abs(sa - sb) / abs(sb):.1e} |"
        )


if __name__ == "__main__":
    main()
