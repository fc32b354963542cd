"""The other agencies' repositories, behind interfaces (DESIGN 1: "a real deployment connects
its own repositories behind the adapter interfaces").

Protocols (batch-first: the pipeline works in micro-batches)
    :class:`CriminalHistoryRepository` -- the FBI side: 1:N match of booking templates to FBI
    numbers, and the RAP sheet (:class:`~.messages.CriminalHistory`) of an FBI number as of a
    date. :class:`ImmigrationRepository` -- DHS IDENT: 1:N match to FINs (each result
    ``match`` / ``verify`` / ``no_match`` with its candidates and scores), the aliases of a FIN
    (every name used across its encounters), and biographic candidates (Splink) for bookings
    without a usable template. :class:`StatusDetermination` -- the ICE LESC: FIN -> the
    :class:`~.messages.ImmigrationRecord` (Immigration Alien Response) as of a date.

Facts the repositories do not hold
    :class:`CaseFactsSource` -- victim / witness / plaintiff certifications, family and
    hardship facts from an interview or the person's own claim (DESIGN 3.5, 3.7; report IV.2):
    ``facts_for(session, tcns) -> {tcn: {flag: bool}}`` at case assembly. The one
    implementation, :class:`StoreCaseFacts`, reads the ``case_facts`` table (the facts in
    force for ``C-<TCN>``, recorded before or after the booking); :class:`Agencies` uses it
    unless given another. :func:`merge_flags` is the precedence: the repositories' answer
    for warrant, gang member and national security (:data:`REPOSITORY_FLAGS`) always stands
    -- a recorded fact can neither add nor clear a RAP-sheet warrant or a watch-list entry --
    and the recorded value for every other flag.

Synthetic implementations
    :class:`StoreCriminalHistory`, :class:`StoreImmigration`, :class:`StoreStatusDetermination`
    read the store's ``ch_*`` and ``imm_*`` tables (filled by
    :mod:`securecomm.interop.synthetic_world`). Biometric search goes through a
    :class:`TemplateGallery`: a faiss :class:`~securecomm.identity.gallery.BiometricGallery`
    persisted in the data directory (:mod:`.settings`) as ``<prefix>.ident.faiss`` /
    ``<prefix>.ngi.faiss`` with the gallery's own sidecar, plus ``.state.json`` recording which
    table rows it was built from. It holds one template per subject (the latest capture),
    keyed by the template row's id; it is rebuilt from ``imm_biometrics`` / ``ch_biometrics``
    whenever the table changed since (``securecomm ident rebuild`` forces it).

Thresholds (identity package, :class:`~securecomm.identity.gallery.DecisionPolicy`, chosen
from measured score distributions of the capture model, ``benchmarks/biometric_search.py``):
cosine >= 0.75 is a match (impostor false-match rate about 3e-13 per comparison); [0.66, 0.75)
is the verification band (poor-quality genuine captures; a person must confirm; never an
action by itself); two subjects at or above 0.75 is ambiguous and also goes to a person. A
deployment may change them (:mod:`.settings`). The criminal-history side uses the same policy:
its band candidates are recorded as hits but no RAP sheet is attached automatically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..identity.gallery import (
    BiometricGallery,
    DecisionPolicy,
    GalleryError,
    IndexParams,
)
from ..store.models import (
    CASE_FACT_NAMES,
    REPOSITORY_FLAGS,
    Biometric,
    ChBiometric,
    ChConviction,
    ChSubject,
    ChWarrant,
    Encounter,
    ImmOrder,
    ImmRemoval,
    ImmSubject,
    StatusHistory,
)
from .messages import TEMPLATE_DIM, CriminalHistory, ImmigrationRecord

__all__ = [
    "REPOSITORY_FLAGS",
    "Candidate",
    "CaseFactsSource",
    "CriminalHistoryRepository",
    "ImmigrationRepository",
    "SearchResult",
    "StatusDetermination",
    "StoreCaseFacts",
    "StoreCriminalHistory",
    "StoreImmigration",
    "StoreStatusDetermination",
    "TemplateGallery",
    "agencies_for",
    "merge_flags",
]

MatchDecision = Literal["match", "verify", "no_match"]
TEMPLATE_MODEL = "synthetic-ten-print-64"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Candidate:
    """A candidate subject: ``key`` is a FIN (IDENT) or an FBI number (criminal history)."""

    key: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "score": round(float(self.score), 6)}


@dataclass(frozen=True)
class SearchResult:
    """One 1:N search under the decision policy. Only ``match`` is actionable."""

    decision: MatchDecision
    key: str | None  # best candidate for match / verify
    score: float  # best score (-inf when the gallery is empty)
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""

    @property
    def actionable(self) -> bool:
        return self.decision == "match"


NO_MATCH = SearchResult("no_match", None, float("-inf"), (), "no search: no usable template")


# --------------------------------------------------------------------------- protocols


@runtime_checkable
class CriminalHistoryRepository(Protocol):
    """The FBI side (criminal history)."""

    def match(self, session: Session, templates: np.ndarray) -> list[SearchResult]:
        """1:N search of ``templates`` (n, dim): one result per row, keys FBI numbers."""
        ...

    def history(
        self, session: Session, requests: Sequence[tuple[str, dt.date]]
    ) -> list[CriminalHistory]:
        """The RAP sheet of each ``(fbi_number, as_of)``: convictions on or before
        ``as_of``, warrants active then."""
        ...


@runtime_checkable
class ImmigrationRepository(Protocol):
    """DHS IDENT."""

    def search(self, session: Session, templates: np.ndarray) -> list[SearchResult]:
        """1:N search: one result per row, keys FINs."""
        ...

    def aliases(self, session: Session, fins: Sequence[str]) -> dict[str, list[str]]:
        """Every name used across each FIN's encounters (one spelling per alias)."""
        ...

    def link_biographic(
        self, session: Session, bookings: Sequence[dict[str, Any]]
    ) -> list[list[Candidate]]:
        """Biographic candidates (Splink) for bookings without a usable template, best
        first. Always lower confidence: a person must verify any of them."""
        ...


