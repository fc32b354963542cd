"""Monthly statistics per jurisdiction (TF I rec. 4, II rec. 4), in a stable long format.

``monthly_statistics`` returns one row per (jurisdiction-month, measure, category):
``month, state, ori, county_fips, measure, category, count`` (+ ``suppressed`` when small cells
are suppressed). Every jurisdiction-month present in the (filtered) data gets every
(measure, category) cell, zeros included, so the table is rectangular and stable. The measures
and their categories are ``CELLS`` (documented in docs/statistics.md).

How it runs: ONE grouped aggregation over the outcome table computes every cell as a filtered
count (a wide row per jurisdiction-month), then the wide row is unpivoted. Priority bases
(a list per booking) are counted with a ``list_contains`` per known basis, so there is no
unnest and no second scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from .schema import CHARGE_CATEGORIES as _CHARGE
from .schema import CONVICTION_STATUSES as _CONVICTION
from .schema import (
    DECLINE_REASONS,
    DETAINER_KINDS,
    LEVEL_CATEGORIES,
    PRIORITY_BASES,
    PROGRAMS,
    STATUS_CATEGORIES,
)
from .source import StatsInputError, load_outcomes, parse_month, parse_state

__all__ = [
    "CELLS",
    "KEYS",
    "MEASURES",
    "Cell",
    "monthly_statistics",
    "monthly_statistics_table",
    "suppress",
]

KEYS = ("month", "state", "ori", "county_fips")
LONG_COLUMNS = (*KEYS, "measure", "category", "count")

# The outcome columns the monthly statistics read.
NEEDED = (
    "policy", "month", "state", "ori", "county_fips", "ident_match", "status_category",
    "action", "decline_reason", "level", "priority_bases", "charge_category",
    "conviction_status", "ice_custody", "removed", "held_past_expiry", "program",
)  # fmt: skip

Pred = Callable[[ir.Table], ir.BooleanValue]


@dataclass(frozen=True)
class Cell:
    measure: str
    category: str
    where: Pred  # which bookings the cell counts
    # the narrowest SCOPES entry that ``where`` implies: the cell is counted over those rows
    # only (a cheaper aggregation; tests/stats check the result against a plain recount)
    scope: str = "relevant"


def is_detainer(t: ir.Table) -> ir.BooleanValue:
    """Detainers of either kind (unconditional or conditional) — every report counts both."""
    return t.action.isin(["detainer", "conditional_detainer"])


def in_level_category(t: ir.Table, category: str) -> ir.BooleanValue:
    """The booking's ``LEVEL_CATEGORIES`` value: ``level_N``, or ``non_criminal`` (no level)."""
    if category == "non_criminal":
        return t.level.isnull()
    return t.level == int(category.rsplit("_", 1)[1])


def _known_basis(t: ir.Table, basis: str) -> ir.BooleanValue:
    return t.priority_bases.contains(basis)


def _other_basis(t: ir.Table) -> ir.BooleanValue:
    known = [b for b in PRIORITY_BASES if b != "other"]
    return t.priority_bases.filter(lambda b: ~b.isin(known)).length() > 0


def _cells() -> tuple[Cell, ...]:
    cells = [
        Cell("submissions", "all", lambda t: ibis.literal(True), scope="all"),
        Cell("ident_matches", "all", lambda t: t.ident_match),
    ]
    cells += [
        Cell("hits_by_status", s, lambda t, s=s: t.ident_match & (t.status_category == s))
        for s in STATUS_CATEGORIES
    ]
    kinds = dict(zip(DETAINER_KINDS, ("detainer", "conditional_detainer"), strict=True))
    cells += [Cell("detainers", k, lambda t, a=a: t.action == a) for k, a in kinds.items()]
    cells.append(Cell("notification_requests", "all", lambda t: t.action == "notification_request"))
    cells += [Cell("declines", r, lambda t, r=r: t.decline_reason == r) for r in DECLINE_REASONS]
    for measure, flag in (("ice_custody", "ice_custody"), ("removals", "removed")):
        cells += [
            Cell(measure, c, lambda t, c=c, f=flag: t[f] & in_level_category(t, c), scope="custody")
            for c in LEVEL_CATEGORIES
        ]
    cells += [
        Cell(
            "detainers_by_charge",
            c,
            lambda t, c=c: is_detainer(t) & (t.charge_category == c),
            scope="detained",
        )
        for c in _CHARGE
    ]
    cells += [
        Cell(
            "detainers_by_conviction",
            c,
            lambda t, c=c: is_detainer(t) & (t.conviction_status == c),
            scope="detained",
        )
        for c in _CONVICTION
    ]
    cells += [
        Cell(
            "detainers_by_priority_basis",
            b,
            (lambda t: is_detainer(t) & _other_basis(t))
            if b == "other"
            else (lambda t, b=b: is_detainer(t) & _known_basis(t, b)),
            scope="detained",
        )
        for b in PRIORITY_BASES
    ]
    cells.append(Cell("holds_past_expiry", "all", lambda t: t.held_past_expiry))
    # the originating program (TF I rec. 3): bookings and detainers per program
    cells += [
        Cell("submissions_by_program", p, lambda t, p=p: t.program == p, scope="all")
        for p in PROGRAMS
    ]
    cells += [
        Cell("detainers_by_program", p, lambda t, p=p: is_detainer(t) & (t.program == p),
             scope="detained")
        for p in PROGRAMS
    ]  # fmt: skip
    return tuple(cells)


