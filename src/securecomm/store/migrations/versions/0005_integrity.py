"""Integrity (issue 9): registered users, row-state digests in the audit log, signed tree heads.

Written by hand (see 0001 for the conventions).

Users
    ``users`` (name and its UTS #39 confusable skeleton, both UNIQUE; role CHECK; argon2id
    password hash; SHA-256 of the API key; disabled_at), ``user_jurisdictions`` (user -> ORI,
    foreign key to ``jurisdictions``) and ``user_areas`` (user -> ICE area of responsibility).

Audit log (see ``store/audit.py``, ``store/rowstate.py``, ``store/treeheads.py``)
    ``audit_log.rows``: the row states an entry produced (hashed with the entry when set);
    ``audit_head.frontier`` / ``checkpoint_size`` / ``checkpoint_at``: the Merkle compact
    range and the automatic tree-head clock; ``audit_checkpoints.signature`` widened to hold an
    Ed25519 signature (base64) and ``key_id`` added. The HMAC-SHA256 signatures of earlier
    checkpoints cannot be checked with an Ed25519 key and are cleared (the heads stay).

The downgrade drops the users tables (refusing while users exist: 0004 has nowhere to keep
them) and the new columns (refusing while an entry carries row states).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Frozen here (not imported from the models): a migration must not change when the models do.
ROLES = ("lea", "lea_system", "ice_officer", "ice_supervisor", "crcl", "panel", "admin")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("skeleton", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("api_key_sha256", sa.String(length=64), nullable=True),
        sa.Column("api_key_issued_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")",
            name=op.f("ck_users_user_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        sa.UniqueConstraint("skeleton", name=op.f("uq_users_skeleton")),
        sa.UniqueConstraint("api_key_sha256", name=op.f("uq_users_api_key_sha256")),
    )
    op.create_table(
        "user_jurisdictions",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("ori", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_jurisdictions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ori"], ["jurisdictions.ori"], name=op.f("fk_user_jurisdictions_ori_jurisdictions")
        ),
        sa.PrimaryKeyConstraint("user_id", "ori", name=op.f("pk_user_jurisdictions")),
    )
    op.create_table(
        "user_areas",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_areas_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "area", name=op.f("pk_user_areas")),
    )

    op.add_column("audit_log", sa.Column("rows", sa.Text(), nullable=True))
    op.add_column("audit_head", sa.Column("frontier", sa.Text(), nullable=True))
    op.add_column("audit_head", sa.Column("checkpoint_size", BIGID, nullable=True))
    op.add_column("audit_head", sa.Column("checkpoint_at", TIMESTAMP, nullable=True))
    op.execute("UPDATE audit_checkpoints SET signature = NULL")
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.alter_column(
            "signature",
            existing_type=sa.String(length=64),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
        batch.add_column(sa.Column("key_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    users = bind.execute(sa.text("SELECT COUNT(*) FROM users")).scalar() or 0
    if users:
        raise RuntimeError(
            f"migration 0005 downgrade: users holds {users} user(s) that 0004 has no table "
            "for; export and delete them first"
        )
    logged = bind.execute(sa.text("SELECT COUNT(*) FROM audit_log WHERE rows IS NOT NULL")).scalar()
    if logged:
        raise RuntimeError(
            f"migration 0005 downgrade: {logged} audit entries carry row states that 0004 "
            "cannot hash; the log would no longer verify"
        )
    op.execute("UPDATE audit_checkpoints SET signature = NULL")
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("key_id")
        batch.alter_column(
            "signature",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("checkpoint_at")
        batch.drop_column("checkpoint_size")
        batch.drop_column("frontier")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("rows")
    op.drop_table("user_areas")
    op.drop_table("user_jurisdictions")
    op.drop_table("users")
