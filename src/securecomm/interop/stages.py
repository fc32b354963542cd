"""The pipeline's stages: idempotent steps over persisted state (DESIGN 2, issue 3 item 4).

A submission's ``stage`` column (:class:`~securecomm.store.models.PipelineStage`) names the
next step it waits for. A stage function takes a micro-batch of submissions *claimed* in that
stage (locked: see :mod:`.worker`), reads what earlier stages persisted, writes its own outputs
and returns each submission's transition. The worker writes the transitions in the same
transaction as the outputs, so a step either happened completely (outputs and transition
committed together) or not at all; a process killed at any point leaves every submission in a
stage whose inputs are all committed, and running that stage again is the whole recovery.
Unique keys back this up (case id, decision per case document, notice idempotency keys,
one detainer per case and kind).

::

    criminal_history  1:N search of the FBI side; hits; the LEA's submission response
                      (criminal-history side only) -> ident | biographic (no usable template)
    ident             1:N search of IDENT; hits -> lesc (match, or band / ambiguous score:
                      a verification task is opened) | done (no match)
    biographic        Splink candidates for bookings without a usable template -> lesc with a
                      verification task (always: lower confidence) | done (no candidate)
    lesc              LESC status determination as of the booking date; Case v1 assembled
                      from the booking, the RAP sheet, the immigration record, the
                      jurisdiction and the case facts (certifications, interviews:
                      ``Agencies.case_facts``); case opened -> decide | verification
    verification      (a person) confirms -> decide; rejects -> done (case closed)
    decide            policy engine recommendation (pack by booking date) -> officer
    officer           (a person, or ``--auto-accept``) accepts / overrides; a safeguard
                      override or a supervisor-flagged case waits for a second person -> act
    act               detainer / conditional detainer / notification request lodged
                      (lifecycle), LEA decision notice filtered by the disclosure -> done

Time
    The *decision time* of a case (Case v1 ``decided_at``) is the **booking time**
    (``booked_at``): the policy in force when the person was booked decides, the LESC reports
    the status as of that day, and the case document -- hence every idempotency key derived
    from it -- is the same however late or how often the pipeline runs. Processing time is
    recorded separately (``opened_at``, ``recorded_at``, officer ``acted_at``, notice
    ``created_at``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import ValidationError
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..law.engine import PolicyError
from ..law.schema import Action, Case, Decision
from ..store.audit import AuditBatch
from ..store.models import (
    Booking,
    CaseRecord,
    CaseState,
    DecisionRecord,
    DetainerKind,
    Hit,
    IdentityVerification,
    Jurisdiction,
    OfficerAction,
    OfficerActionKind,
    PipelineStage,
    Repository,
    SubmissionState,
    VerificationMethod,
    VerificationState,
)
from ..store.repositories import (
    CaseToOpen,
    DecisionToRecord,
    FinalActionToSet,
    OfficerActionToRecord,
    open_cases,
    record_decisions,
    record_officer_actions,
    set_final_actions,
)
from . import lifecycle, notices
from .adapters import Agencies, Candidate, SearchResult, merge_flags
from .final_action import REFUSED_EVENT, citizen_refusal, citizenship_of
from .messages import TEMPLATE_DIM, CriminalHistory, ImmigrationRecord
from .settings import PipelineSettings

__all__ = [
    "AUTOMATIC",
    "AUTO_ACCEPT_ACTOR",
    "STAGES",
    "Context",
    "Item",
    "Transition",
    "assemble_case",
    "case_id_for",
    "facility_date",
    "recommend",
]

P = PipelineStage
UTC = dt.UTC
AUTO_ACCEPT_ACTOR = "auto-accept"
DETAINER_ACTIONS = {
    Action.detainer.value: DetainerKind.detainer,
    Action.conditional_detainer.value: DetainerKind.conditional_detainer,
    Action.notification_request.value: DetainerKind.notification_request,
}


def case_id_for(tcn: str) -> str:
    """The case opened for a submission: ``C-<TCN>``."""
    return f"C-{tcn}"


@dataclass
class Context:
    settings: PipelineSettings
    agencies: Agencies
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(UTC))
    auto_accept: bool = False


@dataclass
class Item:
    """A claimed submission."""

    id: int
    tcn: str
    ori: str
    payload: dict[str, Any]
    #: the holding facility's time zone (``Jurisdiction.timezone``), read when claimed
    timezone: str | None = None

    @property
    def booked_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.payload["booked_at"])

    @property
    def booked_on(self) -> dt.date:
        """The booking's date at the holding facility (its jurisdiction's time zone), whatever
        offset the booking time was submitted with: the day the repositories are asked "as
        of". Without a known zone (a submission claimed by older code), the submitted offset's
        date."""
        if self.timezone is None:
            return self.booked_at.date()
        return self.booked_at.astimezone(ZoneInfo(self.timezone)).date()


def facility_date(case: Case) -> dt.date:
    """The decision date of a case at the holding facility: ``decided_at`` in the
    jurisdiction's time zone. The policy in force is the one scheduled on this day (DESIGN
    3.9's "holding facility's local time zone"), never the UTC date or the submitted offset's."""
    return case.decided_at.astimezone(ZoneInfo(case.jurisdiction.timezone)).date()


