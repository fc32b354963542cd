"""Booking outcome v1 (``stats.schema.BOOKING_OUTCOME_SCHEMA``) from the pipeline's store.

One row per **submission** (an accepted booking). Rejected input never became a submission
(it is kept in ``rejected_inputs``, not a booking) and is not exported. A submission that failed
in a stage is still a booking: it is exported with what the store holds for it.

Where each column comes from
    ``booked_at``, ``ori``, ``race``, ``ethnicity`` -- the booking as submitted (race and
    ethnicity as the booking system recorded them); ``program`` -- the submission;
    ``state``, ``county_fips`` -- the jurisdiction; ``month`` -- first day of the booking's
    month in the jurisdiction's time zone.
    ``ident_match`` -- a case was opened on an IDENT identification: an automatic 1:N match,
    or a band / biographic candidate *confirmed* by an examiner. An open or rejected
    verification is not a match (a band score is never an action by itself, DESIGN 3.2).
    ``status_category`` -- the LESC determination in the case (Case v1
    ``person.citizenship_status``), only where ``ident_match``.
    ``action`` -- **the final action**: what the officer's releasing action chose (an accept
    is the recommendation; an override, or a supervisor's approval, the action chosen) once
    the case is ``acted``. A case no officer action releases yet (awaiting an officer, or an
    override awaiting a supervisor, or denied) reports the recommendation. ``action_rule``, ``level``, ``priority``, ``priority_bases`` -- the
    latest stored Decision v1 (recommendation) of the case under ``policy``; ``action_rule``
    is its decisive rule (``decisive_rule`` of the decision; the reason marked "Decisive" for a
    decision stored before v2). ``decline_reason`` -- that rule's ``decline_reason`` when the
    final action is ``no_detainer``.
    ``charge_category`` -- ``stats.categories.charge_category_of`` over the booking's charges.
    ``conviction_status`` -- ``stats.categories.conviction_status_of``: a conviction on the
    RAP sheet of the FBI record the booking matched, dated on or before the booking's local
    date, or a current charge since recorded as convicted; a record = an FBI match. A booking
    with no FBI match has no criminal history as far as the pipeline knows.
    ``ice_custody`` -- a detainer of the case ended in ICE custody. ``held_past_expiry`` -- a
    held-past-expiry violation is recorded on a detainer of the case (IV rec. 5,
    ``interop.lifecycle.violations``).
    ``removed`` -- always false: removals happen outside this pipeline (no removal is ever
    recorded against a booking here).

Cost: a fixed number of whole-table queries (no query per case), joined in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlalchemy import Engine, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from securecomm.law.engine import decisive_of

from ..interop import lifecycle
from ..store.db import make_engine
from ..store.models import (
    Booking,
    CaseRecord,
    CaseState,
    Charge,
    ChConviction,
    DecisionRecord,
    Detainer,
    DetainerState,
    IdentityVerification,
    Jurisdiction,
    OfficerAction,
    OfficerActionKind,
    Submission,
    VerificationState,
)
from .categories import DEFAULT_POLICY as CATEGORY_POLICY
from .categories import charge_category_of, conviction_status_of
from .schema import BOOKING_OUTCOME_SCHEMA

# The finding rule whose presence among a decision's reasons means "protected" (DESIGN 3.5).
PROTECTED_RULE = "protections.protected-person"

__all__ = ["StoreExportError", "booking_outcomes_from_store"]

class StoreExportError(ValueError):
    """The store cannot be exported as asked; the message says why."""


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def _policies(session: Session) -> list[str]:
    return sorted(session.scalars(select(DecisionRecord.policy).distinct()))


def _category_policy(policy: str) -> str:
    """Charge categories use the pack's own code lists when ``policy`` names a built-in
    pack, else the Task Force pack's (``stats.categories.DEFAULT_POLICY``)."""
    try:
        charge_category_of([], policy)
    except Exception:
        return CATEGORY_POLICY
    return policy


def booking_outcomes_from_store(
    engine_or_url: Engine | str | URL, *, policy: str | None = None
) -> pa.Table:
    """Booking outcome v1 rows of every submission in the store (see the module docstring).

    ``policy``: the pack name the decisions were recorded under (Decision v1 ``policy``), also
    the rows' ``policy`` label. ``None``: the store's only one; a store with decisions under
    several policies needs ``policy`` (StoreExportError names them), and a store with no
    decision at all needs it too (nothing says which policy was in force).
    """
    own = not isinstance(engine_or_url, Engine)
    engine = make_engine(engine_or_url) if own else engine_or_url
    try:
        # a read: SQLite takes no write lock for it (the store's default BEGIN is IMMEDIATE)
        with engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with Session(bind=conn) as session:
                return _export(session, policy)
    finally:
        if own:
            engine.dispose()


