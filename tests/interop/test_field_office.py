"""Officer decisions, supervisor approval by a second user, identity verification."""

from __future__ import annotations

import pytest
from interop_helpers import T_NOW
from sqlalchemy import select

from securecomm.interop import field_office as fo
from securecomm.law.engine import CompiledPack
from securecomm.law.packs import PACKS
from securecomm.law.schema import Case
from securecomm.store import audit
from securecomm.store.models import (
    CaseRecord,
    CaseState,
    DecisionRecord,
    Detainer,
    IdentityVerification,
    OfficerAction,
    Submission,
)


@pytest.fixture
def waiting(world):
    """The world processed with no simulated officers: cases wait for people."""
    world.submit()
    world.run(auto_accept=False)
    return world


def _cases(world, *, action=None, rule=None, state=CaseState.awaiting_officer) -> list[str]:
    with world.session() as s:
        rows = s.execute(
            select(CaseRecord.case_id, DecisionRecord.decision)
            .join(DecisionRecord, DecisionRecord.case_id == CaseRecord.case_id)
            .where(CaseRecord.state == state)
            .order_by(CaseRecord.case_id)
        ).all()
    out = []
    for cid, d in rows:
        decisive = next((r["rule"] for r in d["reasons"] if r["text"].startswith("Decisive")), None)
        wanted = (action is None or d["action"] == action) and (rule is None or decisive == rule)
        if wanted and not d["requires_supervisor_approval"]:
            out.append(cid)
    return out


def _do(world, fn, *args, **kw):
    with world.session() as s, s.begin():
        return fn(s, *args, at=T_NOW, **kw)


def _stage(world, case_id: str) -> str:
    with world.session() as s:
        sid = s.get(CaseRecord, case_id).submission_id
        return s.get(Submission, sid).stage.value


def test_accept_releases_the_case_and_the_pipeline_lodges(waiting):
    case_id = _cases(waiting, action="detainer")[0]
    outcome = _do(waiting, fo.decide, case_id, officer="officer.ortiz", accept=True)
    assert outcome.state is CaseState.acted and outcome.chosen_action == "detainer"
    assert _stage(waiting, case_id) == "act"
    waiting.run(auto_accept=False)
    with waiting.session() as s:
        [d] = s.scalars(select(Detainer).where(Detainer.case_id == case_id)).all()
        action = s.get(OfficerAction, d.officer_action_id)
        assert action.officer == "officer.ortiz" and action.kind.value == "accept"
        assert audit.verify(s).ok
    assert _stage(waiting, case_id) == "done"


def test_override_needs_a_reason_and_a_different_action(waiting):
    case_id = _cases(waiting, action="detainer")[0]
    with pytest.raises(fo.FieldOfficeError, match="reason"):
        _do(waiting, fo.decide, case_id, officer="o1", override="no_detainer")
    with pytest.raises(fo.FieldOfficeError, match="recommendation itself"):
        _do(waiting, fo.decide, case_id, officer="o1", override="detainer", reason="x")
    with pytest.raises(fo.FieldOfficeError, match="not an action"):
        _do(waiting, fo.decide, case_id, officer="o1", override="deport", reason="x")
    # the system's own actors are not users: nobody can act as them
    with pytest.raises(fo.FieldOfficeError, match="officer: not a registered user"):
        _do(waiting, fo.decide, case_id, officer="auto-accept", accept=True)
    # a less severe override removes no safeguard: acted at once, nothing lodged
    outcome = _do(
        waiting,
        fo.decide,
        case_id,
        officer="o1",
        override="no_detainer",
        reason="primary caretaker of three children",
    )
    assert outcome.state is CaseState.acted and not outcome.supervisor_reasons
    waiting.run(auto_accept=False)
    assert waiting.count(Detainer, Detainer.case_id == case_id) == 0
    with pytest.raises(fo.FieldOfficeError, match="not awaiting"):
        _do(waiting, fo.decide, case_id, officer="o1", accept=True)


