"""Boosts indexed by (boosted note, booster).

Without it SQLite answers "which of these notes has the viewer boosted?" by
walking all of the viewer's statuses (~2 ms on every page of a timeline).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_statuses_reblog", "statuses")
    op.create_index("ix_statuses_reblog", "statuses", ["reblog_of_id", "account_id"])


def downgrade() -> None:
    op.drop_index("ix_statuses_reblog", "statuses")
    op.create_index("ix_statuses_reblog", "statuses", ["reblog_of_id"])
