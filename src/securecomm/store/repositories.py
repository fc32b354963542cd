"""The store operations the pipeline needs: small, explicit, no business rules.

Every function works inside the caller's :class:`~sqlalchemy.orm.Session` transaction and never
commits; the caller decides the unit of work. Writes that the audit log covers (decisions,
officer actions, detainers and their events, notices) append their audit entry in the same
transaction, so the change and its audit entry commit or vanish together.

Idempotency (DESIGN 8: a resumed run duplicates nothing)
    :func:`submit_submission` on the TCN, :func:`open_case` on the case id,
    :func:`record_decision` on (case, policy, version, case document), :func:`create_notice`
    on its idempotency key. Repeating a call with the same content returns the existing row
    (``created`` False); the same key with different content raises
    :class:`~securecomm.store.errors.ConflictError` -- never a silent overwrite.

Input errors raise :class:`~securecomm.store.errors.InputError` naming the field. The one
exception is :func:`reject_input`, which keeps *anything* it is given.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..law.schema import Action, Case, Decision, Disclosure, Disposition, Program
from . import audit
from .errors import ConflictError, InputError, NotFoundError, TcnConflictError
from .models import (
    ACTOR_MAX,
    CASE_FACT_NAMES,
    CASE_ID_MAX,
    FACT_SOURCE_MAX,
    IDEMPOTENCY_KEY_MAX,
    POLICY_MAX,
    POLICY_REF_MAX,
    REPOSITORY_FLAGS,
    SOURCE_MAX,
    TCN_MAX,
    CaseFact,
    CaseRecord,
    CaseState,
    Charge,
    DecisionRecord,
    Detainer,
    DetainerEvent,
    DetainerEventType,
    DetainerKind,
    DetainerState,
    Jurisdiction,
    Notice,
    NoticeKind,
    OfficerAction,
    OfficerActionKind,
    PipelineStage,
    RawEncoding,
    RawKind,
    RejectedInput,
    Submission,
    SubmissionState,
)
from .types import canonical_json, check_storable_json, check_text, sha256_hex

__all__ = [
    "RAW_TEXT_MAX",
    "TRUNCATION_MARKER",
    "CaseFactToRecord",
    "CaseToOpen",
    "DecisionToRecord",
    "DetainerToIssue",
    "FinalActionToSet",
    "NoticeToCreate",
    "OfficerActionToRecord",
    "add_detainer_event",
    "case_facts_in_force",
    "create_notice",
    "create_notices",
    "escape_raw",
    "get_case",
    "get_submission",
    "insert_returning_ids",
    "issue_detainer",
    "issue_detainers",
    "latest_decision",
    "list_case_facts",
    "list_cases",
    "list_decisions",
    "list_detainers",
    "list_notices",
    "list_rejected",
    "list_submissions",
    "mark_notice_delivered",
    "open_case",
    "open_cases",
    "original_input",
    "record_case_fact",
    "record_case_facts",
    "record_charge_disposition",
    "record_decision",
    "record_decisions",
    "record_officer_action",
    "record_officer_actions",
    "reject_input",
    "retry_failed_submissions",
    "set_case_state",
    "set_final_actions",
    "set_submission_state",
    "submit_submission",
    "unescape_raw",
    "update_case_document",
    "upsert_jurisdiction",
]

#: Characters of rejected input kept verbatim; beyond it the text is cut and marked.
RAW_TEXT_MAX = 1_000_000
#: Appended to a cut ``raw_text``: ``TRUNCATION_MARKER.format(kept=..., total=...)``.
TRUNCATION_MARKER = "\n…[securecomm: input truncated, {kept} of {total} characters kept]"
_MARKER_PREFIX = TRUNCATION_MARKER.split("{", 1)[0]
_ERROR_TEXT_MAX = 10_000
_ERRORS_MAX = 1_000
_ORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
_TERMINAL = {
    DetainerState.custody,
    DetainerState.lifted,
    DetainerState.lapsed,
    DetainerState.expired,
}


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InputError(field, f"a datetime expected, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "naive datetime: give an aware datetime (with an offset)")
    return value.astimezone(UTC)


def _ori(value: object, field: str = "ori") -> str:
    check_text(field, value, min_length=1, max_length=9)
    if not _ORI.match(value):  # type: ignore[arg-type]
        raise InputError(field, f"{value!r}: an ORI is 2 letters and 7 letters or digits")
    return value  # type: ignore[return-value]


def _validation_error(prefix: str, exc: ValidationError) -> InputError:
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    return InputError(f"{prefix}.{loc}" if loc else prefix, first.get("msg", str(exc)))


def _insert_once(session: Session, row: Any) -> IntegrityError | None:
    """Insert ``row`` in a savepoint. On an integrity error (a concurrent insert of the same
    key, or a bad reference) roll back to the savepoint and return the error; the caller
    looks for the concurrent row and re-raises the error if there is none."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        return exc
    return None


# --------------------------------------------------------------------------- jurisdictions


def upsert_jurisdiction(
    session: Session,
    ori: str,
    *,
    state: str,
    timezone: str,
    name: str | None = None,
    county_fips: str | None = None,
    activated_on: date | None = None,
    disclosure: Disclosure | str = Disclosure.full,
    honors_detainers: bool = True,
    programs_active: Iterable[Program | str] = (Program.secure_communities,),
) -> Jurisdiction:
    """Create or update a jurisdiction (reference data; not audited)."""
    _ori(ori)
    if not (isinstance(state, str) and re.fullmatch(r"[A-Z]{2}", state)):
        raise InputError("state", f"{state!r}: two capital letters expected")
    if county_fips is not None and not (
        isinstance(county_fips, str) and re.fullmatch(r"[0-9]{5}", county_fips)
    ):
        raise InputError("county_fips", f"{county_fips!r}: five digits expected")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InputError("timezone", f"unknown IANA time zone {timezone!r}") from exc
    try:
        disclosure = Disclosure(disclosure)
        programs = sorted({Program(p).value for p in programs_active})
    except ValueError as exc:
        raise InputError("disclosure/programs_active", str(exc)) from exc
    row = session.get(Jurisdiction, ori)
    if row is None:
        row = Jurisdiction(ori=ori)
        session.add(row)
    row.name, row.state, row.county_fips, row.timezone = name, state, county_fips, timezone
    row.activated_on, row.disclosure, row.honors_detainers = (
        activated_on,
        disclosure,
        honors_detainers,
    )
    row.programs_active = programs
    session.flush()
    return row


# --------------------------------------------------------------------------- submissions


def submit_submission(
    session: Session,
    tcn: str,
    ori: str,
    payload: dict[str, Any],
    received_at: datetime,
) -> tuple[Submission, bool]:
    """Accept a submission, idempotent on its TCN.

    Returns ``(submission, created)``. The same TCN again with the same ORI and payload
    returns the stored row with ``created`` False (its original ``received_at`` kept); with a
    different payload or ORI it raises :class:`TcnConflictError` naming the TCN.
    """
    check_text("tcn", tcn, min_length=1, max_length=TCN_MAX)
    _ori(ori)
    if not isinstance(payload, dict):
        raise InputError("payload", f"a JSON object expected, got {type(payload).__name__}")
    check_storable_json(payload, "payload")
    received_at = _aware("received_at", received_at)
    digest = sha256_hex(canonical_json(payload))

    def same(existing: Submission) -> tuple[Submission, bool]:
        if existing.payload_sha256 != digest or existing.ori != ori:
            raise TcnConflictError(tcn, existing.payload_sha256, digest)
        return existing, False

    existing = session.scalar(select(Submission).where(Submission.tcn == tcn))
    if existing is not None:
        return same(existing)
    if session.get(Jurisdiction, ori) is None:
        raise InputError("ori", f"{ori!r} is not a participating jurisdiction")
    row = Submission(
        tcn=tcn,
        ori=ori,
        payload=payload,
        payload_sha256=digest,
        received_at=received_at,
        state=SubmissionState.received,
        state_changed_at=received_at,
    )
    error = _insert_once(session, row)
    if error is None:
        return row, True
    existing = session.scalar(select(Submission).where(Submission.tcn == tcn))
    if existing is None:  # pragma: no cover - the unique key was not the cause
        raise error
    return same(existing)