@runtime_checkable
class StatusDetermination(Protocol):
    """The ICE Law Enforcement Support Center."""

    def determine(
        self, session: Session, requests: Sequence[tuple[str, dt.date]]
    ) -> list[ImmigrationRecord | None]:
        """Immigration Alien Response for each ``(fin, as_of)``; None for an unknown FIN."""
        ...


# --------------------------------------------------------------------------- galleries


@runtime_checkable
class CaseFactsSource(Protocol):
    """Facts about a booking's person that no repository holds (certifications, interviews,
    claims), asked at case assembly."""

    def facts_for(self, session: Session, tcns: Sequence[str]) -> dict[str, dict[str, bool]]:
        """``{tcn: {flag: value}}`` for the bookings ``tcns`` that have facts (others absent);
        flag names are Case v1 ``flags`` names."""
        ...


def template_bytes(vector: np.ndarray) -> bytes:
    """A template as stored: float32 little-endian."""
    return np.asarray(vector, dtype="<f4").tobytes()


class TemplateGallery:
    """A persisted 1:N gallery over a template table, one template (the latest) per subject.

    ``table`` is :class:`~securecomm.store.models.Biometric` (subject column ``fin``) or
    :class:`~securecomm.store.models.ChBiometric` (``fbi_number``). Gallery keys are template
    row ids; :meth:`search` maps them back to subject keys.
    """

    def __init__(
        self,
        path: Path,
        table: type[Biometric] | type[ChBiometric],
        policy: DecisionPolicy,
    ) -> None:
        self.path = Path(path)
        self.table = table
        self.subject_col = table.fin if table is Biometric else table.fbi_number
        self.policy = policy
        self._gallery: BiometricGallery | None = None
        self._state: dict[str, Any] | None = None

    @property
    def state_path(self) -> Path:
        return self.path.with_name(self.path.name + ".state.json")

    # -- freshness ------------------------------------------------------------------------
    def _table_state(self, session: Session) -> dict[str, Any]:
        max_id, rows = session.execute(
            select(func.max(self.table.id), func.count(self.table.id))
        ).one()
        return {"table": self.table.__tablename__, "max_id": max_id or 0, "rows": rows}

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def ensure(self, session: Session) -> BiometricGallery:
        """The gallery, loaded from disk if it matches the table, else rebuilt and saved.

        Once loaded, each call only compares the table's highest id (template rows are never
        deleted: a new capture is a new row)."""
        if self._gallery is not None and self._state is not None:
            max_id = session.scalar(select(func.max(self.table.id))) or 0
            if max_id == self._state["max_id"]:
                return self._gallery
        current = self._table_state(session)
        if self._gallery is not None and self._state == current:
            return self._gallery
        with self._file_lock():
            try:
                saved = json.loads(self.state_path.read_text())
            except (OSError, ValueError):
                saved = None
            if saved == current:
                try:
                    self._gallery = BiometricGallery.load(self.path, policy=self.policy)
                    self._state = current
                    return self._gallery
                except GalleryError:
                    pass  # a damaged or foreign file: rebuild below
            self._rebuild_locked(session, current)
        assert self._gallery is not None
        return self._gallery

    def rebuild(self, session: Session) -> dict[str, Any]:
        """Rebuild from the table and save; returns what was built."""
        with self._file_lock():
            current = self._table_state(session)
            self._rebuild_locked(session, current)
        return {**current, "subjects": self._gallery.count, "path": str(self.path)}

    def _chunks(self, session: Session, chunk: int = 65_536) -> Iterator[tuple[np.ndarray, ...]]:
        t = self.table
        stmt = select(t.id, self.subject_col, t.template, t.dim).order_by(
            self.subject_col, t.captured_at, t.id
        )
        ids: list[int] = []
        vecs: list[bytes] = []
        last_subject: Any = None
        last: tuple[int, bytes] | None = None
        for row_id, subject, blob, dim in session.execute(
            stmt, execution_options={"yield_per": 20_000}
        ):
            if dim != TEMPLATE_DIM:
                continue  # another model's templates are not comparable
            if subject != last_subject and last is not None:
                ids.append(last[0])
                vecs.append(last[1])
                if len(ids) >= chunk:
                    yield self._as_chunk(ids, vecs)
                    ids, vecs = [], []
            last_subject, last = subject, (row_id, blob)
        if last is not None:
            ids.append(last[0])
            vecs.append(last[1])
        if ids:
            yield self._as_chunk(ids, vecs)

    @staticmethod
    def _as_chunk(ids: list[int], vecs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        arr = np.frombuffer(b"".join(vecs), dtype="<f4").reshape(len(ids), TEMPLATE_DIM)
        return np.asarray(ids, dtype=np.int64), arr

    def _rebuild_locked(self, session: Session, current: dict[str, Any]) -> None:
        subjects = session.scalar(select(func.count(func.distinct(self.subject_col)))) or 0
        gallery = BiometricGallery(
            TEMPLATE_DIM, IndexParams.for_gallery_size(subjects), self.policy
        )
        gallery.rebuild(self._chunks(session))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gallery.save(self.path)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(current))
        os.replace(tmp, self.state_path)
        self._gallery, self._state = gallery, current

    # -- search ----------------------------------------------------------------------------
    def search(self, session: Session, templates: np.ndarray) -> list[SearchResult]:
        gallery = self.ensure(session)
        if len(templates) == 0:
            return []
        results = gallery.match(templates, candidates=3)
        row_ids = {c[0] for r in results for c in r.candidates}
        row_ids.update(r.identity_id for r in results if r.identity_id is not None)
        subject_of: dict[int, str] = {}
        if row_ids:
            ids = sorted(row_ids)
            for lo in range(0, len(ids), 5000):
                subject_of.update(
                    session.execute(
                        select(self.table.id, self.subject_col).where(
                            self.table.id.in_(ids[lo : lo + 5000])
                        )
                    ).all()
                )
        out = []
        for r in results:
            cands = tuple(Candidate(subject_of[i], s) for i, s in r.candidates if i in subject_of)
            key = subject_of.get(r.identity_id) if r.identity_id is not None else None
            decision = r.decision if (key is not None or r.decision == "no_match") else "no_match"
            out.append(SearchResult(decision, key, float(r.score), cands, r.reason))
        return out


