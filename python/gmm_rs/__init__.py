"""gmm_rs: Gaussian mixture models on gmm's Rust engine.

A drop-in for ``sklearn.mixture`` — change ``from sklearn.mixture import GaussianMixture``
to ``from gmm_rs import GaussianMixture`` — at the speed of gmm's blocked SIMD kernels,
with bit-identical results for any thread count, plus what scikit-learn lacks: sample
weights, ``partial_fit`` (online EM), MAP priors, the GMM-UBM speech recipe
(:mod:`gmm_rs.speech`) and sufficient statistics for distributed engines
(:func:`suff_stats`, :mod:`gmm_rs.dask`).
"""

from ._bayesian_mixture import BayesianGaussianMixture
from ._engine import __version__
from ._gaussian_mixture import GaussianMixture
from ._stats import SuffStats, suff_stats
from . import speech

__all__ = [
    "BayesianGaussianMixture",
    "GaussianMixture",
    "SuffStats",
    "speech",
    "suff_stats",
    "__version__",
]
