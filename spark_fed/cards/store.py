"""Cards kept per URL, the card each status shows, and the queue rows that ask for one.

A card is written in one transaction with its image row and its link to the status, or not at
all. The image is a remote media row held by the instance actor, so it is fetched, checked and
re-encoded by the media proxy when first shown, like a remote attachment, and never hot-linked.
"""

from collections.abc import Iterable
from dataclasses import asdict
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..db import dialect_insert
from ..media.budget import file_keys
from ..models import CardFetch, MediaAttachment, PreviewCard, StatusCard
from ..models.media import FetchState, MediaKind
from ..models.types import utcnow
from .page import CardData

FRESH_FOR = timedelta(days=14)
"""A card older than this is fetched again when a new post links it (Mastodon's two weeks)."""


def queue_card_fetches(session: AsyncSession, status_ids: Iterable[int]) -> None:
    """Ask for the cards of these statuses, in the caller's transaction (posting waits for nothing more)."""
    session.add_all(CardFetch(status_id=status_id) for status_id in status_ids)


async def card_by_url(session: AsyncSession, url: str) -> PreviewCard | None:
    return (await session.exec(select(PreviewCard).where(PreviewCard.url == url))).first()


def is_fresh(card: PreviewCard) -> bool:
    return utcnow() - card.fetched_at < FRESH_FOR


async def save_card(
    session: AsyncSession, data: CardData, image_owner_id: int
) -> tuple[PreviewCard, list[str]]:
    """DATA as the card of its URL, new or refreshed; its image as a remote media reference.

    Also the file keys of an image the refreshed card no longer shows: the caller releases them
    once the transaction has committed (`media.budget.release`)."""
    fields = asdict(data)
    image = fields.pop("image")
    fields["fetched_at"] = utcnow()
    dialect = session.bind.dialect.name
    await session.exec(
        dialect_insert(dialect, PreviewCard).values(**fields).on_conflict_do_nothing(index_elements=["url"])
    )
    card = await card_by_url(session, data.url)
    assert card is not None  # inserted just now, or by another writer before
    for name, value in fields.items():
        setattr(card, name, value)
    current = await session.get(MediaAttachment, card.image_id) if card.image_id else None
    dropped: list[str] = []
    if current is None or current.remote_url != image:
        if current is not None:
            dropped = file_keys([current])
            await session.delete(current)
        card.image_id = None
        if image is not None:
            row = MediaAttachment(
                account_id=image_owner_id,
                kind=MediaKind.CARD,
                local=False,
                remote_url=image,
                fetch_state=FetchState.PENDING,
                description=data.image_description,
            )
            session.add(row)
            await session.flush()
            card.image_id = row.id
    session.add(card)
    await session.flush()
    return card, dropped


async def show_card(session: AsyncSession, status_id: int, card_id: int | None) -> bool:
    """STATUS_ID shows CARD_ID (None: no card); False when that was so already."""
    current = await session.get(StatusCard, status_id)
    if (current.card_id if current else None) == card_id:
        return False
    if current is not None:
        await session.delete(current)
        await session.flush()
    if card_id is not None:
        session.add(StatusCard(status_id=status_id, card_id=card_id))
    return True


async def cards_of(
    session: AsyncSession, status_ids: list[int]
) -> dict[int, tuple[PreviewCard, MediaAttachment | None]]:
    """The cards of a page of statuses with their images, in one query."""
    if not status_ids:
        return {}
    rows = await session.exec(
        select(StatusCard.status_id, PreviewCard, MediaAttachment)
        .join(PreviewCard, col(PreviewCard.id) == col(StatusCard.card_id))
        .outerjoin(MediaAttachment, col(MediaAttachment.id) == col(PreviewCard.image_id))
        .where(col(StatusCard.status_id).in_(status_ids))
    )
    return {status_id: (card, image) for status_id, card, image in rows.all()}
