"""Hostile inputs every importer must survive: for tests (decide, submit, cases to-parquet, the
FOIA importers, the web API).

:func:`hostile_lines` gives JSON Lines that must each be rejected alone with a reason, never
crash the reader nor cost the good lines around them. Each is built from a good record so that
only the attack differs. :func:`write_huge_line` writes a line of any size without holding it
in memory (the corpus's big files are generated at test time, never committed).

Typical use in a test::

    good = json.dumps(record)
    lines = [good] + [text for _, text in hostile_lines(record, text_field="name")] + [good]
    # feed `lines` to the importer; expect 2 accepted and len(lines) - 2 rejected, no crash
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .jsonsafety import MAX_DEPTH, MAX_INT_DIGITS

__all__ = ["INVISIBLE", "hostile_lines", "json_attacks", "write_huge_line"]

#: Characters that must never pass into an identifier or a name (securecomm.textsafety).
INVISIBLE = {
    "zero width space": "\u200b",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "byte order mark": "\ufeff",
    "newline": "\n",
    "escape": "\x1b",
    "nul": "\x00",
    "private use": "\ue000",
}


def json_attacks(record: dict[str, Any]) -> Iterator[tuple[str, str | bytes]]:
    """Attacks on the JSON layer itself (any format): ``(name, line)``."""
    text = json.dumps(record)
    body = text[1:-1]
    yield "junk", "this is not JSON"
    yield "truncated", text[: len(text) // 2]
    yield "duplicate key", "{" + body + ", " + body + "}"
    yield "NaN", "{" + body + ', "x_nan": NaN}'
    yield "Infinity", "{" + body + ', "x_inf": -Infinity}'
    yield "float overflow", "{" + body + ', "x_big": 1e999}'
    yield "huge integer", "{" + body + ', "x_int": ' + "9" * (MAX_INT_DIGITS + 1) + "}"
    depth = MAX_DEPTH * 40
    yield "deep nesting", "{" + body + ', "x_deep": ' + "[" * depth + "]" * depth + "}"
    yield "array", "[" + text + "]"
    yield "string", json.dumps(text)
    yield "null", "null"
    yield "invalid UTF-8", text[:-1].encode() + b', "x": "\xff\xfe"}'
    yield "lone surrogate escape", "{" + body + ', "x": "\\ud800"}'


def hostile_lines(
    record: dict[str, Any], *, identifier_field: str | None = None, text_field: str | None = None
) -> Iterator[tuple[str, str | bytes]]:
    """:func:`json_attacks`, plus invisible and control characters in ``identifier_field``
    and ``text_field`` (top-level keys of ``record``) when given."""
    yield from json_attacks(record)
    for key, kind in ((identifier_field, "identifier"), (text_field, "text")):
        if key is None or not isinstance(record.get(key), str):
            continue
        for name, ch in INVISIBLE.items():
            yield f"{name} in {kind}", json.dumps({**record, key: record[key] + ch})
        yield f"{kind} made of invisible characters", json.dumps({**record, key: "\u200b\u202e"})


def write_huge_line(path: Path, size: int, *, before: str = "", after: str = "") -> Path:
    """``before`` + a JSON line of ``size`` bytes + ``after``, written in 1 MiB pieces."""
    chunk = b"A" * (1 << 20)
    with path.open("wb") as f:
        f.write(before.encode())
        f.write(b'{"padding": "')
        left = max(size - 15, 0)  # {"padding": "...."} is size bytes
        while left > 0:
            piece = chunk[: min(left, len(chunk))]
            f.write(piece)
            left -= len(piece)
        f.write(b'"}\n')
        f.write(after.encode())
    return path