def get_submission(session: Session, tcn: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.tcn == tcn))


def set_submission_state(
    session: Session,
    submission_id: int,
    state: SubmissionState | str,
    *,
    error: str | None = None,
    at: datetime | None = None,
) -> Submission:
    row = session.get(Submission, submission_id)
    if row is None:
        raise NotFoundError(f"submission {submission_id} does not exist")
    row.state = SubmissionState(state)
    row.error = error
    row.state_changed_at = _aware("at", at) if at is not None else _now()
    session.flush()
    return row


def list_submissions(
    session: Session,
    *,
    state: SubmissionState | str | None = None,
    stage: PipelineStage | str | None = None,
    limit: int = 100,
) -> list[Submission]:
    """Submissions oldest first (a work queue with ``state``; ``stage``: waiting in it, or,
    for failed ones, failed in it)."""
    stmt = select(Submission)
    try:
        if state is not None:
            stmt = stmt.where(Submission.state == SubmissionState(state))
        if stage is not None:
            stmt = stmt.where(Submission.stage == PipelineStage(stage))
    except ValueError as exc:
        raise InputError("state/stage", str(exc)) from exc
    return list(session.scalars(stmt.order_by(Submission.received_at, Submission.id).limit(limit)))


def retry_failed_submissions(
    session: Session,
    *,
    tcns: Sequence[str] | None = None,
    actor: str,
    at: datetime | None = None,
) -> list[tuple[Submission, bool]]:
    """Re-queue failed submissions in the stage they failed in (the worker records a failure
    as ``state = failed`` with the ``stage`` and the ``error``): state back to ``processing``
    (``received`` if it failed in the first stage), error cleared, each retry audited
    ``submission.retried`` with the error it clears. ``tcns``: those submissions (an unknown
    TCN raises :class:`NotFoundError`); None: every failed one.

    Returns ``(submission, retried)``: a named submission that is not failed (already
    retried, or never failed) is returned with ``retried`` False and left alone -- retrying
    twice is harmless. Rows are locked (``FOR UPDATE``) so two retries cannot race.
    """
    check_text("actor", actor, min_length=1, max_length=ACTOR_MAX)
    at = _aware("at", at) if at is not None else _now()
    stmt = select(Submission).order_by(Submission.id).with_for_update()
    if tcns is None:
        rows = list(session.scalars(stmt.where(Submission.state == SubmissionState.failed)))
    else:
        wanted = []
        for n, tcn in enumerate(tcns):
            check_text(f"tcn[{n}]", tcn, min_length=1, max_length=TCN_MAX)
            wanted.append(tcn)
        rows = list(session.scalars(stmt.where(Submission.tcn.in_(wanted))))
        missing = sorted(set(wanted) - {r.tcn for r in rows})
        if missing:
            raise NotFoundError(f"tcn: no submission with TCN {', '.join(map(repr, missing))}")
    out: list[tuple[Submission, bool]] = []
    batch = audit.AuditBatch(session)
    for row in rows:
        if row.state is not SubmissionState.failed:
            out.append((row, False))
            continue
        previous = row.error
        row.state = (
            SubmissionState.received
            if row.stage is PipelineStage.criminal_history
            else SubmissionState.processing
        )
        row.error = None
        row.state_changed_at = at
        batch.add(
            "submission.retried",
            actor=actor,
            subject={"submission_id": row.id, "tcn": row.tcn},
            payload={"stage": row.stage.value, "cleared_error": previous, "at": at.isoformat()},
            recorded_at=at,
        )
        out.append((row, True))
    session.flush()
    batch.flush()
    return out


# --------------------------------------------------------------------------- rejected input


def _is_storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape_raw(text: str) -> str:
    """Reversible escaping for text the database cannot hold: ``\\`` -> ``\\\\``,
    NUL -> ``\\0``, a lone surrogate -> ``\\uXXXX``. Inverse: :func:`unescape_raw`."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\x00":
            out.append("\\0")
        elif "\ud800" <= ch <= "\udfff":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def unescape_raw(text: str) -> str:
    """Inverse of :func:`escape_raw`."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "\\":
                out.append("\\")
                i += 2
                continue
            if nxt == "0":
                out.append("\x00")
                i += 2
                continue
            if nxt == "u" and i + 6 <= n:
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _safe_text(value: str, limit: int = _ERROR_TEXT_MAX) -> str:
    if len(value) > limit:
        value = value[:limit] + "…"
    return value if _is_storable_text(value) else escape_raw(value)


def _sanitize(value: Any, depth: int = 0) -> Any:
    """Any object -> JSON both backends can store (lossy only where it must be)."""
    if depth > 32:
        return _safe_text(repr(value))
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        )
    if isinstance(value, str):
        return _safe_text(value)
    if isinstance(value, Mapping):
        return {
            _safe_text(k if isinstance(k, str) else repr(k), 200): _sanitize(v, depth + 1)
            for k, v in list(value.items())[:_ERRORS_MAX]
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_sanitize(v, depth + 1) for v in list(value)[:_ERRORS_MAX]]
    if isinstance(value, bytes | bytearray):
        return _safe_text(bytes(value).decode("utf-8", "backslashreplace"))
    try:
        text = str(value)
    except Exception:  # a hostile __str__
        text = f"<unprintable {type(value).__name__}>"
    return _safe_text(text)


def _errors_list(errors: Any) -> list:
    if errors is None:
        return []
    if isinstance(errors, Mapping | str | bytes):
        errors = [errors]
    try:
        items = list(errors)
    except TypeError:
        items = [errors]
    out = []
    for item in items[:_ERRORS_MAX]:
        item = _sanitize(item)
        out.append(item if isinstance(item, dict) else {"message": item})
    if len(items) > _ERRORS_MAX:
        out.append({"message": f"… {len(items) - _ERRORS_MAX} more errors not kept"})
    return out


