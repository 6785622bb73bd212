"""Remote notes: read from a Create, an Update, an Announce or a fetch, checked, and stored.

Authority rules (docs/interop.md, Notes): a note's id must be on the same server as
its author, and whoever delivers a Create or Update must be that author;
a note we only know by URL is fetched from its origin. Parents of replies
are fetched too, to a bounded depth, so a thread reads whole.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..activitystreams import PUBLIC_ALIASES, as_list, as_time
from ..content.sources import Written
from ..db import Database
from ..media.records import note_attachments, replace_note_attachments, store_note_attachments
from ..models import Account, QuoteState, Status, Tombstone, Visibility
from ..models.ids import number
from ..models.types import utcnow
from ..queries.statuses import find_status, is_tombstoned
from ..quotes import QuoteLink, authorization_of, policy_from_note, quoted_uri_of
from ..singleflight import SingleFlight
from ..statuses import NewStatus, edit_status, store_statuses
from .actors import ActorNotFound, RemoteActors
from .documents import id_of, same_origin
from .question_edits import refresh_unedited
from .questions import question_poll, refresh_poll

log = logging.getLogger(__name__)

NOTE_TYPES = frozenset({"Note", "Article", "Question", "Page"})
MAX_PARENT_DEPTH = 3
FETCH_SECONDS = 180.0
"""The longest a note fetch may take with what it brings along: its author and its parents."""
# Notes stored a transaction by `ingest_many`. SQLite has one writer: a hundred notes keep its
# lock for tens of milliseconds. PostgreSQL writers wait only on the rows they share, while each
# transaction costs round trips of its own, so it takes bigger batches.
PER_TRANSACTION = {"sqlite": 100, "postgresql": 1_000}
_MAX_CONTENT = 100_000


class NoteRejected(Exception):
    """The note breaks an authority rule or is not a note; the message says which."""


class RemoteNotes:
    def __init__(self, db: Database, actors: RemoteActors) -> None:
        self.db = db
        self.actors = actors
        # Keyed by depth too: a chain of replies that loops back never waits for its own fetch.
        self._fetches: SingleFlight[tuple[str, int], Status] = SingleFlight(timeout=FETCH_SECONDS)

    async def get(self, uri: str, *, depth: int = 0) -> Status:
        """The stored status, or the note fetched from its origin and stored.

        A note many ask for at once (a popular post boosted by many) is fetched once for all.
        """
        async with self.db.read() as session:
            known = await find_status(session, uri)
        if known is not None:
            return known
        if self.actors.is_local(uri):
            raise NoteRejected(f"there is no local status {uri}")
        try:
            return await self._fetches.run((uri, depth), lambda: self._fetch(uri, depth))
        except TimeoutError:
            raise NoteRejected(f"fetching {uri} took too long") from None

    async def _fetch(self, uri: str, depth: int) -> Status:
        try:
            document = await self.actors.fetch_document(uri)
        except ActorNotFound as exc:
            raise NoteRejected(str(exc)) from None
        if document.get("id") != uri and not same_origin(str(document.get("id")), uri):
            raise NoteRejected(f"{uri} served a document for another server")
        return await self.ingest(document, depth=depth)

    async def ingest(self, note: dict[str, Any], *, sender: Account | None = None, depth: int = 0) -> Status:
        """Store NOTE (once); SENDER, when given, must be its author.

        The database's questions (stored already? deleted?) are asked inside the transaction
        that stores the note: every session costs a dozen thread hops on aiosqlite, and an inbox
        ingests notes by the thousand. Only what may need the network comes before it: the
        author when no sender vouches for it, and a reply's parent.
        """
        uri, author_uri = _check_note(note)
        if sender is not None and sender.uri != author_uri:
            raise NoteRejected(f"{uri} is attributed to {author_uri}, not to {sender.uri}")
        known, parent = await self._known_or_parent(uri, note, depth)
        if known is not None:
            return known
        await self._fetch_quoted(note, uri, depth)
        author = sender or await self._author(author_uri)
        try:
            stored = await self._store([(note, _status(note, uri, author, parent), author)])
        except IntegrityError:
            # On PostgreSQL another delivery of the same note may commit between our look-up
            # and our insert; the unique `uri` refuses the second, and the first is the answer.
            async with self.db.read() as session:
                if (known := await _stored(session, uri)) is None:
                    raise
            return known
        if isinstance(stored[0], NoteRejected):
            raise stored[0]
        return stored[0]

    async def ingest_many(self, notes: list[dict[str, Any]], sender: Account) -> list[Status | NoteRejected]:
        """Store SENDER's NOTES, in order, a batch a transaction (`PER_TRANSACTION`); for each,
        its status or why not.

        For a page of an outbox or a backfill: a hundred notes cost about what one does, where a
        transaction each would take the write lock a hundred times, and no batch holds it for
        long however many notes come. A reply whose parent is
        neither stored nor in the batch is stored first and linked to its parent afterwards
        (`link_parent`: the parent may need fetching, which no transaction waits for).
        """
        results: list[Status | NoteRejected | None] = []
        batch: list[tuple[dict[str, Any], Status, Account]] = []
        for note in notes:
            try:
                uri, author_uri = _check_note(note)
                if sender.uri != author_uri:
                    raise NoteRejected(f"{uri} is attributed to {author_uri}, not to {sender.uri}")
            except NoteRejected as exc:
                results.append(exc)
                continue
            results.append(None)
            batch.append((note, _status(note, uri, sender, None), sender))
        size = PER_TRANSACTION[self.db.engine.dialect.name]
        stored_all: list[Status | NoteRejected] = []
        for start in range(0, len(batch), size):
            stored_all += await self._store(batch[start : start + size])
        stored = iter(stored_all)
        done = [result if result is not None else next(stored) for result in results]
        for result in done:
            if isinstance(result, Status) and result.in_reply_to_uri and result.in_reply_to_id is None:
                await self.link_parent(result)
        return done

    async def _store(
        self, notes: list[tuple[dict[str, Any], Status, Account]]
    ) -> list[Status | NoteRejected]:
        """One transaction: each note stored already (by another delivery of it), deleted, or
        stored now through the status-write boundary (which sanitises its HTML)."""
        if not notes:
            return []
        uris = [status.uri for _, status, _ in notes]
        parents = [s.in_reply_to_uri for _, s, _ in notes if s.in_reply_to_uri and s.in_reply_to_id is None]
        quoted = [q for note, _, _ in notes if (q := quoted_uri_of(note))]
        async with self.db.write() as session:
            stored = await _statuses_by_uri(session, [*uris, *parents, *quoted])
            deleted = await _tombstoned(session, uris)
            fresh = [s for _, s, _ in notes if s.uri not in stored and s.uri not in deleted]
            await number(session, fresh)  # before storing: a reply in the batch links to its parent's id
            results: list[Status | NoteRejected] = []
            new: list[tuple[dict[str, Any], NewStatus]] = []
            for note, status, author in notes:
                if (known := stored.get(status.uri)) is not None:
                    results.append(known)
                    continue
                if status.uri in deleted:
                    results.append(NoteRejected(f"{status.uri} was deleted"))
                    continue
                parent = stored.get(status.in_reply_to_uri or "")
                if status.in_reply_to_id is None and parent is not None:
                    status.in_reply_to_id, status.in_reply_to_account_id = parent.id, parent.account_id
                source = Written(_content(note), await _mentioned(session, note), _hashtags(note))
                link = _quote_link(note, status, stored)
                new.append(
                    (
                        note,
                        NewStatus(
                            status,
                            author,
                            source,
                            card=_may_have_card(note),
                            poll=question_poll(note),
                            quote=link,
                        ),
                    )
                )
                stored[status.uri] = status
                results.append(status)
            await store_statuses(session, [item for _, item in new])
            for note, item in new:
                await store_note_attachments(session, item.status.id, note_attachments(note, item.author.id))
        return results

    async def update(self, note: dict[str, Any], sender: Account) -> Status | None:
        """Apply an Update from the note's author; only a newer `updated` changes the content."""
        uri, author_uri = _check_note(note)
        if sender.uri != author_uri:
            raise NoteRejected(f"{uri} is attributed to {author_uri}, not to {sender.uri}")
        async with self.db.write() as session:
            status = (await session.exec(select(Status).where(Status.uri == uri))).first()
            if status is None or status.account_id != sender.id:
                return None
            edited = as_time(note.get("updated"))
            if edited is None or (status.edited_at is not None and edited <= status.edited_at):
                await refresh_unedited(session, status, note)  # counts change without a newer `updated`
                return status
            summary = _plain(note.get("summary"), 2000)
            source = Written(_content(note), await _mentioned(session, note), _hashtags(note))
            await edit_status(
                session,
                status,
                source,
                edited_at=edited,
                summary=summary,
                sensitive=note.get("sensitive") is True or bool(summary),
                card=_may_have_card(note),
            )
            await refresh_poll(session, status, note)  # after the revision keeps its options
            await replace_note_attachments(session, status.id, note_attachments(note, sender.id))
        return status

    async def link_parent(self, status: Status) -> Status | None:
        """Fetch the post STATUS replies to, when it was not stored with it, and link the two.

        A reply's parent may have been unreachable when the reply arrived; a reader opening
        the thread later should still see what it answers (the chain above, as in `ingest`,
        at most `MAX_PARENT_DEPTH` deep).
        """
        if status.in_reply_to_uri is None or status.in_reply_to_id is not None:
            return None
        try:
            parent = await self.get(status.in_reply_to_uri)
        except NoteRejected as exc:
            log.info("reply parent %s not stored: %s", status.in_reply_to_uri, exc)
            return None
        async with self.db.write() as session:
            stored = await session.get(Status, status.id)
            if stored is not None and stored.in_reply_to_id is None:
                stored.in_reply_to_id = parent.id
                stored.in_reply_to_account_id = parent.account_id
                session.add(stored)
        return parent

    async def _fetch_quoted(self, note: dict[str, Any], uri: str, depth: int) -> None:
        """The post a note quotes, stored first (fetched if need be, as deep as parents are), so
        the quote links to it."""
        quoted = quoted_uri_of(note)
        if quoted is None or quoted == uri or depth >= MAX_PARENT_DEPTH:
            return
        try:
            await self.get(quoted, depth=depth + 1)
        except NoteRejected as exc:
            log.info("quoted post %s not stored: %s", quoted, exc)

    async def _author(self, uri: str) -> Account:
        try:
            return await self.actors.get(uri)
        except ActorNotFound as exc:
            raise NoteRejected(f"the author {uri} cannot be resolved: {exc}") from None

    async def _known_or_parent(
        self, uri: str, note: dict[str, Any], depth: int
    ) -> tuple[Status | None, Status | None]:
        """For a reply: the note itself if stored, else its parent, fetched if need be.

        The note is looked up first so that a reply stored (or deleted) before never makes
        Spark fetch its parent again.
        """
        parent_uri = _reply_uri(note)
        if parent_uri is None:
            return None, None
        async with self.db.read() as session:
            known = await _stored(session, uri)
            if known is not None:
                return known, None
            if await is_tombstoned(session, uri):
                raise NoteRejected(f"{uri} was deleted")
            parent = await find_status(session, parent_uri)
        if parent is not None or depth >= MAX_PARENT_DEPTH:
            return None, parent
        try:
            return None, await self.get(parent_uri, depth=depth + 1)
        except NoteRejected as exc:
            log.info("reply parent %s not stored: %s", parent_uri, exc)
            return None, None


