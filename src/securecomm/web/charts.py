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
    months = sorted(totals)
    return pd.DataFrame(
        {"month": months, "label": [m[:7] for m in months], "count": [totals[m] for m in months]},
        columns=["month", "label", "count"],
    )


def public_charts(
    rows: list[dict[str, Any]], names: dict[str, str], labels: dict[str, str]
) -> list[dict]:
    """[{title, spec}] for the public page, titles and axes in the page's language
    (``labels``: ``web.program`` catalog); empty when there is nothing to publish."""
    if not rows:
        return []
    charts = []
    for measure, title in (
        ("submissions", labels["chart_monthly"]),
        ("detainers", labels["chart_detainers"]),
    ):
        frame = _monthly(rows, measure)
        if frame.empty:
            continue
        spec = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                # one bar per month, labelled with its year ("2026-11")
                x=alt.X(
                    "label:O", title=labels["axis_month"], sort=None, axis=alt.Axis(labelAngle=0)
                ),
                y=alt.Y("count:Q", title=labels["axis_count"]),
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
            alt.Chart(frame)
            .mark_bar()
            .encode(
                y=alt.Y("jurisdiction:N", sort="-x", title=labels["axis_place"]),
                x=alt.X("count:Q", title=labels["axis_count"]),
                tooltip=["jurisdiction", "count"],
            )
            .properties(width="container", height=max(120, 18 * len(top)))
            .to_dict()
        )
        charts.append({"title": labels["chart_places"], "spec": spec})
    return charts
