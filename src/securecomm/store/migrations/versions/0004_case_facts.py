"""Case facts: what the repositories do not hold (victim, witness, family ...).

Written by hand (see 0001 for the conventions). One new table, ``case_facts``: a Case v1
``flags`` name that no repository answers (the CHECK lists them: every flag but the
repository ones -- warrant, gang member, national security), its value, who asserted it
(``source``: an LEA or prosecutor certification such as a U-visa Form I-918 Supplement B, the
officer's interview, the person's own claim), who recorded it and when. Append-only (a
retraction is a new row with value false). ``case_id`` is not a foreign key: a certification
may be recorded before the booking is processed and the case opened.

The downgrade drops the table; it refuses while rows exist (they have nowhere to go in 0003).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Frozen here (not imported from the models): a migration must not change when the models do.
FACT_NAMES = (
    "serious_public_safety_risk", "crime_victim", "crime_witness", "domestic_violence_victim",
    "civil_rights_plaintiff", "veteran_or_armed_forces", "armed_forces_family",
    "us_citizen_or_lpr_family", "primary_caretaker", "pregnant_or_nursing",
    "serious_health_condition", "in_school_or_graduate", "indigent", "apprehended_at_border",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "case_facts",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("fact", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "fact IN (" + ", ".join(f"'{f}'" for f in FACT_NAMES) + ")",
            name=op.f("ck_case_facts_case_fact"),
        ),
        sa.CheckConstraint("length(source) > 0", name=op.f("ck_case_facts_case_fact_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_facts")),
    )
    op.create_index("ix_case_facts_case_id_recorded_at", "case_facts", ["case_id", "recorded_at"])


def downgrade() -> None:
    rows = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM case_facts")).scalar() or 0
    if rows:
        raise RuntimeError(
            f"migration 0004 downgrade: case_facts holds {rows} fact(s) that 0003 has no table "
            "for; export and delete them first"
        )
    op.drop_index("ix_case_facts_case_id_recorded_at", table_name="case_facts")
    op.drop_table("case_facts")
