"""No SQL from strings (issue 9 item 5): hostile policy names, rule ids and paths never reach
DuckDB as SQL text. ``evaluate`` writes exactly the expected files and columns."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from securecomm.bulk.backends import duckdb_connection
from securecomm.bulk.evaluate import decisions_file_name, evaluate_caseload
from securecomm.bulk.ibis_compiler import outcome_columns
from securecomm.bulk.synthetic import write_synthetic_caseload
from securecomm.law.engine import bind_pack
from securecomm.law.packs import PACKS, apply_variant

HOSTILE_NAMES = [
    'x"; DROP TABLE t; --',
    "tfsc', (SELECT 1) AS \"injected",
    'a" AS y, 1 AS "z',
    "semi;colon",
    "line\nbreak",
    "../../escape",
    "quote'single",
    "back`tick",
]


@pytest.fixture(scope="module")
def caseload(tmp_path_factory) -> Path:
    return write_synthetic_caseload(tmp_path_factory.mktemp("hostile") / "cases.parquet", 300, 7)


def _variants() -> list:
    packs = [PACKS["tfsc-2011"]]
    for i, name in enumerate(HOSTILE_NAMES):
        base = ("morton-2011", "pep-2014", "tfsc-2011-strict")[i % 3]
        spec = {"name": name, "base": base}
        if i == 0:  # a hostile rule id too: it becomes a column only through column_name()
            spec["add_rules"] = [{
                "id": 'evil"; DROP TABLE x; --', "kind": "finding", "when": "protected",
                "citation": "test", "text": "A hostile rule id."}]  # fmt: skip
        packs.append(apply_variant(spec))
    return packs


def test_hostile_policy_names_write_only_the_expected_columns(caseload, tmp_path) -> None:
    out = tmp_path / "o'ut; dir"  # a hostile output path as well
    packs = _variants()
    result = evaluate_caseload(caseload, packs, out)
    names = [p.name for p in packs]
    # differences.parquet: case_id and one column per policy, named exactly as the policies
    diff = pq.read_table(result.differences_path)
    assert diff.column_names == ["case_id", *names]
    # each decision file: exactly the outcome columns of its pack plus the decision columns
    expected_files = {"actions_by_policy.csv", "rule_counts.csv", "differences.parquet"}
    for pack, pack_result in zip(packs, result.packs, strict=True):
        path = pack_result.decisions_path
        assert path.parent == out and path.name == decisions_file_name(pack.name)
        expected_files.add(path.name)
        columns = pq.read_schema(path).names
        assert columns[: len(outcome_columns(bind_pack(pack)))] == outcome_columns(bind_pack(pack))
        assert pq.read_table(path, columns=["policy"]).column(0).unique().to_pylist() == [pack.name]
        assert pack_result.cases == 300
    assert {p.name for p in out.iterdir()} == expected_files  # nothing else, nothing outside
    assert not (tmp_path / "escape").exists() and not list(tmp_path.parent.glob("decisions-*"))
    with open(result.actions_by_policy_path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["action", *names]
    # the same actions as the pack evaluated under a plain name
    plain = evaluate_caseload(caseload, [PACKS["morton-2011"]], tmp_path / "plain")
    assert plain.packs[0].actions == result.packs[1].actions  # HOSTILE_NAMES[0] is morton-based


def test_decisions_file_names_stay_inside_and_distinct() -> None:
    files = [decisions_file_name(n) for n in HOSTILE_NAMES]
    assert len(set(files)) == len(files)
    for f in files:
        assert "/" not in f and "\n" not in f and '"' not in f and not f.startswith(".")
    assert decisions_file_name("tfsc-2011") == "decisions-tfsc-2011.parquet"


def test_case_insensitive_duplicate_names_are_refused(caseload, tmp_path) -> None:
    a = apply_variant({"name": "Local", "base": "tfsc-2011"})
    b = apply_variant({"name": "local", "base": "tfsc-2011"})
    with pytest.raises(ValueError, match="distinct"):
        evaluate_caseload(caseload, [a, b], tmp_path)
    with pytest.raises(ValueError, match="case_id"):
        evaluate_caseload(caseload, [apply_variant({"name": "case_id", "base": "tfsc-2011"})],
                          tmp_path)  # fmt: skip


def test_memory_limit_is_a_size_or_refused() -> None:
    duckdb_connection(memory_limit="1GB")
    with pytest.raises(ValueError, match="memory_limit"):
        duckdb_connection(memory_limit="1GB'; SET threads = 1; --")
