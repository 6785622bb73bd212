"""POST /inbox and /users/NAME/inbox: verify, store durably, answer 202; processing comes later."""

import hashlib
import logging
import re
from datetime import timedelta
from typing import Any

from aiohttp import web

from spark_fed import domain_policy
from spark_fed.cache import TTLCache
from spark_fed.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from spark_fed.federation.authentication import NotAuthenticated, authenticate
from spark_fed.federation.documents import host_of, id_of
from spark_fed.http.json_body import parse_json
from spark_fed.http.negotiation import media_type
from spark_fed.queries.accounts import find_by_uri, find_local_user
from spark_fed.queue.intake import IntakeOverloaded
from spark_fed.signatures import REPLAY_WINDOW
from spark_fed.state import CONTEXT, HOST_HEALTH, INTAKE

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

RECIPIENTS = web.AppKey("inbox_recipients", TTLCache[int])
REDELIVERY_MEMORY = max(timedelta(days=2), timedelta(seconds=REPLAY_WINDOW))
"""How long the inbox remembers what it received (by `_dedup_key`), so that a redelivery, or the
same signed request replayed, is dropped. Never shorter than the span over which one signature is
accepted: a replay that still passes the signature check always finds the first copy remembered.
Two days also outlasts a sender's early retries."""


def setup(app: web.Application) -> None:
    app[RECIPIENTS] = TTLCache(size=4096, seconds=60.0)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# keyId="…" in draft-cavage's Signature, keyid="…" in RFC 9421's Signature-Input.
_KEY_ID = re.compile(r'keyid="([^"]{1,2048})"', re.IGNORECASE)
READABLE_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})


@routes.post("/inbox")
@routes.post("/actor/inbox")
@routes.post("/users/{username}/inbox")
async def receive(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    policy = await domain_policy.refresh(ctx.db)
    _refuse_suspended_signer(policy, request.headers)
    recipient_id = await _recipient_id(request)
    if media_type(request.headers.get("Content-Type")) not in READABLE_TYPES:
        raise UnsupportedMediaType("Content-Type must be application/activity+json or application/ld+json")
    body = await _read_body(request, ctx.config.federation.max_body_bytes)
    activity = _parse(body)
    _refuse_suspended_actor(policy, id_of(activity.get("actor")) or "")
    if _is_unknown_self_delete(activity) and not await _known_actor(request, activity["actor"]):
        # Mastodon's shortcut: an actor we never knew deleting itself needs no key fetch.
        return web.Response(status=202)
    try:
        signer = await authenticate(
            ctx.keys, ctx.config, request.method, request.raw_path, request.headers, body
        )
    except NotAuthenticated as exc:
        raise Unauthorized(str(exc)) from None
    await request.app[HOST_HEALTH].recovered(host_of(signer.uri))
    if id_of(activity.get("actor")) != signer.uri:
        # Forwarded or relayed: without an LD signature or proof that vouches for it, drop it.
        # A 401 would only make an honest forwarder retry for days (docs/decisions.md).
        log.info("dropping %s from %s: signed by %s", activity.get("type"), activity.get("actor"), signer.uri)
        return web.Response(status=202)
    try:
        await request.app[INTAKE].submit(
            dedup_key=_dedup_key(signer.uri, activity, body),
            actor_uri=signer.uri,
            recipient_id=recipient_id,
            body=body.decode("utf-8"),
        )
    except IntakeOverloaded as exc:
        raise ServiceUnavailable(str(exc)) from None
    return web.Response(status=202)


def _refuse_suspended_signer(policy: domain_policy.DomainPolicy, headers: Any) -> None:
    """403 at once for a keyId on a suspended domain or of a suspended actor: no key is fetched,
    no signature checked, nothing written (the policy is in memory)."""
    for name in ("Signature", "Signature-Input"):
        value = headers.get(name)
        if not value:
            continue
        for key_id in _KEY_ID.findall(value):
            _refuse_suspended_actor(policy, key_id.split("#", 1)[0], what="signing key")


def _refuse_suspended_actor(policy: domain_policy.DomainPolicy, uri: str, what: str = "actor") -> None:
    if not uri:
        return
    if policy.is_suspended(host_of(uri)):
        raise Forbidden(f"the {what}'s server is suspended here")
    if policy.actor_suspended(uri):
        raise Forbidden(f"the {what} is suspended here")


async def _recipient_id(request: web.Request) -> int | None:
    """The local user whose inbox this is; cached, as it is asked on every delivery to them."""
    username = request.match_info.get("username")
    if username is None:
        return None
    cache = request.app[RECIPIENTS]
    account_id = cache.get(username.lower())
    if account_id is None:
        async with request.app[CONTEXT].db.read() as session:
            account = await find_local_user(session, username)
        if account is None:
            raise NotFound("no such user")
        account_id = account.id
        cache.put(username.lower(), account_id)
    return account_id


async def _read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    try:
        return await request.read()  # bounded by the app's client_max_size, chunked or not
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes") from None


def _parse(body: bytes) -> dict[str, Any]:
    activity = parse_json(body)
    if not isinstance(activity, dict):
        raise BadRequest("the body is not a JSON object")
    if not isinstance(activity.get("type"), str) or not isinstance(id_of(activity.get("actor")), str):
        raise BadRequest("an activity needs a type and an actor")
    activity_id = activity.get("id")
    if activity_id is not None and (
        not isinstance(activity_id, str) or len(activity_id) > 2000 or _CONTROL.search(activity_id)
    ):
        raise BadRequest("the activity id must be a URL of at most 2000 characters")
    return activity


def _is_unknown_self_delete(activity: dict[str, Any]) -> bool:
    return activity.get("type") == "Delete" and id_of(activity.get("object")) == id_of(activity.get("actor"))


async def _known_actor(request: web.Request, actor: Any) -> bool:
    async with request.app[CONTEXT].db.read() as session:
        return await find_by_uri(session, id_of(actor) or "") is not None


def _dedup_key(signer: str, activity: dict[str, Any], body: bytes) -> str:
    """The signer's own id for the activity: another server reusing that id cannot shadow it."""
    activity_id = activity.get("id")
    if isinstance(activity_id, str) and activity_id:
        key = f"{signer} {activity_id}"
        return key if len(key) <= 2048 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return "sha256:" + hashlib.sha256(body).hexdigest()
