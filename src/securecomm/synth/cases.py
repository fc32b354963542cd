"""Seeded synthetic Case v1 documents — example caseloads for ``decide`` and the docs.

Not the calibrated synthetic nation (that is a later piece of ``securecomm.synth``): a plain,
reproducible mix that exercises every rule — citizens and false matches, lawful residents with
and without deportable convictions, minor traffic and minor misdemeanor arrests, serious traffic,
protected victims and witnesses, gang and warrant flags, PEP-era final orders. Nothing here
identifies anyone: identifiers are sequence numbers, dates are drawn at random.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

_ZONES = [
    ("CA", "06037", "America/Los_Angeles"),
    ("TX", "48201", "America/Chicago"),
    ("AZ", "04013", "America/Phoenix"),
    ("CO", "08001", "America/Denver"),
    ("IL", "17031", "America/Chicago"),
    ("NY", "36061", "America/New_York"),
    ("FL", "12086", "America/New_York"),
    ("HI", "15003", "Pacific/Honolulu"),
]
_STATUSES = [
    ("entered_without_inspection", 34), ("visa_overstay", 10), ("lawful_permanent_resident", 16),
    ("naturalized_citizen", 9), ("us_citizen_by_birth", 4), ("nonimmigrant_visa", 4),
    ("refugee_asylee", 3), ("parolee", 2), ("unknown", 18),
]  # fmt: skip
# (ncic, literal, severity, weight)
_CHARGES = [
    ("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor", 14), ("5499", "SPEEDING", "infraction", 5),
    ("5499", "EQUIPMENT VIOLATION", "infraction", 3), ("5404", "DRIVING UNDER INFLUENCE ALCOHOL", "misdemeanor", 8),
    ("5401", "HIT AND RUN", "misdemeanor", 2), ("5499", "RECKLESS DRIVING", "misdemeanor", 2),
    ("5499", "FLEEING A POLICE OFFICER", "misdemeanor", 1), ("7399", "LOITERING", "misdemeanor", 4),
    ("5311", "DISORDERLY CONDUCT", "misdemeanor", 5), ("5707", "TRESPASSING", "misdemeanor", 3),
    ("4104", "PUBLIC INTOXICATION", "misdemeanor", 4), ("2303", "SHOPLIFTING", "misdemeanor", 6),
    ("1313", "SIMPLE ASSLT", "misdemeanor", 6), ("1313", "SIMPLE ASSLT - DOMESTIC", "misdemeanor", 3),
    ("3562", "MARIJUANA - POSSESS", "misdemeanor", 4), ("3530", "COCAINE - SELL", "felony", 3),
    ("2202", "BURGL - FORCED ENTRY-RESID", "felony", 3), ("1314", "AGGRAV ASSLT - GUN", "felony", 3),
    ("1206", "ROBBERY - STREET-STGARM", "felony", 2), ("5212", "POSSESSION OF WEAPON", "misdemeanor", 2),
    ("2605", "FRAUD - ILLEG USE CREDIT CARDS", "felony", 2), ("0301", "ILLEGAL ENTRY", "misdemeanor", 1),
]  # fmt: skip


def _pick(rng: random.Random, weighted: list[tuple]) -> tuple:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return start
    return start + dt.timedelta(days=rng.randrange((end - start).days))


def generate_case(rng: random.Random, index: int, decided_on: dt.date) -> dict[str, Any]:
    state, county, zone = rng.choice(_ZONES)
    status = _pick(rng, _STATUSES)[0]
    birth = _date_between(
        rng, decided_on - dt.timedelta(days=365 * 70), decided_on - dt.timedelta(days=365 * 15)
    )
    person: dict[str, Any] = {"birth_date": birth.isoformat(), "citizenship_status": status}
    if status not in ("us_citizen_by_birth",):
        entered = _date_between(rng, birth, decided_on)
        person["entered_us_on"] = entered.isoformat()
        person["entry"] = "without_inspection" if status == "entered_without_inspection" else (
            "inspected" if status != "unknown" else "unknown")  # fmt: skip
        if status == "lawful_permanent_resident":
            person["lpr_since"] = _date_between(rng, entered, decided_on).isoformat()
    if status in ("entered_without_inspection", "visa_overstay") and rng.random() < 0.08:
        person["final_order_of_removal_on"] = _date_between(
            rng, decided_on - dt.timedelta(days=3000), decided_on
        ).isoformat()
    if status == "entered_without_inspection" and rng.random() < 0.07:
        person["removed_on"] = [_date_between(rng, birth, decided_on).isoformat()]
    if rng.random() < 0.03:
        person["pending_relief"] = [rng.choice(["u_visa", "t_visa", "vawa", "asylum"])]

    charges = []
    for _ in range(rng.choices([1, 2, 3], weights=[70, 22, 8])[0]):
        ncic, literal, severity, _w = _pick(rng, _CHARGES)
        charge: dict[str, Any] = {"ncic": ncic, "literal": literal, "severity": severity}
        if ncic == "5499" and "RECKLESS" in literal and rng.random() < 0.4:
            charge["injury"] = True
        if "DOMESTIC" in literal:
            charge["domestic_violence"] = True
        if rng.random() < 0.05:
            charge["disposition"] = rng.choice(["convicted", "dismissed"])
        charges.append(charge)

    convictions = []
    if rng.random() < 0.4:
        for k in range(rng.choices([1, 2, 3, 4], weights=[55, 25, 12, 8])[0]):
            ncic, literal, severity, _w = _pick(rng, _CHARGES)
            conv: dict[str, Any] = {
                "ncic": ncic, "literal": literal, "severity": severity,
                "convicted_on": _date_between(rng, min(birth + dt.timedelta(days=365 * 16), decided_on), decided_on).isoformat(),
                "incident_id": f"inc-{index}-{k if rng.random() < 0.85 else 0}",
                "sentence_days": rng.choice([0, 10, 30, 90, 180, 365, 730, None]),
                "counsel": rng.choice(["appointed", "retained", "none", None]),
            }  # fmt: skip
            if conv["sentence_days"] and rng.random() < 0.3:
                conv["suspended"] = True
            if rng.random() < 0.03:
                conv["gang_element"] = True
            convictions.append({k2: v for k2, v in conv.items() if v is not None})

    flag_rates = {
        "national_security": 0.002, "gang_member": 0.03, "outstanding_criminal_warrant": 0.05,
        "serious_public_safety_risk": 0.02, "crime_victim": 0.03, "crime_witness": 0.02,
        "domestic_violence_victim": 0.02, "civil_rights_plaintiff": 0.003,
        "veteran_or_armed_forces": 0.01, "armed_forces_family": 0.02, "us_citizen_or_lpr_family": 0.39,
        "primary_caretaker": 0.15, "pregnant_or_nursing": 0.02, "serious_health_condition": 0.03,
        "in_school_or_graduate": 0.08, "indigent": 0.3, "apprehended_at_border": 0.01,
    }  # fmt: skip
    flags = {name: True for name, rate in flag_rates.items() if rng.random() < rate}
    # Wall-clock times in the jurisdiction's own zone, so the decision date is decided_on there.
    local = ZoneInfo(zone)
    decided_at = dt.datetime.combine(
        decided_on, dt.time(rng.randrange(24), rng.randrange(60)), tzinfo=local
    )
    arrested_at = decided_at - dt.timedelta(hours=rng.randrange(1, 30))
    return {
        "case_id": f"case-{index:07d}",
        "decided_at": decided_at.isoformat(),
        "program": rng.choices(["secure_communities", "criminal_alien_program", "287g", "border_patrol"],
                               weights=[85, 10, 4, 1])[0],
        "jurisdiction": {
            "ori": f"{state}{index % 10_000_000:07d}", "state": state, "county_fips": county,
            "timezone": zone, "disclosure": rng.choices(["full", "public_safety_only", "none"], weights=[70, 20, 10])[0],
            "honors_detainers": rng.random() < 0.85,
        },
        "person": person,
        "arrest": {"arrested_at": arrested_at.isoformat(), "charges": charges},
        "convictions": convictions,
        "flags": flags,
    }  # fmt: skip


def generate_cases(
    n: int, seed: int = 2011, decided_on: dt.date = dt.date(2011, 10, 3)
) -> list[dict[str, Any]]:
    """``n`` Case v1 documents (dicts), reproducible for a given seed."""
    rng = random.Random(seed)
    return [generate_case(rng, i, decided_on) for i in range(n)]
