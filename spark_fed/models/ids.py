"""Time-ordered ids for statuses, notifications and media, unique by construction.

Mastodon's ids are snowflakes: milliseconds since the epoch in the high bits, so that sorting
by id sorts by time and a page of a timeline is a range scan on the primary key. A remote note
or an imported post keeps its own published time here, so it sorts where it belongs rather
than where it happened to arrive.

The low 16 bits are not drawn at random (two notes of one millisecond would then collide one
time in 65,536 pairs, and a relay's burst, a backfill or an archive of second-precision tweets
puts thousands of statuses on one millisecond). They count: `id_counters` holds, per
millisecond, how many ids it has handed out, and an id is taken by one upsert of that row
inside the transaction that inserts it. Two transactions cannot take the same number: SQLite
runs one write transaction at a time, and on PostgreSQL the upsert locks the row until the
taker commits or rolls back (a rolled-back number is taken again, never twice by committed
rows). A millisecond's 65,536 numbers used up, its ids go on in the next millisecond, through
that one's counter: still unique, a millisecond late.

Ids are assigned when the session flushes (`assign_ids`, wired by `spark_fed.db`), so no
caller can forget them; `new_ids` is for a caller that needs an id before its row exists
(a local status's URL holds it). The migration that created the counters seeded them with the
ids stored before, which had random low bits: new ids go above them.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, Integer
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from .types import utcnow

LOW_BITS = 16
PER_MILLISECOND = 1 << LOW_BITS


#: Counters for ids that went in without them (random low bits before the counters existed, or
#: a benchmark's rows written straight to the tables): each starts above what is stored.
COUNT_STORED_IDS = (
    "INSERT INTO id_counters (millis, used) "
    "SELECT id >> 16, max(id & 65535) + 1 FROM ("
    " SELECT id FROM statuses UNION ALL SELECT id FROM notifications"
    " UNION ALL SELECT id FROM media_attachments"
    ") AS stored GROUP BY id >> 16"
)


class IdCounter(SQLModel, table=True):
    """How many ids of one millisecond have been handed out."""

    __tablename__ = "id_counters"

    millis: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    used: int = Field(sa_column=Column(Integer, nullable=False))


class Snowflaked:
    """A table whose `id` is a snowflake of the time in the column named by `snowflake_time`."""

    snowflake_time: ClassVar[str]


def millis_of(moment: datetime) -> int:
    return max(int(moment.timestamp() * 1000), 0)


def snowflake_floor(moment: datetime) -> int:
    """The smallest id of MOMENT: a cursor for "older than this time"."""
    return millis_of(moment) << LOW_BITS


def allocate(connection: Connection, millis: int, count: int = 1) -> list[int]:
    """COUNT new ids of MILLIS, in order, inside CONNECTION's transaction."""
    from ..db import dialect_insert

    ids: list[int] = []
    while count:
        insert = dialect_insert(connection.dialect.name, IdCounter).values(millis=millis, used=count)
        upsert = insert.on_conflict_do_update(
            index_elements=["millis"], set_={"used": IdCounter.used + insert.excluded.used}
        ).returning(IdCounter.used)
        used = connection.execute(upsert).scalar_one()
        start = used - count
        taken = max(min(count, PER_MILLISECOND - start), 0)
        ids += [(millis << LOW_BITS) | low for low in range(start, start + taken)]
        count -= taken
        millis += 1  # this millisecond is full: the rest come from the next one's counter
    return ids


async def new_ids(session: AsyncSession, moment: datetime | None = None, count: int = 1) -> list[int]:
    """COUNT ids of MOMENT (now by default) taken in SESSION's write transaction."""
    millis = millis_of(moment or utcnow())
    return await session.run_sync(lambda sync: allocate(sync.connection(), millis, count))


async def new_id(session: AsyncSession, moment: datetime | None = None) -> int:
    return (await new_ids(session, moment))[0]


async def number(session: AsyncSession, rows: Iterable[Any]) -> None:
    """Give ROWS their ids now, before they are flushed: when one row must name another's id."""
    unnumbered = list(_unnumbered(rows))
    if unnumbered:
        await session.run_sync(lambda sync: _number(sync.connection(), unnumbered))


def assign_ids(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """Before a flush: every new snowflaked row without an id gets one of its own time."""
    unnumbered = list(_unnumbered(session.new))
    if unnumbered:
        _number(session.connection(), unnumbered)


def _number(connection: Connection, rows: list[Any]) -> None:
    """One counter upsert per millisecond among ROWS, in increasing order of milliseconds."""
    by_millis: dict[int, list[Any]] = {}
    for row in rows:
        moment = getattr(row, type(row).snowflake_time, None) or utcnow()
        by_millis.setdefault(millis_of(moment), []).append(row)
    for millis in sorted(by_millis):
        same = by_millis[millis]
        for row, row_id in zip(same, allocate(connection, millis, len(same)), strict=True):
            row.id = row_id


def _unnumbered(rows: Iterable[Any]) -> Iterable[Any]:
    return (row for row in rows if isinstance(row, Snowflaked) and row.id is None)
