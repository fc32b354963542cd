"""The nation -> pipeline world conversion (synth/to_world.py).

The key test runs a hand-built nation through the real pipeline (seed, submit, worker with
simulated officers) and checks, per TCN, that IDENT matches exactly when the nation says
``ident_match`` and that every matched case's Decision v1 equals the bulk engine's decision of
the nation's flat row.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from _pipeline_fixtures import build_store, make_nation, nation_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from securecomm.interop.adapters import StoreStatusDetermination
from securecomm.interop.intake import validate_booking_line
from securecomm.interop.stages import case_id_for
from securecomm.law.engine import CompiledPack
from securecomm.policy_files import load_policy
from securecomm.store.db import session_factory
from securecomm.store.models import CaseRecord, DecisionRecord, IdentityVerification, Submission
from securecomm.synth.to_world import (
    NationError,
    flat_record,
    row_limits,
    unrepresentable,
    world_from_nation,
)


@pytest.fixture(scope="module")
def nation() -> pa.Table:
    return make_nation(70, seed=3)


def _pipeline_view(engine):
    """Per TCN: (matched, decision dict or None) as the store holds them."""
    with session_factory(engine)() as s:
        subs = dict(s.execute(select(Submission.id, Submission.tcn)).all())
        cases = set(s.scalars(select(CaseRecord.submission_id)))
        pending = {
            sid for sid, state in s.execute(
                select(IdentityVerification.submission_id, IdentityVerification.state)
            ).all() if getattr(state, "value", state) != "confirmed"
        }  # fmt: skip
        decisions = dict(s.execute(select(DecisionRecord.case_id, DecisionRecord.decision)).all())
    return {
        tcn: (sid in cases and sid not in pending, decisions.get(case_id_for(tcn)))
        for sid, tcn in subs.items()
    }


@pytest.mark.parametrize("policy", ["tfsc-2011", "morton-2011"])
def test_pipeline_matches_and_decides_like_the_bulk_engine(nation, policy, tmp_path):
    engine, world, _ = build_store(nation, f"sqlite:///{tmp_path}/s.db", tmp_path, policy=policy)
    try:
        view = _pipeline_view(engine)
    finally:
        engine.dispose()
    rows = {r["tcn"]: r for r in nation.to_pylist()}
    assert set(view) == set(rows)
    mismatched = [t for t, r in rows.items() if view[t][0] != r["ident_match"]]
    assert mismatched == []
    compiled = CompiledPack(load_policy(policy))
    compared = 0
    for tcn, row in rows.items():
        if not row["ident_match"]:
            assert view[tcn][1] is None  # no case decided for a non-match
            continue
        want = compiled.decide_record(flat_record(row)).model_dump(mode="json")
        got = dict(view[tcn][1])
        assert got["case_id"] == case_id_for(tcn)
        got["case_id"] = want["case_id"]
        assert got == want, tcn
        compared += 1
    # the mix exercised every path
    kinds = {t["category"] for t in world.truth}
    assert kinds == {"ident", "fbi_only", "never", "lookalike"}
    assert compared > 40
    assert any(r["false_match"] and r["ident_match"] for r in rows.values())
    assert any(r["false_match"] and not r["ident_match"] for r in rows.values())
    assert any(r["ident_enrolled"] and not r["ident_match"] for r in rows.values())


def test_same_seed_same_world_other_seed_other_captures(nation):
    a, b = world_from_nation(nation, seed=9), world_from_nation(nation, seed=9)
    assert list(a.booking_lines()) == list(b.booking_lines())
    assert a.imm_status == b.imm_status and a.ch_convictions == b.ch_convictions
    c = world_from_nation(nation, seed=10)
    assert [x["tcn"] for x in c.bookings] == [x["tcn"] for x in a.bookings]
    assert [x["template"] for x in c.bookings] != [x["template"] for x in a.bookings]


def test_world_content_follows_the_rows(nation):
    world = world_from_nation(nation, seed=1)
    rows = nation.to_pylist()
    by_tcn = {r["tcn"]: r for r in rows}
    assert len(world.bookings) == nation.num_rows
    booked = [dt.datetime.fromisoformat(b["booked_at"]) for b in world.bookings]
    assert booked == sorted(booked)  # submitted in time order
    for b in world.bookings:
        row = by_tcn[b["tcn"]]
        assert dt.datetime.fromisoformat(b["booked_at"]) == row["booked_at"]
        # the local offset: the booking's date is the decision date
        assert dt.date.fromisoformat(b["booked_at"][:10]) == row["decided_on"]
        assert [c["ncic"] for c in b["charges"]] == [c["ncic"] for c in row["charges"]]
        assert b["biographics"]["race"] == row["race"]
        assert b["ori"] == row["jurisdiction_ori"]
    persons = {r["person_id"] for r in rows}
    enrolled = {r["person_id"] for r in rows if r["ident_enrolled"]}
    false = {r["person_id"] for r in rows if r["false_match"]}
    assert len(world.imm_subjects) == len(enrolled) + len(false)
    assert len(world.ch_subjects) == len({r["person_id"] for r in rows if r["fbi_record"]})
    assert len(world.imm_subjects) < len(persons)
    wanted = {
        (c["ncic"], c["convicted_on"]) for r in rows for c in r["convictions"]
        if not c["from_current_charge"]
    }  # fmt: skip
    assert {(c["ncic"], c["convicted_on"]) for c in world.ch_convictions} == wanted
    assert {j["ori"] for j in world.jurisdictions} == {r["jurisdiction_ori"] for r in rows}


def _row(**over):
    """One representable nation row (an enrolled, matched person)."""
    base = make_nation(1, seed=0).to_pylist()[0]
    base.update(over)
    return base


def test_lesc_answers_each_bookings_status_after_naturalisation(tmp_path):
    """A person booked as an LPR, naturalised, booked again: the LESC answers each row's
    status as of that booking's local date."""
    from securecomm.interop.synthetic_world import seed_world
    from securecomm.store.db import make_engine, upgrade

    first = _row(
        tcn="NAT-1", case_id="NAT-1", person_id=7, ident_enrolled=True, ident_match=True,
        false_match=False, person_citizenship_status="lawful_permanent_resident",
        person_lpr_since=dt.date(2005, 1, 1), naturalized_on=None,
        booked_at=dt.datetime(2012, 3, 10, 18, tzinfo=dt.UTC),
        decided_on=dt.date(2012, 3, 10), person_final_order_on=None, person_removal_count=0,
    )  # fmt: skip
    first["jurisdiction_timezone"] = "America/Chicago"
    second = dict(
        first, tcn="NAT-2", case_id="NAT-2", person_citizenship_status="naturalized_citizen",
        naturalized_on=dt.date(2012, 3, 20), booked_at=dt.datetime(2012, 4, 2, 18, tzinfo=dt.UTC),
        decided_on=dt.date(2012, 4, 2), person_final_order_on=dt.date(2012, 3, 25),
        person_removal_count=1,
    )  # fmt: skip
    nation = pa.Table.from_pylist([first, second], schema=nation_schema())
    world = world_from_nation(nation, seed=2)
    url = f"sqlite:///{tmp_path}/n.db"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s, s.begin():
            seed_world(s, world)
        fin = world.imm_subjects[0]["fin"]
        with session_factory(engine)() as s:
            a, b = StoreStatusDetermination().determine(
                s, [(fin, dt.date(2012, 3, 10)), (fin, dt.date(2012, 4, 2))]
            )
    finally:
        engine.dispose()
    assert a.citizenship_status.value == "lawful_permanent_resident"
    assert b.citizenship_status.value == "naturalized_citizen"
    assert a.final_order_of_removal_on is None and len(a.removed_on) == 0
    assert b.final_order_of_removal_on == dt.date(2012, 3, 25) and len(b.removed_on) == 1
    assert world.inconsistent == {}
    # an order dated before the first booking that did not show it cannot be laid out: counted
    second["person_final_order_on"] = dt.date(2012, 3, 1)
    bad = world_from_nation(pa.Table.from_pylist([first, second], schema=nation_schema()), seed=2)
    assert bad.inconsistent == {"orders_removals": 1}


