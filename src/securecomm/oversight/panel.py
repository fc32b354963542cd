"""The independent panel's sample (HSAC Task Force report IV rec. 6: "an independent,
multidisciplinary group ... to routinely review a random sampling of cases").

The sample is public and reproducible, as a post-election audit's (VotingWorks Arlo; Rivest's
consistent sampler):

1. :func:`build_frame` -- every case *decided* in the period (an officer's, or a supervisor's,
   releasing action dated in the period in the facility's local time) with its strata:
   jurisdiction size class (:data:`~.params.SIZE_CLASSES`), the final action, the program.
   :func:`publish_frame` records the frame's SHA-256 with the audit log's (signed) tree head
   *before* any seed exists.
2. :func:`draw` -- Rivest's ``consistent_sampler``: each case's ticket is derived from SHA-256
   of the seed and the case id; the sample is the first N cases in ticket order. Stratified,
   the first ``n_h`` of each stratum in the *same* ticket order (so a stratified draw is the
   unstratified order filtered by stratum), ``n_h`` by proportional or Neyman allocation.
   Anyone with the frame, the seed (e.g. public dice) and this code gets the same sample;
   :func:`verify` recomputes it.
3. :func:`record_draw` stores the draw with a per-draw pseudonym for each case (a keyed hash
   whose key never leaves the store: the public frame and seed do not reveal it).
4. Panel members read :func:`deidentified_case` (no names, no identifiers, an age band, no
   birth date) with a checklist derived from the policy's own reasons (:func:`checklist`),
   record findings (:func:`record_finding`); ICE's responses are tracked
   (:func:`record_response`); :func:`findings_report` is published.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import math
import re
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

import consistent_sampler
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..interop import lifecycle
from ..law.detainer_clock import DETAINER_CITATION
from ..law.engine import decisive_rule
from ..law.parameters import MORTON_JUNE, TF
from ..store import audit
from ..store import oversight_repo as repo
from ..store.errors import InputError, NotFoundError
from ..store.models import (
    CaseRecord,
    DecisionRecord,
    Detainer,
    Jurisdiction,
    Notice,
    OfficerAction,
    PanelDraw,
    PanelFinding,
    PanelFindingRecord,
    PanelFrame,
    PanelResponse,
    PanelSampleCase,
    Submission,
)
from ..store.types import canonical_json
from .params import AGE_BANDS, SIZE_CLASSES

__all__ = [
    "FRAME_COLUMNS",
    "Frame",
    "PanelError",
    "allocate",
    "build_frame",
    "checklist",
    "deidentified_case",
    "draw",
    "findings_report",
    "parse_frame",
    "parse_period",
    "publish_frame",
    "record_draw",
    "record_finding",
    "record_response",
    "size_for_detection",
    "size_for_margin",
    "verify",
]

FRAME_COLUMNS = ("case_id", "size_class", "action", "program")
MORTON_DISCRETION = (
    "Morton memo, Exercising Prosecutorial Discretion Consistent with the Civil Immigration "
    "Enforcement Priorities, June 17, 2011"
)
DRAW_FORMAT = "panel-draw/1"
TICKET_DIGITS = 20
ALLOCATIONS = ("proportional", "neyman")
ANSWERS = ("yes", "no", "n/a")


class PanelError(ValueError):
    """The panel step cannot be taken as asked; the message names the argument or field."""


# --------------------------------------------------------------------------- the frame


def parse_period(period: str) -> tuple[dt.date, dt.date]:
    """``YYYY-Qn`` or ``YYYY-MM`` -> [first day, first day after)."""
    text = str(period or "").strip()
    m = re.fullmatch(r"(\d{4})-Q([1-4])", text)
    if m:
        year, q = int(m.group(1)), int(m.group(2))
        start = dt.date(year, 3 * q - 2, 1)
        end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
        return start, end
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m and 1 <= int(m.group(2)) <= 12:
        year, month = int(m.group(1)), int(m.group(2))
        return dt.date(year, month, 1), dt.date(year + (month == 12), month % 12 + 1, 1)
    raise PanelError(f"period: {period!r} is not YYYY-Qn (e.g. 2012-Q3) or YYYY-MM")


@dataclass(frozen=True)
class Frame:
    period: str
    rows: tuple[dict[str, str], ...]

    @property
    def csv_bytes(self) -> bytes:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FRAME_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return buf.getvalue().encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.csv_bytes).hexdigest()


def _size_classes(counts: Mapping[str, int]) -> dict[str, str]:
    """Thirds of the jurisdictions by bookings (ties by ORI): see :data:`SIZE_CLASSES`."""
    labels = SIZE_CLASSES.value
    ranked = sorted(counts, key=lambda ori: (counts[ori], ori))
    m = len(ranked)
    return {ori: labels[min(len(labels) - 1, i * len(labels) // m)] for i, ori in enumerate(ranked)}


def build_frame(session: Session, period: str) -> Frame:
    """Every case decided in ``period`` (see the module docstring), sorted by case id."""
    start, end = parse_period(period)
    zones = {
        ori: ZoneInfo(tz)
        for ori, tz in session.execute(select(Jurisdiction.ori, Jurisdiction.timezone))
    }

    def local_day(ori: str, at: dt.datetime) -> dt.date:
        return at.astimezone(zones[ori]).date()

    # The case's final action is one stored fact (cases.final_action, written once by the
    # field office); the frame reads it, never re-derives it from the officer actions.
    decided: list[tuple[str, str, str, str]] = []
    for cid, ori, program, final, final_at in session.execute(
        select(
            CaseRecord.case_id, CaseRecord.ori, CaseRecord.program,
            CaseRecord.final_action, CaseRecord.final_action_at,
        ).where(CaseRecord.final_action.is_not(None))
    ):  # fmt: skip
        if final_at is not None and start <= local_day(ori, final_at) < end:
            decided.append((cid, ori, final.value, program.value))
    bookings: Counter[str] = Counter()
    for ori, received in session.execute(select(Submission.ori, Submission.received_at)):
        if start <= local_day(ori, received) < end:
            bookings[ori] += 1
    for _cid, ori, _a, _p in decided:
        bookings.setdefault(ori, 0)
    size = _size_classes(bookings) if bookings else {}
    rows = tuple(
        {"case_id": cid, "size_class": size[ori], "action": action, "program": program}
        for cid, ori, action, program in sorted(decided)
    )
    return Frame(period, rows)


def publish_frame(
    session: Session,
    frame: Frame,
    *,
    actor: str,
    key: Any = None,
    witness_dir: Any = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Take the audit log's tree head (verified; Ed25519-signed with ``key``, written to
    ``witness_dir``: :func:`securecomm.store.audit.checkpoint`) and record the frame's SHA-256
    with it. Returns what to publish: the frame's digest and the head document (the one
    ``securecomm audit verify --since`` takes)."""
    if not frame.rows:
        raise PanelError(f"period: no decided case in {frame.period}; nothing to sample")
    now = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    try:
        cp = audit.checkpoint(session, key=key, now=now, witness_dir=witness_dir)
    except audit.AuditError as exc:  # a log that fails verification is not published
        raise PanelError(f"audit log: {exc}") from None
    head = audit.head_of(cp)
    row = repo.insert_frame(
        session, period=frame.period, frame_sha256=frame.sha256, case_count=len(frame.rows),
        tree_size=cp.tree_size, root_hash=cp.root_hash, signature=cp.signature,
        at=now, actor=actor,
    )  # fmt: skip
    return {
        "period": frame.period, "frame_sha256": frame.sha256, "cases": len(frame.rows),
        "tree_head": head.to_dict(), "published_at": row.published_at.isoformat(),
    }  # fmt: skip


