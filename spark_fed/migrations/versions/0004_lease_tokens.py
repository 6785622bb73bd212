"""Lease tokens on queued jobs: a worker that outlived its lease cannot settle the job.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

QUEUES = ("inbox_items", "deliveries")


def upgrade() -> None:
    for table in QUEUES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_token", sa.String(32), nullable=True))


def downgrade() -> None:
    for table in QUEUES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_token")
