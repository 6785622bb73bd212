"""A post's page: the thread above it, the post, its replies and a reply box.

The post's `url` is this page, and it serves the note as AS2 to a peer that
asks for it, so a link copied from the browser works in any fediverse search.
"""

import asyncio

from aiohttp import web

import outbox.routes
from spark_fed.errors import NotFound
from spark_fed.http.ids import path_id
from spark_fed.http.negotiation import wants_activity_json
from spark_fed.models import Account, Status
from spark_fed.queries.statuses import mentioned_accounts
from spark_fed.queries.threads import thread
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT

from ..auth import Viewer, viewer
from ..names import handle, thread_path
from ..posts import THREAD, views_of
from ..render import page
from .profiles import find_account

routes = web.RouteTableDef()
# Opening a thread waits this long for missing posts above it to arrive from their servers.
PARENT_WAIT = 5.0


@routes.get("/@{username}/{status_id}")
async def show(request: web.Request) -> web.StreamResponse:
    name = request.match_info["username"]
    if "@" not in name and wants_activity_json(request):
        return await outbox.routes.status(request)
    who = await viewer(request)
    author = await find_account(request, name, None)
    status = await _status(request, who, author)
    if status.reblog_of_id is not None:
        async with request.app[CONTEXT].db.read() as session:
            original = await session.get(Status, status.reblog_of_id)
            original_author = await session.get(Account, original.account_id) if original else None
        if original is None or original_author is None:
            raise NotFound("the reposted post is gone")
        raise web.HTTPFound(thread_path(original_author, original.id))
    return await _thread_page(request, who, status)


async def _status(request: web.Request, who: Viewer | None, author: Account) -> Status:
    status_id = path_id(request, "status_id", "no such post")
    async with request.app[CONTEXT].db.read() as session:
        status = await visible_status(session, who.account if who else None, status_id)
    if status is None or status.account_id != author.id:
        raise NotFound("no such post")
    return status


async def _thread_page(request: web.Request, who: Viewer | None, status: Status) -> web.Response:
    ctx = request.app[CONTEXT]
    reader = who.account if who else None
    async with ctx.db.read() as session:
        found = await thread(session, reader, status)
    top = found.ancestors[0] if found.ancestors else status
    if top.in_reply_to_uri and top.in_reply_to_id is None:
        try:
            linked = await asyncio.wait_for(ctx.notes.link_parent(top), PARENT_WAIT)
        except TimeoutError:
            linked = None
        if linked is not None:
            async with ctx.db.read() as session:
                status = await session.get(Status, status.id) or status
                found = await thread(session, reader, status)
    async with ctx.db.read() as session:
        # One set of queries for the whole thread: ancestors, the post, replies.
        views = await views_of(session, reader, [*found.ancestors, status, *found.descendants], THREAD)
        mentioned = await mentioned_accounts(session, status.id)
    by_id = {v.row_id: v for v in views}
    ancestors = [by_id[r.id] for r in found.ancestors if r.id in by_id]
    focus = by_id.get(status.id)
    if focus is None:  # a muted word the viewer set to hide: the post opened is shown, marked
        [focus] = await _unfiltered(request, reader, status)
    replies = [by_id[r.id] for r in found.descendants if r.id in by_id]
    prefill = _reply_mentions(who, focus.author, mentioned)
    context = {
        "ancestors": ancestors,
        "focus": focus,
        "replies": replies,
        "prefill": prefill,
        "reply_visibility": status.visibility,
    }
    response = await page(request, "thread.html", who, context)
    if status.local:
        response.headers["Link"] = f'<{status.uri}>; rel="alternate"; type="application/activity+json"'
    return response


async def _unfiltered(request: web.Request, reader: Account | None, status: Status):
    async with request.app[CONTEXT].db.read() as session:
        return await views_of(session, reader, [status])


def _reply_mentions(who: Viewer | None, author: Account, mentioned: list[Account]) -> str:
    """`@author @others ` for the reply box, without the viewer and with full handles for remote accounts."""
    if who is None:
        return ""
    seen: list[str] = []
    for account in [author, *mentioned]:
        if account.id == who.account.id:
            continue
        text = handle(account)
        if text not in seen:
            seen.append(text)
    return " ".join(seen) + " " if seen else ""
