from typing import Any, Literal, Optional, Sequence

import numpy as np
import numpy.typing as npt
from numpy.random import RandomState

from ._base import BaseMixture
from ._stats import SuffStats

class GaussianMixture(BaseMixture):
    n_components: int
    covariance_type: Literal["full", "tied", "diag", "spherical"]
    tol: float
    reg_covar: float
    max_iter: int
    n_init: int
    init_params: Literal["kmeans", "k-means++", "random", "random_from_data"]
    weights_init: Optional[npt.ArrayLike]
    means_init: Optional[npt.ArrayLike]
    precisions_init: Optional[npt.ArrayLike]
    random_state: int | RandomState | None
    warm_start: bool
    verbose: int
    verbose_interval: int
    n_threads: Optional[int]
    learning_decay: float
    learning_offset: float
    prior: Optional[Literal["mclust"]]
    mean_precision_prior: Optional[float]
    mean_prior: Optional[npt.ArrayLike]
    degrees_of_freedom_prior: Optional[float]
    covariance_prior: Optional[npt.ArrayLike | float]
    weights_: npt.NDArray[np.floating[Any]]
    means_: npt.NDArray[np.floating[Any]]
    covariances_: npt.NDArray[np.floating[Any]]
    precisions_: npt.NDArray[np.floating[Any]]
    precisions_cholesky_: npt.NDArray[np.floating[Any]]
    converged_: bool
    n_iter_: int
    lower_bound_: float
    lower_bounds_: list[float]
    n_features_in_: int
    feature_names_in_: npt.NDArray[np.object_]
    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: Literal["full", "tied", "diag", "spherical"] = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: Literal["kmeans", "k-means++", "random", "random_from_data"] = "kmeans",
        weights_init: Optional[npt.ArrayLike] = None,
        means_init: Optional[npt.ArrayLike] = None,
        precisions_init: Optional[npt.ArrayLike] = None,
        random_state: int | RandomState | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        n_threads: Optional[int] = None,
        learning_decay: float = 0.6,
        learning_offset: float = 2.0,
        prior: Optional[Literal["mclust"]] = None,
        mean_precision_prior: Optional[float] = None,
        mean_prior: Optional[npt.ArrayLike] = None,
        degrees_of_freedom_prior: Optional[float] = None,
        covariance_prior: Optional[npt.ArrayLike | float] = None,
    ) -> None: ...
    def partial_fit(
        self, X: npt.ArrayLike, y: Any = None, sample_weight: Optional[npt.ArrayLike] = None
    ) -> "GaussianMixture": ...
    def bic(self, X: npt.ArrayLike) -> float: ...
    def aic(self, X: npt.ArrayLike) -> float: ...
    def update_from_stats(self, stats: SuffStats) -> "GaussianMixture": ...
