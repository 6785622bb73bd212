"""Remote accounts' pins: `Add`/`Remove` to their `featured` collection, and the queued re-read
of the whole collection (`spark_fed/federation/featured.py`)."""

import logging
from datetime import timedelta
from typing import Any

from spark_fed.context import Context
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.documents import id_of
from spark_fed.federation.featured import read_featured
from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Account
from spark_fed.pins import MAX_REMOTE_PINS, add_pin, pin_count, remove_pin
from spark_fed.queries.statuses import find_status

log = logging.getLogger(__name__)
RELEARN_AFTER = timedelta(minutes=5)


async def _is_featured_target(ctx: Context, actor: Account, activity: dict[str, Any]) -> bool:
    """Whether the activity's `target` is the actor's own featured collection. An actor stored
    before Spark kept that URL is read again to learn it, unless it was read in the last
    `RELEARN_AFTER` (a stream of Adds cannot make Spark fetch on demand)."""
    target = id_of(activity.get("target"))
    if target is None:
        return False
    if actor.featured_url is None:
        try:
            actor = await ctx.actors.get(actor.uri, max_age=RELEARN_AFTER)
        except ActorNotFound:
            return False
    return target == actor.featured_url


async def add(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    """The actor pinned one of its own posts: fetched if unknown, then shown on its profile."""
    uri = id_of(activity.get("object"))
    if uri is None or not await _is_featured_target(ctx, actor, activity):
        return
    try:
        status = await ctx.notes.get(uri)
    except NoteRejected as exc:
        log.info("pinned post %s of %s not stored: %s", uri, actor.uri, exc)
        return
    if status.account_id != actor.id or status.reblog_of_id is not None:
        return  # only one's own posts are pinned
    async with ctx.db.write() as session:
        if await pin_count(session, actor.id) < MAX_REMOTE_PINS:
            await add_pin(session, actor.id, status.id)


async def remove(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    uri = id_of(activity.get("object"))
    if uri is None or not await _is_featured_target(ctx, actor, activity):
        return
    async with ctx.db.write() as session:
        status = await find_status(session, uri)
        if status is not None:
            await remove_pin(session, actor.id, status.id)


async def refresh(ctx: Context, actor: Account, _activity: dict[str, Any]) -> None:
    await read_featured(ctx.actors, ctx.notes, actor)