async def _stored(session: AsyncSession, uri: str) -> Status | None:
    """The status with this id: what makes a second delivery of a note a repeat."""
    return (await session.exec(select(Status).where(Status.uri == uri))).first()


async def _statuses_by_uri(session: AsyncSession, uris: list[str]) -> dict[str, Status]:
    found = await session.exec(select(Status).where(col(Status.uri).in_(sorted(set(uris)))))
    return {status.uri: status for status in found}


async def _tombstoned(session: AsyncSession, uris: list[str]) -> set[str]:
    found = await session.exec(select(Tombstone.uri).where(col(Tombstone.uri).in_(sorted(set(uris)))))
    return set(found.all())


async def _mentioned(session: AsyncSession, note: dict[str, Any]) -> list[Account]:
    """Mentioned actors we know (local ones always): they get notified and may read it."""
    hrefs = {
        tag["href"]
        for tag in as_list(note.get("tag"))[:50]
        if isinstance(tag, dict) and tag.get("type") == "Mention" and isinstance(tag.get("href"), str)
    }
    if not hrefs:
        return []
    return list((await session.exec(select(Account).where(col(Account.uri).in_(sorted(hrefs))))).all())


def _status(note: dict[str, Any], uri: str, author: Account, parent: Status | None) -> Status:
    """The new status's row; its id and content are the status-write boundary's to fill."""
    return Status(
        uri=uri,
        url=_url(note, uri),
        account_id=author.id,
        local=False,
        visibility=visibility_of(note, author),
        summary=_plain(note.get("summary"), 2000),
        sensitive=note.get("sensitive") is True or bool(note.get("summary")),
        language=_language(note),
        in_reply_to_uri=_reply_uri(note),
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None,
        published=_published(note),
        quote_policy=policy_from_note(note, author),
    )


