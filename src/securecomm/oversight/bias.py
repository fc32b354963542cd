"""Bias and pretext monitor (HSAC Task Force IV rec. 5): did the Hispanic share of minor-offense
arrests rise in a jurisdiction after Secure Communities came?

Input: Arrest counts v1 and the activation dates (``oversight.arrest_counts``). Output: one
``BiasResult`` per jurisdiction (``monitor_bias``). Method (docs/statistics.md, "Bias monitor"):

1. **Outcome, within the jurisdiction** (a triple difference, as Gardner & Kohli 2009 compared
   petty with serious offenses): per window, the log-odds of the Hispanic share of *minor*
   arrests (minor traffic + minor misdemeanors) minus that of the jurisdiction's *other*
   arrests, from the window's pooled counts (arrests with a recorded ethnicity; +0.5 per cell).
   Local shocks that move all arrests alike cancel.
2. **Staggered difference in differences against not-yet-activated jurisdictions**: the change
   of that outcome from the pre window (up to ``pre_months`` before the activation month) to the
   post window (up to ``post_months`` after it; the partial activation month is left out),
   minus the precision-weighted mean change of every jurisdiction not yet activated at the end
   of the post window, over the same calendar months (national trends cancel). Late
   jurisdictions get shorter post windows so that at least ``min_controls`` remain.
3. **Variance robust to serial correlation, from the placebo distribution**: each control's own
   change is a placebo estimate over exactly the same months. Their spread beyond the binomial
   (counting) variance is the variance month-to-month shocks add, whatever their
   autocorrelation (random-effects moment estimator, DerSimonian & Laird 1986). An estimate is
   standardised by sqrt(binomial variance + that variance + the control mean's variance): a
   continuous p-value (Student t, controls - 1 degrees of freedom), not a placebo rank, which
   could never fall below 1 / (controls + 1).
4. **Precision weighting** everywhere (controls weighted by 1 / variance; each jurisdiction's
   own binomial variance in its standard error): jurisdictions differ 100x in size, and small
   ones must not fill the flagged list.
5. **Benjamini-Hochberg** across the tested jurisdictions; flagged: q <= ``fdr`` and the share
   rose. **Pre-trend**: the same estimator between the first and second halves of the pre
   window (two-sided ``pretrend_p``).

``effect`` is reported in percentage points of the Hispanic share of minor-offense arrests
(the share-scale triple difference, same weights); the test runs on the log-odds scale, where
shocks are of comparable size whatever a jurisdiction's Hispanic share.

``event_study`` adds the national picture with pyfixest: Gardner's two-stage difference in
differences (``pyfixest.did2s``; the first stage fits jurisdiction and month effects on
not-yet-activated jurisdiction-months only) by month relative to activation, with a joint
pre-trend test.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats as sps

from securecomm.synth.params import (
    Params,
    ParamsError,
    _int,
    _prob,
    load_params,
)

from .arrest_counts import ETHNICITIES, MINOR_CLASSES, OFFENSE_CLASSES, ArrestInputError

__all__ = [
    "BiasResult",
    "MonitorInput",
    "event_study",
    "load_bias_params",
    "monitor_bias",
    "panel_from_counts",
]

DEFAULT_PATH = Path(__file__).with_name("bias_params.yaml")
COLUMNS = ("ori", "flagged", "effect", "p_value", "q_value", "minor_arrests_per_month",
           "pretrend_p", "comparison", "controls", "activated_on", "pre_months", "post_months",
           "se_log_odds", "status")  # fmt: skip


def _alternative(name: str, v: Any) -> str:
    if v not in ("greater", "two-sided"):
        raise ParamsError(f"{name}: expected greater or two-sided, got {v!r}")
    return v


def _positive_int(name: str, v: Any) -> int:
    x = _int(name, v)
    if x < 1:
        raise ParamsError(f"{name}: expected an integer >= 1, got {v!r}")
    return x


BIAS_SPEC = {
    "pre_months": _positive_int,
    "post_months": _positive_int,
    "min_pre_months": _positive_int,
    "min_post_months": _positive_int,
    "min_controls": lambda n, v: max(_positive_int(n, v), 3),
    "min_window_arrests": _int,
    "min_control_cell": _int,
    "fdr": _prob,
    "alternative": _alternative,
}


def load_bias_params(path: str | Path | None = None) -> Params:
    """Load and validate the monitor parameters (the packaged file by default)."""
    return load_params(path, default=DEFAULT_PATH, spec=BIAS_SPEC)


@dataclass(frozen=True)
class BiasResult:
    ori: str
    flagged: bool
    effect: float | None  # points of the Hispanic share of minor-offense arrests
    p_value: float | None
    q_value: float | None
    minor_arrests_per_month: float
    pretrend_p: float | None
    comparison: str
    controls: int
    activated_on: str | None
    pre_months: int
    post_months: int
    se_log_odds: float | None
    status: str  # "tested" or why not

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MonitorInput:
    """Jurisdiction x month arrays (``present``: the jurisdiction reported that month)."""

    oris: list[str]
    months: np.ndarray  # datetime64[M]
    activation: np.ndarray  # month index of activation (may be < 0 or >= len(months)); -1e9 none
    activated_on: list[dt.date | None]
    h_minor: np.ndarray
    n_minor: np.ndarray
    h_other: np.ndarray
    n_other: np.ndarray
    minor_all: np.ndarray  # minor arrests, every ethnicity
    present: np.ndarray
    skipped: list[str]  # ORIs with arrests but no activation row


NEVER = 10**9


def panel_from_counts(table: pa.Table, activations: dict[str, dt.date | None]) -> MonitorInput:
    """Arrays of a validated Arrest counts v1 table (``ArrestCounts.table``)."""
    if table.num_rows == 0:
        raise ArrestInputError("ARRESTS: no valid rows")
    known = pa.array(list(activations), type=pa.string())
    in_act = pc.is_in(table["ori"], value_set=known).to_numpy(zero_copy_only=False)
    skipped = sorted(set(pc.filter(table["ori"], pa.array(~in_act)).unique().to_pylist()))
    if not in_act.any():
        raise ArrestInputError("--activations: no jurisdiction of ARRESTS has an activation row")
    t = table.filter(pa.array(in_act))
    # Arrow's hash kernels, not numpy on Python strings (object arrays compare pairwise)
    encoded = pc.dictionary_encode(t["ori"]).combine_chunks()
    oris_unsorted = encoded.dictionary.to_numpy(zero_copy_only=False)
    rank = np.argsort(np.argsort(oris_unsorted))
    oris = np.sort(oris_unsorted)
    j = rank[encoded.indices.to_numpy()]
    mon = t["month"].cast(pa.int32()).to_numpy().astype("datetime64[D]").astype("datetime64[M]")
    first, last = mon.min(), mon.max()
    months = np.arange(first, last + 1)
    m = (mon - first).astype(np.int64)
    n_j, n_m = len(oris), len(months)
    eth = pc.index_in(t["ethnicity"], pa.array(ETHNICITIES)).to_numpy()
    cls = pc.index_in(t["offense_class"], pa.array(OFFENSE_CLASSES)).to_numpy()
    count = t["arrests"].to_numpy().astype(np.int64)
    flat = j * n_m + m

    def cells(sel: np.ndarray) -> np.ndarray:
        return np.bincount(flat[sel], weights=count[sel], minlength=n_j * n_m).reshape(n_j, n_m)

    minor = np.isin(cls, [OFFENSE_CLASSES.index(c) for c in MINOR_CLASSES])
    h, n = eth == ETHNICITIES.index("H"), eth == ETHNICITIES.index("N")
    present = np.bincount(flat, minlength=n_j * n_m).reshape(n_j, n_m) > 0
    act_dates = [activations[o] for o in oris.tolist()]
    activation = np.array([
        NEVER if d is None
        else int((np.datetime64(d, "M") - first).astype(np.int64)) for d in act_dates
    ], dtype=np.int64)  # fmt: skip
    return MonitorInput(
        oris=oris.tolist(), months=months, activation=activation, activated_on=act_dates,
        h_minor=cells(minor & h), n_minor=cells(minor & n), h_other=cells(~minor & h),
        n_other=cells(~minor & n), minor_all=cells(minor), present=present, skipped=skipped,
    )  # fmt: skip


# --------------------------------------------------------------------------- the estimator


def _window_sums(cum: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Sums over months lo..hi (inclusive) of every row, from column-wise cumulative sums."""
    return cum[:, hi + 1] - cum[:, lo]


