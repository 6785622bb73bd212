"""Keeping a status's earlier revisions when it is edited: called by the status-write boundary.

An edit copies the status as it reads before the change (content, content warning, sensitive,
its attachments with their descriptions then, and, once polls exist, its poll options) into
`status_edits`, dated from when that revision began: the status's `edited_at`, or `published`
for the original. The history a client sees is those rows, oldest first, then the status itself.

At most `MAX_KEPT` earlier revisions are kept per status: the original always, and the newest
others; an edit beyond that drops the oldest of the in-between ones, so a post edited every
minute does not grow without end.
"""

import json

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import MediaAttachment, Status, StatusEdit
from .models.media import MediaKind

MAX_KEPT = 50
"""Earlier revisions kept per status, the original among them."""


async def keep_revision(session: AsyncSession, status: Status, poll: dict | None = None) -> None:
    """Copy STATUS as it reads now into its history; POLL is its poll's options now, if it has one
    (``{"options": [{"title": ...}]}``)."""
    media = await session.exec(
        select(MediaAttachment.id, MediaAttachment.description)
        .where(MediaAttachment.status_id == status.id, MediaAttachment.kind == MediaKind.ATTACHMENT)
        .order_by(MediaAttachment.position)
    )
    session.add(
        StatusEdit(
            status_id=status.id,
            content=status.content,
            summary=status.summary,
            sensitive=status.sensitive,
            media=json.dumps([{"id": str(i), "description": d} for i, d in media.all()]),
            poll=json.dumps(poll) if poll is not None else None,
            created_at=status.edited_at or status.published,
        )
    )
    await session.flush()
    await _bound(session, status.id)


async def _bound(session: AsyncSession, status_id: int) -> None:
    """Drop the oldest in-between revisions beyond `MAX_KEPT` (the original stays)."""
    count = (
        await session.exec(
            select(func.count()).select_from(StatusEdit).where(StatusEdit.status_id == status_id)
        )
    ).one()
    if count <= MAX_KEPT:
        return
    ids = (
        await session.exec(
            select(StatusEdit.id)
            .where(StatusEdit.status_id == status_id)
            .order_by(col(StatusEdit.created_at), col(StatusEdit.id))
            .offset(1)
            .limit(count - MAX_KEPT)
        )
    ).all()
    await session.exec(delete(StatusEdit).where(col(StatusEdit.id).in_(ids)))
