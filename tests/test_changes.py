"""The change channel between processes that share a database.

Two `Database` objects on one database stand for two processes: each has a channel of its own
(its own origin, its own listener), as `serve` and a `spark-fed` command would. The tests of
moderation in force at once run the real command in another process (test_changes_in_force.py).
"""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import func, insert
from sqlalchemy.engine import make_url
from sqlmodel import select

from spark_fed.changes import KEEP, MAX_PAYLOAD, Change, Kind, Subscription, publish
from spark_fed.db import Database
from spark_fed.migrations import upgrade
from spark_fed.models import ChangeMarker

from .conftest import PG_URL, _asyncpg_dsn, eventually


@pytest.fixture
async def two(database_url) -> AsyncIterator[tuple[Database, Database]]:
    url = await database_url()
    first, second = Database(url), Database(url)
    await upgrade(first)
    yield first, second
    await first.dispose()
    await second.dispose()


async def _heard(subscription: Subscription, count: int) -> list[Change]:
    """COUNT changes from SUBSCRIPTION, waiting at most a second for all of them."""
    got: list[Change] = []

    async def enough() -> bool:
        got.extend(subscription.pending())
        return len(got) >= count

    await eventually(enough, timeout=1.0, what=f"{count} changes")
    return got


async def _publish(db: Database, kind: Kind, *ids: int | str) -> None:
    async with db.write() as session:
        await publish(session, kind, ids)


async def test_changes_reach_every_subscriber_in_order_once_and_only_when_committed(two) -> None:
    server, command = two
    async with server.changes.listening(), command.changes.listening():
        everything = server.changes.subscribe()
        tokens_only = server.changes.subscribe({Kind.TOKENS})
        own = command.changes.subscribe()
        await _publish(command, Kind.DOMAIN_BLOCKS, "spam.example")
        with pytest.raises(LookupError):
            async with command.write() as session:
                await publish(session, Kind.TOKENS, [666])
                raise LookupError("rolled back")
        await _publish(command, Kind.TOKENS, 7, 8)
        await _publish(command, Kind.ACCOUNTS, 3)
        expected = [
            Change(Kind.DOMAIN_BLOCKS, ("spam.example",)),
            Change(Kind.TOKENS, (7, 8)),
            Change(Kind.ACCOUNTS, (3,)),
        ]
        assert await _heard(everything, 3) == expected
        assert await _heard(tokens_only, 1) == [Change(Kind.TOKENS, (7, 8))]
        # The publisher's own subscribers heard it at the commit, and not a second time from its
        # own listener: a change from the other side, heard after, is the next thing they get.
        assert own.pending() == expected
        await _publish(server, Kind.SESSIONS, 5)
        assert await _heard(own, 1) == [Change(Kind.SESSIONS, (5,))]
        assert await _heard(everything, 1) == [Change(Kind.SESSIONS, (5,))]
        assert tokens_only.pending() == []


async def test_a_change_naming_too_many_ids_names_none(two) -> None:
    server, command = two
    many = [f"host-{n}.example" for n in range(MAX_PAYLOAD // 10)]
    async with server.changes.listening():
        heard = server.changes.subscribe()
        await _publish(command, Kind.DOMAIN_BLOCKS, *many)
        assert await _heard(heard, 1) == [Change(Kind.DOMAIN_BLOCKS)]


async def test_a_full_queue_drops_its_backlog_for_one_resync_and_never_blocks(two) -> None:
    server, _ = two
    slow = server.changes.subscribe(size=2)
    for n in range(5):
        await _publish(server, Kind.ACCOUNTS, n)
    waiting = slow.pending()
    assert waiting[-1] == Change(Kind.RESYNC) and len(waiting) <= 2
    slow.close()
    await _publish(server, Kind.ACCOUNTS, 9)
    assert slow.pending() == []


@pytest.mark.skipif(PG_URL is not None, reason="the marker table is SQLite's channel")
async def test_sqlite_listener_that_missed_pruned_markers_resyncs(two) -> None:
    server, command = two
    async with server.changes.listening():
        heard = server.changes.subscribe()
        await _publish(command, Kind.ACCOUNTS, 1)
        assert await _heard(heard, 1) == [Change(Kind.ACCOUNTS, (1,))]
        # Rows the listener never read were pruned: the next one it reads is not the one after.
        async with command.write() as session:
            newest = (await session.exec(select(func.max(ChangeMarker.id)))).one()
            await session.exec(
                insert(ChangeMarker).values(id=newest + 5, kind="accounts", ids="[2]", origin="x")
            )
        assert await _heard(heard, 2) == [Change(Kind.RESYNC), Change(Kind.ACCOUNTS, (2,))]
        # A marker it cannot read is skipped, and said so; the listener goes on.
        async with command.write() as session:
            await session.exec(insert(ChangeMarker).values(kind="accounts", ids="[3", origin="x"))
        await _publish(command, Kind.ACCOUNTS, 4)
        assert await _heard(heard, 2) == [Change(Kind.RESYNC), Change(Kind.ACCOUNTS, (4,))]
    # Writers keep the newest KEEP markers only.
    for n in range(3):
        await _publish(command, Kind.ACCOUNTS, n)
    async with command.read() as session:
        ids = list((await session.exec(select(ChangeMarker.id))).all())
    assert len(ids) <= KEEP + 1


@pytest.mark.skipif(PG_URL is None, reason="LISTEN/NOTIFY is PostgreSQL's channel")
async def test_postgres_listener_reconnects_and_resyncs(two) -> None:
    server, command = two
    async with server.changes.listening():
        heard = server.changes.subscribe()
        await _publish(command, Kind.TOKENS, 1)
        assert await _heard(heard, 1) == [Change(Kind.TOKENS, (1,))]
        name = make_url(server.url).database
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL, name or "postgres"))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = $1 AND query LIKE 'LISTEN%'",
                name,
            )
        finally:
            await admin.close()
        assert killed == 1
        assert await _heard(heard, 1) == [Change(Kind.RESYNC)]

        async def heard_again() -> bool:
            # Published until the new connection listens; each one is heard once it does.
            await _publish(command, Kind.TOKENS, 2)
            return Change(Kind.TOKENS, (2,)) in heard.pending()

        await eventually(heard_again, timeout=2.0, what="a change after the reconnect")
