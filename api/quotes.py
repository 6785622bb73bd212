"""Quotes of one's posts: the list (`GET /api/v1/statuses/:id/quotes`, the author only, as
Mastodon) and withdrawing an approval (`.../quotes/:quoting_status_id/revoke`)."""

from aiohttp import web

from outbox import quotes
from spark_fed.errors import Forbidden, UnprocessableEntity, UsageError
from spark_fed.http.ids import path_id
from spark_fed.http.responses import json_response
from spark_fed.queries.quotes import quotes_of
from spark_fed.state import CONTEXT

from . import params
from .auth import require
from .lookup import api_id, status_or_404
from .paging import link_header
from .presenters import statuses_json

routes = web.RouteTableDef()


@routes.get("/api/v1/statuses/{id}/quotes")
async def quote_list(request: web.Request) -> web.Response:
    viewer = await require(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        if status.account_id != viewer.id:
            raise Forbidden("This action is not allowed")
        found = await quotes_of(
            session, status.id, viewer, limit=params.limit(request), cursor=params.page_cursor(request)
        )
        entities = await statuses_json(session, [s for _, s in found], viewer, ctx.urls)
    return json_response(entities, headers=link_header(request, [quote_id for quote_id, _ in found]))


@routes.post("/api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    ctx = request.app[CONTEXT]
    quoting_id = path_id(request, "quoting_status_id", "Record not found")
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        quoting = await status_or_404(session, quoting_id, viewer)
    if status.account_id != viewer.id:
        raise Forbidden("This action is not allowed")
    try:
        await quotes.revoke(ctx, viewer, status, quoting)
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    async with ctx.db.read() as session:
        [entity] = await statuses_json(session, [quoting], viewer, ctx.urls)
    return json_response(entity)
