"""Status counts on the account row (Mastodon's account_stats), backfilled from the statuses.

Every page of a timeline showed its authors' `statuses_count` and `last_status_at` by counting
all their public and unlisted statuses, a scan that grew with the data (~44 ms a page at
100,000 statuses). From here `spark_fed/statuses.py` keeps both on the account as statuses
are stored and removed, and readers read two columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# What the counts count, as the query they replace did: public and unlisted statuses, boosts
# included. A row-value SET is one correlated subquery per account (SQLite 3.15+, PostgreSQL);
# `published` is copied as stored, so the value keeps each database's own format.
BACKFILL = """
UPDATE accounts SET (statuses_count, last_status_at) = (
    SELECT count(*), max(statuses.published) FROM statuses
    WHERE statuses.account_id = accounts.id AND statuses.visibility IN ('public', 'unlisted')
)
"""


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns): a batch operation would
# copy `accounts` into a new table, and dropping the old one with foreign keys on would cascade.


def upgrade() -> None:
    op.add_column("accounts", sa.Column("statuses_count", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("accounts", sa.Column("last_status_at", UTCDateTime(), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("accounts", "last_status_at")
    op.drop_column("accounts", "statuses_count")
