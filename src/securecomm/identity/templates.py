"""Synthetic biometric templates: a seeded, vectorised capture model.

Nothing here is a real biometric. The model stands in for a fingerprint feature extractor that
maps a capture to a fixed-length embedding compared by cosine similarity:

* every identity ``i`` has a latent unit vector ``z_i`` drawn uniformly on the sphere of
  dimension ``dim`` (default 64);
* a *capture* of ``i`` is ``normalize(z_i + sigma * g)`` with ``g`` standard normal noise. Each
  capture draws its own ``sigma`` from a log-normal around ``sigma`` (press, moisture, placement
  vary); a fraction ``poor_rate`` of captures are *poor quality*: their ``sigma`` is multiplied by
  ``poor_sigma_factor`` (smudged, partial, rolled badly).

Calibration (measured by :func:`similarity_profile` on 50,000 identities, defaults): two
good-quality captures of the same identity score 0.86-0.97 (5th-95th percentile, median 0.93);
when either capture is poor the median falls to 0.70 (5th-95th: 0.48-0.85). Two different
identities score ``0 +/- 0.125`` (the standard deviation of the cosine of two random directions
in 64-d is ``1/sqrt(64)``; 1st-99th percentile -0.29..0.29), i.e. "near 0 +/- 0.15". Latents are
uniform on the sphere: the hardest case for partition-based ANN indexes (no cluster structure),
which is deliberate -- real template sets are at least this hard to partition.

Every capture carries a *quality score* 0-100 (like NFIQ 2): ``100 * exp(-1.5 * dim * sigma^2)``
plus measurement noise. It predicts, imperfectly, how well the capture will match: good captures
score 74-99 (5th-95th, median 90), poor ones 3-63 (median 28). :data:`DEFAULT_MIN_QUALITY` (40)
is the level below which a template is not "usable" and the booking falls back to biographic
linkage; about 70% of poor captures fall below it and almost no good one does.

Determinism and memory: identity ``i``'s latent depends only on ``(seed, i)`` and its capture in
session ``s`` only on ``(seed, s, i)``, whatever the chunking: values are generated per fixed
block of :data:`BLOCK` identities from a seed derived from ``(seed, kind, session, block)``.
:meth:`TemplateModel.iter_captures` walks ``[start, stop)`` in chunks, so 10 million identities
never need more than one chunk in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BLOCK",
    "DEFAULT_MIN_QUALITY",
    "Captures",
    "TemplateModel",
    "similarity_profile",
    "usable_template",
]

BLOCK = 4096
"""Identities per generation block (the unit of determinism)."""

DEFAULT_MIN_QUALITY = 40
"""Quality below which a capture is not a usable template (routes to biographic linkage)."""

_LATENT = 0
_CAPTURE = 1


@dataclass(frozen=True)
class Captures:
    """A batch of captures: row ``j`` is a capture of identity ``ids[j]``."""

    ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float32 (n, dim), unit norm
    quality: np.ndarray  # uint8 (n,), 0-100
    poor: np.ndarray  # bool (n,), drawn as a poor-quality capture (ground truth)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


class TemplateModel:
    """Seeded synthetic template generator (see the module docstring for the model)."""

    def __init__(
        self,
        dim: int = 64,
        *,
        seed: int = 0,
        sigma: float = 0.033,
        sigma_spread: float = 0.3,
        poor_rate: float = 0.03,
        poor_sigma_factor: float = 3.5,
        quality_noise: float = 4.0,
    ) -> None:
        if not isinstance(dim, int | np.integer) or dim < 2:
            raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
        if not (sigma > 0 and np.isfinite(sigma)):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}")
        if not (0 <= sigma_spread < 2):
            raise ValueError(f"sigma_spread must be in [0, 2), got {sigma_spread!r}")
        if not (0 <= poor_rate <= 1):
            raise ValueError(f"poor_rate must be in [0, 1], got {poor_rate!r}")
        if not (poor_sigma_factor >= 1):
            raise ValueError(f"poor_sigma_factor must be >= 1, got {poor_sigma_factor!r}")
        if not (quality_noise >= 0):
            raise ValueError(f"quality_noise must be >= 0, got {quality_noise!r}")
        self.dim = int(dim)
        self.seed = int(seed)
        self.sigma = float(sigma)
        self.sigma_spread = float(sigma_spread)
        self.poor_rate = float(poor_rate)
        self.poor_sigma_factor = float(poor_sigma_factor)
        self.quality_noise = float(quality_noise)

    def __repr__(self) -> str:
        return (
            f"TemplateModel(dim={self.dim}, seed={self.seed}, sigma={self.sigma}, "
            f"sigma_spread={self.sigma_spread}, poor_rate={self.poor_rate}, "
            f"poor_sigma_factor={self.poor_sigma_factor})"
        )

    # -- generation per block -------------------------------------------------------------
    def _rng(self, kind: int, session: int, block: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, kind, session, block]))

    def _block_latents(self, block: int) -> np.ndarray:
        z = self._rng(_LATENT, 0, block).standard_normal((BLOCK, self.dim), dtype=np.float32)
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        return z

    def _block_captures(self, block: int, session: int) -> tuple[np.ndarray, ...]:
        rng = self._rng(_CAPTURE, session, block)
        poor = rng.random(BLOCK) < self.poor_rate
        sig = self.sigma * np.exp(self.sigma_spread * rng.standard_normal(BLOCK))
        sig[poor] *= self.poor_sigma_factor
        noise = rng.standard_normal((BLOCK, self.dim), dtype=np.float32)
        v = self._block_latents(block)
        v += noise * sig[:, None].astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        q = 100.0 * np.exp(-1.5 * self.dim * sig**2)
        q += self.quality_noise * rng.standard_normal(BLOCK)
        quality = np.clip(np.rint(q), 0, 100).astype(np.uint8)
        return v, quality, poor

    # -- public API -----------------------------------------------------------------------
    def latents(self, ids: np.ndarray) -> np.ndarray:
        """The latent unit vectors of ``ids`` (float32, shape ``(len(ids), dim)``)."""
        ids = _as_ids(ids)
        out = np.empty((ids.shape[0], self.dim), dtype=np.float32)
        blocks = ids // BLOCK
        for b in np.unique(blocks):
            rows = np.flatnonzero(blocks == b)
            out[rows] = self._block_latents(int(b))[ids[rows] - b * BLOCK]
        return out

    def captures(self, ids: np.ndarray, session: int = 0) -> Captures:
        """One capture of each of ``ids`` in ``session`` (session 0 = enrolment)."""
        ids = _as_ids(ids)
        if not isinstance(session, int | np.integer) or session < 0:
            raise ValueError(f"session must be a non-negative integer, got {session!r}")
        n = ids.shape[0]
        vec = np.empty((n, self.dim), dtype=np.float32)
        quality = np.empty(n, dtype=np.uint8)
        poor = np.empty(n, dtype=bool)
        blocks = ids // BLOCK
        for b in np.unique(blocks):
            rows = np.flatnonzero(blocks == b)
            local = ids[rows] - b * BLOCK
            v, q, p = self._block_captures(int(b), int(session))
            vec[rows], quality[rows], poor[rows] = v[local], q[local], p[local]
        return Captures(ids=ids, vectors=vec, quality=quality, poor=poor)

    def iter_captures(
        self, start: int, stop: int, *, session: int = 0, chunk_size: int = 262_144
    ) -> Iterator[Captures]:
        """Captures of identities ``start .. stop-1`` in chunks of at most ``chunk_size``."""
        if start < 0 or stop < start:
            raise ValueError(f"need 0 <= start <= stop, got start={start}, stop={stop}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        for lo in range(start, stop, chunk_size):
            yield self.captures(np.arange(lo, min(lo + chunk_size, stop), dtype=np.int64), session)

    def iter_enrolment(
        self, n: int, *, chunk_size: int = 262_144
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(ids, vectors)`` chunks of the session-0 captures of identities ``0 .. n-1``."""
        for c in self.iter_captures(0, n, session=0, chunk_size=chunk_size):
            yield c.ids, c.vectors


