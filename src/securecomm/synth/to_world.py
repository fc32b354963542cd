"""A synthetic nation (one row per booking) -> the pipeline's synthetic world.

:func:`world_from_nation` turns a nation table (the flat caseload columns of
``docs/caseload-columns.md`` plus the nation's own columns: ``tcn``, ``person_id``,
``booked_at``, names, ``ident_enrolled``, ``ident_match``, ``false_match``, ``fbi_record``,
``prior_arrests`` ...) into a :class:`securecomm.interop.synthetic_world.World`, so that
``seed_world`` + ``World.write_bookings`` + ``submit_bookings`` + ``run_worker`` run the
nation's bookings through the real pipeline. Same nation and seed -> same world.

What the world holds, and how each nation column reaches the pipeline
    * **jurisdictions** from ``jurisdiction_*`` (ORI, name, state, county FIPS, time zone,
      disclosure, honors detainers); activation = ``jurisdiction_activated_on`` if the table
      has it, else the ORI's first booking day in the table.
    * **IDENT** (one FIN per person with ``ident_enrolled``, and one *look-alike target* per
      person with ``false_match``: the record a US citizen's capture falsely matches, holding
      the row's ``person_*`` facts -- what the LESC answers for it). The status history is laid
      out so that the LESC, asked as of each booking's local date, answers that row's
      ``person_citizenship_status`` (naturalisation at ``naturalized_on``, LPR at
      ``person_lpr_since``, changes between two bookings on the day after the earlier one);
      final orders and removals so that ``person_final_order_on`` / ``person_removal_count``
      come back as of each booking; relief, fraud and visa abuse as recorded. Encounters carry
      the names used (aliases: the true name at enrolment, later spelling variants).
    * **FBI** (one subject per person with ``fbi_record``): the union of the person's
      ``convictions`` (those not copied from a current charge) with their NCIC code, literal,
      severity, date, incident, sentence, counsel, gang and domestic-violence elements; arrests
      so that ``prior_arrests`` arrests precede each booking; a warrant active exactly over
      the bookings with ``flag_outstanding_criminal_warrant``.
    * **bookings** (``booking/1``): ORI, TCN, ``booked_at`` in the facility's local offset,
      names, birth date, sex, race / ethnicity as recorded, place of birth, charges (NCIC,
      literal, severity, injury, domestic violence) and a template.
    * **case facts** (``World.case_facts`` -> ``case_facts`` for ``C-<TCN>``, recorded at the
      booking time, so the LESC stage reads them when it assembles the case): every true
      ``flag_*`` column that no repository holds (:data:`~securecomm.store.models.CASE_FACT_NAMES`),
      with the source :data:`FACT_SOURCES` names -- victim, witness and plaintiff facts as LEA,
      prosecutor or court certifications, family and hardship facts as the officer's interview.

Templates (the identity package's :class:`~securecomm.identity.templates.TemplateModel`,
seeded with ``seed``): person ``k`` (persons in ``person_id`` order) is model identity ``k``;
look-alike targets follow. IDENT enrolment is session 0, the FBI capture session 1, a booking
session ``2 + r`` (``r``-th booking of the person), redrawn (session + 1000 t) until the capture
is usable and scores at least :data:`MATCH_MARGIN` against every record it must match, so
``ident_match`` holds *exactly* (enrolment and FBI captures the model draws as poor are
redrawn too: a record enrolled from a smudge would make every later genuine capture miss). An
enrolled person's booking with ``ident_match`` false is a poor capture (noise
:data:`POOR_SIGMA`): its quality falls below the usable level and it goes to biographic
linkage, where no candidate is ever automatic -- and, having no usable template, it is not
searched on the FBI side either (its RAP sheet is not attached). A ``false_match`` booking is
a look-alike of its target's enrolment: cosine in :data:`FALSE_MATCH_SCORE` (an automatic
false match) when ``ident_match``, else in :data:`BAND_SCORE` (the verification band: an
examiner must look, DESIGN 3.2 / 3.8); the person's own FBI capture is of the same look-alike
prints, so their RAP sheet is attached as usual.

What the pipeline cannot represent (see :func:`unrepresentable`): a current charge already
disposed (bookings carry no disposition: every charge enters ``pending``);
``flag_national_security`` (a watch-list answer of the repositories, which the synthetic FBI
side does not hold; a recorded fact cannot set it); a
``flag_gang_member`` without a gang-element conviction, or the reverse (the FBI side calls
every person with a gang-element conviction a gang member); a warrant without an FBI record;
conviction ``injury``; per-booking changes of facts the IDENT subject holds once (entry date,
entry kind, LPR date, relief, fraud, visa abuse).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from ..identity.templates import DEFAULT_MIN_QUALITY, TemplateModel
from ..interop.adapters import TEMPLATE_MODEL, template_bytes
from ..interop.messages import TEMPLATE_DIM, BookingSubmission
from ..interop.synthetic_world import World, WorldSpec
from ..law.flatten import CASE_COLUMNS, FLAG_NAMES
from ..store.models import CASE_FACT_NAMES

__all__ = [
    "BAND_SCORE",
    "FACT_SOURCES",
    "FALSE_MATCH_SCORE",
    "MATCH_MARGIN",
    "NATION_COLUMNS",
    "POOR_SIGMA",
    "NationError",
    "flat_record",
    "row_limits",
    "unrepresentable",
    "world_from_nation",
]

UTC = dt.UTC

# A genuine booking capture must clear the 0.75 match threshold (identity DecisionPolicy) by
# this much against each record it should match, so a deployment's small threshold change
# does not flip ``ident_match``. Interpretation; good captures score 0.86-0.97 (templates.py).
MATCH_MARGIN = 0.80
# Look-alike scores: above the match threshold (an automatic false match) and inside the
# verification band [0.66, 0.75) with 0.01-0.015 of margin on each side. Interpretation.
FALSE_MATCH_SCORE = (0.79, 0.85)
BAND_SCORE = (0.675, 0.735)
# Noise of a missed capture: the model's poor-capture sigma (0.033 x 3.5) times 1.75, so the
# model's own quality formula gives ~1-5 (< the usable 40) and the score falls near 0.5.
POOR_SIGMA = 0.2
# Redraws before giving up on a capture that clears MATCH_MARGIN (a good capture fails with
# probability ~5%: 20 redraws fail ~1e-26).
_MAX_REDRAWS = 20

NATION_COLUMNS: dict[str, str] = {
    "tcn": "string",
    "person_id": "int64",
    "booked_at": "timestamp[us, UTC]",
    "month": "date32",
    "jurisdiction_name": "string",
    "first_name": "string",
    "last_name": "string",
    "sex": "string",
    "race": "string",
    "ethnicity": "string",
    "place_of_birth": "string",
    "true_status": "string",
    "naturalized_on": "date32",
    "ident_enrolled": "bool",
    "ident_match": "bool",
    "false_match": "bool",
    "fbi_record": "bool",
    "prior_arrests": "int32",
    "usc_family": "bool",
    "release_eligible_at": "timestamp[us, UTC]",
    "charge_category": "string",
    "conviction_status": "string",
}
# Columns world_from_nation reads (the rest of the contract is carried, not needed here).
_REQUIRED = (
    [c for c in CASE_COLUMNS if c != "decided_on"]
    + ["tcn", "person_id", "booked_at", "jurisdiction_name", "first_name", "last_name", "sex",
       "race", "ethnicity", "place_of_birth", "naturalized_on", "ident_enrolled", "ident_match",
       "false_match", "fbi_record", "prior_arrests"]
)  # fmt: skip
# Flags the pipeline has no source for: the FBI side gives warrants and gang elements only;
# the rest but national security come in as case facts (CASE_FACT_NAMES).
UNSOURCED_FLAGS = tuple(
    f
    for f in FLAG_NAMES
    if f not in ("outstanding_criminal_warrant", "gang_member") and f not in CASE_FACT_NAMES
)
#: Who asserts each case fact in the synthetic world. Interpretation: the document that
#: usually establishes it (report IV.2 names LEA certifications for victims and witnesses;
#: DESIGN 3.7's discretion facts come from the officer's interview of the person).
_CERTIFIED = {
    "crime_victim": "LEA certification: Form I-918 Supplement B (U-visa), synthetic",
    "domestic_violence_victim": "LEA certification: Form I-918 Supplement B (U-visa), synthetic",
    "crime_witness": "prosecutor certification: material witness, synthetic",
    "civil_rights_plaintiff": "civil-rights complaint on file (court docket), synthetic",
    "serious_public_safety_risk": "arresting agency's public-safety assessment, synthetic",
    "apprehended_at_border": "CBP apprehension record, synthetic",
}
FACT_SOURCES: dict[str, str] = {
    f: _CERTIFIED.get(f, "officer interview at the facility, synthetic") for f in CASE_FACT_NAMES
}
#: recorded_by of the synthetic world's facts
FACT_RECORDER = "synthetic-world"
_TCN = re.compile(r"^[A-Za-z0-9\-]{1,40}$")
_INCIDENT = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_NICK = {"JOSE": "PEPE", "FRANCISCO": "PACO", "ROBERT": "BOB", "WILLIAM": "BILL",
         "GUADALUPE": "LUPE", "ALEJANDRO": "ALEX", "MICHAEL": "MIKE", "JAMES": "JIM"}  # fmt: skip
_OTHER_FIRST = ("JUAN", "LUIS", "CARLOS", "MARIA", "ANA", "ROSA", "JORGE", "ELENA", "OMAR")
_OTHER_LAST = ("GARCIA", "LOPEZ", "PEREZ", "CRUZ", "REYES", "NGUYEN", "KHAN", "MENSAH")


class NationError(ValueError):
    """A nation table that cannot be turned into a world; the message names row and column."""


# --------------------------------------------------------------------------- validation


def _check_table(nation: pa.Table) -> None:
    if not isinstance(nation, pa.Table):
        raise NationError(f"nation: a pyarrow.Table expected, got {type(nation).__name__}")
    missing = [c for c in _REQUIRED if c not in nation.column_names]
    if missing:
        raise NationError(f"nation: missing column(s) {', '.join(missing)}")
    booked = nation.schema.field("booked_at").type
    if not (pa.types.is_timestamp(booked) and booked.tz is not None):
        raise NationError(f"nation: booked_at must be a time-zone-aware timestamp, got {booked}")


def _row_error(row: dict[str, Any], column: str, message: str) -> NationError:
    return NationError(f"nation row tcn={row.get('tcn')!r}: {column}: {message}")


def _check_row(row: dict[str, Any]) -> None:
    tcn = row["tcn"]
    if not isinstance(tcn, str) or not _TCN.match(tcn):
        raise _row_error(row, "tcn", f"{tcn!r} is not 1-40 of [A-Za-z0-9-]")
    if row["case_id"] != tcn:
        raise _row_error(row, "case_id", f"{row['case_id']!r} differs from the tcn")
    for col in ("person_id", "booked_at", "jurisdiction_ori", "jurisdiction_timezone",
                "first_name", "last_name", "person_citizenship_status"):  # fmt: skip
        if row[col] is None:
            raise _row_error(row, col, "null")
    if not row["charges"]:
        raise _row_error(row, "charges", "a booking needs at least one current charge")
    if row["ident_match"] and not (row["ident_enrolled"] or row["false_match"]):
        raise _row_error(
            row, "ident_match", "true for a person neither enrolled in IDENT nor a false match"
        )
    if row["false_match"] and row["ident_enrolled"]:
        raise _row_error(row, "false_match", "true for a person enrolled in IDENT")
    if (row["prior_arrests"] or 0) < 0:
        raise _row_error(row, "prior_arrests", f"{row['prior_arrests']} is negative")
    try:
        ZoneInfo(row["jurisdiction_timezone"])
    except Exception:
        raise _row_error(
            row, "jurisdiction_timezone", f"{row['jurisdiction_timezone']!r} is not an IANA zone"
        ) from None


# --------------------------------------------------------------------------- helpers


def _local(row: dict[str, Any]) -> dt.datetime:
    return row["booked_at"].astimezone(ZoneInfo(row["jurisdiction_timezone"]))


def _day(row: dict[str, Any]) -> dt.date:
    """The booking's local date: the LESC's as-of date and the decision date."""
    return _local(row).date()


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randrange(8, 18), rng.randrange(60)), UTC)


def _between(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    if hi <= lo:
        return hi
    return lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))


def _alias(rng: random.Random, first: str, last: str) -> tuple[str, str]:
    """A name this person may have given at a later encounter (DESIGN 2: names = aliases)."""
    r = rng.random()
    if r < 0.5:
        return first, last
    if r < 0.65:
        return _NICK.get(first, first), last
    if r < 0.8 and " " in last:
        return first, last.split()[0]
    if r < 0.9 and len(last) > 3:
        i = rng.randrange(1, len(last) - 1)
        return first, last[:i] + last[i + 1 :]
    return last.split()[0], first  # given and family swapped


def flat_record(row: dict[str, Any]) -> dict[str, Any]:
    """The flat caseload record of a nation row (the columns the rule engine reads)."""
    return {c: row[c] for c in CASE_COLUMNS}


def unrepresentable(nation: pa.Table) -> dict[str, int]:
    """Rows whose flat record the pipeline cannot reproduce, per reason (rows may count under
    several reasons). The pipeline's decision for them may differ from the bulk decision."""
    out: dict[str, int] = defaultdict(int)
    for row in nation.to_pylist():
        for reason in row_limits(row):
            out[reason] += 1
    return dict(sorted(out.items()))


