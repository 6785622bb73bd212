"""A post's thread: the reply chain above it and the replies below, as the reader may see them."""

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Status
from .safety import hidden_accounts
from .timelines import may_see

MAX_ANCESTORS = 40
MAX_DESCENDANTS = 200


@dataclass(frozen=True)
class Thread:
    ancestors: list[Status]
    descendants: list[Status]


async def thread(session: AsyncSession, reader: Account | None, status: Status) -> Thread:
    """Ancestors oldest first (bounded), descendants breadth-first in id order (bounded).

    Posts of accounts hidden from READER (blocks either way, mutes, domain blocks, suspended
    accounts) are left out, found for the whole thread in one query."""
    ancestors: list[Status] = []
    cursor = status
    while cursor.in_reply_to_id and len(ancestors) < MAX_ANCESTORS:
        parent = await session.get(Status, cursor.in_reply_to_id)
        if parent is None:
            break
        ancestors.insert(0, parent)
        cursor = parent
    descendants: list[Status] = []
    frontier = [status.id]
    while frontier and len(descendants) < MAX_DESCENDANTS:
        rows = list(
            await session.exec(
                select(Status).where(col(Status.in_reply_to_id).in_(frontier)).order_by(Status.id)
            )
        )
        descendants += rows
        frontier = [r.id for r in rows]
    descendants = descendants[:MAX_DESCENDANTS]
    authors = {s.account_id for s in (*ancestors, *descendants)}
    hide = await hidden_accounts(session, reader.id if reader is not None else None, authors)
    return Thread(
        ancestors=[s for s in ancestors if s.account_id not in hide and await may_see(session, reader, s)],
        descendants=[
            s for s in descendants if s.account_id not in hide and await may_see(session, reader, s)
        ],
    )
