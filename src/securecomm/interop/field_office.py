"""The field office: officers decide on recommendations, supervisors approve safeguard
overrides, examiners verify identities (DESIGN 2; report IV rec. 2; issue 3 item 5).

Officer decision (:func:`decide`) on a case ``awaiting_officer``
    *accept* the recommendation, or *override* it with another action and a mandatory reason.
    The decision goes to a supervisor (case ``awaiting_supervisor``) when it

    * is any decision on a case whose recommendation ``requires_supervisor_approval`` (a
      protected person with an aggravating factor, IV rec. 2), or
    * removes a safeguard: an override to a *more severe* action (``no_action`` <
      ``no_detainer`` < ``notification_request`` < ``conditional_detainer`` < ``detainer``)
      where the recommendation was decided by a safeguard rule
      (:data:`SAFEGUARD_RULES`: not removable / status unknown, protected and not aggravating,
      the Task Force's minor-traffic, post-conviction and minor-misdemeanor rules, PEP's
      "not a transfer priority") or the person is protected (``protections.protected-person``).

    Otherwise the case is ``acted`` and the pipeline lodges what was chosen.

Supervisor (:func:`approve`)
    Only a *second* user may approve or deny: the supervisor's name must differ from the
    officer's whose decision waits (compared case-insensitively). Approval records the approved
    action and releases the case; denial (with a reason) sends it back to the officer.

Identity verification (:func:`verify_identity`)
    A 1:N score in the verification band, an ambiguous match or a biographic (Splink)
    candidate opens a task; the case waits (``open``, submission stage ``verification``) and
    nothing is decided until a person confirms. Confirm -> the policy engine decides; reject
    -> the case is closed and the submission completed as a non-match.

Every step is one transaction (the caller's session), audited: ``officer.<kind>`` (by the
store), ``case.awaiting_supervisor`` with the reasons, ``identity.verified`` /
``identity.rejected``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..law.schema import Action, Decision
from ..store import audit, repositories
from ..store.models import (
    ACTOR_MAX,
    CaseRecord,
    CaseState,
    DecisionRecord,
    IdentityVerification,
    OfficerAction,
    OfficerActionKind,
    PipelineStage,
    Submission,
    SubmissionState,
    VerificationState,
)
from ..store.types import check_text

__all__ = [
    "RESERVED_ACTORS",
    "SAFEGUARD_RULES",
    "SEVERITY",
    "FieldOfficeError",
    "Outcome",
    "approve",
    "decide",
    "safeguards_removed",
    "verify_identity",
]

UTC = dt.UTC
SEVERITY = {
    Action.no_action: 0,
    Action.no_detainer: 1,
    Action.notification_request: 2,
    Action.conditional_detainer: 3,
    Action.detainer: 4,
}
#: Action rules whose outcome is a safeguard: overriding them upward needs a supervisor.
SAFEGUARD_RULES: dict[str, str] = {
    "actions.not-removable": "not removable: no enforcement action (DESIGN 3.2)",
    "actions.status-unknown": "status not determined: no action until it is (I.1)",
    "actions.protected-not-aggravating": "protected victim, witness or plaintiff (IV.2)",
    "actions.tfsc.minor-traffic-only": "no detainers on minor traffic offenses (III rec. 1)",
    "actions.tfsc.minor-misdemeanor-conditional": "post-conviction detainers only for minor misdemeanors (III rec. 1)",
    "actions.tfsc-strict.misdemeanor-no-public-safety-risk": "no detainer on misdemeanors posing no public-safety risk (III rec. 1, minority view)",
    "actions.pep.not-a-transfer-priority": "PEP: no detainer for a case that is not a transfer priority",
}  # fmt: skip
PROTECTED_FINDING = "protections.protected-person"
#: Names the pipeline itself acts under: no person may use them.
RESERVED_ACTORS = frozenset({"auto-accept", "policy-engine", "pipeline", "detainer-clock"})
REASON_MAX = 10_000


class FieldOfficeError(ValueError):
    """The step cannot be taken as asked; the message says why (and names the field)."""


@dataclass(frozen=True)
class Outcome:
    case_id: str
    state: CaseState
    officer_action_id: int | None
    chosen_action: str | None
    supervisor_reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "state": self.state.value,
            "officer_action_id": self.officer_action_id,
            "chosen_action": self.chosen_action,
            "supervisor_reasons": list(self.supervisor_reasons),
        }


def _decisive_rule(decision: Decision) -> str | None:
    for r in decision.reasons:
        if r.text.startswith("Decisive"):
            return r.rule
    return None


def safeguards_removed(decision: Decision, chosen: Action | str, *, override: bool) -> list[str]:
    """Why this officer decision needs a supervisor (empty: it does not)."""
    chosen = Action(chosen)
    reasons = []
    if decision.requires_supervisor_approval:
        reasons.append(
            "the recommendation requires supervisor approval: protected person with an "
            "aggravating factor (IV rec. 2)"
        )
    if override and SEVERITY[chosen] > SEVERITY[Action(decision.action)]:
        rule = _decisive_rule(decision)
        if rule in SAFEGUARD_RULES:
            reasons.append(
                f"override of {decision.action.value} -> {chosen.value} removes the safeguard "
                f"{rule}: {SAFEGUARD_RULES[rule]}"
            )
        if (
            any(r.rule == PROTECTED_FINDING for r in decision.reasons)
            and chosen is not Action.no_detainer
        ):
            reasons.append(f"override to {chosen.value}: action against a protected person (IV.2)")
    return list(dict.fromkeys(reasons))


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return dt.datetime.now(UTC)
    if at.tzinfo is None or at.utcoffset() is None:
        raise FieldOfficeError("at: give an aware datetime")
    return at.astimezone(UTC)


def _person(field: str, name: object) -> str:
    try:
        check_text(field, name, min_length=1, max_length=ACTOR_MAX)
    except ValueError as exc:
        raise FieldOfficeError(str(exc)) from None
    assert isinstance(name, str)
    if not name.strip():
        raise FieldOfficeError(f"{field}: must not be blank")
    if name.strip().lower() in RESERVED_ACTORS:
        raise FieldOfficeError(f"{field}: {name!r} is reserved for the pipeline itself")
    return name.strip()


def _reason(reason: object, *, required: bool, what: str) -> str | None:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        if required:
            raise FieldOfficeError(f"reason: {what} needs a reason")
        return None
    try:
        check_text("reason", reason, max_length=REASON_MAX)
    except ValueError as exc:
        raise FieldOfficeError(str(exc)) from None
    assert isinstance(reason, str)
    return reason.strip()


def _lock_case(session: Session, case_id: str) -> CaseRecord:
    """Lock the case's submission, then the case -- the worker's order (it claims submissions,
    then writes their cases), so a person and a worker never deadlock on PostgreSQL."""
    if not isinstance(case_id, str) or not case_id:
        raise FieldOfficeError("case_id: a case id expected")
    submission_id = session.scalar(
        select(CaseRecord.submission_id).where(CaseRecord.case_id == case_id)
    )
    if submission_id is not None:
        session.execute(
            select(Submission.id).where(Submission.id == submission_id).with_for_update()
        )
    case = session.scalar(
        select(CaseRecord)
        .where(CaseRecord.case_id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case is None:
        raise FieldOfficeError(f"case_id: no case {case_id!r}")
    return case


def _latest_decision(session: Session, case_id: str) -> DecisionRecord:
    row = repositories.latest_decision(session, case_id)
    if row is None:
        raise FieldOfficeError(f"case {case_id!r} has no recommendation yet")
    return row


def _move_submission(
    session: Session, case: CaseRecord, expected: PipelineStage, to: PipelineStage, now: dt.datetime
) -> None:
    if case.submission_id is None:
        return
    s = Submission.__table__
    state = SubmissionState.completed if to is PipelineStage.done else SubmissionState.processing
    session.execute(
        update(s)
        .where(s.c.id == case.submission_id, s.c.stage == expected.value)
        .values(stage=to.value, state=state.value, state_changed_at=now, error=None)
    )


def _set_state(case: CaseRecord, state: CaseState, now: dt.datetime, session: Session) -> None:
    case.state = state
    case.updated_at = now
    session.flush()


def decide(
    session: Session,
    case_id: str,
    *,
    officer: str,
    accept: bool = False,
    override: Action | str | None = None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """An officer accepts the recommendation or overrides it (see the module docstring)."""
    officer = _person("officer", officer)
    if accept == (override is not None):
        raise FieldOfficeError(
            "choose one: accept the recommendation, or override it with an action"
        )
    now = _now(at)
    case = _lock_case(session, case_id)
    if case.state is not CaseState.awaiting_officer:
        raise FieldOfficeError(
            f"case {case_id!r} is {case.state.value}, not awaiting an officer's decision"
        )
    d_row = _latest_decision(session, case_id)
    decision = Decision.model_validate(d_row.decision)
    if accept:
        chosen = Action(decision.action)
        why = _reason(reason, required=False, what="an acceptance")
        kind = OfficerActionKind.accept
    else:
        try:
            chosen = Action(override)
        except ValueError:
            raise FieldOfficeError(
                f"override: {override!r} is not an action ({', '.join(a.value for a in Action)})"
            ) from None
        if chosen is Action(decision.action):
            raise FieldOfficeError(
                f"override: {chosen.value} is the recommendation itself; accept it instead"
            )
        why = _reason(reason, required=True, what="an override")
        kind = OfficerActionKind.override
    action = repositories.record_officer_action(
        session, case_id, kind, officer=officer, acted_at=now, decision_id=d_row.id,
        chosen_action=chosen, reason=why,
    )  # fmt: skip
    needs = safeguards_removed(decision, chosen, override=not accept)
    if needs:
        _set_state(case, CaseState.awaiting_supervisor, now, session)
        audit.append(
            session,
            "case.awaiting_supervisor",
            actor=officer,
            subject={"case_id": case_id, "officer_action_id": action.id},
            payload={"chosen_action": chosen.value, "reasons": needs},
            recorded_at=now,
        )
    else:
        _set_state(case, CaseState.acted, now, session)
        _move_submission(session, case, PipelineStage.officer, PipelineStage.act, now)
    return Outcome(case_id, case.state, action.id, chosen.value, tuple(needs))


def _pending_officer_action(session: Session, case_id: str) -> OfficerAction:
    row = session.scalar(
        select(OfficerAction)
        .where(
            OfficerAction.case_id == case_id,
            OfficerAction.kind.in_([OfficerActionKind.accept, OfficerActionKind.override]),
        )
        .order_by(OfficerAction.acted_at.desc(), OfficerAction.id.desc())
        .limit(1)
    )
    if row is None:
        raise FieldOfficeError(f"case {case_id!r}: no officer decision awaits approval")
    return row


def approve(
    session: Session,
    case_id: str,
    *,
    supervisor: str,
    deny: bool = False,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """A supervisor -- a second user -- approves (or denies, with a reason) the decision
    waiting on a case."""
    supervisor = _person("supervisor", supervisor)
    now = _now(at)
    case = _lock_case(session, case_id)
    if case.state is not CaseState.awaiting_supervisor:
        raise FieldOfficeError(f"case {case_id!r} is {case.state.value}, not awaiting a supervisor")
    pending = _pending_officer_action(session, case_id)
    if pending.officer.strip().casefold() == supervisor.casefold():
        raise FieldOfficeError(
            f"supervisor: {supervisor!r} made the decision awaiting approval; a supervisor's "
            "approval must come from a second user"
        )
    why = _reason(reason, required=deny, what="a denial")
    if deny:
        action = repositories.record_officer_action(
            session, case_id, OfficerActionKind.supervisor_denial, officer=supervisor,
            acted_at=now, decision_id=pending.decision_id, reason=why,
        )  # fmt: skip
        _set_state(case, CaseState.awaiting_officer, now, session)
        return Outcome(case_id, case.state, action.id, None)
    action = repositories.record_officer_action(
        session, case_id, OfficerActionKind.supervisor_approval, officer=supervisor,
        acted_at=now, decision_id=pending.decision_id,
        chosen_action=pending.chosen_action, reason=why,
    )  # fmt: skip
    _set_state(case, CaseState.acted, now, session)
    _move_submission(session, case, PipelineStage.officer, PipelineStage.act, now)
    chosen = pending.chosen_action.value if pending.chosen_action else None
    return Outcome(case_id, case.state, action.id, chosen)


def verify_identity(
    session: Session,
    case_id: str,
    *,
    officer: str,
    confirm: bool,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """An examiner confirms or rejects the identity of a band / ambiguous / biographic match."""
    officer = _person("officer", officer)
    now = _now(at)
    case = _lock_case(session, case_id)
    task = session.scalar(
        select(IdentityVerification)
        .where(IdentityVerification.case_id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None:
        raise FieldOfficeError(f"case {case_id!r} has no identity verification task")
    if task.state is not VerificationState.open:
        raise FieldOfficeError(
            f"case {case_id!r}: the identity was already {task.state.value} by {task.resolved_by}"
        )
    why = _reason(reason, required=False, what="a verification")
    task.state = VerificationState.confirmed if confirm else VerificationState.rejected
    task.resolved_at, task.resolved_by, task.resolution_reason = now, officer, why
    session.flush()
    audit.append(
        session,
        "identity.verified" if confirm else "identity.rejected",
        actor=officer,
        subject={"case_id": case_id, "verification_id": task.id},
        payload={
            "method": task.method.value,
            "fin": task.fin,
            "score": task.score,
            "candidates": task.candidates,
            "reason": why,
            "at": now.isoformat(),
        },
        recorded_at=now,
    )
    if confirm:
        _move_submission(session, case, PipelineStage.verification, PipelineStage.decide, now)
        return Outcome(case_id, case.state, None, None)
    _set_state(case, CaseState.closed, now, session)
    _move_submission(session, case, PipelineStage.verification, PipelineStage.done, now)
    return Outcome(case_id, case.state, None, None)
