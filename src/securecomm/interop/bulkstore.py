"""Batched versions of the store writes the pipeline makes for every booking.

The pipeline's hot path writes a few rows per booking; written one ORM flush at a time (the
:mod:`securecomm.store.repositories` functions, each with a savepoint and an audit append)
that costs about half a millisecond per row. These functions write *the same rows and the
same audit entries* for a whole micro-batch with multi-row inserts:

* :func:`open_cases` -- as :func:`~securecomm.store.repositories.open_case` (Case v1
  validated and stored normalised with its SHA-256; idempotent on ``case_id``: the same
  document again is a no-op, a different one raises
  :class:`~securecomm.store.errors.ConflictError`);
* :func:`record_decisions` -- as :func:`~securecomm.store.repositories.record_decision`
  (idempotent per case, policy, version and case document; audited ``decision.recorded`` with
  the same subject and payload);
* :func:`record_accepts` -- as :func:`~securecomm.store.repositories.record_officer_action`
  for ``accept`` (audited ``officer.accept``);
* :class:`AuditBatch` -- as :func:`securecomm.store.audit.append`, for many entries at once:
  the audit head is locked once (``SELECT ... FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``
  already serialises writers), the hash chain is computed with the audit module's own
  :func:`~securecomm.store.audit.entry_body` / :func:`~securecomm.store.audit.compute_entry_hash`,
  the entries are inserted in one statement and the head advanced once. The log is
  indistinguishable from one written entry by entry (``securecomm audit verify``).

All of it runs inside the caller's transaction and never commits. Callers hold the rows they
write (the worker's claimed submissions), so no concurrent writer races these inserts; the
unique constraints still guard against one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..law.schema import Case, Decision
from ..store import audit
from ..store.errors import ConflictError
from ..store.models import (
    AuditEntry,
    AuditHead,
    CaseRecord,
    CaseState,
    DecisionRecord,
    OfficerAction,
    OfficerActionKind,
)
from ..store.types import canonical_json, check_storable_json, sha256_hex

__all__ = ["AuditBatch", "open_cases", "record_accepts", "record_decisions"]

UTC = dt.UTC


@dataclass
class _Pending:
    event_type: str
    actor: str
    subject: dict[str, Any]
    payload: Any
    recorded_at: dt.datetime


class AuditBatch:
    """Collect audit entries, then :meth:`flush` them as one append (see the module doc)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: list[_Pending] = []

    def add(
        self,
        event_type: str,
        *,
        actor: str,
        subject: Mapping[str, Any],
        payload: Any,
        recorded_at: dt.datetime | None = None,
    ) -> None:
        self.pending.append(
            _Pending(event_type, actor, dict(subject), payload, recorded_at or dt.datetime.now(UTC))
        )

    def flush(self) -> int:
        """Append every collected entry; returns how many."""
        if not self.pending:
            return 0
        session = self.session
        session.flush()  # anything the ORM holds goes first (its audit entries included)
        head_t = AuditHead.__table__
        head = session.execute(
            select(head_t.c.size, head_t.c.last_hash).where(head_t.c.id == 1).with_for_update()
        ).one_or_none()
        if head is None:  # a database built without the migrations
            audit.append(
                session,
                self.pending[0].event_type,
                actor=self.pending[0].actor,
                subject=self.pending[0].subject,
                payload=self.pending[0].payload,
                recorded_at=self.pending[0].recorded_at,
            )
            self.pending.pop(0)
            return 1 + self.flush()
        size, prev = head
        rows = []
        for p in self.pending:
            size += 1
            subject_text, payload_text = canonical_json(p.subject), canonical_json(p.payload)
            case_id = p.subject.get("case_id")
            body = audit.entry_body(
                size, p.recorded_at, p.actor, p.event_type, case_id, subject_text, payload_text
            )
            entry_hash = audit.compute_entry_hash(prev, body)
            rows.append(
                {
                    "seq": size,
                    "recorded_at": p.recorded_at,
                    "actor": p.actor,
                    "event_type": p.event_type,
                    "case_id": case_id,
                    "subject": subject_text,
                    "payload": payload_text,
                    "prev_hash": prev,
                    "entry_hash": entry_hash,
                }
            )
            prev = entry_hash
        session.execute(insert(AuditEntry.__table__), rows)
        session.execute(
            update(head_t)
            .where(head_t.c.id == 1)
            .values(size=size, last_hash=prev, updated_at=self.pending[-1].recorded_at)
        )
        # the ORM may hold the head row from an earlier audit.append: let it reload
        existing = session.identity_map.get(session.identity_key(AuditHead, (1,)))  # type: ignore[arg-type]
        if existing is not None:
            session.expire(existing)
        n = len(self.pending)
        self.pending = []
        return n


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class CaseToOpen:
    case: Case
    submission_id: int | None
    hit_id: int | None
    fin: str | None
    opened_at: dt.datetime


