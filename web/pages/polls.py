"""The poll of the composer and the vote form of a post: the same services as the API's."""

from collections.abc import Mapping

from aiohttp import web

from outbox import polls as poll_actions
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.ids import path_id
from spark_fed.polls import PollSpec
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT

from ..auth import form_of
from ..polls import DEFAULT_DURATION
from .signin import safe_next

routes = web.RouteTableDef()


def poll_from_form(form: Mapping[str, object], options: list[str]) -> PollSpec | None:
    """The composer's poll: OPTIONS are its `poll_option` fields as typed (blank ones, the fields
    left unused, are dropped); none filled in means no poll."""
    titles = [o.strip() for o in options if isinstance(o, str) and o.strip()]
    if not titles:
        return None
    expires = form.get("poll_expires")
    seconds = int(expires) if isinstance(expires, str) and expires.isdigit() else DEFAULT_DURATION
    return PollSpec(
        options=titles,
        expires_in=min(seconds, 10**9),
        multiple=form.get("poll_multiple") == "on",
        hide_totals=form.get("poll_hide_totals") == "on",
    )


@routes.post("/web/statuses/{id}/vote")
async def vote(request: web.Request) -> web.Response:
    """The vote form under a poll: `choice` once (one choice) or per ticked box (several)."""
    who, form = await form_of(request)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        status = await visible_status(session, who.account, path_id(request, "id", "no such post"))
    if status is None:
        raise NotFound("no such post")
    picked = [c for c in form.getall("choice", []) if isinstance(c, str)]
    if not picked or not all(c.isdigit() and len(c) < 6 for c in picked):
        raise UnprocessableEntity("choose an option to vote")
    try:
        await poll_actions.cast(ctx, who.account, status.uri, [int(c) for c in picked])
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    raise web.HTTPSeeOther(safe_next(form.get("next")))
