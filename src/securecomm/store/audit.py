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

Merkle tree and checkpoints
    The entry hashes are also the data of an RFC 6962 Merkle tree (:mod:`.merkle`; leaf hash
    ``sha256(0x00 || entry_hash)``). :func:`checkpoint` stores a tree head (size, root, time,
    and an HMAC-SHA256 signature when a key is configured, env ``SECURECOMM_AUDIT_KEY``);
    publishing it elsewhere (``securecomm audit checkpoint --json``) lets a later
    :func:`verify` prove that the log only grew. :func:`inclusion_proof` proves one entry is
    in a tree head.

Verification
    :func:`verify` recomputes every hash, the links, the sequence, the head row and every
    checkpoint's root in one pass (O(n) time, O(log n) memory) and reports the first bad seq and
    what is wrong: ``content_edited``, ``entry_hash_edited``, ``gap`` (deleted entries),
    ``reordered``, ``chain_break``, ``truncated``, ``head_mismatch``, ``unrecorded_entry``,
    ``checkpoint_mismatch``, ``checkpoint_signature``. A hash chain alone cannot show that the
    newest entries were cut off together with the head row: that is what checkpoints (and
    tree heads kept outside the database) are for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from . import merkle
from .errors import AuditError, InputError
from .models import ACTOR_MAX, CASE_ID_MAX, EVENT_TYPE_MAX, AuditCheckpoint, AuditEntry, AuditHead
from .types import canonical_json, check_storable_json, check_text, utc_iso

__all__ = [
    "ENV_AUDIT_KEY",
    "GENESIS_HASH",
    "AuditBatch",
    "InclusionProof",
    "PendingEntry",
    "Problem",
    "TreeHead",
    "VerifyReport",
    "append",
    "append_many",
    "audit_key_from_env",
    "checkpoint",
    "compute_entry_hash",
    "consistency_proof",
    "entry_body",
    "inclusion_proof",
    "list_entries",
    "prepare_entry",
    "sign_tree_head",
    "verify",
    "verify_entry_inclusion",
]

GENESIS_HASH = "0" * 64
ENV_AUDIT_KEY = "SECURECOMM_AUDIT_KEY"
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
) -> bytes:
    """Canonical JSON (UTF-8) of an entry, spliced from the stored subject and payload texts.

    Equal to ``canonical_json({...})`` of the entry when those texts are canonical; splicing
    hashes exactly what is stored.
    """
    c = canonical_json
    text = (
        f'{{"actor":{c(actor)},"case_id":{c(case_id)},"event_type":{c(event_type)},'
        f'"payload":{payload_text},"recorded_at":{c(utc_iso(recorded_at))},"seq":{int(seq)},'
        f'"subject":{subject_text}}}'
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
        row.seq, row.recorded_at, row.actor, row.event_type, row.case_id, row.subject, row.payload
    )
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


def prepare_entry(
    event_type: str,
    *,
    actor: str,
    subject: Mapping[str, Any] | None = None,
    payload: Any = None,
    recorded_at: datetime | None = None,
    payload_checked: bool = False,
) -> PendingEntry:
    """Validate and serialise one entry (what :func:`append` checks, nothing less).

    ``payload_checked``: the caller built ``payload`` from values it has already passed
    through :func:`~securecomm.store.types.check_storable_json` (the store's batch writers:
    a notice's content, a decision document) -- not walked a second time. Serialisation
    (:func:`canonical_json`, which refuses NaN and non-JSON types) still runs."""
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
    )


