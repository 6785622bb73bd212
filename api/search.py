"""Search: accounts by handle (WebFinger with resolve=true), posts by URL, hashtags by prefix."""

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from spark_fed.content import normalize_tag
from spark_fed.errors import BadRequest, Unauthorized, UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.notes import NoteRejected
from spark_fed.http.responses import json_response
from spark_fed.models import Account, Tag
from spark_fed.queries.accounts import search_accounts
from spark_fed.queries.statuses import follows
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
    offset = _offset(request, viewer)
    following = params.flag(request.query.get("following"), "following") and viewer is not None
    result: dict = {"accounts": [], "statuses": [], "hashtags": []}
    if not q or kind not in (None, "", "accounts", "statuses", "hashtags"):
        return json_response(result)
    if kind in (None, "", "accounts"):
        found = await _accounts(request, viewer, q, resolve, limit, offset=offset, following=following)
        async with ctx.db.read() as session:
            result["accounts"] = await accounts_json(session, found, ctx.urls)
    if kind in (None, "", "statuses") and q.startswith(("http://", "https://")) and resolve and not offset:
        try:
            status = await ctx.notes.get(q)
        except NoteRejected:
            status = None
        if status is not None:
            async with ctx.db.read() as session:
                if await may_see(session, viewer, status):
                    result["statuses"] = await statuses_json(session, [status], viewer, ctx.urls)
    if kind in (None, "", "hashtags") and not q.startswith(("http://", "https://")):
        prefix = normalize_tag(q.lstrip("#"))
        if prefix:
            async with ctx.db.read() as session:
                tags = (
                    await session.exec(
                        select(Tag.id, Tag.name)
                        .where(col(Tag.name).startswith(prefix))
                        .order_by(Tag.name)
                        .offset(offset)
                        .limit(limit)
                    )
                ).all()
            result["hashtags"] = [
                {"id": str(i), "name": n, "url": ctx.urls.tag(n), "history": []} for i, n in tags
            ]
    return json_response(result)


def _offset(request: web.Request, viewer: Account | None) -> int:
    """Mastodon's `offset`, which it refuses to visitors (paging through search is for users)."""
    raw = request.query.get("offset")
    if raw is None or raw == "":
        return 0
    if viewer is None:
        raise Unauthorized("Search queries pagination is not supported without authentication")
    if not raw.isdigit() or not raw.isascii() or len(raw) > 9:
        raise BadRequest("offset must be a number")
    return int(raw)


async def _accounts(
    request: web.Request,
    viewer: Account | None,
    q: str,
    resolve: bool,
    limit: int,
    *,
    offset: int,
    following: bool,
) -> list[Account]:
    ctx = request.app[CONTEXT]
    handle = q.lstrip("@")
    if "@" in handle or handle.startswith(("http://", "https://")):
        if offset:
            return []  # one exact account: there is no second page
        if not resolve and "@" in handle:
            user, _, host = handle.partition("@")
            async with ctx.db.read() as session:
                query = select(Account).where(
                    func.lower(Account.username) == user.lower(),
                    (func.lower(Account.domain) == host.lower())
                    if host.lower() != ctx.urls.domain.lower()
                    else col(Account.domain).is_(None),
                )
                found = list((await session.exec(query)).all())
            return await _followed(request, viewer, found) if following else found
        try:
            found = [await ctx.actors.by_handle_or_url(handle)] if resolve else []
        except (ActorNotFound, UsageError):
            return []
        return await _followed(request, viewer, found) if following else found
    viewer_id = viewer.id if viewer else None
    async with ctx.db.read() as session:
        return await search_accounts(
            session, handle, limit, viewer_id=viewer_id, offset=offset, following=following
        )


async def _followed(request: web.Request, viewer: Account | None, found: list[Account]) -> list[Account]:
    """FOUND (one exact match) if VIEWER follows it: `following=true` narrows exact matches too."""
    if viewer is None:
        return []
    async with request.app[CONTEXT].db.read() as session:
        return [a for a in found if await follows(session, viewer.id, a.id)]
