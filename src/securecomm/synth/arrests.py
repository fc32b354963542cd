"""The synthetic nation's counterfactual: ALL local arrests, before and after activation.

The booking nation (``synth.nation``) holds only bookings of activated jurisdictions; a bias
and pretext monitor (HSAC Task Force IV rec. 5) needs what police did before and after
Secure Communities came: every local arrest per jurisdiction and month, by ethnicity
(``H`` | ``N`` | ``U``) and offense class (``minor_traffic`` | ``minor_misdemeanor`` |
``other``), in Arrest counts v1 (``oversight.arrest_counts``; docs/formats.md).

The jurisdictions, their populations and foreign-born shares, the activation dates and the
Hispanic share of arrested people are those of the nation (``jurisdictions_table`` and
``hispanic_share`` of nation_params.yaml, same seed: same counties, same rollout). The rest is
``arrest_params.yaml``. Model, per jurisdiction j, month m, offense class c (log-odds scale):

    logit P(Hispanic | arrest of class c) = logit(h_j) + a_c [minor] + trend_m [minor]
                                            + g_m + L_jm + E_jm [minor]

with ``h_j`` the nation's Hispanic share, ``g_m`` national month shocks, ``L_jm`` a local
AR(1) shock common to every class (the within-jurisdiction comparison removes it), ``E_jm`` an
AR(1) shock to minor-offense enforcement alone (nothing removes it: the monitor must estimate
its variance), and arrest volumes with an AR(1) log shock. A **pretext effect** of ``x``
points in jurisdiction j (``inject``) adds Hispanic minor-offense arrests after activation so
that the expected Hispanic share of minor arrests (among arrests with a recorded ethnicity)
rises by ``x`` points — extra arrests, as in Irving, TX after 24-hour ICE access (Gardner &
Kohli, 2009); the activation month gets the effect pro rata of its days after activation.

Everything is vectorised over jurisdictions (one loop over months for the AR(1) recursions)
and seeded by ``(seed, stream)``: the same spec gives the same table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from securecomm.oversight.arrest_counts import ETHNICITIES, MINOR_CLASSES, OFFENSE_CLASSES

from .jurisdictions import jurisdictions_table
from .params import (
    Params,
    ParamsError,
    _date,
    _mapping,
    _number,
    _positive,
    _positive_or_zero,
    load_params,
)

__all__ = [
    "ARREST_SCALES",
    "ArrestSpec",
    "SyntheticArrests",
    "generate_arrests",
    "load_arrest_params",
    "parse_inject",
    "write_arrests",
]

DEFAULT_PATH = Path(__file__).with_name("arrest_params.yaml")
EPOCH = dt.date(1970, 1, 1)

# share of each county's arrests generated: aggregate counts are cheap, so the national scale is
# every arrest; the small scale is one in five (a fast file for demos and tests)
ARREST_SCALES = {"small": 0.2, "national": 1.0}


def _window(name: str, v: Any) -> dict[str, dt.date]:
    out = _mapping(name, v, ("start", "end"), _date)
    if out["start"].day != 1 or out["end"] < out["start"]:
        raise ParamsError(f"{name}: start must be the first of a month and before end")
    return out


def _rho(name: str, v: Any) -> float:
    x = _number(name, v)
    if not 0.0 <= x < 1.0:
        raise ParamsError(f"{name}: expected a number in [0, 1), got {v!r}")
    return x


ARREST_SPEC = {
    "arrests_per_capita_per_year": _positive,
    "offense_class_shares": lambda n, v: _mapping(n, v, OFFENSE_CLASSES, _positive_or_zero),
    "window": _window,
    "minor_hispanic_log_odds": lambda n, v: _mapping(n, v, MINOR_CLASSES, _number),
    "national_minor_trend_per_year": _number,
    "national_month_sd": _positive_or_zero,
    "local_shock_sd": _positive_or_zero,
    "minor_shock_sd": _positive_or_zero,
    "volume_shock_sd": _positive_or_zero,
    "ar1_rho": _rho,
}


def load_arrest_params(path: str | Path | None = None) -> Params:
    """Load and validate arrest_params.yaml (the packaged one by default)."""
    return load_params(path, default=DEFAULT_PATH, spec=ARREST_SPEC)


def parse_inject(items: list[str] | tuple[str, ...]) -> dict[str, float]:
    """``["TX1130000:10", ...]`` -> {ori: points}; a clear error naming the bad item."""
    out: dict[str, float] = {}
    for i, item in enumerate(items):
        ori, sep, points = item.partition(":")
        ori = ori.strip()
        if not sep or not ori:
            raise ValueError(f"--inject #{i + 1}: expected ORI:POINTS, e.g. TX1130000:10")
        try:
            x = float(points)
        except ValueError:
            raise ValueError(f"--inject #{i + 1}: POINTS must be a number") from None
        if not np.isfinite(x) or not -50 <= x <= 50:
            raise ValueError(f"--inject #{i + 1}: POINTS must be between -50 and 50")
        if ori in out:
            raise ValueError(f"--inject #{i + 1}: jurisdiction given twice")
        out[ori] = x
    return out


@dataclass(frozen=True)
class ArrestSpec:
    """What to generate. ``inject``: {ori: points}; ``rho``: AR(1) autocorrelation (None: the
    parameter file's); ``states``: keep only these states' jurisdictions (small test nations:
    activation dates stay those of the whole nation)."""

    seed: int = 0
    sample_fraction: float = ARREST_SCALES["small"]
    inject: Mapping[str, float] = field(default_factory=dict)
    rho: float | None = None
    states: tuple[str, ...] | None = None
    start: dt.date | None = None  # None: the parameter window
    end: dt.date | None = None

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {self.seed!r}")
        f = self.sample_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
            raise ValueError(f"sample_fraction: expected a number in (0, 1], got {f!r}")
        if self.rho is not None and not 0 <= self.rho < 1:
            raise ValueError(f"rho: expected a number in [0, 1), got {self.rho!r}")


@dataclass
class SyntheticArrests:
    arrests: pa.Table  # Arrest counts v1 (month as YYYY-MM text), every cell incl. zeros
    activations: pa.Table  # ori, activated_on (date32)
    truth: pa.Table  # ori, state, name, population, activated_on, injected_points


def _ar1(rng: np.random.Generator, shape: tuple[int, int], rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) series along axis 1 with marginal SD ``sd``."""
    out = np.empty(shape)
    eps = rng.standard_normal(shape)
    out[:, 0] = eps[:, 0] * sd
    innovation = sd * np.sqrt(1.0 - rho * rho)
    for m in range(1, shape[1]):
        out[:, m] = rho * out[:, m - 1] + innovation * eps[:, m]
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate_arrests(
    spec: ArrestSpec, *, params: Params | None = None, nation_params: Params | None = None
) -> SyntheticArrests:
    """Arrest counts of every (kept) jurisdiction and month of the window; see the module doc."""
    ap = params if params is not None else load_arrest_params()
    npar = nation_params if nation_params is not None else load_params()
    jur = jurisdictions_table(npar, spec.seed)  # the nation's counties and rollout
    if spec.states is not None:
        keep = np.isin(jur["state"].to_numpy(zero_copy_only=False), list(spec.states))
        if not keep.any():
            raise ValueError("states: no jurisdiction in the given states")
        jur = jur.filter(pa.array(keep))
    oris = jur["ori"].to_pylist()
    unknown = sorted(set(spec.inject) - set(oris))
    if unknown:
        raise ValueError(f"--inject: {len(unknown)} ORI(s) not in the nation, e.g. {unknown[0]}")
    rho = ap["ar1_rho"] if spec.rho is None else spec.rho
    start = spec.start or ap["window"]["start"]
    end = spec.end or ap["window"]["end"]
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
    n_j, n_m = len(oris), len(months)
    rng = np.random.default_rng([spec.seed, 0xA55E])

    pop = jur["population"].to_numpy().astype(float)
    fb = jur["foreign_born_share"].to_numpy()
    hs = npar["hispanic_share"]
    h = np.clip(np.minimum(hs["cap"], hs["base"] + hs["per_foreign_born"] * fb), 0.005, 0.95)
    unknown_share = npar["ethnicity_unknown_share"]

    # ---- volumes (per class), with an AR(1) log shock per jurisdiction
    per_month = ap["arrests_per_capita_per_year"] / 12 * spec.sample_fraction * pop
    vol_sd = ap["volume_shock_sd"]
    volume = per_month[:, None] * np.exp(_ar1(rng, (n_j, n_m), rho, vol_sd) - vol_sd**2 / 2)
    shares = ap["offense_class_shares"]
    class_share = np.array([shares[c] for c in OFFENSE_CLASSES]) / sum(shares.values())

    # ---- Hispanic share by class (log-odds)
    years = (months - months[0]).astype(int) / 12.0
    national = rng.standard_normal(n_m) * ap["national_month_sd"]
    local = _ar1(rng, (n_j, n_m), rho, ap["local_shock_sd"])
    minor_shock = _ar1(rng, (n_j, n_m), rho, ap["minor_shock_sd"])
    base = _logit(h)[:, None] + national[None, :] + local
    minor_drift = ap["national_minor_trend_per_year"] * years[None, :] + minor_shock

    # ---- pretext effect: the fraction of each month after activation, in injected places
    activated = jur["activated_on"].cast(pa.int32()).to_numpy().astype(np.int64)
    m_first = months.astype("datetime64[D]").astype(np.int64)
    m_next = (months + 1).astype("datetime64[D]").astype(np.int64)
    after = np.clip((m_next[None, :] - activated[:, None]) / (m_next - m_first)[None, :], 0, 1)
    points = np.array([spec.inject.get(o, 0.0) for o in oris]) / 100.0
    effect = points[:, None] * after

    counts = np.empty((len(OFFENSE_CLASSES), len(ETHNICITIES), n_j, n_m), dtype=np.int64)
    for k, c in enumerate(OFFENSE_CLASSES):
        lam = volume * class_share[k]
        known = lam * (1 - unknown_share)
        logit_p = base + (ap["minor_hispanic_log_odds"][c] + minor_drift if c in MINOR_CLASSES
                          else 0.0)  # fmt: skip
        p = _expit(logit_p)
        lam_n = known * (1 - p)
        if c in MINOR_CLASSES:
            # extra Hispanic arrests: the non-Hispanic expectation stays, the share becomes p'
            p_new = np.clip(p + effect, 0.001, 0.99)
            lam_h = lam_n * p_new / (1 - p_new)
        else:
            lam_h = known * p
        counts[k, 0] = rng.poisson(lam_h)
        counts[k, 1] = rng.poisson(lam_n)
        counts[k, 2] = rng.poisson(lam * unknown_share)

    # long table: ori, month, ethnicity, offense_class (this order of nesting)
    k_idx, e_idx, j_idx, m_idx = np.meshgrid(
        np.arange(len(OFFENSE_CLASSES)), np.arange(len(ETHNICITIES)), np.arange(n_j),
        np.arange(n_m), indexing="ij",
    )  # fmt: skip
    order = np.lexsort((k_idx.ravel(), e_idx.ravel(), m_idx.ravel(), j_idx.ravel()))
    month_text = np.array([str(m) for m in months])
    arrests = pa.table({
        "ori": jur["ori"].take(pa.array(j_idx.ravel()[order])),
        "month": pa.array(month_text[m_idx.ravel()[order]]),
        "ethnicity": pa.array(np.array(ETHNICITIES)[e_idx.ravel()[order]]),
        "offense_class": pa.array(np.array(OFFENSE_CLASSES)[k_idx.ravel()[order]]),
        "arrests": pa.array(counts.ravel()[order]),
    })  # fmt: skip
    activations = jur.select(["ori", "activated_on"])
    truth = pa.table({
        "ori": jur["ori"], "state": jur["state"], "name": jur["name"],
        "population": jur["population"], "activated_on": jur["activated_on"],
        "injected_points": pa.array(points * 100.0),
    })  # fmt: skip
    return SyntheticArrests(arrests, activations, truth)


def write_arrests(result: SyntheticArrests, out: str | Path, activations: str | Path) -> None:
    """Arrests to Parquet (``.parquet``) or CSV; activations to CSV (or Parquet)."""
    for table, path in ((result.arrests, Path(out)), (result.activations, Path(activations))):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        if path.suffix.lower() == ".parquet":
            pq.write_table(table, partial, compression="zstd")
        else:
            pacsv.write_csv(table, partial)
        partial.replace(path)
