"""Polls: the `poll` parameters of a new status, reading a poll, and voting."""

from typing import Any

from aiohttp import web

from outbox import polls as poll_actions
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.responses import json_response
from spark_fed.models import Poll, Status
from spark_fed.polls import PollSpec
from spark_fed.queries.polls import choices_of
from spark_fed.state import CONTEXT

from . import params
from .auth import optional, require
from .lookup import api_id, status_or_404
from .poll_entity import poll_entity

routes = web.RouteTableDef()

_MAX_CHOICES = 100


def poll_spec(data: dict[str, Any]) -> PollSpec | None:
    """The `poll[...]` parameters of a form (`poll[options][]`, `poll[expires_in]`, …) or the
    `poll` object of a JSON body; None without them. The rules are `spark_fed.polls.new_poll`'s."""
    nested = data.get("poll")
    if nested is not None and not isinstance(nested, dict):
        raise UnprocessableEntity("Validation failed: poll must be an object")
    fields = (
        nested if isinstance(nested, dict) else {k[5:-1]: v for k, v in data.items() if k.startswith("poll[")}
    )
    if not fields:
        return None
    options = fields.get("options")
    if options is None:
        options = fields.get("options[]")
    if not isinstance(options, list) or len(options) > _MAX_CHOICES:
        raise UnprocessableEntity("Validation failed: poll options must be a list of 2 or more options")
    titles = [params.text(o) or "" for o in options]
    expires_in = fields.get("expires_in")
    if isinstance(expires_in, bool) or not str(expires_in).strip().lstrip("-").isdigit():
        raise UnprocessableEntity("Validation failed: poll expires_in must be a number of seconds")
    return PollSpec(
        options=titles,
        expires_in=int(str(expires_in).strip()),
        multiple=params.flag(fields.get("multiple"), "poll[multiple]"),
        hide_totals=params.flag(fields.get("hide_totals"), "poll[hide_totals]"),
    )


async def _poll_json(request: web.Request, status: Status, viewer) -> dict[str, Any]:
    async with request.app[CONTEXT].db.read() as session:
        poll = await session.get(Poll, status.id)
        if poll is None:
            raise NotFound("Record not found")
        own = await choices_of(session, viewer.id, [status.id]) if viewer else {}
    return poll_entity(poll, status.account_id, viewer.id if viewer else None, own.get(status.id, []))


@routes.get("/api/v1/polls/{id}")
async def show(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:statuses")
    async with request.app[CONTEXT].db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
    return json_response(await _poll_json(request, status, viewer))


@routes.post("/api/v1/polls/{id}/votes")
async def votes(request: web.Request) -> web.Response:
    viewer = await require(request, "write:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await status_or_404(session, api_id(request), viewer)
        if await session.get(Poll, status.id) is None:
            raise NotFound("Record not found")
    data = await params.body(request)
    try:
        await poll_actions.cast(ctx, viewer, status.uri, _choices(data.get("choices")))
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return json_response(await _poll_json(request, status, viewer))


def _choices(value: object) -> list[int]:
    """`choices[]` (a form) or `choices` (a JSON list): option indexes, as numbers or strings."""
    values = value if isinstance(value, list) else [] if value is None else [value]
    choices = [str(v).strip() for v in values if not isinstance(v, (bool, dict, list))]
    if not choices or len(choices) != len(values) or len(choices) > _MAX_CHOICES:
        raise UnprocessableEntity("Validation failed: choices must name at least one option")
    if not all(c.isdigit() and c.isascii() and len(c) < 6 for c in choices):
        raise UnprocessableEntity("Validation failed: choices are option numbers")
    return [int(c) for c in choices]
