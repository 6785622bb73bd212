"""An Update(Question) that is no newer edit of its status but still changes the poll's options.

A newer `updated` makes an Update an edit (`edit_status` keeps the revision it replaces, the
poll's options then among it). Without one, an Update carries new counts; should its options
differ all the same, they start the poll afresh (`refresh_poll`), and the options replaced are
kept as a revision first so the history never loses them. Counts alone are no edit.
"""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ..edits import keep_revision
from ..models import Poll, Status
from .questions import question_poll, refresh_poll


async def refresh_unedited(session: AsyncSession, status: Status, note: dict[str, Any]) -> None:
    """Apply NOTE's counts (and end) to STATUS's poll, keeping a revision if its options change."""
    fresh = question_poll(note)
    poll = await session.get(Poll, status.id)
    if fresh is not None and poll is not None and fresh.options != poll.options:
        await keep_revision(session, status)
    await refresh_poll(session, status, note)
