"""Store operations of oversight (issue 11): complaints, panel frames, draws and findings.

Kept apart from :mod:`.repositories` (same conventions): every function works in the caller's
transaction and never commits; every write appends its audit entry in the same transaction.
Business rules (the complaint state machine, deadlines, who may see what) live in
:mod:`securecomm.oversight`; this module checks bounds and existence and writes.

No personal data enters the audit log: a complaint's narrative and the complainant's identity
are represented there by their SHA-256 only (``narrative_sha256``, ``identity_sha256``), so the
log proves what was recorded without disclosing it. The audit subject never carries a case id
for a complaint: a case's timeline is read by field-office staff, and a complaint must not be
visible to them (retaliation; IV rec. 4 "confidential").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .errors import InputError, NotFoundError
from .models import (
    ACTOR_MAX,
    CaseRecord,
    Complaint,
    ComplaintEvent,
    ComplaintEventType,
    ComplaintIdentity,
    ComplaintLink,
    ComplaintLinkKind,
    ComplaintStage,
    Detainer,
    Jurisdiction,
    PanelDraw,
    PanelFindingRecord,
    PanelFrame,
    PanelResponse,
    PanelSampleCase,
    Submission,
)
from .types import canonical_json, check_text

__all__ = [
    "NewComplaint",
    "SampleRow",
    "add_complaint_event",
    "add_complaint_link",
    "complaint_events",
    "complaint_identity",
    "complaint_links",
    "get_complaint",
    "get_complaint_by_receipt",
    "get_draw",
    "get_frame_by_sha256",
    "insert_complaint",
    "insert_draw",
    "insert_finding",
    "insert_frame",
    "insert_response",
    "link_target_exists",
    "record_breach_once",
    "sha256_text",
]


def sha256_text(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _actor(value: str, field: str = "actor") -> str:
    return check_text(field, value, min_length=1, max_length=ACTOR_MAX)


# --------------------------------------------------------------------------- complaints


def link_target_exists(session: Session, kind: ComplaintLinkKind, ref: str) -> bool:
    """Whether the booking (TCN), case, detainer (id) or jurisdiction (ORI) exists."""
    if kind is ComplaintLinkKind.booking:
        return session.scalar(select(Submission.id).where(Submission.tcn == ref)) is not None
    if kind is ComplaintLinkKind.case:
        return session.get(CaseRecord, ref) is not None
    if kind is ComplaintLinkKind.detainer:
        return ref.isdigit() and session.get(Detainer, int(ref)) is not None
    return session.get(Jurisdiction, ref) is not None


@dataclass(frozen=True)
class NewComplaint:
    receipt_code: str
    channel: str
    category: str
    language: str
    narrative: str
    anonymous: bool
    stage_due_at: datetime | None
    received_at: datetime
    recorded_by: str
    name: str | None = None
    contact: str | None = None


def insert_complaint(session: Session, new: NewComplaint) -> Complaint:
    """Store a complaint in stage ``received`` (with its identity row unless anonymous), its
    ``filed`` event and the audit entry ``complaint.filed``."""
    _actor(new.recorded_by, "recorded_by")
    row = Complaint(
        receipt_code=new.receipt_code, channel=new.channel, category=new.category,
        language=new.language, narrative=new.narrative, anonymous=new.anonymous,
        stage=ComplaintStage.received, assigned_to=None, received_at=new.received_at,
        stage_entered_at=new.received_at, stage_due_at=new.stage_due_at,
        recorded_by=new.recorded_by,
    )  # fmt: skip
    session.add(row)
    session.flush()
    identity_hash = None
    if not new.anonymous:
        session.add(
            ComplaintIdentity(
                complaint_id=row.id, name=new.name, contact=new.contact,
                recorded_at=new.received_at,
            )
        )  # fmt: skip
        identity_hash = sha256_text(canonical_json({"name": new.name, "contact": new.contact}))
    payload = {
        "channel": str(new.channel), "category": str(new.category),
        "language": str(new.language), "anonymous": new.anonymous,
        "narrative_sha256": sha256_text(new.narrative), "identity_sha256": identity_hash,
        "stage_due_at": new.stage_due_at.isoformat() if new.stage_due_at else None,
    }  # fmt: skip
    add_complaint_event(
        session, row, ComplaintEventType.filed, actor=new.recorded_by, at=new.received_at,
        stage_to=ComplaintStage.received, details=payload, audit_event="complaint.filed",
    )  # fmt: skip
    return row


def get_complaint(session: Session, complaint_id: int, *, lock: bool = False) -> Complaint:
    stmt = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFoundError(f"complaint: no complaint #{complaint_id}")
    return row


def get_complaint_by_receipt(session: Session, receipt_code: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.receipt_code == receipt_code))


def complaint_identity(session: Session, complaint_id: int) -> ComplaintIdentity | None:
    return session.get(ComplaintIdentity, complaint_id)


def complaint_links(session: Session, complaint_id: int) -> list[ComplaintLink]:
    return list(
        session.scalars(
            select(ComplaintLink)
            .where(ComplaintLink.complaint_id == complaint_id)
            .order_by(ComplaintLink.id)
        )
    )


def complaint_events(session: Session, complaint_ids: Sequence[int]) -> list[ComplaintEvent]:
    if not complaint_ids:
        return []
    return list(
        session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id.in_(list(complaint_ids)))
            .order_by(ComplaintEvent.complaint_id, ComplaintEvent.occurred_at, ComplaintEvent.id)
        )
    )


def add_complaint_event(
    session: Session,
    complaint: Complaint,
    event_type: ComplaintEventType,
    *,
    actor: str,
    at: datetime,
    stage_from: ComplaintStage | None = None,
    stage_to: ComplaintStage | None = None,
    details: dict[str, Any] | None = None,
    audit_event: str,
    breach_stage: str | None = None,
    extra_rows: Sequence[tuple[str, Any]] = (),
) -> ComplaintEvent:
    """One timeline event and its audit entry (``audit_event``), in this transaction."""
    _actor(actor)
    event = ComplaintEvent(
        complaint_id=complaint.id, event_type=event_type, stage_from=stage_from,
        stage_to=stage_to, breach_stage=breach_stage, actor=actor, occurred_at=at,
        details=details or {},
    )  # fmt: skip
    session.add(event)
    session.flush()
    audit.append(
        session, audit_event, actor=actor,
        subject={"complaint_id": complaint.id, "complaint_event_id": event.id},
        payload={"event": str(event_type),
                 "stage_from": str(stage_from) if stage_from else None,
                 "stage_to": str(stage_to) if stage_to else None, **(details or {})},
        recorded_at=at,
        # the states this event produced: audit verify --data recomputes them from the tables
        rows=[("complaints", complaint.id), ("complaint_events", event.id), *extra_rows],
    )  # fmt: skip
    return event


def add_complaint_link(
    session: Session,
    complaint: Complaint,
    kind: ComplaintLinkKind,
    ref: str,
    *,
    actor: str,
    at: datetime,
) -> bool:
    """Link ``complaint`` to an existing record (InputError if it does not exist); False if
    the link was already there."""
    if not link_target_exists(session, kind, ref):
        raise InputError(f"links.{kind.value}", f"no {kind.value} {ref!r} in the store")
    exists = session.scalar(
        select(ComplaintLink.id).where(
            ComplaintLink.complaint_id == complaint.id,
            ComplaintLink.kind == kind,
            ComplaintLink.ref == ref,
        )
    )
    if exists is not None:
        return False
    link = ComplaintLink(complaint_id=complaint.id, kind=kind, ref=ref)
    session.add(link)
    session.flush()
    add_complaint_event(
        session, complaint, ComplaintEventType.linked, actor=actor, at=at,
        details={"kind": kind.value, "ref": ref}, audit_event="complaint.linked",
        extra_rows=[("complaint_links", link.id)],
    )  # fmt: skip
    return True


def record_breach_once(
    session: Session, complaint: Complaint, *, at: datetime, actor: str
) -> ComplaintEvent | None:
    """Record that ``complaint`` overstayed its current stage, once per (complaint, stage):
    None if it was already recorded (also when a concurrent worker recorded it first)."""
    stage = complaint.stage.value
    if session.scalar(
        select(ComplaintEvent.id).where(
            ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.breach_stage == stage
        )
    ):
        return None
    try:
        with session.begin_nested():
            event = ComplaintEvent(
                complaint_id=complaint.id, event_type=ComplaintEventType.deadline_breached,
                stage_from=complaint.stage, breach_stage=stage, actor=actor, occurred_at=at,
                details={"due_at": complaint.stage_due_at.isoformat()},
            )  # fmt: skip
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    audit.append(
        session, "complaint.deadline_breached", actor=actor,
        subject={"complaint_id": complaint.id, "complaint_event_id": event.id},
        payload={"stage": stage, "due_at": complaint.stage_due_at.isoformat()},
        recorded_at=at, rows=[("complaint_events", event.id)],
    )  # fmt: skip
    return event


# --------------------------------------------------------------------------- panel


def get_frame_by_sha256(session: Session, sha256: str) -> PanelFrame | None:
    return session.scalar(select(PanelFrame).where(PanelFrame.frame_sha256 == sha256))


def insert_frame(
    session: Session,
    *,
    period: str,
    frame_sha256: str,
    case_count: int,
    tree_size: int,
    root_hash: str,
    signature: str | None,
    at: datetime,
    actor: str,
) -> PanelFrame:
    """Record a published frame (idempotent on its SHA-256) and audit ``panel.frame_published``."""
    _actor(actor)
    existing = get_frame_by_sha256(session, frame_sha256)
    if existing is not None:
        return existing
    row = PanelFrame(
        period=period, frame_sha256=frame_sha256, case_count=case_count, tree_size=tree_size,
        root_hash=root_hash, signature=signature, published_at=at, published_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.append(
        session, "panel.frame_published", actor=actor, subject={"panel_frame_id": row.id},
        payload={"period": period, "frame_sha256": frame_sha256, "case_count": case_count,
                 "tree_size": tree_size, "root_hash": root_hash},
        recorded_at=at,
    )  # fmt: skip
    return row


@dataclass(frozen=True)
class SampleRow:
    position: int
    case_id: str
    ticket: str
    stratum: str
    pseudonym: str


def insert_draw(
    session: Session,
    *,
    frame: PanelFrame,
    seed: str,
    size: int,
    parameters: dict[str, Any],
    sample_sha256: str,
    pseudonym_key: str,
    rows: Sequence[SampleRow],
    at: datetime,
    actor: str,
) -> PanelDraw:
    """Record a draw and its sample (every case must exist), audit ``panel.draw_recorded``."""
    _actor(actor)
    existing = session.scalar(
        select(PanelDraw).where(
            PanelDraw.frame_id == frame.id, PanelDraw.seed == seed,
            PanelDraw.sample_sha256 == sample_sha256,
        )
    )  # fmt: skip
    if existing is not None:
        return existing
    ids = [r.case_id for r in rows]
    known = set(session.scalars(select(CaseRecord.case_id).where(CaseRecord.case_id.in_(ids))))
    missing = [c for c in ids if c not in known]
    if missing:
        raise InputError("frame", f"{len(missing)} sampled case(s) are not in the store")
    draw = PanelDraw(
        frame_id=frame.id, seed=seed, size=size, parameters=parameters,
        sample_sha256=sample_sha256, pseudonym_key=pseudonym_key, drawn_at=at, drawn_by=actor,
    )  # fmt: skip
    session.add(draw)
    session.flush()
    session.add_all(
        PanelSampleCase(
            draw_id=draw.id, position=r.position, case_id=r.case_id, ticket=r.ticket,
            stratum=r.stratum, pseudonym=r.pseudonym,
        )
        for r in rows
    )  # fmt: skip
    session.flush()
    audit.append(
        session, "panel.draw_recorded", actor=actor, subject={"panel_draw_id": draw.id},
        payload={"frame_sha256": frame.frame_sha256, "seed": seed, "size": size,
                 "parameters": parameters, "sample_sha256": sample_sha256},
        recorded_at=at,
    )  # fmt: skip
    return draw


def get_draw(session: Session, draw_id: int) -> PanelDraw:
    draw = session.get(PanelDraw, draw_id)
    if draw is None:
        raise NotFoundError(f"draw: no panel draw #{draw_id}")
    return draw


def insert_finding(
    session: Session,
    sample: PanelSampleCase,
    *,
    reviewer: str,
    checklist: dict[str, str],
    finding: str,
    note: str | None,
    at: datetime,
) -> PanelFindingRecord:
    _actor(reviewer, "reviewer")
    row = PanelFindingRecord(
        sample_id=sample.id, reviewer=reviewer, checklist=checklist, finding=finding,
        note=note, recorded_at=at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    # the subject names the pseudonym, not the case: the case id stays out of panel records
    audit.append(
        session, "panel.finding_recorded", actor=reviewer,
        subject={"panel_draw_id": sample.draw_id, "panel_finding_id": row.id},
        payload={"pseudonym": sample.pseudonym, "checklist": checklist,
                 "finding": str(finding), "note_sha256": sha256_text(note)},
        recorded_at=at, rows=[("panel_findings", row.id)],
    )  # fmt: skip
    return row


def insert_response(
    session: Session,
    finding: PanelFindingRecord,
    *,
    responder: str,
    response: str,
    corrective_action: bool,
    at: datetime,
) -> PanelResponse:
    _actor(responder, "responder")
    row = PanelResponse(
        finding_id=finding.id, responder=responder, response=response,
        corrective_action=corrective_action, responded_at=at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.append(
        session, "panel.response_recorded", actor=responder,
        subject={"panel_finding_id": finding.id, "panel_response_id": row.id},
        payload={"corrective_action": corrective_action, "response_sha256": sha256_text(response)},
        recorded_at=at, rows=[("panel_responses", row.id)],
    )  # fmt: skip
    return row
