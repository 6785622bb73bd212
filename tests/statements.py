"""Counting the SQL statements a request handler sends, for the tests that hold a page's cost fixed.

SQLAlchemy's `before_cursor_execute` event on Spark's engine sees every statement, including
those of the queue workers and of the change channel's poll, which run on their own timers; only
statements sent from aiohttp's request-handler task are the page's own."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def _in_request_handler() -> bool:
    task = asyncio.current_task()
    return task is not None and "RequestHandler" in getattr(task.get_coro(), "__qualname__", "")


@contextmanager
def request_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements request handlers send to ENGINE while the block runs, in order."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _in_request_handler():
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
