"""Archive imports: background jobs and the record of every imported item.

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _account() -> sa.Column:
    return sa.Column(
        "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_import_jobs_account", "import_jobs", ["account_id", "id"])
    op.create_table(
        "imported_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account(),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(2048), nullable=False),
        sa.Column(
            "status_id", sa.BigInteger(), sa.ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True
        ),
    )
    op.create_index(
        "uq_imported_items_source", "imported_items", ["account_id", "source", "source_id"], unique=True
    )
    op.create_index("ix_imported_items_status", "imported_items", ["status_id"])


def downgrade() -> None:
    op.drop_table("imported_items")
    op.drop_table("import_jobs")
