"""Web service (issue 10): API tokens / sessions and access records, if the web layer needs tables.

Placeholder revision so the migration chain is fixed while this work is built in parallel;
the owner of this revision fills in upgrade() and downgrade().

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
