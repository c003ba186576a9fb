"""Type stubs of the compiled engine (crates/gmm-py). Models travel as
``(covariance_type, weights, means, covariances)`` with contiguous float64 arrays; samples as
2-D float32/float64 arrays, C- or Fortran-ordered, read in place."""

from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

ModelArg = Tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
Samples = npt.NDArray[np.floating[Any]]

__version__: str

def fit(
    x: Samples,
    sample_weight: Optional[npt.NDArray[np.float64]],
    *,
    n_components: int,
    covariance_type: str,
    tol: float,
    reg_covar: float,
    max_iter: int,
    n_init: int,
    init_params: str,
    seed: int,
    n_threads: Optional[int] = None,
    start: Optional[ModelArg] = None,
    weights_init: Optional[Sequence[float]] = None,
    means_init: Optional[Sequence[float]] = None,
    covariances_init: Optional[Sequence[float]] = None,
    rule: str = "ml",
    weight_prior: Optional[str] = None,
    weight_concentration: Optional[float] = None,
    mean_precision: Optional[float] = None,
    prior_mean: Optional[Sequence[float]] = None,
    prior_dof: Optional[float] = None,
    prior_covariance: Optional[Sequence[float]] = None,
    initial_lower_bound: float = ...,
    on_iteration: Optional[Callable[[int, int, float, float], None]] = None,
) -> dict[str, Any]: ...
def score_samples(x: Samples, model: ModelArg, n_threads: Optional[int] = None) -> Samples: ...
def predict_proba(x: Samples, model: ModelArg, n_threads: Optional[int] = None) -> Samples: ...
def predict(
    x: Samples, model: ModelArg, n_threads: Optional[int] = None
) -> npt.NDArray[np.int64]: ...
def sample(
    model: ModelArg, n: int, seed: int, single: bool
) -> Tuple[Samples, npt.NDArray[np.int64]]: ...
def suff_stats(
    x: Samples,
    model: ModelArg,
    sample_weight: Optional[npt.NDArray[np.float64]] = None,
    n_threads: Optional[int] = None,
) -> bytes: ...
def stats_merge(a: bytes, b: bytes) -> bytes: ...
def stats_info(bytes: bytes) -> dict[str, Any]: ...
def update_from_stats(
    stats: bytes,
    model: ModelArg,
    rule: str = "ml",
    reg_covar: float = 1e-6,
    prior: Optional[dict[str, Any]] = None,
) -> Tuple[ModelArg, Optional[dict[str, Any]]]: ...
def online_step(
    x: Samples,
    model: ModelArg,
    running: Optional[bytes],
    steps: int,
    represented: Optional[float],
    kappa: float,
    t0: float,
    sample_weight: Optional[npt.NDArray[np.float64]] = None,
    rule: str = "ml",
    reg_covar: float = 1e-6,
    prior: Optional[dict[str, Any]] = None,
    n_threads: Optional[int] = None,
) -> Tuple[ModelArg, bytes, int, float, float]: ...
def online_reference(
    model: ModelArg, batches: Sequence[Samples], kappa: float, t0: float, reg_covar: float = 1e-6
) -> ModelArg: ...
def train_ubm(
    x: Samples,
    n_components: int,
    iters_per_split: int = 4,
    final_iters: int = 8,
    min_occupancy: float = 10.0,
    min_weight: float = 1e-5,
    remove_low_count: bool = True,
    max_frames: Optional[int] = None,
    reg_covar: float = 1e-6,
    n_threads: Optional[int] = None,
) -> Tuple[ModelArg, dict[str, Any]]: ...
def adapt(
    ubm: ModelArg,
    x: Samples,
    relevance: float = 16.0,
    means: bool = True,
    weights: bool = False,
    variances: bool = False,
) -> ModelArg: ...
def llr(
    speaker: ModelArg,
    ubm: ModelArg,
    x: Samples,
    top_c: Optional[int] = None,
    beam: Optional[float] = None,
) -> float: ...
def baum_welch_stats(ubm: ModelArg, x: Samples) -> Tuple[Samples, Samples, float]: ...