def usable_template(
    quality: np.ndarray | int, min_quality: int = DEFAULT_MIN_QUALITY
) -> np.ndarray:
    """True where a capture's quality is high enough for biometric search."""
    return np.asarray(quality) >= min_quality


def similarity_profile(
    model: TemplateModel, n: int = 20_000, *, start: int = 0
) -> dict[str, dict[str, float]]:
    """Percentiles of genuine (session 0 vs 1, same identity) and impostor (different
    identities) cosine similarities and of quality, to check the calibration."""
    ids = np.arange(start, start + n, dtype=np.int64)
    a = model.captures(ids, 0)
    b = model.captures(ids, 1)
    genuine = np.einsum("ij,ij->i", a.vectors, b.vectors)
    good = ~(a.poor | b.poor)
    impostor = np.einsum("ij,ij->i", a.vectors, np.roll(b.vectors, 1, axis=0))
    pct = [1, 5, 50, 95, 99]

    def summary(x: np.ndarray) -> dict[str, float]:
        out = {f"p{p}": float(v) for p, v in zip(pct, np.percentile(x, pct), strict=True)}
        out["mean"] = float(np.mean(x))
        out["std"] = float(np.std(x))
        return out

    return {
        "genuine_all": summary(genuine),
        "genuine_good": summary(genuine[good]),
        "genuine_poor": summary(genuine[~good]) if (~good).any() else {},
        "impostor": summary(impostor),
        "quality_good": summary(a.quality[~a.poor].astype(float)),
        "quality_poor": summary(a.quality[a.poor].astype(float)) if a.poor.any() else {},
    }


def _as_ids(ids: np.ndarray) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and arr.min() < 0:
        raise ValueError("ids must be non-negative")
    return arr
