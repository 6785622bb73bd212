"""Statuses: post, read, edit, delete, thread context, favourite and reblog; all through outbox."""

import asyncio

from aiohttp import web

from outbox import interactions, posts
from outbox.scheduled import Draft, post_now
from spark_fed.accounts import posting_defaults
from spark_fed.cache import TTLCache
from spark_fed.errors import UnprocessableEntity, UsageError
from spark_fed.http.responses import json_response
from spark_fed.media.service import MAX_ATTACHMENTS
from spark_fed.models import Status, Visibility
from spark_fed.queries.threads import thread
from spark_fed.state import CONTEXT

from . import params
from .auth import optional, require
from .lookup import api_id, status_or_404
from .polls import poll_spec
from .presenters import apply_filters, filtered_statuses_json, statuses_json
from .scheduled import schedule

routes = web.RouteTableDef()

# Idempotency-Key: a retried POST (a flaky phone connection) must not post twice. Kept an hour,
# as Mastodon does; per process, which covers a client retrying against the same server.
IDEMPOTENT = web.AppKey("api_idempotent_posts", TTLCache)


def setup(app: web.Application) -> None:
    app[IDEMPOTENT] = TTLCache(size=10_000, seconds=3600.0)


FROM_API_VISIBILITY = {"private": Visibility.FOLLOWERS}


async def _one(request: web.Request, status: Status, viewer) -> web.Response:
    return json_response(await _entity(request, status, viewer))


async def _entity(request: web.Request, status: Status, viewer) -> dict:
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        refreshed = await session.get(Status, status.id)
        # One status on its own: `filtered` names every filter it matches, for the app to decide.
        rows, matches = await apply_filters(session, viewer, [refreshed or status], None)
        [entity] = await statuses_json(session, rows, viewer, ctx.urls, filters=matches)
    return entity


