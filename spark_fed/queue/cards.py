"""The card job kind: a status's first link gets its preview card, in the background.

A `card_fetches` row is queued with the status, in the same transaction, and posting waits for
nothing else. The job reads the status as it is when it runs (an edit queues another), picks
its first link (`spark_fed.cards.links`), and shows the card already kept for that URL when it
is younger than two weeks, else fetches one (`spark_fed.cards.fetcher`). A card that arrives is
stored whole with its link to the status, and `Kind.STATUSES` tells every process that the
status changed. A page that yields no card changes nothing: the job is done, not retried, as
Mastodon does not retry either. A remote status with media attachments gets no card.
"""

import logging
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlmodel import col, select

from ..cards.fetcher import CardFetcher
from ..cards.links import first_link
from ..cards.store import card_by_url, is_fresh, save_card, show_card
from ..changes import Kind, publish
from ..db import Database
from ..media.budget import release
from ..media.storage import MediaStore
from ..models import Account, CardFetch, MediaAttachment, Mention, Status
from ..models.media import MediaKind

log = logging.getLogger(__name__)


class CardJobs:
    """The handler the card worker runs (`app.build_workers`)."""

    def __init__(
        self,
        db: Database,
        fetcher: CardFetcher,
        store: MediaStore,
        *,
        base_url: str,
        image_owner_id: int,
    ) -> None:
        self.db = db
        self.store = store
        self.fetcher = fetcher
        self.local_host = urlsplit(base_url).netloc.lower()
        self.image_owner_id = image_owner_id

    async def __call__(self, job: CardFetch) -> None:
        url = await self._link_of(job.status_id)
        if url is None:
            await self._show(job.status_id, None)
            return
        async with self.db.read() as session:
            known = await card_by_url(session, url)
        if known is not None and is_fresh(known):
            await self._show(job.status_id, known.id)
            return
        data = await self.fetcher.fetch(url)
        if data is None:
            if known is not None:  # stale, but the page gives nothing better now
                await self._show(job.status_id, known.id)
            return
        async with self.db.write() as session:
            if await session.get(Status, job.status_id) is None:
                return  # deleted meanwhile: nothing to show it on
            card, dropped = await save_card(session, data, self.image_owner_id)
            await show_card(session, job.status_id, card.id)
            await publish(session, Kind.STATUSES, [job.status_id])
        await release(self.db, self.store, dropped)

    async def _link_of(self, status_id: int) -> str | None:
        """The status's first link that gets a card, or None (gone, a boost, remote with media)."""
        async with self.db.read() as session:
            status = await session.get(Status, status_id)
            if status is None or status.reblog_of_id is not None:
                return None
            media = list(
                (
                    await session.exec(
                        select(MediaAttachment.remote_url).where(
                            MediaAttachment.status_id == status_id,
                            MediaAttachment.kind == MediaKind.ATTACHMENT,
                        )
                    )
                ).all()
            )
            if media and not status.local:
                return None
            mentioned = (
                await session.exec(
                    select(Account.uri, Account.url)
                    .join(Mention, col(Mention.account_id) == col(Account.id))
                    .where(Mention.status_id == status_id)
                )
            ).all()
        addresses = {address for pair in mentioned for address in pair if address}
        return first_link(
            status.content,
            local_host=self.local_host,
            mentioned=addresses,
            attachments={url for url in media if url},
        )

    async def _show(self, status_id: int, card_id: int | None) -> None:
        async with self.db.write() as session:
            if await session.get(Status, status_id) is None:
                return
            if await show_card(session, status_id, card_id):
                await publish(session, Kind.STATUSES, [status_id])


async def queued_count(db: Database) -> int:
    """Card fetches not yet done (for tests and the benchmark)."""
    async with db.read() as session:
        return (await session.exec(select(func.count()).select_from(CardFetch))).one()
