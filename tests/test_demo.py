"""`securecomm demo` end to end on a small run: the files, the figures' consistency, the
Task Force safeguard visible in the comparison, the pipeline's agreement with bulk."""

from __future__ import annotations

import json
import re

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.demo import DEMO_PACKS, DemoConfig, _last_quarter, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    stages = []
    result = run_demo(
        DemoConfig(out_dir=out, seed=7, pipeline_sample=150),
        lambda stage, done, total: stages.append(stage),
    )
    return out, result, stages


def test_demo_writes_the_report_statistics_and_comparison(demo):
    out, result, stages = demo
    for name in ("index.html", "summary.json", "nation.parquet", "monthly-statistics.csv",
                 "monthly-statistics.parquet", "comparison/comparison.html",
                 "comparison/comparison.csv", "pipeline/pipeline-booking-outcomes.parquet",
                 "pipeline/pipeline-monthly-statistics.csv"):  # fmt: skip
        assert (out / name).is_file(), name
    assert set(stages) == {"nation", "bulk", "statistics", "comparison", "pipeline", "report"}
    html = (out / "index.html").read_text()
    assert html.count("vegaEmbed(") == 2
    assert not re.search(r"<script[^>]*\bsrc=", html)  # works offline
    for link in re.findall(r'<li><a href="([^"]+)"', html):
        assert (out / link).is_file(), link
    summary = json.loads((out / "summary.json").read_text())
    assert summary["nation"]["bookings"] == result.nation["bookings"]


def test_statistics_count_every_booking_of_the_nation(demo):
    out, _, _ = demo
    nation = pq.read_table(out / "nation.parquet")
    long = pq.read_table(out / "monthly-statistics.parquet")
    submissions = long.filter(pc.equal(long["measure"], "submissions"))
    assert pc.sum(submissions["count"]).as_py() == nation.num_rows
    matches = long.filter(pc.equal(long["measure"], "ident_matches"))
    assert pc.sum(matches["count"]).as_py() == pc.sum(nation["ident_match"]).as_py()


def test_comparison_shows_the_task_force_safeguard(demo):
    _, result, _ = demo
    rows = {r["policy"]: r for r in result.comparison}
    assert list(rows) == list(DEMO_PACKS)
    assert {r["bookings"] for r in rows.values()} == {result.nation["bookings"]}
    # III rec. 1: no detainer on a minor-traffic-only arrest in no higher category
    assert rows["tfsc-2011"]["share_detainers_minor_traffic_no_priority"] == 0
    assert rows["morton-2011"]["share_detainers_minor_traffic_no_priority"] > 0
    assert rows["morton-2011"]["detainers"] > rows["tfsc-2011"]["detainers"]
    assert rows["tfsc-2011"]["detainers_conditional"] > 0
    assert rows["morton-2011"]["detainers_conditional"] == 0
    assert rows["pep-2014"]["notification_requests"] > 0
    for r in rows.values():
        assert r["share_detainers_protected"] is not None


def test_the_pipeline_sample_agrees_with_bulk_where_it_can_carry_the_facts(demo):
    _, result, _ = demo
    p = result.pipeline
    assert p["bookings"] == 150 and p["failed"] == 0
    assert p["audit_ok"]
    assert p["ident_compared"] == 150 and p["ident_disagreeing"] == 0
    assert p["decisions_compared"] > 0
    # every disagreement is on a booking with a fact the pipeline cannot carry (a charge already
    # disposed at booking, a gang flag without a gang conviction, a watch-list flag)
    assert p["decisions_disagreeing"] == p["disagreeing_unrepresentable"]


def test_same_seed_same_nation(demo, tmp_path):
    out, _, _ = demo
    again = run_demo(DemoConfig(out_dir=tmp_path, seed=7, pipeline_sample=0))
    assert pq.read_table(tmp_path / "nation.parquet").equals(pq.read_table(out / "nation.parquet"))
    assert again.pipeline == {}


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--scale", "galactic"], "scale"), (["--policy", "my-pack"], "policy"),
     (["--pipeline-sample", "-1"], "pipeline_sample")],
)  # fmt: skip
def test_demo_rejects_bad_options_naming_them(args, field, tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert field in result.output


@pytest.mark.parametrize(
    ("month", "quarter"),
    [("2012-09-01", "2012-Q3"), ("2012-08-01", "2012-Q2"), ("2013-01-01", "2012-Q4"),
     ("2012-03-01", "2012-Q1")],
)  # fmt: skip
def test_last_complete_quarter(month, quarter):
    import datetime as dt

    assert _last_quarter(dt.date.fromisoformat(month)) == quarter


def test_demo_holds_the_oversight_report(demo):
    """The oversight report of the pipeline run's last month is written and linked (issue 11)."""
    out, result, _stages = demo
    page = result.paths["oversight_html"]
    assert page.endswith(".html") and (out / "oversight").is_dir()
    html = (out / "index.html").read_text()
    assert "oversight/oversight-" in html
    report = (out / "oversight" / page.rsplit("/", 1)[-1]).read_text()
    assert "Oversight report" in report and "8 CFR 287.7(d)" in report


def test_pipeline_statistics_carry_the_audit_head_that_verifies(demo):
    """The store-derived statistics are published with the audit log's tree head (issue 9),
    named in the report, and `audit verify --since` accepts it (store engineer)."""
    out, result, _ = demo
    head_path = out / "pipeline" / "audit-head.json"
    head = json.loads(head_path.read_text(encoding="utf-8"))
    assert head["tree_size"] == result.pipeline["audit_head"]["tree_size"] > 0
    assert head["tree_size"] == result.pipeline["audit_entries"]
    assert 'href="pipeline/audit-head.json"' in (out / "index.html").read_text()
    url = f"sqlite:///{out / 'pipeline' / 'securecomm.db'}"
    verified = CliRunner().invoke(
        app, ["audit", "verify", "--url", url, "--since", str(head_path), "--format", "json"]
    )
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["since"][0]["ok"] is True