def row_limits(row: dict[str, Any]) -> list[str]:
    """Why the pipeline cannot reproduce this nation row's flat record (empty: it can)."""
    reasons = []
    if any((c.get("disposition") or "pending") != "pending" for c in row["charges"] or []):
        reasons.append("charge_disposed_at_booking")
    for flag in UNSOURCED_FLAGS:
        if row.get(f"flag_{flag}"):
            reasons.append(f"flag_{flag}")
    if row.get("flag_gang_member") and not any(
        c.get("gang_element") for c in row["convictions"] or []
    ):
        reasons.append("flag_gang_member_without_gang_conviction")
    if not row.get("flag_gang_member") and any(
        c.get("gang_element") for c in row["convictions"] or [] if not c.get("from_current_charge")
    ):
        # the FBI side reports a gang member for any gang-element conviction
        reasons.append("gang_conviction_without_gang_flag")
    if row.get("flag_outstanding_criminal_warrant") and not row.get("fbi_record"):
        reasons.append("warrant_without_fbi_record")
    if any(c.get("injury") for c in row["convictions"] or []):
        reasons.append("conviction_injury")
    if not row.get("fbi_record") and any(
        not c.get("from_current_charge") for c in row["convictions"] or []
    ):
        reasons.append("convictions_without_fbi_record")
    return reasons


