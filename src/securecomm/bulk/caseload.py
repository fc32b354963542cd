"""Caseloads: Case file v1 (JSON Lines) -> validated, flattened Parquet; reading and checking.

``cases_to_parquet`` validates every record with the pydantic model (``law.schema.Case``),
flattens the valid ones (``law.flatten.flatten_case``) and writes them in batches with
``flatten.arrow_schema()`` — memory stays constant for millions of lines. Every rejected record
goes to ``<dst>.rejected.jsonl``, one JSON object per line::

    {"line": 17, "case_id": "c-17" | null,
     "errors": [{"field": "person.birth_date", "message": "..."}],
     "input": "<the original text of the line>"}

Nothing accepted is lost and nothing rejected is dropped silently: ``accepted + rejected``
equals the number of non-blank records read. Blank lines are not records; they are counted.
``field`` is the dotted location of the error (``arrest.charges.0.ncic``), or null when the
record as a whole is unreadable (bad JSON, not an object).

Input is JSON Lines, or one JSON object, or one JSON array of objects (an array is parsed whole,
so use JSON Lines for large inputs; ``line`` is then the element's 1-based position). A line is
at most ``max_line_chars`` characters; a longer one is rejected unparsed, and still copied whole
to the rejected file, in pieces, without holding it in memory.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from securecomm.case_files import MAX_LINE_CHARS  # one limit for every Case file reader
from securecomm.jsonsafety import JsonInputError, loads_strict
from securecomm.law.flatten import CASE_COLUMNS, OFFENSE_FIELDS, arrow_schema, flatten_case
from securecomm.law.schema import Case

BATCH_ROWS = 20_000
_READ_CHUNK = 1 << 20

Progress = Callable[[int, int, int], None]  # (records read, accepted, rejected)


@dataclass(frozen=True)
class ConversionReport:
    source: str
    parquet_path: Path
    rejected_path: Path  # always written (empty when nothing was rejected)
    records: int  # non-blank records read
    accepted: int
    rejected: int
    blank_lines: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.rejected == 0


class CaseloadError(ValueError):
    """A Parquet caseload cannot be evaluated; the message names the column or the cases."""


# --------------------------------------------------------------------------- conversion


def rejected_path_for(dst_path: str | Path) -> Path:
    return Path(f"{os.fspath(dst_path)}.rejected.jsonl")


@dataclass
class _Record:
    line: int
    text: str | None  # None: too long, see ``pieces``
    pieces: list[str] | None = None  # the too-long line, streamed (kept only in pieces)
    too_long: bool = False


def cases_to_parquet(
    src_path_or_stream: str | Path | IO[str] | IO[bytes],
    dst_path: str | Path,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    max_line_chars: int = MAX_LINE_CHARS,
) -> ConversionReport:
    """Validate and flatten Case v1 records into a Parquet caseload; see the module doc."""
    started = time.perf_counter()
    dst = Path(dst_path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    rejected_path = rejected_path_for(dst)
    tmp_dst = dst.with_name(dst.name + ".partial")
    tmp_rejected = rejected_path.with_name(rejected_path.name + ".partial")
    schema = arrow_schema()
    records = accepted = rejected = 0
    blank = [0]
    rows: list[dict[str, Any]] = []
    stream, close, source = _open_text(src_path_or_stream)
    try:
        with (
            pq.ParquetWriter(tmp_dst, schema, compression="zstd") as writer,
            open(tmp_rejected, "w", encoding="utf-8") as rejects,
        ):
            for record in _records(stream, max_line_chars, blank):
                records += 1
                if record.too_long:
                    _write_too_long(rejects, record, max_line_chars)
                    rejected += 1
                else:
                    assert record.text is not None
                    try:
                        # strict JSON first (duplicate keys, NaN, huge integers, deep
                        # nesting refused: securecomm.jsonsafety), then the model
                        case = Case.model_validate(loads_strict(record.text))
                    except JsonInputError as exc:
                        problem = [{"field": None, "message": exc.message}]
                        _write_rejection(rejects, record.line, record.text, problem)
                        rejected += 1
                    except ValidationError as exc:
                        _write_rejection(rejects, record.line, record.text, _errors(exc))
                        rejected += 1
                    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
                        problem = [{"field": None,
                                    "message": f"unreadable value ({type(exc).__name__})"}]  # fmt: skip
                        _write_rejection(rejects, record.line, record.text, problem)
                        rejected += 1
                    else:
                        rows.append(flatten_case(case))
                        accepted += 1
                if len(rows) >= batch_rows:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    rows.clear()
                if progress is not None and records % batch_rows == 0:
                    progress(records, accepted, rejected)
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    except BaseException:
        for p in (tmp_dst, tmp_rejected):
            p.unlink(missing_ok=True)
        raise
    finally:
        if close:
            stream.close()
    os.replace(tmp_dst, dst)
    os.replace(tmp_rejected, rejected_path)
    if progress is not None:
        progress(records, accepted, rejected)
    return ConversionReport(
        source=source,
        parquet_path=dst,
        rejected_path=rejected_path,
        records=records,
        accepted=accepted,
        rejected=rejected,
        blank_lines=blank[0],
        seconds=time.perf_counter() - started,
    )


def _open_text(src: str | Path | IO[str] | IO[bytes]) -> tuple[IO[str], bool, str]:
    if isinstance(src, (str, Path)):
        # utf-8-sig drops a byte-order mark; undecodable bytes survive (and get rejected)
        return (
            open(src, encoding="utf-8-sig", errors="surrogateescape", newline=None),
            True,
            str(src),
        )
    if isinstance(src, io.TextIOBase) or hasattr(src, "encoding"):
        return src, False, getattr(src, "name", "<stream>")  # type: ignore[return-value]
    wrapped = io.TextIOWrapper(src, encoding="utf-8-sig", errors="surrogateescape")  # type: ignore[arg-type]
    return wrapped, False, getattr(src, "name", "<stream>")


class _Lines:
    """Physical lines of a text stream (after an optional already-read prefix)."""

    def __init__(self, stream: IO[str], max_chars: int, prefix: str = "", first_line: int = 0):
        self.stream, self.max_chars = stream, max_chars
        self.prefix = io.StringIO(prefix) if prefix else None
        self.line = first_line

    def _readline(self, limit: int) -> str:
        if self.prefix is not None:
            text = self.prefix.readline(limit)
            if text.endswith("\n") or len(text) >= limit:
                return text
            self.prefix = None
            return text + self.stream.readline(limit - len(text))
        return self.stream.readline(limit)

    def __iter__(self) -> Iterator[_Record | None]:
        """Records; ``None`` for a blank line."""
        while True:
            text = self._readline(self.max_chars + 1)
            if text == "":
                return
            self.line += 1
            if len(text) > self.max_chars and not text.endswith("\n"):
                pieces = [text]
                while not pieces[-1].endswith("\n"):
                    more = self._readline(_READ_CHUNK)
                    if not more:
                        break
                    pieces.append(more)
                yield _Record(self.line, None, pieces, too_long=True)
                continue
            body = text.rstrip("\r\n")
            yield _Record(self.line, body) if body.strip() else None


def _records(stream: IO[str], max_chars: int, blank: list[int]) -> Iterator[_Record]:
    """Records of a JSON Lines stream, or of one JSON document (an object or an array)."""
    lines = iter(_Lines(stream, max_chars))
    for record in lines:
        if record is None:
            blank[0] += 1
            continue
        if record.too_long or record.text is None:
            yield record
            continue
        head = record.text.lstrip()
        if head.startswith("[") or (head.startswith("{") and not _parses(record.text)):
            # maybe one JSON document over several lines (a pretty-printed object, an array)
            rest = stream.read(_SNIFF_CHARS)
            document = _load_document(record.text + "\n" + rest, complete=len(rest) < _SNIFF_CHARS)
            if isinstance(document, list):
                for i, element in enumerate(document, start=1):
                    yield _Record(i, json.dumps(element, ensure_ascii=False))
                return
            if isinstance(document, dict):
                yield _Record(record.line, (record.text + "\n" + rest).strip())
                return
            yield record
            lines = iter(_Lines(stream, max_chars, prefix=rest, first_line=record.line))
        else:
            yield record
        break
    for record in lines:
        if record is None:
            blank[0] += 1
        else:
            yield record


_SNIFF_CHARS = 64 << 20  # a single JSON document larger than this must be JSON Lines


def _load_document(text: str, *, complete: bool) -> Any:
    if not complete:
        return _NOT_JSON
    try:
        return loads_strict(text)
    except JsonInputError:
        return _NOT_JSON


_NOT_JSON = object()


def _parses(text: str) -> bool:
    try:
        loads_strict(text)
    except JsonInputError:
        return False
    return True


_FIELD_IN_MESSAGE = re.compile(r"^(?:Value error, )?([a-z_]+(?:\.[a-z_0-9]+)+) ")


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", ""))
        if not loc:
            m = _FIELD_IN_MESSAGE.match(message)  # model-level checks name their field
            loc = m.group(1) if m else ""
        if err.get("type") == "extra_forbidden":
            message = "unknown field (not part of Case file v1)"
        out.append({"field": loc or None, "message": message})
    return out


def _case_id(text: str) -> str | None:
    try:
        value = loads_strict(text)
    except JsonInputError:
        return None
    case_id = value.get("case_id") if isinstance(value, dict) else None
    return case_id if isinstance(case_id, str) else None


def _write_rejection(out: IO[str], line: int, text: str, errors: list[dict[str, Any]]) -> None:
    record = {"line": line, "case_id": _case_id(text), "errors": errors, "input": text}
    out.write(json.dumps(record, ensure_ascii=True) + "\n")


def _write_too_long(out: IO[str], record: _Record, max_chars: int) -> None:
    """The record is streamed into the rejected file piece by piece (valid JSON)."""
    errors = [{"field": None, "message": f"line longer than {max_chars} characters"}]
    head = {"line": record.line, "case_id": None, "errors": errors}
    out.write(json.dumps(head, ensure_ascii=True)[:-1] + ', "input": "')
    pieces = record.pieces or []
    for i, piece in enumerate(pieces):
        if i == len(pieces) - 1:
            piece = piece.rstrip("\r\n")
        out.write(json.dumps(piece, ensure_ascii=True)[1:-1])
    out.write('"}\n')


# --------------------------------------------------------------------------- reading, checking

_STRING_TYPES = (pa.string(), pa.large_string())


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    if expected in _STRING_TYPES:
        return actual in _STRING_TYPES or pa.types.is_string_view(actual)
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_date(expected):
        return pa.types.is_date32(actual)
    return actual == expected


def check_caseload_schema(schema: pa.Schema) -> None:
    """Raise ``CaseloadError`` naming every missing or mistyped column of a flat caseload.

    Extra columns (and extra offense fields) are allowed and ignored.
    """
    expected = arrow_schema()
    problems = []
    for field in expected:
        if field.name not in schema.names:
            problems.append(f"missing column {field.name!r} ({CASE_COLUMNS[field.name][0]})")
            continue
        actual = schema.field(field.name).type
        if pa.types.is_list(field.type):
            if not (pa.types.is_list(actual) or pa.types.is_large_list(actual)) or not (
                pa.types.is_struct(actual.value_type)
            ):
                problems.append(f"column {field.name!r}: expected list<offense>, got {actual}")
                continue
            got = actual.value_type
            names = [got.field(i).name for i in range(got.num_fields)]
            for sub in field.type.value_type:
                where = f"column {field.name!r} offense field {sub.name!r}"
                if sub.name not in names:
                    problems.append(f"{where}: missing ({OFFENSE_FIELDS[sub.name][0]})")
                elif not _compatible(got.field(sub.name).type, sub.type):
                    problems.append(f"{where}: expected {sub.type}, got {got.field(sub.name).type}")
        elif not _compatible(actual, field.type):
            problems.append(f"column {field.name!r}: expected {field.type}, got {actual}")
    if problems:
        raise CaseloadError("not a flat caseload (flatten.arrow_schema): " + "; ".join(problems))


def check_caseload(path: str | Path) -> pa.Schema:
    """Check a Parquet caseload's columns and types; returns its schema."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise CaseloadError(f"{path}: cannot read a Parquet schema: {exc}") from None
    check_caseload_schema(schema)
    return schema


def read_caseload(path: str | Path, con=None):
    """A checked Parquet caseload as an Ibis table (a new DuckDB connection by default)."""
    check_caseload(path)
    if con is None:
        from .backends import duckdb_connection

        con = duckdb_connection()
    return con.read_parquet(os.fspath(path))
