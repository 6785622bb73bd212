"""Media: images of posts, avatars and headers, uploaded here or referenced from other servers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_attachments",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("remote_url", sa.String(2048), nullable=True),
        sa.Column("fetch_state", sa.String(16), nullable=False),
        sa.Column("file_key", sa.String(80), nullable=True),
        sa.Column("thumbnail_key", sa.String(80), nullable=True),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_width", sa.Integer(), nullable=True),
        sa.Column("thumbnail_height", sa.Integer(), nullable=True),
        sa.Column("blurhash", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("focus_x", sa.Float(), nullable=False, server_default="0"),
        sa.Column("focus_y", sa.Float(), nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_shown_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_media_status", "media_attachments", ["status_id", "position"])
    op.create_index("ix_media_unattached", "media_attachments", ["local", "status_id", "created_at"])
    op.create_index("ix_media_remote_shown", "media_attachments", ["local", "last_shown_at"])
    op.create_index("ix_media_remote_url", "media_attachments", ["remote_url"])
    op.create_index("ix_media_file_key", "media_attachments", ["file_key"])
    op.create_index("ix_media_account_kind", "media_attachments", ["account_id", "kind"])


def downgrade() -> None:
    op.drop_table("media_attachments")
