"""Row states the audit log proves (issue 9 item 1): which tables, and the digest of a row.

An *audited table* is registered here once (:func:`register`). Every audit entry that records a
change to one of its rows names the row (``rows=[("decisions", 17)]`` in
:func:`securecomm.store.audit.append` / :class:`~securecomm.store.audit.AuditBatch`); when the
entry is appended the row is read back from the database and its digest goes into the entry,
under the hash chain. ``securecomm audit verify --data`` reads every audited table again and
compares (:func:`securecomm.store.dataverify.verify_data`).

Canonical row state
    ``{"table": <name>, "key": <key>, "row": {<column>: <value>, ...}}`` as canonical JSON
    (:func:`~securecomm.store.types.canonical_json`: sorted keys, no whitespace, UTF-8), over
    *every* column of the table, with values as JSON: timestamps ``YYYY-MM-DDTHH:MM:SS.ffffffZ``
    (UTC), dates ``YYYY-MM-DD``, enumerations their value, JSON documents as themselves, NULL as
    ``null``. ``key`` is the primary key as text (a composite key joined by ``/``).
    The row digest is the SHA-256 of that text (hex); a per-column digest (the first 16 hex
    digits of the SHA-256 of the column's canonical JSON) is kept beside it so verification can
    say *which* columns changed. Only the full row digest is relied on for integrity.

Both the writer and the verifier compute the state from what the database returns for the
row (never from the values the writer meant to store), so a type's round trip cannot cause a
false alarm.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from .types import canonical_json, utc_iso

__all__ = [
    "AuditedTable",
    "RowState",
    "audited_tables",
    "column_digest",
    "get",
    "read_states",
    "register",
    "row_key",
    "scan_states",
    "state_of",
]

COLUMN_DIGEST_HEX = 16
_CHUNK = 500


@dataclass(frozen=True)
class AuditedTable:
    name: str
    table: Table

    @property
    def key_columns(self):
        return list(self.table.primary_key.columns)


@dataclass(frozen=True)
class RowState:
    """A row's digest and its per-column digests."""

    table: str
    key: str
    sha256: str
    columns: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"t": self.table, "k": self.key, "h": self.sha256, "c": dict(self.columns)}


_REGISTRY: dict[str, AuditedTable] = {}


def register(table: Table | Any) -> AuditedTable:
    """Register a table (a :class:`Table` or a mapped class) whose row states the audit log
    proves. Idempotent. Later tables (complaints ...) call this beside their model."""
    table = getattr(table, "__table__", table)
    entry = AuditedTable(table.name, table)
    _REGISTRY[table.name] = entry
    return entry


def audited_tables() -> list[AuditedTable]:
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def get(name: str) -> AuditedTable:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"table {name!r} is not registered for row-state auditing") from None


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"no canonical form for a {type(value).__name__} column value")


def row_key(values: Sequence[Any]) -> str:
    return "/".join(str(_json_value(v)) for v in values)


def column_digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(_json_value(value)).encode("utf-8")).hexdigest()[
        :COLUMN_DIGEST_HEX
    ]


def state_of(audited: AuditedTable, mapping: Mapping[str, Any]) -> RowState:
    """The :class:`RowState` of one row as read from the database (a column-name mapping)."""
    row = {c.name: _json_value(mapping[c.name]) for c in audited.table.columns}
    key = row_key([mapping[c.name] for c in audited.key_columns])
    text = canonical_json({"table": audited.name, "key": key, "row": row})
    return RowState(
        audited.name,
        key,
        hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        {name: column_digest(value) for name, value in row.items()},
    )


def _key_values(audited: AuditedTable, key: Any) -> tuple[Any, ...]:
    return tuple(key) if isinstance(key, tuple | list) else (key,)


def read_states(
    session: Session, refs: Iterable[tuple[str, Any]]
) -> dict[tuple[str, str], RowState]:
    """Read the named rows (``(table, primary key)``; a tuple for a composite key) and return
    their states by ``(table, key text)``. A row that does not exist is absent."""
    wanted: dict[str, list[tuple[Any, ...]]] = {}
    for name, key in refs:
        audited = get(name)
        values = _key_values(audited, key)
        if len(values) != len(audited.key_columns):
            raise ValueError(f"{name}: key {key!r} does not match its primary key")
        wanted.setdefault(name, []).append(values)
    out: dict[tuple[str, str], RowState] = {}
    for name, keys in wanted.items():
        audited = get(name)
        cols = audited.key_columns
        unique = sorted(set(keys), key=repr)
        for lo in range(0, len(unique), _CHUNK):
            chunk = unique[lo : lo + _CHUNK]
            if len(cols) == 1:
                where = cols[0].in_([k[0] for k in chunk])
            else:
                where = tuple_(*cols).in_(chunk)
            for mapping in session.execute(select(audited.table).where(where)).mappings():
                state = state_of(audited, mapping)
                out[(name, state.key)] = state
    return out


def scan_states(session: Session, audited: AuditedTable, batch: int = 2000) -> Iterator[RowState]:
    """Every row of an audited table, as states, streamed in primary-key order."""
    stmt = select(audited.table).order_by(*audited.key_columns)
    for mapping in session.execute(stmt, execution_options={"yield_per": batch}).mappings():
        yield state_of(audited, mapping)


def _register_defaults() -> None:
    from . import models as m

    for model in (
        m.DecisionRecord,
        m.OfficerAction,
        m.Detainer,
        m.DetainerEvent,
        m.Notice,
        m.CaseFact,
        m.User,
        m.UserJurisdiction,
        m.UserArea,
        # oversight (IV rec. 4, 6). Not complaint_identities: a column digest of a
        # complainant's name could confirm a guessed name; the entry logs its SHA-256 only
        # when filed, and the identity is read by CRCL alone.
        m.Complaint,
        m.ComplaintEvent,
        m.ComplaintLink,
        m.PanelFindingRecord,
        m.PanelResponse,
    ):
        register(model)


_register_defaults()
