"""One handler per activity type that Spark acts on: follows, actors, blocks and reports here,
notes in `notes.py`."""

import logging
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy import delete as sql_delete
from sqlmodel import col, select

import outbox.actions
from spark_fed.activitystreams import as_list
from spark_fed.context import Context
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.documents import id_of
from spark_fed.feeds import prune_feeds, prune_rest
from spark_fed.models import Account, Block, Follow, FollowState, Report, ReportCategory, Status
from spark_fed.models.types import utcnow
from spark_fed.queries.accounts import find_by_uri
from spark_fed.queries.safety import find_block
from spark_fed.queries.statuses import find_status
from spark_fed.statuses import remove_account

from . import notes, quotes

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
    if inner_type == "Block":
        await _undo_block(ctx, actor, inner)
        return
    if inner_type is None and await _undo_block(ctx, actor, inner):
        return
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
    if not await quotes.answer(ctx, actor, activity, accepted=True):
        await _settle_outgoing(ctx, actor, activity, FollowState.ACCEPTED)


async def reject(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    if not await quotes.answer(ctx, actor, activity, accepted=False):
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
        if state == FollowState.ACCEPTED and row.state == FollowState.REJECTED:
            return  # a late Accept does not undo a Reject
        left = []
        if state == FollowState.REJECTED and row.state == FollowState.ACCEPTED:
            # A Reject of an accepted follow removes the follower (Mastodon), and with it what
            # the follower could read only as one.
            await session.delete(row)
            follower = await session.get(Account, row.follower_id)
            left = await prune_feeds(session, [(follower, actor)])
        else:
            row.state = state
            row.updated_at = utcnow()
            session.add(row)
    await prune_rest(ctx.db, left)


async def delete(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    if id_of(activity.get("object")) != actor.uri:
        if not await quotes.withdraw(ctx, actor, activity):
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


MAX_FLAG_COMMENT = 5000  # what Mastodon keeps of a Flag's comment
MAX_FLAG_OBJECTS = 200


async def block(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    """A remote actor blocks one of ours: stored (under the Block's id, which an Undo names),
    the follows between the two removed both ways; `outbox/posts.py` then sends them nothing."""
    block_id = activity.get("id")
    target = await _local_target(ctx, id_of(activity.get("object")))
    if target is None or target.is_instance_actor or not isinstance(block_id, str):
        return
    async with ctx.db.write() as session:
        row = await find_block(session, actor.id, target.id)
        if row is not None:
            row.uri = block_id[:2048]  # Mastodon too takes the newer id of a repeated Block
            session.add(row)
            return
        session.add(Block(account_id=actor.id, target_account_id=target.id, uri=block_id[:2048]))
        await session.exec(
            sql_delete(Follow).where(
                or_(
                    and_(col(Follow.follower_id) == actor.id, col(Follow.followee_id) == target.id),
                    and_(col(Follow.follower_id) == target.id, col(Follow.followee_id) == actor.id),
                )
            )
        )
        left = await prune_feeds(session, [(target, actor)], everything=True)
    await prune_rest(ctx.db, left, everything=True)


async def _undo_block(ctx: Context, actor: Account, inner: Any) -> bool:
    """Undo{Block}: by the Block's id, or by the embedded Block's target; False if none matched."""
    undone = id_of(inner)
    async with ctx.db.write() as session:
        row = None
        if undone:
            query = select(Block).where(Block.account_id == actor.id, Block.uri == undone)
            row = (await session.exec(query)).first()
        if row is None and isinstance(inner, dict) and inner.get("type") == "Block":
            target = await find_by_uri(session, id_of(inner.get("object")) or "")
            if target is not None and target.is_local:
                row = await find_block(session, actor.id, target.id)
        if row is None:
            return False
        await session.delete(row)
    return True


async def flag(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    """Another server reports accounts of ours (Mastodon sends its instance actor): one report
    per local account named, with the local posts of that account it names and its comment,
    as Mastodon's `activity/flag.rb` reads it. A Flag naming no local account is dropped."""
    named = [uri for uri in (id_of(o) for o in as_list(activity.get("object"))) if uri]
    named = [uri for uri in dict.fromkeys(named) if ctx.actors.is_local(uri)][:MAX_FLAG_OBJECTS]
    comment = activity.get("content")
    comment = comment[:MAX_FLAG_COMMENT] if isinstance(comment, str) else ""
    flag_id = activity.get("id")
    async with ctx.db.write() as session:
        targets: dict[int, Account] = {}
        statuses: list[Status] = []
        for uri in named:
            account = await find_by_uri(session, uri)
            if account is not None:
                if account.is_local and not account.is_instance_actor:
                    targets[account.id] = account
                continue
            status = await find_status(session, uri)
            if status is not None and status.local and status.reblog_of_id is None:
                statuses.append(status)
        if not targets:
            log.info("Flag from %s names no local account: dropped", actor.uri)
            return
        for target in targets.values():
            session.add(
                Report(
                    account_id=actor.id,
                    target_account_id=target.id,
                    status_ids=",".join(str(s.id) for s in statuses if s.account_id == target.id),
                    category=ReportCategory.OTHER,
                    comment=comment,
                    uri=flag_id[:2048] if isinstance(flag_id, str) else None,
                )
            )
