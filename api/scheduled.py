"""Scheduled posts: `scheduled_at` on `POST /api/v1/statuses`, and `/api/v1/scheduled_statuses`."""

from typing import Any

from aiohttp import web

from outbox import scheduled
from outbox.scheduled import Draft
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.responses import json_response
from spark_fed.models import Account, MediaAttachment, ScheduledStatus, Visibility
from spark_fed.queries.scheduled import scheduled_media, scheduled_of
from spark_fed.state import CONTEXT
from spark_fed.urls import Urls

from . import params
from .auth import bearer, require
from .entities import iso, media_entity
from .lookup import api_id
from .paging import link_header

routes = web.RouteTableDef()

TO_API_VISIBILITY = {Visibility.FOLLOWERS: "private"}


async def schedule(request: web.Request, viewer: Account, data: dict[str, Any], draft: Draft) -> web.Response:
    """`POST /api/v1/statuses` with `scheduled_at`: the ScheduledStatus, nothing posted yet."""
    if data.get("quoted_status_id"):
        raise UnprocessableEntity("Validation failed: a quote cannot be scheduled")
    found = await bearer(request)
    draft.application_id = found.token.app_id if found is not None else None
    ctx = request.app[CONTEXT]
    try:
        row = await scheduled.schedule(ctx, viewer, draft, scheduled.parse_time(_time_text(data)))
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return json_response(await _entity(request, row))


@routes.get("/api/v1/scheduled_statuses")
async def index(request: web.Request) -> web.Response:
    viewer = await require(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        rows = await scheduled_of(session, viewer.id, params.limit(request), params.page_cursor(request))
        media = await scheduled_media(session, [row.id for row in rows])
    entities = [scheduled_status_entity(row, media.get(row.id, []), ctx.urls) for row in rows]
    return json_response(entities, headers=link_header(request, [row.id for row in rows]))


@routes.get("/api/v1/scheduled_statuses/{id}")
async def show(request: web.Request) -> web.Response:
    viewer = await require(request, "read:statuses")
    return json_response(await _entity(request, await _own(request, viewer)))


@routes.put("/api/v1/scheduled_statuses/{id}")
async def update(request: web.Request) -> web.Response:
    """Only the time changes (as Mastodon's)."""
    viewer = await require(request, "write:statuses")
    row = await _own(request, viewer)
    data = await params.body(request)
    try:
        moved = await scheduled.reschedule(
            request.app[CONTEXT], viewer, row.id, scheduled.parse_time(_time_text(data))
        )
    except scheduled.ScheduledNotFound:
        raise NotFound("Record not found") from None
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return json_response(await _entity(request, moved))


@routes.delete("/api/v1/scheduled_statuses/{id}")
async def destroy(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    row = await _own(request, viewer)
    try:
        await scheduled.cancel(request.app[CONTEXT], viewer, row.id)
    except scheduled.ScheduledNotFound:
        raise NotFound("Record not found") from None
    return json_response({})


def scheduled_status_entity(row: ScheduledStatus, media: list[MediaAttachment], urls: Urls) -> dict[str, Any]:
    """Mastodon's ScheduledStatus: the time, the parameters as given and the uploads kept."""
    draft = Draft.from_json(row.params)
    return {
        "id": str(row.id),
        "scheduled_at": iso(row.scheduled_at),
        "params": {
            "text": draft.text,
            "visibility": TO_API_VISIBILITY.get(draft.visibility, draft.visibility),
            "spoiler_text": draft.spoiler_text,
            "sensitive": draft.sensitive,
            "language": draft.language,
            "in_reply_to_id": draft.in_reply_to_id,
            "media_ids": [str(i) for i in draft.media_ids] or None,
            "poll": draft.poll,
            "idempotency": None,
            "scheduled_at": None,
            "application_id": draft.application_id or 0,
            "with_rate_limit": False,
        },
        "media_attachments": [media_entity(m, urls) for m in media],
    }


async def _entity(request: web.Request, row: ScheduledStatus) -> dict[str, Any]:
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        media = await scheduled_media(session, [row.id])
    return scheduled_status_entity(row, media.get(row.id, []), ctx.urls)


async def _own(request: web.Request, viewer: Account) -> ScheduledStatus:
    try:
        return await scheduled.scheduled(request.app[CONTEXT], viewer, api_id(request))
    except scheduled.ScheduledNotFound:
        raise NotFound("Record not found") from None


def _time_text(data: dict[str, Any]) -> str:
    value = params.text(data.get("scheduled_at"))
    if not value:
        raise UnprocessableEntity("Validation failed: scheduled_at is required")
    return value
