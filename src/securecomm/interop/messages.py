"""Messages exchanged between the agencies (versioned, documented in docs/formats.md).

- ``BookingSubmission`` (booking/1): what a local LEA sends with the fingerprints.
- ``CriminalHistory``: the FBI side's answer (identity, RAP sheet, warrants).
- ``ImmigrationRecord``: the IDENT side's answer on a match (FIN, encounters, status history,
  orders, removals), resolved by the LESC into an Immigration Alien Response.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from ..law.schema import (
    CitizenshipStatus,
    Conviction,
    IsoDate,
    IsoDateTime,
    NcicCode,
    Program,
    Relief,
    Severity,
)

TEMPLATE_DIM = 64  # the synthetic ten-print feature vector's length


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Name = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Tcn = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")]
Ori = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z0-9]{7}$")]


def _finite_unit_template(values: tuple[float, ...]) -> tuple[float, ...]:
    if len(values) != TEMPLATE_DIM:
        raise ValueError(f"expected {TEMPLATE_DIM} values, got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("template values must be finite numbers")
    if sum(v * v for v in values) < 1e-12:
        raise ValueError("template is the zero vector (no usable capture)")
    return values


Template = Annotated[tuple[float, ...], AfterValidator(_finite_unit_template)]


class PersonName(_Message):
    first: Name
    middle: Annotated[str, StringConstraints(max_length=60)] | None = None
    last: Name


class Biographics(_Message):
    names: tuple[PersonName, ...] = Field(min_length=1, max_length=10)
    birth_date: IsoDate | None = None
    sex: Literal["F", "M", "X", "U"] = "U"
    race: Literal["A", "B", "I", "W", "U"] = "U"  # NCIC race codes as booking systems use them
    ethnicity: Literal["H", "N", "U"] = "U"
    place_of_birth: Annotated[str, StringConstraints(max_length=60)] | None = None


class BookedCharge(_Message):
    ncic: NcicCode
    literal: Annotated[str, StringConstraints(max_length=200)] = ""
    severity: Severity
    injury: StrictBool = False
    domestic_violence: StrictBool = False


class BookingSubmission(_Message):
    """Booking submission v1: one arrest booking with its ten-print template."""

    format: Literal["booking/1"] = "booking/1"
    tcn: Tcn  # transaction control number: intake is idempotent on it
    ori: Ori
    booked_at: IsoDateTime
    program: Program = Program.secure_communities
    biographics: Biographics
    charges: tuple[BookedCharge, ...] = Field(min_length=1, max_length=100)
    template: Template | None = None  # absent: no usable capture -> biographic linkage only
    template_quality: Annotated[float, Field(ge=0, le=1)] | None = None


class Warrant(_Message):
    ncic: NcicCode
    issued_on: IsoDate | None = None
    criminal: StrictBool = True


class CriminalHistory(_Message):
    """The FBI side's answer: identity (FBI number) and RAP sheet, or nothing."""

    fbi_number: Annotated[str, StringConstraints(max_length=20)] | None = None
    convictions: tuple[Conviction, ...] = ()
    warrants: tuple[Warrant, ...] = ()
    gang_member: StrictBool = False
    national_security: StrictBool = False


class Encounter(_Message):
    encounter_id: Annotated[str, StringConstraints(max_length=40)]
    on: IsoDate
    names: tuple[PersonName, ...]
    birth_date: IsoDate | None = None
    kind: Literal["entry", "apprehension", "benefit_application", "removal", "naturalization"]


class ImmigrationRecord(_Message):
    """The IDENT side's record for a matched FIN, as the LESC resolves it."""

    fin: Annotated[str, StringConstraints(max_length=20)]
    citizenship_status: CitizenshipStatus
    entered_us_on: IsoDate | None = None
    entry: Literal["without_inspection", "inspected", "unknown"] = "unknown"
    lpr_since: IsoDate | None = None
    pending_relief: tuple[Relief, ...] = Field(default=(), max_length=4)
    final_order_of_removal_on: IsoDate | None = None
    removed_on: tuple[IsoDate, ...] = Field(default=(), max_length=50)
    immigration_fraud: StrictBool = False
    visa_abuse: StrictBool = False
    encounters: tuple[Encounter, ...] = ()


__all__ = [
    "TEMPLATE_DIM",
    "Biographics",
    "BookedCharge",
    "BookingSubmission",
    "CriminalHistory",
    "Encounter",
    "ImmigrationRecord",
    "PersonName",
    "Warrant",
]
