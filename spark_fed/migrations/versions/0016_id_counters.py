"""Id counters: the low bits of snowflake ids counted per millisecond, not drawn at random.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08

Each millisecond's counter starts above the ids already stored in it (statuses, notifications,
media), whose low bits were random, so a new id never meets an old one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.ids import COUNT_STORED_IDS

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "id_counters",
        sa.Column("millis", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("used", sa.Integer(), nullable=False),
    )
    op.execute(COUNT_STORED_IDS)


def downgrade() -> None:
    op.drop_table("id_counters")
