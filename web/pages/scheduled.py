"""Scheduled posts in the browser: the list, with a new time or a cancel for each.

The composer schedules (its "Schedule" field, `actions.create`); the times a browser sends are
its local time with the offset `spark.js` fills in, or UTC without scripts.
"""

from datetime import UTC, datetime, timedelta

from aiohttp import web

from outbox import scheduled
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.ids import INT32, path_id
from spark_fed.queries.paging import Cursor
from spark_fed.queries.scheduled import scheduled_media, scheduled_of
from spark_fed.state import CONTEXT

from ..auth import form_of, require_viewer
from ..render import page
from .paging import PAGE_SIZE, max_id, next_page

routes = web.RouteTableDef()


def composer_time(local: str, offset_minutes: str) -> datetime:
    """A `datetime-local` value and the browser's offset (JavaScript's getTimezoneOffset: minutes
    to add to local time for UTC) as a UTC time; a value that carries its own zone keeps it."""
    try:
        at = datetime.fromisoformat(local.strip())
        offset = int(offset_minutes or "0")
    except ValueError:
        raise UsageError("the time to publish at is not a date and time") from None
    if at.tzinfo is not None:
        return at.astimezone(UTC)
    if abs(offset) > 16 * 60:
        raise UsageError("the time zone offset is out of range")
    return (at + timedelta(minutes=offset)).replace(tzinfo=UTC)


@routes.get("/web/scheduled")
async def index(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    async with request.app[CONTEXT].db.read() as session:
        rows = await scheduled_of(session, who.account.id, PAGE_SIZE, Cursor(max_id=max_id(request)))
        media = await scheduled_media(session, [row.id for row in rows])
    items = [
        {"row": row, "draft": scheduled.Draft.from_json(row.params), "media": media.get(row.id, [])}
        for row in sorted(rows, key=lambda r: r.scheduled_at)
    ]
    context = {"items": items, "more": next_page(request, [row.id for row in rows])}
    return await page(request, "scheduled.html", who, context)


@routes.post("/web/scheduled/{id}/reschedule")
async def reschedule(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    try:
        at = composer_time(str(form.get("scheduled_at", "")), str(form.get("tz_offset", "0")))
        await scheduled.reschedule(request.app[CONTEXT], who.account, _id(request), at)
    except scheduled.ScheduledNotFound:
        raise NotFound("no such scheduled post") from None
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    raise web.HTTPSeeOther("/web/scheduled")


@routes.post("/web/scheduled/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    who, _form = await form_of(request)
    try:
        await scheduled.cancel(request.app[CONTEXT], who.account, _id(request))
    except scheduled.ScheduledNotFound:
        raise NotFound("no such scheduled post") from None
    raise web.HTTPSeeOther("/web/scheduled")


def _id(request: web.Request) -> int:
    return path_id(request, "id", "no such scheduled post", INT32)
