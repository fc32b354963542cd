"""Hypothesis strategies for Case file v1 — realistic cases and the edges the rules turn on.

Used by ``tests/bulk`` (single-case vs bulk equivalence) and reusable by any test of the rules.
Imports ``hypothesis`` (a dev dependency): never import this module from production code.

What is biased towards the edges:
- dates: ages of exactly 15/16/17/18/64/65/66 years (± a day), leap-day birthdays and leap-day
  decision dates, entries around 16 years of age and around the recent-entry window, entry
  *before* birth (bad data: negative whole years), LPR tenure around 10 years, final orders
  around 2014-01-01;
- offenses: NCIC codes the rules name (5499, 5401, 5403, 5404, 0909, 4104, 4813, 5311, 5707,
  35xx, 52xx, 22xx, the aggravated-felony lists …) plus any code of the NCIC table; literals
  that match, or nearly match, the patterns of ``law/parameters.py``; sentences around 90 and
  365 days; suspended or not; ``aggravated_felony`` true / false / unknown; shared and
  separate incident ids; every disposition;
- every citizenship status, entry kind, relief, flag, disclosure preference.

Literals are ASCII by default: on non-ASCII text Python's ``re`` and the SQL engines' regex
engines disagree (see ``NON_ASCII_LITERALS`` and the bulk package report).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from securecomm.law.ncic import NCIC_OFFENSES
from securecomm.law.parameters import DEFAULTS
from securecomm.law.schema import (
    Case,
    CitizenshipStatus,
    Counsel,
    Disclosure,
    Disposition,
    Entry,
    Program,
    Relief,
    Severity,
)

# ---------------------------------------------------------------- offense vocabulary

RULE_CODES = (
    "5499", "5401", "5403", "5404", "0909", "4104", "4813", "5311", "5707",
    "3501", "3504", "3510", "3530", "3532", "3560", "3562", "3599",
    "5201", "5202", "5206", "5212", "5214", "5299",
    "2201", "2202", "2299", "2303", "2399", "2589", "2699",
    "0301", "0303", "0399", "0901", "0911", "1001", "1003", "1101", "1103", "1116",
    "1301", "1313", "1316", "3601", "3605", "3802", "4001", "4802", "6300", "6401",
    # v2: catch-all codes a literal refines, specific codes it must not
    "7399", "4899", "4199", "5399", "9999", "0999", "1199", "2206", "3616", "4801",
)  # fmt: skip

# Literals matching, or nearly matching, the offense patterns of law/parameters.py.
LITERALS = (
    "", "DRIVING WITHOUT A LICENSE", "driving without valid license", "Driving w/o license",
    "DRIVING WITHOUT LICENSE", "UNLICENSED DRIVER", "no valid driver license", "SPEEDING",
    "speed", "Spd", "SUSPENDED LICENSE", "equipment violation", "EXPIRED TAG",
    "expired registration", "FAILURE TO YIELD", "failed to stop", "fail to signal",
    "SEAT BELT", "seatbelt", "tail light", "WINDOW TINT", "RAN RED LIGHT", "stop sign",
    "ILLEGAL U-TURN", "illegal parking", "NO INSURANCE", "RECKLESS DRIVING",
    "Fleeing police", "FLEEING", "FLED SCENE", "fledgling", "eluding officer", "ELUDE",
    "evading police", "EVADE ARREST", "evasion", "HIT AND RUN", "hit-and-run",
    "DRIVING UNDER THE INFLUENCE", "DUI", "DUII", "dui-alcohol", "xdui", "DWI",
    "VEHICULAR MANSLAUGHTER", "vehicular homicide", "vehicular assault",
    "LOITERING", "loiter", "Loitering for drugs", "VAGRANCY", "CURFEW VIOLATION", "littering",
    "PANHANDLING", "begging", "PUBLIC INTOXICATION", "public drunk", "OPEN CONTAINER",
    "DISORDERLY CONDUCT", "TRESPASSING", "trespass", "FAILURE TO MOVE ON",
    "failure to disperse", "jaywalking", "SIMPLE ASSAULT", "ASSAULT - DOMESTIC",
    "SHOPLIFTING", "PETTY THEFT", "POSSESSION OF MARIJUANA", "SALE OF COCAINE",
    "BURGLARY", "AGGRAVATED ASSAULT", "CARRYING CONCEALED WEAPON", "ILLEGAL ENTRY", "FORGERY",
    # v2 literals: DUI variants, hit-and-run, federal re-entry, 'equipment' on specific codes
    "DWAI", "DUID", "OVI", "OWI", "DRUNK DRIVING", "driving under influence", "LEAVING THE SCENE",
    "FAILURE TO STOP AT SCENE OF ACCIDENT", "ILLEGAL RE-ENTRY 8 USC 1326",
    "REENTRY AFTER DEPORTATION", "BURGLARY EQUIPMENT",
)  # fmt: skip

NON_ASCII_LITERALS = ("DRİVİNG WITHOUT A LICENSE", "drivé without a license", "édui", "ſpeeding")

_LITERAL_WORDS = ("driving", "without", "a", "license", "speed", "flee", "dui", "loiter",
                  "under", "the", "influence", "hit", "and", "run", "trespass", "x", "-", "1")  # fmt: skip

_ORIS = ("CO0010000", "TXHPD0000", "CA0190000", "NY0300000")
_ZONES = ("America/Denver", "America/Chicago", "America/Los_Angeles", "America/New_York")
_OFFSETS = (-12, -8, -7, -6, -5, 0, 5, 14)

MIN_DECIDED = dt.date(2009, 1, 1)
MAX_DECIDED = dt.date(2016, 12, 31)


def literals(*, ascii_only: bool = True) -> st.SearchStrategy[str]:
    choices = [
        st.sampled_from(LITERALS),
        st.lists(st.sampled_from(_LITERAL_WORDS), max_size=5).map(" ".join),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(
            str.strip
        ),
    ]
    if not ascii_only:
        choices.append(st.sampled_from(NON_ASCII_LITERALS))
        choices.append(st.text(max_size=20).map(str.strip))
    return st.one_of(*choices).map(lambda s: s[:200])


def ncic_codes() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(RULE_CODES),
        st.sampled_from(RULE_CODES),
        st.sampled_from(sorted(NCIC_OFFENSES)),
    )


# ---------------------------------------------------------------- dates


def _shift_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years; Feb 29 -> Feb 28 in a common year."""
    year = day.year + years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


