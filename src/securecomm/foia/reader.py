"""Read one release file into typed rows, a status per cell, and the rows set aside.

Conventions (docs/foia.md): every output column ``x`` has ``x_status`` in ``sources.STATUSES``;
a FOIA exemption code is ``redacted`` (the value stays null, never the code, never "none"); an
empty cell is ``blank``; a field the release does not carry for the row's period is
``not_reported``; a cell that does not parse is ``invalid``. A row is set aside (a reject, with
its line number and reason) when it cannot be placed: wrong number of fields, broken quoting,
an unparseable event date, a category value outside the release's vocabulary, unsafe
characters, an empty or junk line. Whole-file problems (missing, empty, truncated, header
missing or moved) raise ``FoiaInputError`` with one line naming the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securecomm.textsafety import describe, find_unsafe

from . import sources as S

MAX_TITLE_LINES = 8  # UWCHR files carry 4-6 title lines; more means the header moved
MAX_RAW_LINE = 2000  # characters of a rejected line kept in the rejects table


class FoiaInputError(ValueError):
    """A release file that cannot be read at all; the message names the file and the problem."""


@dataclass
class ReadResult:
    spec: S.FileSpec
    source_file: str  # "<release>/<file name>"
    columns: tuple[S.Col, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    sha256: str = ""
    lines: int = 0
    redaction_codes: dict[str, Counter] = field(default_factory=dict)


_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def parse_date(raw: str, kind: str) -> dt.date | dt.datetime | None:
    """M/D/YYYY or YYYY-MM-DD[ HH:MM[:SS]]; None when it is not a real date."""
    try:
        if m := _US_DATE.match(raw):
            day = dt.date(int(m[3]), int(m[1]), int(m[2]))
            return dt.datetime.combine(day, dt.time()) if kind == "datetime" else day
        if m := _ISO.match(raw):
            if kind == "date":
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0),
                               int(m[6] or 0))  # fmt: skip
    except ValueError:
        return None
    return None


def _read_text(path: Path, label: str) -> str:
    if not path.exists():
        raise FoiaInputError(f"{label}: no such file ({path})")
    if not path.is_file():
        raise FoiaInputError(f"{label}: not a file ({path})")
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise FoiaInputError(
                f"{label}: truncated file (the compressed stream ends early)"
            ) from None
        except (gzip.BadGzipFile, zlib.error, OSError):
            raise FoiaInputError(f"{label}: not a valid gzip file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FoiaInputError(f"{label}: not UTF-8 text (byte {exc.start})") from None


def _split(line: str, delimiter: str) -> list[str] | None:
    """One physical line as fields; None for broken quoting (an unclosed quote)."""
    try:
        rows = list(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    if line.count('"') % 2:  # csv accepts an unclosed quote at end of input; we do not
        return None
    return rows[0] if rows else []


def _find_header(lines: list[str], spec: S.FileSpec, wanted: list[str], label: str):
    """Index of the header line and the title lines above it."""
    limit = MAX_TITLE_LINES if spec.title_lines else 0
    title: list[str] = []
    for i, line in enumerate(lines):
        fields = _split(line, spec.delimiter) or []
        cells = [f.strip() for f in fields]
        if set(wanted) <= set(cells):
            return i, cells, title
        non_empty = [c for c in cells if c]
        if len(non_empty) >= 2 or i >= limit:
            later = next((j for j in range(i + 1, len(lines))
                          if set(wanted) <= {f.strip() for f in _split(lines[j], spec.delimiter) or []}),
                         None)  # fmt: skip
            if later is not None:
                raise FoiaInputError(
                    f"{label}: the header is on line {later + 1}; expected within the first "
                    f"{limit + 1} line(s), above the data (header moved?)"
                )
            missing = sorted(set(wanted) - set(cells))
            hint = f" (line {i + 1} lacks {', '.join(missing[:5])})" if len(non_empty) >= 2 else ""
            raise FoiaInputError(
                f"{label}: no header line in the first {limit + 1} line(s); expected columns "
                f"{', '.join(wanted)}{hint}"
            )
        title.extend(non_empty)
    raise FoiaInputError(f"{label}: no header line; expected columns {', '.join(wanted)}")


def _cell(col: S.Col, raw: str, fy: int | None, spec: S.FileSpec, na: bool):
    """(value, status, reject reason or None) of one cell."""
    text = raw.strip()
    if S.REDACTION.match(text):
        return None, S.REDACTED, None
    if (col.msc and text == "" and spec.msc_from_fy is not None and fy is not None
            and fy < spec.msc_from_fy):  # fmt: skip
        # not released for this period: an empty cell is not a finding of "no conviction"
        return None, S.NOT_REPORTED, None
    if text == "" or (na and text in S.NA_TOKENS):
        return None, S.BLANK, None
    if col.kind in ("date", "datetime"):
        value = parse_date(text, col.kind)
        return (value, S.VALUE, None) if value is not None else (None, S.INVALID, None)
    if col.kind == "int":
        return (
            (int(text), S.VALUE, None) if re.fullmatch(r"-?\d+", text) else (None, S.INVALID, None)
        )
    if col.kind == "float":
        try:
            return float(text), S.VALUE, None
        except ValueError:
            return None, S.INVALID, None
    if col.kind == "category" and col.vocabulary is not None and text not in col.vocabulary:
        return (
            None,
            S.INVALID,
            f"{col.header}: value {text[:60]!r} is not in the release's vocabulary",
        )
    return text, S.VALUE, None


def read_file(path: Path, spec: S.FileSpec, release: str) -> ReadResult:
    """Parse ``path`` per ``spec``; raise ``FoiaInputError`` for a file that cannot be read."""
    label = f"{release}/{spec.name}"
    text = _read_text(path, label)
    if not text.strip():
        raise FoiaInputError(f"{label}: empty file")
    ends_with_newline = text.endswith(("\n", "\r"))
    lines = text.splitlines()
    columns = spec.columns
    if not columns:  # Deportation Data Project: every column of the header, typed by name
        first = _split(lines[0], spec.delimiter) or []
        columns = tuple(S.Col(h, S.ddp_column_name(h), S.ddp_kind(h)) for h in first)
        if S.DDP_EVENT_HEADER not in first:
            raise FoiaInputError(f"{label}: no header line; expected column {S.DDP_EVENT_HEADER}")
    wanted = [c.header for c in columns]
    h, header, title = _find_header(lines, spec, wanted, label)
    index = {name: header.index(name) for name in wanted}
    result = ReadResult(spec, label, columns, title=title, lines=len(lines),
                        sha256=hashlib.sha256(text.encode()).hexdigest())  # fmt: skip
    result.redaction_codes = {c.name: Counter() for c in columns}
    fy_from_title = _title_fiscal_year(title, label) if spec.fiscal_year_from_title else None
    event = (
        next((c for c in columns if c.name == spec.event_date), None) if spec.event_date else None
    )
    na = not spec.title_lines and release == "ddp-detainers-wa"
    seen: dict[tuple[str, ...], int] = {}
    dup_seen: dict[tuple[str, ...], int] = {}
    dup_key = spec.duplicate_key
    if dup_key == ("*detainer",):  # DDP: the person key and every detainer column
        dup_key = (
            "unique_identifier",
            *(c.name for c in columns if c.name.startswith("detainer__")),
        )
    last = len(lines) - 1

    def reject(n: int, line: str, reason: str) -> None:
        result.rejects.append({"source_file": label, "source_line": n, "reason": reason,
                               "raw_line": line[:MAX_RAW_LINE]})  # fmt: skip

    for i in range(h + 1, len(lines)):
        line, n = lines[i], i + 1
        fields = _split(line, spec.delimiter)
        truncated_tail = i == last and not ends_with_newline
        if fields is None or (fields and len(fields) != len(header)):
            if truncated_tail:
                raise FoiaInputError(
                    f"{label}: truncated file (line {n}, the last, is incomplete and has no "
                    "line end)"
                )
            reject(n, line, "broken quoting" if fields is None
                   else f"expected {len(header)} fields, found {len(fields)}")  # fmt: skip
            continue
        if not any(f.strip() for f in fields):
            reject(n, line, "empty line")
            continue
        # tabs occur inside real Seattle landmark names: read as spaces, not as unsafe text
        fields = [f.replace("\t", " ") for f in fields]
        clean = "|".join(fields)
        if not (clean.isascii() and clean.isprintable()) and (bad := find_unsafe(clean)):
            # the raw line is not kept: it carries the unsafe character
            reject(n, "", f"contains {describe(bad)}, which is not allowed")
            continue
        row: dict[str, Any] = {"source_file": label, "source_line": n}
        fy, month = fy_from_title, None
        if event is not None:
            value, status, _ = _cell(event, fields[index[event.header]], None, spec, na)
            if status == S.INVALID:
                reject(n, line, f"{event.header}: not a date (expected M/D/YYYY or YYYY-MM-DD)")
                continue
            if status == S.VALUE:
                day = value.date() if isinstance(value, dt.datetime) else value
                fy, month = S.fiscal_year(day), f"{day.year:04d}-{day.month:02d}"
        problem = None
        for col in columns:
            raw = fields[index[col.header]]
            value, status, why = _cell(col, raw, fy, spec, na)
            if why:
                problem = why
                break
            if status == S.REDACTED:
                result.redaction_codes[col.name][raw.strip()] += 1
            row[col.name] = value
            row[f"{col.name}_status"] = status
        if problem:
            reject(n, line, problem)
            continue
        row.update(spec.constants)
        row["fiscal_year"] = fy
        row["month"] = month
        first = seen.setdefault(tuple(f.strip() for f in fields), n)
        row["identical_to_line"] = first if first != n else None
        if dup_key is None:
            # no identifier survives redaction: identical rows may be different people
            row["likely_duplicate"] = None
        else:
            k = tuple(str(row.get(c)) for c in dup_key)
            earlier = dup_seen.setdefault(k, n)
            row["likely_duplicate"] = earlier != n and row.get(dup_key[0]) is not None
        result.rows.append(row)
    return result


_FY = re.compile(r"\bFY\s?(\d{4})\b")


def _title_fiscal_year(title: list[str], label: str) -> int:
    for line in title:
        if m := _FY.search(line):
            return int(m[1])
    raise FoiaInputError(f"{label}: no fiscal year (FYnnnn) in the title lines above the header")
