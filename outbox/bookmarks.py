"""Bookmarks: a local user keeps a post for later. Private: nothing is sent to anyone."""

from sqlalchemy import delete
from sqlmodel import col, select

from spark_fed.context import Context
from spark_fed.models import Account, Bookmark, Status
from spark_fed.queries.timelines import visible_status

from .posts import StatusNotFound


async def _visible(ctx: Context, account: Account, status_id: int) -> Status:
    """The note ACCOUNT may see by STATUS_ID; a boost stands for the note it boosts."""
    async with ctx.db.read() as session:
        status = await visible_status(session, account, status_id)
        if status is not None and status.reblog_of_id is not None:
            status = await visible_status(session, account, status.reblog_of_id)
    if status is None:
        raise StatusNotFound(f"no post {status_id} that {account.username} may see")
    return status


async def bookmark(ctx: Context, account: Account, status_id: int) -> Status:
    """Bookmark the post (once: bookmarking it again changes nothing); returns the note."""
    status = await _visible(ctx, account, status_id)
    async with ctx.db.write() as session:
        existing = select(Bookmark.id).where(
            Bookmark.account_id == account.id, Bookmark.status_id == status.id
        )
        if (await session.exec(existing)).first() is None:
            session.add(Bookmark(account_id=account.id, status_id=status.id))
    return status


async def unbookmark(ctx: Context, account: Account, status_id: int) -> Status:
    """Remove the bookmark, if there is one; returns the note."""
    status = await _visible(ctx, account, status_id)
    async with ctx.db.write() as session:
        await session.exec(
            delete(Bookmark).where(
                col(Bookmark.account_id) == account.id, col(Bookmark.status_id) == status.id
            )
        )
    return status
