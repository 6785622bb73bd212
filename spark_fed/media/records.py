"""Remote media as references: rows with the origin's URL, fetched only when first shown."""

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..activitystreams import as_list
from ..models import MediaAttachment
from ..models.media import FetchState, MediaKind
from .service import MAX_ATTACHMENTS, MAX_DESCRIPTION

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def _url_of(value: Any) -> str | None:
    """An attachment's `url`: a string, a Link object, or a list of either (the first http(s) one)."""
    for item in as_list(value):
        href = item.get("href") if isinstance(item, dict) else item
        if isinstance(href, str) and href.startswith(("https://", "http://")) and len(href) <= 2048:
            return href
    return None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000 else None


def _focus(value: Any) -> tuple[float, float]:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        x, y = (max(-1.0, min(1.0, float(v))) for v in value)
        return x, y
    return 0.0, 0.0


def note_attachments(note: dict[str, Any], account_id: int) -> list[MediaAttachment]:
    """The image attachments of a remote NOTE as rows to store with it (at most four, as Mastodon).

    What is not an image (video, audio) is left out for now; its post still shows its text.
    """
    rows = []
    for item in as_list(note.get("attachment")):
        if not isinstance(item, dict) or len(rows) == MAX_ATTACHMENTS:
            continue
        media_type = str(item.get("mediaType") or "").lower()
        url = _url_of(item.get("url"))
        if url is None or (media_type and media_type not in IMAGE_TYPES):
            continue
        name = item.get("name")
        blurhash = item.get("blurhash")
        x, y = _focus(item.get("focalPoint"))
        rows.append(
            MediaAttachment(
                account_id=account_id,
                kind=MediaKind.ATTACHMENT,
                position=len(rows),
                local=False,
                remote_url=url,
                fetch_state=FetchState.PENDING,
                media_type=media_type or "image/jpeg",
                width=_number(item.get("width")),
                height=_number(item.get("height")),
                blurhash=blurhash if isinstance(blurhash, str) and len(blurhash) <= 64 else None,
                description=name[:MAX_DESCRIPTION] if isinstance(name, str) else "",
                focus_x=x,
                focus_y=y,
            )
        )
    return rows


async def store_note_attachments(session: AsyncSession, status_id: int, rows: list[MediaAttachment]) -> None:
    for row in rows:
        row.status_id = status_id
        session.add(row)


async def replace_note_attachments(
    session: AsyncSession, status_id: int, rows: list[MediaAttachment]
) -> None:
    """An edited remote note: its attachments as the Update lists them (files kept where URLs match)."""
    current = {
        r.remote_url: r
        for r in (
            await session.exec(select(MediaAttachment).where(MediaAttachment.status_id == status_id))
        ).all()
    }
    for row in rows:
        known = current.pop(row.remote_url, None)
        if known is not None:
            known.description, known.position = row.description, row.position
            session.add(known)
        else:
            row.status_id = status_id
            session.add(row)
    for gone in current.values():
        gone.status_id = None
        session.add(gone)


async def record_profile_image(
    session: AsyncSession, account_id: int, kind: MediaKind, url: str | None
) -> None:
    """A remote account's avatar or header: one row per account and kind, reset when the URL changes."""
    rows = (
        await session.exec(
            select(MediaAttachment).where(
                MediaAttachment.account_id == account_id, MediaAttachment.kind == kind
            )
        )
    ).all()
    if rows and url is not None and rows[0].remote_url == url:
        return
    for row in rows:
        await session.delete(row)
    if url is not None:
        session.add(
            MediaAttachment(
                account_id=account_id, kind=kind, local=False, remote_url=url, fetch_state=FetchState.PENDING
            )
        )


async def profile_images(
    session: AsyncSession, account_ids: set[int]
) -> dict[tuple[int, str], MediaAttachment]:
    """Avatars and headers of many accounts at once, by (account id, kind)."""
    if not account_ids:
        return {}
    rows = await session.exec(
        select(MediaAttachment).where(
            col(MediaAttachment.account_id).in_(account_ids),
            col(MediaAttachment.kind).in_([MediaKind.AVATAR, MediaKind.HEADER]),
        )
    )
    return {(r.account_id, r.kind): r for r in rows.all()}
