"""Old Faithful: choose the number of components and the covariance type by BIC, and draw
the chosen mixture's density over the eruptions.

    python examples/python/faithful_bic.py [--out faithful_bic.png]

The script is scikit-learn's model-selection recipe with ``sklearn.mixture`` swapped for
``gmm_rs``; like scikit-learn it picks 2 full-covariance components (BIC 2322.2).
"""

import argparse
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from pathlib import Path  # noqa: E402

from gmm_rs import GaussianMixture  # was: from sklearn.mixture import GaussianMixture

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="faithful_bic.png")
    args = parser.parse_args()
    X = np.loadtxt(ROOT / "data" / "faithful.csv", delimiter=",", skiprows=1)

    table = {}
    for k, covariance_type in itertools.product(range(1, 7), ["spherical", "tied", "diag", "full"]):
        gm = GaussianMixture(k, covariance_type=covariance_type, n_init=5, random_state=0)
        table[(k, covariance_type)] = gm.fit(X).bic(X)
    (k, covariance_type), bic = min(table.items(), key=lambda item: item[1])
    print(f"{'k':>2} " + " ".join(f"{t:>10}" for t in ["spherical", "tied", "diag", "full"]))
    for kk in range(1, 7):
        print(f"{kk:>2} " + " ".join(f"{table[(kk, t)]:10.1f}" for t in ["spherical", "tied", "diag", "full"]))
    print(f"BIC picks k = {k}, {covariance_type} covariances (BIC {bic:.4f})")
    assert (k, covariance_type) == (2, "full") and abs(bic - 2322.2) < 0.1, (k, covariance_type, bic)

    best = GaussianMixture(k, covariance_type=covariance_type, n_init=5, random_state=0).fit(X)
    xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200)
    ys = np.linspace(X[:, 1].min() - 5, X[:, 1].max() + 5, 200)
    gx, gy = np.meshgrid(xs, ys)
    density = np.exp(best.score_samples(np.column_stack([gx.ravel(), gy.ravel()])))

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for t, marker in zip(["spherical", "tied", "diag", "full"], "os^D"):
        left.plot(range(1, 7), [table[(kk, t)] for kk in range(1, 7)], marker=marker, label=t)
    left.set(xlabel="components", ylabel="BIC (lower is better)", title="BIC by model")
    left.legend()
    right.contour(gx, gy, density.reshape(gx.shape), levels=10, cmap="viridis")
    right.scatter(X[:, 0], X[:, 1], s=6, c=best.predict(X), cmap="coolwarm")
    right.scatter(*best.means_.T, marker="x", c="k", s=80)
    right.set(xlabel="eruption (min)", ylabel="waiting (min)",
              title=f"gmm_rs: {k} {covariance_type} components")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
