"""Integrity (issue 9): registered users, row-state digests in the audit log, signed tree heads.

Placeholder revision so the migration chain is fixed while this work is built in parallel;
the owner of this revision fills in upgrade() and downgrade().

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
