"""Loading what a client shows with a status or an account, a page at a time.

Each function takes a whole page and answers in a fixed number of queries,
so a timeline of 40 statuses does not cost 40 round trips per field.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Favourite, Follow, FollowState, Mention, Status, StatusTag, Tag


async def accounts_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Account]:
    if not ids:
        return {}
    rows = await session.exec(select(Account).where(col(Account.id).in_(ids)))
    return {a.id: a for a in rows.all()}


async def mentions_of(session: AsyncSession, status_ids: list[int]) -> dict[int, list[Account]]:
    found: dict[int, list[Account]] = defaultdict(list)
    if status_ids:
        rows = await session.exec(
            select(Mention.status_id, Account)
            .join(Account, col(Account.id) == col(Mention.account_id))
            .where(col(Mention.status_id).in_(status_ids))
        )
        for status_id, account in rows.all():
            found[status_id].append(account)
    return found


async def tags_of(session: AsyncSession, status_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if status_ids:
        rows = await session.exec(
            select(StatusTag.status_id, Tag.name)
            .join(Tag, col(Tag.id) == col(StatusTag.tag_id))
            .where(col(StatusTag.status_id).in_(status_ids))
        )
        for status_id, name in rows.all():
            found[status_id].append(name)
    return found


async def favourited_by(session: AsyncSession, viewer_id: int, status_ids: list[int]) -> set[int]:
    if not status_ids:
        return set()
    rows = await session.exec(
        select(Favourite.status_id).where(
            Favourite.account_id == viewer_id, col(Favourite.status_id).in_(status_ids)
        )
    )
    return set(rows.all())


async def reblogged_by(session: AsyncSession, viewer_id: int, status_ids: list[int]) -> set[int]:
    if not status_ids:
        return set()
    rows = await session.exec(
        select(Status.reblog_of_id).where(
            Status.account_id == viewer_id, col(Status.reblog_of_id).in_(status_ids)
        )
    )
    return set(rows.all())


async def account_counts(session: AsyncSession, account_id: int) -> tuple[int, int, int, datetime | None]:
    """(followers, following, statuses, last status time) for one account.

    The status figures are the account's own columns, kept by `spark_fed/statuses.py`; they are
    selected as columns, never read from an Account object a session may hold from before.
    """
    accepted = Follow.state == FollowState.ACCEPTED
    followers = (
        await session.exec(
            select(func.count()).select_from(Follow).where(Follow.followee_id == account_id, accepted)
        )
    ).one()
    following = (
        await session.exec(
            select(func.count()).select_from(Follow).where(Follow.follower_id == account_id, accepted)
        )
    ).one()
    stored = (
        await session.exec(
            select(Account.statuses_count, Account.last_status_at).where(Account.id == account_id)
        )
    ).first()
    statuses, last = stored if stored is not None else (0, None)
    return followers, following, statuses, last


async def counts_by_account(
    session: AsyncSession, ids: set[int]
) -> dict[int, tuple[int, int, int, datetime | None]]:
    """account_counts for many accounts in three queries (two grouped over follows' indexes,
    one by primary key for the status columns)."""
    if not ids:
        return {}
    accepted = Follow.state == FollowState.ACCEPTED
    followers = dict(
        (await session.exec(
            select(Follow.followee_id, func.count()).where(col(Follow.followee_id).in_(ids), accepted)
            .group_by(Follow.followee_id)
        )).all()
    )  # fmt: skip
    following = dict(
        (await session.exec(
            select(Follow.follower_id, func.count()).where(col(Follow.follower_id).in_(ids), accepted)
            .group_by(Follow.follower_id)
        )).all()
    )  # fmt: skip
    statuses = {
        account_id: (count, last)
        for account_id, count, last in (await session.exec(
            select(Account.id, Account.statuses_count, Account.last_status_at)
            .where(col(Account.id).in_(ids))
        )).all()
    }  # fmt: skip
    return {i: (followers.get(i, 0), following.get(i, 0), *statuses.get(i, (0, None))) for i in ids}
