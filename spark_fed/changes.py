"""The change channel: what changed, told to every process that serves the same database.

A write that other processes must learn of at once (a domain block, a suspension, a revoked
token, an ended browser session; later the events of the streaming API) publishes a `Change`
inside its own transaction with `publish(session, kind, ids)`: a kind and the ids concerned,
never rendered content, so that each reader loads what it may see itself. The change is told

- to this process's subscribers right after the commit (`Database.write` hands it over), and
  never after a rollback;
- to every other process that listens (`serve`, `worker`; a one-off command only publishes):
  on PostgreSQL by `NOTIFY spark_changes`, sent in the writing transaction so that PostgreSQL
  delivers it on commit, heard on one dedicated `LISTEN` connection that reconnects when it
  drops; on SQLite by a row in `changes`, which a listener reads every `POLL_SECONDS` with one
  query on the primary key (`id > last`, at most `POLL_BATCH` rows); writers prune all but the
  newest `KEEP` rows.

A listener that may have missed something (it reconnected, rows were pruned before it read
them, a subscriber's queue overflowed) tells the subscribers concerned `Kind.RESYNC`: reload
whatever you keep. Each subscriber has a bounded queue of its own; a publisher never waits for one.
"""

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import ChangeMarker

if TYPE_CHECKING:
    from .db import Database

log = logging.getLogger(__name__)

CHANNEL = "spark_changes"
POLL_SECONDS = 0.2
POLL_BATCH = 500
KEEP = 1000
QUEUE_SIZE = 1000
# A NOTIFY payload holds at most 8000 bytes: a change naming more ids than fit names none.
MAX_PAYLOAD = 7000
# How often an idle LISTEN connection is checked, so that a connection dead without a word
# (a network partition, a killed proxy) is noticed and replaced.
KEEPALIVE_SECONDS = 15.0
RECONNECT_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
# The session.info keys `Database.write` and `publish` share.
CHANNEL_OF_SESSION = "spark_changes"
PUBLISHED = "spark_changes_published"

Id = int | str


class Kind(StrEnum):
    """What changed; the ids say which rows (none: any of that kind)."""

    RESYNC = "resync"  # something may have been missed: reload everything kept
    DOMAIN_BLOCKS = "domain_blocks"  # the domains whose block was made, changed or lifted
    ACCOUNTS = "accounts"  # accounts suspended, silenced, or let off either
    TOKENS = "tokens"  # access tokens revoked
    SESSIONS = "sessions"  # browser sessions ended
    STATUSES = "statuses"  # statuses whose shown parts changed (a link card arrived)


@dataclass(frozen=True)
class Change:
    kind: Kind
    ids: tuple[Id, ...] = ()

    def encode(self, origin: str) -> str:
        return json.dumps({"o": origin, "k": self.kind.value, "i": list(self.ids)}, separators=(",", ":"))


def _change_of(kind: object, ids: object) -> Change | None:
    """The change a payload or marker names; None for one this version cannot read (a newer kind)."""
    if not isinstance(ids, list) or not all(isinstance(i, int | str) for i in ids):
        return None
    try:
        return Change(Kind(kind), tuple(ids))
    except ValueError:
        return None


async def publish(session: AsyncSession, kind: Kind, ids: Iterable[Id] = ()) -> None:
    """Tell every process, once SESSION's transaction commits, that the rows IDS of KIND changed."""
    channel: Changes | None = session.info.get(CHANNEL_OF_SESSION)
    if channel is None:
        raise RuntimeError("changes are published inside Database.write()")
    await channel.record(session, Change(kind, tuple(ids)))


