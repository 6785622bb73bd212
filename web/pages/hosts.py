"""The admin page of delivery hosts: which servers are paused or failing, and what waits for them.

The same view as `spark-fed hosts list` (spark_fed/queue/hosts.py), for moderators and admins;
anyone else gets 404, as for the other admin pages.
"""

from aiohttp import web

from outbox import moderation
from spark_fed.errors import NotFound
from spark_fed.queue.hosts import host_states
from spark_fed.state import CONTEXT

from ..auth import require_viewer
from ..render import page

routes = web.RouteTableDef()


@routes.get("/admin/hosts")
async def hosts(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    ctx = request.app[CONTEXT]
    if not await moderation.is_moderator(ctx, who.account):
        raise NotFound("no such page")
    states = await host_states(ctx.db)
    troubled = [state for state in states if state.state != "ok"]
    waiting = sum(state.waiting for state in states)
    return await page(
        request, "admin_hosts.html", who, {"hosts": states, "troubled": troubled, "waiting": waiting}
    )
