"""``securecomm foia summary``: the headline figures as one JSON object (issue 12, item 5).

Keys are fiscal years as strings (federal fiscal year, October 1 start). A value is null where
the release does not report the field for that year (Most Serious Conviction before FY2015).
Seattle rows whose arrest date is redacted or blank fall in no fiscal year and are not counted.
CAP encounters with a blank disposition are left out of the disposition counts (the HTML report
shows them as "(blank)").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from . import sources as S


def _by_fy(rows, keep=lambda r: True) -> dict[str, int]:
    c = Counter(r["fiscal_year"] for r in rows if r["fiscal_year"] is not None and keep(r))
    return {str(fy): c[fy] for fy in sorted(c)}


def summary(tables: Mapping[str, pa.Table]) -> dict[str, Any]:
    arrests = tables["seattle_arrests"].select(
        ["fiscal_year", "arrest_method", "most_serious_conviction_status"]).to_pylist()  # fmt: skip
    without: dict[str, int | None] = {}
    by_fy: dict[int, list[str]] = defaultdict(list)
    for r in arrests:
        if r["fiscal_year"] is not None:
            by_fy[r["fiscal_year"]].append(r["most_serious_conviction_status"])
    for fy in sorted(by_fy):
        statuses = by_fy[fy]
        reported = any(s in (S.VALUE, S.BLANK) for s in statuses)
        without[str(fy)] = sum(s == S.BLANK for s in statuses) if reported else None
    encounters = tables["seattle_cap_encounters"].select(
        ["fiscal_year", "processing_disposition"]).to_pylist()  # fmt: skip
    dispositions: dict[str, Counter] = defaultdict(Counter)
    for r in encounters:
        if r["processing_disposition"] is not None:
            dispositions[str(r["fiscal_year"])][r["processing_disposition"]] += 1
    lifts = tables["npr_detainers_lifted"].select(["fiscal_year", "lift_reason"]).to_pylist()
    return {
        "seattle_arrests_by_fiscal_year": _by_fy(arrests),
        "seattle_cap_local_arrests_by_fiscal_year": _by_fy(
            arrests, lambda r: r["arrest_method"] == S.CAP_LOCAL),
        "seattle_arrests_without_conviction_by_fiscal_year": without,
        "seattle_cap_encounters_by_disposition": {
            fy: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
            for fy, c in sorted(dispositions.items())
        },
        "detainers_lifted_us_citizen_by_fiscal_year": _by_fy(
            lifts, lambda r: r["lift_reason"] == S.LIFT_US_CITIZEN),
    }  # fmt: skip