@dataclass(frozen=True)
class Transition:
    stage: PipelineStage
    state: SubmissionState = SubmissionState.processing
    error: str | None = None

    @classmethod
    def fail(cls, stage: PipelineStage, error: str) -> Transition:
        return cls(stage, SubmissionState.failed, error[:4000])


def _done() -> Transition:
    return Transition(P.done, SubmissionState.completed)


# --------------------------------------------------------------------------- helpers


def usable_template(payload: dict[str, Any], min_quality: float) -> bool:
    template = payload.get("template")
    if not template or len(template) != TEMPLATE_DIM:
        return False
    quality = payload.get("template_quality")
    return quality is None or quality >= min_quality


def _templates(items: Sequence[Item]) -> np.ndarray:
    return np.asarray([i.payload["template"] for i in items], dtype=np.float32).reshape(
        len(items), TEMPLATE_DIM
    )


def _hit_rows(
    item: Item, repository: Repository, result: SearchResult | Sequence[Candidate], now: dt.datetime
) -> list[dict[str, Any]]:
    cands = result.candidates if isinstance(result, SearchResult) else result
    column = "fbi_number" if repository is Repository.criminal_history else "fin"
    rows = []
    for rank, c in enumerate(cands, start=1):
        rows.append(
            {
                "submission_id": item.id,
                "repository": repository.value,
                "fbi_number": None,
                "fin": None,
                column: c.key,
                "score": float(c.score),
                "rank": rank,
                "found_at": now,
            }
        )
    return rows


def _insert_hits(
    session: Session, items: Sequence[Item], repository: Repository, rows: list[dict]
) -> None:
    """Insert hit rows unless the submission already has hits in ``repository`` (a re-run)."""
    if not rows:
        return
    ids = sorted({r["submission_id"] for r in rows})
    done = set(
        session.scalars(
            select(Hit.submission_id).where(
                Hit.submission_id.in_(ids), Hit.repository == repository
            )
        )
    )
    rows = [r for r in rows if r["submission_id"] not in done]
    if rows:
        session.execute(insert(Hit.__table__), rows)


def _ch_summary(result: SearchResult | None, history: CriminalHistory | None) -> dict[str, Any]:
    if result is None:
        return {"result": "no_usable_template"}
    if result.decision == "match" and history is not None:
        return {
            "result": "identified",
            "fbi_number": history.fbi_number,
            "convictions": [
                {
                    "ncic": c.ncic,
                    "literal": c.literal,
                    "severity": c.severity.value,
                    "convicted_on": c.convicted_on.isoformat() if c.convicted_on else None,
                }
                for c in history.convictions
            ],
            "active_warrants": [_warrant(w) for w in history.warrants],
        }
    if result.decision == "verify":
        return {
            "result": "candidate_requires_examiner",
            "note": "a candidate record scored in the verification band; no record is "
            "attached until an examiner confirms it",
        }
    return {"result": "no_record"}


