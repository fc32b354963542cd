"""Issue 8 item 4: the final action is one stored fact (written once, audited, read by the LEA
notice, detainer lodging and the statistics); never a detainer or notification request against
a citizen; the policy in force by the facility's local date; release-eligible time before the
detainer was issued refused; criminal history stored with the case. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from interop_helpers import T_NOW
from sqlalchemy import select

from securecomm.interop import field_office as fo
from securecomm.interop import lifecycle
from securecomm.interop.final_action import CITIZEN_STATUSES, citizen_refusal, lea_requests
from securecomm.interop.settings import load_settings
from securecomm.interop.stages import Item, facility_date, recommend
from securecomm.law.schema import Case
from securecomm.store import audit, repositories
from securecomm.store.db import session_factory
from securecomm.store.errors import ConflictError, InputError
from securecomm.store.models import (
    AuditEntry,
    CaseRecord,
    CaseState,
    DecisionRecord,
    Detainer,
    DetainerKind,
    Notice,
    NoticeKind,
    OfficerAction,
)

HOLDING = ("detainer", "conditional_detainer", "notification_request")


@pytest.fixture
def waiting(world):
    """The world processed with no simulated officers: cases wait for people."""
    world.submit()
    world.run(auto_accept=False)
    return world


def _waiting_cases(world, *, action=None, citizen=None, supervisor=False) -> list[str]:
    with world.session() as s:
        rows = s.execute(
            select(CaseRecord.case_id, CaseRecord.case_json, DecisionRecord.decision)
            .join(DecisionRecord, DecisionRecord.case_id == CaseRecord.case_id)
            .where(CaseRecord.state == CaseState.awaiting_officer)
            .order_by(CaseRecord.case_id)
        ).all()
    out = []
    for cid, doc, d in rows:
        is_citizen = doc["person"]["citizenship_status"] in CITIZEN_STATUSES
        if action is not None and d["action"] != action:
            continue
        if citizen is not None and is_citizen != citizen:
            continue
        if d["requires_supervisor_approval"] != supervisor:
            continue
        out.append(cid)
    return out


def _do(world, fn, *args, **kw):
    with world.session() as s, s.begin():
        return fn(s, *args, at=T_NOW, **kw)


def _case(world, case_id: str) -> CaseRecord:
    with world.session() as s:
        row = s.get(CaseRecord, case_id)
        s.expunge(row)
        return row


def _decision_notice(world, case_id: str) -> Notice | None:
    with world.session() as s:
        return s.scalar(
            select(Notice).where(Notice.case_id == case_id, Notice.kind == NoticeKind.case_update)
        )


# --------------------------------------------------------------------------- one stored fact


def test_override_to_no_detainer_requests_nothing_from_the_police(waiting):
    """The bug of issue 8: an override to no_detainer still sent "requests: detainer"."""
    case_id = _waiting_cases(waiting, action="detainer", citizen=False)[0]
    outcome = _do(
        waiting, fo.decide, case_id, officer="o.ruiz", override="no_detainer",
        reason="primary caretaker of three children",
    )  # fmt: skip
    assert outcome.state is CaseState.acted
    row = _case(waiting, case_id)
    assert row.final_action.value == "no_detainer"
    assert row.final_officer_action_id == outcome.officer_action_id
    assert row.final_action_at == T_NOW
    waiting.run(auto_accept=False)
    notice = _decision_notice(waiting, case_id)
    assert notice is not None
    assert notice.content["final_action"] == "no_detainer"
    assert notice.content["requests"] == []
    assert waiting.count(Detainer, Detainer.case_id == case_id) == 0
    # the statistics report the same fact
    from securecomm.stats.from_store import booking_outcomes_from_store

    table = booking_outcomes_from_store(waiting.engine).to_pylist()
    [mine] = [r for r in table if r["tcn"] == case_id.removeprefix("C-")]
    assert mine["action"] == "no_detainer"
    # and `cases show` shows it
    import json

    from typer.testing import CliRunner

    from securecomm.cli import app

    url = waiting.engine.url.render_as_string(False)
    shown = CliRunner().invoke(app, ["cases", "show", case_id, "--format", "json", "--url", url])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert doc["final_action"] == "no_detainer"
    assert doc["final_officer_action_id"] == outcome.officer_action_id


def test_accept_writes_the_final_action_once_and_audits_it(waiting):
    case_id = _waiting_cases(waiting, action="detainer", citizen=False)[0]
    outcome = _do(waiting, fo.decide, case_id, officer="o.ruiz", accept=True)
    with waiting.session() as s, s.begin():
        entries = [
            e for e in audit.list_entries(s, limit=100_000) if e.event_type == "case.final_action"
        ]
        assert [(e.case_id, e.actor) for e in entries] == [(case_id, "o.ruiz")]
        same = repositories.FinalActionToSet(
            case_id, "detainer", outcome.officer_action_id, T_NOW, "o.ruiz"
        )
        assert repositories.set_final_actions(s, [same]) == [False]  # a re-run writes nothing
        other = repositories.record_officer_action(
            s, case_id, "override", officer="o.other", acted_at=T_NOW,
            chosen_action="no_detainer", reason="x",
        )  # fmt: skip
        with pytest.raises(ConflictError, match=r"already detainer .* recorded once"):
            repositories.set_final_actions(
                s,
                [repositories.FinalActionToSet(case_id, "no_detainer", other.id, T_NOW, "o")],
            )
        with pytest.raises(InputError, match="is not an officer action of case"):
            repositories.set_final_actions(
                s, [repositories.FinalActionToSet(case_id, "no_action", other.id, T_NOW, "o")]
            )
        s.rollback()
    waiting.run(auto_accept=False)
    with waiting.session() as s:
        [d] = s.scalars(select(Detainer).where(Detainer.case_id == case_id)).all()
        assert d.officer_action_id == outcome.officer_action_id
        assert audit.verify(s).ok
    assert _decision_notice(waiting, case_id).content["requests"] == ["detainer"]


def test_safeguard_override_has_no_final_action_until_approved(waiting):
    case_id = _waiting_cases(waiting, action="no_detainer", citizen=False)[0]
    outcome = _do(
        waiting, fo.decide, case_id, officer="o.lee", override="detainer", reason="record"
    )
    if outcome.state is CaseState.acted:  # not a safeguard rule in this world: nothing to show
        pytest.skip("the first no_detainer case is not a safeguard")
    assert _case(waiting, case_id).final_action is None
    waiting.run(auto_accept=False)
    assert _decision_notice(waiting, case_id) is None  # nothing final: nothing told
    denied = _do(waiting, fo.approve, case_id, supervisor="s.chen", deny=True, reason="no")
    assert denied.state is CaseState.awaiting_officer
    assert _case(waiting, case_id).final_action is None
    again = _do(waiting, fo.decide, case_id, officer="o.lee", override="detainer", reason="r2")
    approved = _do(waiting, fo.approve, case_id, supervisor="s.chen")
    assert again.state is CaseState.awaiting_supervisor and approved.state is CaseState.acted
    row = _case(waiting, case_id)
    assert row.final_action.value == "detainer"
    assert row.final_officer_action_id == approved.officer_action_id
    waiting.run(auto_accept=False)
    assert _decision_notice(waiting, case_id).content["requests"] == ["detainer"]


def test_automatic_acceptance_writes_the_final_action(world):
    world.submit()
    world.run(auto_accept=True)
    with world.session() as s:
        acted = s.scalars(select(CaseRecord).where(CaseRecord.state == CaseState.acted)).all()
        assert acted
        for case in acted:
            action = s.get(OfficerAction, case.final_officer_action_id)
            assert action.officer == "auto-accept" and action.case_id == case.case_id
            assert case.final_action is action.chosen_action
            notice = s.scalar(
                select(Notice).where(
                    Notice.case_id == case.case_id, Notice.kind == NoticeKind.case_update
                )
            )
            if notice is not None:  # the police notice always equals the final action
                assert notice.content["final_action"] == case.final_action.value
                assert notice.content["requests"] == lea_requests(case.final_action)
            kinds = {
                d.kind.value
                for d in s.scalars(select(Detainer).where(Detainer.case_id == case.case_id))
            }
            assert kinds == ({case.final_action.value} & set(HOLDING))
        assert audit.verify(s).ok


# --------------------------------------------------------------------------- citizens


def test_citizen_refusal_rule():
    for status in ("us_citizen_by_birth", "naturalized_citizen"):
        for action in HOLDING:
            why = citizen_refusal(status, action)
            assert why and "8 CFR 287.7(a)" in why and "IV rec. 3" in why
        for action in ("no_action", "no_detainer"):
            assert citizen_refusal(status, action) is None
    for action in HOLDING:
        assert citizen_refusal("lawful_permanent_resident", action) is None


@pytest.mark.parametrize("override", HOLDING)
def test_no_officer_can_lodge_against_a_citizen(waiting, override):
    cases = _waiting_cases(waiting, citizen=True)
    assert cases, "the small world has falsely matched or naturalized citizens"
    case_id = cases[0]
    sessions = session_factory(waiting.engine)
    with pytest.raises(fo.ActionRefused, match=r"refused: no .* may be lodged against a person"):
        fo.run_audited(
            sessions, fo.decide, case_id, officer="o.ruiz", override=override,
            reason="I am sure", at=T_NOW,
        )  # fmt: skip
    row = _case(waiting, case_id)
    assert row.state is CaseState.awaiting_officer and row.final_action is None
    with waiting.session() as s:
        assert not s.scalars(select(OfficerAction).where(OfficerAction.case_id == case_id)).all()
        [entry] = s.scalars(
            select(AuditEntry).where(
                AuditEntry.case_id == case_id, AuditEntry.event_type == "case.action_refused"
            )
        ).all()
        assert entry.actor == "o.ruiz" and override in entry.payload
        assert audit.verify(s).ok
    # lodging refuses it too, whoever calls it
    with (
        waiting.session() as s,
        s.begin(),
        pytest.raises(lifecycle.LifecycleError, match="may be lodged against a person"),
    ):
        lifecycle.lodge(
                s, case_id=case_id, officer_action_id=None, ori=row.ori,
                kind=DetainerKind(override), issued_at=T_NOW, actor="x", policy="tfsc-2011",
            )  # fmt: skip


def test_the_cli_refuses_and_audits_a_detainer_against_a_citizen(waiting, monkeypatch):
    from typer.testing import CliRunner

    from securecomm.cli import app

    case_id = _waiting_cases(waiting, citizen=True)[0]
    monkeypatch.setenv("SECURECOMM_DATABASE_URL", waiting.engine.url.render_as_string(False))
    result = CliRunner().invoke(
        app,
        ["cases", "decide", case_id, "--officer", "o.ruiz", "--override", "detainer",
         "--reason", "sure"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "refused" in result.output and "Traceback" not in result.output
    assert waiting.count(AuditEntry, AuditEntry.event_type == "case.action_refused") == 1
    assert waiting.count(OfficerAction, OfficerAction.case_id == case_id) == 0


# --------------------------------------------------------------------------- local date


def _case_at(decided_at: str, zone: str = "America/Chicago") -> Case:
    return Case.model_validate(
        {
            "case_id": "c-tz",
            "decided_at": decided_at,
            "jurisdiction": {"ori": "TX2270000", "state": "TX", "timezone": zone},
            "person": {"citizenship_status": "entered_without_inspection"},
            "arrest": {
                "arrested_at": "2014-11-20T20:00:00-06:00",
                "charges": [{"ncic": "5404", "severity": "misdemeanor"}],
            },
        }
    )


def test_policy_in_force_by_the_facility_local_date(tmp_path):
    settings = load_settings(
        data_dir=tmp_path,
        policy_entries=((dt.date(1900, 1, 1), "tfsc-2011"), (dt.date(2014, 11, 21), "pep-2014")),
    )
    late = _case_at("2014-11-20T23:30:00-06:00")  # already 2014-11-21 in UTC
    assert late.decided_at.astimezone(dt.UTC).date() == dt.date(2014, 11, 21)
    assert facility_date(late) == dt.date(2014, 11, 20)
    assert recommend(settings, late).policy == "tfsc-2011"
    # the same instant submitted in UTC: the facility's date decides, not the offset's
    same = _case_at("2014-11-21T05:30:00+00:00")
    assert facility_date(same) == dt.date(2014, 11, 20)
    assert recommend(settings, same).policy == "tfsc-2011"
    # an hour later it is the 21st at the facility
    assert recommend(settings, _case_at("2014-11-21T00:30:00-06:00")).policy == "pep-2014"
    # the same instant at a facility in New York is already the 21st there
    assert recommend(
        settings, _case_at("2014-11-20T23:30:00-06:00", "America/New_York")
    ).policy == ("pep-2014")
    item = Item(1, "T", "TX2270000", {"booked_at": "2014-11-21T05:30:00+00:00"}, "America/Chicago")
    assert item.booked_on == dt.date(2014, 11, 20)


# --------------------------------------------------------------------------- detainer clock


def test_release_eligible_before_the_detainer_was_issued_is_refused(waiting):
    case_id = _waiting_cases(waiting, action="detainer", citizen=False)[0]
    _do(waiting, fo.decide, case_id, officer="o.ruiz", accept=True)
    waiting.run(auto_accept=False)
    with waiting.session() as s:
        d = s.scalar(select(Detainer).where(Detainer.case_id == case_id))
        detainer_id, issued = d.id, d.issued_at
    with (
        waiting.session() as s,
        s.begin(),
        pytest.raises(lifecycle.LifecycleError, match="before the detainer was issued"),
    ):
        lifecycle.report_release_eligible(
            s, detainer_id, at=issued - dt.timedelta(minutes=1), actor="lea"
        )
    from typer.testing import CliRunner

    from securecomm.cli import app

    early = (issued - dt.timedelta(days=1)).isoformat()
    result = CliRunner().invoke(
        app,
        ["detainers", "release-eligible", str(detainer_id), "--at", early,
         "--url", waiting.engine.url.render_as_string(False)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "before the detainer was issued" in result.output
    # the clock reads the detainer's own policy columns, not the issued event
    with waiting.session() as s, s.begin():
        d = s.get(Detainer, detainer_id)
        assert d.policy and d.policy_version
        issued_event = lifecycle.events(s, detainer_id)[0]
        issued_event.details = {}  # nothing left there to read
        s.flush()
        lifecycle.report_release_eligible(
            s, detainer_id, at=issued + dt.timedelta(hours=1), actor="lea"
        )
        event = lifecycle.events(s, detainer_id)[-1]
        assert event.details["policy"] == d.policy
        assert event.details["policy_version"] == d.policy_version
        assert "fallback" not in event.details
        s.rollback()


# --------------------------------------------------------------------------- criminal history


def test_criminal_history_is_read_once_per_case_and_stored(world, monkeypatch):
    world.submit()
    world.run(auto_accept=False)  # up to the officers: cases opened with their history
    with world.session() as s:
        stored = {
            c.case_id: c.criminal_history
            for c in s.scalars(select(CaseRecord))
            if c.criminal_history is not None
        }
    assert stored and all(h["fbi_number"] for h in stored.values())
    agencies = world.agencies()

    def no_second_read(session, wanted):
        raise AssertionError(f"criminal history read again for {len(wanted)} booking(s)")

    monkeypatch.setattr(agencies.criminal_history, "history", no_second_read)
    from securecomm.interop.worker import run_worker

    report = run_worker(world.engine, settings=world.settings, agencies=agencies,
                        auto_accept=True, clock=lambda: T_NOW)  # fmt: skip
    assert report.processed["act"] > 0 and report.failed == 0
    with world.session() as s:
        # the warrants the police were told of are the stored ones
        for n in s.scalars(select(Notice).where(Notice.kind == NoticeKind.case_update)):
            warrants = n.content["disclosed"].get("warrants")
            if warrants is not None and n.case_id in stored:
                assert len(warrants) == len(stored[n.case_id]["warrants"])
