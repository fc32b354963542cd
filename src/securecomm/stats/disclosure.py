"""Disclosure control that holds across every published table at once (HSAC Task Force I rec. 4,
II rec. 4: statistics the public can trust — and that identify no one).

Cell-by-cell suppression is not enough: a hidden monthly cell of 3 comes back when a reader
subtracts the other jurisdictions' published cells from the state total, or the other months
from the quarterly report, or the other charge categories from the detainer total. This module
publishes the four tables of one outcome source together —

- ``monthly``: per jurisdiction-month, every cell of ``stats.monthly.CELLS``;
- ``state``: per state-month, the same cells summed over the state's jurisdictions;
- ``quarterly``: the quarterly state report (``stats.quarterly``), calendar quarters;
- ``national``: the same cells summed over the whole source (what the policy comparison
  publishes: bookings, detainers, custody, removals ...)

— and protects them as one system of linear equations (**complementary suppression**). Every
relation a reader can use is an equation: a state cell is the sum of its jurisdictions' cells, a
national cell the sum of the state cells, a quarterly cell the sum of three state months, and
within one row the partitions of the same bookings (IDENT matches = the sum of the hits by
status; detainers of both kinds = detainers by charge = by conviction; in the quarterly report,
by level = by conviction), added only where the data satisfy them. Primary suppression hides
counts 1..K-1; then, while an equation has exactly one hidden cell (so subtraction would
recover it), the smallest published cell of that equation is hidden too (a zero only when no
positive cell is left). The result is checked by ``differencing_attack`` (tests/stats: no
hidden cell is recoverable by any single equation, and on a small source none by the whole
system).

Limits: interval reasoning (counts are >= 0) can still bound a hidden cell from above; the
noisy-count release (``stats.privacy``) is the answer to that. Zeros are published (a zero
identifies no one) unless chosen as a complement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .monthly import CELLS, monthly_statistics
from .quarterly import quarterly_report
from .schema import DETAINER_KINDS, PROGRAMS
from .source import StatsInputError, load_outcomes

__all__ = ["ProtectedTables", "differencing_attack", "protect_tables", "published_tables"]

TABLES = ("monthly", "state", "quarterly", "national")
# quarterly (measure, dimension, category) -> the monthly (measure, category) it sums
_QUARTERLY_FROM_MONTHLY = {
    ("submissions", "all", "all"): ("submissions", "all"),
    ("ident_matches", "all", "all"): ("ident_matches", "all"),
    **{("detainers", "conviction", c): ("detainers_by_conviction", c)
       for c in ("convicted", "charged_only", "no_criminal_history")},
    **{("ice_custody", "level", c): ("ice_custody", c)
       for c in ("level_1", "level_2", "level_3", "non_criminal")},
    **{("removals", "level", c): ("removals", c)
       for c in ("level_1", "level_2", "level_3", "non_criminal")},
}  # fmt: skip
# partitions of the same bookings within one row of the monthly-shaped tables: (left, right)
_ROW_IDENTITIES = (
    ((("ident_matches", "all"),), tuple(("hits_by_status", c.category) for c in CELLS
                                        if c.measure == "hits_by_status")),
    (tuple(("detainers", k) for k in DETAINER_KINDS),
     tuple(("detainers_by_charge", c.category) for c in CELLS
           if c.measure == "detainers_by_charge")),
    (tuple(("detainers", k) for k in DETAINER_KINDS),
     tuple(("detainers_by_conviction", c.category) for c in CELLS
           if c.measure == "detainers_by_conviction")),
    ((("submissions", "all"),), tuple(("submissions_by_program", p) for p in PROGRAMS)),
    (tuple(("detainers", k) for k in DETAINER_KINDS),
     tuple(("detainers_by_program", p) for p in PROGRAMS)),
)  # fmt: skip


def _quarter_of(month: Any) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def published_tables(source: Any, *, policy: str | None = None, backend: Any = None
                     ) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The four tables (unprotected) of ``source``: DataFrames with a ``count`` column."""
    outcomes = load_outcomes(source, policy=policy, backend=backend)
    monthly = monthly_statistics(outcomes).to_pyarrow().to_pandas()
    if monthly.empty:
        raise StatsInputError("source: no bookings to publish")
    monthly["quarter"] = [_quarter_of(m) for m in monthly["month"]]
    state = (monthly.groupby(["month", "quarter", "state", "measure", "category"], sort=False)
             ["count"].sum().reset_index())  # fmt: skip
    national = monthly.groupby(["measure", "category"], sort=False)["count"].sum().reset_index()
    quarters = sorted(set(monthly["quarter"]))
    quarterly = pd.concat(
        [quarterly_report(outcomes, quarter=q).to_pyarrow().to_pandas() for q in quarters],
        ignore_index=True,
    )
    return {"monthly": monthly, "state": state, "quarterly": quarterly, "national": national}


