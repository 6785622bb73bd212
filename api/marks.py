"""Bookmarks, favourites and pins: marking a status, and the Bookmarks and Favourites lists.

The lists page by the mark's own id (Link headers carry it), as Mastodon's do: a post liked
today of a year ago comes first."""

from collections.abc import Awaitable, Callable

from aiohttp import web

from outbox import bookmarks, pins
from outbox.posts import StatusNotFound
from spark_fed.context import Context
from spark_fed.errors import NotFound, UnprocessableEntity
from spark_fed.http.responses import json_response
from spark_fed.models import Account, Status
from spark_fed.queries import marks
from spark_fed.state import CONTEXT

from . import params
from .auth import require
from .lookup import api_id, status_or_404
from .paging import link_header
from .presenters import statuses_json

routes = web.RouteTableDef()

Mark = Callable[[Context, Account, int], Awaitable[Status]]


def _marking(action: Mark, scope: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that applies ACTION to the status and answers with the status entity."""

    async def handler(request: web.Request) -> web.Response:
        viewer = await require(request, scope)
        ctx = request.app[CONTEXT]
        async with ctx.db.read() as session:
            status = await status_or_404(session, api_id(request), viewer)
        try:
            status = await action(ctx, viewer, status.id)
        except pins.PinRefused as exc:
            raise UnprocessableEntity(f"Validation failed: {exc}") from None
        except StatusNotFound:
            raise NotFound("Record not found") from None
        async with ctx.db.read() as session:
            fresh = await session.get(Status, status.id)
            [entity] = await statuses_json(session, [fresh or status], viewer, ctx.urls)
        return json_response(entity)

    return handler


routes.post("/api/v1/statuses/{id}/bookmark")(_marking(bookmarks.bookmark, "write:bookmarks"))
routes.post("/api/v1/statuses/{id}/unbookmark")(_marking(bookmarks.unbookmark, "write:bookmarks"))
routes.post("/api/v1/statuses/{id}/pin")(_marking(pins.pin, "write:accounts"))
routes.post("/api/v1/statuses/{id}/unpin")(_marking(pins.unpin, "write:accounts"))


@routes.get("/api/v1/bookmarks")
async def bookmark_list(request: web.Request) -> web.Response:
    return await _list(request, "read:bookmarks", marks.bookmarked)


@routes.get("/api/v1/favourites")
async def favourite_list(request: web.Request) -> web.Response:
    return await _list(request, "read:favourites", marks.favourited)


Listing = Callable[..., Awaitable[list[tuple[int, Status]]]]


async def _list(request: web.Request, scope: str, query: Listing) -> web.Response:
    """A page of QUERY's (mark id, status) pairs as status entities, linked by the mark ids."""
    viewer = await require(request, scope)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        found = await query(session, viewer, limit=params.limit(request), cursor=params.page_cursor(request))
        entities = await statuses_json(session, [status for _, status in found], viewer, ctx.urls)
    return json_response(entities, headers=link_header(request, [mark_id for mark_id, _ in found]))
