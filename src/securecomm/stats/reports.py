"""HTML renderings of the monthly statistics and the quarterly state report."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .monthly import CELLS
from .places import county_name
from .quarterly import quarterly_wide
from .render import bar_chart, render
from .schema import CONVICTION_STATUSES, LEVEL_CATEGORIES

__all__ = ["monthly_html", "quarterly_html"]

MAX_HTML_ROWS = 500  # jurisdiction-months listed in the page; the CSV / Parquet hold all
SUMMARY = ("submissions", "ident_matches", "detainers", "notification_requests", "declines",
           "ice_custody", "removals", "holds_past_expiry")  # fmt: skip


def monthly_html(
    long: pa.Table,
    *,
    policy: str,
    month: str | None = None,
    state: str | None = None,
    suppress_below: int | None = None,
) -> str:
    order = {(c.measure, c.category): i for i, c in enumerate(CELLS)}
    totals: dict[tuple[str, str], dict[str, Any]] = {
        k: {"measure": k[0], "category": k[1], "count": 0, "suppressed": 0} for k in order
    }
    if long.num_rows:  # national tables have millions of rows: aggregate in Arrow
        grouped = long.group_by(["measure", "category"]).aggregate(
            [("count", "sum"), ("count", "count", pc.CountOptions(mode="only_null"))]
        )
        for r in grouped.to_pylist():
            cell = totals[(r["measure"], r["category"])]
            cell["count"], cell["suppressed"] = r["count_sum"] or 0, r["count_count"]
    # rows come sorted by jurisdiction-month with every cell: the first N * cells rows are
    # the first N jurisdiction-months
    n_jm = long.num_rows // len(CELLS)
    jurisdictions: dict[tuple, dict[str, Any]] = {}
    for r in long.slice(0, MAX_HTML_ROWS * len(CELLS)).to_pylist():
        key = (r["month"], r["state"], r["ori"], r["county_fips"])
        j = jurisdictions.get(key)
        if j is None:
            j = jurisdictions[key] = {
                "month": r["month"], "state": r["state"], "ori": r["ori"],
                "county_fips": r["county_fips"],
                "county_name": county_name(r["county_fips"]), "by_measure": {m: 0 for m in SUMMARY},
            }  # fmt: skip
        if r["measure"] not in SUMMARY:
            continue
        # a measure's summary is the sum of its categories; unknown if any is suppressed
        v = j["by_measure"][r["measure"]]
        j["by_measure"][r["measure"]] = None if v is None or r["count"] is None else v + r["count"]
    listed = list(jurisdictions.values())
    chart_rows = [
        {"measure": t["measure"], "category": t["category"], "count": t["count"]}
        for t in totals.values()
        if t["measure"] in ("detainers_by_charge", "detainers_by_conviction", "declines")
    ]
    charts = [{
        "title": "Detainers by most serious charge and conviction status; declines by reason",
        "spec": bar_chart(chart_rows, x="measure", y="count", color="category"),
    }] if listed else []  # fmt: skip
    return render(
        "monthly.html.j2",
        title="Monthly statistics per jurisdiction",
        subtitle="Secure Communities monthly statistics with the reasons for enforcement "
        "(HSAC Task Force I rec. 4, II rec. 4).",
        charts=charts,
        policy=policy,
        month=month,
        state=state,
        suppress_below=suppress_below,
        totals=sorted(totals.values(), key=lambda t: order[(t["measure"], t["category"])]),
        jurisdictions=listed,
        truncated=len(listed) < n_jm,
        n_jurisdiction_months=n_jm,
        summary_measures=SUMMARY,
    )


def quarterly_html(long: pa.Table, *, policy: str, quarter: str, state: str | None = None) -> str:
    wide = quarterly_wide(long)
    states: dict[str, dict[str, Any]] = {}
    for row in wide:
        st = states.setdefault(row["state"], {"state": row["state"], "level": [], "conviction": []})
        if row["dimension"] == "all":
            st[row["measure"]] = row["total"]
        else:
            st[row["dimension"]].append(row)
    chart_rows = [
        {"state": row["state"], "measure": row["measure"], "level": c, "count": n}
        for row in wide
        if row["dimension"] == "level"
        for c, n in row["counts"].items()
    ]
    charts = [{
        "title": "Detainers, ICE custody and removals by criminal level",
        "spec": bar_chart(chart_rows, x="measure", y="count", color="level"),
    }] if chart_rows else []  # fmt: skip
    return render(
        "quarterly.html.j2",
        title=f"Quarterly state report {quarter}",
        subtitle="Convicted versus non-criminal: detainers, ICE custody and removals "
        "(Colorado-style state report; HSAC Task Force II rec. 4).",
        charts=charts,
        policy=policy,
        quarter=quarter,
        state=state,
        states=list(states.values()),
        level_categories=LEVEL_CATEGORIES,
        conviction_categories=CONVICTION_STATUSES,
    )
