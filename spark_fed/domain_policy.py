"""The instance's domain blocks (and suspended remote actors) in memory, for lookups that cost nothing.

The inbox asks, before it reads a signature, whether the sender's server is suspended; a flood
from such a server must cost no outbound request and no database write, so the answer comes
from sets held here, loaded from `domain_blocks` (and `accounts.suspended_at`). A process that
listens to the change channel (`serve`, `worker`) enters `kept_current`, which reloads them as
soon as any process (a command, a page, another server) publishes a change of either, so a
suspension is in force everywhere within the channel's latency (well under a second). A process
that does not listen (a one-off command) loads them when first asked, and again when they are
older than `REFRESH_SECONDS`. The sets are bounded by what the tables hold: one entry per
blocked domain and per suspended actor.

A block is written as handles write the domain: `example.social`, or `host:port` when a port is
part of the domain. It covers subdomains, and a block of a bare host covers it on every port:
`example.social` covers `example.social`, `media.example.social` and `example.social:8443`;
`example.social:8443` covers `example.social:8443` and `a.example.social:8443` only. The most
specific block decides.

There is one policy per database (tests run several instances in one process); the module-level
functions take the database, or, without it, consult every policy this process loaded (a
process serves one database, so that is the same thing there).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, func, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .changes import Kind, Subscription
from .db import Database
from .models import Account, DomainBlock, DomainSeverity

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
SUSPEND = DomainSeverity.SUSPEND.value
SILENCE = DomainSeverity.SILENCE.value
REJECT_MEDIA = DomainSeverity.REJECT_MEDIA.value


def normalize_domain(text: str) -> str:
    """`Example.Social.`, `https://example.social/`, `@user@example.social` → `example.social`;
    ports are kept (`host:port`); IDNs become punycode. '' for something that is no domain."""
    text = text.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    host, port = _split(text)
    host = host.rstrip(".")
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        return ""
    if not host.startswith("["):
        try:
            host = host.encode("idna").decode("ascii") if not host.isascii() else host
        except UnicodeError:
            return ""
        labels = host.split(".")
        if not host or any(not label or len(label) > 63 for label in labels) or len(host) > 253:
            return ""
        if any(not all(c.isalnum() or c in "-_*" for c in label) for label in labels):
            return ""
    return f"{host}:{port}" if port is not None else host


def _split(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):  # an IPv6 literal: [::1]:8080
        end = authority.find("]")
        rest = authority[end + 1 :]
        return authority[: end + 1], rest[1:] if rest.startswith(":") else None
    host, sep, port = authority.rpartition(":")
    return (host, port) if sep else (authority, None)


def candidates(host: str) -> list[str]:
    """The block entries that would cover HOST, most specific first."""
    # `user@host.:443` covers as `host:443`: userinfo off, and the root label's dot taken from the
    # name, not from the end of `host:port`, or a trailing dot would dodge every block.
    name, port = _split(host.lower().rpartition("@")[2])
    name = name.rstrip(".")
    if name.startswith("["):
        parents = [name]
    else:
        labels = name.split(".")
        parents = [".".join(labels[i:]) for i in range(len(labels))]
    found: list[str] = []
    for parent in parents:
        if port is not None:
            found.append(f"{parent}:{port}")
        found.append(parent)
    return found


@dataclass
class DomainPolicy:
    """What one database's `domain_blocks` say, and which remote actors are suspended."""

    severities: dict[str, str] = field(default_factory=dict)
    suspended_actors: frozenset[str] = frozenset()
    loaded_at: float = float("-inf")
    _lock: asyncio.Lock | None = None

    def severity_of(self, host: str) -> str | None:
        if not self.severities or not host:
            return None
        for entry in candidates(host):
            severity = self.severities.get(entry)
            if severity is not None:
                return severity
        return None

    def is_suspended(self, host: str) -> bool:
        return self.severity_of(host) == SUSPEND

    def rejects_media(self, host: str) -> bool:
        return self.severity_of(host) in (SUSPEND, REJECT_MEDIA)

    def actor_suspended(self, actor_uri: str) -> bool:
        return actor_uri in self.suspended_actors

    async def load(self, db: Database) -> None:
        async with db.read() as session:
            rows = (await session.exec(select(DomainBlock.domain, DomainBlock.severity))).all()
            actors = (
                await session.exec(
                    select(Account.uri).where(
                        col(Account.suspended_at).is_not(None), col(Account.domain).is_not(None)
                    )
                )
            ).all()
        self.severities = {domain.lower(): severity for domain, severity in rows}
        self.suspended_actors = frozenset(actors)
        self.loaded_at = time.monotonic()

    async def refresh(self, db: Database) -> None:
        """Reload if older than `REFRESH_SECONDS` (one small SELECT, shared by concurrent callers)."""
        if time.monotonic() - self.loaded_at < REFRESH_SECONDS:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if time.monotonic() - self.loaded_at >= REFRESH_SECONDS:
                await self.load(db)


