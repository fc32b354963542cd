"""The synthetic LEA / ICE driver of the detainer lifecycle (synth/lea.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from _pipeline_fixtures import build_store, make_nation
from sqlalchemy import func, select

from securecomm.interop import lifecycle
from securecomm.law.detainer_clock import hold_until
from securecomm.law.offenses import is_minor_traffic
from securecomm.store.db import session_factory
from securecomm.store.models import (
    AuditEntry,
    Detainer,
    DetainerEvent,
    DetainerEventType,
    DetainerKind,
    DetainerState,
    Jurisdiction,
)
from securecomm.synth.lea import drive_lifecycle

S = DetainerState
CLOSED = {S.custody, S.lifted, S.lapsed, S.expired}


@pytest.fixture(scope="module")
def nation():
    return make_nation(90, seed=21, days=20)


@pytest.fixture(scope="module")
def driven(nation, tmp_path_factory):
    """A store the pipeline filled (tfsc-2011: conditional detainers too), driven once."""
    tmp = tmp_path_factory.mktemp("lea")
    engine, _world, _settings = build_store(nation, f"sqlite:///{tmp}/s.db", tmp)
    sf = session_factory(engine)
    report = drive_lifecycle(sf, nation, seed=4)
    yield engine, sf, report
    engine.dispose()


def _counts(sf):
    with sf() as s:
        return (
            s.scalar(select(func.count()).select_from(DetainerEvent)),
            s.scalar(select(func.count()).select_from(AuditEntry)),
            sorted((d.id, d.state.value) for d in s.scalars(select(Detainer))),
        )


def test_every_detainer_reaches_an_outcome(driven):
    _engine, sf, report = driven
    assert report.errors == []
    assert report.detainers > 10
    assert sum(report.outcomes.values()) == report.detainers
    assert set(report.outcomes) <= {s.value for s in CLOSED}
    assert report.outcomes["custody"] > report.outcomes["lifted"]  # custody most of the time
    with sf() as s:
        states = [d.state for d in s.scalars(select(Detainer))]
    assert all(st in CLOSED for st in states)
    with sf() as s:
        assert report.violations == len(lifecycle.violations(s))


def test_a_second_run_changes_nothing(driven, nation):
    _engine, sf, _report = driven
    before = _counts(sf)
    again = drive_lifecycle(sf, nation, seed=4)
    assert again.changed == 0, again.transitions
    assert again.errors == []
    assert _counts(sf) == before


def test_times_follow_the_hold_clock(driven):
    _engine, sf, report = driven
    with sf() as s:
        zones = {j.ori: ZoneInfo(j.timezone) for j in s.scalars(select(Jurisdiction))}
        honors = {j.ori: j.honors_detainers for j in s.scalars(select(Jurisdiction))}
        checked = 0
        for d in s.scalars(select(Detainer)):
            events = lifecycle.events(s, d.id)
            assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
            assert all(e.occurred_at >= d.issued_at for e in events)
            if d.kind is DetainerKind.notification_request or d.release_eligible_at is None:
                continue
            # the 48-business-hour clock of the facility's zone (tfsc-2011 defaults)
            assert d.hold_until == hold_until(d.release_eligible_at, zones[d.ori])
            for e in events:
                if e.event_type is DetainerEventType.custody_assumed:
                    late = (e.details or {}).get("violation") == "held_past_expiry"
                    assert late == (e.occurred_at > d.hold_until)
                    if not honors[d.ori]:  # no hold: ICE at the door or not at all
                        assert e.occurred_at == d.release_eligible_at
            checked += 1
    assert checked > 5
    assert report.violations == report.transitions["released_late"]


def test_conditional_detainers_follow_the_dispositions(driven):
    from securecomm.law.expr import PythonCompiler, bind_params
    from securecomm.law.packs import get_pack
    from securecomm.store.models import Booking, CaseRecord, Charge

    _engine, sf, _report = driven
    params = {k: p.value for k, p in get_pack("tfsc-2011").parameters.items()}
    minor = PythonCompiler({}).compile(bind_params(is_minor_traffic(), params))
    seen = 0
    with sf() as s:
        for d in s.scalars(
            select(Detainer).where(Detainer.kind == DetainerKind.conditional_detainer)
        ):
            case = s.get(CaseRecord, d.case_id)
            booking = s.scalar(select(Booking).where(Booking.submission_id == case.submission_id))
            charges = list(s.scalars(
                select(Charge).where(Charge.booking_id == booking.id).order_by(Charge.position)
            ))  # fmt: skip
            waits = [
                c for c in charges
                if not minor({}, {"ncic": c.ncic, "literal": c.literal,
                                  "severity": c.severity.value, "injury": c.injury}, {})
            ] or charges  # fmt: skip
            disposed = [c.disposition.value for c in waits]
            if d.state is S.lapsed:
                assert set(disposed) <= {"dismissed", "acquitted"}
            else:
                assert "convicted" in disposed
            seen += 1
    assert seen > 0


def test_now_before_the_plans_leaves_them_for_a_later_run(tmp_path):
    nation = make_nation(40, seed=22, days=10)
    engine, _world, _ = build_store(nation, f"sqlite:///{tmp_path}/s.db", tmp_path)
    try:
        sf = session_factory(engine)
        early = min(nation.column("release_eligible_at").to_pylist()) - dt.timedelta(hours=1)
        first = drive_lifecycle(sf, nation, seed=4, now=early)
        assert first.waiting > 0 and first.changed == 0
        done = drive_lifecycle(sf, nation, seed=4)
        assert done.waiting == 0 and done.changed > 0
        assert set(done.outcomes) <= {s.value for s in CLOSED}
    finally:
        engine.dispose()


def test_bad_arguments_are_refused(nation):
    with pytest.raises(ValueError, match="seed"):
        drive_lifecycle(lambda: None, nation, seed=True)
    with pytest.raises(ValueError, match="now"):
        drive_lifecycle(lambda: None, nation, seed=1, now=dt.datetime(2012, 1, 1))
    with pytest.raises(ValueError, match="release_eligible_at"):
        drive_lifecycle(lambda: None, nation.drop_columns(["release_eligible_at"]), seed=1)
