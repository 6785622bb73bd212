"""Public keys of remote actors, by keyId: cached, fetched when unknown, refetched on rotation."""

import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urldefrag

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from sqlmodel import select

from ..activitystreams import ACTOR_TYPES, as_list
from ..keys import load_public_key
from ..models import Account
from .actors import ActorNotFound, RemoteActors
from .documents import id_of, same_origin

CACHE_SIZE = 2048
REFETCH_INTERVAL_SECONDS = 300.0
"""At most one refetch per key per 5 minutes, so bad requests cannot make Spark fetch on demand."""


class KeyNotFound(Exception):
    """No key could be found for the keyId; the message says why."""


@dataclass(frozen=True)
class ActorKey:
    actor: Account
    public_key: PublicKeyTypes


class KeyStore:
    def __init__(self, actors: RemoteActors) -> None:
        self.actors = actors
        self._cache: OrderedDict[str, ActorKey] = OrderedDict()
        self._refetched: OrderedDict[str, float] = OrderedDict()

    async def get(self, key_id: str) -> ActorKey:
        cached = self._cache.get(key_id)
        if cached is not None:
            self._cache.move_to_end(key_id)
            return cached
        async with self.actors.db.read() as session:
            actor = (await session.exec(select(Account).where(Account.public_key_id == key_id))).first()
        if actor is None:
            actor = await self._fetch_owner(key_id)
        return self._remember(key_id, actor)

    async def refetch(self, key_id: str) -> ActorKey | None:
        """A fresh copy after a failed verify (the key may have rotated), or None if throttled."""
        now = time.monotonic()
        last = self._refetched.get(key_id)
        if last is not None and now - last < REFETCH_INTERVAL_SECONDS:
            return None
        self._refetched[key_id] = now
        if len(self._refetched) > CACHE_SIZE:
            self._refetched.popitem(last=False)
        self._cache.pop(key_id, None)
        return self._remember(key_id, await self._fetch_owner(key_id))

    def forget(self, actor_uri: str) -> None:
        for key_id in [k for k, v in self._cache.items() if v.actor.uri == actor_uri]:
            del self._cache[key_id]

    def _remember(self, key_id: str, actor: Account) -> ActorKey:
        if actor.public_key_id != key_id:
            raise KeyNotFound(f"{actor.uri} does not publish the key {key_id}")
        try:
            entry = ActorKey(actor=actor, public_key=load_public_key(actor.public_key_pem))
        except ValueError:
            raise KeyNotFound(f"the key {key_id} is not a valid PEM public key") from None
        self._cache[key_id] = entry
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return entry

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
