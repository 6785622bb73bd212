"""Accounts (local users, the instance actor, remote actors) and the follows between them.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uri", sa.String(2048), nullable=False, unique=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255), nullable=True),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("discoverable", sa.Boolean(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=True),
        sa.Column("inbox_url", sa.String(2048), nullable=False),
        sa.Column("shared_inbox_url", sa.String(2048), nullable=True),
        sa.Column("outbox_url", sa.String(2048), nullable=True),
        sa.Column("followers_url", sa.String(2048), nullable=True),
        sa.Column("following_url", sa.String(2048), nullable=True),
        sa.Column("avatar_url", sa.String(2048), nullable=True),
        sa.Column("public_key_id", sa.String(2048), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "uq_accounts_local_username",
        "accounts",
        [sa.text("lower(username)")],
        unique=True,
        sqlite_where=sa.text("domain IS NULL"),
        postgresql_where=sa.text("domain IS NULL"),
    )
    op.create_index("ix_accounts_handle", "accounts", [sa.text("lower(username)"), sa.text("lower(domain)")])
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "follower_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "followee_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("follower_id", "followee_id", name="uq_follows_pair"),
    )
    op.create_index("ix_follows_follower_id", "follows", ["follower_id"])
    op.create_index("ix_follows_followee_id", "follows", ["followee_id"])
    op.create_index("ix_follows_uri", "follows", ["uri"])


def downgrade() -> None:
    op.drop_table("follows")
    op.drop_index("ix_accounts_handle", "accounts")
    op.drop_index("uq_accounts_local_username", "accounts")
    op.drop_table("accounts")
