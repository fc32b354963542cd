"""Exchange formats: Case file v1 (input) and Decision v1 (output), DESIGN section 4.

Unknown fields and bad values are rejected with a message naming the field (pydantic's
error location). Absent optional fields mean false / none.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..textsafety import describe, find_unsafe
from .ncic import NCIC_OFFENSES

CASE_FORMAT_VERSION = "1"
DECISION_FORMAT_VERSION = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


@functools.cache
def _zone_names() -> frozenset[str]:
    # Canonical IANA names only: not "posixrules", "Factory", "posix/...", "right/..." or
    # directory names such as "America" (which ZoneInfo would try to open as a file).
    names = zoneinfo.available_timezones()
    return frozenset(
        n
        for n in names
        if not n.startswith(("posix/", "right/")) and n not in ("posixrules", "Factory")
    )


def _iana_zone(value: str) -> str:
    if value not in _zone_names():
        raise ValueError(f"unknown IANA time zone {value[:64]!r}")
    return value


def _known_ncic(value: str) -> str:
    if value not in NCIC_OFFENSES:
        raise ValueError(f"{value} is not an NCIC Uniform Offense Classification code")
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: object) -> object:
    """A date is an ISO 8601 calendar date (YYYY-MM-DD) — never a number or a datetime."""
    if isinstance(value, dt.datetime) or not (
        isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value))
    ):
        raise ValueError("expected an ISO 8601 date YYYY-MM-DD")
    return value


def _iso_datetime(value: object) -> object:
    """A timestamp is ISO 8601 text with an offset (or a datetime) — never a Unix number."""
    if not isinstance(value, (str, dt.datetime)):
        raise ValueError("expected an ISO 8601 timestamp with offset")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]


NcicCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$"), AfterValidator(_known_ncic)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
def _no_hidden_characters(value: object) -> object:
    """An identifier with a control, invisible or bidirectional character is refused, never
    trimmed (checked before whitespace is stripped: a case id with a trailing newline)."""
    if isinstance(value, str):
        ch = find_unsafe(value, allow_spaces=False)
        if ch is not None:
            raise ValueError(f"contains {describe(ch)}, which is not allowed in an identifier")
    return value


Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$"),
    BeforeValidator(_no_hidden_characters),  # after the constraints: runs first, wraps them
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
    honors_detainers: StrictBool = True


class Person(_Strict):
    birth_date: IsoDate | None = None
    citizenship_status: CitizenshipStatus
    entered_us_on: IsoDate | None = None
    entry: Entry = Entry.unknown
    lpr_since: IsoDate | None = None
    pending_relief: tuple[Relief, ...] = Field(default=(), max_length=4)
    final_order_of_removal_on: IsoDate | None = None
    removed_on: tuple[IsoDate, ...] = Field(default=(), max_length=50)
    immigration_fraud: StrictBool = False
    visa_abuse: StrictBool = False


class Charge(_Strict):
    ncic: NcicCode
    literal: ShortText = ""
    severity: Severity
    injury: StrictBool = False
    domestic_violence: StrictBool = False
    disposition: Disposition = Disposition.pending


class Arrest(_Strict):
    arrested_at: IsoDateTime | None = None
    charges: tuple[Charge, ...] = Field(default=(), max_length=100)


class Conviction(_Strict):
    ncic: NcicCode
    literal: ShortText = ""
    severity: Severity
    convicted_on: IsoDate | None = None
    incident_id: Identifier | None = None
    sentence_days: Annotated[StrictInt, Field(ge=0, le=365 * 200)] | None = None
    suspended: StrictBool = False
    aggravated_felony: StrictBool | None = None
    counsel: Counsel | None = None
    gang_element: StrictBool = False
    domestic_violence: StrictBool = False
    # v2: a juvenile adjudication is not a conviction (Matter of Devison, 22 I&N Dec. 1362)
    juvenile_adjudication: StrictBool = False


class Flags(_Strict):
    national_security: StrictBool = False
    gang_member: StrictBool = False
    outstanding_criminal_warrant: StrictBool = False
    serious_public_safety_risk: StrictBool = False
    crime_victim: StrictBool = False
    crime_witness: StrictBool = False
    domestic_violence_victim: StrictBool = False
    civil_rights_plaintiff: StrictBool = False
    veteran_or_armed_forces: StrictBool = False
    armed_forces_family: StrictBool = False
    us_citizen_or_lpr_family: StrictBool = False
    primary_caretaker: StrictBool = False
    pregnant_or_nursing: StrictBool = False
    serious_health_condition: StrictBool = False
    in_school_or_graduate: StrictBool = False
    indigent: StrictBool = False
    apprehended_at_border: StrictBool = False


class Case(_Strict):
    """Case file v1."""

    case_id: Identifier
    decided_at: IsoDateTime
    program: Program = Program.secure_communities
    jurisdiction: Jurisdiction
    person: Person
    arrest: Arrest = Arrest()
    convictions: tuple[Conviction, ...] = Field(default=(), max_length=200)
    flags: Flags = Flags()

    @model_validator(mode="after")
    def _dates_not_after_decision(self) -> Case:
        # the decision date in the facility's time zone (as flatten.py computes it)
        decided_on = self.decided_at.astimezone(
            zoneinfo.ZoneInfo(self.jurisdiction.timezone)
        ).date()
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
        arrested = self.arrest.arrested_at
        if arrested is not None and arrested > self.decided_at:
            errors.append(InitErrorDetails(
                type=PydanticCustomError("date_after_decision", "arrest is after the decision"),
                loc=("arrest", "arrested_at"), input=arrested.isoformat(),
            ))  # fmt: skip
        birth = self.person.birth_date
        for loc, value in (
            (("person", "entered_us_on"), self.person.entered_us_on),
            (("person", "lpr_since"), self.person.lpr_since),
        ):
            if birth is not None and value is not None and value < birth:
                errors.append(InitErrorDetails(
                    type=PydanticCustomError("date_before_birth", "{value} is before the birth date",
                                             {"value": str(value)}),
                    loc=loc, input=str(value),
                ))  # fmt: skip
        if not self.jurisdiction.ori.startswith(self.jurisdiction.state):
            errors.append(InitErrorDetails(
                type=PydanticCustomError("ori_state", "the ORI's prefix is not the state {state}",
                                         {"state": self.jurisdiction.state}),
                loc=("jurisdiction", "ori"), input=self.jurisdiction.ori,
            ))  # fmt: skip
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


class DecisiveRule(_Strict):
    """The action rule that decided (v2; added to Decision v1, optional for older records):
    what an officer's override removes (``safeguard``) and why a removable person got no
    detainer (``decline_reason``) travel with the decision, not as a table of rule ids."""

    rule: str
    rank: int
    outcome: Action
    citation: str
    safeguard: str | None = None
    decline_reason: str | None = None


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
    # v2 (additive): the deciding action rule as a structure; absent in decisions made before
    decisive_rule: DecisiveRule | None = None
