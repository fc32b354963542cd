"""Synthetic Booking outcome v1 tables for tests and benchmarks (numpy, fast: ~10M rows/min).

``generate_outcomes`` draws bookings that respect the contract's invariants (a status only on
an IDENT match, an action only on a match, a decline reason only on ``no_detainer``, custody
only after a detainer, removal only from custody, a level only for the convicted …), so the
statistics see realistic combinations. The shares are arbitrary round numbers, not
calibrations: synthetic data only (DESIGN 1).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .schema import (
    ACTIONS,
    BOOKING_OUTCOME_SCHEMA,
    CHARGE_CATEGORIES,
    CONVICTION_STATUSES,
    DECLINE_REASON_BY_RULE,
    PRIORITY_BASES,
    STATUS_CATEGORIES,
)

__all__ = ["generate_outcomes", "jurisdictions"]

_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY",
)  # fmt: skip
_RULE_BY_REASON = {v: k for k, v in DECLINE_REASON_BY_RULE.items()}


def jurisdictions(n: int) -> tuple[list[str], list[str], list[str | None]]:
    """``n`` synthetic jurisdictions: (ori, state, county_fips); every 10th has no county."""
    oris, states, counties = [], [], []
    for j in range(n):
        state = _STATES[j % len(_STATES)]
        oris.append(f"{state}{j:05d}00")
        states.append(state)
        counties.append(None if j % 10 == 9 else f"{(j % len(_STATES)) + 1:02d}{j % 1000:03d}")
    return oris, states, counties


def _choice(rng: np.random.Generator, n: int, p: list[float]) -> np.ndarray:
    cum = np.cumsum(p)
    return np.searchsorted(cum / cum[-1], rng.random(n), side="right").astype(np.int8)


def _take(values: list, idx: np.ndarray, dtype=pa.string()) -> pa.Array:
    return pa.array(values, dtype).take(pa.array(idx))


def generate_outcomes(
    rows: int,
    *,
    jurisdictions_n: int = 3200,
    months: int = 12,
    start: dt.date = dt.date(2012, 1, 1),
    policy: str = "tfsc-2011",
    seed: int = 0,
) -> pa.Table:
    """``rows`` bookings over ``jurisdictions_n`` jurisdictions and ``months`` months."""
    if rows < 0 or jurisdictions_n < 1 or months < 1:
        raise ValueError("rows >= 0, jurisdictions_n >= 1 and months >= 1 required")
    rng = np.random.default_rng(seed)
    n = rows
    # jurisdictions are unequal in size (a few large counties book most people)
    weights = 1.0 / np.arange(1, jurisdictions_n + 1) ** 0.8
    jur = np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n), side="right")
    jur = np.minimum(jur, jurisdictions_n - 1)
    oris, states, counties = jurisdictions(jurisdictions_n)
    month_index = rng.integers(0, months, n)
    firsts = []
    for m in range(months):
        y, mo = divmod(start.month - 1 + m, 12)
        firsts.append(dt.date(start.year + y, mo + 1, 1))
    month_days = np.array([(d - dt.date(1970, 1, 1)).days for d in firsts], dtype=np.int32)
    day = month_days[month_index]
    booked_us = (day.astype(np.int64) * 86_400 + rng.integers(0, 28 * 86_400, n) + 6 * 3600) * (
        1_000_000
    )

    ident = rng.random(n) < 0.3
    status = _choice(rng, n, [3, 4, 12, 4, 3, 2, 40, 25, 7])
    citizen = status <= 1
    unknown = status == len(STATUS_CATEGORIES) - 1
    action = _choice(rng, n, [0, 30, 8, 55, 7])  # index into ACTIONS
    action = np.where(citizen | unknown, 0, action).astype(np.int8)
    reason = _choice(rng, n, [35, 15, 20, 30])  # DECLINE_REASONS order
    declined = ident & (action == 1)
    convicted = _choice(rng, n, [45, 25, 30])  # CONVICTION_STATUSES order
    level = np.where(convicted == 0, rng.integers(1, 4, n), 0).astype(np.int8)
    charge = _choice(rng, n, [15, 15, 10, 35, 25])
    detained = ident & ((action == 2) | (action == 3))
    custody = detained & (rng.random(n) < 0.5)
    removed = custody & (rng.random(n) < 0.6)
    past_expiry = detained & ~custody & (rng.random(n) < 0.02)

    # priority bases: 0-3 labels for matched removable bookings, with a rare variant label
    labels = [b for b in PRIORITY_BASES if b != "other"] + ["9(z)"]
    nb = np.where(ident & (action >= 1), rng.integers(0, 4, n), 0)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(nb, out=offsets[1:])
    p = np.ones(len(labels))
    p[-1] = 0.02
    values = _take(labels, _choice(rng, int(offsets[-1]), list(p)))
    bases = pa.ListArray.from_arrays(pa.array(offsets), values)
    bases = pc.if_else(pa.array(ident), bases, pa.nulls(n, bases.type))

    def masked(arr: pa.Array, mask: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(mask), arr, pa.nulls(n, arr.type))

    tcn = pc.binary_join_element_wise("T", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    action_arr = _take(list(ACTIONS), action)
    reasons = list(_RULE_BY_REASON)
    level_arr = pa.array(level, pa.int8())
    columns = {
        "policy": _take([policy], np.zeros(n, np.int8)),
        "tcn": tcn,
        "booked_at": pa.array(booked_us, pa.timestamp("us", tz="UTC")),
        "month": pa.array(day, pa.date32()),
        "ori": _take(oris, jur),
        "state": _take(states, jur),
        "county_fips": _take(counties, jur),
        "program": _take(
            ["secure_communities", "287g", "criminal_alien_program"], _choice(rng, n, [85, 5, 10])
        ),
        "race": _take(["W", "B", "A", "I", "U"], _choice(rng, n, [60, 25, 5, 2, 8])),
        "ethnicity": _take(["H", "N", "U"], _choice(rng, n, [35, 55, 10])),
        "ident_match": pa.array(ident),
        "status_category": masked(_take(list(STATUS_CATEGORIES), status), ident),
        "action": masked(action_arr, ident),
        "action_rule": masked(_take([_RULE_BY_REASON[r] for r in reasons], reason), declined),
        "decline_reason": masked(_take(reasons, reason), declined),
        "level": masked(level_arr, level > 0),
        "priority": masked(_take(["1", "2", "3"], _choice(rng, n, [60, 25, 15])), nb > 0),
        "priority_bases": bases,
        # protected: every protection decline, and ~1% of the rest (protected but aggravating)
        "protected": masked(
            pa.array(
                (declined & (np.asarray(reasons, dtype=object)[reason] == "protected_person"))
                | (rng.random(n) < 0.01)
            ),
            ident,
        ),
        "charge_category": _take(list(CHARGE_CATEGORIES), charge),
        "conviction_status": _take(list(CONVICTION_STATUSES), convicted),
        "ice_custody": pa.array(custody),
        "removed": pa.array(removed),
        "held_past_expiry": pa.array(past_expiry),
    }
    return pa.table(columns, schema=BOOKING_OUTCOME_SCHEMA)
