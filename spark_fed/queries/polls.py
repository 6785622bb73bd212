"""Reading polls for a page of statuses: one query for the polls, one for the viewer's votes."""

from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Poll, PollVote


async def polls_by_status(session: AsyncSession, status_ids: Iterable[int | None]) -> dict[int, Poll]:
    ids = sorted({i for i in status_ids if i is not None})
    if not ids:
        return {}
    found = await session.exec(select(Poll).where(col(Poll.status_id).in_(ids)))
    return {poll.status_id: poll for poll in found.all() if poll.status_id is not None}


async def choices_of(session: AsyncSession, account_id: int, poll_ids: Iterable[int]) -> dict[int, list[int]]:
    """ACCOUNT_ID's choices on each of POLL_IDS it voted on (the entity's `own_votes`)."""
    ids = sorted(set(poll_ids))
    if not ids:
        return {}
    found = await session.exec(
        select(PollVote.poll_id, PollVote.choice).where(
            PollVote.account_id == account_id, col(PollVote.poll_id).in_(ids)
        )
    )
    result: dict[int, list[int]] = {}
    for poll_id, choice in found.all():
        result.setdefault(poll_id, []).append(choice)
    return {poll_id: sorted(choices) for poll_id, choices in result.items()}
