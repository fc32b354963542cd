"""Append-only, tamper-evident audit log (DESIGN 8; issue 3 item 8).

Every decision, override, disclosure and detainer event is appended here, in the same
transaction as the change it records.

Entries (table ``audit_log``)
    ``seq`` 1, 2, 3 … with no gaps; ``recorded_at`` (UTC); ``actor``; ``event_type`` (dotted
    lower-case, e.g. ``decision.recorded``); ``subject`` (ids of what the entry is about, e.g.
    ``{"case_id": …, "decision_id": …}``; ``case_id`` is copied to an indexed column) and
    ``payload``, both stored as canonical JSON text (sorted keys, no whitespace, UTF-8).

Hash chain
    ``entry_hash = sha256(prev_hash || E)`` where ``prev_hash`` is the previous entry's hash
    (32 zero bytes for the first) and ``E`` is the canonical JSON of the object
    ``{"actor", "case_id", "event_type", "payload", "recorded_at", "seq", "subject"}``
    (``recorded_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``). Hashes are stored as lower-case hex.
    The hash covers ``seq``, so moving an entry breaks it.

Serialised appends
    :func:`append` reads and advances the single-row ``audit_head`` (size, last hash) inside the
    caller's transaction: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction is
    ``BEGIN IMMEDIATE`` (see :mod:`securecomm.store.db`), which already serialises writers.
    Concurrent appenders therefore queue; there are no gaps and no forks. The lock is held
    until the caller commits.

Row states (0005)
    An entry that records a change to a row of an audited table names the row (``rows=``); at
    append time the row is read back and its digest stored in the entry's ``rows`` column
    (canonical JSON; :mod:`.rowstate`), which is then part of ``E`` (key ``"rows"``, present
    only when the column is not NULL, so entries written before 0005 hash as they did).
    ``securecomm audit verify --data`` recomputes every audited row against the last state the
    log records (:mod:`.dataverify`).

Merkle tree and signed tree heads
    The entry hashes are also the data of an RFC 6962 Merkle tree (:mod:`.merkle`; leaf hash
    ``sha256(0x00 || entry_hash)``). The head row keeps the tree's compact range, so every
    append knows the new root in O(log n); a tree head (size, root, time, Ed25519 signature
    when a key is configured: :mod:`.treeheads`) is stored automatically every N entries and
    at the first append M minutes after the last one, and exported to the witness directory
    after commit. :func:`checkpoint` takes one on demand (``securecomm audit head``). A head
    kept outside the database lets a later :func:`verify` prove that the log only grew.
    :func:`inclusion_proof` proves one entry is in a tree head.

Verification
    :func:`verify` recomputes every hash, the links, the sequence, the head row and every
    checkpoint's root in one pass (O(n) time, O(log n) memory) and reports the first bad seq and
    what is wrong: ``content_edited``, ``entry_hash_edited``, ``gap`` (deleted entries),
    ``reordered``, ``chain_break``, ``truncated``, ``head_mismatch``, ``unrecorded_entry``,
    ``checkpoint_mismatch``, ``checkpoint_signature``, ``frontier_mismatch``. A hash chain alone cannot show that the
    newest entries were cut off together with the head row: that is what checkpoints (and
    tree heads kept outside the database) are for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from . import merkle, rowstate, treeheads
from .errors import AuditError, InputError
from .models import ACTOR_MAX, CASE_ID_MAX, EVENT_TYPE_MAX, AuditCheckpoint, AuditEntry, AuditHead
from .types import canonical_json, check_storable_json, check_text, utc_iso

log = logging.getLogger(__name__)

__all__ = [
    "GENESIS_HASH",
    "AuditBatch",
    "InclusionProof",
    "PendingEntry",
    "Problem",
    "VerifyReport",
    "append",
    "append_many",
    "checkpoint",
    "compute_entry_hash",
    "consistency_proof",
    "entry_body",
    "head_of",
    "inclusion_proof",
    "list_entries",
    "prepare_entry",
    "publish_head",
    "verify",
    "verify_entry_inclusion",
]

GENESIS_HASH = "0" * 64
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_SUBJECT_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_BATCH = 2000


# --------------------------------------------------------------------------- hashing


def entry_body(
    seq: int,
    recorded_at: datetime,
    actor: str,
    event_type: str,
    case_id: str | None,
    subject_text: str,
    payload_text: str,
    rows_text: str | None = None,
) -> bytes:
    """Canonical JSON (UTF-8) of an entry, spliced from the stored subject, payload and row
    state texts (``"rows"`` only when there are row states: entries before 0005 have none).

    Equal to ``canonical_json({...})`` of the entry when those texts are canonical; splicing
    hashes exactly what is stored.
    """
    c = canonical_json
    rows = f'"rows":{rows_text},' if rows_text is not None else ""
    text = (
        f'{{"actor":{c(actor)},"case_id":{c(case_id)},"event_type":{c(event_type)},'
        f'"payload":{payload_text},"recorded_at":{c(utc_iso(recorded_at))},{rows}'
        f'"seq":{int(seq)},"subject":{subject_text}}}'
    )
    return text.encode("utf-8", "surrogatepass")


def _hash_bytes(hex_digest: str) -> bytes:
    """The 32 bytes of a stored hex hash; anything else (tampered) hashes as its text."""
    if isinstance(hex_digest, str) and _HEX64.match(hex_digest):
        return bytes.fromhex(hex_digest)
    return str(hex_digest).encode("utf-8", "surrogatepass")


def compute_entry_hash(prev_hash: str, body: bytes) -> str:
    """``sha256(prev_hash bytes || body)`` as lower-case hex."""
    return hashlib.sha256(_hash_bytes(prev_hash) + body).hexdigest()


def _row_hash(row: Any) -> str:
    body = entry_body(
        row.seq, row.recorded_at, row.actor, row.event_type, row.case_id, row.subject,
        row.payload, row.rows,
    )  # fmt: skip
    return compute_entry_hash(row.prev_hash, body)


def _leaf(entry_hash: str) -> bytes:
    return merkle.leaf_hash(_hash_bytes(entry_hash))


# --------------------------------------------------------------------------- append


def _check_subject(subject: Mapping[str, Any] | None) -> dict[str, Any]:
    subject = dict(subject or {})
    for key, value in subject.items():
        if not isinstance(key, str) or not _SUBJECT_KEY.match(key):
            raise InputError("subject", f"key {key!r}: lower-case identifier expected")
        if not (value is None or isinstance(value, str | int)):
            raise InputError(f"subject.{key}", "an id (string or integer) expected")
        if isinstance(value, str):
            check_text(f"subject.{key}", value, max_length=256)
    case_id = subject.get("case_id")
    if case_id is not None:
        check_text("subject.case_id", case_id, min_length=1, max_length=CASE_ID_MAX)
    return subject


@dataclass(frozen=True)
class PendingEntry:
    """An audit entry validated and serialised, waiting for its place in the chain."""

    event_type: str
    actor: str
    case_id: str | None
    subject_text: str
    payload_text: str
    recorded_at: datetime
    #: the rows this entry's change produced: ``(table, primary key)``, read at append time
    rows: tuple[tuple[str, Any], ...] = ()


def _check_rows(rows: Iterable[tuple[str, Any]] | None) -> tuple[tuple[str, Any], ...]:
    out = []
    for ref in rows or ():
        if not (isinstance(ref, tuple | list) and len(ref) == 2):
            raise InputError("rows", "(table, primary key) pairs expected")
        table, key = ref
        try:
            rowstate.get(table)
        except KeyError as exc:
            raise InputError("rows", str(exc.args[0])) from None
        keys = key if isinstance(key, tuple | list) else (key,)
        if not keys or not all(isinstance(k, int | str) and not isinstance(k, bool) for k in keys):
            raise InputError("rows", f"{table}: a primary key (integer or text) expected")
        out.append((table, tuple(keys) if isinstance(key, tuple | list) else key))
    return tuple(out)


def prepare_entry(
    event_type: str,
    *,
    actor: str,
    subject: Mapping[str, Any] | None = None,
    payload: Any = None,
    recorded_at: datetime | None = None,
    payload_checked: bool = False,
    rows: Iterable[tuple[str, Any]] | None = None,
) -> PendingEntry:
    """Validate and serialise one entry (what :func:`append` checks, nothing less).

    ``payload_checked``: the caller built ``payload`` from values it has already passed
    through :func:`~securecomm.store.types.check_storable_json` (the store's batch writers:
    a notice's content, a decision document) -- not walked a second time. Serialisation
    (:func:`canonical_json`, which refuses NaN and non-JSON types) still runs.

    ``rows``: ``(table, primary key)`` of every row of an audited table (:mod:`.rowstate`)
    the change wrote; their states are read and logged when the entry is appended."""
    check_text("actor", actor, min_length=1, max_length=ACTOR_MAX)
    check_text("event_type", event_type, min_length=1, max_length=EVENT_TYPE_MAX)
    if not _EVENT_TYPE.match(event_type):
        raise InputError("event_type", f"{event_type!r}: dotted lower-case name expected")
    subject = _check_subject(subject)
    payload = {} if payload is None else payload
    if not payload_checked:
        check_storable_json(payload, "payload")
    if recorded_at is None:
        recorded_at = datetime.now(UTC)
    elif recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
        raise InputError("recorded_at", "naive datetime: give an aware datetime")
    return PendingEntry(
        event_type,
        actor,
        subject.get("case_id"),
        canonical_json(subject),
        canonical_json(payload),
        recorded_at.astimezone(UTC),
        _check_rows(rows),
    )


@dataclass
class _HeadState:
    size: int
    last_hash: str
    frontier: str | None
    checkpoint_size: int | None
    checkpoint_at: datetime | None


def _lock_head_row(session: Session) -> _HeadState:
    """The audit head, locked until the transaction ends."""
    head_t = AuditHead.__table__
    c = head_t.c
    row = session.execute(
        select(c.size, c.last_hash, c.frontier, c.checkpoint_size, c.checkpoint_at)
        .where(c.id == 1)
        .with_for_update()
    ).one_or_none()
    if row is None:  # a database built without the migrations (which insert the row)
        session.execute(insert(head_t).values(id=1, size=0, last_hash=GENESIS_HASH))
        return _HeadState(0, GENESIS_HASH, None, None, None)
    return _HeadState(int(row[0]), row[1], row[2], row[3], row[4])


def _frontier_text(compact: merkle.CompactRange) -> str:
    return canonical_json({"size": compact.size, "peaks": [p.hex() for p in compact.peaks]})


def _compact_range(session: Session, size: int, frontier: str | None) -> merkle.CompactRange:
    """The compact range of the first ``size`` entries: from the head row's ``frontier`` when
    it is for that size, else rebuilt from the stored entry hashes (once after migration 0005;
    a tampered frontier gives a wrong root, which :func:`verify` reports)."""
    if frontier:
        try:
            data = json.loads(frontier)
            if data.get("size") == size:
                peaks = [bytes.fromhex(p) for p in data["peaks"]]
                return merkle.CompactRange.from_peaks(size, peaks)
        except (ValueError, TypeError, KeyError, AttributeError):
            pass
    compact = merkle.CompactRange()
    hashes = session.scalars(
        select(AuditEntry.entry_hash).where(AuditEntry.seq <= size).order_by(AuditEntry.seq),
        execution_options={"yield_per": _BATCH},
    )
    for h in hashes:
        compact.append(_leaf(h))
    return compact


def _row_states_texts(session: Session, entries: Sequence[PendingEntry]) -> list[str | None]:
    """Each entry's row states as canonical JSON (None: no rows), read now from the tables."""
    refs = [ref for e in entries for ref in e.rows]
    if not refs:
        return [None] * len(entries)
    states = rowstate.read_states(session, refs)
    texts: list[str | None] = []
    for e in entries:
        if not e.rows:
            texts.append(None)
            continue
        out = []
        for table, key in e.rows:
            text_key = rowstate.row_key(key if isinstance(key, tuple) else (key,))
            state = states.get((table, text_key))
            if state is None:
                raise AuditError(
                    f"{e.event_type}: row {table} {text_key} does not exist: an entry can only "
                    "record a row that was written"
                )
            out.append(state.to_json())
        texts.append(canonical_json(out))
    return texts


_WITNESS_KEY = "securecomm_audit_witness"


def _store_head(
    session: Session,
    compact: merkle.CompactRange,
    when: datetime,
    key: Ed25519PrivateKey | None,
    witness_dir: Any,
) -> AuditCheckpoint:
    """Insert the tree head of ``compact`` (signed with ``key`` if given); export it to
    ``witness_dir`` (if given) after the transaction commits."""
    when = when.astimezone(UTC)
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)  # the head's resolution
    head = treeheads.make_head(compact.size, compact.root().hex(), when, key)
    cp = AuditCheckpoint(
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        created_at=when,
        signature=head.signature,
        key_id=head.key_id,
    )
    session.add(cp)
    session.flush()
    if witness_dir is not None:
        session.info.setdefault(_WITNESS_KEY, []).append((witness_dir, head))
    return cp


