"""The scheduled-post queue: rows of `scheduled_statuses` fire when their time comes.

Publishing is the outbox's (`outbox.scheduled.publish`), handed in by the app factory. The
queue checks for a due post with a read, and takes the write lock of a claim only when one is
due: most polls of a server with a few posts scheduled for next week find nothing.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlmodel import col, select

from ..db import Database
from ..models import JobState, ScheduledStatus
from ..models.types import utcnow
from . import jobs
from .worker import Worker


async def claim_due(
    db: Database, limit: int, lease: timedelta, _finished: Sequence[int] = ()
) -> list[ScheduledStatus]:
    now = utcnow()
    async with db.read() as session:
        due = await session.exec(
            select(ScheduledStatus.id)
            .where(
                col(ScheduledStatus.state) == JobState.QUEUED,
                col(ScheduledStatus.next_attempt_at) <= now,
                col(ScheduledStatus.locked_until).is_(None) | (col(ScheduledStatus.locked_until) < now),
            )
            .limit(1)
        )
        if due.first() is None:
            return []
    return await jobs.claim(db, ScheduledStatus, limit, lease)


def scheduled_worker(
    db: Database, publish: Callable[[ScheduledStatus], Awaitable[None]]
) -> Worker[ScheduledStatus]:
    """A post that cannot be published now (the database busy) is tried again a few times with
    the usual backoff; one that never can (its text too long for a changed limit) is marked failed."""
    return Worker(
        db,
        ScheduledStatus,
        publish,
        concurrency=4,
        max_attempts=8,
        claim=lambda limit, lease, finished: claim_due(db, limit, lease, finished),
    )
