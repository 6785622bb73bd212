"""Profiles: `/@name` for local accounts, `/@user@host` for remote ones, with their posts.

The same URL serves the actor's AS2 document to peers (for a local account),
so a profile link pasted into any fediverse search finds the account.
"""

import asyncio
import contextlib

from aiohttp import web

import actors.routes
from spark_fed.errors import NotFound, UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.http.negotiation import wants_activity_json
from spark_fed.models import Account
from spark_fed.queries.accounts import find_local_user, find_remote_by_handle
from spark_fed.queries.follows import follow_between
from spark_fed.queries.timelines import account_posts
from spark_fed.queries.views import account_counts
from spark_fed.state import CONTEXT

from ..auth import Viewer, viewer
from ..posts import views_of
from ..render import page
from .paging import PAGE_SIZE, max_id, next_page

routes = web.RouteTableDef()
# A first view waits this long for the account's outbox; a slow server shows what is known.
RECENT_POSTS_WAIT = 8.0


async def find_account(request: web.Request, name: str, who: Viewer | None) -> Account:
    """The account `/@NAME` names; a signed-in viewer may look up a remote one not yet known."""
    ctx = request.app[CONTEXT]
    user, _, host = name.partition("@")
    if host.lower() == ctx.urls.domain.lower():
        host = ""
    async with ctx.db.read() as session:
        found = (
            await find_remote_by_handle(session, user, host) if host else await find_local_user(session, user)
        )
    if found is None and host and who is not None:
        try:
            found = await ctx.actors.by_handle_or_url(f"{user}@{host}")
        except (ActorNotFound, UsageError):
            found = None
    if found is None or found.is_instance_actor:
        raise NotFound("no such account")
    return found


async def relationship(request: web.Request, who: Viewer | None, account: Account) -> str | None:
    """The viewer's follow of ACCOUNT: None, "pending" or "accepted" (what the button offers)."""
    if who is None or who.account.id == account.id:
        return None
    async with request.app[CONTEXT].db.read() as session:
        row = await follow_between(session, who.account.id, account.id)
    return row.state if row is not None and row.state != "rejected" else None


@routes.get("/@{username}")
async def profile(request: web.Request) -> web.StreamResponse:
    name = request.match_info["username"]
    if "@" not in name and wants_activity_json(request):
        return await actors.routes.actor(request)
    who = await viewer(request)
    account = await find_account(request, name, who)
    ctx = request.app[CONTEXT]
    if not account.is_local:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.recent_posts.fetch(account), RECENT_POSTS_WAIT)
    replies = request.query.get("tab") == "replies"
    reader = who.account if who else None
    async with ctx.db.read() as session:
        rows = await account_posts(
            session, reader, account, limit=PAGE_SIZE, max_id=max_id(request), replies=replies
        )
        views = await views_of(session, reader, rows)
        followers, following, statuses, _last = await account_counts(session, account.id)
    context = {
        "account": account,
        "posts": views,
        "more": next_page(request, [r.id for r in rows]),
        "counts": {"posts": statuses, "following": following, "followers": followers},
        "tab": "replies" if replies else "posts",
        "relationship": await relationship(request, who, account),
    }
    response = await page(request, "profile.html", who, context)
    if account.is_local:
        response.headers["Link"] = f'<{account.uri}>; rel="alternate"; type="application/activity+json"'
    return response
