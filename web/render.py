"""Rendering a page in the site's layout, with what the navigation and every form need."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from spark_fed.models import Marker, Notification
from spark_fed.state import CONTEXT

from . import names
from .auth import CSRF_FIELD, Viewer

NOTIFICATIONS_MARKER = "notifications"


async def page(
    request: web.Request,
    template: str,
    viewer: Viewer | None,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> web.Response:
    config = request.app[CONTEXT].config
    unread = await unread_notifications(request, viewer) if viewer else 0
    values = {
        "instance": config.instance,
        "instance_title": config.instance.title,
        "viewer": viewer.account if viewer else None,
        "csrf_field": CSRF_FIELD,
        "csrf": viewer.csrf if viewer else "",
        "unread": unread,
        "here": request.path,
        "names": names,
        "domain": request.app[CONTEXT].urls.domain,
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    response.headers["Cache-Control"] = "no-store" if viewer else "no-cache"
    return response


async def unread_notifications(request: web.Request, viewer: Viewer) -> int:
    """Notifications newer than the notifications marker (the one Mastodon apps move too)."""
    async with request.app[CONTEXT].db.read() as session:
        marker = await session.get(Marker, (viewer.account.id, NOTIFICATIONS_MARKER))
        query = (
            select(func.count()).select_from(Notification).where(Notification.account_id == viewer.account.id)
        )
        if marker is not None and marker.last_read_id.isdigit():
            query = query.where(col(Notification.id) > int(marker.last_read_id))
        return (await session.exec(query)).one()
