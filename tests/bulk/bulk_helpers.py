"""Helpers for the bulk tests: evaluate cases one by one and in bulk, side by side."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pytest

from securecomm.bulk.evaluate import decision_columns, decisions_from_outcomes
from securecomm.bulk.ibis_compiler import compile_outcomes
from securecomm.law.engine import CompiledPack, PolicyError, bind_pack
from securecomm.law.flatten import arrow_schema, flatten_case
from securecomm.law.model import Pack
from securecomm.law.schema import Case


def flat_table(records: Iterable[Mapping[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(records), schema=arrow_schema())


_counter = [0]


def register(con, table: pa.Table):
    """An Ibis table over ``table`` on ``con`` (a Parquet file, so Spark reads it too)."""
    import tempfile

    import pyarrow.parquet as pq

    _counter[0] += 1
    path = f"{tempfile.mkdtemp(prefix='bulk-test-')}/cases-{_counter[0]}.parquet"
    pq.write_table(table, path)
    return con.read_parquet(path)


def bulk_rows(con, pack: Pack, records: list[Mapping[str, Any]], **kw) -> dict[str, dict]:
    """Outcome rows (plus the decision columns) of ``compile_outcomes``, by case id."""
    bound = bind_pack(pack)
    t = register(con, flat_table(records))
    expr = decision_columns(pack, bound, compile_outcomes(bound, t, **kw))
    return {r["case_id"]: r for r in expr.to_pyarrow().to_pylist()}


def single(compiled: CompiledPack, record: Mapping[str, Any]) -> dict[str, Any] | PolicyError:
    try:
        return compiled.evaluate(record)
    except PolicyError as exc:
        return exc


def assert_same_records(con, pack: Pack, records: list[Mapping[str, Any]], **kw) -> None:
    """Flat records (no Case v1 in between): same outcome columns, same failures."""
    rows = bulk_rows(con, pack, records, **kw)
    compiled = CompiledPack(pack)
    assert len(rows) == len(records)
    for record in records:
        expected = single(compiled, record)
        row = rows[record["case_id"]]
        if isinstance(expected, PolicyError):
            assert row["action"] is None, (record["case_id"], expected)
            continue
        got = {k: row[k] for k in expected}
        assert got == expected, _diff(record["case_id"], got, expected)


BASE_CASE: dict[str, Any] = {
    "case_id": "base",
    "decided_at": "2012-06-01T10:00:00-06:00",
    "jurisdiction": {"ori": "CO0010000", "state": "CO", "timezone": "America/Denver"},
    "person": {"birth_date": "1990-05-01", "citizenship_status": "entered_without_inspection"},
    "arrest": {"charges": [{"ncic": "5499", "literal": "SPEEDING", "severity": "infraction"}]},
}


def base_record(case_id: str, **changes: Any) -> dict[str, Any]:
    """The flat record of ``BASE_CASE`` with some columns replaced (may be bad data)."""
    record = flatten_case(Case.model_validate({**BASE_CASE, "case_id": case_id}))
    record.update(changes)
    return record


def assert_same(con, pack: Pack, cases: list[Case], **kw) -> None:
    """Single-case and bulk evaluation agree: outcome columns, Decision v1, and errors."""
    records = [flatten_case(c) for c in cases]
    rows = bulk_rows(con, pack, records, **kw)
    compiled = CompiledPack(pack)
    assert len(rows) == len(records)
    for case, record in zip(cases, records, strict=True):
        row = rows[case.case_id]
        try:
            expected = compiled.evaluate(record)
        except PolicyError as exc:
            assert row["action"] is None, (case.case_id, exc)
            assert row["conflict"] == ("conflicting" in str(exc)), (case.case_id, exc)
            with pytest.raises(type(exc)) as raised:
                decisions_from_outcomes(pack, [row])
            assert str(raised.value) == str(exc)
            continue
        assert row["conflict"] is False
        got = {k: row[k] for k in expected}
        assert got == expected, _diff(case.case_id, got, expected)
        decision = compiled.decide(case)
        assert decisions_from_outcomes(pack, [row]) == [decision]
        assert row["priority"] == decision.priority
        assert row["requires_supervisor_approval"] == decision.requires_supervisor_approval
        assert row["notify"] == decision.lea_disclosure.notify
        assert row["policy"] == pack.name and row["policy_version"] == pack.policy_version
        decisive = decision.decisive_rule
        assert row["action_rule"] == decisive.rule
        expected_decline = decisive.decline_reason if decision.action == "no_detainer" else None
        assert (row["decline_reason"] if row["action"] == "no_detainer" else None) == (
            expected_decline
        )
        assert_v2_invariants(case, decision, row)


HOLDING = ("detainer", "conditional_detainer", "notification_request")
CITIZENS = ("us_citizen_by_birth", "naturalized_citizen")


def assert_v2_invariants(case: Case, decision, row: Mapping[str, Any]) -> None:
    """Specification v2 properties, on the single decision and the bulk row alike."""
    if case.person.citizenship_status.value in CITIZENS:
        # no citizen ever gets a detainer, a notification request or a priority (3.2, 3.4)
        assert decision.action not in HOLDING and row["action"] not in HOLDING, case.case_id
        assert decision.priority is None and decision.priority_bases == (), case.case_id
        assert row["priority"] is None, case.case_id
        if decision.policy in ("tfsc-2011", "tfsc-2011-strict"):
            # no immigration hit information on any citizen (3.8, IV rec. 3)
            assert decision.lea_disclosure.fields == () and row["notify"] is False
    if decision.requires_supervisor_approval or row["requires_supervisor_approval"]:
        # supervisor approval only where someone would be held (3.5, IV rec. 2)
        assert decision.action in HOLDING and row["action"] in HOLDING, case.case_id
    if not decision.removable:
        assert decision.priority is None and row["priority"] is None


def _diff(case_id: str, got: Mapping, expected: Mapping) -> str:
    bad = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
    return f"case {case_id}: (bulk, single) differ: {bad}"
