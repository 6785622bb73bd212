"""The async database engine, with the settings each backend needs to be safe.

SQLite is the embedded default and needs care that PostgreSQL does not:
WAL so that readers never wait for the writer, a busy timeout so that a
second writer waits instead of failing, and `BEGIN IMMEDIATE` for any
transaction that will write, because a deferred transaction that reads first
and writes later fails with 'database is locked' when another writer got in
between. `Database.write()` is the one way to open such a transaction.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from .changes import CHANNEL_OF_SESSION, Changes
from .errors import ConfigError
from .models.ids import assign_ids

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_ANALYSIS_LIMIT = 1000
"""Rows ANALYZE samples per index when `PRAGMA optimize` runs it."""
SQLITE_OPTIMIZE_EVERY_S = 3600
"""How often a pooled connection of a long-running process runs `PRAGMA optimize`."""
_OPTIMIZED_AT = "spark_optimized_at"
_WRITE_OPTION = "spark_write"


class _Session(Session):
    """Spark's sessions: every new status, notification or media row gets its id as it is
    flushed, from the counters of `spark_fed.models.ids`, in the flushing transaction."""


event.listen(_Session, "before_flush", assign_ids)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = _create_engine(url)
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._read = async_sessionmaker(
            self.engine, class_=AsyncSession, sync_session_class=_Session, expire_on_commit=False
        )
        self._write = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}),
            class_=AsyncSession,
            sync_session_class=_Session,
            expire_on_commit=False,
        )
        self.changes = Changes(self)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; it never takes the write lock."""
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits on success and rolls back on any error.

        On SQLite the writers of this process take turns on an asyncio lock before BEGIN
        IMMEDIATE: waiting on SQLite's own lock means its busy handler's sleeps (1, 2, 5, ...
        ms), during which the group commit and everyone behind it stand still.

        What the transaction published (`spark_fed.changes.publish`) is told to this process's
        subscribers once it has committed.
        """
        if not self.is_sqlite:
            async with self._write() as session:
                session.info[CHANNEL_OF_SESSION] = self.changes
                async with session.begin():
                    yield session
            self.changes.committed(session)
            return
        async with self._writer_lock(), self._write() as session:
            session.info[CHANNEL_OF_SESSION] = self.changes
            async with session.begin():
                yield session
        self.changes.committed(session)

    @asynccontextmanager
    async def sqlite_write(self) -> AsyncIterator[Any]:
        """A write transaction on SQLite driven through aiosqlite's own connection.

        For the group commit, the hottest write there is: through a session a transaction
        costs nine thread hops (a cursor, an execute and a close for BEGIN alone), and while
        they run every request waiting for that commit waits too. The driver runs each
        statement in one hop: BEGIN IMMEDIATE, the caller's statements, COMMIT. The writer
        lock is the same as `write()`'s, and any error rolls the transaction back.
        """
        async with self._writer_lock(), self.engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            await driver.execute_fetchall("BEGIN IMMEDIATE")
            try:
                yield driver
            except BaseException:
                await driver.rollback()
                raise
            await driver.commit()

    def _writer_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def check_connection(self) -> None:
        """Fail early, with one line, when the database cannot be reached."""
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (OperationalError, DBAPIError, OSError) as exc:
            raise ConfigError(f"cannot open database {self.safe_url}: {_first_line(exc)}") from None

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    async def dispose(self) -> None:
        await self.engine.dispose()

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ON CONFLICT; a server on SQLite never loads PostgreSQL's."""
        return dialect_insert(self.engine.dialect.name, table)


def dialect_insert(dialect_name: str, table: Any) -> Any:
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table)


def _create_engine(url: str) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    database = make_url(url).database
    if database and database != ":memory:":
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the database directory for {database}: {exc.strerror}"
            ) from None
    # A fixed pool: each aiosqlite connection is a thread, and opening overflow connections
    # under load costs more than waiting a moment for a pooled one.
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=16,
        max_overflow=0,
        pool_timeout=30,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    event.listen(engine.sync_engine, "checkout", _sqlite_on_checkout)
    event.listen(engine.sync_engine, "close", _sqlite_on_close)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, record: Any) -> None:
    # Take transaction control away from the driver so that _sqlite_on_begin
    # decides between a deferred and an immediate BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Statistics for the planner, as SQLite's documentation recommends for a connection that
    # lives long: `PRAGMA optimize=0x10002` when it opens, `PRAGMA optimize` now and then while it
    # lives (`_sqlite_on_checkout`) and when it closes (`_sqlite_on_close`, which covers the
    # short-lived connections of a command). The analysis limit bounds each ANALYZE it runs to a
    # sample, so it costs milliseconds however big the tables are.
    cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
    cursor.execute("PRAGMA optimize=0x10002")
    cursor.close()
    record.info[_OPTIMIZED_AT] = time.monotonic()


def _sqlite_optimize(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA optimize")
    finally:
        cursor.close()


def _sqlite_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if time.monotonic() - record.info.get(_OPTIMIZED_AT, 0.0) >= SQLITE_OPTIMIZE_EVERY_S:
        record.info[_OPTIMIZED_AT] = time.monotonic()
        _sqlite_optimize(dbapi_connection)


def _sqlite_on_close(dbapi_connection: Any, _record: Any) -> None:
    # Best effort: a connection closed because it broke cannot run it, and that must not stop
    # the close.
    with contextlib.suppress(Exception):
        _sqlite_optimize(dbapi_connection)


def _sqlite_on_begin(conn: Connection) -> None:
    # Reads run in autocommit (each statement sees a consistent snapshot of its own): every
    # statement costs a thread hop through aiosqlite, and a BEGIN for a read buys nothing.
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip() or type(original).__name__
    return text.splitlines()[0]
