"""The audit log proves the data: ``audit verify --data`` and ``audit verify --since HEAD``.

:func:`verify_data`
    Reads the last state the log records for every audited row (:mod:`.rowstate`; the
    ``rows`` of each entry, later entries winning) and every row of every audited table, and
    reports

    * ``row_edited`` -- the row's state is not the last one logged (with the columns that
      differ and the entry that logged it): edited outside the store;
    * ``row_unlogged`` -- a row the log does not know: inserted (or its key changed) outside
      the store, or written before migration 0005 (see ``docs/audit.md``);
    * ``row_missing`` -- a row the log says exists is gone: deleted.

    The log's own integrity (:func:`securecomm.store.audit.verify`) is checked first: states
    read from a log that fails it prove nothing, and the report says so.

    Memory: one (digest, seq) per audited row (about 150 bytes), the rows streamed.

:func:`verify_since`
    Checks a tree head kept outside the database: its Ed25519 signature (with the configured
    or given public key), then an RFC 6962 consistency proof from it to the current tree. A
    log rewritten after the head was taken -- even with every hash recomputed -- or truncated
    below it fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import merkle, rowstate, treeheads
from .audit import _leaves, _size
from .errors import AuditError
from .models import AuditEntry

__all__ = [
    "ADOPT_EVENT",
    "DataProblem",
    "DataReport",
    "HeadReport",
    "adopt_unlogged",
    "verify_data",
    "verify_since",
]


@dataclass(frozen=True)
class DataProblem:
    kind: str  # row_edited | row_unlogged | row_missing
    table: str
    key: str
    detail: str
    seq: int | None = None  # the entry that logged the row's last state
    columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.kind}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "id": self.key,
            "detail": self.detail,
            "logged_at_seq": self.seq,
            "columns": list(self.columns),
        }


@dataclass
class DataReport:
    rows_checked: int = 0
    rows_logged: int = 0
    tables: list[str] = field(default_factory=list)
    problems: list[DataProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    def summary(self) -> str:
        if self.ok:
            return (
                f"data intact: {self.rows_checked} rows of {len(self.tables)} audited tables "
                "match the states the audit log records"
            )
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts().items()))
        return f"data TAMPERED: {counts}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows_checked": self.rows_checked,
            "rows_logged": self.rows_logged,
            "tables": self.tables,
            "counts": self.counts(),
            "problems": [p.to_dict() for p in self.problems],
        }


def _logged_states(session: Session) -> dict[tuple[str, str], tuple[str, int]]:
    """(table, key) -> (digest, seq) of the last logged state of every row."""
    latest: dict[tuple[str, str], tuple[str, int]] = {}
    stmt = select(AuditEntry.seq, AuditEntry.rows).where(AuditEntry.rows.is_not(None))
    for seq, text in session.execute(
        stmt.order_by(AuditEntry.seq), execution_options={"yield_per": 2000}
    ):
        try:
            states = json.loads(text)
        except ValueError:
            continue  # the chain check reports the entry as edited
        for s in states if isinstance(states, list) else ():
            if isinstance(s, dict) and isinstance(s.get("t"), str) and isinstance(s.get("h"), str):
                latest[(s["t"], str(s.get("k")))] = (s["h"], seq)
    return latest


def _logged_columns(session: Session, seq: int, table: str, key: str) -> dict[str, str]:
    text = session.scalar(select(AuditEntry.rows).where(AuditEntry.seq == seq))
    for s in json.loads(text or "[]"):
        if s.get("t") == table and str(s.get("k")) == key:
            return dict(s.get("c") or {})
    return {}


def verify_data(session: Session, *, tables: Iterable[str] | None = None) -> DataReport:
    """Recompute every audited row's state and compare it with the log (module docstring)."""
    report = DataReport()
    latest = _logged_states(session)
    report.rows_logged = len(latest)
    chosen = [rowstate.get(t) for t in tables] if tables is not None else rowstate.audited_tables()
    names = {a.name for a in chosen}
    for audited in chosen:
        report.tables.append(audited.name)
        for state in rowstate.scan_states(session, audited):
            report.rows_checked += 1
            logged = latest.pop((audited.name, state.key), None)
            if logged is None:
                report.problems.append(
                    DataProblem(
                        "row_unlogged",
                        audited.name,
                        state.key,
                        "the audit log has no record of this row: inserted outside the store",
                    )
                )
                continue
            digest, seq = logged
            if digest == state.sha256:
                continue
            before = _logged_columns(session, seq, audited.name, state.key)
            changed = tuple(
                sorted(
                    c
                    for c in set(state.columns) | set(before)
                    if state.columns.get(c) != before.get(c)
                )
            )
            what = f"columns {', '.join(changed)} differ" if changed else "its digest differs"
            report.problems.append(
                DataProblem(
                    "row_edited",
                    audited.name,
                    state.key,
                    f"not the state the log recorded at entry {seq}: {what}",
                    seq,
                    changed,
                )
            )
    for (table, key), (_digest, seq) in sorted(latest.items(), key=lambda kv: kv[1][1]):
        if table in names:
            report.problems.append(
                DataProblem(
                    "row_missing",
                    table,
                    key,
                    f"logged at entry {seq} but no longer in the table: deleted",
                    seq,
                )
            )
    return report


