"""A nation sample through the whole pipeline (synth/pipeline_run.py)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from _pipeline_fixtures import drop_pg, make_nation, pg_url
from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.interop.synthetic_world import WorldExistsError
from securecomm.stats.schema import BOOKING_OUTCOME_SCHEMA
from securecomm.synth.pipeline_run import OUTCOMES_FILE, run_pipeline_sample, sample_nation


@pytest.fixture(scope="module")
def nation() -> pa.Table:
    # three months of bookings, so that the sample picks a contiguous range
    return make_nation(160, seed=41, start=dt.date(2012, 1, 5), days=85)


def _run(nation, url, out, policy="tfsc-2011", sample=90):
    phases = []
    report = run_pipeline_sample(
        nation, database_url=url, policy=policy, sample=sample, seed=3, out_dir=out,
        progress=lambda phase, info: phases.append(phase),
    )  # fmt: skip
    return report, phases


def test_a_sample_runs_end_to_end(nation, tmp_path):
    report, phases = _run(nation, f"sqlite:///{tmp_path}/p.db", tmp_path)
    assert phases == ["world", "seed", "pipeline", "lifecycle", "audit", "export"]
    assert report.sample_rows >= 90
    assert report.submit["accepted"] == report.sample_rows and report.submit["rejected"] == 0
    assert report.failed == 0
    assert report.audit_ok and report.audit_entries > report.sample_rows
    table = pq.read_table(tmp_path / OUTCOMES_FILE)
    assert table.schema == BOOKING_OUTCOME_SCHEMA
    assert table.num_rows == report.outcome_rows == report.sample_rows
    # the pipeline agrees with the nation and the bulk engine, TCN by TCN
    assert report.ident_compared == report.sample_rows and report.ident_disagreeing == 0
    assert report.decisions_compared > 30
    assert report.decisions_disagreeing == 0, report.disagreements
    assert report.lifecycle["errors"] == [] and report.lifecycle["detainers"] > 0
    assert sum(report.lifecycle["outcomes"].values()) == report.lifecycle["detainers"]
    assert report.bookings_per_second > 0 and report.ticks >= 1
    assert report.to_dict()["bookings_per_second"] > 0


def test_unrepresentable_rows_are_the_disagreements(tmp_path):
    """Rows the pipeline cannot represent (charges disposed at booking, victim flags) are
    reported, and every decision disagreement is one of them."""
    nation = make_nation(60, seed=42, days=20, unrepresentable=True)
    report, _ = _run(nation, f"sqlite:///{tmp_path}/u.db", tmp_path, sample=nation.num_rows)
    assert report.unrepresentable
    assert report.decisions_disagreeing > 0
    assert report.disagreeing_unrepresentable == report.decisions_disagreeing
    assert all(d["unrepresentable"] for d in report.disagreements)


def test_a_used_database_is_refused(nation, tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    _run(nation, url, tmp_path / "a", sample=20)
    with pytest.raises(WorldExistsError):
        _run(nation, url, tmp_path / "b", sample=20)


def test_on_postgresql(nation, tmp_path):
    url = pg_url()
    try:
        report, _ = _run(nation, url, tmp_path, policy="pep-2014", sample=40)
    finally:
        drop_pg(url)
    assert report.audit_ok and report.decisions_disagreeing == 0
    assert report.ident_disagreeing == 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"sample": 0}, "sample"), ({"policy": "no-such-pack"}, "policy"),
     ({"tick": dt.timedelta(0)}, "tick"), ({"max_ticks": 0}, "max_ticks")],
)  # fmt: skip
def test_bad_arguments_are_refused(nation, tmp_path, kw, message):
    args = {"database_url": f"sqlite:///{tmp_path}/x.db", "policy": "tfsc-2011", "sample": 10,
            "seed": 1, "out_dir": tmp_path, **kw}  # fmt: skip
    with pytest.raises(ValueError, match=message):
        run_pipeline_sample(nation, **args)


@settings(max_examples=25, deadline=None)
@given(sample=st.integers(1, 400), seed=st.integers(0, 2**31))
def test_sample_is_whole_persons_in_contiguous_months(nation, sample, seed):
    picked = sample_nation(nation, sample, seed=seed)
    assert picked.equals(sample_nation(nation, sample, seed=seed))  # deterministic
    got = sorted(set(picked.column("month").to_pylist()))
    in_range = nation.filter(
        pc.and_(pc.greater_equal(nation.column("month"), pa.scalar(got[0])),
                pc.less_equal(nation.column("month"), pa.scalar(got[-1])))
    )  # fmt: skip
    persons = set(picked.column("person_id").to_pylist())
    whole = in_range.filter(pc.is_in(in_range.column("person_id"), pa.array(sorted(persons))))
    assert whole.num_rows == picked.num_rows  # every booking of a chosen person in the range
    if in_range.num_rows >= sample:
        assert picked.num_rows >= sample
        assert (
            picked.num_rows
            - max(pc.value_counts(picked.column("person_id")).field("counts").to_pylist())
            < sample
        )  # stops at the first person that reaches the size
    booked = picked.column("booked_at").to_pylist()
    assert booked == sorted(booked)


def test_sample_refuses_bad_input(nation):
    with pytest.raises(ValueError, match="sample"):
        sample_nation(nation, 0, seed=1)
    with pytest.raises(ValueError, match="month"):
        sample_nation(nation.drop_columns(["month"]), 5, seed=1)
    with pytest.raises(ValueError, match="no rows"):
        sample_nation(nation.slice(0, 0), 5, seed=1)


def test_the_generated_nation_runs_through(tmp_path):
    """The calibrated nation generator's table (securecomm.synth.nation) goes through as is:
    IDENT matches exactly as the nation says, and every decision that differs from the bulk
    decision is on a row with facts the pipeline cannot carry (named per reason)."""
    nation_mod = pytest.importorskip("securecomm.synth.nation")
    spec = nation_mod.NationSpec(seed=2, sample_fraction=0.002, start=dt.date(2011, 10, 1),
                                 end=dt.date(2011, 11, 30), scale="custom")  # fmt: skip
    nation = nation_mod.generate_nation(spec)
    report, _ = _run(nation, f"sqlite:///{tmp_path}/g.db", tmp_path, sample=300)
    assert report.sample_rows >= 300 and report.failed == 0 and report.audit_ok
    assert report.ident_disagreeing == 0, report.ident_disagreements
    assert report.decisions_compared > 0
    assert report.disagreeing_unrepresentable == report.decisions_disagreeing