@event.listens_for(Session, "after_commit")
def _export_witness(session: Session) -> None:
    for directory, head in session.info.pop(_WITNESS_KEY, []):
        try:
            treeheads.write_witness(directory, head)
        except OSError as exc:  # committed already: report; `audit head` can re-export
            log.error(
                "audit: tree head of %d entries not written to the witness directory %s: %s",
                head.tree_size, directory, exc.strerror,
            )  # fmt: skip


@event.listens_for(Session, "after_rollback")
def _drop_witness(session: Session) -> None:
    session.info.pop(_WITNESS_KEY, None)


def append_many(session: Session, entries: Sequence[PendingEntry]) -> list[int]:
    """Append ``entries`` in order, in the session's transaction; returns their seqs.

    One head lock, one multi-row insert, one head update for the lot: the chain is exactly the
    one :func:`append` called once per entry would write (each entry is its own leaf, hashed
    over its own seq and its predecessor's hash), so :func:`verify` cannot tell them apart.
    Anything the ORM holds is flushed first, so entries follow the changes they record, and
    the row states the entries name are read after it. A tree head is stored when N entries
    or M minutes have passed since the last (:mod:`.treeheads` settings; a bad setting or key
    stops the write: fail closed).
    """
    if not entries:
        return []
    settings = treeheads.settings()
    session.flush()
    head = _lock_head_row(session)
    size, prev = head.size, head.last_hash
    compact = _compact_range(session, size, head.frontier)
    rows_texts = _row_states_texts(session, entries)
    rows = []
    for e, rows_text in zip(entries, rows_texts, strict=True):
        size += 1
        body = entry_body(
            size, e.recorded_at, e.actor, e.event_type, e.case_id, e.subject_text,
            e.payload_text, rows_text,
        )  # fmt: skip
        entry_hash = compute_entry_hash(prev, body)
        rows.append(
            {
                "seq": size,
                "recorded_at": e.recorded_at,
                "actor": e.actor,
                "event_type": e.event_type,
                "case_id": e.case_id,
                "subject": e.subject_text,
                "payload": e.payload_text,
                "rows": rows_text,
                "prev_hash": prev,
                "entry_hash": entry_hash,
            }
        )
        compact.append(_leaf(entry_hash))
        prev = entry_hash
    session.execute(insert(AuditEntry.__table__), rows)

    now = datetime.now(UTC)
    checkpoint_size = head.checkpoint_size or 0
    checkpoint_at = head.checkpoint_at or now  # the clock starts at the first append
    due = size - checkpoint_size >= settings.every or (
        size > checkpoint_size and now - checkpoint_at >= timedelta(minutes=settings.minutes)
    )
    if due:
        _store_head(session, compact, now, settings.signing_key, settings.witness_dir)
        checkpoint_size, checkpoint_at = size, now
    head_t = AuditHead.__table__
    session.execute(
        update(head_t)
        .where(head_t.c.id == 1)
        .values(
            size=size,
            last_hash=prev,
            updated_at=entries[-1].recorded_at,
            frontier=_frontier_text(compact),
            checkpoint_size=checkpoint_size,
            checkpoint_at=checkpoint_at,
        )
    )
    # an AuditHead the ORM loaded earlier is stale now: let it reload
    held = session.identity_map.get(session.identity_key(AuditHead, (1,)))  # type: ignore[arg-type]
    if held is not None:
        session.expire(held)
    return [r["seq"] for r in rows]