@dataclass
class ProtectedTables:
    """Each table with ``count`` (null where hidden) and ``suppressed`` / ``complement``
    columns; ``equations`` the relations used (for the attack test); ``stats`` counts."""

    tables: dict[str, pd.DataFrame]
    cells: pd.DataFrame  # every cell of every table: table, row, count, suppressed, primary
    equations: pd.DataFrame  # eq, cell (index into ``cells``), coef (+1 / -1)
    stats: dict[str, int]


def _equations(tables: dict[str, pd.DataFrame], offset: dict[str, int]) -> pd.DataFrame:
    parts: list[pd.DataFrame] = []
    next_eq = 0

    def add(total_ids: np.ndarray, groups: np.ndarray, member_ids: np.ndarray) -> None:
        """Equations ``total[g] - sum(members with group g) = 0`` for every group g."""
        nonlocal next_eq
        parts.append(pd.DataFrame({"eq": next_eq + np.arange(len(total_ids)),
                                   "cell": total_ids, "coef": 1}))  # fmt: skip
        parts.append(pd.DataFrame({"eq": next_eq + groups, "cell": member_ids, "coef": -1}))
        next_eq += len(total_ids)

    m, s, q, n = (tables[t] for t in TABLES)
    # state = sum of its jurisdictions; national = sum of the state months
    keys = ["month", "state", "measure", "category"]
    s_idx = s.reset_index()[[*keys, "index"]].rename(columns={"index": "srow"})
    joined = m.reset_index().merge(s_idx, on=keys, how="inner")
    add(offset["state"] + np.arange(len(s)), joined["srow"].to_numpy(),
        offset["monthly"] + joined["index"].to_numpy())  # fmt: skip
    n_idx = n.reset_index()[["measure", "category", "index"]].rename(columns={"index": "nrow"})
    joined = s.reset_index().merge(n_idx, on=["measure", "category"], how="inner")
    add(offset["national"] + np.arange(len(n)), joined["nrow"].to_numpy(),
        offset["state"] + joined["index"].to_numpy())  # fmt: skip
    # quarterly = sum of three state months (where the quarterly cell has a monthly twin)
    qi = q.reset_index()
    qi["mm"] = [_QUARTERLY_FROM_MONTHLY.get((a, b, c)) for a, b, c
                in zip(qi["measure"], qi["dimension"], qi["category"], strict=True)]  # fmt: skip
    qi = qi[qi["mm"].notna()]
    if len(qi):
        qi = qi.assign(measure=[x[0] for x in qi["mm"]], category=[x[1] for x in qi["mm"]])
        qrows = qi["index"].to_numpy()
        local = pd.Series(np.arange(len(qrows)), index=qrows)
        joined = s.reset_index().merge(qi[["quarter", "state", "measure", "category", "index"]]
                                       .rename(columns={"index": "qrow"}),
                                       on=["quarter", "state", "measure", "category"])  # fmt: skip
        groups = local.loc[joined["qrow"].to_numpy()].to_numpy()
        add(offset["quarterly"] + qrows, groups, offset["state"] + joined["index"].to_numpy())
    # within a row: partitions of the same bookings (only where the data satisfy them)
    for name, row_keys in (("monthly", ["month", "ori"]), ("state", ["month", "state"]),
                           ("national", [])):  # fmt: skip
        t = tables[name]
        for left, right in _ROW_IDENTITIES:
            sel_l = _select(t, left)
            sel_r = _select(t, right)
            rk = row_keys or None
            gl = _row_groups(t, sel_l, rk)
            gr = _row_groups(t, sel_r, rk)
            sums_l = t.loc[sel_l].groupby(gl)["count"].sum()
            sums_r = t.loc[sel_r].groupby(gr)["count"].sum()
            holds = sums_l.index[
                (sums_l.reindex(sums_r.index) == sums_r)
                .reindex(sums_l.index, fill_value=False)
                .to_numpy()
            ]
            if not len(holds):
                continue
            code = pd.Series(np.arange(len(holds)), index=holds)
            for sel, g, coef in ((sel_l, gl, 1), (sel_r, gr, -1)):
                ok = g.isin(holds).to_numpy()
                ids = np.flatnonzero(sel)[ok]
                parts.append(pd.DataFrame({"eq": next_eq + code.loc[g[ok]].to_numpy(),
                                           "cell": offset[name] + ids, "coef": coef}))  # fmt: skip
            next_eq += len(holds)
    # quarterly: by level and by conviction partition the same detainers / custody / removals
    qt = tables["quarterly"]
    for measure in ("detainers", "ice_custody", "removals"):
        sel_l = ((qt["measure"] == measure) & (qt["dimension"] == "level")).to_numpy()
        sel_r = ((qt["measure"] == measure) & (qt["dimension"] == "conviction")).to_numpy()
        gl = _row_groups(qt, sel_l, ["quarter", "state"])
        gr = _row_groups(qt, sel_r, ["quarter", "state"])
        holds = qt.loc[sel_l].groupby(gl)["count"].sum()
        other = qt.loc[sel_r].groupby(gr)["count"].sum()
        good = holds.index[(holds == other.reindex(holds.index)).to_numpy()]
        code = pd.Series(np.arange(len(good)), index=good)
        for sel, g, coef in ((sel_l, gl, 1), (sel_r, gr, -1)):
            ok = g.isin(good).to_numpy()
            parts.append(pd.DataFrame({"eq": next_eq + code.loc[g[ok]].to_numpy(),
                                       "cell": offset["quarterly"] + np.flatnonzero(sel)[ok],
                                       "coef": coef}))  # fmt: skip
        next_eq += len(good)
    return pd.concat(parts, ignore_index=True)


