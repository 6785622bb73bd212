"""Media: one service for uploads, remote references, the proxy's fetches and the disk budget.

Uploads (the API, the web composer and settings, `spark-fed post --image`)
and remote files (when first shown) go through the same `process` checks and
the same store. Processing runs in a thread under a small semaphore: each
image may take a few hundred MB of RAM and a core for a moment.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .. import domain_policy
from ..config import MediaConfig
from ..db import Database
from ..errors import UsageError
from ..federation.documents import host_of
from ..http.client import FetchError, HttpClient
from ..models import Account, MediaAttachment, ScheduledMedia
from ..models.media import FetchState, MediaKind
from ..models.types import utcnow
from ..singleflight import SingleFlight
from .budget import enforce_budget, file_keys, release
from .processing import MediaRejected, ProcessedImage, process
from .storage import MediaStore

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500  # Mastodon's limit for alt text
PROCESSING_SLOTS = 2
# Showing a file moves it to the back of the eviction line; at most this often per file (a write).
SHOWN_EVERY = timedelta(minutes=10)
UNATTACHED_FOR = timedelta(days=1)
FETCH_SECONDS = 90.0
"""The longest a remote file may take, all steps together: the download (at most 30 s),
processing (which may queue behind others), storing and the budget's evictions."""


class MediaNotFound(UsageError):
    """No such media of this account (or it is already attached elsewhere)."""


@dataclass(frozen=True)
class Focus:
    """Mastodon's focal point: x and y in -1..1, (0, 0) the centre."""

    x: float = 0.0
    y: float = 0.0

    @classmethod
    def parse(cls, text: str | None) -> "Focus":
        """`"x,y"` as Mastodon's API takes it; anything unreadable or out of range is refused."""
        if not text:
            return cls()
        try:
            x, y = (float(part) for part in text.split(","))
        except ValueError:
            raise UsageError("focus must be two numbers, x,y, each between -1 and 1") from None
        if not (-1 <= x <= 1 and -1 <= y <= 1):
            raise UsageError("focus must be two numbers, x,y, each between -1 and 1")
        return cls(x, y)


