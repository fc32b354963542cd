"""Monthly statistics (stats/monthly.py) on a hand-built world with counts known by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stats_world import EXPECTED, FEB, J1, JAN, row, table, world_rows

from securecomm.law.packs import PACKS
from securecomm.stats.monthly import CELLS, LONG_COLUMNS, MEASURES, monthly_statistics
from securecomm.stats.schema import (
    ACTIONS,
    CHARGE_CATEGORIES,
    CONVICTION_STATUSES,
    DECLINE_REASONS,
    PRIORITY_BASES,
    PROGRAMS,
    STATUS_CATEGORIES,
)
from securecomm.stats.source import StatsInputError


@pytest.fixture(scope="module")
def world() -> pa.Table:
    return table(world_rows())


def stats(source, duck, **kwargs) -> pa.Table:
    return monthly_statistics(source, backend=duck, **kwargs).to_pyarrow()


def by_cell(result: pa.Table) -> dict[tuple, dict[tuple[str, str], int | None]]:
    out: dict[tuple, dict[tuple[str, str], int | None]] = {}
    for r in result.to_pylist():
        key = (r["month"], r["state"], r["ori"], r["county_fips"])
        out.setdefault(key, {})[(r["measure"], r["category"])] = r["count"]
    return out


def test_every_measure_and_category_exactly(world, duck) -> None:
    result = stats(world, duck, policy="tfsc-2011")
    assert tuple(result.column_names) == LONG_COLUMNS
    got = by_cell(result)
    assert set(got) == set(EXPECTED)  # no jurisdiction-month invented (J2 has no February)
    cells = [(c.measure, c.category) for c in CELLS]
    for key, expected in EXPECTED.items():
        assert list(got[key]) == cells  # rectangular, in the documented order
        for cell in cells:
            assert got[key][cell] == expected.get(cell, 0), (key, cell)


def test_cells_cover_the_schema_categories() -> None:
    cats = {m: [c.category for c in CELLS if c.measure == m] for m in MEASURES}
    assert cats["hits_by_status"] == list(STATUS_CATEGORIES)
    assert cats["declines"] == list(DECLINE_REASONS)
    assert cats["detainers_by_charge"] == list(CHARGE_CATEGORIES)
    assert cats["detainers_by_conviction"] == list(CONVICTION_STATUSES)
    assert cats["detainers_by_priority_basis"] == list(PRIORITY_BASES)
    assert cats["detainers"] == ["unconditional", "conditional"]
    assert cats["ice_custody"] == cats["removals"] == [
        "level_1", "level_2", "level_3", "non_criminal"]  # fmt: skip


def test_priority_bases_cover_every_pack() -> None:
    labels = {r.label for p in PACKS.values() for r in p.rules if r.kind == "priority"}
    labels |= {"level-1", "level-2", "level-3"}  # engine.assemble_decision adds them to 1(b)
    assert set(PRIORITY_BASES) == labels | {"other"}


def test_rows_sorted_by_jurisdiction_month(world, duck) -> None:
    result = stats(world, duck, policy="tfsc-2011").to_pylist()
    keys = [(r["month"], r["state"], r["ori"], r["county_fips"] or "") for r in result]
    assert keys == sorted(keys)


def test_month_filter(world, duck) -> None:
    got = by_cell(stats(world, duck, policy="tfsc-2011", month="2012-02"))
    assert set(got) == {k for k in EXPECTED if k[0] == FEB}
    got = by_cell(stats(world, duck, policy="tfsc-2011", month=JAN))
    assert set(got) == {k for k in EXPECTED if k[0] == JAN}
    assert stats(world, duck, policy="tfsc-2011", month="2013-05").num_rows == 0


def test_state_filter(world, duck) -> None:
    got = by_cell(stats(world, duck, policy="tfsc-2011", state="tx"))
    assert set(got) == {k for k in EXPECTED if k[1] == "TX"}
    assert stats(world, duck, policy="tfsc-2011", state="WY").num_rows == 0  # valid, absent
    both = by_cell(stats(world, duck, policy="tfsc-2011", state="CO", month="2012-02"))
    assert set(both) == {(FEB, "CO", "CO0010000", "08001")}


def test_policy_filter_and_choice(world, duck) -> None:
    with pytest.raises(StatsInputError, match=r"several policies \(pep-2014, tfsc-2011\)"):
        stats(world, duck)
    pep = by_cell(stats(world, duck, policy="pep-2014"))
    assert list(pep) == [(JAN, "CO", "CO0010000", "08001")]
    assert pep[(JAN, "CO", "CO0010000", "08001")][("submissions", "all")] == 3
    with pytest.raises(StatsInputError, match=r"policy 'morton-2011' is not in the source"):
        stats(world, duck, policy="morton-2011")
    single = table([r for r in world_rows() if r["policy"] == "pep-2014"])
    assert by_cell(stats(single, duck)) == pep  # one policy: no --policy needed


@pytest.mark.parametrize("k", [1, 2, 3, 11])
def test_suppression(world, duck, k) -> None:
    result = stats(world, duck, policy="tfsc-2011", suppress_below=k)
    assert result.column_names[-1] == "suppressed"
    for r in result.to_pylist():
        true = EXPECTED[(r["month"], r["state"], r["ori"], r["county_fips"])].get(
            (r["measure"], r["category"]), 0
        )
        small = 0 < true < k
        assert r["suppressed"] is small
        assert r["count"] == (None if small else true)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_suppression_rejects_bad_thresholds(world, duck, bad) -> None:
    with pytest.raises(StatsInputError, match="suppress_below"):
        stats(world, duck, policy="tfsc-2011", suppress_below=bad)


@pytest.mark.parametrize(
    "month", ["2012-13", "2012-00", "2012-1", "12-2012", "2012/01", "", "2012-01-01", "1899-12"]
)
def test_bad_month(world, duck, month) -> None:
    with pytest.raises(StatsInputError, match="month: expected YYYY-MM"):
        stats(world, duck, policy="tfsc-2011", month=month)


@pytest.mark.parametrize("state", ["ZZ", "C", "COL", "", "0O"])
def test_bad_state(world, duck, state) -> None:
    with pytest.raises(StatsInputError, match="state: expected a two-letter USPS code"):
        stats(world, duck, policy="tfsc-2011", state=state)


def test_missing_and_mistyped_columns(world, duck) -> None:
    with pytest.raises(StatsInputError, match=r"missing column\(s\) action"):
        stats(world.drop_columns(["action"]), duck)
    level_as_text = world.set_column(
        world.schema.get_field_index("level"), "level", pa.array(["1"] * world.num_rows)
    )
    with pytest.raises(StatsInputError, match=r"column 'level' has type string, expected integer"):
        stats(level_as_text, duck, policy="tfsc-2011")
    month_as_text = world.set_column(
        world.schema.get_field_index("month"), "month", pa.array(["2012-01"] * world.num_rows)
    )
    with pytest.raises(StatsInputError, match=r"column 'month' has type string, expected date"):
        stats(month_as_text, duck, policy="tfsc-2011")


def test_empty_source(world, duck) -> None:
    with pytest.raises(StatsInputError, match=r"no bookings \(0 rows\)"):
        stats(world.slice(0, 0), duck)


def test_parquet_file_directory_and_glob(world, duck, tmp_path) -> None:
    rows = world_rows()
    (tmp_path / "part").mkdir()
    pq.write_table(table(rows[:12]), tmp_path / "part" / "a.parquet")
    pq.write_table(table(rows[12:]), tmp_path / "part" / "b.parquet")
    pq.write_table(world, tmp_path / "all.parquet")
    expected = by_cell(stats(world, duck, policy="tfsc-2011"))
    for src in (tmp_path / "all.parquet", tmp_path / "part", str(tmp_path / "part" / "*.parquet")):
        assert by_cell(stats(src, duck, policy="tfsc-2011")) == expected


def test_bad_paths(duck, tmp_path) -> None:
    with pytest.raises(StatsInputError, match="no such file or directory"):
        stats(tmp_path / "nope.parquet", duck)
    with pytest.raises(StatsInputError, match=r"holds no \.parquet files"):
        stats(tmp_path, duck)
    with pytest.raises(StatsInputError, match="matches no file"):
        stats(str(tmp_path / "*.parquet"), duck)
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(StatsInputError, match="not readable as Parquet"):
        stats(tmp_path / "x.parquet", duck)


# --------------------------------------------------------------------------- properties

JURS = [J1, ("CO0020000", "CO", None), ("TXHPD0000", "TX", "48201"), ("NY0300000", "NY", None)]
MONTHS = [dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2013, 12, 1)]


@st.composite
def outcome_rows(draw) -> dict:
    ident = draw(st.booleans())
    return row(
        draw(st.sampled_from(JURS)),
        draw(st.sampled_from(MONTHS)),
        ident=ident,
        # deliberately also off-contract combinations (a status without a match …): the
        # statistics must count by their definitions, not by the producer's invariants
        status=draw(st.none() | st.sampled_from(STATUS_CATEGORIES)),
        action=draw(st.none() | st.sampled_from(ACTIONS)),
        reason=draw(st.none() | st.sampled_from(DECLINE_REASONS)),
        level=draw(st.none() | st.integers(1, 3)),
        bases=draw(
            st.none() | st.lists(st.sampled_from([*PRIORITY_BASES[:-1], "x", "9"]), max_size=4)
        ),
        charge=draw(st.sampled_from(CHARGE_CATEGORIES)),
        conviction=draw(st.sampled_from(CONVICTION_STATUSES)),
        custody=draw(st.booleans()),
        removed=draw(st.booleans()),
        held=draw(st.booleans()),
    ) | {"program": draw(st.sampled_from(PROGRAMS))}


def recount(rows: list[dict]) -> Counter:
    """The monthly statistics counted the plain way, row by row, from their definitions."""
    known = set(PRIORITY_BASES) - {"other"}
    c: Counter = Counter()
    for r in rows:
        key = (r["month"], r["state"], r["ori"], r["county_fips"])
        det = r["action"] in ("detainer", "conditional_detainer")
        level = "non_criminal" if r["level"] is None else f"level_{r['level']}"
        cells = [("submissions", "all")]
        if r["ident_match"]:
            cells.append(("ident_matches", "all"))
            if r["status_category"] is not None:
                cells.append(("hits_by_status", r["status_category"]))
        kind = {"detainer": "unconditional", "conditional_detainer": "conditional"}
        if r["action"] in kind:
            cells.append(("detainers", kind[r["action"]]))
        if r["action"] == "notification_request":
            cells.append(("notification_requests", "all"))
        if r["decline_reason"] is not None:
            cells.append(("declines", r["decline_reason"]))
        if r["ice_custody"]:
            cells.append(("ice_custody", level))
        if r["removed"]:
            cells.append(("removals", level))
        if det:
            cells.append(("detainers_by_charge", r["charge_category"]))
            cells.append(("detainers_by_conviction", r["conviction_status"]))
            bases = set(r["priority_bases"] or ())
            cells += [("detainers_by_priority_basis", b) for b in bases & known]
            if bases - known:
                cells.append(("detainers_by_priority_basis", "other"))
        if r["held_past_expiry"]:
            cells.append(("holds_past_expiry", "all"))
        cells.append(("submissions_by_program", r["program"]))
        if det:
            cells.append(("detainers_by_program", r["program"]))
        for cell in cells:
            c[(key, cell)] += 1
    return c


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(outcome_rows(), min_size=1, max_size=40))
def test_ibis_equals_a_plain_recount(duck, rows) -> None:
    result = stats(table(rows), duck)
    expected = recount(rows)
    keys = {(r["month"], r["state"], r["ori"], r["county_fips"]) for r in rows}
    assert result.num_rows == len(keys) * len(CELLS)
    submissions = 0
    for r in result.to_pylist():
        key = (r["month"], r["state"], r["ori"], r["county_fips"])
        assert r["count"] == expected[(key, (r["measure"], r["category"]))], r
        if r["measure"] == "submissions":
            submissions += r["count"]
    assert submissions == len(rows)
