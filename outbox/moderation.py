"""What admins and moderators do: roles, silence and suspend (and their undo), domain blocks,
resolving reports. Every action is logged as a `ModerationAction` with who did it and why.

MODERATOR is the local account acting (it must have the role `moderator` or `admin`), or None
for the command line (whoever can run `spark-fed` owns the server).

Suspending a local account takes effect at once: its actor, posts and collections answer 410,
sign-in is refused and its tokens and browser sessions end, its queued deliveries are dropped,
and a `Delete` of the actor (Mastodon's shape) goes to its followers' servers. Its data (posts,
media, follows) stays for `GRACE_PERIOD` (Mastodon's 30 days), so that an unsuspend within it
restores the account (remote servers that processed the Delete have dropped it, and see it
again when it next interacts with them); `purge_suspended` (run by `spark-fed moderation
purge`) removes the data of accounts suspended longer than that. The account row itself stays,
suspended, so that its URLs keep answering 410 and nobody can take its name.

Suspending a remote account: what it sends is refused from then on (the inbox checks the
in-memory set of `spark_fed.domain_policy`), its stored statuses and media are purged, and the
follows with it removed. Unsuspending lets it in again; what was purged is fetched again only as
it arrives.
"""

import csv
import io
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed import domain_policy
from spark_fed.activitystreams import AS2
from spark_fed.browser_sessions import end_sessions
from spark_fed.changes import Kind, publish
from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.domain_policy import domain_condition, normalize_domain
from spark_fed.errors import Forbidden, UsageError
from spark_fed.federation.documents import host_of
from spark_fed.media.budget import file_keys, release
from spark_fed.models import (
    AccessToken,
    Account,
    Delivery,
    DomainBlock,
    DomainSeverity,
    Follow,
    InboxItem,
    MediaAttachment,
    ModerationAction,
    Report,
    Status,
    Tombstone,
    User,
)
from spark_fed.models.jobs import JobState
from spark_fed.models.types import utcnow
from spark_fed.queries.statuses import followers_of
from spark_fed.statuses import remove_status

log = logging.getLogger(__name__)

ROLES = ("user", "moderator", "admin")
MODERATING_ROLES = frozenset({"moderator", "admin"})
SEVERITIES = tuple(s.value for s in DomainSeverity)
GRACE_PERIOD = timedelta(days=30)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PURGE_BATCH = 200
MAX_REASON = 5000
MAX_IMPORT_ROWS = 100_000


class NotModerator(Forbidden):
    def __init__(self) -> None:
        super().__init__("only moderators and admins may do this")


@dataclass(frozen=True)
class PurgeResult:
    statuses: int = 0
    media: int = 0
    follows: int = 0


# --- who may act ----------------------------------------------------------------------------------


async def role_of(session: AsyncSession, account: Account) -> str:
    user = await session.get(User, account.id) if account.is_local else None
    return user.role if user is not None else "user"


async def _check_moderator(session: AsyncSession, moderator: Account | None) -> None:
    if moderator is None:
        return
    if moderator.suspended_at is not None or await role_of(session, moderator) not in MODERATING_ROLES:
        raise NotModerator()


async def is_moderator(ctx: Context, account: Account) -> bool:
    async with ctx.db.read() as session:
        return account.suspended_at is None and await role_of(session, account) in MODERATING_ROLES


async def set_role(ctx: Context, account: Account, role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"a role is one of {', '.join(ROLES)}, not {role!r}")
    async with ctx.db.write() as session:
        user = await session.get(User, account.id) if account.is_local else None
        if user is None:
            raise UsageError(f"{account.username} is not a local user")
        user.role = role
        session.add(user)
        session.add(ModerationAction(action=f"set_role:{role}", target_account_id=account.id))


def _log(
    session: AsyncSession,
    moderator: Account | None,
    action: str,
    *,
    target: Account | None = None,
    domain: str | None = None,
    reason: str = "",
    report_id: int | None = None,
) -> None:
    session.add(
        ModerationAction(
            moderator_id=moderator.id if moderator is not None else None,
            action=action,
            target_account_id=target.id if target is not None else None,
            target_domain=domain,
            report_id=report_id,
            reason=reason[:MAX_REASON],
        )
    )


