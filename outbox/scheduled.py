"""Scheduled posts: keeping a post's parameters until its time, and publishing it then.

A scheduled post is a row of `scheduled_statuses` (`ScheduledStatus`, a job of its own queue);
the worker claims it when `next_attempt_at` (its time) comes and publishes it through
`posts.post`, like any post. The row is deleted in the transaction that stores the post, only
while the worker's lease on it holds, so a post is published once: a worker killed before the
commit leaves the row for the next claim, one killed after leaves nothing to publish again, and
a cancel that wins the race leaves the publication nothing to delete (it then stores nothing).

The limits are Mastodon's: at least `MIN_AHEAD` ahead, at most `MAX_PENDING` waiting per account
and `MAX_PER_DAY` for any one day (UTC); and, Spark's own, at most `MAX_AHEAD` ahead.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.context import Context
from spark_fed.errors import UsageError
from spark_fed.media.service import MAX_ATTACHMENTS, own_media
from spark_fed.models import Account, JobState, ScheduledMedia, ScheduledStatus, Status, Visibility
from spark_fed.models.types import utcnow
from spark_fed.polls import PollRejected, PollSpec, new_poll
from spark_fed.queries.timelines import visible_status
from spark_fed.queue.jobs import GiveUp

from . import posts

MIN_AHEAD = timedelta(minutes=5)
MAX_AHEAD = timedelta(days=365)
MAX_PENDING = 300
MAX_PER_DAY = 25


class ScheduledNotFound(UsageError):
    """No scheduled post by that id of this account's."""


@dataclass
class Draft:
    """What a scheduled post will post: `posts.post`'s arguments, kept as JSON until then.

    IN_REPLY_TO_ID is the id of a status the author may see; POLL is the poll's parameters as
    given (options, expires_in, multiple, hide_totals); APPLICATION_ID the client app that
    scheduled it, if any (the API shows it back)."""

    text: str
    visibility: str = Visibility.PUBLIC
    spoiler_text: str | None = None
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: int | None = None
    media_ids: list[int] = field(default_factory=list)
    poll: dict[str, Any] | None = None
    application_id: int | None = None

    @classmethod
    def with_poll(cls, poll: PollSpec | None, **fields: Any) -> "Draft":
        """A draft whose POLL is kept as the API shows it back (options, expires_in, …)."""
        return cls(**fields, poll={**asdict(poll), "options": list(poll.options)} if poll else None)

    def poll_spec(self) -> PollSpec | None:
        return PollSpec(**self.poll) if self.poll else None

    def as_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Draft":
        data = json.loads(text)
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__ if key in data})


async def post_now(ctx: Context, author: Account, draft: Draft, parent: Status | None, **more: Any) -> Status:
    """Post DRAFT now, as a reply to PARENT if given: the one reading of a draft's fields that
    both an immediate post (the API) and a scheduled one coming due share. MORE is passed on to
    `posts.post` (quote, quote_policy, first)."""
    return await posts.post(
        ctx,
        author,
        draft.text,
        visibility=draft.visibility,
        reply_to=parent.uri if parent else None,
        cw=draft.spoiler_text,
        language=draft.language,
        media_ids=draft.media_ids,
        sensitive=draft.sensitive,
        poll=draft.poll_spec(),
        **more,
    )


async def schedule(ctx: Context, author: Account, draft: Draft, at: datetime) -> ScheduledStatus:
    """Keep DRAFT to be posted at AT; UsageError for a time out of bounds, a limit reached, or a
    draft `posts.post` would refuse."""
    _check_draft(ctx, draft)
    at = _check_time(at)
    async with ctx.db.write() as session:
        await _check_limits(session, author, at)
        await _check_reply(session, author, draft)
        await _check_media(session, author, draft.media_ids)
        row = ScheduledStatus(
            account_id=author.id, scheduled_at=at, next_attempt_at=at, params=draft.as_json()
        )
        session.add(row)
        await session.flush()
        session.add_all(
            ScheduledMedia(scheduled_status_id=row.id, media_id=media_id, position=position)
            for position, media_id in enumerate(draft.media_ids)
        )
    return row


