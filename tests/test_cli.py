"""The CLI contract: decide, explain, policies, detainer hold-until, cases, offenses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from securecomm.cli import app
from securecomm.law.schema import Decision

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "case-young-traffic-violator.json"
CASELOAD = ROOT / "examples" / "caseload-1000.jsonl"
VARIANT = ROOT / "examples" / "variant-recent-entry-5y.yaml"

runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def decisions(stdout: str) -> list[Decision]:
    return [Decision.model_validate_json(line) for line in stdout.splitlines() if line.strip()]


def test_decide_single_case_writes_one_decision_v1():
    result = run("decide", str(EXAMPLE), "--policy", "tfsc-2011")
    assert result.exit_code == 0, result.output
    [d] = decisions(result.stdout)
    assert d.case_id == "ex-001"
    assert d.policy == "tfsc-2011"
    assert d.action.value == "no_detainer"
    assert any(r.rule == "actions.tfsc.minor-traffic-only" for r in d.reasons)


def test_decide_jsonl_keeps_input_order_and_count():
    result = run("decide", str(CASELOAD), "--policy", "pep-2014")
    assert result.exit_code == 0, result.stderr
    ids = [d.case_id for d in decisions(result.stdout)]
    expected = [json.loads(line)["case_id"] for line in CASELOAD.read_text().splitlines()]
    assert ids == expected


def test_decide_reports_invalid_cases_and_still_decides_valid(tmp_path):
    good = json.loads(EXAMPLE.read_text())
    bad_field = {
        **good,
        "case_id": "bad-1",
        "person": {**good["person"], "birth_date": "1990-13-40"},
    }
    unknown = {**good, "case_id": "bad-2", "shoe_size": 44}
    lines = [json.dumps(good), "{not json", json.dumps(bad_field), json.dumps(unknown),
             json.dumps({**good, "case_id": "ok-2"})]  # fmt: skip
    rejected = tmp_path / "rejected.jsonl"
    result = run("decide", "-", "--policy", "morton-2011", "--rejected", str(rejected),
                 input="\n".join(lines) + "\n")  # fmt: skip
    assert result.exit_code == 1
    assert [d.case_id for d in decisions(result.stdout)] == ["ex-001", "ok-2"]
    assert "person.birth_date" in result.stderr and "bad-1" in result.stderr
    assert "shoe_size" in result.stderr and "bad-2" in result.stderr
    assert "line 2" in result.stderr and "invalid JSON" in result.stderr
    kept = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert [k["line"] for k in kept] == [2, 3, 4]
    assert kept[1]["errors"][0]["field"] == "person.birth_date"
    assert kept[2]["input"] == lines[3]  # the rejected input is kept verbatim


def test_decide_names_date_after_decision_field():
    case = json.loads(EXAMPLE.read_text())
    case["person"]["entered_us_on"] = "2030-01-01"
    result = run("decide", "-", input=json.dumps(case))
    assert result.exit_code == 1
    assert "person.entered_us_on" in result.stderr


def test_decide_table_format():
    result = run("decide", str(EXAMPLE), "--format", "table", "--policy", "morton-2011")
    assert result.exit_code == 0
    assert "ex-001" in result.stdout and "detainer" in result.stdout


def test_decide_unknown_policy_is_a_clear_error():
    result = run("decide", str(EXAMPLE), "--policy", "obama-2009")
    assert result.exit_code == 2
    assert "obama-2009" in result.stderr and "tfsc-2011" in result.stderr


def test_decide_with_variant_file():
    result = run("decide", str(CASELOAD), "--policy", str(VARIANT))
    assert result.exit_code == 0, result.stderr
    ds = decisions(result.stdout)
    assert ds[0].policy == "tfsc-2011-recent-entry-5y"
    assert ds[0].policy_version.startswith("2.0.0+")
    assert not any(d.action.value == "conditional_detainer" for d in ds)


def test_bad_variant_file_names_the_key(tmp_path):
    variant = tmp_path / "v.yaml"
    variant.write_text(
        "name: v\nbase: tfsc-2011\nparameters:\n  priorities.recent_entry_years: five\n"
    )
    result = run("decide", str(EXAMPLE), "--policy", str(variant))
    assert result.exit_code == 2
    assert "priorities.recent_entry_years" in result.stderr


def test_explain_prints_citations_and_decisive_rule():
    result = run("explain", str(EXAMPLE), "--policy", "tfsc-2011")
    assert result.exit_code == 0, result.output
    assert "No detainer" in result.stdout
    assert "III rec. 1" in result.stdout
    assert "actions.tfsc.minor-traffic-only" in result.stdout
    assert "Present in the United States since childhood" in result.stdout


def test_explain_needs_case_id_for_many():
    result = run("explain", str(CASELOAD))
    assert result.exit_code == 2 and "--case-id" in result.stderr
    result = run("explain", str(CASELOAD), "--case-id", "case-0000007", "--policy", "pep-2014")
    assert result.exit_code == 0 and "case-0000007" in result.stdout


def test_policies_lists_packs_and_json_has_parameters_with_citations():
    result = run("policies")
    assert result.exit_code == 0
    for name in ("morton-2011", "tfsc-2011", "tfsc-2011-strict", "pep-2014"):
        assert name in result.stdout
    packs = json.loads(run("policies", "--format", "json").stdout)
    assert {p["name"] for p in packs} == {
        "morton-2011",
        "tfsc-2011",
        "tfsc-2011-strict",
        "pep-2014",
    }
    for p in packs:
        assert p["parameters"]["detainer.hold_hours"]["value"] == 48
        assert all(v["citation"] and v["rationale"] for v in p["parameters"].values())
        ranks = [r["rank"] for r in p["action_rules"]]
        assert ranks == sorted(ranks, reverse=True)


def test_detainer_hold_until_one_line_per_timestamp():
    result = run("detainer", "hold-until", "2026-11-20T17:00", "2026-11-25T17:00:00-06:00",
                 "--timezone", "America/Chicago")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2026-11-24T17:00:00-06:00",  # Friday 17:00 -> Tuesday 17:00
        "2026-11-30T17:00:00-06:00",  # Wednesday before Thanksgiving -> Monday 17:00
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["not-a-time", "--timezone", "America/Chicago"],
        ["2026-11-20T17:00", "--timezone", "Mars/Olympus"],
    ],
)
def test_detainer_hold_until_bad_input(args):
    result = run("detainer", "hold-until", *args)
    assert result.exit_code == 1
    assert "error" in result.stderr


def test_cases_generate_is_reproducible():
    a = run("cases", "generate", "--n", "20", "--seed", "7").stdout
    b = run("cases", "generate", "--n", "20", "--seed", "7").stdout
    c = run("cases", "generate", "--n", "20", "--seed", "8").stdout
    assert a == b and a != c
    assert len(a.splitlines()) == 20


def test_offenses_classify_says_why():
    result = run("offenses", "classify", "5499", "--literal", "RECKLESS DRIVING", "--injury")
    assert result.exit_code == 0
    assert "serious_traffic" in result.stdout and "minor_traffic" not in result.stdout
    result = run("offenses", "classify", "7399", "--literal", "LOITERING")
    assert "minor_misdemeanor" in result.stdout and "Appendix A" in result.stdout
    assert run("offenses", "classify", "12345").exit_code == 2


def test_cases_to_parquet_and_evaluate_compare_policies(tmp_path):
    import pyarrow.parquet as pq

    lines = CASELOAD.read_text().splitlines()[:200]
    src = tmp_path / "cases.jsonl"
    src.write_text("\n".join([*lines, "{broken"]) + "\n")
    parquet = tmp_path / "caseload.parquet"
    result = run("cases", "to-parquet", str(src), str(parquet))
    assert result.exit_code == 1  # one line rejected, kept with its reason
    assert "200 case(s) written" in result.stdout
    rejected = [
        json.loads(x)
        for x in (tmp_path / "caseload.parquet.rejected.jsonl").read_text().splitlines()
    ]
    assert len(rejected) == 1 and rejected[0]["line"] == 201

    out_dir = tmp_path / "whatif"
    result = run(
        "evaluate", str(parquet), "-p", "morton-2011", "-p", "tfsc-2011", "--out", str(out_dir)
    )
    assert result.exit_code == 0, result.output
    assert "200 cases" in result.stdout
    bulk_rows = pq.read_table(out_dir / "decisions-tfsc-2011.parquet").to_pylist()
    assert len(bulk_rows) == 200
    # the bulk decisions equal `decide` on the same cases
    single = {
        d.case_id: d.action.value
        for d in decisions(run("decide", str(src), "-p", "tfsc-2011").stdout)
    }
    assert {d["case_id"]: d["action"] for d in bulk_rows} == single
    assert (out_dir / "actions_by_policy.csv").read_text().count("\n") >= 2
