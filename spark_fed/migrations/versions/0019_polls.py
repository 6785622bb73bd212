"""Polls: a status's options and counts, the votes cast on it, and the jobs it needs later.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column(
            "status_id",
            sa.BigInteger(),
            sa.ForeignKey("statuses.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("tallies_json", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("hide_totals", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("voters_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "poll_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "poll_id", sa.BigInteger(), sa.ForeignKey("polls.status_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("uq_poll_votes_choice", "poll_votes", ["poll_id", "account_id", "choice"], unique=True)
    op.create_index("ix_poll_votes_account", "poll_votes", ["account_id"])
    op.create_table(
        "poll_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column(
            "poll_id", sa.BigInteger(), sa.ForeignKey("polls.status_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_index("ix_poll_jobs_due", "poll_jobs", ["state", "next_attempt_at"])
    op.create_index("ix_poll_jobs_poll", "poll_jobs", ["poll_id", "kind", "state"])


def downgrade() -> None:
    op.drop_table("poll_jobs")
    op.drop_table("poll_votes")
    op.drop_table("polls")