def open_cases(session: Session, items: Sequence[CaseToOpen]) -> dict[str, bool]:
    """Open the cases, idempotent on ``case_id`` -> ``{case_id: created}``."""
    docs = []
    for item in items:
        document = item.case.model_dump(mode="json")
        check_storable_json(document, "case")
        docs.append((item, document, sha256_hex(canonical_json(document))))
    ids = [item.case.case_id for item, _, _ in docs]
    existing = _existing(session, CaseRecord.case_id, CaseRecord.case_sha256, ids)
    out: dict[str, bool] = {}
    rows = []
    for item, document, digest in docs:
        cid = item.case.case_id
        if cid in existing:
            if existing[cid] != digest:
                raise ConflictError(f"case {cid!r}: already open with a different Case document")
            out[cid] = False
            continue
        existing[cid] = digest
        out[cid] = True
        rows.append(
            {
                "case_id": cid,
                "submission_id": item.submission_id,
                "hit_id": item.hit_id,
                "fin": item.fin,
                "ori": item.case.jurisdiction.ori,
                "program": item.case.program.value,
                "state": CaseState.open.value,
                "case_json": document,
                "case_sha256": digest,
                "opened_at": item.opened_at,
                "updated_at": item.opened_at,
            }
        )
    if rows:
        session.execute(insert(CaseRecord.__table__), rows)
    return out


def _existing(session: Session, key_col, value_col, keys: Sequence[Any]) -> dict[Any, Any]:
    found: dict[Any, Any] = {}
    keys = sorted(set(keys))
    for lo in range(0, len(keys), 5000):
        found.update(
            session.execute(
                select(key_col, value_col).where(key_col.in_(keys[lo : lo + 5000]))
            ).all()
        )
    return found


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class DecisionToRecord:
    case_id: str
    case_sha256: str
    decision: Decision
    decided_at: dt.datetime


def record_decisions(
    session: Session,
    items: Sequence[DecisionToRecord],
    audit_batch: AuditBatch,
    *,
    actor: str = "policy-engine",
) -> dict[str, int]:
    """Store each Decision v1 (idempotent per case, policy, version, case document) and add
    its ``decision.recorded`` entry to ``audit_batch`` -> ``{case_id: decision_id}``."""
    now = dt.datetime.now(UTC)
    prepared = []
    for item in items:
        d = item.decision
        if d.case_id != item.case_id:
            raise ValueError(f"decision.case_id: {d.case_id!r} is not case {item.case_id!r}")
        document = d.model_dump(mode="json")
        prepared.append((item, document, sha256_hex(canonical_json(document))))
    case_ids = sorted({i.case_id for i in items})
    existing: dict[tuple, tuple[int, str]] = {}
    for lo in range(0, len(case_ids), 5000):
        for row in session.execute(
            select(
                DecisionRecord.case_id, DecisionRecord.policy, DecisionRecord.policy_version,
                DecisionRecord.case_sha256, DecisionRecord.id, DecisionRecord.decision_sha256,
            ).where(DecisionRecord.case_id.in_(case_ids[lo : lo + 5000]))
        ):  # fmt: skip
            existing[(row[0], row[1], row[2], row[3])] = (row[4], row[5])
    out: dict[str, int] = {}
    rows, fresh = [], []
    for item, document, digest in prepared:
        d = item.decision
        key = (item.case_id, d.policy, d.policy_version, item.case_sha256)
        if key in existing:
            decision_id, stored = existing[key]
            if stored != digest:
                raise ConflictError(
                    f"case {item.case_id!r}: {d.policy} {d.policy_version} already decided "
                    "this case document differently"
                )
            out[item.case_id] = decision_id
            continue
        rows.append(
            {
                "case_id": item.case_id,
                "policy": d.policy,
                "policy_version": d.policy_version,
                "case_sha256": item.case_sha256,
                "decision": document,
                "decision_sha256": digest,
                "action": d.action.value,
                "priority": d.priority,
                "level": d.level,
                "requires_supervisor_approval": d.requires_supervisor_approval,
                "decided_at": item.decided_at.astimezone(UTC),
                "recorded_at": now,
            }
        )
        fresh.append((item, document, digest))
    if rows:
        table = DecisionRecord.__table__
        ids = (
            session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        for (item, document, digest), decision_id in zip(fresh, ids, strict=True):
            d = item.decision
            out[item.case_id] = decision_id
            audit_batch.add(
                "decision.recorded",
                actor=actor,
                subject={"case_id": item.case_id, "decision_id": decision_id},
                payload={
                    "policy": d.policy,
                    "policy_version": d.policy_version,
                    "case_sha256": item.case_sha256,
                    "decision_sha256": digest,
                    "decided_at": item.decided_at.astimezone(UTC).isoformat(),
                    "decision": document,
                },
            )
    return out


# --------------------------------------------------------------------------- officer actions


@dataclass(frozen=True)
class AcceptToRecord:
    case_id: str
    decision_id: int
    chosen_action: str
    officer: str
    acted_at: dt.datetime


def record_accepts(
    session: Session, items: Sequence[AcceptToRecord], audit_batch: AuditBatch
) -> dict[str, int]:
    """Record ``accept`` officer actions (audited ``officer.accept``) -> ``{case_id: id}``."""
    if not items:
        return {}
    rows = [
        {
            "case_id": i.case_id,
            "decision_id": i.decision_id,
            "kind": OfficerActionKind.accept.value,
            "chosen_action": i.chosen_action,
            "officer": i.officer,
            "reason": None,
            "acted_at": i.acted_at.astimezone(UTC),
        }
        for i in items
    ]
    table = OfficerAction.__table__
    ids = (
        session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    out = {}
    for item, action_id in zip(items, ids, strict=True):
        out[item.case_id] = action_id
        audit_batch.add(
            "officer.accept",
            actor=item.officer,
            subject={
                "case_id": item.case_id,
                "officer_action_id": action_id,
                "decision_id": item.decision_id,
            },
            payload={
                "chosen_action": item.chosen_action,
                "reason": None,
                "acted_at": item.acted_at.astimezone(UTC).isoformat(),
            },
        )
    return out