def parse_frame(data: bytes) -> list[dict[str, str]]:
    """A frame file's rows (checked: a ``case_id`` column, unique, non-empty ids)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PanelError("frame: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "case_id" not in reader.fieldnames:
        raise PanelError("frame: the header has no case_id column")
    rows, seen = [], set()
    for line, row in enumerate(reader, start=2):
        cid = (row.get("case_id") or "").strip()
        if not cid:
            raise PanelError(f"frame: line {line}: empty case_id")
        if cid in seen:
            raise PanelError(f"frame: line {line}: case_id {cid!r} appears twice")
        if None in row:
            raise PanelError(f"frame: line {line}: more fields than the header")
        seen.add(cid)
        rows.append({k: (v or "") for k, v in row.items()})
    if not rows:
        raise PanelError("frame: no cases")
    return rows


# --------------------------------------------------------------------------- sizes


def size_for_detection(defect_rate: float, confidence: float) -> int:
    """Smallest n so that a sample of n shows at least one defective case with probability
    ``confidence`` when a share ``defect_rate`` of the frame is defective (large frame):
    n = ceil(ln(1 - confidence) / ln(1 - defect_rate)); 5 % at 95 %: 59."""
    _check_rate("defect_rate", defect_rate)
    _check_rate("confidence", confidence)
    return math.ceil(math.log(1 - confidence) / math.log(1 - defect_rate) - 1e-12)


def size_for_margin(margin: float, confidence: float, population: int | None = None) -> int:
    """Sample size to estimate a share within +-``margin`` at ``confidence`` (worst case
    p = 0.5, normal approximation): +-5 points at 95 %: 385. With ``population``, the
    finite-population correction."""
    _check_rate("margin", margin)
    _check_rate("confidence", confidence)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    n0 = z * z * 0.25 / (margin * margin)
    if population is not None:
        if population < 1:
            raise PanelError("population: a positive number of cases expected")
        n0 = n0 / (1 + (n0 - 1) / population)
    return math.ceil(n0 - 1e-9)


def _check_rate(name: str, value: float) -> None:
    if not isinstance(value, int | float) or not 0 < value < 1:
        raise PanelError(
            f"--{name.replace('_', '-')}: a number between 0 and 1 expected, got {value!r}"
        )


# --------------------------------------------------------------------------- the draw


def _stratum(row: Mapping[str, str], columns: Sequence[str]) -> str:
    return "|".join(row[c] for c in columns) if columns else "all"


def allocate(
    counts: Mapping[str, int],
    size: int,
    allocation: str,
    prior_rates: Mapping[str, float] | None = None,
) -> dict[str, int]:
    """Sample size per stratum summing to ``min(size, frame)``, no stratum above its count.

    ``proportional``: n_h proportional to N_h. ``neyman``: to N_h * S_h with S_h =
    sqrt(p_h (1 - p_h)), p_h the stratum's anticipated defect rate from ``prior_rates``
    (0.5, the most variable, where none is given). Rounding by largest remainder (ties by
    stratum name); a stratum's excess over its count is re-allocated to the others.
    """
    if allocation not in ALLOCATIONS:
        raise PanelError(f"--allocation: {allocation!r} is not one of {', '.join(ALLOCATIONS)}")
    prior_rates = dict(prior_rates or {})
    for name, p in prior_rates.items():
        if name not in counts:
            raise PanelError(f"--prior-rates: stratum {name!r} is not in the frame")
        if not isinstance(p, int | float) or not 0 <= p <= 1:
            raise PanelError(f"--prior-rates: stratum {name!r}: a rate in [0, 1] expected")
    weight = {
        h: n * (math.sqrt(prior_rates.get(h, 0.5) * (1 - prior_rates.get(h, 0.5)))
                if allocation == "neyman" else 1.0)
        for h, n in counts.items()
    }  # fmt: skip
    target = min(size, sum(counts.values()))
    out = {h: 0 for h in counts}
    open_ = {h for h in counts if counts[h] > 0 and weight[h] > 0}
    remaining = target
    while remaining > 0 and open_:
        total_w = sum(weight[h] for h in open_)
        quotas = {h: remaining * weight[h] / total_w for h in open_}
        base = {h: min(int(quotas[h]), counts[h] - out[h]) for h in open_}
        given = sum(base.values())
        order = sorted(open_, key=lambda h: (-(quotas[h] - int(quotas[h])), h))
        for h in order:
            if given >= remaining:
                break
            if out[h] + base[h] < counts[h]:
                base[h] += 1
                given += 1
        for h in open_:
            out[h] += base[h]
        remaining -= given
        open_ = {h for h in open_ if out[h] < counts[h]}
        if given == 0:
            break
    if remaining > 0:  # strata with zero weight (a prior rate of 0 or 1) take the rest
        for h in sorted(counts, key=lambda h: (-(counts[h] - out[h]), h)):
            take = min(remaining, counts[h] - out[h])
            out[h] += take
            remaining -= take
    return out


def _ticket_order(ids: Sequence[str], seed: str) -> list[tuple[str, str]]:
    """(ticket, case_id) for every id in ticket order: ``consistent_sampler`` exactly."""
    return [
        (ticket, cid)
        for ticket, cid, _gen in consistent_sampler.sampler(
            list(ids), seed, with_replacement=False, output="tuple", digits=TICKET_DIGITS
        )
    ]


def draw(
    frame_bytes: bytes,
    *,
    seed: str,
    size: int,
    stratify_by: Sequence[str] = (),
    allocation: str = "proportional",
    prior_rates: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The draw document (``panel-draw/1``): parameters, strata, the sample in ticket order
    and its SHA-256. Pure: the same frame bytes and arguments give the same document."""
    if not isinstance(seed, str) or not seed.strip() or len(seed) > 200:
        raise PanelError("--seed: a non-empty seed of at most 200 characters expected")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise PanelError(f"--size: a positive number of cases expected, got {size!r}")
    rows = parse_frame(frame_bytes)
    columns = list(stratify_by)
    for c in columns:
        if c not in rows[0] or c == "case_id":
            raise PanelError(f"--stratify-by: {c!r} is not a stratum column of the frame")
    if len(set(columns)) != len(columns):
        raise PanelError("--stratify-by: a column is named twice")
    stratum_of = {r["case_id"]: _stratum(r, columns) for r in rows}
    counts = Counter(stratum_of.values())
    alloc = (
        allocate(counts, size, allocation, prior_rates)
        if columns
        else {"all": min(size, len(rows))}
    )
    order = _ticket_order([r["case_id"] for r in rows], seed)
    taken: Counter[str] = Counter()
    sample = []
    for ticket, cid in order:  # the unstratified ticket order, filtered by stratum
        h = stratum_of[cid]
        if taken[h] < alloc[h]:
            taken[h] += 1
            sample.append(
                {"position": len(sample) + 1, "case_id": cid, "ticket": ticket, "stratum": h}
            )
    return {
        "format": DRAW_FORMAT,
        "frame_sha256": hashlib.sha256(frame_bytes).hexdigest(),
        "frame_cases": len(rows),
        "seed": seed,
        "size": size,
        "stratify_by": columns,
        "allocation": allocation if columns else None,
        "prior_rates": dict(sorted((prior_rates or {}).items())) if columns else {},
        "strata": [{"stratum": h, "frame": counts[h], "sample": alloc[h]} for h in sorted(counts)],
        "sample": sample,
        "sample_sha256": _sample_sha256(sample),
        "method": "Rivest consistent_sampler "
        f"{version('consistent-sampler')}: ticket = SHA-256(SHA-256(seed) || case_id), "
        "digits reversed; first n_h per stratum in ticket order",
        "source": f"{TF} IV rec. 6",
    }


