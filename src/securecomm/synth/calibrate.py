"""Calibration: the synthetic nation under morton-2011, side by side with published figures.

The nation from October 2008 through 2011-03-31 (ICE's cumulative figures run to that date) is
evaluated under ``morton-2011`` (the policy of the period) and its simulated outcomes are
compared with published figures as rates and shares — never raw counts, which depend on the
sample fraction. Every row has a tolerance with its rationale; the generator's parameters marked
``calibrated: true`` in nation_params.yaml were tuned until every row passed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .nation import NationSpec, generate_nation
from .outcomes import nation_outcomes
from .params import Params, load_params

Progress = Callable[[str, int, int], None]
PERIOD = (dt.date(2008, 10, 1), dt.date(2011, 3, 31))
PACK = "morton-2011"

ICE = ("ICE, Secure Communities IDENT/IAFIS Interoperability monthly statistics through "
       "2011-03-31 (counts as cited in securecomm issue 4; not re-verified here)")
WARREN = ("Kohli, Markowitz, Chavez, \"Secure Communities by the Numbers\", Warren Institute, "
          "Oct 2011")  # fmt: skip
TRAC = ("TRAC (Syracuse), \"Few ICE Detainers Target Serious Criminals\", Sept 2013 "
        "(trac.syr.edu/immigration/reports/330): 47.7% of 347,691 people with a detainer, "
        "FY2012-Jan 2013")  # fmt: skip
LATIN_AMERICA = frozenset({"MX", "GT", "SV", "HN", "CU", "DO", "CO", "EC", "PE", "NI", "VE",
                           "BO", "CL", "AR", "UY", "PY", "PA", "CR", "PR"})  # fmt: skip


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    value: float
    published: str  # the figure as published (counts) and how the rate derives from it
    tolerance: float  # absolute, in the unit of ``value``
    rationale: str  # why that tolerance
    source: str

    @property
    def short_source(self) -> str:
        return {ICE: "ICE", WARREN: "Warren Institute", TRAC: "TRAC"}.get(self.source,
                                                                          self.source)


TARGETS = (
    Target("custody_per_submission", "Booked into ICE custody per submission",
           197_302 / 7_225_393, "197,302 / 7,225,393", 0.004,
           "+-15%: ICE counts custody from all activated jurisdictions; the synthetic rollout "
           "order and sampling move the mix", ICE),
    Target("removals_per_submission", "Removed per submission", 101_741 / 7_225_393,
           "101,741 / 7,225,393", 0.0025,
           "+-18%: compounds the custody and removal-rate uncertainty", ICE),
    Target("removals_per_custody", "Removed per booked into custody", 101_741 / 197_302,
           "101,741 / 197,302", 0.05,
           "+-5 pts: removals lag custody (cases still pending at the cut-off)", ICE),
    Target("convicted_share_of_removals", "Convicted share of removals", 72_445 / 101_741,
           "72,445 / 101,741", 0.05,
           "+-5 pts: ICE counts convictions known at removal (modelled: convicted at booking, "
           "or a pending charge convicted later)", ICE),
    Target("latino_share_of_ice_arrests", "Latino share of those arrested by ICE", 0.93, "93%",
           0.04, "+-4 pts: Warren inferred Latino origin from nationality in a 1,650-case "
           "sample (95% CI about +-1.3 pts) — modelled as ethnicity H or a Latin American "
           "birthplace", WARREN),
    Target("usc_family_share_of_ice_arrests", "US-citizen spouse or child, share of ICE arrests",
           0.39, "39%", 0.05, "+-5 pts: self-reported in the sample; sampling noise here",
           WARREN),
    Target("us_citizen_share_of_ice_arrests", "US citizens, share of ICE arrests",
           3_600 / 226_694, "about 3,600 of 226,694 ICE arrests/bookings through April 2011 "
           "(Warren fn. 42: 1.6% of the sample, extrapolated)", 0.008,
           "+-0.8 pts: 1.6% of 1,650 cases is about 26 people (95% CI about +-0.6 pts)",
           WARREN),
    Target("detained_share_of_ice_arrests", "Detained share of ICE arrests", 0.83, "83%", 0.05,
           "+-5 pts: sample estimate; detention is simulated, not a policy outcome", WARREN),
    Target("no_conviction_share_of_detainers", "Detainers on people with no criminal "
           "conviction", 0.477, "47.7% (unverified for Oct 2008 - Mar 2011; the verified figure "
           "is for FY2012 - Jan 2013)", 0.10,
           "+-10 pts: a later period and all ICE detainers, not only Secure Communities", TRAC),
)  # fmt: skip


@dataclass(frozen=True)
class CalibrationRow:
    target: Target
    simulated: float
    numerator: int
    denominator: int

    @property
    def passed(self) -> bool:
        return (self.denominator > 0
                and abs(self.simulated - self.target.value) <= self.target.tolerance)  # fmt: skip


@dataclass(frozen=True)
class CalibrationReport:
    sample_fraction: float
    seed: int
    start: dt.date
    end: dt.date
    bookings: int
    matched: int
    rows: tuple[CalibrationRow, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def row(self, key: str) -> CalibrationRow:
        for r in self.rows:
            if r.target.key == key:
                return r
        raise KeyError(key)

    def to_markdown(self) -> str:
        lines = [
            "# Calibration of the synthetic nation",
            "",
            "Generated by `securecomm synth calibrate --sample-fraction "
            f"{self.sample_fraction:g} --seed {self.seed} --markdown docs/calibration.md`; "
            "do not edit by hand.",
            "",
            f"The nation from {self.start} through {self.end} under `{PACK}`: "
            f"{self.bookings:,} sampled bookings ({self.sample_fraction:g} of the national flow; "
            f"about {self.bookings / self.sample_fraction:,.0f} at full scale, against ICE's "
            f"7,225,393 submissions), {self.matched:,} IDENT matches. Rates and shares only; "
            "tolerances are absolute. Parameters marked `calibrated: true` in "
            "`src/securecomm/synth/nation_params.yaml` were tuned to these rows.",
            "",
            "| figure | published | simulated | tolerance | pass | source | tolerance rationale |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            t = r.target
            lines.append(
                f"| {t.label} | {_fmt(t.value)} ({t.published}) | {_fmt(r.simulated)} "
                f"({r.numerator:,} / {r.denominator:,}) | +-{100 * t.tolerance:.2f} pts | "
                f"{'pass' if r.passed else 'FAIL'} | {t.source} | {t.rationale} |"
            )
        lines += ["", f"Overall: {'every row within tolerance' if self.passed else 'FAILED'}.",
                  ""]  # fmt: skip
        return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{100 * x:.2f}%"


def measure(nation: pa.Table, outcomes: pa.Table) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of every target from a nation and its morton-2011 outcomes
    (with the simulation's extra columns)."""
    def b(t: pa.Table, name: str) -> np.ndarray:
        return t[name].to_numpy(zero_copy_only=False).astype(bool)

    custody, removed = b(outcomes, "ice_custody"), b(outcomes, "removed")
    detained, convicted = b(outcomes, "detained"), b(outcomes, "convicted_by_removal")
    action = pc.fill_null(outcomes["action"], "").to_numpy(zero_copy_only=False).astype(str)
    eth = nation["ethnicity"].to_numpy(zero_copy_only=False).astype(str)
    place = nation["place_of_birth"].to_numpy(zero_copy_only=False).astype(str)
    latino = (eth == "H") | np.isin(place, list(LATIN_AMERICA))
    truth = nation["true_status"].to_numpy(zero_copy_only=False).astype(str)
    citizen = np.isin(truth, ["us_citizen_by_birth", "naturalized_citizen"])
    family = b(nation, "usc_family")
    status = nation["conviction_status"].to_numpy(zero_copy_only=False).astype(str)
    detainer = action == "detainer"
    n, c = nation.num_rows, int(custody.sum())
    return {
        "custody_per_submission": (c, n),
        "removals_per_submission": (int(removed.sum()), n),
        "removals_per_custody": (int(removed.sum()), c),
        "convicted_share_of_removals": (int((removed & convicted).sum()), int(removed.sum())),
        "latino_share_of_ice_arrests": (int((custody & latino).sum()), c),
        "usc_family_share_of_ice_arrests": (int((custody & family).sum()), c),
        "us_citizen_share_of_ice_arrests": (int((custody & citizen).sum()), c),
        "detained_share_of_ice_arrests": (int(detained.sum()), c),
        "no_conviction_share_of_detainers": (
            int((detainer & (status != "convicted")).sum()), int(detainer.sum())),
    }  # fmt: skip


