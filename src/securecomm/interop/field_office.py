"""The field office: officers decide on recommendations, supervisors approve safeguard
overrides, examiners verify identities (DESIGN 2; report IV rec. 2; issue 3 item 5).

Officer decision (:func:`decide`) on a case ``awaiting_officer``
    *accept* the recommendation, or *override* it with another action and a mandatory reason.
    The decision goes to a supervisor (case ``awaiting_supervisor``) when it

    * is any decision on a case whose recommendation ``requires_supervisor_approval`` (a
      protected person with an aggravating factor, IV rec. 2), or
    * removes a safeguard: an override to a *more severe* action (``no_action`` <
      ``no_detainer`` < ``notification_request`` < ``conditional_detainer`` < ``detainer``)
      where the recommendation was decided by a safeguard rule (the decisive action rule's
      ``safeguard``, a field of the rule in ``law/rules/actions.py``: not removable / status
      unknown, protected and not aggravating, the Task Force's minor-traffic, post-conviction
      and minor-misdemeanor rules, PEP's "not a transfer priority"; a variant keeps them) or
      the person is protected (``protections.protected-person``).

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

Case facts (:func:`record_facts`)
    An officer records facts no repository holds -- a victim / witness / plaintiff
    certification, what the interview found, the person's own claim -- each with its source
    (audited ``case.fact_recorded``). While the case has not been acted on (``open`` or
    ``awaiting_officer``) the case document is rebuilt with them (``case.document_updated``)
    and, once a recommendation exists, the recommendation is re-computed with the same policy
    resolution as the decide stage (:func:`~.stages.recommend`): a new decision record the
    officer then decides on. After an officer decided (``awaiting_supervisor``, ``acted``,
    ``closed``) it is refused: the officer overrides instead. Facts for a case not yet opened
    are kept and read when the booking's case is assembled.

Every step is one transaction (the caller's session), audited: ``officer.<kind>`` (by the
store), ``case.awaiting_supervisor`` with the reasons, ``identity.verified`` /
``identity.rejected``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..law.engine import decisive_of
from ..law.packs import safeguard_rules
from ..law.schema import Action, Case, Decision
from ..store import audit, repositories
from ..store.errors import InputError
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
from .adapters import merge_flags

if TYPE_CHECKING:
    from .settings import PipelineSettings

__all__ = [
    "RESERVED_ACTORS",
    "SAFEGUARD_RULES",
    "SEVERITY",
    "FactsOutcome",
    "FieldOfficeError",
    "Outcome",
    "approve",
    "decide",
    "parse_fact",
    "record_facts",
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
#: Action rules whose outcome is a safeguard (rule id -> the safeguard), from the built-in packs;
#: a decision names its own in ``decisive_rule.safeguard`` (variants included).
SAFEGUARD_RULES: dict[str, str] = safeguard_rules()
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
        decisive = decisive_of(decision)
        if decisive is not None and decisive.safeguard:
            reasons.append(
                f"override of {decision.action.value} -> {chosen.value} removes the safeguard "
                f"{decisive.rule}: {decisive.safeguard}"
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


# --------------------------------------------------------------------------- case facts

#: Case states in which new facts still re-compute the recommendation (no officer decided).
FACTS_OPEN_STATES = (CaseState.open, CaseState.awaiting_officer)


@dataclass(frozen=True)
class FactsOutcome:
    case_id: str
    #: None: no case yet (the facts are read when the booking's case is assembled)
    state: CaseState | None
    fact_ids: tuple[int, ...]
    facts: dict[str, bool]
    #: the flags of the case document after the facts (None without a case)
    flags: dict[str, bool] | None = None
    recomputed: bool = False
    decision_id: int | None = None
    action: str | None = None
    previous_action: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "state": self.state.value if self.state is not None else None,
            "fact_ids": list(self.fact_ids),
            "facts": dict(self.facts),
            "flags": self.flags,
            "recomputed": self.recomputed,
            "decision_id": self.decision_id,
            "action": self.action,
            "previous_action": self.previous_action,
        }


def parse_fact(text: object) -> tuple[str, bool]:
    """``name`` or ``name=true|false`` (also yes/no, 1/0) -> (name, value); the name is
    checked by the store. For command-line input."""
    if not isinstance(text, str) or not text.strip():
        raise FieldOfficeError("fact: give NAME or NAME=true|false")
    name, sep, raw = text.strip().partition("=")
    name = name.strip()
    if not sep:
        return name, True
    value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
        raw.strip().lower()
    )
    if value is None:
        raise FieldOfficeError(f"fact {name!r}: value {raw!r} is not true or false")
    return name, value


def record_facts(
    session: Session,
    case_id: str,
    facts: Mapping[str, bool],
    *,
    source: str,
    officer: str,
    settings: PipelineSettings | None = None,
    at: dt.datetime | None = None,
) -> FactsOutcome:
    """Record case facts and re-compute the recommendation (see the module docstring).

    ``settings``: the pipeline settings whose policy schedule the decide stage uses; needed
    when the case has a recommendation to re-compute. Errors name the field."""
    officer = _person("officer", officer)
    if not isinstance(facts, Mapping) or not facts:
        raise FieldOfficeError("facts: give at least one fact")
    now = _now(at)
    if not isinstance(case_id, str) or not case_id:
        raise FieldOfficeError("case_id: a case id expected")
    exists = session.scalar(select(CaseRecord.case_id).where(CaseRecord.case_id == case_id))
    case = _lock_case(session, case_id) if exists is not None else None
    if case is not None and case.state not in FACTS_OPEN_STATES:
        raise FieldOfficeError(
            f"case {case_id!r} is {case.state.value}: an officer has already decided, so new "
            "facts no longer re-compute the recommendation; the officer must override "
            "(securecomm cases decide --override ACTION --reason ...)"
        )
    items = [
        repositories.CaseFactToRecord(case_id, name, value, source, officer, now)
        for name, value in facts.items()
    ]
    try:
        ids = repositories.record_case_facts(session, items)
    except InputError as exc:
        raise FieldOfficeError(str(exc)) from None
    recorded = {i.fact: i.value for i in items}
    if case is None:
        return FactsOutcome(case_id, None, tuple(ids), recorded)
    document = Case.model_validate(case.case_json)
    in_force = repositories.case_facts_in_force(session, [case_id]).get(case_id, {})
    flags, _ignored = merge_flags(document.flags.model_dump(mode="json"), in_force)
    updated = Case.model_validate({**document.model_dump(mode="json"), "flags": flags})
    names = ", ".join(f"{k}={'true' if v else 'false'}" for k, v in recorded.items())
    repositories.update_case_document(
        session, case_id, updated, actor=officer, at=now,
        reason=f"case facts recorded ({names}); source: {source.strip()}",
    )  # fmt: skip
    previous = repositories.latest_decision(session, case_id)
    if case.state is not CaseState.awaiting_officer or previous is None:
        # no recommendation yet: the decide stage will read the updated document
        return FactsOutcome(case_id, case.state, tuple(ids), recorded, flags)
    if settings is None:
        raise FieldOfficeError("settings: the pipeline settings are needed to re-compute")
    from .stages import recommend  # stages imports the lifecycle; only needed here

    decision = recommend(settings, updated)
    row, created = repositories.record_decision(
        session, case_id, decision, decided_at=updated.decided_at
    )
    if not created and row.id != previous.id:
        # the facts restore an earlier case document: its decision row exists (one per
        # document) but is not the latest, so the worklist would show the wrong one
        raise FieldOfficeError(
            f"facts: they restore an earlier version of case {case_id!r} whose recommendation "
            f"(decision #{row.id}, {row.action.value}) is already recorded but no longer the "
            "latest; the officer must decide on the current recommendation and override"
        )
    _set_state(case, CaseState.awaiting_officer, now, session)
    return FactsOutcome(
        case_id, case.state, tuple(ids), recorded, flags, True, row.id, row.action.value,
        previous.action.value,
    )  # fmt: skip
