"""Oversight parameters: each a :class:`~securecomm.law.parameters.Parameter` with its source
and, where the source is not quantitative, the interpretation we chose and why.

Pure (no I/O). A deployment changes a value by replacing the parameter (``with_value``), never
by editing the code that uses it.
"""

from __future__ import annotations

import datetime as dt

from ..law.detainer_clock import FEDERAL_CALENDAR_CITATION
from ..law.parameters import TF, Parameter

__all__ = [
    "AGE_BANDS",
    "COMPLAINT_STAGE_DEADLINES",
    "CRCL_TIMEZONE",
    "FIELD_OFFICE_SOURCE",
    "SCHLANGER",
    "SIZE_CLASSES",
    "SMALL_CELL_MAX",
    "field_office_of",
]

D = dt.date
SCHLANGER = (
    "Schlanger memo to ICE and CRCL personnel, Secure Communities complaints protocol, "
    "June 14, 2011 (Task Force report footnote 23)"
)

#: Business days (federal calendar, as the detainer clock) a complaint may spend in a stage
#: before the deadline is breached. Final stages have no deadline.
COMPLAINT_STAGE_DEADLINES = Parameter(
    "complaints.stage_deadline_business_days",
    {"received": 5, "acknowledged": 10, "assigned": 10, "investigating": 60},
    D(2011, 9, 30),
    f"{TF} IV.4 (complaints must be 'investigated within a reasonable timeframe') and "
    f"IV rec. 4; {SCHLANGER}; {FEDERAL_CALENDAR_CITATION}",
    "The report sets no number: a week to acknowledge, two weeks each to assign and to open "
    "the investigation, and twelve weeks to investigate are the timeframe we chose so that "
    "a complainant hears back within a week and gets an outcome within about five months.",
)

CRCL_TIMEZONE = Parameter(
    "complaints.office_timezone",
    "America/New_York",
    D(2011, 9, 30),
    f"{SCHLANGER} (complaints go to DHS CRCL, Washington, DC)",
    "Business days are counted on the office's local calendar, as the detainer clock counts "
    "them on the facility's.",
)

SMALL_CELL_MAX = Parameter(
    "publication.small_cell_max",
    10,
    D(2011, 9, 30),
    f"{TF} I rec. 4, II rec. 4 (public statistics) and IV rec. 4 (a confidential complaint "
    "process)",
    "Counts from 1 to 10 are suppressed in public tables, the common threshold of federal "
    "statistical releases; where a total is published a second cell is suppressed too, so "
    "subtracting cannot recover the first.",
)

AGE_BANDS = Parameter(
    "panel.age_bands",
    (18, 25, 35, 45, 55, 65),
    D(2011, 9, 30),
    f"{TF} IV rec. 6 (an independent panel reviews a random sample of cases); Morton memo, "
    "Exercising Prosecutorial Discretion, June 17, 2011, report II.2 (minors and the elderly)",
    "Panel members see an age band, never a birth date: the bands keep the discretion "
    "factors that depend on age (under 18, 65 and over) visible.",
)

SIZE_CLASSES = Parameter(
    "panel.jurisdiction_size_classes",
    ("small", "medium", "large"),
    D(2011, 9, 30),
    f"{TF} IV rec. 6 (the panel 'should reflect the makeup of its jurisdiction')",
    "The store holds no population: a jurisdiction's size class is its third (by bookings "
    "in the frame's period, ties broken by ORI) among the jurisdictions with bookings then.",
)


def field_office_of(county_fips: str | None) -> str:
    """The ICE ERO area of responsibility (field office) of a jurisdiction's county, from the
    county-to-AOR crosswalk the user registry scopes ICE users by
    (:func:`securecomm.users.areas.aor_of_county`); 'unassigned' when the county is unknown,
    never dropped."""
    from ..users.areas import aor_of_county

    return aor_of_county(county_fips) or "unassigned"


FIELD_OFFICE_SOURCE = (
    "ICE ERO areas of responsibility by county: UW Center for Human Rights crosswalk "
    "(securecomm/data/county_aor.csv, provenance in securecomm/data/README.md)"
)