# --------------------------------------------------------------------------- IDENT record


def _status_history(rows: list[dict[str, Any]]) -> tuple[list[tuple[str, dt.date]], int]:
    """Status entries such that the status as of each row's local date is the row's
    ``person_citizenship_status``; and the number of rows this cannot satisfy."""
    entries: list[tuple[str, dt.date]] = []
    bad = 0
    prev_day: dt.date | None = None
    prev_status: str | None = None
    for row in rows:
        status, day = row["person_citizenship_status"], _day(row)
        if status == prev_status:
            prev_day = day
            continue
        entered, lpr = row["person_entered_us_on"], row["person_lpr_since"]
        natz = row.get("naturalized_on")
        known = {"naturalized_citizen": natz, "lawful_permanent_resident": lpr}.get(status)
        if status == "visa_overstay" and entered is not None:
            known = entered + dt.timedelta(days=180)  # an overstay of a six-month admission
        if status in ("entered_without_inspection", "nonimmigrant_visa", "refugee_asylee",
                      "parolee"):  # fmt: skip
            known = entered
        lo = prev_day + dt.timedelta(days=1) if prev_day is not None else dt.date(1900, 1, 1)
        if known is not None and lo <= known <= day:
            effective = known
        elif prev_day is not None:
            effective = lo
        else:
            effective = day
        if effective > day:  # two bookings on one day with different statuses
            bad += 1
            effective = day
        if prev_status is None:
            # the path there, for a realistic record (the LESC answers the last entry)
            admitted = status in ("lawful_permanent_resident", "naturalized_citizen",
                                  "visa_overstay")  # fmt: skip
            if admitted and entered is not None and entered < effective:
                entries.append(("nonimmigrant_visa", entered))
            if (
                status == "naturalized_citizen"
                and lpr is not None
                and (entered is None or lpr > entered)
                and lpr < effective
            ):
                entries.append(("lawful_permanent_resident", lpr))
        entries.append((status, effective))
        prev_status, prev_day = status, day
    return entries, bad


