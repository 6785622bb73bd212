"""Profiles: `/@name` for local accounts, `/@user@host` for remote ones, with their posts.

The same URL serves the actor's AS2 document to peers (for a local account),
so a profile link pasted into any fediverse search finds the account.
"""

import asyncio
import contextlib
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import and_, exists, func, literal, or_
from sqlmodel import col, select

import actors.routes
from spark_fed.errors import Gone, NotFound, UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.http.negotiation import wants_activity_json
from spark_fed.models import Account, AccountDomainBlock, Block, Follow, Mute, Status
from spark_fed.models.types import utcnow
from spark_fed.queries.accounts import find_local_user, find_remote_by_handle
from spark_fed.queries.marks import favourited, pinned_posts
from spark_fed.queries.paging import NEWEST
from spark_fed.queries.timelines import account_posts
from spark_fed.queries.views import account_counts
from spark_fed.state import CONTEXT

from ..auth import Viewer, viewer
from ..posts import ACCOUNT, PostView, views_of
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
    if found.suspended_at is not None:
        raise Gone("this account is suspended")
    return found


@dataclass(frozen=True)
class Relationship:
    """What the profile's buttons offer: the viewer's follow of the account (None, "pending" or
    "accepted"), and whether the viewer blocks or mutes it or blocks its server."""

    follow: str | None = None
    blocking: bool = False
    muting: bool = False
    domain_blocking: bool = False


async def relationship(request: web.Request, who: Viewer | None, account: Account) -> Relationship | None:
    """The viewer's relationship with ACCOUNT in one statement (`queries/safety.py:relations`
    answers the same in up to four, and the follow is a fifth)."""
    if who is None or who.account.id == account.id:
        return None
    me = who.account.id
    follow = select(Follow.state).where(Follow.follower_id == me, Follow.followee_id == account.id)
    blocking = exists().where(and_(Block.account_id == me, Block.target_account_id == account.id))
    muting = exists().where(
        and_(
            Mute.account_id == me,
            Mute.target_account_id == account.id,
            or_(col(Mute.expires_at).is_(None), col(Mute.expires_at) > utcnow()),
        )
    )
    domain = (account.domain or "").lower()
    domain_blocking = (
        exists().where(
            and_(AccountDomainBlock.account_id == me, func.lower(AccountDomainBlock.domain) == domain)
        )
        if domain
        else literal(False)
    )
    query = select(follow.scalar_subquery(), blocking, muting, domain_blocking)
    async with request.app[CONTEXT].db.read() as session:
        state, blocks, mutes, domain_blocks = (await session.exec(query)).one()
    return Relationship(
        follow=state if state is not None and state != "rejected" else None,
        blocking=bool(blocks),
        muting=bool(mutes),
        domain_blocking=bool(domain_blocks),
    )


def _pinned_first(views: list[PostView], pinned_ids: set[int]) -> tuple[list[PostView], list[PostView]]:
    """The pinned posts' views (they lead VIEWS), and the rest without them: a pinned post shows
    once, on top."""
    pinned: list[PostView] = []
    rest: list[PostView] = []
    for view in views:
        if view.row_id in pinned_ids and all(p.row_id != view.row_id for p in pinned):
            pinned.append(view)
        elif view.note.id not in pinned_ids:
            rest.append(view)
    return pinned, rest


def _tab(request: web.Request, who: Viewer | None, account: Account) -> str:
    """Posts, posts and replies, or (on one's own profile only) the posts one liked."""
    wanted = request.query.get("tab")
    if wanted == "likes" and who is not None and who.account.id == account.id:
        return "likes"
    return "replies" if wanted == "replies" else "posts"


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
    tab = _tab(request, who, account)
    reader = who.account if who else None
    pinned: list[Status] = []
    async with ctx.db.read() as session:
        if tab == "likes":
            found = await favourited(session, reader, limit=PAGE_SIZE, cursor=NEWEST.below(max_id(request)))
            rows, page_ids = [status for _, status in found], [mark_id for mark_id, _ in found]
        else:
            rows = await account_posts(
                session, reader, account, limit=PAGE_SIZE, max_id=max_id(request), replies=tab == "replies"
            )
            page_ids = [r.id for r in rows]
            if tab == "posts" and max_id(request) is None:
                pinned = await pinned_posts(session, reader, account)
        # The pinned posts come first, and once: one query for the views of both.
        views = await views_of(session, reader, [*pinned, *rows], ACCOUNT)
        followers, following, statuses, _last = await account_counts(session, account.id)
    pinned_views, posts = _pinned_first(views, {p.id for p in pinned})
    context = {
        "account": account,
        "pinned": pinned_views,
        "posts": posts,
        "more": next_page(request, page_ids),
        "counts": {"posts": statuses, "following": following, "followers": followers},
        "tab": tab,
        "relation": await relationship(request, who, account),
    }
    response = await page(request, "profile.html", who, context)
    if account.is_local:
        response.headers["Link"] = f'<{account.uri}>; rel="alternate"; type="application/activity+json"'
    return response
