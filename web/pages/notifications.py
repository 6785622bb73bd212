"""Notifications: who followed, asked to follow, mentioned, liked or reposted, newest first.

Opening the page moves the notifications marker (the one Mastodon apps read),
so the count in the navigation and in the apps goes back to zero together.
"""

from aiohttp import web

from spark_fed.markers import save_marker
from spark_fed.models import NotificationType
from spark_fed.queries.follows import pending_requests_from
from spark_fed.queries.timelines import notifications
from spark_fed.state import CONTEXT

from ..auth import require_viewer
from ..posts import NOTIFICATIONS, views_of
from ..render import NOTIFICATIONS_MARKER, page
from .paging import PAGE_SIZE, max_id, next_page

routes = web.RouteTableDef()


@routes.get("/notifications")
async def notification_list(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    db = request.app[CONTEXT].db
    async with db.read() as session:
        items = await notifications(session, who.account, limit=PAGE_SIZE, max_id=max_id(request))
        statuses = [i.status for i in items if i.status is not None]
        views = {v.note.id: v for v in await views_of(session, who.account, statuses, NOTIFICATIONS)}
        pending = await pending_requests_from(session, who.account.id, [i.sender.id for i in items])
    read_all = bool(items) and max_id(request) is None
    if read_all:
        async with db.write() as session:
            await save_marker(session, who.account.id, NOTIFICATIONS_MARKER, str(items[0].notification.id))
    entries = [
        {
            "item": i,
            "view": views.get(i.status.id) if i.status else None,
            "pending": i.notification.type == NotificationType.FOLLOW_REQUEST and i.sender.id in pending,
        }
        for i in items
        # A post a muted word hides (set to "hide" in notifications) takes its notification along.
        if i.status is None or i.status.id in views
    ]
    context = {"entries": entries, "more": next_page(request, [i.notification.id for i in items])}
    # The marker moved to the newest above, so the navigation's count on this page is zero.
    return await page(request, "notifications.html", who, context, unread=0 if read_all else None)