def _orders_and_removals(
    rows: list[dict[str, Any]], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Final orders and removals such that, as of each row's date, the latest unexecuted final
    order is ``person_final_order_on`` and the removals number ``person_removal_count``."""
    orders: list[dict[str, Any]] = []  # {"final_on", "_executed": bool}
    removals: list[dict[str, Any]] = []  # {"removed_on", "_order": index or None}
    bad = 0
    prev_day: dt.date | None = None
    current: int | None = None  # index of the order the previous row showed
    for row in rows:
        day = _day(row)
        want_order = row["person_final_order_on"]
        want_count = int(row["person_removal_count"] or 0)
        have = len(removals)
        lo = (
            prev_day + dt.timedelta(days=1)
            if prev_day is not None
            else day - dt.timedelta(days=3650)
        )
        if current is not None and orders[current]["final_on"] != want_order:
            # the order shown before is no longer outstanding: it was executed since
            if have < want_count:
                removals.append({"removed_on": _between(rng, lo, day), "_order": current})
                have += 1
            else:
                bad += 1
            orders[current]["_executed"] = True
            current = None
        while have < want_count:
            removals.append({"removed_on": _between(rng, lo, day), "_order": None})
            have += 1
        if have > want_count:
            bad += 1
        if want_order is not None and (
            current is None or orders[current]["final_on"] != want_order
        ):
            if prev_day is not None and want_order <= prev_day:
                bad += 1  # it would have shown at the earlier booking
            orders.append({"final_on": want_order, "_executed": False})
            current = len(orders) - 1
        prev_day = day
    # an executed order's removal may not precede the order
    for r in removals:
        if r["_order"] is not None:
            r["removed_on"] = max(r["removed_on"], orders[r["_order"]]["final_on"])
    return orders, removals, bad


def _first(rows: list[dict[str, Any]], column: str) -> Any:
    return next((r[column] for r in rows if r[column] is not None), None)


# --------------------------------------------------------------------------- the world


def world_from_nation(nation: pa.Table, *, seed: int) -> World:
    """The pipeline world of ``nation`` (see the module docstring). Deterministic in
    ``(nation, seed)``. Raises :class:`NationError` naming the row and column of bad input
    (including a booking that would not pass booking/1 validation).

    ``world.inconsistent`` (an extra attribute): per kind, how many times a person's rows
    could not all be laid out in one record (e.g. a final order dated before an earlier
    booking that did not show it; a status change between two bookings on the same day);
    ``world.truth`` rows carry the TCN, person, FIN / FBI number and ``ident_match``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise NationError(f"seed: an integer expected, got {seed!r}")
    _check_table(nation)
    rows = nation.to_pylist()
    seen: set[str] = set()
    for row in rows:
        _check_row(row)
        if row["tcn"] in seen:
            raise _row_error(row, "tcn", "duplicate")
        seen.add(row["tcn"])
    by_person: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_person[row["person_id"]].append(row)
    person_ids = sorted(by_person)
    for pid in person_ids:
        by_person[pid].sort(key=lambda r: (r["booked_at"], r["tcn"]))

    rng = random.Random(seed)
    nprng = np.random.default_rng(np.random.SeedSequence([seed, 0x7E57]))
    model = TemplateModel(TEMPLATE_DIM, seed=seed)
    days = [_day(r) for r in rows]
    enrolled = [p for p in person_ids if by_person[p][0]["ident_enrolled"]]
    false_matched = [p for p in person_ids if any(r["false_match"] for r in by_person[p])]
    fbi = [p for p in person_ids if any(r["fbi_record"] for r in by_person[p])]
    world = World(
        WorldSpec(
            persons=max(len(enrolled) + len(false_matched), 1),
            fbi_only=len(set(fbi) - set(enrolled)),
            never_enrolled=len(person_ids) - len(enrolled),
            bookings=len(rows),
            seed=seed,
            start=min(days) if days else dt.date(2011, 10, 1),
            end=max(days) if days else dt.date(2011, 10, 1),
            share_ident=0.0,
            share_fbi_only=0.0,
            share_lookalike=0.0,
            no_template_rate=0.0,
        )
    )
    world.inconsistent = defaultdict(int)  # type: ignore[attr-defined]

    # -- jurisdictions ---------------------------------------------------------------------
    juris: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["booked_at"], r["tcn"])):
        ori = row["jurisdiction_ori"]
        if ori in juris:
            continue
        juris[ori] = {
            "ori": ori,
            "name": row["jurisdiction_name"],
            "state": row["jurisdiction_state"],
            "county_fips": row["jurisdiction_county_fips"],
            "timezone": row["jurisdiction_timezone"],
            "disclosure": row["jurisdiction_disclosure"],
            "honors_detainers": bool(row["jurisdiction_honors_detainers"]),
            "activated_on": row.get("jurisdiction_activated_on") or _day(row),
        }
    world.jurisdictions = [juris[o] for o in sorted(juris)]

    # -- model identities ------------------------------------------------------------------
    model_id = {p: k for k, p in enumerate(person_ids)}
    target_id = {p: len(person_ids) + j for j, p in enumerate(false_matched)}
    record_owner = {p: model_id[p] for p in enrolled} | target_id  # whose IDENT record
    owners = sorted(record_owner.values())
    enrol_vec = _good_captures(model, owners, session=0)

    # -- IDENT -----------------------------------------------------------------------------
    fin_of: dict[int, str] = {}
    for n, pid in enumerate(p for p in person_ids if p in record_owner):
        prow = by_person[pid]
        fin = f"N{seed % 100_000:05d}{n:09d}"
        fin_of[pid] = fin
        _ident_subject(world, rng, fin, prow, pid in target_id, enrol_vec[record_owner[pid]])

    # -- FBI -------------------------------------------------------------------------------
    fbi_vec: dict[int, np.ndarray] = {}
    fbi_number: dict[int, str] = {}
    regular_fbi = [p for p in fbi if p not in target_id]
    caps = _good_captures(model, [model_id[p] for p in regular_fbi], session=1)
    for p in regular_fbi:
        fbi_vec[p] = caps[model_id[p]]
    lookalike_dir: dict[int, np.ndarray] = {}
    for p in false_matched:
        e = enrol_vec[target_id[p]].astype(np.float64)
        u = nprng.standard_normal(TEMPLATE_DIM)
        u -= u.dot(e) * e
        lookalike_dir[p] = u / np.linalg.norm(u)
        if p in fbi:
            fbi_vec[p] = _lookalike(e, lookalike_dir[p], 0.82, nprng)
    for n, pid in enumerate(fbi):
        number = f"{n:09d}N{seed % 1000:03d}"
        fbi_number[pid] = number
        _fbi_subject(world, rng, number, by_person[pid], fbi_vec[pid])

    # -- bookings --------------------------------------------------------------------------
    regular = [
        (row["tcn"], model_id[pid], r,
         enrol_vec.get(model_id[pid]) if pid in enrolled else None, fbi_vec.get(pid))
        for pid in person_ids if pid not in target_id
        for r, row in enumerate(by_person[pid])
        if not (pid in enrolled and not row["ident_match"])
    ]  # fmt: skip
    captured = _regular_captures(model, regular)
    missed = [
        (row["tcn"], model_id[pid])
        for pid in enrolled
        for row in by_person[pid]
        if not row["ident_match"]
    ]
    captured.update(_missed_captures(model, nprng, missed))
    for pid in person_ids:
        for row in by_person[pid]:
            if pid in target_id:
                vec, quality = _lookalike_capture(
                    nprng, row, enrol_vec[target_id[pid]], lookalike_dir[pid], fbi_vec.get(pid)
                )
            else:
                vec, quality = captured[row["tcn"]]
            _booking(world, rng, row, vec, quality)
            for fact in CASE_FACT_NAMES:
                if row.get(f"flag_{fact}"):
                    world.case_facts.append(
                        {"tcn": row["tcn"], "fact": fact, "value": True,
                         "source": FACT_SOURCES[fact], "recorded_by": FACT_RECORDER,
                         "recorded_at": row["booked_at"]}
                    )  # fmt: skip
            category = (
                "lookalike" if pid in target_id
                else "ident" if pid in enrolled
                else "fbi_only" if pid in fbi_number
                else "never"
            )  # fmt: skip
            world.truth.append(
                {
                    "tcn": row["tcn"],
                    "category": category,
                    "person_id": pid,
                    "model_id": model_id[pid],
                    "fin": fin_of.get(pid) if pid in enrolled else None,
                    "lookalike_of": fin_of.get(pid) if pid in target_id else None,
                    "fbi_number": fbi_number.get(pid),
                    "ident_match": bool(row["ident_match"]),
                    "status": row.get("true_status"),
                    "template": True,
                    "quality": quality,
                }
            )
    # bookings in time order, as LEAs would submit them
    paired = sorted(
        zip(world.bookings, world.truth, strict=True),
        key=lambda bt: (bt[0]["booked_at_utc"], bt[0]["tcn"]),
    )
    world.bookings = [b for b, _ in paired]
    world.truth = [t for _, t in paired]
    for b in world.bookings:
        del b["booked_at_utc"]
    world.inconsistent = dict(world.inconsistent)  # type: ignore[attr-defined]
    return world