@dataclass
class _Window:
    logit: np.ndarray  # log-odds difference (minor - other)
    var: np.ndarray  # its binomial variance
    share: np.ndarray  # share difference (minor - other), fraction
    minor_known: np.ndarray  # minor arrests with a recorded ethnicity


def _window(cums: dict[str, np.ndarray], lo: int, hi: int) -> _Window:
    s = {k: _window_sums(c, lo, hi) for k, c in cums.items()}
    hm, nm, ho, no = s["h_minor"] + 0.5, s["n_minor"] + 0.5, s["h_other"] + 0.5, s["n_other"] + 0.5
    logit = (np.log(hm) - np.log(nm)) - (np.log(ho) - np.log(no))
    var = 1 / hm + 1 / nm + 1 / ho + 1 / no
    share = hm / (hm + nm) - ho / (ho + no)
    return _Window(logit, var, share, s["h_minor"] + s["n_minor"])


class _Placebos:
    """The placebo distribution of the contrast, pooled over calendar time.

    For a window shape (first window of ``len1`` months, a gap, second window of ``len2``
    months), every jurisdiction still not activated at the end of the second window gives a
    placebo change at every possible date; per date the precision-weighted mean is taken out
    (national shocks), and the spread left beyond the counting variance is the variance that
    month-to-month shocks add, whatever their autocorrelation (moments: the mean excess of
    the squared deviation over the counting variance, pooled over dates). Pooling over dates (the shocks are taken as stationary) gives the late
    jurisdictions, which have few not-yet-activated peers, as good a variance as the early ones.
    """

    def __init__(self, cums: dict[str, np.ndarray], act: np.ndarray, cell: np.ndarray,
                 min_cell: int, n_m: int):  # fmt: skip
        self.cums, self.act, self.cell, self.min_cell, self.n_m = cums, act, cell, min_cell, n_m
        self.cache: dict[tuple[int, int, int], tuple[float, int]] = {}

    def tau2(self, len1: int, gap: int, len2: int) -> tuple[float, int]:
        """(shock variance of the contrast, degrees of freedom of its estimate)."""
        key = (len1, gap, len2)
        if key not in self.cache:
            excess, dof = 0.0, 0
            for b in range(len1, self.n_m - gap - len2 + 1):
                end = b + gap + len2 - 1
                first = _window(self.cums, b - len1, b - 1)
                second = _window(self.cums, b + gap, end)
                ok = (self.act > end) & (self.cell * min(len1, len2) >= self.min_cell)
                if ok.sum() < 3:
                    continue
                delta = second.logit[ok] - first.logit[ok]
                var = second.var[ok] + first.var[ok]
                mean = np.sum(delta / var) / np.sum(1 / var)
                # each placebo counts once (not by precision): measured, the counting variance
                # of the smaller jurisdictions' log-odds is a little too large, and weighting
                # by 1 / variance let their many negative excesses hide the shocks
                excess += float(np.sum((delta - mean) ** 2 - var))
                dof += int(ok.sum()) - 1
            tau2 = max(0.0, excess / dof) if dof > 0 else 0.0
            self.cache[key] = (tau2, int(dof))
        return self.cache[key]


