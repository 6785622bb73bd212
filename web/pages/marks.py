"""Bookmarks and pins in the web interface: the buttons, the menu's Pin, and the Bookmarks page.

Each button is a form that works without JavaScript (303 back to the page); the page's script
asks for JSON instead (`Accept: application/json`) and swaps the button in place, as it does
for likes.
"""

from collections.abc import Awaitable, Callable

from aiohttp import web

from outbox import bookmarks, pins
from outbox.posts import StatusNotFound
from spark_fed.context import Context
from spark_fed.errors import NotFound, UnprocessableEntity
from spark_fed.http.ids import path_id
from spark_fed.models import Account, Status
from spark_fed.queries.marks import bookmarked
from spark_fed.queries.paging import NEWEST
from spark_fed.state import CONTEXT

from ..auth import form_of, require_viewer
from ..posts import views_of
from ..render import page
from .paging import PAGE_SIZE, max_id, next_page
from .signin import safe_next

routes = web.RouteTableDef()

Mark = Callable[[Context, Account, int], Awaitable[Status]]


def _marking(action: Mark, pressed: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        who, form = await form_of(request)
        status_id = path_id(request, "id", "no such post")
        try:
            await action(request.app[CONTEXT], who.account, status_id)
        except pins.PinRefused as exc:
            raise UnprocessableEntity(str(exc)) from None
        except StatusNotFound:
            raise NotFound("no such post") from None
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response({"pressed": pressed})
        raise web.HTTPSeeOther(safe_next(form.get("next")))

    return handler


routes.post("/web/statuses/{id}/bookmark")(_marking(bookmarks.bookmark, True))
routes.post("/web/statuses/{id}/unbookmark")(_marking(bookmarks.unbookmark, False))
routes.post("/web/statuses/{id}/pin")(_marking(pins.pin, True))
routes.post("/web/statuses/{id}/unpin")(_marking(pins.unpin, False))


@routes.get("/bookmarks")
async def bookmark_list(request: web.Request) -> web.Response:
    """The viewer's bookmarks, the newest bookmark first; "Load more" pages by the bookmark."""
    who = await require_viewer(request)
    async with request.app[CONTEXT].db.read() as session:
        found = await bookmarked(session, who.account, limit=PAGE_SIZE, cursor=NEWEST.below(max_id(request)))
        views = await views_of(session, who.account, [status for _, status in found])
    context = {"posts": views, "more": next_page(request, [mark_id for mark_id, _ in found])}
    return await page(request, "bookmarks.html", who, context)
