"""Votes from remote voters: a Note with an option's text as `name`, replying to a local poll.

Such a Note is a vote, never a reply: it is counted (`outbox.polls.receive_vote`) and not stored
as a status, whatever else it carries.
"""

from typing import Any

from outbox.polls import receive_vote
from spark_fed.activitystreams import as_list
from spark_fed.context import Context
from spark_fed.federation.documents import id_of, same_origin
from spark_fed.federation.questions import poll_of
from spark_fed.models import Account


async def take_vote(ctx: Context, actor: Account, note: Any) -> bool:
    """Count NOTE if it is a vote on a local poll; True if it was one (counted or dropped)."""
    if not isinstance(note, dict) or "Note" not in as_list(note.get("type")):
        return False
    title, parent, uri = note.get("name"), id_of(note.get("inReplyTo")), note.get("id")
    if not isinstance(title, str) or not title or parent is None or not ctx.actors.is_local(parent):
        return False
    async with ctx.db.read() as session:
        found = await poll_of(session, parent)
    if found is None:
        return False
    author = id_of(next(iter(as_list(note.get("attributedTo"))), None))
    if author != actor.uri or not isinstance(uri, str) or not same_origin(uri, actor.uri):
        return True  # a vote in someone else's name, or from elsewhere: dropped
    await receive_vote(ctx, actor, found[0], title, uri[:2048])
    return True
