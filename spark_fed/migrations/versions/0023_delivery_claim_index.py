"""The delivery claim's index: each host's queue in due order, with its leases.

The claim counts the queue per host (in flight, due, waiting) in one pass over this index, and
takes a host's oldest due deliveries from it, instead of ranking the whole queue.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_host", table_name="deliveries")
    op.create_index(
        "ix_deliveries_host_due", "deliveries", ["host", "state", "next_attempt_at", "locked_until"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_host_due", table_name="deliveries")
    op.create_index("ix_deliveries_host", "deliveries", ["host", "state"])
