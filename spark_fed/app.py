"""The app factory: the one module where the core and the feature areas are wired together."""

from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web

import actors.routes
import webfinger.routes

from .accounts import ensure_instance_actor
from .config import Config
from .db import Database
from .http.middleware import error_middleware
from .migrations import upgrade
from .state import CONFIG, DB, URLS
from .urls import Urls

AREAS = (actors.routes, webfinger.routes)
TEMPLATE_PACKAGES = ("spark_fed", "actors")


def create_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=config.federation.max_body_bytes)
    app[CONFIG] = config
    app[URLS] = Urls(config)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader(pkg) for pkg in TEMPLATE_PACKAGES]),
        autoescape=True,
    )
    app.cleanup_ctx.append(_database)
    for area in AREAS:
        app.router.add_routes(area.routes)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[CONFIG].database.url)
    try:
        await db.check_connection()
        await upgrade(db)
        await ensure_instance_actor(db, app[URLS])
        app[DB] = db
        yield
    finally:
        await db.dispose()