# --------------------------------------------------------------------------- criminal history


class StoreCriminalHistory:
    """The FBI side over the store's ``ch_*`` tables and the ``ngi`` gallery."""

    def __init__(self, gallery: TemplateGallery) -> None:
        self.gallery = gallery

    def match(self, session: Session, templates: np.ndarray) -> list[SearchResult]:
        return self.gallery.search(session, templates)

    def history(
        self, session: Session, requests: Sequence[tuple[str, dt.date]]
    ) -> list[CriminalHistory]:
        numbers = sorted({n for n, _ in requests})
        if not numbers:
            return []
        subjects: dict[str, ChSubject] = {}
        convictions: dict[str, list[ChConviction]] = defaultdict(list)
        warrants: dict[str, list[ChWarrant]] = defaultdict(list)
        for lo in range(0, len(numbers), 2000):
            part = numbers[lo : lo + 2000]
            for s in session.scalars(select(ChSubject).where(ChSubject.fbi_number.in_(part))):
                subjects[s.fbi_number] = s
            for c in session.scalars(
                select(ChConviction)
                .where(ChConviction.fbi_number.in_(part))
                .order_by(ChConviction.convicted_on, ChConviction.id)
            ):
                convictions[c.fbi_number].append(c)
            for w in session.scalars(
                select(ChWarrant)
                .where(ChWarrant.fbi_number.in_(part))
                .order_by(ChWarrant.issued_on, ChWarrant.id)
            ):
                warrants[w.fbi_number].append(w)
        out = []
        for number, as_of in requests:
            subject = subjects.get(number)
            if subject is None:
                out.append(CriminalHistory())
                continue
            convs = [
                c for c in convictions[number] if c.convicted_on is None or c.convicted_on <= as_of
            ]
            active = [
                w
                for w in warrants[number]
                if w.issued_on <= as_of
                and (w.cleared_on is None or w.cleared_on > as_of)
                and (w.active or w.cleared_on is not None)
            ]
            out.append(
                CriminalHistory.model_validate(
                    {
                        "fbi_number": number,
                        "name": subject.name,
                        "birth_date": subject.birth_date,
                        "convictions": [
                            {
                                "ncic": c.ncic,
                                "literal": c.literal,
                                "severity": c.severity.value,
                                "convicted_on": c.convicted_on,
                                "incident_id": c.incident_id,
                                "sentence_days": c.sentence_days,
                                "suspended": c.suspended,
                                "aggravated_felony": c.aggravated_felony,
                                "counsel": c.counsel.value if c.counsel else None,
                                "gang_element": c.gang_element,
                                "domestic_violence": c.domestic_violence,
                            }
                            for c in convs
                        ],
                        "warrants": [
                            {
                                "ncic": w.ncic,
                                "literal": w.literal,
                                "issued_on": w.issued_on,
                                "issuing_ori": w.issuing_ori,
                            }
                            for w in active
                        ],
                        "gang_member": any(c.gang_element for c in convs),
                    }
                )
            )
        return out