def _contrast(
    first: _Window, second: _Window, treated: np.ndarray, controls: np.ndarray, tau2: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log-odds estimate, its SE, share-scale estimate) for ``treated`` against ``controls``
    (precision-weighted, shock variance ``tau2``)."""
    delta = second.logit - first.logit
    var = second.var + first.var
    w = 1 / (var[controls] + tau2)
    mu = np.sum(w * delta[controls]) / np.sum(w)
    share_delta = second.share - first.share
    mu_share = np.sum(w * share_delta[controls]) / np.sum(w)
    est = delta[treated] - mu
    se = np.sqrt(var[treated] + tau2 + 1 / np.sum(w))
    return est, se, share_delta[treated] - mu_share


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH q-values (step-up adjusted p-values) of ``p``."""
    n = len(p)
    if n == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def monitor_bias(data: MonitorInput, params: Params | None = None) -> list[BiasResult]:
    """One result per jurisdiction of ``data`` (sorted by ORI); see the module doc."""
    bp = params if params is not None else load_bias_params()
    n_j, n_m = data.h_minor.shape
    present = data.present
    zeros = np.zeros((n_j, 1))
    cums = {k: np.concatenate([zeros, np.cumsum(getattr(data, k) * present, axis=1)], axis=1)
            for k in ("h_minor", "n_minor", "h_other", "n_other")}  # fmt: skip
    months_present = present.sum(axis=1)
    minor_pm = np.where(months_present > 0,
                        (data.minor_all * present).sum(axis=1) / np.maximum(months_present, 1),
                        0.0)  # fmt: skip
    est = np.full(n_j, np.nan)
    se = np.full(n_j, np.nan)
    effect = np.full(n_j, np.nan)
    df = np.zeros(n_j)
    pre_p = np.full(n_j, np.nan)
    n_controls = np.zeros(n_j, dtype=np.int64)
    pre_len = np.zeros(n_j, dtype=np.int64)
    post_len = np.zeros(n_j, dtype=np.int64)
    status = np.array(["tested"] * n_j, dtype=object)
    act = data.activation
    # the smallest of a jurisdiction's four monthly counts (Hispanic or not, minor or other),
    # averaged over every month it reported: who is large enough to compare with is decided
    # on this, never on the windows' own counts (selecting on the outcome would bias the
    # comparison and shrink the placebo spread)
    monthly = [(getattr(data, k) * present).sum(axis=1) for k in
               ("h_minor", "n_minor", "h_other", "n_other")]  # fmt: skip
    cell = np.minimum.reduce(monthly) / np.maximum(months_present, 1)
    placebos = _Placebos(cums, act, cell, bp["min_control_cell"], n_m)
    for a in np.unique(act):
        cohort = np.flatnonzero(act == a)
        if a == NEVER or a >= n_m:
            status[cohort] = "not activated within the data"
            continue
        if min(a, bp["pre_months"]) < bp["min_pre_months"]:
            status[cohort] = (
                f"fewer than {bp['min_pre_months']} months of arrests before activation"
            )
            continue
        # symmetric windows (as many months before as after): the small-count bias of the
        # empirical log-odds then cancels between them
        horizon, pre, post, controls = None, None, None, None
        longest = min(bp["post_months"], bp["pre_months"], a, n_m - 1 - a)
        for h in range(longest, max(bp["min_post_months"], bp["min_pre_months"]) - 1, -1):
            pre, post = _window(cums, a - h, a - 1), _window(cums, a + 1, a + h)
            # controls: not yet activated after the post window, and counts expected large
            # enough that the binomial variance of their log-odds is right
            controls = np.flatnonzero((act > a + h) & (cell * h >= bp["min_control_cell"]))
            if len(controls) >= bp["min_controls"]:
                horizon = h
                break
        if horizon is None:
            status[cohort] = (f"fewer than {bp['min_controls']} jurisdictions not yet activated "
                              f"for {bp['min_post_months']} months after activation")  # fmt: skip
            continue
        lo = a - horizon
        small = (pre.minor_known[cohort] < bp["min_window_arrests"]) | (
            post.minor_known[cohort] < bp["min_window_arrests"]
        )
        status[cohort[small]] = (f"fewer than {bp['min_window_arrests']} minor-offense arrests "
                                 "with a recorded ethnicity before or after activation")  # fmt: skip
        tested = cohort[~small]
        pre_len[cohort], post_len[cohort] = a - lo, horizon
        n_controls[cohort] = len(controls)
        if not len(tested):
            continue
        tau2, dof = placebos.tau2(a - lo, 1, horizon)
        e, s, sh = _contrast(pre, post, tested, controls, tau2)
        est[tested], se[tested], effect[tested] = e, s, sh
        df[tested] = max(dof, 1)
        # pre-trend: second half of the pre window against its first half
        if a - lo >= 2:
            mid = lo + (a - lo) // 2
            early, late = _window(cums, lo, mid - 1), _window(cums, mid, a - 1)
            tau2_pre, dof_pre = placebos.tau2(mid - lo, 0, a - mid)
            pe, ps, _ = _contrast(early, late, tested, controls, tau2_pre)
            pre_p[tested] = 2 * sps.t.sf(np.abs(pe / ps), max(dof_pre, 1))
    ok = status == "tested"
    z = est / se
    if bp["alternative"] == "greater":
        p = np.where(ok, sps.t.sf(z, np.maximum(df, 1)), np.nan)
    else:
        p = np.where(ok, 2 * sps.t.sf(np.abs(z), np.maximum(df, 1)), np.nan)
    q = np.full(n_j, np.nan)
    q[ok] = benjamini_hochberg(p[ok])
    rising = est > 0 if bp["alternative"] == "greater" else np.ones(n_j, dtype=bool)
    flagged = ok & (q <= bp["fdr"]) & rising

    def num(x: float, digits: int = 6) -> float | None:
        return None if not np.isfinite(x) else round(float(x), digits)

    out = []
    for i, ori in enumerate(data.oris):
        on = data.activated_on[i]
        comparison = (f"not-yet-activated jurisdictions ({n_controls[i]}) and the jurisdiction's "
                      "own other arrests (triple difference)") if n_controls[i] else "none"  # fmt: skip
        out.append(BiasResult(
            ori=ori, flagged=bool(flagged[i]), effect=num(100 * effect[i], 3),
            p_value=num(p[i], 8), q_value=num(q[i], 8),
            minor_arrests_per_month=round(float(minor_pm[i]), 2), pretrend_p=num(pre_p[i], 6),
            comparison=comparison, controls=int(n_controls[i]),
            activated_on=on.isoformat() if on else None, pre_months=int(pre_len[i]),
            post_months=int(post_len[i]), se_log_odds=num(se[i]), status=str(status[i]),
        ))  # fmt: skip
    return out


