"""The durable queues (inbox items, deliveries, the days a host failed); follows keep the Follow received.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _job_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("follows") as batch:
        batch.add_column(sa.Column("activity", sa.Text(), nullable=True))
    op.create_table(
        "inbox_items",
        *_job_columns(),
        sa.Column("dedup_key", sa.String(2048), nullable=False, unique=True),
        sa.Column("actor_uri", sa.String(2048), nullable=False),
        sa.Column("recipient_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="SET NULL")),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_inbox_items_due", "inbox_items", ["state", "next_attempt_at"])
    op.create_table(
        "deliveries",
        *_job_columns(),
        sa.Column(
            "sender_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("inbox_url", sa.String(2048), nullable=False),
        sa.Column("activity_id", sa.String(2048), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "host_failures",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("host_failures")
    op.drop_table("deliveries")
    op.drop_table("inbox_items")
    with op.batch_alter_table("follows") as batch:
        batch.drop_column("activity")