# --------------------------------------------------------------------------- immigration


@dataclass
class _EncounterCache:
    state: tuple[int, int] | None = None
    frame: Any = None
    fin_of: dict[int, str] = field(default_factory=dict)


class StoreImmigration:
    """DHS IDENT over the store's ``imm_*`` tables, the ``ident`` gallery and (for bookings
    without a usable template) a trained Splink model, if one is in the data directory."""

    def __init__(self, gallery: TemplateGallery, biographic_model: Path | None = None) -> None:
        self.gallery = gallery
        self.biographic_model = biographic_model
        self._linker: Any = None
        self._encounters = _EncounterCache()

    def search(self, session: Session, templates: np.ndarray) -> list[SearchResult]:
        return self.gallery.search(session, templates)

    def aliases(self, session: Session, fins: Sequence[str]) -> dict[str, list[str]]:
        from ..identity.aliases import name_key

        wanted = sorted(set(fins))
        names: dict[str, dict[str, str]] = {f: {} for f in wanted}
        for lo in range(0, len(wanted), 2000):
            rows = session.execute(
                select(
                    Encounter.fin, Encounter.given_names, Encounter.family_name,
                    Encounter.other_names,
                )
                .where(Encounter.fin.in_(wanted[lo : lo + 2000]))
                .order_by(Encounter.fin, Encounter.encountered_at, Encounter.id)
            )  # fmt: skip
            for fin, given, family, other in rows:
                spellings = [f"{given} {family}".strip()]
                spellings += [
                    f"{o.get('given', '')} {o.get('family', '')}".strip()
                    for o in (other or [])
                    if isinstance(o, dict)
                ]
                for spelling in spellings:
                    key = name_key(spelling)
                    if key and key not in names[fin]:
                        names[fin][key] = " ".join(spelling.split())
        return {fin: list(found.values()) for fin, found in names.items()}

    # -- biographic linkage ----------------------------------------------------------------
    def _linker_or_none(self):
        if self._linker is None and self.biographic_model and self.biographic_model.is_file():
            from ..identity.biographic import BiographicLinker

            self._linker = BiographicLinker.load(self.biographic_model)
        return self._linker

    def train_model(self, session: Session) -> int:
        """Train the Splink model on IDENT's encounters and save it at
        ``self.biographic_model`` (atomically); returns the number of encounters (0: nothing
        to train on, nothing written)."""
        import logging

        from ..identity.biographic import BiographicLinker

        if self.biographic_model is None:
            raise ValueError("biographic model: no path configured")
        frame, _ = self.encounter_frame(session)
        if frame.empty:
            return 0
        # the encounter table has no sex / place of birth: Splink warns that it cannot train
        # those levels (they stay at their priors); keep its training chatter off the terminal
        splink_log = logging.getLogger("splink")
        level = splink_log.level
        splink_log.setLevel(logging.ERROR)
        try:
            linker = BiographicLinker.train(frame)
        finally:
            splink_log.setLevel(level)
        path = Path(self.biographic_model)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        linker.save(tmp)
        tmp.replace(path)
        self._linker = None
        return len(frame)

    def encounter_frame(self, session: Session):
        import pandas as pd

        state = tuple(
            session.execute(select(func.max(Encounter.id), func.count(Encounter.id))).one()
        )
        if self._encounters.state == state and self._encounters.frame is not None:
            return self._encounters.frame, self._encounters.fin_of
        rows = session.execute(
            select(
                Encounter.id, Encounter.fin, Encounter.given_names, Encounter.family_name,
                Encounter.birth_date,
            )
        ).all()  # fmt: skip
        index: dict[str, int] = {}
        for _, fin, *_rest in rows:
            index.setdefault(fin, len(index))
        frame = pd.DataFrame(
            {
                "encounter_id": [r[0] for r in rows],
                "identity_id": [index[r[1]] for r in rows],
                "first_name": [r[2] or None for r in rows],
                "last_name": [r[3] or None for r in rows],
                "dob": [r[4].isoformat() if r[4] else None for r in rows],
            }
        )
        fin_of = {i: fin for fin, i in index.items()}
        self._encounters = _EncounterCache(state, frame, fin_of)
        return frame, fin_of

    def link_biographic(
        self, session: Session, bookings: Sequence[dict[str, Any]]
    ) -> list[list[Candidate]]:
        import pandas as pd

        linker = self._linker_or_none()
        if linker is None or not bookings:
            return [[] for _ in bookings]
        frame, fin_of = self.encounter_frame(session)
        if frame.empty:
            return [[] for _ in bookings]
        left = pd.DataFrame(
            {
                "booking_id": [str(i) for i in range(len(bookings))],
                "first_name": [b.get("first_name") for b in bookings],
                "last_name": [b.get("last_name") for b in bookings],
                "dob": [b.get("dob") for b in bookings],
                "sex": [b.get("sex") for b in bookings],
                "place_of_birth": [b.get("place_of_birth") for b in bookings],
            }
        )
        from ..identity.biographic import best_by_identity

        found = best_by_identity(linker.link(left, frame, top_n=20))
        out: list[list[Candidate]] = [[] for _ in bookings]
        for row in found.itertuples(index=False):
            i = int(row.booking_id)
            fin = fin_of.get(int(row.identity_id))
            if fin is not None:
                out[i].append(Candidate(fin, float(row.match_probability)))
        for cands in out:
            cands.sort(key=lambda c: -c.score)
            del cands[3:]
        return out


