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


async def _page(
    request: web.Request, viewer, kind: TimelineKind, *, remote_only: bool = False
) -> web.Response:
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        items = await timeline(
            session,
            viewer,
            kind,
            limit=params.limit(request),
            cursor=params.page_cursor(request),
            only_media=params.flag(request.query.get("only_media"), "only_media"),
            remote_only=remote_only,
        )
        rows = [i.status for i in items]
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
    local = _local_or_remote(request)
    kind = TimelineKind.LOCAL if local else TimelineKind.FEDERATED
    return await _page(request, viewer, kind, remote_only=local is False)


@routes.get("/api/v1/notifications")
async def notification_list(request: web.Request) -> web.Response:
    viewer = await require(request, "read:notifications")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        items = await notifications(
            session,
            viewer,
            limit=params.limit(request, 40, 80),
            cursor=params.page_cursor(request),
            types=params.strings(request, "types") or None,
            exclude_types=params.strings(request, "exclude_types"),
            from_account_id=_account_id(request),
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


def _account_id(request: web.Request) -> int | None:
    """`account_id`: notifications from that account only; an id that names no one, none."""
    raw = request.query.get("account_id")
    if raw is None or raw == "":
        return None
    return int(raw) if params.is_id(raw) else -1


def _local_or_remote(request: web.Request) -> bool | None:
    """Mastodon's `local` and `remote` flags of the public timelines: True for this server's
    posts only, False for other servers' only, None for both (`local` wins if both are set)."""
    if params.flag(request.query.get("local"), "local"):
        return True
    if params.flag(request.query.get("remote"), "remote"):
        return False
    return None


def _tags(request: web.Request, name: str) -> list[str]:
    """`any[]`, `all[]` or `none[]` of a tag timeline: more tags, normalised, empty ones dropped,
    the first four kept (Mastodon's limit for each)."""
    return [tag for tag in (normalize_tag(t.lstrip("#")) for t in params.strings(request, name)) if tag][:4]


@routes.get("/api/v1/timelines/tag/{hashtag}")
async def tag(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        rows = await tag_timeline(
            session,
            normalize_tag(request.match_info["hashtag"]),
            limit=params.limit(request),
            cursor=params.page_cursor(request),
            reader=viewer,
            local=_local_or_remote(request),
            only_media=params.flag(request.query.get("only_media"), "only_media"),
            any_of=_tags(request, "any"),
            all_of=_tags(request, "all"),
            none_of=_tags(request, "none"),
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
