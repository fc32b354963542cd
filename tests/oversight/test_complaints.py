"""Complaints (IV rec. 4): intake, the state machine, deadlines on the federal calendar,
breaches flagged once, confidentiality by role, public statistics. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from oversight_world import register_users
from sqlalchemy import func, select

from securecomm.law.detainer_clock import is_business_day
from securecomm.oversight import complaints as cm
from securecomm.store.audit import verify
from securecomm.store.models import AuditEntry, ComplaintEvent, ComplaintIdentity

UTC = dt.UTC
# Friday 2012-08-31 16:00 New York; Monday 2012-09-03 is Labor Day
FRIDAY = dt.datetime(2012, 8, 31, 20, 0, tzinfo=UTC)


def _file(session, **kw):
    args = {"channel": "phone", "category": "us_citizen_held", "language": "es",
            "narrative": "Me detuvieron dos días.\nSoy ciudadano.", "name": "Ana Pérez",
            "contact": "555-0100", "actor": "crcl-intake", "at": FRIDAY}  # fmt: skip
    args.update(kw)
    return cm.file_complaint(session, **args)


def test_staff_intake_keeps_identity_apart_and_audits(db):
    with db.session() as s, s.begin():
        c = _file(s)
        cid = c.id
    with db.session() as s:
        crcl = cm.view(s, cid, role="crcl")
        assert crcl["complainant"] == {"name": "Ana Pérez", "contact": "555-0100"}
        assert "ciudadano" in crcl["narrative"]
        for role in ("ice", "lea", "panel", "public"):
            other = cm.view(s, cid, role=role)
            text = repr(other)
            assert "Ana" not in text and "555-0100" not in text and "ciudadano" not in text
            assert other["complainant"].startswith("[withheld")
        listed = repr(cm.list_complaints(s))
        assert "Ana" not in listed and "ciudadano" not in listed
        # the audit log proves the intake without holding the personal data
        entries = list(s.scalars(select(AuditEntry)))
        assert [e.event_type for e in entries] == ["complaint.filed"]
        assert "Ana" not in entries[0].payload and "ciudadano" not in entries[0].payload
        assert "identity_sha256" in entries[0].payload
        assert verify(s).ok


def test_deadline_uses_the_federal_calendar(db):
    with db.session() as s, s.begin():
        c = _file(s)
        due = c.stage_due_at
    # 5 business days from Friday 16:00 EDT skipping the weekend and Labor Day: Monday 10th 16:00?
    # counted: Fri 8h, Tue-Fri 4 days = 104h, then 16h of Monday 2012-09-10
    assert due == dt.datetime(2012, 9, 10, 20, 0, tzinfo=UTC)
    assert not is_business_day(dt.date(2012, 9, 3))


def test_public_intake_anonymous_receipt_and_status(db):
    with db.session() as s, s.begin():
        code = cm.file_public(s, category="language_access", language="zh_Hans",
                              narrative="没有翻译", at=FRIDAY)  # fmt: skip
    with db.session() as s:
        status = cm.public_status(s, code.lower())
        assert status["stage"] == "received" and status["category"] == "language_access"
        assert "没有翻译" not in repr(status)
        assert s.scalar(select(func.count()).select_from(ComplaintIdentity)) == 0
        with pytest.raises(cm.ComplaintError, match="receipt"):
            cm.public_status(s, "0000-0000-0000")
    with db.session() as s, pytest.raises(cm.ComplaintError, match="jurisdiction only"):
        # no oracle: the public cannot learn whether a TCN exists
        cm.file_public(s, category="other", language="en", narrative="x",
                       links=[("booking", "TCN-1")])  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"language": "de"}, "language"),
        ({"category": "rudeness"}, "category"),
        ({"channel": "web"}, "channel"),
        ({"narrative": "  "}, "narrative"),
        ({"narrative": "ok\u202eevil"}, "narrative"),
        ({"name": "A\u200bna"}, "name"),
        ({"anonymous": True}, "anonymous"),
        ({"links": [("case", "C-NOPE")]}, "links.case"),
        ({"links": [("detainer", "12")]}, "links.detainer"),
        ({"links": [("warrant", "1")]}, "links"),
    ],
)
def test_bad_intake_is_refused_naming_the_field(db, kw, field):
    with db.session() as s, s.begin(), pytest.raises(cm.ComplaintError, match=field):
        _file(s, **kw)
    with db.session() as s:  # nothing half-written
        assert s.scalar(select(func.count()).select_from(AuditEntry)) in (0, None)


def test_links_are_validated_against_the_store(store_world):
    db, world = store_world
    with db.session() as s, s.begin():
        c = _file(s, links=[("case", world.case_ids[0]), ("booking", "TCN-OV0000"),
                            ("jurisdiction", "NY0300000")])  # fmt: skip
        assert cm.link(s, c.id, "case", world.case_ids[0], actor="crcl-1") is False
        cid = c.id
    with db.session() as s:
        links = cm.view(s, cid, role="ice")["links"]
    assert {(x["kind"], x["ref"]) for x in links} == {
        ("case", world.case_ids[0]),
        ("booking", "TCN-OV0000"),
        ("jurisdiction", "NY0300000"),
    }
    with db.session() as s:  # a complaint never lands on the case's own timeline
        on_case = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.case_id == world.case_ids[0], AuditEntry.event_type.like("complaint.%")
            )
        )
        assert on_case == 0


def test_state_machine_to_resolution_and_refusals(db):
    register_users(db)
    t = FRIDAY
    with db.session() as s, s.begin():
        cid = _file(s).id
    step = dt.timedelta(days=1)
    with (
        db.session() as s,
        s.begin(),
        pytest.raises(cm.ComplaintError, match="cannot move to investigating"),
    ):
        cm.advance(s, cid, "investigating", actor="crcl-1", at=t + step)
    with db.session() as s, s.begin():
        cm.advance(s, cid, "acknowledged", actor="crcl-1", at=t + step)
        with pytest.raises(cm.ComplaintError, match="use assign"):
            cm.advance(s, cid, "assigned", actor="crcl-1", at=t + step)
        with pytest.raises(cm.ComplaintError, match="investigator: has role panel"):
            cm.assign(s, cid, "panelist-1", actor="crcl-1", at=t + 2 * step)
        cm.assign(s, cid, "investigator-2", actor="crcl-1", at=t + 2 * step)
        cm.advance(s, cid, "investigating", actor="investigator-2", at=t + 3 * step)
        with pytest.raises(cm.ComplaintError, match="outcome: required"):
            cm.advance(s, cid, "resolved", actor="investigator-2", at=t + 4 * step)
        with pytest.raises(cm.ComplaintError, match="referred_to: required"):
            cm.advance(s, cid, "referred", actor="investigator-2", outcome="to DOJ",
                       at=t + 4 * step)  # fmt: skip
        cm.advance(s, cid, "referred", actor="investigator-2", outcome="Referred for review",
                   referred_to="DOJ Civil Rights Division", at=t + 4 * step)  # fmt: skip
    with (
        db.session() as s,
        s.begin(),
        pytest.raises(cm.ComplaintError, match="allowed: none: it is final"),
    ):
        cm.advance(s, cid, "closed", actor="crcl-1", outcome="x", at=t + 5 * step)
    with db.session() as s:
        doc = cm.view(s, cid, role="crcl")
        assert doc["stage"] == "referred" and doc["stage_due_at"] is None
        assert [e["stage_to"] for e in doc["events"]] == [
            "received",
            "acknowledged",
            "assigned",
            "investigating",
            "referred",
        ]
        assert cm.public_status(s, doc["receipt_code"])["outcome"] == "Referred for review"
        logged = [e.event_type for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert [e for e in logged if e.startswith("complaint.")] == ["complaint.filed"] + [
            "complaint.stage_changed"
        ] * 4
        assert verify(s).ok


def test_breaches_are_flagged_once_per_stage(db):
    with db.session() as s, s.begin():
        cid = _file(s).id
        other = _file(s, at=FRIDAY + dt.timedelta(days=20)).id
    late = dt.datetime(2012, 9, 11, 12, tzinfo=UTC)  # after the 10th 20:00 deadline
    with db.session() as s, s.begin():
        assert cm.flag_breaches(s, dt.datetime(2012, 9, 10, 19, tzinfo=UTC)) == []
        flagged = cm.flag_breaches(s, late)
    assert [f["complaint_id"] for f in flagged] == [cid]
    with db.session() as s, s.begin():
        assert cm.flag_breaches(s, late + dt.timedelta(hours=1)) == []  # recorded once
        cm.advance(s, cid, "acknowledged", actor="crcl-1", at=late + dt.timedelta(hours=2))
    with db.session() as s, s.begin():  # the new stage has its own deadline, not yet passed
        assert cm.flag_breaches(s, late + dt.timedelta(days=1)) == []
    with db.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ComplaintEvent)
                .where(ComplaintEvent.event_type == "deadline_breached")
            )
            == 1
        )
        assert [b["complaint_id"] for b in cm.breaches(s)] == [cid]
        assert other != cid


def test_outcome_statistics_suppress_small_cells(db):
    with db.session() as s, s.begin():
        for i in range(14):
            c = _file(s, category="profiling_or_pretextual_arrest" if i < 12 else "other",
                      at=FRIDAY + dt.timedelta(hours=i))  # fmt: skip
            cm.advance(s, c.id, "acknowledged", actor="crcl-1",
                       at=FRIDAY + dt.timedelta(days=4, hours=i))  # fmt: skip
    with db.session() as s:
        stats = cm.outcome_statistics(s)
    assert stats["total"] == 14
    # 12 profiling, 2 other: "other" is small, and the complementary cell goes too (14 - 12 = 2)
    assert stats["by_category"]["other"] is None
    assert stats["by_category"]["profiling_or_pretextual_arrest"] is None
    assert stats["by_category"]["language_access"] == 0
    assert stats["by_stage"]["acknowledged"] == 14
    # all 14 left "received": Friday..Tuesday with Labor Day = 1 business day + a few hours
    assert stats["median_business_days_in_stage"]["received"] is not None
    assert stats["median_business_days_in_stage"]["acknowledged"] is None


def test_audit_verify_data_proves_the_complaint_rows(db):
    """Issue 9 item 1: complaints, their events and links are audited tables; an edit, a
    delete or an unlogged insert made directly in the database is detected, and the
    complainant's identity is not among the digested tables."""
    from sqlalchemy import text

    from securecomm.store import rowstate
    from securecomm.store.dataverify import verify_data

    register_users(db)
    with db.session() as s, s.begin():
        cid = _file(s).id
        cm.advance(s, cid, "acknowledged", actor="crcl-1", at=FRIDAY + dt.timedelta(days=1))
        cm.link(s, cid, "jurisdiction", _any_ori(s), actor="crcl-1",
                at=FRIDAY + dt.timedelta(days=1, hours=1))  # fmt: skip
    names = {t.name for t in rowstate.audited_tables()}
    assert {"complaints", "complaint_events", "complaint_links"} <= names
    assert "complaint_identities" not in names
    with db.session() as s:
        report = verify_data(s)
        assert report.ok, [str(p) for p in report.problems]
    # an insider moves the complaint back to "received" and deletes the link
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE complaints SET stage = 'received' WHERE id = :i"), {"i": cid})
        conn.execute(text("DELETE FROM complaint_links WHERE complaint_id = :i"), {"i": cid})
    with db.session() as s:
        found = {(p.table, p.kind) for p in verify_data(s).problems}
    assert ("complaints", "row_edited") in found
    assert ("complaint_links", "row_missing") in found


def _any_ori(session) -> str:
    from securecomm.store import repositories as r
    from securecomm.store.models import Jurisdiction

    ori = session.scalar(select(Jurisdiction.ori).limit(1))
    if ori is None:
        ori = "NY0010000"
        r.upsert_jurisdiction(session, ori, state="NY", timezone="America/New_York",
                              name="County NY", county_fips="36061")  # fmt: skip
    return ori
