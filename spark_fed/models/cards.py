"""Link preview cards: one per URL, shared by every status that links it, and the queue that
fetches them.

A card is stored whole once a page yielded one, and only then; a page that yields none leaves
no row. `status_cards` says which card a status shows (at most one: its first link's).
"""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from .jobs import QueuedJob
from .types import UTCDateTime, utcnow


class CardType:
    """Mastodon's card types. `rich` is never stored: its HTML needs scripts."""

    LINK = "link"
    PHOTO = "photo"
    VIDEO = "video"


class PreviewCard(SQLModel, table=True):
    __tablename__ = "preview_cards"
    __table_args__ = (Index("ix_preview_cards_image", "image_id"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048, sa_column_kwargs={"unique": True})
    type: str = Field(default=CardType.LINK, max_length=16)
    title: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=Text)
    author_name: str = Field(default="", max_length=500)
    author_url: str = Field(default="", max_length=2048)
    provider_name: str = Field(default="", max_length=500)
    provider_url: str = Field(default="", max_length=2048)
    # Sanitised: one iframe with an https source, for a `video` card; never shown by Spark's pages.
    html: str = Field(default="", sa_type=Text)
    embed_url: str = Field(default="", max_length=2048)
    width: int = 0
    height: int = 0
    # The image, as a remote media row the media proxy fetches when it is first shown.
    image_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("media_attachments.id", ondelete="SET NULL"), nullable=True),
    )
    image_description: str = Field(default="", max_length=1500)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StatusCard(SQLModel, table=True):
    """The card a status shows."""

    __tablename__ = "status_cards"
    __table_args__ = (Index("ix_status_cards_card", "card_id"),)

    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    )
    card_id: int = Field(
        sa_column=Column(Integer, ForeignKey("preview_cards.id", ondelete="CASCADE"), nullable=False)
    )


class CardFetch(QueuedJob, table=True):
    """A status whose first link wants a card: fetched in the background, never while posting."""

    __tablename__ = "card_fetches"
    __table_args__ = (
        Index("ix_card_fetches_due", "state", "next_attempt_at"),
        Index("ix_card_fetches_status", "status_id"),
    )

    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    )
