"""The web interface's routes and its template filters."""

from aiohttp import web

from spark_fed.content import sanitize_html
from spark_fed.http.templates import TEMPLATES

from .filters import ago, host, since
from .pages import (
    actions,
    assets,
    edits,
    hosts,
    imports,
    marks,
    moderation,
    notifications,
    polls,
    profiles,
    quotes,
    safety,
    scheduled,
    search,
    settings,
    signin,
    threads,
    timelines,
)

PAGES = (
    timelines,
    signin,
    actions,
    marks,
    quotes,
    safety,
    moderation,
    hosts,
    threads,
    edits,
    scheduled,
    profiles,
    notifications,
    polls,
    search,
    settings,
    imports,
    assets,
)


def setup(app: web.Application) -> None:
    for module in PAGES:
        app.router.add_routes(module.routes)
    imports.setup(app)  # the background imports the app holds, cancelled at shutdown
    filters = app[TEMPLATES].filters
    filters["ago"] = ago
    filters["host"] = host
    filters["since"] = since
    # Bios are sanitised when stored; rows stored before that rule are sanitised when shown.
    filters["clean"] = sanitize_html
