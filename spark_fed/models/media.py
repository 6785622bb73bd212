"""Media: images attached to posts, avatars and headers, local uploads and remote references alike.

A remote file is a row with its origin URL and no file until someone looks at
it: the media proxy fetches, checks and stores it then, and the disk budget
may later drop the file again (`file_key` back to NULL) while the row, and so
the post's attachment, stays.
"""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from .ids import Snowflaked
from .types import UTCDateTime, utcnow


class MediaKind(StrEnum):
    ATTACHMENT = "attachment"
    AVATAR = "avatar"
    HEADER = "header"
    CARD = "card"  # a link card's image, held by the instance actor


class FetchState(StrEnum):
    """Of a remote file: not fetched yet (or evicted), stored, or refused by the checks."""

    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"


class MediaAttachment(SQLModel, Snowflaked, table=True):
    __tablename__ = "media_attachments"
    __table_args__ = (
        Index("ix_media_status", "status_id", "position"),
        Index("ix_media_unattached", "local", "status_id", "created_at"),
        Index("ix_media_remote_shown", "local", "last_shown_at"),
        Index("ix_media_remote_url", "remote_url"),
        Index("ix_media_file_key", "file_key"),
        Index("ix_media_account_kind", "account_id", "kind"),
    )

    snowflake_time: ClassVar[str] = "created_at"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    status_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True),
    )
    kind: str = Field(default=MediaKind.ATTACHMENT, max_length=16)
    position: int = 0
    local: bool = True
    remote_url: str | None = Field(default=None, max_length=2048)
    fetch_state: str = Field(default=FetchState.STORED, max_length=16)
    file_key: str | None = Field(default=None, max_length=80)
    thumbnail_key: str | None = Field(default=None, max_length=80)
    media_type: str = Field(default="image/jpeg", max_length=64)
    size_bytes: int = 0
    width: int | None = None
    height: int | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None
    blurhash: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    focus_x: float = Field(default=0.0, sa_column=Column(Float, nullable=False, server_default="0"))
    focus_y: float = Field(default=0.0, sa_column=Column(Float, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_shown_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
