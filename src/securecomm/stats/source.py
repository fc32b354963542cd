"""Reading and validating Booking outcome v1 sources for the statistics.

A source is a Parquet file, a directory of Parquet files (read recursively), a glob, a pyarrow
Table or an Ibis table. Every user input is checked here with an error naming the field or
value: missing or mistyped columns, ``--month`` (YYYY-MM), ``--quarter`` (YYYY-Qn),
``--state`` (a two-letter USPS code), ``--policy`` (one the source holds).
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir
import pyarrow as pa

from securecomm.bulk.backends import duckdb_connection

from .schema import BOOKING_OUTCOME_SCHEMA

__all__ = [
    "STATES",
    "Outcomes",
    "StatsInputError",
    "check_columns",
    "load_outcomes",
    "open_source",
    "parse_month",
    "parse_quarter",
    "parse_state",
    "policies_in",
]


class StatsInputError(ValueError):
    """Bad input to the statistics; the message names the field or value."""


def _states() -> frozenset[str]:
    # USPS codes of the states, DC and territories, as addfips (Census FIPS) lists them
    with resources.files("addfips").joinpath("data/states.csv").open(encoding="utf-8") as f:
        return frozenset(row["postal"] for row in csv.DictReader(f))


STATES = _states()

# What each column must be: a predicate on the Ibis dtype and a description for errors.
_KINDS = {
    "string": (lambda t: t.is_string(), "string"),
    "bool": (lambda t: t.is_boolean(), "bool"),
    "date": (lambda t: t.is_date(), "date"),
    "timestamp": (lambda t: t.is_timestamp(), "timestamp"),
    "int": (lambda t: t.is_integer(), "integer"),
    "list<string>": (
        lambda t: t.is_array() and (t.value_type.is_string() or t.value_type.is_null()),
        "list<string>",
    ),
}


def _kind(field: pa.Field) -> str:
    t = field.type
    if pa.types.is_list(t):
        return "list<string>"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_integer(t):
        return "int"
    return "string"


EXPECTED = {f.name: _kind(f) for f in BOOKING_OUTCOME_SCHEMA}


def check_columns(schema: Any, needed: tuple[str, ...] | None = None) -> None:
    """Every ``needed`` column (default: all of Booking outcome v1) present with its type."""
    names = list(schema.names)
    needed = tuple(EXPECTED) if needed is None else needed
    missing = [c for c in needed if c not in names]
    if missing:
        raise StatsInputError(
            f"source is not Booking outcome v1: missing column(s) {', '.join(missing)}"
        )
    for name in needed:
        dtype: dt_.DataType = schema[name]
        ok, want = _KINDS[EXPECTED[name]]
        if not ok(dtype):
            raise StatsInputError(f"source column {name!r} has type {dtype}, expected {want}")


def _read(source: str | Path, con) -> ir.Table:
    text = str(source)
    path = Path(text)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise StatsInputError(f"source {text}: directory holds no .parquet files")
        pattern: str | list[str] = [str(p) for p in files]
    elif glob.has_magic(text):
        files_ = sorted(glob.glob(text, recursive=True))
        if not files_:
            raise StatsInputError(f"source {text}: the pattern matches no file")
        pattern = files_
    elif path.is_file():
        pattern = text
    else:
        raise StatsInputError(f"source {text}: no such file or directory")
    try:
        return con.read_parquet(pattern)
    except Exception as exc:  # duckdb's own messages are long; keep the cause
        raise StatsInputError(f"source {text}: not readable as Parquet ({exc})") from exc


def open_source(source: str | Path | ir.Table | pa.Table, *, backend: Any = None) -> ir.Table:
    """``source`` as an Ibis table, unchecked (a new DuckDB connection unless ``backend``)."""
    if isinstance(source, ir.Table):
        return source
    con = backend if backend is not None else duckdb_connection()
    if isinstance(source, pa.Table):
        return con.create_table(f"_outcomes_{id(source)}", source, overwrite=True)
    if isinstance(source, (str, Path)):
        return _read(source, con)
    raise StatsInputError(
        f"source: a Parquet path, a pyarrow Table or an Ibis table, got {type(source).__name__}"
    )


@dataclass(frozen=True)
class Outcomes:
    """A validated outcome table for one policy."""

    table: ir.Table  # filtered to ``policy``
    policy: str
    rows: int  # bookings of ``policy`` in the source


def policies_in(table: ir.Table) -> dict[str, int]:
    counts = table.group_by("policy").aggregate(n=table.count()).to_pyarrow()
    return dict(zip(counts["policy"].to_pylist(), counts["n"].to_pylist(), strict=True))


def load_outcomes(
    source: str | Path | ir.Table | pa.Table,
    *,
    policy: str | None = None,
    backend: Any = None,
    needed: tuple[str, ...] | None = None,
) -> Outcomes:
    """Open ``source`` on ``backend`` (default: a new DuckDB connection), check its columns,
    and pick ``policy`` (required when the source holds several). Errors name the problem.
    An ``Outcomes`` passes through (already validated)."""
    if isinstance(source, Outcomes):
        if policy is not None and policy != source.policy:
            raise StatsInputError(f"policy {policy!r}: the outcomes are of {source.policy!r}")
        check_columns(source.table.schema(), needed)
        return source
    table = open_source(source, backend=backend)
    check_columns(table.schema(), needed)
    present = policies_in(table)
    if not present:
        raise StatsInputError("source holds no bookings (0 rows)")
    if policy is None:
        if len(present) > 1:
            raise StatsInputError(
                f"source holds several policies ({', '.join(sorted(present))}): pass --policy"
            )
        (policy,) = present
    elif policy not in present:
        raise StatsInputError(
            f"policy {policy!r} is not in the source; it holds: {', '.join(sorted(present))}"
        )
    if len(present) > 1:
        table = table.filter(table.policy == policy)
    return Outcomes(table=table, policy=policy, rows=present[policy])


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` -> the first day of that month."""
    m = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise StatsInputError(f"month: expected YYYY-MM (e.g. 2012-03), got {text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def parse_quarter(text: str) -> tuple[dt.date, dt.date]:
    """``YYYY-Qn`` (calendar quarter) -> (first month, first month after), as dates."""
    m = _QUARTER.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if not m or int(m.group(1)) < 1900:
        raise StatsInputError(f"quarter: expected YYYY-Qn with n 1-4 (e.g. 2012-Q1), got {text!r}")
    year, q = int(m.group(1)), int(m.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return start, end


def parse_state(text: str) -> str:
    """A two-letter USPS state / DC / territory code, upper-cased."""
    code = text.strip().upper() if isinstance(text, str) else ""
    if code not in STATES:
        raise StatsInputError(f"state: expected a two-letter USPS code (e.g. CO), got {text!r}")
    return code


def empty_like(table: ir.Table) -> ir.Table:
    return table.limit(0)


def literal_date(day: dt.date) -> ir.DateValue:
    return ibis.literal(day, type="date")