class AuditBatch:
    """Collect entries (validated as they are added), then :meth:`flush` them as one
    :func:`append_many`. For writers that record many events in one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: list[PendingEntry] = []

    def add(
        self,
        event_type: str,
        *,
        actor: str,
        subject: Mapping[str, Any] | None = None,
        payload: Any = None,
        recorded_at: datetime | None = None,
        payload_checked: bool = False,
        rows: Iterable[tuple[str, Any]] | None = None,
    ) -> None:
        self.pending.append(
            prepare_entry(
                event_type,
                actor=actor,
                subject=subject,
                payload=payload,
                recorded_at=recorded_at,
                payload_checked=payload_checked,
                rows=rows,
            )
        )

    def flush(self) -> int:
        """Append every collected entry; returns how many."""
        pending, self.pending = self.pending, []
        return len(append_many(self.session, pending))


def append(
    session: Session,
    event_type: str,
    *,
    actor: str,
    subject: Mapping[str, Any] | None = None,
    payload: Any = None,
    recorded_at: datetime | None = None,
    rows: Iterable[tuple[str, Any]] | None = None,
) -> AuditEntry:
    """Append one entry in the session's transaction and return it (flushed, not committed).

    Holds the audit head lock until the transaction ends: commit soon. The same code path as
    :func:`append_many` (a batch of one). ``rows``: see :func:`prepare_entry`.
    """
    entry = prepare_entry(
        event_type, actor=actor, subject=subject, payload=payload, recorded_at=recorded_at,
        rows=rows,
    )  # fmt: skip
    (seq,) = append_many(session, [entry])
    row = session.get(AuditEntry, seq)
    assert row is not None
    return row


def list_entries(
    session: Session, *, case_id: str | None = None, after_seq: int = 0, limit: int = 100
) -> list[AuditEntry]:
    """Entries in seq order (a case's timeline with ``case_id``), keyset-paged by seq."""
    stmt = select(AuditEntry).where(AuditEntry.seq > after_seq)
    if case_id is not None:
        stmt = stmt.where(AuditEntry.case_id == case_id)
    return list(session.scalars(stmt.order_by(AuditEntry.seq).limit(limit)))


# --------------------------------------------------------------------------- tree heads


class _HeadLike(Protocol):
    tree_size: int
    root_hash: str


def head_of(cp: AuditCheckpoint) -> treeheads.SignedTreeHead:
    """The head document of a stored checkpoint (with the public key, when it is the
    configured one)."""
    public = treeheads.settings().public_key
    pub_b64 = None
    if public is not None and cp.key_id == treeheads.key_id(public):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        pub_b64 = base64.b64encode(raw).decode("ascii")
    return treeheads.SignedTreeHead(
        cp.tree_size, cp.root_hash, treeheads.timestamp_ms(cp.created_at), cp.signature,
        cp.key_id, pub_b64,
    )  # fmt: skip


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    """One finding: the seq it is about (None when it cannot be pinned to an entry)."""

    seq: int | None
    kind: str
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "log"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    entries: int = 0
    head_size: int = 0
    root_hash: str = merkle.EMPTY_ROOT.hex()
    checkpoints_checked: int = 0
    trusted_heads_checked: int = 0
    signatures_checked: bool = False
    unsigned_checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    @property
    def first_problem(self) -> Problem | None:
        if not self.problems:
            return None
        pinned = [p for p in self.problems if p.seq is not None]
        return min(pinned, key=lambda p: p.seq) if pinned else self.problems[0]

    def summary(self) -> str:
        if self.ok:
            signed = ""
            if self.signatures_checked:
                signed = (
                    f" ({self.checkpoints_checked - self.unsigned_checkpoints} signature(s) "
                    f"verified, {self.unsigned_checkpoints} unsigned)"
                )
            return (
                f"audit log intact: {self.entries} entries, root {self.root_hash}, "
                f"{self.checkpoints_checked} checkpoint(s) consistent{signed}"
            )
        return f"audit log TAMPERED: {self.first_problem} ({len(self.problems)} problem(s))"


@dataclass(frozen=True)
class _Head:
    size: int
    root: str
    label: str
    signature: str | None = None
    created_at: datetime | None = None
    is_checkpoint: bool = False


def _entry_rows(session: Session, up_to: int):
    table = AuditEntry.__table__
    stmt = select(table).where(table.c.seq <= up_to).order_by(table.c.seq)
    return session.execute(stmt, execution_options={"yield_per": _BATCH})


def _seq_with_hash(session: Session, entry_hash: str) -> int | None:
    return session.scalar(select(AuditEntry.seq).where(AuditEntry.entry_hash == entry_hash))


def _begin_snapshot(session: Session) -> None:
    """A consistent read for verification, when the session has not begun yet."""
    if session.in_transaction():
        return
    bind = session.get_bind()
    options = (
        {"sqlite_begin": "DEFERRED"}
        if bind.dialect.name == "sqlite"
        else {"isolation_level": "REPEATABLE READ"}
    )
    session.connection(execution_options=options)


def verify(
    session: Session,
    *,
    key: Ed25519PublicKey | None = None,
    trusted_heads: Iterable[_HeadLike] = (),
) -> VerifyReport:
    """Check the whole log; see the module docstring. Never modifies anything.

    ``key``: check the checkpoints' Ed25519 signatures with this public key (a signed head
    must verify with it; unsigned ones are counted in ``unsigned_checkpoints``). ``trusted_heads``: tree heads kept outside the database (anything with
    ``tree_size`` and ``root_hash``); each must still match the log.
    Give a fresh session: it is then read in one consistent snapshot.
    """
    _begin_snapshot(session)
    report = VerifyReport(signatures_checked=key is not None)
    problems = report.problems
    # Checkpoints before the head: under READ COMMITTED, a checkpoint read first can never be
    # larger than the head read after it.
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))
    head = session.get(AuditHead, 1, populate_existing=True)
    head_size = head.size if head is not None else 0
    head_hash = head.last_hash if head is not None else GENESIS_HASH
    report.head_size = head_size

    heads: list[_Head] = []
    for cp in checkpoints:
        label = f"checkpoint of {cp.tree_size} entries taken {utc_iso(cp.created_at)}"
        heads.append(_Head(cp.tree_size, cp.root_hash, label, cp.signature, cp.created_at, True))
        if key is not None:
            # An unsigned head (taken before a key was configured, or before 0005 cleared the
            # HMAC signatures) only adds a constraint: it cannot hide anything, so it is
            # counted, not reported. A signed head that does not verify is a finding.
            if cp.signature is None:
                report.unsigned_checkpoints += 1
            elif not head_of(cp).verify_signature(key):
                problems.append(
                    Problem(
                        None,
                        "checkpoint_signature",
                        f"{label}: the signature does not verify with key "
                        f"{treeheads.key_id(key)[:16]}…",
                    )
                )
    for th in trusted_heads:
        heads.append(_Head(th.tree_size, th.root_hash, f"trusted tree head of {th.tree_size}"))
    by_size: dict[int, list[_Head]] = {}
    for h in heads:
        by_size.setdefault(h.size, []).append(h)

    def check_heads_at(size: int, root_hex: str) -> None:
        for h in by_size.get(size, ()):
            if h.is_checkpoint:
                report.checkpoints_checked += 1
            else:
                report.trusted_heads_checked += 1
            if h.root != root_hex:
                problems.append(
                    Problem(
                        None,
                        "checkpoint_mismatch",
                        f"{h.label}: the first {size} entries no longer hash to its root "
                        f"{h.root[:16]}… (now {root_hex[:16]}…): entries were rewritten",
                    )
                )

    compact = merkle.CompactRange()
    check_heads_at(0, compact.root().hex())
    expected_seq = 1
    prev_stored = GENESIS_HASH  # stored entry_hash of the previous row
    prev_computed = GENESIS_HASH  # recomputed hash of the previous row
    prev_problem_index: int | None = None  # index in problems of the previous row's content problem
    last_seq = 0
    for row in _entry_rows(session, head_size):
        gap = row.seq != expected_seq
        if gap:
            problems.append(
                Problem(
                    expected_seq,
                    "gap",
                    f"entries {expected_seq}..{row.seq - 1} are missing (deleted); "
                    f"the log resumes at {row.seq}",
                )
            )
        if row.prev_hash != prev_stored and not gap:
            if row.prev_hash == prev_computed and prev_problem_index is not None:
                # the previous entry's contents are intact but its stored hash was changed
                before = row.seq - 1
                problems[prev_problem_index] = Problem(
                    before,
                    "entry_hash_edited",
                    f"the entry_hash stored for entry {before} was altered "
                    f"(entry {row.seq} still links to the true hash)",
                )
            else:
                moved_from = _seq_with_hash(session, row.prev_hash)
                if moved_from is not None and moved_from != row.seq - 1:
                    problems.append(
                        Problem(
                            row.seq,
                            "reordered",
                            f"the entry at seq {row.seq} follows the entry now at seq "
                            f"{moved_from} in the hash chain, not seq {row.seq - 1}: "
                            "entries were moved or swapped",
                        )
                    )
                else:
                    problems.append(
                        Problem(
                            row.seq,
                            "chain_break",
                            f"prev_hash does not match the hash of entry {row.seq - 1}: "
                            f"entry {row.seq - 1} was rewritten or this link was altered",
                        )
                    )
        computed = _row_hash(row)
        prev_problem_index = None
        if computed != row.entry_hash:
            prev_problem_index = len(problems)
            problems.append(
                Problem(
                    row.seq,
                    "content_edited",
                    "the entry's contents (payload, subject, actor, event type, time or seq) "
                    "do not match its entry_hash",
                )
            )
        compact.append(_leaf(row.entry_hash))
        if compact.size in by_size:
            check_heads_at(compact.size, compact.root().hex())
        prev_stored, prev_computed = row.entry_hash, computed
        expected_seq = row.seq + 1
        last_seq = row.seq

    report.entries = compact.size
    report.root_hash = compact.root().hex()
    if last_seq < head_size:
        problems.append(
            Problem(
                last_seq + 1,
                "truncated",
                f"the audit head records {head_size} entries but the log ends at seq "
                f"{last_seq}: entries {last_seq + 1}..{head_size} were deleted",
            )
        )
    elif head_size and prev_stored != head_hash:
        if head_hash == prev_computed and prev_problem_index is not None:
            problems[prev_problem_index] = Problem(
                last_seq,
                "entry_hash_edited",
                f"the entry_hash stored for entry {last_seq} was altered "
                "(the audit head still records the true hash)",
            )
        else:
            problems.append(
                Problem(
                    head_size,
                    "head_mismatch",
                    f"the audit head's last hash does not match entry {head_size}",
                )
            )
    if (
        head is not None
        and head.frontier
        and compact.size == head_size
        and not any(p.kind in ("truncated", "gap") for p in problems)
    ):
        try:
            stored = json.loads(head.frontier)
            stale = stored.get("size") == head_size and stored.get("peaks") != [
                p.hex() for p in compact.peaks
            ]
        except (ValueError, AttributeError):
            stale = True
        if stale:
            problems.append(
                Problem(
                    None,
                    "frontier_mismatch",
                    "the Merkle compact range kept in the audit head does not match the "
                    "entries: the head row was altered (tree heads would be taken wrong)",
                )
            )
    beyond = session.scalar(
        select(func.min(AuditEntry.seq)).where(
            AuditEntry.seq > select(AuditHead.size).where(AuditHead.id == 1).scalar_subquery()
        )
    )
    if beyond is not None:
        problems.append(
            Problem(
                beyond,
                "unrecorded_entry",
                f"entry {beyond} lies beyond the audit head ({head_size}): "
                "inserted outside the append path",
            )
        )
    for h in heads:
        if h.size > compact.size:
            problems.append(
                Problem(
                    compact.size + 1,
                    "truncated",
                    f"{h.label}, but the log now has {compact.size}: the log was truncated",
                )
            )
    problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


