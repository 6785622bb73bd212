"""Bookmarks, favourites and pinned posts as lists, and the viewer's marks on a page of posts.

The Bookmarks and Favourites lists page by the mark's own id (the newest bookmark or like first,
whatever the post's age), as the client API's Link headers do; visibility, blocks and mutes are
applied at read time, so a post the user may no longer see drops out of the list.
"""

from collections.abc import Sequence

from sqlalchemy import literal, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Bookmark, Favourite, Status, StatusPin
from .paging import Cursor, page
from .timelines import _without_hidden
from .visibility import visible_to


async def bookmarked(
    session: AsyncSession, viewer: Account, *, limit: int, cursor: Cursor
) -> list[tuple[int, Status]]:
    """(bookmark id, status) of VIEWER's bookmarks that she may still see, newest bookmark first."""
    return await _marked(session, viewer, Bookmark, limit, cursor)


async def favourited(
    session: AsyncSession, viewer: Account, *, limit: int, cursor: Cursor
) -> list[tuple[int, Status]]:
    """(favourite id, status) of VIEWER's likes that she may still see, newest like first."""
    return await _marked(session, viewer, Favourite, limit, cursor)


async def _marked(
    session: AsyncSession, viewer: Account, mark: type[Bookmark] | type[Favourite], limit: int, cursor: Cursor
) -> list[tuple[int, Status]]:
    """(mark id, status) of VIEWER's MARK rows, paged by the mark's id: one query for both lists,
    so bookmarks and likes hide the same posts (visibility, blocks; mutes do not hide a mark)."""
    query = (
        select(mark.id, Status)
        .join(Status, col(Status.id) == col(mark.status_id))
        .where(mark.account_id == viewer.id, visible_to(viewer.id))
    )
    query = _without_hidden(query, viewer.id, mutes=False)
    return [(mark_id, status) for mark_id, status in await page(session, query, col(mark.id), limit, cursor)]


async def pinned_posts(session: AsyncSession, reader: Account | None, account: Account) -> list[Status]:
    """ACCOUNT's pinned posts that READER may see, the newest pin first. Nothing of a suspended
    account, nor between accounts that block one another (`_without_hidden`)."""
    if account.suspended_at is not None and (reader is None or reader.id != account.id):
        return []
    reader_id = reader.id if reader is not None else None
    query = (
        select(Status)
        .join(StatusPin, col(StatusPin.status_id) == col(Status.id))
        .where(
            StatusPin.account_id == account.id,
            col(Status.account_id) == account.id,
            col(Status.reblog_of_id).is_(None),
            visible_to(reader_id),
        )
        .order_by(col(StatusPin.id).desc())
    )
    query = _without_hidden(query, reader_id, mutes=False)
    return list((await session.exec(query)).all())


async def marks_of(
    session: AsyncSession, viewer_id: int, status_ids: Sequence[int]
) -> tuple[set[int], set[int]]:
    """Which of STATUS_IDS the viewer bookmarked, and which she pinned, in one query."""
    if not status_ids:
        return set(), set()
    ids = list(status_ids)
    marks = union_all(
        select(Bookmark.status_id, literal("b").label("kind")).where(
            Bookmark.account_id == viewer_id, col(Bookmark.status_id).in_(ids)
        ),
        select(StatusPin.status_id, literal("p").label("kind")).where(
            StatusPin.account_id == viewer_id, col(StatusPin.status_id).in_(ids)
        ),
    )
    rows = (await session.exec(marks)).all()  # type: ignore[call-overload]
    return {i for i, kind in rows if kind == "b"}, {i for i, kind in rows if kind == "p"}
