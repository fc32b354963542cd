"""Oversight (issue 11): complaints and their events, panel draws and findings.

Placeholder revision so the migration chain is fixed while this work is built in parallel;
the owner of this revision fills in upgrade() and downgrade().

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
