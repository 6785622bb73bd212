"""The storage layer on the configured database (SQLite, or PostgreSQL when set)."""

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import select

from spark_fed.db import Database
from spark_fed.migrations import current_revision, head_revision, upgrade
from spark_fed.models import Account


def _account(n: int, created: datetime | None = None) -> Account:
    return Account(
        uri=f"https://r.example/users/u{n}",
        username=f"u{n}",
        domain="r.example",
        inbox_url=f"https://r.example/users/u{n}/inbox",
        public_key_id=f"https://r.example/users/u{n}#main-key",
        public_key_pem="pem",
        **({"created_at": created} if created else {}),
    )


async def test_migrations_reach_head_and_rerun(database_url) -> None:
    db = Database(await database_url())
    try:
        assert await current_revision(db) is None
        await upgrade(db)
        await upgrade(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_datetimes_come_back_aware_utc(database_url) -> None:
    db = Database(await database_url())
    try:
        await upgrade(db)
        paris = timezone(timedelta(hours=1))
        moment = datetime(2026, 6, 1, 12, 30, 15, 123456, tzinfo=paris)
        async with db.write() as session:
            session.add(_account(1, created=moment))
        async with db.read() as session:
            stored = (await session.exec(select(Account))).one()
        assert stored.created_at.tzinfo is UTC
        assert stored.created_at == moment
        assert stored.created_at.hour == 11
    finally:
        await db.dispose()


async def test_concurrent_read_then_write_transactions_all_succeed(database_url) -> None:
    """Deferred transactions that read then write fail with 'database is locked' on SQLite."""
    db = Database(await database_url())
    try:
        await upgrade(db)

        async def read_then_write(n: int) -> None:
            async with db.write() as session:
                (await session.exec(select(Account).where(Account.username == f"u{n}"))).first()
                await asyncio.sleep(0)
                session.add(_account(n))

        await asyncio.gather(*(read_then_write(n) for n in range(40)))
        async with db.read() as session:
            assert len((await session.exec(select(Account))).all()) == 40
    finally:
        await db.dispose()


async def test_failed_write_stores_nothing(database_url) -> None:
    db = Database(await database_url())
    try:
        await upgrade(db)
        try:
            async with db.write() as session:
                session.add(_account(1))
                await session.flush()
                raise RuntimeError("half-way")
        except RuntimeError:
            pass
        async with db.read() as session:
            assert (await session.exec(select(Account))).all() == []
    finally:
        await db.dispose()


async def test_sqlite_gathers_planner_statistics_when_a_connection_closes(tmp_path) -> None:
    """`PRAGMA optimize` on close: a table the connection searched by an index gets statistics
    (sqlite_stat1) without anyone running ANALYZE. SQLite only; PostgreSQL's autovacuum does it."""
    path = tmp_path / "stats.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        async with db.write() as session:
            session.add_all(_account(n) for n in range(50))
        async with db.read() as session:
            found = await session.exec(select(Account).where(Account.public_key_id == "https://r.example/u1"))
            assert found.first() is None
    finally:
        await db.dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert "accounts" in tables
