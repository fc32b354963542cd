"""Exchange formats: Case file v1 (input) and Decision v1 (output), DESIGN section 4.

Unknown fields and bad values are rejected with a message naming the field (pydantic's
error location). Absent optional fields mean false / none.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

CASE_FORMAT_VERSION = "1"
DECISION_FORMAT_VERSION = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _iana_zone(value: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


NcicCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
]


class Program(StrEnum):
    secure_communities = "secure_communities"
    criminal_alien_program = "criminal_alien_program"
    section_287g = "287g"
    border_patrol = "border_patrol"


class Disclosure(StrEnum):
    full = "full"
    public_safety_only = "public_safety_only"
    none = "none"


class CitizenshipStatus(StrEnum):
    us_citizen_by_birth = "us_citizen_by_birth"
    naturalized_citizen = "naturalized_citizen"
    lawful_permanent_resident = "lawful_permanent_resident"
    nonimmigrant_visa = "nonimmigrant_visa"
    refugee_asylee = "refugee_asylee"
    parolee = "parolee"
    entered_without_inspection = "entered_without_inspection"
    visa_overstay = "visa_overstay"
    unknown = "unknown"


class Entry(StrEnum):
    without_inspection = "without_inspection"
    inspected = "inspected"
    unknown = "unknown"


class Severity(StrEnum):
    infraction = "infraction"
    misdemeanor = "misdemeanor"
    felony = "felony"


class Disposition(StrEnum):
    pending = "pending"
    convicted = "convicted"
    dismissed = "dismissed"
    acquitted = "acquitted"


class Counsel(StrEnum):
    none = "none"
    appointed = "appointed"
    retained = "retained"


class Relief(StrEnum):
    u_visa = "u_visa"
    t_visa = "t_visa"
    vawa = "vawa"
    asylum = "asylum"


class Action(StrEnum):
    no_action = "no_action"
    no_detainer = "no_detainer"
    conditional_detainer = "conditional_detainer"
    detainer = "detainer"
    notification_request = "notification_request"


class Jurisdiction(_Strict):
    ori: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z0-9]{7}$")]
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    county_fips: Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")] | None = None
    timezone: Annotated[str, AfterValidator(_iana_zone)]
    disclosure: Disclosure = Disclosure.full
    honors_detainers: bool = True


class Person(_Strict):
    birth_date: dt.date | None = None
    citizenship_status: CitizenshipStatus
    entered_us_on: dt.date | None = None
    entry: Entry = Entry.unknown
    lpr_since: dt.date | None = None
    pending_relief: tuple[Relief, ...] = ()
    final_order_of_removal_on: dt.date | None = None
    removed_on: tuple[dt.date, ...] = Field(default=(), max_length=50)
    immigration_fraud: bool = False
    visa_abuse: bool = False


class Charge(_Strict):
    ncic: NcicCode
    literal: ShortText = ""
    severity: Severity
    injury: bool = False
    domestic_violence: bool = False
    disposition: Disposition = Disposition.pending


class Arrest(_Strict):
    arrested_at: AwareDatetime | None = None
    charges: tuple[Charge, ...] = Field(default=(), max_length=100)


class Conviction(_Strict):
    ncic: NcicCode
    literal: ShortText = ""
    severity: Severity
    convicted_on: dt.date | None = None
    incident_id: Identifier | None = None
    sentence_days: Annotated[int, Field(ge=0, le=365 * 200)] | None = None
    suspended: bool = False
    aggravated_felony: bool | None = None
    counsel: Counsel | None = None
    gang_element: bool = False
    domestic_violence: bool = False


class Flags(_Strict):
    national_security: bool = False
    gang_member: bool = False
    outstanding_criminal_warrant: bool = False
    serious_public_safety_risk: bool = False
    crime_victim: bool = False
    crime_witness: bool = False
    domestic_violence_victim: bool = False
    civil_rights_plaintiff: bool = False
    veteran_or_armed_forces: bool = False
    armed_forces_family: bool = False
    us_citizen_or_lpr_family: bool = False
    primary_caretaker: bool = False
    pregnant_or_nursing: bool = False
    serious_health_condition: bool = False
    in_school_or_graduate: bool = False
    indigent: bool = False
    apprehended_at_border: bool = False


class Case(_Strict):
    """Case file v1."""

    case_id: Identifier
    decided_at: AwareDatetime
    program: Program = Program.secure_communities
    jurisdiction: Jurisdiction
    person: Person
    arrest: Arrest = Arrest()
    convictions: tuple[Conviction, ...] = Field(default=(), max_length=200)
    flags: Flags = Flags()

    @model_validator(mode="after")
    def _dates_not_after_decision(self) -> Case:
        decided_on = self.decided_at.date()
        checks: dict[tuple, dt.date | None] = {
            ("person", "birth_date"): self.person.birth_date,
            ("person", "entered_us_on"): self.person.entered_us_on,
            ("person", "lpr_since"): self.person.lpr_since,
            ("person", "final_order_of_removal_on"): self.person.final_order_of_removal_on,
        }
        for i, conviction in enumerate(self.convictions):
            checks[("convictions", i, "convicted_on")] = conviction.convicted_on
        for i, removed in enumerate(self.person.removed_on):
            checks[("person", "removed_on", i)] = removed
        errors = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "date_after_decision",
                    "{value} is after the decision date {decided_on}",
                    {"value": str(value), "decided_on": str(decided_on)},
                ),
                loc=loc,
                input=str(value),
            )
            for loc, value in checks.items()
            if value is not None and value > decided_on
        ]
        birth = self.person.birth_date
        if birth is not None and birth.year < 1880:
            errors.append(InitErrorDetails(
                type=PydanticCustomError("implausible_date", "implausibly early birth date"),
                loc=("person", "birth_date"), input=str(birth),
            ))  # fmt: skip
        if errors:
            raise ValidationError.from_exception_data("Case", errors)
        return self


class Reason(_Strict):
    rule: str
    citation: str
    text: str


class LeaDisclosure(_Strict):
    notify: bool
    fields: tuple[str, ...]


class DiscretionFactors(_Strict):
    positive: tuple[str, ...]
    negative: tuple[str, ...]


class Decision(_Strict):
    """Decision v1."""

    format: Literal["decision/1"] = "decision/1"
    case_id: str
    policy: str
    policy_version: str
    removable: bool
    priority: Literal["1", "2", "3"] | None
    priority_bases: tuple[str, ...]
    level: Literal[1, 2, 3] | None
    action: Action
    requires_supervisor_approval: bool
    lea_disclosure: LeaDisclosure
    discretion_factors: DiscretionFactors
    reasons: tuple[Reason, ...]
