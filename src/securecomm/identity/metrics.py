"""Biometric error rates: FMR / FNMR at a threshold, and thresholds for a target FMR.

Conventions (ISO/IEC 19795-1): a comparison *matches* when ``score >= threshold``.

* **FMR** (false match rate) -- the fraction of impostor comparisons (different identities)
  that match.
* **FNMR** (false non-match rate) -- the fraction of genuine comparisons (same identity) that
  do not match.

In a 1:N search the per-search rates are what an operator sees:

* **FPIR** (false positive identification rate) -- the fraction of searches of people *not* in
  the gallery whose best candidate scores ``>= threshold``. For small rates,
  ``FPIR ~= N * FMR``: with 10 million enrolled identities a per-comparison FMR of 1e-6 would
  give ~10 false candidates per search, so 1:N thresholds must sit far further out in the
  impostor tail than 1:1 thresholds.
* **FNIR** (false negative identification rate) -- the fraction of searches of enrolled people
  whose own identity is not returned at rank 1 with ``score >= threshold``.

:func:`threshold_for_fmr` reads a threshold off a sample of impostor scores (needs at least
``1 / target`` scores to resolve ``target``). :func:`tail_fmr_from_topk` reaches much further
into the tail without extrapolation: the top-``k`` scores of impostor searches against a gallery
of ``N`` contain *every* impostor comparison above the lowest retained score, so below that
truncation the count of comparisons ``>= t`` is exact out of ``n_searches * N`` comparisons
(with exact search; ANN search can only miss some, so the estimate is then a lower bound).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "ErrorRates",
    "error_rates",
    "identification_rates",
    "tail_fmr_from_topk",
    "threshold_for_fmr",
]


@dataclass(frozen=True)
class ErrorRates:
    threshold: float
    fmr: float
    fnmr: float
    n_genuine: int
    n_impostor: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scores(name: str, scores: Any, *, allow_empty: bool = False) -> np.ndarray:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: need at least one score")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite scores")
    return arr


def _threshold(threshold: Any) -> float:
    t = float(threshold)
    if not np.isfinite(t):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    return t


def error_rates(genuine: Any, impostor: Any, threshold: float) -> ErrorRates:
    """FMR and FNMR at ``threshold`` (match iff ``score >= threshold``)."""
    g = _scores("genuine", genuine)
    i = _scores("impostor", impostor)
    t = _threshold(threshold)
    return ErrorRates(
        threshold=t,
        fmr=float(np.count_nonzero(i >= t) / i.size),
        fnmr=float(np.count_nonzero(g < t) / g.size),
        n_genuine=int(g.size),
        n_impostor=int(i.size),
    )


def threshold_for_fmr(impostor: Any, target_fmr: float) -> float:
    """The lowest threshold whose empirical FMR on ``impostor`` is ``<= target_fmr``.

    Raises ``ValueError`` when the sample is too small to resolve the target (fewer than
    ``ceil(1 / target_fmr)`` scores): the answer would be an extrapolation, not a measurement.
    Use :func:`tail_fmr_from_topk` on 1:N search results for far-tail targets.
    """
    i = _scores("impostor", impostor)
    if not (0 < target_fmr < 1):
        raise ValueError(f"target_fmr must be in (0, 1), got {target_fmr!r}")
    n = i.size
    needed = int(np.ceil(1.0 / target_fmr))
    if n < needed:
        raise ValueError(
            f"impostor has {n} scores; resolving target_fmr={target_fmr:g} needs at least "
            f"{needed} (use tail_fmr_from_topk on 1:N search scores for the far tail)"
        )
    allowed = int(np.floor(target_fmr * n))  # impostor scores allowed at or above t
    s = np.sort(i)[::-1]
    # t just above the (allowed+1)-th highest score: exactly `allowed` scores are >= t
    # unless ties; step to the next representable float above that score.
    return float(np.nextafter(s[allowed], np.inf))


def tail_fmr_from_topk(
    topk_scores: Any, gallery_size: int, thresholds: Any
) -> dict[str, np.ndarray | float]:
    """Exact per-comparison FMR in the far tail from 1:N impostor search results.

    ``topk_scores`` has shape ``(n_searches, k)``: the ``k`` best scores of searches of people
    not in a gallery of ``gallery_size`` identities. For each threshold ``t`` above
    ``truncation`` (the highest k-th score over all searches), every impostor comparison
    ``>= t`` is among the retained scores, so ``FMR(t) = count / (n_searches * gallery_size)``.
    Thresholds at or below the truncation get NaN.
    """
    s = np.asarray(topk_scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
        raise ValueError(f"topk_scores must have shape (n_searches, k), got {s.shape}")
    if gallery_size < s.shape[1]:
        raise ValueError(f"gallery_size ({gallery_size}) is smaller than k ({s.shape[1]})")
    s = np.where(np.isfinite(s), s, -np.inf)  # missing results (-inf) are below every t
    t = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    truncation = float(np.max(s[:, -1]))
    total = s.shape[0] * float(gallery_size)
    flat = np.sort(s.reshape(-1))
    counts = flat.size - np.searchsorted(flat, t, side="left")
    fmr = np.where(t > truncation, counts / total, np.nan)
    return {"thresholds": t, "fmr": fmr, "counts": counts, "truncation": truncation}


def identification_rates(
    true_ids: Any,
    top_ids: Any,
    top_scores: Any,
    threshold: float,
    enrolled: Any,
) -> dict[str, float]:
    """FNIR over enrolled searches and FPIR over non-enrolled searches at ``threshold``.

    ``top_ids`` / ``top_scores`` are the rank-1 results; ``enrolled[j]`` says whether the person
    searched in row ``j`` is in the gallery (then ``true_ids[j]`` is their identity).
    """
    tid = np.asarray(true_ids)
    ids = np.asarray(top_ids)
    sc = np.asarray(top_scores, dtype=np.float64)
    en = np.asarray(enrolled, dtype=bool)
    t = _threshold(threshold)
    if not (tid.shape == ids.shape == sc.shape == en.shape) or tid.ndim != 1:
        raise ValueError("true_ids, top_ids, top_scores and enrolled must be 1-D, same length")
    hit = (ids == tid) & (sc >= t)
    n_en, n_non = int(en.sum()), int((~en).sum())
    return {
        "threshold": t,
        "fnir": float(np.count_nonzero(en & ~hit) / n_en) if n_en else float("nan"),
        "fpir": float(np.count_nonzero(~en & (sc >= t)) / n_non) if n_non else float("nan"),
        "n_enrolled": n_en,
        "n_not_enrolled": n_non,
    }
