"""Inverse of law.flatten for one nation row: the Case v1 document the row stands for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from securecomm.law.flatten import FLAG_NAMES
from securecomm.synth.nation import NationSpec

# one fiscal year at 0.1% of the national flow: a few thousand bookings, fast
SMALL_SPEC = NationSpec(seed=11, sample_fraction=0.001, start=dt.date(2010, 10, 1),
                        end=dt.date(2011, 9, 30), scale="custom")  # fmt: skip


def case_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A Case v1 mapping whose flattening is the row's flat caseload columns."""
    decided = row["booked_at"]
    removals = row["person_removal_count"]
    # removal dates are not in the flat record (only their number): any dates before booking
    removed_on = [(row["decided_on"] - dt.timedelta(days=400 * (i + 1))).isoformat()
                  for i in range(removals)]  # fmt: skip
    relief = [r for r in ("u_visa", "t_visa", "vawa", "asylum") if row[f"person_relief_{r}"]]

    def iso(d):
        return None if d is None else d.isoformat()

    convictions = []
    for c in row["convictions"]:
        if c["from_current_charge"]:
            continue  # flatten_case copies convicted current charges itself
        key = c["incident_key"]
        convictions.append({
            "ncic": c["ncic"], "literal": c["literal"], "severity": c["severity"],
            "convicted_on": iso(c["convicted_on"]),
            "incident_id": None if key.startswith("#conviction-") else key,
            "sentence_days": c["sentence_days"], "suspended": c["suspended"],
            "aggravated_felony": c["aggravated_felony"], "counsel": c["counsel"],
            "gang_element": c["gang_element"], "domestic_violence": c["domestic_violence"],
        })  # fmt: skip
    return {
        "case_id": row["case_id"],
        "decided_at": decided.isoformat(),
        "program": row["program"],
        "jurisdiction": {
            "ori": row["jurisdiction_ori"], "state": row["jurisdiction_state"],
            "county_fips": row["jurisdiction_county_fips"],
            "timezone": row["jurisdiction_timezone"],
            "disclosure": row["jurisdiction_disclosure"],
            "honors_detainers": row["jurisdiction_honors_detainers"],
        },
        "person": {
            "birth_date": iso(row["person_birth_date"]),
            "citizenship_status": row["person_citizenship_status"],
            "entered_us_on": iso(row["person_entered_us_on"]),
            "entry": row["person_entry"],
            "lpr_since": iso(row["person_lpr_since"]),
            "pending_relief": relief,
            "final_order_of_removal_on": iso(row["person_final_order_on"]),
            "removed_on": removed_on,
            "immigration_fraud": row["person_immigration_fraud"],
            "visa_abuse": row["person_visa_abuse"],
        },
        "arrest": {
            "arrested_at": decided.isoformat(),
            "charges": [{k: c[k] for k in ("ncic", "literal", "severity", "injury",
                                           "domestic_violence", "disposition")}
                        for c in row["charges"]],
        },
        "convictions": convictions,
        "flags": {f: row[f"flag_{f}"] for f in FLAG_NAMES},
    }
