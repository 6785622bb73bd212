"""A post's thread: the reply chain above it and the replies below, as the reader may see them.

Each side is one recursive query, with the reader's rules (`visibility.visible_to`,
`safety.hidden`) in its WHERE: a thread of 150 posts costs the two statements a thread of 3
does.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, literal, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Status
from .safety import hidden
from .visibility import visible_to

MAX_ANCESTORS = 40
MAX_DESCENDANTS = 200


@dataclass(frozen=True)
class Thread:
    ancestors: list[Status]
    descendants: list[Status]


async def thread(session: AsyncSession, reader: Account | None, status: Status) -> Thread:
    """Ancestors oldest first (bounded), descendants breadth-first in id order (bounded).

    Posts READER may not see are left out (by visibility; blocks either way, mutes, domain
    blocks, suspended accounts), while the walk goes on through them."""
    viewer_id = reader.id if reader is not None else None
    return Thread(
        ancestors=await _ancestors(session, viewer_id, status),
        descendants=await _descendants(session, viewer_id, status),
    )


def _readable(viewer_id: int | None) -> ColumnElement[bool]:
    shown = ~hidden(viewer_id, col(Status.account_id))
    if viewer_id is not None:
        shown = or_(col(Status.account_id) == viewer_id, shown)
    return shown & visible_to(viewer_id)


async def _ancestors(session: AsyncSession, viewer_id: int | None, status: Status) -> list[Status]:
    if status.in_reply_to_id is None:
        return []
    up = (
        select(
            col(Status.id).label("id"), col(Status.in_reply_to_id).label("parent"), literal(1).label("depth")
        )
        .where(Status.id == status.in_reply_to_id)
        .cte("thread_up", recursive=True)
    )
    up = up.union_all(
        select(col(Status.id), col(Status.in_reply_to_id), up.c.depth + 1)
        .join(up, col(Status.id) == up.c.parent)
        .where(up.c.depth < MAX_ANCESTORS)
    )
    query = select(Status).join(up, col(Status.id) == up.c.id).where(_readable(viewer_id))
    return list((await session.exec(query.order_by(up.c.depth.desc()))).all())


async def _descendants(session: AsyncSession, viewer_id: int | None, status: Status) -> list[Status]:
    # Depth is bounded too, so a cycle in stored replies could never make the walk endless.
    down = (
        select(col(Status.id).label("id"), literal(1).label("depth"))
        .where(Status.in_reply_to_id == status.id)
        .cte("thread_down", recursive=True)
    )
    down = down.union_all(
        select(col(Status.id), down.c.depth + 1)
        .join(down, col(Status.in_reply_to_id) == down.c.id)
        .where(down.c.depth < MAX_DESCENDANTS)
    )
    query = (
        select(Status)
        .join(down, col(Status.id) == down.c.id)
        .where(_readable(viewer_id))
        .order_by(down.c.depth, col(Status.id))
        .limit(MAX_DESCENDANTS)
    )
    return list((await session.exec(query)).all())
