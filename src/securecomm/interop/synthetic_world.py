"""A seeded synthetic world for tests, demos and benchmarks. Synthetic data only.

What :func:`generate_world` draws (same seed, same world):

* **jurisdictions** -- eight participating ORIs in different states and time zones, with a mix
  of disclosure preferences (``full``, ``public_safety_only``, ``none``) and some that do not
  honor detainers (DESIGN 3.8, PEP notification requests);
* **an IDENT population** of ``persons`` people, each with a FIN, a status history (entries,
  lawful residence, naturalisation -- some naturalise *during* the booking window, so the LESC
  answer depends on the booking date), 1-4 encounters with the names used then (aliases: the
  true name, spelling variants, nicknames, unrelated names), final orders, removals, pending
  relief (protections, DESIGN 3.5), and an enrolment template;
* **FBI subjects** with RAP sheets: convictions with NCIC codes, sentences, incident ids,
  counsel, gang and domestic-violence elements; warrants (active or cleared); the FBI's own
  template. Half of the IDENT population has a RAP sheet, plus ``fbi_only`` people who are in no
  immigration record (US citizens by birth, as far as the pipeline can tell);
* **bookings** (Booking submission v1, JSON Lines) whose templates are fresh noisy captures of:
  IDENT people (``ident``, some of them naturalized citizens who still match their old record,
  DESIGN 3.2 / 3.8), FBI-only people (``fbi_only``), people enrolled nowhere (``never``), and a
  few *look-alikes* (``lookalike``): never-enrolled people -- US citizens -- whose capture
  happens to score in the verification band against someone's IDENT record. A US citizen by
  birth only ever appears in IDENT as such a false candidate. Some captures are poor (they
  land in the band or below the usable quality) and a few bookings carry no template at all
  (biographic linkage).

A ground-truth file (``<bookings>.truth.jsonl``: TCN, category, true FIN / FBI number) goes next
to the bookings for tests and benchmarks; the pipeline never reads it.

Template model: :class:`securecomm.identity.templates.TemplateModel` (64-d, cosine). Identity
``i`` of the model is IDENT person ``i`` (``0 <= i < persons``), FBI-only person
``persons + j``, never-enrolled person ``persons + fbi_only + k``. Enrolment captures are
session 0 (IDENT) and 1 (FBI); a person's ``r``-th booking is session ``2 + r``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..identity.templates import TemplateModel
from ..store import repositories
from ..store.models import (
    Biometric,
    ChArrest,
    ChBiometric,
    ChConviction,
    ChSubject,
    ChWarrant,
    Encounter,
    ImmOrder,
    ImmRemoval,
    ImmSubject,
    StatusHistory,
)
from .adapters import TEMPLATE_MODEL, template_bytes
from .messages import TEMPLATE_DIM

__all__ = ["JURISDICTIONS", "World", "WorldSpec", "generate_world", "seed_world"]

UTC = dt.UTC

# ori, name, state, county_fips, timezone, disclosure, honors_detainers
JURISDICTIONS: tuple[tuple[str, str, str, str, str, str, bool], ...] = (
    ("CO0010000", "Adams County Sheriff (synthetic)", "CO", "08001", "America/Denver", "full", True),
    ("TX2270000", "Travis County Sheriff (synthetic)", "TX", "48453", "America/Chicago", "full", True),
    ("CA0190000", "Los Angeles County Sheriff (synthetic)", "CA", "06037", "America/Los_Angeles", "public_safety_only", False),
    ("IL0160000", "Cook County Sheriff (synthetic)", "IL", "17031", "America/Chicago", "none", False),
    ("AZ0070000", "Maricopa County Sheriff (synthetic)", "AZ", "04013", "America/Phoenix", "full", True),
    ("NY0303000", "New York City Police (synthetic)", "NY", "36061", "America/New_York", "public_safety_only", True),
    ("FL0130000", "Miami-Dade Police (synthetic)", "FL", "12086", "America/New_York", "full", True),
    ("HI0020000", "Honolulu Police (synthetic)", "HI", "15003", "Pacific/Honolulu", "full", True),
)  # fmt: skip
_ORI_WEIGHTS = (10, 14, 22, 12, 14, 12, 10, 6)

_FIRST_M = [
    "JOSE",
    "JUAN",
    "LUIS",
    "CARLOS",
    "JESUS",
    "MIGUEL",
    "FRANCISCO",
    "ANTONIO",
    "ALEJANDRO",
    "JORGE",
    "PEDRO",
    "MANUEL",
    "RICARDO",
    "EDUARDO",
    "FERNANDO",
    "RAFAEL",
    "ROBERTO",
    "ALBERTO",
    "JAVIER",
    "SERGIO",
    "OSCAR",
    "DANIEL",
    "DAVID",
    "MARIO",
    "RAUL",
    "HECTOR",
    "WILLIAM",
    "ROBERT",
    "JAMES",
    "JOHN",
    "MICHAEL",
    "RICHARD",
    "THOMAS",
    "JOSEPH",
    "WEI",
    "MOHAMMED",
    "OMAR",
    "VIKTOR",
    "ANDREI",
]
_FIRST_F = [
    "MARIA",
    "GUADALUPE",
    "ROSA",
    "ANA",
    "JUANA",
    "MARGARITA",
    "ELIZABETH",
    "VERONICA",
    "PATRICIA",
    "LETICIA",
    "GABRIELA",
    "ALEJANDRA",
    "ROSARIO",
    "DOLORES",
    "ELENA",
    "CARMEN",
    "TERESA",
    "SOFIA",
    "LUCIA",
    "JENNIFER",
    "SUSAN",
    "LINDA",
    "FATIMA",
    "MEI",
]
_NICK = {
    "JOSE": "PEPE", "FRANCISCO": "PACO", "JESUS": "CHUY", "EDUARDO": "LALO", "ROBERTO": "BETO",
    "WILLIAM": "BILL", "ROBERT": "BOB", "JAMES": "JIM", "MICHAEL": "MIKE", "GUADALUPE": "LUPE",
    "ELIZABETH": "LIZ", "ALEJANDRO": "ALEX", "ANTONIO": "TONY", "DOLORES": "LOLA",
}  # fmt: skip
_SURNAMES = [
    "GARCIA",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "PEREZ",
    "SANCHEZ",
    "RAMIREZ",
    "TORRES",
    "FLORES",
    "RIVERA",
    "GOMEZ",
    "DIAZ",
    "REYES",
    "MORALES",
    "CRUZ",
    "ORTIZ",
    "GUTIERREZ",
    "CHAVEZ",
    "RAMOS",
    "RUIZ",
    "MENDOZA",
    "ALVAREZ",
    "CASTILLO",
    "JIMENEZ",
    "MORENO",
    "ROMERO",
    "HERRERA",
    "MEDINA",
    "AGUILAR",
    "VARGAS",
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "MILLER",
    "DAVIS",
    "WILSON",
    "NGUYEN",
    "TRAN",
    "CHEN",
    "WANG",
    "KHAN",
    "IVANOV",
    "KOWALSKI",
    "OKAFOR",
    "MENSAH",
]
_PLACES = [
    "MEXICO",
    "GUATEMALA",
    "EL SALVADOR",
    "HONDURAS",
    "DOMINICAN REPUBLIC",
    "CUBA",
    "HAITI",
    "COLOMBIA",
    "ECUADOR",
    "PERU",
    "PHILIPPINES",
    "VIETNAM",
    "CHINA",
    "INDIA",
    "NIGERIA",
    "POLAND",
    "UKRAINE",
    "CANADA",
    "KOREA",
    "JAMAICA",
]
_US_PLACES = ("TEXAS", "CALIFORNIA", "ILLINOIS", "NEW YORK", "FLORIDA", "COLORADO", "ARIZONA")

# Current charges at booking: (ncic, literal, severity, weight)
_CHARGES: tuple[tuple[str, str, str, int], ...] = (
    ("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor", 16), ("5499", "SPEEDING", "infraction", 5),
    ("5499", "EQUIPMENT VIOLATION", "infraction", 3), ("5404", "DRIVING UNDER INFLUENCE ALCOHOL", "misdemeanor", 8),
    ("5401", "HIT AND RUN", "misdemeanor", 2), ("5311", "DISORDERLY CONDUCT", "misdemeanor", 5),
    ("5707", "TRESPASSING", "misdemeanor", 3), ("4104", "PUBLIC INTOXICATION", "misdemeanor", 4),
    ("4813", "FAILURE TO MOVE ON", "misdemeanor", 1), ("2303", "SHOPLIFTING", "misdemeanor", 6),
    ("1313", "SIMPLE ASSLT", "misdemeanor", 6), ("1313", "SIMPLE ASSLT - DOMESTIC", "misdemeanor", 3),
    ("3562", "MARIJUANA - POSSESS", "misdemeanor", 4), ("3530", "COCAINE - SELL", "felony", 3),
    ("2202", "BURGL - FORCED ENTRY-RESID", "felony", 3), ("1314", "AGGRAV ASSLT - GUN", "felony", 3),
    ("1206", "ROBBERY - STREET-STGARM", "felony", 2), ("5212", "POSSESSION OF WEAPON", "misdemeanor", 2),
    ("2605", "FRAUD - ILLEG USE CREDIT CARDS", "felony", 2), ("2404", "VEHICLE THEFT", "felony", 2),
    ("5015", "FAILURE TO APPEAR", "misdemeanor", 2), ("4899", "RESISTING OFFICER", "misdemeanor", 2),
)  # fmt: skip
# Prior convictions: (ncic, literal, severity, sentence range in days, weight)
_CONVICTIONS: tuple[tuple[str, str, str, tuple[int, int], int], ...] = (
    ("5499", "DRIVING WITHOUT A LICENSE", "misdemeanor", (0, 10), 14), ("5404", "DUI", "misdemeanor", (1, 60), 8),
    ("2303", "SHOPLIFTING", "misdemeanor", (0, 30), 8), ("1313", "SIMPLE ASSAULT", "misdemeanor", (0, 90), 6),
    ("3562", "MARIJUANA - POSSESS", "misdemeanor", (0, 30), 5), ("3532", "COCAINE - POSSESS", "felony", (90, 730), 3),
    ("3530", "COCAINE - SELL", "felony", (365, 2190), 2), ("2202", "BURGLARY - RESIDENCE", "felony", (180, 1460), 3),
    ("2399", "LARCENY", "misdemeanor", (0, 180), 5), ("1314", "AGGRAVATED ASSAULT - GUN", "felony", (365, 2920), 2),
    ("1206", "ROBBERY", "felony", (365, 2920), 1), ("5202", "CARRYING CONCEALED WEAPON", "misdemeanor", (0, 180), 2),
    ("0301", "ILLEGAL ENTRY", "misdemeanor", (0, 30), 2), ("0302", "FALSE CITIZENSHIP", "felony", (30, 365), 1),
    ("1316", "STALKING", "misdemeanor", (0, 365), 1), ("5311", "DISORDERLY CONDUCT", "misdemeanor", (0, 5), 4),
)  # fmt: skip
# (status, weight)
_STATUSES = (
    ("entered_without_inspection", 30), ("visa_overstay", 12), ("lawful_permanent_resident", 22),
    ("naturalized_citizen", 12), ("nonimmigrant_visa", 6), ("refugee_asylee", 5), ("parolee", 3),
    ("unknown", 10),
)  # fmt: skip


@dataclass(frozen=True)
class WorldSpec:
    """How big a world and what mix of bookings."""

    persons: int = 2000
    fbi_only: int | None = None  # default persons // 2
    never_enrolled: int | None = None  # default max(bookings // 2, 100)
    bookings: int = 5000
    seed: int = 2011
    start: dt.date = dt.date(2011, 10, 1)
    end: dt.date = dt.date(2012, 9, 30)
    share_ident: float = 0.35
    share_fbi_only: float = 0.25
    share_lookalike: float = 0.01
    no_template_rate: float = 0.01

    def __post_init__(self) -> None:
        if self.persons < 1 or self.bookings < 0:
            raise ValueError("persons >= 1 and bookings >= 0 expected")
        shares = self.share_ident + self.share_fbi_only + self.share_lookalike
        if not (0 <= shares <= 1):
            raise ValueError("the booking shares must add up to at most 1")
        if self.end < self.start:
            raise ValueError("end is before start")

    @property
    def n_fbi_only(self) -> int:
        return self.persons // 2 if self.fbi_only is None else self.fbi_only

    @property
    def n_never(self) -> int:
        return max(self.bookings // 2, 100) if self.never_enrolled is None else self.never_enrolled


@dataclass
class World:
    """Rows for the store (dicts per table) and the booking documents, in memory."""

    spec: WorldSpec
    jurisdictions: list[dict[str, Any]] = field(default_factory=list)
    imm_subjects: list[dict[str, Any]] = field(default_factory=list)
    imm_status: list[dict[str, Any]] = field(default_factory=list)
    imm_encounters: list[dict[str, Any]] = field(default_factory=list)  # with "_key"
    imm_biometrics: list[dict[str, Any]] = field(default_factory=list)  # "_encounter_key"
    imm_orders: list[dict[str, Any]] = field(default_factory=list)  # with "_key"
    imm_removals: list[dict[str, Any]] = field(default_factory=list)  # "_order_key"
    ch_subjects: list[dict[str, Any]] = field(default_factory=list)
    ch_arrests: list[dict[str, Any]] = field(default_factory=list)  # with "_key"
    ch_convictions: list[dict[str, Any]] = field(default_factory=list)  # "_arrest_key"
    ch_warrants: list[dict[str, Any]] = field(default_factory=list)
    ch_biometrics: list[dict[str, Any]] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    #: facts no repository holds, per booking: {"tcn", "fact", "value", "source",
    #: "recorded_by", "recorded_at"} (written to ``case_facts`` for the case ``C-<TCN>``);
    #: empty unless the world's maker has such facts (securecomm.synth.to_world does)
    case_facts: list[dict[str, Any]] = field(default_factory=list)

    def booking_lines(self) -> Iterator[str]:
        for b in self.bookings:
            yield json.dumps(b, separators=(",", ":")) + "\n"

    def write_bookings(self, path: Path) -> tuple[Path, Path]:
        path = Path(path)
        with path.open("w", encoding="utf-8") as f:
            f.writelines(self.booking_lines())
        truth = path.with_name(path.name.removesuffix(".jsonl") + ".truth.jsonl")
        with truth.open("w", encoding="utf-8") as f:
            for t in self.truth:
                f.write(json.dumps(t, separators=(",", ":")) + "\n")
        return path, truth

    def counts(self) -> dict[str, int]:
        cats: dict[str, int] = {}
        for t in self.truth:
            cats[t["category"]] = cats.get(t["category"], 0) + 1
        return {
            "jurisdictions": len(self.jurisdictions),
            "ident_persons": len(self.imm_subjects),
            "fbi_subjects": len(self.ch_subjects),
            "bookings": len(self.bookings),
            **{f"bookings_{k}": v for k, v in sorted(cats.items())},
            # only when there are any: the counts of worlds without facts stay as they were
            **({"case_facts": len(self.case_facts)} if self.case_facts else {}),
        }


# --------------------------------------------------------------------------- helpers


def _day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    if hi <= lo:
        return lo
    return lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), UTC)


def _pick(rng: random.Random, weighted: tuple[tuple, ...]) -> tuple:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


def _person(rng: random.Random, foreign: bool = True) -> dict[str, Any]:
    sex = "M" if rng.random() < 0.78 else "F"
    first = rng.choice(_FIRST_M if sex == "M" else _FIRST_F)
    last = rng.choice(_SURNAMES)
    if rng.random() < 0.3:
        last = f"{last} {rng.choice(_SURNAMES)}"
    return {
        "first": first,
        "middle": rng.choice(_FIRST_M if sex == "M" else _FIRST_F) if rng.random() < 0.3 else None,
        "last": last,
        "dob": _day(rng, dt.date(1950, 1, 1), dt.date(1994, 12, 31)),
        "sex": sex,
        "race": rng.choice("WWWWBBAIU"),
        "ethnicity": "H" if foreign and rng.random() < 0.7 else rng.choice("NNU"),
        "place_of_birth": rng.choice(_PLACES) if foreign else rng.choice(_US_PLACES),
    }


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.random()
    if op < 0.4:
        return s[:i] + s[i + 1 :]
    if op < 0.7:
        return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
    return s[:i] + rng.choice("AEIOULNRS") + s[i + 1 :]


def _alias(rng: random.Random, p: dict[str, Any]) -> tuple[str, str]:
    """A name this person might give: true, a variant, or someone else's name."""
    r = rng.random()
    first, last = p["first"], p["last"]
    if r < 0.45:
        return first, last
    if r < 0.6:
        return _NICK.get(first, first), last
    if r < 0.72:
        return first, last.split()[0]
    if r < 0.84:
        return _typo(rng, first), _typo(rng, last)
    if r < 0.9:
        return last.split()[0], first  # swapped order
    other = _person(rng)
    return other["first"], other["last"]


