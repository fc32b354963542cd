"""Reading JSON from people we do not control: one bad line never costs a good one.

Every importer (``decide``, ``submit``, ``cases to-parquet``, the FOIA importers, the web API)
reads through this module:

- :func:`loads_strict` parses one JSON text and refuses, with a one-line reason, what
  Python's ``json`` would accept or crash on: duplicate keys (which value did the sender
  mean?), ``NaN`` / ``Infinity`` and numbers too large for a float (not JSON, RFC 8259 s. 6),
  integers of more than :data:`MAX_INT_DIGITS` digits (Python refuses to convert them and
  raises an error ``json`` does not expect), and nesting deeper than :data:`MAX_DEPTH` (it
  would exhaust the interpreter's stack).
- :func:`read_lines` reads physical lines with a size limit applied *while reading*: a line
  longer than the limit is skipped in chunks and reported, never held in memory whole.
- :func:`iter_json_items` applies the rule for files: JSON Lines, read line by line whatever
  the first line holds; the file is one document (an object, or an array of items) only if
  it starts with ``[`` or ``{`` and parses whole.

Errors never quote the input (it may be personal data); they name the position.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_INT_DIGITS",
    "Item",
    "JsonInputError",
    "Line",
    "iter_json_items",
    "loads_strict",
    "read_lines",
]

#: Deepest nesting accepted. Booking submission v1 and Case file v1 nest at most 5 levels;
#: 32 leaves room for other formats and stays far below Python's recursion limit.
MAX_DEPTH = 32
#: Python's own limit on converting digit strings to int (``sys.get_int_max_str_digits``).
MAX_INT_DIGITS = 4300
#: A file read as one JSON document (an array, a pretty-printed object) is at most this big;
#: larger inputs must be JSON Lines, which are read line by line in constant memory.
MAX_DOCUMENT_BYTES = 64 << 20
#: How much of a too-long line is kept for the rejected-input record.
KEEP_BYTES = 4096
_CHUNK = 1 << 20


class JsonInputError(ValueError):
    """One JSON text cannot be accepted; ``field`` says where (``(json)``, ``(line)``,
    ``(encoding)``), the message why, never quoting the input."""

    def __init__(self, message: str, field: str = "(json)") -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def as_error(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key if len(key) <= 40 and key.isprintable() else "(a key)"
                raise JsonInputError(f"invalid JSON: duplicate key {shown!r} in one object")
            seen.add(key)
    return doc


def _no_constant(name: str) -> Any:
    raise JsonInputError(f"invalid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError("invalid JSON: a number too large for a float")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:  # checked before int(), which would raise ValueError
        raise JsonInputError(f"invalid JSON: an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_depth(text: str, max_depth: int) -> None:
    if text.count("[") + text.count("{") <= max_depth:  # the common case: nothing to scan
        return
    depth = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonInputError(f"invalid JSON: nested deeper than {max_depth} levels")
        elif token in "]}":
            depth -= 1


def loads_strict(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON text; :class:`JsonInputError` for anything refused (module doc)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(
                f"not UTF-8: {exc.reason} at byte {exc.start}", "(encoding)"
            ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_depth(text, max_depth)
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise JsonInputError(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise JsonInputError("invalid JSON: nested too deeply") from None


# --------------------------------------------------------------------------- lines


@dataclass
class Line:
    """One physical line. ``text`` is None when the line was refused (``error``); ``raw`` is
    what is kept of it for the rejected-input record (its head only, if too long)."""

    number: int
    text: str | None
    raw: str | bytes
    error: JsonInputError | None = None
    size: int = 0  # the whole line's length (bytes for a binary stream, else characters)

    @property
    def blank(self) -> bool:
        return self.error is None and not (self.text or "").strip()


def _newline(piece: str | bytes) -> bool:
    return piece.endswith(b"\n" if isinstance(piece, bytes) else "\n")


def _strip_eol(piece: str | bytes) -> str | bytes:
    return piece.rstrip(b"\r\n" if isinstance(piece, bytes) else "\r\n")


def read_lines(
    stream: IO[str] | IO[bytes], *, max_line: int, first_number: int = 0
) -> Iterator[Line]:
    """Physical lines of ``stream``, at most ``max_line`` long (bytes for a binary stream,
    characters for a text stream). A longer line yields a :class:`Line` with an ``(line)``
    error; the rest of it is read in chunks and dropped. Bytes that are not UTF-8 yield an
    ``(encoding)`` error for that line alone."""
    number = first_number
    while True:
        piece = stream.readline(max_line + 1)
        if not piece:
            return
        number += 1
        if len(piece) > max_line and not _newline(piece):
            size = len(piece)
            head = piece[:KEEP_BYTES]
            while True:
                more = stream.readline(_CHUNK)
                if not more:
                    break
                size += len(more)
                if _newline(more):
                    size -= 1
                    break
            unit = "bytes" if isinstance(piece, bytes) else "characters"
            error = JsonInputError(
                f"line of {size} {unit}: longer than the limit of {max_line}", "(line)"
            )
            yield Line(number, None, head, error, size)
            continue
        body = _strip_eol(piece)
        if isinstance(body, bytes):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                error = JsonInputError(f"not UTF-8: {exc.reason} at byte {exc.start}", "(encoding)")
                yield Line(number, None, body, error, len(body))
                continue
        else:
            text = body
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield Line(number, text, body, None, len(body))


# --------------------------------------------------------------------------- items


@dataclass
class Item:
    """One JSON item of a file: ``value`` parsed, or ``error``. ``number`` is the line (JSON
    Lines) or the 1-based position in the array (a document); ``raw`` the text to keep."""

    number: int
    raw: str | bytes
    value: Any = None
    error: JsonInputError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def text(self) -> str:
        raw = self.raw
        return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")


class _Replay(io.RawIOBase):
    """``prefix`` then the rest of ``stream``, read with ``readline(limit)``."""

    def __init__(self, prefix: str | bytes, stream: IO[Any]) -> None:
        self.prefix = io.BytesIO(prefix) if isinstance(prefix, bytes) else io.StringIO(prefix)
        self.stream = stream
        self.done = False

    def readline(self, limit: int = -1) -> Any:  # type: ignore[override]
        if not self.done:
            text = self.prefix.readline(limit)
            if text and (_newline(text) or len(text) >= limit > 0):
                return text
            self.done = True
            if limit > 0:
                return text + self.stream.readline(limit - len(text))
            return text + self.stream.readline()
        return self.stream.readline(limit)


def _item_of(line: Line) -> Item:
    if line.error is not None:
        return Item(line.number, line.raw, error=line.error)
    try:
        return Item(line.number, line.raw, value=loads_strict(line.text or ""))
    except JsonInputError as exc:
        return Item(line.number, line.raw, error=exc)


def iter_json_items(
    stream: IO[str] | IO[bytes],
    *,
    max_line: int,
    allow_document: bool = True,
    max_document: int = MAX_DOCUMENT_BYTES,
    blank: list[int] | None = None,
) -> Iterator[Item]:
    """Items of a JSON Lines file (or of one JSON document: see the module doc), in order.
    Blank lines are skipped (counted in ``blank[0]`` if given)."""
    lines = read_lines(stream, max_line=max_line)
    for line in lines:
        if line.blank:
            if blank is not None:
                blank[0] += 1
            continue
        head = (line.text or "").lstrip()
        if allow_document and line.error is None and head[:1] in ("[", "{"):
            first = _item_of(line)
            if head[0] == "{" and first.ok:
                yield first  # JSON Lines starting with an object
                break
            rest = stream.read(max_document)
            complete = len(rest) < max_document
            if complete:
                nl = b"\n" if isinstance(rest, bytes) else "\n"
                whole = (line.raw + nl + rest) if isinstance(line.raw, type(rest)) else None
                document = _document(whole)
                if isinstance(document, list):
                    for i, element in enumerate(document, start=1):
                        raw = json.dumps(element, ensure_ascii=False)
                        yield Item(i, raw, value=element)
                    return
                if isinstance(document, dict):
                    yield Item(line.number, whole.strip() if whole else line.raw, value=document)
                    return
            # not one document: every line on its own, the first included
            yield first
            lines = read_lines(_Replay(rest, stream), max_line=max_line, first_number=line.number)
            break
        yield _item_of(line)
        break
    for line in lines:
        if line.blank:
            if blank is not None:
                blank[0] += 1
            continue
        yield _item_of(line)


def _document(text: str | bytes | None) -> Any:
    if text is None:
        return None
    try:
        return loads_strict(text)
    except JsonInputError:
        return None
