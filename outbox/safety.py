"""What a person does about other accounts: block, mute, block a whole server, report.

Each action writes its rows and queues what it sends in one transaction, as `actions.py` does;
the read side (`spark_fed/queries/timelines.py`) applies the rows written here. A block is
sent to the blocked actor as Mastodon's `Block` (and `Undo{Block}`); a mute and a domain block
are local only; a report of a remote account may be forwarded to its server as a `Flag` signed by
the instance actor, which keeps the reporter anonymous.
"""

import json
import logging
import re
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.context import Context
from spark_fed.delivery import enqueue
from spark_fed.errors import UsageError
from spark_fed.feeds import prune_feeds, prune_rest
from spark_fed.models import (
    Account,
    AccountDomainBlock,
    Block,
    Follow,
    FollowState,
    Mute,
    Report,
    ReportCategory,
    Status,
)
from spark_fed.models.ids import new_id
from spark_fed.models.types import utcnow
from spark_fed.queries.accounts import find_local_user
from spark_fed.queries.safety import find_block, find_mute
from spark_fed.queries.statuses import find_status, is_tombstoned

from . import activities

log = logging.getLogger(__name__)

MAX_REPORT_COMMENT = 5000  # what Mastodon keeps of a Flag's comment
MAX_REPORTED_POSTS = 100
_DOMAIN = re.compile(r"\A[a-z0-9_-]+(\.[a-z0-9_-]+)*(:[0-9]{1,5})?\Z")


class SafetyError(UsageError):
    """Bad input to a safety action (the message is one line)."""


class SelfTarget(SafetyError):
    """An account cannot block, mute or report itself."""


class BadDomain(SafetyError):
    """Not a domain as handles write it (`example.social`, `host:port`)."""


class BadReport(SafetyError):
    """A report names posts that are not the account's, are gone, or a category that does not exist."""


async def _target(ctx: Context, account: Account, handle: str, verb: str) -> Account:
    """HANDLE as typed: `user@host`, `@user@host`, an actor URL, or a local user name."""
    text = handle.strip()
    if text and "@" not in text.lstrip("@") and not text.startswith(("http://", "https://")):
        async with ctx.db.read() as session:
            target = await find_local_user(session, text.lstrip("@"))
        if target is None:
            raise SafetyError(f"there is no local user {text!r}")
    else:
        target = await ctx.actors.by_handle_or_url(text)
    if target.id == account.id:
        raise SelfTarget(f"an account cannot {verb} itself")
    if target.is_instance_actor:
        raise SafetyError(f"the instance actor cannot be {verb}ed")
    return target


async def _remove_follows(session: AsyncSession, one: Account, other: Account) -> None:
    """Follows and follow requests between the two, both ways."""
    await session.exec(
        delete(Follow).where(
            or_(
                and_(col(Follow.follower_id) == one.id, col(Follow.followee_id) == other.id),
                and_(col(Follow.follower_id) == other.id, col(Follow.followee_id) == one.id),
            )
        )
    )


async def block(ctx: Context, account: Account, handle: str) -> Block:
    """Block HANDLE: `Block` to a remote target, follows removed both ways (nothing else sent:
    Mastodon's side ends its follow on receiving the Block), their follow requests refused from
    now on. A repeated block changes nothing and returns the stored row."""
    target = await _target(ctx, account, handle, "block")
    async with ctx.db.write() as session:
        existing = await find_block(session, account.id, target.id)
        if existing is not None:
            return existing
        uri = f"{account.uri}#blocks/{await new_id(session)}"
        row = Block(account_id=account.id, target_account_id=target.id, uri=uri)
        session.add(row)
        await _remove_follows(session, account, target)
        if not target.is_local:
            enqueue(session, account, activities.block(row.uri, account, target), [target.inbox_url])
        left = await prune_feeds(session, [(account, target), (target, account)], everything=True)
    ctx.deliveries_queued()
    await prune_rest(ctx.db, left, everything=True)
    return row


async def unblock(ctx: Context, account: Account, handle: str) -> None:
    """Take the block back (`Undo{Block}`, the Block embedded, to a remote target); no block: nothing."""
    target = await _target(ctx, account, handle, "unblock")
    async with ctx.db.write() as session:
        row = await find_block(session, account.id, target.id)
        if row is None:
            return
        await session.delete(row)
        if not target.is_local:
            undo = activities.undo(account, activities.block(row.uri, account, target))
            undo["to"] = [target.uri]
            enqueue(session, account, undo, [target.inbox_url])
    ctx.deliveries_queued()


async def mute(
    ctx: Context,
    account: Account,
    handle: str,
    *,
    notifications: bool = True,
    duration: timedelta | None = None,
) -> Mute:
    """Mute HANDLE (nothing is sent): their posts and boosts leave the viewer's timelines and,
    with NOTIFICATIONS, their notifications too; DURATION ends it by itself. Muting again
    updates both."""
    if duration is not None and duration <= timedelta(0):
        raise SafetyError("a mute's duration must be positive")
    target = await _target(ctx, account, handle, "mute")
    expires_at = utcnow() + duration if duration is not None else None
    async with ctx.db.write() as session:
        row = await find_mute(session, account.id, target.id)
        if row is None:
            row = Mute(account_id=account.id, target_account_id=target.id)
        row.notifications = notifications
        row.expires_at = expires_at
        session.add(row)
        await session.flush()
    return row