class MediaService:
    def __init__(
        self,
        db: Database,
        store: MediaStore,
        config: MediaConfig,
        http: HttpClient,
        *,
        fetch_seconds: float = FETCH_SECONDS,
    ) -> None:
        """FETCH_SECONDS is a parameter so that a test need not wait a minute and a half."""
        self.db = db
        self.store = store
        self.config = config
        self.http = http
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._fetches: SingleFlight[int, MediaAttachment | None] = SingleFlight(timeout=fetch_seconds)

    async def process(self, data: bytes) -> ProcessedImage:
        """`processing.process` off the event loop, a few at a time; `MediaRejected` when refused."""
        loop = asyncio.get_running_loop()
        slots = self._slots.setdefault(loop, asyncio.Semaphore(PROCESSING_SLOTS))
        async with slots:
            return await asyncio.to_thread(
                process, data, max_bytes=self.config.max_upload_bytes, max_pixels=self.config.max_pixels
            )

    async def _keep(self, processed: ProcessedImage) -> tuple[str, str]:
        key = await self.store.put(processed.data, processed.media_type)
        thumb = await self.store.put(processed.thumbnail, processed.thumbnail_type)
        return key, thumb

    async def upload(
        self,
        account: Account,
        data: bytes,
        *,
        description: str = "",
        focus: Focus = Focus(),
        kind: MediaKind = MediaKind.ATTACHMENT,
    ) -> MediaAttachment:
        """A local upload, checked, processed and stored; not yet attached to anything.

        An avatar or header replaces the account's previous one (its row goes; its file goes
        with the next clean-up if nothing else uses it).
        """
        if len(description) > MAX_DESCRIPTION:
            raise UsageError(f"an image description has at most {MAX_DESCRIPTION} characters")
        processed = await self.process(data)
        key, thumb = await self._keep(processed)
        row = MediaAttachment(
            account_id=account.id,
            kind=kind,
            local=True,
            fetch_state=FetchState.STORED,
            description=description,
            focus_x=focus.x,
            focus_y=focus.y,
            **_file_columns(processed, key, thumb),
        )
        replaced: list[str] = []
        async with self.db.write() as session:
            if kind != MediaKind.ATTACHMENT:
                replaced = await _drop_profile_image(session, account.id, kind)
            session.add(row)
        await release(self.db, self.store, replaced)
        return row

    async def discard(self, rows: list[MediaAttachment]) -> None:
        """Uploads a post did not take after all (one of its images, or the post, was refused):
        their rows now, and their files if nothing shares them."""
        if not rows:
            return
        async with self.db.write() as session:
            for row in rows:
                stored = await session.get(MediaAttachment, row.id)
                if stored is not None and stored.status_id is None:
                    await session.delete(stored)
        await release(self.db, self.store, file_keys(rows))

    async def remove_unattached(self, older_than: timedelta = UNATTACHED_FOR) -> int:
        """Uploads no post took within OLDER_THAN (a day): rows and, if unshared, files."""
        cutoff = utcnow() - older_than
        async with self.db.write() as session:
            rows = (
                await session.exec(
                    select(MediaAttachment).where(
                        col(MediaAttachment.local).is_(True),
                        col(MediaAttachment.status_id).is_(None),
                        MediaAttachment.kind == MediaKind.ATTACHMENT,
                        col(MediaAttachment.created_at) < cutoff,
                        # Kept for a post scheduled for later.
                        ~exists().where(col(ScheduledMedia.media_id) == col(MediaAttachment.id)),
                    )
                )
            ).all()
            keys = file_keys(rows)
            for row in rows:
                await session.delete(row)
        await release(self.db, self.store, keys)
        return len(rows)

    async def describe(
        self, account: Account, media_id: int, *, description: str | None, focus: Focus | None
    ) -> MediaAttachment:
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise UsageError(f"an image description has at most {MAX_DESCRIPTION} characters")
        async with self.db.write() as session:
            row = await own_media(session, account, media_id)
            if description is not None:
                row.description = description
            if focus is not None:
                row.focus_x, row.focus_y = focus.x, focus.y
            session.add(row)
        return row

    async def fetch_remote(self, media_id: int, *, again: bool = True) -> MediaAttachment | None:
        """The remote file behind MEDIA_ID, fetched (once, however many ask at a time) and stored.

        None when it is not to be had: refused, failed (marked so) or too slow (not marked: the
        next reader tries again). A failed database write reaches every reader as it is. AGAIN
        False (a page's reader) leaves a file marked failed alone: a reader who read the row just
        before another reader's fetch failed would otherwise start a second one.
        """
        try:
            return await self._fetches.run(media_id, lambda: self._fetch_remote(media_id, again))
        except TimeoutError:
            log.info("remote media %s not shown: not fetched within %g s", media_id, self._fetches.timeout)
            return None

    async def _fetch_remote(self, media_id: int, again: bool) -> MediaAttachment | None:
        async with self.db.read() as session:
            row = await session.get(MediaAttachment, media_id)
            owner = await session.get(Account, row.account_id) if row is not None else None
        if row is None or row.local or row.remote_url is None:
            return None
        if row.fetch_state == FetchState.FAILED and not again:
            return None
        # Reject-media (or suspend): nothing of such a domain goes through the proxy, stored or not.
        policy = await domain_policy.refresh(self.db)
        hosts = (host_of(row.remote_url), owner.domain if owner is not None and owner.domain else "")
        if any(policy.rejects_media(host) for host in hosts if host):
            return None
        if row.fetch_state == FetchState.STORED and row.file_key:
            return row
        try:
            response = await self.http.get(
                row.remote_url, {"Accept": "image/*"}, max_body_bytes=self.config.max_upload_bytes
            )
            if response.status != 200:
                raise FetchError(f"answered {response.status}", row.remote_url)
            if policy.rejects_media(host_of(response.url)):
                raise FetchError("redirected to a server whose media is rejected here", response.url)
            processed = await self.process(response.body)
        except (FetchError, MediaRejected) as exc:
            log.info("remote media %s not shown: %s", row.remote_url, exc)
            await self._mark(media_id, FetchState.FAILED)
            return None
        key, thumb = await self._keep(processed)
        async with self.db.write() as session:
            stored = await session.get(MediaAttachment, media_id)
            if stored is None:
                return None
            for name, value in _file_columns(processed, key, thumb).items():
                if name == "blurhash" and stored.blurhash:
                    continue  # the sender's own blurhash is what other servers show too
                setattr(stored, name, value)
            stored.fetch_state = FetchState.STORED
            stored.last_shown_at = utcnow()
            session.add(stored)
        await enforce_budget(self.db, self.store, self.config.remote_cache_max_bytes)
        return stored

    async def _mark(self, media_id: int, state: FetchState) -> None:
        async with self.db.write() as session:
            row = await session.get(MediaAttachment, media_id)
            if row is not None:
                row.fetch_state = state
                session.add(row)

    async def shown(self, row: MediaAttachment) -> None:
        """Note that a remote file was shown, for the budget's least-recently-shown order."""
        if row.local or utcnow() - row.last_shown_at < SHOWN_EVERY:
            return
        async with self.db.write() as session:
            stored = await session.get(MediaAttachment, row.id)
            if stored is not None:
                stored.last_shown_at = utcnow()
                session.add(stored)