def _check_target(target: Account) -> None:
    if target.is_instance_actor:
        raise UsageError("the instance actor cannot be moderated")


async def _fresh(session: AsyncSession, target: Account) -> Account:
    row = await session.get(Account, target.id)
    if row is None:
        raise UsageError("no such account")
    return row


async def _check_report(session: AsyncSession, report_id: int | None) -> None:
    if report_id is not None and await session.get(Report, report_id) is None:
        raise UsageError(f"there is no report {report_id}")


# --- silence ----------------------------------------------------------------------------------------


async def silence(
    ctx: Context,
    moderator: Account | None,
    target: Account,
    *,
    reason: str = "",
    report_id: int | None = None,
) -> None:
    """Limited: out of public timelines and search; followable, its followers still see it."""
    _check_target(target)
    await _set_limit(ctx, moderator, target, "silenced_at", "silence", reason=reason, report_id=report_id)


async def unsilence(
    ctx: Context,
    moderator: Account | None,
    target: Account,
    *,
    reason: str = "",
    report_id: int | None = None,
) -> None:
    await _set_limit(ctx, moderator, target, "silenced_at", "unsilence", reason=reason, report_id=report_id)


async def _set_limit(
    ctx: Context,
    moderator: Account | None,
    target: Account,
    column: str,
    action: str,
    *,
    reason: str,
    report_id: int | None,
) -> Account:
    """Set (an action without "un") or lift the account's COLUMN limit, logged; the stored row."""
    lift = action.startswith("un")
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        await _check_report(session, report_id)
        row = await _fresh(session, target)
        if lift or getattr(row, column) is None:
            setattr(row, column, None if lift else utcnow())
            session.add(row)
            await publish(session, Kind.ACCOUNTS, [row.id])
        _log(session, moderator, action, target=row, reason=reason, report_id=report_id)
    setattr(target, column, getattr(row, column))
    return row


# --- suspend ----------------------------------------------------------------------------------------


def delete_actor_activity(account: Account) -> dict[str, Any]:
    """Mastodon's ActivityPub::DeleteActorSerializer: the actor deleting itself, to Public."""
    return {
        "@context": AS2,
        "id": f"{account.uri}#delete",
        "type": "Delete",
        "actor": account.uri,
        "to": [PUBLIC],
        "object": account.uri,
    }


async def suspend(
    ctx: Context,
    moderator: Account | None,
    target: Account,
    *,
    reason: str = "",
    report_id: int | None = None,
) -> None:
    _check_target(target)
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        await _check_report(session, report_id)
        row = await _fresh(session, target)
        if moderator is not None and row.id == moderator.id:
            raise UsageError("a moderator cannot suspend themselves")
        already = row.suspended_at is not None
        if not already:
            row.suspended_at = utcnow()
            session.add(row)
            await publish(session, Kind.ACCOUNTS, [row.id])
        _log(session, moderator, "suspend", target=row, reason=reason, report_id=report_id)
        if row.is_local and not already:
            await _end_local_access(session, row)
            await session.exec(
                delete(Delivery).where(
                    col(Delivery.sender_id) == row.id, col(Delivery.state) == JobState.QUEUED
                )
            )
            inboxes = preferred_inboxes(await followers_of(session, row.id, local=False))
            enqueue(session, row, delete_actor_activity(row), inboxes)
    target.suspended_at = row.suspended_at
    if row.is_local:
        ctx.deliveries_queued()
        return
    await domain_policy.reload(ctx.db)
    async with ctx.db.write() as session:
        await session.exec(
            delete(InboxItem).where(
                col(InboxItem.actor_uri) == row.uri, col(InboxItem.state) == JobState.QUEUED
            )
        )
    await _purge_remote_accounts(ctx, [row.id])


