"""Posting defaults on users (visibility, sensitive, language), which apps read from `source`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("default_visibility", sa.String(16), nullable=False, server_default="public")
        )
        batch.add_column(
            sa.Column("default_sensitive", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("default_language", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for column in ("default_language", "default_sensitive", "default_visibility"):
            batch.drop_column(column)
