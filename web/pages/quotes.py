"""Quoting from the web: the page with the composer and the post to quote (it works without
JavaScript), and the quoted author's button that removes their post from a quote."""

from aiohttp import web

from outbox import quotes
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.ids import path_id
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT

from ..auth import form_of, require_viewer
from ..posts import views_of
from ..render import page
from .actions import post_id
from .signin import safe_next

routes = web.RouteTableDef()


@routes.get("/web/statuses/{id}/quote")
async def quote_page(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await visible_status(session, who.account, post_id(request))
        if status is None or status.reblog_of_id is not None:
            raise NotFound("no such post")
        [view] = await views_of(session, who.account, [status])
    problem = ""
    try:
        await quotes.quotable(ctx, who.account, status)
    except UsageError as exc:
        problem = f"You cannot quote this post: {exc}."
    return await page(request, "quote.html", who, {"view": view, "problem": problem})


@routes.post("/web/statuses/{id}/quotes/{quoting_id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        quoted = await visible_status(session, who.account, post_id(request))
        quoting = await visible_status(session, who.account, path_id(request, "quoting_id", "no such post"))
    if quoted is None or quoting is None:
        raise NotFound("no such post")
    try:
        await quotes.revoke(ctx, who.account, quoted, quoting)
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    raise web.HTTPSeeOther(safe_next(form.get("next")))
