"""The group-commit intake on the configured database (SQLite, or PostgreSQL when set).

The intake writes SQLite's batches through the driver itself, so these check what a
session would have guaranteed: the row as the ORM reads it, redeliveries dropped within
and across batches, and one bad row failing only its own request.
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from spark_fed.db import Database
from spark_fed.migrations import upgrade
from spark_fed.models import InboxItem, JobState
from spark_fed.models.types import utcnow
from spark_fed.queue import jobs
from spark_fed.queue.intake import SQLITE_ROWS_PER_STATEMENT, InboxIntake, IntakeClosed


@pytest.fixture
async def db(database_url) -> AsyncIterator[Database]:
    database = Database(await database_url())
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def intake(db: Database) -> AsyncIterator[InboxIntake]:
    writer = InboxIntake(db, on_stored=lambda: None)
    writer.start()
    yield writer
    await writer.close()


def _submit(intake: InboxIntake, key: str, recipient_id: int | None = None) -> "asyncio.Task[bool]":
    return asyncio.ensure_future(
        intake.submit(
            dedup_key=key, actor_uri="https://r.example/users/a", recipient_id=recipient_id, body="{}"
        )
    )


async def _rows(db: Database) -> list[InboxItem]:
    async with db.read() as session:
        return list((await session.exec(select(InboxItem).order_by(InboxItem.id))).all())


async def test_a_submitted_row_is_committed_and_claimable(db: Database, intake: InboxIntake) -> None:
    before = utcnow()
    assert await _submit(intake, "k1", recipient_id=None) is True
    [row] = await _rows(db)
    assert (row.dedup_key, row.actor_uri, row.body, row.recipient_id) == (
        "k1",
        "https://r.example/users/a",
        "{}",
        None,
    )
    assert row.state == JobState.QUEUED and row.attempts == 0 and row.locked_until is None
    assert row.created_at.tzinfo is not None and before <= row.created_at <= utcnow()
    assert row.next_attempt_at == row.created_at
    [claimed] = await jobs.claim(db, InboxItem, 10)
    assert claimed.id == row.id


async def test_redeliveries_are_dropped_within_and_across_batches(db: Database, intake: InboxIntake) -> None:
    together = [_submit(intake, key) for key in ("a", "b", "a", "c", "b")]
    assert await asyncio.gather(*together) == [True, True, False, True, False]
    assert await asyncio.gather(_submit(intake, "a"), _submit(intake, "d")) == [False, True]
    assert [row.dedup_key for row in await _rows(db)] == ["a", "b", "c", "d"]


async def test_a_batch_larger_than_one_statement(db: Database, intake: InboxIntake) -> None:
    count = SQLITE_ROWS_PER_STATEMENT * 2 + 7
    results = await asyncio.gather(*(_submit(intake, f"k{i}") for i in range(count)))
    assert results == [True] * count
    assert len(await _rows(db)) == count


async def test_one_bad_row_fails_only_its_own_request(db: Database, intake: InboxIntake) -> None:
    good, bad = _submit(intake, "good"), _submit(intake, "bad", recipient_id=999_999)  # no such account
    assert await good is True
    with pytest.raises((sqlite3.IntegrityError, IntegrityError)):  # SQLite's comes from the driver itself
        await bad
    assert [row.dedup_key for row in await _rows(db)] == ["good"]


async def test_the_writer_outlives_a_failure_after_its_commit(db: Database) -> None:
    """A batch whose follow-up fails still answers its requests, and the next batch is written."""
    calls = 0

    def on_stored() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the wake-up failed")

    writer = InboxIntake(db, on_stored=on_stored)
    writer.start()
    try:
        async with asyncio.timeout(10):
            first = await asyncio.gather(
                *(_submit(writer, f"a{i}") for i in range(5)), return_exceptions=True
            )
            assert all(result is True or isinstance(result, RuntimeError) for result in first), first
            assert await _submit(writer, "after") is True
    finally:
        await writer.close()
    assert calls >= 2 and "after" in {row.dedup_key for row in await _rows(db)}


async def test_stopping_answers_every_waiting_request(db: Database) -> None:
    writer = InboxIntake(db, on_stored=lambda: None)
    writer.start()
    waiting = [_submit(writer, f"w{i}") for i in range(20)]
    await asyncio.sleep(0)  # one turn: the requests are queued, the writer has not run yet
    await writer.close()
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(outcome is True or isinstance(outcome, IntakeClosed) for outcome in outcomes), outcomes
    assert any(isinstance(outcome, IntakeClosed) for outcome in outcomes)
    with pytest.raises(IntakeClosed):
        await _submit(writer, "late")
