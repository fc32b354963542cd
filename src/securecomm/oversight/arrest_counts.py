"""Arrest counts v1: all local arrests per jurisdiction, month, ethnicity and offense class.

The input of the bias and pretext monitor (HSAC Task Force IV rec. 5; docs/formats.md,
"Arrest counts v1"). Two tables:

- **arrests** (Parquet or CSV): ``ori``, ``month`` (``YYYY-MM``), ``ethnicity`` (``H`` Hispanic |
  ``N`` not Hispanic | ``U`` unknown), ``offense_class`` (``minor_traffic`` |
  ``minor_misdemeanor`` | ``other``), ``arrests`` (a non-negative integer). One row per cell; a
  cell absent from a jurisdiction-month that has other rows counts as zero.
- **activations** (CSV or Parquet): ``ori``, ``activated_on`` (``YYYY-MM-DD``; empty: not
  activated within the data).

Reading validates every row: a bad row is kept aside with its line (CSV: the file line, header =
line 1; Parquet: row number + 1, as if it had a header), the field and the reason, and never
costs a good row. Values are never echoed into messages (they may hold anything); the line and
field identify the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = [
    "ACTIVATION_COLUMNS",
    "ARREST_COLUMNS",
    "ETHNICITIES",
    "MINOR_CLASSES",
    "OFFENSE_CLASSES",
    "Activations",
    "ArrestCounts",
    "ArrestInputError",
    "Rejected",
    "read_activations",
    "read_arrests",
    "validate_arrests",
]

ETHNICITIES = ("H", "N", "U")
# minor traffic and minor misdemeanors: the petty offenses of TF III.1 and of Gardner & Kohli
# (2009), whose rise after 24-hour ICE access in Irving, TX is the pretext signal
OFFENSE_CLASSES = ("minor_traffic", "minor_misdemeanor", "other")
MINOR_CLASSES = ("minor_traffic", "minor_misdemeanor")
ARREST_COLUMNS = ("ori", "month", "ethnicity", "offense_class", "arrests")
ACTIVATION_COLUMNS = ("ori", "activated_on")
ORI_PATTERN = r"^[A-Z]{2}[0-9A-Z]{7}$"  # NCIC ORI: state + 7 alphanumerics
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MAX_ARRESTS = 10_000_000  # per cell: more than any county's arrests in a month, by far


class ArrestInputError(ValueError):
    """The file cannot be read at all (missing, wrong columns, not CSV / Parquet)."""


@dataclass(frozen=True)
class Rejected:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ArrestCounts:
    """Validated arrest counts: ``table`` has ori (string), month (date32, first of month),
    ethnicity, offense_class, arrests (int64); ``rejected`` the rows kept aside."""

    table: pa.Table
    rejected: list[Rejected] = field(default_factory=list)


def _read(path: str | Path, columns: tuple[str, ...], what: str) -> pa.Table:
    p = Path(path)
    if not p.is_file():
        raise ArrestInputError(f"{what}: no such file {str(p)!r}")
    try:
        if p.suffix.lower() == ".parquet":
            table = pq.read_table(p)
            missing = [c for c in columns if c not in table.column_names]
            if missing:
                raise ArrestInputError(f"{what}: missing column(s) {', '.join(missing)}")
            # every value as text, so one validation path serves CSV and Parquet
            return pa.table({c: _as_text(table[c]) for c in columns})
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(encoding="utf-8"),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=False,
                include_columns=list(columns),
            ),
        )
    except ArrestInputError:
        raise
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "not found" in first.lower() and "column" in first.lower():
            raise ArrestInputError(
                f"{what}: missing column(s); expected {', '.join(columns)}"
            ) from None
        raise ArrestInputError(f"{what}: cannot read {p.name}: {first[:200]}") from None
    return table


def _as_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_date(col.type):
        return pc.strftime(col.cast(pa.timestamp("s")), format="%Y-%m-%d")
    if pa.types.is_timestamp(col.type):
        return pc.strftime(col, format="%Y-%m-%d")
    return col.cast(pa.string())


def _bad(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, True).to_numpy(zero_copy_only=False), dtype=bool)


def _reject(rejected: dict[int, Rejected], bad: np.ndarray, name: str, reason: str) -> None:
    for i in np.flatnonzero(bad):
        rejected.setdefault(int(i), Rejected(int(i) + 2, name, reason))


def read_arrests(path: str | Path) -> ArrestCounts:
    """Read and validate an Arrest counts v1 file (see the module doc)."""
    return validate_arrests(_read(path, ARREST_COLUMNS, "ARRESTS"))


def validate_arrests(raw: pa.Table) -> ArrestCounts:
    """Validate an Arrest counts v1 table held in memory (columns as text or integers)."""
    missing = [c for c in ARREST_COLUMNS if c not in raw.column_names]
    if missing:
        raise ArrestInputError(f"ARRESTS: missing column(s) {', '.join(missing)}")
    raw = pa.table({c: _as_text(raw[c]) for c in ARREST_COLUMNS})
    n = raw.num_rows
    rejected: dict[int, Rejected] = {}
    ori = pc.utf8_trim_whitespace(raw["ori"])
    _reject(
        rejected,
        _bad(pc.invert(pc.match_substring_regex(ori, ORI_PATTERN))),
        "ori",
        "expected an ORI of 9 characters: 2 capital letters and 7 letters or digits",
    )
    month = pc.utf8_trim_whitespace(raw["month"])
    _reject(
        rejected,
        _bad(pc.invert(pc.match_substring_regex(month, MONTH_PATTERN))),
        "month",
        "expected YYYY-MM",
    )
    eth = pc.utf8_trim_whitespace(raw["ethnicity"])
    _reject(
        rejected,
        _bad(pc.invert(pc.is_in(eth, pa.array(ETHNICITIES)))),
        "ethnicity",
        "expected H, N or U",
    )
    cls = pc.utf8_trim_whitespace(raw["offense_class"])
    _reject(
        rejected,
        _bad(pc.invert(pc.is_in(cls, pa.array(OFFENSE_CLASSES)))),
        "offense_class",
        f"expected one of {', '.join(OFFENSE_CLASSES)}",
    )
    text = pc.utf8_trim_whitespace(raw["arrests"])
    digits = _bad(pc.invert(pc.match_substring_regex(text, r"^[0-9]{1,9}$")))
    _reject(rejected, digits, "arrests", "expected a non-negative whole number")
    count = np.zeros(n, dtype=np.int64)
    ok_digits = ~digits
    if ok_digits.any():
        count[ok_digits] = pc.cast(pc.filter(text, pa.array(ok_digits)), pa.int64()).to_numpy()
    _reject(rejected, count > MAX_ARRESTS, "arrests", f"more than {MAX_ARRESTS:,} in one cell")
    keep = np.ones(n, dtype=bool)
    keep[list(rejected)] = False
    # duplicates of a cell: the first row counts, later ones are rejected (never summed: a
    # repeated row is more likely a double export than two real counts)
    key = pc.binary_join_element_wise(ori, month, eth, cls, "|")
    idx = np.flatnonzero(keep)
    # first occurrence of each key, by Arrow's hash kernel (numpy on strings is far slower)
    codes = pc.dictionary_encode(key.take(pa.array(idx))).combine_chunks().indices.to_numpy()
    first = np.full(int(codes.max()) + 1 if len(codes) else 0, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    dup = np.ones(len(idx), dtype=bool)
    dup[first[first < len(codes)]] = False
    for i in idx[dup]:
        rejected[int(i)] = Rejected(
            int(i) + 2,
            "ori,month,ethnicity,offense_class",
            "duplicate cell (the first row is kept)",
        )
    keep[idx[dup]] = False
    mask = pa.array(keep)
    months = pc.strptime(
        pc.binary_join_element_wise(pc.filter(month, mask), "01", "-"), format="%Y-%m-%d", unit="s"
    ).cast(pa.date32())
    table = pa.table({
        "ori": pc.filter(ori, mask),
        "month": months,
        "ethnicity": pc.filter(eth, mask),
        "offense_class": pc.filter(cls, mask),
        "arrests": pa.array(count[keep]),
    })  # fmt: skip
    return ArrestCounts(table, [rejected[i] for i in sorted(rejected)])


@dataclass
class Activations:
    """ori -> activation date (None: not activated within the data); rejected rows."""

    dates: dict[str, dt.date | None]
    rejected: list[Rejected] = field(default_factory=list)


def read_activations(path: str | Path) -> Activations:
    """Read and validate an activations table (``ori``, ``activated_on``)."""
    raw = _read(path, ACTIVATION_COLUMNS, "--activations")
    dates: dict[str, dt.date | None] = {}
    rejected: list[Rejected] = []
    oris = raw["ori"].to_pylist()
    ons = raw["activated_on"].to_pylist()
    for i, (ori, on) in enumerate(zip(oris, ons, strict=True)):
        line = i + 2
        ori = (ori or "").strip()
        if (
            not ori
            or len(ori) != 9
            or not ori.isascii()
            or not ori.isalnum()
            or not (ori[:2].isalpha() and ori.upper() == ori)
        ):
            rejected.append(Rejected(line, "ori", "expected an ORI of 9 characters: 2 capital "
                                                  "letters and 7 letters or digits"))  # fmt: skip
            continue
        text = (on or "").strip()
        if not text:
            value = None
        else:
            try:
                if len(text) != 10:
                    raise ValueError
                value = dt.date.fromisoformat(text)
            except ValueError:
                rejected.append(Rejected(line, "activated_on", "expected YYYY-MM-DD or empty"))
                continue
        if ori in dates:
            rejected.append(Rejected(line, "ori", "duplicate jurisdiction (the first row is kept)"))
            continue
        dates[ori] = value
    return Activations(dates, rejected)
