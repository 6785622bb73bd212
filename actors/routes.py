"""Routes of local actors: their documents, collections and profile pages."""

from aiohttp import web

from spark_fed.errors import Gone, NotFound
from spark_fed.http.negotiation import wants_activity_json
from spark_fed.http.responses import activity_response
from spark_fed.models import Account
from spark_fed.queries.accounts import find_instance_actor, find_local_user
from spark_fed.queries.follows import FOLLOWERS, FOLLOWING, Direction, count_follows, page_follows
from spark_fed.state import DB, URLS

from .collections import PAGE_SIZE, collection, collection_page, read_cursor, wants_page
from .documents import instance_actor_document, local_person_document
from .images import solid_png

routes = web.RouteTableDef()
_CACHE_DAY = {"Cache-Control": "max-age=86400, public"}


async def _local_user(request: web.Request) -> Account:
    async with request.app[DB].read() as session:
        account = await find_local_user(session, request.match_info["username"])
    if account is None:
        raise NotFound("no such user")
    if account.suspended_at is not None:
        raise Gone("this account is suspended")
    return account


def _alternate_link(account: Account) -> dict[str, str]:
    return {"Link": f'<{account.uri}>; rel="alternate"; type="application/activity+json"'}


@routes.get("/users/{username}")
async def actor(request: web.Request) -> web.StreamResponse:
    """The actor document; a browser is sent to the profile page (`web`), which also serves this."""
    account = await _local_user(request)
    if not wants_activity_json(request):
        raise web.HTTPFound(account.url or account.uri)
    async with request.app[DB].read() as session:
        document = await local_person_document(session, account, request.app[URLS])
    response = activity_response(document)
    response.headers.update(_alternate_link(account))
    return response


@routes.get("/users/{username}/followers")
async def followers(request: web.Request) -> web.Response:
    return await _follow_collection(request, FOLLOWERS, "followers_url")


@routes.get("/users/{username}/following")
async def following(request: web.Request) -> web.Response:
    return await _follow_collection(request, FOLLOWING, "following_url")


async def _follow_collection(request: web.Request, direction: Direction, url_field: str) -> web.Response:
    account = await _local_user(request)
    collection_id = getattr(account, url_field)
    async with request.app[DB].read() as session:
        total = await count_follows(session, account.id, direction)
        if not wants_page(request):
            return activity_response(collection(collection_id, total))
        cursor = read_cursor(request)
        rows = await page_follows(
            session, account.id, direction, limit=PAGE_SIZE + 1, max_id=cursor.max_id, min_id=cursor.min_id
        )
    has_more = len(rows) > PAGE_SIZE or cursor.min_id is not None
    rows = rows[:PAGE_SIZE]
    items = [other.uri for _follow, other in rows]
    ids = [follow.id for follow, _other in rows]
    return activity_response(collection_page(collection_id, total, cursor, items, ids, has_more=has_more))


@routes.get("/actor")
async def instance_actor(request: web.Request) -> web.Response:
    async with request.app[DB].read() as session:
        account = await find_instance_actor(session)
    if account is None:
        raise NotFound("no instance actor")
    return activity_response(instance_actor_document(account, request.app[URLS]))


@routes.get("/avatars/original/missing.png")
async def missing_avatar(_request: web.Request) -> web.Response:
    return web.Response(
        body=solid_png(120, 120, (207, 217, 222)), content_type="image/png", headers=_CACHE_DAY
    )


@routes.get("/headers/original/missing.png")
async def missing_header(_request: web.Request) -> web.Response:
    return web.Response(body=solid_png(150, 50, (29, 155, 240)), content_type="image/png", headers=_CACHE_DAY)
