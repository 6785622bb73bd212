"""A Mastodon-shaped remote server for Spark's federation tests.

``FakeMastodon`` is an aiohttp application that answers, signs and verifies the way Mastodon 4.6 does: its
documents follow Mastodon's serializers (``app/serializers/activitypub/*``, ``webfinger_serializer.rb``) and
the real captures in Mastodon's ``spec/fixtures/requests/``; its requests carry Mastodon's headers, in its
order (``app/lib/request.rb``, ``app/workers/activitypub/delivery_worker.rb``); its inbox refuses what
``app/lib/signed_request.rb`` refuses, with the same ``{"error": ...}`` reasons.

It imports nothing from Spark, on purpose: a misreading of the protocol shared by both sides would otherwise
pass every test. Its signature code is in :mod:`tests.peers.cavage`, a few lines over ``cryptography``.

Two deliberate departures from a production Mastodon, both because tests run on loopback over plain HTTP:
the peer contacts only loopback hosts (anything else raises :class:`PeerNetworkError`), and its domain is the
whole authority ``127.0.0.1:PORT`` with the ``http`` scheme (Mastodon would use https and the bare host).

Typical use in a test::

    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)            # binds peer.base to http://127.0.0.1:PORT
    try:
        await peer.follow_remote("bob", spark_actor_id)
        await peer.wait_until(lambda: peer.following_state("bob", spark_actor_id) == "accepted")
        await peer.send(peer.create_note("bob", "hi"), spark_shared_inbox, "bob")
    finally:
        await peer.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from multidict import CIMultiDict
from yarl import URL

from .cavage import CavageRequest, SignatureError, digest_header, http_date, sign
from .ldsig import ld_sign, ld_verify

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
SECURITY_V1 = "https://w3id.org/security/v1"
WEBFINGER_CONTEXT = "https://purl.archive.org/socialweb/webfinger"
ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AP_RESPONSE_TYPE = "application/activity+json; charset=utf-8"  # Rails appends the charset
JSON_RESPONSE_TYPE = "application/json; charset=utf-8"
FETCH_ACCEPT = "application/activity+json, application/ld+json"  # JsonLdHelper#build_request
WEBFINGER_ACCEPT = "application/jrd+json, application/json"  # Webfinger#webfinger_request
ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})
MAX_JSON_SIZE = 1024 * 1024  # ActivityPub::Activity::MAX_JSON_SIZE; also Mastodon's response body cap
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
INSTANCE_ACTOR_USERNAME = "mastodon.internal"  # Account.representative
HTTP_RB = "http.rb/5.3.1"  # HTTP::Request::USER_AGENT in Mastodon 4.6.5's Gemfile.lock
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5, sock_read=10)  # Request::TIMEOUT
MAX_REDIRECTS = 3

# The inline map of ActorSerializer's context extensions, merged in declaration order (ContextHelper).
ACTOR_CONTEXT: list[Any] = [
    AS,
    SECURITY_V1,
    WEBFINGER_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "suspended": "toot:suspended",
        "memorial": "toot:memorial",
        "indexable": "toot:indexable",
        "attributionDomains": {"@id": "toot:attributionDomains", "@container": "@set"},
        "showFeatured": "toot:showFeatured",
        "showMedia": "toot:showMedia",
        "showRepliesInMedia": "toot:showRepliesInMedia",
        "gts": "https://gotosocial.org/ns#",
        "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
        "canFeature": {"@id": "https://w3id.org/fep/7aa9#canFeature", "@type": "@id"},
        "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
        "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
        "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
    },
]

# NoteSerializer's extensions (atom_uri, conversation, sensitive, voters_count, quotes, interaction_policies,
# direct_message), as they appear in a Create(Note).
NOTE_CONTEXT_MAP: dict[str, Any] = {
    "ostatus": "http://ostatus.org#",
    "atomUri": "ostatus:atomUri",
    "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "conversation": "ostatus:conversation",
    "sensitive": "as:sensitive",
    "toot": "http://joinmastodon.org/ns#",
    "votersCount": "toot:votersCount",
    "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
    "quoteUri": "http://fedibird.com/ns#quoteUri",
    "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    "quoteAuthorization": {"@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id"},
    "gts": "https://gotosocial.org/ns#",
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
    "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
    "litepub": "http://litepub.social/ns#",
    "directMessage": "litepub:directMessage",
}

VISIBILITIES = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "private",
    "followers": "private",
    "direct": "direct",
}


class PeerNetworkError(RuntimeError):
    """The peer was asked to contact a host that is not loopback; tests must never reach the world."""


# ---------------------------------------------------------------------------------------------------------
# Records a test can inspect
# ---------------------------------------------------------------------------------------------------------


@dataclass
class InboxRecord:
    """One POST that reached an inbox, with the verdict Mastodon's ``require_actor_signature!`` gave it.

    ``verified`` says the HTTP signature was good; ``accepted`` additionally requires the signer to be the
    activity's ``actor``, or a valid RsaSignature2017 by that actor (``ld_verified``) when someone else
    relays it: Mastodon answers 202 either way, but drops what neither vouches for.
    """

    path: str
    headers: CIMultiDict[str]
    body: bytes
    json: Any
    verified: bool
    error: str | None
    status: int
    key_id: str | None = None
    signer: str | None = None
    ld_verified: bool | None = None

    @property
    def type(self) -> str | None:
        return self.json.get("type") if isinstance(self.json, dict) else None

    @property
    def actor(self) -> str | None:
        return _id_of(self.json.get("actor")) if isinstance(self.json, dict) else None

    @property
    def accepted(self) -> bool:
        if not self.verified or self.signer is None:
            return False
        return self.signer == self.actor or bool(self.ld_verified)


@dataclass
class FetchRecord:
    """One GET of an ActivityPub document served by the peer. ``verified`` is None when nothing asked for
    the signature to be checked (public fetch mode), so a test can still see whether Spark signed."""

    path: str
    headers: CIMultiDict[str]
    status: int
    signed: bool
    verified: bool | None = None
    signer: str | None = None
    error: str | None = None


@dataclass
class Delivery:
    """One request the peer made and the answer it got."""

    method: str
    url: str
    status: int
    body: bytes
    headers: CIMultiDict[str]
    request_headers: dict[str, str]
    request_body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class FollowState:
    """A Follow this peer's user sent; ``state`` is ``pending``, ``accepted`` or ``rejected``."""

    activity: dict[str, Any]
    number: int
    state: str = "pending"


@dataclass
class Account:
    """A local account. ``followers`` and ``follow_requests`` map remote actor ids to the Follow received."""

    username: str
    key: rsa.RSAPrivateKey
    number: int
    locked: bool = False
    display_name: str = ""
    summary: str = ""
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    followers: dict[str, dict[str, Any]] = field(default_factory=dict)
    follow_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    following: dict[str, FollowState] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # status id -> {"create", "visibility"}
    pinned: list[str] = field(default_factory=list)  # status ids, oldest pin first

    @property
    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )


@dataclass
class _RemoteKey:
    key_id: str
    owner: str
    public_key: rsa.RSAPublicKey


# ---------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------


def _id_of(value: Any) -> str | None:
    """``value_or_id``: a string, or the ``id`` of an embedded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rails_json(document: Any) -> bytes:
    """JSON as Rails' ``render json:`` writes it: compact, UTF-8, with ``<``, ``>``, ``&``, U+2028 and U+2029
    escaped (the actor capture in ``spec/fixtures/requests/activitypub-actor.txt`` shows ``\\u003cp``)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def _wire_json(document: Any) -> bytes:
    """Delivery bodies: ``Oj.dump`` of the payload, compact UTF-8; serialised once and sent as these bytes."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _authority(url: URL) -> str:
    host = f"[{url.raw_host}]" if url.raw_host and ":" in url.raw_host else url.raw_host
    return f"{host}:{url.port}" if url.port and not url.is_default_port() else f"{host}"


def _check_loopback(url: str | URL) -> URL:
    parsed = URL(url) if isinstance(url, str) else url
    if parsed.scheme not in ("http", "https") or (parsed.host or "").lower() not in LOOPBACK_HOSTS:
        raise PeerNetworkError(
            f"test peer refuses to contact {str(parsed)!r}: only loopback hosts are allowed"
        )
    return parsed


def _valid_activitypub_content_type(value: str | None) -> bool:
    """``JsonLdHelper#valid_activitypub_content_type?``: activity+json, or ld+json with a quoted profile."""
    if not value:
        return False
    parts = [part.strip() for part in value.split(";")]
    media_type = parts[0].lower()
    if media_type == ACTIVITY_JSON:
        return True
    if media_type != "application/ld+json":
        return False
    return any(p.startswith('profile="') and AS in p[9:-1].split() for p in parts[1:])


def _wants_json(request: web.Request) -> bool:
    """Rails registers activity+json, ld+json and jrd+json as JSON; anything else gets the HTML route."""
    accept = request.headers.get("Accept", "").lower()
    return any(
        t in accept
        for t in (
            "application/activity+json",
            "application/ld+json",
            "application/json",
            "application/jrd+json",
        )
    )


