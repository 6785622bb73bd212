"""Deliveries by host: the host column the fair claim orders by, and the circuit breaker's table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=False, server_default=""))
    deliveries = sa.table(
        "deliveries", sa.column("id", sa.Integer), sa.column("inbox_url"), sa.column("host")
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(deliveries.c.id, deliveries.c.inbox_url)).all()
    for row_id, inbox_url in rows:
        host = urlsplit(inbox_url).netloc.lower()[:255]
        connection.execute(sa.update(deliveries).where(deliveries.c.id == row_id).values(host=host))
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("host", server_default=None)
    op.create_index("ix_deliveries_host", "deliveries", ["host", "state"])
    op.create_table(
        "delivery_hosts",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("pauses", sa.Integer(), nullable=False),
        sa.Column("paused_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("delivery_hosts")
    op.drop_index("ix_deliveries_host", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("host")