def test_safeguard_override_needs_a_second_user(waiting):
    [case_id, other, *_] = _cases(
        waiting, action="no_detainer", rule="actions.tfsc.minor-traffic-only"
    )
    outcome = _do(
        waiting,
        fo.decide,
        case_id,
        officer="officer.lee",
        override="detainer",
        reason="repeat offender",
    )
    assert outcome.state is CaseState.awaiting_supervisor
    assert any("actions.tfsc.minor-traffic-only" in r for r in outcome.supervisor_reasons)
    assert _stage(waiting, case_id) == "officer"
    _do(
        waiting,
        fo.decide,
        other,
        officer="officer.lee",
        override="conditional_detainer",
        reason="x",
    )
    waiting.run(auto_accept=True)  # simulated officers never touch them
    assert waiting.count(Detainer, Detainer.case_id == case_id) == 0
    with pytest.raises(fo.FieldOfficeError, match="second user"):
        _do(waiting, fo.approve, case_id, supervisor="Officer.Lee")  # the same registered user
    with pytest.raises(fo.FieldOfficeError, match="supervisor: mixes scripts"):
        _do(waiting, fo.approve, case_id, supervisor="\u043efficer.lee")  # Cyrillic o
    with pytest.raises(fo.FieldOfficeError, match="one of ice_supervisor is required"):
        _do(waiting, fo.approve, case_id, supervisor="o.ruiz")  # an officer, not a supervisor
    approved = _do(waiting, fo.approve, case_id, supervisor="supervisor.kim")
    assert approved.state is CaseState.acted and approved.chosen_action == "detainer"
    waiting.run(auto_accept=False)
    with waiting.session() as s:
        [d] = s.scalars(select(Detainer).where(Detainer.case_id == case_id)).all()
        approval = s.get(OfficerAction, d.officer_action_id)
        assert approval.kind.value == "supervisor_approval" and approval.officer == "supervisor.kim"
        kinds = [e.event_type for e in audit.list_entries(s, case_id=case_id, limit=100)]
        assert (
            kinds.index("officer.override")
            < kinds.index("case.awaiting_supervisor")
            < kinds.index("officer.supervisor_approval")
            < kinds.index("detainer.issued")
        )
        assert audit.verify(s).ok
    # denial sends the case back to the officer
    with pytest.raises(fo.FieldOfficeError, match="reason"):
        _do(waiting, fo.approve, other, supervisor="supervisor.kim", deny=True)
    denied = _do(
        waiting,
        fo.approve,
        other,
        supervisor="supervisor.kim",
        deny=True,
        reason="III rec. 1 applies",
    )
    assert denied.state is CaseState.awaiting_officer
    assert (
        _do(waiting, fo.decide, other, officer="officer.lee", accept=True).state is CaseState.acted
    )
    waiting.run(auto_accept=False)
    assert waiting.count(Detainer, Detainer.case_id == other) == 0


def test_approve_needs_a_case_awaiting_a_supervisor(waiting):
    case_id = _cases(waiting, action="detainer")[0]
    with pytest.raises(fo.FieldOfficeError, match="not awaiting a supervisor"):
        _do(waiting, fo.approve, case_id, supervisor="s")
    with pytest.raises(fo.FieldOfficeError, match="no case"):
        _do(waiting, fo.approve, "C-nope", supervisor="s")


def _decision(case_doc: dict, pack: str = "tfsc-2011"):
    return CompiledPack(PACKS[pack]).decide(Case.model_validate(case_doc))


BASE = {
    "case_id": "fo-1",
    "decided_at": "2011-10-03T10:00:00-06:00",
    "jurisdiction": {"ori": "CO0010000", "state": "CO", "timezone": "America/Denver"},
    "person": {"birth_date": "1985-01-01", "citizenship_status": "entered_without_inspection",
               "entered_us_on": "2001-01-01", "entry": "without_inspection"},
    "arrest": {"charges": [{"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor"}]},
}  # fmt: skip


