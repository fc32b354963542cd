"""Quarterly state report, Colorado style: convicted versus non-criminal (TF II rec. 4).

Per state and CALENDAR quarter (``YYYY-Qn``: Q1 = January-March). Interpretation: calendar
quarters, because ``YYYY-Qn`` then reads unambiguously and the booking ``month`` is a calendar
month in the jurisdiction's local time; a federal-fiscal view (Q1 = October-December) is the
same table over shifted months and is not offered, to keep one meaning per label.

For each of ``detainers`` (unconditional + conditional), ``ice_custody`` and ``removals``:
the split by criminal level (``level_1``, ``level_2``, ``level_3``, ``non_criminal`` = no
level) and by conviction status (``convicted``, ``charged_only``, ``no_criminal_history``).
Context rows: ``submissions`` and ``ident_matches`` (dimension ``all``). Long format:
``quarter, state, measure, dimension, category, count``, zero cells included for every state
present in the quarter.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from .monthly import in_level_category, is_detainer, suppress
from .schema import CONVICTION_STATUSES, LEVEL_CATEGORIES
from .source import load_outcomes, parse_quarter, parse_state

__all__ = ["QUARTERLY_CELLS", "quarterly_report"]

NEEDED = ("policy", "month", "state", "ident_match", "action", "level", "conviction_status",
          "ice_custody", "removed")  # fmt: skip
QUARTERLY_COLUMNS = ("quarter", "state", "measure", "dimension", "category", "count")


def _subject(t: ir.Table, measure: str) -> ir.BooleanValue:
    if measure == "detainers":
        return is_detainer(t)
    return t.ice_custody if measure == "ice_custody" else t.removed


def _cells():
    cells = [
        ("submissions", "all", "all", lambda t: ibis.literal(True)),
        ("ident_matches", "all", "all", lambda t: t.ident_match),
    ]
    for measure in ("detainers", "ice_custody", "removals"):
        for c in LEVEL_CATEGORIES:
            cells.append(
                (measure, "level", c,
                 lambda t, m=measure, c=c: _subject(t, m) & in_level_category(t, c))
            )  # fmt: skip
        for c in CONVICTION_STATUSES:
            cells.append(
                (measure, "conviction", c,
                 lambda t, m=measure, c=c: _subject(t, m) & (t.conviction_status == c))
            )  # fmt: skip
    return tuple(cells)


QUARTERLY_CELLS = _cells()


def quarterly_report(
    source: Any,
    *,
    quarter: str,
    state: str | None = None,
    policy: str | None = None,
    backend: Any = None,
    suppress_below: int | None = None,
) -> ir.Table:
    """The quarterly state report of ``source`` for ``quarter`` ("YYYY-Qn", calendar).

    ``suppress_below=K`` hides counts 1..K-1 exactly as the monthly statistics do
    (``monthly.suppress``: ``count`` null, ``suppressed`` true); for suppression that also
    holds against the other published tables see ``stats.disclosure``."""
    start, end = parse_quarter(quarter)
    label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    outcomes = load_outcomes(source, policy=policy, backend=backend, needed=NEEDED)
    t = outcomes.table
    t = t.filter(
        (t.month >= ibis.literal(start, type="date")) & (t.month < ibis.literal(end, type="date"))
    )
    if state is not None:
        t = t.filter(t.state == parse_state(state))
    names = [f"c{i:03d}|{m}|{d}|{c}" for i, (m, d, c, _) in enumerate(QUARTERLY_CELLS)]
    wide = t.group_by("state").aggregate(
        **{n: t.count(where=cell[3](t)) for n, cell in zip(names, QUARTERLY_CELLS, strict=True)}
    )
    long = wide.pivot_longer(names, names_to="cell", values_to="count")
    parts = long.cell.split("|")
    long = long.mutate(
        quarter=ibis.literal(label),
        measure=parts[1],
        dimension=parts[2],
        category=parts[3],
        count=long["count"].cast("int64"),
    )
    long = long.order_by(["state", "cell"]).select(*QUARTERLY_COLUMNS)
    return suppress(long, suppress_below) if suppress_below is not None else long


def quarterly_wide(long) -> list[dict[str, Any]]:
    """Rows of the Colorado-style table: one per (state, measure, dimension), categories as
    columns, plus the convicted share (convicted / all, null when there are none)."""
    rows: dict[tuple, dict[str, Any]] = {}
    for r in long.to_pylist():
        key = (r["state"], r["measure"], r["dimension"])
        row = rows.setdefault(key, {"state": r["state"], "measure": r["measure"],
                                    "dimension": r["dimension"], "counts": {}})  # fmt: skip
        row["counts"][r["category"]] = r["count"]
    out = list(rows.values())
    for row in out:
        if any(v is None for v in row["counts"].values()):
            # a suppressed cell: a total or share would reveal it
            row["total"], row["convicted_share"] = None, None
            continue
        total = sum(row["counts"].values())
        row["total"] = total
        if row["dimension"] == "conviction":
            row["convicted_share"] = row["counts"].get("convicted", 0) / total if total else None
        elif row["dimension"] == "level":
            non = row["counts"].get("non_criminal", 0)
            row["convicted_share"] = (total - non) / total if total else None
        else:
            row["convicted_share"] = None
    return out
