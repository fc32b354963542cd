"""Messages exchanged between the agencies (versioned).

- ``BookingSubmission`` (``booking/1``): what a local LEA sends with the fingerprints. One JSON
  object per line of ``securecomm submit FILE.jsonl``; unknown fields and bad values are
  rejected with an error naming the field (``charges.0.ncic``, ``template``).
- ``CriminalHistory``: the FBI side's answer (identity, RAP sheet, warrants).
- ``ImmigrationRecord``: the IDENT side's answer on a match (FIN, encounters, status history,
  orders, removals), resolved by the LESC into an Immigration Alien Response.

Booking submission v1 (``booking/1``)::

    {"format": "booking/1",                       // optional; the only version
     "tcn": "T2011-00000042",                     // 1-40 of [A-Za-z0-9-]; intake is idempotent on it
     "ori": "CO0010000",                          // 2 letters + 7 letters/digits; a participating ORI
     "booked_at": "2012-03-11T03:14:00-06:00",    // ISO 8601 with offset; not in the future
     "arrested_at": "2012-03-11T01:40:00-06:00",  // optional; not after booked_at
     "booking_number": "B00000042",               // optional, <= 64
     "program": "secure_communities",             // | criminal_alien_program | 287g | border_patrol
     "biographics": {
        "names": [{"first": "JOSE", "middle": "LUIS", "last": "GARCIA LOPEZ"}],  // 1-10, as given
        "birth_date": "1984-02-29",               // optional ISO date
        "sex": "M",                               // F | M | X | U (unknown)
        "race": "W",                              // NCIC race code A | B | I | W | U
        "ethnicity": "H",                         // H (Hispanic) | N (not) | U
        "place_of_birth": "MEXICO"},              // optional, <= 60
     "charges": [                                 // 1-100, in booking order
        {"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor",
         "injury": false, "domestic_violence": false}],
     "template": [0.181255, 0.060452, ...],       // 64 finite numbers, not all zero; optional
     "template_quality": 0.91}                    // optional, 0-1 (NFIQ-like / 100)

Text fields hold printable text: no control, invisible (zero-width), bidirectional-override,
private-use or unassigned characters (:mod:`securecomm.textsafety`), rejected, never trimmed:
a TCN with a trailing newline is refused. Dates are checked against plausible ranges and each
other (:data:`EARLIEST_BOOKING`, :data:`MAX_AGE_YEARS`): a booking before the program began,
a birth after the booking or more than 120 years before it is refused. ``template`` stands for the
ten-print features (compared by cosine, so its scale does not matter); without one, or with
``template_quality`` below the deployment's usable level (0.40), the booking goes to
biographic linkage, whose candidates always need a person to verify them. The same TCN with
a different payload is refused, never overwritten; the same payload again is a harmless
duplicate (key order and number spelling do not matter: the validated document is compared).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
from ..textsafety import describe, find_unsafe

TEMPLATE_DIM = 64  # the synthetic ten-print feature vector's length


#: Plausibility ranges (parameters, each with its rationale).
#: The earliest booking date accepted: Secure Communities was "launched in 2008" (HSAC Task
#: Force report, 2011, background), so an earlier booking is a clock or data-entry error
#: (e.g. ``booked_at`` in year 1).
EARLIEST_BOOKING = dt.date(2008, 1, 1)
#: The oldest plausible person at booking, in years (the oldest verified human lived 122
#: years): a birth date in 1700 is a data-entry error, not a person.
MAX_AGE_YEARS = 120


def _identifier(value: object) -> object:
    """An identifier is refused, not trimmed, if it holds a space, control, invisible or
    bidirectional character (checked before the model strips whitespace)."""
    if isinstance(value, str):
        ch = find_unsafe(value, allow_spaces=False)
        if ch is not None:
            raise ValueError(f"contains {describe(ch)}, which is not allowed in an identifier")
    return value


def _safe_text(value: object) -> object:
    """Names and other text: no control, invisible or bidirectional character."""
    if isinstance(value, str):
        ch = find_unsafe(value)
        if ch is not None:
            raise ValueError(f"contains {describe(ch)}, which is not allowed")
    return value


# In each Annotated type below the BeforeValidator comes after the StringConstraints: it then
# runs first, on the value as sent (before whitespace is stripped), and the constraints keep
# their usual error types.


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Name = Annotated[str, StringConstraints(min_length=1, max_length=60), BeforeValidator(_safe_text)]
Tcn = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-]+$"),
    BeforeValidator(_identifier),
]
Ori = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z0-9]{7}$"), BeforeValidator(_identifier)
]


TEMPLATE_MAX_ABS = 1e6  # a feature value beyond this is a broken extractor, not a capture


def _finite_unit_template(values: tuple[float, ...]) -> tuple[float, ...]:
    if len(values) != TEMPLATE_DIM:
        raise ValueError(f"expected {TEMPLATE_DIM} values, got {len(values)}")
    total = 0.0
    for v in values:
        if not (-TEMPLATE_MAX_ABS <= v <= TEMPLATE_MAX_ABS):  # also false for NaN
            if not math.isfinite(v):
                raise ValueError("template values must be finite numbers (no NaN or infinity)")
            raise ValueError(f"template values must lie within +/-{TEMPLATE_MAX_ABS:g}")
        total += v * v
    if total < 1e-12:
        raise ValueError("template is the zero vector (no usable capture)")
    return values


_NOT_PRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _printable(value: str | None) -> str | None:
    """Text fields hold printable text: no NUL or other control characters, no lone
    surrogates."""
    if value is not None and _NOT_PRINTABLE.search(value):
        raise ValueError("control characters (or lone surrogates) are not allowed")
    return value


Template = Annotated[tuple[float, ...], AfterValidator(_finite_unit_template)]
Name = Annotated[Name, AfterValidator(_printable)]
Text60 = Annotated[
    str, StringConstraints(max_length=60), BeforeValidator(_safe_text), AfterValidator(_printable)
]
Text200 = Annotated[
    str, StringConstraints(max_length=200), BeforeValidator(_safe_text), AfterValidator(_printable)
]


class PersonName(_Message):
    first: Name
    middle: Text60 | None = None
    last: Name


class Biographics(_Message):
    names: tuple[PersonName, ...] = Field(min_length=1, max_length=10)
    birth_date: IsoDate | None = None
    sex: Literal["F", "M", "X", "U"] = "U"
    race: Literal["A", "B", "I", "W", "U"] = "U"  # NCIC race codes as booking systems use them
    ethnicity: Literal["H", "N", "U"] = "U"
    place_of_birth: Text60 | None = None


class BookedCharge(_Message):
    ncic: NcicCode
    literal: Text200 = ""
    severity: Severity
    injury: StrictBool = False
    domestic_violence: StrictBool = False


class BookingSubmission(_Message):
    """Booking submission v1: one arrest booking with its ten-print template.

    ``template`` is the fixed-length feature vector standing for the ten prints
    (:data:`TEMPLATE_DIM` finite numbers, not all zero; compared by cosine, so its scale does
    not matter). Absent, or with ``template_quality`` below the pipeline's usable level, the
    booking goes to biographic linkage, whose candidates always need a person to verify them.
    """

    format: Literal["booking/1"] = "booking/1"
    tcn: Tcn  # transaction control number: intake is idempotent on it
    ori: Ori
    booked_at: IsoDateTime
    arrested_at: IsoDateTime | None = None
    booking_number: (
        Annotated[
            str, StringConstraints(max_length=64), BeforeValidator(_identifier),
            AfterValidator(_printable),
        ] | None
    ) = None  # fmt: skip
    program: Program = Program.secure_communities
    biographics: Biographics
    charges: tuple[BookedCharge, ...] = Field(min_length=1, max_length=100)
    template: Template | None = None  # absent: no usable capture -> biographic linkage only
    template_quality: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _arrest_before_booking(self) -> BookingSubmission:
        if self.arrested_at is not None and self.arrested_at > self.booked_at:
            raise PydanticCustomError("arrest_after_booking", "arrested_at is after booked_at")
        return self

    @model_validator(mode="after")
    def _plausible_dates(self) -> BookingSubmission:
        # messages name their field first: intake reports it as the error's location
        booked_on = self.booked_at.date()  # the facility's date, in the booking's own offset
        if booked_on < EARLIEST_BOOKING:
            raise PydanticCustomError(
                "implausible_date",
                "booked_at: {value} is before {earliest}, when Secure Communities began",
                {"value": booked_on.isoformat(), "earliest": EARLIEST_BOOKING.isoformat()},
            )
        if self.arrested_at is not None and self.arrested_at.date() < EARLIEST_BOOKING:
            raise PydanticCustomError(
                "implausible_date",
                "arrested_at: {value} is before {earliest}, when Secure Communities began",
                {"value": self.arrested_at.date().isoformat(),
                 "earliest": EARLIEST_BOOKING.isoformat()},
            )  # fmt: skip
        birth = self.biographics.birth_date
        if birth is not None:
            if birth > booked_on:
                raise PydanticCustomError(
                    "birth_after_booking", "biographics.birth_date: after the booking date"
                )
            future = booked_on > dt.date.today() + dt.timedelta(days=1)  # intake says so
            if booked_on.year - birth.year > MAX_AGE_YEARS and not future:
                raise PydanticCustomError(
                    "implausible_date",
                    "biographics.birth_date: more than {years} years before the booking",
                    {"years": MAX_AGE_YEARS},
                )
        return self


class Warrant(_Message):
    ncic: NcicCode | None = None
    literal: Annotated[str, StringConstraints(max_length=200)] = ""
    issued_on: IsoDate | None = None
    issuing_ori: Annotated[str, StringConstraints(max_length=9)] | None = None
    criminal: StrictBool = True


class CriminalHistory(_Message):
    """The FBI side's answer: identity (FBI number) and RAP sheet, or nothing."""

    fbi_number: Annotated[str, StringConstraints(max_length=20)] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    birth_date: IsoDate | None = None
    convictions: tuple[Conviction, ...] = ()
    warrants: tuple[Warrant, ...] = ()
    gang_member: StrictBool = False
    national_security: StrictBool = False


class Encounter(_Message):
    encounter_id: Annotated[str, StringConstraints(max_length=40)]
    on: IsoDate
    names: tuple[PersonName, ...]
    birth_date: IsoDate | None = None
    #: e.g. entry, apprehension, benefit_application, removal, naturalization
    kind: Annotated[str, StringConstraints(max_length=64)]


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