def _quote_link(note: dict[str, Any], status: Status, stored: dict[str, Status]) -> QuoteLink | None:
    """AS2 → model: what a remote note quotes. Approved only when it quotes its own author;
    otherwise pending until its stamp (`quoteAuthorization`) is checked."""
    uri = quoted_uri_of(note)
    if uri is None or uri == status.uri:
        return None
    quoted = stored.get(uri)
    if quoted is not None and quoted.reblog_of_id is not None:
        quoted = None
    own = quoted is not None and quoted.account_id == status.account_id
    return QuoteLink(
        quoted_uri=uri,
        quoted=quoted,
        state=QuoteState.ACCEPTED if own else QuoteState.PENDING,
        authorization_uri=authorization_of(note),
    )


def _check_note(note: Any) -> tuple[str, str]:
    if not isinstance(note, dict) or not set(as_list(note.get("type"))) & NOTE_TYPES:
        raise NoteRejected("not a note")
    uri = note.get("id")
    author = id_of(next(iter(as_list(note.get("attributedTo"))), None))
    if not isinstance(uri, str) or author is None:
        raise NoteRejected("a note needs an id and an author")
    if not same_origin(uri, author):
        raise NoteRejected(f"{uri} is not on its author's server")
    if len(uri) > 2048:
        raise NoteRejected("the note id is too long")
    return uri, author


