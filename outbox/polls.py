"""Voting, and the work a poll needs later: its debounced Update and its end.

A local user's vote is counted at once (the API and the page show it immediately). On a local
poll it queues one Update(Question) for a burst of votes (`federation.poll_update_seconds`
later; none while totals are hidden, as Mastodon); on a remote poll it sends a vote Note per
choice to the poll's author, and queues the poll's end so the voter hears of it. The end of a
local poll tells its author and local voters and sends the final counts, `closed` set.
"""

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.federation.questions import poll_of
from spark_fed.models import Account, Poll, PollJob, PollJobKind, PollVote, Status
from spark_fed.models.types import utcnow
from spark_fed.polls import PollRejected, notify_end, recount, schedule, vote, votes_of
from spark_fed.queries.statuses import mentioned_accounts
from spark_fed.queue import RetryLater

from .posts import _recipients, note_document
from .questions import poll_update, vote_create, vote_id

log = logging.getLogger(__name__)


async def cast(ctx: Context, voter: Account, status_uri: str, choices: Sequence[int]) -> Poll:
    """VOTER votes CHOICES (option indexes) on the poll of the status at STATUS_URI; once."""
    async with ctx.db.write() as session:
        found = await poll_of(session, status_uri)
        if found is None:
            raise PollRejected("that post has no poll")
        status, poll = found
        if status.account_id == voter.id:
            raise PollRejected("you cannot vote on your own poll")
        if await votes_of(session, poll, voter.id):
            raise PollRejected("you have already voted on this poll")
        votes = await vote(session, poll, voter.id, choices, local_poll=status.local)
        if status.local:
            if not poll.hide_totals:
                await _schedule_update(ctx, session, poll)
        else:
            author = await session.get(Account, status.account_id)
            for row in votes:
                row.uri = vote_id(voter, row)
                session.add(row)
                activity = vote_create(voter, row, status, author, poll.options[row.choice])
                enqueue(session, voter, activity, preferred_inboxes([author]))
            if poll.expires_at is not None:
                await schedule(session, poll, PollJobKind.CLOSE, poll.expires_at)
    ctx.deliveries_queued()
    return poll


async def receive_vote(ctx: Context, voter: Account, status: Status, title: str, uri: str) -> None:
    """A remote voter's vote Note on a local poll: counted once per choice (a repeat changes
    nothing); one that breaks a rule is dropped."""
    async with ctx.db.write() as session:
        poll = await session.get(Poll, status.id)
        if poll is None or title not in poll.options:
            return
        try:
            new = await vote(session, poll, voter.id, [poll.options.index(title)], local_poll=True, uri=uri)
        except PollRejected as exc:
            log.info("vote from %s on %s dropped: %s", voter.uri, status.uri, exc)
            return
        if new and not poll.hide_totals:
            await _schedule_update(ctx, session, poll)


async def _schedule_update(ctx: Context, session: AsyncSession, poll: Poll) -> None:
    delay = timedelta(seconds=ctx.config.federation.poll_update_seconds)
    await schedule(session, poll, PollJobKind.UPDATE, utcnow() + delay)


class PollJobs:
    """The poll queue's job handler (`spark_fed.queue.Worker`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def __call__(self, job: PollJob) -> None:
        if job.kind == PollJobKind.CLOSE:
            await self._close(job.poll_id)
        else:
            await self._send_update(job.poll_id)

    async def _close(self, poll_id: int) -> None:
        async with self.ctx.db.write() as session:
            poll = await session.get(Poll, poll_id)
            status = await session.get(Status, poll_id)
            if poll is None or status is None or poll.closed_at is not None:
                return
            if not poll.expired():
                wait = poll.expires_at - utcnow() if poll.expires_at else timedelta(hours=1)
                raise RetryLater("the poll has not ended yet", after=wait)
            if status.local:
                await recount(session, poll)
                poll.updated_at = utcnow()
            await notify_end(session, poll, status, author_is_local=status.local)
        if status.local:
            await self._send_update(poll_id)

    async def _send_update(self, poll_id: int) -> None:
        """Update(Question) to the author's followers, those mentioned and the remote voters."""
        async with self.ctx.db.write() as session:
            poll = await session.get(Poll, poll_id)
            status = await session.get(Status, poll_id)
            if poll is None or status is None or not status.local:
                return
            author = await session.get(Account, status.account_id)
            document = await note_document(self.ctx, session, status, author)
            voters = await session.exec(
                select(Account)
                .join(PollVote, col(PollVote.account_id) == col(Account.id))
                .where(PollVote.poll_id == poll_id, col(Account.domain).is_not(None))
                .distinct()
            )
            named = [*await mentioned_accounts(session, status.id), *voters.all()]
            recipients = await _recipients(session, status, author, named, None)
            enqueue(session, author, poll_update(author, document, poll), preferred_inboxes(recipients))
        self.ctx.deliveries_queued()
