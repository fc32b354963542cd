"""Adherence and detainer monitoring (HSAC Task Force report II rec. 3: monitor adherence to
the enforcement priorities; IV rec. 5: monitor "unlawful detention past 48 hours on expired
detainers").

:func:`monthly_report` -- for one month (each event dated in its facility's local time):

* per field office (ICE ERO area of responsibility of the jurisdiction's county, the crosswalk
  the user registry uses: :func:`~.params.field_office_of`) and officer:
  officer decisions, overrides against the recommendation (up to a more severe action, down
  to a less severe one), safeguard overrides (an override the field office sent to a
  supervisor) with the supervisors' approvals, denials and those still pending, and the
  median hours from recommendation to officer decision;
* per jurisdiction: detainers lodged, holds past the limit (``held_past_expiry``,
  8 CFR 287.7(d)), detainers lifted because the person was a US citizen
  (:data:`CITIZEN_LIFT`).

Published counts are protected (:mod:`.protect`). :func:`alerts` lists what the CRCL portal
shows now (unsuppressed, for CRCL staff).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..interop import lifecycle
from ..interop.field_office import SEVERITY
from ..law.detainer_clock import DETAINER_CITATION
from ..law.parameters import TF, Parameter
from ..law.schema import Action
from ..store.models import (
    AuditEntry,
    CaseRecord,
    Complaint,
    DecisionRecord,
    Detainer,
    DetainerEvent,
    DetainerEventType,
    Jurisdiction,
    OfficerAction,
    OfficerActionKind,
    PanelFinding,
    PanelFindingRecord,
    PanelResponse,
)
from .complaints import FINAL_STAGES
from .panel import parse_period
from .params import FIELD_OFFICE_SOURCE, SMALL_CELL_MAX, field_office_of
from .protect import protect_value

__all__ = ["CITIZEN_LIFT", "AdherenceReport", "alerts", "citizen_lifts", "monthly_report"]

CITIZEN_STATUSES = ("us_citizen_by_birth", "naturalized_citizen")
CITIZEN_LIFT = Parameter(
    "monitoring.citizen_lift_reason_pattern",
    r"\bcitizen",
    dt.date(2011, 9, 30),
    f"{TF} IV rec. 3 and IV rec. 5 (naturalized and falsely matched citizens)",
    "The lifecycle records a lift's reason as text: a lift counts as 'because the person was a "
    "US citizen' when its reason names citizenship or the case's status determination is a "
    "citizen (US-born or naturalized).",
)


@dataclass
class AdherenceReport:
    month: str
    officers: list[dict[str, Any]] = field(default_factory=list)
    field_offices: list[dict[str, Any]] = field(default_factory=list)
    jurisdictions: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def protected(self) -> AdherenceReport:
        """The publishable copy: counts 1..k suppressed; a median only over more than k."""
        k = SMALL_CELL_MAX.value

        def shield(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for row in rows:
                new = {}
                for key, v in row.items():
                    if key.startswith("median_"):
                        n = row.get(key.replace("median_", "n_"), 0)
                        new[key] = v if n > k else None
                    elif isinstance(v, int) and not isinstance(v, bool):
                        new[key] = protect_value(v, k)
                    else:
                        new[key] = v
                out.append(new)
            return out

        copy = AdherenceReport(self.month, shield(self.officers), shield(self.field_offices),
                               shield(self.jurisdictions), dict(self.sources))  # fmt: skip
        copy.sources["suppression"] = (
            f"counts 1-{k} shown as suppressed; medians over {k} or fewer decisions withheld "
            f"({SMALL_CELL_MAX.citation})"
        )
        return copy


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}", str(month or "")):
            raise ValueError
        return parse_period(month)
    except ValueError:
        raise ValueError(f"month: {month!r} is not a month YYYY-MM") from None


def _subject(entry: AuditEntry) -> dict[str, Any]:
    try:
        return json.loads(entry.subject)
    except ValueError:  # pragma: no cover - written as canonical JSON by audit.append
        return {}


def citizen_lifts(
    session: Session, *, since: dt.datetime | None = None
) -> list[tuple[Detainer, DetainerEvent]]:
    """Detainers lifted because the person was a US citizen (:data:`CITIZEN_LIFT`), newest
    first: the one definition the report and the alerts share."""
    pattern = re.compile(CITIZEN_LIFT.value, re.IGNORECASE)
    stmt = (
        select(Detainer, DetainerEvent,
               CaseRecord.case_json[("person", "citizenship_status")].as_string())
        .join(DetainerEvent, DetainerEvent.detainer_id == Detainer.id)
        .join(CaseRecord, CaseRecord.case_id == Detainer.case_id)
        .where(DetainerEvent.event_type == DetainerEventType.lifted)
        .order_by(DetainerEvent.occurred_at.desc(), DetainerEvent.id.desc())
    )  # fmt: skip
    if since is not None:
        stmt = stmt.where(DetainerEvent.occurred_at >= since)
    return [
        (d, event)
        for d, event, status in session.execute(stmt)
        if pattern.search(str((event.details or {}).get("reason") or ""))
        or status in CITIZEN_STATUSES
    ]


def monthly_report(session: Session, month: str) -> AdherenceReport:
    """The month's adherence figures, unprotected (CRCL); ``.protected()`` to publish."""
    start, end = _month_bounds(month)
    juris = {
        j.ori: (j.state, ZoneInfo(j.timezone), j.name, j.county_fips)
        for j in session.scalars(select(Jurisdiction))
    }

    def in_month(ori: str, at: dt.datetime) -> bool:
        return start <= at.astimezone(juris[ori][1]).date() < end

    case_ori = dict(session.execute(select(CaseRecord.case_id, CaseRecord.ori)).all())
    recommended: dict[str, tuple[str, dt.datetime]] = {}
    for cid, action, at in session.execute(
        select(DecisionRecord.case_id, DecisionRecord.action, DecisionRecord.decided_at).order_by(
            DecisionRecord.recorded_at, DecisionRecord.id
        )
    ):
        recommended[cid] = (Action(action).value, at)  # the latest recommendation
    actions = list(
        session.scalars(select(OfficerAction).order_by(OfficerAction.acted_at, OfficerAction.id))
    )
    by_id = {a.id: a for a in actions}
    to_supervisor: set[int] = set()
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.event_type == "case.awaiting_supervisor")
    ):
        oid = _subject(entry).get("officer_action_id")
        if oid in by_id and by_id[oid].kind is OfficerActionKind.override:
            to_supervisor.add(oid)
    # the supervisor's answer to each safeguard override: the next supervisor action on the case
    answer: dict[int, str] = {}
    pending_override: dict[str, int] = {}
    for a in actions:
        if a.id in to_supervisor:
            pending_override[a.case_id] = a.id
        elif a.kind in (OfficerActionKind.supervisor_approval, OfficerActionKind.supervisor_denial):
            oid = pending_override.pop(a.case_id, None)
            if oid is not None:
                answer[oid] = (
                    "approved" if a.kind is OfficerActionKind.supervisor_approval else "denied"
                )

    def blank() -> dict[str, Any]:
        return {"decisions": 0, "accepted": 0, "overrides": 0, "overrides_up": 0,
                "overrides_down": 0, "safeguard_overrides": 0, "supervisor_approved": 0,
                "supervisor_denied": 0, "supervisor_pending": 0, "hours": []}  # fmt: skip

    officers: dict[tuple[str, str], dict[str, Any]] = defaultdict(blank)
    offices: dict[str, dict[str, Any]] = defaultdict(blank)
    for a in actions:
        if a.kind not in (OfficerActionKind.accept, OfficerActionKind.override):
            continue
        ori = case_ori.get(a.case_id)
        if ori is None or not in_month(ori, a.acted_at):
            continue
        office = field_office_of(juris[ori][3])
        rec = recommended.get(a.case_id)
        for row in (officers[(office, a.officer)], offices[office]):
            row["decisions"] += 1
            if rec is not None:
                row["hours"].append((a.acted_at - rec[1]).total_seconds() / 3600)
            if a.kind is OfficerActionKind.accept:
                row["accepted"] += 1
                continue
            row["overrides"] += 1
            if rec is not None and a.chosen_action is not None:
                up = SEVERITY[a.chosen_action] > SEVERITY[Action(rec[0])]
                row["overrides_up" if up else "overrides_down"] += 1
            if a.id in to_supervisor:
                row["safeguard_overrides"] += 1
                row[f"supervisor_{answer.get(a.id, 'pending')}"] += 1

    def finish(row: dict[str, Any]) -> dict[str, Any]:
        hours = row.pop("hours")
        row["n_hours_to_decision"] = len(hours)
        row["median_hours_to_decision"] = round(statistics.median(hours), 1) if hours else None
        return row

    officer_rows = [
        {"field_office": office, "officer": officer, **finish(row)}
        for (office, officer), row in sorted(officers.items())
    ]
    office_rows = [
        {"field_office": office, **finish(row)} for office, row in sorted(offices.items())
    ]

    # per jurisdiction: detainers lodged, holds past the limit, lifted because a citizen
    lodged: dict[str, int] = defaultdict(int)
    for d in session.scalars(select(Detainer)):
        if in_month(d.ori, d.issued_at):
            lodged[d.ori] += 1
    held: dict[str, int] = defaultdict(int)
    for d, event in lifecycle.violations(session):
        if in_month(d.ori, event.occurred_at):
            held[d.ori] += 1
    citizen: dict[str, int] = defaultdict(int)
    for d, event in citizen_lifts(session):
        if in_month(d.ori, event.occurred_at):
            citizen[d.ori] += 1
    oris = sorted(set(lodged) | set(held) | set(citizen))
    jurisdiction_rows = [
        {"ori": ori, "name": juris[ori][2], "state": juris[ori][0],
         "field_office": field_office_of(juris[ori][3]), "detainers_lodged": lodged[ori],
         "held_past_limit": held[ori], "lifted_us_citizen": citizen[ori]}
        for ori in oris
    ]  # fmt: skip
    sources = {
        "adherence": f"{TF} II rec. 3 (adherence to the stated priorities)",
        "holds": f"{DETAINER_CITATION}; {TF} IV rec. 5 ('unlawful detention past 48 hours')",
        "citizens": f"{CITIZEN_LIFT.citation}. {CITIZEN_LIFT.rationale}",
        "field_offices": f"{FIELD_OFFICE_SOURCE}; {TF} II rec. 3",
    }
    return AdherenceReport(month, officer_rows, office_rows, jurisdiction_rows, sources)


