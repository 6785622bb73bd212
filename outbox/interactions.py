"""Boosts and likes, of local and remote notes, and taking them back."""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.errors import UsageError
from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Account, Favourite, Status, Visibility
from spark_fed.models.ids import new_id
from spark_fed.queries.statuses import followers_of
from spark_fed.statuses import remove_favourite, remove_status, store_boost, store_favourite

from . import activities, notes
from .posts import StatusNotFound


async def _target(ctx: Context, url: str) -> tuple[Status, Account]:
    """The note at URL (fetched if remote and unknown); a boost stands for the note it boosts."""
    try:
        status = await ctx.notes.get(url)
    except NoteRejected as exc:
        raise StatusNotFound(f"no post at {url}: {exc}") from None
    async with ctx.db.read() as session:
        if status.reblog_of_id is not None:
            status = await session.get(Status, status.reblog_of_id)
        author = await session.get(Account, status.account_id)
    return status, author


async def _boost_of(session: AsyncSession, booster: Account, original: Status) -> Status | None:
    query = select(Status).where(Status.account_id == booster.id, Status.reblog_of_id == original.id)
    return (await session.exec(query)).first()


async def _favourite_of(session: AsyncSession, account: Account, status: Status) -> Favourite | None:
    query = select(Favourite).where(Favourite.account_id == account.id, Favourite.status_id == status.id)
    return (await session.exec(query)).first()


async def boost(ctx: Context, booster: Account, url: str) -> Status:
    original, author = await _target(ctx, url)
    if original.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED):
        raise UsageError("only public and unlisted posts can be boosted")
    async with ctx.db.write() as session:
        existing = await _boost_of(session, booster, original)
        if existing is not None:
            return existing
        boost_id = await new_id(session)
        row = Status(
            id=boost_id,
            uri=f"{ctx.urls.status(booster.username, boost_id)}/activity",
            url=ctx.urls.status_page(booster.username, boost_id),
            account_id=booster.id,
            local=True,
            visibility=Visibility.PUBLIC,
            reblog_of_id=original.id,
        )
        await store_boost(session, row, booster, original)
        recipients = [*await followers_of(session, booster.id, local=False), author]
        enqueue(
            session,
            booster,
            notes.announce(booster, row, original.uri, author),
            preferred_inboxes(recipients),
        )
    ctx.deliveries_queued()
    return row


async def unboost(ctx: Context, booster: Account, url: str) -> str:
    original, author = await _target(ctx, url)
    async with ctx.db.write() as session:
        row = await _boost_of(session, booster, original)
        if row is None:
            raise StatusNotFound(f"{booster.username} has not boosted {url}")
        announce = notes.announce(booster, row, original.uri, author)
        recipients = [*await followers_of(session, booster.id, local=False), author]
        await remove_status(session, row)
        enqueue(session, booster, activities.undo(booster, announce), preferred_inboxes(recipients))
    ctx.deliveries_queued()
    return announce["id"]


async def like(ctx: Context, account: Account, url: str) -> str:
    status, author = await _target(ctx, url)
    async with ctx.db.write() as session:
        like_id = f"{account.uri}#likes/{await new_id(session)}"
        if not await store_favourite(session, account, status, like_id):
            existing = await _favourite_of(session, account, status)
            return existing.uri if existing is not None else like_id
        if not author.is_local:
            enqueue(session, account, notes.like(account, like_id, status.uri), [author.inbox_url])
    ctx.deliveries_queued()
    return like_id


async def unlike(ctx: Context, account: Account, url: str) -> str:
    status, author = await _target(ctx, url)
    async with ctx.db.write() as session:
        favourite = await _favourite_of(session, account, status)
        if favourite is None:
            raise StatusNotFound(f"{account.username} has not liked {url}")
        await remove_favourite(session, favourite)
        if not author.is_local:
            undo = activities.undo(account, notes.like(account, favourite.uri, status.uri))
            enqueue(session, account, undo, [author.inbox_url])
    ctx.deliveries_queued()
    return favourite.uri
