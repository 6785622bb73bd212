"""Rendering a page in the site's layout, with what the navigation and every form need.

The avatars and headers of every account the page shows (found in its context:
accounts, posts, notifications) are loaded here, in one query with the
viewer's own, and handed to the templates as `images`. The viewer's role (the
"Moderation" link is for moderators and admins) comes in the same statement as
the count of unread notifications.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.http.templates import render_template
from spark_fed.media.records import IMAGE_TYPES, profile_images
from spark_fed.media.service import MAX_ATTACHMENTS, MAX_DESCRIPTION
from spark_fed.models import Account, Marker, Notification, User
from spark_fed.state import CONTEXT

from . import names
from .auth import CSRF_FIELD, Viewer
from .polls import DURATIONS as POLL_DURATIONS

NOTIFICATIONS_MARKER = "notifications"
MODERATING_ROLES = ("moderator", "admin")


async def page(
    request: web.Request,
    template: str,
    viewer: Viewer | None,
    context: dict[str, Any],
    *,
    status: int = 200,
    unread: int | None = None,
) -> web.Response:
    """TEMPLATE in the layout; UNREAD, when the handler knows it (the notifications page, which
    has just moved the marker), saves counting the viewer's unread notifications."""
    config = request.app[CONTEXT].config
    shown = accounts_in(context)
    if viewer:
        shown.add(viewer.account.id)
    role = "user"
    async with request.app[CONTEXT].db.read() as session:
        if viewer is not None and unread is None:
            unread, role = await unread_and_role(session, viewer)
        elif viewer is not None:
            role = await role_of(session, viewer)
        images = await profile_images(session, shown)
    values = {
        "instance": config.instance,
        "instance_title": config.instance.title,
        "viewer": viewer.account if viewer else None,
        "csrf_field": CSRF_FIELD,
        "csrf": viewer.csrf if viewer else "",
        "unread": unread or 0,
        "moderator": role in MODERATING_ROLES,
        "here": request.path,
        "names": names,
        "domain": request.app[CONTEXT].urls.domain,
        "images": images,
        # What the composers' "Add image" accepts (the server checks the bytes, whatever these say).
        "max_images": MAX_ATTACHMENTS,
        "image_types": ",".join(sorted(IMAGE_TYPES)),
        "max_upload_mb": config.media.max_upload_mb,
        "max_description": MAX_DESCRIPTION,
        "poll_durations": POLL_DURATIONS,
        **context,
    }
    response = render_template(request, template, values, status=status)
    response.headers["Cache-Control"] = "no-store" if viewer else "no-cache"
    return response


async def unread_and_role(session: AsyncSession, viewer: Viewer) -> tuple[int, str]:
    """Notifications newer than the notifications marker (the one Mastodon apps move too), and
    the viewer's role, in one statement (the marker's row is in the session after its first get)."""
    marker = await session.get(Marker, (viewer.account.id, NOTIFICATIONS_MARKER))
    count = select(func.count()).select_from(Notification).where(Notification.account_id == viewer.account.id)
    if marker is not None and marker.last_read_id.isdigit():
        count = count.where(col(Notification.id) > int(marker.last_read_id))
    role = select(User.role).where(User.account_id == viewer.account.id)
    unread, found = (await session.exec(select(count.scalar_subquery(), role.scalar_subquery()))).one()
    return int(unread or 0), found or "user"


async def role_of(session: AsyncSession, viewer: Viewer) -> str:
    found = (await session.exec(select(User.role).where(User.account_id == viewer.account.id))).first()
    return found or "user"


async def unread_notifications(session: AsyncSession, viewer: Viewer) -> int:
    return (await unread_and_role(session, viewer))[0]


def accounts_in(value: Any, depth: int = 4) -> set[int]:
    """The ids of the accounts in a page's context: in lists, dicts and dataclasses (a PostView,
    a NotificationItem), a few levels deep."""
    found: set[int] = set()
    if isinstance(value, Account):
        found.add(value.id)
    elif depth == 0 or isinstance(value, str | bytes):
        pass
    elif isinstance(value, Mapping):
        for item in value.values():
            found |= accounts_in(item, depth - 1)
    elif isinstance(value, list | tuple | set):
        for item in value:
            found |= accounts_in(item, depth - 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            found |= accounts_in(getattr(value, field.name), depth - 1)
    return found
