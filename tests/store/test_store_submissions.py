"""Intake: idempotent on the TCN, never a silent overwrite, bounds named by field."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from securecomm.store.errors import InputError, TcnConflictError
from securecomm.store.models import Submission, SubmissionState
from securecomm.store.repositories import (
    get_submission,
    list_submissions,
    set_submission_state,
    submit_submission,
)

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)
PAYLOAD = {"booking": {"names": ["DOE, JOHN"], "charges": [{"ncic": "5499"}]}, "n": 1}

# Any text the column can hold: 1..64 code points, no NUL, no lone surrogate.
storable_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
tcns = st.one_of(
    st.text(storable_char, min_size=1, max_size=64),
    st.sampled_from(
        [
            "x" * 64,
            "' OR 1=1; DROP TABLE submissions; --",
            "%s %(x)s :x ? $1",
            "\\\\ \\x00 \\u0000",
            "\u202etcn\u202c",
            "🦀" * 64,
            " ",
            "\t\n\r",
            "NULL",
            "é",
            "e\u0301",
        ]
    ),
)


def test_same_tcn_twice_returns_the_existing_row(db, seed):
    with db.session() as s, s.begin():
        first, created = submit_submission(s, "TCN-1", seed.ori, PAYLOAD, T0)
        assert created
    with db.session() as s, s.begin():
        again, created = submit_submission(
            s, "TCN-1", seed.ori, dict(PAYLOAD), T0 + timedelta(hours=1)
        )
        assert not created
        assert again.id == first.id
        assert again.received_at == T0  # the original receipt time is kept
        assert again.state is SubmissionState.received
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
        assert get_submission(s, "TCN-1").payload == PAYLOAD


def test_same_tcn_different_payload_is_an_error_naming_the_tcn(db, seed):
    with db.session() as s, s.begin():
        submit_submission(s, "TCN-2", seed.ori, PAYLOAD, T0)
    with db.session() as s, s.begin(), pytest.raises(TcnConflictError, match="TCN-2") as info:
        submit_submission(s, "TCN-2", seed.ori, {**PAYLOAD, "n": 2}, T0)
    assert info.value.tcn == "TCN-2"
    # 1 and 1.0 and true are different JSON: still a conflict, never a silent overwrite
    with db.session() as s, s.begin(), pytest.raises(TcnConflictError):
        submit_submission(s, "TCN-2", seed.ori, {**PAYLOAD, "n": 1.0}, T0)
    with db.session() as s, s.begin(), pytest.raises(TcnConflictError):
        submit_submission(s, "TCN-2", seed.other_ori, PAYLOAD, T0)
    with db.session() as s:
        assert get_submission(s, "TCN-2").payload == PAYLOAD


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tcn=tcns)
def test_any_storable_tcn_round_trips_and_is_idempotent(db, seed, tcn):
    with db.session() as s:
        s.begin()
        try:
            row, created = submit_submission(s, tcn, seed.ori, PAYLOAD, T0)
            assert created
            s.expunge_all()
            again, created = submit_submission(s, tcn, seed.ori, PAYLOAD, T0)
            assert not created and again.id == row.id
            assert again.tcn == tcn
            assert s.scalar(select(Submission.tcn).where(Submission.tcn == tcn)) == tcn
            with pytest.raises(TcnConflictError) as info:
                submit_submission(s, tcn, seed.ori, {"other": True}, T0)
            assert info.value.tcn == tcn
        finally:
            s.rollback()


@pytest.mark.parametrize(
    ("tcn", "message"),
    [
        ("", "empty"),
        ("x" * 65, "longer than 64"),
        ("🦀" * 65, "longer than 64"),
        ("TCN\x00X", "NUL"),
        ("TCN\ud800", "surrogate"),
        (None, "string"),
        (12345, "string"),
        (b"TCN", "string"),
    ],
    ids=["empty", "65-ascii", "65-emoji", "nul", "surrogate", "none", "int", "bytes"],
)
def test_out_of_bounds_tcn_is_rejected_naming_the_field(db, seed, tcn, message):
    with db.session() as s, s.begin(), pytest.raises(InputError, match=message) as info:
        submit_submission(s, tcn, seed.ori, PAYLOAD, T0)
    assert info.value.field == "tcn"
    assert str(info.value).startswith("tcn:")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ori": "co0010000"}, "ori"),
        ({"ori": "ZZ9999999"}, "ori"),  # well formed, not a participating jurisdiction
        ({"payload": ["not", "an", "object"]}, "payload"),
        ({"payload": {"name": "A\x00B"}}, "payload.name"),
        ({"payload": {"x": [1, {"y": float("nan")}]}}, "payload.x[1].y"),
        ({"payload": {"x": {1: "int key"}}}, "payload.x"),
        ({"payload": {"x": object()}}, "payload.x"),
        ({"received_at": datetime(2011, 10, 3, 16, 0)}, "received_at"),
    ],
)
def test_bad_fields_are_named(db, seed, kwargs, field):
    args = {"tcn": "TCN-F", "ori": seed.ori, "payload": PAYLOAD, "received_at": T0, **kwargs}
    with db.session() as s, s.begin(), pytest.raises(InputError) as info:
        submit_submission(s, **args)
    assert info.value.field == field


def test_concurrent_submitters_of_one_tcn_create_it_once(db, seed):
    results, errors = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            with db.session() as s, s.begin():
                barrier.wait(timeout=10)
                results.append(submit_submission(s, "TCN-RACE", seed.ori, PAYLOAD, T0)[1])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [False, False, False, True]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1


def test_state_and_work_queue(db, seed):
    with db.session() as s, s.begin():
        for i in range(3):
            submit_submission(s, f"Q-{i}", seed.ori, {"i": i}, T0 + timedelta(minutes=i))
    with db.session() as s, s.begin():
        first = list_submissions(s, state="received")[0]
        assert first.tcn == "Q-0"
        set_submission_state(
            s,
            first.id,
            SubmissionState.failed,
            error="timeout",
            at=datetime(2011, 10, 3, 12, 0, tzinfo=timezone(timedelta(hours=-6))),
        )
    with db.session() as s:
        assert [r.tcn for r in list_submissions(s, state="received")] == ["Q-1", "Q-2"]
        failed = list_submissions(s, state="failed")
        assert failed[0].error == "timeout"
        assert failed[0].state_changed_at == datetime(2011, 10, 3, 18, 0, tzinfo=UTC)
