"""A remote account's pinned posts, read from its `featured` collection.

When a local user follows a remote actor that publishes a `featured` collection, and whenever
Spark refreshes an actor that someone here follows, it queues a job on the inbox queue
(`queue_read`), so the read happens in the background, durably and retried like any inbox work,
never on the request that met the actor. An actor merely met (a key fetched to check a
signature, a post seen in a thread) queues nothing: a request Spark refuses stores nothing.
The job reads the collection through the guarded, signed client, takes the first `MAX_ITEMS`
notes (embedded ones as they are, like an outbox page's; ids fetched from their origin), stores
them through the remote-note path and makes them the account's pins. `Add` and `Remove` to the
collection (`inbox/featured.py`) keep them current between refreshes.
"""

import json
import logging
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ..db import Database
from ..models import Account, InboxItem, Status
from ..models.types import utcnow
from ..pins import replace_pins
from .actors import ActorNotFound, RemoteActors
from .documents import id_of
from .notes import NoteRejected, RemoteNotes

log = logging.getLogger(__name__)

MAX_ITEMS = 5
"""A collection could list anything: this many of its items are read, the rest ignored."""

REFRESH = "SparkRefreshFeatured"
"""The inbox job's `type`. A peer sending one itself only makes Spark re-read that peer's own
collection, which it may ask for anyway by updating its actor; the job's key lets one run an hour."""


def refresh_job(db: Database, actor_uri: str, now: datetime) -> Any:
    """An insert of the job that reads ACTOR_URI's collection, once per actor and hour."""
    values = {
        "dedup_key": f"{REFRESH}:{now:%Y%m%d%H}:{actor_uri}"[:2048],
        "actor_uri": actor_uri,
        "body": json.dumps({"type": REFRESH, "actor": actor_uri}),
        "created_at": now,
        "next_attempt_at": now,
    }
    return db.insert(InboxItem).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])


async def queue_read(session: AsyncSession, db: Database, account: Account) -> bool:
    """Queue the read of ACCOUNT's collection in SESSION's transaction; False if it has none."""
    if account.is_local or not account.featured_url:
        return False
    await session.exec(refresh_job(db, account.uri, utcnow()))
    return True


async def read_featured(actors: RemoteActors, notes: RemoteNotes, account: Account) -> list[Status]:
    """ACCOUNT's pinned notes as its collection lists them now; they become its pins."""
    if account.is_local or not account.featured_url:
        return []
    try:
        items = await _items(actors, account.featured_url)
    except ActorNotFound as exc:
        log.info("featured collection of %s not read: %s", account.uri, exc)
        return []
    pinned: list[Status] = []
    for item in items[:MAX_ITEMS]:
        status = await _note(notes, account, item)
        if status is not None and status.account_id == account.id and status.reblog_of_id is None:
            pinned.append(status)
    async with notes.db.write() as session:
        await replace_pins(session, account.id, [s.id for s in pinned])
    return pinned


async def _items(actors: RemoteActors, url: str) -> list[Any]:
    """The collection's items, inline or on its first page (one page only)."""
    collection = await actors.fetch_document(url)
    items = collection.get("orderedItems") or collection.get("items")
    if isinstance(items, list):
        return items
    first = collection.get("first")
    page = (
        first
        if isinstance(first, dict)
        else await actors.fetch_document(first)
        if isinstance(first, str)
        else {}
    )
    items = page.get("orderedItems") or page.get("items")
    return items if isinstance(items, list) else []


async def _note(notes: RemoteNotes, account: Account, item: Any) -> Status | None:
    try:
        if isinstance(item, dict) and item.get("type") in ("Note", "Article", "Question", "Page"):
            return await notes.ingest(item, sender=account)
        uri = id_of(item)
        return await notes.get(uri) if uri else None
    except NoteRejected as exc:
        log.info("featured item of %s not stored: %s", account.uri, exc)
        return None