def _ident_subject(
    world: World, rng: random.Random, fin: str, rows: list[dict[str, Any]], is_target: bool,
    template: np.ndarray,
) -> None:  # fmt: skip
    first_row = rows[0]
    first_day = _day(first_row)
    entered = first_row["person_entered_us_on"]
    history, bad_status = _status_history(rows)
    orders, removals, bad_orders = _orders_and_removals(rows, rng)
    incons = world.inconsistent  # type: ignore[attr-defined]
    if bad_status:
        incons["status_history"] += bad_status
    if bad_orders:
        incons["orders_removals"] += bad_orders
    for col in ("person_entered_us_on", "person_entry", "person_lpr_since",
                "person_immigration_fraud", "person_visa_abuse"):  # fmt: skip
        if len({r[col] for r in rows if col != "person_lpr_since" or r[col]}) > 1:
            incons[f"{col}_changes"] += 1
    relief = [k for k in ("u_visa", "t_visa", "vawa", "asylum") if first_row[f"person_relief_{k}"]]
    if any(
        [k for k in ("u_visa", "t_visa", "vawa", "asylum") if r[f"person_relief_{k}"]] != relief
        for r in rows
    ):
        incons["person_relief_changes"] += 1
    last_status = rows[-1]["person_citizenship_status"]
    world.imm_subjects.append(
        {
            "fin": fin,
            "a_number": None,
            "citizenship_status": last_status,
            "entry": first_row["person_entry"] or "unknown",
            "entered_us_on": entered,
            "lpr_since": _first(rows, "person_lpr_since"),
            "pending_relief": relief,
            "immigration_fraud": bool(first_row["person_immigration_fraud"]),
            "visa_abuse": bool(first_row["person_visa_abuse"]),
        }
    )
    for status, effective in history:
        world.imm_status.append(
            {"fin": fin, "status": status, "effective_on": effective, "source": "synthetic-nation"}
        )
    # encounters: the enrolment (entry or apprehension), then 0-2 later ones (aliases)
    dob = first_row["person_birth_date"]
    enrolled_on = (
        entered
        if entered is not None and entered <= first_day
        else _between(rng, first_day - dt.timedelta(days=3650), first_day - dt.timedelta(days=30))
    )
    if is_target:  # someone else's record: not the booked person's names
        first, last = rng.choice(_OTHER_FIRST), rng.choice(_OTHER_LAST)
    else:
        first, last = first_row["first_name"], first_row["last_name"]
    kinds = ["entry" if first_row["person_entry"] == "inspected" else "apprehension"]
    kinds += [
        rng.choice(("apprehension", "benefit_application")) for _ in range(rng.choice((0, 0, 1, 2)))
    ]
    for e, kind in enumerate(kinds):
        on = enrolled_on if e == 0 else _between(rng, enrolled_on, first_day)
        given, family = (first, last) if e == 0 else _alias(rng, first, last)
        world.imm_encounters.append(
            {
                "_key": (fin, e), "fin": fin, "encountered_at": _at(on, rng), "kind": kind,
                "location": "PORT OF ENTRY" if kind == "entry" else "INTERIOR",
                "family_name": family, "given_names": given, "birth_date": dob,
                "other_names": [],
            }
        )  # fmt: skip
    world.imm_biometrics.append(
        {
            "fin": fin, "_encounter_key": (fin, 0), "modality": "fingerprint", "position": None,
            "model": TEMPLATE_MODEL, "dim": TEMPLATE_DIM, "template": template_bytes(template),
            "captured_at": _at(enrolled_on, rng),
        }
    )  # fmt: skip
    for k, o in enumerate(orders):
        world.imm_orders.append(
            {"_key": (fin, k), "fin": fin, "kind": "removal", "ordered_on": o["final_on"],
             "final": True, "final_on": o["final_on"]}
        )  # fmt: skip
    for r in removals:
        world.imm_removals.append(
            {"fin": fin, "_order_key": (fin, r["_order"]) if r["_order"] is not None else None,
             "removed_on": r["removed_on"]}
        )  # fmt: skip


