"""Leasing jobs to workers, and settling them.

A job is claimed by setting `locked_until` and a fresh `lease_token` in one
statement that picks due rows; on PostgreSQL the picking subquery uses
`FOR UPDATE SKIP LOCKED`, so two workers never take the same row, and on
SQLite the write transaction is `BEGIN IMMEDIATE`, which serialises claims.
A claim that is never settled (the worker died) expires with its lease and
the job is picked up again; settling checks the token, so a worker that
outlived its lease cannot overwrite what the next holder did. The lease is
short and the worker renews it while the job runs (`renew`), so a job of a
worker that was killed comes back within a lease, not after a long one.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import col

from ..db import Database
from ..models import JobState, QueuedJob
from ..models.types import utcnow

DEFAULT_LEASE = timedelta(seconds=30)
J = TypeVar("J", bound=QueuedJob)


class RetryLater(Exception):
    """The job failed for now (a peer is down, a timeout): try again after the backoff.

    AFTER, when the peer said when to come back (`Retry-After`), replaces the backoff.
    """

    def __init__(self, message: str, after: timedelta | None = None) -> None:
        super().__init__(message)
        self.after = after


class GiveUp(Exception):
    """The job can never succeed (a 4xx, a malformed activity): stop trying."""


async def claim(db: Database, model: type[J], limit: int, lease: timedelta = DEFAULT_LEASE) -> list[J]:
    """Up to LIMIT due jobs, oldest first, leased to the caller."""
    now = utcnow()
    due = (
        select(col(model.id))
        .where(
            col(model.state) == JobState.QUEUED,
            col(model.next_attempt_at) <= now,
            or_(col(model.locked_until).is_(None), col(model.locked_until) < now),
        )
        .order_by(col(model.next_attempt_at), col(model.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(model)
        .where(col(model.id).in_(due.scalar_subquery()))
        .values(locked_until=now + lease, lease_token=uuid.uuid4().hex)
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    async with db.write() as session:
        jobs = list((await session.exec(statement)).scalars().all())
    return sorted(jobs, key=lambda job: (job.next_attempt_at, job.id))


async def renew(db: Database, model: type[QueuedJob], held: list[QueuedJob], lease: timedelta) -> None:
    """Extend the lease of the jobs in HELD that are still ours: they are running, not abandoned."""
    async with db.write() as session:
        await session.exec(
            update(model)
            .where(_all_held(model, held), col(model.state) == JobState.QUEUED)
            .values(locked_until=utcnow() + lease)
        )


async def due_count(db: Database, model: type[QueuedJob]) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(model).where(col(model.state) == JobState.QUEUED)
        return (await session.exec(query)).scalar_one()


def _held(model: type[QueuedJob], job: QueuedJob):
    return (col(model.id) == job.id) & (col(model.lease_token) == job.lease_token)


def _all_held(model: type[QueuedJob], done: list[QueuedJob]):
    """The jobs in DONE whose lease is still theirs (each claim has its own token)."""
    return col(model.id).in_([job.id for job in done]) & col(model.lease_token).in_(
        {job.lease_token for job in done}
    )


@dataclass
class Settled(Generic[J]):
    """What a worker finished since it last wrote: written together, in one transaction."""

    done: list[J] = field(default_factory=list)
    retries: list[tuple[J, str, timedelta]] = field(default_factory=list)
    """Each with its error and the wait before the next attempt."""
    failed: list[tuple[J, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.done or self.retries or self.failed)

    def jobs(self) -> list[J]:
        return [*self.done, *(job for job, _, _ in self.retries), *(job for job, _ in self.failed)]


async def settle(
    db: Database, model: type[J], settled: Settled[J], keep_done: dict[str, object] | None = None
) -> None:
    """Write every outcome in SETTLED in one transaction: when a thousand deliveries time out
    together, a commit each (an fsync on SQLite) would cost more than the deliveries did.

    Done jobs are deleted, or marked done with the values in KEEP_DONE. Only jobs whose lease
    is still theirs are touched, so a worker that outlived its lease changes nothing.
    """
    now = utcnow()
    async with db.write() as session:
        if settled.done and keep_done is None:
            await session.exec(delete(model).where(_all_held(model, settled.done)))
        elif settled.done:
            await session.exec(
                update(model)
                .where(_all_held(model, settled.done))
                .values(state=JobState.DONE, locked_until=None, **keep_done)
            )
        for job, error, delay in settled.retries:
            await session.exec(
                update(model)
                .where(_held(model, job))
                .values(
                    attempts=job.attempts + 1,
                    next_attempt_at=now + delay,
                    locked_until=None,
                    last_error=error[:500],
                )
            )
        for job, error in settled.failed:
            await session.exec(
                update(model)
                .where(_held(model, job))
                .values(
                    state=JobState.FAILED,
                    attempts=job.attempts + 1,
                    locked_until=None,
                    last_error=error[:500],
                )
            )


async def prune(db: Database, model: type[QueuedJob], older_than: timedelta) -> None:
    """Settled jobs are kept a while (for dedup and for an admin's eyes), not forever."""
    async with db.write() as session:
        await session.exec(
            delete(model).where(
                col(model.state).in_([JobState.DONE, JobState.FAILED]),
                col(model.created_at) < utcnow() - older_than,
            )
        )
