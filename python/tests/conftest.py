"""Fixtures shared by the gmm_rs tests: the repository's data files."""

import os

# scikit-learn's array-API estimator check runs only with scipy's array API support on, which
# must be chosen before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def start_arguments(model: dict) -> dict:
    """``weights_init``, ``means_init``, ``precisions_init`` for a model in the repository's
    JSON layout (scikit-learn's shapes)."""
    t = model["covariance_type"]
    cov = np.asarray(model["covariances"], dtype=np.float64)
    if t in ("full", "tied"):
        precisions = np.linalg.inv(cov)
    else:
        precisions = 1.0 / cov
    return {
        "weights_init": np.asarray(model["weights"], dtype=np.float64),
        "means_init": np.asarray(model["means"], dtype=np.float64),
        "precisions_init": precisions,
    }


@pytest.fixture(scope="session")
def headline():
    d = DATA / "headline"
    X = np.load(d / "headline.npy")
    starts = {t: json.loads((d / f"headline_init_{t}.json").read_text()) for t in ("diag", "full")}
    reference = json.loads((d / "headline_reference.json").read_text())
    return X, starts, reference


@pytest.fixture(scope="session")
def small():
    d = DATA / "small"
    X = np.load(d / "data.npy")
    starts = {
        t: json.loads((d / f"init_{t}.json").read_text())
        for t in ("diag", "full", "spherical", "tied")
    }
    return X, starts, np.load(d / "data_weights.npy")


@pytest.fixture(scope="session")
def faithful():
    return np.loadtxt(ROOT / "data" / "faithful.csv", delimiter=",", skiprows=1)
