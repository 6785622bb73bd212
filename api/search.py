"""Search: accounts by handle (WebFinger with resolve=true), posts by URL, hashtags by prefix."""

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from spark_fed.content import normalize_tag
from spark_fed.errors import UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.notes import NoteRejected
from spark_fed.http.responses import json_response
from spark_fed.models import Account, Tag
from spark_fed.queries.accounts import search_accounts
from spark_fed.queries.timelines import may_see
from spark_fed.state import CONTEXT

from . import params
from .auth import optional
from .presenters import accounts_json, statuses_json

routes = web.RouteTableDef()


@routes.get("/api/v2/search")
async def search(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:search")
    ctx = request.app[CONTEXT]
    q = (params.text(request.query.get("q")) or "").strip()
    kind = request.query.get("type")
    resolve = params.flag(request.query.get("resolve"), "resolve") and viewer is not None
    limit = params.limit(request, 20, 40)
    result: dict = {"accounts": [], "statuses": [], "hashtags": []}
    if not q:
        return json_response(result)
    if kind in (None, "accounts"):
        found = await _accounts(request, viewer, q, resolve, limit)
        async with ctx.db.read() as session:
            result["accounts"] = await accounts_json(session, found, ctx.urls)
    if kind in (None, "statuses") and q.startswith(("http://", "https://")) and resolve:
        try:
            status = await ctx.notes.get(q)
        except NoteRejected:
            status = None
        if status is not None:
            async with ctx.db.read() as session:
                if await may_see(session, viewer, status):
                    result["statuses"] = await statuses_json(session, [status], viewer, ctx.urls)
    if kind in (None, "hashtags") and not q.startswith(("http://", "https://")):
        prefix = normalize_tag(q.lstrip("#"))
        if prefix:
            async with ctx.db.read() as session:
                tags = (
                    await session.exec(
                        select(Tag.id, Tag.name).where(col(Tag.name).startswith(prefix)).limit(limit)
                    )
                ).all()
            result["hashtags"] = [
                {"id": str(i), "name": n, "url": ctx.urls.tag(n), "history": []} for i, n in tags
            ]
    return json_response(result)


async def _accounts(
    request: web.Request, viewer: Account | None, q: str, resolve: bool, limit: int
) -> list[Account]:
    ctx = request.app[CONTEXT]
    handle = q.lstrip("@")
    if "@" in handle or handle.startswith(("http://", "https://")):
        if not resolve and "@" in handle:
            user, _, host = handle.partition("@")
            async with ctx.db.read() as session:
                query = select(Account).where(
                    func.lower(Account.username) == user.lower(),
                    (func.lower(Account.domain) == host.lower())
                    if host.lower() != ctx.urls.domain.lower()
                    else col(Account.domain).is_(None),
                )
                return list((await session.exec(query)).all())
        try:
            return [await ctx.actors.by_handle_or_url(handle)] if resolve else []
        except (ActorNotFound, UsageError):
            return []
    async with ctx.db.read() as session:
        return await search_accounts(session, handle, limit, viewer_id=viewer.id if viewer else None)
