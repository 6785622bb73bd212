"""Polls: checking a new poll, counting votes once per voter and choice, and queueing the work a
poll needs later (its debounced Update, its end).

Local and remote votes are counted here alike. A voter counts once per choice (the unique
`poll_votes` row), so a vote delivered twice counts once; a single-choice poll takes one choice
per voter. A local poll's counts are recounted from its votes; a remote poll's are its author's
last published counts plus the local votes cast since.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .config import InstanceConfig
from .db import dialect_insert
from .errors import UsageError
from .models import (
    Account,
    JobState,
    Notification,
    NotificationType,
    Poll,
    PollJob,
    PollJobKind,
    PollVote,
    Status,
)
from .models.types import utcnow

MIN_EXPIRATION = 300
"""The shortest poll, in seconds (5 minutes, as Mastodon)."""
MAX_EXPIRATION = 2_629_746
"""The longest poll, in seconds: Mastodon's one month (30.4 days)."""


def poll_limits(limits: InstanceConfig) -> dict[str, int]:
    """The instance's poll rules as clients read them (`configuration.polls`)."""
    return {
        "max_options": limits.max_poll_options,
        "max_characters_per_option": limits.max_poll_option_chars,
        "min_expiration": MIN_EXPIRATION,
        "max_expiration": MAX_EXPIRATION,
    }


class PollRejected(UsageError):
    """A poll or a vote that breaks a rule; the message says which."""


@dataclass(frozen=True)
class PollSpec:
    """A poll as its author asks for it (the API, the web composer and `spark-fed post` alike)."""

    options: Sequence[str]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


def new_poll(spec: PollSpec, limits: InstanceConfig, now: datetime | None = None) -> Poll:
    """The poll's row (without its status), or PollRejected saying what is wrong with SPEC."""
    options = [option.strip() for option in spec.options]
    if len(options) < 2:
        raise PollRejected("a poll needs at least 2 options")
    if len(options) > limits.max_poll_options:
        raise PollRejected(f"a poll has at most {limits.max_poll_options} options")
    if any(not option for option in options):
        raise PollRejected("poll options cannot be blank")
    if any(len(option) > limits.max_poll_option_chars for option in options):
        raise PollRejected(f"a poll option has at most {limits.max_poll_option_chars} characters")
    if len(set(options)) != len(options):
        raise PollRejected("poll options must be different")
    if not MIN_EXPIRATION <= spec.expires_in <= MAX_EXPIRATION:
        raise PollRejected(
            f"a poll lasts between {MIN_EXPIRATION} and {MAX_EXPIRATION} seconds (5 minutes to a month)"
        )
    poll = Poll(multiple=spec.multiple, hide_totals=spec.hide_totals)
    poll.options = options
    poll.tallies = [0] * len(options)
    poll.expires_at = (now or utcnow()) + timedelta(seconds=spec.expires_in)
    return poll


async def store_polls(session: AsyncSession, polls: Sequence[tuple[Status, Poll]]) -> None:
    """Attach each poll to its (just stored) status; a local poll's end is queued for its time."""
    for status, poll in polls:
        poll.status_id = status.id
        session.add(poll)
    await session.flush()
    for status, poll in polls:
        if status.local and poll.expires_at is not None:
            await schedule(session, poll, PollJobKind.CLOSE, poll.expires_at)


async def schedule(session: AsyncSession, poll: Poll, kind: str, at: datetime) -> bool:
    """Queue KIND for POLL at AT unless one is queued already (what debounces a burst of votes
    into one Update); True if this call queued it."""
    queued = await session.exec(
        select(PollJob.id).where(
            PollJob.poll_id == poll.status_id, PollJob.kind == kind, PollJob.state == JobState.QUEUED
        )
    )
    if queued.first() is not None:
        return False
    session.add(PollJob(poll_id=poll.status_id, kind=kind, next_attempt_at=at))
    return True


async def votes_of(session: AsyncSession, poll: Poll, account_id: int) -> list[int]:
    found = await session.exec(
        select(PollVote.choice).where(PollVote.poll_id == poll.status_id, PollVote.account_id == account_id)
    )
    return sorted(found.all())


async def vote(
    session: AsyncSession,
    poll: Poll,
    voter_id: int,
    choices: Sequence[int],
    *,
    local_poll: bool,
    uri: str | None = None,
) -> list[PollVote]:
    """Count VOTER_ID's CHOICES on POLL; the votes that are new (none for a repeat).

    A closed poll, a choice out of range, several choices on a single-choice poll and a second,
    different choice of a voter on one are refused. The caller checks what only a local voter
    must not do (vote twice at all)."""
    if poll.expired():
        raise PollRejected("the poll has ended")
    chosen = sorted(set(choices))
    if not chosen or any(c < 0 or c >= len(poll.options) for c in chosen):
        raise PollRejected("that choice is not an option of the poll")
    earlier = await votes_of(session, poll, voter_id)
    if not poll.multiple and len(set(chosen) | set(earlier)) > 1:
        raise PollRejected("this poll takes one choice")
    new = [c for c in chosen if c not in earlier]
    if not new:
        return []
    insert = dialect_insert(session.bind.dialect.name, PollVote)
    rows = [PollVote(poll_id=poll.status_id, account_id=voter_id, choice=c, uri=uri) for c in new]
    await session.exec(
        insert.values([{**r.model_dump(exclude={"id"})} for r in rows]).on_conflict_do_nothing()
    )
    stored = await session.exec(
        select(PollVote).where(
            PollVote.poll_id == poll.status_id,
            PollVote.account_id == voter_id,
            col(PollVote.choice).in_(new),
        )
    )
    votes = list(stored.all())
    if local_poll:
        await recount(session, poll)
    else:
        tallies = poll.tallies
        for row in votes:
            tallies[row.choice] += 1
        poll.tallies = tallies
        poll.voters_count += 0 if earlier else 1
    poll.updated_at = utcnow()
    session.add(poll)
    return votes


async def recount(session: AsyncSession, poll: Poll) -> None:
    """A local poll's counts from its votes: per option, and distinct voters."""
    per_choice = await session.exec(
        select(PollVote.choice, func.count())
        .where(PollVote.poll_id == poll.status_id)
        .group_by(col(PollVote.choice))
    )
    tallies = [0] * len(poll.options)
    for choice, count in per_choice.all():
        if 0 <= choice < len(tallies):
            tallies[choice] = count
    poll.tallies = tallies
    voters = await session.exec(
        select(func.count(func.distinct(PollVote.account_id))).where(PollVote.poll_id == poll.status_id)
    )
    poll.voters_count = voters.one()


async def local_voters(session: AsyncSession, poll: Poll) -> list[int]:
    """The ids of the local accounts that voted on POLL."""
    found = await session.exec(
        select(PollVote.account_id)
        .join(Account, col(Account.id) == col(PollVote.account_id))
        .where(PollVote.poll_id == poll.status_id, col(Account.domain).is_(None))
        .distinct()
    )
    return list(found.all())


async def notify_end(session: AsyncSession, poll: Poll, status: Status, *, author_is_local: bool) -> None:
    """The poll ended: its local voters hear of it, and so does its author when local (a
    `poll` notification from the author, on the status)."""
    readers = set(await local_voters(session, poll))
    if author_is_local:
        readers.add(status.account_id)
    session.add_all(
        Notification(
            account_id=reader,
            type=NotificationType.POLL,
            from_account_id=status.account_id,
            status_id=status.id,
        )
        for reader in sorted(readers)
    )
    poll.closed_at = utcnow()
    session.add(poll)
