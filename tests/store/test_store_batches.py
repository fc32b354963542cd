"""The store's batch writes (what the pipeline worker uses): the same rows and the same audit
log as one call per row, one entry -- one Merkle leaf -- per event; idempotent; validated."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from securecomm.law.schema import Case
from securecomm.store import audit
from securecomm.store.errors import ConflictError, InputError, NotFoundError
from securecomm.store.models import (
    AuditEntry,
    Booking,
    CaseRecord,
    Charge,
    Detainer,
    DetainerKind,
    Notice,
    NoticeKind,
    Submission,
)
from securecomm.store.repositories import (
    CaseToOpen,
    DecisionToRecord,
    DetainerToIssue,
    NoticeToCreate,
    OfficerActionToRecord,
    create_notice,
    create_notices,
    issue_detainers,
    list_notices,
    open_cases,
    record_charge_disposition,
    record_decisions,
    record_officer_actions,
)

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)


def _entries(db) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_append_many_writes_the_chain_append_would(db):
    """One batch and one call per entry produce byte-identical logs."""
    specs = [
        ("decision.recorded", "engine", {"case_id": f"c-{i}", "decision_id": i}, {"n": i})
        for i in range(5)
    ]
    with db.session() as s, s.begin():
        for event, actor, subject, payload in specs:
            audit.append(s, event, actor=actor, subject=subject, payload=payload, recorded_at=T0)
    one_by_one = [(e.seq, e.entry_hash, e.prev_hash) for e in _entries(db)]
    db.reset()
    with db.session() as s, s.begin():
        batch = audit.AuditBatch(s)
        for event, actor, subject, payload in specs:
            batch.add(event, actor=actor, subject=subject, payload=payload, recorded_at=T0)
        assert batch.flush() == 5
        assert batch.flush() == 0  # nothing left
    assert [(e.seq, e.entry_hash, e.prev_hash) for e in _entries(db)] == one_by_one
    with db.session() as s:
        report = audit.verify(s)
    assert report.ok and report.entries == 5


def test_audit_batch_validates_each_entry_when_added(db):
    with db.session() as s, s.begin():
        batch = audit.AuditBatch(s)
        with pytest.raises(InputError, match="event_type"):
            batch.add("Not Dotted", actor="x")
        with pytest.raises(InputError, match="payload"):
            batch.add("a.b", actor="x", payload={"bad": float("nan")})
        with pytest.raises(InputError, match="recorded_at"):
            batch.add("a.b", actor="x", recorded_at=datetime(2011, 1, 1))
        assert batch.pending == []


def _open(db, seed, n: int) -> list[str]:
    ids = [f"case-{i}" for i in range(n)]
    with db.session() as s, s.begin():
        created = open_cases(
            s, [CaseToOpen(Case.model_validate(seed.case(cid)), T0) for cid in ids]
        )
        assert created == [True] * n
    return ids


def test_batch_writes_are_idempotent_and_audited_once(db, seed):
    ids = _open(db, seed, 3)
    with db.session() as s, s.begin():
        sha = dict(s.execute(select(CaseRecord.case_id, CaseRecord.case_sha256)).all())
        todo = [DecisionToRecord(cid, sha[cid], seed.decision(seed.case(cid)), T0) for cid in ids]
        first = record_decisions(s, todo + todo[:1])  # a repeat inside the batch too
        assert [created for _, created in first] == [True, True, True, False]
        assert first[3][0] == first[0][0]
    with db.session() as s, s.begin():
        again = record_decisions(s, todo)
        assert [r for r in again] == [(i, False) for i, _ in first[:3]]
        actions = record_officer_actions(
            s,
            [
                OfficerActionToRecord(cid, "accept", "officer-1", T0, decision_id=did)
                for cid, (did, _) in zip(ids, first, strict=False)
            ],
        )
        assert len(set(actions)) == 3
    events = [e.event_type for e in _entries(db)]
    assert events.count("decision.recorded") == 3 and events.count("officer.accept") == 3
    with db.session() as s:
        assert audit.verify(s).ok


def test_notices_batch_settles_repeats_and_refuses_changed_content(db, seed):
    (cid,) = _open(db, seed, 1)

    def spec(key: str, **content) -> NoticeToCreate:
        return NoticeToCreate(seed.ori, NoticeKind.case_update, key, content, T0, case_id=cid)

    with db.session() as s, s.begin():
        out = create_notices(s, [spec("k-1", a=1), spec("k-2", a=2), spec("k-1", a=1)])
        assert [c for _, c in out] == [True, True, False] and out[2][0] == out[0][0]
    with db.session() as s, s.begin(), pytest.raises(ConflictError, match="k-1"):
        create_notices(s, [spec("k-1", a=99)])
    with db.session() as s, s.begin(), pytest.raises(ConflictError, match="k-3"):
        create_notices(s, [spec("k-3", a=1), spec("k-3", a=2)])
    with db.session() as s, s.begin():  # the one-row call is the same implementation
        row, created = create_notice(
            s, ori=seed.ori, kind="case_update", idempotency_key="k-2", content={"a": 2},
            created_at=T0, case_id=cid,
        )  # fmt: skip
        assert not created and row.id == out[1][0]
    assert [e.event_type for e in _entries(db)].count("notice.created") == 2


def test_list_notices_filters_by_case(db, seed):
    a, b = _open(db, seed, 2)
    with db.session() as s, s.begin():
        create_notices(
            s,
            [
                NoticeToCreate(seed.ori, "case_update", f"k-{cid}-{n}", {"n": n}, T0, case_id=cid)
                for cid in (a, b)
                for n in range(2)
            ],
        )
    with db.session() as s:
        assert {n.case_id for n in list_notices(s, seed.ori, case_id=a)} == {a}
        assert len(list_notices(s, seed.ori, case_id=a)) == 2
        assert list_notices(s, seed.ori, case_id="no-such-case") == []
        assert len(list_notices(s, seed.ori)) == 4
        with pytest.raises(InputError, match="case_id"):
            list_notices(s, seed.ori, case_id="")


def test_issue_detainers_records_policy_and_one_per_case_and_kind(db, seed):
    a, b = _open(db, seed, 2)
    with db.session() as s, s.begin():
        ids = issue_detainers(
            s,
            [
                DetainerToIssue(a, "detainer", seed.ori, T0, "ice", policy="tfsc-2011",
                                policy_version="1.0"),
                DetainerToIssue(b, "conditional_detainer", seed.ori, T0, "ice"),
            ],
        )  # fmt: skip
        rows = {d.id: d for d in s.scalars(select(Detainer))}
        assert rows[ids[0]].policy == "tfsc-2011" and rows[ids[0]].policy_version == "1.0"
        assert rows[ids[1]].state.value == "pending_condition"
    from sqlalchemy.exc import IntegrityError

    with db.session() as s, s.begin(), pytest.raises(IntegrityError):
        issue_detainers(s, [DetainerToIssue(a, DetainerKind.detainer, seed.ori, T0, "ice")])
    with db.session() as s, s.begin(), pytest.raises(NotFoundError, match="nope"):
        issue_detainers(s, [DetainerToIssue("nope", "detainer", seed.ori, T0, "ice")])
    with db.session() as s, s.begin(), pytest.raises(InputError, match="policy"):
        issue_detainers(s, [DetainerToIssue(b, "detainer", seed.ori, T0, "ice", policy="")])
    assert [e.event_type for e in _entries(db)].count("detainer.issued") == 2


def test_record_charge_disposition_sets_and_audits(db, seed):
    with db.session() as s, s.begin():
        sub = Submission(
            tcn="T-1", ori=seed.ori, payload={}, payload_sha256="0" * 64, received_at=T0,
            state_changed_at=T0,
        )  # fmt: skip
        s.add(sub)
        s.flush()
        booking = Booking(submission_id=sub.id, ori=seed.ori, booked_at=T0, biographics={})
        s.add(booking)
        s.flush()
        charge = Charge(
            booking_id=booking.id, position=0, ncic="5499", literal="DWOL",
            severity="misdemeanor",
        )  # fmt: skip
        s.add(charge)
        s.flush()
        charge_id = charge.id
    with db.session() as s, s.begin():
        row = record_charge_disposition(
            s, charge_id, "convicted", disposed_on=date(2011, 12, 1), at=T0 + timedelta(60),
            actor="court-clerk", case_id="case-x", charge_index=0,
        )  # fmt: skip
        assert row.disposition.value == "convicted" and row.disposed_on == date(2011, 12, 1)
    [entry] = [e for e in _entries(db) if e.event_type == "charge.disposition"]
    assert json.loads(entry.payload)["disposition"] == "convicted"
    assert entry.case_id == "case-x"
    with db.session() as s, s.begin():
        with pytest.raises(InputError, match="disposition"):
            record_charge_disposition(
                s, charge_id, "vanished", disposed_on=date(2011, 12, 1), at=T0, actor="x"
            )
        with pytest.raises(InputError, match="disposed_on"):
            record_charge_disposition(
                s, charge_id, "dismissed", disposed_on=T0, at=T0, actor="x"
            )  # a datetime is not a date
        with pytest.raises(NotFoundError, match="charge"):
            record_charge_disposition(
                s, 10**9, "dismissed", disposed_on=date(2011, 12, 1), at=T0, actor="x"
            )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.text(max_size=140),
    content=st.dictionaries(
        st.text(max_size=5), st.text(max_size=5) | st.floats() | st.integers(), max_size=3
    ),
)
def test_notices_batch_refuses_bad_keys_and_content_writing_nothing(db, seed, key, content):
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Notice))
        try:
            create_notices(s, [NoticeToCreate(seed.ori, "case_update", key, content, T0)])
        except InputError as exc:
            assert exc.field in ("idempotency_key", "content") or exc.field.startswith("content.")
            assert s.scalar(select(func.count()).select_from(Notice)) == before
        finally:
            s.rollback()
