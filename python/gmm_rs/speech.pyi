from typing import Optional, Sequence

import numpy as np
import numpy.typing as npt

from ._gaussian_mixture import GaussianMixture

Utterances = npt.ArrayLike | Sequence[npt.ArrayLike]

def train_ubm(
    utterances: Utterances,
    n_components: int,
    *,
    iters_per_split: int = 4,
    final_iters: int = 8,
    min_occupancy: float = 10.0,
    min_weight: float = 1e-5,
    remove_low_count: bool = True,
    max_frames: Optional[int] = None,
    reg_covar: float = 1e-6,
    n_threads: Optional[int] = None,
) -> GaussianMixture: ...
def adapt(
    ubm: GaussianMixture,
    utterances: Utterances,
    *,
    relevance: float = 16.0,
    means: bool = True,
    weights: bool = False,
    variances: bool = False,
) -> GaussianMixture: ...
def llr(
    speaker: GaussianMixture,
    ubm: GaussianMixture,
    utterances: Utterances,
    *,
    top_c: Optional[int] = None,
    beam: Optional[float] = None,
) -> npt.NDArray[np.float64]: ...
def baum_welch_stats(
    ubm: GaussianMixture, utterances: Utterances
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