def _warrant(w) -> dict[str, Any]:
    return {
        "ncic": w.ncic,
        "literal": w.literal,
        "issued_on": w.issued_on.isoformat() if w.issued_on else None,
        "issuing_ori": w.issuing_ori,
    }


# --------------------------------------------------------------------------- criminal history


def criminal_history(
    session: Session, ctx: Context, items: Sequence[Item]
) -> dict[int, Transition]:
    """FBI side: search, hits, attach the FBI number, answer the LEA (criminal history only)."""
    now = ctx.clock()
    min_q = ctx.settings.min_template_quality
    usable = [i for i in items if usable_template(i.payload, min_q)]
    results: dict[int, SearchResult] = {}
    if usable:
        found = ctx.agencies.criminal_history.match(session, _templates(usable))
        results = {i.id: r for i, r in zip(usable, found, strict=True)}
    matched = [(i, results[i.id].key) for i in usable if results[i.id].decision == "match"]
    histories: dict[int, CriminalHistory] = {}
    if matched:
        found_h = ctx.agencies.criminal_history.history(
            session, [(fbi, i.booked_on) for i, fbi in matched]
        )
        histories = {i.id: h for (i, _), h in zip(matched, found_h, strict=True)}
        table = Booking.__table__
        session.execute(  # one executemany, not a statement per booking
            update(table)
            .where(table.c.submission_id == bindparam("sid"))
            .values(fbi_number=bindparam("fbi")),
            [{"sid": i.id, "fbi": fbi} for i, fbi in matched],
        )
    rows = []
    for i in usable:
        rows += _hit_rows(i, Repository.criminal_history, results[i.id], now)
    _insert_hits(session, items, Repository.criminal_history, rows)
    out: dict[int, Transition] = {}
    responses: list[notices.SubmissionResponse] = []
    for i in items:
        result = results.get(i.id)
        content = {
            "type": "submission_response",
            "format": "submission-response/1",
            "tcn": i.tcn,
            "ori": i.ori,
            "booked_at": i.payload["booked_at"],
            "criminal_history": _ch_summary(result, histories.get(i.id)),
            "immigration_check": "fingerprints forwarded to DHS"
            if result is not None
            else "no usable fingerprints: biographic check only",
        }
        responses.append(notices.SubmissionResponse(i.id, i.ori, i.tcn, content, now))
        out[i.id] = Transition(P.ident if result is not None else P.biographic)
    notices.send_submission_responses(session, responses)
    return out


# --------------------------------------------------------------------------- IDENT


def _open_verification(
    session: Session, item: Item, method: VerificationMethod, best: Candidate,
    candidates: Sequence[Candidate], reason: str, now: dt.datetime,
) -> None:  # fmt: skip
    exists = session.scalar(
        select(IdentityVerification.id).where(IdentityVerification.submission_id == item.id)
    )
    if exists is not None:
        return
    session.execute(
        insert(IdentityVerification.__table__).values(
            submission_id=item.id,
            case_id=None,
            method=method.value,
            fin=best.key,
            score=float(best.score),
            candidates=[c.to_dict() for c in candidates],
            reason=reason,
            state=VerificationState.open.value,
            opened_at=now,
        )
    )


def ident(session: Session, ctx: Context, items: Sequence[Item]) -> dict[int, Transition]:
    """IDENT 1:N: match -> LESC; band or ambiguous -> verification task (and LESC, to assemble
    the case the examiner looks at); no match -> done (the submission response was sent)."""
    now = ctx.clock()
    found = ctx.agencies.immigration.search(session, _templates(items)) if items else []
    rows, out = [], {}
    for i, r in zip(items, found, strict=True):
        rows += _hit_rows(i, Repository.immigration, r, now)
        if r.decision == "match":
            out[i.id] = Transition(P.lesc)
        elif r.decision == "verify" and r.key is not None:
            best = next((c for c in r.candidates if c.key == r.key), Candidate(r.key, r.score))
            _open_verification(
                session, i, VerificationMethod.biometric, best, r.candidates,
                f"IDENT score {r.score:.3f}: {r.reason}", now,
            )  # fmt: skip
            out[i.id] = Transition(P.lesc)
        else:
            out[i.id] = _done()
    _insert_hits(session, items, Repository.immigration, rows)
    return out


