"""Looking up accounts."""

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import INSTANCE_ACTOR_USERNAME, Account, Follow, FollowState, User
from ..usernames import is_valid_username
from .safety import held_back, hidden, silenced

_IS_LOCAL = col(Account.domain).is_(None)
_IS_LOCAL_USER = _IS_LOCAL & (col(Account.username) != INSTANCE_ACTOR_USERNAME)


async def find_local_user(session: AsyncSession, username: str) -> Account | None:
    """The local user called USERNAME, matched case-insensitively as Mastodon does."""
    if not is_valid_username(username):
        return None
    query = select(Account).where(_IS_LOCAL_USER, func.lower(Account.username) == username.lower())
    return (await session.exec(query)).first()


async def list_local_users(session: AsyncSession) -> list[Account]:
    query = select(Account).where(_IS_LOCAL_USER).order_by(col(Account.id))
    return list((await session.exec(query)).all())


async def users_of(session: AsyncSession, account_ids: list[int]) -> dict[int, User]:
    """The sign-in rows (e-mail, approval) of local accounts, by account id."""
    if not account_ids:
        return {}
    rows = await session.exec(select(User).where(col(User.account_id).in_(account_ids)))
    return {user.account_id: user for user in rows.all()}


async def count_local_users(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Account).where(_IS_LOCAL_USER)
    return (await session.exec(query)).one()


async def find_instance_actor(session: AsyncSession) -> Account | None:
    query = select(Account).where(_IS_LOCAL, col(Account.username) == INSTANCE_ACTOR_USERNAME)
    return (await session.exec(query)).first()


async def find_by_uri(session: AsyncSession, uri: str) -> Account | None:
    """Any actor, local or remote, by its ActivityPub id."""
    return (await session.exec(select(Account).where(Account.uri == uri))).first()


async def find_remote_by_handle(session: AsyncSession, username: str, domain: str) -> Account | None:
    """A remote actor already known under user@domain (both matched case-insensitively)."""
    query = select(Account).where(
        func.lower(Account.username) == username.lower(), func.lower(Account.domain) == domain.lower()
    )
    return (await session.exec(query)).first()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.exec(select(User).where(User.email == email.strip().lower()))).first()


async def search_accounts(
    session: AsyncSession,
    text: str,
    limit: int,
    *,
    viewer_id: int | None = None,
    offset: int = 0,
    following: bool = False,
) -> list[Account]:
    """Known accounts whose username or display name starts with TEXT, local ones first; OFFSET
    skips that many (Mastodon's search pages so); FOLLOWING keeps those VIEWER_ID follows.

    Never suspended accounts; silenced ones only for a viewer who follows them; none that block
    VIEWER_ID or that it blocks (or whose server it blocks)."""
    prefix = text.lower()
    query = (
        select(Account)
        .where(
            or_(
                func.lower(Account.username).startswith(prefix),
                func.lower(Account.display_name).startswith(prefix),
            ),
            Account.actor_type != "Application",
            Account.username != INSTANCE_ACTOR_USERNAME,
            ~hidden(viewer_id, col(Account.id), mutes=False),
            ~silenced(col(Account.id)) if viewer_id is None else ~held_back(viewer_id, col(Account.id)),
        )
        .order_by(col(Account.domain).is_not(None), Account.username, Account.id)
        .offset(offset)
        .limit(limit)
    )
    if following:
        query = query.where(
            select(Follow.id)
            .where(
                Follow.follower_id == viewer_id,
                col(Follow.followee_id) == col(Account.id),
                Follow.state == FollowState.ACCEPTED,
            )
            .exists()
        )
    return list((await session.exec(query)).all())
