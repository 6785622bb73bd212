"""Follow actions: each writes its rows and queues its deliveries in one transaction.

The commands, the client API and the web pages call these; the inbox calls
them for its replies (the Accept of an incoming Follow). Nothing here sends
anything itself: the delivery worker does, from the rows written here.
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from actors.documents import local_person_document
from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.errors import UsageError
from spark_fed.federation.featured import queue_read
from spark_fed.feeds import prune_feeds, prune_rest
from spark_fed.media.processing import MediaRejected
from spark_fed.models import Account, Follow, FollowState, NotificationType
from spark_fed.models.media import MediaKind
from spark_fed.models.types import utcnow
from spark_fed.queries.safety import blocked_between, refuses_follows_from
from spark_fed.queries.statuses import followers_of
from spark_fed.statuses import notify
from spark_fed.text import plain_to_html

from . import activities


class FollowNotFound(UsageError):
    """There is no such follow (or follow request) to act on."""


@dataclass(frozen=True)
class FollowResult:
    follow: Follow
    target: Account


async def _pair(session: AsyncSession, follower: Account, followee: Account) -> Follow | None:
    query = select(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == followee.id)
    return (await session.exec(query)).first()


async def follow(ctx: Context, follower: Account, handle: str) -> FollowResult:
    """Follow HANDLE; pending until the other side accepts (at once for an unlocked local user)."""
    target = await ctx.actors.by_handle_or_url(handle)
    if target.id == follower.id:
        raise UsageError("an account cannot follow itself")
    if target.is_instance_actor:
        raise UsageError("the instance actor cannot be followed")
    pins_queued = False
    async with ctx.db.write() as session:
        if await blocked_between(session, follower.id, target.id):
            raise UsageError(f"{follower.username} cannot follow {handle}: there is a block between them")
        row = await _pair(session, follower, target)
        if row is not None and row.state == FollowState.ACCEPTED:
            return FollowResult(row, target)
        if row is None:
            row = Follow(
                follower_id=follower.id, followee_id=target.id, uri=activities.new_follow_id(follower)
            )
        elif row.state == FollowState.REJECTED:
            # The other side remembers the rejected id; a new request needs a new one.
            row.uri = activities.new_follow_id(follower)
        row.state = FollowState.PENDING
        row.updated_at = utcnow()
        activity = activities.follow(row.uri, follower, target)
        if target.is_local:
            row.activity = json.dumps(activity)
            if not target.locked:
                row.state = FollowState.ACCEPTED
            kind = NotificationType.FOLLOW_REQUEST if target.locked else NotificationType.FOLLOW
            await notify(session, target, kind, follower)
        else:
            enqueue(session, follower, activity, [target.inbox_url])
            pins_queued = await queue_read(
                session, ctx.db, target
            )  # its pinned posts, read in the background
        session.add(row)
    ctx.deliveries_queued()
    if not target.is_local and pins_queued:
        ctx.inbox_stored()
    return FollowResult(row, target)


async def unfollow(ctx: Context, follower: Account, handle: str) -> FollowResult:
    target = await ctx.actors.by_handle_or_url(handle)
    async with ctx.db.write() as session:
        row = await _pair(session, follower, target)
        if row is None:
            raise FollowNotFound(f"{follower.username} does not follow {handle}")
        await session.delete(row)
        if not target.is_local:
            undo = activities.undo(follower, activities.follow(row.uri, follower, target))
            enqueue(session, follower, undo, [target.inbox_url])
        left = await prune_feeds(session, [(follower, target)])
    ctx.deliveries_queued()
    await prune_rest(ctx.db, left)
    return FollowResult(row, target)


async def remove_follower(ctx: Context, account: Account, handle: str) -> FollowResult:
    """HANDLE no longer follows ACCOUNT (Mastodon's "remove from followers"): the follow goes,
    a remote follower's server is told with a Reject of its Follow, and a local follower's home
    feed loses ACCOUNT's followers-only posts."""
    follower = await ctx.actors.by_handle_or_url(handle)
    async with ctx.db.write() as session:
        row = await _pair(session, follower, account)
        if row is None:
            raise FollowNotFound(f"{handle} does not follow {account.username}")
        await session.delete(row)
        if not follower.is_local and row.activity and row.state != FollowState.REJECTED:
            reply = activities.answer("Reject", account, json.loads(row.activity))
            enqueue(session, account, reply, [follower.inbox_url])
        left = await prune_feeds(session, [(follower, account)])
    ctx.deliveries_queued()
    await prune_rest(ctx.db, left)
    return FollowResult(row, follower)


async def receive_follow(
    ctx: Context, follower: Account, followee: Account, activity: dict[str, Any]
) -> Follow | None:
    """An incoming Follow: recorded, and accepted at once unless the account is locked.

    A repeated Follow (the sender lost our Accept, or re-followed) takes the new
    id and is answered again, as Mastodon does. From an account (or server) the followee
    blocks: refused with a Reject, nothing recorded (None).
    """
    async with ctx.db.write() as session:
        row = await _record_follow(session, follower, followee, activity)
    ctx.deliveries_queued()
    return row


async def _record_follow(
    session: AsyncSession, follower: Account, followee: Account, activity: dict[str, Any]
) -> Follow | None:
    if await refuses_follows_from(session, followee, follower):
        enqueue(session, followee, activities.answer("Reject", followee, activity), [follower.inbox_url])
        return None
    row = await _pair(session, follower, followee)
    if row is None:
        row = Follow(follower_id=follower.id, followee_id=followee.id, uri=activity["id"])
    already_accepted = row.state == FollowState.ACCEPTED and row.id is not None
    row.uri = activity["id"]
    row.activity = json.dumps(activity)
    row.updated_at = utcnow()
    if followee.locked and not already_accepted:
        row.state = FollowState.PENDING
        await notify(session, followee, NotificationType.FOLLOW_REQUEST, follower)
    else:
        row.state = FollowState.ACCEPTED
        enqueue(session, followee, activities.answer("Accept", followee, activity), [follower.inbox_url])
        if not already_accepted:
            await notify(session, followee, NotificationType.FOLLOW, follower)
    session.add(row)
    return row


async def answer_follow_request(
    ctx: Context, followee: Account, handle: str, *, accept: bool
) -> FollowResult:
    """Accept or reject a pending request to a locked account."""
    follower = await ctx.actors.by_handle_or_url(handle)
    async with ctx.db.write() as session:
        row = await _pair(session, follower, followee)
        if row is None or row.state != FollowState.PENDING:
            raise FollowNotFound(f"there is no pending follow request from {handle}")
        row.state = FollowState.ACCEPTED if accept else FollowState.REJECTED
        row.updated_at = utcnow()
        session.add(row)
        if not follower.is_local and row.activity:
            reply = activities.answer("Accept" if accept else "Reject", followee, json.loads(row.activity))
            enqueue(session, followee, reply, [follower.inbox_url])
    ctx.deliveries_queued()
    return FollowResult(row, follower)


async def reject_follow(ctx: Context, target: Account, follower: Account, activity: dict[str, Any]) -> None:
    """Refuse a Follow without recording it (the instance actor is never followed)."""
    async with ctx.db.write() as session:
        enqueue(session, target, activities.answer("Reject", target, activity), [follower.inbox_url])
    ctx.deliveries_queued()


async def update_profile(
    ctx: Context,
    account: Account,
    *,
    display_name: str | None = None,
    bio: str | None = None,
    locked: bool | None = None,
    discoverable: bool | None = None,
    bot: bool | None = None,
    avatar: bytes | None = None,
    header: bytes | None = None,
) -> Account:
    """Change what the profile says and tell followers with Update(Person), the whole actor embedded.

    A bot is published as a `Service`, which is how Mastodon marks automated accounts. AVATAR and
    HEADER are image files, checked and stored by `ctx.media` (replacing the previous ones) and
    published as the actor's `icon` and `image`. A refused file raises `MediaRejected` before
    anything else changes; should the header be refused after the avatar was stored, the Update
    still goes out with the new avatar (and nothing else changed), so followers see what is stored.
    """
    stored_image = False
    for kind, data in ((MediaKind.AVATAR, avatar), (MediaKind.HEADER, header)):
        if data is None:
            continue
        try:
            await ctx.media.upload(account, data, kind=kind)
        except MediaRejected:
            if stored_image:
                await _send_profile_update(ctx, account)
            raise
        stored_image = True
    return await _send_profile_update(
        ctx, account, display_name=display_name, bio=bio, locked=locked, discoverable=discoverable, bot=bot
    )


async def _send_profile_update(
    ctx: Context,
    account: Account,
    *,
    display_name: str | None = None,
    bio: str | None = None,
    locked: bool | None = None,
    discoverable: bool | None = None,
    bot: bool | None = None,
) -> Account:
    async with ctx.db.write() as session:
        stored = await session.get(Account, account.id)
        if display_name is not None:
            stored.display_name = display_name[:2048]
        if bio is not None:
            stored.summary = plain_to_html(bio)
        if locked is not None:
            stored.locked = locked
        if discoverable is not None:
            stored.discoverable = discoverable
        if bot is not None:
            stored.actor_type = "Service" if bot else "Person"
        session.add(stored)
        document = await local_person_document(session, stored, ctx.urls)
        update = {
            "@context": document["@context"],
            "id": f"{stored.uri}#updates/{int(utcnow().timestamp())}",
            "type": "Update",
            "actor": stored.uri,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {k: v for k, v in document.items() if k != "@context"},
        }
        followers = await followers_of(session, stored.id, local=False)
        enqueue(session, stored, update, preferred_inboxes(followers))
    ctx.deliveries_queued()
    return stored
