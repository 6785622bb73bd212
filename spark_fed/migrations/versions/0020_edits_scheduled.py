"""Edit history and scheduled posts: earlier revisions of statuses, and posts waiting for their time.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_edits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("media", sa.Text(), nullable=False),
        sa.Column("poll", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_status_edits_status", "status_edits", ["status_id", "created_at"])
    op.create_table(
        "scheduled_statuses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
    )
    op.create_index("ix_scheduled_statuses_due", "scheduled_statuses", ["state", "next_attempt_at"])
    op.create_index("ix_scheduled_statuses_account", "scheduled_statuses", ["account_id", "id"])
    op.create_table(
        "scheduled_status_media",
        sa.Column(
            "scheduled_status_id",
            sa.Integer(),
            sa.ForeignKey("scheduled_statuses.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "media_id",
            sa.BigInteger(),
            sa.ForeignKey("media_attachments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_scheduled_status_media_media", "scheduled_status_media", ["media_id"])


def downgrade() -> None:
    op.drop_table("scheduled_status_media")
    op.drop_table("scheduled_statuses")
    op.drop_table("status_edits")