def test_unrepresentable_rows_are_named():
    nation = make_nation(40, seed=4, unrepresentable=True)
    counts = unrepresentable(nation)
    assert counts.get("charge_disposed_at_booking", 0) > 0
    # victim certifications now reach the case as recorded facts: representable
    assert "flag_crime_victim" not in counts
    victims = [r["tcn"] for r in nation.to_pylist() if r["flag_crime_victim"]]
    assert victims
    world = world_from_nation(nation, seed=4)
    seeded = {(f["tcn"], f["fact"]) for f in world.case_facts if f["value"]}
    assert {(t, "crime_victim") for t in victims} <= seeded
    assert all(f["source"].strip() for f in world.case_facts)
    clean = make_nation(40, seed=4)
    assert unrepresentable(clean) == {}
    row = _row(flag_national_security=True, fbi_record=False,
               flag_outstanding_criminal_warrant=True)  # fmt: skip
    assert {"flag_national_security", "warrant_without_fbi_record"} <= set(row_limits(row))
    # a fact the officer or an LEA certifies is no limit; the watch list stays one
    row = _row(flag_primary_caretaker=True, flag_us_citizen_or_lpr_family=True)
    assert not {"flag_primary_caretaker", "flag_us_citizen_or_lpr_family"} & set(row_limits(row))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tcn": "bad tcn!"}, "tcn"),
        ({"ident_match": True, "ident_enrolled": False, "false_match": False}, "ident_match"),
        ({"false_match": True, "ident_enrolled": True}, "false_match"),
        ({"charges": []}, "charges"),
        ({"prior_arrests": -1}, "prior_arrests"),
        ({"jurisdiction_timezone": "Mars/Olympus"}, "jurisdiction_timezone"),
        ({"person_id": None}, "person_id"),
    ],
)
def test_bad_rows_are_refused_naming_the_column(change, message):
    row = _row(**change)
    if "tcn" in change:
        row["case_id"] = row["tcn"]
    nation = pa.Table.from_pylist([row], schema=nation_schema())
    with pytest.raises(NationError, match=message):
        world_from_nation(nation, seed=1)