def _file_columns(processed: ProcessedImage, key: str, thumb: str) -> dict[str, object]:
    return {
        "file_key": key,
        "thumbnail_key": thumb,
        "media_type": processed.media_type,
        "size_bytes": len(processed.data) + len(processed.thumbnail),
        "width": processed.width,
        "height": processed.height,
        "thumbnail_width": processed.thumbnail_width,
        "thumbnail_height": processed.thumbnail_height,
        "blurhash": processed.blurhash,
    }


async def own_media(session: AsyncSession, account: Account, media_id: int) -> MediaAttachment:
    row = await session.get(MediaAttachment, media_id)
    if row is None or row.account_id != account.id or not row.local or row.kind != MediaKind.ATTACHMENT:
        raise MediaNotFound(f"there is no media {media_id} of yours")
    return row


async def attach(session: AsyncSession, account: Account, status_id: int, media_ids: list[int]) -> None:
    """Attach ACCOUNT's uploads MEDIA_IDS to the status, in that order; what it had and no longer
    lists is let go (and cleaned up later). Inside the caller's transaction, so a post and its
    images are stored together or not at all."""
    if len(media_ids) > MAX_ATTACHMENTS:
        raise UsageError(f"a post has at most {MAX_ATTACHMENTS} images")
    if len(set(media_ids)) != len(media_ids):
        raise UsageError("the same image is attached twice")
    rows = []
    for media_id in media_ids:
        row = await own_media(session, account, media_id)
        if row.status_id not in (None, status_id):
            raise MediaNotFound(f"media {media_id} is attached to another post")
        rows.append(row)
    current = await session.exec(select(MediaAttachment).where(MediaAttachment.status_id == status_id))
    for row in current.all():
        if row.id not in media_ids:
            row.status_id = None
            session.add(row)
    for position, row in enumerate(rows):
        row.status_id = status_id
        row.position = position
        session.add(row)


async def describe_attached(session: AsyncSession, status_id: int, descriptions: Mapping[int, str]) -> None:
    """New descriptions for images of the status (an edit's); ids it does not have are refused."""
    rows = await session.exec(
        select(MediaAttachment).where(
            MediaAttachment.status_id == status_id, col(MediaAttachment.id).in_(list(descriptions))
        )
    )
    found = {row.id: row for row in rows.all()}
    if set(found) != set(descriptions):
        raise MediaNotFound("an image described is not one of this post's")
    for media_id, row in found.items():
        row.description = descriptions[media_id]
        session.add(row)


async def attachments_of(session: AsyncSession, status_ids: list[int]) -> dict[int, list[MediaAttachment]]:
    """The attachments of a page of statuses, in order, in one query."""
    found: dict[int, list[MediaAttachment]] = {}
    if not status_ids:
        return found
    rows = await session.exec(
        select(MediaAttachment)
        .where(col(MediaAttachment.status_id).in_(status_ids), MediaAttachment.kind == MediaKind.ATTACHMENT)
        .order_by(MediaAttachment.status_id, MediaAttachment.position)
    )
    for row in rows.all():
        found.setdefault(row.status_id, []).append(row)
    return found


async def _drop_profile_image(session: AsyncSession, account_id: int, kind: MediaKind) -> list[str]:
    """Delete the account's current avatar (or header) row; returns its file keys to release."""
    rows = await session.exec(
        select(MediaAttachment).where(MediaAttachment.account_id == account_id, MediaAttachment.kind == kind)
    )
    keys = []
    for row in rows.all():
        keys += file_keys([row])
        await session.delete(row)
    return keys