class Subscription:
    """One reader's bounded queue of changes, in the order they were told; iterate it, or `get`."""

    def __init__(self, channel: "Changes", kinds: frozenset[Kind] | None, size: int) -> None:
        self._channel = channel
        self._kinds = kinds
        self._queue: asyncio.Queue[Change] = asyncio.Queue(size)

    def offer(self, change: Change) -> None:
        if self._kinds is not None and change.kind not in self._kinds and change.kind != Kind.RESYNC:
            return
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            # Too far behind to catch up change by change: drop the backlog, say so once.
            self.pending()
            self._queue.put_nowait(Change(Kind.RESYNC))

    async def get(self) -> Change:
        return await self._queue.get()

    def pending(self) -> list[Change]:
        """What is waiting now, without waiting (a reader that reloads once for a burst)."""
        waiting = []
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        return waiting

    def close(self) -> None:
        self._channel._subscribers.discard(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Change:
        return await self.get()


class Changes:
    """One database's channel in this process: `Database.changes`."""

    def __init__(self, db: "Database") -> None:
        self.db = db
        # Tells this process's own changes apart from the others' when they come back.
        self.origin = secrets.token_hex(8)
        self._subscribers: set[Subscription] = set()

    def subscribe(self, kinds: Iterable[Kind] | None = None, *, size: int = QUEUE_SIZE) -> Subscription:
        """A queue of the changes of KINDS (all without), and always of `Kind.RESYNC`."""
        subscription = Subscription(self, frozenset(kinds) if kinds is not None else None, size)
        self._subscribers.add(subscription)
        return subscription

    async def record(self, session: AsyncSession, change: Change) -> None:
        """`publish`'s work: the NOTIFY or the marker in SESSION's transaction, the rest at commit."""
        payload = change.encode(self.origin)
        if len(payload.encode("utf-8")) > MAX_PAYLOAD:
            change = Change(change.kind)
            payload = change.encode(self.origin)
        if self.db.is_sqlite:
            ids = json.dumps(list(change.ids), separators=(",", ":"))
            marker = insert(ChangeMarker).values(kind=change.kind.value, ids=ids, origin=self.origin)
            await session.exec(marker)
            newest = select(func.max(ChangeMarker.id)).scalar_subquery()
            await session.exec(delete(ChangeMarker).where(col(ChangeMarker.id) <= newest - KEEP))
        else:
            await session.exec(select(func.pg_notify(CHANNEL, payload)))
        session.info.setdefault(PUBLISHED, []).append(change)

    def committed(self, session: AsyncSession) -> None:
        """SESSION's transaction committed: tell this process what it published."""
        for change in session.info.pop(PUBLISHED, ()):
            self._tell(change)

    def _tell(self, change: Change) -> None:
        for subscription in list(self._subscribers):
            subscription.offer(change)

    def _heard(self, origin: object, kind: object, ids: object) -> None:
        if origin == self.origin:
            return  # told to this process's subscribers at its commit
        change = _change_of(kind, ids)
        if change is None:
            log.debug("ignoring a change this version does not know: %.100r", kind)
            return
        self._tell(change)

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Hear the other processes' changes while the block runs.

        Entered, the channel is listening already (the first connection, or the first marker,
        is in hand): what a caller loads after entering cannot miss a change made after it."""
        if self.db.is_sqlite:
            last = await self._newest_marker()
            task = asyncio.create_task(self._poll(last), name="changes-poll")
        else:
            connection = await self._listen()
            task = asyncio.create_task(self._stay_listening(connection), name="changes-listen")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- SQLite: the marker table --------------------------------------------------------------

    async def _newest_marker(self) -> int:
        async with self.db.engine.connect() as conn:
            return (await conn.execute(select(func.coalesce(func.max(ChangeMarker.id), 0)))).scalar_one()

    async def _poll(self, last: int) -> None:
        missed = False
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                while True:
                    rows = await self._markers_after(last)
                    if missed or (rows and rows[0][0] != last + 1):
                        self._tell(Change(Kind.RESYNC))
                        missed = False
                    for marker_id, kind, ids, origin in rows:
                        last = marker_id
                        self._heard(origin, kind, json.loads(ids))
                    if len(rows) < POLL_BATCH:
                        break
            except (SQLAlchemyError, OSError, ValueError) as exc:
                # ValueError: a marker whose ids are not JSON, skipped. Either way, reload it all.
                log.warning("reading the change markers failed: %s", exc)
                missed = True

    async def _markers_after(self, last: int) -> list[Any]:
        query = (
            select(ChangeMarker.id, ChangeMarker.kind, ChangeMarker.ids, ChangeMarker.origin)
            .where(col(ChangeMarker.id) > last)
            .order_by(col(ChangeMarker.id))
            .limit(POLL_BATCH)
        )
        async with self.db.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    # --- PostgreSQL: LISTEN on a connection of its own ---------------------------------------------

    async def _listen(self) -> AsyncConnection:
        """A pool connection that LISTENs; it never goes back to the pool (see `_stay_listening`)."""
        connection = await self.db.engine.connect()
        try:
            driver = (await connection.get_raw_connection()).driver_connection
            await driver.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            await connection.invalidate()
            await connection.close()
            raise
        return connection

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
            self._heard(data["o"], data["k"], data["i"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed change: %.200s", payload)

    async def _stay_listening(self, connection: AsyncConnection) -> None:
        attempt = 0
        while True:
            try:
                await self._watch(connection)
            except Exception as exc:  # asyncpg's errors too: whatever it was, connect again
                log.warning("the change channel's connection failed: %s", exc)
            finally:
                # Closed, never pooled: a pooled connection would keep LISTENing for a dead callback.
                with contextlib.suppress(Exception):
                    await connection.invalidate()
                    await connection.close()
            while True:
                await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
                attempt += 1
                try:
                    connection = await self._listen()
                    break
                except Exception as exc:  # the database down or refusing: try again later
                    log.warning("the change channel cannot reconnect yet: %s", exc)
            attempt = 0
            # Whatever was committed while no connection listened is unknown: reload it all.
            self._tell(Change(Kind.RESYNC))

    async def _watch(self, connection: AsyncConnection) -> None:
        """Return when the connection is lost; check it every `KEEPALIVE_SECONDS`."""
        driver = (await connection.get_raw_connection()).driver_connection
        lost = asyncio.Event()
        driver.add_termination_listener(lambda _conn: lost.set())
        while not driver.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
            if lost.is_set() or driver.is_closed():
                return
            await asyncio.wait_for(driver.execute("SELECT 1"), KEEPALIVE_SECONDS)
