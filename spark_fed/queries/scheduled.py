"""An account's scheduled posts, a page at a time, and the uploads they will attach."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import JobState, MediaAttachment, ScheduledMedia, ScheduledStatus
from .paging import Cursor, page


async def scheduled_of(
    session: AsyncSession, account_id: int, limit: int, cursor: Cursor
) -> list[ScheduledStatus]:
    """The account's posts waiting to be published, by id, newest first."""
    query = select(ScheduledStatus).where(
        ScheduledStatus.account_id == account_id, ScheduledStatus.state == JobState.QUEUED
    )
    return await page(session, query, col(ScheduledStatus.id), limit, cursor)


async def scheduled_media(session: AsyncSession, ids: list[int]) -> dict[int, list[MediaAttachment]]:
    """The uploads each of these scheduled posts will attach, in order, in one query."""
    found: dict[int, list[MediaAttachment]] = {}
    if not ids:
        return found
    rows = await session.exec(
        select(ScheduledMedia.scheduled_status_id, MediaAttachment)
        .join(MediaAttachment, col(MediaAttachment.id) == col(ScheduledMedia.media_id))
        .where(col(ScheduledMedia.scheduled_status_id).in_(ids))
        .order_by(col(ScheduledMedia.scheduled_status_id), col(ScheduledMedia.position))
    )
    for scheduled_id, media in rows.all():
        found.setdefault(scheduled_id, []).append(media)
    return found
