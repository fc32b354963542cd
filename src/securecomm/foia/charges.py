"""Free-text convictions of the releases, classified with the policy engine's own classifier.

The releases name an offense in words ("Driving Under Influence Liquor", "Aggravated Assault -
Family-Strongarm"): ICE's labels of NCIC Uniform Offense Classification codes. A text is turned
into an offense record (NCIC code, literal, severity) and then classified ONLY by the project's
classifier: ``law.offenses.classify_offense`` (the DESIGN 3.1 categories),
``stats.categories.charge_category_of`` (the five-way charge category of the statistics) and the
engine's Morton level of a person whose only conviction it is (``law.engine.CompiledPack``,
Morton March 2, 2011). Nothing here decides a category.

Text to code: first the reviewed table ``data/msc_ncic.csv`` (ICE labels that are not NCIC
descriptions, each with a note), else the NCIC description itself after expanding NCIC's
abbreviations. Severity is not in the releases: ``SEVERITY_BY_CODE`` is an interpretation
parameter (felony for the families the states overwhelmingly charge as felonies).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from securecomm.law.ncic import NCIC_OFFENSES
from securecomm.law.parameters import Parameter

POLICY = "tfsc-2011"

_FELONY_FAMILIES = ("01", "09", "10", "11", "12", "20", "21", "22", "25", "64")
_FELONY_CODES = (
    "0303", "0399", "1301", "1302", "1303", "1304", "1305", "1306", "1307", "1308", "1309",
    "1310", "1311", "1312", "1314", "1315", "1399", "1602", "3501", "3502", "3503", "3510",
    "3511", "3520", "3521", "3530", "3531", "3540", "3541", "3560", "3561", "3563", "3570",
    "3571", "3580", "3581", "3599", "3601", "3604", "3616", "3618", "5214", "5217", "6300",
)  # fmt: skip
SEVERITY_BY_CODE = Parameter(
    "foia.felony_ncic", tuple(sorted({c for c in NCIC_OFFENSES if c[:2] in _FELONY_FAMILIES}
                                     | set(_FELONY_CODES))),
    dt.date(2019, 9, 12), "NCIC Uniform Offense Classifications (families); releases carry no severity",
    "The releases give no severity. Homicide, kidnapping, sexual assault, robbery, aggravated "
    "assault, arson, extortion, burglary, forgery, drug sale/smuggling/manufacture, child sexual "
    "abuse, weapon trafficking, money laundering and re-entry after removal are read as "
    "felonies; every other code (simple assault, DUI, traffic, possession, public order) as a "
    "misdemeanor. Drug codes named 'possession' stay misdemeanors. Levels derived from this are "
    "estimates; docs/foia.md says so.",
)  # fmt: skip

_ABBREVIATIONS = {
    "ASSLT": "ASSAULT", "AGGRAV": "AGGRAVATED", "STGARM": "STRONGARM", "BURGL": "BURGLARY",
    "LARC": "LARCENY", "VEH": "VEHICLE", "POSSESS": "POSSESSION", "SMUGGL": "SMUGGLE",
    "MFR": "MANUFACTURING", "RESID": "RESIDENCE", "NONRESID": "NON RESIDENCE",
    "NONFAMILY": "NON FAMILY", "PUB": "PUBLIC", "OFF": "OFFICER", "POL": "POLICE",
    "INST": "INSTITUTION", "PROP": "PROPERTY", "IMPERSON": "IMPERSONATING", "ILLEG": "ILLEGAL",
    "INSUFF": "INSUFFICIENT", "SYNTH": "SYNTHETIC", "DISORD": "DISORDERLY", "TRANSP": "TRANSPORTING",
    "GOVT": "GOVERNMENT", "DERIV": "DERIVATIVES", "RECEIV": "RECEIVING", "CONTRIB": "CONTRIBUTING",
    "DELINQ": "DELINQUENCY", "PROB": "PROBATION", "CONDIT": "CONDITIONAL", "RECOG": "RECOGNIZANCE",
    "BLDG": "BUILDING", "MANSL": "MANSLAUGHTER", "NEGLIG": "NEGLIGENT", "STAT": "STATUTORY",
    "DISTRIB": "DISTRIBUTING", "EQUIP": "EQUIPMENT", "POSSESSING": "POSSESSION",
    "ESCAPEE": "ESCAPE", "DANGEROUS": "DANGEROUS", "INCLUDES": "", "SEE": "", "MIS": "",
    "IDENTIFY": "", "IN": "", "COMMENTS": "", "OF": "", "TO": "", "THE": "", "AND": "",
    "OR": "", "A": "", "AN": "", "OBJECT": "", "TYPE": "", "INSTITUTION": "INSTITUTION",
}  # fmt: skip


def normalize(text: str) -> str:
    """Upper case, punctuation to spaces, NCIC abbreviations expanded, filler words dropped."""
    words = re.sub(r"[^A-Z0-9]+", " ", text.upper()).split()
    out = [_ABBREVIATIONS.get(w, w) for w in words]
    return " ".join(w for w in " ".join(out).split() if w)


@cache
def _description_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, desc in sorted(NCIC_OFFENSES.items()):
        index.setdefault(normalize(desc), code)
    return index


@cache
def _reviewed() -> dict[str, tuple[str, bool, str]]:
    table = resources.files("securecomm.foia").joinpath("data/msc_ncic.csv")
    with table.open(encoding="utf-8") as fh:
        return {normalize(r["text"]): (r["ncic"], r["domestic_violence"] == "true", r["note"])
                for r in csv.DictReader(fh)}  # fmt: skip


def ncic_for_text(text: str) -> tuple[str | None, str, bool]:
    """(NCIC code or None, how it was found, domestic-violence flag) of a release's label."""
    key = normalize(text)
    if key in _reviewed():
        code, dv, _ = _reviewed()[key]
        return code, "reviewed table (foia/data/msc_ncic.csv)", dv
    if code := _description_index().get(key):
        return code, "NCIC description", False
    return None, "unclassified", False


