"""Detainer policy columns, one detainer per (case, kind), new event types and notice kinds.

Written by hand (see 0001 for the conventions):

* ``detainers.policy`` / ``detainers.policy_version`` -- the policy the hold clock follows, as
  resolved at lodge (it was kept only in the ``issued`` event's details, which stay as they
  are). Existing rows are filled from those details.
* ``ix_detainers_case_id_kind`` -- a UNIQUE index on (case_id, kind): the lifecycle's
  idempotency key, now enforced by the database. A unique index rather than a table
  constraint because SQLite cannot add a constraint to an existing table, and rebuilding
  ``detainers`` (referenced by ``detainer_events`` and ``notices``) would need foreign keys
  off, which cannot be switched inside the migration's transaction. The upgrade refuses,
  naming them, if duplicate pairs exist.
* ``detainer_events.event_type`` gains ``released`` and ``held_past_expiry``;
  ``notices.kind`` gains ``detainer_activated`` and ``detainer_expired``. These are VARCHAR +
  CHECK enumerations: PostgreSQL replaces the CHECK; SQLite rebuilds the two tables (no other
  table references them) with the same columns, keys and indexes.

The downgrade reverses all of it; it refuses when rows use the new event types or notice kinds
(they have no encoding in 0002).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

EVENT_TYPES_0002 = (
    "issued", "activated", "release_eligible_reported", "custody_assumed", "lifted", "lapsed",
    "expired", "note",
)  # fmt: skip
EVENT_TYPES = (*EVENT_TYPES_0002, "released", "held_past_expiry")
NOTICE_KINDS_0002 = (
    "submission_response", "detainer_issued", "notification_request", "detainer_lifted",
    "case_update",
)  # fmt: skip
NOTICE_KINDS = (*NOTICE_KINDS_0002, "detainer_activated", "detainer_expired")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _detainer_events(event_types: Sequence[str]) -> list:
    return [
        sa.Column("id", BIGID, nullable=False),
        sa.Column("detainer_id", BIGID, nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["detainer_id"], ["detainers.id"], name=op.f("fk_detainer_events_detainer_id_detainers")
        ),
        sa.CheckConstraint(
            _in("event_type", event_types), name=op.f("ck_detainer_events_detainer_event_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detainer_events")),
    ]


def _notices(kinds: Sequence[str]) -> list:
    return [
        sa.Column("id", BIGID, nullable=False),
        sa.Column("ori", sa.String(length=9), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("submission_id", BIGID, nullable=True),
        sa.Column("detainer_id", BIGID, nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_notices_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["detainer_id"], ["detainers.id"], name=op.f("fk_notices_detainer_id_detainers")
        ),
        sa.ForeignKeyConstraint(
            ["ori"], ["jurisdictions.ori"], name=op.f("fk_notices_ori_jurisdictions")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_notices_submission_id_submissions")
        ),
        sa.CheckConstraint(_in("kind", kinds), name=op.f("ck_notices_notice_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notices_idempotency_key")),
    ]


_INDEXES = {
    "detainer_events": [("ix_detainer_events_detainer_id_occurred_at", ["detainer_id", "occurred_at"])],
    "notices": [
        ("ix_notices_case_id", ["case_id"]),
        ("ix_notices_ori_created_at", ["ori", "created_at"]),
    ],
}  # fmt: skip


def _rebuild_sqlite(name: str, items: list) -> None:
    """SQLite cannot alter a CHECK: create ``<name>_new`` with the new one, copy, swap."""
    table = op.create_table(f"{name}_new", *items)
    columns = ", ".join(c.name for c in table.columns)
    op.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {name}")
    for index, _cols in _INDEXES[name]:
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.execute(f"DROP TABLE {name}")
    op.execute(f"ALTER TABLE {table.name} RENAME TO {name}")
    for index, cols in _INDEXES[name]:
        op.create_index(index, name, cols)


def _set_checks(event_types: Sequence[str], kinds: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("detainer_events", _detainer_events(event_types))
        _rebuild_sqlite("notices", _notices(kinds))
        return
    op.drop_constraint(
        op.f("ck_detainer_events_detainer_event_type"), "detainer_events", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_detainer_events_detainer_event_type"),
        "detainer_events",
        sa.text(_in("event_type", event_types)),
    )
    op.drop_constraint(op.f("ck_notices_notice_kind"), "notices", type_="check")
    op.create_check_constraint(
        op.f("ck_notices_notice_kind"), "notices", sa.text(_in("kind", kinds))
    )


def upgrade() -> None:
    bind = op.get_bind()
    duplicates = bind.execute(
        sa.text(
            "SELECT case_id, kind, COUNT(*) FROM detainers GROUP BY case_id, kind "
            "HAVING COUNT(*) > 1 ORDER BY case_id, kind"
        )
    ).all()
    if duplicates:
        shown = ", ".join(f"{c}/{k} ({n})" for c, k, n in duplicates[:10])
        raise RuntimeError(
            f"migration 0003: {len(duplicates)} (case_id, kind) pair(s) have more than one "
            f"detainer ({shown}); resolve them before upgrading"
        )
    op.add_column("detainers", sa.Column("policy", sa.String(length=1000), nullable=True))
    op.add_column("detainers", sa.Column("policy_version", sa.String(length=64), nullable=True))
    op.create_index("ix_detainers_case_id_kind", "detainers", ["case_id", "kind"], unique=True)
    # fill the new columns from the issued events' details (where lodge kept the policy)
    events = sa.table(
        "detainer_events",
        sa.column("detainer_id", BIGID),
        sa.column("event_type", sa.String()),
        sa.column("details", JSON),
    )
    detainers = sa.table(
        "detainers",
        sa.column("id", BIGID),
        sa.column("policy", sa.String()),
        sa.column("policy_version", sa.String()),
    )
    for detainer_id, details in bind.execute(
        sa.select(events.c.detainer_id, events.c.details).where(events.c.event_type == "issued")
    ):
        if not isinstance(details, dict):
            continue
        policy = details.get("policy_ref") or details.get("policy")
        version = details.get("policy_version")
        if isinstance(policy, str) and policy:
            bind.execute(
                sa.update(detainers)
                .where(detainers.c.id == detainer_id)
                .values(
                    policy=policy[:1000],
                    policy_version=version[:64] if isinstance(version, str) and version else None,
                )
            )
    _set_checks(EVENT_TYPES, NOTICE_KINDS)


def downgrade() -> None:
    bind = op.get_bind()
    new_events = [t for t in EVENT_TYPES if t not in EVENT_TYPES_0002]
    new_kinds = [k for k in NOTICE_KINDS if k not in NOTICE_KINDS_0002]
    used = bind.execute(
        sa.text(
            f"SELECT (SELECT COUNT(*) FROM detainer_events WHERE {_in('event_type', new_events)}),"
            f" (SELECT COUNT(*) FROM notices WHERE {_in('kind', new_kinds)})"
        )
    ).one()
    if used[0] or used[1]:
        raise RuntimeError(
            f"migration 0003 downgrade: {used[0]} detainer event(s) of type "
            f"{'/'.join(new_events)} and {used[1]} notice(s) of kind {'/'.join(new_kinds)} "
            "have no encoding in 0002; remove or convert them first"
        )
    _set_checks(EVENT_TYPES_0002, NOTICE_KINDS_0002)
    op.drop_index("ix_detainers_case_id_kind", table_name=op.f("detainers"))
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE detainers DROP COLUMN policy_version")
        op.execute("ALTER TABLE detainers DROP COLUMN policy")
    else:
        op.drop_column("detainers", "policy_version")
        op.drop_column("detainers", "policy")
