"""Field office (issue 8): the case's final action as one stored fact; criminal history read once per case.

Placeholder revision so the migration chain is fixed while this work is built in parallel;
the owner of this revision fills in upgrade() and downgrade().

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
