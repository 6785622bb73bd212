"""Earlier revisions of edited statuses: what a post said before each edit."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class StatusEdit(SQLModel, table=True):
    """One earlier revision of a status, as it read from CREATED_AT until the next edit.

    The current revision is the status row itself; an edit first copies the row's state here.
    MEDIA is a JSON array of ``{"id", "description"}`` (the attachments and their descriptions
    then); POLL a JSON object ``{"options": [{"title"}]}``, or NULL for a post without a poll.
    """

    __tablename__ = "status_edits"
    __table_args__ = (Index("ix_status_edits_status", "status_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    )
    content: str = Field(default="", sa_type=Text)
    summary: str = Field(default="", sa_type=Text)
    sensitive: bool = False
    media: str = Field(default="[]", sa_type=Text)
    poll: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
