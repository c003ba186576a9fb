from typing import Any, Literal, Optional

import numpy as np
import numpy.typing as npt
from numpy.random import RandomState

from ._base import BaseMixture
from ._stats import SuffStats

class BayesianGaussianMixture(BaseMixture):
    weights_: npt.NDArray[np.floating[Any]]
    means_: npt.NDArray[np.floating[Any]]
    covariances_: npt.NDArray[np.floating[Any]]
    precisions_: npt.NDArray[np.floating[Any]]
    precisions_cholesky_: npt.NDArray[np.floating[Any]]
    converged_: bool
    n_iter_: int
    lower_bound_: float
    lower_bounds_: list[float]
    weight_concentration_prior_: float
    weight_concentration_: npt.NDArray[np.float64] | tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    mean_precision_prior_: float
    mean_precision_: npt.NDArray[np.float64]
    mean_prior_: npt.NDArray[np.float64]
    degrees_of_freedom_prior_: float
    degrees_of_freedom_: npt.NDArray[np.float64] | float
    covariance_prior_: npt.NDArray[np.float64] | float
    n_features_in_: int
    feature_names_in_: npt.NDArray[np.object_]
    def __init__(
        self,
        *,
        n_components: int = 1,
        covariance_type: Literal["full", "tied", "diag", "spherical"] = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: Literal["kmeans", "k-means++", "random", "random_from_data"] = "kmeans",
        weight_concentration_prior_type: Literal[
            "dirichlet_process", "dirichlet_distribution"
        ] = "dirichlet_process",
        weight_concentration_prior: Optional[float] = None,
        mean_precision_prior: Optional[float] = None,
        mean_prior: Optional[npt.ArrayLike] = None,
        degrees_of_freedom_prior: Optional[float] = None,
        covariance_prior: Optional[npt.ArrayLike | float] = None,
        random_state: int | RandomState | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        n_threads: Optional[int] = None,
    ) -> None: ...
    def update_from_stats(self, stats: SuffStats) -> "BayesianGaussianMixture": ...
