"""Complaints to CRCL (HSAC Task Force report IV.4 and IV rec. 4: "a meaningful, confidential,
and accessible complaint process").

Intake
    :func:`file_complaint` -- CRCL staff record a phone, paper or e-mail complaint;
    :func:`file_public` -- the public form: no account, anonymous allowed, returns a receipt
    code the complainant uses with :func:`public_status`. Language is one of the six notice
    languages. A complaint may be linked to bookings (TCN), cases, detainers and jurisdictions
    (ORI); each link is checked to exist.

State machine
    received -> acknowledged -> assigned -> investigating -> resolved | referred | closed.
    ``closed`` may also end a complaint before the investigation (withdrawn, duplicate, out
    of scope), always with a stated outcome. Anything else is refused (:class:`ComplaintError`
    naming both stages). Each stage has a deadline in business days
    (:data:`~.params.COMPLAINT_STAGE_DEADLINES`) on the federal calendar of the detainer
    clock (:func:`securecomm.law.detainer_clock.hold_until`, 24 counted hours a day).
    :func:`flag_breaches` (called by the worker every cycle) records each overstay once.

Confidentiality
    The complainant's name and contact, and the narrative, are shown only to the ``crcl``
    role (:func:`view`); every other role gets a redacted view, and no list, statistic or
    export carries them. Every event is in the audit log (without personal data, see
    :mod:`securecomm.store.oversight_repo`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..law.detainer_clock import business_hours_between, hold_until
from ..store import oversight_repo as repo
from ..store.errors import InputError, NotFoundError
from ..store.models import (
    COMPLAINT_TEXT_MAX,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintEventType,
    ComplaintLanguage,
    ComplaintLinkKind,
    ComplaintStage,
)
from ..textsafety import UnsafeTextError, find_unsafe
from ..textsafety import check_text as safe_text
from .access import AccessError, acting_user
from .params import COMPLAINT_STAGE_DEADLINES, CRCL_TIMEZONE, SMALL_CELL_MAX
from .protect import protect_counts

__all__ = [
    "FINAL_STAGES",
    "PUBLIC_INTAKE_ACTOR",
    "TRANSITIONS",
    "ComplaintError",
    "advance",
    "assign",
    "breaches",
    "breaches_pending",
    "deadline",
    "file_complaint",
    "file_public",
    "flag_breaches",
    "link",
    "list_complaints",
    "outcome_statistics",
    "public_status",
    "view",
]

S = ComplaintStage
FINAL_STAGES = frozenset({S.resolved, S.referred, S.closed})
TRANSITIONS: dict[ComplaintStage, frozenset[ComplaintStage]] = {
    S.received: frozenset({S.acknowledged, S.closed}),
    S.acknowledged: frozenset({S.assigned, S.closed}),
    S.assigned: frozenset({S.investigating, S.closed}),
    S.investigating: frozenset({S.resolved, S.referred, S.closed}),
    S.resolved: frozenset(),
    S.referred: frozenset(),
    S.closed: frozenset(),
}
#: the actor of public-form intake and of the worker's breach sweep
PUBLIC_INTAKE_ACTOR = "public"  # a reserved actor: no user may register under it
WORKER_ACTOR = "worker"
STAFF_CHANNELS = (ComplaintChannel.phone, ComplaintChannel.paper, ComplaintChannel.email)
_RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_WITHHELD = "[withheld: visible to CRCL only]"
_NAME_MAX = 200
_CONTACT_MAX = 500
_OUTCOME_MAX = 4000


class ComplaintError(ValueError):
    """The complaint step cannot be taken as asked; the message names the field."""


# --------------------------------------------------------------------------- checks


def _enum(cls, value: object, field: str):
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(m.value for m in cls)
        raise ComplaintError(f"{field}: {value!r} is not one of {choices}") from None


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return dt.datetime.now(dt.UTC)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ComplaintError("at: give an aware datetime")
    return at.astimezone(dt.UTC)


def _line(value: object, field: str, limit: int, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ComplaintError(f"{field}: required")
        return None
    if not isinstance(value, str):
        raise ComplaintError(f"{field}: text expected")
    if len(value) > limit:
        raise ComplaintError(f"{field}: longer than {limit} characters ({len(value)})")
    try:
        safe_text(value, field)
    except UnsafeTextError as exc:
        raise ComplaintError(str(exc)) from None
    return value.strip()


def _narrative(value: object, field: str = "narrative", limit: int = COMPLAINT_TEXT_MAX) -> str:
    """Free text over several lines: line breaks allowed, other unsafe characters refused."""
    if not isinstance(value, str) or not value.strip():
        raise ComplaintError(f"{field}: say what happened (required)")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > limit:
        raise ComplaintError(f"{field}: longer than {limit} characters ({len(text)})")
    for number, line in enumerate(text.split("\n"), start=1):
        ch = find_unsafe(line)
        if ch is not None:
            raise ComplaintError(
                f"{field}: line {number} contains U+{ord(ch):04X}, which is not allowed"
            )
    return text


def deadline(start: dt.datetime, stage: ComplaintStage) -> dt.datetime | None:
    """When a complaint that entered ``stage`` at ``start`` must have left it (None: final)."""
    days = COMPLAINT_STAGE_DEADLINES.value.get(stage.value)
    if days is None:
        return None
    return hold_until(start, CRCL_TIMEZONE.value, hold_hours=24 * days)


def business_days(start: dt.datetime, end: dt.datetime) -> float:
    """Business days (federal calendar, CRCL's local days) between two instants."""
    return business_hours_between(start, end, CRCL_TIMEZONE.value) / 24


def _receipt_code() -> str:
    raw = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _links(links: Iterable[tuple[str, str]]) -> list[tuple[ComplaintLinkKind, str]]:
    out = []
    for kind, ref in links:
        k = _enum(ComplaintLinkKind, kind, "links")
        ref = _line(ref, f"links.{k.value}", 64, required=True)
        out.append((k, ref))
    return out


# --------------------------------------------------------------------------- intake


def _file(
    session: Session,
    *,
    channel: ComplaintChannel,
    category: object,
    language: object,
    narrative: object,
    name: object,
    contact: object,
    anonymous: bool,
    links: Iterable[tuple[str, str]],
    actor: str,
    at: dt.datetime | None,
) -> Complaint:
    now = _now(at)
    category = _enum(ComplaintCategory, category, "category")
    language = _enum(ComplaintLanguage, language, "language")
    text = _narrative(narrative)
    name = _line(name, "name", _NAME_MAX, required=False)
    contact = _line(contact, "contact", _CONTACT_MAX, required=False)
    if anonymous and (name or contact):
        raise ComplaintError("anonymous: an anonymous complaint takes no name or contact")
    anonymous = anonymous or not (name or contact)
    wanted = _links(links)
    for kind, ref in wanted:  # every link checked before anything is written
        if not repo.link_target_exists(session, kind, ref):
            raise ComplaintError(f"links.{kind.value}: no {kind.value} {ref!r} in the store")
    for _ in range(5):  # a receipt collision is ~2^-60: retry, never reuse
        code = _receipt_code()
        if repo.get_complaint_by_receipt(session, code) is None:
            break
    else:  # pragma: no cover
        raise ComplaintError("receipt: could not allocate a unique receipt code")
    new = repo.NewComplaint(
        receipt_code=code, channel=channel, category=category, language=language,
        narrative=text, anonymous=anonymous, stage_due_at=deadline(now, S.received),
        received_at=now, recorded_by=actor, name=name, contact=contact,
    )  # fmt: skip
    try:
        complaint = repo.insert_complaint(session, new)
        for kind, ref in wanted:
            repo.add_complaint_link(session, complaint, kind, ref, actor=actor, at=now)
    except InputError as exc:
        raise ComplaintError(str(exc)) from None
    return complaint


def file_complaint(
    session: Session,
    *,
    channel: object,
    category: object,
    language: object = "en",
    narrative: object,
    name: object = None,
    contact: object = None,
    anonymous: bool = False,
    links: Iterable[tuple[str, str]] = (),
    actor: str,
    at: dt.datetime | None = None,
) -> Complaint:
    """CRCL staff record a complaint taken by phone, on paper or by e-mail."""
    ch = _enum(ComplaintChannel, channel, "channel")
    if ch not in STAFF_CHANNELS:
        raise ComplaintError(
            f"channel: staff intake is {', '.join(c.value for c in STAFF_CHANNELS)}; "
            "web complaints come through the public form"
        )
    return _file(
        session, channel=ch, category=category, language=language, narrative=narrative,
        name=name, contact=contact, anonymous=anonymous, links=links, actor=actor, at=at,
    )  # fmt: skip


def file_public(
    session: Session,
    *,
    category: object,
    language: object,
    narrative: object,
    name: object = None,
    contact: object = None,
    links: Iterable[tuple[str, str]] = (),
    at: dt.datetime | None = None,
) -> str:
    """The public form (no account): returns the receipt code. Without a name or contact
    the complaint is anonymous. It links a jurisdiction (ORIs are public) and nothing else:
    checking a TCN, case or detainer for a member of the public would tell them whether a
    person was booked; CRCL links those once it has the complaint."""
    links = list(links)
    if any(str(kind) != ComplaintLinkKind.jurisdiction.value for kind, _ref in links):
        raise ComplaintError(
            "links: the public form takes a jurisdiction only; CRCL links bookings, cases "
            "and detainers"
        )
    complaint = _file(
        session, channel=ComplaintChannel.web, category=category, language=language,
        narrative=narrative, name=name, contact=contact, anonymous=False, links=links,
        actor=PUBLIC_INTAKE_ACTOR, at=at,
    )  # fmt: skip
    return complaint.receipt_code


# --------------------------------------------------------------------------- workflow


def _load(session: Session, complaint_id: object, *, lock: bool = True) -> Complaint:
    if isinstance(complaint_id, bool) or not isinstance(complaint_id, int):
        try:
            complaint_id = int(str(complaint_id))
        except ValueError:
            raise ComplaintError(f"complaint: {complaint_id!r} is not a complaint number") from None
    try:
        return repo.get_complaint(session, complaint_id, lock=lock)
    except NotFoundError as exc:
        raise ComplaintError(str(exc)) from None


def _move(
    session: Session,
    c: Complaint,
    to: ComplaintStage,
    *,
    actor: str,
    now: dt.datetime,
    details: dict[str, Any],
) -> None:
    if now < c.stage_entered_at:
        raise ComplaintError(
            f"at: {now.isoformat()} is before the complaint entered {c.stage.value}"
        )
    frm = c.stage
    repo.add_complaint_event(
        session, c, ComplaintEventType.stage_changed, actor=actor, at=now, stage_from=frm,
        stage_to=to, details=details, audit_event="complaint.stage_changed",
    )  # fmt: skip
    c.stage = to
    c.stage_entered_at = now
    c.stage_due_at = deadline(now, to)
    if to in FINAL_STAGES:
        c.closed_at = now
    session.flush()


def advance(
    session: Session,
    complaint_id: object,
    to: object,
    *,
    actor: str,
    outcome: object = None,
    referred_to: object = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Move a complaint to stage ``to`` (see the state machine). ``assigned`` goes through
    :func:`assign`. A final stage needs ``outcome`` (a public statement, no personal data);
    ``referred`` also names the body referred to (e.g. the DOJ Civil Rights Division)."""
    now = _now(at)
    target = _enum(ComplaintStage, to, "to")
    c = _load(session, complaint_id)
    if target not in TRANSITIONS[c.stage]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[c.stage])) or "none: it is final"
        raise ComplaintError(
            f"to: complaint #{c.id} is {c.stage.value}; it cannot move to {target.value} "
            f"(allowed: {allowed})"
        )
    if target is S.assigned:
        raise ComplaintError("to: use assign, which names the investigator")
    details: dict[str, Any] = {}
    if target in FINAL_STAGES:
        text = _line(outcome, "outcome", _OUTCOME_MAX, required=True)
        c.outcome = text
        details["outcome_sha256"] = repo.sha256_text(text)
    elif outcome is not None:
        raise ComplaintError(f"outcome: only a final stage takes an outcome, not {target.value}")
    if target is S.referred:
        details["referred_to"] = _line(referred_to, "referred_to", 200, required=True)
    elif referred_to is not None:
        raise ComplaintError("referred_to: only a referral names a body referred to")
    _move(session, c, target, actor=actor, now=now, details=details)
    return c


def assign(
    session: Session,
    complaint_id: object,
    investigator: object,
    *,
    actor: str,
    at: dt.datetime | None = None,
) -> Complaint:
    """Assign an acknowledged complaint to an investigator -- a registered ``crcl`` user --
    (stage ``assigned``), or reassign one already assigned or under investigation (the stage
    and its deadline stay)."""
    now = _now(at)
    _line(investigator, "investigator", 128, required=True)
    try:  # the investigator is CRCL staff: a registered, active crcl user
        who = acting_user(session, investigator, role="crcl", field="investigator")
    except AccessError as exc:
        raise ComplaintError(str(exc)) from None
    c = _load(session, complaint_id)
    if c.stage is S.acknowledged:
        c.assigned_to = who
        _move(session, c, S.assigned, actor=actor, now=now, details={"assigned_to": who})
    elif c.stage in (S.assigned, S.investigating):
        previous, c.assigned_to = c.assigned_to, who
        repo.add_complaint_event(
            session, c, ComplaintEventType.note, actor=actor, at=now,
            details={"reassigned_from": previous, "assigned_to": who},
            audit_event="complaint.reassigned",
        )  # fmt: skip
    else:
        raise ComplaintError(
            f"complaint #{c.id} is {c.stage.value}: only an acknowledged complaint can be "
            "assigned (or an assigned one reassigned)"
        )
    return c


def link(
    session: Session,
    complaint_id: object,
    kind: object,
    ref: object,
    *,
    actor: str,
    at: dt.datetime | None = None,
) -> bool:
    """Link a complaint to an existing booking, case, detainer or jurisdiction."""
    ((k, r),) = _links([(kind, ref)])
    c = _load(session, complaint_id)
    try:
        return repo.add_complaint_link(session, c, k, r, actor=actor, at=_now(at))
    except InputError as exc:
        raise ComplaintError(str(exc)) from None


def _unflagged_overdue(now: dt.datetime):
    """Complaints overdue in their current stage whose breach is not yet recorded."""
    flagged = (
        select(ComplaintEvent.id)
        .where(
            ComplaintEvent.complaint_id == Complaint.id,
            ComplaintEvent.breach_stage == Complaint.stage,
        )
        .exists()
    )
    return select(Complaint).where(
        Complaint.stage.not_in(list(FINAL_STAGES)),
        Complaint.stage_due_at.is_not(None),
        Complaint.stage_due_at < now,
        ~flagged,
    )


def breaches_pending(session: Session, now: dt.datetime) -> int:
    """How many breaches :func:`flag_breaches` would record now (a read: the worker asks
    before it opens a write transaction)."""
    sub = _unflagged_overdue(_now(now)).subquery()
    return session.scalar(select(func.count()).select_from(sub)) or 0


def flag_breaches(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    """Record every complaint whose current stage is overdue at ``now``, once per complaint
    and stage (called by the worker each cycle). Returns what was newly flagged."""
    now = _now(now)
    overdue = session.scalars(
        _unflagged_overdue(now).order_by(Complaint.stage_due_at, Complaint.id)
    ).all()
    flagged = []
    for c in overdue:
        if repo.record_breach_once(session, c, at=now, actor=WORKER_ACTOR) is not None:
            flagged.append(
                {"complaint_id": c.id, "stage": c.stage.value,
                 "due_at": c.stage_due_at.isoformat(), "category": c.category.value}
            )  # fmt: skip
    return flagged


# --------------------------------------------------------------------------- views


def _summary(c: Complaint, now: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "id": c.id,
        "channel": c.channel.value,
        "category": c.category.value,
        "language": c.language.value,
        "anonymous": c.anonymous,
        "stage": c.stage.value,
        "assigned_to": c.assigned_to,
        "received_at": c.received_at.isoformat(),
        "stage_entered_at": c.stage_entered_at.isoformat(),
        "stage_due_at": c.stage_due_at.isoformat() if c.stage_due_at else None,
        "overdue": bool(now and c.stage_due_at and c.stage_due_at < now),
        "closed_at": c.closed_at.isoformat() if c.closed_at else None,
        "outcome": c.outcome,
    }


def view(session: Session, complaint_id: object, *, role: str) -> dict[str, Any]:
    """A complaint with its links and timeline. Only ``crcl`` sees the complainant's name
    and contact, the narrative and the receipt code; any other role gets them withheld."""
    c = _load(session, complaint_id, lock=False)
    crcl = role == "crcl"
    doc = _summary(c, dt.datetime.now(dt.UTC))
    identity = repo.complaint_identity(session, c.id) if crcl else None
    doc["receipt_code"] = c.receipt_code if crcl else _WITHHELD
    doc["narrative"] = c.narrative if crcl else _WITHHELD
    doc["complainant"] = (
        {"name": identity.name, "contact": identity.contact} if identity else None
    ) if crcl else _WITHHELD  # fmt: skip
    doc["links"] = [
        {"kind": x.kind.value, "ref": x.ref} for x in repo.complaint_links(session, c.id)
    ]
    doc["events"] = [
        {"type": e.event_type.value, "at": e.occurred_at.isoformat(), "actor": e.actor,
         "stage_from": e.stage_from.value if e.stage_from else None,
         "stage_to": e.stage_to.value if e.stage_to else None,
         "details": {k: v for k, v in (e.details or {}).items() if not k.endswith("_sha256")}}
        for e in repo.complaint_events(session, [c.id])
    ]  # fmt: skip
    return doc


def public_status(session: Session, receipt_code: object) -> dict[str, Any]:
    """What the complainant sees with the receipt code: stage, dates, the outcome."""
    code = str(receipt_code or "").strip().upper()
    c = repo.get_complaint_by_receipt(session, code) if code else None
    if c is None:
        raise ComplaintError("receipt: no complaint with this receipt code")
    return {
        "receipt_code": c.receipt_code,
        "category": c.category.value,
        "stage": c.stage.value,
        "received_on": c.received_at.date().isoformat(),
        "last_update": c.stage_entered_at.isoformat(),
        "next_step_due": c.stage_due_at.isoformat() if c.stage_due_at else None,
        "outcome": c.outcome,
    }


def list_complaints(
    session: Session,
    *,
    stage: object = None,
    category: object = None,
    overdue: bool = False,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Complaints (newest first), without identity or narrative whatever the role."""
    now = _now(now)
    stmt = select(Complaint).order_by(Complaint.received_at.desc(), Complaint.id.desc())
    if stage is not None:
        stmt = stmt.where(Complaint.stage == _enum(ComplaintStage, stage, "stage"))
    if category is not None:
        stmt = stmt.where(Complaint.category == _enum(ComplaintCategory, category, "category"))
    if overdue:
        stmt = stmt.where(Complaint.stage.not_in(list(FINAL_STAGES)), Complaint.stage_due_at < now)
    return [_summary(c, now) for c in session.scalars(stmt)]


def breaches(session: Session) -> list[dict[str, Any]]:
    """Every deadline breach recorded, oldest first."""
    rows = session.execute(
        select(Complaint, ComplaintEvent)
        .join(ComplaintEvent, ComplaintEvent.complaint_id == Complaint.id)
        .where(ComplaintEvent.event_type == ComplaintEventType.deadline_breached)
        .order_by(ComplaintEvent.occurred_at, ComplaintEvent.id)
    ).all()
    return [
        {"complaint_id": c.id, "category": c.category.value, "stage": e.breach_stage,
         "due_at": (e.details or {}).get("due_at"), "flagged_at": e.occurred_at.isoformat(),
         "current_stage": c.stage.value}
        for c, e in rows
    ]  # fmt: skip


def _stage_times(session: Session, complaints: Sequence[Complaint]) -> dict[str, list[float]]:
    """Business days each complaint spent in each stage it has left."""
    times: dict[str, list[float]] = defaultdict(list)
    # the stage a complaint left started at the previous stage change (or at filing)
    by_complaint: dict[int, list[Any]] = defaultdict(list)
    for e in repo.complaint_events(session, [c.id for c in complaints]):
        if e.event_type in (ComplaintEventType.filed, ComplaintEventType.stage_changed):
            by_complaint[e.complaint_id].append(e)
    for events in by_complaint.values():
        for before, after in pairwise(events):
            times[after.stage_from.value].append(
                business_days(before.occurred_at, after.occurred_at)
            )
    return times


def outcome_statistics(session: Session) -> dict[str, Any]:
    """Public outcome statistics: counts by category and by stage, median business days per
    stage; counts 1..10 suppressed with a complementary cell where a total is published
    (:data:`~.params.SMALL_CELL_MAX`), a median only over more than 10 complaints."""
    complaints = list(session.scalars(select(Complaint)))
    k = SMALL_CELL_MAX.value
    by_category = Counter(c.category.value for c in complaints)
    by_stage = Counter(c.stage.value for c in complaints)
    times = _stage_times(session, complaints)
    medians = {}
    for stage in (s.value for s in S if s not in FINAL_STAGES):
        values = times.get(stage, [])
        medians[stage] = round(statistics.median(values), 1) if len(values) > k else None
    total = len(complaints)
    return {
        "total": total if total == 0 or total > k else None,
        "by_category": protect_counts(
            {c.value: by_category.get(c.value, 0) for c in ComplaintCategory}, k, total=total
        ),
        "by_stage": protect_counts({s.value: by_stage.get(s.value, 0) for s in S}, k, total=total),
        "median_business_days_in_stage": medians,
        "suppression": f"counts 1-{k} suppressed ({SMALL_CELL_MAX.citation})",
        "deadlines_business_days": COMPLAINT_STAGE_DEADLINES.value,
        "deadlines_source": COMPLAINT_STAGE_DEADLINES.citation,
    }
