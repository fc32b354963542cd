"""The calibrated synthetic nation: seeded, vectorized bookings of every US county.

``generate_nation(spec)`` returns one row per booking of every activated jurisdiction in the
period, at ``spec.sample_fraction`` of the national flow (DESIGN 7: about 12 million bookings a
year, shared by county population). Columns: exactly the flat caseload columns
(``law.flatten.arrow_schema()``, so ``bulk.evaluate.evaluate_caseload`` reads the IDENT-matched
rows directly) holding what the LESC and the FBI would know, plus the truth and booking
columns listed in ``EXTRA_COLUMNS`` (documented in docs/nation.md). All draws come from numpy
generators seeded by ``(spec.seed, stream, chunk)``: the same spec gives the same table.
Every parameter comes from nation_params.yaml (``params.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from securecomm.bulk.synthetic import _index_within, _offense_struct
from securecomm.law.flatten import FLAG_NAMES, arrow_schema
from securecomm.stats.schema import CHARGE_CATEGORIES, STATUS_CATEGORIES

from .jurisdictions import jurisdictions_table
from .params import DISPOSITIONS, RACES, SEVERITIES, TRUE_STATUSES, Params, load_params
from .params import ParamsError as ParamsError  # re-exported

__all__ = [
    "EXTRA_COLUMNS",
    "SCALES",
    "NationSpec",
    "generate_nation",
    "iter_nation",
    "jurisdictions_table",
    "load_params",
    "nation_outcomes",
    "nation_schema",
    "write_nation",
]

Progress = Callable[[str, int, int], None]
EPOCH = dt.date(1970, 1, 1)
DAY_US = 86_400_000_000
CHUNK_ROWS = 1_000_000  # rows generated at a time (memory stays bounded)

FY2009_START, FY2012_END = dt.date(2008, 10, 1), dt.date(2012, 9, 30)
SCALES = {
    # the demo default: FY2009-FY2012 at 0.2% of the national flow (a few tens of thousands)
    "small": {"sample_fraction": 0.002, "start": FY2009_START, "end": FY2012_END},
    # a national year at full scale (FY2012: every jurisdiction active by its end)
    "national": {"sample_fraction": 1.0, "start": dt.date(2011, 10, 1), "end": FY2012_END},
}

EXTRA_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "tcn": (pa.string(), "transaction control number of the booking submission (== case_id)"),
    "person_id": (pa.int64(), "synthetic person number (one per booking; re-bookings unlinked)"),
    "booked_at": (pa.timestamp("us", tz="UTC"), "booking time"),
    "month": (pa.date32(), "first day of the booking's month, local time"),
    "jurisdiction_name": (pa.string(), "county name"),
    "first_name": (pa.string(), "synthetic first name (lists by ethnicity and sex)"),
    "last_name": (pa.string(), "synthetic last name (lists by ethnicity)"),
    "sex": (pa.string(), "M | F"),
    "race": (pa.string(), "booking race code W | B | A | I | U"),
    "ethnicity": (pa.string(), "H Hispanic | N not Hispanic | U unknown"),
    "place_of_birth": (pa.string(), "ISO 3166 alpha-2 country of birth"),
    "true_status": (pa.string(), "DESIGN 3.2 status, the truth (not what the LESC says)"),
    "naturalized_on": (pa.date32(), "naturalization date of a naturalized citizen, else null"),
    "ident_enrolled": (pa.bool_(), "the person has an IDENT record"),
    "ident_match": (pa.bool_(), "the 1:N IDENT search returned a match"),
    "false_match": (pa.bool_(), "the match is another person's record (a US-born citizen)"),
    "fbi_record": (pa.bool_(), "the FBI holds a criminal-history record (earlier arrests)"),
    "prior_arrests": (pa.int32(), "number of earlier arrests on the FBI record"),
    "usc_family": (pa.bool_(), "US-citizen spouse or child"),
    "release_eligible_at": (pa.timestamp("us", tz="UTC"), "release time absent a detainer"),
    "charge_category": (pa.string(), "most serious current charge (stats.schema categories)"),
    "conviction_status": (pa.string(), "convicted | charged_only | no_criminal_history"),
}


def nation_schema() -> pa.Schema:
    """The flat caseload schema followed by ``EXTRA_COLUMNS``."""
    return pa.schema([*arrow_schema(), *(pa.field(k, t) for k, (t, _) in EXTRA_COLUMNS.items())])


@dataclass(frozen=True)
class NationSpec:
    """What to generate. ``end`` is inclusive. ``for_scale`` gives the named defaults."""

    seed: int = 0
    sample_fraction: float = SCALES["small"]["sample_fraction"]
    start: dt.date = FY2009_START
    end: dt.date = FY2012_END
    scale: str = "small"
    params_path: str | None = field(default=None, compare=True)  # None: packaged YAML

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {self.seed!r}")
        f = self.sample_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
            raise ValueError(f"sample_fraction: expected a number in (0, 1], got {f!r}")
        for name in ("start", "end"):
            v = getattr(self, name)
            if not isinstance(v, dt.date) or isinstance(v, dt.datetime):
                raise ValueError(f"{name}: expected a date, got {v!r}")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.scale not in SCALES and self.scale != "custom":
            raise ValueError(f"scale: expected one of {', '.join(SCALES)}, got {self.scale!r}")

    @classmethod
    def for_scale(cls, scale: str, seed: int = 0, **overrides) -> NationSpec:
        if scale not in SCALES:
            raise ValueError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
        return cls(seed=seed, scale=scale, **{**SCALES[scale], **overrides})


# --------------------------------------------------------------------------- small helpers


def _cat(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    """n categorical draws (indices) with the given weights — one uniform per draw."""
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(w) - 1)


def _take(values, index: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(index, type=pa.int32()))


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=mask).cast(pa.date32())


def _local_to_utc(local_us: np.ndarray, zone_idx: np.ndarray, zones: list[str]) -> np.ndarray:
    """Local wall-clock microseconds -> UTC microseconds, per IANA zone (DST gaps and
    repeats resolve to the earliest instant)."""
    out = np.empty_like(local_us)
    for z in np.unique(zone_idx):
        sel = zone_idx == z
        naive = pa.array(local_us[sel], type=pa.timestamp("us"))
        aware = pc.assume_timezone(naive, zones[z], ambiguous="earliest", nonexistent="earliest")
        out[sel] = aware.cast(pa.int64()).to_numpy()
    return out


def _month_start(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(
        np.int64
    )


# Name lists (synthetic; common names, no real persons)
_NAMES = {
    "hispanic": (
        ("JOSE", "JUAN", "LUIS", "CARLOS", "JESUS", "MIGUEL", "ANTONIO", "FRANCISCO", "JORGE",
         "PEDRO", "MANUEL", "RICARDO", "RAFAEL", "ALEJANDRO", "FERNANDO", "JAVIER", "OSCAR"),
        ("MARIA", "ANA", "ROSA", "GUADALUPE", "CARMEN", "LAURA", "VERONICA", "PATRICIA",
         "ELENA", "SOFIA", "LUCIA", "ADRIANA", "GABRIELA", "ISABEL"),
        ("GARCIA", "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "PEREZ",
         "SANCHEZ", "RAMIREZ", "TORRES", "FLORES", "RIVERA", "GOMEZ", "DIAZ", "REYES",
         "CRUZ", "MORALES", "ORTIZ", "GUTIERREZ", "CHAVEZ", "RAMOS", "MENDOZA", "CASTILLO"),
    ),
    "asian": (
        ("WEI", "MING", "JUN", "HIEU", "MINH", "RAJ", "ANIL", "HYUN", "JOSE", "KENJI", "DAVID"),
        ("MEI", "LIN", "MAI", "PRIYA", "SUNITA", "JI", "YUKI", "MARIA", "LINH"),
        ("NGUYEN", "TRAN", "LE", "PHAM", "KIM", "LEE", "PARK", "CHEN", "WANG", "LI", "ZHANG",
         "PATEL", "SINGH", "SHAH", "REYES", "SANTOS", "CRUZ", "TANAKA"),
    ),
    "other": (
        ("JAMES", "JOHN", "ROBERT", "MICHAEL", "WILLIAM", "DAVID", "RICHARD", "JOSEPH",
         "THOMAS", "CHRISTOPHER", "DANIEL", "MATTHEW", "ANTHONY", "MARK", "JASON", "KEVIN"),
        ("MARY", "PATRICIA", "JENNIFER", "LINDA", "ELIZABETH", "BARBARA", "SUSAN", "JESSICA",
         "SARAH", "KAREN", "LISA", "NANCY", "ASHLEY", "MICHELLE"),
        ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "WILSON",
         "ANDERSON", "TAYLOR", "THOMAS", "MOORE", "JACKSON", "MARTIN", "THOMPSON", "WHITE",
         "HARRIS", "CLARK", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING"),
    ),
}  # fmt: skip


def _names(rng: np.random.Generator, group: np.ndarray, female: np.ndarray):
    """(first, last) name arrays; group 0 hispanic, 1 asian, 2 other."""
    n = len(group)
    firsts, lasts = [], []
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    u1, u2 = rng.random(n), rng.random(n)
    for g, key in enumerate(("hispanic", "asian", "other")):
        male_names, female_names, last_names = _NAMES[key]
        sel = group == g
        for names, rows in ((male_names, sel & ~female), (female_names, sel & female)):
            first[rows] = len(firsts) + (u1[rows] * len(names)).astype(np.int64)
            firsts.extend(names)
        last[sel] = len(lasts) + (u2[sel] * len(last_names)).astype(np.int64)
        lasts.extend(last_names)
    return _take(firsts, first), _take(lasts, last)


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class _Cells:
    """Jurisdiction-month cells with at least one booking."""

    jur: np.ndarray  # jurisdiction index
    lo: np.ndarray  # first day (days since epoch) bookings may fall on
    hi: np.ndarray  # last day
    count: np.ndarray  # bookings


def _cells(spec: NationSpec, params: Params, jur: pa.Table) -> _Cells:
    rng = np.random.default_rng([spec.seed, 0xCE11])
    start, end = (spec.start - EPOCH).days, (spec.end - EPOCH).days
    first_month = np.datetime64(spec.start, "M")
    last_month = np.datetime64(spec.end, "M")
    months = np.arange(first_month, last_month + 1)
    m_lo = np.maximum(months.astype("datetime64[D]").astype(np.int64), start)
    m_hi = np.minimum((months + 1).astype("datetime64[D]").astype(np.int64) - 1, end)
    activated = jur["activated_on"].cast(pa.int32()).to_numpy().astype(np.int64)
    pop = jur["population"].to_numpy().astype(float)
    lo = np.maximum(m_lo[None, :], activated[:, None])  # J x M
    hi = np.broadcast_to(m_hi[None, :], lo.shape)
    days = np.maximum(hi - lo + 1, 0)
    per_day = params["national_bookings_per_year"] / 365.25 * spec.sample_fraction
    expected = per_day * days * (pop / pop.sum())[:, None]
    count = rng.poisson(expected)
    j, m = np.nonzero(count)  # row-major: by jurisdiction, then month
    return _Cells(j, lo[j, m], hi[j, m], count[j, m])


# --------------------------------------------------------------------------- offenses


def _offense_items(rng, catalog, n_items, *, prior, params, day, birth):
    weights = [o["prior" if prior else "current"] for o in catalog]
    k = _cat(rng, weights, n_items)
    ncic = _take([o["ncic"] for o in catalog], k)
    literal = _take([o["literal"] for o in catalog], k)
    severity = _take([o["severity"] for o in catalog], k)
    dv = np.array([o["dv"] for o in catalog], dtype=bool)[k]
    nulls_b = pa.nulls(n_items, pa.bool_())
    zeros = pa.array(np.zeros(n_items, dtype=bool))
    if not prior:
        disposition = _take(DISPOSITIONS, _cat(rng, [params["current_disposition_mix"][d]
                                                     for d in DISPOSITIONS], n_items))  # fmt: skip
        injury = rng.random(n_items) < params["injury_rate"]
        return {
            "_k": k, "_injury": injury,
            "ncic": ncic, "literal": literal, "severity": severity,
            "injury": pa.array(injury),
            "domestic_violence": pa.array(dv), "disposition": disposition,
            "sentence_days": pa.nulls(n_items, pa.int32()), "suspended": zeros,
            "aggravated_felony": nulls_b, "gang_element": zeros,
            "counsel": pa.nulls(n_items, pa.string()), "convicted_on": pa.nulls(n_items, pa.date32()),
            "incident_key": pa.nulls(n_items, pa.string()), "from_current_charge": zeros,
        }  # fmt: skip
    mix = params["sentence_days_mix"]
    buckets = list(mix)
    b = _cat(rng, [mix[x] for x in buckets], n_items)
    bounds = np.array([(0, 0) if x == "none" else tuple(map(int, x.split("-"))) for x in buckets])
    lo, hi = bounds[b, 0], bounds[b, 1]
    sentence = lo + (rng.random(n_items) * (hi - lo + 1)).astype(np.int64)
    sev = np.array([SEVERITIES.index(o["severity"]) for o in catalog])[k]
    # jail terms of misdemeanors stay within a year; infractions carry none
    sentence = np.where(sev == SEVERITIES.index("felony"), sentence, np.minimum(sentence, 365))
    has_sentence = np.array([x != "none" for x in buckets])[b] & (
        sev != SEVERITIES.index("infraction"))
    explicit = rng.random(n_items) < params["explicit_aggravated_felony_rate"]
    counsel = _take(("none", "appointed", "retained"), _cat(rng, (0.15, 0.6, 0.25), n_items))
    # convicted between age 16 and the day before this booking
    earliest = birth + 16 * 365
    span = np.maximum(day - 1 - earliest, 0)
    convicted_on = np.minimum(earliest + (rng.random(n_items) * (span + 1)).astype(np.int64),
                              day - 1)  # fmt: skip
    return {
        "ncic": ncic, "literal": literal, "severity": severity, "injury": zeros,
        "domestic_violence": pa.array(dv),
        "disposition": pa.array(np.full(n_items, "convicted"), type=pa.string()),
        "sentence_days": pa.array(sentence.astype(np.int32), mask=~has_sentence),
        "suspended": pa.array(has_sentence & (rng.random(n_items) < params["suspended_rate"])),
        "aggravated_felony": pa.array(explicit, mask=~explicit),
        "gang_element": pa.array(rng.random(n_items) < 0.01),
        "counsel": counsel,
        "convicted_on": _dates(convicted_on),
        "incident_key": None,  # set by the caller (index within the booking)
        "from_current_charge": zeros,
    }  # fmt: skip


def _lists(counts: np.ndarray, items: dict[str, pa.Array]) -> pa.ListArray:
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), _offense_struct(items))


_CATEGORY_RANK = {c: i for i, c in enumerate(CHARGE_CATEGORIES)}


def _classify_rank(ncic: str, literal: str, severity: str, injury: bool) -> int:
    """Charge category rank of one offense: ``stats.categories.charge_category_of`` (the one
    definition, over the ``securecomm.law.offenses`` predicates, tfsc-2011 parameters)."""
    from securecomm.stats.categories import charge_category_of

    category = charge_category_of([{"ncic": ncic, "literal": literal, "severity": severity,
                                    "injury": injury}])  # fmt: skip
    return _CATEGORY_RANK[category]


def _catalog_ranks(catalog: list[dict]) -> np.ndarray:
    """Category rank of each catalog offense, without and with injury: (len(catalog), 2)."""
    return np.array([[_classify_rank(o["ncic"], o["literal"], o["severity"], inj)
                      for inj in (False, True)] for o in catalog], dtype=np.int8)  # fmt: skip


# --------------------------------------------------------------------------- one chunk


def _chunk(
    spec: NationSpec, params: Params, jur: pa.Table, cells: _Cells, sel: slice, row0: int,
    chunk_no: int,
) -> pa.Table:
    rng = np.random.default_rng([spec.seed, 0xB00C, chunk_no])
    counts = cells.count[sel]
    j = np.repeat(cells.jur[sel], counts)
    n = len(j)
    lo, hi = np.repeat(cells.lo[sel], counts), np.repeat(cells.hi[sel], counts)
    day = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)

    zones = sorted(set(jur["timezone"].to_pylist()))
    zone_of_jur = np.array([zones.index(z) for z in jur["timezone"].to_pylist()])
    zone_idx = zone_of_jur[j]
    hour = _cat(rng, params["booking_hour_weights"], n)
    second = hour * 3600 + (rng.random(n) * 3600).astype(np.int64)
    local = day * DAY_US + second * 1_000_000
    booked = _local_to_utc(local, zone_idx, zones)

    # ---- who: ethnicity, status, race, sex, age, names, birthplace
    fb = jur["foreign_born_share"].to_numpy()[j]
    hs = params["hispanic_share"]
    hispanic = rng.random(n) < np.minimum(hs["cap"], hs["base"] + hs["per_foreign_born"] * fb)
    st_h = _cat(rng, [params["status_mix_hispanic"][s] for s in TRUE_STATUSES], n)
    st_n = _cat(rng, [params["status_mix_non_hispanic"][s] for s in TRUE_STATUSES], n)
    status = np.where(hispanic, st_h, st_n)
    S = {s: status == i for i, s in enumerate(TRUE_STATUSES)}
    usc = S["us_citizen_by_birth"]
    naturalized = S["naturalized_citizen"]
    noncitizen = ~usc & ~naturalized
    race_h = _cat(rng, [params["race_mix_hispanic"][r] for r in RACES], n)
    race_nu = _cat(rng, [params["race_mix_non_hispanic_us_born"][r] for r in RACES], n)
    race_nf = _cat(rng, [params["race_mix_non_hispanic_foreign_born"][r] for r in RACES], n)
    race = np.where(hispanic, race_h, np.where(usc, race_nu, race_nf))
    ethnicity = np.where(hispanic, 0, 1)
    ethnicity = np.where(rng.random(n) < params["ethnicity_unknown_share"], 2, ethnicity)
    female = rng.random(n) < params["female_share"]
    age = params["age_gamma"]
    age_days = ((age["min_years"] + rng.gamma(age["shape"], age["scale_years"], n)) * 365.25)
    birth = day - np.minimum(age_days, 85 * 365.25).astype(np.int64)
    group = np.where(hispanic, 0, np.where(race == RACES.index("A"), 1, 2))
    first_name, last_name = _names(rng, group, female)
    bp_h, bp_n = params["birthplace_mix_hispanic"], params["birthplace_mix_non_hispanic"]
    places = ["US", *bp_h, *bp_n]
    place = np.where(
        usc, 0,
        np.where(hispanic, 1 + _cat(rng, list(bp_h.values()), n),
                 1 + len(bp_h) + _cat(rng, list(bp_n.values()), n)),
    )  # fmt: skip

    # ---- immigration history (truth)
    age_now = day - birth
    recent = S["entered_without_inspection"] & (rng.random(n) < params["recent_entry_share"])
    three_years = 3 * 365
    old_span = np.maximum(age_now - three_years, 0)
    entered = np.where(
        recent,
        day - (rng.random(n) * three_years).astype(np.int64),
        birth + (rng.random(n) * old_span).astype(np.int64),
    )
    entered = np.clip(entered, birth, day)
    lpr_since = entered + (rng.random(n) * (day - entered) * 0.6).astype(np.int64)
    five = 5 * 365 + 1
    room = day - lpr_since - five
    naturalized_on = np.where(
        room > 0,
        lpr_since + five + (rng.random(n) * np.maximum(room, 0)).astype(np.int64),
        lpr_since + (rng.random(n) * (day - lpr_since)).astype(np.int64),
    )

    # ---- IDENT and the LESC
    enrolled = rng.random(n) < np.array(
        [params["ident_enrollment"][s] for s in TRUE_STATUSES])[status]  # fmt: skip
    usable = rng.random(n) < params["capture_usable_rate"]
    false_match = usc & usable & (rng.random(n) < params["false_match_rate"])
    match = (enrolled & usable) | false_match
    # LESC determination as codes into STATUS_CATEGORIES
    code = {c: i for i, c in enumerate(STATUS_CATEGORIES)}
    fm_mix = params["false_match_status_mix"]
    fm_codes = np.array([code[s] for s in fm_mix])[_cat(rng, list(fm_mix.values()), n)]
    lesc = np.array([code[s] for s in TRUE_STATUSES])[status]
    stale = naturalized & (rng.random(n) < params["lesc_stale_naturalized_rate"])
    lesc = np.where(stale, code["lawful_permanent_resident"], lesc)
    lesc = np.where(rng.random(n) < params["lesc_unknown_rate"], code["unknown"], lesc)
    lesc = np.where(false_match, fm_codes, lesc)
    lesc = np.where(match, lesc, code["unknown"])  # no hit: no determination
    knows = match & ~false_match  # the LESC holds this person's own history
    has_lpr = knows & (S["lawful_permanent_resident"] | naturalized)

    # ---- criminal history (FBI)
    fbi = rng.random(n) < np.array([params["fbi_record_rate"][s] for s in TRUE_STATUSES])[status]
    prior_arrests = np.where(fbi, np.minimum(rng.geometric(params["prior_arrests_geometric_p"],
                                                           n), 30), 0)  # fmt: skip
    n_priors = np.minimum(rng.binomial(prior_arrests, params["prior_conviction_rate"]), 12)

    # ---- charges and convictions
    catalog = params["offense_catalog"]
    n_charges = 1 + _cat(rng, [params["charges_per_booking"][k] for k in ("1", "2", "3", "4")], n)
    charge_row = np.repeat(np.arange(n), n_charges)
    charges = _offense_items(rng, catalog, len(charge_row), prior=False, params=params,
                             day=day[charge_row], birth=birth[charge_row])  # fmt: skip
    prior_row = np.repeat(np.arange(n), n_priors)
    priors = _offense_items(rng, catalog, len(prior_row), prior=True, params=params,
                            day=day[prior_row], birth=birth[prior_row])  # fmt: skip
    priors["incident_key"] = pc.binary_join_element_wise(
        pa.array(np.full(len(prior_row), "#conviction-"), type=pa.string()),
        pa.array(_index_within(n_priors)).cast(pa.string()), "")
    # category rank of every charge from its catalog entry (classified once per entry)
    item_rank = _catalog_ranks(catalog)[charges.pop("_k"), charges.pop("_injury").astype(int)]
    starts = np.concatenate([[0], np.cumsum(n_charges)[:-1]])
    category = np.maximum.reduceat(item_rank, starts)  # every booking has >= 1 charge
    convicted_now = pc.equal(charges["disposition"], "convicted").to_numpy(zero_copy_only=False)
    current = {k: v.filter(pa.array(convicted_now)) for k, v in charges.items()}
    n_current = int(convicted_now.sum())
    current["incident_key"] = pa.array(np.full(n_current, "#current-arrest"), type=pa.string())
    current["from_current_charge"] = pa.array(np.ones(n_current, dtype=bool))
    conv_row = np.concatenate([prior_row, charge_row[convicted_now]])
    order = np.argsort(conv_row, kind="stable")  # per booking: priors, then current charges
    merged = {k: pa.concat_arrays([priors[k].cast(current[k].type), current[k]]).take(
        pa.array(order)) for k in priors}  # fmt: skip
    n_conv = np.bincount(conv_row, minlength=n)
    charges_list = _lists(n_charges, charges)
    conviction_status = np.where(n_conv > 0, 0, np.where(fbi, 1, 2))

    # ---- what the LESC knows of the person's immigration history
    noncit_known = knows & noncitizen
    rate = lambda key: np.array(  # noqa: E731
        [params[key].get(s, 0.0) for s in TRUE_STATUSES])[status]
    final_order = noncit_known & (rng.random(n) < rate("final_order_rate"))
    final_on = entered + (rng.random(n) * (day - entered)).astype(np.int64)
    removals = np.where(noncit_known & (rng.random(n) < rate("prior_removal_rate")),
                        np.minimum(rng.geometric(0.6, n), 5), 0)  # fmt: skip
    relief = {r: noncit_known & (rng.random(n) < p)
              for r, p in params["pending_relief_rate"].items()}  # fmt: skip
    fraud = noncit_known & (rng.random(n) < params["immigration_fraud_rate"])
    visa = S["visa_overstay"] | S["nonimmigrant_visa"]
    visa_abuse = knows & visa & (rng.random(n) < params["visa_abuse_rate"])
    entry = np.where(S["entered_without_inspection"], 0, 1)
    entry = np.where(rng.random(n) < 0.05, 2, entry)
    entry = np.where(knows, entry, 2)

    # ---- flags and family
    usc_family = rng.random(n) < rate("usc_family_rate")
    lpr_family = rng.random(n) < params["lpr_family_rate"]
    flags = {f: rng.random(n) < p for f, p in params["flag_rates"].items()}
    # warrants are on the criminal-history side: no FBI record, no warrant to find
    flags["outstanding_criminal_warrant"] &= fbi
    flags["us_citizen_or_lpr_family"] = usc_family | lpr_family

    # ---- release time absent a detainer
    rel = params["release_hours"]
    hours = np.minimum(rng.lognormal(np.log(rel["median"]), rel["sigma"], n), rel["max"])
    rel_local = local + (hours * 3_600_000_000).astype(np.int64)
    business = rng.random(n) < params["release_business_hours_share"]
    rel_day = rel_local // DAY_US
    weekday = (rel_day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    rel_day = rel_day + np.where(weekday >= 5, 7 - weekday, 0)
    b_local = rel_day * DAY_US + ((8 + rng.random(n) * 10) * 3_600_000_000).astype(np.int64)
    b_local = np.where(b_local <= local, b_local + DAY_US, b_local)
    rel_local = np.where(business, b_local, rel_local)
    released = _local_to_utc(rel_local, zone_idx, zones)
    released = np.maximum(released, booked + 60_000_000)  # at least a minute after booking

    tcn_no = np.arange(row0, row0 + n)
    ori = jur["ori"].take(pa.array(j))
    tcn = pc.binary_join_element_wise(
        ori, pa.array(np.char.zfill(tcn_no.astype(str), 10), type=pa.string()), "-")

    cols: dict[str, pa.Array] = {
        "case_id": tcn,
        "decided_on": _dates(day),
        "program": pa.array(np.full(n, "secure_communities"), type=pa.string()),
        "jurisdiction_ori": ori,
        "jurisdiction_state": jur["state"].take(pa.array(j)),
        "jurisdiction_county_fips": jur["county_fips"].take(pa.array(j)),
        "jurisdiction_timezone": jur["timezone"].take(pa.array(j)),
        "jurisdiction_disclosure": jur["disclosure"].take(pa.array(j)),
        "jurisdiction_honors_detainers": jur["honors_detainers"].take(pa.array(j)),
        "person_birth_date": _dates(birth),
        "person_citizenship_status": _take(STATUS_CATEGORIES, lesc),
        "person_entered_us_on": _dates(entered, knows & ~usc),
        "person_entry": _take(("without_inspection", "inspected", "unknown"), entry),
        "person_lpr_since": _dates(lpr_since, has_lpr),
        "person_relief_u_visa": pa.array(relief["u_visa"]),
        "person_relief_t_visa": pa.array(relief["t_visa"]),
        "person_relief_vawa": pa.array(relief["vawa"]),
        "person_relief_asylum": pa.array(relief["asylum"]),
        "person_final_order_on": _dates(final_on, final_order),
        "person_removal_count": pa.array(removals.astype(np.int32)),
        "person_immigration_fraud": pa.array(fraud),
        "person_visa_abuse": pa.array(visa_abuse),
    }
    for f in FLAG_NAMES:
        cols[f"flag_{f}"] = pa.array(flags[f])
    cols["charges"] = charges_list
    cols["convictions"] = _lists(n_conv, merged)
    cols.update({
        "tcn": tcn,
        "person_id": pa.array(tcn_no.astype(np.int64) + 1),
        "booked_at": pa.array(booked, type=pa.timestamp("us", tz="UTC")),
        "month": _dates(_month_start(day)),
        "jurisdiction_name": jur["name"].take(pa.array(j)),
        "first_name": first_name,
        "last_name": last_name,
        "sex": _take(("M", "F"), female.astype(np.int8)),
        "race": _take(RACES, race),
        "ethnicity": _take(("H", "N", "U"), ethnicity),
        "place_of_birth": _take(places, place),
        "true_status": _take(TRUE_STATUSES, status),
        "naturalized_on": _dates(naturalized_on, naturalized),
        "ident_enrolled": pa.array(enrolled),
        "ident_match": pa.array(match),
        "false_match": pa.array(false_match),
        "fbi_record": pa.array(fbi),
        "prior_arrests": pa.array(prior_arrests.astype(np.int32)),
        "usc_family": pa.array(usc_family),
        "release_eligible_at": pa.array(released, type=pa.timestamp("us", tz="UTC")),
        "charge_category": _take(CHARGE_CATEGORIES, category),
        "conviction_status": _take(("convicted", "charged_only", "no_criminal_history"),
                                   conviction_status),
    })  # fmt: skip
    schema = nation_schema()
    return pa.Table.from_arrays([cols[f.name].cast(f.type) for f in schema], schema=schema)


# --------------------------------------------------------------------------- public API


def _params_for(spec: NationSpec, params: Params | None) -> Params:
    return params if params is not None else load_params(spec.params_path)


def iter_nation(
    spec: NationSpec, progress: Progress | None = None, *, params: Params | None = None
) -> Iterator[pa.Table]:
    """The nation in chunks of about ``CHUNK_ROWS`` rows (the same rows as generate_nation)."""
    params = _params_for(spec, params)
    jur = jurisdictions_table(params, spec.seed)
    cells = _cells(spec, params, jur)
    total = int(cells.count.sum())
    ends = np.cumsum(cells.count)
    done, first, chunk_no = 0, 0, 0
    if progress is not None:
        progress("generate", 0, total)
    while first < len(cells.count):
        last = int(np.searchsorted(ends, done + CHUNK_ROWS, side="right"))
        last = max(last, first + 1)
        table = _chunk(spec, params, jur, cells, slice(first, last), done, chunk_no)
        done += table.num_rows
        first, chunk_no = last, chunk_no + 1
        if progress is not None:
            progress("generate", done, total)
        yield table


def generate_nation(
    spec: NationSpec, progress: Progress | None = None, *, params: Params | None = None
) -> pa.Table:
    """The whole nation as one Arrow table (schema ``nation_schema()``)."""
    chunks = list(iter_nation(spec, progress, params=params))
    if not chunks:
        return nation_schema().empty_table()
    return pa.concat_tables(chunks)


def write_nation(
    spec: NationSpec, path: str | Path, progress: Progress | None = None, *,
    params: Params | None = None,
) -> Path:
    """Write the nation to Parquet chunk by chunk (atomically: a partial file is renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with pq.ParquetWriter(partial, nation_schema(), compression="zstd") as writer:
            for table in iter_nation(spec, progress, params=params):
                writer.write_table(table, row_group_size=250_000)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return path


def nation_outcomes(nation, packs, out_dir, *, seed, progress=None, params=None):
    """See ``securecomm.synth.outcomes.nation_outcomes``."""
    from .outcomes import nation_outcomes as run

    return run(nation, packs, out_dir, seed=seed, progress=progress, params=params)