def _sample_sha256(sample: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(
        canonical_json([[s["case_id"], s["ticket"], s["stratum"]] for s in sample]).encode()
    ).hexdigest()


def verify(frame_bytes: bytes, document: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Recompute a draw from the frame and the document's own parameters; (ok, problems)."""
    problems = []
    if document.get("format") != DRAW_FORMAT:
        return False, [f"draw: format {document.get('format')!r} is not {DRAW_FORMAT}"]
    digest = hashlib.sha256(frame_bytes).hexdigest()
    if digest != document.get("frame_sha256"):
        problems.append(f"frame: SHA-256 {digest} is not the draw's {document.get('frame_sha256')}")
    try:
        again = draw(
            frame_bytes, seed=document["seed"], size=document["size"],
            stratify_by=document.get("stratify_by") or (),
            allocation=document.get("allocation") or "proportional",
            prior_rates=document.get("prior_rates") or None,
        )  # fmt: skip
    except (KeyError, TypeError) as exc:
        return False, [*problems, f"draw: missing or malformed parameter {exc}"]
    mine, theirs = again["sample"], list(document.get("sample") or [])
    for i, (a, b) in enumerate(zip(mine, theirs, strict=False), start=1):
        if (a["case_id"], a["ticket"], a["stratum"]) != (
            b.get("case_id"),
            b.get("ticket"),
            b.get("stratum"),
        ):
            problems.append(
                f"sample: position {i}: recomputed {a['case_id']}, draw has {b.get('case_id')}"
            )
            break
    if len(mine) != len(theirs):
        problems.append(f"sample: recomputed {len(mine)} cases, draw has {len(theirs)}")
    if again["sample_sha256"] != document.get("sample_sha256"):
        problems.append("sample_sha256: does not match the recomputed sample")
    return not problems, problems


# --------------------------------------------------------------------------- record


def _pseudonym(key: str, case_id: str) -> str:
    return (
        "P-"
        + hmac.new(bytes.fromhex(key), case_id.encode(), hashlib.sha256).hexdigest()[:10].upper()
    )


def record_draw(
    session: Session,
    frame_bytes: bytes,
    document: Mapping[str, Any],
    *,
    actor: str,
    at: dt.datetime | None = None,
) -> PanelDraw:
    """Store a verified draw of a *published* frame, with per-draw pseudonyms."""
    ok, problems = verify(frame_bytes, document)
    if not ok:
        raise PanelError("draw: does not verify: " + "; ".join(problems))
    frame = repo.get_frame_by_sha256(session, document["frame_sha256"])
    if frame is None:
        raise PanelError(
            "frame: this frame was never published (run `securecomm panel frame` first: the "
            "frame and the tree head are published before the seed exists)"
        )
    now = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if now < frame.published_at:
        raise PanelError("at: a draw cannot precede its frame's publication")
    while True:
        key = secrets.token_hex(32)
        names = [_pseudonym(key, s["case_id"]) for s in document["sample"]]
        if len(set(names)) == len(names):
            break
    rows = [
        repo.SampleRow(s["position"], s["case_id"], s["ticket"], s["stratum"], name)
        for s, name in zip(document["sample"], names, strict=True)
    ]
    parameters = {
        "stratify_by": list(document.get("stratify_by") or []),
        "allocation": document.get("allocation"),
        "prior_rates": dict(document.get("prior_rates") or {}),
    }
    try:
        return repo.insert_draw(
            session, frame=frame, seed=document["seed"], size=document["size"],
            parameters=parameters, sample_sha256=document["sample_sha256"], pseudonym_key=key,
            rows=rows, at=now, actor=actor,
        )  # fmt: skip
    except InputError as exc:
        raise PanelError(str(exc)) from None


def _sample_case(session: Session, draw_id: int, pseudonym: str) -> PanelSampleCase:
    row = session.scalar(
        select(PanelSampleCase).where(
            PanelSampleCase.draw_id == draw_id, PanelSampleCase.pseudonym == str(pseudonym).upper()
        )
    )
    if row is None:
        raise PanelError(f"pseudonym: no case {pseudonym!r} in draw #{draw_id}")
    return row


# --------------------------------------------------------------------------- de-identified


def _age_band(birth: str | None, on: dt.date) -> str:
    if not birth:
        return "unknown"
    b = dt.date.fromisoformat(birth)
    age = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    edges = AGE_BANDS.value
    if age < edges[0]:
        return f"under {edges[0]}"
    for lo, hi in pairwise(edges):
        if age < hi:
            return f"{lo}-{hi - 1}"
    return f"{edges[-1]} and over"


def _years_band(since: str | None, on: dt.date) -> str | None:
    if not since:
        return None
    years = (on - dt.date.fromisoformat(since)).days / 365.25
    for edge in (1, 5, 10, 20):
        if years < edge:
            return f"under {edge} years"
    return "20 years or more"


CHECKLIST_ITEMS = (
    ("priority", "Does the case fall within ICE's stated enforcement priorities?", f"{TF} IV rec. 6"),
    ("rule_followed", "Was the action the policy's decisive rule calls for the action taken, or an "
     "override justified and approved where required?", f"{TF} II rec. 3"),
    ("discretion_considered", "Were the discretion factors present considered?",
     f"{MORTON_DISCRETION}; {MORTON_JUNE}; {TF} II.2, II rec. 2"),
    ("disclosure_right", "Did the police receive only what the jurisdiction's preference and the "
     "policy allow (no immigration hit information on a citizen)?", f"{TF} IV rec. 3"),
    ("hold_within_limit", "Was any hold within 48 hours excluding weekends and holidays?",
     f"{DETAINER_CITATION}; {TF} IV rec. 5"),
)  # fmt: skip


def checklist(
    decision: Mapping[str, Any] | None, evidence: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The review checklist of one case, each question with its source and what the policy
    and the store say (the panel answers; the store's evidence is not the answer)."""
    reasons = (decision or {}).get("reasons") or []
    rule = decisive_rule(reasons) if reasons else None
    cite = next((r.get("citation") for r in reasons if r.get("rule") == rule), None)
    context = {
        "priority": {"priority": (decision or {}).get("priority"),
                     "priority_bases": list((decision or {}).get("priority_bases") or [])},
        "rule_followed": {"policy": (decision or {}).get("policy"), "decisive_rule": rule,
                          "rule_citation": cite, "recommended": (decision or {}).get("action"),
                          "final_action": evidence.get("final_action")},
        "discretion_considered": dict((decision or {}).get("discretion_factors") or {}),
        "disclosure_right": {"allowed": list(((decision or {}).get("lea_disclosure") or {}).get("fields") or []),
                             "sent": evidence.get("disclosed_fields", [])},
        "hold_within_limit": {"detainers": len(evidence.get("detainers", [])),
                              "held_past_limit": any(d["held_past_limit"] for d in evidence.get("detainers", []))},
    }  # fmt: skip
    return [
        {"id": key, "question": q, "source": src, "evidence": context[key]}
        for key, q, src in CHECKLIST_ITEMS
    ]


def deidentified_case(session: Session, draw_id: int, pseudonym: str) -> dict[str, Any]:
    """What a panel member sees of one sampled case: no name, no identifier (case id, TCN,
    ORI, FBI or FIN number), no birth or entry date (an age band, years in the US as a band),
    no free text an officer typed; the recommendation with its cited reasons, what was done,
    the detainer's hold against its limit, and the checklist."""
    sample = _sample_case(session, draw_id, pseudonym)
    case = session.get(CaseRecord, sample.case_id)
    assert case is not None  # a foreign key
    doc = case.case_json
    on = dt.date.fromisoformat(doc["decided_at"][:10])
    person = doc.get("person", {})
    decision_row = session.scalar(
        select(DecisionRecord).where(DecisionRecord.case_id == case.case_id)
        .order_by(DecisionRecord.recorded_at.desc(), DecisionRecord.id.desc()).limit(1)
    )  # fmt: skip
    decision = decision_row.decision if decision_row else None
    acts = list(session.scalars(
        select(OfficerAction).where(OfficerAction.case_id == case.case_id)
        .order_by(OfficerAction.acted_at, OfficerAction.id)
    ))  # fmt: skip
    final = case.final_action.value if case.final_action is not None else None
    held = {d.id for d, _e in lifecycle.violations(session)}
    detainers = [
        {"kind": d.kind.value, "state": d.state.value, "held_past_limit": d.id in held,
         "hold_hours_limit": 48}
        for d in session.scalars(select(Detainer).where(Detainer.case_id == case.case_id))
    ]  # fmt: skip
    disclosed: set[str] = set()
    for content in session.scalars(select(Notice.content).where(Notice.case_id == case.case_id)):
        if isinstance(content, Mapping) and isinstance(content.get("disclosed"), Mapping):
            disclosed.update(content["disclosed"])
    juris = session.get(Jurisdiction, case.ori)
    evidence = {
        "final_action": final,
        "detainers": detainers,
        "disclosed_fields": sorted(disclosed),
    }
    rec = None
    if decision:
        rec = {k: decision.get(k) for k in ("policy", "policy_version", "removable", "priority",
               "priority_bases", "level", "action", "requires_supervisor_approval",
               "lea_disclosure", "discretion_factors", "reasons")}  # fmt: skip
    started = decision_row.decided_at if decision_row else case.opened_at
    return {
        "pseudonym": sample.pseudonym,
        "draw_id": draw_id,
        "stratum": sample.stratum,
        "program": case.program.value,
        "jurisdiction": {"state": juris.state if juris else None,
                         "disclosure_preference": juris.disclosure.value if juris else None,
                         "honors_detainers": juris.honors_detainers if juris else None},
        "decided_month": doc["decided_at"][:7],
        "person": {
            "age_band": _age_band(person.get("birth_date"), on),
            "citizenship_status": person.get("citizenship_status"),
            "entry": person.get("entry"),
            "in_us": _years_band(person.get("entered_us_on"), on),
            "lpr_for": _years_band(person.get("lpr_since"), on),
            "pending_relief": list(person.get("pending_relief") or []),
            "final_order_of_removal": bool(person.get("final_order_of_removal_on")),
            "prior_removals": len(person.get("removed_on") or []),
            "immigration_fraud": bool(person.get("immigration_fraud")),
        },
        "charges": [
            {k: c.get(k) for k in ("ncic", "literal", "severity", "injury", "domestic_violence", "disposition")}
            for c in (doc.get("arrest") or {}).get("charges", [])
        ],
        "convictions": [
            {"ncic": c.get("ncic"), "severity": c.get("severity"),
             "years_before": _years_band(c.get("convicted_on"), on),
             "sentence_days": c.get("sentence_days"), "aggravated_felony": c.get("aggravated_felony"),
             "gang_element": c.get("gang_element"), "domestic_violence": c.get("domestic_violence")}
            for c in doc.get("convictions", [])
        ],
        "flags": dict(doc.get("flags") or {}),
        "recommendation": rec,
        "officer_actions": [
            {"kind": a.kind.value, "chosen_action": a.chosen_action.value if a.chosen_action else None,
             "reason_given": bool(a.reason),
             "hours_after_recommendation": round((a.acted_at - started).total_seconds() / 3600, 1)}
            for a in acts
        ],
        "final_action": final,
        "detainers": detainers,
        "disclosed_to_police": sorted(disclosed),
        "checklist": checklist(decision, evidence),
    }  # fmt: skip


# --------------------------------------------------------------------------- findings


def record_finding(
    session: Session,
    draw_id: int,
    pseudonym: str,
    *,
    reviewer: str,
    answers: Mapping[str, str],
    finding: str,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> PanelFindingRecord:
    """A panel member's finding: an answer (yes / no / n/a) to every checklist item."""
    sample = _sample_case(session, draw_id, pseudonym)
    wanted = [key for key, _q, _s in CHECKLIST_ITEMS]
    unknown = sorted(set(answers) - set(wanted))
    if unknown:
        raise PanelError(
            f"answers: {', '.join(unknown)} not on the checklist ({', '.join(wanted)})"
        )
    missing = [k for k in wanted if k not in answers]
    if missing:
        raise PanelError(f"answers: missing {', '.join(missing)}")
    for k, v in answers.items():
        if v not in ANSWERS:
            raise PanelError(f"answers.{k}: {v!r} is not one of {', '.join(ANSWERS)}")
    try:
        verdict = PanelFinding(finding)
    except ValueError:
        raise PanelError(
            f"finding: {finding!r} is not one of {', '.join(f.value for f in PanelFinding)}"
        ) from None
    if verdict is PanelFinding.adherent and "no" in answers.values():
        raise PanelError("finding: 'adherent' contradicts a 'no' on the checklist")
    if note is not None and (not isinstance(note, str) or len(note) > 4000):
        raise PanelError("note: text of at most 4000 characters expected")
    now = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return repo.insert_finding(session, sample, reviewer=reviewer, checklist=dict(answers),
                               finding=verdict, note=note, at=now)  # fmt: skip


def record_response(
    session: Session,
    finding_id: int,
    *,
    responder: str,
    response: str,
    corrective_action: bool,
    at: dt.datetime | None = None,
) -> PanelResponse:
    """ICE's response to a finding (tracked in the report)."""
    finding = session.get(PanelFindingRecord, finding_id)
    if finding is None:
        raise PanelError(f"finding: no finding #{finding_id}")
    if not isinstance(response, str) or not response.strip() or len(response) > 4000:
        raise PanelError("response: text of 1 to 4000 characters expected")
    now = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return repo.insert_response(session, finding, responder=responder, response=response.strip(),
                                corrective_action=bool(corrective_action), at=now)  # fmt: skip


def _clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float | None:
    if n == 0:
        return None
    if k >= n:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(confidence, k + 1, n - k))


@dataclass
class FindingsReport:
    draw: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def findings_report(session: Session, draw_id: int) -> FindingsReport:
    """Per sampled case (by pseudonym): the latest finding of each reviewer, its checklist,
    ICE's response; a summary with the deviation rate and its one-sided 95 % upper bound."""
    try:
        d = repo.get_draw(session, draw_id)
    except NotFoundError as exc:
        raise PanelError(str(exc)) from None
    frame = session.get(PanelFrame, d.frame_id)
    samples = list(session.scalars(
        select(PanelSampleCase).where(PanelSampleCase.draw_id == d.id).order_by(PanelSampleCase.position)
    ))  # fmt: skip
    findings = list(session.scalars(
        select(PanelFindingRecord).where(PanelFindingRecord.sample_id.in_([s.id for s in samples]))
        .order_by(PanelFindingRecord.recorded_at, PanelFindingRecord.id)
    )) if samples else []  # fmt: skip
    latest: dict[tuple[int, str], PanelFindingRecord] = {}
    for f in findings:
        latest[(f.sample_id, f.reviewer)] = f
    responses: dict[int, PanelResponse] = {}
    if latest:
        for r in session.scalars(
            select(PanelResponse).where(PanelResponse.finding_id.in_([f.id for f in latest.values()]))
            .order_by(PanelResponse.responded_at, PanelResponse.id)
        ):  # fmt: skip
            responses[r.finding_id] = r
    rows = []
    reviewed, deviating = set(), set()
    for s in samples:
        mine = [f for (sid, _r), f in latest.items() if sid == s.id]
        if not mine:
            rows.append({"position": s.position, "pseudonym": s.pseudonym, "stratum": s.stratum,
                         "reviewer": None, "finding": "not reviewed"})  # fmt: skip
            continue
        reviewed.add(s.id)
        for f in mine:
            resp = responses.get(f.id)
            if f.finding is PanelFinding.deviation:
                deviating.add(s.id)
            rows.append({
                "position": s.position, "pseudonym": s.pseudonym, "stratum": s.stratum,
                "reviewer": f.reviewer, "finding": f.finding.value,
                **{f"q_{k}": f.checklist.get(k) for k, _q, _s in CHECKLIST_ITEMS},
                "note": f.note, "recorded_at": f.recorded_at.isoformat(),
                "ice_response": (resp.response if resp else
                                 ("awaiting response" if f.finding is PanelFinding.deviation else None)),
                "corrective_action": resp.corrective_action if resp else None,
            })  # fmt: skip
    n, k = len(reviewed), len(deviating)
    unanswered = sum(
        1 for f in latest.values() if f.finding is PanelFinding.deviation and f.id not in responses
    )
    upper = _clopper_pearson_upper(k, n)
    summary = {
        "sampled": len(samples), "reviewed": n, "with_deviation": k,
        "deviation_rate": round(k / n, 4) if n else None,
        "deviation_rate_upper_95": round(upper, 4) if upper is not None else None,
        "deviations_awaiting_ice_response": unanswered,
    }  # fmt: skip
    draw_doc = {
        "draw_id": d.id, "period": frame.period, "frame_sha256": frame.frame_sha256,
        "frame_cases": frame.case_count, "tree_size": frame.tree_size,
        "root_hash": frame.root_hash, "published_at": frame.published_at.isoformat(),
        "seed": d.seed, "size": d.size, "parameters": d.parameters,
        "sample_sha256": d.sample_sha256, "drawn_at": d.drawn_at.isoformat(),
        "checklist": [{"id": k_, "question": q, "source": s_} for k_, q, s_ in CHECKLIST_ITEMS],
        "source": f"{TF} IV rec. 6 ('The findings from these reviews should be made public')",
    }  # fmt: skip
    return FindingsReport(draw_doc, rows, summary)


def write_findings_report(report: FindingsReport, out_dir: Path) -> dict[str, Path]:
    from .render import write_findings

    return write_findings(report, out_dir)


def load_draw_document(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PanelError(f"draw: not a JSON document ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise PanelError("draw: a JSON object expected")
    return doc
