"""Column types and JSON helpers shared by the models, the repositories and the audit log.

* :class:`UTCDateTime` -- timezone-aware timestamps on both backends. Values are stored in UTC
  (PostgreSQL ``timestamptz``; SQLite a naive ISO text in UTC) and always come back aware, in
  UTC. A naive datetime is refused rather than guessed.
* :data:`JSONType` -- ``JSON``, ``JSONB`` on PostgreSQL.
* :data:`BigId` -- 64-bit surrogate keys; plain ``INTEGER`` on SQLite so that the key is the
  rowid and autoincrements.
* :func:`canonical_json` -- sorted keys, no whitespace, UTF-8 (non-ASCII kept as is), no NaN.
* :func:`check_storable_json` -- the JSON both backends can hold: string keys, finite numbers,
  no NUL character (PostgreSQL ``jsonb``/``text`` cannot hold U+0000), no lone surrogate (not
  UTF-8), bounded depth. Errors name the dotted path of the offending value.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from .errors import InputError

__all__ = [
    "MAX_JSON_DEPTH",
    "BigId",
    "JSONType",
    "UTCDateTime",
    "canonical_json",
    "check_storable_json",
    "check_text",
    "sha256_hex",
    "utc_iso",
]

#: 64-bit integer key; on SQLite ``INTEGER`` so that an ``INTEGER PRIMARY KEY`` is the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: JSON document column: ``JSONB`` on PostgreSQL, ``JSON`` (text) elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")

MAX_JSON_DEPTH = 64


class UTCDateTime(TypeDecorator[datetime]):
    """An aware timestamp, stored in UTC, returned aware in UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: give an aware datetime (UTC)"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_iso(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC: the one text form of a timestamp that is hashed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, ``,``/``:`` separators, non-ASCII unescaped, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character (U+0000), which the database cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate: not valid Unicode text"
    return None


def check_text(field: str, value: object, *, min_length: int = 0, max_length: int) -> str:
    """Check a text column value: a ``str``, within bounds, storable. Returns it unchanged."""
    if not isinstance(value, str):
        raise InputError(field, f"must be a string, got {type(value).__name__}")
    if len(value) < min_length:
        raise InputError(
            field, "must not be empty" if min_length == 1 else f"shorter than {min_length}"
        )
    if len(value) > max_length:
        raise InputError(field, f"longer than {max_length} characters ({len(value)})")
    problem = _text_problem(value)
    if problem:
        raise InputError(field, problem)
    return value


def _storable_str(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable(item: Any, depth: int) -> bool:
    """The fast yes/no of :func:`check_storable_json` (no paths built: the pipeline checks
    every document it writes, and the paths cost more than the check)."""
    if depth > MAX_JSON_DEPTH:
        return False
    t = type(item)
    if t is str:
        return _storable_str(item)
    if item is None or t is bool or t is int:
        return True
    if t is dict:
        for key, sub in item.items():
            if type(key) is not str or not _storable_str(key) or not _storable(sub, depth + 1):
                return False
        return True
    if t is list or t is tuple:
        return all(_storable(sub, depth + 1) for sub in item)
    if t is float:
        return math.isfinite(item)
    return False  # subclasses and anything else: the full check decides and explains


def check_storable_json(value: Any, field: str) -> None:
    """Raise :class:`InputError` naming the path of the first value neither backend can hold."""
    try:
        if _storable(value, 0):
            return
    except RecursionError:
        pass
    _explain(value, field)


def _explain(value: Any, field: str) -> None:
    """The full check, building the path of each value: raises for the first bad one."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputError(path, f"nested deeper than {MAX_JSON_DEPTH} levels")
        if item is None or isinstance(item, bool | int):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise InputError(path, f"{item!r} is not a JSON number")
            continue
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                raise InputError(path, problem)
            continue
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise InputError(path, f"object key {key!r} is not a string")
                problem = _text_problem(key)
                if problem:
                    raise InputError(path, f"object key {problem}")
                stack.append((sub, f"{path}.{key}", depth + 1))
            continue
        if isinstance(item, list | tuple):
            for i, sub in enumerate(item):
                stack.append((sub, f"{path}[{i}]", depth + 1))
            continue
        raise InputError(path, f"{type(item).__name__} is not a JSON value")
