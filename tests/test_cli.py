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


# --------------------------------------------------------------------------- faults (issue 8 item 5,
# issue 9 item 6): one line naming the cause, exit 2 (usage/configuration) or 1 (data/runtime),
# never a traceback, never the data


def fault(*args: str, code: int, needle: str, env: dict | None = None, input=None):
    result = runner.invoke(app, list(args), env=env, input=input)
    assert result.exit_code == code, (args, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: ") and needle in lines[-1], result.stderr
    return result


@pytest.fixture
def migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run("db", "upgrade", "--url", url).exit_code == 0
    return url


def test_fault_database_unreachable():
    fault("status", "--url", "postgresql+psycopg://nobody@127.0.0.1:1/none", code=2,
          needle="database unreachable")  # fmt: skip
    fault("status", code=2, needle="unreachable",
          env={"SECURECOMM_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})  # fmt: skip


def test_fault_unsupported_url():
    fault("status", "--url", "mysql://u@h/d", code=2, needle="'mysql' databases are not supported")
    fault("detainers", "list", "--url", "not a url", code=2, needle="--url: not a database URL")


def test_fault_missing_database_is_not_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fault("status", code=2, needle="no database at sqlite:///securecomm.db")
    fault("cases", "list", code=2, needle="securecomm db upgrade")
    assert list(tmp_path.iterdir()) == []  # nothing written to the current directory


def test_fault_read_only_database(migrated, tmp_path):
    path = migrated.removeprefix("sqlite:///")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    booking = tmp_path / "b.jsonl"
    booking.write_text('{"tcn": "T-1"}\n')
    fault("submit", str(booking), "--url", read_only, code=2, needle="read-only")


def test_fault_disk_full(tmp_path, monkeypatch):
    import errno

    import pyarrow.parquet as pq

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "c.parquet"))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    fault("cases", "to-parquet", str(CASELOAD), str(tmp_path / "c.parquet"), code=1,
          needle="the disk is full")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no partial output left


def test_fault_data_dir_is_a_file(migrated, tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    fault("worker", "--until-idle", "--url", migrated, code=2, needle="is a file",
          env={"SECURECOMM_DATA_DIR": str(blocker)})  # fmt: skip


def test_fault_wrong_paths(tmp_path):
    fault("decide", str(tmp_path / "missing.jsonl"), code=2, needle="FILE: no such file")
    fault("decide", str(tmp_path), code=2, needle="is a directory")
    fault("cases", "to-parquet", str(tmp_path / "x.jsonl"), str(tmp_path / "o.parquet"),
          code=2, needle="no such file")  # fmt: skip
    fault("evaluate", str(tmp_path / "none.parquet"), "-p", "tfsc-2011", "--out",
          str(tmp_path), code=2, needle="CASELOAD: no such file")  # fmt: skip


def test_fault_file_where_a_directory_is_needed(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("x")
    fault("cases", "to-parquet", str(CASELOAD), str(blocker / "c.parquet"), code=2,
          needle="is a file, a directory is needed")  # fmt: skip
    fault("demo", "--out", str(blocker), code=2, needle="--out")


def test_fault_unwritable_rejected_path(tmp_path):
    fault("decide", str(EXAMPLE), "--rejected", str(tmp_path / "no" / "such" / "r.jsonl"),
          code=2, needle="--rejected: directory")  # fmt: skip
    fault("decide", str(EXAMPLE), "--rejected", str(tmp_path), code=2,
          needle="--rejected: ")  # fmt: skip


def test_fault_empty_result_says_so(tmp_path):
    import pyarrow.parquet as pq

    from securecomm.stats.testing import generate_outcomes

    src = tmp_path / "outcomes.parquet"
    pq.write_table(generate_outcomes(200, jurisdictions_n=5, months=2), src)
    assert run("stats", "monthly", str(src), "--month", "2012-01").exit_code == 0
    fault("stats", "monthly", str(src), "--month", "2030-01", code=1,
          needle="no bookings for month 2030-01")  # fmt: skip


def test_fault_negative_numbers_and_unknown_codes():
    fault("detainers", "due", "--within", "-2d", code=2, needle="--within")
    fault("detainer", "hold-until", "2011-10-07T17:00", "-z", "America/New_York",
          "--hold-hours", "-48", code=2, needle="--hold-hours")  # fmt: skip
    fault("offenses", "classify", "0000", code=2, needle="0000")
    fault("worker", "--max-batches", "-1", code=2, needle="--max-batches")


def test_internal_errors_show_no_data_unless_debug(monkeypatch):
    import securecomm.law.engine as engine

    def boom(self, case):
        raise RuntimeError("JOSE GARCIA template [0.18, 0.06]")

    monkeypatch.setattr(engine.CompiledPack, "decide", boom)
    result = fault("decide", str(EXAMPLE), code=1, needle="internal error (run with --debug)")
    assert "JOSE" not in result.output and "0.18" not in result.output
    debug = runner.invoke(app, ["--debug", "decide", str(EXAMPLE)])
    assert isinstance(debug.exception, RuntimeError)  # the traceback is the caller's to see


def test_version_and_completion():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("securecomm ")
    assert "--install-completion" in run("--help").stdout


def test_one_format_convention():
    as_json = json.loads(run("policies", "--format", "json").stdout)
    assert {p["name"] for p in as_json} >= {"tfsc-2011", "pep-2014"}
    as_csv = run("policies", "--format", "csv").stdout.splitlines()
    assert as_csv[0].startswith("name,policy_version,title,citation")
    explained = json.loads(run("explain", str(EXAMPLE), "--format", "json").stdout)
    assert explained["case_id"] == "ex-001" and explained["reasons"]
    reasons = run("explain", str(EXAMPLE), "--format", "csv").stdout.splitlines()
    assert reasons[0] == "rule,text,citation" and len(reasons) > 2
    classified = json.loads(run("offenses", "classify", "5404", "--format", "json").stdout)
    assert classified["ncic"] == "5404" and classified["categories"]
    held = json.loads(run("detainer", "hold-until", "2011-10-07T17:00", "-z",
                          "America/New_York", "--format", "json").stdout)  # fmt: skip
    assert held[0]["hold_until"].startswith("2011-10-12T17:00")  # Columbus Day on the 10th
    assert run("decide", str(CASELOAD), "--format", "xml").exit_code == 2


def test_tables_never_cut_identifiers_when_piped():
    """Piped (CliRunner is not a terminal) at 80 columns: every case id is whole."""
    result = run("decide", str(CASELOAD), "--format", "table")
    ids = [json.loads(line)["case_id"] for line in CASELOAD.read_text().splitlines()]
    assert all(case_id in result.stdout for case_id in ids)
    assert "…" not in result.stdout


_NOISY = """
import logging, sys, warnings
import securecomm.explain as ex
orig = ex.pack_summary
def noisy(p):
    warnings.warn("DEPRECATED-THING", DeprecationWarning)
    logging.getLogger("splink").warning("level NOT-OBSERVED in the data")
    return orig(p)
ex.pack_summary = noisy
from securecomm.cli import main
sys.argv = ["securecomm", *sys.argv[1:]]
main()
"""


def test_library_warnings_stay_off_the_terminal_unless_verbose(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    def run_noisy(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _NOISY, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    quiet = run_noisy("policies", "--format", "json")
    assert quiet.returncode == 0 and json.loads(quiet.stdout)
    assert "DEPRECATED-THING" not in quiet.stderr and "NOT-OBSERVED" not in quiet.stderr
    loud = run_noisy("--verbose", "policies", "--format", "json")
    assert "DEPRECATED-THING" in loud.stderr and "NOT-OBSERVED" in loud.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written to the current directory
