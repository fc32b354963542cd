"""Booking intake: idempotent on the TCN; hostile lines rejected with the field named and kept."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from securecomm.interop.intake import MAX_LINE_BYTES, submit_booking, validate_booking_line
from securecomm.store.errors import InputError, TcnConflictError
from securecomm.store.models import Booking, Charge, RejectedInput, Submission
from securecomm.store.repositories import original_input


def _doc(world, i: int = 0) -> dict:
    return copy.deepcopy(world.world.bookings[i])


def _line(doc) -> str:
    return json.dumps(doc)


def test_submit_accepts_and_is_idempotent_on_tcn(world):
    lines = world.lines(50)
    first = world.submit(lines)
    assert (first.read, first.accepted, first.duplicates, first.rejected) == (50, 50, 0, 0)
    again = world.submit(lines)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 50, 0)
    assert world.count(Submission) == 50
    assert world.count(Booking) == 50
    # a booking with its charges in order, stage criminal_history
    doc = world.world.bookings[0]
    with world.session() as s:
        sub = s.scalar(select(Submission).where(Submission.tcn == doc["tcn"]))
        assert sub.stage.value == "criminal_history" and sub.state.value == "received"
        booking = s.scalar(select(Booking).where(Booking.submission_id == sub.id))
        charges = s.scalars(
            select(Charge).where(Charge.booking_id == booking.id).order_by(Charge.position)
        ).all()
        assert [c.ncic for c in charges] == [c["ncic"] for c in doc["charges"]]
        assert booking.biographics["names"][0]["last"] == doc["biographics"]["names"][0]["last"]


def test_same_payload_spelled_differently_is_a_duplicate(world):
    doc = _doc(world)
    world.submit([_line(doc)])
    respelled = json.dumps(dict(reversed(list(doc.items()))), indent=1).replace("\n", " ")
    report = world.submit([respelled])
    assert (report.accepted, report.duplicates, report.rejected) == (0, 1, 0)


def test_same_tcn_different_payload_is_rejected_never_overwritten(world):
    doc = _doc(world)
    world.submit([_line(doc)])
    changed = copy.deepcopy(doc)
    changed["charges"][0]["literal"] = "SOMETHING ELSE"
    report = world.submit([_line(changed)], source="test-conflict")
    assert (report.accepted, report.rejected) == (0, 1)
    assert report.rejections[0].errors[0]["field"] == "tcn"
    with world.session() as s:
        stored = s.scalar(select(Submission).where(Submission.tcn == doc["tcn"]))
        assert stored.payload["charges"][0]["literal"] == doc["charges"][0]["literal"]
        [rej] = s.scalars(
            select(RejectedInput).where(RejectedInput.source == "test-conflict")
        ).all()
        assert rej.errors[0]["field"] == "tcn" and rej.errors[0]["tcn"] == doc["tcn"]
        assert "never reused" in rej.errors[0]["message"]


def _hostile(world) -> list[tuple[str, str | bytes, str]]:
    """(name, line, field that must be named)."""
    base = _doc(world, 1)

    def variant(**changes):
        d = copy.deepcopy(base)
        d["tcn"] = f"H-{len(changes)}-{abs(hash(str(changes))) % 10**8}"
        for path, value in changes.items():
            target = d
            keys = path.split("__")
            for k in keys[:-1]:
                target = target[int(k)] if k.isdigit() else target[k]
            last = keys[-1]
            if value is ...:
                del target[last]
            else:
                target[int(last) if last.isdigit() else last] = value
        return json.dumps(d)

    nan_line = variant(template=[0.1] * 64).replace("0.1,", "NaN,", 1)
    inf_line = variant(template=[0.1] * 64).replace("0.1,", "Infinity,", 1)
    huge = (
        variant(booking_number="x" * 10)[:-1]
        + ', "padding": "'
        + "A" * (MAX_LINE_BYTES + 10)
        + '"}'
    )
    return [
        ("template too short", variant(template=[0.1] * 63), "template"),
        ("template too long", variant(template=[0.1] * 65), "template"),
        # NaN and Infinity are not JSON (RFC 8259 s. 6): refused by the parser
        ("template NaN", nan_line, "(json)"),
        ("template infinity", inf_line, "(json)"),
        ("template zero", variant(template=[0.0] * 64), "template"),
        ("template huge value", variant(template=[1e300] * 64), "template"),
        ("template of strings", variant(template=["a"] * 64), "template.0"),
        ("unknown ORI", variant(ori="ZZ9999999"), "ori"),
        ("malformed ORI", variant(ori="co001"), "ori"),
        ("bad NCIC", variant(charges__0__ncic="12AB"), "charges.0.ncic"),
        ("unknown NCIC", variant(charges__0__ncic="0000"), "charges.0.ncic"),
        ("bad severity", variant(charges__0__severity="capital"), "charges.0.severity"),
        ("no charges", variant(charges=[]), "charges"),
        ("missing tcn", variant(tcn=...), "tcn"),
        ("bad tcn", variant(tcn="T 1/2"), "tcn"),
        ("naive booking time", variant(booked_at="2012-01-01T10:00:00"), "booked_at"),
        ("future booking", variant(booked_at="2999-01-01T10:00:00+00:00"), "booked_at"),
        ("unix time", variant(booked_at=1325412000), "booked_at"),
        ("arrest after booking", variant(arrested_at="2099-01-01T00:00:00+00:00"), "(root)"),
        (
            "NUL in name",
            variant(biographics__names__0__first="AB\x00C"),
            "biographics.names.0.first",
        ),
        ("control char in literal", variant(charges__0__literal="X\x07Y"), "charges.0.literal"),
        ("unknown field", variant(shoe_size=44), "shoe_size"),
        ("bad sex code", variant(biographics__sex="Q"), "biographics.sex"),
        ("quality out of range", variant(template_quality=1.5), "template_quality"),
        ("not JSON", '{"tcn": "X", ', "(json)"),
        ("JSON array", "[1, 2, 3]", "(root)"),
        ("JSON string", '"a booking"', "(root)"),
        ("not UTF-8", b'{"tcn": "\xff\xfe"}', "(encoding)"),
        ("huge line", huge, "(line)"),
    ]


def test_hostile_bookings_are_rejected_with_field_names_and_kept(world):
    hostile = _hostile(world)
    good = world.lines(3)
    lines: list = [good[0]] + [line for _, line, _ in hostile] + good[1:]
    report = world.submit(lines, source="hostile")
    assert report.accepted == 3, [r.describe() for r in report.rejections]
    assert report.rejected == len(hostile)
    by_line = {r.line: r for r in report.rejections}
    for n, (name, _, field) in enumerate(hostile, start=2):
        fields = [e["field"] for e in by_line[n].errors]
        assert any(f == field or f.startswith(field + ".") for f in fields), (name, fields)
    with world.session() as s:
        kept = s.scalars(
            select(RejectedInput)
            .where(RejectedInput.source == "hostile")
            .order_by(RejectedInput.id)
        ).all()
        assert len(kept) == len(hostile)
        for row in kept:
            assert row.errors and all("field" in e and "line" in e for e in row.errors)
        # the raw input is kept verbatim (or escaped, or cut at the store's limit)
        originals = {row.errors[0]["line"]: original_input(row) for row in kept}
        assert originals[2 + [h[0] for h in hostile].index("not UTF-8")] == b'{"tcn": "\xff\xfe"}'
        assert originals[2 + [h[0] for h in hostile].index("bad NCIC")] == hostile[9][1]
    assert world.count(Submission) == 3


def test_blank_lines_are_skipped_not_rejected(world):
    report = world.submit(["", "   ", world.lines(1)[0], "\n"])
    assert (report.read, report.accepted, report.rejected, report.blank) == (1, 1, 0, 3)


def test_python_api_submit_booking(world):
    doc = _doc(world, 2)
    with world.session() as s, s.begin():
        sub, created = submit_booking(s, doc)
        assert created and sub.tcn == doc["tcn"]
    with world.session() as s, s.begin():
        _, created = submit_booking(s, doc)
        assert not created
    changed = copy.deepcopy(doc)
    changed["biographics"]["sex"] = "X"
    with world.session() as s, s.begin(), pytest.raises(TcnConflictError):
        submit_booking(s, changed)
    broken = copy.deepcopy(doc)
    broken["template"] = [0.0] * 64
    with world.session() as s, s.begin(), pytest.raises(InputError) as info:
        submit_booking(s, broken)
    assert info.value.field == "template"


def test_batches_commit_independently_and_resume(world):
    lines = world.lines(30)
    report = world.submit(lines[:20], batch_size=7)
    assert report.accepted == 20
    report = world.submit(lines, batch_size=7)  # a resumed run: the first 20 are duplicates
    assert (report.accepted, report.duplicates) == (10, 20)


def test_validate_booking_line_reports_every_error():
    booking, errors, tcn = validate_booking_line(
        json.dumps({"tcn": "T-1", "ori": "bad", "booked_at": "x", "charges": [{"ncic": "zz"}]})
    )
    assert booking is None and tcn == "T-1"
    fields = {e["field"] for e in errors}
    assert {"ori", "booked_at", "biographics", "charges.0.ncic", "charges.0.severity"} <= fields


def test_invalid_jurisdiction_time_zone_is_an_error_at_intake(world):
    """The policy in force is chosen by the facility's local date: a booking from a
    jurisdiction whose time zone is not a valid IANA name is rejected, never read as UTC."""
    from sqlalchemy import text

    doc = _doc(world)
    with world.backend.engine.begin() as conn:  # edited behind the store's back
        conn.execute(
            text("UPDATE jurisdictions SET timezone = 'Mars/Olympus' WHERE ori = :ori"),
            {"ori": doc["ori"]},
        )
    report = world.submit([_line(doc)], source="bad-zone")
    assert (report.accepted, report.rejected) == (0, 1)
    [error] = report.rejections[0].errors
    assert error["field"] == "ori" and "time zone" in error["message"]
