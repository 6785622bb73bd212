"""What lets a person or an app act as a local account: a password, OAuth apps and tokens."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    """The sign-in side of a local account (its e-mail and password hash)."""

    __tablename__ = "users"

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    )
    email: str | None = Field(default=None, max_length=320, sa_column_kwargs={"unique": True})
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Posting defaults apps read from `source` and offer in their compose box.
    default_visibility: str = Field(default="public", max_length=16)
    default_sensitive: bool = False
    default_language: str | None = Field(default=None, max_length=16)
    # Who may quote new posts unless a post says otherwise (`QuotePolicy`).
    default_quote_policy: str = Field(default="public", max_length=16)
    # False while a sign-up waits for `spark-fed users approve` (registrations = "approval").
    approved: bool = True
    # "user", "moderator" or "admin": who sees the moderation page and may act on reports.
    role: str = Field(default="user", max_length=16)


class OAuthApp(SQLModel, table=True):
    __tablename__ = "oauth_apps"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    client_secret: str = Field(max_length=64)
    name: str = Field(max_length=255)
    website: str | None = Field(default=None, max_length=2048)
    redirect_uris: str = Field(sa_type=Text)  # one per line, as Mastodon stores them
    scopes: str = Field(default="read", max_length=1024)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AccessToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored, so a leaked database leaks no usable token."""

    __tablename__ = "access_tokens"
    __table_args__ = (
        Index("ix_access_tokens_account", "account_id"),
        Index("ix_access_tokens_app", "app_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    account_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True)
    )
    app_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("oauth_apps.id", ondelete="CASCADE"), nullable=True),
    )
    scopes: str = Field(max_length=1024)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Marker(SQLModel, table=True):
    """Where a user stopped reading a timeline (Mastodon's markers), so apps resume there."""

    __tablename__ = "markers"

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    )
    timeline: str = Field(primary_key=True, max_length=16)
    last_read_id: str = Field(max_length=32)
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class WebSession(SQLModel, table=True):
    """A browser signed in to the web interface.

    A table rather than a signed cookie, so that `spark-fed sessions` can list and end them and a
    password change can sign the other browsers out. Only the SHA-256 of the cookie is stored.
    """

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    # Every form of this session carries it; a page of another site cannot read it.
    csrf_token: str = Field(max_length=64)
    user_agent: str = Field(default="", max_length=512)
    address: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