_policies: dict[str, DomainPolicy] = {}


def policy_for(db: Database) -> DomainPolicy:
    """DB's policy (possibly not loaded yet: `await refresh(db)` loads it)."""
    policy = _policies.get(db.url)
    if policy is None:
        policy = _policies[db.url] = DomainPolicy()
    return policy


async def refresh(db: Database) -> DomainPolicy:
    """DB's policy, loaded if it never was or is older than `REFRESH_SECONDS`."""
    policy = policy_for(db)
    await policy.refresh(db)
    return policy


async def reload(db: Database) -> DomainPolicy:
    """Reload now: after a moderation action changed the tables."""
    policy = policy_for(db)
    await policy.load(db)
    return policy


@contextlib.asynccontextmanager
async def kept_current(db: Database) -> AsyncIterator[DomainPolicy]:
    """DB's policy, loaded, and reloaded while the block runs whenever the change channel tells
    of a domain block or an account's suspension. Enter it once the channel listens: what changes
    after the load is heard then."""
    with db.changes.subscribe({Kind.DOMAIN_BLOCKS, Kind.ACCOUNTS}) as changes:
        policy = await reload(db)
        task = asyncio.create_task(_follow(db, changes), name="domain-policy")
        try:
            yield policy
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _follow(db: Database, changes: Subscription) -> None:
    async for _change in changes:
        changes.pending()  # a burst of changes is one reload
        try:
            await reload(db)
        except SQLAlchemyError as exc:
            # The next change reloads again, and `refresh` does once the sets are old.
            log.warning("reloading the domain blocks failed: %s", exc)


def _policies_of(db: Database | None) -> list[DomainPolicy]:
    if db is not None:
        return [policy_for(db)]
    return list(_policies.values())


def severity_of(host: str, db: Database | None = None) -> str | None:
    """The severity of the block covering HOST (`host` or `host:port`), or None."""
    order = (SUSPEND, SILENCE, REJECT_MEDIA)
    found = [s for p in _policies_of(db) if (s := p.severity_of(host)) is not None]
    return min(found, key=order.index) if found else None


def is_suspended(host: str, db: Database | None = None) -> bool:
    return any(p.is_suspended(host) for p in _policies_of(db))


def is_silenced(host: str, db: Database | None = None) -> bool:
    return severity_of(host, db) == SILENCE


def rejects_media(host: str, db: Database | None = None) -> bool:
    return any(p.rejects_media(host) for p in _policies_of(db))


def actor_suspended(actor_uri: str, db: Database | None = None) -> bool:
    return any(p.actor_suspended(actor_uri) for p in _policies_of(db))


# --- for SQL -----------------------------------------------------------------------------------


async def blocked_domains(session: AsyncSession, severities: tuple[str, ...]) -> list[str]:
    rows = await session.exec(select(DomainBlock.domain).where(col(DomainBlock.severity).in_(severities)))
    return sorted(domain.lower() for domain in rows.all())


async def silenced_domains(session: AsyncSession) -> list[str]:
    """The domains whose posts stay out of public timelines: silenced ones, and suspended ones
    (whose content is purged, but a row stored in the meantime stays hidden too). Match an
    account's domain against them with `domain_condition`."""
    return await blocked_domains(session, (SILENCE, SUSPEND))


async def suspended_domains(session: AsyncSession) -> list[str]:
    return await blocked_domains(session, (SUSPEND,))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def domain_condition(column: ColumnElement[str] | object, domains: list[str]) -> ColumnElement[bool]:
    """SQL: COLUMN (an account's `domain`, `host` or `host:port`) is covered by one of DOMAINS,
    with the rules above (subdomains; a bare host on every port). False for no DOMAINS."""
    if not domains:
        return false()
    value = func.lower(column)
    clauses: list[ColumnElement[bool]] = [value.in_(domains)]
    for domain in domains:
        escaped = _like_escape(domain)
        clauses.append(value.like(f"%.{escaped}", escape="\\"))
        if _split(domain)[1] is None:
            clauses.append(value.like(f"{escaped}:%", escape="\\"))
            clauses.append(value.like(f"%.{escaped}:%", escape="\\"))
    return or_(*clauses)
