"""Home feed rows taken back when a relationship ends: an unfollow, a Reject of an accepted
follow, a removed follower, a block.

What a reader may see is decided when reading (`queries/visibility.py`, `queries/safety.py`), so
no row left here is ever served; removing them keeps the feed an index of what its reader can
read, so a page never walks dead rows. The first chunk goes in the transaction that changes the
relationship, the rest in short transactions of their own: a reader who followed a prolific
account for years never holds the write lock for long.
"""

from sqlalchemy import and_, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .db import Database
from .models import Account, FeedEntry, Status, Visibility
from .queries.visibility import visible_to

PRUNE_CHUNK = 500


async def prune_feed(
    session: AsyncSession, reader_id: int, author_id: int, *, everything: bool = False
) -> bool:
    """Remove up to PRUNE_CHUNK rows of READER_ID's home feed holding AUTHOR_ID's posts that
    READER_ID may no longer read (EVERYTHING: all of them, after a block). True when a full
    chunk went, so more may be left. Call it after the relationship's change is flushed."""
    query = (
        select(FeedEntry.status_id)
        .join(Status, col(Status.id) == col(FeedEntry.status_id))
        .where(FeedEntry.account_id == reader_id, Status.account_id == author_id)
    )
    if not everything:
        query = query.where(
            col(Status.visibility).in_((Visibility.FOLLOWERS, Visibility.DIRECT)), ~visible_to(reader_id)
        )
    ids = list((await session.exec(query.limit(PRUNE_CHUNK))).all())
    if ids:
        await session.exec(
            delete(FeedEntry).where(
                and_(col(FeedEntry.account_id) == reader_id, col(FeedEntry.status_id).in_(ids))
            )
        )
    return len(ids) == PRUNE_CHUNK


async def prune_feeds(
    session: AsyncSession, pairs: list[tuple[Account, Account]], *, everything: bool = False
) -> list[tuple[int, int]]:
    """`prune_feed` for each (reader, author) of PAIRS whose reader is local (only they have a
    feed); the pairs that may have more left, for `prune_rest` after the commit."""
    await session.flush()
    left = []
    for reader, author in pairs:
        if reader.is_local and await prune_feed(session, reader.id, author.id, everything=everything):
            left.append((reader.id, author.id))
    return left


async def prune_rest(db: Database, left: list[tuple[int, int]], *, everything: bool = False) -> None:
    """What `prune_feeds` left in the relationship's transaction, one chunk a transaction."""
    for reader_id, author_id in left:
        more = True
        while more:
            async with db.write() as session:
                more = await prune_feed(session, reader_id, author_id, everything=everything)
