"""Indexes for every timeline's page and every foreign key a delete goes through.

The federated timeline and a tag's timeline read one index in id order (`ix_statuses_visibility`,
`ix_status_tags_tag`); every foreign key now leads an index, so deleting an account or a status
(cascades, SET NULL, and the check that nothing still points at the row) probes each child table
instead of scanning it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

INDEXES = (
    ("ix_statuses_visibility", "statuses", ["visibility", "id"]),
    ("ix_status_tags_tag", "status_tags", ["tag_id", "status_id"]),
    ("ix_favourites_status", "favourites", ["status_id", "id"]),
    ("ix_feed_entries_status", "feed_entries", ["status_id"]),
    ("ix_notifications_from", "notifications", ["from_account_id"]),
    ("ix_access_tokens_account", "access_tokens", ["account_id"]),
    ("ix_access_tokens_app", "access_tokens", ["app_id"]),
    ("ix_inbox_items_recipient", "inbox_items", ["recipient_id"]),
    ("ix_deliveries_sender", "deliveries", ["sender_id"]),
    ("ix_mutes_target", "mutes", ["target_account_id"]),
    ("ix_reports_account", "reports", ["account_id"]),
    ("ix_reports_resolved_by", "reports", ["resolved_by_id"]),
    ("ix_moderation_actions_report", "moderation_actions", ["report_id"]),
    ("ix_moderation_actions_moderator", "moderation_actions", ["moderator_id"]),
)

PARTIAL = (
    ("ix_statuses_reply_account", "statuses", ["in_reply_to_account_id"]),
    ("ix_notifications_status", "notifications", ["status_id"]),
)
"""New indexes of the rows whose (first) column is not NULL."""
NOW_PARTIAL = (
    ("ix_statuses_reply", "statuses", ["in_reply_to_id"]),
    ("ix_statuses_reply_uri", "statuses", ["in_reply_to_uri"]),
    ("ix_statuses_reblog", "statuses", ["reblog_of_id", "account_id"]),
)
"""Full indexes until now, remade partial: SQLite's statistics count each NULL as a distinct
value, so the planner took `reblog_of_id IS NULL` for a one-row lookup and sorted the public
timelines by it instead of reading them in id order."""


def _create_partial(name: str, table: str, columns: list[str]) -> None:
    where = sa.text(f"{columns[0]} IS NOT NULL")
    op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    for name, table, columns in PARTIAL:
        _create_partial(name, table, columns)
    for name, table, columns in NOW_PARTIAL:
        op.drop_index(name, table_name=table)
        _create_partial(name, table, columns)


def downgrade() -> None:
    for name, table, columns in NOW_PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    for name, table, _columns in (*reversed(PARTIAL), *reversed(INDEXES)):
        op.drop_index(name, table_name=table)
