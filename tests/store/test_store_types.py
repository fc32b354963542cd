"""Column types and constraints behave the same on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from securecomm.store.models import (
    Biometric,
    Hit,
    ImmSubject,
    Repository,
    Submission,
)

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)
ZONES = ["UTC", "America/Denver", "America/Chicago", "Pacific/Chatham", "Asia/Kolkata"]


def _subject(session, fin="FIN-1"):
    session.add(ImmSubject(fin=fin))
    session.flush()


@pytest.mark.parametrize("zone", ZONES)
def test_aware_timestamps_round_trip_as_utc(db, seed, zone):
    tz = ZoneInfo(zone)
    instants = [
        datetime(2011, 3, 13, 1, 59, 59, 999999, tzinfo=tz),  # just before US DST starts
        datetime(2011, 11, 6, 1, 30, tzinfo=tz, fold=1),  # the repeated hour
        datetime(1971, 1, 1, tzinfo=tz),
        datetime(2099, 12, 31, 23, 59, 59, 1, tzinfo=tz),
    ]
    with db.session() as s, s.begin():
        for i, at in enumerate(instants):
            s.add(
                Submission(
                    tcn=f"T{i}",
                    ori=seed.ori,
                    payload={},
                    payload_sha256="0" * 64,
                    received_at=at,
                    state_changed_at=at,
                )
            )
    with db.session() as s:
        rows = s.scalars(select(Submission).order_by(Submission.tcn)).all()
        for row, at in zip(rows, instants, strict=True):
            # same instant (PEP 495: a fold=1 time never compares equal across zones)
            assert row.received_at == at.astimezone(UTC)
            assert row.received_at.utcoffset() == timedelta(0)
            assert row.received_at.tzinfo is UTC
            assert row.received_at.microsecond == at.microsecond


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    at=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    )
)
def test_any_aware_timestamp_round_trips_and_orders(db, seed, at):
    with db.session() as s:
        s.begin()
        try:
            s.add(
                Submission(
                    tcn="H",
                    ori=seed.ori,
                    payload={},
                    payload_sha256="0" * 64,
                    received_at=at,
                    state_changed_at=at,
                )
            )
            s.flush()
            s.expunge_all()
            row = s.scalar(select(Submission).where(Submission.received_at == at))
            assert row is not None and row.received_at.tzinfo is UTC
            assert row.received_at == at.astimezone(UTC)
            later = at.astimezone(UTC) + timedelta(microseconds=1)  # wall-clock + loses DST fold
            assert s.scalar(select(Submission.tcn).where(Submission.received_at < later)) == "H"
            assert s.scalar(select(Submission.tcn).where(Submission.received_at > at)) is None
        finally:
            s.rollback()


def test_naive_timestamps_are_refused(db, seed):
    with db.session() as s, s.begin(), pytest.raises(StatementError, match="naive datetime"):
        s.add(
            Submission(
                tcn="N",
                ori=seed.ori,
                payload={},
                payload_sha256="0" * 64,
                received_at=datetime(2011, 1, 1),
                state_changed_at=T0,
            )
        )
        s.flush()


def test_json_documents_round_trip(db, seed):
    doc = {"é": ["ünï", 1, 2.5, None, True, {"nested": {"deep": [1, [2, [3]]]}}], "big": 2**62}
    with db.session() as s, s.begin():
        s.add(
            Submission(
                tcn="J",
                ori=seed.ori,
                payload=doc,
                payload_sha256="0" * 64,
                received_at=T0,
                state_changed_at=T0,
            )
        )
    with db.session() as s:
        assert s.scalar(select(Submission.payload)) == doc


def test_biometric_templates_are_float32_bytes_checked_against_dim(db):
    vector = np.arange(64, dtype="<f4") / 7
    with db.session() as s, s.begin():
        _subject(s)
        s.add(
            Biometric(
                fin="FIN-1", model="synthetic-v1", dim=64, template=vector.tobytes(), captured_at=T0
            )
        )
    with db.session() as s:
        row = s.scalar(select(Biometric))
        assert np.array_equal(np.frombuffer(row.template, "<f4"), vector)
    with db.session() as s, s.begin(), pytest.raises(IntegrityError):
        s.add(Biometric(fin="FIN-1", model="m", dim=65, template=vector.tobytes(), captured_at=T0))
        s.flush()


def test_foreign_keys_are_enforced(db):
    with db.session() as s, s.begin(), pytest.raises(IntegrityError):
        s.add(
            Submission(
                tcn="FK",
                ori="ZZ9999999",
                payload={},
                payload_sha256="0" * 64,
                received_at=T0,
                state_changed_at=T0,
            )
        )
        s.flush()


def test_enum_values_are_checked_by_the_database(db):
    with db.engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text(
                "INSERT INTO jurisdictions (ori, state, timezone, disclosure, honors_detainers,"
                " programs_active, created_at, updated_at) VALUES ('CO0010000', 'CO', 'UTC',"
                " 'everything', true, '[]', :t, :t)"
            ),
            {"t": T0 if db.name == "postgresql" else "2011-10-03 16:00:00.000000"},
        )


def test_hit_names_exactly_one_subject(db, seed):
    from securecomm.store.repositories import submit_submission

    with db.session() as s, s.begin():
        _subject(s)
        sub, _ = submit_submission(s, "HIT", seed.ori, {}, T0)
        s.add(
            Hit(
                submission_id=sub.id,
                repository=Repository.immigration,
                fin="FIN-1",
                score=0.93,
                found_at=T0,
            )
        )
    with db.session() as s, s.begin(), pytest.raises(IntegrityError):
        s.add(
            Hit(
                submission_id=sub.id,
                repository=Repository.criminal_history,
                fin="FIN-1",
                rank=2,
                found_at=T0,
            )
        )
        s.flush()


def test_dates_round_trip(db):
    with db.session() as s, s.begin():
        s.add(ImmSubject(fin="D", entered_us_on=date(1991, 6, 1), pending_relief=["u_visa"]))
    with db.session() as s:
        row = s.get(ImmSubject, "D")
        assert row.entered_us_on == date(1991, 6, 1)
        assert row.pending_relief == ["u_visa"]
        assert row.created_at.tzinfo is UTC
        assert row.created_at <= datetime.now(UTC)


# --------------------------------------------------------------------------- fast JSON check

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None), max_size=8)
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_values)
def test_fast_storable_check_agrees_with_the_full_one(value):
    """The pipeline's fast yes/no and the path-building check never disagree."""
    from securecomm.store.errors import InputError
    from securecomm.store.types import _explain, _storable

    try:
        _explain(value, "v")
        full_ok = True
    except InputError:
        full_ok = False
    assert _storable(value, 0) is full_ok
