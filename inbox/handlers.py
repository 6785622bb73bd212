"""One handler per activity type that Spark acts on: follows and actors here, notes in `notes.py`."""

import logging
from typing import Any

from sqlmodel import select

import outbox.actions
from spark_fed.context import Context
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.documents import id_of
from spark_fed.models import Account, Follow, FollowState
from spark_fed.models.types import utcnow
from spark_fed.queries.accounts import find_by_uri
from spark_fed.statuses import remove_account

from . import notes

log = logging.getLogger(__name__)


async def _local_target(ctx: Context, uri: str | None) -> Account | None:
    if uri is None:
        return None
    async with ctx.db.read() as session:
        account = await find_by_uri(session, uri)
    return account if account is not None and account.is_local else None


async def follow(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    target = await _local_target(ctx, id_of(activity.get("object")))
    if target is None or not isinstance(activity.get("id"), str):
        return
    if target.is_instance_actor:
        await outbox.actions.reject_follow(ctx, target, actor, activity)
        return
    await outbox.actions.receive_follow(ctx, actor, target, activity)


async def undo(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    inner = activity.get("object")
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    if inner_type not in (None, "Follow"):
        await notes.undo_interaction(ctx, actor, inner)
        return
    if inner_type is None and await notes.undo_interaction(ctx, actor, inner):
        return
    undone_id = id_of(inner)
    async with ctx.db.write() as session:
        query = select(Follow).where(Follow.follower_id == actor.id)
        if isinstance(inner, dict) and inner.get("type") == "Follow":
            target = await find_by_uri(session, id_of(inner.get("object")) or "")
            if target is None:
                return
            query = query.where(Follow.followee_id == target.id)
        else:
            query = query.where(Follow.uri == undone_id)
        row = (await session.exec(query)).first()
        if row is not None:
            await session.delete(row)


async def accept(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    await _settle_outgoing(ctx, actor, activity, FollowState.ACCEPTED)


async def reject(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    await _settle_outgoing(ctx, actor, activity, FollowState.REJECTED)


async def _settle_outgoing(
    ctx: Context, actor: Account, activity: dict[str, Any], state: FollowState
) -> None:
    """An answer to a Follow we sent: matched by the Follow's id, or by the embedded Follow's accounts.

    Only the followed actor itself may answer, so the follow row must point at ACTOR.
    """
    inner = activity.get("object")
    follow_id = id_of(inner)
    async with ctx.db.write() as session:
        query = select(Follow).where(Follow.followee_id == actor.id)
        row = (await session.exec(query.where(Follow.uri == follow_id))).first() if follow_id else None
        if row is None and isinstance(inner, dict) and inner.get("type") == "Follow":
            follower = await find_by_uri(session, id_of(inner.get("actor")) or "")
            if follower is not None and follower.is_local and id_of(inner.get("object")) == actor.uri:
                row = (await session.exec(query.where(Follow.follower_id == follower.id))).first()
        if row is None:
            log.info("%s from %s matches no follow we sent", activity.get("type"), actor.uri)
            return
        if state == FollowState.REJECTED and row.state == FollowState.ACCEPTED:
            await session.delete(row)  # a Reject of an accepted follow removes the follower (Mastodon)
            return
        if state == FollowState.ACCEPTED and row.state == FollowState.REJECTED:
            return  # a late Accept does not undo a Reject
        row.state = state
        row.updated_at = utcnow()
        session.add(row)


async def delete(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    if id_of(activity.get("object")) != actor.uri:
        await notes.delete_note(ctx, actor, activity)
        return
    async with ctx.db.write() as session:
        stored = await session.get(Account, actor.id)
        if stored is not None:
            await remove_account(session, stored)  # follows and posts go with it
    ctx.keys.forget(actor.uri)


async def update(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return
    if obj.get("id") != actor.uri:
        await notes.update_note(ctx, actor, obj)  # a profile may only update itself
        return
    try:
        await ctx.actors.store(obj)
    except ActorNotFound as exc:
        log.info("ignoring Update(%s): %s", actor.uri, exc)
        return
    ctx.keys.forget(actor.uri)