async def _end_local_access(session: AsyncSession, account: Account) -> None:
    """Its bearer tokens and browser sessions end: the next request is not signed in."""
    revoked = (
        await session.exec(
            update(AccessToken)
            .where(col(AccessToken.account_id) == account.id, col(AccessToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
            .returning(col(AccessToken.id))
        )
    ).scalars()
    if tokens := list(revoked):
        await publish(session, Kind.TOKENS, tokens)
    await end_sessions(session, account.id)


async def unsuspend(
    ctx: Context,
    moderator: Account | None,
    target: Account,
    *,
    reason: str = "",
    report_id: int | None = None,
) -> None:
    row = await _set_limit(
        ctx, moderator, target, "suspended_at", "unsuspend", reason=reason, report_id=report_id
    )
    if not row.is_local:
        await domain_policy.reload(ctx.db)


async def purge_suspended(ctx: Context, *, older_than: timedelta = GRACE_PERIOD) -> int:
    """Remove the data of local accounts suspended longer than OLDER_THAN; how many accounts.

    The row stays (suspended, 410, its name reserved); its posts (tombstoned: they answer 410
    too), media, follows and profile text go."""
    cutoff = utcnow() - older_than
    async with ctx.db.read() as session:
        rows = await session.exec(
            select(Account).where(
                col(Account.domain).is_(None),
                col(Account.suspended_at).is_not(None),
                col(Account.suspended_at) <= cutoff,
                col(Account.private_key_pem).is_not(None),
            )
        )
        accounts = list(rows.all())
    purged = 0
    for account in accounts:
        if account.is_instance_actor:
            continue
        await _purge_account_data(ctx, account.id, tombstones=True)
        async with ctx.db.write() as session:
            row = await session.get(Account, account.id)
            if row is None or row.suspended_at is None:
                continue
            row.display_name = ""
            row.summary = ""
            row.avatar_url = None
            session.add(row)
        purged += 1
    return purged


async def _purge_remote_accounts(ctx: Context, account_ids: list[int]) -> PurgeResult:
    totals = PurgeResult()
    for account_id in account_ids:
        result = await _purge_account_data(ctx, account_id, tombstones=False)
        totals = PurgeResult(
            totals.statuses + result.statuses, totals.media + result.media, totals.follows + result.follows
        )
    return totals


async def _purge_account_data(ctx: Context, account_id: int, *, tombstones: bool) -> PurgeResult:
    """Statuses (in batches, each its own transaction), media rows and files, follows both ways.

    A remote account's purged statuses leave no tombstone: after an unsuspend they may arrive again."""
    statuses = 0
    while True:
        async with ctx.db.write() as session:
            rows = list(
                (
                    await session.exec(
                        select(Status)
                        .where(Status.account_id == account_id)
                        .order_by(col(Status.id).desc())
                        .limit(PURGE_BATCH)
                    )
                ).all()
            )
            for status in rows:
                await remove_status(session, status)
            if not tombstones and rows:
                uris = [s.uri for s in rows if s.reblog_of_id is None]
                await session.exec(delete(Tombstone).where(col(Tombstone.uri).in_(uris)))
        statuses += len(rows)
        if len(rows) < PURGE_BATCH:
            break
    async with ctx.db.write() as session:
        media = list(
            (
                await session.exec(select(MediaAttachment).where(MediaAttachment.account_id == account_id))
            ).all()
        )
        await session.exec(delete(MediaAttachment).where(col(MediaAttachment.account_id) == account_id))
        follows = (
            await session.exec(
                delete(Follow).where(
                    or_(col(Follow.follower_id) == account_id, col(Follow.followee_id) == account_id)
                )
            )
        ).rowcount
    await release(ctx.db, ctx.media.store, file_keys(media))
    return PurgeResult(statuses, len(media), follows or 0)


# --- domain blocks ---------------------------------------------------------------------------------


def check_domain(domain: str) -> str:
    normalized = normalize_domain(domain)
    if not normalized or "*" in normalized:
        raise UsageError(f"{domain!r} is not a domain (write it as in handles: example.social or host:port)")
    return normalized


def _local_domain(ctx: Context, domain: str) -> bool:
    ours = ctx.config.server.domain.lower()
    return domain_policy.DomainPolicy({domain: "x"}).severity_of(ours) is not None


async def block_domain(
    ctx: Context,
    moderator: Account | None,
    domain: str,
    *,
    severity: str = "silence",
    reason: str = "",
    public_comment: str = "",
) -> DomainBlock:
    """Block DOMAIN (and its subdomains) at SEVERITY; an existing block is changed to this one."""
    domain = check_domain(domain)
    if severity not in SEVERITIES:
        raise UsageError(f"a severity is one of {', '.join(SEVERITIES)}, not {severity!r}")
    if _local_domain(ctx, domain):
        raise UsageError(f"{domain} covers this server's own domain")
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        block = await _store_block(session, domain, severity, reason, public_comment)
        await publish(session, Kind.DOMAIN_BLOCKS, [domain])
        _log(session, moderator, f"block_domain:{severity}", domain=domain, reason=reason)
    await domain_policy.reload(ctx.db)
    if severity == DomainSeverity.SUSPEND:
        await _apply_suspension(ctx, domain)
    return block


async def _store_block(
    session: AsyncSession, domain: str, severity: str, reason: str, public_comment: str
) -> DomainBlock:
    block = (await session.exec(select(DomainBlock).where(DomainBlock.domain == domain))).first()
    if block is None:
        block = DomainBlock(domain=domain)
    block.severity = severity
    block.reason = reason[:MAX_REASON]
    block.public_comment = public_comment[:MAX_REASON]
    session.add(block)
    await session.flush()
    return block


async def _apply_suspension(ctx: Context, domain: str) -> PurgeResult:
    """Deliveries to the domain dropped; follows with its accounts removed, their content purged."""
    async with ctx.db.write() as session:
        queued = await session.exec(
            select(Delivery.id, Delivery.inbox_url).where(col(Delivery.state) == JobState.QUEUED)
        )
        policy = domain_policy.DomainPolicy({domain: domain_policy.SUSPEND})
        doomed = [job_id for job_id, inbox in queued.all() if policy.is_suspended(host_of(inbox))]
        for start in range(0, len(doomed), 500):
            await session.exec(delete(Delivery).where(col(Delivery.id).in_(doomed[start : start + 500])))
        # What it sent before the block and is not processed yet is not processed at all.
        waiting = await session.exec(
            select(InboxItem.id, InboxItem.actor_uri).where(col(InboxItem.state) == JobState.QUEUED)
        )
        dropped = [item_id for item_id, actor in waiting.all() if policy.is_suspended(host_of(actor))]
        for start in range(0, len(dropped), 500):
            await session.exec(delete(InboxItem).where(col(InboxItem.id).in_(dropped[start : start + 500])))
    async with ctx.db.read() as session:
        ids = list(
            (
                await session.exec(
                    select(Account.id).where(
                        col(Account.domain).is_not(None), domain_condition(col(Account.domain), [domain])
                    )
                )
            ).all()
        )
    result = await _purge_remote_accounts(ctx, ids)
    log.info(
        "suspended %s: %d statuses, %d media, %d follows of %d accounts purged; %d deliveries dropped",
        domain,
        result.statuses,
        result.media,
        result.follows,
        len(ids),
        len(doomed),
    )
    return result


async def unblock_domain(ctx: Context, moderator: Account | None, domain: str) -> None:
    domain = check_domain(domain)
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        block = (await session.exec(select(DomainBlock).where(DomainBlock.domain == domain))).first()
        if block is None:
            raise UsageError(f"{domain} is not blocked")
        await session.delete(block)
        await publish(session, Kind.DOMAIN_BLOCKS, [domain])
        _log(session, moderator, "unblock_domain", domain=domain)
    await domain_policy.reload(ctx.db)


MASTODON_CSV_HEADER = (
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
)


def parse_domain_blocks_csv(csv_text: str) -> list[tuple[str, str, str]]:
    """Mastodon's domain-block export (`#domain,#severity,#reject_media,#reject_reports,
    #public_comment,#obfuscate`) as (domain, severity, public comment).

    Mastodon's `suspend` and `silence` map to ours; `noop` with `#reject_media` true becomes
    reject-media; `noop` alone blocks nothing and is skipped (so is a suspend's reject_media,
    which a suspension implies). A row without a severity, or a file of bare domains one a line
    (what many shared lists are), is a silence: the default, and the one an undo fully restores.
    """
    rows = [row for row in csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))) if any(c.strip() for c in row)]
    if len(rows) > MAX_IMPORT_ROWS:
        raise UsageError(f"the file has more than {MAX_IMPORT_ROWS} rows")
    if not rows:
        return []
    header = [cell.strip().lower().lstrip("#") for cell in rows[0]]
    first_line = 2
    if "domain" not in header:
        header, first_line = ["domain"], 1
    else:
        rows = rows[1:]
    found: list[tuple[str, str, str]] = []
    for line, row in enumerate(rows, start=first_line):
        fields = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        raw_domain = fields.get("domain", "")
        if not raw_domain or raw_domain.startswith("#"):
            continue
        domain = normalize_domain(raw_domain)
        if not domain or "*" in domain:
            raise UsageError(f"line {line}: {raw_domain!r} is not a domain")
        severity = (fields.get("severity") or DomainSeverity.SILENCE.value).lower()
        if severity == "noop":
            if fields.get("reject_media", "").lower() != "true":
                continue
            severity = DomainSeverity.REJECT_MEDIA.value
        if severity not in SEVERITIES:
            raise UsageError(f"line {line}: unknown severity {severity!r}")
        found.append((domain, severity, fields.get("public_comment", "")))
    return found


