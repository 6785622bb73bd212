"""Follow relationships between any two actors, local or remote."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class FollowState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Follow(SQLModel, table=True):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_id", "followee_id", name="uq_follows_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    follower_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    followee_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    # The Follow activity's id exactly as sent: an Accept is matched on it.
    uri: str = Field(max_length=2048, index=True)
    state: str = Field(default=FollowState.PENDING, max_length=16)
    # An incoming Follow exactly as received: Accept and Reject embed it verbatim,
    # because that is what the sender matches them on.
    activity: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
