"""Blocks, mutes and domain blocks as the readers see them: lists, relationships, and the SQL
conditions `timelines.py` applies so that what a viewer hides stays hidden everywhere.

The conditions are correlated `EXISTS` subqueries over the tables' unique pairs, so a page
that applies them costs no extra statement and no per-row query.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import (
    Account,
    AccountDomainBlock,
    Block,
    DomainBlock,
    DomainSeverity,
    Follow,
    FollowState,
    Mute,
)
from ..models.types import utcnow
from .paging import NEWEST, Cursor, page


@dataclass(frozen=True)
class Relations:
    """What stands between a viewer and one other account (Mastodon's relationship fields)."""

    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    domain_blocking: bool = False


def _active_mute() -> ColumnElement[bool]:
    return or_(col(Mute.expires_at).is_(None), col(Mute.expires_at) > utcnow())


async def relations(session: AsyncSession, viewer_id: int, others: list[Account]) -> dict[int, Relations]:
    """Relations of VIEWER_ID with each of OTHERS, by account id, in four queries at most."""
    ids = {a.id for a in others if a.id is not None}
    if not ids:
        return {}
    blocking = set(
        (await session.exec(
            select(Block.target_account_id).where(
                Block.account_id == viewer_id, col(Block.target_account_id).in_(ids)
            )
        )).all()
    )  # fmt: skip
    blocked_by = set(
        (await session.exec(
            select(Block.account_id).where(
                Block.target_account_id == viewer_id, col(Block.account_id).in_(ids)
            )
        )).all()
    )  # fmt: skip
    mutes = dict(
        (await session.exec(
            select(Mute.target_account_id, Mute.notifications).where(
                Mute.account_id == viewer_id, col(Mute.target_account_id).in_(ids), _active_mute()
            )
        )).all()
    )  # fmt: skip
    domains = {a.domain.lower() for a in others if a.domain}
    blocked_domains: set[str] = set()
    if domains:
        blocked_domains = set(
            (await session.exec(
                select(AccountDomainBlock.domain).where(
                    AccountDomainBlock.account_id == viewer_id, col(AccountDomainBlock.domain).in_(domains)
                )
            )).all()
        )  # fmt: skip
    return {
        a.id: Relations(
            blocking=a.id in blocking,
            blocked_by=a.id in blocked_by,
            muting=a.id in mutes,
            muting_notifications=bool(mutes.get(a.id, False)),
            domain_blocking=bool(a.domain) and a.domain.lower() in blocked_domains,
        )
        for a in others
        if a.id is not None
    }


async def list_blocks(
    session: AsyncSession, account_id: int, *, limit: int, max_id: int | None = None, cursor: Cursor = NEWEST
) -> list[tuple[Block, Account]]:
    """ACCOUNT_ID's blocks with the blocked accounts, newest first, paged by the block's id."""
    query = (
        select(Block, Account)
        .join(Account, col(Account.id) == col(Block.target_account_id))
        .where(Block.account_id == account_id)
    )
    return await page(session, query, col(Block.id), limit, cursor.below(max_id))


async def list_mutes(
    session: AsyncSession, account_id: int, *, limit: int, max_id: int | None = None, cursor: Cursor = NEWEST
) -> list[tuple[Mute, Account]]:
    """ACCOUNT_ID's mutes that have not expired, newest first, paged by the mute's id."""
    query = (
        select(Mute, Account)
        .join(Account, col(Account.id) == col(Mute.target_account_id))
        .where(Mute.account_id == account_id, _active_mute())
    )
    return await page(session, query, col(Mute.id), limit, cursor.below(max_id))


async def list_domain_blocks(
    session: AsyncSession, account_id: int, *, limit: int, max_id: int | None = None, cursor: Cursor = NEWEST
) -> list[AccountDomainBlock]:
    query = select(AccountDomainBlock).where(AccountDomainBlock.account_id == account_id)
    return await page(session, query, col(AccountDomainBlock.id), limit, cursor.below(max_id))


async def find_block(session: AsyncSession, account_id: int, target_id: int) -> Block | None:
    query = select(Block).where(Block.account_id == account_id, Block.target_account_id == target_id)
    return (await session.exec(query)).first()


async def find_mute(session: AsyncSession, account_id: int, target_id: int) -> Mute | None:
    query = select(Mute).where(Mute.account_id == account_id, Mute.target_account_id == target_id)
    return (await session.exec(query)).first()


async def blocked_between(session: AsyncSession, one_id: int, other_id: int) -> bool:
    """Either blocks the other."""
    query = select(Block.id).where(
        or_(
            and_(Block.account_id == one_id, Block.target_account_id == other_id),
            and_(Block.account_id == other_id, Block.target_account_id == one_id),
        )
    )
    return (await session.exec(query.limit(1))).first() is not None


async def refuses_follows_from(session: AsyncSession, followee: Account, follower: Account) -> bool:
    """FOLLOWEE blocks FOLLOWER, or blocks FOLLOWER's whole server."""
    query = select(Block.id).where(Block.account_id == followee.id, Block.target_account_id == follower.id)
    if (await session.exec(query.limit(1))).first() is not None:
        return True
    if not follower.domain:
        return False
    query = select(AccountDomainBlock.id).where(
        AccountDomainBlock.account_id == followee.id, AccountDomainBlock.domain == follower.domain.lower()
    )
    return (await session.exec(query.limit(1))).first() is not None


async def blockers_of(session: AsyncSession, account_id: int, among: Iterable[int]) -> set[int]:
    """Which of AMONG block ACCOUNT_ID (deliveries to them stop)."""
    ids = set(among)
    if not ids:
        return set()
    query = select(Block.account_id).where(
        Block.target_account_id == account_id, col(Block.account_id).in_(ids)
    )
    return set((await session.exec(query)).all())


# --- SQL conditions for the read side --------------------------------------------------------------

# The aliases the conditions use, made once: SQLAlchemy memoises each alias's columns, and an
# alias made per call costs its column adaptation again on every page (milliseconds a page).
_ADMIN_DOMAIN = aliased(DomainBlock, name="hidden_admin_domain")
_SILENCED_ACCOUNT = aliased(Account, name="silenced_account")
_HIDDEN_ACCOUNT = aliased(Account, name="hidden_account")
_OWN_DOMAIN = aliased(AccountDomainBlock, name="hidden_own_domain")
_BLOCKING = aliased(Block, name="hidden_blocking")
_BLOCKED_BY = aliased(Block, name="hidden_blocked_by")
_MUTE = aliased(Mute, name="hidden_mute")
_HELD_BACK_FOLLOW = aliased(Follow, name="held_back_follow")


def _domain_covered(value: ColumnElement[str], severities: tuple[str, ...]) -> ColumnElement[bool]:
    """VALUE (a lowercased account domain) is covered by an admin domain block of SEVERITIES:
    the domain itself, its subdomains, and a bare host on every port (`domain_policy.py`)."""
    block = _ADMIN_DOMAIN
    entry = col(block.domain)
    return exists(
        sa_select(literal(1))
        .select_from(block)
        .where(
            col(block.severity).in_(severities),
            or_(
                value == entry,
                value.like(literal("%.") + entry),
                and_(
                    ~entry.like("%:%"),
                    or_(value.like(entry + literal(":%")), value.like(literal("%.") + entry + literal(":%"))),
                ),
            ),
        )
        .correlate_except(block)
    )


def silenced(account_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """The account is limited: silenced itself, or on a silenced (or suspended) server."""
    who = _SILENCED_ACCOUNT
    return exists(
        sa_select(literal(1))
        .select_from(who)
        .where(
            col(who.id) == account_id,
            or_(
                col(who.silenced_at).is_not(None),
                and_(
                    col(who.domain).is_not(None),
                    _domain_covered(
                        func.lower(col(who.domain)), (DomainSeverity.SILENCE, DomainSeverity.SUSPEND)
                    ),
                ),
            ),
        )
        .correlate_except(who)
    )


def hidden(
    viewer_id: int | None,
    account_id: ColumnElement[int],
    *,
    mutes: bool = True,
    notifications: bool = False,
    public: bool = False,
) -> ColumnElement[bool]:
    """SQL: what ACCOUNT_ID (a column of the outer query) posts or does is hidden from VIEWER_ID.

    Always: suspended accounts. With a viewer: blocks either way, the viewer's domain blocks and,
    when MUTES, the viewer's mutes that have not expired (NOTIFICATIONS: only those that hide
    notifications too). PUBLIC (the public timelines): silenced accounts and servers as well."""
    who = _HIDDEN_ACCOUNT
    account_level = [col(who.suspended_at).is_not(None)]
    if viewer_id is not None:
        own_block = _OWN_DOMAIN
        account_level.append(
            exists(
                sa_select(literal(1))
                .select_from(own_block)
                .where(
                    own_block.account_id == viewer_id, col(own_block.domain) == func.lower(col(who.domain))
                )
                .correlate_except(own_block)
            )
        )
    if public:
        account_level.append(col(who.silenced_at).is_not(None))
        account_level.append(
            and_(
                col(who.domain).is_not(None),
                _domain_covered(
                    func.lower(col(who.domain)), (DomainSeverity.SILENCE, DomainSeverity.SUSPEND)
                ),
            )
        )
    conditions = [
        exists(
            sa_select(literal(1))
            .select_from(who)
            .where(col(who.id) == account_id, or_(*account_level))
            .correlate_except(who)
        )
    ]
    if viewer_id is None:
        return conditions[0]
    blocking = _BLOCKING
    blocked_by = _BLOCKED_BY
    conditions.append(
        exists(
            sa_select(literal(1))
            .select_from(blocking)
            .where(blocking.account_id == viewer_id, col(blocking.target_account_id) == account_id)
            .correlate_except(blocking)
        )
    )
    conditions.append(
        exists(
            sa_select(literal(1))
            .select_from(blocked_by)
            .where(col(blocked_by.account_id) == account_id, blocked_by.target_account_id == viewer_id)
            .correlate_except(blocked_by)
        )
    )
    if mutes:
        mute = _MUTE
        where = [
            mute.account_id == viewer_id,
            col(mute.target_account_id) == account_id,
            or_(col(mute.expires_at).is_(None), col(mute.expires_at) > utcnow()),
        ]
        if notifications:
            where.append(col(mute.notifications).is_(True))
        conditions.append(
            exists(sa_select(literal(1)).select_from(mute).where(*where).correlate_except(mute))
        )
    return or_(*conditions)


def held_back(viewer_id: int, account_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Notifications from a limited account the viewer does not follow wait (are not shown)."""
    follow = _HELD_BACK_FOLLOW
    followed = exists(
        sa_select(literal(1))
        .select_from(follow)
        .where(
            follow.follower_id == viewer_id,
            col(follow.followee_id) == account_id,
            follow.state == FollowState.ACCEPTED,
        )
        .correlate_except(follow)
    )
    return and_(silenced(account_id), ~followed)


async def hidden_accounts(
    session: AsyncSession, viewer_id: int | None, account_ids: Iterable[int], *, mutes: bool = True
) -> set[int]:
    """Which of ACCOUNT_IDS `hidden` hides from VIEWER_ID, in one query."""
    ids = {i for i in account_ids if i is not None}
    if viewer_id is not None:
        ids.discard(viewer_id)
    if not ids:
        return set()
    query = select(Account.id).where(
        col(Account.id).in_(ids), hidden(viewer_id, col(Account.id), mutes=mutes)
    )
    return set((await session.exec(query)).all())