def _conviction_key(c: dict[str, Any]) -> tuple:
    return (c["ncic"], c["literal"], c["severity"], c.get("convicted_on"), c.get("incident_key"))


def _fbi_subject(
    world: World, rng: random.Random, number: str, rows: list[dict[str, Any]], vec: np.ndarray
) -> None:
    first_row = rows[0]
    first_day = _day(first_row)
    incons = world.inconsistent  # type: ignore[attr-defined]
    world.ch_subjects.append(
        {"fbi_number": number, "name": f"{first_row['last_name']}, {first_row['first_name']}",
         "birth_date": first_row["person_birth_date"]}
    )  # fmt: skip
    # convictions: the union over the person's bookings (not those copied from a current charge)
    convictions: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        for c in row["convictions"] or []:
            if c.get("from_current_charge"):
                continue
            convictions.setdefault(_conviction_key(c), c)
    # a conviction a later booking shows must not predate an earlier booking lacking it
    for row in rows[:-1]:
        have = {_conviction_key(c) for c in row["convictions"] or []}
        for key, c in convictions.items():
            on = c.get("convicted_on")
            if key not in have and (on is None or on <= _day(row)):
                incons["conviction_not_on_earlier_booking"] += 1
    arrests: list[dt.date] = []
    ordered = sorted(convictions.values(), key=lambda c: (c.get("convicted_on") or first_day,))
    for c in ordered:
        on = c.get("convicted_on")
        arrested = (on or first_day) - dt.timedelta(days=rng.randrange(30, 200))
        key = (number, len(arrests))
        arrests.append(arrested)
        world.ch_arrests.append(
            {"_key": key, "fbi_number": number, "arrested_on": arrested,
             "arresting_ori": first_row["jurisdiction_ori"], "tcn": None,
             "charges": [{"ncic": c["ncic"], "literal": c["literal"], "severity": c["severity"]}]}
        )  # fmt: skip
        incident = c.get("incident_key")
        world.ch_convictions.append(
            {
                "_arrest_key": key, "fbi_number": number, "ncic": c["ncic"],
                "literal": c["literal"], "severity": c["severity"], "convicted_on": on,
                "incident_id": incident if incident and _INCIDENT.match(incident) else None,
                "sentence_days": c.get("sentence_days"), "suspended": bool(c.get("suspended")),
                "aggravated_felony": c.get("aggravated_felony"), "counsel": c.get("counsel"),
                "gang_element": bool(c.get("gang_element")),
                "domestic_violence": bool(c.get("domestic_violence")),
            }
        )  # fmt: skip
    # arrests without conviction, so that prior_arrests arrests precede each booking
    prev: dt.date | None = None
    for row in rows:
        day = _day(row)
        want = int(row["prior_arrests"] or 0)
        have = sum(1 for a in arrests if a < day)
        lo = prev if prev is not None else day - dt.timedelta(days=3650)
        for _ in range(max(want - have, 0)):
            on = _between(rng, lo, day - dt.timedelta(days=1))
            arrests.append(on)
            world.ch_arrests.append(
                {"_key": (number, len(arrests) - 1), "fbi_number": number, "arrested_on": on,
                 "arresting_ori": row["jurisdiction_ori"], "tcn": None, "charges": []}
            )  # fmt: skip
        if have > want:
            incons["prior_arrests_below_convictions"] += 1
        prev = day
    # warrants: one per run of consecutive bookings with the flag
    run_start: int | None = None
    for k, row in enumerate([*rows, None]):
        flagged = row is not None and bool(row["flag_outstanding_criminal_warrant"])
        if flagged and run_start is None:
            run_start = k
        if not flagged and run_start is not None:
            start_day = _day(rows[run_start])
            lo = (
                _day(rows[run_start - 1]) + dt.timedelta(days=1)
                if run_start
                else (start_day - dt.timedelta(days=730))
            )
            issued = _between(rng, lo, start_day)
            cleared = None
            if row is not None:  # cleared before the next booking without the flag
                cleared = _between(rng, _day(rows[k - 1]) + dt.timedelta(days=1), _day(row))
                if cleared <= _day(rows[k - 1]):
                    incons["warrant_same_day"] += 1
            world.ch_warrants.append(
                {"fbi_number": number, "issued_on": issued, "issuing_ori": rows[run_start]["jurisdiction_ori"],
                 "ncic": "5015", "literal": "BENCH WARRANT - FAILURE TO APPEAR",
                 "active": cleared is None, "cleared_on": cleared}
            )  # fmt: skip
            run_start = None
    captured = min(arrests) if arrests else first_day - dt.timedelta(days=365)
    world.ch_biometrics.append(
        {"fbi_number": number, "model": TEMPLATE_MODEL, "dim": TEMPLATE_DIM,
         "template": template_bytes(vec), "captured_at": _at(captured, rng)}
    )  # fmt: skip


