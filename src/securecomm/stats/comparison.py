"""Policy comparison: the same caseload (same TCNs) under several packs, side by side.

``compare_policies({"tfsc-2011": path, "pep-2014": path, ...}, out_dir)`` computes per policy
the figures of ``METRICS`` and writes ``comparison.csv``, ``comparison.parquet`` and
``comparison.html`` (with an Altair chart, offline). Shares are fractions of the policy's
detainers (unconditional + conditional); null when it issued none.

Protected persons: Booking outcome v1 records *declines* for protection
(``decline_reason = protected_person``: protected and not aggravating, DESIGN 3.5) but not
whether a person who still got a detainer was protected (protected AND aggravating). The share
of detainers on protected persons is computed when the source has the proposed additive column
``protected`` (bool); otherwise it is null and the report says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from securecomm.bulk.backends import duckdb_connection

from .monthly import in_level_category, is_detainer
from .render import bar_chart, render
from .schema import LEVEL_CATEGORIES
from .source import StatsInputError, load_outcomes

__all__ = ["METRICS", "ComparisonResult", "compare_policies", "comparison_table"]

NEEDED = ("policy", "tcn", "ident_match", "action", "decline_reason", "level",
          "charge_category", "conviction_status", "ice_custody", "removed")  # fmt: skip

# (column, label, is a share)
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("bookings", "bookings", False),
    ("ident_matches", "IDENT matches", False),
    ("detainers", "detainers issued (unconditional + conditional)", False),
    ("detainers_unconditional", "unconditional detainers", False),
    ("detainers_conditional", "conditional (post-conviction) detainers", False),
    ("notification_requests", "notification requests", False),
    ("share_detainers_no_conviction", "share of detainers on people with no conviction", True),
    ("share_detainers_minor_traffic", "share of detainers on minor-traffic-only arrests", True),
    ("share_detainers_minor_traffic_no_priority",
     "share of detainers on minor-traffic-only arrests in no priority category", True),
    ("share_detainers_protected", "share of detainers on protected persons", True),
    ("declines_protected", "no detainer: protected person (victim, witness, plaintiff)", False),
    ("ice_custody", "ICE custody", False),
    *((f"ice_custody_{c}", f"ICE custody, {c.replace('_', ' ')}", False)
      for c in LEVEL_CATEGORIES),
    ("removals", "removals", False),
    *((f"removals_{c}", f"removals, {c.replace('_', ' ')}", False) for c in LEVEL_CATEGORIES),
)  # fmt: skip


@dataclass
class ComparisonResult:
    table: pa.Table  # one row per policy, columns ``policy`` + METRICS
    csv: Path
    parquet: Path
    html: Path
    notes: list[str] = field(default_factory=list)

    def row(self, policy: str) -> dict[str, Any]:
        for r in self.table.to_pylist():
            if r["policy"] == policy:
                return r
        raise KeyError(policy)


def _figures(t: ir.Table, has_protected: bool) -> ir.Table:
    detained = is_detainer(t)
    aggs: dict[str, ir.Value] = {
        "bookings": t.count(),
        "ident_matches": t.count(where=t.ident_match),
        "detainers": t.count(where=detained),
        "detainers_unconditional": t.count(where=t.action == "detainer"),
        "detainers_conditional": t.count(where=t.action == "conditional_detainer"),
        "notification_requests": t.count(where=t.action == "notification_request"),
        "no_conviction": t.count(where=detained & (t.conviction_status != "convicted")),
        "minor_traffic": t.count(where=detained & (t.charge_category == "minor_traffic")),
        # III rec. 1: no detainer for minor traffic offenses absent a higher category — under
        # tfsc-2011 this count is zero by rule; the nation tests check it is
        "minor_traffic_no_priority": t.count(
            where=detained & (t.charge_category == "minor_traffic") & t.priority.isnull()
        ),
        "declines_protected": t.count(where=t.decline_reason == "protected_person"),
        "ice_custody": t.count(where=t.ice_custody),
        "removals": t.count(where=t.removed),
    }
    if has_protected:
        aggs["protected"] = t.count(where=detained & t.protected)
    for c in LEVEL_CATEGORIES:
        aggs[f"ice_custody_{c}"] = t.count(where=t.ice_custody & in_level_category(t, c))
        aggs[f"removals_{c}"] = t.count(where=t.removed & in_level_category(t, c))
    return t.aggregate(**aggs)


def _share(part: int | None, whole: int) -> float | None:
    return None if part is None or not whole else part / whole


def comparison_table(
    sources: Mapping[str, Any], *, backend: Any = None
) -> tuple[pa.Table, list[str]]:
    """Per-policy figures (see ``METRICS``) and notes; checks that the TCNs are identical."""
    if not sources:
        raise StatsInputError("compare: no sources given")
    con = backend if backend is not None else duckdb_connection()
    notes: list[str] = []
    tables: dict[str, ir.Table] = {}
    for label, src in sources.items():
        try:
            outcomes = load_outcomes(src, policy=label, backend=con, needed=NEEDED)
        except StatsInputError as exc:
            if "is not in the source" not in str(exc):
                raise
            # a one-policy file passed under another label: use what it holds
            outcomes = load_outcomes(src, backend=con, needed=NEEDED)
            notes.append(f"source {label!r} holds policy {outcomes.policy!r}")
        tables[label] = outcomes.table
    _check_same_tcns(tables)
    rows = []
    for label, t in tables.items():
        has_protected = "protected" in t.columns and t.protected.type().is_boolean()
        f = _figures(t, has_protected).to_pyarrow().to_pylist()[0]
        row: dict[str, Any] = {"policy": label}
        for name, _, share in METRICS:
            if not share:
                row[name] = int(f[name])
        row["share_detainers_no_conviction"] = _share(f["no_conviction"], f["detainers"])
        row["share_detainers_minor_traffic"] = _share(f["minor_traffic"], f["detainers"])
        row["share_detainers_minor_traffic_no_priority"] = _share(
            f["minor_traffic_no_priority"], f["detainers"]
        )
        row["share_detainers_protected"] = _share(f.get("protected"), f["detainers"])
        rows.append({name: row[name] for name in ("policy", *(m[0] for m in METRICS))})
    if any(r["share_detainers_protected"] is None and r["detainers"] for r in rows):
        notes.append(
            "share of detainers on protected persons: not computable from Booking outcome v1 "
            "(no 'protected' column; only declines for protection are recorded) — see "
            "docs/statistics.md for the proposed additive column."
        )
    schema = pa.schema(
        [("policy", pa.string())]
        + [(name, pa.float64() if share else pa.int64()) for name, _, share in METRICS]
    )
    return pa.Table.from_pylist(rows, schema=schema), notes


def _check_same_tcns(tables: Mapping[str, ir.Table]) -> None:
    labels = list(tables)
    first = tables[labels[0]]
    n_first = _distinct_tcns(first)
    for label in labels:
        t = tables[label]
        rows, distinct = t.count().to_pyarrow().as_py(), _distinct_tcns(t)
        if rows != distinct:
            raise StatsInputError(
                f"compare: source {label!r} has {rows - distinct} duplicate TCN row(s); "
                "one row per booking is expected"
            )
        if label == labels[0]:
            continue
        a = first.select("tcn").distinct()
        b = t.select("tcn").distinct()
        only_first = a.anti_join(b, "tcn").count().to_pyarrow().as_py()
        if only_first or distinct != n_first:
            raise StatsInputError(
                f"compare: sources {labels[0]!r} and {label!r} are not the same caseload: "
                f"{n_first} vs {distinct} bookings, {only_first} TCN(s) of {labels[0]!r} "
                f"missing from {label!r}"
            )


def _distinct_tcns(t: ir.Table) -> int:
    return t.tcn.nunique().to_pyarrow().as_py()


def compare_policies(
    sources: Mapping[str, Any], out_dir: str | Path, *, backend: Any = None
) -> ComparisonResult:
    """Compare policies over one caseload; write CSV, Parquet and HTML into ``out_dir``."""
    table, notes = comparison_table(sources, backend=backend)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path, html_path = (
        out / "comparison.csv",
        out / "comparison.parquet",
        out / "comparison.html",
    )
    pacsv.write_csv(table, csv_path)
    pq.write_table(table, parquet_path)
    html_path.write_text(comparison_html(table, notes), encoding="utf-8")
    return ComparisonResult(table, csv_path, parquet_path, html_path, notes)


def comparison_html(table: pa.Table, notes: list[str]) -> str:
    rows = table.to_pylist()
    policies = [r["policy"] for r in rows]
    metrics = [
        {"label": label, "share": share, "by_policy": {r["policy"]: r[name] for r in rows}}
        for name, label, share in METRICS
    ]
    chart_rows = [
        {"policy": r["policy"], "figure": label, "count": r[name]}
        for r in rows
        for name, label in (
            ("detainers_unconditional", "unconditional detainers"),
            ("detainers_conditional", "conditional detainers"),
            ("notification_requests", "notification requests"),
            ("ice_custody", "ICE custody"),
            ("removals", "removals"),
        )
    ]
    bookings = rows[0]["bookings"] if rows else 0
    return render(
        "comparison.html.j2",
        title="Policy comparison over one caseload",
        subtitle="Detainers, notification requests, custody and removals under each policy "
        "pack (DESIGN 3.6; HSAC Task Force III rec. 1, IV rec. 2).",
        charts=[
            {
                "title": "Enforcement actions per policy",
                "spec": bar_chart(chart_rows, x="figure", y="count", color="policy"),
            }
        ],
        policies=policies,
        metrics=metrics,
        bookings=bookings,
        notes=notes,
    )