# --------------------------------------------------------------------------- checkpoints


def checkpoint(
    session: Session,
    *,
    key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
    witness_dir: Any = None,
) -> AuditCheckpoint:
    """Verify the log, then store (or return the existing) tree head at its current size.

    Refuses (:class:`AuditError`) to checkpoint a log that fails :func:`verify`. Signed with
    ``key`` (Ed25519) when given; written to ``witness_dir`` after commit when given. Restarts
    the automatic checkpoint clock.
    """
    if not session.in_transaction():
        session.connection()  # SQLite: BEGIN IMMEDIATE before reading, since we then write
    report = verify(session, key=key.public_key() if key is not None else None)
    if not report.ok:
        raise AuditError(f"refusing to checkpoint: {report.summary()}")
    existing = session.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.tree_size == report.entries)
    )
    if existing is not None:
        if existing.signature is None and key is not None:
            # taken before a key was configured; verify() just checked its root against the
            # log, so it is signed now (same size, root and time) rather than handed out
            # unsigned, e.g. to be published with the statistics
            signed = treeheads.make_head(
                existing.tree_size, existing.root_hash, existing.created_at, key
            )
            existing.signature, existing.key_id = signed.signature, signed.key_id
            session.flush()
            if witness_dir is not None:
                session.info.setdefault(_WITNESS_KEY, []).append((witness_dir, signed))
        return existing
    head = _lock_head_row(session)
    compact = _compact_range(session, head.size, None)  # recomputed: verify just read them
    when = (now or datetime.now(UTC)).astimezone(UTC)
    cp = _store_head(session, compact, when, key, witness_dir)
    head_t = AuditHead.__table__
    session.execute(
        update(head_t)
        .where(head_t.c.id == 1)
        .values(checkpoint_size=cp.tree_size, checkpoint_at=when)
    )
    return cp


