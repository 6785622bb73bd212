"""The loop that runs one queue's jobs, in `serve` and in `spark-fed worker` alike."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
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
STOP_GRACE_SECONDS = 10.0
DEFERRED_CLAIM_SECONDS = 2.0
CLAIM_BATCH = 16
"""Claim once this many slots are free: each claim is a write transaction (on SQLite it makes the
server's intake wait for the lock), so slots are refilled in batches, not one by one."""
FLUSH_EVERY_SECONDS = 0.1
"""How long finished jobs may wait to be written together (their leases hold them meanwhile)."""
CLAIM_MAX = 64
"""The most one claim takes: with a thousand free slots, jobs start in waves that each begin at
once, instead of one claim whose thousand rows all wait for the last to be signed."""

Claim = Callable[[int, timedelta, Sequence[int]], Awaitable[list[J]]]
"""Leases up to N due jobs for LEASE (the default: `jobs.claim`, oldest first). The ids given are
jobs this worker finished but has not written yet: still leased, but no longer running."""


class Worker(Generic[J]):
    """Keeps up to CONCURRENCY jobs in flight, claiming more as each finishes.

    HANDLE returns normally when the job is done, raises `RetryLater` to try
    again after the backoff (up to MAX_ATTEMPTS), or `GiveUp` to stop. Any
    other exception is a bug or a surprise and counts as `RetryLater`.
    A done job is deleted, or, with KEEP_DONE (the values to set, e.g. to
    drop a body no longer needed), kept as done until RETENTION has passed.
    With DEFER_TO, the worker steps back while it returns true (see __init__).
    With ORDER_BY, jobs with the same key run one after another in the order
    they were queued (an actor's Undo must not overtake its Follow); jobs
    with different keys, and all jobs without it, run side by side, so one
    slow peer holds up only its own slot. CLAIM replaces the oldest-first
    claim (the delivery queue's is fair between hosts and caps each one).
    The leases of running jobs are renewed every third of LEASE. Outcomes
    are written in batches; BEFORE_SETTLING runs just before each (the
    delivery queue writes its hosts' failures there, so a host's pause is
    stored before its jobs are free to be claimed again).
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
        order_by: Callable[[J], str] | None = None,
        defer_to: Callable[[], bool] | None = None,
        claim: Claim[J] | None = None,
        lease: timedelta = jobs.DEFAULT_LEASE,
        before_settling: Callable[[], Awaitable[None]] | None = None,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.db = db
        self.model = model
        self.handle = handle
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.keep_done = keep_done
        self.retention = retention
        self.order_by = order_by
        # While DEFER_TO says so (the server is busy accepting), claim only a little, every
        # DEFERRED_CLAIM_SECONDS: accepting durably comes first, processing catches up after.
        self.defer_to = defer_to
        self._last_deferred_claim = 0.0
        self._wake = asyncio.Event()
        self._last_prune = 0.0
        self._in_flight: set[asyncio.Task[None]] = set()
        # Finished jobs waiting to be settled together; until then their lease keeps them ours.
        self._settled: jobs.Settled[J] = jobs.Settled()
        self._last_flush = 0.0
        self._key_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._claim: Claim[J] = claim or (lambda limit, lease, _finished: jobs.claim(db, model, limit, lease))
        self.lease = lease
        self.before_settling = before_settling
        # How long jobs in hand may run on once the worker is told to stop (then they are
        # cancelled and run again when their lease ends).
        self.stop_grace = stop_grace
        # Every job claimed and not yet settled, running or waiting in `_settled`: leases to renew.
        self._held: dict[int, J] = {}
        # Renewing and settling write the same rows; one at a time, or PostgreSQL may find the two
        # transactions locking them in opposite orders (a deadlock, and leases left to run out).
        self._writing_held = asyncio.Lock()

    def wake(self) -> None:
        """Work was queued in this process: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        renewing = asyncio.create_task(self._renew_forever(stop), name=f"{self.model.__tablename__}-leases")
        try:
            while not stop.is_set():
                claimed = await self._fill()
                await self._maybe_prune()
                await self._wait(stop, idle=claimed == 0)
                # Nothing to claim may mean jobs finished but unwritten still count as leased
                # (against a host's cap): write them now rather than after the interval.
                await self._flush(now=claimed == 0)
        finally:
            if self._in_flight:
                await asyncio.wait(self._in_flight, timeout=self.stop_grace)
            for task in self._in_flight:
                task.cancel()
            await self._flush(now=True)
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)

    async def run_once(self) -> int:
        """Claim what is due now and run it to the end; for tests and one-shot use."""
        batch = await self._claim(self.concurrency, self.lease, ())
        await asyncio.gather(*(self._run_job(job) for job in batch))
        await self._flush(now=True)
        return len(batch)

    async def _renew_forever(self, stop: asyncio.Event) -> None:
        """Keep the leases of held jobs alive: a job that runs long is not taken by another worker."""
        every = self.lease.total_seconds() / 3
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            held = list(self._held.values())
            if not held:
                continue
            try:
                async with self._writing_held:
                    await jobs.renew(self.db, self.model, held, self.lease)
            except Exception:
                # Leases not renewed run out: the jobs may run twice, never get lost.
                log.exception("%s worker: renewing %d leases failed", self.model.__tablename__, len(held))

    async def _fill(self) -> int:
        free = self.concurrency - len(self._in_flight)
        if free <= 0 or (self._in_flight and free < min(CLAIM_BATCH, max(1, self.concurrency // 2))):
            return 0
        if self.defer_to is not None and self.defer_to():
            now = time.monotonic()
            if now - self._last_deferred_claim < DEFERRED_CLAIM_SECONDS:
                return 0
            self._last_deferred_claim = now
            free = 1
        try:
            finished = [job.id for job in self._settled.jobs()]
            batch = await self._claim(min(free, CLAIM_MAX), self.lease, finished)
        except Exception:
            log.exception("%s worker: claiming failed", self.model.__tablename__)
            return 0
        for job in batch:  # oldest first, so per-key locks are taken in queue order
            self._held[job.id] = job
            task = asyncio.create_task(self._run_job(job))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(batch)

    async def _wait(self, stop: asyncio.Event, *, idle: bool) -> None:
        """Until a slot frees up, work is queued here, or the poll interval passes.

        After a claim that found nothing while jobs run, a finished job does not trigger the next
        claim at once: a claim reads the queue, and with a thousand requests in flight (or hanging)
        each finishing one would cost a read of it, and a write of the one outcome. The next
        claim waits FLUSH_EVERY_SECONDS instead, unless work is queued here meanwhile.
        """
        if self._in_flight and not idle and len(self._in_flight) < self.concurrency:
            return  # slots left and work was found: claim again at once
        waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        if not idle:
            waiters |= set(self._in_flight)
        timeout = FLUSH_EVERY_SECONDS if self._settled or (idle and self._in_flight) else POLL_SECONDS
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters - self._in_flight:
                waiter.cancel()
        self._wake.clear()

    async def _run_job(self, job: J) -> None:
        key = self.order_by(job) if self.order_by else None
        if key is None:
            await self._settle(job)
            return
        lock, users = self._key_locks.get(key, (asyncio.Lock(), 0))
        self._key_locks[key] = (lock, users + 1)
        try:
            async with lock:
                await self._settle(job)
        finally:
            lock, users = self._key_locks[key]
            if users == 1:
                del self._key_locks[key]  # bounded by the jobs in flight
            else:
                self._key_locks[key] = (lock, users - 1)

    async def _settle(self, job: J) -> None:
        try:
            await self.handle(job)
        except jobs.GiveUp as exc:
            self._settled.failed.append((job, str(exc) or type(exc).__name__))
        except Exception as exc:
            self._retry(job, exc)
        else:
            self._settled.done.append(job)

    async def _flush(self, *, now: bool = False) -> None:
        """Write what finished, at most every FLUSH_EVERY_SECONDS (NOW: at once)."""
        if not self._settled or (not now and time.monotonic() - self._last_flush < FLUSH_EVERY_SECONDS):
            return
        settled, self._settled = self._settled, jobs.Settled()
        self._last_flush = time.monotonic()
        try:
            if self.before_settling is not None:
                await self.before_settling()
            async with self._writing_held:
                await jobs.settle(self.db, self.model, settled, self.keep_done)
        except Exception:
            # The leases run out and the jobs run again: handlers tolerate a repeat.
            log.exception("%s worker: settling %d jobs failed", self.model.__tablename__, len(settled.jobs()))
        finally:
            for job in settled.jobs():
                self._held.pop(job.id, None)

    def _retry(self, job: J, exc: Exception) -> None:
        error = str(exc) or type(exc).__name__
        if not isinstance(exc, jobs.RetryLater):
            log.exception("%s job %s failed unexpectedly", self.model.__tablename__, job.id, exc_info=exc)
        if job.attempts + 1 >= self.max_attempts:
            self._settled.failed.append((job, f"gave up: {error}"))
            return
        after = exc.after if isinstance(exc, jobs.RetryLater) else None
        delay = after if after is not None else retry_delay(job.attempts)
        self._settled.retries.append((job, error, delay))

    async def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        try:
            await jobs.prune(self.db, self.model, self.retention)
        except Exception:
            log.exception("%s worker: pruning failed", self.model.__tablename__)