@st.composite
def _date_around(draw, decided: dt.date, years: tuple[int, ...], spread: int = 2) -> dt.date:
    """A date some whole years before ``decided`` (± a few days), or anywhere before it."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=decided))
    day = _shift_years(decided, -draw(st.sampled_from(years)))
    day += dt.timedelta(days=draw(st.integers(-spread, spread)))
    return min(day, decided)


@st.composite
def decision_dates(draw) -> dt.datetime:
    if draw(st.integers(0, 5)) == 0:
        day = draw(st.sampled_from([dt.date(2012, 2, 29), dt.date(2016, 2, 29), dt.date(2014, 1, 1),
                                    dt.date(2013, 12, 31), dt.date(2011, 3, 1)]))  # fmt: skip
    else:
        day = draw(st.dates(min_value=MIN_DECIDED, max_value=MAX_DECIDED))
    offset = dt.timezone(dt.timedelta(hours=draw(st.sampled_from(_OFFSETS))))
    hour = draw(st.integers(0, 23))
    return dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=offset)


# ---------------------------------------------------------------- records


@st.composite
def charges(draw) -> dict:
    return {
        "ncic": draw(ncic_codes()),
        "literal": draw(literals()),
        "severity": draw(st.sampled_from(list(Severity))).value,
        "injury": draw(st.sampled_from([False, False, False, True])),
        "domestic_violence": draw(st.sampled_from([False, False, False, True])),
        "disposition": draw(st.sampled_from([Disposition.pending] * 3 + list(Disposition))).value,
    }


@st.composite
def convictions(draw, decided: dt.date) -> dict:
    sentence = draw(
        st.one_of(
            st.none(),
            st.sampled_from([0, 30, 89, 90, 91, 180, 364, 365, 366, 730]),
            st.integers(0, 365 * 30),
        )
    )
    counsel = draw(st.sampled_from([None, *Counsel]))
    return {
        "ncic": draw(ncic_codes()),
        "literal": draw(literals()),
        "severity": draw(st.sampled_from(list(Severity))).value,
        "convicted_on": draw(
            st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=decided)
        ),
        "incident_id": draw(st.sampled_from([None, None, "INC-1", "INC-2", "INC-3"])),
        "sentence_days": sentence,
        "suspended": draw(st.booleans()),
        "aggravated_felony": draw(st.sampled_from([None, None, None, True, False])),
        "counsel": counsel.value if counsel is not None else None,
        "gang_element": draw(st.sampled_from([False, False, False, True])),
        "domestic_violence": draw(st.sampled_from([False, False, False, True])),
        "juvenile_adjudication": draw(st.sampled_from([False] * 6 + [True])),
    }


def _flag() -> st.SearchStrategy[bool]:
    return st.sampled_from([False, False, False, False, True])


@st.composite
def case_dicts(draw, case_id: str = "case-0") -> dict:
    """A Case file v1 as plain JSON-able data (``Case.model_validate`` accepts it)."""
    decided_at = draw(decision_dates())
    zone = draw(st.sampled_from(_ZONES))
    # the decision date is the facility's calendar date (flatten.py, schema.py)
    decided = decided_at.astimezone(ZoneInfo(zone)).date()
    status = draw(st.sampled_from(list(CitizenshipStatus))).value
    birth = draw(
        st.none() | _date_around(decided, (15, 16, 17, 18, 19, 30, 64, 65, 66), spread=1)
        | st.sampled_from([dt.date(1992, 2, 29), dt.date(1996, 2, 29), dt.date(1946, 2, 28)])
    )  # fmt: skip
    if birth is not None and (birth > decided or birth.year < 1880):
        birth = None
    entered = draw(
        st.none()
        | _date_around(decided, (0, 1, 2, 3, 4, 10, 20))
        | st.dates(min_value=dt.date(1960, 1, 1), max_value=decided)
    )
    if birth is not None and entered is not None and draw(st.booleans()):
        entered = min(_shift_years(birth, draw(st.sampled_from([15, 16, 17]))), decided)
    lpr_since = draw(st.none() | _date_around(decided, (9, 10, 11)))
    if birth is not None:  # Case v1 rejects entry / residence before birth
        entered = None if entered is None else max(entered, birth)
        lpr_since = None if lpr_since is None else max(lpr_since, birth)
    final_order = draw(
        st.none() | st.none() | st.dates(min_value=dt.date(2013, 12, 25), max_value=dt.date(2014, 1, 8))
        | st.dates(min_value=dt.date(2000, 1, 1), max_value=decided)
    )  # fmt: skip
    if final_order is not None and final_order > decided:
        final_order = None
    removed = draw(st.lists(st.dates(min_value=dt.date(1990, 1, 1), max_value=decided), max_size=3))
    person = {
        "birth_date": birth,
        "citizenship_status": status,
        "entered_us_on": entered,
        "entry": draw(st.sampled_from(list(Entry))).value,
        "lpr_since": lpr_since,
        "pending_relief": draw(st.lists(st.sampled_from(list(Relief)), max_size=2, unique=True)),
        "final_order_of_removal_on": final_order,
        "removed_on": removed,
        "immigration_fraud": draw(_flag()),
        "visa_abuse": draw(_flag()),
    }
    ori = draw(st.sampled_from(_ORIS))
    jurisdiction = {
        "ori": ori,
        "state": ori[:2],
        "county_fips": draw(st.sampled_from([None, "08001"])),
        "timezone": zone,
        "disclosure": draw(st.sampled_from(list(Disclosure))).value,
        "honors_detainers": draw(st.booleans()),
    }
    flags = {
        name: draw(_flag())
        for name in (
            "national_security", "gang_member", "outstanding_criminal_warrant",
            "serious_public_safety_risk", "crime_victim", "crime_witness",
            "domestic_violence_victim", "civil_rights_plaintiff", "veteran_or_armed_forces",
            "armed_forces_family", "us_citizen_or_lpr_family", "primary_caretaker",
            "pregnant_or_nursing", "serious_health_condition", "in_school_or_graduate",
            "indigent", "apprehended_at_border",
        )
    }  # fmt: skip
    return {
        "case_id": case_id,
        "decided_at": decided_at.isoformat(),
        "program": draw(st.sampled_from(list(Program))).value,
        "jurisdiction": jurisdiction,
        "person": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in person.items()}
        | {"removed_on": [d.isoformat() for d in removed]},
        "arrest": {"charges": draw(st.lists(charges(), max_size=4))},
        "convictions": [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in c.items()}
            for c in draw(st.lists(convictions(decided), max_size=6))
        ],
        "flags": flags,
    }


def cases(case_id: str = "case-0") -> st.SearchStrategy[Case]:
    return case_dicts(case_id).map(Case.model_validate)


@st.composite
def case_batches(draw, min_size: int = 1, max_size: int = 40) -> list[Case]:
    """Lists of cases with distinct ids (``h-0``, ``h-1`` …)."""
    n = draw(st.integers(min_size, max_size))
    return [draw(cases(f"h-{i}")) for i in range(n)]


# the literal patterns, for tests that want to aim at them
LITERAL_PATTERNS = {
    name: DEFAULTS[name].value for name in DEFAULTS if name.endswith("_literal_pattern")
}
