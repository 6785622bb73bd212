"""Safety: what people do about accounts (block, mute, muted words, reports) and what admins do
about accounts and whole servers (silence, suspend, domain blocks), with who did it and why."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


def _account(*, nullable: bool = False) -> Column:
    return Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=nullable)


class Block(SQLModel, table=True):
    __tablename__ = "blocks"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_blocks_pair"),
        Index("ix_blocks_target", "target_account_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_account())
    target_account_id: int = Field(sa_column=_account())
    # The Block activity's id as sent (ours) or received (theirs): an Undo names it.
    uri: str = Field(max_length=2048)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Mute(SQLModel, table=True):
    """Local only: nothing is sent. NOTIFICATIONS=False keeps their notifications coming."""

    __tablename__ = "mutes"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_mutes_pair"),
        Index("ix_mutes_target", "target_account_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_account())
    target_account_id: int = Field(sa_column=_account())
    notifications: bool = True
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AccountDomainBlock(SQLModel, table=True):
    """A user's own block of a whole server (Mastodon's user-level domain block)."""

    __tablename__ = "account_domain_blocks"
    __table_args__ = (UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_account())
    domain: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class FilterAction(StrEnum):
    HIDE = "hide"
    WARN = "warn"


FILTER_CONTEXTS = ("home", "notifications", "public", "thread", "account")


class Filter(SQLModel, table=True):
    """Muted words (Mastodon's filters v2): applied when reading, so old posts match too."""

    __tablename__ = "filters"
    __table_args__ = (Index("ix_filters_account", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_account())
    title: str = Field(max_length=256)
    contexts: str = Field(max_length=128)  # a comma-separated subset of FILTER_CONTEXTS
    action: str = Field(default=FilterAction.WARN, max_length=16)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class FilterKeyword(SQLModel, table=True):
    __tablename__ = "filter_keywords"
    __table_args__ = (Index("ix_filter_keywords_filter", "filter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    filter_id: int = Field(
        sa_column=Column(Integer, ForeignKey("filters.id", ondelete="CASCADE"), nullable=False)
    )
    keyword: str = Field(max_length=512)
    whole_word: bool = True


class ReportCategory(StrEnum):
    SPAM = "spam"
    LEGAL = "legal"
    VIOLATION = "violation"
    OTHER = "other"


class Report(SQLModel, table=True):
    """A report by a local user, or one that arrived as a `Flag` (then the reporter is the remote
    server's actor that sent it)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_open", "resolved_at", "id"),
        Index("ix_reports_target", "target_account_id"),
        Index("ix_reports_account", "account_id"),
        Index("ix_reports_resolved_by", "resolved_by_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_account())
    target_account_id: int = Field(sa_column=_account())
    status_ids: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    rule_ids: str = Field(default="", max_length=256)
    category: str = Field(default=ReportCategory.OTHER, max_length=16)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    forwarded: bool = False
    uri: str | None = Field(default=None, max_length=2048)  # the Flag's id, sent or received
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    resolved_by_id: int | None = Field(default=None, sa_column=_account(nullable=True))
    resolution: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class DomainSeverity(StrEnum):
    SILENCE = "silence"
    SUSPEND = "suspend"
    REJECT_MEDIA = "reject-media"


class DomainBlock(SQLModel, table=True):
    """An admin's block of a whole server; DOMAIN as handles write it (`example.social`, or
    `host:port` when the port is part of the domain); it covers subdomains."""

    __tablename__ = "domain_blocks"

    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    severity: str = Field(default=DomainSeverity.SILENCE, max_length=16)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    public_comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ModerationAction(SQLModel, table=True):
    """The log of what moderators did (silence, suspend, their undo, domain blocks), and why."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        Index("ix_moderation_actions_target", "target_account_id"),
        Index("ix_moderation_actions_report", "report_id"),
        Index("ix_moderation_actions_moderator", "moderator_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    moderator_id: int | None = Field(default=None, sa_column=_account(nullable=True))
    action: str = Field(max_length=32)
    target_account_id: int | None = Field(default=None, sa_column=_account(nullable=True))
    target_domain: str | None = Field(default=None, max_length=255)
    report_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("reports.id", ondelete="SET NULL"), nullable=True)
    )
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
