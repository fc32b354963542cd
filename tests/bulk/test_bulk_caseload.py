"""Case v1 JSON Lines -> Parquet caseload: valid rows kept, every rejected line kept with
the field named, counts adding up — also for hostile input."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bulk_helpers import BASE_CASE

from securecomm.bulk.caseload import (
    CaseloadError,
    cases_to_parquet,
    check_caseload,
    check_caseload_schema,
    read_caseload,
    rejected_path_for,
)
from securecomm.law.flatten import arrow_schema, flatten_case
from securecomm.law.schema import Case

EXAMPLE = Path(__file__).parents[2] / "examples" / "case-young-traffic-violator.json"


def case(case_id: str, **changes) -> dict:
    data = copy.deepcopy(BASE_CASE)
    data["case_id"] = case_id
    for dotted, value in changes.items():
        target = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = value
    return data


def line(data: dict) -> str:
    return json.dumps(data)


def rejected(report) -> list[dict]:
    return [json.loads(x) for x in report.rejected_path.read_text().splitlines()]


def test_valid_malformed_and_hostile_lines(tmp_path: Path) -> None:
    lines = [
        line(case("ok-1")),  # 1
        "",  # 2 blank
        "{not json",  # 3
        line(case("bad-unknown", **{"person.shoe_size": 43})),  # 4 unknown field
        line(case("bad-type", **{"person.birth_date": 19900501})),  # 5 wrong type
        line(case("bad-future", **{"person.birth_date": "2031-01-01"})),  # 6 future date
        line(case("bad-huge", **{"arrest.charges": [{"ncic": "5499", "severity": "misdemeanor",
                                                     "literal": "X" * 100_000}]})),  # 7
        "   ",  # 8 blank
        line(case("ok-2", **{"convictions": [{"ncic": "2303", "severity": "misdemeanor",
                                               "sentence_days": 90}]})),  # 9
        "[1, 2, 3]",  # 10 not an object
        line(case("bad-ncic", **{"arrest.charges": [{"ncic": "99", "severity": "felony"}]})),
        line(case("bad-status", **{"person.citizenship_status": "martian"})),  # 12
        line(case("bad-bool", **{"flags.gang_member": "yes"})),  # 13
        "null",  # 14
        line(case("bad id with spaces")),  # 15
        line(case("ok-3", **{"person.birth_date": None})),  # 16
    ]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    dst = tmp_path / "out" / "cases.parquet"
    report = cases_to_parquet(src, dst)

    assert (report.records, report.accepted, report.rejected, report.blank_lines) == (14, 3, 11, 2)
    assert report.accepted + report.rejected == report.records
    assert report.parquet_path == dst and report.rejected_path == rejected_path_for(dst)
    assert report.rejected_path.name == "cases.parquet.rejected.jsonl"
    table = pq.read_table(dst)
    assert table.schema.equals(arrow_schema())
    assert table.column("case_id").to_pylist() == ["ok-1", "ok-2", "ok-3"]
    assert table.to_pylist()[1] == flatten_case(Case.model_validate(case("ok-2", **{
        "convictions": [{"ncic": "2303", "severity": "misdemeanor", "sentence_days": 90}]})))  # fmt: skip

    rows = {r["line"]: r for r in rejected(report)}
    assert sorted(rows) == [3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15]
    for n, r in rows.items():
        assert r["input"] == lines[n - 1]  # the original text, whole
        assert r["errors"] and all(set(e) == {"field", "message"} for e in r["errors"])
    fields = {n: {e["field"] for e in r["errors"]} for n, r in rows.items()}
    assert fields[3] == {None} and rows[3]["case_id"] is None
    assert fields[4] == {"person.shoe_size"} and rows[4]["case_id"] == "bad-unknown"
    assert "unknown field" in rows[4]["errors"][0]["message"]
    assert fields[5] == {"person.birth_date"}
    assert fields[6] == {"person.birth_date"}
    assert "after the decision" in rows[6]["errors"][0]["message"]
    assert fields[7] == {"arrest.charges.0.literal"}
    assert fields[11] == {"arrest.charges.0.ncic"}
    assert fields[12] == {"person.citizenship_status"}
    assert fields[13] == {"flags.gang_member"}
    assert fields[15] == {"case_id"}


def test_every_rejection_is_kept_even_a_line_too_long_to_parse(tmp_path: Path) -> None:
    huge = line(case("too-long", **{"arrest.charges": [{"ncic": "5499", "severity": "misdemeanor",
                                                        "literal": "é\\" * 30_000}]}))  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text(line(case("ok")) + "\n" + huge + "\n" + line(case("ok-2")) + "\n")
    report = cases_to_parquet(src, tmp_path / "c.parquet", max_line_chars=1000)
    assert (report.accepted, report.rejected) == (2, 1)
    [r] = rejected(report)
    assert r["line"] == 2 and r["input"] == huge
    assert "longer than 1000" in r["errors"][0]["message"]


def test_batches_and_progress(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(line(case(f"c-{i}")) + "\n" for i in range(55)) + "oops\n")
    calls = []
    report = cases_to_parquet(
        src, tmp_path / "c.parquet", batch_rows=10, progress=lambda *a: calls.append(a)
    )
    assert (report.records, report.accepted, report.rejected) == (56, 55, 1)
    assert pq.ParquetFile(tmp_path / "c.parquet").metadata.num_row_groups >= 5
    assert calls[-1] == (56, 55, 1) and len(calls) >= 5


def test_single_object_array_and_streams(tmp_path: Path) -> None:
    report = cases_to_parquet(EXAMPLE, tmp_path / "one.parquet")  # pretty-printed object
    assert (report.accepted, report.rejected) == (1, 0)
    array = json.dumps([case("a"), case("b", **{"person.citizenship_status": "x"}), case("c")])
    report = cases_to_parquet(io.StringIO(array), tmp_path / "arr.parquet")
    assert (report.accepted, report.rejected) == (2, 1)
    assert rejected(report)[0]["line"] == 2  # the element's position
    data = ("\ufeff" + line(case("bom")) + "\r\n" + line(case("crlf")) + "\r\n").encode()
    report = cases_to_parquet(io.BytesIO(data), tmp_path / "bytes.parquet")
    assert (report.accepted, report.rejected) == (2, 0)


def test_invalid_utf8_and_empty_input(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(line(case("ok")).encode() + b"\n" + b'{"case_id": "\xff\xfe"}\n')
    report = cases_to_parquet(src, tmp_path / "c.parquet")
    assert (report.accepted, report.rejected) == (1, 1)
    assert rejected(report)[0]["line"] == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    report = cases_to_parquet(empty, tmp_path / "e.parquet")
    assert (report.records, report.blank_lines) == (0, 2)
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0
    assert report.rejected_path.read_text() == ""


def test_a_failed_conversion_leaves_no_partial_output(tmp_path: Path) -> None:
    def boom(*_):
        raise KeyboardInterrupt

    src = tmp_path / "in.jsonl"
    src.write_text("".join(line(case(f"c-{i}")) + "\n" for i in range(30)))
    with pytest.raises(KeyboardInterrupt):
        cases_to_parquet(src, tmp_path / "c.parquet", batch_rows=10, progress=boom)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


# --------------------------------------------------------------------------- checking


def test_check_caseload_names_missing_and_mistyped_columns(tmp_path: Path) -> None:
    schema = arrow_schema()
    check_caseload_schema(schema)
    bad = schema.remove(schema.get_field_index("person_birth_date"))
    bad = bad.set(
        bad.get_field_index("flag_gang_member"), pa.field("flag_gang_member", pa.string())
    )
    with pytest.raises(CaseloadError) as exc:
        check_caseload_schema(bad)
    message = str(exc.value)
    assert "missing column 'person_birth_date'" in message
    assert "column 'flag_gang_member': expected bool, got string" in message
    offense = schema.field("charges").type.value_type
    no_ncic = pa.struct([f for f in offense if f.name != "ncic"])
    bad = schema.set(schema.get_field_index("charges"), pa.field("charges", pa.list_(no_ncic)))
    with pytest.raises(CaseloadError, match="column 'charges' offense field 'ncic': missing"):
        check_caseload_schema(bad)
    bad = schema.set(schema.get_field_index("convictions"), pa.field("convictions", pa.string()))
    with pytest.raises(CaseloadError, match="'convictions': expected list<offense>"):
        check_caseload_schema(bad)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "x.parquet")
    with pytest.raises(CaseloadError, match="missing column 'case_id'"):
        check_caseload(tmp_path / "x.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(CaseloadError, match="cannot read"):
        check_caseload(tmp_path / "junk.parquet")


def test_read_caseload(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(line(case("a")) + "\n" + line(case("b")) + "\n")
    report = cases_to_parquet(src, tmp_path / "c.parquet")
    t = read_caseload(report.parquet_path)
    assert sorted(t.case_id.to_pyarrow().to_pylist()) == ["a", "b"]
