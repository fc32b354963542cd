"""Quarterly state report, policy comparison and the `securecomm stats` CLI."""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from stats_world import J1, J3, JAN, row, table, world_rows
from typer.testing import CliRunner

from securecomm.stats.commands import stats_app
from securecomm.stats.comparison import compare_policies
from securecomm.stats.monthly import CELLS
from securecomm.stats.quarterly import QUARTERLY_CELLS, quarterly_report
from securecomm.stats.source import StatsInputError

app = typer.Typer()
app.add_typer(stats_app, name="stats")
runner = CliRunner()


@pytest.fixture(scope="module")
def world_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("world") / "outcomes.parquet"
    pq.write_table(table(world_rows()), path)
    return str(path)


# --------------------------------------------------------------------------- quarterly

QUARTER_EXPECTED = {
    "CO": {
        ("submissions", "all", "all"): 21,
        ("ident_matches", "all", "all"): 12,
        ("detainers", "level", "level_1"): 1,
        ("detainers", "level", "level_2"): 1,
        ("detainers", "level", "non_criminal"): 3,
        ("detainers", "conviction", "convicted"): 2,
        ("detainers", "conviction", "charged_only"): 2,
        ("detainers", "conviction", "no_criminal_history"): 1,
        ("ice_custody", "level", "level_1"): 1,
        ("ice_custody", "level", "level_2"): 1,
        ("ice_custody", "level", "non_criminal"): 1,
        ("ice_custody", "conviction", "convicted"): 2,
        ("ice_custody", "conviction", "no_criminal_history"): 1,
        ("removals", "level", "level_1"): 1,
        ("removals", "level", "level_2"): 1,
        ("removals", "conviction", "convicted"): 2,
    },
    "TX": {
        ("submissions", "all", "all"): 8,
        ("ident_matches", "all", "all"): 3,
        ("detainers", "level", "non_criminal"): 2,
        ("detainers", "conviction", "no_criminal_history"): 1,
        ("detainers", "conviction", "charged_only"): 1,
        ("ice_custody", "level", "non_criminal"): 2,
        ("ice_custody", "conviction", "no_criminal_history"): 1,
        ("ice_custody", "conviction", "charged_only"): 1,
        ("removals", "level", "non_criminal"): 1,
        ("removals", "conviction", "no_criminal_history"): 1,
    },
}


def test_quarterly_exact(world_file, duck) -> None:
    got = quarterly_report(world_file, quarter="2012-q1", policy="tfsc-2011", backend=duck)
    rows = got.to_pyarrow().to_pylist()
    assert {r["quarter"] for r in rows} == {"2012-Q1"}
    assert [r["state"] for r in rows] == ["CO"] * len(QUARTERLY_CELLS) + ["TX"] * len(
        QUARTERLY_CELLS
    )
    for r in rows:
        key = (r["measure"], r["dimension"], r["category"])
        assert r["count"] == QUARTER_EXPECTED[r["state"]].get(key, 0), (r["state"], key)


def test_quarterly_filters_and_errors(world_file, duck) -> None:
    tx = quarterly_report(world_file, quarter="2012-Q1", state="TX", policy="tfsc-2011",
                          backend=duck).to_pyarrow()  # fmt: skip
    assert set(tx["state"].to_pylist()) == {"TX"}
    q2 = quarterly_report(world_file, quarter="2012-Q2", policy="tfsc-2011", backend=duck)
    assert q2.to_pyarrow().num_rows == 0
    for bad in ("2012-Q5", "2012Q1", "Q1-2012", "2012-Q0"):
        with pytest.raises(StatsInputError, match="quarter: expected YYYY-Qn"):
            quarterly_report(world_file, quarter=bad, policy="tfsc-2011", backend=duck)


# --------------------------------------------------------------------------- comparison


def _policy_rows(policy: str, actions: list[tuple]) -> list[dict]:
    return [
        row(J1, JAN, policy=policy, tcn=tcn, ident=ident, status="entered_without_inspection",
            action=action, reason=reason, charge=charge, conviction=conviction,
            custody=custody, removed=custody)
        for tcn, ident, action, reason, charge, conviction, custody in actions
    ]  # fmt: skip


TFSC = [
    ("t1", True, "detainer", None, "felony", "convicted", False),
    ("t2", True, "no_detainer", "minor_traffic", "minor_traffic", "no_criminal_history", False),
    ("t3", True, "conditional_detainer", None, "other_minor_misdemeanor", "charged_only", False),
    ("t4", False, None, None, "felony", "convicted", False),
    ("t5", True, "no_detainer", "protected_person", "felony", "convicted", False),
    ("t6", True, "detainer", None, "minor_traffic", "no_criminal_history", True),
]
MORTON = [
    ("t1", True, "detainer", None, "felony", "convicted", False),
    ("t2", True, "detainer", None, "minor_traffic", "no_criminal_history", False),
    ("t3", True, "detainer", None, "other_minor_misdemeanor", "charged_only", False),
    ("t4", False, None, None, "felony", "convicted", False),
    ("t5", True, "no_detainer", "protected_person", "felony", "convicted", False),
    ("t6", True, "detainer", None, "minor_traffic", "no_criminal_history", True),
]


