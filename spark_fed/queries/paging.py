"""Mastodon's id cursors, one way for every list: `max_id`, `since_id` and `min_id`.

`max_id` pages back (what is older than it), `since_id` keeps what is newer but still serves the
newest first, and `min_id` serves the page just above it: the oldest newer rows, so a client that
follows `rel="prev"` from the top of a list misses nothing even when more than a page arrived.
Every page comes newest first, as Mastodon serves them.
"""

from dataclasses import dataclass, replace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class Cursor:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None

    def below(self, max_id: int | None) -> "Cursor":
        """This cursor with MAX_ID, when one is given: the commands' and pages' way to page back."""
        return self if max_id is None else replace(self, max_id=max_id)


NEWEST = Cursor()  # no cursor: the newest page


async def page(session: AsyncSession, query: Any, key: Any, limit: int, cursor: Cursor) -> list[Any]:
    """LIMIT rows of QUERY within CURSOR, ordered on KEY (the indexed column the rows are found
    through), newest first."""
    if cursor.max_id is not None:
        query = query.where(key < cursor.max_id)
    if cursor.since_id is not None:
        query = query.where(key > cursor.since_id)
    if cursor.min_id is None:
        return list((await session.exec(query.order_by(key.desc()).limit(limit))).all())
    query = query.where(key > cursor.min_id).order_by(key.asc()).limit(limit)
    return list(reversed((await session.exec(query)).all()))