@routes.post("/api/v1/statuses")
async def create(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    if (data := await params.body(request)).get("scheduled_at"):
        return await schedule(request, viewer, data, await post_draft(request, viewer, data))
    key = request.headers.get("Idempotency-Key")
    if not key:
        return await _create(request, viewer)
    seen = request.app[IDEMPOTENT]
    cache_key = f"{viewer.id}:{key[:200]}"
    running = seen.get(cache_key)
    if running is None:
        running = asyncio.ensure_future(_create_status(request, viewer))
        seen.put(cache_key, running)
    try:
        status = await asyncio.shield(running)
    except Exception:
        seen.put(cache_key, None)  # a failed attempt may be retried with the same key
        raise
    return await _one(request, status, viewer)


async def _create(request: web.Request, viewer) -> web.Response:
    return await _one(request, await _create_status(request, viewer), viewer)


async def _create_status(request: web.Request, viewer) -> Status:
    ctx = request.app[CONTEXT]
    data = await params.body(request)
    draft = await post_draft(request, viewer, data)
    parent = None
    if draft.in_reply_to_id is not None:
        async with ctx.db.read() as session:
            parent = await status_or_404(session, draft.in_reply_to_id, viewer)
    quoted = None
    if data.get("quoted_status_id"):
        async with ctx.db.read() as session:
            quoted = await status_or_404(session, _int(data["quoted_status_id"]), viewer)
    try:
        status = await post_now(
            ctx,
            viewer,
            draft,
            parent,
            quote=quoted,
            quote_policy=params.text(data.get("quote_approval_policy")) or None,
        )
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return status


async def post_draft(request: web.Request, viewer, data: dict) -> Draft:
    """The post a `POST /api/v1/statuses` body asks for, with the account's defaults filled in."""
    text = params.text(data.get("status")) or ""
    media_ids = _media_ids(data.get("media_ids")) or []
    if not text.strip() and not media_ids and not data.get("quoted_status_id"):
        raise UnprocessableEntity("Validation failed: Text can't be blank")
    defaults = await posting_defaults(request.app[CONTEXT].db, viewer)
    visibility = params.text(data.get("visibility")) or defaults.default_visibility
    return Draft.with_poll(
        poll_spec(data),
        text=text,
        visibility=FROM_API_VISIBILITY.get(visibility, visibility),
        spoiler_text=params.text(data.get("spoiler_text")) or None,
        sensitive=params.flag(data.get("sensitive"), "sensitive", defaults.default_sensitive),
        language=_language(data.get("language")) or defaults.default_language,
        in_reply_to_id=_int(data["in_reply_to_id"]) if data.get("in_reply_to_id") else None,
        media_ids=media_ids,
    )


@routes.get("/api/v1/statuses/{id}")
async def show(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:statuses")
    async with request.app[CONTEXT].db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
    return await _one(request, status, viewer)


@routes.put("/api/v1/statuses/{id}")
async def edit(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
    data = await params.body(request)
    text = params.text(data.get("status")) or ""
    media_ids = _media_ids(data.get("media_ids"))  # None: the post keeps its images
    if not text.strip() and not media_ids:
        raise UnprocessableEntity("Validation failed: Text can't be blank")
    try:
        status = await posts.edit(
            ctx,
            viewer,
            status.uri,
            text,
            media_ids=media_ids,
            cw=params.text(data.get("spoiler_text")) if "spoiler_text" in data else None,
            sensitive=params.flag(data["sensitive"], "sensitive") if "sensitive" in data else None,
            descriptions=_descriptions(data.get("media_attributes")),
        )
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return await _one(request, status, viewer)


@routes.delete("/api/v1/statuses/{id}")
async def delete(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        [entity] = await statuses_json(session, [status], viewer, ctx.urls)
    try:
        await posts.delete(ctx, viewer, status.uri)
    except UsageError:
        raise UnprocessableEntity("Validation failed: not your status") from None
    entity["text"] = status.text or ""
    return json_response(entity)


@routes.get("/api/v1/statuses/{id}/context")
async def context(request: web.Request) -> web.Response:
    """Ancestors up the reply chain (bounded), descendants below (breadth-first, bounded)."""
    viewer = await optional(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        found = await thread(session, viewer, status)

        def page(rows: list[Status]) -> tuple:
            return session, rows, viewer, ctx.urls

        return json_response(
            {
                "ancestors": await filtered_statuses_json(*page(found.ancestors), "thread"),
                "descendants": await filtered_statuses_json(*page(found.descendants), "thread"),
            }
        )


def _interaction(action, scope: str):
    async def handler(request: web.Request) -> web.Response:
        viewer = await require(request, scope)
        ctx = request.app[CONTEXT]
        async with ctx.db.read() as session:
            status = await status_or_404(session, api_id(request), viewer)
        try:
            done = await action(ctx, viewer, status.uri)
        except UsageError as exc:
            if action in (interactions.unlike, interactions.unboost):
                return await _one(request, status, viewer)  # undoing what is not there is fine
            raise UnprocessableEntity(f"Validation failed: {exc}") from None
        if action is not interactions.boost:
            return await _one(request, status, viewer)
        # Mastodon answers a reblog with the boost, the reblogged status inside it; the boost's
        # own `reblogged` and `favourited` are the reblogged status's, as Mastodon reads them.
        entity = await _entity(request, done, viewer)
        for flag in ("reblogged", "favourited"):
            entity[flag] = entity["reblog"][flag]
        return json_response(entity)

    return handler


routes.post("/api/v1/statuses/{id}/favourite")(_interaction(interactions.like, "write:favourites"))
routes.post("/api/v1/statuses/{id}/unfavourite")(_interaction(interactions.unlike, "write:favourites"))
routes.post("/api/v1/statuses/{id}/reblog")(_interaction(interactions.boost, "write:statuses"))
routes.post("/api/v1/statuses/{id}/unreblog")(_interaction(interactions.unboost, "write:statuses"))


def _int(value: object) -> int:
    if not params.is_id(value):
        raise UnprocessableEntity("Validation failed: not an id")
    return int(str(value))


def _media_ids(value: object) -> list[int] | None:
    """`media_ids[]` (a form) or `media_ids` (a JSON list): the caller's uploads, in order, at most
    four (`outbox.posts` checks whose they are). Absent: None; empty entries are dropped, so
    `media_ids[]=` (or `[]` in JSON) says "no images"."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    ids = [str(v).strip() for v in values if not isinstance(v, bool) and str(v).strip()]
    if any(not params.is_id(v) for v in ids) or any(isinstance(v, (dict, list, bool)) for v in values):
        raise UnprocessableEntity("Validation failed: media_ids must be ids of your uploads")
    if len(ids) > MAX_ATTACHMENTS:
        raise UnprocessableEntity(f"Validation failed: a post has at most {MAX_ATTACHMENTS} images")
    return [int(v) for v in ids]


def _descriptions(value: object) -> dict[int, str] | None:
    """`media_attributes` (JSON: `[{"id", "description"}]`): the images' descriptions anew."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    found: dict[int, str] = {}
    for item in items:
        if not isinstance(item, dict) or not params.is_id(item.get("id")):
            raise UnprocessableEntity("Validation failed: media_attributes must name media by id")
        if "description" in item:
            found[int(str(item["id"]))] = params.text(item["description"]) or ""
    return found


def _language(value: object) -> str | None:
    """An ISO 639 code (2-3 letters, maybe a region): what clients send and peers read."""
    code = params.text(value)
    if not code:
        return None
    if len(code) > 16 or not all(c.isalnum() or c == "-" for c in code):
        raise UnprocessableEntity("Validation failed: language is not a language code")
    return code