async def reschedule(ctx: Context, author: Account, scheduled_id: int, at: datetime) -> ScheduledStatus:
    """Move a waiting post to AT (within the same bounds as when it was scheduled)."""
    at = _check_time(at)
    async with ctx.db.write() as session:
        row = await _own(session, author, scheduled_id)
        await _check_limits(session, author, at, moving=row.id)
        now = utcnow()
        moved = await session.exec(
            update(ScheduledStatus)
            .where(
                col(ScheduledStatus.id) == row.id,
                col(ScheduledStatus.state) == JobState.QUEUED,
                (col(ScheduledStatus.locked_until).is_(None)) | (col(ScheduledStatus.locked_until) < now),
            )
            .values(scheduled_at=at, next_attempt_at=at, attempts=0)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise UsageError("this post is being published now")
    return await scheduled(ctx, author, scheduled_id)


async def cancel(ctx: Context, author: Account, scheduled_id: int) -> None:
    """Drop a waiting post (its uploads are free again, and go if no post takes them)."""
    async with ctx.db.write() as session:
        row = await _own(session, author, scheduled_id)
        await session.delete(row)


async def scheduled(ctx: Context, author: Account, scheduled_id: int) -> ScheduledStatus:
    async with ctx.db.read() as session:
        return await _own(session, author, scheduled_id)


async def publish(ctx: Context, job: ScheduledStatus) -> None:
    """The worker's handler: post the draft, deleting the row in the same transaction."""
    draft = Draft.from_json(job.params)
    async with ctx.db.read() as session:
        author = await session.get(Account, job.account_id)
        parent = await _parent(session, author, draft.in_reply_to_id) if author else None
    if author is None or author.suspended_at is not None:
        raise GiveUp("the author is gone or suspended")

    async def claim_row(session: AsyncSession) -> None:
        gone = await session.exec(
            delete(ScheduledStatus)
            .where(col(ScheduledStatus.id) == job.id, col(ScheduledStatus.lease_token) == job.lease_token)
            .execution_options(synchronize_session=False)
        )
        if gone.rowcount != 1:
            raise GiveUp("cancelled, or published by another worker")

    try:
        await post_now(ctx, author, draft, parent, first=claim_row)
    except UsageError as exc:
        raise GiveUp(str(exc)) from None


def _check_draft(ctx: Context, draft: Draft) -> None:
    if draft.visibility not in set(Visibility):
        raise UsageError(f"visibility must be one of {', '.join(Visibility)}")
    if not draft.text.strip() and not draft.media_ids:
        raise UsageError("a post needs some text or an image")
    limit = ctx.config.instance.max_post_chars
    if len(draft.text) > limit:
        raise UsageError(f"a post has at most {limit} characters; this one has {len(draft.text)}")
    if len(draft.media_ids) > MAX_ATTACHMENTS:
        raise UsageError(f"a post has at most {MAX_ATTACHMENTS} images")
    if len(set(draft.media_ids)) != len(draft.media_ids):
        raise UsageError("the same image is attached twice")
    if (poll := draft.poll_spec()) is not None:
        if draft.media_ids:
            raise PollRejected("a post has a poll or images, not both")
        new_poll(poll, ctx.config.instance)  # its rules checked now, not first at its time


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (`2026-12-24T18:00:00Z`, `…+01:00`); without a zone it is UTC."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{text[:40]!r} is not an ISO 8601 time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _check_time(at: datetime) -> datetime:
    """AT in UTC (a time without a zone is UTC), if it is within the bounds."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    now = utcnow()
    if at < now + MIN_AHEAD:
        raise UsageError("the scheduled time must be at least 5 minutes ahead")
    if at > now + MAX_AHEAD:
        raise UsageError("the scheduled time must be within a year")
    return at


async def _check_limits(
    session: AsyncSession, author: Account, at: datetime, *, moving: int | None = None
) -> None:
    waiting = (
        select(func.count())
        .select_from(ScheduledStatus)
        .where(ScheduledStatus.account_id == author.id, ScheduledStatus.state == JobState.QUEUED)
    )
    if moving is not None:
        waiting = waiting.where(col(ScheduledStatus.id) != moving)
    if moving is None and (await session.exec(waiting)).one() >= MAX_PENDING:
        raise UsageError(f"at most {MAX_PENDING} posts may wait to be published")
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    that_day = waiting.where(
        col(ScheduledStatus.scheduled_at) >= day, col(ScheduledStatus.scheduled_at) < day + timedelta(days=1)
    )
    if (await session.exec(that_day)).one() >= MAX_PER_DAY:
        raise UsageError(f"at most {MAX_PER_DAY} posts may be scheduled for one day")


async def _check_reply(session: AsyncSession, author: Account, draft: Draft) -> None:
    if draft.in_reply_to_id is not None and await _parent(session, author, draft.in_reply_to_id) is None:
        raise UsageError("the post to reply to is not there")


async def _parent(session: AsyncSession, author: Account, status_id: int | None) -> Status | None:
    """The post replied to, if it is still there and the author may still see it (if not, the
    post is published on its own, as Mastodon does)."""
    return await visible_status(session, author, status_id) if status_id is not None else None


async def _check_media(session: AsyncSession, author: Account, media_ids: list[int]) -> None:
    """The author's own uploads, attached to no post and reserved by no other scheduled one."""
    for media_id in media_ids:
        row = await own_media(session, author, media_id)
        if row.status_id is not None:
            raise UsageError(f"media {media_id} is attached to another post")
    if media_ids:
        taken = await session.exec(
            select(ScheduledMedia.media_id).where(col(ScheduledMedia.media_id).in_(media_ids))
        )
        if taken.first() is not None:
            raise UsageError("an image is already kept for another scheduled post")


async def _own(session: AsyncSession, author: Account, scheduled_id: int) -> ScheduledStatus:
    row = await session.get(ScheduledStatus, scheduled_id)
    if row is None or row.account_id != author.id or row.state != JobState.QUEUED:
        raise ScheduledNotFound("Record not found")
    return row