def biographic(session: Session, ctx: Context, items: Sequence[Item]) -> dict[int, Transition]:
    """Splink linkage for bookings without a usable template: any candidate opens a
    verification task (lower confidence: always a person)."""
    now = ctx.clock()
    queries = []
    for i in items:
        bio = i.payload["biographics"]
        name = bio["names"][0]
        queries.append(
            {
                "first_name": name["first"],
                "last_name": name["last"],
                "dob": bio.get("birth_date"),
                "sex": bio.get("sex"),
                "place_of_birth": bio.get("place_of_birth"),
            }
        )
    found = ctx.agencies.immigration.link_biographic(session, queries) if items else []
    rows, out = [], {}
    for i, cands in zip(items, found, strict=True):
        if not cands:
            out[i.id] = _done()
            continue
        rows += _hit_rows(i, Repository.immigration, cands, now)
        _open_verification(
            session, i, VerificationMethod.biographic, cands[0], cands,
            f"biographic linkage (Splink) match probability {cands[0].score:.3f}: lower "
            "confidence, a person must verify", now,
        )  # fmt: skip
        out[i.id] = Transition(P.lesc)
    _insert_hits(session, items, Repository.immigration, rows)
    return out


# --------------------------------------------------------------------------- LESC + case


def _birth_date(
    booking_dob: str | None, record: ImmigrationRecord, decided_on: dt.date
) -> str | None:
    """The booking's date of birth, else one the IDENT encounters recorded, consistent with
    the entry / LPR dates (a Case rejects a birth after them); None if none is."""
    options = [booking_dob] + [e.birth_date.isoformat() for e in record.encounters if e.birth_date]
    limits = [d for d in (record.entered_us_on, record.lpr_since) if d] + [decided_on]
    for dob in options:
        if not dob:
            continue
        try:
            day = dt.date.fromisoformat(dob)
        except ValueError:
            continue
        if all(day <= limit for limit in limits) and day.year >= 1880:
            return dob
    return None


def assemble_case(
    item: Item,
    record: ImmigrationRecord,
    history: CriminalHistory | None,
    jurisdiction: Jurisdiction,
    facts: dict[str, bool] | None = None,
) -> Case:
    """Case v1 from the booking, the RAP sheet, the immigration record, the jurisdiction and
    the case facts (``facts``: flag -> value from a :class:`~.adapters.CaseFactsSource`;
    the RAP sheet's warrant / gang / national-security answer wins over them,
    :func:`~.adapters.merge_flags`). ``decided_at`` is the booking time (see the module
    docstring)."""
    p = item.payload
    decided_on = item.booked_on
    history = history or CriminalHistory()
    doc = {
        "case_id": case_id_for(item.tcn),
        "decided_at": p["booked_at"],
        "program": p.get("program", "secure_communities"),
        "jurisdiction": {
            "ori": jurisdiction.ori,
            "state": jurisdiction.state,
            "county_fips": jurisdiction.county_fips,
            "timezone": jurisdiction.timezone,
            "disclosure": jurisdiction.disclosure.value,
            "honors_detainers": jurisdiction.honors_detainers,
        },
        "person": {
            "birth_date": _birth_date(p["biographics"].get("birth_date"), record, decided_on),
            "citizenship_status": record.citizenship_status.value,
            "entered_us_on": record.entered_us_on,
            "entry": record.entry,
            "lpr_since": record.lpr_since,
            "pending_relief": [r.value for r in record.pending_relief],
            "final_order_of_removal_on": record.final_order_of_removal_on,
            "removed_on": list(record.removed_on),
            "immigration_fraud": record.immigration_fraud,
            "visa_abuse": record.visa_abuse,
        },
        "arrest": {
            "arrested_at": p.get("arrested_at") or p["booked_at"],
            "charges": [
                {
                    "ncic": c["ncic"],
                    "literal": c.get("literal", ""),
                    "severity": c["severity"],
                    "injury": c.get("injury", False),
                    "domestic_violence": c.get("domestic_violence", False),
                    "disposition": "pending",
                }
                for c in p["charges"]
            ],
        },
        "convictions": [c.model_dump(mode="json") for c in history.convictions],
        "flags": merge_flags(
            {
                "outstanding_criminal_warrant": bool(history.warrants),
                "gang_member": history.gang_member,
                "national_security": history.national_security,
            },
            facts,
        )[0],
    }
    return Case.model_validate(doc)


