"""Detainer lifecycle: lodged -> release-eligible -> hold-until clock -> custody | lifted | expired.

Sources: 8 CFR 287.7(d) and the Task Force report's footnote 7 (a detainer holds a person at
most 48 hours, excluding Saturdays, Sundays and holidays, beyond the time they would otherwise
be released; then it expires); III rec. 1 (conditional, post-conviction detainers); IV rec. 5
(monitor "unlawful detention past 48 hours on expired detainers"); DESIGN 2 and 3.9.

State machine (``Detainer.state``; every transition writes exactly one ``DetainerEvent``,
which :func:`~securecomm.store.repositories.add_detainer_event` audits; a held-past-expiry
finding adds its own)::

    lodge(conditional_detainer) ──> pending_condition ──conviction──────────> active
                                      │    (activated; LEA told, subject notice served)
                                      ├──dismissal / acquittal of every
                                      │  conditioning charge──> lapsed   (LEA told)
                                      └──lift──> lifted                  (LEA told)
    lodge(detainer) ──────────────> active
    lodge(notification_request) ──> active
    (never against a person whose status determination is a citizen; where the case has a
    recorded final action, only the kind it names: :mod:`.final_action`)
    active ──release-eligible──> holding   (detainer: hold_until computed; LEA told the time)
    active ──release-eligible──> active    (notification request: time recorded, no hold)
    active | holding ──custody──> custody
    active | holding ──lift──> lifted      (LEA told)
    holding ──expire_due(now >= hold_until)──> expired          (LEA told the hold has ended)
    active | holding ──LEA reports release──> expired           (``released`` event; ended
                                                                 without ICE custody; after
                                                                 hold_until: an ``expired``
                                                                 event dated hold_until)
    expired ──custody──> custody      (only if no release was reported: the LEA kept holding)
    expired | lifted ──LEA reports release──> (no change; a ``released`` event records it)

    custody, lifted, lapsed, expired are closed (``closed_at`` set): nothing else leaves them.
    A disposition that decides nothing yet, on a pending conditional detainer, is a ``note``.

Held past expiry (IV rec. 5)
    A release (or an ICE custody) reported *after* ``hold_until`` means the person was held on
    an expired detainer. Besides the transition's own event, a ``held_past_expiry`` event
    (dated at the release or custody; audited ``detainer.held_past_expiry``) records it, with
    ``details["violation"] == "held_past_expiry"``, ``hours_beyond_limit`` (hours counted by
    :func:`~securecomm.law.detainer_clock.business_hours_between`, i.e. under the same
    business-day rule as the hold) and ``elapsed_hours_beyond_limit`` (real hours).
    :func:`violations` lists them (and, for rows written before migration 0003, the
    ``expired`` / ``note`` / ``custody_assumed`` events that carried the violation then).

Idempotency
    :func:`lodge` is idempotent per (case, kind). Repeating a transition with the same time
    (and reason) is a no-op that writes nothing; the same transition with a different time
    raises :class:`LifecycleError` (a correction is not a retry). :func:`expire_due` only
    touches holds still ``holding``. Nothing here commits: the caller owns the transaction.
    Each function locks the rows it changes (``SELECT … FOR UPDATE`` on PostgreSQL).

The clock's parameters
    ``hold_until`` uses ``detainer.hold_hours`` and ``detainer.exclude_non_business_days`` of
    the policy the detainer was lodged under, in the holding facility's time zone
    (``Jurisdiction.timezone``). :func:`lodge` records it in the detainer's ``policy`` /
    ``policy_version`` columns (and, for the record, in the ``issued`` event's details);
    :func:`report_release_eligible` reads the columns (migration 0003 filled them for rows
    lodged before it). A release-eligible time before the detainer was issued is refused.
    A policy that no longer resolves (a variant
    file moved, or now a different variant) falls back to the built-in defaults (48 hours,
    business days only), and the event details say so (``fallback_reason``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..law.detainer_clock import (
    DETAINER_CITATION,
    DetainerClockError,
    business_hours_between,
)
from ..law.detainer_clock import hold_until as clock_hold_until
from ..law.model import Pack
from ..law.parameters import DEFAULTS
from ..law.rules import conditional
from ..law.schema import Action, Disposition
from ..store import audit
from ..store.models import (
    ACTOR_MAX,
    CASE_ID_MAX,
    POLICY_REF_MAX,
    Booking,
    CaseRecord,
    Charge,
    Detainer,
    DetainerEvent,
    DetainerEventType,
    DetainerKind,
    DetainerState,
    Jurisdiction,
    NoticeKind,
    OfficerAction,
)
from ..store.repositories import (
    DetainerToIssue,
    NoticeToCreate,
    add_detainer_event,
    create_notice,
    create_notices,
    issue_detainers,
    record_charge_disposition,
)
from . import notices
from .final_action import citizen_refusal, citizenship_of

__all__ = [
    "ALLOWED_FROM",
    "SYSTEM_ACTOR",
    "VIOLATION_CITATION",
    "CaseNotFoundError",
    "DetainerNotFoundError",
    "LifecycleError",
    "LodgeRequest",
    "assume_custody",
    "due",
    "events",
    "expire_due",
    "lift",
    "lodge",
    "lodge_many",
    "record_disposition",
    "report_release",
    "report_release_eligible",
    "violations",
]

S = DetainerState
E = DetainerEventType

#: The actor of transitions the clock makes by itself (:func:`expire_due`).
SYSTEM_ACTOR = "detainer-clock"
VIOLATION_CITATION = f"{DETAINER_CITATION}; HSAC Task Force report IV rec. 5"

#: transition -> the states it may start from.
ALLOWED_FROM: dict[str, tuple[DetainerState, ...]] = {
    "report_release_eligible": (S.active,),
    "assume_custody": (S.active, S.holding, S.expired),
    "lift": (S.pending_condition, S.active, S.holding),
    "report_release": (S.active, S.holding, S.expired, S.lifted),
    "activate": (S.pending_condition,),
    "lapse": (S.pending_condition,),
    "expire": (S.holding,),
}

_ORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
_ID_MAX = 2**63 - 1
_REASON_MAX = 10_000
_POLICY_MAX = 1_000
_HOUR = timedelta(hours=1)
_DISPOSED = (Disposition.convicted, Disposition.dismissed, Disposition.acquitted)


class LifecycleError(ValueError):
    """A lifecycle request that cannot be carried out. The message names the detainer (or the
    field), its state and the attempted transition; the same are attributes."""

    def __init__(
        self,
        message: str,
        *,
        detainer_id: int | None = None,
        state: DetainerState | None = None,
        transition: str | None = None,
    ) -> None:
        super().__init__(message)
        self.detainer_id = detainer_id
        self.state = state
        self.transition = transition


class DetainerNotFoundError(LifecycleError, LookupError):
    """No detainer with that id."""


class CaseNotFoundError(LifecycleError, LookupError):
    """No case with that id."""


# --------------------------------------------------------------------------- input checks


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _aware(field: str, value: object, transition: str) -> datetime:
    if not isinstance(value, datetime):
        raise LifecycleError(
            f"{field}: expected a timezone-aware datetime, got {type(value).__name__}",
            transition=transition,
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise LifecycleError(
            f"{field}: naive datetime {value.isoformat()} is ambiguous; give an aware datetime "
            "(the CLI reads a time without offset as the facility's local time)",
            transition=transition,
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise LifecycleError(f"{field}: {value.isoformat()} is out of range") from exc


def _text(field: str, value: object, max_length: int, transition: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LifecycleError(
            f"{field}: expected a non-empty string, got {_show(value)}", transition=transition
        )
    if len(value) > max_length:
        raise LifecycleError(f"{field}: longer than {max_length} characters", transition=transition)
    if "\x00" in value:
        raise LifecycleError(f"{field}: contains a NUL character", transition=transition)
    return value


def _ori(value: object, transition: str) -> str:
    if not isinstance(value, str) or not _ORI.match(value):
        raise LifecycleError(
            f"ori: {_show(value)} is not an ORI (2 letters and 7 letters or digits)",
            transition=transition,
        )
    return value


def _id(field: str, value: object, transition: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LifecycleError(
            f"{field}: expected an integer id, got {_show(value)}", transition=transition
        )
    return value


def _kind(value: object) -> DetainerKind:
    try:
        return DetainerKind(value)
    except ValueError:
        raise LifecycleError(
            f"kind: {_show(value)} is not one of {', '.join(k.value for k in DetainerKind)}",
            transition="lodge",
        ) from None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat()


def _describe(d: Detainer) -> str:
    return f"detainer {d.id} ({d.kind.value}, case {d.case_id!r}, {d.ori})"


def _deny(d: Detainer, transition: str, why: str | None = None) -> LifecycleError:
    allowed = ", ".join(s.value for s in ALLOWED_FROM[transition])
    message = f"{_describe(d)} is {d.state.value}: cannot {transition} (allowed from {allowed})"
    if why:
        message += f"; {why}"
    return LifecycleError(message, detainer_id=d.id, state=d.state, transition=transition)


def _conflict(d: Detainer, transition: str, message: str) -> LifecycleError:
    return LifecycleError(
        f"{_describe(d)} is {d.state.value}: cannot {transition}: {message}",
        detainer_id=d.id,
        state=d.state,
        transition=transition,
    )


# --------------------------------------------------------------------------- loading


def _load(session: Session, detainer_id: object, transition: str) -> Detainer:
    detainer_id = _id("detainer_id", detainer_id, transition)
    row = None
    if 0 < detainer_id <= _ID_MAX:
        row = session.get(Detainer, detainer_id, with_for_update=True)
    if row is None:
        raise DetainerNotFoundError(
            f"detainer {detainer_id} does not exist (cannot {transition})",
            detainer_id=detainer_id,
            transition=transition,
        )
    return row


def events(session: Session, detainer_id: int) -> list[DetainerEvent]:
    """A detainer's events in the order they occurred."""
    stmt = (
        select(DetainerEvent)
        .where(DetainerEvent.detainer_id == detainer_id)
        .order_by(DetainerEvent.occurred_at, DetainerEvent.id)
    )
    return list(session.scalars(stmt))


