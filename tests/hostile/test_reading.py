"""The strict JSON reader (securecomm.jsonsafety): refuses what json would accept or crash on,
reads line by line in bounded memory, never lets one line cost another."""

from __future__ import annotations

import contextlib
import io
import json
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from securecomm.hostile import json_attacks, write_huge_line
from securecomm.jsonsafety import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    JsonInputError,
    iter_json_items,
    loads_strict,
    read_lines,
)

RECORD = {"id": "r-1", "name": "JOSE GARCIA", "n": 3, "x": [1.5, {"y": None}]}


def test_every_json_attack_is_refused_with_a_reason_never_a_crash():
    for name, line in json_attacks(RECORD):
        try:
            value = loads_strict(line)
        except JsonInputError as exc:
            assert exc.field in ("(json)", "(encoding)") and exc.message, name
            assert "JOSE" not in exc.message  # the input is never quoted
        else:  # parses, but is not a record: the importer rejects it as such
            assert not (isinstance(value, dict) and value.get("id") == "r-1"), name


def test_the_reasons_name_the_attack():
    reasons = {}
    for name, line in json_attacks(RECORD):
        try:
            loads_strict(line)
        except JsonInputError as exc:
            reasons[name] = exc.message
    assert "duplicate key 'id'" in reasons["duplicate key"]
    assert "NaN" in reasons["NaN"] and "Infinity" in reasons["Infinity"]
    assert "too large" in reasons["float overflow"]
    assert f"more than {MAX_INT_DIGITS} digits" in reasons["huge integer"]
    assert f"deeper than {MAX_DEPTH}" in reasons["deep nesting"]
    assert "not UTF-8" in reasons["invalid UTF-8"]


def test_limits_are_exact():
    assert loads_strict("9" * MAX_INT_DIGITS) == int("9" * MAX_INT_DIGITS)
    assert loads_strict("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    # brackets inside strings are text, not nesting
    assert loads_strict(json.dumps({"s": "[" * 1000}))["s"] == "[" * 1000


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_loads_strict_raises_nothing_but_its_own_error(data):
    with contextlib.suppress(JsonInputError):
        loads_strict(data)


good_lines = st.dictionaries(
    st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=5), max_size=3
).map(json.dumps)
junk_lines = st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), good_lines, junk_lines), min_size=1, max_size=12))
def test_a_bad_line_never_costs_a_good_one(rows):
    """Whatever the first line holds (unless the whole file is one document), every good
    line comes back parsed, at its own line number."""
    lines = [good if is_good else junk for is_good, good, junk in rows]
    text = "\n".join(lines) + "\n"
    items = list(iter_json_items(io.StringIO(text), max_line=10_000))
    try:
        whole = loads_strict(text)
    except JsonInputError:
        whole = None
    if text.lstrip()[:1] in ("[", "{") and isinstance(whole, list | dict):
        return  # one document, read whole by design
    by_line = {i.number: i for i in items}
    for n, (is_good, good, _) in enumerate(rows, start=1):
        if is_good:
            assert by_line[n].ok and by_line[n].value == json.loads(good)


def test_first_line_junk_or_open_brace_does_not_turn_the_file_into_one_document():
    good = json.dumps(RECORD)
    for head in ("junk", "{", "[", '{"id": "r-0",', "{}garbage"):
        items = list(iter_json_items(io.StringIO(f"{head}\n{good}\n{good}\n"), max_line=1000))
        assert [i.number for i in items if i.ok and i.value == RECORD] == [2, 3], head
    pretty = json.dumps(RECORD, indent=2)
    [one] = list(iter_json_items(io.StringIO(pretty), max_line=1000))
    assert one.ok and one.value == RECORD
    array = json.dumps([RECORD, "x", RECORD], indent=1)
    assert [i.value for i in iter_json_items(io.StringIO(array), max_line=1000)] == [
        RECORD, "x", RECORD,
    ]  # fmt: skip


def test_a_huge_line_is_never_held_in_memory(tmp_path):
    """A 64 MiB line (generated here, not committed) between two good lines: refused while
    reading, with its size; peak memory stays a small fraction of the line."""
    path = write_huge_line(
        tmp_path / "huge.jsonl", 64 << 20, before=json.dumps(RECORD) + "\n",
        after=json.dumps(RECORD) + "\n",
    )  # fmt: skip
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            lines = list(read_lines(f, max_line=256 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [ln.number for ln in lines] == [1, 2, 3]
    assert lines[1].error is not None and lines[1].error.field == "(line)"
    assert str(64 << 20) in lines[1].error.message
    assert len(lines[1].raw) <= 4096
    assert lines[0].text and lines[2].text and json.loads(lines[2].text) == RECORD
    assert peak < 8 << 20, peak  # the line is 64 MiB
