"""A small hand-built Booking outcome v1 world with counts known by hand (see the tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from securecomm.stats.schema import BOOKING_OUTCOME_SCHEMA

JAN, FEB = dt.date(2012, 1, 1), dt.date(2012, 2, 1)
J1 = ("CO0010000", "CO", "08001")
J2 = ("CO0020000", "CO", None)
J3 = ("TXHPD0000", "TX", "48201")

_counter = iter(range(10_000))


def row(
    jur: tuple[str, str, str | None],
    month: dt.date,
    *,
    policy: str = "tfsc-2011",
    tcn: str | None = None,
    ident: bool = False,
    status: str | None = None,
    action: str | None = None,
    reason: str | None = None,
    level: int | None = None,
    bases: list[str] | None = None,
    charge: str = "minor_traffic",
    conviction: str = "no_criminal_history",
    custody: bool = False,
    removed: bool = False,
    held: bool = False,
    protected: bool | None = None,
) -> dict[str, Any]:
    ori, state, county = jur
    n = next(_counter)
    return {
        "policy": policy,
        "tcn": tcn or f"T{n:05d}",
        "booked_at": dt.datetime(month.year, month.month, 2, 12, tzinfo=dt.UTC),
        "month": month,
        "ori": ori,
        "state": state,
        "county_fips": county,
        "program": "secure_communities",
        "race": None,
        "ethnicity": None,
        "ident_match": ident,
        "status_category": status,
        "action": action,
        "action_rule": None,
        "decline_reason": reason,
        "level": level,
        "priority": None,
        "priority_bases": bases if bases is not None else ([] if ident else None),
        "protected": protected if protected is not None else (False if ident else None),
        "charge_category": charge,
        "conviction_status": conviction,
        "ice_custody": custody,
        "removed": removed,
        "held_past_expiry": held,
    }


def table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=BOOKING_OUTCOME_SCHEMA)


def world_rows() -> list[dict[str, Any]]:
    M = dict(ident=True)
    ewi = "entered_without_inspection"
    rows = []
    # ---- J1, January: 10 bookings
    rows += [row(J1, JAN) for _ in range(3)]
    rows += [
        row(J1, JAN, **M, status="us_citizen_by_birth", action="no_action"),
        row(J1, JAN, **M, status=ewi, action="detainer", level=2, bases=["1(b)", "level-2"],
            charge="felony", conviction="convicted", custody=True, removed=True),
        row(J1, JAN, **M, status=ewi, action="detainer", bases=["2(a)"],
            charge="other_misdemeanor", custody=True),
        row(J1, JAN, **M, status="visa_overstay", action="conditional_detainer",
            charge="other_minor_misdemeanor", conviction="charged_only", held=True),
        row(J1, JAN, **M, status="visa_overstay", action="no_detainer", reason="minor_traffic"),
        row(J1, JAN, **M, status="lawful_permanent_resident", action="no_detainer",
            reason="protected_person", level=3, conviction="convicted"),
        row(J1, JAN, **M, status="unknown", action="no_action"),
    ]  # fmt: skip
    # ---- J1, February: 5 bookings
    rows += [row(J1, FEB) for _ in range(2)]
    rows += [
        row(J1, FEB, **M, status=ewi, action="detainer", level=1,
            bases=["1(b)", "level-1", "1(b)"], charge="felony", conviction="convicted",
            custody=True, removed=True),
        row(J1, FEB, **M, status=ewi, action="notification_request", level=3, bases=["1(d)"],
            charge="serious_traffic", conviction="convicted"),
        row(J1, FEB, **M, status="parolee", action="detainer", bases=["9(z)"],
            charge="serious_traffic", conviction="charged_only"),
    ]  # fmt: skip
    # ---- J2, January only: 6 bookings
    rows += [row(J2, JAN) for _ in range(4)]
    rows += [
        row(J2, JAN, **M, status="naturalized_citizen", action="no_action"),
        row(J2, JAN, **M, status="nonimmigrant_visa", action="no_detainer",
            reason="not_a_priority"),
    ]  # fmt: skip
    # ---- J3, February only: 8 bookings
    rows += [row(J3, FEB) for _ in range(5)]
    rows += [
        row(J3, FEB, **M, status=ewi, action="detainer", bases=["2(a)"], charge="minor_traffic",
            custody=True, removed=True),
        row(J3, FEB, **M, status="refugee_asylee", action="no_detainer",
            reason="minor_misdemeanor", charge="other_minor_misdemeanor"),
        row(J3, FEB, **M, status=ewi, action="conditional_detainer",
            charge="other_minor_misdemeanor", conviction="charged_only", custody=True),
    ]  # fmt: skip
    # ---- another policy over three of the bookings (the filter must drop them)
    rows += [row(J1, JAN, policy="pep-2014") for _ in range(3)]
    return rows


# Non-zero cells per jurisdiction-month (month, state, ori, county_fips), by hand.
EXPECTED = {
    (JAN, "CO", "CO0010000", "08001"): {
        ("submissions", "all"): 10,
        ("ident_matches", "all"): 7,
        ("hits_by_status", "us_citizen_by_birth"): 1,
        ("hits_by_status", "entered_without_inspection"): 2,
        ("hits_by_status", "visa_overstay"): 2,
        ("hits_by_status", "lawful_permanent_resident"): 1,
        ("hits_by_status", "unknown"): 1,
        ("detainers", "unconditional"): 2,
        ("detainers", "conditional"): 1,
        ("declines", "minor_traffic"): 1,
        ("declines", "protected_person"): 1,
        ("ice_custody", "level_2"): 1,
        ("ice_custody", "non_criminal"): 1,
        ("removals", "level_2"): 1,
        ("detainers_by_charge", "felony"): 1,
        ("detainers_by_charge", "other_misdemeanor"): 1,
        ("detainers_by_charge", "other_minor_misdemeanor"): 1,
        ("detainers_by_conviction", "convicted"): 1,
        ("detainers_by_conviction", "no_criminal_history"): 1,
        ("detainers_by_conviction", "charged_only"): 1,
        ("detainers_by_priority_basis", "1(b)"): 1,
        ("detainers_by_priority_basis", "level-2"): 1,
        ("detainers_by_priority_basis", "2(a)"): 1,
        ("holds_past_expiry", "all"): 1,
        ("submissions_by_program", "secure_communities"): 10,
        ("detainers_by_program", "secure_communities"): 3,
    },
    (FEB, "CO", "CO0010000", "08001"): {
        ("submissions", "all"): 5,
        ("ident_matches", "all"): 3,
        ("hits_by_status", "entered_without_inspection"): 2,
        ("hits_by_status", "parolee"): 1,
        ("detainers", "unconditional"): 2,
        ("notification_requests", "all"): 1,
        ("ice_custody", "level_1"): 1,
        ("removals", "level_1"): 1,
        ("detainers_by_charge", "felony"): 1,
        ("detainers_by_charge", "serious_traffic"): 1,
        ("detainers_by_conviction", "convicted"): 1,
        ("detainers_by_conviction", "charged_only"): 1,
        # the duplicated 1(b) counts once; 1(d) is on a notification request, not a detainer
        ("detainers_by_priority_basis", "1(b)"): 1,
        ("detainers_by_priority_basis", "level-1"): 1,
        ("detainers_by_priority_basis", "other"): 1,
        ("submissions_by_program", "secure_communities"): 5,
        ("detainers_by_program", "secure_communities"): 2,
    },
    (JAN, "CO", "CO0020000", None): {
        ("submissions", "all"): 6,
        ("ident_matches", "all"): 2,
        ("hits_by_status", "naturalized_citizen"): 1,
        ("hits_by_status", "nonimmigrant_visa"): 1,
        ("declines", "not_a_priority"): 1,
        ("submissions_by_program", "secure_communities"): 6,
    },
    (FEB, "TX", "TXHPD0000", "48201"): {
        ("submissions", "all"): 8,
        ("ident_matches", "all"): 3,
        ("hits_by_status", "entered_without_inspection"): 2,
        ("hits_by_status", "refugee_asylee"): 1,
        ("detainers", "unconditional"): 1,
        ("detainers", "conditional"): 1,
        ("declines", "minor_misdemeanor"): 1,
        ("ice_custody", "non_criminal"): 2,
        ("removals", "non_criminal"): 1,
        ("detainers_by_charge", "minor_traffic"): 1,
        ("detainers_by_charge", "other_minor_misdemeanor"): 1,
        ("detainers_by_conviction", "no_criminal_history"): 1,
        ("detainers_by_conviction", "charged_only"): 1,
        ("detainers_by_priority_basis", "2(a)"): 1,
        ("submissions_by_program", "secure_communities"): 8,
        ("detainers_by_program", "secure_communities"): 2,
    },
}
