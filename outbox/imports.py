"""Importing an archive (Twitter/X, Mastodon) as backdated posts: the one write path.

The archive is opened and parsed whole first (`spark_fed.archives`): a bad zip, a bomb, unsafe
names or a cut-off `tweets.js` raise `ArchiveError` before anything is stored. Then posts are
stored in batches, one transaction each, every post with its `ImportedItem` row, so a post is
imported whole (status, tags, mentions, pictures, the record) or not at all, a re-run skips what
has a record, and an interrupted run resumes where it stopped. Should a batch fail, its posts
are retried one by one and the one that fails is reported `{id, reason}` and skipped.

Imported statuses take snowflake ids of their ORIGINAL time, so every timeline (profile, outbox,
local, home) sorts them into the past, never at the top. They are fanned out to local home feeds
as any post (harmless there: they sort deep into the past), but no Delivery is queued, so no
other server hears of them, unless ANNOUNCE: then one Create per post goes through the durable
delivery queue with `next_attempt_at` spread ANNOUNCE_INTERVAL apart, a slow, bounded rate.
Mentions of local accounts are recorded without notifications: nobody is pinged about a
years-old post.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from spark_fed.archives import Archive, ArchivedPost, ArchiveError, ParsedArchive, mastodon, twitter
from spark_fed.content.format import link_html, named_link_html
from spark_fed.content.sources import Written
from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.errors import UsageError
from spark_fed.media.processing import MediaRejected
from spark_fed.media.service import MAX_ATTACHMENTS, MAX_DESCRIPTION, attach
from spark_fed.media.video import gif_from_video
from spark_fed.models import Account, ImportedItem, ImportJob, ImportState, Status
from spark_fed.models.ids import number
from spark_fed.models.types import utcnow
from spark_fed.queries.safety import blockers_of
from spark_fed.queries.statuses import followers_of
from spark_fed.statuses import NewStatus, store_statuses

from . import notes
from .posts import note_document

__all__ = ["ArchiveError", "ImportProgress", "ImportSummary", "import_archive", "run_job"]

log = logging.getLogger(__name__)

KINDS = ("twitter", "mastodon")
BATCH = 100
ANNOUNCE_INTERVAL = timedelta(seconds=6)
_READERS = {"twitter": twitter.read, "mastodon": mastodon.read}


@dataclass
class ImportSummary:
    imported: int = 0
    already_imported: int = 0
    skipped_retweets: int = 0
    replies_to_others: int = 0
    pictures: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportProgress:
    done: int
    total: int


@dataclass
class _Prepared:
    """A post ready to store: its row (id, URLs and parent are set when it is written), its HTML
    as the archive and the import wrote it (sanitised by the status-write boundary), its uploads."""

    item: ArchivedPost
    status: Status
    html: str
    media_ids: list[int]
    uploads: list[Any]
    parent_source_id: str | None


def _reply_note(post: ArchivedPost) -> str:
    """The line a reply to someone else (or to a post not in the archive) opens with."""
    if not post.reply_to_url:
        return ""
    return f"<p>In reply to {named_link_html(post.reply_to_url, post.reply_to_name or post.reply_to_url)}</p>"


def _links(linked: list[str]) -> str:
    """What is linked rather than attached (videos, missing pictures), a line each."""
    return f"<p>{'<br>'.join(link_html(url) for url in linked)}</p>" if linked else ""


async def import_archive(
    ctx: Context,
    account: Account,
    kind: str,
    path: Path,
    *,
    apply_profile: bool = False,
    announce: bool = False,
    progress: Callable[[ImportProgress], None] | None = None,
) -> ImportSummary:
    if kind not in KINDS:
        raise UsageError(f"an archive is one of {', '.join(KINDS)}")
    archive = await asyncio.to_thread(Archive, Path(path))
    try:
        parsed: ParsedArchive = await asyncio.to_thread(_READERS[kind], archive, ctx.urls.tag)
        return await _Importer(ctx, account, kind, archive, announce, progress).run(parsed, apply_profile)
    finally:
        archive.close()


class _Importer:
    def __init__(
        self,
        ctx: Context,
        account: Account,
        kind: str,
        archive: Archive,
        announce: bool,
        progress: Callable[[ImportProgress], None] | None,
    ) -> None:
        self.ctx = ctx
        self.account = account
        self.kind = kind
        self.archive = archive
        self.announce = announce
        self.progress = progress or (lambda _: None)
        self.summary = ImportSummary()
        self.known: dict[str, int | None] = {}  # source id → status id, earlier runs and this one
        self.prepared: set[str] = set()  # source ids in batches not written yet
        self.next_send = utcnow()

    async def run(self, parsed: ParsedArchive, apply_profile: bool) -> ImportSummary:
        summary = self.summary
        for skipped in parsed.skipped:
            if skipped.retweet:
                summary.skipped_retweets += 1
            else:
                summary.errors.append({"id": skipped.source_id, "reason": skipped.reason})
        async with self.ctx.db.read() as session:
            rows = await session.exec(
                select(ImportedItem.source_id, ImportedItem.status_id).where(
                    ImportedItem.account_id == self.account.id, ImportedItem.source == self.kind
                )
            )
            self.known = dict(rows.all())
        total = len(parsed.posts)
        self.progress(ImportProgress(0, total))
        batch: list[_Prepared] = []
        for done, post in enumerate(parsed.posts, start=1):
            if post.source_id in self.known:
                summary.already_imported += 1
            else:
                prepared = await self._prepare(post)
                if prepared is not None:
                    batch.append(prepared)
                if len(batch) >= BATCH:
                    await self._store(batch)
                    batch = []
            self.progress(ImportProgress(done, total))
        if batch:
            await self._store(batch)
        if self.announce:
            self.ctx.deliveries_queued()
        if apply_profile and (parsed.display_name or parsed.bio):
            from .actions import update_profile

            await update_profile(self.ctx, self.account, display_name=parsed.display_name, bio=parsed.bio)
        return summary

    async def _prepare(self, post: ArchivedPost) -> _Prepared | None:
        author = self.account
        parent_source_id: str | None = None
        reply_note = ""
        parent = post.reply_to_source_id
        if parent and (self.known.get(parent) or parent in self.prepared):
            parent_source_id = parent
        elif post.reply_to_url:
            self.summary.replies_to_others += 1
            reply_note = _reply_note(post)
        media_ids: list[int] = []
        uploads: list[Any] = []
        linked: list[str] = []
        for media in post.media:
            pictured = media.kind in ("image", "gif_video")
            if not pictured or media.path is None or len(media_ids) >= MAX_ATTACHMENTS:
                if pictured and media.path is None:
                    self.summary.errors.append(
                        {"id": post.source_id, "reason": "a picture missing from the archive"}
                    )
                if media.link:
                    linked.append(media.link)
                continue
            try:
                data = await asyncio.to_thread(
                    self.archive.read, media.path, limit=self.ctx.config.media.max_upload_bytes
                )
                if media.kind == "gif_video":
                    data = await asyncio.to_thread(
                        gif_from_video, data, max_pixels=self.ctx.config.media.max_pixels
                    )
                row = await self.ctx.media.upload(
                    author, data, description=media.description[:MAX_DESCRIPTION]
                )
            except (ArchiveError, MediaRejected, UsageError) as exc:
                self.summary.errors.append({"id": post.source_id, "reason": f"picture {media.path}: {exc}"})
                if media.link:
                    linked.append(media.link)
                continue
            media_ids.append(row.id)
            uploads.append(row)
        html = reply_note + post.html + _links(linked)
        status = Status(
            account_id=author.id,
            local=True,
            visibility=post.visibility,
            summary=post.summary,
            sensitive=post.sensitive,
            language=post.language,
            # An archive may claim any date: one in the future would sit above every newer post
            # (ids are drawn from it) and one past the year 6000 would not fit an id at all.
            published=min(post.published, utcnow()),
        )
        self.prepared.add(post.source_id)
        return _Prepared(post, status, html, media_ids, uploads, parent_source_id)

    async def _store(self, batch: list[_Prepared]) -> None:
        try:
            await self._write(batch)
        except Exception as exc:
            if len(batch) == 1:
                prepared = batch[0]
                log.warning("import of %s failed: %s", prepared.item.source_id, exc)
                self.summary.errors.append({"id": prepared.item.source_id, "reason": f"not stored: {exc}"})
                self.known.pop(prepared.item.source_id, None)
                self.prepared.discard(prepared.item.source_id)
                await self.ctx.media.discard(prepared.uploads)
                return
            for prepared in batch:
                await self._store([prepared])

    async def _write(self, batch: list[_Prepared]) -> None:
        author = self.account
        async with self.ctx.db.write() as session:
            recipients: list[str] = []
            if self.announce:
                remote = await followers_of(session, author.id, local=False)
                blockers = await blockers_of(session, author.id, [r.id for r in remote])
                recipients = preferred_inboxes([r for r in remote if r.id not in blockers])
            for prepared in batch:  # a batch written again after a failure numbers afresh
                prepared.status.id = None
            # Ids of the posts' original times, taken in increasing order of milliseconds (as every
            # transaction takes them, so two never wait on each other's counters), before any is
            # stored: a reply in the batch names its parent's id.
            await number(session, [prepared.status for prepared in batch])
            new = [await self._to_store(session, prepared) for prepared in batch]
            await store_statuses(session, new)
            for prepared in batch:
                status, item = prepared.status, prepared.item
                self.prepared.discard(item.source_id)
                if prepared.media_ids:
                    await attach(session, author, status.id, prepared.media_ids)
                session.add(
                    ImportedItem(
                        account_id=author.id, source=self.kind, source_id=item.source_id, status_id=status.id
                    )
                )
                await session.flush()
                if self.announce and status.visibility in ("public", "unlisted") and recipients:
                    document = await note_document(self.ctx, session, status, author)
                    self.next_send = max(self.next_send, utcnow()) + ANNOUNCE_INTERVAL
                    enqueue(
                        session, author, notes.create(author, document), recipients, not_before=self.next_send
                    )
        self.summary.imported += len(batch)
        self.summary.pictures += sum(len(p.media_ids) for p in batch)

    async def _to_store(self, session: Any, prepared: _Prepared) -> NewStatus:
        """The numbered post with its URLs, its parent in the archive and what it mentions, in
        the transaction that stores it."""
        status, item, author = prepared.status, prepared.item, self.account
        status.uri = self.ctx.urls.status(author.username, status.id)
        status.url = self.ctx.urls.status_page(author.username, status.id)
        status.in_reply_to_id = status.in_reply_to_account_id = status.in_reply_to_uri = None
        parent_id = self.known.get(prepared.parent_source_id) if prepared.parent_source_id else None
        if parent_id is not None:
            status.in_reply_to_id = parent_id
            status.in_reply_to_account_id = author.id
            status.in_reply_to_uri = self.ctx.urls.status(author.username, parent_id)
        elif item.reply_to_url and self.kind == "mastodon":
            status.in_reply_to_uri = item.reply_to_url
        self.known[item.source_id] = status.id
        mentioned: list[Account] = []
        if item.mention_uris:
            found = await session.exec(select(Account).where(col(Account.uri).in_(item.mention_uris)))
            mentioned = list(found.all())
        return NewStatus(
            status, author, Written(prepared.html, mentioned, item.tags), notify=False, card=False
        )


async def run_job(ctx: Context, job_id: int, path: Path) -> None:
    """Run the import of an `ImportJob` row: done/total about once a second, then its end state."""
    async with ctx.db.write() as session:
        job = await session.get(ImportJob, job_id)
        if job is None:
            raise UsageError(f"there is no import job {job_id}")
        account = await session.get(Account, job.account_id)
        job.state = ImportState.RUNNING
        job.updated_at = utcnow()
        session.add(job)
        kind = job.kind
    latest = ImportProgress(0, 0)
    written = ImportProgress(-1, -1)
    last_write = 0.0

    async def save(state: str | None = None, summary: str | None = None, error: str | None = None) -> None:
        nonlocal written
        async with ctx.db.write() as session:
            row = await session.get(ImportJob, job_id)
            if row is None:
                return
            row.done, row.total = latest.done, latest.total
            if state is not None:
                row.state = state
            if summary is not None:
                row.summary = summary
            if error is not None:
                row.error = error
            row.updated_at = utcnow()
            session.add(row)
        written = ImportProgress(latest.done, latest.total)

    pending: set[asyncio.Task[None]] = set()

    def progress(update: ImportProgress) -> None:
        nonlocal latest, last_write
        latest = update
        now = time.monotonic()
        if (
            now - last_write >= 1.0
            and not pending
            and (update.done, update.total) != (written.done, written.total)
        ):
            last_write = now
            task = asyncio.get_running_loop().create_task(save())
            pending.add(task)
            task.add_done_callback(pending.discard)

    try:
        if account is None:
            raise UsageError("the account of this import is gone")
        result = await import_archive(ctx, account, kind, path, progress=progress)
    except Exception as exc:
        for task in list(pending):
            await task
        message = str(exc) if isinstance(exc, UsageError) else f"the import failed: {exc}"
        log.warning("import job %s failed: %s", job_id, message)
        await save(ImportState.FAILED, error=message.splitlines()[0] if message else "failed")
        return
    for task in list(pending):
        await task
    await save(ImportState.DONE, summary=json.dumps(result.as_dict()))
