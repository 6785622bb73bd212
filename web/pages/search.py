"""Search: a handle finds the account (asking its server), a URL fetches the post, `#tag` opens the tag,
other words find known accounts by name."""

from urllib.parse import quote

from aiohttp import web

from spark_fed.content import normalize_tag
from spark_fed.errors import UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Account, Status
from spark_fed.queries.accounts import search_accounts
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT

from ..auth import Viewer, viewer
from ..posts import PostView, views_of
from ..render import page

routes = web.RouteTableDef()
MAX_QUERY = 512
MAX_ACCOUNTS = 20


@routes.get("/search")
async def search(request: web.Request) -> web.Response:
    who = await viewer(request)
    q = request.query.get("q", "").strip()[:MAX_QUERY]
    if q.startswith("#") and normalize_tag(q[1:]):
        raise web.HTTPSeeOther(f"/tags/{quote(normalize_tag(q[1:]))}")
    accounts: list[Account] = []
    posts: list[PostView] = []
    if q.startswith(("http://", "https://")):
        posts = await _post_at(request, who, q)
        if not posts:
            accounts = await _account_at(request, who, q)
    elif "@" in q.lstrip("@"):
        accounts = await _account_at(request, who, q.lstrip("@"))
    elif q:
        async with request.app[CONTEXT].db.read() as session:
            accounts = await search_accounts(
                session, q.lstrip("@"), MAX_ACCOUNTS, viewer_id=who.account.id if who else None
            )
    context = {"query": q, "accounts": accounts, "posts": posts}
    return await page(request, "search.html", who, context)


async def _account_at(request: web.Request, who: Viewer | None, handle: str) -> list[Account]:
    """The account a handle or actor URL names; only a signed-in viewer makes Spark ask its server."""
    ctx = request.app[CONTEXT]
    if who is None:
        user, _, host = handle.partition("@")
        async with ctx.db.read() as session:
            return [a for a in await search_accounts(session, user, MAX_ACCOUNTS) if (a.domain or "") == host]
    try:
        return [await ctx.actors.by_handle_or_url(handle)]
    except (ActorNotFound, UsageError):
        return []


async def _post_at(request: web.Request, who: Viewer | None, url: str) -> list[PostView]:
    if who is None:
        return []
    ctx = request.app[CONTEXT]
    try:
        status: Status = await ctx.notes.get(url)
    except NoteRejected:
        return []
    async with ctx.db.read() as session:
        visible = await visible_status(session, who.account, status.id)
        return await views_of(session, who.account, [visible]) if visible else []
