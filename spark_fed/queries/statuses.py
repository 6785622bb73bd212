"""Looking up statuses and the accounts around them."""

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Follow, FollowState, Mention, Status, StatusTag, Tag, Tombstone


async def find_status(session: AsyncSession, uri_or_url: str) -> Status | None:
    """By AS2 id, or by the web page URL a person copied from a browser."""
    found = (await session.exec(select(Status).where(Status.uri == uri_or_url))).first()
    if found is None:
        found = (await session.exec(select(Status).where(Status.url == uri_or_url))).first()
    return found


async def is_tombstoned(session: AsyncSession, uri: str) -> bool:
    return (await session.exec(select(Tombstone.uri).where(Tombstone.uri == uri))).first() is not None


async def mentioned_accounts(session: AsyncSession, status_id: int) -> list[Account]:
    query = (
        select(Account)
        .join(Mention, col(Mention.account_id) == col(Account.id))
        .where(Mention.status_id == status_id)
        .order_by(col(Account.id))
    )
    return list((await session.exec(query)).all())


async def tag_names(session: AsyncSession, status_id: int) -> list[str]:
    query = (
        select(Tag.name)
        .join(StatusTag, col(StatusTag.tag_id) == col(Tag.id))
        .where(StatusTag.status_id == status_id)
        .order_by(Tag.name)
    )
    return list((await session.exec(query)).all())


async def followers_of(session: AsyncSession, account_id: int, *, local: bool | None = None) -> list[Account]:
    """Accepted followers; LOCAL=True for home-feed fan-out, False for delivery."""
    query = (
        select(Account)
        .join(Follow, col(Follow.follower_id) == col(Account.id))
        .where(Follow.followee_id == account_id, Follow.state == FollowState.ACCEPTED)
    )
    if local is True:
        query = query.where(col(Account.domain).is_(None))
    elif local is False:
        query = query.where(col(Account.domain).is_not(None))
    return list((await session.exec(query)).all())


async def has_local_follower(session: AsyncSession, account_id: int) -> bool:
    query = (
        select(Follow.id)
        .join(Account, col(Account.id) == col(Follow.follower_id))
        .where(
            Follow.followee_id == account_id,
            Follow.state == FollowState.ACCEPTED,
            col(Account.domain).is_(None),
        )
        .limit(1)
    )
    return (await session.exec(query)).first() is not None


async def follows(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    query = select(Follow.id).where(
        Follow.follower_id == follower_id,
        Follow.followee_id == followee_id,
        Follow.state == FollowState.ACCEPTED,
    )
    return (await session.exec(query)).first() is not None


async def count_local_posts(session: AsyncSession) -> int:
    """Local notes, boosts not counted (NodeInfo's localPosts)."""
    query = (
        select(func.count())
        .select_from(Status)
        .where(col(Status.local).is_(True), col(Status.reblog_of_id).is_(None))
    )
    return (await session.exec(query)).one()