async def unmute(ctx: Context, account: Account, handle: str) -> None:
    target = await _target(ctx, account, handle, "unmute")
    async with ctx.db.write() as session:
        row = await find_mute(session, account.id, target.id)
        if row is not None:
            await session.delete(row)


def normalize_domain(ctx: Context, domain: str) -> str:
    """As handles write it: lowercase, `host` or `host:port`; never our own."""
    text = domain.strip().lower().rstrip(".")
    if text.startswith(("http://", "https://")):
        text = text.split("://", 1)[1].split("/", 1)[0]
    text = text.rsplit("@", 1)[-1]
    if not _DOMAIN.match(text) or len(text) > 255:
        raise BadDomain(f"{domain!r} is not a domain like example.social or host:port")
    if text == ctx.config.server.domain.lower():
        raise BadDomain("one cannot block one's own server")
    return text


async def block_domain(ctx: Context, account: Account, domain: str) -> AccountDomainBlock:
    """Hide everything from DOMAIN for ACCOUNT, and remove ACCOUNT's followers there (each told
    with a Reject of its Follow, as Mastodon does, so that its server stops counting itself in)."""
    name = normalize_domain(ctx, domain)
    async with ctx.db.write() as session:
        query = select(AccountDomainBlock).where(
            AccountDomainBlock.account_id == account.id, AccountDomainBlock.domain == name
        )
        row = (await session.exec(query)).first()
        if row is None:
            row = AccountDomainBlock(account_id=account.id, domain=name)
            session.add(row)
        followers = (
            await session.exec(
                select(Follow, Account)
                .join(Account, col(Account.id) == col(Follow.follower_id))
                .where(Follow.followee_id == account.id)
                .where(col(Account.domain).is_not(None))
            )
        ).all()
        for follow, follower in followers:
            if (follower.domain or "").lower() != name:
                continue
            if follow.activity and follow.state != FollowState.REJECTED:
                reply = activities.answer("Reject", account, json.loads(follow.activity))
                enqueue(session, account, reply, [follower.inbox_url])
            await session.delete(follow)
        await session.flush()
    ctx.deliveries_queued()
    return row


async def unblock_domain(ctx: Context, account: Account, domain: str) -> None:
    name = normalize_domain(ctx, domain)
    async with ctx.db.write() as session:
        await session.exec(
            delete(AccountDomainBlock).where(
                col(AccountDomainBlock.account_id) == account.id, col(AccountDomainBlock.domain) == name
            )
        )


async def _reported_statuses(session: AsyncSession, target: Account, urls: Sequence[str]) -> list[Status]:
    found: dict[int, Status] = {}
    for url in dict.fromkeys(u.strip() for u in urls):
        status = await find_status(session, url)
        if status is None:
            if await is_tombstoned(session, url):
                raise BadReport(f"the post {url} was deleted")
            raise BadReport(f"there is no post at {url}")
        if status.account_id != target.id or status.reblog_of_id is not None:
            raise BadReport(f"{url} is not a post by {target.username}@{target.domain or 'here'}")
        found[status.id] = status
    return list(found.values())


async def report(
    ctx: Context,
    reporter: Account,
    handle: str,
    *,
    status_urls: Sequence[str] = (),
    category: str = "other",
    comment: str = "",
    rule_ids: Sequence[int] = (),
    forward: bool = False,
) -> Report:
    """Report HANDLE (optionally some of its posts) to this server's moderators; FORWARD sends a
    remote account's server a `Flag` signed by the instance actor, to its shared inbox if it has one."""
    if category not in set(ReportCategory):
        raise BadReport(f"a report's category is one of {', '.join(ReportCategory)}")
    if len(comment) > MAX_REPORT_COMMENT:
        raise BadReport(f"a report's comment has at most {MAX_REPORT_COMMENT} characters")
    if len(status_urls) > MAX_REPORTED_POSTS:
        raise BadReport(f"a report names at most {MAX_REPORTED_POSTS} posts")
    rules = sorted({int(r) for r in rule_ids})
    if any(r < 0 for r in rules):
        raise BadReport("rule ids are positive numbers")
    target = await _target(ctx, reporter, handle, "report")
    forwarded = forward and not target.is_local
    async with ctx.db.write() as session:
        statuses = await _reported_statuses(session, target, status_urls)
        row = Report(
            account_id=reporter.id,
            target_account_id=target.id,
            status_ids=",".join(str(s.id) for s in statuses),
            rule_ids=",".join(str(r) for r in rules),
            category=category,
            comment=comment,
            forwarded=forwarded,
        )
        if forwarded:
            row.uri = f"{ctx.instance_actor.uri}#flags/{uuid.uuid4().hex}"
            flag = activities.flag(
                row.uri, ctx.instance_actor, [target.uri, *(s.uri for s in statuses)], comment
            )
            enqueue(session, ctx.instance_actor, flag, [target.shared_inbox_url or target.inbox_url])
        session.add(row)
        await session.flush()
    ctx.deliveries_queued()
    return row


def parse_duration(text: str) -> timedelta:
    """`3600`, `30m`, `2h`, `7d` (seconds, minutes, hours, days)."""
    match = re.fullmatch(r"\s*([0-9]+)\s*([smhd]?)\s*", text.lower())
    if not match or int(match.group(1)) == 0:
        raise SafetyError(f"{text!r} is not a duration like 3600, 30m, 2h or 7d")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return timedelta(seconds=int(match.group(1)) * unit)