CELLS = _cells()
MEASURES = tuple(dict.fromkeys(c.measure for c in CELLS))


@ibis.udf.agg.builtin(name="count_if")
def count_if(condition: bool) -> int:  # type: ignore[empty-body]
    """Rows where ``condition`` is true (null: not counted). DuckDB and Spark SQL built-in;
    measured ~25% less CPU than ``COUNT(*) FILTER (WHERE ...)`` on DuckDB 2."""


def _cell_column(i: int) -> str:
    # "c007|hits_by_status|parolee": the prefix sorts in CELLS order, the rest names the cell
    c = CELLS[i]
    return f"c{i:03d}|{c.measure}|{c.category}"


def monthly_statistics(
    source: Any,
    *,
    month: str | dt.date | None = None,
    state: str | None = None,
    policy: str | None = None,
    backend: Any = None,
    suppress_below: int | None = None,
) -> ir.Table:
    """The monthly statistics of ``source`` (see the module doc) as a lazy Ibis table, ordered
    by month, state, ori, county_fips and the order of ``CELLS``.

    ``month`` ("YYYY-MM" or a date) and ``state`` (USPS code) filter the bookings;
    ``policy`` picks one policy when the source holds several; ``suppress_below=K`` hides
    counts 1..K-1 (``count`` null, ``suppressed`` true) for public release (DESIGN 8).
    """
    outcomes = load_outcomes(source, policy=policy, backend=backend, needed=NEEDED)
    t = outcomes.table
    if month is not None:
        first = month if isinstance(month, dt.date) else parse_month(month)
        if first.day != 1:
            raise StatsInputError(f"month: expected the first day of a month, got {first}")
        t = t.filter(t.month == ibis.literal(first, type="date"))
    if state is not None:
        t = t.filter(t.state == parse_state(state))
    return long_statistics(t, suppress_below=suppress_below)


# Which rows each scope's aggregation reads. A booking in no scope but "all" (no IDENT match,
# no action, no decline, no hold, no custody, no removal) adds to ``submissions`` only.
SCOPES: dict[str, Pred] = {
    "all": lambda t: ibis.literal(True),
    "relevant": lambda t: (
        t.ident_match | t.action.notnull() | t.decline_reason.notnull() | t.held_past_expiry
    ).fill_null(False),
    "custody": lambda t: (t.ice_custody | t.removed).fill_null(False),
    "detained": lambda t: is_detainer(t).fill_null(False),
}


def long_statistics(t: ir.Table, *, suppress_below: int | None = None) -> ir.Table:
    """The long table of an already validated, filtered outcome table.

    Measured on DuckDB: the cost of a grouped aggregation grows with rows x aggregates (each
    filtered count scatters into the group states), so each cell is counted only over the rows
    of its scope — every booking for ``submissions``, the ~30% "relevant" bookings for most
    cells, the detained ones for the ``detainers_by_*`` cells — and the three narrow wide
    tables are stacked and summed per jurisdiction-month (no join: null county_fips groups
    as one). Then one unpivot; rows are ordered by an integer rank of the jurisdiction-month
    computed on the small wide table, not by sorting the strings of the long one.
    """
    names = [_cell_column(i) for i in range(len(CELLS))]
    parts = []
    for scope, keep in SCOPES.items():
        rows = t if scope == "all" else t.filter(keep(t))
        # a null condition is not counted (two-valued, as in law.expr)
        counts = {
            n: rows.count()
            if (c.measure, c.category) == ("submissions", "all")
            else count_if(c.where(rows))
            for n, c in zip(names, CELLS, strict=True)
            if c.scope == scope
        }
        part = rows.group_by(list(KEYS)).aggregate(**counts)
        zero = ibis.literal(0, type="int64")
        parts.append(part.select(*KEYS, **{n: part[n] if n in counts else zero for n in names}))
    stacked = ibis.union(*parts, distinct=False)
    wide = stacked.group_by(list(KEYS)).aggregate(**{n: stacked[n].sum() for n in names})
    wide = wide.mutate(_rank=ibis.row_number().over(order_by=list(KEYS)))
    long = wide.pivot_longer(names, names_to="cell", values_to="count")
    cell = long.cell.split("|")
    long = long.mutate(
        measure=cell[1], category=cell[2], count=long["count"].cast("int64")
    ).order_by(["_rank", "cell"])
    long = long.select(*LONG_COLUMNS)
    return suppress(long, suppress_below) if suppress_below is not None else long


def suppress(long: ir.Table, below: int) -> ir.Table:
    """Small-cell suppression (DESIGN 8): counts 1..below-1 become null, ``suppressed`` true.

    Zeros stay: a zero reveals no person. ``below`` 1 suppresses nothing (flag still added).
    """
    if isinstance(below, bool) or not isinstance(below, int) or below < 1:
        raise StatsInputError(f"suppress_below: expected an integer >= 1, got {below!r}")
    small = (long["count"] > 0) & (long["count"] < below)
    return long.mutate(
        count=ibis.ifelse(small, ibis.null().cast("int64"), long["count"]), suppressed=small
    )


def monthly_statistics_table(source: Any, **kwargs: Any) -> pa.Table:
    """``monthly_statistics`` executed: a pyarrow Table (``month`` a date32 column)."""
    return monthly_statistics(source, **kwargs).to_pyarrow()