def _lock_head_row(session: Session) -> tuple[int, str]:
    """(size, last hash) of the audit head, locked until the transaction ends."""
    head_t = AuditHead.__table__
    row = session.execute(
        select(head_t.c.size, head_t.c.last_hash).where(head_t.c.id == 1).with_for_update()
    ).one_or_none()
    if row is None:  # a database built without the migrations (which insert the row)
        session.execute(insert(head_t).values(id=1, size=0, last_hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(row[0]), row[1]


def append_many(session: Session, entries: Sequence[PendingEntry]) -> list[int]:
    """Append ``entries`` in order, in the session's transaction; returns their seqs.

    One head lock, one multi-row insert, one head update for the lot: the chain is exactly the
    one :func:`append` called once per entry would write (each entry is its own leaf, hashed
    over its own seq and its predecessor's hash), so :func:`verify` cannot tell them apart.
    Anything the ORM holds is flushed first, so entries follow the changes they record.
    """
    if not entries:
        return []
    session.flush()
    size, prev = _lock_head_row(session)
    rows = []
    for e in entries:
        size += 1
        body = entry_body(
            size, e.recorded_at, e.actor, e.event_type, e.case_id, e.subject_text, e.payload_text
        )
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
                "prev_hash": prev,
                "entry_hash": entry_hash,
            }
        )
        prev = entry_hash
    session.execute(insert(AuditEntry.__table__), rows)
    head_t = AuditHead.__table__
    session.execute(
        update(head_t)
        .where(head_t.c.id == 1)
        .values(size=size, last_hash=prev, updated_at=entries[-1].recorded_at)
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
    ) -> None:
        self.pending.append(
            prepare_entry(
                event_type,
                actor=actor,
                subject=subject,
                payload=payload,
                recorded_at=recorded_at,
                payload_checked=payload_checked,
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
) -> AuditEntry:
    """Append one entry in the session's transaction and return it (flushed, not committed).

    Holds the audit head lock until the transaction ends: commit soon. The same code path as
    :func:`append_many` (a batch of one).
    """
    entry = prepare_entry(
        event_type, actor=actor, subject=subject, payload=payload, recorded_at=recorded_at
    )
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


@dataclass(frozen=True)
class TreeHead:
    """A Merkle tree head: the root over the first ``tree_size`` entries."""

    tree_size: int
    root_hash: str
    created_at: datetime | None = None
    signature: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = utc_iso(self.created_at) if self.created_at else None
        return canonical_json(data)

    @classmethod
    def from_json(cls, text: str) -> TreeHead:
        data = json.loads(text)
        created = data.get("created_at")
        return cls(
            tree_size=int(data["tree_size"]),
            root_hash=str(data["root_hash"]),
            created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
            signature=data.get("signature"),
        )


def audit_key_from_env() -> bytes | None:
    """The checkpoint signing key (``SECURECOMM_AUDIT_KEY``, UTF-8), or None."""
    key = os.environ.get(ENV_AUDIT_KEY, "")
    return key.encode("utf-8") if key else None


def sign_tree_head(key: bytes, tree_size: int, root_hash: str, created_at: datetime) -> str:
    """HMAC-SHA256 over ``securecomm-audit-tree-head/1``, size, root and time (hex)."""
    message = f"securecomm-audit-tree-head/1\n{tree_size}\n{root_hash}\n{utc_iso(created_at)}"
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


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
            return (
                f"audit log intact: {self.entries} entries, root {self.root_hash}, "
                f"{self.checkpoints_checked} checkpoint(s) consistent"
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
    key: bytes | None = None,
    trusted_heads: Iterable[TreeHead] = (),
) -> VerifyReport:
    """Check the whole log; see the module docstring. Never modifies anything.

    ``key``: check the checkpoints' HMAC signatures (each must be signed). ``trusted_heads``:
    tree heads kept outside the database; each must still match the log.
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
            expected = sign_tree_head(key, cp.tree_size, cp.root_hash, cp.created_at)
            if cp.signature is None:
                problems.append(Problem(None, "checkpoint_signature", f"{label} is unsigned"))
            elif not hmac.compare_digest(cp.signature, expected):
                problems.append(
                    Problem(None, "checkpoint_signature", f"{label}: signature does not verify")
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
    session: Session, *, key: bytes | None = None, now: datetime | None = None
) -> AuditCheckpoint:
    """Verify the log, then store (or return the existing) tree head at its current size.

    Refuses (:class:`AuditError`) to checkpoint a log that fails :func:`verify`. Signed with
    ``key`` (HMAC-SHA256) when given.
    """
    if not session.in_transaction():
        session.connection()  # SQLite: BEGIN IMMEDIATE before reading, since we then write
    report = verify(session, key=key)
    if not report.ok:
        raise AuditError(f"refusing to checkpoint: {report.summary()}")
    existing = session.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.tree_size == report.entries)
    )
    if existing is not None:
        return existing
    created_at = (now or datetime.now(UTC)).astimezone(UTC)
    cp = AuditCheckpoint(
        tree_size=report.entries,
        root_hash=report.root_hash,
        created_at=created_at,
        signature=(
            sign_tree_head(key, report.entries, report.root_hash, created_at) if key else None
        ),
    )
    session.add(cp)
    session.flush()
    return cp


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
