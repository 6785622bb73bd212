"""Scheduled posts: a post's parameters waiting for their time, and the uploads they hold."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from .jobs import QueuedJob
from .types import UTCDateTime


class ScheduledStatus(QueuedJob, table=True):
    """A post to publish at SCHEDULED_AT: the row is the job (`next_attempt_at` starts at that
    time), so a restart or a killed worker loses nothing, and publishing deletes the row in the
    transaction that stores the post, so it is published once.

    PARAMS is the JSON object of what the author asked for (text, visibility, spoiler_text,
    sensitive, language, in_reply_to_id, media_ids, poll), as the API shows it back."""

    __tablename__ = "scheduled_statuses"
    __table_args__ = (
        Index("ix_scheduled_statuses_due", "state", "next_attempt_at"),
        Index("ix_scheduled_statuses_account", "account_id", "id"),
    )

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    scheduled_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    params: str = Field(default="{}", sa_type=Text)


class ScheduledMedia(SQLModel, table=True):
    """An upload a scheduled post will attach: kept from the cleanup of unattached uploads."""

    __tablename__ = "scheduled_status_media"
    __table_args__ = (Index("ix_scheduled_status_media_media", "media_id"),)

    scheduled_status_id: int = Field(
        sa_column=Column(Integer, ForeignKey("scheduled_statuses.id", ondelete="CASCADE"), primary_key=True)
    )
    media_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("media_attachments.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = 0
