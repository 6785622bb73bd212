"""Posting, editing and deleting: each writes the status and queues its deliveries in one transaction."""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.content import find_mentions
from spark_fed.content.sources import MentionKey, Typed, mention_key
from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.errors import UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.notes import NoteRejected
from spark_fed.media.service import MAX_DESCRIPTION, attach, attachments_of, describe_attached
from spark_fed.models import Account, Status, Visibility
from spark_fed.models.ids import new_id
from spark_fed.models.types import utcnow
from spark_fed.polls import PollRejected, PollSpec, new_poll
from spark_fed.queries.polls import polls_by_status
from spark_fed.queries.safety import blockers_of
from spark_fed.queries.statuses import find_status, followers_of, mentioned_accounts
from spark_fed.queries.views import accounts_by_id, mentions_of, tags_of
from spark_fed.quotes import QuoteLink, quotes_by_status
from spark_fed.statuses import (
    edit_status,
    remove_status,
    store_status,
)

from . import notes, quotes
from .questions import question_fields

log = logging.getLogger(__name__)


class StatusNotFound(UsageError):
    """No status at that URL that this account may act on."""


async def post(
    ctx: Context,
    author: Account,
    text: str,
    *,
    visibility: str = Visibility.PUBLIC,
    reply_to: str | None = None,
    cw: str | None = None,
    language: str | None = None,
    media_ids: Sequence[int] = (),
    sensitive: bool = False,
    first: Callable[[AsyncSession], Awaitable[None]] | None = None,
    poll: PollSpec | None = None,
    quote: Status | None = None,
    quote_policy: str | None = None,
) -> Status:
    """MEDIA_IDS are the author's uploads (`MediaService.upload`), attached in that order;
    SENSITIVE hides them behind a "Show" (a content warning always does). POLL makes the post
    ask a question; a post has a poll or images, never both (as Mastodon). QUOTE is a post to
    quote (`outbox.quotes.quotable` decides whether one may); QUOTE_POLICY says who may quote
    this one (None: the author's default). FIRST runs first in the transaction that stores the
    post: if it raises, nothing is posted (a scheduled post claims its row there, so it is
    published once)."""
    if visibility not in set(Visibility):
        raise UsageError(f"visibility must be one of {', '.join(Visibility)}")
    _check_length(ctx, text, with_media=bool(media_ids) or quote is not None)
    if poll is not None and media_ids:
        raise PollRejected("a post has a poll or images, not both")
    poll_row = new_poll(poll, ctx.config.instance) if poll is not None else None
    quotes.check_policy(quote_policy)
    link: QuoteLink | None = await quotes.quotable(ctx, author, quote) if quote is not None else None
    if quote_policy is None:
        quote_policy = await quotes.default_policy(ctx, author)
    parent = await _parent(ctx, reply_to) if reply_to else None
    source = await _typed(ctx, text)
    async with ctx.db.write() as session:
        if first is not None:
            await first(session)
        published = utcnow()
        status_id = await new_id(session, published)
        status = Status(
            id=status_id,
            uri=ctx.urls.status(author.username, status_id),
            url=ctx.urls.status_page(author.username, status_id),
            account_id=author.id,
            local=True,
            visibility=visibility,
            summary=cw or "",
            sensitive=bool(cw) or sensitive,
            language=language,
            in_reply_to_uri=parent.uri if parent else None,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            published=published,
            quote_policy=quote_policy,
        )
        parent_author = await session.get(Account, parent.account_id) if parent else None
        rendered = await store_status(session, status, author, source, poll=poll_row, quote=link)
        await attach(session, author, status.id, list(media_ids))
        if link is not None:
            await quotes.after_post(ctx, session, status, author, link)
        document = await note_document(ctx, session, status, author)
        recipients = await _recipients(session, status, author, rendered.mentions, parent_author)
        if link is not None and link.quoted is not None:
            recipients += await quotes.quoted_author(session, link.quoted, author)
        enqueue(session, author, notes.create(author, document), preferred_inboxes(recipients))
    ctx.deliveries_queued()
    return status


async def edit(
    ctx: Context,
    author: Account,
    url: str,
    text: str,
    *,
    media_ids: Sequence[int] | None = None,
    cw: str | None = None,
    sensitive: bool | None = None,
    descriptions: Mapping[int, str] | None = None,
) -> Status:
    """MEDIA_IDS, when given, replace the post's images (None keeps them); CW (the content
    warning, "" for none) and SENSITIVE likewise; DESCRIPTIONS (by media id) describe its images
    anew. The revision it replaces joins its history."""
    _check_length(ctx, text, with_media=bool(media_ids))
    if any(len(d) > MAX_DESCRIPTION for d in (descriptions or {}).values()):
        raise UsageError(f"an image description has at most {MAX_DESCRIPTION} characters")
    source = await _typed(ctx, text)
    async with ctx.db.write() as session:
        status = await _own_status(session, author, url)
        summary = status.summary if cw is None else cw
        marked = status.sensitive if sensitive is None else sensitive
        rendered = await edit_status(
            session, status, source, edited_at=utcnow(), summary=summary, sensitive=marked or bool(summary)
        )
        if media_ids is not None:
            await attach(session, author, status.id, list(media_ids))
        if descriptions:
            await describe_attached(session, status.id, descriptions)
        document = await note_document(ctx, session, status, author)
        parent_author = (
            await session.get(Account, status.in_reply_to_account_id)
            if status.in_reply_to_account_id
            else None
        )
        recipients = await _recipients(session, status, author, rendered.mentions, parent_author)
        enqueue(session, author, notes.update(author, document), preferred_inboxes(recipients))
    ctx.deliveries_queued()
    return status


