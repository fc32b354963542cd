"""Field office (issue 8): the case's final action as one stored fact; criminal history read once per case.

Written by hand (see 0001 for the conventions). Four nullable columns on ``cases``:

``final_action`` (CHECK: an action), ``final_action_at``, ``final_officer_action_id``
    The final action on the case -- what the officer action that released it chose (an
    accept, an override that needed no supervisor, a supervisor's approval, an automatic
    acceptance) -- written once. ``final_officer_action_id`` is not a foreign key
    (``officer_actions`` already references ``cases``; a cycle would make every bulk delete
    order-dependent): the repository checks it. Before 0006 it was re-derived at every read from the latest
    officer action; the upgrade fills the columns for cases already ``acted`` or ``closed``
    the same way (the latest officer action of the case, unless it is a supervisor's denial or
    chose nothing).
``criminal_history``
    The RAP sheet (as of the booking date) the LESC stage read when it opened the case; later
    stages read it from here. Left empty for cases opened before 0006 (the act stage reads the
    repository for those, as it did).

The downgrade drops the columns (the final action can be re-derived from officer actions).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
# Frozen here (not imported from the models): a migration must not change when the models do.
ACTIONS = ("no_action", "no_detainer", "conditional_detainer", "detainer", "notification_request")
CHECK = "final_action IN (" + ", ".join(f"'{a}'" for a in ACTIONS) + ")"
CK_NAME = "ck_cases_final_action"


def _add_columns() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot add a table constraint: the CHECK and the reference go on the column
        op.execute(
            f"ALTER TABLE cases ADD COLUMN final_action VARCHAR(40) CONSTRAINT {CK_NAME} "
            f"CHECK ({CHECK})"
        )
        op.execute("ALTER TABLE cases ADD COLUMN final_action_at DATETIME")
        op.execute("ALTER TABLE cases ADD COLUMN final_officer_action_id INTEGER")
        op.execute("ALTER TABLE cases ADD COLUMN criminal_history JSON")
        return
    op.add_column("cases", sa.Column("final_action", sa.String(length=40), nullable=True))
    op.create_check_constraint(op.f(CK_NAME), "cases", sa.text(CHECK))
    op.add_column("cases", sa.Column("final_action_at", TIMESTAMP, nullable=True))
    op.add_column("cases", sa.Column("final_officer_action_id", BIGID, nullable=True))
    op.add_column("cases", sa.Column("criminal_history", JSON, nullable=True))


def _backfill() -> None:
    """The final action of cases already released, derived as the code before 0006 did."""
    bind = op.get_bind()
    actions = sa.table(
        "officer_actions",
        sa.column("id", BIGID),
        sa.column("case_id", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("chosen_action", sa.String()),
        sa.column("acted_at", TIMESTAMP),
    )
    cases = sa.table(
        "cases",
        sa.column("case_id", sa.String()),
        sa.column("state", sa.String()),
        sa.column("final_action", sa.String()),
        sa.column("final_action_at", TIMESTAMP),
        sa.column("final_officer_action_id", BIGID),
    )
    released = set(
        bind.execute(
            sa.select(cases.c.case_id).where(cases.c.state.in_(["acted", "closed"]))
        ).scalars()
    )
    latest: dict[str, tuple] = {}
    for row in bind.execute(
        sa.select(actions.c.id, actions.c.case_id, actions.c.kind, actions.c.chosen_action,
                  actions.c.acted_at).order_by(actions.c.acted_at, actions.c.id)
    ):  # fmt: skip
        latest[row.case_id] = row
    for case_id, row in latest.items():
        if case_id not in released or row.kind == "supervisor_denial" or not row.chosen_action:
            continue
        bind.execute(
            sa.update(cases)
            .where(cases.c.case_id == case_id)
            .values(
                final_action=row.chosen_action,
                final_action_at=row.acted_at,
                final_officer_action_id=row.id,
            )
        )


def upgrade() -> None:
    _add_columns()
    _backfill()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for column in ("criminal_history", "final_officer_action_id", "final_action_at"):
            op.execute(f"ALTER TABLE cases DROP COLUMN {column}")
        # a column carrying a CHECK cannot be dropped in place: rebuild through batch mode
        with op.batch_alter_table("cases", recreate="always") as batch:
            batch.drop_constraint(op.f(CK_NAME), type_="check")
            batch.drop_column("final_action")
        return
    op.drop_column("cases", "criminal_history")
    op.drop_column("cases", "final_officer_action_id")
    op.drop_column("cases", "final_action_at")
    op.drop_constraint(op.f(CK_NAME), "cases", type_="check")
    op.drop_column("cases", "final_action")
