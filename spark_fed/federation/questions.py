"""Remote polls: a `Question` read into a poll row, and its author's later counts applied.

A Question lists its options in `oneOf` (one choice) or `anyOf` (several), each a Note whose
`name` is the option and whose `replies.totalItems` is its count; `endTime` (or `closed`) is
when it ends, `votersCount` how many voted. What is malformed is left out, never an error.
"""

from typing import Any

from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..activitystreams import as_list, as_time
from ..models import Poll, PollVote, Status
from ..models.types import utcnow

MAX_OPTIONS = 100
MAX_TITLE = 500
_MAX_COUNT = 2**31 - 1


def question_poll(note: dict[str, Any]) -> Poll | None:
    """The poll a Question asks, or None when NOTE is no Question or has fewer than two options."""
    if "Question" not in as_list(note.get("type")):
        return None
    multiple = "anyOf" in note and "oneOf" not in note
    options = _options(note.get("anyOf" if multiple else "oneOf"))
    if len(options) < 2:
        return None
    poll = Poll(multiple=multiple)
    poll.options = [title for title, _ in options]
    poll.tallies = [count for _, count in options]
    poll.expires_at = as_time(note.get("endTime")) or as_time(note.get("closed"))
    poll.voters_count = _count(note.get("votersCount"), default=max(poll.tallies, default=0))
    return poll


async def refresh_poll(session: AsyncSession, status: Status, note: dict[str, Any]) -> Poll | None:
    """Apply the counts (and end) of an Update(Question) to the stored poll of STATUS.

    Changed options start the poll afresh: the votes cast here were for other options."""
    fresh = question_poll(note)
    poll = await session.get(Poll, status.id)
    if fresh is None or poll is None:
        return None
    if fresh.options != poll.options:
        poll.options = fresh.options
        poll.multiple = fresh.multiple
        await session.exec(delete(PollVote).where(PollVote.poll_id == poll.status_id))
    poll.tallies = fresh.tallies
    poll.voters_count = fresh.voters_count
    poll.expires_at = fresh.expires_at or poll.expires_at
    closed = as_time(note.get("closed"))
    if closed is not None and (poll.expires_at is None or closed < poll.expires_at):
        poll.expires_at = closed
    poll.updated_at = utcnow()
    session.add(poll)
    return poll


async def poll_of(session: AsyncSession, status_uri: str) -> tuple[Status, Poll] | None:
    """The status at STATUS_URI and its poll, when it has one."""
    found = await session.exec(
        select(Status, Poll).join(Poll, Poll.status_id == Status.id).where(Status.uri == status_uri)
    )
    row = found.first()
    return (row[0], row[1]) if row is not None else None


def _options(value: Any) -> list[tuple[str, int]]:
    options: list[tuple[str, int]] = []
    for item in as_list(value)[:MAX_OPTIONS]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        title = item["name"].strip()[:MAX_TITLE]
        if not title or any(title == t for t, _ in options):
            continue
        replies = item.get("replies")
        count = replies.get("totalItems") if isinstance(replies, dict) else None
        options.append((title, _count(count)))
    return options


def _count(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return max(0, min(value, _MAX_COUNT))
