from typing import Any, Optional

from ._gaussian_mixture import GaussianMixture
from ._stats import SuffStats

def block_stats(model: Any, X: Any, sample_weight: Any = None) -> list[SuffStats]: ...
def fit(
    model: GaussianMixture,
    X: Any,
    sample_weight: Any = None,
    *,
    max_iter: Optional[int] = None,
    tol: Optional[float] = None,
    init_rows: int = 100_000,
) -> GaussianMixture: ...