async def delete(ctx: Context, author: Account, url: str) -> str:
    """Delete the status; its id answers 410 from now on. Returns the id."""
    async with ctx.db.write() as session:
        status = await _own_status(session, author, url)
        mentioned = await mentioned_accounts(session, status.id)
        parent_author = (
            await session.get(Account, status.in_reply_to_account_id)
            if status.in_reply_to_account_id
            else None
        )
        recipients = await _recipients(session, status, author, mentioned, parent_author)
        uri = status.uri
        await remove_status(session, status)
        enqueue(session, author, notes.delete(author, uri), preferred_inboxes(recipients))
    ctx.deliveries_queued()
    return uri


async def note_document(ctx: Context, session: Any, status: Status, author: Account) -> dict[str, Any]:
    """The Note of a stored status, as served at its id and sent in activities."""
    [document] = await note_documents(ctx, session, [status], author)
    return document


async def note_documents(
    ctx: Context, session: Any, statuses: Sequence[Status], author: Account
) -> list[dict[str, Any]]:
    """The Notes of AUTHOR's STATUSES (a page of the outbox): what they name is loaded for the
    whole page at once, five queries however many notes there are."""
    ids = [s.id for s in statuses]
    mentions = await mentions_of(session, ids)
    parents = await accounts_by_id(
        session, {s.in_reply_to_account_id for s in statuses if s.in_reply_to_account_id}
    )
    tags = await tags_of(session, ids)
    media = await attachments_of(session, ids)
    polls = await polls_by_status(session, ids)
    quoting = await quotes_by_status(session, ids)
    documents = []
    for status in statuses:
        mentioned = sorted(mentions.get(status.id, []), key=lambda a: a.id)
        parent_author = parents.get(status.in_reply_to_account_id) if status.in_reply_to_account_id else None
        parent_author_uri = parent_author.uri if parent_author else None
        to, cc = notes.addressing(
            status.visibility,
            author,
            [a.uri for a in mentioned],
            (parent_author_uri,) if parent_author_uri and parent_author_uri != author.uri else (),
        )
        names: list[dict[str, Any]] = [
            {"type": "Mention", "href": a.uri, "name": f"@{a.username}@{a.domain or ctx.urls.domain}"}
            for a in mentioned
        ]
        names += [
            {"type": "Hashtag", "href": ctx.urls.tag(n), "name": f"#{n}"}
            for n in sorted(tags.get(status.id, []))
        ]
        attachments = [
            notes.attachment(m, ctx.urls.media(m.id), sensitive=status.sensitive)
            for m in media.get(status.id, [])
        ]
        document = notes.note(
            status,
            author,
            in_reply_to=status.in_reply_to_uri,
            to=to,
            cc=cc,
            tags=names,
            attachments=attachments,
        )
        if (poll := polls.get(status.id)) is not None:
            document.update(question_fields(poll))
        documents.append(quotes.with_quote(document, status, author, quoting.get(status.id)))
    return documents


def _check_length(ctx: Context, text: str, *, with_media: bool = False) -> None:
    if not text.strip() and not with_media:
        raise UsageError("a post needs some text or an image")
    limit = ctx.config.instance.max_post_chars
    if len(text) > limit:
        raise UsageError(f"a post has at most {limit} characters; this one has {len(text)}")


async def _typed(ctx: Context, text: str) -> Typed:
    """The text with its mentions resolved (WebFinger for remote ones), before any transaction:
    the status-write boundary formats it."""
    resolved: dict[MentionKey, Account] = {}
    for username, host in find_mentions(text):
        handle = f"{username}@{host or ctx.urls.domain}"
        try:
            resolved[mention_key(username, host)] = await ctx.actors.by_handle_or_url(handle)
        except (ActorNotFound, UsageError) as exc:
            log.info("mention @%s left as text: %s", handle, exc)
    return Typed(text, ctx.urls.tag, resolved)


async def _parent(ctx: Context, url: str) -> Status:
    try:
        return await ctx.notes.get(url)
    except NoteRejected as exc:
        raise StatusNotFound(f"cannot reply to {url}: {exc}") from None


async def _own_status(session: Any, author: Account, url: str) -> Status:
    status = await find_status(session, url)
    if status is None or status.account_id != author.id or status.reblog_of_id is not None:
        raise StatusNotFound(f"{author.username} has no post at {url}")
    return status


async def _recipients(
    session: Any, status: Status, author: Account, mentioned: list[Account], parent_author: Account | None
) -> list[Account]:
    """Followers (unless direct), everyone mentioned, and the author replied to; never those who
    block the author (their server was told of the block and expects nothing more from it)."""
    recipients = list(mentioned)
    if parent_author is not None:
        recipients.append(parent_author)
    if status.visibility != Visibility.DIRECT:
        recipients += await followers_of(session, author.id, local=False)
    remote = [r for r in recipients if not r.is_local]
    blockers = await blockers_of(session, author.id, [r.id for r in remote])
    return [r for r in remote if r.id not in blockers]
