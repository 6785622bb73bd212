"""Lists around an account or a status: followers, following, follow requests, who liked or boosted."""

from aiohttp import web
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from outbox import actions
from spark_fed.errors import NotFound, UsageError
from spark_fed.http.responses import json_response
from spark_fed.models import Account, Favourite, Follow, FollowState, Status
from spark_fed.queries.paging import page
from spark_fed.state import CONTEXT

from . import params
from .accounts import relationship_with
from .auth import optional, require
from .lookup import account_or_404, api_id, status_or_404
from .paging import link_header
from .presenters import accounts_json

routes = web.RouteTableDef()


async def _account_page(request: web.Request, session: AsyncSession, query, key) -> web.Response:
    """A page of QUERY's (row id, account) pairs, as Mastodon's account lists are paged: by KEY,
    the id of the row that links them (the follow, the like), 40 accounts, at most 80."""
    rows = await page(session, query, key, params.limit(request, 40, 80), params.page_cursor(request))
    entities = await accounts_json(session, [a for _id, a in rows], request.app[CONTEXT].urls)
    return json_response(entities, headers=link_header(request, [row_id for row_id, _a in rows]))


async def _follow_list(request: web.Request, owner_column: str, other_column: str) -> web.Response:
    """Paged by the follow row's id, newest first, as Mastodon pages these lists."""
    ctx = request.app[CONTEXT]
    other = aliased(Account)
    async with ctx.db.read() as session:
        account = await account_or_404(session, api_id(request))
        query = (
            select(Follow.id, other)
            .join(other, col(other.id) == getattr(Follow, other_column))
            .where(getattr(Follow, owner_column) == account.id, Follow.state == FollowState.ACCEPTED)
        )
        return await _account_page(request, session, query, col(Follow.id))


@routes.get("/api/v1/accounts/{id}/followers")
async def followers(request: web.Request) -> web.Response:
    await optional(request, "read:accounts")
    return await _follow_list(request, "followee_id", "follower_id")


@routes.get("/api/v1/accounts/{id}/following")
async def following(request: web.Request) -> web.Response:
    await optional(request, "read:accounts")
    return await _follow_list(request, "follower_id", "followee_id")


@routes.get("/api/v1/follow_requests")
async def follow_requests(request: web.Request) -> web.Response:
    viewer = await require(request, "read:follows")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        query = (
            select(Follow.id, Account)
            .join(Account, col(Account.id) == col(Follow.follower_id))
            .where(Follow.followee_id == viewer.id, Follow.state == FollowState.PENDING)
        )
        return await _account_page(request, session, query, col(Follow.id))


def _answer(accept: bool):
    async def handler(request: web.Request) -> web.Response:
        viewer = await require(request, "write:follows")
        ctx = request.app[CONTEXT]
        async with ctx.db.read() as session:
            other = await account_or_404(session, api_id(request))
        try:
            await actions.answer_follow_request(ctx, viewer, other.uri, accept=accept)
        except UsageError:
            raise NotFound("Record not found") from None
        return await relationship_with(request, viewer, other)

    return handler


routes.post("/api/v1/follow_requests/{id}/authorize")(_answer(True))
routes.post("/api/v1/follow_requests/{id}/reject")(_answer(False))


@routes.get("/api/v1/statuses/{id}/favourited_by")
async def favourited_by(request: web.Request) -> web.Response:
    return await _who(request, Favourite, Favourite.status_id)


@routes.get("/api/v1/statuses/{id}/reblogged_by")
async def reblogged_by(request: web.Request) -> web.Response:
    return await _who(request, Status, Status.reblog_of_id)


async def _who(request: web.Request, table: type[Favourite] | type[Status], of_status) -> web.Response:
    """The accounts whose row in TABLE (a like, a boost) points at the status, newest first,
    paged by that row's id as Mastodon pages them."""
    viewer = await optional(request, "read:accounts")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        query = (
            select(table.id, Account)
            .select_from(Account)
            .join(table, col(table.account_id) == col(Account.id))
            .where(of_status == status.id)
        )
        return await _account_page(request, session, query, col(table.id))
