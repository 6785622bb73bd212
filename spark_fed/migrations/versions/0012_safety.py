"""Safety: blocks, mutes, user domain blocks, muted words, reports, admin domain blocks, the
moderation log, roles, and silenced/suspended accounts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spark_fed.models.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _account(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=nullable)


def _created() -> sa.Column:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("account_id"),
        _account("target_account_id"),
        sa.Column("uri", sa.String(2048), nullable=False),
        _created(),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_blocks_pair"),
    )
    op.create_index("ix_blocks_target", "blocks", ["target_account_id"])
    op.create_table(
        "mutes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("account_id"),
        _account("target_account_id"),
        sa.Column("notifications", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        _created(),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_mutes_pair"),
    )
    op.create_table(
        "account_domain_blocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("account_id"),
        sa.Column("domain", sa.String(255), nullable=False),
        _created(),
        sa.UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks"),
    )
    op.create_table(
        "filters",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("account_id"),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("contexts", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        _created(),
    )
    op.create_index("ix_filters_account", "filters", ["account_id"])
    op.create_table(
        "filter_keywords",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("filter_id", sa.Integer(), sa.ForeignKey("filters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("keyword", sa.String(512), nullable=False),
        sa.Column("whole_word", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_filter_keywords_filter", "filter_keywords", ["filter_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("account_id"),
        _account("target_account_id"),
        sa.Column("status_ids", sa.Text(), nullable=False, server_default=""),
        sa.Column("rule_ids", sa.String(256), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        _created(),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        _account("resolved_by_id", nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_reports_open", "reports", ["resolved_at", "id"])
    op.create_index("ix_reports_target", "reports", ["target_account_id"])
    op.create_table(
        "domain_blocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain", sa.String(255), nullable=False, unique=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("public_comment", sa.Text(), nullable=False, server_default=""),
        _created(),
    )
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("moderator_id", nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        _account("target_account_id", nullable=True),
        sa.Column("target_domain", sa.String(255), nullable=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        _created(),
    )
    op.create_index("ix_moderation_actions_target", "moderation_actions", ["target_account_id"])
    op.add_column("accounts", sa.Column("silenced_at", UTCDateTime(), nullable=True))
    op.add_column("accounts", sa.Column("suspended_at", UTCDateTime(), nullable=True))
    op.add_column("users", sa.Column("role", sa.String(16), nullable=False, server_default="user"))


def downgrade() -> None:
    op.drop_column("users", "role")
    op.drop_column("accounts", "suspended_at")
    op.drop_column("accounts", "silenced_at")
    for table in (
        "moderation_actions", "domain_blocks", "reports", "filter_keywords", "filters",
        "account_domain_blocks", "mutes", "blocks",
    ):  # fmt: skip
        op.drop_table(table)
