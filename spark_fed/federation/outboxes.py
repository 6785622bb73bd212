"""A remote account's latest public posts, read from its outbox.

A profile that nobody here follows would otherwise show nothing: on first
view Spark reads one page of the account's outbox (as Mastodon's "fetch
recent posts" does) and stores the public notes found there. Each account is
tried at most once an hour per process, and at most `MAX_ITEMS` are taken.
"""

import logging
from typing import Any

from ..cache import TTLCache
from ..models import Account
from .actors import ActorNotFound, RemoteActors
from .notes import NoteRejected, RemoteNotes, visibility_of

log = logging.getLogger(__name__)
MAX_ITEMS = 20
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class RecentPosts:
    def __init__(self, actors: RemoteActors, notes: RemoteNotes) -> None:
        self.actors = actors
        self.notes = notes
        self._tried: TTLCache[bool] = TTLCache(size=5_000, seconds=3600.0)

    async def fetch(self, account: Account) -> int:
        """Store ACCOUNT's latest public notes from its outbox; returns how many were new or known."""
        if account.is_local or not account.outbox_url or self._tried.get(account.uri):
            return 0
        self._tried.put(account.uri, True)
        try:
            items = await self._first_page(account.outbox_url)
        except ActorNotFound as exc:
            log.info("outbox of %s not read: %s", account.uri, exc)
            return 0
        stored = 0
        for result in await self.notes.ingest_many(_public_notes(items, account)[:MAX_ITEMS], account):
            if isinstance(result, NoteRejected):
                log.info("outbox note of %s not stored: %s", account.uri, result)
            else:
                stored += 1
        return stored

    async def _first_page(self, outbox_url: str) -> list[Any]:
        collection = await self.actors.fetch_document(outbox_url)
        items = collection.get("orderedItems") or collection.get("items")
        if isinstance(items, list):
            return items
        first = collection.get("first")
        if isinstance(first, dict):
            page = first
        elif isinstance(first, str):
            page = await self.actors.fetch_document(first)
        else:
            return []
        items = page.get("orderedItems") or page.get("items")
        return items if isinstance(items, list) else []


def _public_notes(items: list[Any], author: Account) -> list[dict[str, Any]]:
    """The notes of Create activities by AUTHOR, embedded and public (an outbox shows no others)."""
    notes = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "Create" or item.get("actor") != author.uri:
            continue
        note = item.get("object")
        if isinstance(note, dict) and visibility_of(note, author) == "public":
            notes.append(note)
    return notes
