"""Everything a service needs, built once per process: by `serve`, by `worker` and by each command.

Routes, commands and queue handlers all receive the same `Context`, so an
action behaves the same whichever door it came through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .db import Database
from .urls import Urls

if TYPE_CHECKING:  # built in open_context: a command that never opens one never imports them
    from .federation.actors import RemoteActors
    from .federation.keys import KeyStore
    from .federation.notes import RemoteNotes
    from .federation.outboxes import RecentPosts
    from .federation.signing import SignedClient
    from .http.client import HttpClient
    from .media.service import MediaService
    from .models import Account


@dataclass
class Context:
    config: Config
    db: Database
    urls: Urls
    http: HttpClient
    signed: SignedClient
    actors: RemoteActors
    keys: KeyStore
    notes: RemoteNotes
    recent_posts: RecentPosts
    media: MediaService
    instance_actor: Account
    # Called after deliveries are queued: wakes an in-process worker (a command has none; the
    # server's workers then find the rows at their next poll).
    deliveries_queued: Callable[[], None] = field(default=lambda: None)
    inbox_stored: Callable[[], None] = field(default=lambda: None)


@asynccontextmanager
async def open_database(config: Config, *, migrate: bool = True) -> AsyncIterator[Database]:
    """Connect (one line if the database is unreachable) and migrate if behind; no services.

    For commands that only read or write rows (`users list`): they import none of the HTTP,
    federation and media code a full context needs, and start in a fraction of the time.
    """
    db = Database(config.database.url)
    try:
        await db.check_connection()
        if migrate:
            from .migrations import upgrade_if_behind

            await upgrade_if_behind(db)
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def open_context(config: Config, *, migrate: bool = True) -> AsyncIterator[Context]:
    """The database (as `open_database`) and every service built on it.

    `serve` migrates in a short-lived process of its own and passes MIGRATE=False: alembic and
    its templating stack would otherwise stay loaded, ~11 MiB, in a server that never needs them.
    """
    from .accounts import ensure_instance_actor
    from .federation.actors import RemoteActors
    from .federation.keys import KeyStore
    from .federation.notes import RemoteNotes
    from .federation.outboxes import RecentPosts
    from .federation.signing import SignedClient
    from .http.client import HttpClient
    from .media.service import MediaService
    from .media.storage import FileStore

    async with open_database(config, migrate=migrate) as db:
        http = HttpClient(config)
        try:
            urls = Urls(config)
            instance_actor = await ensure_instance_actor(db, urls)
            signed = SignedClient(http)
            actors = RemoteActors(db, signed, config, instance_actor)
            notes = RemoteNotes(db, actors)
            media = MediaService(db, FileStore(Path(config.media.path)), config.media, http)
            yield Context(
                config=config,
                db=db,
                urls=urls,
                http=http,
                signed=signed,
                actors=actors,
                keys=KeyStore(actors),
                notes=notes,
                recent_posts=RecentPosts(actors, notes),
                media=media,
                instance_actor=instance_actor,
            )
        finally:
            await http.close()
