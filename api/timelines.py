"""Timelines and notifications, paged by id with a Link header."""

from aiohttp import web

from spark_fed.content import normalize_tag
from spark_fed.errors import NotFound
from spark_fed.http.responses import json_response
from spark_fed.queries.timelines import TimelineKind, notifications, one_notification, tag_timeline, timeline
from spark_fed.state import CONTEXT
from spark_fed.statuses import clear_notifications

from . import params
from .auth import optional, require
from .entities import notification_entity
from .lookup import api_id
from .paging import link_header
from .presenters import accounts_json, apply_filters, filtered_statuses_json, statuses_json

routes = web.RouteTableDef()


# Which of a filter's contexts applies where (Mastodon's: the public context covers every
# public timeline, the tag timelines too).
FILTER_CONTEXT = {TimelineKind.HOME: "home", TimelineKind.LOCAL: "public", TimelineKind.FEDERATED: "public"}


async def _page(request: web.Request, viewer, kind: TimelineKind) -> web.Response:
    ctx = request.app[CONTEXT]
    limit = params.limit(request)
    max_id = params.cursor(request, "max_id")
    async with ctx.db.read() as session:
        items = await timeline(session, viewer, kind, limit=limit, max_id=max_id)
        min_id = params.cursor(request, "min_id") or params.cursor(request, "since_id")
        rows = [i.status for i in items if min_id is None or i.status.id > min_id]
        context = FILTER_CONTEXT.get(kind, "home")
        entities = await filtered_statuses_json(session, rows, viewer, ctx.urls, context)
    # Paged by what was read, hidden posts included: the next page starts below them.
    return json_response(entities, headers=link_header(request, [r.id for r in rows]))


@routes.get("/api/v1/timelines/home")
async def home(request: web.Request) -> web.Response:
    return await _page(request, await require(request, "read:statuses"), TimelineKind.HOME)


@routes.get("/api/v1/timelines/public")
async def public(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:statuses")
    local = params.flag(request.query.get("local"), "local")
    return await _page(request, viewer, TimelineKind.LOCAL if local else TimelineKind.FEDERATED)


@routes.get("/api/v1/notifications")
async def notification_list(request: web.Request) -> web.Response:
    viewer = await require(request, "read:notifications")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        items = await notifications(
            session, viewer, limit=params.limit(request, 15, 30), max_id=params.cursor(request, "max_id")
        )
        page_ids = [i.notification.id for i in items]
        statuses = [i.status for i in items if i.status is not None]
        kept, matches = await apply_filters(session, viewer, statuses, "notifications")
        shown = {s.id for s in kept}
        items = [i for i in items if i.status is None or i.status.id in shown]
        by_id = {e["id"]: e for e in await statuses_json(session, kept, viewer, ctx.urls, filters=matches)}
        senders = await accounts_json(session, [i.sender for i in items], ctx.urls)
        entities = [
            notification_entity(
                i.notification.id,
                i.notification.type,
                i.notification.created_at,
                sender,
                by_id.get(str(i.status.id)) if i.status else None,
            )
            for i, sender in zip(items, senders, strict=True)
        ]
    return json_response(entities, headers=link_header(request, page_ids))


@routes.get("/api/v1/timelines/tag/{hashtag}")
async def tag(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        rows = await tag_timeline(
            session,
            normalize_tag(request.match_info["hashtag"]),
            limit=params.limit(request),
            max_id=params.cursor(request, "max_id"),
            reader=viewer,
        )
        entities = await filtered_statuses_json(session, rows, viewer, ctx.urls, "public")
    return json_response(entities, headers=link_header(request, [r.id for r in rows]))


@routes.get("/api/v1/notifications/{id}")
async def notification(request: web.Request) -> web.Response:
    viewer = await require(request, "read:notifications")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        found = await one_notification(session, viewer, api_id(request))
        if found is None:
            raise NotFound("Record not found")
        status = (await statuses_json(session, [found.status], viewer, ctx.urls))[0] if found.status else None
        [sender] = await accounts_json(session, [found.sender], ctx.urls)
    n = found.notification
    return json_response(notification_entity(n.id, n.type, n.created_at, sender, status))


@routes.post("/api/v1/notifications/clear")
async def clear(request: web.Request) -> web.Response:
    viewer = await require(request, "write:notifications")
    await clear_notifications(request.app[CONTEXT].db, viewer)
    return json_response({})


@routes.post("/api/v1/notifications/{id}/dismiss")
async def dismiss(request: web.Request) -> web.Response:
    viewer = await require(request, "write:notifications")
    await clear_notifications(request.app[CONTEXT].db, viewer, api_id(request))
    return json_response({})
