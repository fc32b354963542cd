"""Read-side queries of the pipeline, scoped to what a user may see (issue 10 item 2).

Every list and every single read the web service (and any other front end) makes of bookings,
cases, detainers and notices goes through :func:`scoped`: ONE function adds the row filter of a
:class:`Scope` to a query, so a list is filtered, not just a single read (DESIGN 8: "an LEA sees
only its own ORI").

Scopes
    ``Scope.everything()`` -- oversight (CRCL, the panel): every jurisdiction.
    ``Scope.of_oris(oris)`` -- an agency (``lea``, ``lea_system``): its ORIs.
    ``Scope.of_areas(session, areas, aor_of_county)`` -- an ICE field office (``ice_officer``,
    ``ice_supervisor``): the jurisdictions whose county lies in one of its areas of
    responsibility (the county-to-AOR crosswalk); a jurisdiction without a county is in no area.
    ``Scope.nothing()`` -- no record at all (the public, an administrator).

The queries return plain dictionaries (JSON-ready, ISO 8601 times with the facility's offset):
the caller renders them; nothing here knows about HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..law.engine import decisive_rule
from ..store.models import (
    Booking,
    CaseRecord,
    CaseState,
    Charge,
    DecisionRecord,
    Detainer,
    DetainerState,
    Jurisdiction,
    Notice,
    OfficerAction,
    Submission,
)

#: A hold whose hold-until time is this close is "due" on the agency's clock page (the
#: CLI's ``detainers due --within 4h`` default; a display threshold, not a legal one).
DUE_WITHIN = dt.timedelta(hours=4)


@dataclass(frozen=True)
class Scope:
    """Which jurisdictions' records a user may read or write. ``oris is None``: all of them."""

    oris: frozenset[str] | None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def nothing(cls) -> Scope:
        return cls(frozenset())

    @classmethod
    def of_oris(cls, oris: Iterable[str]) -> Scope:
        return cls(frozenset(oris))

    @classmethod
    def of_areas(
        cls,
        session: Session,
        areas: Iterable[str],
        aor_of_county: Callable[[str], str | None],
    ) -> Scope:
        wanted = {a.strip().upper() for a in areas}
        rows = session.execute(select(Jurisdiction.ori, Jurisdiction.county_fips)).all()
        return cls(
            frozenset(
                ori
                for ori, fips in rows
                if fips and (aor_of_county(fips) or "").strip().upper() in wanted
            )
        )

    def allows(self, ori: str | None) -> bool:
        return ori is not None and (self.oris is None or ori in self.oris)


def scoped(stmt: Select, ori_column: Any, scope: Scope) -> Select:
    """``stmt`` restricted to the rows whose ``ori_column`` the scope allows (THE row filter)."""
    if scope.oris is None:
        return stmt
    if not scope.oris:
        return stmt.where(False)
    return stmt.where(ori_column.in_(sorted(scope.oris)))


# --------------------------------------------------------------------------- helpers


def _zones(session: Session, oris: Iterable[str]) -> dict[str, ZoneInfo]:
    wanted = sorted(set(oris))
    if not wanted:
        return {}
    rows = session.execute(
        select(Jurisdiction.ori, Jurisdiction.timezone).where(Jurisdiction.ori.in_(wanted))
    ).all()
    return {ori: ZoneInfo(tz) for ori, tz in rows}