def reject_input(
    session: Session,
    source: str,
    raw_text: str | bytes | None,
    errors: list[dict[str, Any]] | Any,
    received_at: datetime | None = None,
) -> RejectedInput:
    """Keep input that was not accepted, with the reasons. Never raises on what it is given.

    * ``raw_text``: ``str`` or ``bytes`` (anything else is kept as its ``str()``), stored
      verbatim up to :data:`RAW_TEXT_MAX` characters, then cut with :data:`TRUNCATION_MARKER`
      (``truncated`` True, ``raw_length`` the full length, ``raw_sha256`` over the whole
      input). Text with NUL, lone surrogates, or bytes that are not UTF-8 (decoded with
      ``surrogateescape``) is stored escaped (:func:`escape_raw`); :func:`original_input`
      gives back the original (or its kept part).
    * ``errors``: a list of dicts as a rule; anything is accepted and made storable.
    * ``source``: cut to 64 characters; ``received_at``: now if missing, UTC if naive.
    """
    if raw_text is None:
        raw_text = ""
    if isinstance(raw_text, bytes | bytearray | memoryview):
        data = bytes(raw_text)
        kind, length, digest = RawKind.bytes, len(data), sha256_hex(data)
        text = data.decode("utf-8", "surrogateescape")
    else:
        if not isinstance(raw_text, str):
            try:
                raw_text = str(raw_text)
            except Exception:
                raw_text = f"<unprintable {type(raw_text).__name__}>"
        text = raw_text
        kind, length = RawKind.text, len(text)
        digest = sha256_hex(text.encode("utf-8", "surrogatepass"))
    total_chars = len(text)
    truncated = total_chars > RAW_TEXT_MAX
    if truncated:
        text = text[:RAW_TEXT_MAX]
    if _is_storable_text(text):
        encoding, stored = RawEncoding.verbatim, text
    else:
        encoding, stored = RawEncoding.escaped, escape_raw(text)
    if truncated:
        stored += TRUNCATION_MARKER.format(kept=RAW_TEXT_MAX, total=total_chars)

    if not isinstance(source, str):
        source = _sanitize(source) if source is not None else ""
        source = source if isinstance(source, str) else repr(source)
    source = _safe_text(source, SOURCE_MAX)[:SOURCE_MAX] or "unknown"
    if not isinstance(received_at, datetime):
        received_at = _now()
    elif received_at.tzinfo is None or received_at.utcoffset() is None:
        received_at = received_at.replace(tzinfo=UTC)

    row = RejectedInput(
        source=source,
        received_at=received_at,
        raw_kind=kind,
        raw_encoding=encoding,
        raw_text=stored,
        raw_length=length,
        raw_sha256=digest,
        truncated=truncated,
        errors=_errors_list(errors),
    )
    session.add(row)
    session.flush()
    return row


def original_input(row: RejectedInput) -> str | bytes:
    """The input as it was received (its first :data:`RAW_TEXT_MAX` characters if cut)."""
    text = row.raw_text
    if row.truncated:
        cut = text.rfind(_MARKER_PREFIX)
        if cut >= 0:
            text = text[:cut]
    if row.raw_encoding == RawEncoding.escaped:
        text = unescape_raw(text)
    if row.raw_kind == RawKind.bytes:
        return text.encode("utf-8", "surrogateescape")
    return text


def list_rejected(
    session: Session, *, source: str | None = None, limit: int = 100
) -> list[RejectedInput]:
    """Rejected inputs, newest first."""
    stmt = select(RejectedInput)
    if source is not None:
        stmt = stmt.where(RejectedInput.source == source)
    stmt = stmt.order_by(RejectedInput.received_at.desc(), RejectedInput.id.desc())
    return list(session.scalars(stmt.limit(limit)))


# --------------------------------------------------------------------------- cases


def _case_document(case: Case | Mapping[str, Any]) -> tuple[Case, dict[str, Any], str]:
    if not isinstance(case, Case):
        if not isinstance(case, Mapping):
            raise InputError("case", f"a Case v1 object expected, got {type(case).__name__}")
        try:
            case = Case.model_validate(dict(case))
        except ValidationError as exc:
            raise _validation_error("case", exc) from exc
    document = case.model_dump(mode="json")
    check_storable_json(document, "case")
    return case, document, sha256_hex(canonical_json(document))


def open_case(
    session: Session,
    case: Case | Mapping[str, Any],
    *,
    opened_at: datetime,
    submission_id: int | None = None,
    hit_id: int | None = None,
    fin: str | None = None,
) -> tuple[CaseRecord, bool]:
    """Open a case for a Case v1 document, idempotent on ``case_id``.

    The document is validated and stored normalised (``model_dump(mode="json")``). Opening
    the same case again with the same document returns it (``created`` False); with a
    different document raises :class:`ConflictError` (use :func:`set_case_state` and a new
    decision for lifecycle changes).
    """
    model, _document, _digest = _case_document(case)
    item = CaseToOpen(model, opened_at, submission_id=submission_id, hit_id=hit_id, fin=fin)
    (created,) = _one(
        session,
        lambda: open_cases(session, [item]),
        lambda: session.get(CaseRecord, model.case_id),
    )
    row = session.get(CaseRecord, model.case_id)
    assert row is not None
    return row, created


def get_case(session: Session, case_id: str) -> CaseRecord | None:
    return session.get(CaseRecord, case_id)


def set_case_state(session: Session, case_id: str, state: CaseState | str) -> CaseRecord:
    row = session.get(CaseRecord, case_id)
    if row is None:
        raise NotFoundError(f"case {case_id!r} does not exist")
    row.state = CaseState(state)
    row.updated_at = _now()
    session.flush()
    return row


def list_cases(
    session: Session,
    *,
    state: CaseState | str | None = None,
    ori: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 100,
) -> list[CaseRecord]:
    """Cases oldest first, filtered by worklist state and/or ORI; keyset-paged: pass the last
    row's ``(opened_at, case_id)`` as ``after``."""
    stmt: Select = select(CaseRecord)
    if state is not None:
        stmt = stmt.where(CaseRecord.state == CaseState(state))
    if ori is not None:
        stmt = stmt.where(CaseRecord.ori == ori)
    if after is not None:
        at, case_id = after
        stmt = stmt.where(
            or_(
                CaseRecord.opened_at > at,
                and_(CaseRecord.opened_at == at, CaseRecord.case_id > case_id),
            )
        )
    return list(
        session.scalars(stmt.order_by(CaseRecord.opened_at, CaseRecord.case_id).limit(limit))
    )


def update_case_document(
    session: Session,
    case_id: str,
    case: Case | Mapping[str, Any],
    *,
    actor: str,
    at: datetime,
    reason: str,
) -> tuple[CaseRecord, bool]:
    """Replace a case's Case v1 document (facts changed: see :func:`record_case_facts`),
    audited ``case.document_updated`` with the old and new SHA-256 -> ``(row, changed)``.

    The decisions keep the document hash they were computed from, so the history stays
    readable; the same document again changes nothing (``changed`` False, no entry)."""
    model, document, digest = _case_document(case)
    if model.case_id != case_id:
        raise InputError("case.case_id", f"{model.case_id!r} is not case {case_id!r}")
    check_text("actor", actor, min_length=1, max_length=ACTOR_MAX)
    check_text("reason", reason, min_length=1, max_length=10_000)
    at = _aware("at", at)
    row = session.get(CaseRecord, case_id)
    if row is None:
        raise NotFoundError(f"case {case_id!r} does not exist")
    if row.case_sha256 == digest:
        return row, False
    old = row.case_sha256
    row.case_json, row.case_sha256, row.updated_at = document, digest, at
    session.flush()
    audit.append(
        session,
        "case.document_updated",
        actor=actor,
        subject={"case_id": case_id},
        payload={"old_case_sha256": old, "case_sha256": digest, "reason": reason,
                 "at": at.isoformat()},
    )  # fmt: skip
    return row, True


# --------------------------------------------------------------------------- case facts


@dataclass(frozen=True)
class CaseFactToRecord:
    """One asserted fact: ``fact`` a name of :data:`~.models.CASE_FACT_NAMES`, ``value`` a
    bool (false retracts), ``source`` who asserted it, ``recorded_by`` who entered it."""

    case_id: str
    fact: str
    value: bool
    source: str
    recorded_by: str
    recorded_at: datetime


