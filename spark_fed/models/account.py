"""Accounts: local users, the instance actor and remote actors in one table.

Follows, posts and deliveries refer to "an actor" whichever server it lives
on, so local and remote actors share a table (as Mastodon's accounts do); a
local account is one whose `domain` is NULL and which holds a private key.
"""

from datetime import datetime

from sqlalchemy import Column, Index, Integer, Text, func, text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow

INSTANCE_ACTOR_USERNAME = "instance.actor"
"""Not a valid user name (it has a dot), so no user can ever take it."""


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (
        # Unique among local accounts only (`WHERE domain IS NULL`) on both databases; migration
        # 0001 creates it so. `postgresql_where` is not repeated here: any `postgresql_*` argument
        # makes SQLAlchemy import its whole PostgreSQL dialect and drivers (~2 MiB) in every
        # process, SQLite servers included (docs/decisions.md, Footprint). The schema is built by the
        # migrations only, never from these models, and autogenerate does not compare predicates.
        Index(
            "uq_accounts_local_username",
            func.lower(text("username")),
            unique=True,
            sqlite_where=text("domain IS NULL"),
        ),
        Index("ix_accounts_handle", func.lower(text("username")), func.lower(text("domain"))),
        Index("ix_accounts_public_key_id", "public_key_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uri: str = Field(sa_column_kwargs={"unique": True}, max_length=2048)
    username: str = Field(max_length=255)
    domain: str | None = Field(default=None, max_length=255)
    actor_type: str = Field(default="Person", max_length=32)
    display_name: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    locked: bool = False
    discoverable: bool = True
    url: str | None = Field(default=None, max_length=2048)
    inbox_url: str = Field(max_length=2048)
    shared_inbox_url: str | None = Field(default=None, max_length=2048)
    outbox_url: str | None = Field(default=None, max_length=2048)
    followers_url: str | None = Field(default=None, max_length=2048)
    following_url: str | None = Field(default=None, max_length=2048)
    # A remote actor's pinned posts (its `featured` collection); a local one's is served by Spark.
    featured_url: str | None = Field(default=None, max_length=2048)
    avatar_url: str | None = Field(default=None, max_length=2048)
    public_key_id: str = Field(max_length=2048)
    public_key_pem: str = Field(sa_column=Column(Text, nullable=False))
    private_key_pem: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    fetched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # Mastodon's account_stats, on the row: the public and unlisted statuses (boosts included)
    # and the newest one's `published`. Kept by `spark_fed/statuses.py`, the one write path, in
    # the transaction that stores or removes the status; read by `queries/views.py`. Never set
    # on an Account object (a new one starts at 0 and None): those statements add to the row.
    statuses_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    last_status_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))

    # An admin's limits on the account (spark_fed/models/safety.py logs who and why): silenced
    # accounts stay out of public timelines and search; suspended ones are refused and purged
    # (a local one answers 410 and cannot sign in).
    silenced_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    suspended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def is_instance_actor(self) -> bool:
        return self.is_local and self.username == INSTANCE_ACTOR_USERNAME