def test_safeguards_removed_rules():
    traffic = _decision(BASE)
    assert traffic.action.value == "no_detainer"
    assert fo.safeguards_removed(traffic, "detainer", override=True)
    assert fo.safeguards_removed(traffic, "notification_request", override=True)
    assert not fo.safeguards_removed(traffic, "no_action", override=True)
    assert not fo.safeguards_removed(traffic, "no_detainer", override=False)
    # protected and not aggravating (a pending U visa)
    protected = _decision({**BASE, "person": {**BASE["person"], "pending_relief": ["u_visa"]},
                           "arrest": {"charges": [{"ncic": "2303", "literal": "SHOPLIFTING", "severity": "misdemeanor"}]}})  # fmt: skip
    reasons = fo.safeguards_removed(protected, "detainer", override=True)
    assert any("protected-not-aggravating" in r for r in reasons)
    assert any("protected person" in r for r in reasons)
    # protected and aggravating: supervisor required, even to accept
    aggravated = _decision({**BASE, "person": {**BASE["person"], "pending_relief": ["u_visa"]},
                            "flags": {"gang_member": True}})  # fmt: skip
    assert aggravated.requires_supervisor_approval
    assert fo.safeguards_removed(aggravated, aggravated.action, override=False)
    # a citizen: not removable; any enforcement override needs a supervisor
    citizen = _decision({**BASE, "person": {"citizenship_status": "naturalized_citizen"}})
    assert citizen.action.value == "no_action"
    assert any(
        "not-removable" in r for r in fo.safeguards_removed(citizen, "detainer", override=True)
    )
    # a plain detainer recommendation: downgrades need no supervisor
    felony = _decision({**BASE, "arrest": {"charges": [{"ncic": "1314", "severity": "felony"}]},
                        "convictions": [{"ncic": "1314", "severity": "felony", "sentence_days": 400}]})  # fmt: skip
    assert felony.action.value == "detainer"
    assert not fo.safeguards_removed(felony, "no_detainer", override=True)


def test_verify_identity_confirm_and_reject(waiting):
    with waiting.session() as s:
        tasks = s.scalars(select(IdentityVerification).order_by(IdentityVerification.id)).all()
    assert len(tasks) >= 2 and all(t.case_id for t in tasks)
    confirm, reject = tasks[0].case_id, tasks[1].case_id
    assert _stage(waiting, confirm) == "verification"
    # nothing is decided while the identity waits
    assert waiting.count(DecisionRecord, DecisionRecord.case_id == confirm) == 0
    with pytest.raises(fo.FieldOfficeError, match="no identity verification"):
        _do(waiting, fo.verify_identity, _cases(waiting)[0], officer="examiner.diaz", confirm=True)
    _do(waiting, fo.verify_identity, confirm, officer="examiner.diaz", confirm=True)
    assert _stage(waiting, confirm) == "decide"
    with pytest.raises(fo.FieldOfficeError, match="already confirmed"):
        _do(waiting, fo.verify_identity, confirm, officer="examiner.diaz", confirm=False)
    out = _do(
        waiting,
        fo.verify_identity,
        reject,
        officer="examiner.diaz",
        confirm=False,
        reason="different person: scars",
    )
    assert out.state is CaseState.closed
    assert _stage(waiting, reject) == "done"
    waiting.run(auto_accept=False)
    assert waiting.count(DecisionRecord, DecisionRecord.case_id == reject) == 0
    with waiting.session() as s:
        assert s.get(CaseRecord, confirm).state is CaseState.awaiting_officer
        assert s.get(CaseRecord, reject).state is CaseState.closed
        events = {e.event_type for e in audit.list_entries(s, limit=100_000)}
        assert {"identity.verified", "identity.rejected"} <= events
        assert audit.verify(s).ok


def test_only_registered_active_users_act(waiting):
    """Issue 9 item 2 / issue 8: the acting user is a registered identity (--as USER)."""
    from securecomm.users.service import disable_user

    case_id = _cases(waiting, action="detainer")[0]
    for name, message in (
        ("nobody.here", "officer: not a registered user"),
        ("o.ru\u200biz", "officer"),  # a zero-width space: refused, never a new person
        ("", "officer: give the acting user's registered name"),
    ):
        with pytest.raises(fo.FieldOfficeError, match=message):
            _do(waiting, fo.decide, case_id, officer=name, accept=True)
    with waiting.session() as s, s.begin():
        disable_user(s, "o1", actor="admin-cli")
    with pytest.raises(fo.FieldOfficeError, match="this user is disabled"):
        _do(waiting, fo.decide, case_id, officer="o1", accept=True)
    # the registered spelling is what the log records
    outcome = _do(waiting, fo.decide, case_id, officer="O.Ruiz", accept=True)
    with waiting.session() as s:
        assert s.get(OfficerAction, outcome.officer_action_id).officer == "o.ruiz"