def results_table(results: list[BiasResult]) -> pa.Table:
    schema = pa.schema([
        ("ori", pa.string()), ("flagged", pa.bool_()), ("effect", pa.float64()),
        ("p_value", pa.float64()), ("q_value", pa.float64()),
        ("minor_arrests_per_month", pa.float64()), ("pretrend_p", pa.float64()),
        ("comparison", pa.string()), ("controls", pa.int64()), ("activated_on", pa.string()),
        ("pre_months", pa.int64()), ("post_months", pa.int64()), ("se_log_odds", pa.float64()),
        ("status", pa.string()),
    ])  # fmt: skip
    return pa.Table.from_pylist([r.as_dict() for r in results], schema=schema)


# --------------------------------------------------------------------------- event study


def event_study(data: MonitorInput, *, window: int = 12) -> dict[str, Any]:
    """National event study of the monthly log-odds difference (minor - other) by month
    relative to activation, with pyfixest's two-stage DiD (Gardner 2021): the first stage
    fits jurisdiction and month effects on not-yet-activated jurisdiction-months only.
    Returns {"coefficients": [{relative_month, estimate, se, p_value}], "pretrend_p": joint
    Wald test that every pre-activation coefficient is zero}."""
    import pandas as pd
    import pyfixest as pf

    n_j, n_m = data.h_minor.shape
    present = data.present.copy()
    # a month effect is estimated from not-yet-activated jurisdictions only: keep the months
    # with at least two of them (one would be a singleton that pyfixest drops)
    untreated = ((data.activation[:, None] > np.arange(n_m)[None, :]) & present).sum(axis=0)
    present[:, untreated < 2] = False
    j, m = np.nonzero(present)
    hm, nm = data.h_minor[j, m] + 0.5, data.n_minor[j, m] + 0.5
    ho, no = data.h_other[j, m] + 0.5, data.n_other[j, m] + 0.5
    rel = m - data.activation[j]
    activated = data.activation[j] < NEVER
    frame = pd.DataFrame({
        "ori": j, "month": m,
        "y": (np.log(hm) - np.log(nm)) - (np.log(ho) - np.log(no)),
        "w": 1 / (1 / hm + 1 / nm + 1 / ho + 1 / no),
        "treat": (activated & (rel >= 0)).astype(int),
        "rel": np.where(activated, np.clip(rel, -window, window), -1_000).astype(float),
    })  # fmt: skip
    # beyond the window: binned at the ends; never-activated rows: the reference (-1000)
    frame.loc[frame.rel == -1_000, "rel"] = -1.0
    with warnings.catch_warnings():  # pyfixest's notes (singletons, chi2) are not for users
        warnings.simplefilter("ignore")
        fit = pf.did2s(
            frame, yname="y", first_stage="~ 0 | ori + month",
            second_stage="~ i(rel, ref=-1.0)", treatment="treat", cluster="ori", weights="w",
        )  # fmt: skip
        tidy = fit.tidy()
    coefs = []
    for name, row in tidy.iterrows():
        k = float(str(name).split("::")[-1].rstrip("]"))
        coefs.append({"relative_month": int(k), "estimate": float(row["Estimate"]),
                      "se": float(row["Std. Error"]), "p_value": float(row["Pr(>|t|)"])})  # fmt: skip
    coefs.sort(key=lambda c: c["relative_month"])
    pre = [c for c in coefs if c["relative_month"] < -1]
    pretrend = None
    if pre:
        names = [n for n in tidy.index if float(str(n).split("::")[-1].rstrip("]")) < -1]
        r = np.zeros((len(names), len(tidy.index)))
        for i, name in enumerate(names):
            r[i, list(tidy.index).index(name)] = 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pretrend = float(fit.wald_test(R=r)["pvalue"])
    return {"coefficients": coefs, "pretrend_p": pretrend, "jurisdictions": int(n_j),
            "months": int(n_m)}  # fmt: skip