def _first_hits(session: Session, ids: Sequence[int], repository: Repository) -> dict[int, Hit]:
    rows = session.scalars(
        select(Hit).where(Hit.submission_id.in_(ids), Hit.repository == repository, Hit.rank == 1)
    )
    return {h.submission_id: h for h in rows}


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors(include_url=False)[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()))
            parts.append(f"{loc}: {e.get('msg')}")
        return "case: " + "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def lesc(session: Session, ctx: Context, items: Sequence[Item]) -> dict[int, Transition]:
    """LESC status determination as of the booking date, then the case (Case v1) opened."""
    now = ctx.clock()
    ids = [i.id for i in items]
    verifications = {
        v.submission_id: v
        for v in session.scalars(
            select(IdentityVerification).where(IdentityVerification.submission_id.in_(ids))
        )
    }
    hits = _first_hits(session, ids, Repository.immigration)
    bookings = dict(
        session.execute(
            select(Booking.submission_id, Booking.fbi_number).where(Booking.submission_id.in_(ids))
        ).all()
    )
    jurisdictions = {
        j.ori: j
        for j in session.scalars(
            select(Jurisdiction).where(Jurisdiction.ori.in_({i.ori for i in items}))
        )
    }
    out: dict[int, Transition] = {}
    wanted: list[tuple[Item, str]] = []
    for i in items:
        v = verifications.get(i.id)
        hit = hits.get(i.id)
        fin = v.fin if v is not None else (hit.fin if hit is not None else None)
        if fin is None:
            out[i.id] = Transition.fail(P.lesc, "lesc: no IDENT match or candidate to resolve")
            continue
        wanted.append((i, fin))
    records = ctx.agencies.status.determine(session, [(fin, i.booked_on) for i, fin in wanted])
    with_fbi = [(i, bookings[i.id]) for i, _ in wanted if bookings.get(i.id)]
    histories = dict(
        zip(
            [i.id for i, _ in with_fbi],
            ctx.agencies.criminal_history.history(session, [(f, i.booked_on) for i, f in with_fbi]),
            strict=True,
        )
    )
    facts = ctx.agencies.case_facts.facts_for(session, [i.tcn for i, _ in wanted])
    to_open: list[CaseToOpen] = []
    parked: dict[str, int] = {}
    for (i, fin), record in zip(wanted, records, strict=True):
        if record is None:
            out[i.id] = Transition.fail(
                P.lesc, f"lesc: FIN {fin} is not in the immigration repository"
            )
            continue
        try:
            case = assemble_case(
                i, record, histories.get(i.id), jurisdictions[i.ori], facts.get(i.tcn)
            )
        except (ValidationError, ValueError, KeyError) as exc:
            out[i.id] = Transition.fail(P.lesc, _error_text(exc))
            continue
        hit = hits.get(i.id)
        history = histories.get(i.id)
        to_open.append(
            CaseToOpen(
                case,
                now,
                submission_id=i.id,
                hit_id=hit.id if hit is not None and hit.fin == fin else None,
                fin=fin,
                # read once per case: the act stage's notice reads it from the case
                criminal_history=history.model_dump(mode="json") if history else None,
            )
        )
        if i.id in verifications and verifications[i.id].state is VerificationState.open:
            parked[case.case_id] = verifications[i.id].id
            out[i.id] = Transition(P.verification)
        else:
            out[i.id] = Transition(P.decide)
    open_cases(session, to_open)
    table = IdentityVerification.__table__
    for case_id, vid in parked.items():
        session.execute(update(table).where(table.c.id == vid).values(case_id=case_id))
    return out