def current_head(session: Session) -> AuditCheckpoint | None:
    """The newest stored tree head, or None."""
    return session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    )


# --------------------------------------------------------------------------- proofs


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    tree_size: int
    entry_hash: str
    path: tuple[str, ...]
    root_hash: str


def _leaves(session: Session, tree_size: int) -> list[bytes]:
    hashes = session.scalars(
        select(AuditEntry.entry_hash).where(AuditEntry.seq <= tree_size).order_by(AuditEntry.seq)
    )
    leaves = [_leaf(h) for h in hashes]
    if len(leaves) != tree_size:
        raise AuditError(f"the log has {len(leaves)} of the {tree_size} entries asked for")
    return leaves


def _size(session: Session, tree_size: int | None) -> int:
    head = session.get(AuditHead, 1)
    size = head.size if head is not None else 0
    if tree_size is None:
        return size
    if not 0 <= tree_size <= size:
        raise AuditError(f"tree size {tree_size} outside 0..{size}")
    return tree_size


def inclusion_proof(session: Session, seq: int, tree_size: int | None = None) -> InclusionProof:
    """Proof that entry ``seq`` is in the tree of the first ``tree_size`` entries (default:
    the whole log)."""
    size = _size(session, tree_size)
    if not 1 <= seq <= size:
        raise AuditError(f"seq {seq} is not in a tree of {size} entries")
    leaves = _leaves(session, size)
    entry_hash = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == seq))
    path = merkle.inclusion_proof(leaves, seq - 1)
    return InclusionProof(
        seq=seq,
        tree_size=size,
        entry_hash=entry_hash,
        path=tuple(p.hex() for p in path),
        root_hash=merkle.root(leaves).hex(),
    )


