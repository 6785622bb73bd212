"""Link preview cards: the cards by URL, the card each status shows, and the queue that fetches them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preview_cards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author_name", sa.String(500), nullable=False),
        sa.Column("author_url", sa.String(2048), nullable=False),
        sa.Column("provider_name", sa.String(500), nullable=False),
        sa.Column("provider_url", sa.String(2048), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("embed_url", sa.String(2048), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column(
            "image_id",
            sa.BigInteger(),
            sa.ForeignKey("media_attachments.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("image_description", sa.String(1500), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_preview_cards_image", "preview_cards", ["image_id"])
    op.create_table(
        "status_cards",
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "card_id", sa.Integer(), sa.ForeignKey("preview_cards.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_status_cards_card", "status_cards", ["card_id"])
    op.create_table(
        "card_fetches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_card_fetches_due", "card_fetches", ["state", "next_attempt_at"])
    op.create_index("ix_card_fetches_status", "card_fetches", ["status_id"])


def downgrade() -> None:
    op.drop_table("card_fetches")
    op.drop_table("status_cards")
    op.drop_table("preview_cards")