def _local(value: dt.datetime | None, zone: ZoneInfo | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(zone or dt.UTC).isoformat(timespec="minutes")


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise ValueError("limit: an integer from 1 to 1000 expected")
    return limit


# --------------------------------------------------------------------------- bookings


def list_bookings(session: Session, scope: Scope, *, limit: int = 100) -> list[dict[str, Any]]:
    """Submissions (accepted bookings) in scope, newest first, with their pipeline stage."""
    stmt = scoped(
        select(Submission).order_by(Submission.received_at.desc(), Submission.id.desc()),
        Submission.ori,
        scope,
    ).limit(_limit(limit))
    subs = list(session.scalars(stmt))
    cases = {
        sid: (cid, state)
        for sid, cid, state in session.execute(
            select(CaseRecord.submission_id, CaseRecord.case_id, CaseRecord.state).where(
                CaseRecord.submission_id.in_([s.id for s in subs] or [-1])
            )
        )
    }
    zones = _zones(session, (s.ori for s in subs))
    out = []
    for s in subs:
        case = cases.get(s.id)
        out.append(
            {
                "tcn": s.tcn,
                "ori": s.ori,
                "booking_number": s.payload.get("booking_number"),
                "booked_at": s.payload.get("booked_at"),
                "received_at": _local(s.received_at, zones.get(s.ori)),
                "state": s.state.value,
                "stage": s.stage.value,
                "error": s.error,
                "case_id": case[0] if case else None,
                "case_state": case[1].value if case else None,
            }
        )
    return out


def submission_status(session: Session, scope: Scope, tcn: str) -> dict[str, Any] | None:
    """One submission in scope with the notices sent about it (``None``: not found or out of
    scope -- the two are indistinguishable to the caller, on purpose)."""
    s = session.scalar(
        scoped(select(Submission).where(Submission.tcn == tcn), Submission.ori, scope)
    )
    if s is None:
        return None
    case = session.scalar(select(CaseRecord).where(CaseRecord.submission_id == s.id))
    notices = session.scalars(
        select(Notice).where(Notice.submission_id == s.id).order_by(Notice.id)
    ).all()
    if case is not None:
        notices = list(notices) + [
            n
            for n in session.scalars(
                select(Notice).where(Notice.case_id == case.case_id).order_by(Notice.id)
            )
            if n.submission_id != s.id
        ]
    zone = _zones(session, [s.ori]).get(s.ori)
    return {
        "tcn": s.tcn,
        "ori": s.ori,
        "state": s.state.value,
        "stage": s.stage.value,
        "error": s.error,
        "received_at": _local(s.received_at, zone),
        "case_id": case.case_id if case else None,
        "case_state": case.state.value if case else None,
        "responses": [notice_dict(n, zone) for n in notices],
    }


def booking_charges(session: Session, scope: Scope, case_id: str) -> list[dict[str, Any]]:
    """The charges of a case's booking in submission order (index = ``charge_index`` of
    :func:`~securecomm.interop.lifecycle.record_disposition`)."""
    case = get_case(session, scope, case_id)
    if case is None or case.submission_id is None:
        return []
    booking = session.scalar(select(Booking).where(Booking.submission_id == case.submission_id))
    if booking is None:
        return []
    rows = session.scalars(
        select(Charge).where(Charge.booking_id == booking.id).order_by(Charge.position)
    )
    return [
        {
            "index": i,
            "ncic": c.ncic,
            "literal": c.literal,
            "severity": c.severity.value,
            "disposition": c.disposition.value,
            "disposed_on": c.disposed_on.isoformat() if c.disposed_on else None,
        }
        for i, c in enumerate(rows)
    ]


# --------------------------------------------------------------------------- detainers


def detainer_dict(d: Detainer, zone: ZoneInfo | None, now: dt.datetime) -> dict[str, Any]:
    left = (d.hold_until - now) if d.hold_until is not None else None
    holding = d.state is DetainerState.holding
    return {
        "id": d.id,
        "case_id": d.case_id,
        "ori": d.ori,
        "kind": d.kind.value,
        "state": d.state.value,
        "issued_at": _local(d.issued_at, zone),
        "release_eligible_at": _local(d.release_eligible_at, zone),
        "hold_until": _local(d.hold_until, zone),
        "timezone": zone.key if zone else "UTC",
        "seconds_left": int(left.total_seconds()) if left is not None and holding else None,
        "due": bool(holding and left is not None and left <= DUE_WITHIN),
        "overdue": bool(holding and left is not None and left < dt.timedelta(0)),
        "policy": d.policy,
    }


def list_detainers(
    session: Session,
    scope: Scope,
    *,
    now: dt.datetime,
    open_only: bool = False,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Detainers in scope: holding ones first, soonest hold-until first, then the rest newest
    first. ``open_only``: not closed (pending, active, holding)."""
    stmt = scoped(select(Detainer), Detainer.ori, scope)
    if open_only:
        stmt = stmt.where(Detainer.closed_at.is_(None))
    rows = list(session.scalars(stmt.order_by(Detainer.issued_at.desc()).limit(_limit(limit))))
    rows.sort(
        key=lambda d: (
            d.state is not DetainerState.holding,
            d.hold_until or dt.datetime.max.replace(tzinfo=dt.UTC),
        )
    )
    zones = _zones(session, (d.ori for d in rows))
    return [detainer_dict(d, zones.get(d.ori), now) for d in rows]


def get_detainer(session: Session, scope: Scope, detainer_id: int) -> Detainer | None:
    return session.scalar(
        scoped(select(Detainer).where(Detainer.id == detainer_id), Detainer.ori, scope)
    )


# --------------------------------------------------------------------------- notices


def notice_dict(n: Notice, zone: ZoneInfo | None) -> dict[str, Any]:
    return {
        "id": n.id,
        "ori": n.ori,
        "kind": n.kind.value,
        "case_id": n.case_id,
        "detainer_id": n.detainer_id,
        "created_at": _local(n.created_at, zone),
        "delivered_at": _local(n.delivered_at, zone),
        # what the jurisdiction's disclosure choice let through (filtered when the notice was
        # made: interop.notices / IV rec. 3); never re-derived here
        "content": n.content,
    }


def list_notices(session: Session, scope: Scope, *, limit: int = 100) -> list[dict[str, Any]]:
    """Notices in scope, newest first. A notice about a detainer also carries the facility
    (the jurisdiction holding the person) and the detainer's hold-until time *now*, in the
    facility's local time -- what the notice to the detained person must show for that case
    (the subject-notice text itself states only the general limit)."""
    stmt = scoped(select(Notice), Notice.ori, scope).order_by(Notice.id.desc()).limit(_limit(limit))
    rows = list(session.scalars(stmt))
    zones = _zones(session, (n.ori for n in rows))
    names = dict(
        session.execute(
            select(Jurisdiction.ori, Jurisdiction.name).where(
                Jurisdiction.ori.in_(sorted({n.ori for n in rows}) or [""])
            )
        ).all()
    )
    ids = sorted({n.detainer_id for n in rows if n.detainer_id is not None})
    holds = dict(
        session.execute(
            select(Detainer.id, Detainer.hold_until).where(Detainer.id.in_(ids or [-1]))
        ).all()
    )
    out = []
    for n in rows:
        item = notice_dict(n, zones.get(n.ori))
        item["facility"] = names.get(n.ori) or n.ori
        item["hold_until_now"] = (
            _local(holds.get(n.detainer_id), zones.get(n.ori)) if n.detainer_id else None
        )
        out.append(item)
    return out


# --------------------------------------------------------------------------- cases


def get_case(session: Session, scope: Scope, case_id: str) -> CaseRecord | None:
    return session.scalar(
        scoped(select(CaseRecord).where(CaseRecord.case_id == case_id), CaseRecord.ori, scope)
    )


def _latest_decisions(session: Session, case_ids: list[str]) -> dict[str, DecisionRecord]:
    out: dict[str, DecisionRecord] = {}
    if not case_ids:
        return out
    for d in session.scalars(
        select(DecisionRecord)
        .where(DecisionRecord.case_id.in_(case_ids))
        .order_by(DecisionRecord.id)
    ):
        out[d.case_id] = d  # the last one wins: the latest recommendation
    return out


def _summary(case: CaseRecord, d: DecisionRecord | None, zone: ZoneInfo | None) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "ori": case.ori,
        "state": case.state.value,
        "opened_at": _local(case.opened_at, zone),
        "policy": d.policy if d else None,
        "recommendation": d.action.value if d else None,
        "priority": d.priority if d else None,
        "level": d.level if d else None,
        "requires_supervisor_approval": d.requires_supervisor_approval if d else None,
        "decisive_rule": decisive_rule(d.decision.get("reasons")) if d else None,
    }


def list_cases(
    session: Session, scope: Scope, *, states: Iterable[CaseState], limit: int = 100
) -> list[dict[str, Any]]:
    """Cases in scope in the given states, oldest first (the order they should be worked)."""
    stmt = (
        scoped(
            select(CaseRecord).where(CaseRecord.state.in_(list(states))),
            CaseRecord.ori,
            scope,
        )
        .order_by(CaseRecord.opened_at, CaseRecord.case_id)
        .limit(_limit(limit))
    )
    cases = list(session.scalars(stmt))
    decisions = _latest_decisions(session, [c.case_id for c in cases])
    zones = _zones(session, (c.ori for c in cases))
    return [_summary(c, decisions.get(c.case_id), zones.get(c.ori)) for c in cases]


def worklist(session: Session, scope: Scope, *, limit: int = 100) -> list[dict[str, Any]]:
    """Cases waiting for an officer's decision."""
    return list_cases(session, scope, states=[CaseState.awaiting_officer], limit=limit)


def approval_queue(session: Session, scope: Scope, *, limit: int = 100) -> list[dict[str, Any]]:
    """Cases waiting for a supervisor, each with the officer's pending decision."""
    items = list_cases(session, scope, states=[CaseState.awaiting_supervisor], limit=limit)
    for item in items:
        pending = _pending_action(session, item["case_id"])
        item["pending"] = _action_dict(pending) if pending else None
    return items


def _pending_action(session: Session, case_id: str) -> OfficerAction | None:
    from .field_office import FieldOfficeError, _pending_officer_action

    try:
        return _pending_officer_action(session, case_id)  # the field office's own definition
    except FieldOfficeError:
        return None


def _action_dict(a: OfficerAction) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "chosen_action": a.chosen_action.value if a.chosen_action else None,
        "officer": a.officer,
        "reason": a.reason,
        "acted_at": a.acted_at.isoformat(timespec="minutes"),
    }


#: Case v1 fields that identify or describe the person; a de-identified view (the review
#: panel, DESIGN 8: "panel members see de-identified cases") drops them.
PERSON_FIELDS = ("person", "arrest", "convictions", "flags")


def case_view(
    session: Session,
    scope: Scope,
    case_id: str,
    *,
    now: dt.datetime,
    deidentified: bool = False,
) -> dict[str, Any] | None:
    """A case with its recommendation (Decision v1: reasons with citations), the officer and
    supervisor actions, its detainers and charges. ``None`` when not found or out of scope."""
    case = get_case(session, scope, case_id)
    if case is None:
        return None
    zone = _zones(session, [case.ori]).get(case.ori)
    d = _latest_decisions(session, [case_id]).get(case_id)
    actions = session.scalars(
        select(OfficerAction).where(OfficerAction.case_id == case_id).order_by(OfficerAction.id)
    ).all()
    detainers = session.scalars(
        select(Detainer).where(Detainer.case_id == case_id).order_by(Detainer.id)
    ).all()
    document = dict(case.case_json)
    if deidentified:
        for key in PERSON_FIELDS:
            document.pop(key, None)
    out = _summary(case, d, zone)
    out.update(
        {
            "deidentified": deidentified,
            "case": document,
            "decision": d.decision if d else None,
            "actions": [_action_dict(a) for a in actions],
            "detainers": [detainer_dict(x, zone, now) for x in detainers],
            "charges": [] if deidentified else booking_charges(session, scope, case_id),
        }
    )
    return out


def list_jurisdictions(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(Jurisdiction).order_by(Jurisdiction.ori))
    return [
        {
            "ori": j.ori,
            "name": j.name,
            "state": j.state,
            "county_fips": j.county_fips,
            "timezone": j.timezone,
            "disclosure": j.disclosure.value if hasattr(j.disclosure, "value") else j.disclosure,
            "honors_detainers": j.honors_detainers,
        }
        for j in rows
    ]
