"""Booking intake: Booking submission v1 lines in, submissions (with their booking and charges)
stored, idempotent on the TCN; anything else kept in the rejected-input store with reasons.

Lines are read one by one whatever the first line holds, with the size limit applied while
reading (:mod:`securecomm.jsonsafety`): a line of 400 MB is never held in memory. Per line, in
order (the first failure rejects the line, with every error pydantic found):

1. longer than :data:`MAX_LINE_BYTES` -> field ``(line)`` (its first bytes are kept); not
   UTF-8 -> ``(encoding)``; not JSON, or JSON with duplicate keys, NaN / Infinity, an integer
   of more than 4,300 digits or nesting deeper than 32 levels -> ``(json)``; not an object ->
   ``(root)``;
2. :class:`~.messages.BookingSubmission` -> the failing fields (``charges.0.ncic``,
   ``template``, ``biographics.names.0.first`` ...);
3. ``ori`` not a participating jurisdiction; ``booked_at`` more than a day in the future;
4. the TCN already accepted with a *different* payload (or ORI) -> field ``tcn``: a TCN is
   never reused and a submission never overwritten. The same payload again is a harmless
   duplicate: counted, nothing written.

What is stored is the validated document (``model_dump(mode="json")``): two spellings of the
same booking (key order, ``1`` vs ``1.0``) are the same payload. Accepted lines become a
``submissions`` row (stage ``criminal_history``), a ``bookings`` row and its ``charges``.

Speed: lines are validated in Python and written in batches (``batch_size`` per transaction)
with multi-row inserts; the TCNs of a batch are checked with one query. Should a batch meet a
concurrent writer (a unique-key violation), it is rolled back and redone line by line through
:func:`securecomm.store.repositories.submit_submission`, which settles each TCN exactly.
A rejected line is recorded in the same transaction as its batch, once per distinct content:
submitting the same file again counts its bad lines as rejected again but does not record them
a second time (``rejected_known`` in the report). Should a batch fail to be written for any
other reason, it is redone line by line too, so a line the database refuses is rejected
alone (field ``(store)``) and never costs the rest of its batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..jsonsafety import JsonInputError, loads_strict, read_lines
from ..store import repositories
from ..store.errors import InputError, TcnConflictError
from ..store.models import Booking, Charge, Jurisdiction, RejectedInput, Submission, SubmissionState
from ..store.repositories import insert_returning_ids
from ..store.types import canonical_json, sha256_hex
from .messages import BookingSubmission

__all__ = [
    "MAX_LINE_BYTES",
    "SubmitReport",
    "submit_booking",
    "submit_bookings",
    "validate_booking_line",
]

MAX_LINE_BYTES = 256 * 1024
FUTURE_TOLERANCE = dt.timedelta(days=1)
_KEPT_REJECTIONS = 1000


@dataclass
class Rejection:
    line: int
    tcn: str | None
    errors: list[dict[str, Any]]

    def describe(self) -> str:
        first = self.errors[0] if self.errors else {"field": "?", "message": "?"}
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        who = f" tcn {self.tcn}" if self.tcn else ""
        return f"line {self.line}{who}: {first.get('field')}: {first.get('message')}{more}"


@dataclass
class SubmitReport:
    """What a submit run did. ``accepted`` new submissions; ``duplicates`` lines whose TCN was
    already accepted with the same payload; ``rejected`` lines kept in the rejected store."""

    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    blank: int = 0
    #: rejected lines whose content was already in the rejected-input store (not re-recorded)
    rejected_known: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_known": self.rejected_known,
            "blank": self.blank,
        }


@dataclass
class _Valid:
    line: int
    raw: str
    booking: BookingSubmission
    payload: dict[str, Any]
    digest: str


_FIELD_FIRST = re.compile(r"^(?:Value error, )?([a-z_]+(?:\.[a-z_0-9]+)*): (.*)$", re.S)


def _errors_of(exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e.get("loc", ()))
        message = str(e.get("msg", ""))[:500]
        if not loc:  # a check across fields names its field first ("booked_at: ...")
            m = _FIELD_FIRST.match(message)
            loc, message = (m.group(1), m.group(2)) if m else ("(root)", message)
        out.append({"field": loc, "message": message})
    return out


def validate_booking_line(
    raw: str | bytes,
    *,
    oris: set[str] | None = None,
    now: dt.datetime | None = None,
    bad_zones: set[str] | frozenset[str] = frozenset(),
) -> tuple[BookingSubmission | None, list[dict[str, Any]], str | None]:
    """Validate one line: ``(booking, [], tcn)`` or ``(None, errors, tcn-if-known)``.
    ``bad_zones``: ORIs whose jurisdiction's time zone is not a valid IANA name (the policy
    in force is chosen by the facility's local date: never a fall back to UTC)."""
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_LINE_BYTES:
        return None, [
            {"field": "(line)", "message": f"{size} bytes: a booking line is at most {MAX_LINE_BYTES}"}
        ], None  # fmt: skip
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, [{"field": "(encoding)", "message": f"not UTF-8: {exc.reason} at byte {exc.start}"}], None  # fmt: skip
    try:
        doc = loads_strict(raw)
    except JsonInputError as exc:
        return None, [exc.as_error()], None
    if not isinstance(doc, dict):
        return None, [{"field": "(root)", "message": f"a JSON object expected, got {type(doc).__name__}"}], None  # fmt: skip
    tcn = doc.get("tcn") if isinstance(doc.get("tcn"), str) else None
    tcn = tcn[:64] if tcn else None
    try:
        booking = BookingSubmission.model_validate(doc)
    except ValidationError as exc:
        return None, _errors_of(exc), tcn
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # a value no validator expected: this line only, never its batch
        return None, [{"field": "(root)", "message": f"unreadable value ({type(exc).__name__})"}], tcn  # fmt: skip
    errors = []
    if oris is not None and booking.ori not in oris:
        errors.append({"field": "ori", "message": f"{booking.ori!r} is not a participating jurisdiction"})  # fmt: skip
    elif booking.ori in bad_zones:
        errors.append({"field": "ori", "message": f"jurisdiction {booking.ori}: its time zone is not a valid IANA time zone; fix the jurisdiction"})  # fmt: skip
    now = now or dt.datetime.now(dt.UTC)
    if booking.booked_at > now + FUTURE_TOLERANCE:
        errors.append({"field": "booked_at", "message": f"{booking.booked_at.isoformat()} is in the future"})  # fmt: skip
    if errors:
        return None, errors, booking.tcn
    return booking, [], booking.tcn