async def import_domain_blocks(ctx: Context, moderator: Account | None, csv_text: str) -> int:
    """Import Mastodon's domain-block CSV; how many blocks were created or changed.

    A block that exists at the same severity is left alone (its own comment stays)."""
    entries = parse_domain_blocks_csv(csv_text)
    for domain, _severity, _comment in entries:
        if _local_domain(ctx, domain):
            raise UsageError(f"{domain} covers this server's own domain")
    changed: list[tuple[str, str]] = []
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        existing = {b.domain: b for b in (await session.exec(select(DomainBlock))).all()}
        for domain, severity, comment in dict((d, (d, s, c)) for d, s, c in entries).values():
            old = existing.get(domain)
            if old is not None and old.severity == severity:
                continue
            await _store_block(session, domain, severity, old.reason if old else "", comment)
            _log(session, moderator, f"block_domain:{severity}", domain=domain, reason="imported")
            changed.append((domain, severity))
        if changed:
            await publish(session, Kind.DOMAIN_BLOCKS, [domain for domain, _ in changed])
    await domain_policy.reload(ctx.db)
    for domain, severity in changed:
        if severity == DomainSeverity.SUSPEND:
            await _apply_suspension(ctx, domain)
    return len(changed)


# --- reports -----------------------------------------------------------------------------------------


async def resolve_report(ctx: Context, moderator: Account | None, report_id: int, note: str) -> Report:
    """Mark the report resolved with NOTE; resolving a resolved report changes nothing."""
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        report = await session.get(Report, report_id)
        if report is None:
            raise UsageError(f"there is no report {report_id}")
        if report.resolved_at is not None:
            return report
        report.resolved_at = utcnow()
        report.resolved_by_id = moderator.id if moderator is not None else None
        report.resolution = note[:MAX_REASON]
        session.add(report)
        session.add(
            ModerationAction(
                moderator_id=moderator.id if moderator is not None else None,
                action="resolve_report",
                target_account_id=report.target_account_id,
                report_id=report.id,
                reason=note[:MAX_REASON],
            )
        )
    return report


async def reopen_report(ctx: Context, moderator: Account | None, report_id: int) -> Report:
    async with ctx.db.write() as session:
        await _check_moderator(session, moderator)
        report = await session.get(Report, report_id)
        if report is None:
            raise UsageError(f"there is no report {report_id}")
        report.resolved_at = None
        report.resolved_by_id = None
        session.add(report)
        _log(session, moderator, "reopen_report", report_id=report.id)
    return report