# --------------------------------------------------------------------------- decide


def recommend(settings: PipelineSettings, case: Case) -> Decision:
    """The policy engine's recommendation for ``case``: the pack the schedule puts in force
    on the decision (booking) date at the holding facility (:func:`facility_date`). Shared by
    the decide stage and the field office's re-computation after new case facts
    (:func:`~.field_office.record_facts`)."""
    return settings.schedule.compiled_on(facility_date(case)).decide(case)


def decide(session: Session, ctx: Context, items: Sequence[Item]) -> dict[int, Transition]:
    """The policy engine's recommendation (the pack in force on the booking date)."""
    ids = [i.id for i in items]
    cases = {
        c.submission_id: c
        for c in session.scalars(select(CaseRecord).where(CaseRecord.submission_id.in_(ids)))
    }
    out: dict[int, Transition] = {}
    todo: list[DecisionToRecord] = []
    decided: list[str] = []
    for i in items:
        case_row = cases.get(i.id)
        if case_row is None:
            out[i.id] = Transition.fail(P.decide, "decide: no case for this submission")
            continue
        try:
            case = Case.model_validate(case_row.case_json)
            decision = recommend(ctx.settings, case)
        except (PolicyError, ValidationError, ValueError) as exc:
            out[i.id] = Transition.fail(P.decide, _error_text(exc))
            continue
        todo.append(DecisionToRecord(case.case_id, case_row.case_sha256, decision, case.decided_at))
        decided.append(case.case_id)
        out[i.id] = Transition(P.officer)
    record_decisions(session, todo)  # one audit append for the batch
    _set_case_state(session, decided, CaseState.awaiting_officer, ctx.clock())
    return out


def _set_case_state(
    session: Session, case_ids: Sequence[str], state: CaseState, now: dt.datetime
) -> None:
    if case_ids:
        table = CaseRecord.__table__
        session.execute(
            update(table)
            .where(table.c.case_id.in_(list(case_ids)))
            .values(state=state.value, updated_at=now)
        )


def _latest_decisions(session: Session, case_ids: Sequence[str]) -> dict[str, DecisionRecord]:
    out: dict[str, DecisionRecord] = {}
    for d in session.scalars(
        select(DecisionRecord)
        .where(DecisionRecord.case_id.in_(list(case_ids)))
        .order_by(DecisionRecord.recorded_at, DecisionRecord.id)
    ):
        out[d.case_id] = d  # the last wins
    return out


# --------------------------------------------------------------------------- officer (simulated)


