"""Synthetic flat caseloads for benchmarks, generated column-wise (numpy + pyarrow).

No pydantic object per case: millions of rows are built as arrays directly in the flat shape of
``flatten.arrow_schema()``, with the two normalisations of ``flatten_case`` reproduced
(current charges disposed as convicted are copied into ``convictions`` with
``from_current_charge`` and incident ``#current-arrest``; unattributed convictions get
``#conviction-<index>``). The mixes are plausible, not calibrated: most arrests carry one or two
charges, about 40% of people have prior convictions, every citizenship status occurs, and the
offense vocabulary exercises every rule (minor traffic, DUI, public-order misdemeanors,
domestic violence, drugs, burglary, firearms, aggravated felonies, literal-only traffic …).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from securecomm.law.flatten import OFFENSE_FIELDS, arrow_schema

EPOCH = dt.date(1970, 1, 1)

# (ncic, literal, severity, domestic_violence, weight as a current charge, as a prior)
OFFENSES: tuple[tuple[str, str, str, bool, float, float], ...] = (
    ("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor", False, 12, 6),
    ("5499", "SPEEDING", "infraction", False, 5, 2),
    ("5499", "DRIVING ON SUSPENDED LICENSE", "misdemeanor", False, 4, 3),
    ("5499", "FAILURE TO YIELD", "infraction", False, 2, 1),
    ("5499", "EXPIRED REGISTRATION", "infraction", False, 2, 1),
    ("5499", "NO INSURANCE", "misdemeanor", False, 2, 1),
    ("5499", "RECKLESS DRIVING", "misdemeanor", False, 2, 1),
    ("7399", "Driving without a license", "misdemeanor", False, 1, 0.5),
    ("5403", "DUI - ALCOHOL", "misdemeanor", False, 6, 4),
    ("5404", "DRIVING UNDER THE INFLUENCE OF DRUGS", "misdemeanor", False, 1, 1),
    ("5401", "HIT AND RUN", "misdemeanor", False, 1, 0.5),
    ("4899", "FLEEING POLICE OFFICER", "misdemeanor", False, 1, 0.5),
    ("5311", "DISORDERLY CONDUCT", "misdemeanor", False, 5, 3),
    ("5707", "TRESPASSING", "misdemeanor", False, 3, 2),
    ("4104", "PUBLIC INTOXICATION", "misdemeanor", False, 3, 2),
    ("4813", "FAILURE TO MOVE ON", "infraction", False, 0.5, 0.2),
    ("7399", "LOITERING", "misdemeanor", False, 1, 0.5),
    ("7399", "PANHANDLING", "infraction", False, 0.5, 0.2),
    ("1313", "SIMPLE ASSAULT", "misdemeanor", False, 5, 4),
    ("1313", "ASSAULT - DOMESTIC", "misdemeanor", True, 3, 2),
    ("1316", "STALKING", "misdemeanor", False, 0.5, 0.5),
    ("2303", "SHOPLIFTING", "misdemeanor", False, 4, 4),
    ("2399", "PETTY THEFT", "misdemeanor", False, 3, 3),
    ("2399", "GRAND THEFT", "felony", False, 1, 1.5),
    ("3562", "POSSESSION OF MARIJUANA", "misdemeanor", False, 3, 3),
    ("3532", "POSSESSION OF COCAINE", "felony", False, 1.5, 1.5),
    ("3530", "SALE OF COCAINE", "felony", False, 0.7, 1),
    ("2202", "BURGLARY - RESIDENCE", "felony", False, 1.5, 1.5),
    ("2299", "BURGLARY", "misdemeanor", False, 0.5, 0.5),
    ("1315", "AGGRAVATED ASSAULT WITH WEAPON", "felony", False, 1.5, 1),
    ("5202", "CARRYING CONCEALED WEAPON", "misdemeanor", False, 1, 1),
    ("5212", "WEAPON POSSESSION BY FELON", "felony", False, 0.3, 0.3),
    ("0301", "ILLEGAL ENTRY", "misdemeanor", False, 0.5, 1),
    ("2589", "FORGERY", "felony", False, 0.5, 0.7),
    ("1204", "ROBBERY - STREET-GUN", "felony", False, 0.3, 0.5),
    ("0911", "HOMICIDE - WILLFUL KILL-GUN", "felony", False, 0.05, 0.1),
    ("1103", "RAPE - STRONGARM", "felony", False, 0.05, 0.1),
    ("4801", "RESISTING OFFICER", "misdemeanor", False, 1, 1),
    ("2699", "FRAUD", "felony", False, 0.5, 0.7),
)
_SUFFIXES = ("", "", "", "", "", "", " - 1ST OFFENSE", " (M)", " 2ND DEGREE", " - ATTEMPTED")

_STATUSES = (
    ("entered_without_inspection", 0.33),
    ("visa_overstay", 0.10),
    ("lawful_permanent_resident", 0.25),
    ("nonimmigrant_visa", 0.04),
    ("refugee_asylee", 0.03),
    ("parolee", 0.02),
    ("naturalized_citizen", 0.11),
    ("us_citizen_by_birth", 0.06),
    ("unknown", 0.06),
)
_FLAG_RATES = {
    "national_security": 0.001,
    "gang_member": 0.02,
    "outstanding_criminal_warrant": 0.05,
    "serious_public_safety_risk": 0.01,
    "crime_victim": 0.02,
    "crime_witness": 0.01,
    "domestic_violence_victim": 0.01,
    "civil_rights_plaintiff": 0.002,
    "veteran_or_armed_forces": 0.01,
    "armed_forces_family": 0.02,
    "us_citizen_or_lpr_family": 0.3,
    "primary_caretaker": 0.15,
    "pregnant_or_nursing": 0.02,
    "serious_health_condition": 0.03,
    "in_school_or_graduate": 0.05,
    "indigent": 0.2,
    "apprehended_at_border": 0.02,
}
_STATES = ("CA", "TX", "AZ", "NM", "CO", "FL", "NY", "IL", "GA", "NC", "WA", "NJ", "VA", "MA")
_ZONES = {
    "CA": "America/Los_Angeles",
    "WA": "America/Los_Angeles",
    "AZ": "America/Phoenix",
    "NM": "America/Denver",
    "CO": "America/Denver",
    "TX": "America/Chicago",
    "IL": "America/Chicago",
}


def _days(day: dt.date) -> int:
    return (day - EPOCH).days


def _choice(rng: np.random.Generator, values, weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(values), size=n, p=w / w.sum())


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=mask).cast(pa.date32())


def _strings(values, index: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(index))


def _jurisdictions(rng: np.random.Generator, count: int = 3200) -> dict[str, pa.Array]:
    states = rng.integers(0, len(_STATES), count)
    state = np.array(_STATES)[states]
    ori = [f"{s}{i:07d}" for s, i in zip(state, range(count), strict=True)]
    fips = [f"{(i * 7919) % 99999:05d}" for i in range(count)]
    zones = [_ZONES.get(s, "America/New_York") for s in state]
    return {
        "ori": pa.array(ori),
        "state": pa.array(list(state)),
        "fips": pa.array(fips),
        "zone": pa.array(zones),
    }


def _offense_items(
    rng: np.random.Generator,
    n_items: int,
    *,
    prior: bool,
    decided_days: np.ndarray,
    birth_days: np.ndarray,
    index_in_case: np.ndarray,
) -> dict[str, pa.Array]:
    """Offense records (charges if not ``prior``), one per item, as arrays."""
    weights = [o[5] if prior else o[4] for o in OFFENSES]
    k = _choice(rng, OFFENSES, weights, n_items)
    literal = _strings([o[1] for o in OFFENSES], k)
    suffix = _strings(_SUFFIXES, rng.integers(0, len(_SUFFIXES), n_items))
    literal = pc.binary_join_element_wise(literal, suffix, "")
    lower = rng.random(n_items) < 0.08
    literal = pc.if_else(pa.array(lower), pc.utf8_lower(literal), literal)
    severity = _strings([o[2] for o in OFFENSES], k)
    dv = np.array([o[3] for o in OFFENSES])[k] | (rng.random(n_items) < 0.01)
    null_bool = pa.nulls(n_items, pa.bool_())
    if not prior:
        disposition = _strings(
            ("pending", "convicted", "dismissed", "acquitted"),
            _choice(rng, range(4), (0.88, 0.06, 0.04, 0.02), n_items),
        )
        return {
            "ncic": _strings([o[0] for o in OFFENSES], k),
            "literal": literal,
            "severity": severity,
            "injury": pa.array(rng.random(n_items) < 0.03),
            "domestic_violence": pa.array(dv),
            "disposition": disposition,
            "sentence_days": pa.nulls(n_items, pa.int32()),
            "suspended": pa.array(np.zeros(n_items, dtype=bool)),
            "aggravated_felony": null_bool,
            "gang_element": pa.array(np.zeros(n_items, dtype=bool)),
            "counsel": pa.nulls(n_items, pa.string()),
            "convicted_on": pa.nulls(n_items, pa.date32()),
            "incident_key": pa.nulls(n_items, pa.string()),
            "from_current_charge": pa.array(np.zeros(n_items, dtype=bool)),
            "juvenile_adjudication": pa.array(np.zeros(n_items, dtype=bool)),
        }
    bucket = _choice(rng, range(7), (0.2, 0.3, 0.15, 0.05, 0.15, 0.05, 0.1), n_items)
    lo = np.array([0, 0, 30, 90, 91, 365, 366])[bucket]
    hi = np.array([0, 30, 90, 90, 365, 365, 3650])[bucket]
    sentence = lo + (rng.random(n_items) * (hi - lo + 1)).astype(np.int64)
    sentence_valid = bucket != 0
    agg = _choice(rng, range(3), (0.9, 0.02, 0.08), n_items)
    aggravated = pa.array(agg == 1, mask=agg == 0)
    counsel = _strings(
        ("none", "appointed", "retained", ""), _choice(rng, range(4), (0.1, 0.5, 0.2, 0.2), n_items)
    )
    counsel = pc.if_else(pc.equal(counsel, ""), pa.scalar(None, pa.string()), counsel)
    span = np.maximum(decided_days - (birth_days + 16 * 365), 30)
    convicted_on = decided_days - (rng.random(n_items) * span).astype(np.int64)
    shared = rng.random(n_items) < 0.2
    own = pc.binary_join_element_wise(
        pa.array(np.full(n_items, "#conviction-")), pa.array(index_in_case).cast(pa.string()), ""
    )
    incident = pc.binary_join_element_wise(
        pa.array(np.full(n_items, "INC-")),
        pa.array(np.maximum(index_in_case - 1, 0)).cast(pa.string()),
        "",
    )
    return {
        "ncic": _strings([o[0] for o in OFFENSES], k),
        "literal": literal,
        "severity": severity,
        "injury": pa.array(np.zeros(n_items, dtype=bool)),
        "domestic_violence": pa.array(dv),
        "disposition": pa.array(np.full(n_items, "convicted")),
        "sentence_days": pa.array(sentence.astype(np.int32), mask=~sentence_valid),
        "suspended": pa.array(rng.random(n_items) < 0.15),
        "aggravated_felony": aggravated,
        "gang_element": pa.array(rng.random(n_items) < 0.02),
        "counsel": counsel,
        "convicted_on": _dates(convicted_on, rng.random(n_items) > 0.05),
        "incident_key": pc.if_else(pa.array(shared), incident, own),
        "from_current_charge": pa.array(np.zeros(n_items, dtype=bool)),
        "juvenile_adjudication": pa.array(rng.random(n_items) < 0.02),
    }


def _offense_struct(columns: dict[str, pa.Array]) -> pa.StructArray:
    """Offense records as a struct array; ``juvenile_adjudication`` (v2) defaults to false for
    producers that do not generate it."""
    offense_type = arrow_schema().field("charges").type.value_type
    n = len(next(iter(columns.values())))
    columns = {"juvenile_adjudication": pa.array(np.zeros(n, dtype=bool)), **columns}
    arrays = [columns[name].cast(offense_type.field(name).type) for name in OFFENSE_FIELDS]
    return pa.StructArray.from_arrays(arrays, fields=list(offense_type))


def _index_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, … within each group of the given sizes."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def generate_flat_caseload(n: int, seed: int = 0, *, start: int = 0) -> pa.Table:
    """``n`` synthetic flat case records (ids ``S<seed>-<start + i>``) as one Arrow table."""
    rng = np.random.default_rng([seed, start])
    idx = np.arange(start, start + n)
    case_id = pc.binary_join_element_wise(
        pa.array(np.full(n, f"S{seed}-")), pa.array(idx).cast(pa.string()), ""
    )
    decided = _days(dt.date(2011, 1, 1)) + rng.integers(0, 5 * 365, n)
    age_days = (rng.gamma(4.0, 2.6, n) * 365.25 + 16 * 365.25).astype(np.int64)
    age_days = np.minimum(age_days, 90 * 365)
    birth = decided - age_days
    statuses = _choice(rng, _STATUSES, [w for _, w in _STATUSES], n)
    status_names = [s for s, _ in _STATUSES]
    ewi, overstay, lpr, naturalized, usc = (
        statuses == status_names.index(s)
        for s in (
            "entered_without_inspection",
            "visa_overstay",
            "lawful_permanent_resident",
            "naturalized_citizen",
            "us_citizen_by_birth",
        )
    )
    entered = birth + (rng.random(n) * (decided - birth)).astype(np.int64)
    entered_valid = ~usc & (rng.random(n) > 0.05)
    entry = np.where(ewi, 0, np.where(overstay | lpr | naturalized, 1, 2))
    entry = np.where(usc, 2, entry)
    lpr_since = entered + (rng.random(n) * (decided - entered)).astype(np.int64)
    final_order = entered + (rng.random(n) * (decided - entered)).astype(np.int64)
    final_valid = ~usc & ~naturalized & (rng.random(n) < 0.05)
    removal_count = _choice(rng, range(5), (0.88, 0.09, 0.02, 0.007, 0.003), n)
    jur = _jurisdictions(np.random.default_rng(seed))
    j = pa.array(rng.integers(0, len(jur["ori"]), n))
    disclosure = _choice(rng, range(3), (0.8, 0.15, 0.05), n)

    columns: dict[str, pa.Array] = {
        "case_id": case_id,
        "decided_on": _dates(decided),
        "program": _strings(
            ("secure_communities", "criminal_alien_program", "287g", "border_patrol"),
            _choice(rng, range(4), (0.8, 0.1, 0.05, 0.05), n),
        ),
        "jurisdiction_ori": jur["ori"].take(j),
        "jurisdiction_state": jur["state"].take(j),
        "jurisdiction_county_fips": jur["fips"].take(j),
        "jurisdiction_timezone": jur["zone"].take(j),
        "jurisdiction_disclosure": _strings(("full", "public_safety_only", "none"), disclosure),
        "jurisdiction_honors_detainers": pa.array(rng.random(n) < 0.85),
        "person_birth_date": _dates(birth, rng.random(n) > 0.02),
        "person_citizenship_status": _strings(status_names, statuses),
        "person_entered_us_on": _dates(entered, entered_valid),
        "person_entry": _strings(("without_inspection", "inspected", "unknown"), entry),
        "person_lpr_since": _dates(lpr_since, lpr | naturalized),
        "person_relief_u_visa": pa.array(rng.random(n) < 0.01),
        "person_relief_t_visa": pa.array(rng.random(n) < 0.003),
        "person_relief_vawa": pa.array(rng.random(n) < 0.005),
        "person_relief_asylum": pa.array(rng.random(n) < 0.02),
        "person_final_order_on": _dates(final_order, final_valid),
        "person_removal_count": pa.array(removal_count.astype(np.int32)),
        "person_immigration_fraud": pa.array(rng.random(n) < 0.01),
        "person_visa_abuse": pa.array(rng.random(n) < 0.02),
    }
    for flag, rate in _FLAG_RATES.items():
        columns[f"flag_{flag}"] = pa.array(rng.random(n) < rate)

    # current charges: mostly one or two
    n_charges = _choice(rng, range(6), (0.01, 0.6, 0.27, 0.08, 0.03, 0.01), n)
    charge_case = np.repeat(np.arange(n), n_charges)
    charges = _offense_items(
        rng,
        len(charge_case),
        prior=False,
        decided_days=decided[charge_case],
        birth_days=birth[charge_case],
        index_in_case=_index_within(n_charges),
    )
    # prior convictions: about 40% have some
    has_priors = rng.random(n) < 0.4
    n_priors = np.where(has_priors, 1 + np.minimum(rng.geometric(0.45, n) - 1, 11), 0)
    prior_case = np.repeat(np.arange(n), n_priors)
    priors = _offense_items(
        rng,
        len(prior_case),
        prior=True,
        decided_days=decided[prior_case],
        birth_days=birth[prior_case],
        index_in_case=_index_within(n_priors),
    )
    # current charges disposed as convicted are convictions too (flatten_case)
    convicted = pc.equal(charges["disposition"], "convicted").to_numpy(zero_copy_only=False)
    current = {name: arr.filter(pa.array(convicted)) for name, arr in charges.items()}
    n_current = int(convicted.sum())
    current["incident_key"] = pa.array(np.full(n_current, "#current-arrest"))
    current["from_current_charge"] = pa.array(np.ones(n_current, dtype=bool))
    current_case = charge_case[convicted]
    conv_case = np.concatenate([prior_case, current_case])
    order = np.argsort(conv_case, kind="stable")  # per case: priors first, then current
    merged = {
        name: pa.concat_arrays([priors[name].cast(current[name].type), current[name]]).take(
            pa.array(order)
        )
        for name in OFFENSE_FIELDS
    }
    n_conv = np.bincount(conv_case, minlength=n)

    def lists(counts: np.ndarray, items: dict[str, pa.Array]) -> pa.ListArray:
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), _offense_struct(items))

    columns["charges"] = lists(n_charges, charges)
    columns["convictions"] = lists(n_conv, merged)
    schema = arrow_schema()
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)


def write_synthetic_caseload(
    path: str | Path, n: int, seed: int = 0, *, chunk_rows: int = 500_000
) -> Path:
    """Write ``n`` synthetic cases to Parquet, generated and written chunk by chunk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, arrow_schema(), compression="zstd") as writer:
        for start in range(0, n, chunk_rows):
            size = min(chunk_rows, n - start)
            writer.write_table(
                generate_flat_caseload(size, seed, start=start), row_group_size=122_880
            )
    return path
