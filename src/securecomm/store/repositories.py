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
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..law.schema import Action, Case, Decision, Disclosure, Program
from . import audit
from .errors import ConflictError, InputError, NotFoundError, TcnConflictError
from .models import (
    ACTOR_MAX,
    IDEMPOTENCY_KEY_MAX,
    SOURCE_MAX,
    TCN_MAX,
    CaseRecord,
    CaseState,
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
    "add_detainer_event",
    "create_notice",
    "escape_raw",
    "get_case",
    "get_submission",
    "issue_detainer",
    "latest_decision",
    "list_cases",
    "list_decisions",
    "list_detainers",
    "list_notices",
    "list_rejected",
    "list_submissions",
    "mark_notice_delivered",
    "open_case",
    "original_input",
    "record_decision",
    "record_officer_action",
    "reject_input",
    "set_case_state",
    "set_submission_state",
    "submit_submission",
    "unescape_raw",
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
    session: Session, *, state: SubmissionState | str | None = None, limit: int = 100
) -> list[Submission]:
    """Submissions oldest first (a work queue with ``state``)."""
    stmt = select(Submission)
    if state is not None:
        stmt = stmt.where(Submission.state == SubmissionState(state))
    return list(session.scalars(stmt.order_by(Submission.received_at, Submission.id).limit(limit)))


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
    model, document, digest = _case_document(case)
    opened_at = _aware("opened_at", opened_at)
    existing = session.get(CaseRecord, model.case_id)
    if existing is None:
        if session.get(Jurisdiction, model.jurisdiction.ori) is None:
            raise InputError(
                "case.jurisdiction.ori",
                f"{model.jurisdiction.ori!r} is not a participating jurisdiction",
            )
        row = CaseRecord(
            case_id=model.case_id,
            submission_id=submission_id,
            hit_id=hit_id,
            fin=fin,
            ori=model.jurisdiction.ori,
            program=model.program,
            state=CaseState.open,
            case_json=document,
            case_sha256=digest,
            opened_at=opened_at,
            updated_at=opened_at,
        )
        error = _insert_once(session, row)
        if error is None:
            return row, True
        existing = session.get(CaseRecord, model.case_id)
        if existing is None:  # not a concurrent open: a bad submission, hit or FIN reference
            raise error
    if existing.case_sha256 != digest:
        raise ConflictError(f"case {model.case_id!r}: already open with a different Case document")
    return existing, False


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
    if decision.case_id != case_id:
        raise InputError("decision.case_id", f"{decision.case_id!r} is not case {case_id!r}")
    document = decision.model_dump(mode="json")
    check_storable_json(document, "decision")
    digest = sha256_hex(canonical_json(document))
    decided_at = _aware("decided_at", decided_at)
    case = session.get(CaseRecord, case_id)
    if case is None:
        raise NotFoundError(f"case {case_id!r} does not exist")

    def find() -> DecisionRecord | None:
        return session.scalar(
            select(DecisionRecord).where(
                DecisionRecord.case_id == case_id,
                DecisionRecord.policy == decision.policy,
                DecisionRecord.policy_version == decision.policy_version,
                DecisionRecord.case_sha256 == case.case_sha256,
            )
        )

    def same(existing: DecisionRecord) -> tuple[DecisionRecord, bool]:
        if existing.decision_sha256 != digest:
            raise ConflictError(
                f"case {case_id!r}: {decision.policy} {decision.policy_version} already "
                "decided this case document differently"
            )
        return existing, False

    existing = find()
    if existing is not None:
        return same(existing)
    row = DecisionRecord(
        case_id=case_id,
        policy=decision.policy,
        policy_version=decision.policy_version,
        case_sha256=case.case_sha256,
        decision=document,
        decision_sha256=digest,
        action=Action(decision.action),
        priority=decision.priority,
        level=decision.level,
        requires_supervisor_approval=decision.requires_supervisor_approval,
        decided_at=decided_at,
        recorded_at=_now(),
    )
    error = _insert_once(session, row)
    if error is not None:
        existing = find()
        if existing is None:
            raise error
        return same(existing)
    audit.append(
        session,
        "decision.recorded",
        actor=actor,
        subject={"case_id": case_id, "decision_id": row.id},
        payload={
            "policy": decision.policy,
            "policy_version": decision.policy_version,
            "case_sha256": case.case_sha256,
            "decision_sha256": digest,
            "decided_at": decided_at.isoformat(),
            "decision": document,
        },
    )
    return row, True


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
    try:
        kind = OfficerActionKind(kind)
        chosen = Action(chosen_action) if chosen_action is not None else None
    except ValueError as exc:
        raise InputError("kind/chosen_action", str(exc)) from exc
    check_text("officer", officer, min_length=1, max_length=ACTOR_MAX)
    if reason is not None:
        check_text("reason", reason, max_length=10_000)
    if kind is OfficerActionKind.override and not (reason and reason.strip()):
        raise InputError("reason", "an override needs a reason")
    acted_at = _aware("acted_at", acted_at)
    if session.get(CaseRecord, case_id) is None:
        raise NotFoundError(f"case {case_id!r} does not exist")
    row = OfficerAction(
        case_id=case_id,
        decision_id=decision_id,
        kind=kind,
        chosen_action=chosen,
        officer=officer,
        reason=reason,
        acted_at=acted_at,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        f"officer.{kind.value}",
        actor=officer,
        subject={"case_id": case_id, "officer_action_id": row.id, "decision_id": decision_id},
        payload={
            "chosen_action": chosen.value if chosen else None,
            "reason": reason,
            "acted_at": acted_at.isoformat(),
        },
    )
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
    try:
        kind = DetainerKind(kind)
        state = (
            DetainerState(state)
            if state is not None
            else (
                DetainerState.pending_condition
                if kind is DetainerKind.conditional_detainer
                else DetainerState.active
            )
        )
    except ValueError as exc:
        raise InputError("kind/state", str(exc)) from exc
    _ori(ori)
    issued_at = _aware("issued_at", issued_at)
    if session.get(CaseRecord, case_id) is None:
        raise NotFoundError(f"case {case_id!r} does not exist")
    row = Detainer(
        case_id=case_id,
        officer_action_id=officer_action_id,
        ori=ori,
        kind=kind,
        state=state,
        issued_at=issued_at,
        updated_at=issued_at,
    )
    session.add(row)
    session.flush()
    add_detainer_event(
        session,
        row.id,
        DetainerEventType.issued,
        occurred_at=issued_at,
        actor=actor,
        details={"kind": kind.value, "state": state.value},
    )
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
    _ori(ori)
    try:
        kind = NoticeKind(kind)
    except ValueError as exc:
        raise InputError("kind", str(exc)) from exc
    check_text("idempotency_key", idempotency_key, min_length=1, max_length=IDEMPOTENCY_KEY_MAX)
    content = dict(content)
    check_storable_json(content, "content")
    created_at = _aware("created_at", created_at)
    digest = sha256_hex(canonical_json(content))

    def find() -> Notice | None:
        return session.scalar(select(Notice).where(Notice.idempotency_key == idempotency_key))

    def same(existing: Notice) -> tuple[Notice, bool]:
        if (
            sha256_hex(canonical_json(existing.content)) != digest
            or existing.ori != ori
            or existing.kind != kind
        ):
            raise ConflictError(
                f"notice {idempotency_key!r}: already created with different content"
            )
        return existing, False

    existing = find()
    if existing is not None:
        return same(existing)
    row = Notice(
        ori=ori,
        kind=kind,
        idempotency_key=idempotency_key,
        content=content,
        created_at=created_at,
        case_id=case_id,
        submission_id=submission_id,
        detainer_id=detainer_id,
    )
    error = _insert_once(session, row)
    if error is not None:
        existing = find()
        if existing is None:  # not a concurrent insert: a bad case/submission/detainer id
            raise error
        return same(existing)
    audit.append(
        session,
        "notice.created",
        actor=actor,
        subject={"case_id": case_id, "notice_id": row.id, "ori": ori},
        payload={"kind": kind.value, "idempotency_key": idempotency_key, "content": content},
    )
    return row, True


def mark_notice_delivered(session: Session, notice_id: int, at: datetime) -> Notice:
    row = session.get(Notice, notice_id)
    if row is None:
        raise NotFoundError(f"notice {notice_id} does not exist")
    if row.delivered_at is None:
        row.delivered_at = _aware("at", at)
        session.flush()
    return row


def list_notices(
    session: Session, ori: str, *, undelivered_only: bool = False, limit: int = 100
) -> list[Notice]:
    """An LEA's notices, oldest first (an LEA sees only its own ORI)."""
    stmt = select(Notice).where(Notice.ori == ori)
    if undelivered_only:
        stmt = stmt.where(Notice.delivered_at.is_(None))
    return list(session.scalars(stmt.order_by(Notice.created_at, Notice.id).limit(limit)))