def _check_fact(item: CaseFactToRecord) -> dict[str, Any]:
    check_text("case_id", item.case_id, min_length=1, max_length=CASE_ID_MAX)
    if not isinstance(item.fact, str):
        raise InputError("fact", f"a fact name expected, got {type(item.fact).__name__}")
    if item.fact in REPOSITORY_FLAGS:
        raise InputError(
            "fact",
            f"{item.fact!r} comes from the criminal-history repository, not a recorded fact",
        )
    if item.fact not in CASE_FACT_NAMES:
        raise InputError("fact", f"{item.fact[:64]!r} is not one of {', '.join(CASE_FACT_NAMES)}")
    if not isinstance(item.value, bool):
        raise InputError("value", f"true or false expected, got {item.value!r}"[:200])
    check_text("source", item.source, min_length=1, max_length=FACT_SOURCE_MAX)
    if not item.source.strip():
        raise InputError("source", "must not be blank: say who asserted the fact")
    check_text("recorded_by", item.recorded_by, min_length=1, max_length=ACTOR_MAX)
    if not item.recorded_by.strip():
        raise InputError("recorded_by", "must not be blank")
    return {
        "case_id": item.case_id,
        "fact": item.fact,
        "value": item.value,
        "source": item.source.strip(),
        "recorded_by": item.recorded_by.strip(),
        "recorded_at": _aware("recorded_at", item.recorded_at),
    }


def record_case_facts(
    session: Session,
    items: Sequence[CaseFactToRecord],
    *,
    audit_batch: audit.AuditBatch | None = None,
) -> list[int]:
    """Append case facts (every item checked first, naming the field: nothing is written
    if one is bad), each audited ``case.fact_recorded`` -> their ids. Append-only: nothing
    is updated; the latest row per (case, fact) is in force (:func:`case_facts_in_force`)."""
    rows = [_check_fact(item) for item in items]
    ids = insert_returning_ids(session, CaseFact.__table__, rows)
    batch = _own_batch(session, audit_batch)
    for row, fact_id in zip(rows, ids, strict=True):
        batch.add(
            "case.fact_recorded",
            actor=row["recorded_by"],
            subject={"case_id": row["case_id"], "case_fact_id": fact_id},
            rows=[("case_facts", fact_id)],
            payload={
                "fact": row["fact"],
                "value": row["value"],
                "source": row["source"],
                "recorded_at": row["recorded_at"].isoformat(),
            },
        )
    if audit_batch is None:
        batch.flush()
    return ids


def record_case_fact(
    session: Session,
    case_id: str,
    fact: str,
    value: bool,
    *,
    source: str,
    recorded_by: str,
    recorded_at: datetime,
) -> CaseFact:
    """Record one fact (see :func:`record_case_facts`)."""
    (fact_id,) = record_case_facts(
        session, [CaseFactToRecord(case_id, fact, value, source, recorded_by, recorded_at)]
    )
    row = session.get(CaseFact, fact_id)
    assert row is not None
    return row


def list_case_facts(session: Session, case_id: str) -> list[CaseFact]:
    """Every fact recorded for a case (retractions included), in the order recorded."""
    stmt = select(CaseFact).where(CaseFact.case_id == case_id)
    return list(session.scalars(stmt.order_by(CaseFact.recorded_at, CaseFact.id)))


def case_facts_in_force(session: Session, case_ids: Sequence[str]) -> dict[str, dict[str, bool]]:
    """The facts in force per case: the latest row per (case, fact) (by ``recorded_at``,
    then id). Cases without facts are absent."""
    out: dict[str, dict[str, bool]] = {}
    for chunk in _chunks(sorted(set(case_ids))):
        for case_id, fact, value in session.execute(
            select(CaseFact.case_id, CaseFact.fact, CaseFact.value)
            .where(CaseFact.case_id.in_(chunk))
            .order_by(CaseFact.recorded_at, CaseFact.id)
        ):
            out.setdefault(case_id, {})[fact] = bool(value)  # the later row wins
    return out


# --------------------------------------------------------------------------- decisions


def record_decision(
    session: Session,
    case_id: str,
    decision: Decision | Mapping[str, Any],
    *,
    decided_at: datetime,
    actor: str = "policy-engine",
) -> tuple[DecisionRecord, bool]:
    """Store a Decision v1 for a case (and audit it), idempotent per case document.

    The decision is validated; its ``case_id`` must be ``case_id``. It is tied to the case's
    current document (``case_sha256``): the same policy and version on the same document
    again returns the stored row (``created`` False) if the decision is identical, and raises
    :class:`ConflictError` if it differs (a policy version must be deterministic).
    """
    if not isinstance(decision, Decision):
        if not isinstance(decision, Mapping):
            raise InputError(
                "decision", f"a Decision v1 object expected, got {type(decision).__name__}"
            )
        try:
            decision = Decision.model_validate(dict(decision))
        except ValidationError as exc:
            raise _validation_error("decision", exc) from exc
    decided_at = _aware("decided_at", decided_at)
    case = session.get(CaseRecord, case_id)
    if case is None:
        raise NotFoundError(f"case {case_id!r} does not exist")
    item = DecisionToRecord(case_id, case.case_sha256, decision, decided_at)
    ((decision_id, created),) = _one(
        session,
        lambda: record_decisions(session, [item], actor=actor),
        lambda: session.scalar(
            select(DecisionRecord.id).where(
                DecisionRecord.case_id == case_id,
                DecisionRecord.policy == decision.policy,
                DecisionRecord.policy_version == decision.policy_version,
                DecisionRecord.case_sha256 == case.case_sha256,
            )
        ),
    )
    row = session.get(DecisionRecord, decision_id)
    assert row is not None
    return row, created


def latest_decision(
    session: Session, case_id: str, *, policy: str | None = None
) -> DecisionRecord | None:
    stmt = select(DecisionRecord).where(DecisionRecord.case_id == case_id)
    if policy is not None:
        stmt = stmt.where(DecisionRecord.policy == policy)
    return session.scalar(
        stmt.order_by(DecisionRecord.recorded_at.desc(), DecisionRecord.id.desc()).limit(1)
    )


def list_decisions(session: Session, case_id: str) -> list[DecisionRecord]:
    stmt = select(DecisionRecord).where(DecisionRecord.case_id == case_id)
    return list(session.scalars(stmt.order_by(DecisionRecord.recorded_at, DecisionRecord.id)))


# --------------------------------------------------------------------------- officer actions


def record_officer_action(
    session: Session,
    case_id: str,
    kind: OfficerActionKind | str,
    *,
    officer: str,
    acted_at: datetime,
    decision_id: int | None = None,
    chosen_action: Action | str | None = None,
    reason: str | None = None,
) -> OfficerAction:
    """Record an officer's or supervisor's action on a case (audited ``officer.<kind>``).
    An override needs a reason (checked here and by the database)."""
    (action_id,) = record_officer_actions(
        session,
        [
            OfficerActionToRecord(
                case_id, kind, officer, acted_at, decision_id=decision_id,
                chosen_action=chosen_action, reason=reason,
            )
        ],
    )  # fmt: skip
    row = session.get(OfficerAction, action_id)
    assert row is not None
    return row


# --------------------------------------------------------------------------- detainers


def issue_detainer(
    session: Session,
    case_id: str,
    kind: DetainerKind | str,
    *,
    ori: str,
    issued_at: datetime,
    actor: str,
    officer_action_id: int | None = None,
    state: DetainerState | str | None = None,
) -> Detainer:
    """Lodge a detainer / notification request with its ``issued`` event (audited).
    Default state: ``pending_condition`` for a conditional detainer, else ``active``."""
    (detainer_id,) = issue_detainers(
        session,
        [
            DetainerToIssue(
                case_id, kind, ori, issued_at, actor, officer_action_id=officer_action_id,
                state=state,
            )
        ],
    )  # fmt: skip
    row = session.get(Detainer, detainer_id)
    assert row is not None
    return row


