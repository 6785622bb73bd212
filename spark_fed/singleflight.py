"""One run of a slow computation per key at a time, shared by everyone who asks meanwhile.

A hundred inbox requests signed with one new keyId, or a page showing one remote image to many
readers, must cost one fetch, not a hundred. The shared run is a task of its own, not the first
caller's coroutine, because sharing the first caller's work would tie everyone to its fate: if
that caller were cancelled (its client went away) the others would hang or be cancelled with
it. Here every waiter gets the run's outcome (its value, or the exception it raised, whatever
its type), a waiter that is cancelled leaves alone, and a run that takes longer than its bound
ends with `TimeoutError` for all. The entry is forgotten as soon as the run ends, so the table
holds only runs in progress and the next call after an outcome starts afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RunAbandoned(Exception):
    """The shared run was cancelled from outside (the event loop is closing), not the waiter."""


class SingleFlight(Generic[K, V]):
    """Runs of `work()` keyed by K: one at a time per key, each ended within TIMEOUT seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._runs: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        """How many runs are in progress (the table never holds a finished one)."""
        return len(self._runs)

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        """The outcome of the run for KEY in progress, or of a new one of WORK."""
        task = self._runs.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.get_running_loop().create_task(self._bounded(key, work))
            task.add_done_callback(_retrieve)
            self._runs[key] = task
        try:
            # Shielded: cancelling this waiter must not cancel the run the others share.
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled() and not _being_cancelled():
                raise RunAbandoned(f"the shared run for {key!r} was cancelled") from None
            raise

    async def _bounded(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        try:
            async with asyncio.timeout(self.timeout):
                return await work()
        finally:
            # Inside the task, so no caller can find the entry of a run that has already ended.
            if self._runs.get(key) is asyncio.current_task():
                del self._runs[key]


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _retrieve(task: asyncio.Task) -> None:
    """Mark the outcome as seen: when every waiter left before the end, nobody else will look."""
    if not task.cancelled():
        task.exception()
