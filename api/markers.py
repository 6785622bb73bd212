"""Markers: the last read position in home and notifications, shared between a user's apps."""

from aiohttp import web
from sqlmodel import col, select

from spark_fed.errors import UnprocessableEntity
from spark_fed.http.responses import json_response
from spark_fed.markers import save_marker
from spark_fed.models import Marker
from spark_fed.state import CONTEXT

from . import params
from .auth import require
from .entities import iso

routes = web.RouteTableDef()
TIMELINES = ("home", "notifications")


def _entity(marker: Marker) -> dict:
    return {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }


@routes.get("/api/v1/markers")
async def markers(request: web.Request) -> web.Response:
    viewer = await require(request, "read:statuses")
    wanted = [*request.query.getall("timeline[]", []), *request.query.getall("timeline", [])]
    async with request.app[CONTEXT].db.read() as session:
        rows = (
            await session.exec(
                select(Marker).where(
                    Marker.account_id == viewer.id, col(Marker.timeline).in_(wanted or TIMELINES)
                )
            )
        ).all()
    return json_response({m.timeline: _entity(m) for m in rows})


@routes.post("/api/v1/markers")
async def save(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    updates = await _positions(request)
    saved = {}
    async with request.app[CONTEXT].db.write() as session:
        for timeline, last_read_id in updates.items():
            saved[timeline] = await save_marker(session, viewer.id, timeline, last_read_id)
    return json_response({t: _entity(m) for t, m in saved.items()})


async def _positions(request: web.Request) -> dict[str, str]:
    """`home[last_read_id]=…` in a form, or `{"home": {"last_read_id": …}}` in JSON."""
    data = await params.body(request)
    pairs = {}
    for timeline in TIMELINES:
        nested = data.get(timeline)
        pairs[timeline] = (
            nested.get("last_read_id") if isinstance(nested, dict) else data.get(f"{timeline}[last_read_id]")
        )
    positions = {t: str(v) for t, v in pairs.items() if v is not None}
    if not positions or not all(params.is_id(v) for v in positions.values()):
        raise UnprocessableEntity("Validation failed: give home[last_read_id] or notifications[last_read_id]")
    return positions
