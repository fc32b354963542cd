"""Charts of the public statistics page (Altair, rendered offline by the inlined Vega bundle
of ``stats.render``): months with their years on the time axis, jurisdictions by name."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import altair as alt
import pandas as pd


def _monthly(rows: list[dict[str, Any]], measure: str) -> pd.DataFrame:
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["measure"] == measure and r["count"] is not None:
            totals[r["month"]] += r["count"]
    return pd.DataFrame(
        {"month": list(totals), "count": list(totals.values())}, columns=["month", "count"]
    )


def public_charts(rows: list[dict[str, Any]], names: dict[str, str] | None = None) -> list[dict]:
    """[{title, spec}] for the public page; empty when there is nothing to publish."""
    if not rows:
        return []
    names = names or {}
    charts = []
    for measure, title in (
        ("submissions", "Bookings checked, per month"),
        ("detainers", "Detainers lodged, per month (suppressed cells left out)"),
    ):
        frame = _monthly(rows, measure)
        if frame.empty:
            continue
        spec = (
            alt.Chart(frame, title=title)
            .mark_bar()
            .encode(
                x=alt.X("yearmonth(month):T", title="Month", axis=alt.Axis(format="%b %Y")),
                y=alt.Y("count:Q", title="Count"),
                tooltip=["month", "count"],
            )
            .properties(width="container", height=220)
            .to_dict()
        )
        charts.append({"title": title, "spec": spec})
    by_place: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["measure"] == "submissions" and r["count"] is not None:
            label = names.get(r["ori"]) or r.get("county_fips") or r["ori"]
            by_place[f"{label} ({r['state']})"] += r["count"]
    if by_place:
        top = sorted(by_place.items(), key=lambda kv: -kv[1])[:20]
        frame = pd.DataFrame(top, columns=["jurisdiction", "count"])
        spec = (
            alt.Chart(frame, title="Bookings checked by jurisdiction (20 largest)")
            .mark_bar()
            .encode(
                y=alt.Y("jurisdiction:N", sort="-x", title="Jurisdiction (county, state)"),
                x=alt.X("count:Q", title="Bookings"),
                tooltip=["jurisdiction", "count"],
            )
            .properties(width="container", height=max(120, 18 * len(top)))
            .to_dict()
        )
        charts.append({"title": "By jurisdiction", "spec": spec})
    return charts