def _last_event(session: Session, d: Detainer, event_type: DetainerEventType):
    stmt = (
        select(DetainerEvent)
        .where(DetainerEvent.detainer_id == d.id, DetainerEvent.event_type == event_type)
        .order_by(DetainerEvent.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def _release_event(session: Session, d: Detainer) -> DetainerEvent | None:
    for event in reversed(events(session, d.id)):
        if isinstance(event.details, Mapping) and event.details.get("released_at"):
            return event
    return None


def facility_zone(session: Session, ori: str) -> str:
    """The time-zone key of the facility of ``ori`` in which release times are given and the
    hold clock runs (8 CFR 287.7(d)); an unknown jurisdiction or zone is an error, never a
    fall-back to UTC. The one lookup every front end (CLI, web pages, API) uses."""
    return _zone(session, ori, "facility_zone").key


def _zone(session: Session, ori: str, transition: str) -> ZoneInfo:
    jurisdiction = session.get(Jurisdiction, ori)
    if jurisdiction is None:
        raise LifecycleError(
            f"ori: {ori} is not a participating jurisdiction", transition=transition
        )
    try:
        return ZoneInfo(jurisdiction.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LifecycleError(
            f"jurisdiction {ori}: unknown time zone {jurisdiction.timezone!r}",
            transition=transition,
        ) from exc


# --------------------------------------------------------------------------- policy


def _resolve_policy(ref: str) -> tuple[Pack | None, str | None]:
    from ..policy_files import load_policy

    try:
        return load_policy(ref), None
    except (ValueError, OSError) as exc:
        return None, str(exc)


def _policy_at_lodge(policy: str) -> tuple[str, Pack | None, str | None]:
    """(reference to resolve later, pack, why not resolvable). A variant file is referred to
    by its absolute path, so a later call from another working directory still finds it."""
    ref = policy
    path = Path(policy)
    try:
        if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
            ref = str(path.resolve())
    except (OSError, ValueError):  # a name too long for the file system, say
        pass
    pack, why = _resolve_policy(ref)
    return ref, pack, why


def _policy_parameters(session: Session, d: Detainer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parameter values of the policy ``d`` was lodged under (name -> value), and a
    description of where they came from for event details. Read from the detainer's own
    ``policy`` / ``policy_version`` columns (migration 0003 filled them for older rows)."""
    policy = d.policy
    ref = policy
    lodged_version = d.policy_version
    pack: Pack | None = None
    if not isinstance(ref, str) or not ref:
        why = "no policy was recorded when the detainer was lodged"
    else:
        pack, why = _resolve_policy(ref)
        if pack is not None and lodged_version and pack.policy_version != lodged_version:
            why = (
                f"{ref!r} now resolves to version {pack.policy_version}, not "
                f"{lodged_version} under which the detainer was lodged"
            )
            pack = None
    values = {name: p.value for name, p in DEFAULTS.items()}
    source: dict[str, Any] = {"policy": policy, "policy_version": lodged_version}
    if pack is not None:
        values.update({name: p.value for name, p in pack.parameters.items()})
        source["policy_version"] = pack.policy_version
    else:
        source["fallback"] = "built-in defaults"
        source["fallback_reason"] = f"policy not resolvable: {why}"
    return values, source


def _clock_parameters(session: Session, d: Detainer) -> tuple[float, bool, dict[str, Any]]:
    values, source = _policy_parameters(session, d)
    hours = values["detainer.hold_hours"]
    exclude = values["detainer.exclude_non_business_days"]
    source["parameters"] = {
        "detainer.hold_hours": hours,
        "detainer.exclude_non_business_days": exclude,
    }
    return hours, exclude, source


def _exclude_used(session: Session, d: Detainer) -> bool:
    """The business-day rule the hold was computed with (read back from the event)."""
    event = _last_event(session, d, E.release_eligible_reported)
    if event is not None and isinstance(event.details, Mapping):
        used = (event.details.get("parameters") or {}).get("detainer.exclude_non_business_days")
        if isinstance(used, bool):
            return used
    return _clock_parameters(session, d)[1]


# --------------------------------------------------------------------------- LEA notices

_REQUEST_TEXT = {
    DetainerKind.detainer: (
        "DHS requests that you maintain custody of the subject for a period not to exceed "
        "{hours} hours, excluding Saturdays, Sundays and federal holidays, beyond the time the "
        "subject would otherwise be released, and that you report the subject's "
        "release-eligible time to DHS. Give the subject the notice below in a language they "
        "read."
    ),
    DetainerKind.conditional_detainer: (
        "Conditional (post-conviction) detainer: it becomes operative only if the subject is "
        "convicted of a pending charge, and DHS will tell you if it does. Until then it does "
        "not authorize holding the subject beyond the time the subject would otherwise be "
        "released. Once operative it asks you to maintain custody for a period not to exceed "
        "{hours} hours, excluding Saturdays, Sundays and federal holidays, beyond that time. "
        "Report dispositions of the pending charges to DHS. Give the subject the notice below "
        "in a language they read."
    ),
    DetainerKind.notification_request: (
        "DHS requests notice of the subject's release-eligible time before the subject is "
        "released. This request does not authorize holding the subject beyond the time the "
        "subject would otherwise be released. Give the subject the notice below in a language "
        "they read."
    ),
}


def _notice_spec(
    detainer_id: int,
    case_id: str,
    kind: DetainerKind,
    state: DetainerState,
    ori: str,
    event: str,
    notice_kind: NoticeKind,
    at: datetime,
    actor: str,
    content: Mapping[str, Any],
) -> NoticeToCreate:
    body = {
        "event": event,
        "detainer_id": detainer_id,
        "case_id": case_id,
        "kind": kind.value,
        "state": state.value,
        "at": _iso(at),
        **content,
    }
    return NoticeToCreate(
        ori=ori,
        kind=notice_kind,
        idempotency_key=notices.notice_key("detainer", detainer_id, event),
        content=body,
        created_at=at,
        case_id=case_id,
        detainer_id=detainer_id,
        actor=actor,
    )


def _notify(
    session: Session,
    d: Detainer,
    event: str,
    kind: NoticeKind,
    at: datetime,
    actor: str,
    content: Mapping[str, Any],
) -> None:
    spec = _notice_spec(d.id, d.case_id, d.kind, d.state, d.ori, event, kind, at, actor, content)
    create_notice(
        session,
        ori=spec.ori,
        kind=spec.kind,
        idempotency_key=spec.idempotency_key,
        content=spec.content,
        created_at=spec.created_at,
        case_id=spec.case_id,
        detainer_id=spec.detainer_id,
        actor=spec.actor,
    )


def _subject_block(kind: DetainerKind) -> dict[str, Any]:
    return {
        "subject_notice": notices.subject_notice_texts(kind),
        "subject_notice_languages": list(notices.LANGUAGES),
        "hotline": notices.hotline(),
    }


def _hold_limit(hours: float, exclude: bool) -> dict[str, Any]:
    return {
        "hours": hours,
        "excluding": ["saturday", "sunday", "federal_holiday"] if exclude else [],
        "citation": DETAINER_CITATION,
    }


# --------------------------------------------------------------------------- lodge


@dataclass(frozen=True)
class LodgeRequest:
    """One :func:`lodge` call's arguments, for :func:`lodge_many`."""

    case_id: str
    officer_action_id: int | None
    ori: str
    kind: DetainerKind
    issued_at: datetime
    actor: str
    policy: str


def lodge(
    session: Session,
    *,
    case_id: str,
    officer_action_id: int | None,
    ori: str,
    kind: DetainerKind,
    issued_at: datetime,
    actor: str,
    policy: str,
) -> Detainer:
    """Lodge a detainer, conditional detainer or notification request with the facility of
    ``ori``; write its ``issued`` event and the LEA notice (kind ``detainer_issued`` or
    ``notification_request``) carrying the notice to the subject in six languages and the
    hotline. Idempotent per (case, kind): a second call returns the existing detainer and
    writes nothing (it must name the same facility). ``policy`` (pack name or variant file)
    is recorded for the hold clock (the detainer's ``policy`` / ``policy_version`` columns
    and the ``issued`` event's details)."""
    request = LodgeRequest(case_id, officer_action_id, ori, kind, issued_at, actor, policy)
    (detainer_id,) = lodge_many(session, [request])
    row = session.get(Detainer, detainer_id)
    assert row is not None
    return row


def lodge_many(
    session: Session,
    requests: Sequence[LodgeRequest],
    *,
    audit_batch: audit.AuditBatch | None = None,
) -> list[int]:
    """:func:`lodge` for a batch (the pipeline's ``act`` stage) -> the detainer id per
    request. Same checks, rows, events, notices and audit entries as one call each; the
    writes are multi-row and the audit entries go in one append (``audit_batch``: the
    caller's, flushed by the caller). A repeat of a (case, kind) within the batch or already
    lodged is a no-op that returns the existing id."""
    t = "lodge"
    checked: list[tuple[LodgeRequest, DetainerKind, datetime]] = []
    for r in requests:
        kind = _kind(r.kind)
        _text("case_id", r.case_id, CASE_ID_MAX, t)
        _ori(r.ori, t)
        issued_at = _aware("issued_at", r.issued_at, t)
        _text("actor", r.actor, ACTOR_MAX, t)
        _text("policy", r.policy, _POLICY_MAX, t)
        if r.officer_action_id is not None:
            _id("officer_action_id", r.officer_action_id, t)
        checked.append((r, kind, issued_at))
    case_ids = sorted({r.case_id for r, _, _ in checked})
    # lock the cases (PostgreSQL: concurrent lodges of a case queue here)
    cases = {
        c.case_id: c
        for c in session.scalars(
            select(CaseRecord).where(CaseRecord.case_id.in_(case_ids)).with_for_update()
        )
    }
    existing: dict[tuple[str, DetainerKind], Detainer] = {
        (d.case_id, d.kind): d
        for d in session.scalars(
            select(Detainer).where(Detainer.case_id.in_(case_ids)).order_by(Detainer.id)
        )
    }
    action_ids = sorted(
        {r.officer_action_id for r, _, _ in checked if r.officer_action_id is not None}
    )
    action_case = dict(
        session.execute(
            select(OfficerAction.id, OfficerAction.case_id).where(
                OfficerAction.id.in_([a for a in action_ids if 0 < a <= _ID_MAX])
            )
        ).all()
    )
    zones: dict[str, ZoneInfo] = {}
    policies: dict[str, tuple[str, Pack | None, str | None]] = {}
    todo: list[tuple[int, LodgeRequest, DetainerKind, datetime, DetainerToIssue]] = []
    planned: dict[tuple[str, DetainerKind], int] = {}
    out: list[int | None] = []
    for n, (r, kind, issued_at) in enumerate(checked):
        if r.case_id not in cases:
            raise CaseNotFoundError(f"case_id: case {r.case_id!r} does not exist", transition=t)
        case = cases[r.case_id]
        # never against a citizen, whoever asks (8 CFR 287.7(a); IV rec. 3)
        refused = citizen_refusal(citizenship_of(case.case_json), kind.value)
        if refused is not None:
            raise LifecycleError(f"case {r.case_id!r}: {refused}", transition=t)
        # lodging follows the final action (one stored fact) where one is recorded
        if case.final_action is not None and Action(case.final_action).value != kind.value:
            raise LifecycleError(
                f"kind: case {r.case_id!r} has the final action "
                f"{Action(case.final_action).value}; a {kind.value} is not what it lodges",
                transition=t,
            )
        found = existing.get((r.case_id, kind))
        if found is not None:
            if found.ori != r.ori:
                raise _conflict(found, t, f"it is lodged with {found.ori}, not {r.ori}")
            out.append(found.id)
            continue
        if (r.case_id, kind) in planned:  # a repeat within the batch
            out.append(None)
            continue
        if r.ori not in zones:
            zones[r.ori] = _zone(session, r.ori, t)
        if r.officer_action_id is not None and action_case.get(r.officer_action_id) != r.case_id:
            raise LifecycleError(
                f"officer_action_id: {r.officer_action_id} is not an officer action of case "
                f"{r.case_id!r}",
                transition=t,
            )
        if r.policy not in policies:
            policies[r.policy] = _policy_at_lodge(r.policy)
        ref, pack, why = policies[r.policy]
        state = S.pending_condition if kind is DetainerKind.conditional_detainer else S.active
        details: dict[str, Any] = {
            "kind": kind.value,
            "state": state.value,
            "policy": r.policy,
            "policy_ref": ref,
            "policy_version": pack.policy_version if pack is not None else None,
            "officer_action_id": r.officer_action_id,
        }
        if pack is None:
            details["policy_note"] = f"not resolvable at lodge ({why}); built-in defaults apply"
        planned[(r.case_id, kind)] = n
        todo.append(
            (
                n, r, kind, issued_at,
                DetainerToIssue(
                    r.case_id, kind, r.ori, issued_at, r.actor,
                    officer_action_id=r.officer_action_id, state=state, details=details,
                    policy=ref[:POLICY_REF_MAX],
                    policy_version=pack.policy_version if pack is not None else None,
                ),
            )
        )  # fmt: skip
        out.append(None)
    batch = audit_batch if audit_batch is not None else audit.AuditBatch(session)
    ids = issue_detainers(session, [spec for *_, spec in todo], audit_batch=batch)
    notices_to_send = []
    for (n, r, kind, issued_at, spec), detainer_id in zip(todo, ids, strict=True):
        out[n] = detainer_id
        ref, pack, _why = policies[r.policy]
        params = pack.parameters if pack is not None else DEFAULTS
        hours = params["detainer.hold_hours"].value
        exclude = params["detainer.exclude_non_business_days"].value
        content: dict[str, Any] = {"request": _REQUEST_TEXT[kind].format(hours=hours)}
        if kind is not DetainerKind.notification_request:
            content["hold_limit"] = _hold_limit(hours, exclude)
        content.update(_subject_block(kind))
        notice_kind = (
            NoticeKind.notification_request
            if kind is DetainerKind.notification_request
            else NoticeKind.detainer_issued
        )
        state = DetainerState(spec.state)
        notices_to_send.append(
            _notice_spec(
                detainer_id, r.case_id, kind, state, r.ori, "issued", notice_kind, issued_at,
                r.actor, content,
            )
        )  # fmt: skip
    create_notices(session, notices_to_send, audit_batch=batch)
    if audit_batch is None:
        batch.flush()
    for n, (r, kind, _) in enumerate(checked):  # repeats within the batch
        if out[n] is None:
            out[n] = out[planned[(r.case_id, kind)]]
    return [int(x) for x in out if x is not None]


# --------------------------------------------------------------------------- release-eligible


def report_release_eligible(
    session: Session, detainer_id: int, *, at: datetime, actor: str
) -> Detainer:
    """The LEA reports when the subject would otherwise be released. A detainer starts its
    hold: ``hold_until`` by the 48-business-hour clock in the facility's time zone, state
    ``holding``, and the LEA is told the time. A notification request records the time (ICE
    is notified by the event) and holds nothing: no ``hold_until``, state stays ``active``."""
    t = "report_release_eligible"
    d = _load(session, detainer_id, t)
    at = _aware("at", at, t)
    _text("actor", actor, ACTOR_MAX, t)
    if d.release_eligible_at is not None:
        if d.release_eligible_at == at:
            return d
        raise _conflict(
            d, t, f"the release-eligible time was already reported as {_iso(d.release_eligible_at)}"
        )
    if d.state not in ALLOWED_FROM[t]:
        raise _deny(d, t)
    if at < d.issued_at:
        raise _conflict(d, t, f"{_iso(at)} is before the detainer was issued ({_iso(d.issued_at)})")
    zone = _zone(session, d.ori, t)
    local = {"release_eligible_at_local": _local(at, zone), "timezone": zone.key}
    if d.kind is DetainerKind.notification_request:
        add_detainer_event(
            session,
            d.id,
            E.release_eligible_reported,
            occurred_at=at,
            actor=actor,
            release_eligible_at=at,
            details={
                **local,
                "no_hold": True,
                "note": "notification request: ICE notified of the release-eligible time; "
                "no hold is requested",
            },
        )
        return d
    hours, exclude, source = _clock_parameters(session, d)
    try:
        until = clock_hold_until(at, zone, hold_hours=hours, exclude_non_business_days=exclude)
    except DetainerClockError as exc:
        raise LifecycleError(
            f"{_describe(d)}: cannot compute the hold-until time: {exc}",
            detainer_id=d.id,
            state=d.state,
            transition=t,
        ) from exc
    add_detainer_event(
        session,
        d.id,
        E.release_eligible_reported,
        occurred_at=at,
        actor=actor,
        new_state=S.holding,
        release_eligible_at=at,
        hold_until=until,
        details={
            **local,
            "hold_until": _iso(until),
            "hold_until_local": _local(until, zone),
            "citation": DETAINER_CITATION,
            **source,
        },
    )
    _notify(
        session,
        d,
        "hold_until",
        NoticeKind.case_update,
        at,
        actor,
        {
            "release_eligible_at": _local(at, zone),
            "hold_until": _local(until, zone),
            "timezone": zone.key,
            "hold_limit": _hold_limit(hours, exclude),
            "message": f"The detainer allows holding the subject until {_local(until, zone)} "
            f"({zone.key}) at the latest. If DHS has not assumed custody by then, the detainer "
            "has expired and does not authorize holding the subject any longer.",
        },
    )
    return d


# --------------------------------------------------------------------------- violations


def _violation(
    d: Detainer, end: datetime, ended_by: str, zone: ZoneInfo, exclude: bool
) -> dict[str, Any]:
    assert d.hold_until is not None
    counted = business_hours_between(d.hold_until, end, zone, exclude_non_business_days=exclude)
    return {
        "violation": "held_past_expiry",
        "hold_until": _iso(d.hold_until),
        "hold_until_local": _local(d.hold_until, zone),
        "ended_at": _iso(end),
        "ended_at_local": _local(end, zone),
        "ended_by": ended_by,
        "hours_beyond_limit": round(counted, 6),
        "elapsed_hours_beyond_limit": round((end - d.hold_until) / _HOUR, 6),
        "exclude_non_business_days": exclude,
        "timezone": zone.key,
        "citation": VIOLATION_CITATION,
    }


def _record_violation(
    session: Session, d: Detainer, at: datetime, actor: str, violation: dict[str, Any]
) -> None:
    """The ``held_past_expiry`` event: its own row and audit entry (a finding, not a state
    change), dated when the person was released or taken into custody."""
    add_detainer_event(
        session, d.id, E.held_past_expiry, occurred_at=at, actor=actor, details=violation
    )


def violations(session: Session, *, ori: str | None = None) -> list[tuple[Detainer, DetainerEvent]]:
    """Held-past-expiry violations recorded (IV rec. 5), oldest first, optionally for one ORI:
    the ``held_past_expiry`` events, and, for rows written before migration 0003, the
    ``expired`` / ``note`` / ``custody_assumed`` events whose details carried the violation."""
    legacy = [E.note, E.expired, E.custody_assumed]
    stmt = (
        select(Detainer, DetainerEvent)
        .join(DetainerEvent, DetainerEvent.detainer_id == Detainer.id)
        .where(DetainerEvent.event_type.in_([E.held_past_expiry, *legacy]))
        .order_by(DetainerEvent.occurred_at, DetainerEvent.id)
    )
    if ori is not None:
        stmt = stmt.where(Detainer.ori == _ori(ori, "violations"))
    return [
        (d, event)
        for d, event in session.execute(stmt)
        if isinstance(event.details, Mapping)
        and event.details.get("violation") == "held_past_expiry"
    ]


# --------------------------------------------------------------------------- custody, lift


def assume_custody(session: Session, detainer_id: int, *, at: datetime, actor: str) -> Detainer:
    """ICE assumed custody of the subject. After ``hold_until`` (the LEA kept the person on an
    expired detainer) the event also records a held-past-expiry violation."""
    t = "assume_custody"
    d = _load(session, detainer_id, t)
    at = _aware("at", at, t)
    _text("actor", actor, ACTOR_MAX, t)
    if d.state is S.custody:
        previous = _last_event(session, d, E.custody_assumed)
        if previous is not None and previous.occurred_at == at:
            return d
        when = _iso(previous.occurred_at) if previous is not None else "an earlier time"
        raise _conflict(d, t, f"custody was already recorded at {when}")
    if d.state not in ALLOWED_FROM[t]:
        raise _deny(d, t)
    if d.state is S.expired:
        release = _release_event(session, d)
        if release is not None:
            raise _deny(
                d, t, f"the LEA reported the subject released at {release.details['released_at']}"
            )
    if at < d.issued_at:
        raise _conflict(d, t, f"{_iso(at)} is before the detainer was issued ({_iso(d.issued_at)})")
    zone = _zone(session, d.ori, t)
    details: dict[str, Any] = {"from_state": d.state.value, "at_local": _local(at, zone)}
    violation = None
    if d.hold_until is not None and at > d.hold_until:
        violation = _violation(d, at, "custody", zone, _exclude_used(session, d))
    add_detainer_event(
        session,
        d.id,
        E.custody_assumed,
        occurred_at=at,
        actor=actor,
        new_state=S.custody,
        details=details,
    )
    if violation is not None:
        _record_violation(session, d, at, actor, violation)
    return d


def lift(session: Session, detainer_id: int, *, at: datetime, actor: str, reason: str) -> Detainer:
    """DHS withdraws the detainer (any kind, operative or not). The LEA is told that it no
    longer asks for a hold; the reason stays in the event (not sent to the LEA)."""
    t = "lift"
    d = _load(session, detainer_id, t)
    at = _aware("at", at, t)
    _text("actor", actor, ACTOR_MAX, t)
    _text("reason", reason, _REASON_MAX, t)
    if d.state is S.lifted:
        previous = _last_event(session, d, E.lifted)
        if (
            previous is not None
            and previous.occurred_at == at
            and previous.details.get("reason") == reason
        ):
            return d
        raise _conflict(
            d,
            t,
            "it was already lifted"
            + (f" at {_iso(previous.occurred_at)}" if previous is not None else "")
            + " (a retry must repeat the same time and reason)",
        )
    if d.state not in ALLOWED_FROM[t]:
        raise _deny(d, t)
    if at < d.issued_at:
        raise _conflict(d, t, f"{_iso(at)} is before the detainer was issued ({_iso(d.issued_at)})")
    add_detainer_event(
        session,
        d.id,
        E.lifted,
        occurred_at=at,
        actor=actor,
        new_state=S.lifted,
        details={"reason": reason, "from_state": d.state.value},
    )
    _notify(
        session,
        d,
        "lifted",
        NoticeKind.detainer_lifted,
        at,
        actor,
        {
            "message": "DHS has lifted this detainer: it no longer asks you to hold or to notify "
            "DHS about the subject."
        },
    )
    return d


# --------------------------------------------------------------------------- release, expiry


def report_release(
    session: Session, detainer_id: int, *, released_at: datetime, actor: str
) -> Detainer:
    """The LEA released the subject (not to ICE). An open detainer (``active`` or
    ``holding``) ends ``expired``: without ICE custody. A release after ``hold_until`` is a
    held-past-expiry violation, recorded with the counted hours beyond the limit (IV rec. 5).
    On an ``expired`` or ``lifted`` detainer the release is recorded in a ``released`` event."""
    t = "report_release"
    d = _load(session, detainer_id, t)
    released_at = _aware("released_at", released_at, t)
    _text("actor", actor, ACTOR_MAX, t)
    previous = _release_event(session, d)
    if previous is not None:
        if previous.details.get("released_at") == _iso(released_at):
            return d
        raise _conflict(
            d, t, f"a release was already reported at {previous.details.get('released_at')}"
        )
    if d.state not in ALLOWED_FROM[t]:
        raise _deny(d, t)
    if released_at < d.issued_at:
        raise _conflict(
            d, t, f"{_iso(released_at)} is before the detainer was issued ({_iso(d.issued_at)})"
        )
    zone = _zone(session, d.ori, t)
    details: dict[str, Any] = {
        "released_at": _iso(released_at),
        "released_at_local": _local(released_at, zone),
        "from_state": d.state.value,
    }
    late = d.hold_until is not None and released_at > d.hold_until
    violation = (
        _violation(d, released_at, "release", zone, _exclude_used(session, d)) if late else None
    )
    if d.state in (S.active, S.holding) and late:
        # the detainer expired at hold_until; the release, later, is the violation
        assert d.hold_until is not None
        add_detainer_event(
            session,
            d.id,
            E.expired,
            occurred_at=d.hold_until,
            actor=actor,
            new_state=S.expired,
            details={"cause": "hold_until_passed", **details},
        )
    elif d.state in (S.active, S.holding):
        cause = (
            "released_by_lea_before_hold_until"
            if d.state is S.holding
            else "released_by_lea_without_hold"
        )
        add_detainer_event(
            session,
            d.id,
            E.released,
            occurred_at=released_at,
            actor=actor,
            new_state=S.expired,
            details={"cause": cause, **details},
        )
    else:  # already expired or lifted: the release is recorded, the state stays
        add_detainer_event(
            session,
            d.id,
            E.released,
            occurred_at=released_at,
            actor=actor,
            details={"note": "release_reported", **details},
        )
    if violation is not None:
        _record_violation(session, d, released_at, actor, violation)
    return d


def expire_due(session: Session, *, now: datetime) -> list[Detainer]:
    """Holds whose ``hold_until`` has passed without ICE custody become ``expired`` (the event
    is dated at ``hold_until``, when the detainer legally expired); each LEA is told the hold
    has ended. Returns the detainers expired by this call, soonest hold-until first."""
    t = "expire"
    now = _aware("now", now, t)
    stmt = (
        select(Detainer)
        .where(
            Detainer.state == S.holding,
            Detainer.hold_until.is_not(None),
            Detainer.hold_until <= now,
        )
        .order_by(Detainer.hold_until, Detainer.id)
        .with_for_update()
    )
    expired = list(session.scalars(stmt))
    for d in expired:
        assert d.hold_until is not None
        zone = _zone(session, d.ori, t)
        add_detainer_event(
            session,
            d.id,
            E.expired,
            occurred_at=d.hold_until,
            actor=SYSTEM_ACTOR,
            new_state=S.expired,
            details={
                "cause": "hold_until_passed",
                "swept_at": _iso(now),
                "hold_until_local": _local(d.hold_until, zone),
            },
        )
        _notify(
            session,
            d,
            "expired",
            NoticeKind.detainer_expired,
            d.hold_until,
            SYSTEM_ACTOR,
            {
                "hold_until": _local(d.hold_until, zone),
                "timezone": zone.key,
                "message": f"The hold ended at {_local(d.hold_until, zone)} ({zone.key}) without "
                "DHS assuming custody: the detainer has expired and does not authorize "
                "holding the subject any longer (8 CFR 287.7(d)). Report the release "
                "time to DHS.",
            },
        )
    return expired


def due(
    session: Session, *, within: timedelta, now: datetime, ori: str | None = None
) -> list[Detainer]:
    """Holds ending soon: ``holding`` detainers whose ``hold_until`` is at or before
    ``now + within``, soonest first. Holds already past ``hold_until`` but not yet swept by
    :func:`expire_due` are included (they come first: they need action most)."""
    t = "due"
    if not isinstance(within, timedelta):
        raise LifecycleError(
            f"within: expected a datetime.timedelta, got {type(within).__name__}", transition=t
        )
    if within < timedelta(0):
        raise LifecycleError(f"within: {within} is negative", transition=t)
    now = _aware("now", now, t)
    try:
        bound = now + within
    except OverflowError as exc:
        raise LifecycleError(f"within: {within} is too large", transition=t) from exc
    stmt = select(Detainer).where(
        Detainer.state == S.holding,
        Detainer.hold_until.is_not(None),
        Detainer.hold_until <= bound,
    )
    if ori is not None:
        stmt = stmt.where(Detainer.ori == _ori(ori, t))
    return list(session.scalars(stmt.order_by(Detainer.hold_until, Detainer.id)))


# --------------------------------------------------------------------------- dispositions


@dataclass
class _ChargeView:
    index: int
    ncic: str
    literal: str
    severity: str
    injury: bool
    disposition: Disposition
    disposed_on: date | None
    row: Charge | None

    def summary(self) -> dict[str, Any]:
        return {"ncic": self.ncic, "literal": self.literal, "severity": self.severity}


def _case_charges(session: Session, case: CaseRecord) -> list[_ChargeView]:
    """The charges of the case's booking in submission order; without a booking, those of the
    case document."""
    if case.submission_id is not None:
        booking = session.scalar(select(Booking).where(Booking.submission_id == case.submission_id))
        if booking is not None:
            rows = list(
                session.scalars(
                    select(Charge)
                    .where(Charge.booking_id == booking.id)
                    .order_by(Charge.position, Charge.id)
                    .with_for_update()
                )
            )
            if rows:
                return [
                    _ChargeView(
                        i,
                        r.ncic,
                        r.literal or "",
                        str(getattr(r.severity, "value", r.severity)),
                        bool(r.injury),
                        Disposition(r.disposition),
                        r.disposed_on,
                        r,
                    )
                    for i, r in enumerate(rows)
                ]
    document = case.case_json if isinstance(case.case_json, Mapping) else {}
    charges = (document.get("arrest") or {}).get("charges") or []
    return [
        _ChargeView(
            i,
            str(c.get("ncic", "")),
            str(c.get("literal", "")),
            str(c.get("severity", "")),
            bool(c.get("injury", False)),
            Disposition(c.get("disposition", "pending")),
            None,
            None,
        )
        for i, c in enumerate(charges)
    ]


def _overlay_recorded(session: Session, charges: list[_ChargeView], detainers: list[Detainer]):
    """Without charge rows, the dispositions recorded so far live in the detainer events."""
    if not charges or charges[0].row is not None:
        return
    for d in detainers:
        for event in events(session, d.id):
            info = event.details if isinstance(event.details, Mapping) else {}
            index, disposition = info.get("charge_index"), info.get("disposition")
            if isinstance(index, int) and 0 <= index < len(charges) and disposition:
                charges[index].disposition = Disposition(disposition)
                on = info.get("disposed_on")
                charges[index].disposed_on = date.fromisoformat(on) if on else None


def _charge_dicts(charges: list[_ChargeView]) -> list[dict[str, Any]]:
    return [
        {"ncic": c.ncic, "literal": c.literal, "severity": c.severity, "injury": c.injury,
         "disposition": c.disposition.value}
        for c in charges
    ]  # fmt: skip


def record_disposition(
    session: Session,
    *,
    case_id: str,
    charge_index: int,
    disposition: str,
    at: datetime,
    actor: str,
) -> list[Detainer]:
    """Record the disposition of charge ``charge_index`` (0-based, in submission order) of a
    case, and apply it to the case's pending conditional detainers (III rec. 1):

    * a conviction of a charge the detainer waits on (any charge that is not minor traffic)
      activates it (``active``; the LEA is told and gets the subject notice);
    * once every charge it waits on is dismissed or acquitted it lapses (``lapsed``; the LEA is
      told); a disposition that decides nothing yet is kept as a ``note`` event.

    Other detainers are not touched. Returns the detainers whose state this call changed.
    Repeating the same disposition (same local date) is a no-op; a different disposition of a
    disposed charge raises :class:`LifecycleError`. The charge row's ``disposition`` and
    ``disposed_on`` (the facility-local date of ``at``) are updated and audited
    (``charge.disposition``).
    """
    t = "record_disposition"
    _text("case_id", case_id, CASE_ID_MAX, t)
    if isinstance(charge_index, bool) or not isinstance(charge_index, int):
        raise LifecycleError(
            f"charge_index: expected an integer, got {_show(charge_index)}", transition=t
        )
    if charge_index < 0:
        raise LifecycleError(
            f"charge_index: {charge_index} is negative; charges are numbered from 0",
            transition=t,
        )
    try:
        disposition = Disposition(disposition)
    except ValueError:
        disposition = None  # type: ignore[assignment]
    if disposition not in _DISPOSED:
        raise LifecycleError(
            f"disposition: expected one of {', '.join(d.value for d in _DISPOSED)}",
            transition=t,
        )
    at = _aware("at", at, t)
    _text("actor", actor, ACTOR_MAX, t)
    case = session.get(CaseRecord, case_id, with_for_update=True)
    if case is None:
        raise CaseNotFoundError(f"case_id: case {case_id!r} does not exist", transition=t)
    zone = _zone(session, case.ori, t)
    on = at.astimezone(zone).date()
    charges = _case_charges(session, case)
    if charge_index >= len(charges):
        raise LifecycleError(
            f"charge_index: case {case_id!r} has {len(charges)} charge(s) (0-"
            f"{len(charges) - 1}); there is no charge {charge_index}",
            transition=t,
        )
    conditionals = list(
        session.scalars(
            select(Detainer)
            .where(
                Detainer.case_id == case_id,
                Detainer.kind == DetainerKind.conditional_detainer,
            )
            .order_by(Detainer.id)
            .with_for_update()
        )
    )
    _overlay_recorded(session, charges, conditionals)
    charge = charges[charge_index]
    if charge.disposition is not Disposition.pending:
        if charge.disposition is disposition and charge.disposed_on in (None, on):
            return []
        raise LifecycleError(
            f"charge_index: charge {charge_index} of case {case_id!r} was already disposed "
            f"{charge.disposition.value}"
            + (f" on {charge.disposed_on.isoformat()}" if charge.disposed_on else "")
            + f"; cannot record {disposition.value} on {on.isoformat()}",
            transition=t,
        )
    charge.disposition, charge.disposed_on = disposition, on
    if charge.row is not None:
        record_charge_disposition(
            session,
            charge.row.id,
            disposition,
            disposed_on=on,
            at=at,
            actor=actor,
            case_id=case_id,
            charge_index=charge_index,
        )

    changed: list[Detainer] = []
    for d in conditionals:
        if d.state is not S.pending_condition:
            continue
        values, _source = _policy_parameters(session, d)
        effect = conditional.disposition_effect(_charge_dicts(charges), charge_index, values)
        waits_on = list(effect.waits_on)
        details = {
            "charge_index": charge_index,
            "disposition": disposition.value,
            "disposed_on": on.isoformat(),
            "charge": charge.summary(),
            "conditioning_charges": waits_on,
            "rule": (effect.rule or conditional.CONDITIONING).id,
            "citation": (effect.rule or conditional.CONDITIONING).citation,
        }
        if effect.kind == "activate":
            add_detainer_event(
                session,
                d.id,
                E.activated,
                occurred_at=at,
                actor=actor,
                new_state=S.active,
                details=details,
            )
            _notify(
                session,
                d,
                "activated",
                NoticeKind.detainer_activated,
                at,
                actor,
                {
                    "charge_index": charge_index,
                    "disposition": disposition.value,
                    "message": "The subject was convicted: this conditional detainer is now "
                    "operative. "
                    + _REQUEST_TEXT[DetainerKind.detainer].format(
                        hours=values["detainer.hold_hours"]
                    ),
                    "hold_limit": _hold_limit(
                        values["detainer.hold_hours"], values["detainer.exclude_non_business_days"]
                    ),
                    **_subject_block(DetainerKind.detainer),
                },
            )
            changed.append(d)
        elif effect.kind == "lapse":
            add_detainer_event(
                session,
                d.id,
                E.lapsed,
                occurred_at=at,
                actor=actor,
                new_state=S.lapsed,
                details=details,
            )
            _notify(
                session,
                d,
                "lapsed",
                NoticeKind.detainer_lifted,
                at,
                actor,
                {
                    "charge_index": charge_index,
                    "disposition": disposition.value,
                    "message": "The charge was "
                    f"{'dismissed' if disposition is Disposition.dismissed else 'acquitted'}: "
                    "this conditional detainer has lapsed and does not authorize "
                    "holding the subject.",
                },
            )
            changed.append(d)
        else:
            add_detainer_event(
                session,
                d.id,
                E.note,
                occurred_at=at,
                actor=actor,
                details={
                    "note": "disposition_recorded",
                    **details,
                    "effect": "none yet: the detainer still waits on charge(s) "
                    + ", ".join(
                        str(i) for i in waits_on if charges[i].disposition is Disposition.pending
                    ),
                },
            )
    return changed