def _midnight(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT00:00:00Z")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_key() -> rsa.RSAPrivateKey:
    """Mastodon's account keys are RSA-2048 (``Account#generate_keys``)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# ---------------------------------------------------------------------------------------------------------
# The peer
# ---------------------------------------------------------------------------------------------------------


class FakeMastodon:
    """A fake Mastodon instance on loopback: accounts, documents, a verifying inbox and a signing client.

    ``authorized_fetch`` makes actor and collection GETs need a valid signature (``AUTHORIZED_FETCH=true``).
    ``version`` picks the header lists Mastodon signs with: "4.6.x" (the released line; GETs sign
    ``host date accept``, POSTs ``host date digest content-type``) or "4.7" (main: no ``accept``, POSTs
    ``host date content-type digest``). ``check_webfinger`` makes the first contact with a remote actor do
    Mastodon's WebFinger loop-back check (``FetchRemoteActorService#check_webfinger!``). ``ld_signatures``
    lets public and unlisted ``Create``s carry an RsaSignature2017 ``signature``, as Mastodon's do outside
    authorized-fetch mode.
    """

    def __init__(
        self,
        *usernames: str,
        authorized_fetch: bool = False,
        version: str = "4.6.5",
        check_webfinger: bool = True,
        ld_signatures: bool = True,
        locked: Iterable[str] = (),
    ) -> None:
        self.authorized_fetch = authorized_fetch
        self.ld_signatures = ld_signatures
        self.version = version
        self.check_webfinger = check_webfinger
        self.clock_skew = 0.0  # seconds added to the Date of outgoing requests, to test a receiver's window
        self.base: str | None = None
        self.accounts: dict[str, Account] = {}
        self.instance_key = generate_key()
        self.inbox_log: list[InboxRecord] = []
        self.fetch_log: list[FetchRecord] = []
        self.deliveries: list[Delivery] = []
        self.background_errors: list[BaseException] = []
        self.key_cache: dict[str, _RemoteKey] = {}
        self.actor_cache: dict[str, dict[str, Any]] = {}
        self._webfinger_checked: set[str] = set()
        self._ids = itertools.count(1)
        self._sequence = itertools.count()
        # How this server's authors answer a QuoteRequest: "accept", "reject" or "ignore".
        self.quote_answer = "accept"
        self.quote_requests: list[dict[str, Any]] = []
        # Served stamps: "<username>/<n>" -> QuoteAuthorization document.
        self.quote_authorizations: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        locked = set(locked)
        for name in usernames:
            self.add_account(name, locked=name in locked)
        self.app = self._build_app()

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self, aiohttp_server: Callable[..., Any] | None = None) -> str:
        """Serve the app on 127.0.0.1 and bind ``base``; with pytest-aiohttp's ``aiohttp_server`` fixture the
        fixture owns the server, otherwise an ``AppRunner`` does and :meth:`close` stops it."""
        if aiohttp_server is not None:
            server = await aiohttp_server(self.app)
            return self.bind(str(server.make_url("")))
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return self.bind(f"http://{host}:{port}")

    def bind(self, base: str) -> str:
        """Fix the peer's origin (``http://127.0.0.1:PORT``); every id it mints starts with it."""
        _check_loopback(base)
        self.base = base.rstrip("/")
        return self.base

    @contextlib.asynccontextmanager
    async def running(self, aiohttp_server: Callable[..., Any] | None = None) -> AsyncIterator[FakeMastodon]:
        await self.start(aiohttp_server)
        try:
            yield self
        finally:
            await self.close()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the background deliveries (auto-Accepts) this peer started, as Sidekiq would run them."""
        while self._tasks:
            await asyncio.wait_for(asyncio.gather(*list(self._tasks), return_exceptions=True), timeout)

    async def close(self) -> None:
        try:
            await self.drain(timeout=5.0)
        except TimeoutError:
            for task in self._tasks:
                task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- accounts and URLs ----------------------------------------------------------------------------

    def add_account(
        self,
        username: str,
        *,
        locked: bool = False,
        key: rsa.RSAPrivateKey | None = None,
        display_name: str = "",
        summary: str = "",
    ) -> Account:
        account = Account(
            username=username,
            key=key or generate_key(),
            number=next(self._ids),
            locked=locked,
            display_name=display_name,
            summary=summary,
        )
        self.accounts[username] = account
        return account

    @property
    def origin(self) -> str:
        if self.base is None:
            raise RuntimeError("FakeMastodon has no base URL yet: await peer.start(aiohttp_server) first")
        return self.base

    @property
    def domain(self) -> str:
        """LOCAL_DOMAIN: the authority, port included, because tests run on a non-default port."""
        return _authority(URL(self.origin))

    def actor_id(self, username: str) -> str:
        return f"{self.origin}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor_id(username)}#main-key"

    def inbox_url(self, username: str) -> str:
        return f"{self.actor_id(username)}/inbox"

    def followers_url(self, username: str) -> str:
        return f"{self.actor_id(username)}/followers"

    def following_url(self, username: str) -> str:
        return f"{self.actor_id(username)}/following"

    def outbox_url(self, username: str) -> str:
        return f"{self.actor_id(username)}/outbox"

    def profile_url(self, username: str) -> str:
        return f"{self.origin}/@{username}"

    def acct(self, username: str) -> str:
        return f"{username}@{self.domain}"

    @property
    def shared_inbox_url(self) -> str:
        return f"{self.origin}/inbox"

    @property
    def instance_actor_id(self) -> str:
        return f"{self.origin}/actor"

    def following_state(self, username: str, target_actor_id: str) -> str | None:
        state = self.accounts[username].following.get(target_actor_id)
        return state.state if state else None

    def _account_for_actor(self, actor_id: str | None) -> Account | None:
        if actor_id is None or self.base is None or not actor_id.startswith(f"{self.origin}/users/"):
            return None
        return self.accounts.get(actor_id.removeprefix(f"{self.origin}/users/"))

    # --- waiting --------------------------------------------------------------------------------------

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()

    async def wait_for(self, predicate: Callable[[InboxRecord], bool], timeout: float = 5.0) -> InboxRecord:
        """The first inbox record (already received or arriving within ``timeout``) matching ``predicate``."""
        found: list[InboxRecord] = []

        def match() -> bool:
            found[:] = [r for r in self.inbox_log if predicate(r)][:1]
            return bool(found)

        await self.wait_until(match, timeout, what="a matching inbox record")
        return found[0]

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = 5.0, *, what: str = "the condition"
    ) -> None:
        """Wait, bounded, until ``condition()`` holds. It is re-checked whenever the peer's state changes and
        every 50 ms, so it may also watch state outside the peer (Spark's database, say)."""
        waiter = self._condition()
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [(r.path, r.type, r.status, r.error) for r in self.inbox_log]
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; inbox saw {seen}; "
                    f"background errors: {self.background_errors}"
                )
            async with waiter:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), min(remaining, 0.05))

    def received(self, activity_type: str | None = None) -> list[dict[str, Any]]:
        """Activities Mastodon would process (good signature by their actor, or an LD signature by it when
        relayed), optionally of one type."""
        return [
            r.json
            for r in self.inbox_log
            if r.accepted and (activity_type is None or r.type == activity_type)
        ]

    # --- outbound HTTP, as app/lib/request.rb ---------------------------------------------------------

    @property
    def user_agent(self) -> str:
        return f"Mastodon/{self.version} ({HTTP_RB}; +{self.origin}/)"

    def _signer(self, username: str | None) -> tuple[rsa.RSAPrivateKey, str]:
        if username is None:
            return self.instance_key, f"{self.instance_actor_id}#main-key"
        return self.accounts[username].key, self.key_id(username)

    async def send(
        self,
        activity: dict[str, Any],
        inbox_url: str,
        as_user: str | None,
        *,
        signed: bool = True,
        sign_with: rsa.RSAPrivateKey | None = None,
        tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]] | None = None,
    ) -> Delivery:
        """POST ``activity`` to ``inbox_url`` as ``DeliveryWorker`` does, signed by ``as_user`` (None: the
        instance actor, as for a Flag or a relay Follow).

        ``sign_with`` signs with another key under the same keyId (a key rotation's old key); ``tamper``
        receives the final headers and body and returns what is actually sent (for negative tests).
        """
        key, key_id = self._signer(as_user)
        return await self._request(
            "POST",
            inbox_url,
            body=_wire_json(activity),
            signer=(sign_with or key, key_id) if signed else None,
            tamper=tamper,
        )

    async def signed_get(
        self, url: str, as_user: str | None = None, *, accept: str = FETCH_ACCEPT, signed: bool = True
    ) -> Delivery:
        """GET ``url`` as ``JsonLdHelper#fetch_resource`` does; signed by the instance actor by default."""
        return await self._request(
            "GET", url, accept=accept, signer=self._signer(as_user) if signed else None
        )

    async def _request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        accept: str | None = None,
        signer: tuple[rsa.RSAPrivateKey, str] | None = None,
        tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]] | None = None,
    ) -> Delivery:
        target = _check_loopback(url)
        for _hop in range(MAX_REDIRECTS + 1):
            headers = self._headers(method, target, body, accept, signer)
            sent_body = body or b""
            if tamper is not None:
                headers, sent_body = tamper(dict(headers), sent_body)
            skip = [name for name in ("Accept", "Content-Type") if name not in headers]
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.request(
                    method,
                    target,
                    data=sent_body if method == "POST" else None,
                    headers=headers,
                    allow_redirects=False,
                    skip_auto_headers=skip,
                ) as response,
            ):
                content = await response.read()
                delivery = Delivery(
                    method,
                    str(target),
                    response.status,
                    content,
                    CIMultiDict(response.headers),
                    dict(headers),
                    sent_body,
                )
            location = response.headers.get("Location")
            if method == "GET" and response.status in (301, 302, 303, 307, 308) and location:
                target = _check_loopback(target.join(URL(location)))  # re-signed for the new URL, as 4.6 does
                continue
            break
        if method == "POST":
            self.deliveries.append(delivery)
            await self._notify()
        return delivery

    def _headers(
        self,
        method: str,
        url: URL,
        body: bytes | None,
        accept: str | None,
        signer: tuple[rsa.RSAPrivateKey, str] | None,
    ) -> dict[str, str]:
        """Headers in the order http.rb receives them; the Signature covers all but User-Agent and
        Accept-Encoding (and, on main, Accept), with ``(request-target)`` appended last."""
        headers: dict[str, str] = {
            "User-Agent": self.user_agent,
            "Host": _authority(url),
            "Date": http_date(time.time() + self.clock_skew),
            "Accept-Encoding": "gzip",
        }
        main = self.version.startswith("4.7")
        if body is not None:
            if main:  # HEADERS added before perform; Digest merged at perform time
                headers["Content-Type"] = ACTIVITY_JSON
                headers["Digest"] = digest_header(body)
            else:  # 4.6: Digest set in initialize, Content-Type added afterwards by DeliveryWorker
                headers["Digest"] = digest_header(body)
                headers["Content-Type"] = ACTIVITY_JSON
        if accept is not None:
            headers["Accept"] = accept
        if signer is not None:
            excluded = {"User-Agent", "Accept-Encoding"} | ({"Accept"} if main else set())
            covered = [(name, value) for name, value in headers.items() if name not in excluded]
            headers["Signature"] = sign(signer[0], signer[1], method, url.raw_path_qs, covered)
        return headers

    def _spawn(self, coroutine: Any) -> None:
        async def guarded() -> None:
            try:
                await coroutine
            except Exception as exc:
                self.background_errors.append(exc)
                await self._notify()

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- fetching and checking remote actors, as FetchRemoteKeyService / FetchRemoteActorService -------

    async def fetch_resource(
        self, uri: str, id_is_known: bool = True, as_user: str | None = None
    ) -> dict[str, Any] | None:
        """``JsonLdHelper#fetch_resource``: a signed GET that must answer 200 with an ActivityPub content type
        and a document whose ``id`` is the requested URI; with an unknown id, Mastodon GETs once, takes the
        document's ``id`` and GETs that again."""
        if not id_is_known:
            first = await self._fetch_json(uri, as_user)
            if not isinstance(first, dict) or not isinstance(first.get("id"), str):
                return None
            uri = first["id"]
        document = await self._fetch_json(uri, as_user)
        return document if isinstance(document, dict) and document.get("id") == uri else None

    async def _fetch_json(self, uri: str, as_user: str | None) -> Any:
        response = await self.signed_get(str(URL(uri).with_fragment(None)), as_user)
        if response.status != 200 or not _valid_activitypub_content_type(
            response.headers.get("Content-Type")
        ):
            return None
        if len(response.body) > MAX_JSON_SIZE:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    async def fetch_actor(self, actor_id: str, *, refresh: bool = False) -> dict[str, Any]:
        """A remote actor document, fetched once (signed by the instance actor) and checked like Mastodon."""
        if not refresh and actor_id in self.actor_cache:
            return self.actor_cache[actor_id]
        document = await self.fetch_resource(actor_id, True)
        if document is None:
            raise SignatureError(f"Error fetching actor JSON at {actor_id}")
        await self._process_actor(document, actor_id)
        return document

    async def _process_actor(self, document: dict[str, Any], uri: str) -> None:
        if AS not in _as_list(document.get("@context")):
            raise SignatureError(f"Unsupported JSON-LD context for document {uri}")
        if not set(_as_list(document.get("type"))) & ACTOR_TYPES:
            raise SignatureError(
                f"Unexpected object type for actor {uri} (expected any of: {sorted(ACTOR_TYPES)})"
            )
        if not document.get("preferredUsername") and not document.get("webfinger"):
            raise SignatureError(
                f"Actor {uri} has neither 'preferredUsername' nor `webfinger`, which is a "
                "requirement for Mastodon compatibility"
            )
        if not document.get("inbox"):
            raise SignatureError(f"Actor {document['id']} has no inbox")
        if self.check_webfinger and document["id"] not in self._webfinger_checked:
            await self._check_webfinger(document)
            self._webfinger_checked.add(document["id"])
        self.actor_cache[document["id"]] = document

    async def _check_webfinger(self, document: dict[str, Any]) -> None:
        """The loop-back check: WebFinger ``webfinger`` (FEP-2c59) or ``preferredUsername@host of id``, whose
        self link must be the actor id. The host keeps its port (Mastodon would drop it and use https)."""
        actor_id = document["id"]
        username, domain = None, None
        if isinstance(document.get("webfinger"), str) and "@" in document["webfinger"]:
            username, domain = document["webfinger"].removeprefix("acct:").split("@", 1)
        if not username or not domain:
            username, domain = document.get("preferredUsername"), _authority(URL(actor_id))
        scheme = URL(actor_id).scheme
        subject, href = await self.webfinger(f"{username}@{domain}", scheme=scheme)
        confirmed = subject.removeprefix("acct:")
        if confirmed.lower() != f"{username}@{domain}".lower():
            subject2, href = await self.webfinger(confirmed, scheme=scheme)
            if subject2.removeprefix("acct:").lower() != confirmed.lower():
                raise SignatureError(
                    f"Too many webfinger redirects for URI {actor_id} (stopped at {subject2})"
                )
            confirmed = subject2.removeprefix("acct:")
        if href != actor_id:
            raise SignatureError(f"Webfinger response for {confirmed} does not loop back to {actor_id}")

    async def webfinger(self, acct: str, *, scheme: str = "http") -> tuple[str, str]:
        """``Webfinger#perform``: unsigned GET, host-meta fallback on 404; returns (subject, self href)."""
        acct = acct.removeprefix("acct:")
        resource = f"acct:{acct}"
        domain = acct.split("@", 1)[1]
        url = URL(f"{scheme}://{domain}/.well-known/webfinger?resource={resource}", encoded=True)
        response = await self._request("GET", str(url), accept=WEBFINGER_ACCEPT)
        if response.status == 404:
            meta = await self._request(
                "GET",
                f"{scheme}://{domain}/.well-known/host-meta",
                accept="application/xrd+xml, application/xml, text/xml",
            )
            if meta.status != 200:
                raise SignatureError(
                    f"Webfinger error when resolving {acct}: Request for {resource} "
                    f"returned HTTP {meta.status}"
                )
            match = re.search(
                r'<Link[^>]*rel="lrdd"[^>]*template="([^"]+)"', meta.body.decode("utf-8", "replace")
            )
            if match is None:
                raise SignatureError(f"Request for {resource} returned host-meta without link to Webfinger")
            response = await self._request(
                "GET", html.unescape(match[1]).replace("{uri}", resource), accept=WEBFINGER_ACCEPT
            )
        if response.status == 410:
            raise SignatureError(f"{resource} is gone from the server")
        if response.status != 200 or not response.body:
            raise SignatureError(
                f"Webfinger error when resolving {acct}: Request for {resource} returned "
                f"HTTP {response.status}"
            )
        try:
            jrd = response.json()  # parsed as JSON whatever the Content-Type, like Mastodon
        except ValueError:
            raise SignatureError(f"Invalid JSON in response for {resource}") from None
        subject = jrd.get("subject") if isinstance(jrd, dict) else None
        if not subject:
            raise SignatureError(f"Missing subject in response for {resource}")
        links = [
            link
            for link in _as_list(jrd.get("links"))
            if isinstance(link, dict)
            and link.get("rel") == "self"
            and link.get("type") in (ACTIVITY_JSON, LD_JSON_AS)
        ]
        if not links or not isinstance(links[0].get("href"), str):
            raise SignatureError(f"Missing self link in response for {resource}")
        return subject, links[0]["href"]

    async def resolve(self, handle: str) -> dict[str, Any]:
        """``ResolveAccountService``: WebFinger ``user@domain``, then fetch and check the actor."""
        _subject, href = await self.webfinger(handle, scheme=URL(self.origin).scheme)
        return await self.fetch_actor(href)

    async def inbox_of(self, actor_id: str) -> str:
        return str((await self.fetch_actor(actor_id))["inbox"])

    async def _key_for(self, key_id: str, *, refresh: bool = False) -> _RemoteKey:
        if not refresh and key_id in self.key_cache:
            return self.key_cache[key_id]
        if key_id.startswith("acct:"):
            raise SignatureError(f"acct: key ids are not supported by this test peer ({key_id})")
        document = await self.fetch_resource(key_id, False)
        if document is None:
            raise SignatureError(f"Unable to fetch key JSON at {key_id}")
        is_actor = bool(set(_as_list(document.get("type"))) & ACTOR_TYPES)
        contexts = _as_list(document.get("@context"))
        standalone = bool(document.get("publicKeyPem") and document.get("owner"))
        if AS not in contexts and not (SECURITY_V1 in contexts and document.get("owner") and not is_actor):
            raise SignatureError(f"Unsupported JSON-LD context for document {key_id}")
        if is_actor:
            actor = document
        elif standalone:
            owner = _id_of(document["owner"]) or ""
            fetched = await self.fetch_resource(owner, True)
            if fetched is None:
                raise SignatureError(f"Unable to fetch actor JSON {owner}")
            actor = fetched
            if document["id"] not in [_id_of(k) for k in _as_list(actor.get("publicKey"))]:
                raise SignatureError(f"publicKey id for {owner} does not correspond to {document['id']}")
        else:
            raise SignatureError(f"Unexpected object type for key {key_id}")
        await self._process_actor(actor, actor["id"])
        pem = None
        for entry in _as_list(actor.get("publicKey")):
            entry = entry if isinstance(entry, dict) else {"id": entry}
            if entry.get("id") != key_id:
                continue
            if standalone and "publicKeyPem" not in entry:
                entry = document
            owner = _id_of(entry.get("owner"))
            if owner != actor["id"]:
                raise SignatureError(
                    f"Public key not found for key {key_id} "
                    f"(publicKey.owner {owner!r} is not the actor id {actor['id']!r})"
                )
            pem = entry.get("publicKeyPem")
        if not isinstance(pem, str):
            raise SignatureError(f"Public key not found for key {key_id}")
        try:
            public_key = serialization.load_pem_public_key(pem.encode("ascii"))
        except ValueError as exc:
            raise SignatureError(f"Public key not found for key {key_id} (unreadable PEM: {exc})") from exc
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SignatureError(f"Public key not found for key {key_id} (not an RSA key)")
        remote = _RemoteKey(key_id, actor["id"], public_key)
        self.key_cache[key_id] = remote
        return remote

    async def verify_request(self, request: web.Request, body: bytes) -> tuple[str, str]:
        """``SignatureVerification#signed_request_actor``; returns (key id, signer actor id) or raises
        :class:`SignatureError`. A failure with a cached key refetches it once (``keypair_refresh_key!``)."""

        def header(name: str) -> str | None:
            values = request.headers.getall(name, [])
            return ", ".join(values) if values else None

        signed = CavageRequest(request.method, request.raw_path, header, body)
        signed.check()
        cached = signed.key_id in self.key_cache
        try:
            key = await self._key_for(signed.key_id)
            if signed.verify(key.public_key):
                return key.key_id, key.owner
            if cached:
                key = await self._key_for(signed.key_id, refresh=True)
                if signed.verify(key.public_key):
                    return key.key_id, key.owner
        except PeerNetworkError as exc:
            raise SignatureError(str(exc)) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:  # Mastodon::HTTP_CONNECTION_ERRORS
            raise SignatureError(f"Failed to fetch remote data: {exc!r}", status=503) from exc
        handle = self.actor_cache.get(key.owner, {}).get("preferredUsername", "?")
        raise SignatureError(
            f"Verification failed for {handle}@{_authority(URL(key.owner))} {key.owner} {key.key_id}"
        )

    # --- builders: Mastodon's serializers ------------------------------------------------------------

    def follow(self, username: str, target_actor_id: str) -> dict[str, Any]:
        """``FollowSerializer`` for a new request, whose id is ``generate_uri_for``'s random and
        non-dereferenceable ``https://host/<uuid>`` (``URI.join(root_url, 'payloads', uuid)`` drops
        ``payloads``); the request is recorded as pending, as ``FollowService`` does before delivering."""
        activity = {
            "@context": AS,
            "id": f"{self.origin}/{uuid.uuid4()}",
            "type": "Follow",
            "actor": self.actor_id(username),
            "object": target_actor_id,
        }
        self.accounts[username].following[target_actor_id] = FollowState(activity, next(self._ids))
        return activity

    def undo_follow(self, username: str, target_actor_id: str) -> dict[str, Any]:
        """``UndoFollowSerializer`` (``<actor>#follows/<n>/undo``, the Follow embedded); unfollows locally."""
        state = self.accounts[username].following.pop(target_actor_id)
        return {
            "@context": AS,
            "id": f"{self.actor_id(username)}#follows/{state.number}/undo",
            "type": "Undo",
            "actor": self.actor_id(username),
            "object": self._follow_object(state.activity),
        }

    @staticmethod
    def _follow_object(follow: dict[str, Any]) -> dict[str, Any]:
        """Mastodon re-serialises the stored Follow (id, type, actor, object), never echoing extra fields."""
        return {
            "id": follow["id"],
            "type": "Follow",
            "actor": _id_of(follow.get("actor")),
            "object": _id_of(follow.get("object")),
        }

    def accept(self, username: str, follow: dict[str, Any]) -> dict[str, Any]:
        """``AcceptFollowSerializer``: ``<target>#accepts/follows/<n>``, the Follow embedded."""
        return {
            "@context": AS,
            "id": f"{self.actor_id(username)}#accepts/follows/{next(self._ids)}",
            "type": "Accept",
            "actor": self.actor_id(username),
            "object": self._follow_object(follow),
        }

    def reject(self, username: str, follow: dict[str, Any]) -> dict[str, Any]:
        """``RejectFollowSerializer``: ``<target>#rejects/follows/<n>``."""
        return {
            "@context": AS,
            "id": f"{self.actor_id(username)}#rejects/follows/{next(self._ids)}",
            "type": "Reject",
            "actor": self.actor_id(username),
            "object": self._follow_object(follow),
        }

    def like(self, username: str, object_id: str) -> dict[str, Any]:
        """``LikeSerializer``: ``<actor>#likes/<n>``."""
        return {
            "@context": AS,
            "id": f"{self.actor_id(username)}#likes/{next(self._ids)}",
            "type": "Like",
            "actor": self.actor_id(username),
            "object": object_id,
        }

    def undo_like(self, username: str, like: dict[str, Any]) -> dict[str, Any]:
        """``UndoLikeSerializer``: ``<actor>#likes/<n>/undo`` embedding the Like (Mastodon needs it)."""
        embedded = {k: v for k, v in like.items() if k != "@context"}
        return {
            "@context": AS,
            "id": f"{like['id']}/undo",
            "type": "Undo",
            "actor": self.actor_id(username),
            "object": embedded,
        }

    def announce(self, username: str, object_id: str, author_actor_id: str) -> dict[str, Any]:
        """``AnnounceNoteSerializer`` for a boost of a remote public status: a status of its own."""
        status_id = self._snowflake()
        return {
            "@context": AS,
            "id": f"{self.actor_id(username)}/statuses/{status_id}/activity",
            "type": "Announce",
            "actor": self.actor_id(username),
            "published": _iso(time.time()),
            "to": [PUBLIC],
            "cc": [author_actor_id, self.followers_url(username)],
            "object": object_id,
        }

    def featured_url(self, username: str) -> str:
        return f"{self.actor_id(username)}/collections/featured"

    def pin(self, username: str, note_id: str) -> dict[str, Any]:
        """``AddSerializer`` for a pin: no ``id``, the status by URI, the featured collection as target."""
        status_id = note_id.rsplit("/", 1)[-1]
        pinned = self.accounts[username].pinned
        if status_id not in pinned:
            pinned.append(status_id)
        return self._featured_change("Add", username, note_id)

    def unpin(self, username: str, note_id: str) -> dict[str, Any]:
        """``RemoveSerializer``: the same shape as the pin's ``Add``."""
        status_id = note_id.rsplit("/", 1)[-1]
        pinned = self.accounts[username].pinned
        if status_id in pinned:
            pinned.remove(status_id)
        return self._featured_change("Remove", username, note_id)

    def _featured_change(self, kind: str, username: str, note_id: str) -> dict[str, Any]:
        return {
            "@context": AS,
            "type": kind,
            "actor": self.actor_id(username),
            "target": self.featured_url(username),
            "object": note_id,
        }

    def _snowflake(self) -> str:
        """Mastodon status ids: milliseconds << 16 plus a sequence (``Mastodon::Snowflake``)."""
        return str((int(time.time() * 1000) << 16) | (next(self._sequence) & 0xFFFF))

    def create_note(
        self,
        username: str,
        text: str = "",
        *,
        content: str | None = None,
        visibility: str = "public",
        mentions: Sequence[str] = (),
        hashtags: Sequence[str] = (),
        in_reply_to: str | None = None,
        summary: str | None = None,
        sensitive: bool = False,
        language: str | None = "en",
        ld_signed: bool | None = None,
        quote: str | None = None,
        quote_authorization: str | None = None,
    ) -> dict[str, Any]:
        """``CreateNoteSerializer`` + ``NoteSerializer``, addressed as ``TagManager#to/#cc`` do per visibility
        (public, unlisted, private/followers, direct). ``mentions`` are actor ids; ``content`` overrides the
        HTML built from ``text``. The note is stored and served at its id (without the LD signature, which
        only the delivered copy carries; ``ld_signed`` None means "as Mastodon would")."""
        visibility = VISIBILITIES[visibility]
        actor = self.actor_id(username)
        followers = self.followers_url(username)
        status_id = self._snowflake()
        note_id = f"{actor}/statuses/{status_id}"
        now = time.time()
        mentioned = list(mentions)
        to, cc = {
            "public": ([PUBLIC], [followers, *mentioned]),
            "unlisted": ([followers], [PUBLIC, *mentioned]),
            "private": ([followers], list(mentioned)),
            "direct": (list(mentioned), []),
        }[visibility]
        tags: list[dict[str, Any]] = [
            {"type": "Mention", "href": href, "name": self._mention_name(href)} for href in mentioned
        ]
        tags += [
            {"type": "Hashtag", "href": f"{self.origin}/tags/{tag.lower()}", "name": f"#{tag}"}
            for tag in hashtags
        ]
        if content is None:
            spans = [
                f'<span class="h-card" translate="no"><a href="{html.escape(self._profile_of(href))}" '
                f'class="u-url mention">@<span>{html.escape(self._mention_name(href)[1:].split("@")[0])}'
                f"</span></a></span>"
                for href in mentioned
            ]
            links = [
                f'<a href="{self.origin}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(tag)}</span></a>"
                for tag in hashtags
            ]
            content = "<p>" + " ".join([*spans, html.escape(text), *links]).strip() + "</p>"
        note: dict[str, Any] = {
            "id": note_id,
            "type": "Note",
            "summary": summary,
            "inReplyTo": in_reply_to,
            "published": _iso(now),
            "url": f"{self.profile_url(username)}/{status_id}",
            "attributedTo": actor,
            "to": to,
            "cc": cc,
            "sensitive": sensitive,
            "atomUri": note_id,
            "inReplyToAtomUri": in_reply_to,
            "conversation": f"tag:{self.domain},{datetime.fromtimestamp(now, UTC):%Y-%m-%d}:"
            f"objectId={next(self._ids)}:objectType=Conversation",
            "context": f"{self.origin}/contexts/{self.accounts[username].number}-{status_id}",
            "content": content,
        }
        if language:
            note["contentMap"] = {language: content}
        if visibility in ("private", "direct"):
            note["directMessage"] = visibility == "direct"
        if quote is not None:
            # Mastodon 4.5's NoteSerializer: the quoted post under three names, its stamp once
            # approved, and the "RE:" paragraph older servers show instead.
            link = html.escape(quote)
            note["content"] = content = (
                f'{content}<p class="quote-inline">RE: <a href="{link}">{link}</a></p>'
            )

            if language:
                note["contentMap"] = {language: content}
            note["quote"] = note["_misskey_quote"] = note["quoteUri"] = quote
            if quote_authorization is not None:
                note["quoteAuthorization"] = quote_authorization
        note["interactionPolicy"] = {
            "canQuote": {"automaticApproval": [PUBLIC] if visibility in ("public", "unlisted") else [actor]}
        }
        note["attachment"] = []
        note["tag"] = tags
        note["replies"] = {
            "id": f"{note_id}/replies",
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "next": f"{note_id}/replies?only_other_accounts=true&page=true",
                "partOf": f"{note_id}/replies",
                "items": [],
            },
        }
        note["likes"] = {"id": f"{note_id}/likes", "type": "Collection", "totalItems": 0}
        note["shares"] = {"id": f"{note_id}/shares", "type": "Collection", "totalItems": 0}
        context_map = copy.deepcopy(NOTE_CONTEXT_MAP)
        if hashtags:
            context_map["Hashtag"] = "as:Hashtag"
        create = {
            "@context": [AS, context_map],
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor,
            "published": note["published"],
            "to": to,
            "cc": cc,
            "object": note,
        }
        self.accounts[username].statuses[status_id] = {"create": create, "visibility": visibility}
        if ld_signed is None:
            ld_signed = (
                self.ld_signatures and not self.authorized_fetch and visibility in ("public", "unlisted")
            )
        if ld_signed:
            return ld_sign(copy.deepcopy(create), self.accounts[username].key, self.key_id(username))
        return copy.deepcopy(create)

    def update_note(
        self, username: str, note_id: str, text: str, *, summary: str | None = None, sensitive: bool = False
    ) -> dict[str, Any]:
        """``UpdateSerializer`` of an edited status: ``<status>#updates/<epoch>``, the note as it is now
        with ``updated`` (the edit time), addressed as the original; the status is served so too."""
        stored = self.accounts[username].statuses[note_id.rsplit("/", 1)[-1]]
        create = copy.deepcopy(stored["create"])
        note = create["object"]
        now = time.time()
        note["content"] = "<p>" + html.escape(text) + "</p>"
        if "contentMap" in note:
            note["contentMap"] = {language: note["content"] for language in note["contentMap"]}
        note["summary"] = summary
        note["sensitive"] = sensitive
        note["updated"] = _iso(now)
        stored["create"] = create
        return {
            "@context": create["@context"],
            "id": f"{note_id}#updates/{int(now)}",
            "type": "Update",
            "actor": create["actor"],
            "published": note["updated"],
            "to": create["to"],
            "cc": create["cc"],
            "object": copy.deepcopy(note),
        }

    def create_question(
        self,
        username: str,
        text: str,
        options: Sequence[str],
        *,
        multiple: bool = False,
        expires_in: float = 86400.0,
        mentions: Sequence[str] = (),
        visibility: str = "public",
    ) -> dict[str, Any]:
        """``NoteSerializer`` for a status with a poll: ``type`` Question, the options under ``oneOf``
        (or ``anyOf`` for several choices) as Notes with ``name`` and ``replies.totalItems`` (after
        ``shares``), then ``endTime``, ``closed`` once ended, and ``votersCount``. Served at its id."""
        create = self.create_note(username, text, mentions=mentions, visibility=visibility, ld_signed=False)
        status_id = create["object"]["id"].rsplit("/", 1)[-1]
        stored = self.accounts[username].statuses[status_id]["create"]
        stored["object"]["type"] = "Question"
        stored["object"].pop("interactionPolicy", None)
        stored["object"]["anyOf" if multiple else "oneOf"] = [
            {"type": "Note", "name": title, "replies": {"type": "Collection", "totalItems": 0}}
            for title in options
        ]
        stored["object"]["endTime"] = _iso(time.time() + expires_in)
        stored["object"]["votersCount"] = 0
        stored["object"]["interactionPolicy"] = create["object"]["interactionPolicy"]
        return copy.deepcopy(stored)

    def update_question(
        self, username: str, question_id: str, votes: Sequence[int], voters: int, *, closed: bool = False
    ) -> dict[str, Any]:
        """``UpdatePollSerializer``: ``<status>#updates/<poll updated_at>`` with the whole Question, its
        counts as now (``ActivityPub::DistributePollUpdateWorker`` sends it to followers and voters)."""
        status_id = question_id.rsplit("/", 1)[-1]
        stored = self.accounts[username].statuses[status_id]["create"]
        question = stored["object"]
        key = "anyOf" if "anyOf" in question else "oneOf"
        for option, count in zip(question[key], votes, strict=True):
            option["replies"]["totalItems"] = count
        question["votersCount"] = voters
        if closed:
            question["endTime"] = question["closed"] = _iso(time.time() - 1)
        return {
            "@context": stored["@context"],
            "id": f"{question_id}#updates/{int(time.time())}{next(self._ids)}",
            "type": "Update",
            "actor": self.actor_id(username),
            "to": question["to"],
            "cc": question["cc"],
            "object": copy.deepcopy(question),
        }

    def edit_question(self, username: str, question_id: str, options: Sequence[str]) -> dict[str, Any]:
        """``UpdateSerializer`` of a status whose poll options were edited: the poll starts afresh (no
        votes, no voters), the Question carries ``updated`` (the edit time), ``#updates/<epoch>``."""
        status_id = question_id.rsplit("/", 1)[-1]
        stored = self.accounts[username].statuses[status_id]["create"]
        question = stored["object"]
        key = "anyOf" if "anyOf" in question else "oneOf"
        question[key] = [
            {"type": "Note", "name": title, "replies": {"type": "Collection", "totalItems": 0}}
            for title in options
        ]
        question["votersCount"] = 0
        now = time.time()
        question["updated"] = _iso(now)
        return {
            "@context": stored["@context"],
            "id": f"{question_id}#updates/{int(now)}{next(self._ids)}",
            "type": "Update",
            "actor": self.actor_id(username),
            "published": question["updated"],
            "to": question["to"],
            "cc": question["cc"],
            "object": copy.deepcopy(question),
        }

    def vote(self, username: str, question_id: str, author_actor_id: str, title: str) -> dict[str, Any]:
        """``ActivityPub::VoteSerializer``: a Create of a Note with only ``name`` (the option's text),
        ``attributedTo``, ``inReplyTo`` (the poll) and ``to`` (its author, a plain string), no content."""
        actor = self.actor_id(username)
        vote_id = f"{actor}#votes/{next(self._ids)}"
        return {
            "@context": AS,
            "id": f"{vote_id}/activity",
            "type": "Create",
            "actor": actor,
            "to": author_actor_id,
            "object": {
                "id": vote_id,
                "type": "Note",
                "name": title,
                "attributedTo": actor,
                "inReplyTo": question_id,
                "to": author_actor_id,
            },
        }

    def delete_note(self, username: str, note_id: str) -> dict[str, Any]:
        """``DeleteNoteSerializer``: ``<status>#delete`` with a Tombstone; the status stops being served."""
        self.accounts[username].statuses.pop(note_id.rsplit("/", 1)[-1], None)
        return {
            "@context": [AS, {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri"}],
            "id": f"{note_id}#delete",
            "type": "Delete",
            "actor": self.actor_id(username),
            "to": [PUBLIC],
            "object": {"id": note_id, "type": "Tombstone", "atomUri": note_id},
        }

    def update_person(self, username: str) -> dict[str, Any]:
        """``UpdateActorSerializer``: ``<actor>#updates/<unix>`` embedding the whole actor (keys included)."""
        document = self.actor_document(username)
        context = document.pop("@context")
        return {
            "@context": context,
            "id": f"{self.actor_id(username)}#updates/{int(time.time())}",
            "type": "Update",
            "actor": self.actor_id(username),
            "to": [PUBLIC],
            "object": document,
        }

    def _mention_name(self, actor_id: str) -> str:
        document = self.actor_cache.get(actor_id, {})
        username = document.get("preferredUsername") or actor_id.rstrip("/").rsplit("/", 1)[-1]
        return f"@{username}@{_authority(URL(actor_id))}"

    def _profile_of(self, actor_id: str) -> str:
        url = self.actor_cache.get(actor_id, {}).get("url")
        return url if isinstance(url, str) else actor_id

    # --- convenience actions ----------------------------------------------------------------------------

    async def follow_remote(self, username: str, target_actor_id: str) -> Delivery:
        """Follow a remote actor: resolve its inbox (signed GET), then deliver the Follow to its personal
        inbox, as ``FollowService``/``RequestFollowService`` do."""
        inbox = await self.inbox_of(target_actor_id)
        return await self.send(self.follow(username, target_actor_id), inbox, username)

    async def unfollow_remote(self, username: str, target_actor_id: str) -> Delivery:
        inbox = await self.inbox_of(target_actor_id)
        return await self.send(self.undo_follow(username, target_actor_id), inbox, username)

    async def approve(self, username: str, follower_id: str) -> Delivery:
        """Authorise a pending request to a locked account (``AuthorizeFollowService``)."""
        account = self.accounts[username]
        follow = account.follow_requests.pop(follower_id)
        account.followers[follower_id] = follow
        await self._notify()
        return await self.send(self.accept(username, follow), await self.inbox_of(follower_id), username)

    async def refuse(self, username: str, follower_id: str) -> Delivery:
        """Reject a pending request, or remove an existing follower (``RejectFollowService``)."""
        account = self.accounts[username]
        follow = account.follow_requests.pop(follower_id, None) or account.followers.pop(follower_id)
        await self._notify()
        return await self.send(self.reject(username, follow), await self.inbox_of(follower_id), username)

    # --- incoming activities, as app/lib/activitypub/activity/*.rb (kept small) -------------------------

    def _process(self, activity: dict[str, Any]) -> None:
        kind = activity.get("type")
        if kind == "Follow":
            self._on_follow(activity)
        elif kind in ("Accept", "Reject"):
            self._on_follow_answer(activity, accepted=kind == "Accept")
        elif kind == "Undo":
            self._on_undo(activity)
        elif kind == "QuoteRequest":
            self._on_quote_request(activity)

    def _on_follow(self, follow: dict[str, Any]) -> None:
        follower = _id_of(follow.get("actor"))
        target = _id_of(follow.get("object"))
        if follower is None or target is None:
            return
        if target == self.instance_actor_id:  # Mastodon always rejects follows of its instance actor
            reply = {
                "@context": AS,
                "id": f"{self.instance_actor_id}#rejects/follows/{next(self._ids)}",
                "type": "Reject",
                "actor": self.instance_actor_id,
                "object": self._follow_object(follow),
            }
            self._spawn(self._deliver_to_actor(reply, follower, None))
            return
        account = self._account_for_actor(target)
        if account is None:
            return
        if follower in account.followers or not account.locked:
            account.followers[follower] = follow  # a repeated Follow updates the stored id and re-Accepts
            self._spawn(
                self._deliver_to_actor(self.accept(account.username, follow), follower, account.username)
            )
        else:
            account.follow_requests[follower] = follow

    async def _deliver_to_actor(self, activity: dict[str, Any], actor_id: str, as_user: str | None) -> None:
        await self.send(activity, await self.inbox_of(actor_id), as_user)

    def _on_follow_answer(self, answer: dict[str, Any], *, accepted: bool) -> None:
        """Match by the Follow's id (``follow_request_from_object``), else by the embedded Follow's actor."""
        remote = _id_of(answer.get("actor"))
        obj = answer.get("object")
        object_id = _id_of(obj)
        for account in self.accounts.values():
            state = account.following.get(remote or "")
            if state is not None and object_id is not None and state.activity["id"] == object_id:
                state.state = "accepted" if accepted else "rejected"
                return
        if isinstance(obj, dict) and obj.get("type") == "Follow":
            account = self._account_for_actor(_id_of(obj.get("actor")))
            state = account.following.get(remote or "") if account else None
            if state is not None:
                state.state = "accepted" if accepted else "rejected"

    # --- quotes (FEP-044f as Mastodon 4.5 ships it) ---------------------------------------------------

    def quote_request(self, username: str, quoted_uri: str, quoting_uri: str) -> dict[str, Any]:
        """``QuoteRequestSerializer``: the quoting post as ``instrument``, the quoted as ``object``."""
        return {
            "@context": [AS, {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest"}],
            "id": f"{self.actor_id(username)}#quote_requests/{next(self._ids)}",
            "type": "QuoteRequest",
            "actor": self.actor_id(username),
            "object": quoted_uri,
            "instrument": quoting_uri,
        }

    def authorize_quote(self, username: str, quoting_uri: str, quoted_uri: str) -> str:
        """Issue and serve a stamp (``QuoteAuthorizationSerializer``) at ``approval_uri_for``'s URL."""
        number = next(self._ids)
        uri = f"{self.actor_id(username)}/quote_authorizations/{number}"
        self.quote_authorizations[f"{username}/{number}"] = {
            "@context": [
                AS,
                {
                    "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
                    "gts": "https://gotosocial.org/ns#",
                    "interactingObject": {"@id": "gts:interactingObject"},
                    "interactionTarget": {"@id": "gts:interactionTarget"},
                },
            ],
            "id": uri,
            "type": "QuoteAuthorization",
            "attributedTo": self.actor_id(username),
            "interactingObject": quoting_uri,
            "interactionTarget": quoted_uri,
        }
        return uri

    def revoke_quote(self, username: str, stamp: str) -> dict[str, Any]:
        """``DeleteQuoteAuthorizationSerializer``: the stamp stops being served."""
        self.quote_authorizations.pop(f"{username}/{stamp.rsplit('/', 1)[-1]}", None)
        return {
            "@context": AS,
            "id": f"{stamp}#delete",
            "type": "Delete",
            "actor": self.actor_id(username),
            "to": [PUBLIC],
            "object": stamp,
        }

    def _on_quote_request(self, request: dict[str, Any]) -> None:
        """``ActivityPub::Activity::QuoteRequest``: Accept with a stamp as ``result``, or Reject; the
        request is echoed as ``object`` with the instrument by id."""
        self.quote_requests.append(request)
        quoted = _id_of(request.get("object")) or ""
        requester = _id_of(request.get("actor"))
        account = next(
            (a for a in self.accounts.values() if quoted.startswith(self.actor_id(a.username) + "/")), None
        )
        if account is None or requester is None or self.quote_answer == "ignore":
            return
        echoed = {
            "id": request.get("id"),
            "type": "QuoteRequest",
            "actor": requester,
            "instrument": _id_of(request.get("instrument")),
            "object": quoted,
        }
        kind = "Accept" if self.quote_answer == "accept" else "Reject"
        answer: dict[str, Any] = {
            "@context": [AS, {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest"}],
            "id": f"{self.actor_id(account.username)}#{kind.lower()}s/quote_requests/{next(self._ids)}",
            "type": kind,
            "actor": self.actor_id(account.username),
            "object": echoed,
        }
        if kind == "Accept":
            answer["result"] = self.authorize_quote(account.username, echoed["instrument"] or "", quoted)
        self._spawn(self._deliver_to_actor(answer, requester, account.username))

    async def _quote_authorization(self, request: web.Request) -> web.Response:
        stamp = self.quote_authorizations.get(f"{request.match_info['name']}/{request.match_info['number']}")
        if stamp is None:
            raise web.HTTPNotFound()
        return self._ap_response(stamp)

    def _on_undo(self, undo: dict[str, Any]) -> None:
        actor = _id_of(undo.get("actor"))
        obj = undo.get("object")
        if isinstance(obj, dict):
            if obj.get("type") != "Follow" or _id_of(obj.get("actor")) != actor:
                return
            account = self._account_for_actor(_id_of(obj.get("object")))
            if account is not None and actor is not None:
                account.followers.pop(actor, None)
                account.follow_requests.pop(actor, None)
            return
        for account in self.accounts.values():  # Undo by reference to the Follow's id
            for table in (account.followers, account.follow_requests):
                if actor in table and table[actor].get("id") == obj:
                    del table[actor]

    # --- the web application --------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * MAX_JSON_SIZE, middlewares=[self._infer_base])
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/.well-known/host-meta", self._host_meta)
        app.router.add_get("/.well-known/nodeinfo", self._nodeinfo_links)
        app.router.add_get("/nodeinfo/2.0", self._nodeinfo)
        app.router.add_get("/actor", self._instance_actor)
        app.router.add_post("/actor/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/@{name}", self._profile)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_get("/users/{name}/followers", self._followers)
        app.router.add_get("/users/{name}/following", self._following)
        app.router.add_get("/users/{name}/outbox", self._outbox)
        app.router.add_get("/users/{name}/collections/{collection}", self._collection)
        app.router.add_get("/users/{name}/statuses/{status}", self._status)
        app.router.add_get("/users/{name}/statuses/{status}/activity", self._status)
        app.router.add_get("/users/{name}/quote_authorizations/{number}", self._quote_authorization)
        return app

    @web.middleware
    async def _infer_base(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """If a test started the app itself without calling :meth:`bind`, learn the origin from the first
        request (loopback, plain HTTP)."""
        if self.base is None:
            self.bind(f"{request.scheme}://{request.host}")
        response: web.StreamResponse = await handler(request)
        return response

    def _account_or_404(self, request: web.Request) -> Account:
        account = self.accounts.get(request.match_info["name"])
        if account is None:
            raise web.HTTPNotFound()
        return account

    def _ap_response(self, document: dict[str, Any], *, cache: str = "max-age=180, public") -> web.Response:
        vary = "Accept, Accept-Language, Cookie" + (", Signature" if self.authorized_fetch else "")
        cache = cache.replace("public", "private") if self.authorized_fetch else cache
        return web.Response(
            body=_rails_json(document),
            headers={"Content-Type": AP_RESPONSE_TYPE, "Vary": vary, "Cache-Control": cache},
        )

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.Response(
            status=status, body=_rails_json({"error": message}), headers={"Content-Type": JSON_RESPONSE_TYPE}
        )

    async def _fetch_gate(
        self, request: web.Request, *, required: bool | None = None
    ) -> web.Response | str | None:
        """Record a GET and, in authorized-fetch mode (or when ``required``), check its signature: returns the
        401 to send, the signer's actor id, or None when no check was asked for."""
        required = self.authorized_fetch if required is None else required
        record = FetchRecord(request.path_qs, request.headers.copy(), 200, "Signature" in request.headers)
        self.fetch_log.append(record)
        if not required:  # public fetch mode: Mastodon never looks at the signature of these GETs
            return None
        try:
            _key_id, signer = await self.verify_request(request, b"")
        except SignatureError as exc:
            record.verified, record.error, record.status = False, str(exc), exc.status
            return self._error(exc.status, str(exc))
        record.verified, record.signer = True, signer
        return signer

    # WebFinger, host-meta, NodeInfo: always unsigned

    async def _webfinger(self, request: web.Request) -> web.Response:
        """``WellKnown::WebfingerController``: 400 without a usable resource, 404 for an unknown account."""
        resource = request.query.get("resource")
        short_cache = {"Cache-Control": "max-age=180, public"}
        if not resource:
            return web.Response(status=400, headers=short_cache)
        try:
            username = self._webfinger_username(resource)
        except ValueError:
            return web.Response(status=400, headers=short_cache)
        if username == INSTANCE_ACTOR_USERNAME:
            subject, aliases = f"acct:{INSTANCE_ACTOR_USERNAME}@{self.domain}", [self.instance_actor_id]
            profile, self_href = f"{self.origin}/about/more?instance_actor=true", self.instance_actor_id
        elif username in self.accounts:
            subject = f"acct:{self.acct(username)}"
            aliases = [self.profile_url(username), self.actor_id(username)]
            profile, self_href = self.profile_url(username), self.actor_id(username)
        else:
            return web.Response(status=404, headers=short_cache)
        jrd = {
            "subject": subject,
            "aliases": aliases,
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
                {"rel": "self", "type": ACTIVITY_JSON, "href": self_href},
                {
                    "rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": f"{self.origin}/authorize_interaction?uri={{uri}}",
                },
                {
                    "rel": "https://w3id.org/fep/3b86/Create",
                    "template": f"{self.origin}/share?text={{content}}",
                },
                {
                    "rel": "https://w3id.org/fep/3b86/Object",
                    "template": f"{self.origin}/authorize_interaction?uri={{object}}",
                },
            ],
        }
        return web.Response(
            body=_rails_json(jrd),
            headers={
                "Content-Type": "application/jrd+json; charset=utf-8",
                "Vary": "Origin",
                "Cache-Control": "max-age=259200, public",
            },
        )

    def _webfinger_username(self, resource: str) -> str | None:
        """``WebfingerResource``: the bare domain or origin (instance actor), an actor or profile URL, or
        ``[acct:]user@domain``; None for an account that is not here, ValueError for anything else."""
        if resource.rstrip("/") in (self.domain, self.origin, f"https://{self.domain}"):
            return INSTANCE_ACTOR_USERNAME
        if re.match(r"(?i)https?", resource):
            if resource == self.instance_actor_id:
                return INSTANCE_ACTOR_USERNAME
            for prefix in (f"{self.origin}/users/", f"{self.origin}/@"):
                rest = resource.removeprefix(prefix)
                if rest != resource and rest and "/" not in rest:
                    return rest
            return None
        if "@" in resource:
            username, _, domain = resource.removeprefix("acct:").rpartition("@")
            if domain.lower() != self.domain.lower():
                return None
            return INSTANCE_ACTOR_USERNAME if username.lower() == self.domain.lower() else username
        raise ValueError(resource)

    async def _host_meta(self, request: web.Request) -> web.Response:
        template = f"{self.origin}/.well-known/webfinger?resource={{uri}}"
        if "json" in request.headers.get("Accept", ""):
            return web.Response(
                body=_rails_json({"links": [{"rel": "lrdd", "template": template}]}),
                headers={"Content-Type": JSON_RESPONSE_TYPE},
            )
        xrd = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="lrdd" template="{html.escape(template)}"/>\n'
            "</XRD>\n"
        )
        return web.Response(
            body=xrd.encode("utf-8"),
            headers={
                "Content-Type": "application/xrd+xml; charset=utf-8",
                "Cache-Control": "max-age=259200, public",
            },
        )

    async def _nodeinfo_links(self, request: web.Request) -> web.Response:
        document = {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": f"{self.origin}/nodeinfo/2.0",
                }
            ]
        }
        return web.Response(body=_rails_json(document), headers={"Content-Type": JSON_RESPONSE_TYPE})

    async def _nodeinfo(self, request: web.Request) -> web.Response:
        users = len(self.accounts)
        posts = sum(len(a.statuses) for a in self.accounts.values())
        document = {
            "version": "2.0",
            "software": {"name": "mastodon", "version": self.version},
            "protocols": ["activitypub"],
            "services": {"outbound": [], "inbound": []},
            "usage": {
                "users": {"total": users, "activeMonth": users, "activeHalfyear": users},
                "localPosts": posts,
            },
            "openRegistrations": False,
            "metadata": {"nodeName": self.domain, "nodeDescription": ""},
        }
        return web.Response(
            body=_rails_json(document),
            headers={
                "Content-Type": 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"'
            },
        )

    # Actors

    def actor_document(self, username: str) -> dict[str, Any]:
        """``ActorSerializer`` output for a local account: attributes, then associations, as AMS orders."""
        account = self.accounts[username]
        actor = self.actor_id(username)
        return {
            "@context": copy.deepcopy(ACTOR_CONTEXT),
            "id": actor,
            "webfinger": self.acct(username),
            "type": "Person",
            "following": self.following_url(username),
            "followers": self.followers_url(username),
            "inbox": self.inbox_url(username),
            "outbox": self.outbox_url(username),
            "featured": f"{actor}/collections/featured",
            "featuredTags": f"{actor}/collections/tags",
            "preferredUsername": username,
            "name": account.display_name or username,
            "summary": account.summary,
            "url": self.profile_url(username),
            "manuallyApprovesFollowers": account.locked,
            "discoverable": False,
            "indexable": False,
            "published": _midnight(account.created),
            "memorial": False,
            "showFeatured": True,
            "showMedia": True,
            "showRepliesInMedia": True,
            "interactionPolicy": {"canFeature": {"automaticApproval": [actor]}},  # not discoverable
            "featuredCollections": f"{self.origin}/ap/users/{account.number}/featured_collections",
            "publicKey": {"id": self.key_id(username), "owner": actor, "publicKeyPem": account.public_pem},
            "tag": [],
            "attachment": [],
            "endpoints": {"sharedInbox": self.shared_inbox_url},
        }

    def instance_actor_document(self) -> dict[str, Any]:
        """``InstanceActorsController``: the actor serializer restricted to a few fields, never gated."""
        pem = (
            self.instance_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )
        actor = self.instance_actor_id
        return {
            "@context": copy.deepcopy(ACTOR_CONTEXT),
            "id": actor,
            "type": "Application",
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "preferredUsername": INSTANCE_ACTOR_USERNAME,
            "url": f"{self.origin}/about/more?instance_actor=true",
            "manuallyApprovesFollowers": True,
            "publicKey": {"id": f"{actor}#main-key", "owner": actor, "publicKeyPem": pem},
            "endpoints": {"sharedInbox": self.shared_inbox_url},
        }

    async def _instance_actor(self, request: web.Request) -> web.Response:
        self.fetch_log.append(
            FetchRecord(request.path_qs, request.headers.copy(), 200, "Signature" in request.headers)
        )
        return self._ap_response(self.instance_actor_document(), cache="max-age=600, public")

    async def _actor(self, request: web.Request) -> web.StreamResponse:
        account = self._account_or_404(request)
        if not _wants_json(request):
            raise web.HTTPFound(self.profile_url(account.username), headers={"Vary": "Accept"})
        gate = await self._fetch_gate(request)
        if isinstance(gate, web.Response):
            return gate
        return self._ap_response(self.actor_document(account.username))

    async def _profile(self, request: web.Request) -> web.StreamResponse:
        account = self._account_or_404(request)
        if _wants_json(request):
            return await self._actor(request)
        page = (
            f"<!DOCTYPE html><html><head><title>{html.escape(account.username)}</title>"
            f'<link rel="alternate" type="application/activity+json" '
            f'href="{self.actor_id(account.username)}"></head><body>@{html.escape(account.username)}'
            "</body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    # Collections

    def _ordered_collection(self, url: str, items: list[Any], page: str | None, first: str) -> dict[str, Any]:
        if page is None:
            return {
                "@context": AS,
                "id": url,
                "type": "OrderedCollection",
                "totalItems": len(items),
                "first": f"{url}?{first}",
            }
        return {
            "@context": AS,
            "id": f"{url}?{first}",
            "type": "OrderedCollectionPage",
            "totalItems": len(items),
            "partOf": url,
            "orderedItems": items,
        }

    async def _followers(self, request: web.Request) -> web.Response:
        account = self._account_or_404(request)
        gate = await self._fetch_gate(request)
        if isinstance(gate, web.Response):
            return gate
        return self._ap_response(
            self._ordered_collection(
                self.followers_url(account.username),
                list(account.followers),
                request.query.get("page"),
                "page=1",
            )
        )

    async def _following(self, request: web.Request) -> web.Response:
        account = self._account_or_404(request)
        gate = await self._fetch_gate(request)
        if isinstance(gate, web.Response):
            return gate
        accepted = [target for target, state in account.following.items() if state.state == "accepted"]
        return self._ap_response(
            self._ordered_collection(
                self.following_url(account.username), accepted, request.query.get("page"), "page=1"
            )
        )

    async def _outbox(self, request: web.Request) -> web.Response:
        account = self._account_or_404(request)
        gate = await self._fetch_gate(request)
        if isinstance(gate, web.Response):
            return gate
        url = self.outbox_url(account.username)
        creates = [
            s["create"]
            for s in reversed(account.statuses.values())
            if s["visibility"] in ("public", "unlisted")
        ]
        if request.query.get("page") is None:
            return self._ap_response(
                {
                    "@context": AS,
                    "id": url,
                    "type": "OrderedCollection",
                    "totalItems": len(account.statuses),
                    "first": f"{url}?page=true",
                    "last": f"{url}?min_id=0&page=true",
                }
            )
        items = [{k: v for k, v in c.items() if k != "@context"} for c in creates]
        return self._ap_response(
            {
                "@context": [AS, NOTE_CONTEXT_MAP],
                "id": f"{url}?page=true",
                "type": "OrderedCollectionPage",
                "partOf": url,
                "orderedItems": items,
            }
        )

    async def _collection(self, request: web.Request) -> web.Response:
        account = self._account_or_404(request)
        name = request.match_info["collection"]
        if name not in ("featured", "tags"):
            raise web.HTTPNotFound()
        gate = await self._fetch_gate(request)
        if isinstance(gate, web.Response):
            return gate
        url = f"{self.actor_id(account.username)}/collections/{name}"
        if name == "featured":
            # ``CollectionsController#show``: the pinned notes inline, newest pin first, unpaged; those
            # only some may read are left out of an unsigned answer.
            notes = [
                {k: v for k, v in account.statuses[sid]["create"]["object"].items() if k != "@context"}
                for sid in reversed(account.pinned)
                if sid in account.statuses and account.statuses[sid]["visibility"] in ("public", "unlisted")
            ]
            return self._ap_response(
                {
                    "@context": [AS, NOTE_CONTEXT_MAP],
                    "id": url,
                    "type": "OrderedCollection",
                    "totalItems": len(notes),
                    "orderedItems": notes,
                }
            )
        return self._ap_response(
            {"@context": AS, "id": url, "type": "Collection", "totalItems": 0, "items": []}
        )

    async def _status(self, request: web.Request) -> web.Response:
        """A status and its ``/activity``; followers-only and direct ones only to a signer allowed to see them
        (Mastodon answers 404 rather than reveal them)."""
        account = self._account_or_404(request)
        stored = account.statuses.get(request.match_info["status"])
        if stored is None:
            raise web.HTTPNotFound()
        create = stored["create"]
        private = stored["visibility"] in ("private", "direct")
        gate = await self._fetch_gate(request, required=self.authorized_fetch or private)
        if isinstance(gate, web.Response):
            if self.authorized_fetch:
                return gate
            gate = None  # in public mode a bad or missing signature just means "anonymous": 404 below
        if private:
            audience = set(create["to"]) | set(create["cc"])
            allowed = gate in audience or (
                self.followers_url(account.username) in audience and gate in account.followers
            )
            if not allowed:
                raise web.HTTPNotFound()
        if request.path.endswith("/activity"):
            return self._ap_response(create)
        note = dict(create["object"])
        return self._ap_response({"@context": create["@context"], **note})

    # Inboxes

    async def _inbox(self, request: web.Request) -> web.Response:
        """``ActivityPub::InboxesController#create``: 413 over 1 MB, 202 for an unknown actor deleting itself,
        401 ``{"error": ...}`` for a bad signature, else 202 with an empty body."""
        if "name" in request.match_info:
            self._account_or_404(request)
        if request.content_length is not None and request.content_length > MAX_JSON_SIZE:
            return web.Response(status=413)
        body = await request.read()
        if len(body) > MAX_JSON_SIZE:
            return web.Response(status=413)
        try:
            document: Any = json.loads(body)
        except ValueError:
            document = None
        record = InboxRecord(
            request.path, request.headers.copy(), body, document, verified=False, error=None, status=202
        )
        self.inbox_log.append(record)
        if self._unknown_actor_deleting_itself(document):
            record.error = "unknown actor deleting itself: accepted without verification and discarded"
            await self._notify()
            return web.Response(status=202)
        try:
            record.key_id, record.signer = await self.verify_request(request, body)
        except SignatureError as exc:
            record.error, record.status = str(exc), exc.status
            await self._notify()
            return self._error(exc.status, str(exc))
        record.verified = True
        if record.signer != record.actor and isinstance(document, dict) and "signature" in document:
            record.ld_verified = await self._verify_ld(document, record.actor)
        if record.accepted and isinstance(document, dict):
            self._process(document)
        await self._notify()
        return web.Response(status=202)

    async def _verify_ld(self, document: dict[str, Any], actor: str | None) -> bool:
        """``LinkedDataSignature#verify_actor!`` for a relayed activity; the creator must be the actor's."""
        creator = document["signature"].get("creator") if isinstance(document["signature"], dict) else None
        if not isinstance(creator, str):
            return False
        try:
            key = await self._key_for(creator)
        except (SignatureError, PeerNetworkError, aiohttp.ClientError, TimeoutError, OSError):
            return False
        return key.owner == actor and ld_verify(document, key.public_key)

    def _unknown_actor_deleting_itself(self, document: Any) -> bool:
        if not isinstance(document, dict) or document.get("type") not in ("Delete", "Update"):
            return False
        actor = _id_of(document.get("actor"))
        return (
            actor is not None
            and actor == _id_of(document.get("object"))
            and not any(key.owner == actor for key in self.key_cache.values())
        )