def _export(session: Session, policy: str | None) -> pa.Table:
    known = _policies(session)
    if policy is None:
        if len(known) != 1:
            raise StoreExportError(
                "policy: the store holds decisions under "
                + (f"several policies ({', '.join(known)})" if known else "no policy")
                + "; name the one to export with policy="
            )
        policy = known[0]
    elif not isinstance(policy, str) or not policy.strip():
        raise StoreExportError(f"policy: a pack name expected, got {policy!r}")
    category_policy = _category_policy(policy)

    juris = {
        j.ori: (j.state, j.county_fips, ZoneInfo(j.timezone))
        for j in session.execute(
            select(
                Jurisdiction.ori,
                Jurisdiction.state,
                Jurisdiction.county_fips,
                Jurisdiction.timezone,
            )
        )
    }
    base = session.execute(
        select(
            Submission.id, Submission.tcn, Submission.ori,
            Submission.payload["program"].as_string(),
            Booking.id, Booking.booked_at, Booking.fbi_number,
            Booking.biographics["race"].as_string(), Booking.biographics["ethnicity"].as_string(),
        )
        .join(Booking, Booking.submission_id == Submission.id)
        .order_by(Submission.id)
    ).all()  # fmt: skip

    cases: dict[int, tuple[str, str | None]] = {}
    released: set[str] = set()  # cases an officer (and supervisor) decision released
    for sid, case_id, status, state in session.execute(
        select(
            CaseRecord.submission_id, CaseRecord.case_id,
            CaseRecord.case_json[("person", "citizenship_status")].as_string(),
            CaseRecord.state,
        ).where(CaseRecord.submission_id.is_not(None))
    ):  # fmt: skip
        cases[sid] = (case_id, status)
        if _value(state) in (CaseState.acted.value, CaseState.closed.value):
            released.add(case_id)
    verification = dict(
        session.execute(
            select(IdentityVerification.submission_id, IdentityVerification.state)
        ).all()
    )
    decisions: dict[str, dict[str, Any]] = {}
    for case_id, decision in session.execute(
        select(DecisionRecord.case_id, DecisionRecord.decision)
        .where(DecisionRecord.policy == policy)
        .order_by(DecisionRecord.recorded_at, DecisionRecord.id)
    ):
        decisions[case_id] = decision  # the latest wins
    final: dict[str, str | None] = {}
    for case_id, kind, chosen in session.execute(
        select(OfficerAction.case_id, OfficerAction.kind, OfficerAction.chosen_action).order_by(
            OfficerAction.acted_at, OfficerAction.id
        )
    ):
        # the latest action releases the case (stages.effective_action); a denial releases none
        denied = _value(kind) == OfficerActionKind.supervisor_denial.value
        final[case_id] = None if denied or chosen is None else _value(chosen)
    charges: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for booking_id, ncic, literal, severity, injury, dv, disposition in session.execute(
        select(
            Charge.booking_id, Charge.ncic, Charge.literal, Charge.severity, Charge.injury,
            Charge.domestic_violence, Charge.disposition,
        ).order_by(Charge.booking_id, Charge.position, Charge.id)
    ):  # fmt: skip
        charges[booking_id].append(
            {"ncic": ncic, "literal": literal or "", "severity": _value(severity),
             "injury": bool(injury), "domestic_violence": bool(dv),
             "disposition": _value(disposition)}
        )  # fmt: skip
    convicted_on: dict[str, list[dt.date | None]] = defaultdict(list)
    for number, on in session.execute(select(ChConviction.fbi_number, ChConviction.convicted_on)):
        convicted_on[number].append(on)
    custody: set[str] = set(
        session.scalars(select(Detainer.case_id).where(Detainer.state == DetainerState.custody))
    )
    held_past: set[str] = {d.case_id for d, _event in lifecycle.violations(session)}

    columns: dict[str, list[Any]] = {f.name: [] for f in BOOKING_OUTCOME_SCHEMA}
    for sid, tcn, ori, program, booking_id, booked_at, fbi, race, ethnicity in base:
        state, fips, zone = juris[ori]
        local = booked_at.astimezone(zone)
        case = cases.get(sid)
        v_state = verification.get(sid)
        matched = case is not None and (
            v_state is None or _value(v_state) == VerificationState.confirmed.value
        )
        decision = decisions.get(case[0]) if matched and case else None
        decisive = decisive_of(decision) if decision else None
        rule = decisive.rule if decisive else None
        action = None
        if decision is not None:  # the final action of a case decided under this policy
            chosen = final.get(case[0]) if case[0] in released else None
            action = chosen or decision.get("action")
        booked_charges = charges.get(booking_id, [])
        history = convicted_on.get(fbi, []) if fbi else []
        has_conviction = any(on is None or on <= local.date() for on in history) or any(
            c["disposition"] == "convicted" for c in booked_charges
        )
        level = decision.get("level") if decision else None
        columns["policy"].append(policy)
        columns["tcn"].append(tcn)
        columns["booked_at"].append(booked_at)
        columns["month"].append(local.date().replace(day=1))
        columns["ori"].append(ori)
        columns["state"].append(state)
        columns["county_fips"].append(fips)
        columns["program"].append(program or "secure_communities")
        columns["race"].append(race)
        columns["ethnicity"].append(ethnicity)
        columns["ident_match"].append(matched)
        columns["status_category"].append(case[1] if matched and case else None)
        columns["action"].append(action)
        columns["action_rule"].append(rule)
        columns["decline_reason"].append(
            decisive.decline_reason if decisive and action == "no_detainer" else None
        )
        columns["level"].append(level)
        columns["priority"].append(decision.get("priority") if decision else None)
        columns["priority_bases"].append(
            list(decision.get("priority_bases") or ()) if decision else None
        )
        columns["protected"].append(
            any(r.get("rule") == PROTECTED_RULE for r in decision.get("reasons") or ())
            if decision
            else None
        )
        columns["charge_category"].append(charge_category_of(booked_charges, category_policy))
        columns["conviction_status"].append(conviction_status_of(has_conviction, fbi is not None))
        columns["ice_custody"].append(bool(case and case[0] in custody))
        columns["removed"].append(False)
        columns["held_past_expiry"].append(bool(case and case[0] in held_past))
    return pa.Table.from_pydict(columns, schema=BOOKING_OUTCOME_SCHEMA)
