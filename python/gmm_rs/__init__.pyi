from . import speech as speech
from ._bayesian_mixture import BayesianGaussianMixture as BayesianGaussianMixture
from ._gaussian_mixture import GaussianMixture as GaussianMixture
from ._stats import SuffStats as SuffStats
from ._stats import suff_stats as suff_stats

__version__: str
__all__: list[str]
