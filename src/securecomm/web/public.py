"""What the public may see: aggregates with small cells suppressed and the policy in force
(DESIGN 8; report I.4 "clarify the program", I rec. 4 / II rec. 4 monthly statistics).

Both are read-only views over ``stats`` and ``law``; nothing here computes a statistic or
states a rule itself."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from functools import lru_cache
from typing import Any

from ..explain import pack_summary
from ..interop.settings import load_settings
from ..policy_files import load_policy
from . import program

#: Counts 1..K-1 are published as suppressed (null), the Census-style small-cell rule the
#: statistics module implements (stats.monthly.suppress). K is an interpretation: 10 is the
#: threshold CMS and many state agencies use for public health and justice tables.
SUPPRESS_BELOW = 10
SUPPRESS_RATIONALE = (
    "Small-cell suppression of public tables (DESIGN 8: the public sees only aggregates with "
    "small cells suppressed); threshold 10, the common public-release rule (e.g. CMS cell size "
    "suppression policy)."
)

#: How long a computed statistics table is served before the store is read again: the
#: monthly tables change only as bookings arrive; this keeps 50 concurrent readers cheap.
STATS_TTL_SECONDS = 60.0

_lock = threading.Lock()


def _outcomes(svc: Any):
    from ..stats.from_store import StoreExportError, booking_outcomes_from_store

    try:
        return booking_outcomes_from_store(svc.engine)
    except StoreExportError:
        return None  # an empty store, or several policies with none chosen: nothing to publish


def statistics(svc: Any, *, month: str | None = None, state: str | None = None) -> dict[str, Any]:
    """Monthly statistics per jurisdiction (long format), counts below :data:`SUPPRESS_BELOW`
    suppressed. Cached :data:`STATS_TTL_SECONDS` per (month, state)."""
    from ..stats.monthly import monthly_statistics_table
    from ..stats.source import StatsInputError

    key = f"{month}|{state}"
    now = time.monotonic()
    hit = svc.stats_cache.get(key)
    if hit is not None and now - hit[0] < STATS_TTL_SECONDS:
        return hit[1]
    with _lock:  # one computation at a time; the others wait and read the cache
        hit = svc.stats_cache.get(key)
        if hit is not None and now - hit[0] < STATS_TTL_SECONDS:
            return hit[1]
        outcomes = _outcomes(svc)
        rows: list[dict[str, Any]] = []
        if outcomes is not None and outcomes.num_rows:
            try:
                table = monthly_statistics_table(
                    outcomes, month=month, state=state, suppress_below=SUPPRESS_BELOW
                )
            except StatsInputError as exc:
                from fastapi import HTTPException

                raise HTTPException(422, detail={"field": "month", "message": str(exc)}) from None
            rows = [
                {
                    **r,
                    "month": r["month"].isoformat()
                    if isinstance(r["month"], dt.date)
                    else r["month"],
                }
                for r in table.to_pylist()
            ]
        result = {
            "suppress_below": SUPPRESS_BELOW,
            "suppression_rationale": SUPPRESS_RATIONALE,
            "source": "Report I rec. 4 and II rec. 4: monthly statistics per jurisdiction",
            "rows": rows,
        }
        svc.stats_cache[key] = (now, result)
        return result


def statistics_json(svc: Any, *, month: str | None = None, state: str | None = None) -> bytes:
    """:func:`statistics` serialised once per cache period (thousands of rows: serialising
    them per request would cost more than computing them)."""
    key = f"json|{month}|{state}"
    result = statistics(svc, month=month, state=state)
    hit = svc.stats_cache.get(key)
    if hit is not None and hit[0] is result:
        return hit[1]
    body = json.dumps(result, separators=(",", ":"), default=str).encode("utf-8")
    svc.stats_cache[key] = (result, body)
    return body


def public_charts(svc: Any, names: dict[str, str], labels: dict[str, str]) -> list[dict[str, Any]]:
    """The public page's charts in one language, built once per statistics cache period."""
    from . import charts

    result = statistics(svc)
    key = "charts|" + labels["chart_monthly"]
    hit = svc.stats_cache.get(key)
    if hit is not None and hit[0] is result:
        return hit[1]
    built = charts.public_charts(result["rows"], names, labels)
    svc.stats_cache[key] = (result, built)
    return built


def policy_in_force(language: str = "en", *, today: dt.date | None = None) -> dict[str, Any]:
    """The pack the policy schedule puts in force today, its rules and parameters with their
    sources, and the plain-language description in ``language`` (computed once a day per
    language: the schedule and the packs do not change while the service runs)."""
    return _policy_in_force(language, today or dt.date.today())


@lru_cache(maxsize=64)
def _policy_in_force(language: str, day: dt.date) -> dict[str, Any]:
    settings = load_settings()
    schedule = settings.schedule
    name = schedule.name_on(day)
    pack = load_policy(name)
    summary = pack_summary(pack)
    return {
        "as_of": day.isoformat(),
        "policy": name,
        "schedule": schedule.describe(),
        "pack": summary,
        "description": program.describe(pack, language),
    }
