"""Followers and following, counted and paged by cursor (never OFFSET)."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Follow, FollowState


@dataclass(frozen=True)
class Direction:
    """Which side of a follow the owner is on: followers of X, or accounts X follows."""

    owner_column: str
    other_column: str


FOLLOWERS = Direction(owner_column="followee_id", other_column="follower_id")
FOLLOWING = Direction(owner_column="follower_id", other_column="followee_id")


async def count_follows(session: AsyncSession, account_id: int, direction: Direction) -> int:
    query = (
        select(func.count())
        .select_from(Follow)
        .where(getattr(Follow, direction.owner_column) == account_id, Follow.state == FollowState.ACCEPTED)
    )
    return (await session.exec(query)).one()


async def page_follows(
    session: AsyncSession,
    account_id: int,
    direction: Direction,
    *,
    limit: int,
    max_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[Follow, Account]]:
    """Newest first; `max_id` pages back in time, `min_id` forward (results still newest first)."""
    other = getattr(Follow, direction.other_column)
    query = (
        select(Follow, Account)
        .join(Account, col(Account.id) == other)
        .where(getattr(Follow, direction.owner_column) == account_id, Follow.state == FollowState.ACCEPTED)
    )
    if max_id is not None:
        query = query.where(col(Follow.id) < max_id)
    if min_id is not None:
        query = query.where(col(Follow.id) > min_id).order_by(col(Follow.id).asc()).limit(limit)
        rows = list((await session.exec(query)).all())
        return rows[::-1]
    query = query.order_by(col(Follow.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def list_follows(
    session: AsyncSession, account_id: int, direction: Direction, state: FollowState | None = None
) -> list[tuple[Follow, Account]]:
    """Every follow on one side of an account, oldest first, with the other account."""
    query = (
        select(Follow, Account)
        .join(Account, col(Account.id) == getattr(Follow, direction.other_column))
        .where(getattr(Follow, direction.owner_column) == account_id)
        .order_by(col(Follow.id))
    )
    if state is not None:
        query = query.where(Follow.state == state)
    return list((await session.exec(query)).all())


async def follow_between(session: AsyncSession, follower_id: int, followee_id: int) -> Follow | None:
    """The follow of FOLLOWER_ID to FOLLOWEE_ID, whatever its state."""
    query = select(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    return (await session.exec(query)).first()


async def pending_requests_from(session: AsyncSession, account_id: int, sender_ids: list[int]) -> set[int]:
    """Which of SENDER_IDS still wait for ACCOUNT_ID to answer their follow request."""
    if not sender_ids:
        return set()
    rows = await session.exec(
        select(Follow.follower_id).where(
            Follow.followee_id == account_id,
            Follow.state == FollowState.PENDING,
            col(Follow.follower_id).in_(sender_ids),
        )
    )
    return set(rows.all())
