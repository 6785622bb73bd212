"""Processing stored activities, one at a time, from the inbox queue.

The route has already verified that `actor` signed the activity; handlers
check what the activity claims (that a Follow names a local account, that
an Accept answers a Follow we sent to this very actor, ...). A handler for
an activity that does not concern us returns quietly: that is done, not failed.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from spark_fed import domain_policy
from spark_fed.cache import TTLCache
from spark_fed.context import Context
from spark_fed.federation.featured import REFRESH
from spark_fed.models import Account, InboxItem
from spark_fed.queries.accounts import find_by_uri
from spark_fed.queue import GiveUp

from . import featured, handlers, notes, quotes

log = logging.getLogger(__name__)

Handler = Callable[[Context, Account, dict[str, Any]], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    "Follow": handlers.follow,
    "Undo": handlers.undo,
    "Accept": handlers.accept,
    "Reject": handlers.reject,
    "Delete": handlers.delete,
    "Update": handlers.update,
    "Create": notes.create,
    "Announce": notes.announce,
    "Like": notes.like,
    "Block": handlers.block,
    "Flag": handlers.flag,
    "Add": featured.add,
    "Remove": featured.remove,
    REFRESH: featured.refresh,
    "QuoteRequest": quotes.quote_request,
}


class InboxProcessor:
    """The inbox queue's job handler."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # The same few actors send most activities; a minute-old copy is fine for routing.
        self._actors: TTLCache[Account] = TTLCache(size=1024, seconds=60.0)

    async def __call__(self, item: InboxItem) -> None:
        try:
            activity = json.loads(item.body)
        except ValueError:
            raise GiveUp("stored body is not JSON") from None
        handler = HANDLERS.get(activity.get("type"))
        if handler is None:
            return
        actor = self._actors.get(item.actor_uri)
        if actor is None:
            async with self.ctx.db.read() as session:
                actor = await find_by_uri(session, item.actor_uri)
            if actor is not None:
                self._actors.put(item.actor_uri, actor)
        if actor is None or actor.is_local:
            return  # deleted since, or an echo of our own
        # The policy, not the cached row: it is reloaded the moment any process suspends someone.
        policy = await domain_policy.refresh(self.ctx.db)
        if policy.actor_suspended(actor.uri) or policy.is_suspended(actor.domain or ""):
            return  # suspended after it was received: what was queued is dropped too
        await handler(self.ctx, actor, activity)
