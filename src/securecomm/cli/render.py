"""One output convention for every list and show command: ``--format table|json|csv``.

- ``table`` (default): a Rich table for people. Identifier columns (case ids, ORIs, TCNs,
  FINs) are never cut or wrapped, in a terminal of any width or when piped: the table grows
  wider instead, and the other columns wrap.
- ``json``: one JSON document on stdout: an array for a list command, an object for a show
  command. (``decide`` keeps its contract: one Decision v1 object per line.)
- ``csv``: a header row, then one row per item; nested values as JSON text.

In json and csv, stdout holds the data only (no counts, titles or "No rows." lines).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from .preamble import out

__all__ = ["Col", "Format", "FormatOpt", "emit_document", "emit_rows", "print_table"]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (default), json or csv.")]


@dataclass(frozen=True)
class Col:
    """A column: the row key, its header, and whether it is an identifier (never cut)."""

    key: str
    header: str | None = None
    ident: bool = False
    show: Callable[[Any], str] | None = None  # table text; default str(value), None -> "-"

    def text(self, row: Mapping[str, Any]) -> str:
        value = row.get(self.key)
        if self.show is not None:
            return self.show(value)
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else ""
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)


def _json_default(value: Any) -> Any:
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, default=_json_default)


def emit_document(doc: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(dumps(doc) + "\n")
    sys.stdout.flush()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return dumps(value)
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else value


def print_table(table: Table, ident_widths: Iterable[int] = ()) -> None:
    """Print ``table`` so that no identifier column is cut (see the module doc): piped, at its
    natural width (nothing wraps); in a terminal, wrapping the other columns, and wider than
    the terminal only when the identifiers alone need it."""
    from rich.measure import Measurement

    if not out.is_terminal:
        natural = Measurement.get(out, out.options.update(width=10_000), table).maximum
        _print_at(table, max(out.width, natural))
        return
    widths = list(ident_widths)
    need = sum(widths) + 3 * len(table.columns) + 1 + 8 * (len(table.columns) - len(widths))
    _print_at(table, max(out.width, need))


def _print_at(table: Table, width: int) -> None:
    # Console.print(width=) only narrows; widen the console for this one table
    before = out.width
    out.width = width
    try:
        out.print(table)
    finally:
        out.width = before


def build_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Col], title: str | None = None
) -> tuple[Table, list[int]]:
    table = Table(title=title)
    widths = []
    for c in columns:
        header = c.header or c.key.replace("_", " ")
        if c.ident:
            width = max([len(header), *(len(c.text(r)) for r in rows)])
            widths.append(width)
            table.add_column(header, no_wrap=True, min_width=width, overflow="ignore")
        else:
            table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(*(c.text(r) for c in columns), end_section=False)
    return table, widths


def emit_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Col],
    fmt: Format | str,
    *,
    title: str | None = None,
    empty: str | None = None,
    footer: str | None = None,
) -> None:
    """A list of records in the chosen format. JSON and CSV carry every key of the records
    (CSV: the columns' keys first, then the rest); the table shows ``columns``."""
    fmt = Format(fmt)
    if fmt is Format.json:
        emit_document(list(rows))
    elif fmt is Format.csv:
        keys = [c.key for c in columns]
        for r in rows:
            keys += [k for k in r if k not in keys]
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(keys)
        for r in rows:
            writer.writerow([_csv_cell(r.get(k)) for k in keys])
        sys.stdout.flush()
    elif not rows and empty is not None:
        out.print(empty, markup=False)
    else:
        table, widths = build_table(rows, columns, title)
        print_table(table, widths)
    if footer is not None and fmt is Format.table:  # json / csv carry the rows themselves
        out.print(footer, markup=False)
