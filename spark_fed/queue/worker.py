"""The loop that runs one queue's jobs, in `serve` and in `spark-fed worker` alike."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Generic, TypeVar

from ..db import Database
from ..models import QueuedJob
from . import jobs
from .backoff import retry_delay

log = logging.getLogger(__name__)

J = TypeVar("J", bound=QueuedJob)

POLL_SECONDS = 0.5
"""How often an idle worker looks for work queued by another process (a command)."""
PRUNE_EVERY_SECONDS = 600.0


class Worker(Generic[J]):
    """Claims due jobs, runs HANDLE on each, and settles them.

    HANDLE returns normally when the job is done, raises `RetryLater` to try
    again after the backoff (up to MAX_ATTEMPTS), or `GiveUp` to stop. Any
    other exception is a bug or a surprise and counts as `RetryLater`.
    A done job is deleted, or, with KEEP_DONE (the values to set, e.g. to
    drop a body no longer needed), kept as done until RETENTION has passed.
    """

    def __init__(
        self,
        db: Database,
        model: type[J],
        handle: Callable[[J], Awaitable[None]],
        *,
        concurrency: int = 8,
        max_attempts: int = 17,
        keep_done: dict[str, object] | None = None,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.model = model
        self.handle = handle
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.keep_done = keep_done
        self.retention = retention
        self._wake = asyncio.Event()
        self._last_prune = 0.0

    def wake(self) -> None:
        """Work was queued in this process: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.run_once()
                await self._maybe_prune()
            except Exception:
                log.exception("%s worker: cycle failed", self.model.__tablename__)
                worked = 0
            if worked == 0:
                await self._idle(stop)

    async def run_once(self) -> int:
        """Run the jobs due now; the count tells the caller whether to sleep."""
        batch = await jobs.claim(self.db, self.model, self.concurrency)
        if batch:
            await asyncio.gather(*(self._run_job(job) for job in batch))
        return len(batch)

    async def _run_job(self, job: J) -> None:
        assert job.id is not None
        try:
            await self.handle(job)
        except jobs.GiveUp as exc:
            await jobs.mark_failed(self.db, self.model, job, str(exc) or type(exc).__name__)
            return
        except Exception as exc:
            await self._retry(job, exc)
            return
        if self.keep_done is None:
            await jobs.remove(self.db, self.model, job.id)
        else:
            await jobs.mark_done(self.db, self.model, job.id, **self.keep_done)

    async def _retry(self, job: J, exc: Exception) -> None:
        error = str(exc) or type(exc).__name__
        if not isinstance(exc, jobs.RetryLater):
            log.exception("%s job %s failed unexpectedly", self.model.__tablename__, job.id, exc_info=exc)
        if job.attempts + 1 >= self.max_attempts:
            await jobs.mark_failed(self.db, self.model, job, f"gave up: {error}")
        else:
            await jobs.reschedule(self.db, self.model, job, error, retry_delay(job.attempts))

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()

    async def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        await jobs.prune(self.db, self.model, self.retention)