class StoreStatusDetermination:
    """The LESC over the store's ``imm_*`` tables: the status as of the booking date."""

    def determine(
        self, session: Session, requests: Sequence[tuple[str, dt.date]]
    ) -> list[ImmigrationRecord | None]:
        fins = sorted({f for f, _ in requests})
        subjects: dict[str, ImmSubject] = {}
        history: dict[str, list[StatusHistory]] = defaultdict(list)
        orders: dict[str, list[ImmOrder]] = defaultdict(list)
        removals: dict[str, list[ImmRemoval]] = defaultdict(list)
        encounters: dict[str, list[Encounter]] = defaultdict(list)
        for lo in range(0, len(fins), 2000):
            part = fins[lo : lo + 2000]
            for s in session.scalars(select(ImmSubject).where(ImmSubject.fin.in_(part))):
                subjects[s.fin] = s
            for h in session.scalars(
                select(StatusHistory)
                .where(StatusHistory.fin.in_(part))
                .order_by(StatusHistory.effective_on, StatusHistory.recorded_at, StatusHistory.id)
            ):
                history[h.fin].append(h)
            for o in session.scalars(
                select(ImmOrder).where(ImmOrder.fin.in_(part)).order_by(ImmOrder.ordered_on)
            ):
                orders[o.fin].append(o)
            for r in session.scalars(
                select(ImmRemoval).where(ImmRemoval.fin.in_(part)).order_by(ImmRemoval.removed_on)
            ):
                removals[r.fin].append(r)
            for e in session.scalars(
                select(Encounter)
                .where(Encounter.fin.in_(part))
                .order_by(Encounter.encountered_at, Encounter.id)
            ):
                encounters[e.fin].append(e)
        out: list[ImmigrationRecord | None] = []
        for fin, as_of in requests:
            subject = subjects.get(fin)
            if subject is None:
                out.append(None)
                continue
            out.append(
                _record(subject, history[fin], orders[fin], removals[fin], encounters[fin], as_of)
            )
        return out


