"""Archive imports: the background job a web upload starts, and the record of every imported item.

`ImportedItem` is what makes an import idempotent and resumable: one row per source item
(a tweet id, a Mastodon note id), written in the transaction that stores the post, so an
item is either imported with its row or not at all, and a second run skips what has a row.
It is also what marks a status as imported (`status_id`), with no column on `statuses`.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class ImportKind(StrEnum):
    TWITTER = "twitter"
    MASTODON = "mastodon"


class ImportState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportJob(SQLModel, table=True):
    """An import running in the background (the web page's upload); progress in done/total."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_account", "account_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    state: str = Field(default=ImportState.QUEUED, max_length=16)
    done: int = 0
    total: int = 0
    # The summary as JSON (ImportSummary.as_dict), "" until the job is done.
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ImportedItem(SQLModel, table=True):
    """One item of an archive, imported: (account, source, source id) is unique."""

    __tablename__ = "imported_items"
    __table_args__ = (
        Index("uq_imported_items_source", "account_id", "source", "source_id", unique=True),
        Index("ix_imported_items_status", "status_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    source: str = Field(max_length=16)
    source_id: str = Field(max_length=2048)
    status_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True),
    )