def _good_captures(model: TemplateModel, ids: list[int], session: int) -> dict[int, np.ndarray]:
    """Enrolment-grade captures of ``ids`` in ``session``: a capture the model drew as poor
    is redrawn (session + 1000 t) -- a record enrolled from a poor capture would make the
    person's later genuine captures miss, which ``ident_match`` does not allow for."""
    out: dict[int, np.ndarray] = {}
    todo = list(ids)
    for t in range(_MAX_REDRAWS):
        if not todo:
            break
        caps = model.captures(np.asarray(todo, dtype=np.int64), session=session + 1000 * t)
        ok = ~caps.poor & (caps.quality >= 60)
        for j, i in enumerate(todo):
            if ok[j]:
                out[i] = caps.vectors[j]
        todo = [i for j, i in enumerate(todo) if not ok[j]]
    if todo:
        raise NationError(f"no good capture of model identities {todo[:5]} in {_MAX_REDRAWS} draws")
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _lookalike(e: np.ndarray, u: np.ndarray, a: float, nprng: np.random.Generator) -> np.ndarray:
    """A capture scoring about ``a`` against enrolment ``e`` (``u`` orthogonal to ``e``), with
    a little capture noise (per-component sigma 0.01: cosine to the noiseless vector ~0.997)."""
    v = a * e + np.sqrt(1 - a * a) * u
    return _unit(v + 0.01 * nprng.standard_normal(TEMPLATE_DIM))


