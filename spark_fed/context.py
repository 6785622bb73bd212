"""Everything a service needs, built once per process: by `serve`, by `worker` and by each command.

Routes, commands and queue handlers all receive the same `Context`, so an
action behaves the same whichever door it came through.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .accounts import ensure_instance_actor
from .config import Config
from .db import Database
from .federation.actors import RemoteActors
from .federation.keys import KeyStore
from .federation.notes import RemoteNotes
from .federation.outboxes import RecentPosts
from .federation.signing import SignedClient
from .http.client import HttpClient
from .media.service import MediaService
from .media.storage import FileStore
from .models import Account
from .urls import Urls


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
async def open_context(config: Config, *, migrate: bool = True) -> AsyncIterator[Context]:
    """Connect (one line if the database is unreachable), migrate, and build the services.

    `serve` migrates in a short-lived process of its own and passes MIGRATE=False: alembic and
    its templating stack would otherwise stay loaded, ~11 MiB, in a server that never needs them.
    """
    db = Database(config.database.url)
    http = HttpClient(config)
    try:
        await db.check_connection()
        if migrate:
            from .migrations import upgrade_if_behind

            await upgrade_if_behind(db)
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
        await db.dispose()
