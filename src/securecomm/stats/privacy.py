"""Noisy monthly counts under a declared privacy budget (OpenDP), with a public ledger.

Suppression hides every small cell, and the complementary cells with them; differential
privacy publishes *every* cell with calibrated noise instead, and bounds what anyone can learn
about one booking whatever else they know (the Census TopDown design; OpenDP). Per month, the
cells of ``measures`` (each a partition of the bookings of a jurisdiction-month: a booking adds
one to at most one cell of each) are released as one vector through OpenDP's discrete Laplace
mechanism (``then_laplace`` on integers). Adding or removing one booking changes that vector by
at most ``len(measures)`` in L1 norm, so the noise scale is ``len(measures) / epsilon`` and the
month costs exactly ``epsilon`` (OpenDP's own privacy map computes it; the ledger records it).
Months hold disjoint bookings (a booking belongs to one month), so months compose in parallel:
the budget is ``epsilon`` a month.

The ledger is public: per month, the measures, the sensitivity, the scale, the epsilon spent
and the *expected* error of a cell (a property of the mechanism, not of the data: publishing the
realised error would leak what the noise hides). The realised error is measured by the
publisher and reported to the operator and in the tests and docs, not published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .source import StatsInputError

__all__ = ["DEFAULT_MEASURES", "NoisyRelease", "noisy_monthly"]

# partitions of a jurisdiction-month's bookings (each booking in at most one cell of each):
# the headline counts; more measures cost more noise per cell at the same budget
DEFAULT_MEASURES = ("submissions", "detainers")
PARTITIONS = ("submissions", "ident_matches", "hits_by_status", "detainers",
              "notification_requests", "declines", "detainers_by_charge",
              "detainers_by_conviction", "holds_past_expiry")  # fmt: skip


@dataclass
class NoisyRelease:
    table: pd.DataFrame  # month, state, ori, county_fips, measure, category, count (noisy)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    measured: dict[str, float] = field(default_factory=dict)  # realised error: NOT public


def _discrete_laplace_quantile(scale: float, level: float) -> int:
    """Smallest k with P(|X| <= k) >= level for OpenDP's discrete Laplace of ``scale``:
    P(|X| <= k) = 1 - 2 r^(k+1) / (1 + r), r = exp(-1 / scale)."""
    r = math.exp(-1.0 / scale)
    k = 0
    while 1 - 2 * r ** (k + 1) / (1 + r) < level:
        k += 1
    return k


def noisy_monthly(
    monthly: pd.DataFrame,
    *,
    epsilon: float,
    measures: tuple[str, ...] = DEFAULT_MEASURES,
    seed_note: str = "OpenDP system randomness",
) -> NoisyRelease:
    """Noisy counts of ``monthly`` (the long monthly table, true counts) for ``measures``."""
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, (int, float))
        or not (0 < epsilon <= 10 and math.isfinite(epsilon))
    ):
        raise StatsInputError(f"--privacy-budget: expected a number in (0, 10], got {epsilon!r}")
    bad = [m for m in measures if m not in PARTITIONS]
    if bad or not measures:
        raise StatsInputError(f"--dp-measure: expected some of {', '.join(PARTITIONS)}, got "
                              f"{', '.join(bad) or 'none'}")  # fmt: skip
    import opendp.prelude as dp

    dp.enable_features("contrib")  # the discrete Laplace mechanism is in OpenDP's contrib set
    sensitivity = len(measures)
    scale = sensitivity / float(epsilon)
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    mechanism = space >> dp.m.then_laplace(scale=scale)
    spent = float(mechanism.map(d_in=sensitivity))
    sel = monthly[monthly["measure"].isin(measures)].reset_index(drop=True)
    noisy = np.empty(len(sel), dtype=np.int64)
    ledger = []
    for month, idx in sel.groupby("month", sort=True).indices.items():
        noisy[idx] = mechanism([int(x) for x in sel["count"].to_numpy()[idx]])
        ledger.append({
            "month": str(month)[:7], "measures": list(measures), "cells": len(idx),
            "mechanism": "discrete Laplace (OpenDP make_laplace on integers)",
            "l1_sensitivity": sensitivity, "scale": scale, "epsilon_spent": spent,
            "expected_abs_error_90": _discrete_laplace_quantile(scale, 0.90),
            "expected_abs_error_50": _discrete_laplace_quantile(scale, 0.50),
        })  # fmt: skip
    error = np.abs(noisy - sel["count"].to_numpy())
    out = sel.assign(count=noisy)
    measured = {"cells": len(error), "mean_abs_error": float(error.mean()) if len(error)
                else 0.0, "p90_abs_error": float(np.quantile(error, 0.9)) if len(error) else 0.0,
                "share_within_5": float((error <= 5).mean()) if len(error) else 1.0}  # fmt: skip
    return NoisyRelease(out, ledger, measured)