def alerts(
    session: Session, *, now: dt.datetime | None = None, days: int = 30
) -> list[dict[str, Any]]:
    """What needs CRCL's attention now (newest first within each kind): holds past the limit
    and citizen lifts in the last ``days``, complaints overdue in their stage, safeguard
    overrides waiting for a supervisor, panel deviations ICE has not answered. No personal
    data: jurisdictions, counts, ids."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    since = now - dt.timedelta(days=days)
    out: list[dict[str, Any]] = []
    for d, event in reversed(lifecycle.violations(session)):
        if event.occurred_at >= since:
            out.append({
                "kind": "held_past_limit", "severity": "high", "at": event.occurred_at.isoformat(),
                "subject": {"ori": d.ori, "detainer_id": d.id},
                "message": f"{d.ori}: a person was held past the detainer's limit (detainer #{d.id})",
                "source": f"{DETAINER_CITATION}; {TF} IV rec. 5",
            })  # fmt: skip
    for d, event in citizen_lifts(session, since=since):
        out.append({
            "kind": "us_citizen_detainer", "severity": "high", "at": event.occurred_at.isoformat(),
            "subject": {"ori": d.ori, "detainer_id": d.id},
            "message": f"{d.ori}: a detainer was lodged on a US citizen and lifted (detainer #{d.id})",
            "source": CITIZEN_LIFT.citation,
        })  # fmt: skip
    for c in session.scalars(
        select(Complaint)
        .where(Complaint.stage.not_in(list(FINAL_STAGES)), Complaint.stage_due_at < now)
        .order_by(Complaint.stage_due_at)
    ):
        out.append({
            "kind": "complaint_overdue", "severity": "medium", "at": c.stage_due_at.isoformat(),
            "subject": {"complaint_id": c.id},
            "message": f"complaint #{c.id} ({c.category.value}) is overdue in stage {c.stage.value}",
            "source": f"{TF} IV rec. 4",
        })  # fmt: skip
    waiting = session.scalars(select(CaseRecord).where(CaseRecord.state == "awaiting_supervisor"))
    for case in waiting:
        out.append({
            "kind": "awaiting_supervisor", "severity": "medium", "at": case.updated_at.isoformat(),
            "subject": {"case_id": case.case_id, "ori": case.ori},
            "message": f"case {case.case_id}: an officer's decision waits for a supervisor",
            "source": f"{TF} II rec. 3; IV rec. 2",
        })  # fmt: skip
    answered = set(session.scalars(select(PanelResponse.finding_id)))
    for f in session.scalars(
        select(PanelFindingRecord).where(PanelFindingRecord.finding == PanelFinding.deviation)
    ):
        if f.id not in answered:
            out.append({
                "kind": "panel_deviation_unanswered", "severity": "medium",
                "at": f.recorded_at.isoformat(), "subject": {"panel_finding_id": f.id},
                "message": f"panel finding #{f.id}: a deviation awaits ICE's response",
                "source": f"{TF} IV rec. 6",
            })  # fmt: skip
    return out