def _record(
    subject: ImmSubject,
    history: list[StatusHistory],
    orders: list[ImmOrder],
    removals: list[ImmRemoval],
    encounters: list[Encounter],
    as_of: dt.date,
) -> ImmigrationRecord:
    if history:
        known = [h for h in history if h.effective_on is None or h.effective_on <= as_of]
        status = known[-1].status.value if known else "unknown"
    else:
        status = subject.citizenship_status.value
    removed = [r.removed_on for r in removals if r.removed_on <= as_of]
    executed = {r.order_id for r in removals if r.order_id is not None and r.removed_on <= as_of}
    final_orders = [
        o
        for o in orders
        if o.final and (o.final_on or o.ordered_on) <= as_of and o.id not in executed
    ]
    entered = (
        subject.entered_us_on if subject.entered_us_on and subject.entered_us_on <= as_of else None
    )
    lpr = subject.lpr_since if subject.lpr_since and subject.lpr_since <= as_of else None
    return ImmigrationRecord.model_validate(
        {
            "fin": subject.fin,
            "citizenship_status": status,
            "entered_us_on": entered,
            "entry": subject.entry.value,
            "lpr_since": lpr,
            "pending_relief": list(subject.pending_relief or []),
            "final_order_of_removal_on": (final_orders[-1].final_on or final_orders[-1].ordered_on)
            if final_orders
            else None,
            "removed_on": removed,
            "immigration_fraud": subject.immigration_fraud,
            "visa_abuse": subject.visa_abuse,
            "encounters": [
                {
                    "encounter_id": str(e.id),
                    "on": e.encountered_at.date(),
                    "names": [_split_name(e.given_names, e.family_name)]
                    + [
                        _split_name(o.get("given", ""), o.get("family", ""))
                        for o in (e.other_names or [])
                        if isinstance(o, dict) and o.get("family")
                    ],
                    "birth_date": e.birth_date,
                    "kind": e.kind,
                }
                for e in encounters
                if e.encountered_at.date() <= as_of
            ],
        }
    )


