"""The GMM-UBM speech recipe (Reynolds et al. 2000) on gmm's engine.

Utterances are lists of 2-D arrays of frames (``n_frames x n_features``, float32 or float64,
e.g. MFCCs); a single 2-D array is one utterance.

* :func:`train_ubm` — a diagonal universal background model by component splitting (double
  the components each round, a few EM iterations per round; low-count components handled as
  Kaldi does);
* :func:`adapt` — a speaker model by relevance-MAP adaptation of the UBM's means (and
  optionally weights and variances);
* :func:`llr` — the average per-frame log-likelihood ratio of a speaker model against the
  UBM, exact or with top-C Gaussian selection (the ``top_c`` best UBM components of each frame,
  optionally only those within ``beam`` nats of the best);
* :func:`baum_welch_stats` — zeroth- and centred first-order statistics per utterance (what
  i-vector extractors take).

The models are :class:`gmm_rs.GaussianMixture` instances, so they score, predict and pickle
like any other.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.utils.validation import check_array

from . import _engine
from ._base import FLOAT_DTYPES, in_place, model_arg
from ._gaussian_mixture import GaussianMixture


def _utterances(utterances) -> list[np.ndarray]:
    if isinstance(utterances, np.ndarray) and utterances.ndim == 2:
        utterances = [utterances]
    out = [in_place(check_array(u, dtype=FLOAT_DTYPES)) for u in utterances]
    if not out:
        raise ValueError("no utterances: give at least one array of frames")
    d = out[0].shape[1]
    if any(u.shape[1] != d for u in out):
        raise ValueError("every utterance must have the same number of features")
    if any(u.dtype != out[0].dtype for u in out):
        out = [u.astype(np.float64) for u in out]
    return out


def _frames(utterances) -> np.ndarray:
    parts = _utterances(utterances)
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def _model(model: GaussianMixture) -> tuple:
    return model_arg(model.covariance_type, model.weights_, model.means_, model.covariances_)


def _estimator(model: tuple, dtype, **fitted) -> GaussianMixture:
    k = model[1].shape[0]
    gm = GaussianMixture(n_components=k, covariance_type=model[0])
    gm._set_gaussian_attributes(model, dtype)
    gm.n_features_in_ = gm.means_.shape[1]
    gm.converged_ = True
    gm.n_iter_ = 0
    gm.lower_bound_ = float("-inf")
    gm.lower_bounds_ = []
    for name, value in fitted.items():
        setattr(gm, name, value)
    return gm


def train_ubm(
    utterances,
    n_components: int,
    *,
    iters_per_split: int = 4,
    final_iters: int = 8,
    min_occupancy: float = 10.0,
    min_weight: float = 1e-5,
    remove_low_count: bool = True,
    max_frames: int | None = None,
    reg_covar: float = 1e-6,
    n_threads: int | None = None,
) -> GaussianMixture:
    """Train a diagonal universal background model by component splitting.

    Parameters
    ----------
    utterances : list of array-like of shape (n_frames, n_features)
        Frames of every utterance (pooled).
    n_components : int
        Target number of Gaussians (low-count ones may be removed at the end).
    iters_per_split : int, default=4
        EM iterations after every split.
    final_iters : int, default=8
        EM iterations at the final size.
    min_occupancy : float, default=10.0
        Occupancy below which a component keeps its parameters (Kaldi's rule).
    min_weight : float, default=1e-5
        Weight below which a component keeps its parameters.
    remove_low_count : bool, default=True
        Remove low-count components after the last iteration.
    max_frames : int, default=None
        Use about this many frames (every ``ceil(n / max_frames)``-th one).
    reg_covar : float, default=1e-6
        Added to every variance in every M-step.
    n_threads : int, default=None
        Threads of the engine; results do not depend on it.

    Returns
    -------
    ubm : GaussianMixture
        The UBM (``covariance_type='diag'``), with ``removed_components_`` and
        ``frames_used_``.
    """
    X = _frames(utterances)
    model, report = _engine.train_ubm(
        X,
        int(n_components),
        iters_per_split=iters_per_split,
        final_iters=final_iters,
        min_occupancy=min_occupancy,
        min_weight=min_weight,
        remove_low_count=remove_low_count,
        max_frames=max_frames,
        reg_covar=reg_covar,
        n_threads=n_threads,
    )
    return _estimator(
        model,
        X.dtype,
        removed_components_=report["removed"],
        frames_used_=report["frames_used"],
    )


def adapt(
    ubm: GaussianMixture,
    utterances,
    *,
    relevance: float = 16.0,
    means: bool = True,
    weights: bool = False,
    variances: bool = False,
) -> GaussianMixture:
    """MAP-adapt a UBM to a speaker's frames (relevance factor).

    Parameters
    ----------
    ubm : GaussianMixture
        The universal background model.
    utterances : list of array-like of shape (n_frames, n_features)
        The speaker's frames.
    relevance : float, default=16.0
        How many frames a component must see before its own data and the UBM weigh equally.
    means, weights, variances : bool
        Which parameters to adapt (default: means only).

    Returns
    -------
    speaker : GaussianMixture
        The adapted model.
    """
    X = _frames(utterances)
    model = _engine.adapt(
        _model(ubm), X, relevance=relevance, means=means, weights=weights, variances=variances
    )
    return _estimator(model, X.dtype)


def llr(
    speaker: GaussianMixture,
    ubm: GaussianMixture,
    utterances,
    *,
    top_c: int | None = None,
    beam: float | None = None,
) -> np.ndarray:
    """Average per-frame log-likelihood ratio of each utterance, speaker against UBM.

    Parameters
    ----------
    speaker, ubm : GaussianMixture
        The speaker model and the UBM.
    utterances : list of array-like of shape (n_frames, n_features)
        The utterances to score.
    top_c : int, default=None
        None scores exactly; otherwise both models are evaluated on each frame's ``top_c``
        best UBM components only (Gaussian selection).
    beam : float, default=None
        With ``top_c``: keep only the selected components within ``beam`` nats of the
        frame's best (``top_c=16, beam=8`` is accurate and fast on MFCCs).

    Returns
    -------
    llr : ndarray of shape (n_utterances,)
    """
    spk, bg = _model(speaker), _model(ubm)
    return np.array(
        [_engine.llr(spk, bg, u, top_c=top_c, beam=beam) for u in _utterances(utterances)]
    )


def baum_welch_stats(ubm: GaussianMixture, utterances) -> tuple[np.ndarray, np.ndarray]:
    """Zeroth- and centred first-order Baum-Welch statistics of every utterance.

    Parameters
    ----------
    ubm : GaussianMixture
        The universal background model.
    utterances : list of array-like of shape (n_frames, n_features)

    Returns
    -------
    zeroth : ndarray of shape (n_utterances, n_components)
        ``N_k = sum_t gamma_tk``.
    first : ndarray of shape (n_utterances, n_components, n_features)
        ``F_k = sum_t gamma_tk (x_t - mu_k)``.
    """
    bg = _model(ubm)
    k, d = ubm.means_.shape
    zeroth, first = [], []
    for u in _utterances(utterances):
        n, f, _ = _engine.baum_welch_stats(bg, u)
        zeroth.append(n)
        first.append(f.reshape(k, d))
    return np.stack(zeroth), np.stack(first)


__all__: Sequence[str] = ["train_ubm", "adapt", "llr", "baum_welch_stats"]