def calibrate(
    sample_fraction: float = 0.01,
    seed: int = 0,
    *,
    params: Params | None = None,
    work_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> CalibrationReport:
    """Generate the period's nation, evaluate it under morton-2011, simulate, compare."""
    params = params if params is not None else load_params()
    spec = NationSpec(seed=seed, sample_fraction=sample_fraction, start=PERIOD[0],
                      end=PERIOD[1], scale="custom")  # fmt: skip
    nation = generate_nation(spec, progress, params=params)
    with tempfile.TemporaryDirectory(prefix="calibrate-", dir=work_dir) as tmp:
        paths = nation_outcomes(nation, [PACK], tmp, seed=seed, progress=progress,
                                params=params, keep_extra=True)  # fmt: skip
        outcomes = pq.read_table(paths[PACK])
    counts = measure(nation, outcomes)
    rows = tuple(
        CalibrationRow(t, counts[t.key][0] / counts[t.key][1] if counts[t.key][1] else 0.0,
                       *counts[t.key])
        for t in TARGETS
    )  # fmt: skip
    matched = int(pc.sum(nation["ident_match"]).as_py() or 0)
    return CalibrationReport(sample_fraction, seed, PERIOD[0], PERIOD[1], nation.num_rows,
                             matched, rows)  # fmt: skip
