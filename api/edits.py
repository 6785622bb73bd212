"""A status's edit history and its source: `/api/v1/statuses/:id/history` and `/source`."""

from typing import Any

from aiohttp import web

from spark_fed.errors import NotFound
from spark_fed.http.responses import json_response
from spark_fed.models import Account
from spark_fed.queries.edits import Revision, revisions
from spark_fed.state import CONTEXT
from spark_fed.urls import Urls

from .auth import optional, require
from .entities import iso, media_entity
from .lookup import api_id, status_or_404
from .presenters import account_json

routes = web.RouteTableDef()


@routes.get("/api/v1/statuses/{id}/history")
async def history(request: web.Request) -> web.Response:
    """Every revision of a status the viewer may see, oldest first, the current one last."""
    viewer = await optional(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        author = await session.get(Account, status.account_id)
        account = await account_json(session, author, ctx.urls)
        found = await revisions(session, status)
    return json_response([status_edit_entity(r, account, ctx.urls) for r in found])


@routes.get("/api/v1/statuses/{id}/source")
async def source(request: web.Request) -> web.Response:
    """What the author typed, for editing it: one's own posts only (others' are 404)."""
    viewer = await require(request, "read:statuses")
    async with request.app[CONTEXT].db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
    if status.account_id != viewer.id or status.reblog_of_id is not None:
        raise NotFound("Record not found")
    return json_response({"id": str(status.id), "text": status.text or "", "spoiler_text": status.summary})


def status_edit_entity(revision: Revision, account: dict[str, Any], urls: Urls) -> dict[str, Any]:
    """Mastodon's StatusEdit; each attachment carries the description it had then."""
    return {
        "content": revision.content,
        "spoiler_text": revision.summary,
        "sensitive": revision.sensitive,
        "created_at": iso(revision.created_at),
        "account": account,
        "poll": revision.poll,
        "media_attachments": [
            {**media_entity(media, urls), "description": description or None}
            for media, description in revision.media
        ],
        "emojis": [],
    }
