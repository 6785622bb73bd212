"""A status's revisions, oldest first, the current one last (what `spark_fed.edits` keeps)."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..edits import revision_poll
from ..models import MediaAttachment, Poll, Status, StatusEdit
from ..models.media import MediaKind


@dataclass(frozen=True)
class Revision:
    """How a status read from CREATED_AT: MEDIA are its attachments then, each with its
    description then (an attachment since deleted is left out); POLL its poll's options then
    (``{"options": [{"title": ...}]}``), None when it had no poll."""

    content: str
    summary: str
    sensitive: bool
    created_at: datetime
    media: list[tuple[MediaAttachment, str]] = field(default_factory=list)
    poll: dict[str, Any] | None = None


async def revisions(session: AsyncSession, status: Status) -> list[Revision]:
    """STATUS's history: its kept earlier revisions, then itself as it reads now (a status never
    edited has the one revision). Three queries: the kept revisions, the attachments named and
    the status's poll now."""
    kept = (
        await session.exec(
            select(StatusEdit)
            .where(StatusEdit.status_id == status.id)
            .order_by(col(StatusEdit.created_at), col(StatusEdit.id))
        )
    ).all()
    named = [(edit, json.loads(edit.media or "[]")) for edit in kept]
    wanted = {int(item["id"]) for _, items in named for item in items}
    rows = await session.exec(
        select(MediaAttachment).where(
            (col(MediaAttachment.id).in_(wanted)) | (col(MediaAttachment.status_id) == status.id),
            MediaAttachment.kind == MediaKind.ATTACHMENT,
        )
    )
    media = {row.id: row for row in rows.all()}
    found = [
        Revision(
            content=edit.content,
            summary=edit.summary,
            sensitive=edit.sensitive,
            created_at=edit.created_at,
            media=[
                (media[int(item["id"])], str(item.get("description") or ""))
                for item in items
                if int(item["id"]) in media
            ],
            poll=json.loads(edit.poll) if edit.poll else None,
        )
        for edit, items in named
    ]
    current = sorted((m for m in media.values() if m.status_id == status.id), key=lambda m: m.position)
    found.append(
        Revision(
            content=status.content,
            summary=status.summary,
            sensitive=status.sensitive,
            created_at=status.edited_at or status.published,
            media=[(m, m.description) for m in current],
            poll=revision_poll(await session.get(Poll, status.id)),
        )
    )
    return found
