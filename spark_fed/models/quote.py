"""Quote posts with consent: which post quotes which, and what the quoted author said to it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class QuotePolicy(StrEnum):
    """Who may quote a post and have it approved at once (the API's `quote_approval_policy`)."""

    PUBLIC = "public"
    FOLLOWERS = "followers"
    NOBODY = "nobody"


class QuoteState(StrEnum):
    """Where a quote stands: the API's `state` values Spark stores (`deleted` is derived: the
    quoted post is gone)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVOKED = "revoked"
    UNAUTHORIZED = "unauthorized"


def _where_set(column: str):
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


class Quote(SQLModel, table=True):
    """One post (`status_id`) quoting another (`quoted_uri`, stored as `quoted_status_id` when
    Spark holds it). `authorization_uri` is the quoted author's stamp: Spark's own when the
    quoted post is local, the remote author's when it is not."""

    __tablename__ = "quotes"
    __table_args__ = (
        Index("uq_quotes_status", "status_id", unique=True),
        # The quotes of a post, newest first (`GET /api/v1/statuses/:id/quotes`).
        Index("ix_quotes_quoted", "quoted_status_id", "id", **_where_set("quoted_status_id")),
        Index("ix_quotes_account", "account_id"),
        Index("ix_quotes_quoted_account", "quoted_account_id", **_where_set("quoted_account_id")),
        Index("ix_quotes_authorization", "authorization_uri", **_where_set("authorization_uri")),
        Index("ix_quotes_request", "request_uri", **_where_set("request_uri")),
    )

    id: int | None = Field(default=None, primary_key=True)
    status_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    )
    quoted_status_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True),
    )
    quoted_uri: str = Field(max_length=2048)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    quoted_account_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    )
    state: str = Field(default=QuoteState.PENDING, max_length=16)
    authorization_uri: str | None = Field(default=None, max_length=2048)
    # The id of the QuoteRequest sent or received, which an Accept or Reject names.
    request_uri: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