def severity_of(code: str, text: str) -> str:
    if code.startswith("35") and "POSSESS" in text.upper():
        return "misdemeanor"
    return "felony" if code in SEVERITY_BY_CODE.value else "misdemeanor"


@cache
def _engine():
    from securecomm.law.engine import CompiledPack
    from securecomm.law.packs import get_pack

    pack = get_pack(POLICY)
    return CompiledPack(pack), {name: p.value for name, p in pack.parameters.items()}


def _one_conviction_case(code: str, text: str, severity: str, dv: bool):
    """A case whose person has this one conviction and nothing else that matters."""
    from securecomm.law.schema import Case

    return Case.model_validate({
        "case_id": "foia-classify",
        "decided_at": "2015-01-01T12:00:00+00:00",
        "jurisdiction": {"ori": "WA0000000", "state": "WA", "timezone": "America/Los_Angeles"},
        "person": {"birth_date": "1980-01-01", "citizenship_status": "entered_without_inspection",
                   "entered_us_on": "2000-01-01", "entry": "without_inspection"},
        "convictions": [{"ncic": code, "literal": text[:200], "severity": severity,
                         "convicted_on": "2014-01-01", "domestic_violence": dv}],
    })  # fmt: skip


@cache
def classify_text(text: str) -> dict[str, Any]:
    """Offense record and categories of one release label (same classifier as the engine)."""
    from securecomm.law.flatten import flatten_case
    from securecomm.law.offenses import classify_offense
    from securecomm.stats.categories import charge_category_of

    code, how, dv = ncic_for_text(text)
    if code is None:
        return {"text": text, "ncic": None, "ncic_description": None, "matched_by": how,
                "severity": None, "charge_category": None, "categories": "",
                "morton_level": None}  # fmt: skip
    severity = severity_of(code, text)
    case = _one_conviction_case(code, text, severity, dv)
    # the engine's own flat offense record (literal folded, defaults filled)
    offense = flatten_case(case)["convictions"][0]
    engine, params = _engine()
    found = classify_offense(offense, params)
    return {
        "text": text,
        "ncic": code,
        "ncic_description": NCIC_OFFENSES[code],
        "matched_by": how,
        "severity": severity,
        "charge_category": charge_category_of([offense], POLICY),
        "categories": ";".join(sorted({f["category"] for f in found})),
        "morton_level": engine.decide(case).level,
    }


def classify_texts(counts: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """One row per distinct text with its count, most frequent first."""
    rows = [{**classify_text(t), "rows": n} for t, n in counts]
    return sorted(rows, key=lambda r: (-r["rows"], r["text"]))
