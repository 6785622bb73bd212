"""Quote posts with consent: the quotes table, each post's quote policy and each user's default.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _where_set(column: str) -> dict:
    where = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade() -> None:
    with op.batch_alter_table("statuses") as batch:
        batch.add_column(sa.Column("quote_policy", sa.String(16), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("default_quote_policy", sa.String(16), nullable=False, server_default="public")
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("default_quote_policy", server_default=None)
    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "quoted_status_id",
            sa.BigInteger(),
            sa.ForeignKey("statuses.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("quoted_uri", sa.String(2048), nullable=False),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "quoted_account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("authorization_uri", sa.String(2048), nullable=True),
        sa.Column("request_uri", sa.String(2048), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("uq_quotes_status", "quotes", ["status_id"], unique=True)
    op.create_index(
        "ix_quotes_quoted", "quotes", ["quoted_status_id", "id"], **_where_set("quoted_status_id")
    )
    op.create_index("ix_quotes_account", "quotes", ["account_id"])
    op.create_index(
        "ix_quotes_quoted_account", "quotes", ["quoted_account_id"], **_where_set("quoted_account_id")
    )
    op.create_index(
        "ix_quotes_authorization", "quotes", ["authorization_uri"], **_where_set("authorization_uri")
    )
    op.create_index("ix_quotes_request", "quotes", ["request_uri"], **_where_set("request_uri"))


def downgrade() -> None:
    op.drop_table("quotes")
    # A plain DROP COLUMN (SQLite 3.35 and later too): a batch copy of `statuses` would drop the
    # old table, and with foreign keys on, SQLite's implicit delete would cascade to the boosts.
    op.drop_column("users", "default_quote_policy")
    op.drop_column("statuses", "quote_policy")