def _booking_rows(
    submission_id: int, booking: BookingSubmission, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row = {
        "submission_id": submission_id,
        "ori": booking.ori,
        "booking_number": booking.booking_number,
        "booked_at": booking.booked_at,
        "arrested_at": booking.arrested_at,
        "release_eligible_at": None,
        "biographics": payload["biographics"],
        "fbi_number": None,
    }
    charges = [
        {
            "position": i,
            "ncic": c.ncic,
            "literal": c.literal,
            "severity": c.severity.value,
            "injury": c.injury,
            "domestic_violence": c.domestic_violence,
            "disposition": "pending",
            "disposed_on": None,
        }
        for i, c in enumerate(booking.charges)
    ]
    return row, charges


def _insert_bookings(session: Session, items: list[tuple[int, _Valid]]) -> None:
    rows, charge_rows = [], []
    for sid, v in items:
        b, cs = _booking_rows(sid, v.booking, v.payload)
        rows.append(b)
        charge_rows.append(cs)
    if not rows:
        return
    ids = insert_returning_ids(session, Booking.__table__, rows)
    flat = [{**c, "booking_id": bid} for bid, cs in zip(ids, charge_rows, strict=True) for c in cs]
    if flat:
        session.execute(insert(Charge.__table__), flat)


def submit_booking(
    session: Session,
    booking: BookingSubmission | dict[str, Any],
    *,
    received_at: dt.datetime | None = None,
) -> tuple[Submission, bool]:
    """Python API for one booking (inside the caller's transaction): validate, then
    :func:`~securecomm.store.repositories.submit_submission` (idempotent on the TCN) and, when
    new, its booking and charges. Raises :class:`~securecomm.store.errors.InputError` naming
    the field, or :class:`~securecomm.store.errors.TcnConflictError`."""
    if not isinstance(booking, BookingSubmission):
        try:
            booking = BookingSubmission.model_validate(booking)
        except ValidationError as exc:
            first = _errors_of(exc)[0]
            raise InputError(first["field"], first["message"]) from exc
    payload = booking.model_dump(mode="json")
    received_at = received_at or dt.datetime.now(dt.UTC)
    submission, created = repositories.submit_submission(
        session, booking.tcn, booking.ori, payload, received_at
    )
    if created:
        v = _Valid(0, "", booking, payload, submission.payload_sha256)
        _insert_bookings(session, [(submission.id, v)])
    return submission, created


def _lines(stream: Iterable[str | bytes]) -> Iterable[tuple[int, str | bytes, list | None]]:
    """``(line number, text, errors-or-None)``; a stream is read with the size limit applied
    while reading (a list of lines, as tests and the API give, is already in memory)."""
    if hasattr(stream, "readline"):
        for line in read_lines(stream, max_line=MAX_LINE_BYTES):  # type: ignore[arg-type]
            if line.error is not None:
                yield line.number, line.raw, [line.error.as_error()]
            elif not (line.text or "").strip():
                yield line.number, "", None
            else:
                yield line.number, line.raw, None
        return
    for n, line in enumerate(stream, start=1):
        if isinstance(line, bytes | bytearray):
            line = bytes(line).rstrip(b"\r\n")
            if not line.strip():
                yield n, b"", None
                continue
        else:
            line = line.rstrip("\r\n")
            if not line.strip():
                yield n, "", None
                continue
        yield n, line, None


def submit_bookings(
    session_factory: sessionmaker[Session] | Callable[[], Session],
    lines: Iterable[str | bytes],
    *,
    source: str = "submit",
    batch_size: int = 2000,
    now: Callable[[], dt.datetime] | None = None,
) -> SubmitReport:
    """Submit Booking submission v1 lines (JSON Lines). See the module docstring.

    Each batch commits on its own; a run stopped half-way is resumed by submitting the same
    lines again (accepted ones then count as duplicates). Returns a :class:`SubmitReport`.
    """
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    report = SubmitReport()
    with session_factory() as session:
        rows = session.execute(select(Jurisdiction.ori, Jurisdiction.timezone))
        zones = {ori: name for ori, name in rows}
    oris = set(zones)
    bad_zones = frozenset(ori for ori, name in zones.items() if not _valid_zone(name))
    batch: list[tuple[int, str | bytes, list | None]] = []

    def flush() -> None:
        if batch:
            _submit_batch(session_factory, batch, oris, source, clock, report, bad_zones)
            batch.clear()

    for n, line, errors in _lines(lines):
        if errors is None and line in ("", b""):
            report.blank += 1
            continue
        report.read += 1
        batch.append((n, line, errors))
        if len(batch) >= batch_size:
            flush()
    flush()
    return report


def _reject(
    session: Session, source: str, raw: str | bytes, errors: list[dict[str, Any]],
    line: int, tcn: str | None, at: dt.datetime, report: SubmitReport,
) -> None:  # fmt: skip
    report.rejected += 1
    digest = _raw_digest(raw)
    known = session.info.setdefault("securecomm.rejected_digests", set())
    if digest in known or session.scalar(
        select(RejectedInput.id).where(RejectedInput.raw_sha256 == digest).limit(1)
    ):
        report.rejected_known += 1  # the same content is recorded once
    else:
        detailed = [{**e, "line": line, **({"tcn": tcn} if tcn else {})} for e in errors]
        repositories.reject_input(session, source, raw, detailed, at)
    known.add(digest)
    if len(report.rejections) < _KEPT_REJECTIONS:
        report.rejections.append(Rejection(line, tcn, errors))


def _valid_zone(name: object) -> bool:
    try:
        ZoneInfo(str(name))
    except (ValueError, KeyError, OSError):
        return False
    return bool(name)


def _raw_digest(raw: str | bytes) -> str:
    """The digest the rejected-input store keeps (``raw_sha256``) of ``raw``."""
    if isinstance(raw, bytes | bytearray):
        return sha256_hex(bytes(raw))
    return sha256_hex(raw.encode("utf-8", "surrogatepass"))


def _submit_batch(
    session_factory, batch: list[tuple[int, str | bytes, list | None]], oris: set[str],
    source: str, clock: Callable[[], dt.datetime], report: SubmitReport,
    bad_zones: frozenset[str] = frozenset(),
) -> None:  # fmt: skip
    now = clock()
    valid: list[_Valid] = []
    invalid: list[tuple[int, str | bytes, list[dict[str, Any]], str | None]] = []
    for n, raw, read_errors in batch:
        if read_errors:
            invalid.append((n, raw, read_errors, None))
            continue
        booking, errors, tcn = validate_booking_line(raw, oris=oris, now=now, bad_zones=bad_zones)
        if booking is None:
            invalid.append((n, raw, errors, tcn))
            continue
        payload = booking.model_dump(mode="json")
        valid.append(_Valid(n, raw if isinstance(raw, str) else raw.decode(), booking, payload,
                            sha256_hex(canonical_json(payload))))  # fmt: skip
    snapshot = SubmitReport()
    try:
        with session_factory() as session, session.begin():
            _write_batch(session, valid, invalid, source, now, snapshot)
    except (IntegrityError, DataError):
        # a concurrent writer took some TCN of this batch (IntegrityError), or the database
        # refused a value (DataError): settle each line on its own, so one line never costs
        # its batch. A database that is down (OperationalError) stops the run instead: the
        # batches committed so far stay, and submitting the file again is idempotent.
        snapshot = SubmitReport()
        for v in valid:
            try:
                with session_factory() as session, session.begin():
                    _write_one(session, v, source, now, snapshot)
            except (IntegrityError, DataError):
                refused = [{"field": "(store)", "message": "the database refused this booking"}]
                with session_factory() as session, session.begin():
                    _reject(session, source, v.raw, refused, v.line, v.booking.tcn, now, snapshot)
        with session_factory() as session, session.begin():
            for n, raw, errors, tcn in invalid:
                _reject(session, source, raw, errors, n, tcn, now, snapshot)
    report.accepted += snapshot.accepted
    report.duplicates += snapshot.duplicates
    report.rejected += snapshot.rejected
    report.rejected_known += snapshot.rejected_known
    room = _KEPT_REJECTIONS - len(report.rejections)
    report.rejections.extend(snapshot.rejections[: max(room, 0)])


def _conflict(v: _Valid, existing_sha: str) -> list[dict[str, Any]]:
    err = TcnConflictError(v.booking.tcn, existing_sha, v.digest)
    return [{"field": "tcn", "message": str(err)}]


def _write_batch(
    session: Session, valid: list[_Valid], invalid: list, source: str, now: dt.datetime,
    report: SubmitReport,
) -> None:  # fmt: skip
    for n, raw, errors, tcn in invalid:
        _reject(session, source, raw, errors, n, tcn, now, report)
    if not valid:
        return
    tcns = sorted({v.booking.tcn for v in valid})
    existing: dict[str, tuple[str, str]] = {}
    for lo in range(0, len(tcns), 5000):
        for tcn, ori, sha in session.execute(
            select(Submission.tcn, Submission.ori, Submission.payload_sha256).where(
                Submission.tcn.in_(tcns[lo : lo + 5000])
            )
        ):
            existing[tcn] = (ori, sha)
    new: list[_Valid] = []
    for v in valid:
        tcn = v.booking.tcn
        if tcn in existing:
            ori, sha = existing[tcn]
            if sha == v.digest and ori == v.booking.ori:
                report.duplicates += 1
            else:
                _reject(session, source, v.raw, _conflict(v, sha), v.line, tcn, now, report)
            continue
        existing[tcn] = (v.booking.ori, v.digest)
        new.append(v)
    if not new:
        return
    rows = [
        {
            "tcn": v.booking.tcn,
            "ori": v.booking.ori,
            "payload": v.payload,
            "payload_sha256": v.digest,
            "received_at": now,
            "state": SubmissionState.received.value,
            "state_changed_at": now,
            "error": None,
            "stage": "criminal_history",
        }
        for v in new
    ]
    ids = insert_returning_ids(session, Submission.__table__, rows)
    _insert_bookings(session, list(zip(ids, new, strict=True)))
    report.accepted += len(new)


def _write_one(
    session: Session, v: _Valid, source: str, now: dt.datetime, report: SubmitReport
) -> None:
    try:
        with session.begin_nested():
            _, created = repositories.submit_submission(
                session, v.booking.tcn, v.booking.ori, v.payload, now
            )
            if created:
                sid = session.scalar(select(Submission.id).where(Submission.tcn == v.booking.tcn))
                _insert_bookings(session, [(sid, v)])
    except TcnConflictError as exc:
        _reject(session, source, v.raw, [{"field": "tcn", "message": str(exc)}], v.line, v.booking.tcn, now, report)  # fmt: skip
        return
    except InputError as exc:
        _reject(session, source, v.raw, [{"field": exc.field, "message": exc.message}], v.line, v.booking.tcn, now, report)  # fmt: skip
        return
    if created:
        report.accepted += 1
    else:
        report.duplicates += 1
