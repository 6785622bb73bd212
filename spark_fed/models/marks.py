"""What a user marks on posts beyond a like: bookmarks (private) and pins (on the profile)."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class Bookmark(SQLModel, table=True):
    """A post a local user kept for later. Never federated; `id` orders the Bookmarks list (the
    newest bookmark first, whatever the post's own age), as the client API pages it."""

    __tablename__ = "bookmarks"
    __table_args__ = (
        # The user's list in id order, and "has the viewer bookmarked these?" for a page.
        Index("uq_bookmarks_pair", "account_id", "status_id", unique=True),
        Index("ix_bookmarks_account", "account_id", "id"),
        Index("ix_bookmarks_status", "status_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StatusPin(SQLModel, table=True):
    """A post an account shows on top of its profile: a local user's own choice, or what a remote
    account's `featured` collection lists. `id` orders them, the newest pin first."""

    __tablename__ = "status_pins"
    __table_args__ = (
        Index("uq_status_pins_pair", "account_id", "status_id", unique=True),
        Index("ix_status_pins_status", "status_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
