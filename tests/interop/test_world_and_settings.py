"""The synthetic world (deterministic, valid, refuses to overwrite) and the pipeline settings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from securecomm.interop.intake import validate_booking_line
from securecomm.interop.settings import (
    PolicySchedule,
    SettingsError,
    load_settings,
    parse_schedule_text,
)
from securecomm.interop.synthetic_world import (
    JURISDICTIONS,
    WorldExistsError,
    WorldSpec,
    generate_world,
    seed_world,
)
from securecomm.law.ncic import NCIC_OFFENSES


def test_world_is_deterministic_and_every_booking_is_valid():
    spec = WorldSpec(persons=300, bookings=3000, seed=3)
    a, b = generate_world(spec), generate_world(spec)
    assert list(a.booking_lines()) == list(b.booking_lines())
    oris = {j[0] for j in JURISDICTIONS}
    for line in a.booking_lines():
        booking, errors, _ = validate_booking_line(line, oris=oris)
        assert booking is not None, errors
    assert all(c["ncic"] in NCIC_OFFENSES for c in a.ch_convictions)
    cats = {t["category"] for t in a.truth}
    assert cats == {"ident", "fbi_only", "never", "lookalike"}
    assert any(t["status"] == "naturalized_citizen" for t in a.truth if t["category"] == "ident")
    assert any(not t["template"] for t in a.truth)
    # US citizens by birth are never in IDENT
    assert all(s["citizenship_status"] != "us_citizen_by_birth" for s in a.imm_subjects)
    assert generate_world(WorldSpec(persons=300, bookings=30, seed=4)).bookings != a.bookings[:30]


def test_world_writes_bookings_and_truth(tmp_path):
    w = generate_world(WorldSpec(persons=50, bookings=40, seed=1))
    path, truth = w.write_bookings(tmp_path / "b.jsonl")
    assert len(path.read_text().splitlines()) == 40
    rows = [json.loads(x) for x in truth.read_text().splitlines()]
    assert [r["tcn"] for r in rows] == [b["tcn"] for b in w.bookings]


def test_seed_refuses_a_database_with_a_world(db, small_world):
    with db.session() as s, s.begin():
        seed_world(s, small_world)
    with db.session() as s, s.begin(), pytest.raises(WorldExistsError):
        seed_world(s, small_world)


def test_policy_schedule():
    sched = PolicySchedule(
        parse_schedule_text("2011-09-30=tfsc-2011, 2014-11-20=pep-2014, 2000-01-01=morton-2011")
    )
    assert sched.name_on(dt.date(1999, 1, 1)) == "morton-2011"  # before the first: the first
    assert sched.name_on(dt.date(2011, 9, 29)) == "morton-2011"
    assert sched.name_on(dt.date(2011, 9, 30)) == "tfsc-2011"
    assert sched.name_on(dt.date(2020, 1, 1)) == "pep-2014"
    assert sched.compiled("tfsc-2011") is sched.compiled("tfsc-2011")
    assert PolicySchedule().name_on(dt.date(2011, 1, 1)) == "tfsc-2011"
    with pytest.raises(SettingsError):
        PolicySchedule([(dt.date(2011, 1, 1), "a"), (dt.date(2011, 1, 1), "b")])
    with pytest.raises(SettingsError):
        PolicySchedule(parse_schedule_text("no-such-pack")).check()


def test_settings_from_yaml_and_environment(tmp_path, monkeypatch):
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(
        "policy_schedule:\n  - {effective: 2011-09-30, policy: tfsc-2011}\n  - {effective: 2014-11-20, policy: pep-2014}\n"
        "match_threshold: 0.8\nverification_band_low: 0.7\nauto_accept: true\n"
    )
    monkeypatch.setenv("SECURECOMM_PIPELINE_CONFIG", str(cfg))
    monkeypatch.delenv("SECURECOMM_POLICY_SCHEDULE", raising=False)
    s = load_settings()
    assert s.schedule.name_on(dt.date(2015, 1, 1)) == "pep-2014"
    assert (s.decision_policy.match_threshold, s.decision_policy.verification_band_low) == (
        0.8,
        0.7,
    )
    assert s.auto_accept
    monkeypatch.setenv("SECURECOMM_POLICY_SCHEDULE", "morton-2011")
    assert load_settings().schedule.name_on(dt.date(2015, 1, 1)) == "morton-2011"
    cfg.write_text("match_threshold: 0.5\nverification_band_low: 0.7\n")
    with pytest.raises(SettingsError):
        load_settings()
    cfg.write_text("colour: blue\n")
    with pytest.raises(SettingsError, match="unknown"):
        load_settings()


def test_data_dir_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("SECURECOMM_DATA_DIR", raising=False)
    monkeypatch.delenv("SECURECOMM_PIPELINE_CONFIG", raising=False)
    s = load_settings()
    assert s.data_dir_for(f"sqlite:///{tmp_path}/x/store.db") == tmp_path / "x"
    assert s.file_prefix_for(f"sqlite:///{tmp_path}/x/store.db") == "store"
    a = s.data_dir_for("postgresql+psycopg://u@h:5432/db?options=-csearch_path%3Da")
    b = s.data_dir_for("postgresql+psycopg://u@h:5432/db?options=-csearch_path%3Db")
    assert a != b and a.parent.name == "securecomm-data"
    assert load_settings(data_dir=tmp_path).data_dir_for("sqlite:///elsewhere.db") == tmp_path
