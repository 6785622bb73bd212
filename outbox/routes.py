"""Serving statuses: every note and activity id dereferences, as AS2 for peers and HTML for people."""

from typing import Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from actors.collections import PAGE_SIZE, collection, collection_page, read_cursor, wants_page
from spark_fed.errors import Gone, NotFound
from spark_fed.federation.authentication import NotAuthenticated, authenticate
from spark_fed.http.ids import path_id
from spark_fed.http.negotiation import wants_activity_json
from spark_fed.http.responses import activity_response
from spark_fed.models import Account, Status, Visibility
from spark_fed.queries.accounts import find_local_user
from spark_fed.queries.statuses import is_tombstoned
from spark_fed.queries.timelines import may_see
from spark_fed.state import CONTEXT

from . import notes, quotes
from .posts import note_document, note_documents

routes = web.RouteTableDef()


async def _author(request: web.Request) -> Account:
    async with request.app[CONTEXT].db.read() as session:
        account = await find_local_user(session, request.match_info["username"])
    if account is None:
        raise NotFound("no such user")
    if account.suspended_at is not None:
        raise Gone("this account is suspended")
    return account


async def _status(request: web.Request, author: Account) -> Status:
    ctx = request.app[CONTEXT]
    status_id = path_id(request, "status_id", "no such status")
    async with ctx.db.read() as session:
        status = await session.get(Status, status_id)
        if status is None or status.account_id != author.id:
            if await is_tombstoned(session, ctx.urls.status(author.username, status_id)):
                raise Gone("this status was deleted")
            raise NotFound("no such status")
    await _check_visible(request, status, author)
    return status


async def _check_visible(request: web.Request, status: Status, author: Account) -> None:
    """Followers-only and direct statuses only for a signed request by someone allowed: 404 otherwise,
    so that their existence is not given away either."""
    if status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return
    ctx = request.app[CONTEXT]
    try:
        reader = await authenticate(ctx.keys, ctx.config, "GET", request.raw_path, request.headers, None)
    except NotAuthenticated:
        raise NotFound("no such status") from None
    async with ctx.db.read() as session:
        if not await may_see(session, reader, status):
            raise NotFound("no such status")


@routes.get("/users/{username}/statuses/{status_id}")
async def status(request: web.Request) -> web.StreamResponse:
    """The note as AS2; a browser is sent to its page (`web`), which serves this too."""
    author = await _author(request)
    row = await _status(request, author)
    if row.reblog_of_id is not None:
        raise web.HTTPFound(row.uri)
    if not wants_activity_json(request):
        raise web.HTTPFound(row.url or row.uri)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        document = await note_document(ctx, session, row, author)
    response = activity_response(notes.with_context(document))
    response.headers["Link"] = f'<{row.uri}>; rel="alternate"; type="application/activity+json"'
    return response


@routes.get("/users/{username}/statuses/{status_id}/activity")
async def activity(request: web.Request) -> web.Response:
    author = await _author(request)
    row = await _status(request, author)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        if row.reblog_of_id is not None:
            original = await session.get(Status, row.reblog_of_id)
            original_author = await session.get(Account, original.account_id)
            return activity_response(notes.announce(author, row, original.uri, original_author))
        document = await note_document(ctx, session, row, author)
    return activity_response(notes.create(author, document))


@routes.get("/users/{username}/outbox")
async def outbox(request: web.Request) -> web.Response:
    """Public Create and Announce activities, newest first, paged by status id."""
    author = await _author(request)
    ctx = request.app[CONTEXT]
    public = (
        col(Status.account_id) == author.id,
        col(Status.visibility).in_([Visibility.PUBLIC, Visibility.UNLISTED]),
    )
    async with ctx.db.read() as session:
        total = (await session.exec(select(func.count()).select_from(Status).where(*public))).one()
        if not wants_page(request):
            return activity_response(collection(author.outbox_url, total))
        cursor = read_cursor(request)
        query = select(Status).where(*public)
        if cursor.max_id is not None:
            query = query.where(col(Status.id) < cursor.max_id)
        if cursor.min_id is not None:
            query = query.where(col(Status.id) > cursor.min_id).order_by(col(Status.id).asc())
        else:
            query = query.order_by(col(Status.id).desc())
        rows = list((await session.exec(query.limit(PAGE_SIZE + 1))).all())
        if cursor.min_id is not None:
            rows.reverse()
        has_more = len(rows) > PAGE_SIZE or cursor.min_id is not None
        rows = rows[:PAGE_SIZE]
        items = await _outbox_items(ctx, session, author, rows)
    for item in items:
        item.pop("@context", None)
    page = collection_page(author.outbox_url, total, cursor, items, [r.id for r in rows], has_more=has_more)
    return activity_response(page)


async def _outbox_items(ctx: Any, session: Any, author: Account, rows: list[Status]) -> list[dict[str, Any]]:
    """The page's Creates and Announces, in a fixed number of queries whatever its length."""
    boosted_ids = {r.reblog_of_id for r in rows if r.reblog_of_id is not None}
    originals = {}
    if boosted_ids:
        boosted = await session.exec(
            select(Status, Account)
            .join(Account, col(Account.id) == col(Status.account_id))
            .where(col(Status.id).in_(boosted_ids))
        )
        originals = {status.id: (status, account) for status, account in boosted.all()}
    notes_of_page = [r for r in rows if r.reblog_of_id is None]
    documents = dict(
        zip(
            [r.id for r in notes_of_page],
            await note_documents(ctx, session, notes_of_page, author),
            strict=True,
        )
    )
    items = []
    for row in rows:
        if row.reblog_of_id is None:
            items.append(notes.create(author, documents[row.id]))
        elif row.reblog_of_id in originals:
            original, original_author = originals[row.reblog_of_id]
            items.append(notes.announce(author, row, original.uri, original_author))
    return items


@routes.get("/users/{username}/quote_authorizations/{quote_id}")
async def quote_authorization(request: web.Request) -> web.StreamResponse:
    """A stamp Spark issued for a quote of a local post; 410 once its author revoked it."""
    ctx = request.app[CONTEXT]
    quote_id = path_id(request, "quote_id", "no such authorization", most=2**31 - 1)
    document = await quotes.served_authorization(ctx, request.match_info["username"], quote_id)
    if document is None:
        if await quotes.was_revoked(ctx, quote_id):
            raise Gone("this authorization was revoked")
        raise NotFound("no such authorization")
    return activity_response(document)
