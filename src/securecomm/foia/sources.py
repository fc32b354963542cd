"""The four public releases: their files, columns, vocabularies and reading conventions.

Every reading choice that is an interpretation (which arrest methods are "jail programs", from
when a field is reported, what a blank cell means) is a ``law.parameters.Parameter`` with its
citation and rationale, listed in docs/foia.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from securecomm.law.parameters import Parameter

TF = "HSAC Task Force on Secure Communities, Findings and Recommendations (Sept. 2011)"
UWCHR = (
    "UW Center for Human Rights, UWCHR/ice-enforce (aor-seattle), from UW v. DHS FOIA litigation"
)
NPR = "NPR, nprapps/sanctuary-cities (export/), ICE FOIA data on lifted detainers"
DDP = "Deportation Data Project, via UWCHR/deport-data-proj (analyze/note/joined_df_wa.csv)"
CROSSWALK = "UWCHR/ice-enforce share/hand (county to ICE ERO area of responsibility)"

# --------------------------------------------------------------------------- cell statuses

VALUE, BLANK, REDACTED, NOT_REPORTED, INVALID = (
    "value",
    "blank",
    "redacted",
    "not_reported",
    "invalid",
)
STATUSES = (VALUE, BLANK, REDACTED, NOT_REPORTED, INVALID)

# A FOIA exemption code in place of a value: "(b)(6)", "(b)(6),(b)(7)c)", "(b)(7)(E )" ...
REDACTION = re.compile(r"^\s*\(b\)\s*\(\s*\d+\s*\)")
# The R missing-value marker the Deportation Data Project / UWCHR join writes for "no value".
NA_TOKENS = frozenset({"NA"})

FISCAL_YEAR_START_MONTH = Parameter(
    "foia.fiscal_year_start_month", 10, dt.date(1976, 10, 1),
    "31 U.S.C. 1102 (the federal fiscal year begins October 1)",
    "ICE reports by federal fiscal year: FY2015 is 2014-10-01 .. 2015-09-30.", kind="fact",
)  # fmt: skip

MSC_REPORTED_FROM_FY = Parameter(
    "foia.seattle_msc_reported_from_fiscal_year", 2015, dt.date(2019, 9, 12),
    f"{UWCHR}: README of the frozen Seattle files; /work data README",
    "ICE released 'Most Serious Conviction' in the Seattle arrest and book-in productions only "
    "for FY2015 onwards (every earlier cell is empty); an empty cell before FY2015 is 'not "
    "reported', never 'no conviction'. From FY2015 a blank cell is read as 'no conviction "
    "recorded' (as UWCHR reads it). The removal files carry the field throughout and are not "
    "affected.",
)  # fmt: skip

JAIL_PROGRAM_METHODS = Parameter(
    "foia.jail_program_arrest_methods",
    ("CAP Local Incarceration", "CAP State Incarceration", "CAP Federal Incarceration",
     "287(g) Program", "Criminal Alien Program"),
    dt.date(2011, 9, 30), f"{TF}, I (jail-based programs: CAP, 287(g), Secure Communities)",
    "Arrests of people already in a jail or prison: the Criminal Alien Program (which acts on "
    "Secure Communities matches) and 287(g) jail agreements. Everything else is 'at large' "
    "(Located, Non-Custodial Arrest, task forces, probation/parole) or 'other' (border, "
    "inspections, reprocessed and turned-over arrests).",
)  # fmt: skip

AT_LARGE_METHODS = Parameter(
    "foia.at_large_arrest_methods",
    ("Located", "Non-Custodial Arrest", "Other efforts", "Other Task Force",
     "Organized Crime Drug Enforcement Task Force", "Probation and Parole", "Patrol Interior",
     "Worksite Enforcement", "Traffic Check"),
    dt.date(2011, 9, 30), f"{TF}, I",
    "Arrests in the community rather than of people in criminal custody.",
)  # fmt: skip

CAP_LOCAL = "CAP Local Incarceration"

ARREST_METHODS = frozenset({
    "287(g) Program", "Anti-Smuggling", "Boat Patrol", "CAP Federal Incarceration",
    "CAP Local Incarceration", "CAP State Incarceration", "Criminal Alien Program",
    "ERO Reprocessed Arrest", "Inspections", "Law Enforcement Agency Response Unit", "Located",
    "Non-Custodial Arrest", "Organized Crime Drug Enforcement Task Force",
    "Other Agency (turned over to INS)", "Other Task Force", "Other efforts", "Patrol Border",
    "Patrol Interior", "Probation and Parole", "Traffic Check", "Transportation Check Aircraft",
    "Transportation Check Bus", "Transportation Check Freight Train",
    "Transportation Check Passenger Train", "Worksite Enforcement",
})  # fmt: skip

DISPOSITIONS = frozenset({
    "ADMINISTRATIVE DEPORTATION I-851/I-851A", "Bag and Baggage", "Detainer",
    "Expedited Removal (I-860)", "Expedited Removal with Credible Fear", "Foreign Born USC",
    "Not Amenable to Removal", "Not in Custody", "Notice to Appear Detained (I-862)",
    "Notice to Appear Released (I-862)", "Other", "Paroled", "Prosecutorial Discretion",
    "REINSTATEMENT OF DEPORT ORDER I-871", "Reinstatement of Deportation Reasonable Fear",
    "Stowaway", "TURNED OVER TO", "VWPP Removal", "Voluntary Return",
    "Warrant of Arrest/Notice to Appear",
})  # fmt: skip
FOREIGN_BORN_USC = "Foreign Born USC"

GENDERS = frozenset({"Female", "Male", "Unknown"})
LIFT_US_CITIZEN = "United States Citizen Interviewed"
LIFT_NOT_SUBJECT = "Alien Not Subject to Deportation"

# --------------------------------------------------------------------------- file specs


@dataclass(frozen=True)
class Col:
    header: str  # as in the release
    name: str  # snake_case column of the output table
    kind: str = "text"  # text | date | datetime | int | float | category
    vocabulary: frozenset[str] | None = None  # category: any other value rejects the row
    msc: bool = False  # a "most serious conviction" text (reported from FY2015 in Seattle)


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name inside the release folder
    table: str
    columns: tuple[Col, ...]
    event_date: str | None = None  # column giving fiscal_year / month; invalid -> reject
    title_lines: bool = False  # UWCHR layout: title lines above the header
    delimiter: str = ","
    fiscal_year_from_title: bool = False  # CAP encounters carry no date, only "FY2017" titles
    constants: dict[str, str] = field(default_factory=dict)  # extra text columns per file
    msc_from_fy: int | None = None  # MSC_REPORTED_FROM_FY applies
    # columns that identify a repeated record (first one an identifier); None: no identifier
    # survives redaction, so duplicates cannot be told from different people
    duplicate_key: tuple[str, ...] | None = None


def _seattle(name: str, table: str, date_header: str, date_name: str, rest: tuple[Col, ...],
             **kw) -> FileSpec:  # fmt: skip
    cols = (Col(date_header, date_name, "date"), *rest)
    return FileSpec(name, table, cols, event_date=date_name, title_lines=True, delimiter="|", **kw)


_BIO = (
    Col("Date of Birth", "date_of_birth", "date"),
    Col("Gender", "gender", "category", GENDERS),
    Col("Country of Citizenship", "country_of_citizenship"),
)
_CASE_CATEGORY = Col("Case Category", "case_category")
_MSC = Col("Most Serious Conviction", "most_serious_conviction", msc=True)


def _cap(fy: int) -> tuple[FileSpec, ...]:
    common = (
        Col("Event Number", "event_number"),
        Col("Operation", "operation"),
        Col("Processing Disposition", "processing_disposition", "category", DISPOSITIONS),
        *_BIO,
    )
    const = {"cap_release": f"FY{fy}"}
    return (
        FileSpec(f"CAP-FY{fy}-encounters.csv.gz", "seattle_cap_encounters",
                 (*common, Col("Event Area of Responsibility", "area_of_responsibility"),
                  Col("Landmark", "landmark")),
                 title_lines=True, delimiter="|", fiscal_year_from_title=True, constants=const),
        FileSpec(f"CAP-FY{fy}-arrests.csv.gz", "seattle_cap_arrests",
                 (*common, Col("Area of Responsibility", "area_of_responsibility"),
                  Col("Apprehension Landmark", "landmark"),
                  Col("Arrest Method", "arrest_method", "category", ARREST_METHODS),
                  Col("Arrest Date", "arrest_date", "date")),
                 event_date="arrest_date", title_lines=True, delimiter="|", constants=const),
        FileSpec(f"CAP-FY{fy}-removals.csv.gz", "seattle_cap_removals",
                 (Col("Event Number", "event_number"), Col("Area of Responsibility", "area_of_responsibility"),
                  *_BIO, Col("Removal Case COL", "removal_case_col", "int"),
                  Col("Final Charge Section", "final_charge_section"),
                  Col("Arrest Date", "arrest_date", "date")),
                 event_date="arrest_date", title_lines=True, delimiter="|", constants=const),
    )  # fmt: skip


SEATTLE = (
    _seattle("arrests.csv.gz", "seattle_arrests", "Arrest Date", "arrest_date",
             (*_BIO, Col("Event Number", "event_number"), Col("Apprehension Landmark", "landmark"),
              Col("Arrest Method", "arrest_method", "category", ARREST_METHODS), _MSC),
             msc_from_fy=MSC_REPORTED_FROM_FY.value),
    _seattle("bookins.csv.gz", "seattle_bookins", "Book In Date", "book_in_date",
             (*_BIO, Col("Detention Facility", "detention_facility"),
              Col("Apprehension Method", "apprehension_method", "category", ARREST_METHODS), _MSC),
             msc_from_fy=MSC_REPORTED_FROM_FY.value),
    _seattle("other-removals.csv.gz", "seattle_removals", "Departed Date", "departed_date",
             (*_BIO, Col("Event Number", "event_number"), _MSC, _CASE_CATEGORY),
             constants={"removal_kind": "other"}),
    _seattle("expedited-removals.csv.gz", "seattle_removals", "Departed Date", "departed_date",
             (*_BIO, Col("Event Number", "event_number"), _MSC, _CASE_CATEGORY),
             constants={"removal_kind": "expedited"}),
    *_cap(2017),
    *_cap(2018),
)  # fmt: skip

_NPR_COLS = (
    Col("date", "lift_date", "date"),  # always 00:00:00 in the release
    Col("lift_reason", "lift_reason", "category", frozenset({LIFT_US_CITIZEN, LIFT_NOT_SUBJECT})),
    Col("det_facility", "facility"),
    Col("city", "city"),
    Col("state", "state"),
    Col("detainer_type", "detainer_type"),
)
NPR_FILES = (
    FileSpec("us-citizen-interviewed.csv", "npr_detainers_lifted", _NPR_COLS, event_date="lift_date",
             constants={"released_as": "us-citizen-interviewed"}),
    FileSpec("not-subject-to-deportation.csv", "npr_detainers_lifted", _NPR_COLS,
             event_date="lift_date", constants={"released_as": "not-subject-to-deportation"}),
)  # fmt: skip


def ddp_column_name(header: str) -> str:
    """``apprehension_date.arrest`` -> ``arrest__apprehension_date`` (source record first)."""
    base, _, part = header.partition(".")
    return f"{part}__{base}" if part else base


def ddp_kind(header: str) -> str:
    base = header.partition(".")[0]
    if base.endswith("date_time") or base in ("apprehension_date",):
        return "datetime"
    if base.endswith("_date") and base != "msc_charge_date":
        return "date"
    return "text"


# msc_charge_date.detainer holds charge codes in the release (a column shift upstream): read as
# text so the cells survive; docs/foia.md notes it.
DDP_MSC_HEADER = "most_serious_conviction_charge.detainer"
DDP_MSC_CODE_HEADER = "msc_charge_code.detainer"
DDP_FILE = "joined_df_wa.csv"
DDP_EVENT_HEADER = "detainer_prepare_date.detainer"
# The join repeats a detainer once per matching arrest / encounter / detention record: the same
# person key with the same detainer columns is one detainer (DDP flags such repeats, n_dupe).
DDP_SPEC = FileSpec(
    DDP_FILE,
    "ddp_detainers_wa",
    (),
    event_date="detainer__detainer_prepare_date",
    duplicate_key=("*detainer",),
)

CROSSWALK_FILES = (
    FileSpec("county_aor.csv", "crosswalk_county_aor",
             (Col("geoid", "geoid"), Col("geoid_state", "geoid_state"),
              Col("geoid_county", "geoid_county"), Col("name", "county_name"), Col("aor", "aor"))),
    FileSpec("aor_ero_field_office.csv", "crosswalk_field_offices",
             (Col("aor", "aor"), Col("field_office_addr", "field_office_address"),
              Col("lat", "latitude", "float"), Col("long", "longitude", "float"))),
)  # fmt: skip

SOURCES = ("uwchr-seattle-aor", "npr-detainers-lifted", "ddp-detainers-wa", "crosswalks")

PARAMETERS = (FISCAL_YEAR_START_MONTH, MSC_REPORTED_FROM_FY, JAIL_PROGRAM_METHODS, AT_LARGE_METHODS)


def fiscal_year(day: dt.date) -> int:
    """Federal fiscal year of ``day`` (31 U.S.C. 1102: begins October 1)."""
    return day.year + (1 if day.month >= FISCAL_YEAR_START_MONTH.value else 0)