def _write(path, rows) -> str:
    pq.write_table(table(rows), path)
    return str(path)


def test_compare_policies(tmp_path, duck) -> None:
    # without the (additive) protected column, that share is null and the notes say why
    a = tmp_path / "a.parquet"
    pq.write_table(table(_policy_rows("tfsc-2011", TFSC)).drop_columns(["protected"]), a)
    b = tmp_path / "b.parquet"
    pq.write_table(table(_policy_rows("morton-2011", MORTON)).drop_columns(["protected"]), b)
    result = compare_policies({"tfsc-2011": a, "morton-2011": b}, tmp_path / "out", backend=duck)
    tfsc, morton = result.row("tfsc-2011"), result.row("morton-2011")
    assert (tfsc["bookings"], tfsc["ident_matches"]) == (6, 5)
    assert (tfsc["detainers"], tfsc["detainers_unconditional"]) == (3, 2)
    assert tfsc["detainers_conditional"] == 1
    assert tfsc["share_detainers_no_conviction"] == pytest.approx(2 / 3)
    assert tfsc["share_detainers_minor_traffic"] == pytest.approx(1 / 3)
    assert tfsc["share_detainers_minor_traffic_no_priority"] == pytest.approx(1 / 3)
    assert tfsc["share_detainers_protected"] is None
    assert tfsc["declines_protected"] == 1
    assert (tfsc["ice_custody"], tfsc["ice_custody_non_criminal"], tfsc["removals"]) == (1, 1, 1)
    assert (morton["detainers"], morton["detainers_conditional"]) == (4, 0)
    assert morton["share_detainers_no_conviction"] == pytest.approx(3 / 4)
    assert morton["share_detainers_minor_traffic"] == pytest.approx(2 / 4)
    assert any("protected" in n for n in result.notes)
    # the written files hold the same table
    assert pq.read_table(result.parquet).equals(result.table)
    with open(result.csv, newline="") as f:
        assert [r["policy"] for r in csv.DictReader(f)] == ["tfsc-2011", "morton-2011"]
    html = result.html.read_text()
    assert "vega-lite" in html and "morton-2011" in html
    assert not re.search(r"<script[^>]*\bsrc=", html)


def test_compare_uses_a_protected_column_when_present(tmp_path, duck) -> None:
    t = table(_policy_rows("tfsc-2011", TFSC)).drop_columns(["protected"])
    t = t.append_column("protected", pa.array([False, False, False, False, True, True]))
    result = compare_policies({"tfsc-2011": t}, tmp_path, backend=duck)
    assert result.row("tfsc-2011")["share_detainers_protected"] == pytest.approx(1 / 3)
    assert result.notes == []


def test_compare_rejects_different_caseloads(tmp_path, duck) -> None:
    a = _write(tmp_path / "a.parquet", _policy_rows("tfsc-2011", TFSC))
    other = [("x" + t[0], *t[1:]) if t[0] == "t6" else t for t in MORTON]
    b = _write(tmp_path / "b.parquet", _policy_rows("morton-2011", other))
    with pytest.raises(StatsInputError, match="not the same caseload"):
        compare_policies({"tfsc-2011": a, "morton-2011": b}, tmp_path / "o", backend=duck)
    dup = _write(tmp_path / "d.parquet", _policy_rows("morton-2011", [*MORTON, MORTON[0]]))
    with pytest.raises(StatsInputError, match="duplicate TCN"):
        compare_policies({"tfsc-2011": a, "morton-2011": dup}, tmp_path / "o", backend=duck)
    with pytest.raises(StatsInputError, match="no sources"):
        compare_policies({}, tmp_path / "o", backend=duck)


# --------------------------------------------------------------------------- CLI


def test_cli_monthly_csv_to_stdout(world_file) -> None:
    res = runner.invoke(app, ["stats", "monthly", world_file, "--policy", "tfsc-2011",
                              "--month", "2012-02", "--state", "TX"])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == len(CELLS)
    assert {r["ori"] for r in rows} == {J3[0]}
    sub = [r for r in rows if r["measure"] == "submissions"]
    assert sub[0]["count"] == "8" and sub[0]["month"] == "2012-02-01"


def test_cli_monthly_parquet_and_suppression(world_file, tmp_path) -> None:
    out = tmp_path / "m.parquet"
    res = runner.invoke(app, ["stats", "monthly", world_file, "-p", "tfsc-2011", "--format",
                              "parquet", "--out", str(out), "--suppress-below", "3"])  # fmt: skip
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert t.num_rows == 4 * len(CELLS)
    flagged = [r for r in t.to_pylist() if r["suppressed"]]
    assert flagged and all(r["count"] is None for r in flagged)


