"""The flat case record: the one shape every rule is evaluated on.

A Case file v1 is flattened into one record with scalar columns and two list columns of
offense records (``charges``, ``convictions``). The single-case evaluator works on this
record as a dict; the bulk evaluator works on a table (Parquet) of the same columns. Because
both evaluate the same rule expressions over the same columns, they cannot drift apart.

Two normalisations happen here, once, for both paths:
- a current charge with disposition ``convicted`` is copied into ``convictions`` with
  ``from_current_charge = true`` (whether it counts is a policy parameter);
- every conviction gets an ``incident_key``: its ``incident_id``, or a key of its own when the
  record has none (an unattributed conviction is its own incident).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from .schema import Case, Charge, Conviction, Disposition, Relief

# Column documentation: name -> (type, meaning). Also rendered into docs/caseload-columns.md.
OFFENSE_FIELDS: dict[str, tuple[str, str]] = {
    "ncic": ("string", "NCIC Uniform Offense Classification code, 4 digits"),
    "literal": ("string", "offense literal as booked or on the judgment, ASCII-folded (NFKD)"),
    "severity": ("string", "infraction | misdemeanor | felony, as the jurisdiction classes it"),
    "injury": ("bool", "the offense caused injury to a person (charges)"),
    "domestic_violence": ("bool", "domestic-violence offense"),
    "disposition": ("string", "pending | convicted | dismissed | acquitted (charges); convicted"),
    "sentence_days": ("int32", "custodial sentence in days, null if unknown"),
    "suspended": ("bool", "the custodial sentence was suspended"),
    "aggravated_felony": ("bool", "explicit INA 101(a)(43) finding; null = not known"),
    "gang_element": ("bool", "conviction has a gang element"),
    "counsel": ("string", "none | appointed | retained | null"),
    "convicted_on": ("date", "date of conviction, null if unknown"),
    "incident_key": ("string", "incident the conviction arose from (own key if none given)"),
    "from_current_charge": ("bool", "copied from a current charge disposed as convicted"),
    "juvenile_adjudication": ("bool", "a juvenile adjudication, not a conviction (v2)"),
}

CASE_COLUMNS: dict[str, tuple[str, str]] = {
    "case_id": ("string", "case identifier"),
    "decided_on": ("date", "decision date: decided_at's date in the jurisdiction's time zone"),
    "program": ("string", "secure_communities | criminal_alien_program | 287g | border_patrol"),
    "jurisdiction_ori": ("string", "originating agency identifier"),
    "jurisdiction_state": ("string", "two-letter state"),
    "jurisdiction_county_fips": ("string", "county FIPS code or null"),
    "jurisdiction_timezone": ("string", "IANA time zone of the holding facility"),
    "jurisdiction_disclosure": ("string", "full | public_safety_only | none"),
    "jurisdiction_honors_detainers": ("bool", "the jurisdiction honors detainers"),
    "person_birth_date": ("date", "date of birth or null"),
    "person_citizenship_status": ("string", "citizenship status (Case v1 value)"),
    "person_entered_us_on": ("date", "date of (last) entry or null"),
    "person_entry": ("string", "without_inspection | inspected | unknown"),
    "person_lpr_since": ("date", "date of lawful permanent residence or null"),
    "person_relief_u_visa": ("bool", "pending U visa"),
    "person_relief_t_visa": ("bool", "pending T visa"),
    "person_relief_vawa": ("bool", "pending VAWA self-petition"),
    "person_relief_asylum": ("bool", "pending asylum application"),
    "person_final_order_on": ("date", "date of a final order of removal not executed, or null"),
    "person_removal_count": ("int32", "number of prior removals"),
    "person_immigration_fraud": ("bool", "immigration fraud"),
    "person_visa_abuse": ("bool", "knowing or significant visa abuse"),
}
FLAG_NAMES = (
    "national_security",
    "gang_member",
    "outstanding_criminal_warrant",
    "serious_public_safety_risk",
    "crime_victim",
    "crime_witness",
    "domestic_violence_victim",
    "civil_rights_plaintiff",
    "veteran_or_armed_forces",
    "armed_forces_family",
    "us_citizen_or_lpr_family",
    "primary_caretaker",
    "pregnant_or_nursing",
    "serious_health_condition",
    "in_school_or_graduate",
    "indigent",
    "apprehended_at_border",
)
for _flag in FLAG_NAMES:
    CASE_COLUMNS[f"flag_{_flag}"] = ("bool", f"flags.{_flag}")
CASE_COLUMNS["charges"] = ("list<offense>", "current charges of this arrest")
CASE_COLUMNS["convictions"] = ("list<offense>", "convictions, incl. current charges convicted")


def fold_literal(text: str) -> str:
    """The matching form of an offense literal: NFKD-decomposed and ASCII-only.

    Regex engines disagree on non-ASCII text (Unicode \\w and case folding in Python, RE2's
    folding of "ſ" to "s" in DuckDB, Java's ASCII-only folding in Spark), so patterns only ever
    see ASCII: "ſpeeding" -> "speeding", "drivé" -> "drive", "DRİVİNG" -> "DRIVING".
    """
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _offense(
    *,
    ncic: str,
    literal: str,
    severity: str,
    injury: bool = False,
    domestic_violence: bool = False,
    disposition: str = "convicted",
    sentence_days: int | None = None,
    suspended: bool = False,
    aggravated_felony: bool | None = None,
    gang_element: bool = False,
    counsel: str | None = None,
    convicted_on: dt.date | None = None,
    incident_key: str | None = None,
    from_current_charge: bool = False,
    juvenile_adjudication: bool = False,
) -> dict[str, Any]:
    return {
        "ncic": ncic,
        "literal": fold_literal(literal),
        "severity": severity,
        "injury": injury,
        "domestic_violence": domestic_violence,
        "disposition": disposition,
        "sentence_days": sentence_days,
        "suspended": suspended,
        "aggravated_felony": aggravated_felony,
        "gang_element": gang_element,
        "counsel": counsel,
        "convicted_on": convicted_on,
        "incident_key": incident_key,
        "from_current_charge": from_current_charge,
        "juvenile_adjudication": juvenile_adjudication,
    }


def _charge_record(charge: Charge) -> dict[str, Any]:
    return _offense(
        ncic=charge.ncic,
        literal=charge.literal,
        severity=charge.severity.value,
        injury=charge.injury,
        domestic_violence=charge.domestic_violence,
        disposition=charge.disposition.value,
    )


def _conviction_record(conviction: Conviction, index: int) -> dict[str, Any]:
    return _offense(
        ncic=conviction.ncic,
        literal=conviction.literal,
        severity=conviction.severity.value,
        domestic_violence=conviction.domestic_violence,
        sentence_days=conviction.sentence_days,
        suspended=conviction.suspended,
        aggravated_felony=conviction.aggravated_felony,
        gang_element=conviction.gang_element,
        counsel=conviction.counsel.value if conviction.counsel else None,
        convicted_on=conviction.convicted_on,
        incident_key=conviction.incident_id or f"#conviction-{index}",
        juvenile_adjudication=conviction.juvenile_adjudication,
    )


def flatten_case(case: Case) -> dict[str, Any]:
    """Case file v1 -> flat case record (see CASE_COLUMNS)."""
    person, jurisdiction = case.person, case.jurisdiction
    relief = set(person.pending_relief)
    row: dict[str, Any] = {
        "case_id": case.case_id,
        # the facility's calendar date: ages and anniversaries turn over at local midnight
        "decided_on": case.decided_at.astimezone(ZoneInfo(jurisdiction.timezone)).date(),
        "program": case.program.value,
        "jurisdiction_ori": jurisdiction.ori,
        "jurisdiction_state": jurisdiction.state,
        "jurisdiction_county_fips": jurisdiction.county_fips,
        "jurisdiction_timezone": jurisdiction.timezone,
        "jurisdiction_disclosure": jurisdiction.disclosure.value,
        "jurisdiction_honors_detainers": jurisdiction.honors_detainers,
        "person_birth_date": person.birth_date,
        "person_citizenship_status": person.citizenship_status.value,
        "person_entered_us_on": person.entered_us_on,
        "person_entry": person.entry.value,
        "person_lpr_since": person.lpr_since,
        "person_relief_u_visa": Relief.u_visa in relief,
        "person_relief_t_visa": Relief.t_visa in relief,
        "person_relief_vawa": Relief.vawa in relief,
        "person_relief_asylum": Relief.asylum in relief,
        "person_final_order_on": person.final_order_of_removal_on,
        "person_removal_count": len(person.removed_on),
        "person_immigration_fraud": person.immigration_fraud,
        "person_visa_abuse": person.visa_abuse,
    }
    for flag in FLAG_NAMES:
        row[f"flag_{flag}"] = getattr(case.flags, flag)
    charges = [_charge_record(c) for c in case.arrest.charges]
    convictions = [_conviction_record(c, i) for i, c in enumerate(case.convictions)]
    for charge in case.arrest.charges:
        if charge.disposition is Disposition.convicted:
            record = _charge_record(charge)
            record["incident_key"] = "#current-arrest"  # one arrest is one incident
            record["from_current_charge"] = True
            convictions.append(record)
    row["charges"] = charges
    row["convictions"] = convictions
    return row


def arrow_schema():
    """The Parquet / Arrow schema of a flat caseload (pyarrow imported lazily)."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "int32": pa.int32(),
    }
    offense = pa.struct([(name, types[t]) for name, (t, _) in OFFENSE_FIELDS.items()])
    fields = []
    for name, (t, _) in CASE_COLUMNS.items():
        fields.append((name, pa.list_(offense) if t == "list<offense>" else types[t]))
    return pa.schema(fields)
