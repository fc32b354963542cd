"""1:N biometric search: a persisted faiss gallery of identity templates and a decision policy.

``BiometricGallery`` holds one template per identity (int64 identity key) and answers
"which enrolled identities are closest to this capture?" by inner product on L2-normalised
vectors, i.e. cosine similarity. Inputs are plain numpy arrays (or an iterable of
``(ids, vectors)`` chunks for :meth:`BiometricGallery.rebuild`), so the gallery does not depend
on the database layer: the store streams its templates in, the gallery is a rebuildable cache.

Index choice (measured by ``benchmarks/biometric_search.py`` on the synthetic capture model of
:mod:`securecomm.identity.templates`, 2 cores): see :meth:`IndexParams.for_gallery_size` for the
chosen parameters and the numbers behind them.

Decision policy (:class:`DecisionPolicy`): the best candidate's score ``s``

* ``s >= match_threshold`` and no second identity also above it -> ``match``;
* ``verification_band_low <= s < match_threshold`` (or two identities above the match
  threshold) -> ``verify``: a human examiner must compare the prints; a ``verify`` result
  carries ``actionable=False`` and never triggers an action by itself;
* below the band -> ``no_match``.

Persistence: :meth:`BiometricGallery.save` writes the index with ``faiss.write_index`` and a JSON
sidecar (``<path>.json``) holding the dimension, metric, index parameters, count, decision
policy and the SHA-256 of the index file; :meth:`BiometricGallery.load` refuses an index whose
sidecar is missing, unreadable or disagrees with the file (checksum, dimension, metric, count,
index type), naming what differs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

__all__ = [
    "DEFAULT_POLICY",
    "BiometricGallery",
    "DecisionPolicy",
    "GalleryError",
    "GalleryFileError",
    "IndexParams",
    "MatchResult",
]

SIDECAR_FORMAT = "securecomm.biometric-gallery"
SIDECAR_VERSION = 1
METRIC = "inner_product"  # on L2-normalised vectors = cosine similarity
_MAX_LISTED = 5

IndexKind = Literal["ivf_pqfs", "ivf_flat", "ivf_sq8", "hnsw_flat", "flat"]
Decision = Literal["match", "verify", "no_match"]


class GalleryError(ValueError):
    """Bad input to a gallery operation; the message names the argument."""


class GalleryFileError(GalleryError):
    """A persisted gallery that cannot be trusted (missing or mismatched sidecar, checksum)."""


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexParams:
    """How the faiss index is built and searched.

    ``kind``:

    * ``ivf_pqfs`` -- ``tables`` independent IVF partitions (k-means with different seeds) whose
      lists hold 4-bit fast-scan PQ codes (``pq_m`` sub-quantizers); each table returns its
      ``k_factor * k`` best candidates by approximate score, and the union is re-ranked by the
      exact inner product against a shared flat store of the full vectors. Scores returned are
      exact. A template missed by one partition (the probe's cells do not include the
      template's cell) is usually caught by another, which is what makes this kind work on
      templates spread uniformly over the sphere.
    * ``ivf_flat`` / ``ivf_sq8`` -- one IVF partition over full / 8-bit scalar-quantised vectors.
    * ``hnsw_flat`` -- HNSW graph over full vectors.
    * ``flat`` -- exact brute force.

    ``nlist`` / ``nprobe`` / ``quantizer`` / ``train_size`` apply to IVF kinds;
    ``hnsw_m`` / ``ef_construction`` / ``ef_search`` to HNSW (and to an HNSW coarse quantizer).
    """

    kind: IndexKind = "ivf_pqfs"
    nlist: int = 4096
    nprobe: int = 32
    tables: int = 3
    pq_m: int = 32
    k_factor: int = 4
    quantizer: Literal["flat", "hnsw"] = "flat"
    train_size: int | None = None  # IVF training sample; default 64 * nlist
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64

    def __post_init__(self) -> None:
        if self.kind not in ("ivf_pqfs", "ivf_flat", "ivf_sq8", "hnsw_flat", "flat"):
            raise GalleryError(
                f"params.kind must be one of ivf_pqfs, ivf_flat, ivf_sq8, hnsw_flat, flat; got {self.kind!r}"
            )
        if self.quantizer not in ("flat", "hnsw"):
            raise GalleryError(f"params.quantizer must be 'flat' or 'hnsw', got {self.quantizer!r}")
        for name in (
            "nlist",
            "nprobe",
            "tables",
            "pq_m",
            "k_factor",
            "hnsw_m",
            "ef_construction",
            "ef_search",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise GalleryError(f"params.{name} must be a positive integer, got {v!r}")
        if self.train_size is not None and (
            not isinstance(self.train_size, int) or self.train_size < 1
        ):
            raise GalleryError(
                f"params.train_size must be a positive integer or None, got {self.train_size!r}"
            )

    @property
    def is_ivf(self) -> bool:
        return self.kind in ("ivf_pqfs", "ivf_flat", "ivf_sq8")

    @property
    def n_tables(self) -> int:
        return self.tables if self.kind == "ivf_pqfs" else 1

    @property
    def effective_train_size(self) -> int:
        return self.train_size if self.train_size is not None else 64 * self.nlist

    def factory_string(self) -> str:
        if self.kind == "flat":
            return "IDMap,Flat"
        if self.kind == "hnsw_flat":
            return f"IDMap,HNSW{self.hnsw_m},Flat"
        coarse = f"IVF{self.nlist}" + (f"_HNSW{self.hnsw_m}" if self.quantizer == "hnsw" else "")
        codes = {"ivf_flat": "Flat", "ivf_sq8": "SQ8", "ivf_pqfs": f"PQ{self.pq_m}x4fs"}[self.kind]
        return f"{coarse},{codes}"

    def describe(self) -> str:
        if self.kind == "ivf_pqfs":
            return f"{self.tables} x {self.factory_string()} + exact re-rank (IDMap2,Flat store)"
        return self.factory_string()

    @classmethod
    def for_gallery_size(cls, n: int) -> IndexParams:
        """The measured choice for a gallery of about ``n`` identities.

        Below 50,000 identities: exact brute force (fast enough there, and exact). Above:
        ``ivf_pqfs`` -- 3 tables x IVF4096 with PQ32x4fs codes, k_factor 4, exact re-rank --
        with nprobe 32 up to 2 million identities and 64 above. Measured with
        ``benchmarks/biometric_search.py`` (2 cores, batches of 1000, 20,000 probes): at 1M,
        nprobe 32 gives 16.5k searches/s and recall@1 0.998 on decision-relevant probes; at 10M,
        nprobe 64 gives ~2.4k searches/s and 0.997 (nprobe 32: ~2.7-3.1k/s but 0.9947).

        Why this kind: the synthetic templates are spread uniformly over the 64-d sphere, so a
        probe's nearest coarse cells often miss its own template's cell (one IVF4096 table at
        nprobe 32 found the enrolled identity for only 95% of genuine probes at 1M; HNSW32 at
        efSearch 128 for 98%). Independent partitions fail independently: 3 tables at nprobe 32
        reach 99.8%, and 4-bit fast-scan PQ codes make each scanned list ~10x cheaper than flat
        vectors, while the exact re-rank keeps the scores (and so the thresholds) exact.
        """
        if n < 50_000:
            return cls(kind="flat")
        nprobe = 32 if n <= 2_000_000 else 64
        return cls(kind="ivf_pqfs", nlist=4096, nprobe=nprobe, tables=3, pq_m=32, k_factor=4)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndexParams:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise GalleryError(f"params has unknown field(s): {sorted(unknown)}")
        return cls(**d)


@dataclass(frozen=True)
class DecisionPolicy:
    """Thresholds on cosine similarity, with the reason they were chosen.

    Defaults are for galleries up to 10 million identities on the synthetic capture model,
    chosen from score distributions measured by ``benchmarks/biometric_search.py`` (exact
    search of 10,000 non-enrolled probes against 10M enrolled = 1e11 impostor comparisons):

    * ``match_threshold = 0.75``: no impostor comparison of the 1e11 reached 0.75 (per-comparison
      FMR < 3e-11 at 95% confidence; the model's analytic tail gives 3e-13), so a person not in
      a 10M gallery gets an automatic match in fewer than 1 search in 3,000 (analytically ~3e-6).
      Good-quality genuine captures score 0.86-0.97 and sit well above it; the price is paid by
      poor-quality captures: FNMR at 0.75 is 4.2% (per search, FNIR 4.2%).
    * ``verification_band_low = 0.66``: measured FMR 1.05e-9 per comparison (105 of 1e11), so at
      10M about 1% of searches of people not enrolled land in the band and cost an examiner's
      look -- never an action -- while the band recovers about half of the genuine searches that
      miss the match threshold (FNIR falls from 4.2% to 2.1-2.3% counting verified hits).
    """

    match_threshold: float = 0.75
    verification_band_low: float = 0.66
    rationale: str = (
        "match >= 0.75: no impostor comparison of 1e11 reached it (FMR < 3e-11; FPIR < 3e-4 at "
        "10M enrolled); verify band [0.66, 0.75): FMR 1.05e-9 per comparison (~1% of "
        "non-enrolled searches at 10M go to an examiner), recovers half the poor-quality "
        "genuine captures that miss 0.75"
    )

    def __post_init__(self) -> None:
        for name in ("match_threshold", "verification_band_low"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                raise GalleryError(f"policy.{name} must be a finite number, got {v!r}")
        if not (-1.0 <= self.verification_band_low <= self.match_threshold <= 1.0):
            raise GalleryError(
                "policy needs -1 <= verification_band_low <= match_threshold <= 1, got "
                f"verification_band_low={self.verification_band_low}, "
                f"match_threshold={self.match_threshold}"
            )

    def decide(self, score: float) -> Decision:
        if score >= self.match_threshold:
            return "match"
        if score >= self.verification_band_low:
            return "verify"
        return "no_match"


DEFAULT_POLICY = DecisionPolicy()


@dataclass(frozen=True)
class MatchResult:
    """The outcome of one 1:N search under a :class:`DecisionPolicy`.

    ``identity_id`` is the best candidate for ``match`` and ``verify`` and ``None`` for
    ``no_match``. ``candidates`` lists ``(identity_id, score)`` for every returned candidate at
    or above the verification band, best first -- what an examiner compares. Only a ``match`` is
    ``actionable``; ``verify`` has ``requires_human_verification=True`` and opens a
    verification task.
    """

    decision: Decision
    identity_id: int | None
    score: float
    candidates: tuple[tuple[int, float], ...] = field(default_factory=tuple)
    reason: str = ""

    @property
    def actionable(self) -> bool:
        return self.decision == "match"

    @property
    def requires_human_verification(self) -> bool:
        return self.decision == "verify"

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "identity_id": self.identity_id,
            "score": self.score,
            "candidates": [list(c) for c in self.candidates],
            "reason": self.reason,
            "actionable": self.actionable,
            "requires_human_verification": self.requires_human_verification,
        }


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def _rows(mask: np.ndarray) -> str:
    bad = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in bad[:_MAX_LISTED])
    more = f" and {bad.size - _MAX_LISTED} more" if bad.size > _MAX_LISTED else ""
    return f"row(s) {shown}{more}"


def _as_vectors(x: Any, dim: int, name: str = "vectors") -> np.ndarray:
    """Validate and L2-normalise a batch of templates; returns a new float32 (n, dim) array."""
    if x is None:
        raise GalleryError(f"{name} is None: expected an array of shape (n, {dim})")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists etc.
        raise GalleryError(f"{name} is not an array of numbers: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise GalleryError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 1 and arr.size == dim:
        arr = arr.reshape(1, dim)
    if arr.ndim != 2:
        raise GalleryError(f"{name} must have shape (n, {dim}), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise GalleryError(f"{name} is empty: need at least one template")
    if arr.shape[1] != dim:
        raise GalleryError(
            f"{name} has dimension {arr.shape[1]}, but the gallery's dimension is {dim}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array(arr, dtype=np.float32, order="C", copy=True)
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        raise GalleryError(f"{name} contains NaN or infinite values in {_rows(~finite)}")
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(out.astype(np.float64), axis=1)
    zero = ~(norms > 1e-12)
    if zero.any():
        raise GalleryError(f"{name} has zero-norm templates in {_rows(zero)}")
    out /= norms.astype(np.float32)[:, None]
    return out


def _as_ids(ids: Any, n: int, name: str = "ids") -> np.ndarray:
    if ids is None:
        raise GalleryError(f"{name} is None: expected {n} int64 identity keys")
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise GalleryError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and (arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer)):
        raise GalleryError(f"{name} must be integers (int64 identity keys), got dtype {arr.dtype}")
    if arr.shape[0] != n:
        raise GalleryError(f"{name} has {arr.shape[0]} entries but vectors has {n} rows")
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise GalleryError(f"{name} has values beyond the int64 range")
    out = arr.astype(np.int64)
    neg = out < 0
    if neg.any():
        raise GalleryError(f"{name} must be non-negative (-1 marks 'no result'): {_rows(neg)}")
    srt = np.sort(out)
    dup = srt[1:][srt[1:] == srt[:-1]]
    if dup.size:
        raise GalleryError(
            f"{name} repeats identity key(s) {np.unique(dup)[:_MAX_LISTED].tolist()}"
        )
    return out


def _as_k(k: Any) -> int:
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1 or k > 1024:
        raise GalleryError(f"k must be an integer between 1 and 1024, got {k!r}")
    return int(k)


# --------------------------------------------------------------------------------------------
# gallery
# --------------------------------------------------------------------------------------------
class BiometricGallery:
    """A faiss inner-product index of L2-normalised templates keyed by int64 identity ids.

    Internally a list of faiss indexes ("parts"): one index for the single-index kinds; for
    ``ivf_pqfs`` a store (``IndexIDMap2`` over ``IndexFlatIP``: full vectors, position ->
    identity key) followed by ``tables`` IVF-PQ fast-scan partitions keyed by store position.
    """

    def __init__(
        self,
        dim: int = 64,
        params: IndexParams | None = None,
        policy: DecisionPolicy | None = None,
        *,
        threads: int | None = 2,
    ) -> None:
        if not isinstance(dim, int | np.integer) or isinstance(dim, bool) or dim < 2:
            raise GalleryError(f"dim must be an integer >= 2, got {dim!r}")
        if params is not None and not isinstance(params, IndexParams):
            raise GalleryError(f"params must be an IndexParams, got {type(params).__name__}")
        if policy is not None and not isinstance(policy, DecisionPolicy):
            raise GalleryError(f"policy must be a DecisionPolicy, got {type(policy).__name__}")
        if threads is not None:
            if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
                raise GalleryError(f"threads must be a positive integer or None, got {threads!r}")
            faiss.omp_set_num_threads(threads)
        self.dim = int(dim)
        self.params = params or IndexParams()
        self.policy = policy or DEFAULT_POLICY
        self._parts = self._new_parts()
        self._ids = np.empty(0, dtype=np.int64)  # sorted identity keys

    # -- index construction -------------------------------------------------------------
    def _new_parts(self) -> list[faiss.Index]:
        p = self.params
        if p.kind == "ivf_pqfs":
            parts: list[faiss.Index] = [faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))]
            for t in range(p.tables):
                table = faiss.index_factory(
                    self.dim, p.factory_string(), faiss.METRIC_INNER_PRODUCT
                )
                ivf = faiss.extract_index_ivf(table)
                ivf.cp.seed = 1234 + 7919 * t  # independent partitions
                parts.append(table)
        else:
            parts = [faiss.index_factory(self.dim, p.factory_string(), faiss.METRIC_INNER_PRODUCT)]
        for part in parts:
            self._configure(part)
        return parts

    def _configure(self, index: faiss.Index) -> None:
        p = self.params
        if isinstance(faiss.downcast_index(index), faiss.IndexIDMap2):
            return  # the ivf_pqfs store
        if p.is_ivf:
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = p.nprobe
            if p.quantizer == "hnsw":
                q = faiss.downcast_index(ivf.quantizer)
                q.hnsw.efSearch = max(p.ef_search, 2 * p.nprobe)
        elif p.kind == "hnsw_flat":
            h = faiss.downcast_index(faiss.downcast_index(index).index)
            h.hnsw.efConstruction = p.ef_construction
            h.hnsw.efSearch = p.ef_search

    def set_search_params(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Change the search-time knobs (nprobe for IVF kinds, efSearch for HNSW)."""
        changes: dict[str, Any] = {}
        if nprobe is not None and self.params.is_ivf:
            changes["nprobe"] = nprobe
        if ef_search is not None and self.params.kind == "hnsw_flat":
            changes["ef_search"] = ef_search
        if changes:
            self.params = IndexParams(**{**self.params.to_dict(), **changes})
            for part in self._parts:
                self._configure(part)

    # -- properties ------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return int(self._parts[0].ntotal)

    def __len__(self) -> int:
        return self.count

    @property
    def is_trained(self) -> bool:
        return all(part.is_trained for part in self._parts)

    @property
    def parts(self) -> tuple[faiss.Index, ...]:
        """The underlying faiss indexes (read-only use: benchmarks, diagnostics)."""
        return tuple(self._parts)

    def contains(self, ids: Any) -> np.ndarray:
        arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not self._ids.size:
            return np.zeros(arr.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(self._ids, arr), self._ids.size - 1)
        return self._ids[pos] == arr

    def __repr__(self) -> str:
        return (
            f"BiometricGallery(dim={self.dim}, count={self.count}, "
            f"index={self.params.describe()!r}, policy={self.policy})"
        )

    # -- building ----------------------------------------------------------------------------
    def train(self, vectors: Any) -> None:
        """Train the IVF partitions (no-op for HNSW and flat kinds)."""
        x = _as_vectors(vectors, self.dim)
        self._train(self._parts, x)

    def _train(self, parts: list[faiss.Index], x: np.ndarray) -> None:
        if not self.params.is_ivf:
            return
        if parts[0].ntotal:
            raise GalleryError("the index already holds templates; use rebuild() to retrain")
        nlist = self.params.nlist
        if x.shape[0] < nlist:
            raise GalleryError(
                f"vectors has {x.shape[0]} templates; training an IVF index with nlist={nlist} "
                "needs at least nlist (ideally 39*nlist): choose a smaller nlist "
                "(IndexParams.for_gallery_size)"
            )
        for part in parts:
            if not isinstance(faiss.downcast_index(part), faiss.IndexIDMap2):
                part.train(x)

    def add(self, ids: Any, vectors: Any) -> None:
        """Enrol templates. Identity keys must be new; vectors are L2-normalised on the way in."""
        x = _as_vectors(vectors, self.dim)
        i = _as_ids(ids, x.shape[0])
        self._add(self._parts, i, x, self._ids)
        self._ids = _merge_sorted(self._ids, i)

    def _add(
        self, parts: list[faiss.Index], ids: np.ndarray, x: np.ndarray, existing: np.ndarray
    ) -> None:
        if not all(part.is_trained for part in parts):
            raise GalleryError(
                "the IVF index is untrained: call train(sample) before add(), or use rebuild()"
            )
        if existing.size:
            pos = np.minimum(np.searchsorted(existing, ids), existing.size - 1)
            clash = existing[pos] == ids
            if clash.any():
                more = int(clash.sum()) - _MAX_LISTED
                raise GalleryError(
                    f"ids already enrolled: {ids[clash][:_MAX_LISTED].tolist()}"
                    + (f" and {more} more" if more > 0 else "")
                )
        if self.params.kind == "ivf_pqfs":
            store = parts[0]
            positions = np.arange(store.ntotal, store.ntotal + x.shape[0], dtype=np.int64)
            for table in parts[1:]:
                table.add_with_ids(x, positions)
            store.add_with_ids(x, ids)
        else:
            parts[0].add_with_ids(x, ids)

    def rebuild(
        self, chunks: Iterable[tuple[Any, Any]], *, train_vectors: Any = None
    ) -> BiometricGallery:
        """Replace the contents with the templates streamed as ``(ids, vectors)`` chunks.

        An IVF index is trained on ``train_vectors`` if given, else on the first
        ``params.effective_train_size`` streamed templates (the stream order must not be
        correlated with the templates, e.g. ordered by identity key). The new index is built
        aside and swapped in only when the whole stream was accepted, so a failure leaves the
        gallery as it was. Returns ``self``.
        """
        parts = self._new_parts()
        seen: list[np.ndarray] = []  # identity keys, checked for repeats once at the end
        none = np.empty(0, dtype=np.int64)
        pending: list[tuple[np.ndarray, np.ndarray]] = []
        pending_n = 0
        need_train = self.params.is_ivf
        if need_train and train_vectors is not None:
            self._train(parts, _as_vectors(train_vectors, self.dim, "train_vectors"))
            need_train = False
        for n_chunk, chunk in enumerate(chunks):
            try:
                raw_ids, raw_vecs = chunk
            except (TypeError, ValueError):
                raise GalleryError(f"chunks[{n_chunk}] must be an (ids, vectors) pair") from None
            x = _as_vectors(raw_vecs, self.dim, f"chunks[{n_chunk}] vectors")
            i = _as_ids(raw_ids, x.shape[0], f"chunks[{n_chunk}] ids")
            seen.append(i)
            if need_train:
                pending.append((i, x))
                pending_n += x.shape[0]
                if pending_n < self.params.effective_train_size:
                    continue
                sample = np.concatenate([p[1] for p in pending])[: self.params.effective_train_size]
                self._train(parts, sample)
                del sample
                need_train = False
                for pi, px in pending:
                    self._add(parts, pi, px, none)
                pending = []
                continue
            self._add(parts, i, x, none)
        if pending:  # stream shorter than the training sample: train on all of it
            self._train(parts, np.concatenate([p[1] for p in pending]))
            for pi, px in pending:
                self._add(parts, pi, px, none)
        ids_seen = np.sort(np.concatenate(seen)) if seen else none
        repeated = ids_seen[1:][ids_seen[1:] == ids_seen[:-1]]
        if repeated.size:
            raise GalleryError(
                f"chunks repeat identity key(s) {np.unique(repeated)[:_MAX_LISTED].tolist()}"
            )
        self._parts = parts
        self._ids = ids_seen
        return self

    # -- searching ---------------------------------------------------------------------------
    def search(self, vectors: Any, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best identities per query: ``(ids int64 (n, k), scores float32 (n, k))``.

        Scores are cosine similarities, best first. Where fewer than ``k`` identities are
        enrolled the row is padded with id ``-1`` and score ``-inf``.
        """
        k = _as_k(k)
        x = _as_vectors(vectors, self.dim)
        n = x.shape[0]
        if self.count == 0:
            return np.full((n, k), -1, dtype=np.int64), np.full((n, k), -np.inf, dtype=np.float32)
        if self.params.kind == "ivf_pqfs":
            return self._search_multi(x, k)
        scores, ids = self._parts[0].search(x, k)
        missing = ids < 0
        if missing.any():
            scores[missing] = -np.inf
        return ids.astype(np.int64, copy=False), scores

    def _search_multi(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        store = self._parts[0]
        kc = min(k * self.params.k_factor, store.ntotal)
        cand = np.concatenate([table.search(x, kc)[1] for table in self._parts[1:]], axis=1)
        # exact re-rank against the stored full vectors
        flat = faiss.downcast_index(store.index)
        xb = faiss.rev_swig_ptr(flat.get_xb(), store.ntotal * self.dim).reshape(
            store.ntotal, self.dim
        )
        missing = cand < 0
        vecs = xb[np.where(missing, 0, cand)]
        scores = np.einsum("nkd,nd->nk", vecs, x)
        scores[missing] = -np.inf
        # the same position found by several tables: keep one
        order = np.argsort(-scores, axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        m = cand.shape[1]
        earlier = np.tril(np.ones((m, m), dtype=bool), -1)  # earlier[j, i]: i < j
        dup = ((cand[:, :, None] == cand[:, None, :]) & earlier[None]).any(axis=2)
        scores[dup] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(cand, order, axis=1)
        top_scores = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        id_map = faiss.rev_swig_ptr(store.id_map.data(), store.ntotal)
        ids = np.where(np.isneginf(top_scores) | (top < 0), -1, id_map[np.where(top < 0, 0, top)])
        if ids.shape[1] < k:  # fewer candidates than k
            pad = k - ids.shape[1]
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
            top_scores = np.pad(top_scores, ((0, 0), (0, pad)), constant_values=-np.inf)
        return ids.astype(np.int64), top_scores

    def match(self, vectors: Any, *, candidates: int = 3) -> list[MatchResult]:
        """Search and apply :attr:`policy` to each query (see :class:`DecisionPolicy`)."""
        k = max(2, _as_k(candidates))
        ids, scores = self.search(vectors, k)
        pol = self.policy
        out: list[MatchResult] = []
        for row_ids, row_sc in zip(ids, scores, strict=True):
            best, best_id = float(row_sc[0]), int(row_ids[0])
            cands = tuple(
                (int(i), float(s))
                for i, s in zip(row_ids[:candidates], row_sc[:candidates], strict=True)
                if i >= 0 and s >= pol.verification_band_low
            )
            decision = pol.decide(best) if best_id >= 0 else "no_match"
            if decision == "match" and row_sc[1] >= pol.match_threshold:
                out.append(
                    MatchResult(
                        "verify", best_id, best, cands,
                        "ambiguous: more than one identity scores at or above the match threshold",
                    )
                )  # fmt: skip
            elif decision == "match":
                out.append(MatchResult("match", best_id, best, cands, "score >= match_threshold"))
            elif decision == "verify":
                out.append(
                    MatchResult(
                        "verify", best_id, best, cands,
                        "score in the verification band: a human examiner must confirm",
                    )
                )  # fmt: skip
            else:
                out.append(
                    MatchResult(
                        "no_match", None, best if best_id >= 0 else float("-inf"), (),
                        "score below the verification band",
                    )
                )  # fmt: skip
        return out

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index with ``faiss.write_index`` to ``path`` (extra parts of an
        ``ivf_pqfs`` gallery to ``path.part1`` ...) and the sidecar to ``path + '.json'``;
        returns the sidecar path. Files are written to temporary names and renamed, the
        sidecar last."""
        path = Path(path)
        files = []
        for n, part in enumerate(self._parts):
            target = _part_path(path, n)
            tmp = target.with_name(target.name + ".tmp")
            faiss.write_index(part, str(tmp))
            sha = _sha256(tmp)
            os.replace(tmp, target)
            files.append({"file": target.name, "sha256": sha})
        meta = {
            "format": SIDECAR_FORMAT,
            "version": SIDECAR_VERSION,
            "dim": self.dim,
            "metric": METRIC,
            "normalized": True,
            "index_type": self.params.describe(),
            "params": self.params.to_dict(),
            "count": self.count,
            "sha256": files[0]["sha256"],
            "files": files,
            "faiss_version": faiss.__version__,
            "policy": {
                "match_threshold": self.policy.match_threshold,
                "verification_band_low": self.policy.verification_band_low,
                "rationale": self.policy.rationale,
            },
        }
        side = sidecar_path(path)
        tmp_side = side.with_name(side.name + ".tmp")
        tmp_side.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp_side, side)
        return side

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        policy: DecisionPolicy | None = None,
        threads: int | None = 2,
        verify_checksum: bool = True,
    ) -> BiometricGallery:
        """Load a gallery written by :meth:`save`, verifying it against its sidecar.

        ``policy`` overrides the persisted decision policy (thresholds are policy, not data).
        """
        path = Path(path)
        side = sidecar_path(path)
        if not path.is_file():
            raise GalleryFileError(f"gallery index file not found: {path}")
        if not side.is_file():
            raise GalleryFileError(
                f"gallery sidecar not found: {side} (expected beside {path.name})"
            )
        try:
            meta = json.loads(side.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GalleryFileError(f"gallery sidecar {side} is not valid JSON: {exc}") from None
        if not isinstance(meta, dict):
            raise GalleryFileError(f"gallery sidecar {side} must hold a JSON object")
        required = (
            "format",
            "version",
            "dim",
            "metric",
            "params",
            "count",
            "sha256",
            "index_type",
            "files",
        )
        missing = [key for key in required if key not in meta]
        if missing:
            raise GalleryFileError(f"gallery sidecar {side} lacks field(s) {missing}")
        if meta["format"] != SIDECAR_FORMAT or meta["version"] != SIDECAR_VERSION:
            raise GalleryFileError(
                f"gallery sidecar {side}: format {meta['format']!r} version {meta['version']!r}, "
                f"expected {SIDECAR_FORMAT!r} version {SIDECAR_VERSION}"
            )
        if meta["metric"] != METRIC:
            raise GalleryFileError(
                f"gallery sidecar {side}: metric {meta['metric']!r}, expected {METRIC!r}"
            )
        try:
            params = IndexParams.from_dict(dict(meta["params"]))
        except (GalleryError, TypeError, ValueError) as exc:
            raise GalleryFileError(f"gallery sidecar {side}: bad params: {exc}") from None
        if params.describe() != meta["index_type"]:
            raise GalleryFileError(
                f"gallery sidecar {side}: params describe {params.describe()!r} but "
                f"index_type says {meta['index_type']!r}"
            )
        files = meta["files"]
        n_parts = 1 + (params.tables if params.kind == "ivf_pqfs" else 0)
        if not isinstance(files, list) or len(files) != n_parts:
            raise GalleryFileError(
                f"gallery sidecar {side}: expected {n_parts} index file(s) in 'files'"
            )
        parts = []
        for n, entry in enumerate(files):
            target = _part_path(path, n)
            if not isinstance(entry, dict) or entry.get("file") != target.name:
                raise GalleryFileError(
                    f"gallery sidecar {side}: files[{n}] should name {target.name!r}"
                )
            if not target.is_file():
                raise GalleryFileError(f"gallery index file not found: {target}")
            if verify_checksum:
                actual = _sha256(target)
                if actual != entry.get("sha256"):
                    raise GalleryFileError(
                        f"gallery index {target} does not match its sidecar: sha256 {actual[:16]}... "
                        f"!= recorded {str(entry.get('sha256'))[:16]}... (file changed or corrupted)"
                    )
            try:
                parts.append(faiss.read_index(str(target)))
            except RuntimeError as exc:
                raise GalleryFileError(
                    f"gallery index {target} cannot be read by faiss: {exc}"
                ) from None
        problems = _check_parts(parts, params, meta)
        if problems:
            raise GalleryFileError(
                f"gallery index {path} does not match its sidecar: " + "; ".join(problems)
            )
        if policy is None and isinstance(meta.get("policy"), dict):
            pm = meta["policy"]
            try:
                policy = DecisionPolicy(
                    match_threshold=pm["match_threshold"],
                    verification_band_low=pm["verification_band_low"],
                    rationale=pm.get("rationale", ""),
                )
            except (KeyError, GalleryError) as exc:
                raise GalleryFileError(f"gallery sidecar {side}: bad policy: {exc}") from None
        gallery = cls(int(meta["dim"]), params, policy, threads=threads)
        for part in parts:
            gallery._configure(part)
        gallery._parts = parts
        gallery._ids = np.sort(_stored_ids(parts[0], params))
        return gallery


def _check_parts(parts: list[faiss.Index], params: IndexParams, meta: dict[str, Any]) -> list[str]:
    problems = []
    for n, part in enumerate(parts):
        where = "" if n == 0 else f" (part {n})"
        if part.d != meta["dim"]:
            problems.append(f"dimension {part.d}{where} != sidecar dim {meta['dim']}")
        if part.metric_type != faiss.METRIC_INNER_PRODUCT:
            problems.append(f"index metric{where} is not inner product")
        if part.ntotal != meta["count"]:
            problems.append(f"count {part.ntotal}{where} != sidecar count {meta['count']}")
        if (n == 0 and not params.is_ivf) or (n == 0 and params.kind == "ivf_pqfs"):
            ok = isinstance(faiss.downcast_index(part), faiss.IndexIDMap)
        else:
            try:
                ivf = faiss.extract_index_ivf(part)
                ok = ivf.nlist == params.nlist
            except RuntimeError:
                ok = False
        if not ok:
            problems.append(
                f"index structure{where} does not match index_type {meta['index_type']!r}"
            )
    return problems


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(p.name + ".json")


def _part_path(path: Path, n: int) -> Path:
    return path if n == 0 else path.with_name(f"{path.name}.part{n}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not a.size:
        return np.sort(b)
    return np.sort(np.concatenate([a, b]), kind="stable")


def _stored_ids(index: faiss.Index, params: IndexParams) -> np.ndarray:
    if params.is_ivf and params.kind != "ivf_pqfs":
        ivf = faiss.extract_index_ivf(index)
        inv = ivf.invlists
        out = []
        for list_no in range(ivf.nlist):
            size = inv.list_size(list_no)
            if size:
                out.append(faiss.rev_swig_ptr(inv.get_ids(list_no), size).copy())
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)
    return faiss.vector_to_array(faiss.downcast_index(index).id_map).astype(np.int64)