def test_missing_columns_and_duplicates_are_refused(nation):
    with pytest.raises(NationError, match=r"missing column.*ident_match"):
        world_from_nation(nation.drop_columns(["ident_match"]), seed=1)
    with pytest.raises(NationError, match="duplicate"):
        world_from_nation(pa.concat_tables([nation.slice(0, 2), nation.slice(0, 1)]), seed=1)
    with pytest.raises(NationError, match="seed"):
        world_from_nation(nation, seed="1")  # type: ignore[arg-type]
    with pytest.raises(NationError, match=r"pyarrow\.Table"):
        world_from_nation(nation.to_pylist(), seed=1)  # type: ignore[arg-type]


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tcn=st.one_of(_text, st.from_regex(r"[A-Za-z0-9\-]{1,40}", fullmatch=True)),
    first=st.one_of(st.none(), _text),
    race=st.sampled_from(["W", "B", "Q", ""]),
    status=st.sampled_from(["entered_without_inspection", "unknown", "naturalized_citizen"]),
    removals=st.integers(0, 4),
    arrests=st.integers(-2, 5),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_any_row_gives_a_world_or_a_named_error(tcn, first, race, status, removals, arrests, flags):
    enrolled, match, false = flags
    row = _row(tcn=tcn, case_id=tcn, first_name=first, race=race, person_citizenship_status=status,
               person_removal_count=removals, prior_arrests=arrests, ident_enrolled=enrolled,
               ident_match=match, false_match=false)  # fmt: skip
    nation = pa.Table.from_pylist([row], schema=nation_schema())
    try:
        world = world_from_nation(nation, seed=3)
    except NationError as exc:
        assert str(exc).startswith("nation row")
        return
    # a world: its one booking is a valid booking/1 line naming this TCN
    (line,) = list(world.booking_lines())
    booking, errors, _ = validate_booking_line(line, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert errors == [] and booking is not None and booking.tcn == tcn