@dataclass
class HeadReport:
    head: treeheads.SignedTreeHead
    current_size: int = 0
    current_root: str = ""
    signature: str = "unchecked"  # verified | invalid | unsigned | no key
    proof_length: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        h = self.head
        if self.ok and self.proof_length < 0:
            return (
                f"head of {h.tree_size} entries: signature {self.signature}; its root is "
                "checked against the log with the other kept heads"
            )
        if self.ok:
            return (
                f"consistent: the kept head of {h.tree_size} entries (root "
                f"{h.root_hash[:16]}…, signature {self.signature}) is a prefix of the current "
                f"log of {self.current_size} entries (RFC 6962 consistency proof of "
                f"{self.proof_length} hashes)"
            )
        return f"head of {h.tree_size} entries: " + "; ".join(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "head": self.head.to_dict(),
            "current_size": self.current_size,
            "current_root": self.current_root,
            "signature": self.signature,
            "proof_length": self.proof_length,
            "problems": self.problems,
        }


def verify_since(
    session: Session,
    head: treeheads.SignedTreeHead,
    *,
    public_key: Ed25519PublicKey | None = None,
    prove: bool = True,
) -> HeadReport:
    """Check a kept head's signature and prove the current log extends it (module docstring).

    ``public_key``: the key the head must be signed by; without one, a signed head is checked
    against the key it carries and reported as such (``self-asserted key``).
    ``prove``: build and check the consistency proof (O(n)); without it only the signature
    and the size are checked here -- for many heads at once, give them all to
    :func:`securecomm.store.audit.verify` as ``trusted_heads`` (one pass checks every root)
    and prove the newest."""
    report = HeadReport(head)
    if head.signature is None:
        report.signature = "unsigned"
    else:
        key = public_key
        source = "verified"
        if key is None and head.public_key:
            try:
                import base64

                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(head.public_key))
                source = "verified against the key in the head file only (self-asserted key)"
            except ValueError:
                key = None
        if key is None:
            report.signature = "not checked: no public key"
        elif head.key_id and head.key_id != treeheads.key_id(key):
            report.signature = "invalid"
            report.problems.append(
                f"signed by key {head.key_id[:16]}…, not the trusted key "
                f"{treeheads.key_id(key)[:16]}…"
            )
        elif head.verify_signature(key):
            report.signature = source
        else:
            report.signature = "invalid"
            report.problems.append(
                "the signature does not verify: the head file was altered or not signed by "
                "this log's key"
            )
    size = _size(session, None)
    report.current_size = size
    if head.tree_size > size:
        report.problems.append(
            f"the log now has {size} entries, fewer than the {head.tree_size} of the kept head: "
            "the log was truncated"
        )
        return report
    if not prove:
        report.proof_length = -1
        return report
    try:
        leaves = _leaves(session, size)
    except AuditError as exc:  # entries deleted under the head row
        report.problems.append(f"{exc}: the log was truncated")
        return report
    new_root = merkle.root(leaves)
    report.current_root = new_root.hex()
    proof = merkle.consistency_proof(leaves, head.tree_size)
    report.proof_length = len(proof)
    if not merkle.verify_consistency(
        head.tree_size, size, bytes.fromhex(head.root_hash), new_root, proof
    ):
        report.problems.append(
            f"the current log is not an extension of the kept head (its first "
            f"{head.tree_size} entries no longer hash to root {head.root_hash[:16]}…): "
            "the log was rewritten"
        )
    return report


ADOPT_EVENT = "integrity.rows_adopted"
_ADOPT_CHUNK = 200


def adopt_unlogged(session: Session, *, actor: str) -> dict[str, int]:
    """Record the current state of every audited row the log does not know (rows written
    before migration 0005, or by a writer that did not log them), as ``integrity.rows_adopted``
    entries of up to 200 rows each -> rows adopted per table.

    An explicit, audited decision of an administrator: from then on those rows are proved like
    any other. Rows whose state *differs* from the logged one, and logged rows that are gone,
    are never adopted: they stay findings of :func:`verify_data`."""
    from . import audit

    latest = _logged_states(session)
    batch = audit.AuditBatch(session)
    adopted: dict[str, int] = {}
    for audited in rowstate.audited_tables():
        keys = [
            state.key
            for state in rowstate.scan_states(session, audited)
            if (audited.name, state.key) not in latest
        ]
        for lo in range(0, len(keys), _ADOPT_CHUNK):
            chunk = keys[lo : lo + _ADOPT_CHUNK]
            refs = [(audited.name, _typed_key(audited, k)) for k in chunk]
            batch.add(
                ADOPT_EVENT,
                actor=actor,
                subject={"table": audited.name},
                payload={"rows": len(chunk), "reason": "not in the audit log when adopted"},
                rows=refs,
            )
        if keys:
            adopted[audited.name] = len(keys)
    batch.flush()
    return adopted


def _typed_key(audited: rowstate.AuditedTable, key: str) -> Any:
    parts = key.split("/")
    values = tuple(
        int(p) if c.type.python_type is int else p
        for c, p in zip(audited.key_columns, parts, strict=True)
    )
    return values if len(values) > 1 else values[0]
