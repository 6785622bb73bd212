"""The durable queues: activities received, and activities to deliver.

Both are tables, not memory, so that a crash or a restart loses nothing: a
row is written before the sender is told 202 (inbox) or before the command
that queued it returns (delivery). Workers lease rows (`locked_until`) so
that several processes share the work and a worker that died mid-job only
delays that job until its lease runs out.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Index, Text, event
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class JobState(StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


class QueuedJob(SQLModel):
    """The columns every queue shares: state, retry schedule and lease."""

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default=JobState.QUEUED, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    lease_token: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class InboxItem(QueuedJob, table=True):
    """A verified activity, stored as received, waiting to be processed."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_items_due", "state", "next_attempt_at"),
        Index("ix_inbox_items_recipient", "recipient_id"),
    )

    # The activity id, or a hash of the body for the rare activity without one:
    # a redelivered activity is recognised and dropped.
    dedup_key: str = Field(max_length=2048, sa_column_kwargs={"unique": True})
    actor_uri: str = Field(max_length=2048)
    # The local user whose personal inbox received it; NULL for the shared inbox.
    recipient_id: int | None = Field(default=None, foreign_key="accounts.id", ondelete="SET NULL")
    body: str = Field(sa_type=Text)


class Delivery(QueuedJob, table=True):
    """One activity for one inbox; signed when sent, so a retry carries a fresh Date."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_sender", "sender_id"),
        # The claim counts each host's queue in one pass over this index and reads a host's
        # oldest due rows from it (spark_fed/queue/hosts.py).
        Index("ix_deliveries_host_due", "host", "state", "next_attempt_at", "locked_until"),
    )

    sender_id: int = Field(foreign_key="accounts.id", ondelete="CASCADE")
    inbox_url: str = Field(max_length=2048)
    # The inbox's host[:port], filled in on insert: the worker caps and orders by it, and the
    # circuit breaker pauses by it, inside the claiming query (docs/decisions.md).
    host: str = Field(default="", max_length=255)
    activity_id: str = Field(max_length=2048)
    body: str = Field(sa_type=Text)


def delivery_host(inbox_url: str) -> str:
    """The host a delivery goes to, as `federation.documents.host_of` spells it."""
    return urlsplit(inbox_url).netloc.lower()[:255]


@event.listens_for(Delivery, "before_insert")
def _fill_host(_mapper: Any, _connection: Any, delivery: Delivery) -> None:
    """Every path that queues a delivery (posts, imports, tests) gets the host without knowing it."""
    if not delivery.host:
        delivery.host = delivery_host(delivery.inbox_url)


class DeliveryHost(SQLModel, table=True):
    """A host deliveries have been failing to: the circuit breaker's state.

    A row exists only while the host is in trouble. After `pause_after` consecutive failures
    (or a Retry-After) the host is paused until `paused_until`: its deliveries stay queued and
    are not tried. Once the pause ends one delivery at a time probes it; a success, or a
    signed request from the host, deletes the row and makes its deliveries due at once.
    """

    __tablename__ = "delivery_hosts"

    host: str = Field(primary_key=True, max_length=255)
    failures: int = 0
    # How often it has been paused since it last answered: each failed probe doubles the pause.
    pauses: int = 0
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class HostFailure(SQLModel, table=True):
    """A day on which delivering to a host failed; seven distinct days mark it unavailable."""

    __tablename__ = "host_failures"

    host: str = Field(primary_key=True, max_length=255)
    day: str = Field(primary_key=True, max_length=10)