def _lookalike_capture(
    nprng: np.random.Generator, row: dict[str, Any], target_enrol: np.ndarray,
    direction: np.ndarray, fbi_vec: np.ndarray | None,
) -> tuple[np.ndarray, int]:  # fmt: skip
    """A false-match booking: a look-alike of the target's enrolment, scoring in
    FALSE_MATCH_SCORE (``ident_match``) or BAND_SCORE, and matching the person's own FBI
    capture (their own prints are what look like the target's)."""
    lo, hi = FALSE_MATCH_SCORE if row["ident_match"] else BAND_SCORE
    e = target_enrol.astype(np.float64)
    for _ in range(_MAX_REDRAWS * 5):
        v = _lookalike(e, direction, float(nprng.uniform(lo, hi)), nprng)
        s = float(v @ target_enrol)
        if lo <= s < hi and (fbi_vec is None or float(v @ fbi_vec) >= MATCH_MARGIN):
            return v, int(nprng.integers(70, 96))
    raise NationError(f"nation row tcn={row['tcn']!r}: no look-alike capture in [{lo}, {hi})")


def _missed_captures(
    model: TemplateModel, nprng: np.random.Generator, jobs: list[tuple[str, int]]
) -> dict[str, tuple[np.ndarray, int]]:
    """Missed captures of enrolled people: the latent plus POOR_SIGMA noise, quality by the
    model's formula (``100 exp(-1.5 dim sigma^2)`` + noise), kept below the usable level."""
    if not jobs:
        return {}
    latents = model.latents(np.asarray([m for _, m in jobs], dtype=np.int64))
    out = {}
    for (tcn, _), latent in zip(jobs, latents, strict=True):
        v = _unit(latent + POOR_SIGMA * nprng.standard_normal(TEMPLATE_DIM).astype(np.float32))
        q = 100.0 * np.exp(-1.5 * TEMPLATE_DIM * POOR_SIGMA**2) + 4.0 * nprng.standard_normal()
        out[tcn] = (v, int(np.clip(np.rint(q), 0, DEFAULT_MIN_QUALITY - 5)))
    return out


def _regular_captures(
    model: TemplateModel,
    jobs: list[tuple[str, int, int, np.ndarray | None, np.ndarray | None]],
) -> dict[str, tuple[np.ndarray, int]]:
    """Genuine booking captures ``(tcn, model id, r, IDENT enrolment, FBI capture)``: session
    ``2 + r``, redrawn (session + 1000 t) until usable and at least MATCH_MARGIN against each
    record given. One model call per session (the model generates whole blocks)."""
    out: dict[str, tuple[np.ndarray, int]] = {}
    todo = list(jobs)
    for t in range(_MAX_REDRAWS):
        if not todo:
            return out
        by_session: dict[int, list[int]] = defaultdict(list)
        for j, job in enumerate(todo):
            by_session[2 + job[2] + 1000 * t].append(j)
        failed = []
        for session, idx in sorted(by_session.items()):
            ids = np.asarray([todo[j][1] for j in idx], dtype=np.int64)
            caps = model.captures(ids, session=session)
            for k, j in enumerate(idx):
                tcn, _m, _r, own, fbi = todo[j]
                v, q = caps.vectors[k], int(caps.quality[k])
                ok = q >= DEFAULT_MIN_QUALITY + 5
                ok = ok and (own is None or float(v @ own) >= MATCH_MARGIN)
                ok = ok and (fbi is None or float(v @ fbi) >= MATCH_MARGIN)
                if ok:
                    out[tcn] = (v, q)
                else:
                    failed.append(todo[j])
        todo = failed
    if todo:
        raise NationError(
            f"nation row tcn={todo[0][0]!r}: no usable capture in {_MAX_REDRAWS} draws"
        )
    return out


def _charges(row: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in row["charges"]:
        charge: dict[str, Any] = {"ncic": c["ncic"], "literal": c.get("literal") or "",
                                  "severity": c["severity"]}  # fmt: skip
        if c.get("injury"):
            charge["injury"] = True
        if c.get("domestic_violence"):
            charge["domestic_violence"] = True
        out.append(charge)
    return out


def _booking(
    world: World, rng: random.Random, row: dict[str, Any], vec: np.ndarray, quality: int
) -> None:
    local = _local(row)
    # through UTC: wall-clock arithmetic across a DST change would misorder the two times
    arrested = (row["booked_at"] - dt.timedelta(minutes=rng.randrange(30, 300))).astimezone(
        local.tzinfo
    )
    names: dict[str, Any] = {"first": row["first_name"], "last": row["last_name"]}
    bio: dict[str, Any] = {
        "names": [names],
        # as recorded: a value booking/1 does not know is refused below, naming the field
        "sex": row["sex"] or "U",
        "race": row["race"] or "U",
        "ethnicity": row["ethnicity"] or "U",
    }
    if row["person_birth_date"] is not None:
        bio["birth_date"] = row["person_birth_date"].isoformat()
    if row["place_of_birth"]:
        bio["place_of_birth"] = row["place_of_birth"]
    doc = {
        "tcn": row["tcn"],
        "ori": row["jurisdiction_ori"],
        "booked_at": local.isoformat(),
        "arrested_at": arrested.isoformat(),
        "booking_number": f"B-{row['tcn']}"[:64],
        "program": row["program"] or "secure_communities",
        "biographics": bio,
        "charges": _charges(row),
        "template": [round(float(x), 6) for x in vec],
        "template_quality": round(quality / 100, 2),
    }
    try:
        BookingSubmission.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "(booking)"
        raise _row_error(row, f"booking {where}", str(first.get("msg"))) from None
    world.bookings.append({"format": "booking/1", **doc, "booked_at_utc": row["booked_at"]})