def auto_accept(session: Session, ctx: Context, items: Sequence[Item]) -> dict[int, Transition]:
    """Simulated officers (``--auto-accept``): accept recommendations that need no supervisor,
    recorded with actor ``auto-accept``. The worker claims only such cases."""
    now = ctx.clock()
    case_ids = {case_id_for(i.tcn): i for i in items}
    ids = list(case_ids)
    # columns only: the documents themselves are not needed to accept
    states, status = {}, {}
    for cid, state, citizenship in session.execute(
        select(
            CaseRecord.case_id, CaseRecord.state,
            CaseRecord.case_json[("person", "citizenship_status")].as_string(),
        ).where(CaseRecord.case_id.in_(ids))
    ):  # fmt: skip
        states[cid], status[cid] = state, citizenship
    decisions: dict[str, Any] = {}
    for row in session.execute(
        select(
            DecisionRecord.case_id, DecisionRecord.id, DecisionRecord.action,
            DecisionRecord.requires_supervisor_approval,
        )
        .where(DecisionRecord.case_id.in_(ids))
        .order_by(DecisionRecord.recorded_at, DecisionRecord.id)
    ):  # fmt: skip
        decisions[row.case_id] = row  # the latest wins
    already = set(
        session.scalars(
            select(OfficerAction.case_id).where(OfficerAction.case_id.in_(list(case_ids)))
        )
    )
    out: dict[int, Transition] = {}
    todo = []
    batch = AuditBatch(session)
    for cid, i in case_ids.items():
        state, d = states.get(cid), decisions.get(cid)
        if state is CaseState.acted and cid in already:
            out[i.id] = Transition(P.act)  # decided already (a re-run): move on
            continue
        if d is None or state is not CaseState.awaiting_officer:
            out[i.id] = Transition(P.officer)  # not ours to touch: leave it waiting
            continue
        if d.requires_supervisor_approval:
            out[i.id] = Transition(P.officer)
            continue
        refused = citizen_refusal(status.get(cid), d.action)
        if refused is not None:
            # a policy (a user variant, say) recommended holding a citizen: never accepted
            # automatically; the submission fails visibly, the refusal is audited
            batch.add(
                REFUSED_EVENT, actor=AUTO_ACCEPT_ACTOR, subject={"case_id": cid},
                payload={"step": "automatic acceptance", "refused_action": d.action.value,
                         "status_determination": status.get(cid), "reason": refused},
            )  # fmt: skip
            out[i.id] = Transition.fail(P.officer, f"officer: case {cid}: {refused}")
            continue
        if cid not in already:
            todo.append(
                OfficerActionToRecord(
                    cid, OfficerActionKind.accept, AUTO_ACCEPT_ACTOR, now, decision_id=d.id,
                    chosen_action=d.action,
                )
            )  # fmt: skip
        out[i.id] = Transition(P.act)
    action_ids = record_officer_actions(session, todo, audit_batch=batch)
    set_final_actions(
        session,
        [
            FinalActionToSet(t.case_id, t.chosen_action, aid, now, AUTO_ACCEPT_ACTOR)
            for t, aid in zip(todo, action_ids, strict=True)
        ],
        audit_batch=batch,
    )
    batch.flush()  # one audit append for the batch
    _set_case_state(session, [t.case_id for t in todo], CaseState.acted, now)
    return out


# --------------------------------------------------------------------------- act


def decision_facts(
    case: Case,
    fin: str | None,
    fbi_number: str | None,
    aliases: list[str],
    history: CriminalHistory | None,
) -> dict[str, Any]:
    """What the checks found, under the keys a decision may disclose (notices contract)."""
    person = case.person
    return {
        "identity": {
            "fin": fin,
            "fbi_number": fbi_number,
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        },
        "aliases": aliases,
        "warrants": [_warrant(w) for w in (history.warrants if history else ())],
        "watch_list": bool(case.flags.national_security),
        "gang": bool(case.flags.gang_member),
        "immigration_status": {
            "citizenship_status": person.citizenship_status.value,
            "final_order_of_removal_on": person.final_order_of_removal_on.isoformat()
            if person.final_order_of_removal_on
            else None,
            "removals": len(person.removed_on),
        },
    }


def policy_ref(ctx: Context, decision: Decision, day: dt.date) -> str:
    """The policy reference for the detainer clock: the scheduled name or variant file that
    produced ``decision`` (falls back to the pack name)."""
    name = ctx.settings.schedule.name_on(day)
    try:
        if ctx.settings.schedule.compiled(name).pack.name == decision.policy:
            return name
    except ValueError:
        pass
    return decision.policy


