"""A post's edit history: every version, newest first, with when it was written."""

from aiohttp import web

from spark_fed.errors import NotFound
from spark_fed.http.ids import path_id
from spark_fed.models import Account
from spark_fed.queries.edits import revisions
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT

from ..auth import viewer
from ..render import page

routes = web.RouteTableDef()


@routes.get("/web/statuses/{id}/history")
async def history(request: web.Request) -> web.Response:
    """Anyone who may see the post may see what it said before (as the API's history)."""
    who = await viewer(request)
    async with request.app[CONTEXT].db.read() as session:
        status = await visible_status(
            session, who.account if who else None, path_id(request, "id", "no such post")
        )
        if status is None or status.reblog_of_id is not None:
            raise NotFound("no such post")
        author = await session.get(Account, status.account_id)
        found = await revisions(session, status)
    context = {"status": status, "author": author, "revisions": list(reversed(found)), "count": len(found)}
    return await page(request, "history.html", who, context)
