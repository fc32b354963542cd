"""Jurisdictions of the synthetic nation: every county of the 50 states and DC.

The county list is real (addfips' packaged ``counties_2010.csv``); everything else is either a
real fact (the activation milestones of Secure Communities, time zones by state) or synthetic
and documented as such (populations, foreign-born shares, disclosure choices, detainer
policies). See docs/nation.md.

Time zones: by state, with the known split states handled at county level where cheap — TX
(El Paso, Hudspeth: Mountain), FL (panhandle west of the Apalachicola: Central), ID (the
northern panhandle: Pacific), OR (Malheur: Mountain), AK (Aleutians West: Hawaii-Aleutian),
IN (the north-west and south-west corners: Central), KY (the western counties listed below:
Central), TN (the eastern counties listed below: Eastern), MI (four Upper Peninsula counties:
Central). Other split states (KS, NE, ND, SD) use the zone of most of their population.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from pathlib import Path

import addfips
import numpy as np
import pyarrow as pa

from .params import Params

ADDFIPS_DATA = Path(addfips.__file__).with_name("data")

STATE_ZONES = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
}  # fmt: skip

_CENTRAL, _EASTERN, _MOUNTAIN, _PACIFIC = (
    "America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles",
)  # fmt: skip
COUNTY_ZONES = {
    # TX: El Paso, Hudspeth
    "48141": _MOUNTAIN, "48229": _MOUNTAIN,
    # FL panhandle west of the Apalachicola River (Gulf County is split; most of it Central)
    "12033": _CENTRAL, "12113": _CENTRAL, "12091": _CENTRAL, "12131": _CENTRAL,
    "12059": _CENTRAL, "12133": _CENTRAL, "12005": _CENTRAL, "12063": _CENTRAL,
    "12013": _CENTRAL, "12045": _CENTRAL,
    # ID northern panhandle (Idaho County is split; most of its people are Pacific)
    "16021": _PACIFIC, "16017": _PACIFIC, "16055": _PACIFIC, "16079": _PACIFIC,
    "16009": _PACIFIC, "16057": _PACIFIC, "16035": _PACIFIC, "16069": _PACIFIC,
    "16061": _PACIFIC, "16049": _PACIFIC,
    # OR: Malheur
    "41045": "America/Boise",
    # AK: Aleutians West
    "02016": "America/Adak",
    # IN: Chicago metro and Evansville corners
    "18089": _CENTRAL, "18127": _CENTRAL, "18111": _CENTRAL, "18073": _CENTRAL,
    "18091": _CENTRAL, "18149": _CENTRAL, "18051": _CENTRAL, "18129": _CENTRAL,
    "18163": _CENTRAL, "18173": _CENTRAL, "18147": _CENTRAL, "18123": _CENTRAL,
    # KY: the larger western counties (Paducah, Owensboro, Bowling Green, Hopkinsville)
    "21145": _CENTRAL, "21059": _CENTRAL, "21227": _CENTRAL, "21047": _CENTRAL,
    "21107": _CENTRAL, "21101": _CENTRAL, "21035": _CENTRAL, "21157": _CENTRAL,
    # TN: East Tennessee's larger counties (Knoxville, Chattanooga, Tri-Cities)
    "47093": _EASTERN, "47065": _EASTERN, "47163": _EASTERN, "47179": _EASTERN,
    "47009": _EASTERN, "47155": _EASTERN, "47011": _EASTERN, "47001": _EASTERN,
    "47089": _EASTERN, "47105": _EASTERN, "47123": _EASTERN, "47059": _EASTERN,
    # MI: Upper Peninsula counties bordering Wisconsin
    "26043": _CENTRAL, "26071": _CENTRAL, "26053": _CENTRAL, "26109": _CENTRAL,
}  # fmt: skip

# US-Mexico border counties (CA, AZ, NM, TX)
BORDER_COUNTIES = frozenset({
    "06073", "06025", "04027", "04019", "04023", "04003", "35023", "35029", "35013",
    "48141", "48229", "48109", "48243", "48377", "48043", "48443", "48465", "48271",
    "48323", "48479", "48505", "48427", "48215", "48061",
})  # fmt: skip

DISCLOSURES = ("full", "public_safety_only", "none")


@functools.cache
def counties() -> tuple[tuple[str, str, str], ...]:
    """(state, county_fips, name) of every county or equivalent of the 50 states and DC,
    from addfips' counties_2010.csv (duplicate spellings dropped), sorted by FIPS."""
    with open(ADDFIPS_DATA / "states.csv", encoding="utf-8") as f:
        postal = {r["fips"]: r["postal"] for r in csv.DictReader(f)}
    seen: dict[str, tuple[str, str, str]] = {}
    with open(ADDFIPS_DATA / "counties_2010.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            state = postal.get(r["statefp"])
            if state not in STATE_ZONES:  # territories
                continue
            fips = r["statefp"] + r["countyfp"]
            seen.setdefault(fips, (state, fips, r["name"]))
    return tuple(seen[k] for k in sorted(seen))


def ori_for(state: str, county_fips: str) -> str:
    """ORI of the county's synthetic jurisdiction: state + county FIPS (3) + "0000"."""
    return f"{state}{county_fips[2:]}0000"


def activation_dates(
    order: np.ndarray, milestones: list[tuple[dt.date, int | None]], first: dt.date
) -> np.ndarray:
    """Activation day numbers (days since 1970-01-01) for jurisdictions activated in ``order``
    (positions into the result): the cumulative counts of the milestones are exact at their
    dates; within a segment, dates are spread evenly (interpolated within the fiscal year)."""
    n = len(order)
    out = np.empty(n, dtype=np.int64)
    epoch = dt.date(1970, 1, 1)
    start, done = first, 0
    for on, count in milestones:
        upto = n if count is None else min(count, n)
        m = upto - done
        if m > 0:
            avail = (on - start).days + 1
            if avail <= 0:
                raise ValueError(f"rollout milestone {on}: before the segment start {start}")
            k = np.arange(m)
            out[order[done:upto]] = (start - epoch).days + (k * avail) // m
        done, start = upto, on + dt.timedelta(days=1)
    return out


def jurisdictions_table(params: Params, seed: int) -> pa.Table:
    """One row per county: ori, name, state, county_fips, timezone, population,
    foreign_born_share, border, disclosure, honors_detainers, activated_on, activation_rank."""
    rows = counties()
    n = len(rows)
    rng = np.random.default_rng([seed, 0x4A55])  # jurisdictions have their own stream
    state = np.array([r[0] for r in rows])
    fips = np.array([r[1] for r in rows])
    border = np.isin(fips, list(BORDER_COUNTIES))

    raw = np.exp(np.log(params["county_population_median"])
                 + params["county_population_sigma"] * rng.standard_normal(n))  # fmt: skip
    population = np.maximum(
        np.round(raw * params["us_population_2010"] / raw.sum()), 50
    ).astype(np.int64)

    fb_state = params["foreign_born_share_by_state"]
    base = np.array([fb_state.get(s, fb_state.get("default", 0.04)) for s in state])
    size = np.log(population / np.median(population))
    fb = base * np.exp(params["foreign_born_county_sigma"] * rng.standard_normal(n)
                       + 0.15 * size - 0.5 * params["foreign_born_county_sigma"] ** 2)  # fmt: skip
    fb = np.where(border, fb * params["border_county_foreign_born_factor"], fb)
    fb = np.clip(fb, 0.002, 0.6)

    mix = params["disclosure_mix"]
    p = np.array([mix[d] for d in DISCLOSURES], dtype=float)
    disclosure = rng.choice(len(DISCLOSURES), size=n, p=p / p.sum())
    honors = rng.random(n) < params["honors_detainers_share"]

    w = params["rollout_order_weights"]
    score = (w["log_population"] * np.log(population) + w["foreign_born"] * fb
             + w["border"] * border + w["noise"] * rng.gumbel(size=n))  # fmt: skip
    order = np.argsort(-score, kind="stable")
    activated = activation_dates(order, params["rollout_milestones"],
                                 params["rollout_first_activation"])  # fmt: skip
    rank = np.empty(n, dtype=np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    zones = [COUNTY_ZONES.get(f, STATE_ZONES[s]) for s, f in zip(state, fips, strict=True)]
    return pa.table({
        "ori": pa.array([ori_for(s, f) for s, f in zip(state, fips, strict=True)]),
        "name": pa.array([r[2] for r in rows]),
        "state": pa.array(state),
        "county_fips": pa.array(fips),
        "timezone": pa.array(zones),
        "population": pa.array(population),
        "foreign_born_share": pa.array(fb),
        "border": pa.array(border),
        "disclosure": pa.array(np.array(DISCLOSURES)[disclosure]),
        "honors_detainers": pa.array(honors),
        "activated_on": pa.array(activated.astype(np.int32)).cast(pa.date32()),
        "activation_rank": pa.array(rank),
    })  # fmt: skip
