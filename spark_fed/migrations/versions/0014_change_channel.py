"""The change channel's marker table (read by processes that serve a SQLite database).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ids", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("changes")
