"""evaluate_caseload: decision files, comparisons, and hard errors for undecidable cases."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bulk_helpers import BASE_CASE

from securecomm.bulk.caseload import CaseloadError, cases_to_parquet
from securecomm.bulk.evaluate import (
    DECISION_COLUMNS,
    BulkNoApplicableRule,
    BulkPolicyConflict,
    BulkPolicyError,
    decisions_from_outcomes,
    evaluate_caseload,
)
from securecomm.bulk.ibis_compiler import outcome_columns
from securecomm.bulk.synthetic import write_synthetic_caseload
from securecomm.law.engine import (
    CompiledPack,
    NoApplicableRule,
    PolicyConflict,
    PolicyError,
    bind_pack,
    column_name,
)
from securecomm.law.packs import PACKS, apply_variant
from securecomm.law.schema import Action, Case

CONFLICTING = {
    "name": "tfsc-conflicting",
    "base": "tfsc-2011",
    "add_rules": [
        {
            "id": "local.traffic-detainer",
            "kind": "action",
            "when": 'every_charge("minor_traffic")',
            "outcome": "detainer",
            "rank": 80,
            "citation": "test variant",
            "text": "Detain minor-traffic arrests (disagrees with the Task Force rule).",
        }
    ],
}
NO_BASE = {
    "name": "tfsc-no-base",
    "base": "tfsc-2011",
    "disable_rules": ["actions.morton.removable-detainer"],
}


def case(case_id: str, charges: list[dict] | None = None, **person) -> dict:
    data = copy.deepcopy(BASE_CASE)
    data["case_id"] = case_id
    data["person"].update(person)
    if charges is not None:
        data["arrest"] = {"charges": charges}
    return data


FELONY = [{"ncic": "2202", "literal": "BURGLARY", "severity": "felony"}]


def caseload(tmp_path: Path, cases: list[dict]) -> Path:
    src = tmp_path / "cases.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in cases))
    report = cases_to_parquet(src, tmp_path / "cases.parquet")
    assert report.rejected == 0
    return report.parquet_path


def single_error(pack, data: dict) -> PolicyError:
    with pytest.raises(PolicyError) as exc:
        CompiledPack(pack).decide(Case.model_validate(data))
    return exc.value


# --------------------------------------------------------------------------- hard errors


def test_conflict_names_the_cases_and_both_rules(tmp_path: Path) -> None:
    pack = apply_variant(CONFLICTING)
    cases = [case("fine-felony", FELONY), case("conflict-1"), case("conflict-2"),
             case("citizen", citizenship_status="us_citizen_by_birth")]  # fmt: skip
    path = caseload(tmp_path, cases)
    out = tmp_path / "out"
    with pytest.raises(BulkPolicyConflict) as exc:
        evaluate_caseload(path, [PACKS["tfsc-2011"], pack], out)
    err = exc.value
    assert isinstance(err, PolicyError) and err.total == 2
    assert err.case_ids == ["conflict-1", "conflict-2"]
    assert err.rules == ["actions.tfsc.minor-traffic-only", "local.traffic-detainer"]
    for data, bulk in zip(cases[1:3], err.errors, strict=True):
        one = single_error(pack, data)
        assert isinstance(one, PolicyConflict) and isinstance(bulk, PolicyConflict)
        assert str(bulk) == str(one)  # the very same error as single-case mode
        assert str(one) in str(err)
    for name in (
        "conflict-1",
        "conflict-2",
        "actions.tfsc.minor-traffic-only",
        "local.traffic-detainer",
    ):
        assert name in str(err)  # fmt: skip
    assert not (out / f"decisions-{pack.name}.parquet").exists()
    assert not list(out.glob("*.partial"))


def test_no_applicable_rule_names_the_cases(tmp_path: Path) -> None:
    pack = apply_variant(NO_BASE)
    cases = [case("traffic"), case("felony-1", FELONY), case("felony-2", FELONY)]
    with pytest.raises(BulkNoApplicableRule) as exc:
        evaluate_caseload(caseload(tmp_path, cases), [pack], tmp_path / "out")
    err = exc.value
    assert err.case_ids == ["felony-1", "felony-2"] and err.total == 2
    one = single_error(pack, cases[1])
    assert isinstance(one, NoApplicableRule) and str(err.errors[0]) == str(one)
    assert "felony-1" in str(err) and "felony-2" in str(err)
    assert "actions.tfsc.minor-traffic-only" in str(err)  # the rules considered


def test_at_most_ten_cases_are_named(tmp_path: Path) -> None:
    pack = apply_variant(CONFLICTING)
    cases = [case(f"c-{i:02d}") for i in range(25)]
    with pytest.raises(BulkPolicyError) as exc:
        evaluate_caseload(caseload(tmp_path, cases), [pack], tmp_path / "out")
    assert exc.value.total == 25 and len(exc.value.case_ids) == 10
    assert "25 case(s)" in str(exc.value) and "(first 10)" in str(exc.value)


def test_bulk_rows_without_action_raise_in_decisions_from_outcomes(duck) -> None:
    pack = apply_variant(CONFLICTING)
    bound = bind_pack(pack)
    row = {"case_id": "x", "action": None} | {c: False for c in outcome_columns(bound)[1:]}
    row["action"] = None
    with pytest.raises(NoApplicableRule):
        decisions_from_outcomes(pack, [row])


def test_duplicate_case_ids_are_an_error(tmp_path: Path) -> None:
    path = caseload(tmp_path, [case("a"), case("b")])
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), tmp_path / "dup.parquet")
    with pytest.raises(CaseloadError, match=r"1 duplicate case id.*a"):
        evaluate_caseload(tmp_path / "dup.parquet", [PACKS["tfsc-2011"]], tmp_path / "out")


# --------------------------------------------------------------------------- outputs


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "cases.parquet"
    return write_synthetic_caseload(path, 4000, seed=3, chunk_rows=1500)


def _check_outputs(result, caseload_path: Path, packs) -> dict[str, pa.Table]:
    records = {r["case_id"]: r for r in pq.read_table(caseload_path).to_pylist()}
    n = len(records)
    assert result.cases == n
    tables = {}
    for pack, pr in zip(packs, result.packs, strict=True):
        bound = bind_pack(pack)
        assert pr.decisions_path.name == f"decisions-{pack.name}.parquet"
        table = pq.read_table(pr.decisions_path)
        tables[pack.name] = table
        assert table.column_names == [*outcome_columns(bound), *DECISION_COLUMNS]
        assert table.num_rows == n == pr.cases == sum(pr.actions.values())
        assert set(pr.actions) == {a.value for a in Action}
        for rule in bound.rules:
            assert pr.rules_fired[rule.id] == sum(table.column(column_name(rule.id)).to_pylist())
        rows = table.to_pylist()
        compiled = CompiledPack(pack)
        # Decision v1 from bulk rows == single-case decisions
        for row in rows[:300]:
            [decision] = decisions_from_outcomes(pack, [row])
            assert decision == compiled.decide_record(records[row["case_id"]])
            assert row["priority"] == decision.priority
            assert row["notify"] == decision.lea_disclosure.notify
            assert row["requires_supervisor_approval"] == decision.requires_supervisor_approval
    # actions_by_policy.csv: action x policy, each column adds up to the caseload
    with open(result.actions_by_policy_path) as f:
        crosstab = list(csv.DictReader(f))
    assert [r["action"] for r in crosstab] == [a.value for a in Action]
    for pack in packs:
        counts = [int(r[pack.name]) for r in crosstab]
        assert sum(counts) == n
        actions = tables[pack.name].column("action").to_pylist()
        assert counts == [actions.count(a.value) for a in Action]
    # rule_counts.csv: one row per (policy, rule), counts from the decision columns
    with open(result.rule_counts_path) as f:
        rule_rows = list(csv.DictReader(f))
    assert list(rule_rows[0]) == ["policy", "rule_id", "kind", "citation", "cases_fired"]
    assert len(rule_rows) == sum(len(p.rules) for p in packs)
    for r in rule_rows:
        pack = next(p for p in packs if p.name == r["policy"])
        rule = pack.rule(r["rule_id"])
        assert (r["kind"], r["citation"]) == (rule.kind, rule.citation)
        fired = sum(tables[pack.name].column(column_name(rule.id)).to_pylist())
        assert int(r["cases_fired"]) == fired
    # differences.parquet: exactly the cases whose actions differ
    diff = pq.read_table(result.differences_path)
    assert diff.column_names == ["case_id", *(p.name for p in packs)]
    by_pack = {
        p.name: dict(zip(t.column("case_id").to_pylist(), t.column("action").to_pylist(), strict=True))
        for p, t in ((p, tables[p.name]) for p in packs)
    }  # fmt: skip
    expected = sorted(cid for cid in records if len({by_pack[p.name][cid] for p in packs}) > 1)
    assert diff.column("case_id").to_pylist() == expected == sorted(expected)
    assert result.differences == len(expected)
    for row in diff.to_pylist():
        assert all(row[p.name] == by_pack[p.name][row["case_id"]] for p in packs)
    return tables


def test_outputs_and_counts_add_up(synthetic: Path, tmp_path: Path) -> None:
    packs = list(PACKS.values())
    calls = []
    result = evaluate_caseload(
        synthetic, packs, tmp_path / "out", progress=lambda *a: calls.append(a)
    )
    assert calls[-1] == ("compare", len(packs) + 1, len(packs) + 1)
    assert [p.policy for p in result.packs] == [p.name for p in packs]
    assert result.differences > 0
    _check_outputs(result, synthetic, packs)


def test_one_pack_has_no_differences(synthetic: Path, tmp_path: Path) -> None:
    pack = PACKS["pep-2014"]
    result = evaluate_caseload(synthetic, [pack], tmp_path / "out")
    assert result.differences == 0
    _check_outputs(result, synthetic, [pack])


def test_bad_arguments(synthetic: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one pack"):
        evaluate_caseload(synthetic, [], tmp_path)
    with pytest.raises(ValueError, match="distinct"):
        evaluate_caseload(synthetic, [PACKS["pep-2014"]] * 2, tmp_path)
    with pytest.raises(ValueError, match="engine"):
        evaluate_caseload(synthetic, [PACKS["pep-2014"]], tmp_path, engine="sqlite")


@pytest.mark.spark
def test_spark_engine_writes_the_same_decisions(tmp_path: Path) -> None:
    path = write_synthetic_caseload(tmp_path / "cases.parquet", 1500, seed=8)
    packs = [PACKS["tfsc-2011"], PACKS["pep-2014"]]
    duck = evaluate_caseload(path, packs, tmp_path / "duck")
    spark = evaluate_caseload(path, packs, tmp_path / "spark", engine="spark")
    assert spark.engine == "spark"
    tables = _check_outputs(spark, path, packs)
    for pack, pr in zip(packs, duck.packs, strict=True):
        expected = pq.read_table(pr.decisions_path).sort_by("case_id")
        assert tables[pack.name].sort_by("case_id").to_pylist() == expected.to_pylist()
    assert (tmp_path / "spark" / "actions_by_policy.csv").read_text() == (
        tmp_path / "duck" / "actions_by_policy.csv"
    ).read_text()


@pytest.mark.spark
def test_spark_engine_raises_the_same_conflicts(tmp_path: Path) -> None:
    pack = apply_variant(CONFLICTING)
    path = caseload(tmp_path, [case("fine", FELONY), case("conflict")])
    with pytest.raises(BulkPolicyConflict) as exc:
        evaluate_caseload(path, [pack], tmp_path / "out", engine="spark")
    assert exc.value.case_ids == ["conflict"]