def test_cli_monthly_html_is_offline_and_escaped(tmp_path) -> None:
    rows = world_rows()
    rows[0]["ori"] = "<script>alert(1)</script>"
    src = _write(tmp_path / "w.parquet", [r for r in rows if r["policy"] == "tfsc-2011"])
    out = tmp_path / "m.html"
    res = runner.invoke(app, ["stats", "monthly", src, "--format", "html", "--out", str(out),
                              "--suppress-below", "2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert '"$schema"' in html and "vegaEmbed(" in html  # the spec, inline
    assert "detainers_by_charge" in html
    assert not re.search(r"<script[^>]*\bsrc=", html)  # no external script
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_cli_quarterly_formats(world_file, tmp_path) -> None:
    res = runner.invoke(app, ["stats", "quarterly", world_file, "--quarter", "2012-Q1",
                              "-p", "tfsc-2011"])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 2 * len(QUARTERLY_CELLS)
    out = tmp_path / "q.html"
    res = runner.invoke(app, ["stats", "quarterly", world_file, "--quarter", "2012-Q1",
                              "-p", "tfsc-2011", "--format", "html", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "By criminal level" in html and '"$schema"' in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    out = tmp_path / "q.parquet"
    res = runner.invoke(app, ["stats", "quarterly", world_file, "--quarter", "2012-Q1",
                              "-p", "tfsc-2011", "-f", "parquet", "-o", str(out)])  # fmt: skip
    assert pq.read_table(out).num_rows == 2 * len(QUARTERLY_CELLS)


def test_cli_compare(tmp_path) -> None:
    a = _write(tmp_path / "a.parquet", _policy_rows("tfsc-2011", TFSC))
    b = _write(tmp_path / "b.parquet", _policy_rows("morton-2011", MORTON))
    res = runner.invoke(app, ["stats", "compare", a, b, "--out", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    assert {p.name for p in (tmp_path / "cmp").iterdir()} == {
        "comparison.csv", "comparison.parquet", "comparison.html"}  # fmt: skip
    both = _write(tmp_path / "both.parquet",
                  _policy_rows("tfsc-2011", TFSC) + _policy_rows("morton-2011", MORTON))  # fmt: skip
    res = runner.invoke(app, ["stats", "compare", both, "--out", str(tmp_path / "c2")])
    assert res.exit_code == 0, res.output
    assert pq.read_table(tmp_path / "c2" / "comparison.parquet").num_rows == 2
    res = runner.invoke(app, ["stats", "compare", a, a, "--out", str(tmp_path / "c3")])
    assert res.exit_code == 2 and "appears in two sources" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["monthly", "{src}", "-p", "tfsc-2011", "--month", "2012-13"], "month: expected YYYY-MM"),
        (["monthly", "{src}", "-p", "tfsc-2011", "--state", "XX"], "state: expected"),
        (["monthly", "{src}"], "several policies"),
        (["monthly", "{src}", "-p", "nope"], "policy 'nope' is not in the source"),
        (["monthly", "{src}", "-p", "tfsc-2011", "-f", "html"], "needs --out"),
        (["monthly", "{src}", "-p", "tfsc-2011", "--suppress-below", "0"], "suppress-below"),
        (["monthly", "/no/such.parquet"], "no such file"),
        (["quarterly", "{src}", "--quarter", "2012-5", "-p", "tfsc-2011"], "quarter: expected"),
    ],
)
def test_cli_bad_input(world_file, args, message) -> None:
    res = runner.invoke(app, ["stats", *[a.replace("{src}", world_file) for a in args]])
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_monthly_html_totals_exclude_suppressed_cells(duck) -> None:
    from securecomm.stats.monthly import monthly_statistics
    from securecomm.stats.reports import monthly_html

    world = table([r for r in world_rows() if r["policy"] == "tfsc-2011"])
    long = monthly_statistics(world, backend=duck, suppress_below=6).to_pyarrow()
    html = monthly_html(long, policy="tfsc-2011", suppress_below=6)
    # submissions 10, 5, 6, 8: the 5 is hidden, so the published total is 24 with 1 hidden
    assert re.search(r"<td class=\"text\">submissions</td><td class=\"text\">all</td>"
                     r"<td>24</td><td>1</td>", html)  # fmt: skip
    assert "includes a suppressed cell" in html and ">s</td>" in html


@given(text=st.text(max_size=12))
@settings(max_examples=200, deadline=None)
def test_parsers_accept_or_name_the_field(text) -> None:
    from securecomm.stats.source import parse_month, parse_quarter, parse_state

    for parse, field in (
        (parse_month, "month"),
        (parse_quarter, "quarter"),
        (parse_state, "state"),
    ):
        try:
            parse(text)
        except StatsInputError as exc:
            assert str(exc).startswith(f"{field}: expected")


def test_cli_monthly_html_names_counties(tmp_path) -> None:
    import addfips

    from securecomm.stats.places import county_name

    rows = [r for r in world_rows() if r["policy"] == "tfsc-2011"]
    rows[0]["county_fips"] = None  # a jurisdiction with no known county keeps its row
    src = _write(tmp_path / "w.parquet", rows)
    out = tmp_path / "m.html"
    res = runner.invoke(app, ["stats", "monthly", src, "--format", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    af = addfips.AddFIPS()
    for state, fips in ((J1[1], J1[2]), (J3[1], J3[2])):
        assert af.get_county_fips(county_name(fips), state=state) == fips
        assert f">{county_name(fips)}<" in html
    assert ">unknown county<" in html
