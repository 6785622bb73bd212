"""Pinning one's own posts to the profile, and telling followers' servers (`Add`/`Remove` to the
account's `featured` collection, which `outbox/featured.py` serves)."""

from typing import Any

from spark_fed.activitystreams import AS2
from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.errors import UsageError
from spark_fed.models import Account, Status, Visibility
from spark_fed.models.ids import new_id
from spark_fed.pins import MAX_PINS, add_pin, featured_url, is_pinned, pin_count, remove_pin
from spark_fed.queries.statuses import followers_of
from spark_fed.queries.timelines import visible_status

from .posts import StatusNotFound


class PinRefused(UsageError):
    """The post cannot be pinned: someone else's, a boost, a direct post, or one too many."""


async def _own_post(ctx: Context, account: Account, status_id: int) -> Status:
    async with ctx.db.read() as session:
        status = await visible_status(session, account, status_id)
    if status is None:
        raise StatusNotFound(f"no post {status_id} that {account.username} may see")
    return status


def _check_pinnable(account: Account, status: Status) -> None:
    if status.account_id != account.id:
        raise PinRefused("only your own posts can be pinned")
    if status.reblog_of_id is not None:
        raise PinRefused("a repost cannot be pinned")
    if status.visibility == Visibility.DIRECT:
        raise PinRefused("a direct post cannot be pinned")


def featured_activity(kind: str, activity_id: str, account: Account, status: Status) -> dict[str, Any]:
    """`Add` or `Remove` of STATUS to ACCOUNT's featured collection: the post by id, the
    collection as `target`, as Mastodon sends and reads them."""
    return {
        "@context": AS2,
        "id": activity_id,
        "type": kind,
        "actor": account.uri,
        "object": status.uri,
        "target": featured_url(account),
    }


async def pin(ctx: Context, account: Account, status_id: int) -> Status:
    """Pin ACCOUNT's own post (pinning a pinned one changes nothing); at most `MAX_PINS`."""
    status = await _own_post(ctx, account, status_id)
    _check_pinnable(account, status)
    async with ctx.db.write() as session:
        if await pin_count(session, account.id) >= MAX_PINS and not await is_pinned(
            session, account.id, status.id
        ):
            raise PinRefused(f"you have already pinned the maximum of {MAX_PINS} posts")
        if await add_pin(session, account.id, status.id):
            await _tell_followers(session, "Add", account, status)
    ctx.deliveries_queued()
    return status


async def unpin(ctx: Context, account: Account, status_id: int) -> Status:
    """Unpin ACCOUNT's post, if it is pinned."""
    status = await _own_post(ctx, account, status_id)
    if status.account_id != account.id:
        raise PinRefused("only your own posts can be pinned or unpinned")
    async with ctx.db.write() as session:
        if await remove_pin(session, account.id, status.id):
            await _tell_followers(session, "Remove", account, status)
    ctx.deliveries_queued()
    return status


async def _tell_followers(session: Any, kind: str, account: Account, status: Status) -> None:
    """Followers' servers keep the account's pins: they hear of each change."""
    followers = await followers_of(session, account.id, local=False)
    if not followers:
        return
    activity_id = f"{featured_url(account)}#{kind.lower()}s/{await new_id(session)}"
    enqueue(
        session, account, featured_activity(kind, activity_id, account, status), preferred_inboxes(followers)
    )