def verify_entry_inclusion(proof: InclusionProof, root_hash: str | None = None) -> bool:
    """Check an :class:`InclusionProof` against ``root_hash`` (default: the proof's own)."""
    try:
        path = [bytes.fromhex(p) for p in proof.path]
        expected = bytes.fromhex(root_hash or proof.root_hash)
    except ValueError:
        return False
    return merkle.verify_inclusion(
        _leaf(proof.entry_hash), proof.seq - 1, proof.tree_size, path, expected
    )


def consistency_proof(session: Session, old_size: int, new_size: int | None = None) -> list[str]:
    """RFC 6962 proof (hex) that the tree of ``old_size`` entries is a prefix of the tree of
    ``new_size`` (default: the whole log)."""
    size = _size(session, new_size)
    if not 0 <= old_size <= size:
        raise AuditError(f"old size {old_size} outside 0..{size}")
    return [p.hex() for p in merkle.consistency_proof(_leaves(session, size), old_size)]


#: The file name the signed tree head takes beside published statistics.
PUBLISHED_HEAD_NAME = "audit-head.json"


def publish_head(engine: Any, directory: Any) -> tuple[treeheads.SignedTreeHead, Any]:
    """Verify the log and write its current signed tree head (``audit head``'s JSON) to
    ``directory/audit-head.json``, beside statistics derived from the store: anyone who keeps
    the file can later prove with ``securecomm audit verify --since`` that the log the
    statistics came from was neither rewritten nor truncated (RFC 6962 consistency; issue 9:
    heads "published with the monthly public statistics"). Returns the head and the path.
    Raises :class:`AuditError` when the log fails verification: nothing is published then."""
    from pathlib import Path

    from .db import session_factory

    st = treeheads.settings()
    with session_factory(engine)() as session, session.begin():
        head = head_of(checkpoint(session, key=st.signing_key, witness_dir=st.witness_dir))
    path = Path(directory) / PUBLISHED_HEAD_NAME
    path.write_text(head.to_json(), encoding="utf-8")
    return head, path
