"""Polls: the options of a status that asks a question, the votes cast on it, and its jobs.

A poll belongs to one status and shares its id. `tallies` and `voters_count` are the counts
shown: for a local poll they are recounted from the votes here; for a remote poll they are what
its author last published, plus the votes of local users cast since (which the author's next
Update includes). Options and tallies are JSON arrays in text, the same on both databases.
"""

import json
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from .jobs import QueuedJob
from .types import UTCDateTime, utcnow


class Poll(SQLModel, table=True):
    __tablename__ = "polls"

    status_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    )
    options_json: str = Field(default="[]", sa_type=Text)
    tallies_json: str = Field(default="[]", sa_type=Text)
    multiple: bool = False
    hide_totals: bool = False
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    voters_count: int = 0
    # When the end was handled (voters told, the final Update sent): set once.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def options(self) -> list[str]:
        return json.loads(self.options_json)

    @options.setter
    def options(self, titles: list[str]) -> None:
        self.options_json = json.dumps(titles, ensure_ascii=False)

    @property
    def tallies(self) -> list[int]:
        counts = json.loads(self.tallies_json)
        return [*counts, *[0] * (len(self.options) - len(counts))][: len(self.options)]

    @tallies.setter
    def tallies(self, counts: list[int]) -> None:
        self.tallies_json = json.dumps(counts)

    @property
    def votes_count(self) -> int:
        return sum(self.tallies)

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


class PollVote(SQLModel, table=True):
    """One choice of one voter: a voter on a multiple-choice poll has a row per option chosen."""

    __tablename__ = "poll_votes"
    __table_args__ = (
        Index("uq_poll_votes_choice", "poll_id", "account_id", "choice", unique=True),
        Index("ix_poll_votes_account", "account_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("polls.status_id", ondelete="CASCADE"), nullable=False)
    )
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    choice: int
    # The vote Note's id: a local voter's, as served and sent; a remote voter's, as received.
    uri: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class PollJobKind:
    UPDATE = "update"
    """Send the poll's counts to those who hold a copy (debounced: one job for a burst of votes)."""
    CLOSE = "close"
    """The poll ended: tell its voters and its author, and send the final counts."""


class PollJob(QueuedJob, table=True):
    """Work a poll needs later, on the durable queue: it survives restarts like any job."""

    __tablename__ = "poll_jobs"
    __table_args__ = (
        Index("ix_poll_jobs_due", "state", "next_attempt_at"),
        Index("ix_poll_jobs_poll", "poll_id", "kind", "state"),
    )

    poll_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("polls.status_id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