def add_detainer_event(
    session: Session,
    detainer_id: int,
    event_type: DetainerEventType | str,
    *,
    occurred_at: datetime,
    actor: str,
    new_state: DetainerState | str | None = None,
    release_eligible_at: datetime | None = None,
    hold_until: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> DetainerEvent:
    """Record a detainer lifecycle event (audited ``detainer.<event_type>``) and apply what
    the caller says changed: state, release-eligible time, hold-until. The rules deciding
    those belong to the pipeline, not here."""
    try:
        event_type = DetainerEventType(event_type)
        new_state = DetainerState(new_state) if new_state is not None else None
    except ValueError as exc:
        raise InputError("event_type/new_state", str(exc)) from exc
    check_text("actor", actor, min_length=1, max_length=ACTOR_MAX)
    occurred_at = _aware("occurred_at", occurred_at)
    details = dict(details or {})
    check_storable_json(details, "details")
    detainer = session.get(Detainer, detainer_id)
    if detainer is None:
        raise NotFoundError(f"detainer {detainer_id} does not exist")
    if release_eligible_at is not None:
        detainer.release_eligible_at = _aware("release_eligible_at", release_eligible_at)
    if hold_until is not None:
        detainer.hold_until = _aware("hold_until", hold_until)
    if new_state is not None:
        detainer.state = new_state
        if new_state in _TERMINAL:
            detainer.closed_at = occurred_at
    detainer.updated_at = _now()
    event = DetainerEvent(
        detainer_id=detainer_id,
        event_type=event_type,
        occurred_at=occurred_at,
        recorded_at=_now(),
        actor=actor,
        details=details,
    )
    session.add(event)
    session.flush()
    audit.append(
        session,
        f"detainer.{event_type.value}",
        actor=actor,
        subject={"case_id": detainer.case_id, "detainer_id": detainer_id, "event_id": event.id},
        rows=[("detainers", detainer_id), ("detainer_events", event.id)],
        payload={
            "occurred_at": occurred_at.isoformat(),
            "state": detainer.state.value,
            "release_eligible_at": (
                detainer.release_eligible_at.isoformat() if detainer.release_eligible_at else None
            ),
            "hold_until": detainer.hold_until.isoformat() if detainer.hold_until else None,
            "details": details,
        },
    )
    return event


def list_detainers(
    session: Session,
    *,
    state: DetainerState | str | Sequence[DetainerState | str] | None = None,
    ori: str | None = None,
    hold_until_before: datetime | None = None,
    limit: int = 100,
) -> list[Detainer]:
    """Detainers by hold-until time (soonest first; none-yet last), filtered by state(s),
    ORI and an upper bound on hold-until (the expiry worklist)."""
    stmt = select(Detainer)
    if state is not None:
        states = [state] if isinstance(state, str | DetainerState) else list(state)
        stmt = stmt.where(Detainer.state.in_([DetainerState(s) for s in states]))
    if ori is not None:
        stmt = stmt.where(Detainer.ori == ori)
    if hold_until_before is not None:
        stmt = stmt.where(Detainer.hold_until < _aware("hold_until_before", hold_until_before))
    stmt = stmt.order_by(Detainer.hold_until.is_(None), Detainer.hold_until, Detainer.id)
    return list(session.scalars(stmt.limit(limit)))


# --------------------------------------------------------------------------- charges


def record_charge_disposition(
    session: Session,
    charge_id: int,
    disposition: Disposition | str,
    *,
    disposed_on: date,
    at: datetime,
    actor: str,
    case_id: str | None = None,
    charge_index: int | None = None,
) -> Charge:
    """Set a booking charge's disposition and date (audited ``charge.disposition``).

    The rules (which disposition may follow which, what it does to detainers) belong to
    :func:`securecomm.interop.lifecycle.record_disposition`; ``case_id`` and
    ``charge_index`` (its place in the case's charges) go into the audit entry.
    """
    try:
        disposition = Disposition(disposition)
    except ValueError as exc:
        raise InputError("disposition", str(exc)) from exc
    if not isinstance(disposed_on, date) or isinstance(disposed_on, datetime):
        raise InputError("disposed_on", f"a date expected, got {type(disposed_on).__name__}")
    at = _aware("at", at)
    check_text("actor", actor, min_length=1, max_length=ACTOR_MAX)
    row = session.get(Charge, charge_id) if isinstance(charge_id, int) else None
    if row is None:
        raise NotFoundError(f"charge {charge_id!r} does not exist")
    row.disposition, row.disposed_on = disposition, disposed_on
    session.flush()
    audit.append(
        session,
        "charge.disposition",
        actor=actor,
        subject={"case_id": case_id, "charge_id": row.id},
        payload={
            "charge_index": charge_index,
            "position": row.position,
            "disposition": disposition.value,
            "disposed_on": disposed_on.isoformat(),
            "at": at.isoformat(),
        },
    )
    return row


# --------------------------------------------------------------------------- notices


def create_notice(
    session: Session,
    *,
    ori: str,
    kind: NoticeKind | str,
    idempotency_key: str,
    content: Mapping[str, Any],
    created_at: datetime,
    case_id: str | None = None,
    submission_id: int | None = None,
    detainer_id: int | None = None,
    actor: str = "notifier",
) -> tuple[Notice, bool]:
    """Create a notice to an LEA (a disclosure: audited ``notice.created``), idempotent on
    ``idempotency_key``; the same key with different content raises :class:`ConflictError`."""
    item = NoticeToCreate(
        ori, kind, idempotency_key, content, created_at, case_id=case_id,
        submission_id=submission_id, detainer_id=detainer_id, actor=actor,
    )  # fmt: skip
    ((notice_id, created),) = _one(
        session,
        lambda: create_notices(session, [item]),
        lambda: session.scalar(select(Notice.id).where(Notice.idempotency_key == idempotency_key)),
    )
    row = session.get(Notice, notice_id)
    assert row is not None
    return row, created


def mark_notice_delivered(
    session: Session, notice_id: int, at: datetime, *, actor: str = "notifier"
) -> Notice:
    """Record when a notice was delivered (once; audited ``notice.delivered``)."""
    check_text("actor", actor, min_length=1, max_length=ACTOR_MAX)
    row = session.get(Notice, notice_id)
    if row is None:
        raise NotFoundError(f"notice {notice_id} does not exist")
    if row.delivered_at is None:
        row.delivered_at = _aware("at", at)
        session.flush()
        audit.append(
            session,
            "notice.delivered",
            actor=actor,
            subject={"case_id": row.case_id, "notice_id": row.id, "ori": row.ori},
            payload={"delivered_at": row.delivered_at.isoformat()},
            rows=[("notices", row.id)],
        )
    return row


def list_notices(
    session: Session,
    ori: str,
    *,
    undelivered_only: bool = False,
    case_id: str | None = None,
    limit: int = 100,
) -> list[Notice]:
    """An LEA's notices, oldest first (an LEA sees only its own ORI); ``case_id``: only that
    case's."""
    stmt = select(Notice).where(Notice.ori == ori)
    if case_id is not None:
        check_text("case_id", case_id, min_length=1, max_length=CASE_ID_MAX)
        stmt = stmt.where(Notice.case_id == case_id)
    if undelivered_only:
        stmt = stmt.where(Notice.delivered_at.is_(None))
    return list(session.scalars(stmt.order_by(Notice.created_at, Notice.id).limit(limit)))


# --------------------------------------------------------------------------- batch writes
#
# The pipeline writes a few rows per booking. These functions write them for a whole
# micro-batch: one lookup per key set, one multi-row INSERT ... RETURNING per table, one audit
# append for the batch (:class:`~securecomm.store.audit.AuditBatch`: still one entry -- one
# Merkle leaf -- per decision, action, detainer event and notice). The one-row functions above
# call these with a batch of one, inside a savepoint that settles a concurrent insert of the
# same key; so each write has exactly one implementation. Batch callers hold the rows they
# write (the worker's claimed submissions): no concurrent writer races them, and a unique-key
# violation fails the whole transaction, which the worker then retries one submission at a
# time.

_CHUNK = 5000  # bound the bind parameters of an IN (...) lookup


def _chunks(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for lo in range(0, len(keys), _CHUNK):
        yield keys[lo : lo + _CHUNK]


def insert_returning_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` (integer primary key ``id``) and return their ids, in
    the order of ``rows``, with multi-row statements.

    PostgreSQL: ``INSERT ... RETURNING id`` in parameter order (SQLAlchemy's insertmanyvalues
    with the autoincrement key as sentinel). SQLite has no ordered RETURNING for a batch
    (SQLAlchemy would fall back to one statement per row), so the ids are given explicitly:
    the current ``MAX(id)`` plus 1, 2, ... -- safe because a SQLite write transaction holds
    the database's single write lock (``BEGIN IMMEDIATE``, :mod:`securecomm.store.db`), and a
    stale read could only make the INSERT fail (busy snapshot or a duplicate key), never
    assign a wrong id.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "sqlite":
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.execute(stmt, rows).scalars().all())
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    ids = list(range(start + 1, start + 1 + len(rows)))
    for row, i in zip(rows, ids, strict=True):
        row["id"] = i  # the caller's row dicts are insert parameters: they get their id
    session.execute(insert(table), rows)
    return ids


def _own_batch(session: Session, audit_batch: audit.AuditBatch | None) -> audit.AuditBatch:
    return audit_batch if audit_batch is not None else audit.AuditBatch(session)


@dataclass(frozen=True)
class CaseToOpen:
    case: Case
    opened_at: datetime
    submission_id: int | None = None
    hit_id: int | None = None
    fin: str | None = None
    #: the criminal history read for the case (migration 0006), stored with it
    criminal_history: Mapping[str, Any] | None = None


def open_cases(session: Session, items: Sequence[CaseToOpen]) -> list[bool]:
    """Open cases (see :func:`open_case`), idempotent on ``case_id`` -> created, per item."""
    docs = []
    for item in items:
        _model, document, digest = _case_document(item.case)
        docs.append((item, document, digest, _aware("opened_at", item.opened_at)))
    ids = sorted({item.case.case_id for item, *_ in docs})
    existing: dict[str, str] = {}
    for chunk in _chunks(ids):
        existing.update(
            session.execute(
                select(CaseRecord.case_id, CaseRecord.case_sha256).where(
                    CaseRecord.case_id.in_(chunk)
                )
            ).all()
        )
    oris = sorted({item.case.jurisdiction.ori for item, *_ in docs})
    known = set(session.scalars(select(Jurisdiction.ori).where(Jurisdiction.ori.in_(oris))))
    out: list[bool] = []
    rows = []
    for item, document, digest, opened_at in docs:
        cid = item.case.case_id
        if cid in existing:
            if existing[cid] != digest:
                raise ConflictError(f"case {cid!r}: already open with a different Case document")
            out.append(False)
            continue
        ori = item.case.jurisdiction.ori
        if ori not in known:
            raise InputError(
                "case.jurisdiction.ori", f"{ori!r} is not a participating jurisdiction"
            )
        existing[cid] = digest
        out.append(True)
        rows.append(
            {
                "case_id": cid,
                "submission_id": item.submission_id,
                "hit_id": item.hit_id,
                "fin": item.fin,
                "ori": ori,
                "program": item.case.program.value,
                "state": CaseState.open.value,
                "case_json": document,
                "case_sha256": digest,
                "opened_at": opened_at,
                "updated_at": opened_at,
                "criminal_history": (
                    dict(item.criminal_history) if item.criminal_history is not None else None
                ),
            }
        )
    if rows:
        session.execute(insert(CaseRecord.__table__), rows)
    return out


@dataclass(frozen=True)
class DecisionToRecord:
    case_id: str
    case_sha256: str  # the case document the decision was made on
    decision: Decision
    decided_at: datetime


def record_decisions(
    session: Session,
    items: Sequence[DecisionToRecord],
    *,
    actor: str = "policy-engine",
    audit_batch: audit.AuditBatch | None = None,
) -> list[tuple[int, bool]]:
    """Store Decision v1 documents (see :func:`record_decision`) -> ``(decision_id, created)``
    per item; each new one audited ``decision.recorded``. Without ``audit_batch`` the entries
    are appended before returning; with one, when the caller flushes it."""
    now = _now()
    prepared = []
    for item in items:
        d = item.decision
        if d.case_id != item.case_id:
            raise InputError("decision.case_id", f"{d.case_id!r} is not case {item.case_id!r}")
        check_text("case_sha256", item.case_sha256, min_length=64, max_length=64)
        document = d.model_dump(mode="json")
        check_storable_json(document, "decision")
        decided_at = _aware("decided_at", item.decided_at)
        prepared.append((item, document, sha256_hex(canonical_json(document)), decided_at))
    t = DecisionRecord.__table__
    existing: dict[tuple, tuple[int, str]] = {}
    for chunk in _chunks(sorted({i.case_id for i in items})):
        for row in session.execute(
            select(
                t.c.case_id, t.c.policy, t.c.policy_version, t.c.case_sha256, t.c.id,
                t.c.decision_sha256,
            ).where(t.c.case_id.in_(chunk))
        ):  # fmt: skip
            existing[(row[0], row[1], row[2], row[3])] = (row[4], row[5])
    results: list[Any] = []
    rows, fresh = [], []
    for item, document, digest, decided_at in prepared:
        d = item.decision
        key = (item.case_id, d.policy, d.policy_version, item.case_sha256)
        if key in existing:
            decision_id, stored = existing[key]
            if stored != digest:
                raise ConflictError(
                    f"case {item.case_id!r}: {d.policy} {d.policy_version} already decided "
                    "this case document differently"
                )
            # a repeat within the batch (id -1 until inserted) is settled after the insert
            results.append((decision_id, False) if decision_id >= 0 else None)
            continue
        existing[key] = (-1, digest)
        rows.append(
            {
                "case_id": item.case_id,
                "policy": d.policy,
                "policy_version": d.policy_version,
                "case_sha256": item.case_sha256,
                "decision": document,
                "decision_sha256": digest,
                "action": Action(d.action).value,
                "priority": d.priority,
                "level": d.level,
                "requires_supervisor_approval": d.requires_supervisor_approval,
                "decided_at": decided_at,
                "recorded_at": now,
            }
        )
        fresh.append((len(results), key, item, document, digest, decided_at))
        results.append(None)
    ids = insert_returning_ids(session, t, rows)
    batch = _own_batch(session, audit_batch)
    for (slot, key, item, document, digest, decided_at), decision_id in zip(
        fresh, ids, strict=True
    ):
        d = item.decision
        existing[key] = (decision_id, digest)
        results[slot] = (decision_id, True)
        batch.add(
            "decision.recorded",
            actor=actor,
            subject={"case_id": item.case_id, "decision_id": decision_id},
            rows=[("decisions", decision_id)],
            payload={
                "policy": d.policy,
                "policy_version": d.policy_version,
                "case_sha256": item.case_sha256,
                "decision_sha256": digest,
                "decided_at": decided_at.isoformat(),
                "decision": document,
            },
            payload_checked=True,  # its parts were checked above
        )
    for i, r in enumerate(results):  # repeats within the batch point at the first one
        if r is None:
            item = prepared[i][0]
            key = (item.case_id, item.decision.policy, item.decision.policy_version,
                   item.case_sha256)  # fmt: skip
            results[i] = (existing[key][0], False)
    if audit_batch is None:
        batch.flush()
    return results


@dataclass(frozen=True)
class OfficerActionToRecord:
    case_id: str
    kind: OfficerActionKind | str
    officer: str
    acted_at: datetime
    decision_id: int | None = None
    chosen_action: Action | str | None = None
    reason: str | None = None


def record_officer_actions(
    session: Session,
    items: Sequence[OfficerActionToRecord],
    *,
    audit_batch: audit.AuditBatch | None = None,
) -> list[int]:
    """Record officer / supervisor actions (see :func:`record_officer_action`), each audited
    ``officer.<kind>`` -> their ids."""
    prepared = []
    for item in items:
        try:
            kind = OfficerActionKind(item.kind)
            chosen = Action(item.chosen_action) if item.chosen_action is not None else None
        except ValueError as exc:
            raise InputError("kind/chosen_action", str(exc)) from exc
        check_text("officer", item.officer, min_length=1, max_length=ACTOR_MAX)
        if item.reason is not None:
            check_text("reason", item.reason, max_length=10_000)
        if kind is OfficerActionKind.override and not (item.reason and item.reason.strip()):
            raise InputError("reason", "an override needs a reason")
        prepared.append((item, kind, chosen, _aware("acted_at", item.acted_at)))
    case_ids = sorted({i.case_id for i in items})
    found: set[str] = set()
    for chunk in _chunks(case_ids):
        found.update(
            session.scalars(select(CaseRecord.case_id).where(CaseRecord.case_id.in_(chunk)))
        )
    for cid in case_ids:
        if cid not in found:
            raise NotFoundError(f"case {cid!r} does not exist")
    rows = [
        {
            "case_id": item.case_id,
            "decision_id": item.decision_id,
            "kind": kind.value,
            "chosen_action": chosen.value if chosen else None,
            "officer": item.officer,
            "reason": item.reason,
            "acted_at": acted_at,
        }
        for item, kind, chosen, acted_at in prepared
    ]
    ids = insert_returning_ids(session, OfficerAction.__table__, rows)
    batch = _own_batch(session, audit_batch)
    for (item, kind, chosen, acted_at), action_id in zip(prepared, ids, strict=True):
        batch.add(
            f"officer.{kind.value}",
            actor=item.officer,
            subject={
                "case_id": item.case_id,
                "officer_action_id": action_id,
                "decision_id": item.decision_id,
            },
            rows=[("officer_actions", action_id)],
            payload={
                "chosen_action": chosen.value if chosen else None,
                "reason": item.reason,
                "acted_at": acted_at.isoformat(),
            },
        )
    if audit_batch is None:
        batch.flush()
    return ids


@dataclass(frozen=True)
class DetainerToIssue:
    case_id: str
    kind: DetainerKind | str
    ori: str
    issued_at: datetime
    actor: str
    officer_action_id: int | None = None
    #: default: ``pending_condition`` for a conditional detainer, else ``active``
    state: DetainerState | str | None = None
    #: the ``issued`` event's details (default: kind and state)
    details: Mapping[str, Any] | None = None
    policy: str | None = None
    policy_version: str | None = None


def _event_payload(
    occurred_at: datetime,
    state: DetainerState,
    release_eligible_at: datetime | None,
    hold_until: datetime | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "occurred_at": occurred_at.isoformat(),
        "state": state.value,
        "release_eligible_at": release_eligible_at.isoformat() if release_eligible_at else None,
        "hold_until": hold_until.isoformat() if hold_until else None,
        "details": details,
    }


def issue_detainers(
    session: Session,
    items: Sequence[DetainerToIssue],
    *,
    audit_batch: audit.AuditBatch | None = None,
) -> list[int]:
    """Lodge detainers / notification requests, each with its ``issued`` event (audited
    ``detainer.issued``) -> their ids. One per (case, kind): the database refuses a second
    (:class:`IntegrityError`); :func:`securecomm.interop.lifecycle.lodge_many` looks first."""
    prepared = []
    for item in items:
        try:
            kind = DetainerKind(item.kind)
            state = (
                DetainerState(item.state)
                if item.state is not None
                else (
                    DetainerState.pending_condition
                    if kind is DetainerKind.conditional_detainer
                    else DetainerState.active
                )
            )
        except ValueError as exc:
            raise InputError("kind/state", str(exc)) from exc
        _ori(item.ori)
        check_text("actor", item.actor, min_length=1, max_length=ACTOR_MAX)
        if item.policy is not None:
            check_text("policy", item.policy, min_length=1, max_length=POLICY_REF_MAX)
        if item.policy_version is not None:
            check_text("policy_version", item.policy_version, min_length=1, max_length=POLICY_MAX)
        details = dict(
            item.details if item.details is not None else {"kind": kind.value, "state": state.value}
        )
        check_storable_json(details, "details")
        prepared.append((item, kind, state, _aware("issued_at", item.issued_at), details))
    case_ids = sorted({i.case_id for i in items})
    found: set[str] = set()
    for chunk in _chunks(case_ids):
        found.update(
            session.scalars(select(CaseRecord.case_id).where(CaseRecord.case_id.in_(chunk)))
        )
    for cid in case_ids:
        if cid not in found:
            raise NotFoundError(f"case {cid!r} does not exist")
    now = _now()
    ids = insert_returning_ids(
        session,
        Detainer.__table__,
        [
            {
                "case_id": item.case_id,
                "officer_action_id": item.officer_action_id,
                "ori": item.ori,
                "kind": kind.value,
                "state": state.value,
                "issued_at": issued_at,
                "updated_at": issued_at,
                "policy": item.policy,
                "policy_version": item.policy_version,
            }
            for item, kind, state, issued_at, _ in prepared
        ],
    )
    event_ids = insert_returning_ids(
        session,
        DetainerEvent.__table__,
        [
            {
                "detainer_id": detainer_id,
                "event_type": DetainerEventType.issued.value,
                "occurred_at": issued_at,
                "recorded_at": now,
                "actor": item.actor,
                "details": details,
            }
            for (item, _, _, issued_at, details), detainer_id in zip(prepared, ids, strict=True)
        ],
    )
    batch = _own_batch(session, audit_batch)
    for (item, _kind, state, issued_at, details), detainer_id, event_id in zip(
        prepared, ids, event_ids, strict=True
    ):
        batch.add(
            "detainer.issued",
            actor=item.actor,
            subject={"case_id": item.case_id, "detainer_id": detainer_id, "event_id": event_id},
            rows=[("detainers", detainer_id), ("detainer_events", event_id)],
            payload=_event_payload(issued_at, state, None, None, details),
            payload_checked=True,  # its parts were checked above
        )
    if audit_batch is None:
        batch.flush()
    return ids


@dataclass(frozen=True)
class NoticeToCreate:
    ori: str
    kind: NoticeKind | str
    idempotency_key: str
    content: Mapping[str, Any]
    created_at: datetime
    case_id: str | None = None
    submission_id: int | None = None
    detainer_id: int | None = None
    actor: str = "notifier"


def create_notices(
    session: Session,
    items: Sequence[NoticeToCreate],
    *,
    audit_batch: audit.AuditBatch | None = None,
) -> list[tuple[int, bool]]:
    """Create notices (see :func:`create_notice`) -> ``(notice_id, created)`` per item, each
    new one audited ``notice.created`` (a disclosure). Idempotent on the key; the same key
    with different content (here or in the batch) raises :class:`ConflictError`."""
    prepared = []
    for item in items:
        _ori(item.ori)
        try:
            kind = NoticeKind(item.kind)
        except ValueError as exc:
            raise InputError("kind", str(exc)) from exc
        check_text(
            "idempotency_key", item.idempotency_key, min_length=1, max_length=IDEMPOTENCY_KEY_MAX
        )
        content = dict(item.content)
        check_storable_json(content, "content")
        created_at = _aware("created_at", item.created_at)
        prepared.append((item, kind, content, created_at, sha256_hex(canonical_json(content))))
    t = Notice.__table__
    existing: dict[str, tuple[int, str, str, str]] = {}  # key -> (id, ori, kind, digest)
    for chunk in _chunks(sorted({i.idempotency_key for i in items})):
        for nid, key, ori, kind, content in session.execute(
            select(t.c.id, t.c.idempotency_key, t.c.ori, t.c.kind, t.c.content).where(
                t.c.idempotency_key.in_(chunk)
            )
        ):
            existing[key] = (nid, ori, str(kind), sha256_hex(canonical_json(content)))
    results: list[Any] = []
    rows, fresh = [], []
    for item, kind, content, created_at, digest in prepared:
        key = item.idempotency_key
        if key in existing:
            nid, ori, stored_kind, stored = existing[key]
            if stored != digest or ori != item.ori or stored_kind != kind.value:
                raise ConflictError(f"notice {key!r}: already created with different content")
            results.append((nid, False) if nid >= 0 else None)
            continue
        existing[key] = (-1, item.ori, kind.value, digest)  # a repeat within the batch
        rows.append(
            {
                "ori": item.ori,
                "kind": kind.value,
                "idempotency_key": key,
                "content": content,
                "created_at": created_at,
                "case_id": item.case_id,
                "submission_id": item.submission_id,
                "detainer_id": item.detainer_id,
            }
        )
        fresh.append((len(results), item, kind, content))
        results.append(None)
    ids = insert_returning_ids(session, t, rows)
    batch = _own_batch(session, audit_batch)
    for (slot, item, kind, content), nid in zip(fresh, ids, strict=True):
        results[slot] = (nid, True)
        existing[item.idempotency_key] = (nid, *existing[item.idempotency_key][1:])
        batch.add(
            "notice.created",
            actor=item.actor,
            subject={"case_id": item.case_id, "notice_id": nid, "ori": item.ori},
            rows=[("notices", nid)],
            payload={
                "kind": kind.value,
                "idempotency_key": item.idempotency_key,
                "content": content,
            },
            payload_checked=True,  # its parts were checked above
        )
    for i, r in enumerate(results):
        if r is None:
            results[i] = (existing[prepared[i][0].idempotency_key][0], False)
    if audit_batch is None:
        batch.flush()
    return results


def _one(session: Session, write: Any, find: Any) -> Any:
    """Run a batch-of-one ``write()`` in a savepoint. An integrity error means a concurrent
    insert of the same key -- then ``write()`` again finds that row and compares -- or a bad
    reference (``find()`` finds nothing): re-raised."""
    try:
        with session.begin_nested():
            return write()
    except IntegrityError:
        if find() is None:
            raise
        return write()


# --------------------------------------------------------------------------- final action
# (migration 0006) The final action on a case is one stored fact: cases.final_action,
# final_action_at, final_officer_action_id. Written once, here, audited; everything that acts on
# or reports a decision reads it.


@dataclass(frozen=True)
class FinalActionToSet:
    case_id: str
    action: Action | str
    officer_action_id: int
    at: datetime
    actor: str


def set_final_actions(
    session: Session,
    items: Sequence[FinalActionToSet],
    *,
    audit_batch: audit.AuditBatch | None = None,
) -> list[bool]:
    """Record the final action of cases -> written, per item (False: the same final action
    from the same officer action was already recorded -- a re-run). Each written one is audited
    ``case.final_action``. A case whose final action is already recorded from another officer
    action raises :class:`ConflictError`: the final action is written once. The officer action
    must belong to the case and have chosen that action."""
    prepared = []
    for item in items:
        try:
            action = Action(item.action)
        except ValueError as exc:
            raise InputError("final_action", str(exc)) from exc
        check_text("actor", item.actor, min_length=1, max_length=ACTOR_MAX)
        prepared.append((item, action, _aware("at", item.at)))
    case_ids = sorted({i.case_id for i in items})
    current: dict[str, tuple[Any, Any]] = {}
    for chunk in _chunks(case_ids):
        for cid, final, oa in session.execute(
            select(
                CaseRecord.case_id, CaseRecord.final_action, CaseRecord.final_officer_action_id
            ).where(CaseRecord.case_id.in_(chunk))
        ):
            current[cid] = (final, oa)
    action_ids = sorted({i.officer_action_id for i in items})
    chosen: dict[int, tuple[str, Any]] = {}
    for chunk in _chunks(action_ids):
        for aid, cid, act in session.execute(
            select(OfficerAction.id, OfficerAction.case_id, OfficerAction.chosen_action).where(
                OfficerAction.id.in_(chunk)
            )
        ):
            chosen[aid] = (cid, act)
    out: list[bool] = []
    rows: list[dict[str, Any]] = []
    batch = _own_batch(session, audit_batch)
    for item, action, at in prepared:
        if item.case_id not in current:
            raise NotFoundError(f"case {item.case_id!r} does not exist")
        owner = chosen.get(item.officer_action_id)
        if owner is None or owner[0] != item.case_id or Action(owner[1]) is not action:
            raise InputError(
                "officer_action_id",
                f"{item.officer_action_id} is not an officer action of case {item.case_id!r} "
                f"choosing {action.value}",
            )
        final, oa = current[item.case_id]
        if final is not None:
            if oa == item.officer_action_id and Action(final) is action:
                out.append(False)
                continue
            raise ConflictError(
                f"case {item.case_id!r}: the final action is already {Action(final).value} "
                f"(officer action #{oa}); it is recorded once"
            )
        current[item.case_id] = (action, item.officer_action_id)
        rows.append(
            {"cid": item.case_id, "fa": action.value, "at": at, "oa": item.officer_action_id}
        )
        batch.add(
            "case.final_action",
            actor=item.actor,
            subject={"case_id": item.case_id, "officer_action_id": item.officer_action_id},
            payload={"final_action": action.value, "at": at.isoformat()},
        )
        out.append(True)
    if rows:
        table = CaseRecord.__table__
        session.execute(
            update(table)
            .where(table.c.case_id == bindparam("cid"), table.c.final_action.is_(None))
            .values(
                final_action=bindparam("fa"),
                final_action_at=bindparam("at"),
                final_officer_action_id=bindparam("oa"),
            ),
            rows,
        )
    if audit_batch is None:
        batch.flush()
    return out
