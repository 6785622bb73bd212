"""Home, the landing page for visitors, Explore (local and federated) and tag pages."""

from aiohttp import web

from spark_fed.content import normalize_tag
from spark_fed.errors import NotFound
from spark_fed.queries.timelines import TimelineKind, tag_timeline, timeline
from spark_fed.state import CONTEXT

from ..auth import Viewer, require_viewer, viewer
from ..posts import HOME, PUBLIC, post_views, views_of
from ..render import page
from .paging import PAGE_SIZE, max_id, next_page

routes = web.RouteTableDef()


async def _timeline(request: web.Request, who: Viewer | None, kind: TimelineKind, where: str) -> dict:
    db = request.app[CONTEXT].db
    reader = who.account if who else None
    async with db.read() as session:
        items = await timeline(session, reader, kind, limit=PAGE_SIZE, max_id=max_id(request))
        views = await post_views(session, reader, items, where)
    return {"posts": views, "more": next_page(request, [i.status.id for i in items])}


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    who = await viewer(request)
    if who is None:
        context = await _timeline(request, None, TimelineKind.LOCAL, PUBLIC)
        return await page(request, "landing.html", None, context)
    context = await _timeline(request, who, TimelineKind.HOME, HOME)
    newest = max((p.row_id for p in context["posts"]), default=0)
    return await page(request, "home.html", who, {**context, "newest": newest})


@routes.get("/web/timelines/home/newer")
async def newer(request: web.Request) -> web.Response:
    """How many home posts are newer than `since_id`: what the "Show N new posts" bar polls."""
    who = await require_viewer(request)
    raw = request.query.get("since_id", "")
    since = int(raw) if raw.isdigit() and len(raw) < 20 else 0
    async with request.app[CONTEXT].db.read() as session:
        items = await timeline(session, who.account, TimelineKind.HOME, limit=PAGE_SIZE + 1)
    return web.json_response({"count": sum(1 for i in items if i.status.id > since)})


@routes.get("/explore")
async def explore(request: web.Request) -> web.Response:
    who = await viewer(request)
    context = await _timeline(request, who, TimelineKind.LOCAL, PUBLIC)
    return await page(request, "explore.html", who, {**context, "tab": "local"})


@routes.get("/explore/federated")
async def federated(request: web.Request) -> web.Response:
    who = await viewer(request)
    context = await _timeline(request, who, TimelineKind.FEDERATED, PUBLIC)
    return await page(request, "explore.html", who, {**context, "tab": "federated"})


@routes.get("/tags/{name}")
async def tag(request: web.Request) -> web.Response:
    who = await viewer(request)
    name = normalize_tag(request.match_info["name"])
    if not name:
        raise NotFound("no such tag")
    reader = who.account if who else None
    async with request.app[CONTEXT].db.read() as session:
        rows = await tag_timeline(session, name, limit=PAGE_SIZE, max_id=max_id(request), reader=reader)
        views = await views_of(session, reader, rows, PUBLIC)
    context = {"tag": name, "posts": views, "more": next_page(request, [r.id for r in rows])}
    return await page(request, "tag.html", who, context)
