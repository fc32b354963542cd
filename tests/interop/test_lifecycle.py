"""Detainer lifecycle (issue 3 item 6): lodge -> release-eligible -> hold-until -> custody |
lifted | expired; conditional activation and lapse; notification requests; held-past-expiry
violations; the ``due`` worklist; illegal transitions; idempotent retries; time zones; hostile
input. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from securecomm.interop import lifecycle, notices
from securecomm.interop.lifecycle import (
    CaseNotFoundError,
    DetainerNotFoundError,
    LifecycleError,
)
from securecomm.store import audit
from securecomm.store.models import (
    AuditEntry,
    Charge,
    Detainer,
    DetainerEvent,
    DetainerKind,
    DetainerState,
    Notice,
    NoticeKind,
)


def _support():
    name = "_securecomm_lifecycle_test_support"
    if name not in sys.modules:
        path = Path(__file__).with_name("test_lifecycle_support.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S = _support()
lc_db = S.lc_db
world = S.world
counts = S.counts
NY, HI, CO = S.NY, S.HI, S.CO
LOITERING, TRESPASS, NO_LICENSE = S.LOITERING, S.TRESPASS, S.NO_LICENSE

NYZ = ZoneInfo("America/New_York")
HIZ = ZoneInfo("Pacific/Honolulu")
ISSUED = datetime(2011, 9, 28, 14, 0, tzinfo=UTC)  # Wednesday
FRI_17 = datetime(2011, 9, 30, 17, 0, tzinfo=NYZ)  # Friday 17:00 local
TUE_17 = datetime(2011, 10, 4, 17, 0, tzinfo=NYZ)  # Tuesday 17:00 local
ACTOR = "officer:jdoe"


def lodge(session, case_id: str, kind=DetainerKind.detainer, *, ori=NY, policy="tfsc-2011"):
    return lifecycle.lodge(
        session,
        case_id=case_id,
        officer_action_id=None,
        ori=ori,
        kind=kind,
        issued_at=ISSUED,
        actor=ACTOR,
        policy=policy,
    )


def event_types(session, d) -> list[str]:
    return [e.event_type.value for e in lifecycle.events(session, d.id)]


def notices_of(session, d) -> list[Notice]:
    stmt = select(Notice).where(Notice.detainer_id == d.id).order_by(Notice.id)
    return list(session.scalars(stmt))


def audit_types(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.event_type).order_by(AuditEntry.seq)))


# --------------------------------------------------------------------------- unconditional


def test_unconditional_lodge_release_eligible_friday_holds_until_tuesday_then_custody(world):
    db = world.db
    with db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1")
        assert d.state is DetainerState.active
        [issued] = lifecycle.events(s, d.id)
        assert issued.event_type.value == "issued"
        assert issued.details["policy"] == "tfsc-2011"
        assert issued.details["policy_version"] == "2.0.0"
        [notice] = notices_of(s, d)
        assert notice.kind is NoticeKind.detainer_issued
        assert notice.content["hold_limit"]["hours"] == 48
        assert set(notice.content["subject_notice"]) == set(notices.LANGUAGES)
        assert notice.content["hotline"]["placeholder"] is True
        for text in notice.content["subject_notice"].values():
            assert notices.HOTLINE_NUMBER in text

        d = lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor="lea:ny")
        assert d.state is DetainerState.holding
        assert d.hold_until == TUE_17
        assert d.hold_until.astimezone(NYZ).strftime("%a %H:%M") == "Tue 17:00"
        event = lifecycle.events(s, d.id)[-1]
        assert event.details["hold_until_local"] == "2011-10-04T17:00:00-04:00"
        assert event.details["parameters"] == {
            "detainer.hold_hours": 48,
            "detainer.exclude_non_business_days": True,
        }
        assert "fallback" not in event.details
        hold_notice = notices_of(s, d)[-1]
        assert hold_notice.kind is NoticeKind.case_update
        assert hold_notice.content["event"] == "hold_until"
        assert hold_notice.content["hold_until"] == "2011-10-04T17:00:00-04:00"

        monday = datetime(2011, 10, 3, 10, 0, tzinfo=NYZ)
        d = lifecycle.assume_custody(s, d.id, at=monday, actor="ice:ero")
        assert d.state is DetainerState.custody
        assert d.closed_at == monday
        assert "violation" not in lifecycle.events(s, d.id)[-1].details
    with db.session() as s:
        d = s.get(Detainer, d.id)
        assert d.state is DetainerState.custody
        assert d.hold_until == TUE_17 and d.release_eligible_at == FRI_17
        assert event_types(s, d) == ["issued", "release_eligible_reported", "custody_assumed"]
        assert audit_types(s) == [
            "detainer.issued",
            "notice.created",
            "detainer.release_eligible_reported",
            "notice.created",
            "detainer.custody_assumed",
        ]
        assert audit.verify(s).ok


def test_columbus_day_moves_the_hold_to_wednesday(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1")
        friday = datetime(2011, 10, 7, 17, 0, tzinfo=NYZ)  # Monday 10 October: Columbus Day
        d = lifecycle.report_release_eligible(s, d.id, at=friday, actor=ACTOR)
        assert d.hold_until == datetime(2011, 10, 12, 17, 0, tzinfo=NYZ)


def test_expire_sweep_expires_at_hold_until_tells_the_lea_and_is_idempotent(world):
    db = world.db
    with db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1")
        lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        assert lifecycle.expire_due(s, now=TUE_17 - timedelta(seconds=1)) == []
    with db.session() as s, s.begin():
        expired = lifecycle.expire_due(s, now=TUE_17 + timedelta(hours=3))
        assert [x.id for x in expired] == [d.id]
        d = s.get(Detainer, d.id)
        assert d.state is DetainerState.expired
        assert d.closed_at == TUE_17
        last = lifecycle.events(s, d.id)[-1]
        assert last.event_type.value == "expired"
        assert last.occurred_at == TUE_17
        assert last.actor == lifecycle.SYSTEM_ACTOR
        assert last.details["cause"] == "hold_until_passed"
        told = notices_of(s, d)[-1]
        assert told.kind is NoticeKind.detainer_expired
        assert told.content["event"] == "expired"
        assert "does not authorize holding" in told.content["message"]
        before = counts(s)
    with db.session() as s, s.begin():
        assert lifecycle.expire_due(s, now=TUE_17 + timedelta(days=3)) == []
        assert counts(s) == before


def test_lift_tells_the_lea_and_a_retry_is_a_no_op(world):
    db = world.db
    lifted_at = datetime(2011, 9, 29, 9, 0, tzinfo=NYZ)
    with db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1")
        d = lifecycle.lift(s, d.id, at=lifted_at, actor=ACTOR, reason="subject is a US citizen")
        assert d.state is DetainerState.lifted
        told = notices_of(s, d)[-1]
        assert told.kind is NoticeKind.detainer_lifted
        assert told.content["event"] == "lifted"
        assert "US citizen" not in str(told.content)  # the reason stays internal
        before = counts(s)
        lifecycle.lift(s, d.id, at=lifted_at, actor=ACTOR, reason="subject is a US citizen")
        assert counts(s) == before
        with pytest.raises(LifecycleError, match="already lifted"):
            lifecycle.lift(s, d.id, at=lifted_at + timedelta(hours=1), actor=ACTOR, reason="x")
        with pytest.raises(LifecycleError, match="already lifted"):
            lifecycle.lift(s, d.id, at=lifted_at, actor=ACTOR, reason="another reason")


def test_lift_while_holding(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1")
        lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        d = lifecycle.lift(s, d.id, at=FRI_17 + timedelta(hours=1), actor=ACTOR, reason="r")
        assert d.state is DetainerState.lifted
        assert lifecycle.due(s, within=timedelta(days=30), now=FRI_17) == []


# --------------------------------------------------------------------------- conditional


def test_conditional_detainer_activates_on_conviction_and_the_lea_is_told(world):
    db = world.db
    convicted_at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
    with db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING])
        d = lodge(s, "c-1", DetainerKind.conditional_detainer)
        assert d.state is DetainerState.pending_condition
        [issued] = notices_of(s, d)
        assert issued.kind is NoticeKind.detainer_issued
        assert "operative only if the subject is convicted" in issued.content["request"]
        for language, text in issued.content["subject_notice"].items():
            assert text == notices.subject_notice_for("conditional_detainer", language)

        changed = lifecycle.record_disposition(
            s, case_id="c-1", charge_index=0, disposition="convicted", at=convicted_at, actor=ACTOR
        )
        assert [x.id for x in changed] == [d.id]
        assert d.state is DetainerState.active
        activated = lifecycle.events(s, d.id)[-1]
        assert activated.event_type.value == "activated"
        assert activated.details["charge_index"] == 0
        assert activated.details["conditioning_charges"] == [0]
        told = notices_of(s, d)[-1]
        assert told.kind is NoticeKind.detainer_activated
        assert told.content["event"] == "activated"
        assert told.content["subject_notice"] == notices.subject_notice_all()
        charge = s.scalar(select(Charge))
        assert charge.disposition.value == "convicted"
        assert charge.disposed_on.isoformat() == "2011-10-05"
        assert "charge.disposition" in audit_types(s)
        # Now operative: it holds like any detainer.
        friday = FRI_17 + timedelta(days=14)  # (a week later, Monday is Columbus Day)
        d = lifecycle.report_release_eligible(s, d.id, at=friday, actor=ACTOR)
        assert d.state is DetainerState.holding
        assert d.hold_until == TUE_17 + timedelta(days=14)


@pytest.mark.parametrize("disposition", ["dismissed", "acquitted"])
def test_conditional_detainer_lapses_on_dismissal_or_acquittal(world, disposition):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING])
        d = lodge(s, "c-1", DetainerKind.conditional_detainer)
        at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
        changed = lifecycle.record_disposition(
            s, case_id="c-1", charge_index=0, disposition=disposition, at=at, actor=ACTOR
        )
        assert changed == [d]
        assert d.state is DetainerState.lapsed
        assert d.closed_at == at
        told = notices_of(s, d)[-1]
        assert told.kind is NoticeKind.detainer_lifted
        assert told.content["event"] == "lapsed"
        assert disposition in told.content["message"]
        with pytest.raises(LifecycleError) as info:
            lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        assert info.value.state is DetainerState.lapsed


def test_conditional_waits_on_every_non_traffic_charge(world):
    at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING, TRESPASS, NO_LICENSE])
        d = lodge(s, "c-1", DetainerKind.conditional_detainer)

        def dispose(index, disposition):
            return lifecycle.record_disposition(
                s, case_id="c-1", charge_index=index, disposition=disposition, at=at, actor=ACTOR
            )

        # A minor-traffic conviction never makes the detainer operative (III rec. 1).
        assert dispose(2, "convicted") == []
        assert d.state is DetainerState.pending_condition
        note = lifecycle.events(s, d.id)[-1]
        assert note.event_type.value == "note"
        assert note.details["conditioning_charges"] == [0, 1]
        # One of two misdemeanors dismissed: still waiting on the other.
        assert dispose(0, "dismissed") == []
        assert d.state is DetainerState.pending_condition
        assert "still waits on charge(s) 1" in lifecycle.events(s, d.id)[-1].details["effect"]
        # The other one dismissed too: lapsed.
        assert dispose(1, "acquitted") == [d]
        assert d.state is DetainerState.lapsed


def test_conviction_of_the_second_misdemeanor_activates(world):
    at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING, TRESPASS])
        d = lodge(s, "c-1", DetainerKind.conditional_detainer)
        kw = {"case_id": "c-1", "at": at, "actor": ACTOR}
        assert lifecycle.record_disposition(s, charge_index=0, disposition="dismissed", **kw) == []
        assert lifecycle.record_disposition(s, charge_index=1, disposition="convicted", **kw) == [d]
        assert d.state is DetainerState.active


def test_disposition_leaves_other_detainers_alone(world):
    at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING])
        world.case(s, "c-2", charges=[LOITERING])
        conditional = lodge(s, "c-1", DetainerKind.conditional_detainer)
        request = lodge(s, "c-1", DetainerKind.notification_request)
        other_case = lodge(s, "c-2", DetainerKind.conditional_detainer)
        before = {x.id: len(lifecycle.events(s, x.id)) for x in (request, other_case)}
        changed = lifecycle.record_disposition(
            s, case_id="c-1", charge_index=0, disposition="convicted", at=at, actor=ACTOR
        )
        assert changed == [conditional]
        assert request.state is DetainerState.active
        assert other_case.state is DetainerState.pending_condition
        assert {x.id: len(lifecycle.events(s, x.id)) for x in (request, other_case)} == before


def test_disposition_without_a_booking_uses_the_case_document(world):
    at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING, TRESPASS], booking=False)
        d = lodge(s, "c-1", DetainerKind.conditional_detainer)
        kw = {"case_id": "c-1", "at": at, "actor": ACTOR}
        assert lifecycle.record_disposition(s, charge_index=0, disposition="dismissed", **kw) == []
        before = counts(s)
        assert lifecycle.record_disposition(s, charge_index=0, disposition="dismissed", **kw) == []
        assert counts(s) == before
        with pytest.raises(LifecycleError, match="already disposed dismissed"):
            lifecycle.record_disposition(s, charge_index=0, disposition="convicted", **kw)
        assert lifecycle.record_disposition(s, charge_index=1, disposition="dismissed", **kw) == [d]
        assert d.state is DetainerState.lapsed


# --------------------------------------------------------------------------- notification request


def test_notification_request_records_the_time_and_holds_nothing(world):
    db = world.db
    with db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1", DetainerKind.notification_request)
        assert d.state is DetainerState.active
        [notice] = notices_of(s, d)
        assert notice.kind is NoticeKind.notification_request
        assert "hold_limit" not in notice.content
        assert "does not authorize holding" in notice.content["request"]
        assert notice.content["subject_notice"]["en"] == notices.subject_notice_for(
            "notification_request", "en"
        )
        d = lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor="lea:ny")
        assert d.state is DetainerState.active
        assert d.hold_until is None
        assert d.release_eligible_at == FRI_17
        event = lifecycle.events(s, d.id)[-1]
        assert event.event_type.value == "release_eligible_reported"
        assert event.details["no_hold"] is True
        assert len(notices_of(s, d)) == 1  # no hold-until notice
        assert lifecycle.due(s, within=timedelta(days=30), now=FRI_17) == []
        assert lifecycle.expire_due(s, now=FRI_17 + timedelta(days=30)) == []
        d = lifecycle.assume_custody(s, d.id, at=FRI_17, actor="ice:ero")
        assert d.state is DetainerState.custody


def test_notification_request_release_closes_it_without_violation(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1", DetainerKind.notification_request)
        lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        d = lifecycle.report_release(s, d.id, released_at=FRI_17, actor=ACTOR)
        assert d.state is DetainerState.expired
        assert lifecycle.violations(s) == []


# --------------------------------------------------------------------------- violations


def _holding_until_friday(world, s, case_id="c-1"):
    world.case(s, case_id)
    d = lodge(s, case_id)
    wednesday = datetime(2011, 10, 5, 17, 0, tzinfo=NYZ)
    d = lifecycle.report_release_eligible(s, d.id, at=wednesday, actor=ACTOR)
    assert d.hold_until == datetime(2011, 10, 7, 17, 0, tzinfo=NYZ)  # Friday 17:00
    return d


def test_release_after_hold_until_records_a_violation_with_counted_hours(world):
    db = world.db
    # Friday 17:00 hold-until; released Columbus Day Monday at noon: 67 hours later, of which
    # only Friday 17:00-24:00 (7 hours) fall on business days.
    released = datetime(2011, 10, 10, 12, 0, tzinfo=NYZ)
    with db.session() as s, s.begin():
        d = _holding_until_friday(world, s)
        d = lifecycle.report_release(s, d.id, released_at=released, actor="lea:ny")
        assert d.state is DetainerState.expired
        assert d.closed_at == d.hold_until
        # the detainer expired at hold-until; the later release is the violation, its own event
        expired, event = lifecycle.events(s, d.id)[-2:]
        assert expired.event_type.value == "expired"
        assert expired.occurred_at == d.hold_until
        assert expired.details["cause"] == "hold_until_passed"
        assert "violation" not in expired.details
        assert event.event_type.value == "held_past_expiry"
        assert event.occurred_at == released
        assert event.details["violation"] == "held_past_expiry"
        assert event.details["hours_beyond_limit"] == 7
        assert event.details["elapsed_hours_beyond_limit"] == 67
        assert event.details["ended_by"] == "release"
        assert "IV rec. 5" in event.details["citation"]
    with db.session() as s:
        [(found, ev)] = lifecycle.violations(s)
        assert found.id == d.id and ev.details["hours_beyond_limit"] == 7
        last_two = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2)).all()
        assert [e.event_type for e in last_two] == ["detainer.held_past_expiry", "detainer.expired"]
        assert '"violation":"held_past_expiry"' in last_two[0].payload
        assert lifecycle.violations(s, ori=HI) == []


def test_release_reported_after_the_sweep_records_the_release_and_the_violation(world):
    db = world.db
    released = datetime(2011, 10, 11, 9, 0, tzinfo=NYZ)  # Tuesday 09:00
    with db.session() as s, s.begin():
        d = _holding_until_friday(world, s)
        lifecycle.expire_due(s, now=datetime(2011, 10, 8, tzinfo=UTC))
        assert d.state is DetainerState.expired
        d = lifecycle.report_release(s, d.id, released_at=released, actor="lea:ny")
        assert d.state is DetainerState.expired
        note, violation = lifecycle.events(s, d.id)[-2:]
        assert note.event_type.value == "released"
        assert note.details["note"] == "release_reported"
        assert violation.event_type.value == "held_past_expiry"
        # Friday 7 h + Tuesday 9 h (Monday is Columbus Day).
        assert violation.details["hours_beyond_limit"] == 16
        before = counts(s)
        lifecycle.report_release(s, d.id, released_at=released, actor="lea:ny")
        assert counts(s) == before
        with pytest.raises(LifecycleError, match="already reported"):
            lifecycle.report_release(
                s, d.id, released_at=released + timedelta(hours=1), actor="lea:ny"
            )
        # Released: ICE can no longer assume custody on it.
        with pytest.raises(LifecycleError, match="released"):
            lifecycle.assume_custody(s, d.id, at=released, actor="ice:ero")


def test_release_before_hold_until_is_not_a_violation(world):
    with world.db.session() as s, s.begin():
        d = _holding_until_friday(world, s)
        d = lifecycle.report_release(
            s, d.id, released_at=datetime(2011, 10, 6, 9, 0, tzinfo=NYZ), actor="lea:ny"
        )
        assert d.state is DetainerState.expired
        event = lifecycle.events(s, d.id)[-1]
        assert event.event_type.value == "released"
        assert event.details["cause"] == "released_by_lea_before_hold_until"
        assert "violation" not in event.details
        assert lifecycle.violations(s) == []


def test_custody_after_hold_until_records_a_violation(world):
    with world.db.session() as s, s.begin():
        d = _holding_until_friday(world, s)
        lifecycle.expire_due(s, now=datetime(2011, 10, 8, tzinfo=UTC))
        late = datetime(2011, 10, 11, 10, 0, tzinfo=NYZ)
        d = lifecycle.assume_custody(s, d.id, at=late, actor="ice:ero")
        assert d.state is DetainerState.custody
        custody, event = lifecycle.events(s, d.id)[-2:]
        assert custody.event_type.value == "custody_assumed"
        assert "violation" not in custody.details
        assert event.event_type.value == "held_past_expiry"
        assert event.details["violation"] == "held_past_expiry"
        assert event.details["ended_by"] == "custody"
        assert event.details["hours_beyond_limit"] == 17
        [(found, ev)] = lifecycle.violations(s)
        assert (found.id, ev.id) == (d.id, event.id)


# --------------------------------------------------------------------------- due


def test_due_lists_holds_ending_within_the_window_soonest_first(world):
    now = datetime(2011, 10, 4, 12, 0, tzinfo=NYZ)  # Tuesday noon
    with world.db.session() as s, s.begin():
        made = {}
        for case_id, ori, eligible in (
            ("late", NY, datetime(2011, 9, 30, 17, 0, tzinfo=NYZ)),  # Tue 17:00 NY
            ("soon", NY, datetime(2011, 9, 30, 14, 0, tzinfo=NYZ)),  # Tue 14:00 NY
            ("over", NY, datetime(2011, 9, 30, 9, 0, tzinfo=NYZ)),  # Tue 09:00 NY: overdue
            ("far", NY, datetime(2011, 10, 3, 9, 0, tzinfo=NYZ)),  # Wed 09:00 NY
            ("hawaii", HI, datetime(2011, 9, 30, 8, 0, tzinfo=HIZ)),  # Tue 08:00 HST = 14:00 EDT
        ):
            world.case(s, case_id, ori=ori)
            d = lodge(s, case_id, ori=ori)
            made[case_id] = lifecycle.report_release_eligible(s, d.id, at=eligible, actor=ACTOR)
        world.case(s, "active")
        lodge(s, "active")  # not holding: never due

        ids = [d.case_id for d in lifecycle.due(s, within=timedelta(hours=4), now=now)]
        assert ids == ["over", "soon", "hawaii"]  # 14:00 EDT twice: by id
        assert [d.case_id for d in lifecycle.due(s, within=timedelta(hours=5), now=now)] == [
            "over",
            "soon",
            "hawaii",
            "late",
        ]
        assert [
            d.case_id for d in lifecycle.due(s, within=timedelta(hours=4), now=now, ori=HI)
        ] == ["hawaii"]
        assert [d.case_id for d in lifecycle.due(s, within=timedelta(0), now=now)] == ["over"]
        lifecycle.assume_custody(s, made["soon"].id, at=now, actor="ice:ero")
        assert [d.case_id for d in lifecycle.due(s, within=timedelta(hours=4), now=now)] == [
            "over",
            "hawaii",
        ]


# --------------------------------------------------------------------------- illegal transitions


def test_illegal_transitions_name_the_detainer_its_state_and_the_transition(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        pending = lodge(s, "c-1", DetainerKind.conditional_detainer)
        with pytest.raises(LifecycleError) as info:
            lifecycle.report_release_eligible(s, pending.id, at=FRI_17, actor=ACTOR)
        message = str(info.value)
        assert f"detainer {pending.id}" in message
        assert "pending_condition" in message and "report_release_eligible" in message
        assert info.value.state is DetainerState.pending_condition
        assert info.value.transition == "report_release_eligible"
        assert info.value.detainer_id == pending.id
        for call in (
            lambda: lifecycle.assume_custody(s, pending.id, at=FRI_17, actor=ACTOR),
            lambda: lifecycle.report_release(s, pending.id, released_at=FRI_17, actor=ACTOR),
        ):
            with pytest.raises(LifecycleError, match="is pending_condition: cannot"):
                call()

        world.case(s, "c-2")
        d = lodge(s, "c-2")
        lifecycle.assume_custody(s, d.id, at=FRI_17, actor=ACTOR)
        with pytest.raises(LifecycleError, match=r"is custody: cannot lift") as info:
            lifecycle.lift(s, d.id, at=FRI_17, actor=ACTOR, reason="r")
        assert info.value.transition == "lift"
        with pytest.raises(LifecycleError, match=r"is custody: cannot report_release_eligible"):
            lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        with pytest.raises(LifecycleError, match=r"is custody: cannot report_release"):
            lifecycle.report_release(s, d.id, released_at=FRI_17, actor=ACTOR)

        world.case(s, "c-3")
        d = lodge(s, "c-3")
        lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        lifecycle.expire_due(s, now=TUE_17)
        with pytest.raises(LifecycleError, match=r"is expired: cannot lift"):
            lifecycle.lift(s, d.id, at=TUE_17, actor=ACTOR, reason="r")


# --------------------------------------------------------------------------- idempotency


def test_retries_write_nothing_twice(world):
    db = world.db
    with db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING])
        d = lodge(s, "c-1")
        c = lodge(s, "c-1", DetainerKind.conditional_detainer)
    with db.session() as s, s.begin():
        before = counts(s)
        assert lodge(s, "c-1").id == d.id
        assert lodge(s, "c-1", DetainerKind.conditional_detainer).id == c.id
        assert counts(s) == before
        with pytest.raises(LifecycleError, match="lodged with NY0300000, not HI0020000"):
            lodge(s, "c-1", ori=HI)

        lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        step = counts(s)
        assert step["events"] == before["events"] + 1 and step["notices"] == before["notices"] + 1
        lifecycle.report_release_eligible(s, d.id, at=FRI_17.astimezone(UTC), actor="other")
        assert counts(s) == step
        with pytest.raises(LifecycleError, match="already reported as"):
            lifecycle.report_release_eligible(s, d.id, at=FRI_17 + timedelta(hours=1), actor=ACTOR)

        convicted = datetime(2011, 10, 3, 9, 0, tzinfo=NYZ)
        kw = {"case_id": "c-1", "charge_index": 0, "at": convicted, "actor": ACTOR}
        assert [x.id for x in lifecycle.record_disposition(s, disposition="convicted", **kw)] == [
            c.id
        ]
        step = counts(s)
        assert lifecycle.record_disposition(s, disposition="convicted", **kw) == []
        assert counts(s) == step
        with pytest.raises(LifecycleError, match="already disposed convicted on 2011-10-03"):
            lifecycle.record_disposition(
                s, **{**kw, "at": convicted + timedelta(days=1)}, disposition="convicted"
            )
        with pytest.raises(LifecycleError, match="cannot record acquitted"):
            lifecycle.record_disposition(s, disposition="acquitted", **kw)

        custody = datetime(2011, 10, 3, 10, 0, tzinfo=NYZ)
        lifecycle.assume_custody(s, d.id, at=custody, actor=ACTOR)
        step = counts(s)
        lifecycle.assume_custody(s, d.id, at=custody, actor=ACTOR)
        assert counts(s) == step
        with pytest.raises(LifecycleError, match="custody was already recorded"):
            lifecycle.assume_custody(s, d.id, at=custody + timedelta(minutes=5), actor=ACTOR)
        assert s.scalar(select(DetainerEvent).order_by(DetainerEvent.id.desc())).id is not None
    with db.session() as s:
        assert audit.verify(s).ok


def test_concurrent_lodges_of_one_case_make_one_detainer(world):
    """Two workers lodging the same detainer at once (a resumed run racing the original):
    the case row lock (PostgreSQL) / the write lock (SQLite) lets exactly one insert."""
    db = world.db
    with db.session() as s, s.begin():
        world.case(s, "c-1")
    barrier = threading.Barrier(2)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with db.session() as s, s.begin():
                barrier.wait(timeout=10)
                ids.append(lodge(s, "c-1").id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(ids) == 2 and ids[0] == ids[1]
    with db.session() as s:
        assert counts(s) == {"detainers": 1, "events": 1, "notices": 1, "audit": 2}


def test_nothing_is_committed_by_the_lifecycle(world):
    db = world.db
    with db.session() as s, s.begin():
        world.case(s, "c-1")
    with db.session() as s:
        s.begin()
        d = lodge(s, "c-1")
        lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        s.rollback()
    with db.session() as s:
        assert counts(s) == {"detainers": 0, "events": 0, "notices": 0, "audit": 0}


# --------------------------------------------------------------------------- time zones


def test_same_local_friday_time_gives_tuesday_in_each_facilitys_zone(world):
    with world.db.session() as s, s.begin():
        world.case(s, "ny", ori=NY)
        world.case(s, "hi", ori=HI)
        ny = lodge(s, "ny", ori=NY)
        hi = lodge(s, "hi", ori=HI)
        lifecycle.report_release_eligible(
            s, ny.id, at=datetime(2011, 9, 30, 17, 0, tzinfo=NYZ), actor=ACTOR
        )
        lifecycle.report_release_eligible(
            s, hi.id, at=datetime(2011, 9, 30, 17, 0, tzinfo=HIZ), actor=ACTOR
        )
        assert ny.hold_until == datetime(2011, 10, 4, 17, 0, tzinfo=NYZ)
        assert hi.hold_until == datetime(2011, 10, 4, 17, 0, tzinfo=HIZ)
        assert hi.hold_until - ny.hold_until == timedelta(hours=6)
        event = lifecycle.events(s, hi.id)[-1]
        assert event.details["timezone"] == "Pacific/Honolulu"
        assert event.details["hold_until_local"] == "2011-10-04T17:00:00-10:00"


def test_one_instant_is_friday_in_honolulu_and_saturday_in_new_york(world):
    instant = datetime(2011, 10, 1, 9, 0, tzinfo=UTC)  # Fri 23:00 HST = Sat 05:00 EDT
    with world.db.session() as s, s.begin():
        world.case(s, "ny", ori=NY)
        world.case(s, "hi", ori=HI)
        ny = lifecycle.report_release_eligible(
            s, lodge(s, "ny", ori=NY).id, at=instant, actor=ACTOR
        )
        hi = lifecycle.report_release_eligible(
            s, lodge(s, "hi", ori=HI).id, at=instant, actor=ACTOR
        )
        # New York: the clock starts Monday 00:00 and runs 48 hours -> Wednesday 00:00.
        assert ny.hold_until == datetime(2011, 10, 5, 0, 0, tzinfo=NYZ)
        # Honolulu: 1 hour on Friday, Monday, 23 hours on Tuesday.
        assert hi.hold_until == datetime(2011, 10, 4, 23, 0, tzinfo=HIZ)


# --------------------------------------------------------------------------- policy parameters


def _variant(path: Path, hours: int) -> Path:
    path.write_text(
        "name: short-hold\nbase: tfsc-2011\nparameters:\n"
        f"  detainer.hold_hours:\n    value: {hours}\n"
        "    citation: test\n    rationale: a shorter hold for the test\n",
        encoding="utf-8",
    )
    return path


def test_hold_uses_the_parameters_of_the_lodging_policy(world, tmp_path):
    variant = _variant(tmp_path / "short.yaml", 24)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1", policy=str(variant))
        issued = lifecycle.events(s, d.id)[0]
        assert issued.details["policy_ref"] == str(variant.resolve())
        assert issued.details["policy_version"].startswith("2.0.0+")
        [notice] = notices_of(s, d)
        assert notice.content["hold_limit"]["hours"] == 24
        d = lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        assert d.hold_until == datetime(2011, 10, 3, 17, 0, tzinfo=NYZ)  # Friday 7 h + Monday 17 h
        assert lifecycle.events(s, d.id)[-1].details["parameters"]["detainer.hold_hours"] == 24


def test_a_variant_no_longer_resolvable_falls_back_to_the_defaults_and_says_so(world, tmp_path):
    variant = _variant(tmp_path / "short.yaml", 24)
    with world.db.session() as s, s.begin():
        world.case(s, "gone")
        world.case(s, "changed")
        gone = lodge(s, "gone", policy=str(variant))
        changed = lodge(s, "changed", policy=str(variant))
        variant.unlink()
        gone = lifecycle.report_release_eligible(s, gone.id, at=FRI_17, actor=ACTOR)
        assert gone.hold_until == TUE_17
        details = lifecycle.events(s, gone.id)[-1].details
        assert details["fallback"] == "built-in defaults"
        assert "not resolvable" in details["fallback_reason"]
        assert details["parameters"]["detainer.hold_hours"] == 48
        _variant(variant, 12)  # same path, another variant now
        changed = lifecycle.report_release_eligible(s, changed.id, at=FRI_17, actor=ACTOR)
        assert changed.hold_until == TUE_17
        reason = lifecycle.events(s, changed.id)[-1].details["fallback_reason"]
        assert "not" in reason and "under which the detainer was lodged" in reason


def test_an_unknown_policy_is_recorded_and_the_defaults_apply(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        d = lodge(s, "c-1", policy="no-such-pack")
        issued = lifecycle.events(s, d.id)[0]
        assert issued.details["policy_version"] is None
        assert "built-in defaults apply" in issued.details["policy_note"]
        d = lifecycle.report_release_eligible(s, d.id, at=FRI_17, actor=ACTOR)
        assert d.hold_until == TUE_17


# --------------------------------------------------------------------------- hostile input


def test_naive_datetimes_are_refused_with_the_field_named(world):
    naive = datetime(2011, 9, 30, 17, 0)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        with pytest.raises(LifecycleError, match="issued_at: naive datetime"):
            lifecycle.lodge(
                s, case_id="c-1", officer_action_id=None, ori=NY, kind="detainer",
                issued_at=naive, actor=ACTOR, policy="tfsc-2011",
            )  # fmt: skip
        d = lodge(s, "c-1")
        calls = {
            "at": lambda: lifecycle.report_release_eligible(s, d.id, at=naive, actor=ACTOR),
            "released_at": lambda: lifecycle.report_release(
                s, d.id, released_at=naive, actor=ACTOR
            ),
            "now": lambda: lifecycle.expire_due(s, now=naive),
        }
        for field, call in calls.items():
            with pytest.raises(LifecycleError, match=f"{field}: naive datetime"):
                call()
        for call in (
            lambda: lifecycle.assume_custody(s, d.id, at=naive, actor=ACTOR),
            lambda: lifecycle.lift(s, d.id, at=naive, actor=ACTOR, reason="r"),
            lambda: lifecycle.due(s, within=timedelta(hours=4), now=naive),
            lambda: lifecycle.record_disposition(
                s, case_id="c-1", charge_index=0, disposition="convicted", at=naive, actor=ACTOR
            ),
        ):
            with pytest.raises(LifecycleError, match="naive datetime"):
                call()
        with pytest.raises(LifecycleError, match="expected a timezone-aware datetime"):
            lifecycle.report_release_eligible(s, d.id, at="2011-09-30T17:00", actor=ACTOR)
        assert lifecycle.events(s, d.id)[-1].event_type.value == "issued"


@pytest.mark.parametrize("bad_id", [999_999, 0, -1, 2**70])
def test_unknown_detainer_ids(world, bad_id):
    with world.db.session() as s, s.begin():
        with pytest.raises(DetainerNotFoundError, match=f"detainer {bad_id} does not exist"):
            lifecycle.report_release_eligible(s, bad_id, at=FRI_17, actor=ACTOR)
        with pytest.raises(DetainerNotFoundError):
            lifecycle.lift(s, bad_id, at=FRI_17, actor=ACTOR, reason="r")


@pytest.mark.parametrize("bad_id", ["1", True, 1.0, None])
def test_detainer_ids_of_the_wrong_type(world, bad_id):
    with (
        world.db.session() as s,
        s.begin(),
        pytest.raises(LifecycleError, match="detainer_id: expected an integer id"),
    ):
        lifecycle.assume_custody(s, bad_id, at=FRI_17, actor=ACTOR)


def test_bad_dispositions_and_charge_indexes(world):
    at = datetime(2011, 10, 5, 11, 0, tzinfo=NYZ)
    with world.db.session() as s, s.begin():
        world.case(s, "c-1", charges=[LOITERING])
        lodge(s, "c-1", DetainerKind.conditional_detainer)
        kw = {"case_id": "c-1", "at": at, "actor": ACTOR}
        with pytest.raises(LifecycleError, match="charge_index: -1 is negative"):
            lifecycle.record_disposition(s, charge_index=-1, disposition="convicted", **kw)
        with pytest.raises(LifecycleError, match="has 1 charge"):
            lifecycle.record_disposition(s, charge_index=1, disposition="convicted", **kw)
        with pytest.raises(LifecycleError, match="charge_index: expected an integer"):
            lifecycle.record_disposition(s, charge_index=True, disposition="convicted", **kw)
        for disposition in ("pending", "guilty", "", None):
            with pytest.raises(LifecycleError, match="disposition: expected one of"):
                lifecycle.record_disposition(s, charge_index=0, disposition=disposition, **kw)
        with pytest.raises(CaseNotFoundError, match="'nope' does not exist"):
            lifecycle.record_disposition(
                s, case_id="nope", charge_index=0, disposition="convicted", at=at, actor=ACTOR
            )
        assert s.scalar(select(Charge)).disposition.value == "pending"


def test_bad_lodge_arguments(world):
    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        base = {
            "case_id": "c-1",
            "officer_action_id": None,
            "ori": NY,
            "kind": "detainer",
            "issued_at": ISSUED,
            "actor": ACTOR,
            "policy": "tfsc-2011",
        }
        for change, message in (
            ({"kind": "hold_forever"}, "kind: 'hold_forever' is not one of"),
            ({"ori": "ny"}, "ori: 'ny' is not an ORI"),
            ({"ori": "ZZ0000000"}, "not a participating jurisdiction"),
            ({"case_id": "nope"}, "case 'nope' does not exist"),
            ({"actor": ""}, "actor: expected a non-empty string"),
            ({"policy": ""}, "policy: expected a non-empty string"),
            ({"officer_action_id": 12345}, "officer_action_id: 12345 is not an officer action"),
            ({"officer_action_id": "7"}, "officer_action_id: expected an integer id"),
        ):
            with pytest.raises(LifecycleError, match=message):
                lifecycle.lodge(s, **{**base, **change})
        assert counts(s)["detainers"] == 0
        with pytest.raises(LifecycleError, match="reason: expected a non-empty string"):
            lifecycle.lift(s, lodge(s, "c-1").id, at=FRI_17, actor=ACTOR, reason="  ")
        with pytest.raises(LifecycleError, match=r"within: .* is negative"):
            lifecycle.due(s, within=timedelta(hours=-1), now=FRI_17)
        with pytest.raises(LifecycleError, match=r"within: expected a datetime\.timedelta"):
            lifecycle.due(s, within=4, now=FRI_17)


def test_lodge_with_an_officer_action(world):
    from securecomm.store.repositories import record_officer_action

    with world.db.session() as s, s.begin():
        world.case(s, "c-1")
        world.case(s, "c-2")
        action = record_officer_action(s, "c-1", "accept", officer="ice:ero", acted_at=ISSUED)
        with pytest.raises(LifecycleError, match="is not an officer action of case 'c-2'"):
            lifecycle.lodge(
                s, case_id="c-2", officer_action_id=action.id, ori=NY, kind="detainer",
                issued_at=ISSUED, actor=ACTOR, policy="tfsc-2011",
            )  # fmt: skip
        d = lifecycle.lodge(
            s, case_id="c-1", officer_action_id=action.id, ori=NY, kind="detainer",
            issued_at=ISSUED, actor=ACTOR, policy="tfsc-2011",
        )  # fmt: skip
        assert d.officer_action_id == action.id
        assert lifecycle.events(s, d.id)[0].details["officer_action_id"] == action.id


# --------------------------------------------------------------------------- batch lodge


def test_lodge_many_writes_what_one_lodge_per_case_writes(world):
    """The pipeline's batch: same detainers, events, notices and audit events as one call per
    case; a repeat (in the batch or later) returns the existing detainer and writes nothing."""

    def request(case_id, kind=DetainerKind.detainer):
        return lifecycle.LodgeRequest(case_id, None, NY, kind, ISSUED, ACTOR, "tfsc-2011")

    db = world.db
    with db.session() as s, s.begin():
        for cid in ("c-1", "c-2", "c-3"):
            world.case(s, cid)
        single = lodge(s, "c-1")
        ids = lifecycle.lodge_many(
            s,
            [
                request("c-2"),
                request("c-3", DetainerKind.conditional_detainer),
                request("c-2"),  # a repeat inside the batch
                request("c-1"),  # lodged already
            ],
        )
        assert ids[2] == ids[0] and ids[3] == single.id and len(set(ids[:2])) == 2
        batched = s.get(Detainer, ids[0])
        assert batched.policy == single.policy == "tfsc-2011"
        assert batched.policy_version == single.policy_version is not None
        assert event_types(s, batched) == event_types(s, single) == ["issued"]
        [one], [other] = notices_of(s, single), notices_of(s, batched)
        assert one.kind is other.kind is NoticeKind.detainer_issued
        drop = {"detainer_id", "case_id"}
        assert {k: v for k, v in one.content.items() if k not in drop} == {
            k: v for k, v in other.content.items() if k not in drop
        }
        conditional = s.get(Detainer, ids[1])
        assert conditional.state is DetainerState.pending_condition
        before = counts(s)
        assert (
            lifecycle.lodge_many(s, [request("c-2"), request("c-3", "conditional_detainer")])
            == ids[:2]
        )
        assert counts(s) == before
        types = audit_types(s)
        assert types.count("detainer.issued") == 3 and types.count("notice.created") == 3
        with pytest.raises(LifecycleError, match="NY0300000"):
            lifecycle.lodge_many(
                s, [lifecycle.LodgeRequest("c-2", None, HI, "detainer", ISSUED, ACTOR, "x")]
            )
        with pytest.raises(LifecycleError, match="case_id"):
            lifecycle.lodge_many(s, [request("no-such-case")])
