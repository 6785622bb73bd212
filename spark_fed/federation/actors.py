"""Remote actors: found by WebFinger or URL, fetched signed, checked, stored and kept fresh."""

import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sqlmodel import col

from .. import domain_policy
from ..activitystreams import ACTOR_TYPES, as_list
from ..config import Config
from ..content import sanitize_html
from ..db import Database
from ..errors import ActorNotFound, UsageError
from ..http.client import FetchError
from ..media.records import record_profile_image
from ..models import Account
from ..models.media import MediaKind
from ..models.types import utcnow
from ..queries.accounts import find_by_uri, find_local_user, find_remote_by_handle
from ..queries.statuses import has_local_follower
from ..singleflight import SingleFlight
from .documents import InvalidDocument, host_of, id_of, parse_as2, same_origin
from .signing import SignedClient

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=1)
FETCH_SECONDS = 75.0
"""The longest an actor fetch may take: up to two documents (30 s each at most) and storing it."""
WEBFINGER_SECONDS = 35.0
WEBFINGER_ACCEPT = "application/jrd+json, application/json"
SELF_TYPES = (
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
)
_HANDLE = re.compile(r"\A@?([^@\s/]+)@([^@\s/]+)\Z")
_REMOTE_USERNAME = re.compile(r"\A[a-z0-9_]+([.-]+[a-z0-9_]+)*\Z", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_MAX_TEXT = 20_000
_MAX_URL = 2048


class BadHandle(UsageError):
    """What was typed is neither user@host nor an actor URL, or names no local user."""


class RemoteActors:
    """Fetches and WebFinger lookups are shared: callers asking for the same one at once (the
    posts of a burst naming one new actor) wait for one request, and all hear how it ended."""

    def __init__(
        self,
        db: Database,
        client: SignedClient,
        config: Config,
        instance_actor: Account,
        *,
        fetch_seconds: float = FETCH_SECONDS,
    ) -> None:
        """FETCH_SECONDS bounds each shared fetch; a parameter so that a test need not wait."""
        self.db = db
        self.client = client
        self.config = config
        self.base = config.base_url
        # Fetches are signed by the instance actor: no user is behind them.
        self.signer = instance_actor
        # Wakes the inbox worker when refreshing an actor queued the read of its pinned posts.
        self.on_queued: Callable[[], None] = lambda: None
        self._fetches: SingleFlight[str, Account] = SingleFlight(timeout=fetch_seconds)
        self._lookups: SingleFlight[tuple[str, str], str] = SingleFlight(
            timeout=min(fetch_seconds, WEBFINGER_SECONDS)
        )

    async def by_handle_or_url(self, handle: str) -> Account:
        """`user@host`, `@user@host` or an actor URL, as a user types it."""
        if handle.startswith(("http://", "https://")):
            return await self.get(handle)
        match = _HANDLE.match(handle.strip())
        if not match:
            raise BadHandle(f"{handle!r} is not a handle like user@example.com or an actor URL")
        user, host = match.groups()
        if host.lower() == self.config.server.domain.lower():
            return await self._local(user)
        async with self.db.read() as session:
            known = await find_remote_by_handle(session, user, host)
        if known is not None:
            # No WebFinger for an actor we know: unfollowing a server that is down must still work.
            return await self.get(known.uri)
        return await self.get(await self.webfinger(user, host))

    async def webfinger(self, user: str, host: str) -> str:
        """The actor URL of user@host: the `self` link, never a guess (ids may be opaque)."""
        if (await domain_policy.refresh(self.db)).is_suspended(host):
            raise ActorNotFound(f"{host} is suspended here: nothing is asked of it")
        try:
            return await self._lookups.run((user, host), lambda: self._webfinger(user, host))
        except TimeoutError:
            raise ActorNotFound(f"WebFinger of {user}@{host} took too long") from None

    async def _webfinger(self, user: str, host: str) -> str:
        scheme = self.config.server.scheme
        url = f"{scheme}://{host}/.well-known/webfinger?resource=acct:{quote(user)}@{host}"
        try:
            response = await self.client.http.get(url, headers={"Accept": WEBFINGER_ACCEPT})
        except FetchError as exc:
            raise ActorNotFound(f"WebFinger of {user}@{host} failed: {exc}") from None
        if response.status != 200:
            raise ActorNotFound(f"WebFinger of {user}@{host} answered {response.status}")
        try:
            jrd = json.loads(response.body)
        except ValueError:
            raise ActorNotFound(f"WebFinger of {user}@{host} is not JSON") from None
        for link in jrd.get("links", []) if isinstance(jrd, dict) else []:
            if isinstance(link, dict) and link.get("rel") == "self" and link.get("type") in SELF_TYPES:
                href = link.get("href")
                if isinstance(href, str) and href.startswith(("http://", "https://")):
                    return href
        raise ActorNotFound(f"WebFinger of {user}@{host} has no ActivityPub self link")

    async def get(self, uri: str, *, max_age: timedelta = STALE_AFTER) -> Account:
        """The stored actor, refetched when older than MAX_AGE (or unknown)."""
        if uri.startswith(self.base + "/"):
            return await self._local_by_uri(uri)
        async with self.db.read() as session:
            stored = await find_by_uri(session, uri)
        if stored is not None and stored.fetched_at and utcnow() - stored.fetched_at < max_age:
            return stored
        try:
            return await self.fetch(uri)
        except ActorNotFound:
            if stored is not None:
                log.info("keeping stale %s: refetch failed", uri)
                return stored
            raise

    async def fetch(self, uri: str) -> Account:
        """The actor at URI fetched now and stored; ActorNotFound (or the database's error) if not."""
        try:
            return await self._fetches.run(uri, lambda: self._fetch(uri))
        except TimeoutError:
            raise ActorNotFound(f"fetching {uri} took too long") from None

    async def _fetch(self, uri: str) -> Account:
        document = await self.fetch_document(uri)
        if document.get("id") != uri:
            # Fetched by a key or profile URL: the document's own id is authoritative; fetch that.
            if not isinstance(document.get("id"), str) or not same_origin(document["id"], uri):
                raise ActorNotFound(f"{uri} served a document for another server")
            document = await self.fetch_document(document["id"])
        return await self.store(document)

    def is_local(self, uri: str) -> bool:
        return uri == self.base or uri.startswith(self.base + "/")

    async def fetch_document(self, uri: str) -> dict[str, Any]:
        """A signed GET as the instance actor, checked to be AS2 and from the host it names.

        Never our own URLs: what we serve is already in the database, and taking it back in as a
        "remote" document would overwrite a local account (and its private key).
        """
        if self.is_local(uri):
            raise ActorNotFound(f"{uri} is local: nothing to fetch")
        if (await domain_policy.refresh(self.db)).is_suspended(host_of(uri)):
            raise ActorNotFound(f"{host_of(uri)} is suspended here: nothing is fetched from it")
        try:
            response = await self.client.get(uri, self.signer)
        except FetchError as exc:
            raise ActorNotFound(f"fetching {uri} failed: {exc}") from None
        if response.status != 200:
            raise ActorNotFound(f"fetching {uri} answered {response.status}")
        try:
            document = parse_as2(response.headers.get("Content-Type"), response.body)
        except InvalidDocument as exc:
            raise ActorNotFound(f"{uri}: {exc}") from None
        doc_id = document.get("id")
        if not isinstance(doc_id, str) or not same_origin(doc_id, response.url):
            raise ActorNotFound(f"{uri} served a document whose id is not on {host_of(response.url)}")
        return document

    async def store(self, document: dict[str, Any]) -> Account:
        """Insert or refresh the remote actor described by DOCUMENT (already checked for origin).

        An upsert, so two requests that see a new actor at once both succeed.
        """
        values = actor_values(document)
        if self.is_local(values["uri"]):
            raise ActorNotFound(f"{values['uri']} is a local actor")
        values["fetched_at"] = utcnow()
        insert = self.db.insert
        statement = (
            insert(Account)
            .values({"created_at": utcnow(), **values})
            # A row that is local is never overwritten, whatever a peer serves.
            .on_conflict_do_update(
                index_elements=["uri"], set_=values, where=col(Account.domain).is_not(None)
            )
        )
        async with self.db.write() as session:
            await session.exec(statement)
            account = await find_by_uri(session, values["uri"])
            if account is None or account.is_local:
                raise ActorNotFound(f"{values['uri']} is a local actor")
            await record_profile_image(session, account.id, MediaKind.AVATAR, values["avatar_url"])
            await record_profile_image(
                session, account.id, MediaKind.HEADER, _icon_url(document.get("image"))
            )
            # The pins of an account someone here follows are read again with the actor.
            queued = account.featured_url is not None and await has_local_follower(session, account.id)
            if queued:
                from .featured import queue_read

                await queue_read(session, self.db, account)
        if queued:
            self.on_queued()
        return account

    async def _local(self, username: str) -> Account:
        async with self.db.read() as session:
            account = await find_local_user(session, username)
        if account is None:
            raise BadHandle(f"there is no local user {username!r}")
        return account

    async def _local_by_uri(self, uri: str) -> Account:
        async with self.db.read() as session:
            account = await find_by_uri(session, uri)
        if account is None:
            raise ActorNotFound(f"there is no local actor at {uri}")
        return account


def _url(value: Any) -> str | None:
    """An http(s) URL that fits its column and carries no control characters."""
    if (
        isinstance(value, str)
        and value.startswith(("http://", "https://"))
        and len(value) <= _MAX_URL
        and not _CONTROL.search(value)
    ):
        return value
    return None


def actor_values(document: dict[str, Any]) -> dict[str, Any]:
    """The columns of a remote actor, read leniently but never trusting a missing essential."""
    uri = _url(document.get("id"))
    types = set(as_list(document.get("type")))
    if uri is None or not types & ACTOR_TYPES or len(host_of(uri)) > 255:
        raise ActorNotFound(f"{str(document.get('id'))[:200] or 'the document'} is not an actor")
    inbox = _url(document.get("inbox"))
    if inbox is None or not same_origin(inbox, uri):
        raise ActorNotFound(f"{uri} has no inbox on its own server")
    key = _public_key(document, uri)
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = endpoints.get("sharedInbox") or document.get("sharedInbox")
    return {
        "uri": uri,
        "username": _username(document, uri),
        "domain": host_of(uri),
        "actor_type": next(iter(sorted(types & ACTOR_TYPES))),
        "display_name": _text(document.get("name"), 2048),
        # Shown as HTML on profiles and in apps: reduced to the allow-list, as notes are.
        "summary": sanitize_html(_text(document.get("summary"), _MAX_TEXT)),
        "locked": document.get("manuallyApprovesFollowers") is True,
        "discoverable": document.get("discoverable") is True,
        "url": _profile_url(document.get("url"), uri),
        "inbox_url": inbox,
        # A shared inbox on another host could be anyone's (GoToSocial trusts only its own domain).
        "shared_inbox_url": shared if _url(shared) and same_origin(shared, uri) else None,
        "outbox_url": _url(id_of(document.get("outbox"))),
        "followers_url": _url(id_of(document.get("followers"))),
        "following_url": _url(id_of(document.get("following"))),
        "featured_url": _featured(document, uri),
        "avatar_url": _icon_url(document.get("icon")),
        "public_key_id": key["id"],
        "public_key_pem": key["publicKeyPem"],
        "private_key_pem": None,
    }


def _featured(document: dict[str, Any], uri: str) -> str | None:
    """The actor's pinned posts: a collection on its own server, or none."""
    url = _url(id_of(document.get("featured")))
    return url if url is not None and same_origin(url, uri) else None


def _public_key(document: dict[str, Any], uri: str) -> dict[str, str]:
    """The actor's own key: owned by it, and with an id on its server (no claiming another's keyId)."""
    for key in as_list(document.get("publicKey"))[:10]:
        if (
            isinstance(key, dict)
            and _url(key.get("id"))
            and same_origin(key["id"], uri)
            and isinstance(key.get("publicKeyPem"), str)
            and len(key["publicKeyPem"]) < 20_000
            and key.get("owner", uri) == uri
        ):
            return key
    raise ActorNotFound(f"{uri} publishes no public key that it owns")


def _username(document: dict[str, Any], uri: str) -> str:
    """preferredUsername, else the FEP-2c59 `webfinger` name, else the id's last path segment.

    Each must pass Mastodon's username rule, so a name cannot pose as a handle on another host.
    """
    webfinger = document.get("webfinger")
    candidates = [
        document.get("preferredUsername"),
        webfinger.lstrip("@").split("@")[0] if isinstance(webfinger, str) else None,
        unquote(urlsplit(uri).path.rstrip("/").rpartition("/")[2]),
    ]
    for name in candidates:
        if isinstance(name, str) and len(name) <= 255 and _REMOTE_USERNAME.match(name):
            return name
    return "unknown"


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _profile_url(value: Any, uri: str) -> str | None:
    for item in as_list(value):
        href = item if isinstance(item, str) else item.get("href") if isinstance(item, dict) else None
        if isinstance(href, str) and same_origin(href, uri):
            return href[:2048]
    return uri


def _icon_url(value: Any) -> str | None:
    for item in as_list(value):
        url = item if isinstance(item, str) else id_of(item.get("url")) if isinstance(item, dict) else None
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url[:2048]
    return None
