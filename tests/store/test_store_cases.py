"""Cases, decisions, officer actions, detainers and notices: idempotent, audited, listable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from securecomm.law.schema import Action
from securecomm.store import audit
from securecomm.store.errors import ConflictError, InputError, NotFoundError
from securecomm.store.models import (
    AuditEntry,
    CaseState,
    DecisionRecord,
    DetainerEventType,
    DetainerKind,
    DetainerState,
    NoticeKind,
    OfficerActionKind,
)
from securecomm.store.repositories import (
    add_detainer_event,
    create_notice,
    get_case,
    issue_detainer,
    latest_decision,
    list_cases,
    list_decisions,
    list_detainers,
    list_notices,
    mark_notice_delivered,
    open_case,
    record_decision,
    record_officer_action,
    set_case_state,
)

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)


def _events(db) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry.event_type).order_by(AuditEntry.seq)))


def test_open_case_is_idempotent_and_validated(db, seed):
    doc = seed.case("case-1")
    with db.session() as s, s.begin():
        row, created = open_case(s, doc, opened_at=T0)
        assert created and row.ori == seed.ori and row.state is CaseState.open
    with db.session() as s, s.begin():
        again, created = open_case(s, json.loads(json.dumps(doc)), opened_at=T0 + timedelta(1))
        assert not created and again.opened_at == T0
        assert again.case_json["person"]["entry"] == "without_inspection"
    changed = seed.case("case-1", birth_date="1980-01-01")
    with db.session() as s, s.begin(), pytest.raises(ConflictError, match="case-1"):
        open_case(s, changed, opened_at=T0)
    bad = seed.case("case-2")
    bad["person"]["citizenship_status"] = "martian"
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        open_case(s, bad, opened_at=T0)
    assert info.value.field == "case.person.citizenship_status"
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        open_case(s, seed.case("case-3", ori="ZZ9999999"), opened_at=T0)
    assert info.value.field == "case.jurisdiction.ori"


def test_record_decision_is_idempotent_audited_and_keeps_the_whole_decision(db, seed):
    doc = seed.case("case-1")
    decision = seed.decision(doc)
    with db.session() as s, s.begin():
        open_case(s, doc, opened_at=T0)
        row, created = record_decision(s, "case-1", decision, decided_at=T0)
        assert created
    with db.session() as s, s.begin():
        again, created = record_decision(
            s, "case-1", decision.model_dump(mode="json"), decided_at=T0
        )
        assert not created and again.id == row.id
    with db.session() as s:
        stored = s.get(DecisionRecord, row.id)
        assert stored.decision == decision.model_dump(mode="json")
        assert (stored.policy, stored.policy_version) == (decision.policy, decision.policy_version)
        assert stored.action == decision.action
        assert latest_decision(s, "case-1").id == row.id
        entries = audit.list_entries(s, case_id="case-1")
    assert [e.event_type for e in entries] == ["decision.recorded"]  # once, not twice
    assert json.loads(entries[0].payload)["decision"] == decision.model_dump(mode="json")
    assert json.loads(entries[0].subject) == {"case_id": "case-1", "decision_id": row.id}

    flipped = Action.no_action if decision.action != Action.no_action else Action.detainer
    other = decision.model_copy(update={"action": flipped})
    with db.session() as s, s.begin(), pytest.raises(ConflictError, match="case-1"):
        record_decision(s, "case-1", other, decided_at=T0)
    # another policy pack: a second decision on the same case
    with db.session() as s, s.begin():
        _, created = record_decision(s, "case-1", seed.decision(doc, "pep-2014"), decided_at=T0)
        assert created
    with db.session() as s:
        assert len(list_decisions(s, "case-1")) == 2
    assert _verify_ok(db)


def _verify_ok(db) -> bool:
    with db.session() as s:
        report = audit.verify(s)
    assert report.ok, report.problems
    return True


def test_record_decision_checks_its_input(db, seed):
    doc = seed.case("case-1")
    decision = seed.decision(doc)
    with db.session() as s, s.begin(), pytest.raises(NotFoundError):
        record_decision(s, "case-1", decision, decided_at=T0)
    with db.session() as s, s.begin():
        open_case(s, doc, opened_at=T0)
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        record_decision(
            s, "case-1", {**decision.model_dump(mode="json"), "case_id": "case-9"}, decided_at=T0
        )
    assert info.value.field == "decision.case_id"
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        record_decision(
            s, "case-1", {**decision.model_dump(mode="json"), "priority": "9"}, decided_at=T0
        )
    assert info.value.field == "decision.priority"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_officer_actions_overrides_need_a_reason(db, seed):
    with db.session() as s, s.begin():
        open_case(s, seed.case("case-1"), opened_at=T0)
        record_officer_action(s, "case-1", OfficerActionKind.accept, officer="ofc-1", acted_at=T0)
        record_officer_action(
            s,
            "case-1",
            "override",
            officer="ofc-1",
            acted_at=T0,
            chosen_action="no_detainer",
            reason="primary caretaker",
        )
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        record_officer_action(s, "case-1", "override", officer="ofc-1", acted_at=T0, reason="  ")
    assert info.value.field == "reason"
    assert _events(db) == ["officer.accept", "officer.override"]


def test_detainer_lifecycle_is_audited_and_listed_by_hold_until(db, seed):
    with db.session() as s, s.begin():
        for i in range(3):
            open_case(s, seed.case(f"case-{i}"), opened_at=T0 + timedelta(minutes=i))
        d0 = issue_detainer(
            s, "case-0", DetainerKind.detainer, ori=seed.ori, issued_at=T0, actor="ofc"
        )
        d1 = issue_detainer(
            s, "case-1", "conditional_detainer", ori=seed.ori, issued_at=T0, actor="ofc"
        )
        d2 = issue_detainer(s, "case-2", "detainer", ori=seed.ori, issued_at=T0, actor="ofc")
        assert d1.state is DetainerState.pending_condition
        for d, hours in ((d0, 50), (d2, 10)):
            add_detainer_event(
                s,
                d.id,
                DetainerEventType.release_eligible_reported,
                occurred_at=T0 + timedelta(hours=1),
                actor="lea",
                new_state=DetainerState.holding,
                release_eligible_at=T0 + timedelta(hours=1),
                hold_until=T0 + timedelta(hours=hours),
            )
        add_detainer_event(
            s,
            d2.id,
            "lifted",
            occurred_at=T0 + timedelta(hours=2),
            actor="ofc",
            new_state="lifted",
            details={"why": "charge dismissed"},
        )
    with db.session() as s:
        ids = [d.id for d in list_detainers(s)]
        assert ids == [d2.id, d0.id, d1.id]  # soonest hold-until first, none last
        holding = list_detainers(s, state="holding", hold_until_before=T0 + timedelta(hours=60))
        assert [d.id for d in holding] == [d0.id]
        lifted = list_detainers(s, state=["lifted", "expired"])[0]
        assert lifted.closed_at == T0 + timedelta(hours=2)
        assert lifted.hold_until == T0 + timedelta(hours=10)
    assert _events(db) == ["detainer.issued"] * 3 + ["detainer.release_eligible_reported"] * 2 + [
        "detainer.lifted"
    ]
    assert _verify_ok(db)


def test_notices_are_idempotent_and_scoped_by_ori(db, seed):
    with db.session() as s, s.begin():
        open_case(s, seed.case("case-1"), opened_at=T0)
        n, created = create_notice(
            s,
            ori=seed.ori,
            kind=NoticeKind.detainer_issued,
            idempotency_key="case-1/detainer/1",
            content={"fields": ["tcn"]},
            created_at=T0,
            case_id="case-1",
        )
        assert created
        again, created = create_notice(
            s,
            ori=seed.ori,
            kind="detainer_issued",
            idempotency_key="case-1/detainer/1",
            content={"fields": ["tcn"]},
            created_at=T0,
        )
        assert not created and again.id == n.id
        create_notice(
            s,
            ori=seed.other_ori,
            kind="submission_response",
            idempotency_key="tx/1",
            content={},
            created_at=T0,
        )
    with db.session() as s, s.begin(), pytest.raises(ConflictError):
        create_notice(
            s,
            ori=seed.ori,
            kind="detainer_issued",
            idempotency_key="case-1/detainer/1",
            content={"fields": ["tcn", "name"]},
            created_at=T0,
        )
    with db.session() as s, s.begin():
        assert [x.idempotency_key for x in list_notices(s, seed.ori)] == ["case-1/detainer/1"]
        mark_notice_delivered(s, n.id, T0 + timedelta(minutes=5))
        assert list_notices(s, seed.ori, undelivered_only=True) == []
    assert _events(db) == ["notice.created", "notice.created", "notice.delivered"]


def test_list_cases_by_state_with_keyset_paging(db, seed):
    with db.session() as s, s.begin():
        for i in range(7):
            open_case(s, seed.case(f"case-{i}"), opened_at=T0 + timedelta(minutes=i % 3))
        set_case_state(s, "case-3", CaseState.awaiting_officer)
    with db.session() as s:
        seen, after = [], None
        while page := list_cases(s, state="open", limit=2, after=after):
            seen += [c.case_id for c in page]
            after = (page[-1].opened_at, page[-1].case_id)
        assert seen == ["case-0", "case-6", "case-1", "case-4", "case-2", "case-5"]
        assert [c.case_id for c in list_cases(s, state=CaseState.awaiting_officer)] == ["case-3"]
        assert list_cases(s, ori=seed.other_ori) == []
        assert get_case(s, "case-3").state is CaseState.awaiting_officer


def test_bad_reference_raises_the_integrity_error_and_keeps_the_session_usable(db, seed):
    with db.session() as s, s.begin():
        with pytest.raises(IntegrityError):
            open_case(s, seed.case("case-1"), opened_at=T0, submission_id=424242)
        _, created = open_case(s, seed.case("case-1"), opened_at=T0)  # savepoint rolled back
        assert created
    with db.session() as s:
        assert get_case(s, "case-1").submission_id is None


def test_a_decision_and_its_audit_entry_commit_or_vanish_together(db, seed):
    doc = seed.case("case-1")
    with db.session() as s, s.begin():
        open_case(s, doc, opened_at=T0)
    with db.session() as s:
        s.begin()
        record_decision(s, "case-1", seed.decision(doc), decided_at=T0)
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 1
        s.rollback()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DecisionRecord)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert _verify_ok(db)
