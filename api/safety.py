"""Blocks, mutes and domain blocks: Mastodon's endpoints, all through `outbox.safety`."""

import contextlib
from datetime import timedelta
from typing import Any

from aiohttp import web

from outbox import safety
from spark_fed.errors import UnprocessableEntity, UsageError
from spark_fed.http.responses import json_response
from spark_fed.models import Account
from spark_fed.queries.safety import list_blocks, list_domain_blocks, list_mutes
from spark_fed.state import CONTEXT

from . import params
from .accounts import relationship_with
from .auth import require
from .entities import iso
from .lookup import account_or_404, api_id
from .paging import link_header
from .presenters import accounts_json

routes = web.RouteTableDef()

MAX_MUTE_SECONDS = 100 * 365 * 24 * 3600  # a century: longer is "for ever"
MAX_DOMAIN = 255


async def _other(request: web.Request) -> Account:
    async with request.app[CONTEXT].db.read() as session:
        return await account_or_404(session, api_id(request))


@routes.post("/api/v1/accounts/{id}/block")
async def block(request: web.Request) -> web.Response:
    viewer = await require(request, "write:blocks")
    other = await _other(request)
    try:
        await safety.block(request.app[CONTEXT], viewer, other.uri)
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return await relationship_with(request, viewer, other)


@routes.post("/api/v1/accounts/{id}/unblock")
async def unblock(request: web.Request) -> web.Response:
    viewer = await require(request, "write:blocks")
    other = await _other(request)
    with contextlib.suppress(UsageError):  # not blocking: Mastodon answers all the same
        await safety.unblock(request.app[CONTEXT], viewer, other.uri)
    return await relationship_with(request, viewer, other)


def _duration(value: object) -> timedelta | None:
    """Seconds; 0 or nothing: for ever (Mastodon's)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise UnprocessableEntity("Validation failed: duration must be a number of seconds")
    seconds = int(str(value).strip())
    if seconds > MAX_MUTE_SECONDS:
        raise UnprocessableEntity(f"Validation failed: duration is at most {MAX_MUTE_SECONDS} seconds")
    return timedelta(seconds=seconds) if seconds else None


@routes.post("/api/v1/accounts/{id}/mute")
async def mute(request: web.Request) -> web.Response:
    viewer = await require(request, "write:mutes")
    other = await _other(request)
    data = await params.body(request)
    notifications = params.flag(data.get("notifications"), "notifications", True)
    duration = _duration(data.get("duration"))
    try:
        await safety.mute(
            request.app[CONTEXT], viewer, other.uri, notifications=notifications, duration=duration
        )
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return await relationship_with(request, viewer, other)


@routes.post("/api/v1/accounts/{id}/unmute")
async def unmute(request: web.Request) -> web.Response:
    viewer = await require(request, "write:mutes")
    other = await _other(request)
    with contextlib.suppress(UsageError):  # not muting: answered all the same
        await safety.unmute(request.app[CONTEXT], viewer, other.uri)
    return await relationship_with(request, viewer, other)


@routes.get("/api/v1/blocks")
async def blocks(request: web.Request) -> web.Response:
    viewer = await require(request, "read:blocks")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        rows = await list_blocks(
            session, viewer.id, limit=params.limit(request, 40, 80), cursor=params.page_cursor(request)
        )
        entities = await accounts_json(session, [a for _b, a in rows], ctx.urls)
    return json_response(entities, headers=link_header(request, [b.id for b, _a in rows]))


@routes.get("/api/v1/mutes")
async def mutes(request: web.Request) -> web.Response:
    viewer = await require(request, "read:mutes")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        rows = await list_mutes(
            session, viewer.id, limit=params.limit(request, 40, 80), cursor=params.page_cursor(request)
        )
        entities = await accounts_json(session, [a for _m, a in rows], ctx.urls)
    for entity, (row, _a) in zip(entities, rows, strict=True):
        entity["mute_expires_at"] = iso(row.expires_at)  # Mastodon adds it in this list
    return json_response(entities, headers=link_header(request, [m.id for m, _a in rows]))


@routes.get("/api/v1/domain_blocks")
async def domain_blocks(request: web.Request) -> web.Response:
    viewer = await require(request, "read:blocks")
    async with request.app[CONTEXT].db.read() as session:
        rows = await list_domain_blocks(
            session, viewer.id, limit=params.limit(request, 100, 200), cursor=params.page_cursor(request)
        )
    return json_response([r.domain for r in rows], headers=link_header(request, [r.id for r in rows]))


async def _domain(request: web.Request) -> str:
    """`domain` from the body (a form or JSON) or, for DELETE, the query string as well."""
    data: dict[str, Any] = await params.body(request)
    value = params.text(data.get("domain", request.query.get("domain")))
    domain = (value or "").strip()
    if not domain:
        raise UnprocessableEntity("Validation failed: domain can't be blank")
    if len(domain) > MAX_DOMAIN:
        raise UnprocessableEntity("Validation failed: domain is too long")
    return domain


@routes.post("/api/v1/domain_blocks")
async def block_domain(request: web.Request) -> web.Response:
    viewer = await require(request, "write:blocks")
    domain = await _domain(request)
    try:
        await safety.block_domain(request.app[CONTEXT], viewer, domain)
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return json_response({})


@routes.delete("/api/v1/domain_blocks")
async def unblock_domain(request: web.Request) -> web.Response:
    viewer = await require(request, "write:blocks")
    domain = await _domain(request)
    with contextlib.suppress(UsageError):  # not blocked: nothing to undo, as Mastodon answers
        await safety.unblock_domain(request.app[CONTEXT], viewer, domain)
    return json_response({})
