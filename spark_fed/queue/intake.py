"""Storing received activities with group commit.

One commit per inbox POST caps SQLite at a few hundred to ~1.5k writes per
second (each commit is an fsync). Requests that arrive together are instead
written in one transaction, and each is answered 202 only after the commit
that holds its row, so the answer still means "durably stored".

Every request of a burst waits for a commit, so the commit's own cost bounds
the rate: on SQLite the batch goes through the driver itself (one multi-row
INSERT ... ON CONFLICT DO NOTHING RETURNING, three thread hops for the whole
transaction instead of nine), with SQLAlchemy's own column conversions.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ..db import Database
from ..models import InboxItem, JobState
from ..models.types import utcnow

log = logging.getLogger(__name__)


BUSY_SECONDS = 0.2
SQLITE_ROWS_PER_STATEMENT = 100
"""8 variables a row: inside the 999 variables a statement may have even on an old SQLite."""
_COLUMNS = (
    "dedup_key",
    "actor_uri",
    "recipient_id",
    "body",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
)


class IntakeOverloaded(Exception):
    """More received activities are waiting for the disk than the bound allows."""


class IntakeClosed(IntakeOverloaded):
    """The writer is stopped (the server is shutting down): the sender should retry later."""


def _fail(future: asyncio.Future[bool], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class InboxIntake:
    def __init__(
        self,
        db: Database,
        on_stored: Callable[[], None],
        *,
        max_batch: int = 500,
        max_pending_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.db = db
        self.on_stored = on_stored
        self.max_batch = max_batch
        self.max_pending_bytes = max_pending_bytes
        self._pending: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[bool]]] = asyncio.Queue()
        self._pending_bytes = 0
        self._task: asyncio.Task[None] | None = None
        self._last_submit = float("-inf")
        insert = db.insert
        self._statement = (
            insert(InboxItem)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(InboxItem.dedup_key)
        )
        self._converters = _bind_converters(db) if db.is_sqlite else []

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_forever(), name="inbox-intake")

    async def close(self) -> None:
        """Stop the writer; a request still waiting is answered with IntakeClosed, not left hanging."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self._pending.empty():
            _row, future = self._pending.get_nowait()
            _fail(future, IntakeClosed("the server is stopping; retry later"))

    async def submit(self, *, dedup_key: str, actor_uri: str, recipient_id: int | None, body: str) -> bool:
        """Store one activity; True if it is new, False if it was received before."""
        if self._task is None or self._task.done():
            raise IntakeClosed("the server is not accepting activities now; retry later")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._last_submit = time.monotonic()
        row = {"dedup_key": dedup_key, "actor_uri": actor_uri, "recipient_id": recipient_id, "body": body}
        if self._pending_bytes + len(body) > self.max_pending_bytes:
            raise IntakeOverloaded("too many activities waiting to be stored; retry later")
        self._pending_bytes += len(body)
        self._pending.put_nowait((row, future))
        return await future

    def busy(self) -> bool:
        """Activities arrived in the last fifth of a second: a burst is on."""
        return time.monotonic() - self._last_submit < BUSY_SECONDS

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._pending.get()]
            while len(batch) < self.max_batch and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            try:
                await self._write(batch)
            except Exception as exc:
                # Every request of the batch hears of it, and the writer lives on for the next.
                log.exception("storing %d received activities failed", len(batch))
                for _row, future in batch:
                    _fail(future, exc)
            except BaseException:
                for _row, future in batch:
                    _fail(future, IntakeClosed("the server is stopping; retry later"))
                raise

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        self._pending_bytes -= sum(len(row["body"]) for row, _future in batch)
        rows = _first_of_each_key([row for row, _future in batch])
        try:
            stored = await self._insert(rows)
        except Exception:
            # One bad row must not fail everyone's request: find it by storing one at a time.
            log.warning("storing %d received activities together failed; storing one by one", len(rows))
            stored = await self._insert_each(batch)
        claimed: set[str] = set()
        for row, future in batch:
            key = row["dedup_key"]
            is_new = key in stored and key not in claimed
            claimed.add(key)
            if not future.done():
                future.set_result(is_new)
        if stored:
            self.on_stored()

    async def _insert_each(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> set[str]:
        stored: set[str] = set()
        for row, future in batch:
            try:
                stored |= await self._insert([row])
            except Exception as exc:
                log.exception("storing a received activity from %s failed", row["actor_uri"])
                if not future.done():
                    future.set_exception(exc)
        return stored

    async def _insert(self, rows: list[dict[str, Any]]) -> set[str]:
        """The dedup keys of ROWS that were new, committed in one transaction."""
        now = utcnow()
        defaults = {"state": JobState.QUEUED, "attempts": 0, "next_attempt_at": now, "created_at": now}
        full = [{**defaults, **row} for row in rows]
        if self.db.is_sqlite:
            return await self._insert_sqlite(full)
        async with self.db.write() as session:
            connection = await session.connection()
            # One compiled statement, executed for many rows (SQLAlchemy's insertmanyvalues).
            result = await connection.execute(self._statement, full)
            return set(result.scalars().all())

    async def _insert_sqlite(self, rows: list[dict[str, Any]]) -> set[str]:
        """Through the driver, a statement per hundred rows (see the module's docstring)."""
        stored: set[str] = set()
        async with self.db.sqlite_write() as driver:
            for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
                chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
                params = [convert(row[name]) for row in chunk for name, convert in self._converters]
                found = await driver.execute_fetchall(_sqlite_insert(len(chunk)), params)
                stored.update(key for (key,) in found)
        return stored


def _bind_converters(db: Database) -> list[tuple[str, Callable[[Any], Any]]]:
    """Each column's conversion as SQLAlchemy would apply it (UTCDateTime's text form on SQLite)."""
    dialect = db.engine.dialect
    table = InboxItem.__table__  # type: ignore[attr-defined]
    converters = []
    for name in _COLUMNS:
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        converters.append((name, convert or _unchanged))
    return converters


def _unchanged(value: Any) -> Any:
    return value


def _sqlite_insert(count: int) -> str:
    """COUNT rows in one INSERT; a key stored before (a redelivery) is skipped and not returned."""
    row = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO {InboxItem.__tablename__} ({', '.join(_COLUMNS)}) "
        f"VALUES {', '.join([row] * count)} "
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key"
    )


def _first_of_each_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["dedup_key"], row)
    return list(seen.values())
