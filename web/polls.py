"""What a page shows of a post's poll: its options with their shares, or a form to vote."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.models import Account, Poll
from spark_fed.queries.polls import choices_of, polls_by_status

DURATIONS = (
    (300, "5 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (21600, "6 hours"),
    (86400, "1 day"),
    (259200, "3 days"),
    (604800, "7 days"),
)
"""The composer's choice of how long a poll runs, in seconds; a day unless chosen."""
DEFAULT_DURATION = 86400


@dataclass(frozen=True)
class OptionView:
    index: int
    title: str
    votes: int | None  # None while the totals are hidden
    percent: int
    chosen: bool


@dataclass(frozen=True)
class PollView:
    id: int
    options: tuple[OptionView, ...]
    multiple: bool
    expired: bool
    expires_at: datetime | None
    voters: int
    can_vote: bool
    hidden: bool


def poll_view(poll: Poll, author_id: int, viewer: Account | None, own: list[int]) -> PollView:
    expired = poll.expired()
    mine = viewer is not None and viewer.id == author_id
    hidden = poll.hide_totals and not expired and not mine
    total = poll.votes_count
    options = tuple(
        OptionView(
            index=n,
            title=title,
            votes=None if hidden else count,
            percent=round(100 * count / total) if total and not hidden else 0,
            chosen=n in own,
        )
        for n, (title, count) in enumerate(zip(poll.options, poll.tallies, strict=True))
    )
    return PollView(
        id=poll.status_id or 0,
        options=options,
        multiple=poll.multiple,
        expired=expired,
        expires_at=poll.expires_at,
        voters=poll.voters_count,
        can_vote=viewer is not None and not mine and not own and not expired,
        hidden=hidden,
    )


async def poll_views(
    session: AsyncSession, viewer: Account | None, notes: dict[int, int]
) -> dict[int, PollView]:
    """The polls of NOTES (status id → author id) on a page: one query, and one more for the
    viewer's own votes when the page has polls."""
    polls = await polls_by_status(session, notes)
    own = await choices_of(session, viewer.id, polls) if viewer is not None and polls else {}
    return {sid: poll_view(poll, notes[sid], viewer, own.get(sid, [])) for sid, poll in polls.items()}