def _select(t: pd.DataFrame, cells: tuple[tuple[str, str], ...]) -> np.ndarray:
    keys = pd.MultiIndex.from_frame(t[["measure", "category"]])
    return keys.isin(list(cells))


def _row_groups(t: pd.DataFrame, sel: np.ndarray, keys: list[str] | None) -> pd.Series:
    if not keys:
        return pd.Series(["all"] * int(sel.sum()), index=t.index[sel])
    sub = t.loc[sel, keys].astype(str)
    return sub.agg("|".join, axis=1)


def protect_tables(tables: dict[str, pd.DataFrame], *, suppress_below: int = 11
                   ) -> ProtectedTables:  # fmt: skip
    """Complementary suppression over the four tables (see the module doc)."""
    if (
        isinstance(suppress_below, bool)
        or not isinstance(suppress_below, int)
        or suppress_below < 2
    ):
        raise StatsInputError(f"suppress_below: expected an integer >= 2, got {suppress_below!r}")
    offset, start = {}, 0
    for name in TABLES:
        offset[name] = start
        start += len(tables[name])
    counts = np.concatenate([tables[n]["count"].to_numpy(dtype=np.int64) for n in TABLES])
    cells = pd.DataFrame({
        "table": np.concatenate([[n] * len(tables[n]) for n in TABLES]),
        "row": np.concatenate([np.arange(len(tables[n])) for n in TABLES]),
        "count": counts,
    })  # fmt: skip
    primary = (counts > 0) & (counts < suppress_below)
    suppressed = primary.copy()
    eqs = _equations(tables, offset)
    eq_ids, cell_ids = eqs["eq"].to_numpy(), eqs["cell"].to_numpy()
    # order of preference for a complement: positive cells before zeros, then the smallest
    rank = np.lexsort((np.arange(len(counts)), counts, counts == 0))
    pref = np.empty(len(counts), dtype=np.int64)
    pref[rank] = np.arange(len(counts))
    rounds = 0
    while True:
        hidden = suppressed[cell_ids]
        per_eq = np.bincount(eq_ids, weights=hidden, minlength=eq_ids.max() + 1)
        exposed = per_eq[eq_ids] == 1
        cand = exposed & ~hidden
        if not cand.any():
            break
        # per exposed equation, its most preferred published cell
        ce, cc = eq_ids[cand], cell_ids[cand]
        order = np.lexsort((pref[cc], ce))
        ce, cc = ce[order], cc[order]
        first = np.ones(len(ce), dtype=bool)
        first[1:] = ce[1:] != ce[:-1]
        suppressed[cc[first]] = True
        # an exposed equation with no published cell left cannot happen: the hidden one is in it
        rounds += 1
    cells["suppressed"], cells["primary"] = suppressed, primary
    out = {}
    for name in TABLES:
        t = tables[name].copy()
        sl = slice(offset[name], offset[name] + len(t))
        t["count"] = pd.array(np.where(suppressed[sl], 0, counts[sl]), dtype="Int64")
        t.loc[suppressed[sl], "count"] = pd.NA
        t["suppressed"] = suppressed[sl]
        out[name] = t
    stats = {"cells": len(counts), "primary": int(primary.sum()),
             "complementary": int((suppressed & ~primary).sum()), "rounds": rounds,
             "equations": int(eq_ids.max() + 1) if len(eq_ids) else 0}  # fmt: skip
    return ProtectedTables(out, cells, eqs, stats)


def differencing_attack(protected: ProtectedTables) -> pd.DataFrame:
    """What subtraction recovers: for every equation with exactly one hidden cell, that cell's
    value from the published ones. Returns (table, row, recovered) rows — empty when the
    protection holds."""
    cells, eqs = protected.cells, protected.equations
    hidden = cells["suppressed"].to_numpy()[eqs["cell"].to_numpy()]
    published = np.where(hidden, 0, cells["count"].to_numpy()[eqs["cell"].to_numpy()])
    e = eqs.assign(hidden=hidden, known=published * eqs["coef"].to_numpy())
    per = e.groupby("eq").agg(n_hidden=("hidden", "sum"), known=("known", "sum"))
    single = per.index[per["n_hidden"] == 1]
    rows = e[e["eq"].isin(single) & e["hidden"]].merge(per, left_on="eq", right_index=True)
    value = -rows["known_y"] / rows["coef"]
    return pd.DataFrame({"table": cells["table"].to_numpy()[rows["cell"].to_numpy()],
                         "row": cells["row"].to_numpy()[rows["cell"].to_numpy()],
                         "recovered": value.to_numpy()})  # fmt: skip


def to_arrow(table: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(table, preserve_index=False)