# --------------------------------------------------------------------------- generation


def generate_world(spec: WorldSpec) -> World:
    """Draw a world (see the module docstring). Deterministic in ``spec``."""
    rng = random.Random(spec.seed)
    model = TemplateModel(TEMPLATE_DIM, seed=spec.seed)
    w = World(spec)
    before = spec.start - dt.timedelta(days=1)
    for ori, name, state, fips, tz, disclosure, honors in JURISDICTIONS:
        w.jurisdictions.append(
            {
                "ori": ori, "name": name, "state": state, "county_fips": fips, "timezone": tz,
                "disclosure": disclosure, "honors_detainers": honors,
                "activated_on": dt.date(2009, 1, 1) + dt.timedelta(days=rng.randrange(700)),
            }
        )  # fmt: skip

    P, F = spec.persons, spec.n_fbi_only
    people: list[dict[str, Any]] = []
    # -- IDENT population -------------------------------------------------------------------
    enrol = model.captures(np.arange(P, dtype=np.int64), session=0)
    for i in range(P):
        p = _person(rng)
        p["model_id"] = i
        fin = f"{1_100_000_000 + spec.seed % 1000 * 1_000_000 + i}"
        p["fin"] = fin
        status = _pick(rng, _STATUSES)[0]
        dob = p["dob"]
        entered = _day(rng, dob + dt.timedelta(days=365), min(before, dt.date(2010, 12, 31)))
        entry = "without_inspection" if status in ("entered_without_inspection",) else (
            "unknown" if status == "unknown" else "inspected"
        )  # fmt: skip
        history: list[tuple[str, dt.date]] = []
        lpr_since = None
        if status == "entered_without_inspection":
            history = [("entered_without_inspection", entered)]
        elif status == "visa_overstay":
            history = [
                ("nonimmigrant_visa", entered),
                ("visa_overstay", entered + dt.timedelta(days=180)),
            ]
        elif status in ("lawful_permanent_resident", "naturalized_citizen"):
            lpr_since = _day(rng, entered, min(before, entered + dt.timedelta(days=3000)))
            history = [("nonimmigrant_visa", entered), ("lawful_permanent_resident", lpr_since)]
            if status == "naturalized_citizen":
                # most naturalised before the window; some during it (as-of matters)
                natz = _day(rng, lpr_since + dt.timedelta(days=1825), spec.end)
                if natz > spec.end:
                    status = "lawful_permanent_resident"
                else:
                    history.append(("naturalized_citizen", natz))
        elif status == "unknown":
            history = []
        else:
            history = [(status, entered)]
        if any(d < dob for _, d in history):  # keep dates consistent
            history = [(s, max(d, dob + dt.timedelta(days=1))) for s, d in history]
        p["status"] = status
        subject = {
            "fin": fin,
            "a_number": f"A{200_000_000 + i:09d}" if status not in ("entered_without_inspection", "unknown") else None,
            "citizenship_status": history[-1][0] if history else "unknown",
            "entry": entry,
            "entered_us_on": entered if status != "unknown" else None,
            "lpr_since": lpr_since,
            "pending_relief": [rng.choice(["u_visa", "t_visa", "vawa", "asylum"])] if rng.random() < 0.04 else [],
            "immigration_fraud": rng.random() < 0.01,
            "visa_abuse": status in ("visa_overstay", "nonimmigrant_visa") and rng.random() < 0.05,
        }  # fmt: skip
        w.imm_subjects.append(subject)
        for s, d in history:
            w.imm_status.append({"fin": fin, "status": s, "effective_on": d, "source": "synthetic"})
        # encounters: the first is the enrolment
        n_enc = rng.choice((1, 1, 2, 2, 3, 4))
        kinds = ["entry" if entry == "inspected" else "apprehension"] + [
            rng.choice(("apprehension", "benefit_application", "entry")) for _ in range(n_enc - 1)
        ]
        enc_dates = sorted(_day(rng, entered, before) for _ in range(n_enc))
        p["names_used"] = []
        for e, (kind, day) in enumerate(zip(kinds, enc_dates, strict=True)):
            given, family = (p["first"], p["last"]) if e == 0 else _alias(rng, p)
            p["names_used"].append((given, family))
            other = []
            if rng.random() < 0.1:
                g2, f2 = _alias(rng, p)
                other.append({"given": g2, "family": f2})
            w.imm_encounters.append(
                {
                    "_key": (fin, e), "fin": fin, "encountered_at": _at(day, rng), "kind": kind,
                    "location": rng.choice(_PLACES if kind == "entry" else ("BORDER", "INTERIOR")),
                    "family_name": family, "given_names": given,
                    "birth_date": dob if rng.random() > 0.1 else dob + dt.timedelta(days=rng.choice((-365, 30, 365))),
                    "other_names": other,
                }
            )  # fmt: skip
        w.imm_biometrics.append(
            {
                "fin": fin, "_encounter_key": (fin, 0), "modality": "fingerprint", "position": None,
                "model": TEMPLATE_MODEL, "dim": TEMPLATE_DIM,
                "template": template_bytes(enrol.vectors[i]), "captured_at": _at(enc_dates[0], rng),
            }
        )  # fmt: skip
        if status in ("entered_without_inspection", "visa_overstay") and rng.random() < 0.14:
            ordered = _day(rng, enc_dates[0], before)
            w.imm_orders.append(
                {"_key": (fin, 0), "fin": fin, "kind": "removal", "ordered_on": ordered,
                 "final": True, "final_on": ordered}
            )  # fmt: skip
            if rng.random() < 0.4:  # removed, came back
                w.imm_removals.append(
                    {"fin": fin, "_order_key": (fin, 0),
                     "removed_on": min(ordered + dt.timedelta(days=rng.randrange(5, 90)), before)}
                )  # fmt: skip
        people.append(p)

    # -- FBI subjects -------------------------------------------------------------------------
    fbi_people = [p for p in people if rng.random() < 0.5]
    for j in range(F):
        p = _person(rng, foreign=False)
        p["model_id"] = P + j
        p["status"] = "us_citizen_by_birth"
        people.append(p)
        fbi_people.append(p)
    fbi_ids = np.array([p["model_id"] for p in fbi_people], dtype=np.int64)
    fbi_caps = model.captures(fbi_ids, session=1) if len(fbi_ids) else None
    for k, p in enumerate(fbi_people):
        number = f"{spec.seed % 1000:03d}{k:07d}FB"
        p["fbi_number"] = number
        w.ch_subjects.append(
            {"fbi_number": number, "name": f"{p['last']}, {p['first']}", "birth_date": p["dob"]}
        )
        n_conv = rng.choice((0, 1, 1, 1, 2, 2, 3, 4))
        adult = p["dob"] + dt.timedelta(days=365 * 18)
        first_arrest = None
        for c in range(n_conv):
            ncic, literal, severity, (lo, hi), _ = _pick(rng, _CONVICTIONS)
            arrested = _day(rng, max(adult, dt.date(1995, 1, 1)), before - dt.timedelta(days=40))
            first_arrest = min(first_arrest or arrested, arrested)
            convicted = min(arrested + dt.timedelta(days=rng.randrange(10, 200)), before)
            key = (number, c)
            w.ch_arrests.append(
                {"_key": key, "fbi_number": number, "arrested_on": arrested,
                 "arresting_ori": rng.choice(JURISDICTIONS)[0], "tcn": None,
                 "charges": [{"ncic": ncic, "literal": literal, "severity": severity}]}
            )  # fmt: skip
            sentence = rng.randint(lo, hi)
            w.ch_convictions.append(
                {
                    "_arrest_key": key, "fbi_number": number, "ncic": ncic, "literal": literal,
                    "severity": severity, "convicted_on": convicted,
                    "incident_id": f"inc-{number}-{c}", "sentence_days": sentence,
                    "suspended": sentence > 0 and rng.random() < 0.2,
                    "aggravated_felony": None,
                    "counsel": rng.choice(("none", "appointed", "appointed", "retained")),
                    "gang_element": rng.random() < 0.03,
                    "domestic_violence": ncic in ("1313", "1316") and rng.random() < 0.4,
                }
            )  # fmt: skip
        if rng.random() < 0.08:
            issued = _day(rng, dt.date(2008, 1, 1), before)
            cleared = rng.random() < 0.4
            w.ch_warrants.append(
                {"fbi_number": number, "issued_on": issued, "issuing_ori": rng.choice(JURISDICTIONS)[0],
                 "ncic": rng.choice(("5015", "4899", "2303", "1313")), "literal": "BENCH WARRANT",
                 "active": not cleared, "cleared_on": _day(rng, issued, before) if cleared else None}
            )  # fmt: skip
        assert fbi_caps is not None
        w.ch_biometrics.append(
            {"fbi_number": number, "model": TEMPLATE_MODEL, "dim": TEMPLATE_DIM,
             "template": template_bytes(fbi_caps.vectors[k]),
             "captured_at": _at(first_arrest or _day(rng, adult, before), rng)}
        )  # fmt: skip

    # -- never-enrolled people ----------------------------------------------------------------
    N = spec.n_never
    for k in range(N):
        p = _person(rng, foreign=rng.random() < 0.3)
        p["model_id"] = P + F + k
        p["status"] = "not_enrolled"
        people.append(p)
    ident_pool = people[:P]
    fbi_only_pool = people[P : P + F]
    never_pool = people[P + F :]

    # -- bookings -----------------------------------------------------------------------------
    plan: list[tuple[str, dict[str, Any]]] = []
    for _ in range(spec.bookings):
        r = rng.random()
        if r < spec.share_ident:
            plan.append(("ident", rng.choice(ident_pool)))
        elif r < spec.share_ident + spec.share_fbi_only and fbi_only_pool:
            plan.append(("fbi_only", rng.choice(fbi_only_pool)))
        elif r < spec.share_ident + spec.share_fbi_only + spec.share_lookalike:
            plan.append(("lookalike", rng.choice(never_pool)))
        else:
            plan.append(("never", rng.choice(never_pool)))
    # captures: a person's r-th booking is session 2 + r (one generator call per session)
    seen: dict[int, int] = {}
    sessions: list[int] = []
    for _, p in plan:
        r = seen.get(p["model_id"], 0)
        seen[p["model_id"]] = r + 1
        sessions.append(2 + r)
    vectors = np.zeros((len(plan), TEMPLATE_DIM), dtype=np.float32)
    quality = np.zeros(len(plan), dtype=np.int64)
    for s in sorted(set(sessions)):
        rows = [j for j, ss in enumerate(sessions) if ss == s]
        ids = np.array([plan[j][1]["model_id"] for j in rows], dtype=np.int64)
        caps = model.captures(ids, session=s)
        vectors[rows] = caps.vectors
        quality[rows] = caps.quality
    nprng = np.random.default_rng(spec.seed + 17)
    days = (spec.end - spec.start).days
    for j, (category, p) in enumerate(plan):
        ori, _n, _s, _f, tz, _d, _h = rng.choices(JURISDICTIONS, weights=_ORI_WEIGHTS)[0]
        day = spec.start + dt.timedelta(days=rng.randrange(days + 1))
        zone = ZoneInfo(tz)
        # through UTC: wall-clock arithmetic across a DST change would misorder the times
        local = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), zone)
        local = local.astimezone(UTC).astimezone(zone)
        arrested = (
            local.astimezone(UTC) - dt.timedelta(minutes=rng.randrange(30, 300))
        ).astimezone(zone)
        vec, q = vectors[j], int(quality[j])
        target_fin = None
        if category == "lookalike":
            # a never-enrolled person whose capture scores in the band against someone's record
            target = rng.choice(ident_pool)
            e = enrol.vectors[target["model_id"]].astype(np.float64)
            u = nprng.standard_normal(TEMPLATE_DIM)
            u -= u.dot(e) * e
            u /= np.linalg.norm(u)
            a = rng.uniform(0.685, 0.735)
            vec = (a * e + np.sqrt(1 - a * a) * u).astype(np.float32)
            q = rng.randint(70, 95)
            target_fin = target["fin"]
        given, family = (
            _alias(rng, p)
            if category == "ident" and rng.random() < 0.35
            else (p["first"], p["last"])
        )
        n_ch = rng.choice((1, 1, 1, 2, 2, 3))
        charges = []
        for _ in range(n_ch):
            ncic, literal, severity, _w = _pick(rng, _CHARGES)
            charge: dict[str, Any] = {"ncic": ncic, "literal": literal, "severity": severity}
            if ncic == "1313" and "DOMESTIC" in literal:
                charge["domestic_violence"] = True
            if ncic == "5499" and rng.random() < 0.03:
                charge["injury"] = True
            charges.append(charge)
        doc: dict[str, Any] = {
            "format": "booking/1",
            "tcn": f"T{spec.seed}-{j:08d}",
            "ori": ori,
            "booked_at": local.isoformat(),
            "arrested_at": arrested.isoformat(),
            "booking_number": f"B{j:08d}",
            "program": "secure_communities",
            "biographics": {
                "names": [{"first": given, **({"middle": p["middle"]} if p.get("middle") else {}), "last": family}],
                "birth_date": p["dob"].isoformat(),
                "sex": p["sex"], "race": p["race"], "ethnicity": p["ethnicity"],
                "place_of_birth": p["place_of_birth"],
            },
            "charges": charges,
        }  # fmt: skip
        no_template = rng.random() < spec.no_template_rate
        if not no_template:
            doc["template"] = [round(float(x), 6) for x in vec]
            doc["template_quality"] = round(q / 100, 2)
        w.bookings.append(doc)
        w.truth.append(
            {
                "tcn": doc["tcn"],
                "category": category,
                "model_id": p["model_id"],
                "fin": p.get("fin") if category == "ident" else None,
                "lookalike_of": target_fin,
                "fbi_number": p.get("fbi_number"),
                "status": p["status"],
                "template": not no_template,
                "quality": q if not no_template else None,
            }
        )
    return w


