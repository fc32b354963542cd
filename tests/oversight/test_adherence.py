"""Adherence and detainer monitoring (II rec. 3, IV rec. 5): the monthly report, its
protection, the HTML + CSV, and the CRCL alerts. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from oversight_world import T_AFTER

from securecomm.oversight import adherence, complaints
from securecomm.oversight.params import SMALL_CELL_MAX, field_office_of
from securecomm.oversight.render import write_adherence


def _quarter(db):
    with db.session() as s:
        return [adherence.monthly_report(s, m) for m in ("2012-07", "2012-08", "2012-09")]


def test_report_counts_match_the_world(store_world):
    db, world = store_world
    reports = _quarter(db)
    offices = [row for r in reports for row in r.field_offices]
    assert sum(r["overrides"] for r in offices) == len(world.overrides)
    assert sum(r["safeguard_overrides"] for r in offices) == len(world.safeguard_overrides)
    assert sum(r["supervisor_approved"] for r in offices) == len(world.approved)
    denied = len(world.safeguard_overrides) - len(world.approved)
    assert sum(r["supervisor_denied"] for r in offices) == denied
    assert sum(r["decisions"] for r in offices) == len(world.case_ids) - len(world.undecided)
    assert all(r["median_hours_to_decision"] >= 2 for r in offices)
    juris = [row for r in reports for row in r.jurisdictions]
    assert sum(r["held_past_limit"] for r in juris) == len(world.held_past)
    assert sum(r["lifted_us_citizen"] for r in juris) == len(world.citizen_lifted)
    officers = [row for r in reports for row in r.officers]
    assert {r["officer"] for r in officers} == {"officer-0", "officer-1", "officer-2"}
    assert {r["field_office"] for r in offices} == {"NYC", "HOU", "DEN", "PHO", "SFR"}


def test_field_office_is_the_registry_crosswalk():
    assert field_office_of("48201") == "HOU"
    assert field_office_of(None) == field_office_of("99999") == "unassigned"


def test_published_copy_suppresses_small_cells(store_world, tmp_path):
    db, _world = store_world
    k = SMALL_CELL_MAX.value
    with db.session() as s:
        full = adherence.monthly_report(s, "2012-08")
    public = full.protected()
    for raw, shown in zip(full.officers, public.officers, strict=True):
        for key, v in raw.items():
            if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= k:
                assert shown[key] is None
            if key == "median_hours_to_decision":
                assert shown[key] is None or raw["n_hours_to_decision"] > k
    paths = write_adherence(public, tmp_path)
    html = paths["html"].read_text()
    assert "Oversight report, 2012-08" in html and "8 CFR 287.7(d)" in html and "&le;10" in html
    rows = list(csv.DictReader(paths["officers"].open()))
    assert rows and all(r["overrides"] in ("", "0") or int(r["overrides"]) > k for r in rows)


def test_bad_month_is_named(db):
    with db.session() as s, pytest.raises(ValueError, match="month"):
        adherence.monthly_report(s, "2012-13")


def test_alerts_for_the_crcl_portal(store_world):
    db, world = store_world
    with db.session() as s, s.begin():
        complaints.file_complaint(s, channel="phone", category="held_past_detainer_limit",
                                  narrative="kept four days in the jail", name="J. Doe", actor="crcl-1",
                                  at=dt.datetime(2012, 9, 3, tzinfo=dt.UTC))  # fmt: skip
    with db.session() as s:
        found = adherence.alerts(s, now=T_AFTER, days=120)
    kinds = [a["kind"] for a in found]
    assert kinds.count("held_past_limit") == len(world.held_past)
    assert kinds.count("us_citizen_detainer") == len(world.citizen_lifted)
    assert kinds.count("complaint_overdue") == 1
    assert "kept four days" not in repr(found) and "J. Doe" not in repr(found)
    with db.session() as s:
        assert (
            adherence.alerts(s, now=T_AFTER + dt.timedelta(days=400), days=30)[0]["kind"]
            == "complaint_overdue"
        )
