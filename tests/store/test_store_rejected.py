"""The rejected-input store keeps anything, as received, with the reasons (DESIGN 8)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securecomm.store.models import RawEncoding, RawKind, RejectedInput
from securecomm.store.repositories import (
    RAW_TEXT_MAX,
    escape_raw,
    list_rejected,
    original_input,
    reject_input,
    unescape_raw,
)

T0 = datetime(2011, 10, 3, 16, 0, tzinfo=UTC)
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()))


def _store_and_reload(db, raw, errors=None, **kw) -> RejectedInput:
    with db.session() as s, s.begin():
        row_id = reject_input(s, kw.pop("source", "test"), raw, errors or [], T0, **kw).id
    with db.session() as s:
        return s.get(RejectedInput, row_id)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_escape_round_trips_any_text(text):
    escaped = escape_raw(text)
    assert "\x00" not in escaped
    escaped.encode("utf-8")  # storable
    assert unescape_raw(escaped) == text


@pytest.mark.parametrize(
    "raw",
    [
        'plain {"json": true}',
        "NUL \x00 inside, and a backslash-zero \\0 literal",
        "lone surrogate \ud800 and \udfff",
        "\\u0000 \\\\ looks escaped but is not",
        "",
        "🦀 unicode ünïcödé \u202e rtl",
    ],
    ids=["plain", "nul", "surrogate", "escape-lookalike", "empty", "unicode"],
)
def test_text_is_kept_exactly(db, raw):
    row = _store_and_reload(db, raw, [{"field": "tcn", "message": "missing"}])
    assert original_input(row) == raw
    assert row.raw_kind is RawKind.text
    assert row.raw_length == len(raw)
    assert row.raw_sha256 == hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    assert row.raw_encoding is (
        RawEncoding.verbatim
        if "\x00" not in raw and "\ud800" not in raw and "\udfff" not in raw
        else RawEncoding.escaped
    )
    if row.raw_encoding is RawEncoding.verbatim:
        assert row.raw_text == raw  # stored as-is
    assert row.errors == [{"field": "tcn", "message": "missing"}]
    assert not row.truncated


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe not utf-8 \x00 \x80", b"valid utf-8 \xc3\xa9", b"", bytes(range(256))],
    ids=["invalid", "valid", "empty", "all-bytes"],
)
def test_bytes_are_kept_exactly(db, raw):
    row = _store_and_reload(db, raw)
    assert row.raw_kind is RawKind.bytes
    assert original_input(row) == raw
    assert row.raw_length == len(raw)
    assert row.raw_sha256 == hashlib.sha256(raw).hexdigest()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.one_of(any_text, st.binary(max_size=200)))
def test_anything_round_trips_through_the_database(db, raw):
    row = _store_and_reload(db, raw)
    assert original_input(row) == raw


def test_oversized_input_is_cut_with_a_marker(db):
    raw = "a\x00" * (RAW_TEXT_MAX // 2) + "TAIL" * 10
    row = _store_and_reload(db, raw)
    assert row.truncated
    assert row.raw_length == len(raw)
    assert row.raw_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert row.raw_text.endswith(f"{RAW_TEXT_MAX} of {len(raw)} characters kept]")
    assert original_input(row) == raw[:RAW_TEXT_MAX]


class _Hostile:
    def __str__(self):
        raise RuntimeError("no")

    __repr__ = __str__


@pytest.mark.parametrize(
    "errors",
    [
        None,
        "just a string",
        {"field": "x", "message": "a dict, not a list"},
        [ValueError("exception object"), {"loc": ("a", 1), "ctx": {"error": ValueError("x")}}],
        [{"input": float("nan"), "inf": float("inf"), 3: "int key", "s": {1, 2}}],
        [{"message": "NUL \x00 and surrogate \ud800 in a message", b"k": b"\xff"}],
        [_Hostile()],
        [
            {
                "deep": [
                    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
                ]
            }
        ],
        [{"i": i} for i in range(1500)],
    ],
    ids=["none", "str", "dict", "exceptions", "non-json", "nul", "hostile", "deep", "many"],
)
def test_any_errors_are_kept_in_storable_form(db, errors):
    row = _store_and_reload(db, "raw", errors)
    assert isinstance(row.errors, list)
    assert all(isinstance(e, dict) for e in row.errors)
    assert len(row.errors) <= 1001


def test_weird_source_and_times_never_raise(db):
    with db.session() as s, s.begin():
        a = reject_input(s, "s" * 500, "x", [], datetime(2011, 10, 3, 16, 0))  # naive: taken as UTC
        b = reject_input(s, None, None, None, None)  # type: ignore[arg-type]
        c = reject_input(s, "src\x00", 12345, [], "not a time")  # type: ignore[arg-type]
        ids = a.id, b.id, c.id
    with db.session() as s:
        a, b, c = (s.get(RejectedInput, i) for i in ids)
        assert a.source == "s" * 64 and a.received_at == T0
        assert b.source == "unknown" and original_input(b) == "" and b.received_at.tzinfo
        assert original_input(c) == "12345" and "\x00" not in c.source
        assert {r.id for r in list_rejected(s)} == set(ids)
