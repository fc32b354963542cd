"""Pipeline stages: ``submissions.stage``, ``ch_biometrics``, ``identity_verifications``.

Written by hand (see 0001 for the conventions) for the pipeline of ``securecomm.interop``:

* ``submissions.stage`` -- the next pipeline step of a submission (VARCHAR(40) + CHECK, default
  ``criminal_history``), indexed with ``id`` as a per-stage work queue. Rows that exist already
  get ``criminal_history``, or ``done`` when their state is ``completed``. On SQLite the column
  is added with a plain ``ALTER TABLE ... ADD COLUMN`` carrying its named CHECK (SQLite cannot
  add a constraint later, and a batch rebuild of a table other tables reference is not
  needed for one column).
* ``ch_biometrics`` -- the criminal-history side's templates (the FBI's own captures), from
  which its 1:N gallery is rebuilt; same layout and CHECK as ``imm_biometrics``.
* ``identity_verifications`` -- verification tasks: a 1:N score in the band, an ambiguous
  match, or a biographic (Splink) candidate; never acted on until a person confirms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

STAGES = (
    "criminal_history",
    "ident",
    "biographic",
    "lesc",
    "decide",
    "verification",
    "officer",
    "act",
    "done",
)
STAGE_CHECK = "stage IN (" + ", ".join(f"'{s}'" for s in STAGES) + ")"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE submissions ADD COLUMN stage VARCHAR(40) DEFAULT 'criminal_history' "
            f"NOT NULL CONSTRAINT ck_submissions_pipeline_stage CHECK ({STAGE_CHECK})"
        )
    else:
        op.add_column(
            "submissions",
            sa.Column(
                "stage",
                sa.String(length=40),
                server_default="criminal_history",
                nullable=False,
            ),
        )
        op.create_check_constraint(
            op.f("ck_submissions_pipeline_stage"), "submissions", sa.text(STAGE_CHECK)
        )
    op.execute("UPDATE submissions SET stage = 'done' WHERE state = 'completed'")
    op.create_index(op.f("ix_submissions_stage_id"), "submissions", ["stage", "id"])

    op.create_table(
        "ch_biometrics",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("fbi_number", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("template", sa.LargeBinary(), nullable=False),
        sa.Column("captured_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "dim > 0 AND length(template) = 4 * dim",
            name=op.f("ck_ch_biometrics_template_dim"),
        ),
        sa.ForeignKeyConstraint(
            ["fbi_number"],
            ["ch_subjects.fbi_number"],
            name=op.f("fk_ch_biometrics_fbi_number_ch_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ch_biometrics")),
    )
    op.create_index(op.f("ix_ch_biometrics_fbi_number"), "ch_biometrics", ["fbi_number"])

    op.create_table(
        "identity_verifications",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("submission_id", BIGID, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("fin", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("candidates", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "method IN ('biometric', 'biographic')",
            name=op.f("ck_identity_verifications_verification_method"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'confirmed', 'rejected')",
            name=op.f("ck_identity_verifications_verification_state"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
            name=op.f("fk_identity_verifications_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["fin"],
            ["imm_subjects.fin"],
            name=op.f("fk_identity_verifications_fin_imm_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_identity_verifications_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_verifications")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_identity_verifications_submission_id")),
    )
    op.create_index(
        op.f("ix_identity_verifications_case_id"), "identity_verifications", ["case_id"]
    )
    op.create_index(
        op.f("ix_identity_verifications_state_opened_at"),
        "identity_verifications",
        ["state", "opened_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_identity_verifications_state_opened_at"), table_name="identity_verifications"
    )
    op.drop_index(op.f("ix_identity_verifications_case_id"), table_name="identity_verifications")
    op.drop_table("identity_verifications")
    op.drop_index(op.f("ix_ch_biometrics_fbi_number"), table_name="ch_biometrics")
    op.drop_table("ch_biometrics")
    op.drop_index(op.f("ix_submissions_stage_id"), table_name="submissions")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE submissions DROP COLUMN stage")
    else:
        op.drop_constraint(op.f("ck_submissions_pipeline_stage"), "submissions", type_="check")
        op.drop_column("submissions", "stage")