def visibility_of(note: dict[str, Any], author: Account) -> str:
    """Mastodon's reading of to/cc: Public in to, in cc, the followers collection, or no one else."""
    to = {id_of(v) for v in as_list(note.get("to"))}
    cc = {id_of(v) for v in as_list(note.get("cc"))}
    if to & PUBLIC_ALIASES:
        return Visibility.PUBLIC
    if cc & PUBLIC_ALIASES:
        return Visibility.UNLISTED
    if author.followers_url and author.followers_url in to | cc:
        return Visibility.FOLLOWERS
    return Visibility.DIRECT


def _content(note: dict[str, Any]) -> str:
    """The note's HTML as it came (`content`, else the first of `contentMap`), cut to a size."""
    content = note.get("content")
    if not isinstance(content, str):
        languages = note.get("contentMap")
        content = next(iter(languages.values()), "") if isinstance(languages, dict) and languages else ""
    return str(content)[:_MAX_CONTENT]


def _plain(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _language(note: dict[str, Any]) -> str | None:
    languages = note.get("contentMap")
    if isinstance(languages, dict) and languages:
        code = next(iter(languages))
        return code[:16] if isinstance(code, str) and code != "und" else None
    return None


def _reply_uri(note: dict[str, Any]) -> str | None:
    parent = id_of(note.get("inReplyTo"))
    return parent if parent and len(parent) <= 2048 else None


def _url(note: dict[str, Any], uri: str) -> str:
    for item in as_list(note.get("url")):
        href = item if isinstance(item, str) else item.get("href") if isinstance(item, dict) else None
        if isinstance(href, str) and same_origin(href, uri) and len(href) <= 2048:
            return href
    return uri


def _hashtags(note: dict[str, Any]) -> list[str]:
    names = []
    for tag in as_list(note.get("tag"))[:50]:
        if isinstance(tag, dict) and tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
            name = tag["name"].lstrip("#").strip()
            if 0 < len(name) <= 255:
                names.append(name)
    return names


def _published(note: dict[str, Any]) -> datetime:
    moment = as_time(note.get("published")) or utcnow()
    return min(moment, utcnow())  # a note from the future would pin itself to the top


def _may_have_card(note: dict[str, Any]) -> bool:
    """A remote post with media attachments or a poll gets no link card (Mastodon's rule)."""
    return note.get("type") != "Question" and not as_list(note.get("attachment"))