def act(session: Session, ctx: Context, items: Sequence[Item]) -> dict[int, Transition]:
    """Lodge what the officer decided (lifecycle contract) and send the LEA the decision
    notice, filtered by the decision's disclosure (notices contract)."""
    now = ctx.clock()
    by_case = {case_id_for(i.tcn): i for i in items}
    cases = {
        c.case_id: c
        for c in session.scalars(select(CaseRecord).where(CaseRecord.case_id.in_(list(by_case))))
    }
    decisions = _latest_decisions(session, list(by_case))
    fbi = dict(
        session.execute(
            select(Booking.submission_id, Booking.fbi_number).where(
                Booking.submission_id.in_([i.id for i in items])
            )
        ).all()
    )
    fins = [c.fin for c in cases.values() if c.fin]
    aliases = ctx.agencies.immigration.aliases(session, fins) if fins else {}
    # the criminal history was read once, when the case was opened (stored with it); only
    # cases opened before migration 0006 have none stored and are read again
    histories: dict[int, CriminalHistory | None] = {}
    legacy = []
    for cid, i in by_case.items():
        row = cases.get(cid)
        if row is not None and row.criminal_history is not None:
            histories[i.id] = CriminalHistory.model_validate(row.criminal_history)
        elif fbi.get(i.id):
            legacy.append((i, fbi[i.id]))
    if legacy:
        found = ctx.agencies.criminal_history.history(
            session, [(f, i.booked_on) for i, f in legacy]
        )
        histories.update(zip([i.id for i, _ in legacy], found, strict=True))
    officers = dict(
        session.execute(
            select(OfficerAction.id, OfficerAction.officer).where(
                OfficerAction.id.in_(
                    [c.final_officer_action_id for c in cases.values() if c.final_officer_action_id]
                )
            )
        ).all()
    )
    out: dict[int, Transition] = {}
    lodges: list[lifecycle.LodgeRequest] = []
    decision_notices: list[notices.DecisionNotice] = []
    batch = AuditBatch(session)
    for cid, i in by_case.items():
        case_row, d_row = cases.get(cid), decisions.get(cid)
        if case_row is None or d_row is None:
            out[i.id] = Transition.fail(P.act, "act: no case or decision")
            continue
        # THE final action (one stored fact), never re-derived from the officer actions
        chosen, action_id = case_row.final_action, case_row.final_officer_action_id
        if chosen is None or action_id is None:
            out[i.id] = Transition.fail(P.act, "act: no final action recorded for this case")
            continue
        refused = citizen_refusal(citizenship_of(case_row.case_json), chosen)
        if refused is not None:  # written before this rule existed, or edited: never lodged
            batch.add(
                REFUSED_EVENT, actor=officers.get(action_id, AUTO_ACCEPT_ACTOR),
                subject={"case_id": cid},
                payload={"step": "lodging", "refused_action": Action(chosen).value,
                         "status_determination": citizenship_of(case_row.case_json),
                         "reason": refused},
            )  # fmt: skip
            out[i.id] = Transition.fail(P.act, f"act: case {cid}: {refused}")
            continue
        decision = Decision.model_validate(d_row.decision)
        case = Case.model_validate(case_row.case_json)
        kind = DETAINER_ACTIONS.get(Action(chosen).value)
        if kind is not None:
            lodges.append(
                lifecycle.LodgeRequest(
                    case_id=cid,
                    officer_action_id=action_id,
                    ori=case_row.ori,
                    kind=kind,
                    issued_at=now,
                    actor=officers[action_id],
                    policy=policy_ref(ctx, decision, facility_date(case)),
                )
            )
        facts = decision_facts(
            case, case_row.fin, fbi.get(i.id), aliases.get(case_row.fin or "", []),
            histories.get(i.id),
        )  # fmt: skip
        decision_notices.append(
            notices.DecisionNotice(cid, case_row.ori, decision, facts, now, final_action=chosen)
        )
        out[i.id] = _done()
    # batched writes, in the order one call per case would make them: detainers (with their
    # events and notices), then the decision notices; one audit append for all of it
    lifecycle.lodge_many(session, lodges, audit_batch=batch)
    notices.send_decision_notices(session, decision_notices, audit_batch=batch)
    batch.flush()
    return out


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class StageSpec:
    stage: PipelineStage
    run: Callable[[Session, Context, Sequence[Item]], dict[int, Transition]]
    #: only with ``--auto-accept`` (officers are people otherwise)
    needs_auto_accept: bool = False


#: Automatic stages, downstream first (the worker drains the pipeline's end first).
AUTOMATIC: tuple[StageSpec, ...] = (
    StageSpec(P.act, act),
    StageSpec(P.officer, auto_accept, needs_auto_accept=True),
    StageSpec(P.decide, decide),
    StageSpec(P.lesc, lesc),
    StageSpec(P.biographic, biographic),
    StageSpec(P.ident, ident),
    StageSpec(P.criminal_history, criminal_history),
)
STAGES = {s.stage: s for s in AUTOMATIC}
#: Stages that wait for a person.
HUMAN = (P.verification, P.officer)
