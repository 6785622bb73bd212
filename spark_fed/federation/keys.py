"""Public keys of remote actors, by keyId: cached, fetched when unknown, refetched on rotation.

Every limit here is there because a keyId is chosen by whoever sends the
request: a fresh keyId must not buy a fetch each time (failures are
remembered), a hundred requests with one new keyId make one fetch (single
flight), and every table is bounded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urldefrag

from sqlmodel import select

from ..activitystreams import ACTOR_TYPES, as_list
from ..keys import load_public_key
from ..models import Account
from ..singleflight import SingleFlight
from .actors import ActorNotFound, RemoteActors
from .documents import id_of, same_origin

if TYPE_CHECKING:  # cryptography is imported when a key is first loaded (spark_fed.keys)
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

CACHE_SIZE = 2048
CACHE_SECONDS = 300.0
"""How long a key is trusted from memory; after that the database is asked again, so a key
replaced by an Update that another process handled is dropped within five minutes."""
REFETCH_INTERVAL_SECONDS = 300.0
"""At most one refetch per key per 5 minutes, so bad requests cannot make Spark fetch on demand."""
FAILURE_SECONDS = 300.0
FETCH_SECONDS = 75.0
"""The longest a key fetch may take, all its steps together: the actor (or a key document and then
its owner, two requests of at most 30 s each) and storing it. Past that every waiter is refused."""


class KeyNotFound(Exception):
    """No key could be found for the keyId; the message says why."""


@dataclass(frozen=True)
class ActorKey:
    actor: Account
    public_key: PublicKeyTypes
    loaded_at: float


class _Bounded(OrderedDict):
    """An LRU mapping that forgets its oldest entry past SIZE."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class KeyStore:
    """FAILURE_SECONDS and FETCH_SECONDS are parameters so that a test need not wait minutes."""

    def __init__(
        self,
        actors: RemoteActors,
        *,
        failure_seconds: float = FAILURE_SECONDS,
        fetch_seconds: float = FETCH_SECONDS,
    ) -> None:
        self.actors = actors
        self.failure_seconds = failure_seconds
        self._cache: _Bounded = _Bounded(CACHE_SIZE)
        self._refetched: _Bounded = _Bounded(CACHE_SIZE)
        self._failed: _Bounded = _Bounded(CACHE_SIZE)
        self._fetches: SingleFlight[str, Account] = SingleFlight(timeout=fetch_seconds)

    async def get(self, key_id: str) -> ActorKey:
        cached = self._cache.get(key_id)
        if cached is not None and time.monotonic() - cached.loaded_at < CACHE_SECONDS:
            self._cache.move_to_end(key_id)
            return cached
        async with self.actors.db.read() as session:
            actor = (await session.exec(select(Account).where(Account.public_key_id == key_id))).first()
        if actor is None:
            if self.actors.is_local(key_id):
                raise KeyNotFound(f"{key_id} is not a key of this server")
            actor = await self._fetch_once(key_id)
        return self._remember(key_id, actor)

    async def refetch(self, key_id: str) -> ActorKey | None:
        """A fresh copy after a failed verify (the key may have rotated), or None if throttled."""
        now = time.monotonic()
        last = self._refetched.get(key_id)
        if self.actors.is_local(key_id) or (last is not None and now - last < REFETCH_INTERVAL_SECONDS):
            return None
        self._refetched.put(key_id, now)
        self._cache.pop(key_id, None)
        return self._remember(key_id, await self._fetch_once(key_id))

    def forget(self, actor_uri: str) -> None:
        for key_id in [k for k, v in self._cache.items() if v.actor.uri == actor_uri]:
            del self._cache[key_id]

    def _remember(self, key_id: str, actor: Account) -> ActorKey:
        if actor.public_key_id != key_id:
            raise KeyNotFound(f"{actor.uri} does not publish the key {key_id}")
        try:
            entry = ActorKey(actor, load_public_key(actor.public_key_pem), time.monotonic())
        except ValueError:
            raise KeyNotFound(f"the key {key_id} is not a valid PEM public key") from None
        self._cache.put(key_id, entry)
        return entry

    async def _fetch_once(self, key_id: str) -> Account:
        """One fetch per keyId at a time, and none for a keyId that failed in the last minutes.

        Whatever ends the fetch (an answer, a refusal, a timeout, a failed write) ends it for
        every request waiting on it; a remote failure or a timeout is remembered, a local one (the
        database) is not, so the next request tries again.
        """
        failed_at = self._failed.get(key_id)
        if failed_at is not None and time.monotonic() - failed_at[0] < self.failure_seconds:
            raise KeyNotFound(failed_at[1])
        try:
            return await self._fetches.run(key_id, lambda: self._fetch_remembering(key_id))
        except TimeoutError:
            reason = f"fetching the key {key_id} took too long"
            self._failed.put(key_id, (time.monotonic(), reason))
            raise KeyNotFound(reason) from None

    async def _fetch_remembering(self, key_id: str) -> Account:
        try:
            return await self._fetch_owner(key_id)
        except KeyNotFound as exc:
            self._failed.put(key_id, (time.monotonic(), str(exc)))
            raise

    async def _fetch_owner(self, key_id: str) -> Account:
        """The actor that owns KEY_ID, which must list the key as its own.

        The keyId is usually `<actor>#main-key`, whose fetch returns the actor;
        GoToSocial's `<actor>/main-key` returns a stub naming the owner, and
        some servers serve a standalone key document with `owner`.
        """
        url = urldefrag(key_id).url
        try:
            document = await self.actors.fetch_document(url)
            if set(as_list(document.get("type"))) & ACTOR_TYPES and document.get("id") == url:
                return await self.actors.store(document)
            owner = _owner_of(document, key_id)
            if owner is None or not same_origin(owner, key_id):
                raise KeyNotFound(f"the document at {url} names no owner for {key_id}")
            return await self.actors.fetch(owner)
        except ActorNotFound as exc:
            raise KeyNotFound(str(exc)) from None


def _owner_of(document: dict, key_id: str) -> str | None:
    if document.get("id") == key_id or "publicKeyPem" in document:
        return id_of(document.get("owner"))
    for key in as_list(document.get("publicKey")):
        if isinstance(key, dict) and key.get("id") == key_id:
            return id_of(key.get("owner")) or id_of(document.get("id"))
    return None
