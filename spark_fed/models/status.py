"""Statuses (notes and boosts) and what hangs off them: mentions, tags, likes, home feeds, tombstones."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

from .ids import Snowflaked
from .types import UTCDateTime, utcnow


class Visibility(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"
    DIRECT = "direct"


def _account_fk(*, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(Integer, ForeignKey("accounts.id", ondelete=ondelete), nullable=nullable)


def _status_fk(*, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(BigInteger, ForeignKey("statuses.id", ondelete=ondelete), nullable=nullable)


def _partial(name: str, column: str, *more: str) -> Index:
    """An index of the rows whose COLUMN is not NULL (on both databases)."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, *more, sqlite_where=where, postgresql_where=where)


class Status(SQLModel, Snowflaked, table=True):
    """A note, or a boost of one (then `reblog_of_id` is set and the content is empty)."""

    __tablename__ = "statuses"
    __table_args__ = (
        Index("ix_statuses_account", "account_id", "id"),
        Index("ix_statuses_public", "visibility", "local", "id"),
        # The federated timeline: public statuses, local or not, in id order.
        Index("ix_statuses_visibility", "visibility", "id"),
        # The indexes on columns that are mostly NULL hold only the rows that have a value: they
        # are searched by value alone (and by the foreign keys' checks), and SQLite's statistics
        # count every NULL as a distinct value, so with a full index the planner would take
        # `reblog_of_id IS NULL` (95 % of the table) for a lookup of one row and sort the
        # public timelines instead of reading them in id order.
        _partial("ix_statuses_reply", "in_reply_to_id"),
        _partial("ix_statuses_reply_uri", "in_reply_to_uri"),
        _partial("ix_statuses_reply_account", "in_reply_to_account_id"),
        # With the booster: "has the viewer boosted these?" is then one probe per note.
        _partial("ix_statuses_reblog", "reblog_of_id", "account_id"),
    )

    snowflake_time: ClassVar[str] = "published"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    uri: str = Field(max_length=2048, sa_column_kwargs={"unique": True})
    url: str | None = Field(default=None, max_length=2048)
    account_id: int = Field(sa_column=_account_fk())
    local: bool = False
    visibility: str = Field(default=Visibility.PUBLIC, max_length=16)
    content: str = Field(default="", sa_type=Text)
    # What a local author typed: edits start from it.
    text: str | None = Field(default=None, sa_type=Text)
    summary: str = Field(default="", sa_type=Text)
    sensitive: bool = False
    language: str | None = Field(default=None, max_length=16)
    in_reply_to_uri: str | None = Field(default=None, max_length=2048)
    in_reply_to_id: int | None = Field(default=None, sa_column=_status_fk(nullable=True, ondelete="SET NULL"))
    in_reply_to_account_id: int | None = Field(
        default=None, sa_column=_account_fk(nullable=True, ondelete="SET NULL")
    )
    reblog_of_id: int | None = Field(default=None, sa_column=_status_fk(nullable=True))
    published: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    # Who may quote it (`QuotePolicy`); None for a remote post that does not say.
    quote_policy: str | None = Field(default=None, max_length=16)


class Mention(SQLModel, table=True):
    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_account", "account_id", "status_id"),)

    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    )
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    )


class Tag(SQLModel, table=True):
    __tablename__ = "tags"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, sa_column_kwargs={"unique": True})


class StatusTag(SQLModel, table=True):
    __tablename__ = "status_tags"
    # A tag's timeline in id order, and the rows a deleted tag takes with it.
    __table_args__ = (Index("ix_status_tags_tag", "tag_id", "status_id"),)

    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    )


class Favourite(SQLModel, table=True):
    __tablename__ = "favourites"
    __table_args__ = (
        Index("uq_favourites_pair", "account_id", "status_id", unique=True),
        Index("ix_favourites_status", "status_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_account_fk())
    status_id: int = Field(sa_column=_status_fk())
    uri: str = Field(max_length=2048, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class FeedEntry(SQLModel, table=True):
    """A status in a local user's home timeline, written when it arrives (fan-out on write),
    so that reading a page is one range scan however many accounts the user follows."""

    __tablename__ = "feed_entries"
    # Deleting a status finds its feed rows here rather than reading every feed.
    __table_args__ = (Index("ix_feed_entries_status", "status_id"),)

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    )
    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    )


class Tombstone(SQLModel, table=True):
    """A deleted status id: answers 410 and is never re-created from a late or replayed Create."""

    __tablename__ = "tombstones"

    uri: str = Field(primary_key=True, max_length=2048)
    deleted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class NotificationType(StrEnum):
    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"
    MENTION = "mention"
    REBLOG = "reblog"
    FAVOURITE = "favourite"
    UPDATE = "update"
    POLL = "poll"
    QUOTE = "quote"
    QUOTED_UPDATE = "quoted_update"


class Notification(SQLModel, Snowflaked, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_account", "account_id", "id"),
        _partial("ix_notifications_status", "status_id"),
        Index("ix_notifications_from", "from_account_id"),
    )

    snowflake_time: ClassVar[str] = "created_at"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    account_id: int = Field(sa_column=_account_fk())
    type: str = Field(max_length=32)
    from_account_id: int = Field(sa_column=_account_fk())
    status_id: int | None = Field(default=None, sa_column=_status_fk(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