# --------------------------------------------------------------------------- persisting


class WorldExistsError(RuntimeError):
    """The database already holds repository data."""


def _insert(session: Session, table, rows: list[dict[str, Any]], keys: tuple[str, ...] = ()):
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    if not clean:
        return []
    if table in (Encounter, ImmOrder, ChArrest):
        result = session.execute(
            insert(table).returning(table.id, sort_by_parameter_order=True), clean
        )
        return [row[0] for row in result]
    for lo in range(0, len(clean), 5000):
        session.execute(insert(table), clean[lo : lo + 5000])
    return []


def seed_world(session: Session, world: World) -> dict[str, int]:
    """Write the world's jurisdictions and repositories into the store (one transaction:
    the caller commits). Refuses a database that already holds IDENT or FBI subjects."""
    existing = session.scalar(select(func.count(ImmSubject.fin))) or 0
    existing += session.scalar(select(func.count(ChSubject.fbi_number))) or 0
    if existing:
        raise WorldExistsError(
            "the database already holds IDENT / FBI repository data: seed a fresh database"
        )
    for j in world.jurisdictions:
        repositories.upsert_jurisdiction(
            session, j["ori"], state=j["state"], timezone=j["timezone"], name=j["name"],
            county_fips=j["county_fips"], activated_on=j["activated_on"],
            disclosure=j["disclosure"], honors_detainers=j["honors_detainers"],
        )  # fmt: skip
    now = dt.datetime.now(UTC)
    _insert(
        session,
        ImmSubject,
        [{**s, "created_at": now, "updated_at": now} for s in world.imm_subjects],
    )
    _insert(session, StatusHistory, [{**s, "recorded_at": now} for s in world.imm_status])
    enc_ids = _insert(session, Encounter, world.imm_encounters, ("_key",))
    enc_of = {e["_key"]: i for e, i in zip(world.imm_encounters, enc_ids, strict=True)}
    _insert(
        session, Biometric,
        [{**b, "encounter_id": enc_of.get(b["_encounter_key"])} for b in world.imm_biometrics],
    )  # fmt: skip
    order_ids = _insert(session, ImmOrder, world.imm_orders)
    order_of = {o["_key"]: i for o, i in zip(world.imm_orders, order_ids, strict=True)}
    _insert(
        session, ImmRemoval,
        [{**r, "order_id": order_of.get(r["_order_key"])} for r in world.imm_removals],
    )  # fmt: skip
    _insert(session, ChSubject, [{**s, "created_at": now} for s in world.ch_subjects])
    arrest_ids = _insert(session, ChArrest, world.ch_arrests)
    arrest_of = {a["_key"]: i for a, i in zip(world.ch_arrests, arrest_ids, strict=True)}
    _insert(
        session, ChConviction,
        [{**c, "arrest_id": arrest_of.get(c["_arrest_key"])} for c in world.ch_convictions],
    )  # fmt: skip
    _insert(session, ChWarrant, world.ch_warrants)
    _insert(session, ChBiometric, world.ch_biometrics)
    if world.case_facts:
        from .stages import case_id_for

        # through the store's writer: validated and audited like an officer's entry
        repositories.record_case_facts(
            session,
            [
                repositories.CaseFactToRecord(
                    case_id_for(f["tcn"]), f["fact"], f["value"], f["source"],
                    f["recorded_by"], f["recorded_at"],
                )
                for f in world.case_facts
            ],
        )  # fmt: skip
    session.flush()
    return {k: v for k, v in world.counts().items()}


def spec_dict(spec: WorldSpec) -> dict[str, Any]:
    d = asdict(spec)
    d["start"], d["end"] = spec.start.isoformat(), spec.end.isoformat()
    return d
