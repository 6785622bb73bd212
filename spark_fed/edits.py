"""Keeping a status's earlier revisions when it is edited: called by the status-write boundary.

An edit copies the status as it reads before the change (content, content warning, sensitive,
its attachments with their descriptions then, and its poll's options then) into
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

from .models import MediaAttachment, Poll, Status, StatusEdit
from .models.media import MediaKind

MAX_KEPT = 50
"""Earlier revisions kept per status, the original among them."""


async def keep_revision(session: AsyncSession, status: Status) -> None:
    """Copy STATUS as it reads now into its history, its poll's options too when it has one: so
    callers keep the revision before they change the status or its poll."""
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
            poll=_json_or_none(revision_poll(await session.get(Poll, status.id))),
            created_at=status.edited_at or status.published,
        )
    )
    await session.flush()
    await _bound(session, status.id)


def revision_poll(poll: Poll | None) -> dict[str, list[dict[str, str]]] | None:
    """A poll's options as a revision has them (``{"options": [{"title": ...}]}``), None for no
    poll: counts are no part of a revision."""
    if poll is None:
        return None
    return {"options": [{"title": title} for title in poll.options]}


def _json_or_none(value: dict | None) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value is not None else None


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
