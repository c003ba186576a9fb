#!/usr/bin/env python3
"""Time scikit-learn's GaussianMixture on the headline fixture.

Usage (from the repository root):

    .venv/bin/python bench/peers/sklearn_headline.py [BENCH_DIR] [REPEATS] [--cases diag,full]
        [--repeats N] [--first-run N]

BENCH_DIR defaults to ../shared/bench relative to the repository root; REPEATS to 5.
For each case (diag, full) and each run it fits GaussianMixture(n_components=k, tol=0,
reg_covar=1e-6, max_iter=10) from headline_init_<case>.json and prints one JSON line on stdout:

    {"impl": "sklearn", "case": "diag", "run": 0, "seconds": t, "per_iter_ms": ms,
     "final_ll": score, "n_iter": 10}

per_iter_ms = seconds / n_iter_. Only `fit` is timed (not loading, not `score`). The BLAS/OpenMP libraries that threadpoolctl
sees are printed on stderr. For benchmarking, run it with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset in that command only, e.g.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/peers/sklearn_headline.py
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

MAX_ITER = 10
REG_COVAR = 1e-6


def precisions_of(cov, cov_type):
    if cov_type in ("diag", "spherical"):
        return 1.0 / cov
    if cov_type == "full":
        return np.linalg.inv(cov)  # batched over the k matrices
    if cov_type == "tied":
        return np.linalg.inv(cov)
    raise ValueError(cov_type)


def report_blas():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print("threadpoolctl not installed: BLAS kernel unknown", file=sys.stderr)
        return
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                          "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    print(f"env: {json.dumps(env)}", file=sys.stderr)
    for info in threadpool_info():
        keys = ("user_api", "internal_api", "version", "architecture", "threading_layer",
                "num_threads", "filepath")
        print("threadpoolctl: " + json.dumps({k: info.get(k) for k in keys}), file=sys.stderr)


def main():
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", nargs="?", default=os.path.join(repo_root, "..", "shared", "bench"))
    p.add_argument("repeats", nargs="?", type=int, default=5)
    p.add_argument("-r", "--repeats", dest="repeats_opt", type=int, default=None,
                   help="same as the REPEATS argument")
    p.add_argument("--cases", default="diag,full")
    p.add_argument("--first-run", type=int, default=0,
                   help="number of the first run printed (for interleaved rounds)")
    args = p.parse_args()
    if args.repeats_opt is not None:
        args.repeats = args.repeats_opt

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    x = np.load(os.path.join(args.bench, "headline.npy"))
    print(f"sklearn {sklearn.__version__}, numpy {np.__version__}, data {x.shape}",
          file=sys.stderr)
    # touch the BLAS once so that threadpoolctl sees the loaded libraries
    _ = x[:100].T @ x[:100]
    report_blas()

    for case in args.cases.split(","):
        with open(os.path.join(args.bench, f"headline_init_{case}.json")) as f:
            m = json.load(f)
        t = m["covariance_type"]
        weights = np.asarray(m["weights"], dtype=float)
        means = np.asarray(m["means"], dtype=float)
        prec = precisions_of(np.asarray(m["covariances"], dtype=float), t)
        for r in range(args.first_run, args.first_run + args.repeats):
            gm = GaussianMixture(n_components=len(weights), covariance_type=t, tol=0.0,
                                 reg_covar=REG_COVAR, max_iter=MAX_ITER, weights_init=weights,
                                 means_init=means, precisions_init=prec)
            t0 = time.perf_counter()
            gm.fit(x)
            secs = time.perf_counter() - t0
            rec = {"impl": "sklearn", "case": case, "run": r, "seconds": secs,
                   "per_iter_ms": 1000.0 * secs / gm.n_iter_, "final_ll": float(gm.score(x)),
                   "n_iter": int(gm.n_iter_)}
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
