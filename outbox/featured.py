"""Serving a local account's `featured` collection: its pinned posts, as peers read them."""

from aiohttp import web

from spark_fed.activitystreams import AS2
from spark_fed.http.responses import activity_response
from spark_fed.pins import featured_url
from spark_fed.queries.marks import pinned_posts
from spark_fed.state import CONTEXT

from .posts import note_documents
from .routes import _author

routes = web.RouteTableDef()


@routes.get("/users/{username}/collections/featured")
async def featured(request: web.Request) -> web.Response:
    """An OrderedCollection with the pinned notes inline, newest pin first, unpaged (there are
    at most five). Only what anyone may read: followers-only pins are left out of it."""
    author = await _author(request)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        rows = await pinned_posts(session, None, author)
        documents = await note_documents(ctx, session, rows, author)
    for document in documents:
        document.pop("@context", None)
    return activity_response(
        {
            "@context": AS2,
            "id": featured_url(author),
            "type": "OrderedCollection",
            "totalItems": len(documents),
            "orderedItems": documents,
        }
    )