def _split_name(given: str, family: str) -> dict[str, Any]:
    parts = (given or "").split()
    return {
        "first": parts[0] if parts else "-",
        "middle": " ".join(parts[1:]) or None,
        "last": family or "-",
    }


# --------------------------------------------------------------------------- case facts


class StoreCaseFacts:
    """Case facts recorded in the store (``case_facts``) for the case ``C-<TCN>`` each
    booking opens: the latest value per fact, whenever it was recorded."""

    def facts_for(self, session: Session, tcns: Sequence[str]) -> dict[str, dict[str, bool]]:
        from ..store.repositories import case_facts_in_force

        # C-<TCN>: stages.case_id_for, spelled out here to keep adapters free of the stages
        by_case = {f"C-{t}": t for t in tcns}
        found = case_facts_in_force(session, list(by_case))
        return {by_case[cid]: facts for cid, facts in found.items()}


def merge_flags(
    repository: dict[str, bool], facts: dict[str, bool] | None
) -> tuple[dict[str, bool], list[str]]:
    """Case v1 ``flags`` from the repositories' answer and the recorded facts -> (flags,
    names ignored). Repository flags (:data:`REPOSITORY_FLAGS`) keep the repositories'
    value; any other known flag takes the recorded value; unknown names are ignored (and
    returned, so a caller can report a source that sends them)."""
    flags = dict(repository)
    ignored = []
    for name, value in (facts or {}).items():
        if name in CASE_FACT_NAMES and isinstance(value, bool):
            flags[name] = value
        else:
            ignored.append(name)
    return flags, sorted(ignored)


# --------------------------------------------------------------------------- assembly


@dataclass
class Agencies:
    """The adapters a pipeline run uses: the three repositories and the source of case
    facts (the store's ``case_facts`` unless given another)."""

    criminal_history: CriminalHistoryRepository
    immigration: ImmigrationRepository
    status: StatusDetermination
    galleries: tuple[TemplateGallery, ...] = ()
    case_facts: CaseFactsSource = field(default_factory=lambda: StoreCaseFacts())


def gallery_paths(data_dir: Path, prefix: str) -> dict[str, Path]:
    return {
        "ident": data_dir / f"{prefix}.ident.faiss",
        "ngi": data_dir / f"{prefix}.ngi.faiss",
        "biographic": data_dir / f"{prefix}.biographic-model.json",
    }


def agencies_for(url: Any, settings: Any) -> Agencies:
    """The synthetic, store-backed adapters for the database at ``url`` under ``settings``
    (:class:`~.settings.PipelineSettings`)."""
    paths = gallery_paths(settings.data_dir_for(url), settings.file_prefix_for(url))
    policy = settings.decision_policy
    ident = TemplateGallery(paths["ident"], Biometric, policy)
    ngi = TemplateGallery(paths["ngi"], ChBiometric, policy)
    return Agencies(
        criminal_history=StoreCriminalHistory(ngi),
        immigration=StoreImmigration(ident, paths["biographic"]),
        status=StoreStatusDetermination(),
        galleries=(ident, ngi),
    )
