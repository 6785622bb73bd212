"""Bookmarks and pinned posts, and where a remote account publishes its pins.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _marks(name: str) -> None:
    """A table of (account, status) marks, one per pair, numbered in the order they were made."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(f"uq_{name}_pair", name, ["account_id", "status_id"], unique=True)
    op.create_index(f"ix_{name}_status", name, ["status_id"])


def upgrade() -> None:
    _marks("bookmarks")
    op.create_index("ix_bookmarks_account", "bookmarks", ["account_id", "id"])
    _marks("status_pins")
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("featured_url", sa.String(2048), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN: a batch copy of `accounts` would drop the old table, and with foreign
    # keys on, SQLite's implicit delete would cascade to every status.
    op.drop_column("accounts", "featured_url")
    op.drop_table("status_pins")
    op.drop_table("bookmarks")
