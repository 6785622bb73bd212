"""Storing statuses: the one status-write boundary, where every status is created and changed.

A local post, an edit, an imported post and a remote note (from the inbox, a fetch or an
outbox page) are the same write: the status, its mentions and tags, the reply count of its
parent, the home feeds it lands in and the notifications it causes. Boosts and likes likewise.
The text comes in as its source (`content.sources`: `Typed` by a local author, `Written`
elsewhere) and is rendered or sanitised here, so no caller can store HTML that skipped both;
a status's `url` and the address it replies to are kept only when they are web addresses.
Callers run these inside their own `Database.write()` transaction, so a status is stored whole
or not at all; its id is taken in that transaction too (`models.ids`).

The author's `statuses_count` and `last_status_at` (Mastodon's account_stats) are kept here
too, in the same transaction: they count the public and unlisted statuses, boosts included
(what a client shows on a profile), and change only when such a status is stored or removed.
A status's visibility never changes after it is stored (edits and remote Updates change the
text only), so nothing else moves them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, delete, func, literal, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .cards.store import queue_card_fetches
from .content import plain_text
from .content.sources import Rendered, Source, render, web_address
from .db import Database, dialect_insert
from .edits import keep_revision
from .models import (
    Account,
    Favourite,
    FeedEntry,
    Mention,
    Notification,
    NotificationType,
    Poll,
    Status,
    StatusTag,
    Tag,
    Tombstone,
    Visibility,
)
from .models.types import UTCDateTime
from .polls import store_polls
from .queries.statuses import followers_of
from .quotes import QuoteLink, notify_quoters, store_quotes

COUNTED = (Visibility.PUBLIC, Visibility.UNLISTED)
"""The visibilities `statuses_count` counts."""
_ROWS_PER_INSERT = 5_000


def _insert(session: AsyncSession):
    return lambda table: dialect_insert(session.bind.dialect.name, table)


@dataclass
class NewStatus:
    """A status to store: its row (without content), its author and where its text comes from.

    A local status whose URL holds its id takes that id first (`spark_fed.models.ids.new_id`);
    any other gets its id as it is stored. NOTIFY is False for an archived post: nobody is
    pinged about a years-old post. CARD is False for a post whose first link is to get no
    preview card (an archived post; a remote one with media or a poll).
    POLL, when the status asks a question, is its poll's row
    (`spark_fed.polls.new_poll` or a remote Question's), stored with it.
    QUOTE is the post it quotes, if any (`spark_fed.quotes`)."""

    status: Status
    author: Account
    source: Source
    notify: bool = True
    card: bool = True
    poll: Poll | None = None
    quote: QuoteLink | None = None


async def store_status(
    session: AsyncSession,
    status: Status,
    author: Account,
    source: Source,
    *,
    notify: bool = True,
    poll: Poll | None = None,
    quote: QuoteLink | None = None,
) -> Rendered:
    """Store one status with everything that hangs off it; see `store_statuses`. A poll gets no
    link card (as Mastodon)."""
    return (
        await store_statuses(
            session,
            [NewStatus(status, author, source, notify=notify, card=poll is None, poll=poll, quote=quote)],
        )
    )[0]


async def store_statuses(session: AsyncSession, new: Sequence[NewStatus]) -> list[Rendered]:
    """Store statuses with their content rendered or sanitised here, their mentions and tags, the
    reply counts of their parents, the home feeds they land in and the notifications they cause.

    Many at once cost about what one does: the counts, tags, followers and feed rows are
    written a statement for all, which is what lets a backfill or an import store a batch in
    one short transaction.
    """
    rendered = [render(item.source) for item in new]
    for item, result in zip(new, rendered, strict=True):
        item.status.content = result.html
        item.status.url = web_address(item.status.url)
        item.status.in_reply_to_uri = web_address(item.status.in_reply_to_uri)
        if item.status.local:
            item.status.text = result.text if result.text is not None else plain_text(result.html)
        session.add(item.status)
    await session.flush()
    queue_card_fetches(session, [item.status.id for item in new if item.card and _links(item.status)])
    await _count_stored(session, [item.status for item in new])
    await store_polls(session, [(item.status, item.poll) for item in new if item.poll is not None])
    tag_ids = await _tag_ids(session, [tag for result in rendered for tag in result.tags])
    followers: dict[int, list[Account]] = {}
    feeds: list[tuple[int, int]] = []
    for item, result in zip(new, rendered, strict=True):
        status, author = item.status, item.author
        mentioned = list({a.id: a for a in result.mentions}.values())
        session.add_all(Mention(status_id=status.id, account_id=a.id) for a in mentioned)
        names = dict.fromkeys(tag.lower() for tag in result.tags if tag)
        session.add_all(StatusTag(status_id=status.id, tag_id=tag_ids[name]) for name in names)
        if status.in_reply_to_id is not None:
            await _bump(session, status.in_reply_to_id, "replies_count", 1)
        readers = [a for a in mentioned if a.is_local]
        if status.visibility != Visibility.DIRECT:
            if author.id not in followers:
                followers[author.id] = await followers_of(session, author.id, local=True)
            readers += followers[author.id]
        if author.is_local:
            readers.append(author)
        feeds += [(reader.id, status.id) for reader in readers if reader.id is not None]
        if item.notify:
            session.add_all(
                Notification(
                    account_id=account.id,
                    type=NotificationType.MENTION,
                    from_account_id=author.id,
                    status_id=status.id,
                )
                for account in mentioned
                if account.is_local and account.id != author.id
            )
    await _add_to_feeds(session, feeds)
    await store_quotes(session, [(item.status, item.quote) for item in new if item.quote is not None])
    return rendered


async def edit_status(
    session: AsyncSession,
    status: Status,
    source: Source,
    *,
    edited_at: datetime,
    summary: str | None = None,
    sensitive: bool | None = None,
    card: bool = True,
) -> Rendered:
    """New text for a stored status: rendered or sanitised here; its mentions and tags replace the
    old ones, and those here who boosted it hear of the change. SUMMARY (the content warning) and
    SENSITIVE change too when given. The revision it replaces is kept first (`spark_fed.edits`):
    callers change the status's attachments after this, never before. CARD as in `NewStatus`."""
    await keep_revision(session, status)
    if summary is not None:
        status.summary = summary
    if sensitive is not None:
        status.sensitive = sensitive
    result = render(source)
    status.content = result.html
    if status.local:
        status.text = result.text if result.text is not None else plain_text(result.html)
    status.edited_at = edited_at
    session.add(status)
    await session.exec(delete(Mention).where(col(Mention.status_id) == status.id))
    await session.exec(delete(StatusTag).where(col(StatusTag.status_id) == status.id))
    for account in {a.id: a for a in result.mentions}.values():
        session.add(Mention(status_id=status.id, account_id=account.id))
    tag_ids = await _tag_ids(session, result.tags)
    session.add_all(StatusTag(status_id=status.id, tag_id=tag_id) for tag_id in set(tag_ids.values()))
    await notify_edit(session, status)
    if card:
        queue_card_fetches(session, [status.id])  # the link may be new, or gone
    return result


def _links(status: Status) -> bool:
    """Whether the stored HTML has a link at all: only then may it get a card."""
    return status.reblog_of_id is None and "<a " in status.content


async def notify_edit(session: AsyncSession, status: Status) -> None:
    """Those here who boosted a post hear that it changed (Mastodon's `update` notification), and
    those here who quoted it too (`quoted_update`)."""
    boosters = await session.exec(
        select(Account)
        .join(Status, col(Status.account_id) == col(Account.id))
        .where(Status.reblog_of_id == status.id, col(Account.domain).is_(None))
    )
    for account in boosters.all():
        if account.id != status.account_id:
            session.add(
                Notification(
                    account_id=account.id,
                    type=NotificationType.UPDATE,
                    from_account_id=status.account_id,
                    status_id=status.id,
                )
            )
    await notify_quoters(session, status)


async def remove_status(session: AsyncSession, status: Status) -> None:
    """Delete a status (its boosts, likes, feed entries go with it) and keep its id as a tombstone.

    Its author's counts go down, and so do those of everyone whose boost of it goes with it
    (the database cascades those rows, so they are counted before the delete).
    """
    uncounted: dict[int, int] = {}
    if status.reblog_of_id is None:
        uncounted = await _boosts_by_account(session, col(Status.reblog_of_id) == status.id)
    if status.visibility in COUNTED:
        uncounted[status.account_id] = uncounted.get(status.account_id, 0) + 1
    if status.in_reply_to_id is not None:
        await _bump(session, status.in_reply_to_id, "replies_count", -1)
    if status.reblog_of_id is not None:
        await _bump(session, status.reblog_of_id, "reblogs_count", -1)
    else:
        await session.exec(
            _insert(session)(Tombstone)
            .values(uri=status.uri, deleted_at=status.published)
            .on_conflict_do_nothing()
        )
    await session.delete(status)
    await session.flush()
    await _uncount(session, uncounted)


async def remove_account(session: AsyncSession, account: Account) -> None:
    """Delete an account; its statuses, follows and the rest go with it (ON DELETE CASCADE).

    The boosts others made of its statuses are cascaded too, so their counts go down here.
    """
    notes = select(Status.id).where(Status.account_id == account.id)
    uncounted = await _boosts_by_account(session, col(Status.reblog_of_id).in_(notes))
    uncounted.pop(account.id, None)
    await session.delete(account)
    await session.flush()
    await _uncount(session, uncounted)


async def store_boost(session: AsyncSession, boost: Status, booster: Account, original: Status) -> None:
    session.add(boost)
    await session.flush()
    await _count_stored(session, [boost])
    await _bump(session, original.id, "reblogs_count", 1)
    readers = await followers_of(session, booster.id, local=True)
    if booster.is_local:
        readers.append(booster)
    seen = await _feeds_showing(session, original.id, [r.id for r in readers])
    await _add_to_feeds(session, [(r.id, boost.id) for r in readers if r.id not in seen])
    await _notify_author(session, original, booster, NotificationType.REBLOG)


async def store_favourite(session: AsyncSession, account: Account, status: Status, uri: str) -> bool:
    """False if ACCOUNT had already liked STATUS (a replayed Like changes nothing)."""
    exists = await session.exec(
        select(Favourite.id).where(Favourite.account_id == account.id, Favourite.status_id == status.id)
    )
    if exists.first() is not None:
        return False
    session.add(Favourite(account_id=account.id, status_id=status.id, uri=uri))
    await _bump(session, status.id, "favourites_count", 1)
    await _notify_author(session, status, account, NotificationType.FAVOURITE)
    return True


async def remove_favourite(session: AsyncSession, favourite: Favourite) -> None:
    await _bump(session, favourite.status_id, "favourites_count", -1)
    await session.delete(favourite)


async def notify(session: AsyncSession, account: Account, kind: NotificationType, sender: Account) -> None:
    if account.is_local and not account.is_instance_actor:
        session.add(Notification(account_id=account.id, type=kind, from_account_id=sender.id))


async def _notify_author(
    session: AsyncSession, status: Status, sender: Account, kind: NotificationType
) -> None:
    author = await session.get(Account, status.account_id)
    if author is not None and author.is_local and author.id != sender.id:
        session.add(
            Notification(account_id=author.id, type=kind, from_account_id=sender.id, status_id=status.id)
        )


async def _feeds_showing(session: AsyncSession, note_id: int, account_ids: list[int]) -> set[int]:
    """Which of these home feeds already hold the note, or a boost of it: a post shows once in a
    feed, as Mastodon's and Twitter's do, however many people one follows boost it."""
    if not account_ids:
        return set()
    boosts = select(Status.id).where(Status.reblog_of_id == note_id)
    rows = await session.exec(
        select(FeedEntry.account_id).where(
            col(FeedEntry.account_id).in_(account_ids),
            or_(FeedEntry.status_id == note_id, col(FeedEntry.status_id).in_(boosts)),
        )
    )
    return set(rows.all())


async def _add_to_feeds(session: AsyncSession, entries: list[tuple[int, int]]) -> None:
    """Home-feed rows (reader, status), a few thousand a statement (SQLite allows 32,766
    parameters in one, PostgreSQL 65,535)."""
    rows = [{"account_id": reader, "status_id": status} for reader, status in sorted(set(entries))]
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        await session.exec(_insert(session)(FeedEntry).values(chunk).on_conflict_do_nothing())


async def _bump(session: AsyncSession, status_id: int, counter: str, delta: int) -> None:
    column = getattr(Status, counter)
    await session.exec(update(Status).where(col(Status.id) == status_id).values({counter: column + delta}))


async def _count_stored(session: AsyncSession, statuses: list[Status]) -> None:
    """More statuses for their authors, and `last_status_at` moves up to the newest if it is newer
    (a remote note may arrive long after it was published). One UPDATE per author adds to what
    is stored, so two writers never lose each other's count."""
    counted: dict[int, list[Status]] = {}
    for status in statuses:
        if status.visibility in COUNTED:
            counted.setdefault(status.account_id, []).append(status)
    last = col(Account.last_status_at)
    for account_id, own in sorted(counted.items()):
        published = literal(max(status.published for status in own), UTCDateTime())
        await session.exec(
            update(Account)
            .where(col(Account.id) == account_id)
            .values(
                statuses_count=col(Account.statuses_count) + len(own),
                last_status_at=case((or_(last.is_(None), last < published), published), else_=last),
            )
            .execution_options(synchronize_session=False)
        )


async def _boosts_by_account(session: AsyncSession, of: ColumnElement[bool]) -> dict[int, int]:
    """How many counted boosts matching OF (a condition on `reblog_of_id`) each account has.

    Grouped by visibility too and filtered here: with `visibility IN (...)` in the WHERE,
    SQLite may walk ix_statuses_public (every public status) instead of ix_statuses_reblog.
    """
    rows = await session.exec(
        select(Status.account_id, Status.visibility, func.count())
        .where(of)
        .group_by(Status.account_id, Status.visibility)
    )
    found: dict[int, int] = {}
    for account_id, visibility, count in rows.all():
        if visibility in COUNTED:
            found[account_id] = found.get(account_id, 0) + count
    return found


async def _uncount(session: AsyncSession, uncounted: dict[int, int]) -> None:
    """After statuses were deleted: the counts of their accounts go down by UNCOUNTED, and
    `last_status_at` is what it is now, recomputed rather than left stale.

    The recompute takes the `published` of the account's newest counted status by id, which
    ix_statuses_account (account_id, id) reads backwards from the newest, stopping at the first
    public or unlisted one, where max(published) would visit all the account's statuses. Ids are
    snowflakes of the published time (a remote note's included), so that is the newest by
    `published` too, to the millisecond the ids carry.
    """
    for account_id, removed in sorted(uncounted.items()):
        if removed == 0:
            continue
        newest = (
            select(Status.published)
            .where(Status.account_id == account_id, col(Status.visibility).in_(COUNTED))
            .order_by(col(Status.id).desc())
            .limit(1)
            .scalar_subquery()
        )
        await session.exec(
            update(Account)
            .where(col(Account.id) == account_id)
            .values(statuses_count=col(Account.statuses_count) - removed, last_status_at=newest)
            .execution_options(synchronize_session=False)
        )


async def _tag_ids(session: AsyncSession, names: list[str]) -> dict[str, int]:
    """The ids of these tags by lowercased name, the missing ones created."""
    names = sorted({name.lower() for name in names if name})
    if not names:
        return {}
    await session.exec(
        _insert(session)(Tag).values([{"name": name} for name in names]).on_conflict_do_nothing()
    )
    rows = await session.exec(select(Tag.name, Tag.id).where(col(Tag.name).in_(names)))
    return dict(rows.all())


async def clear_notifications(db: Database, account: Account, notification_id: int | None = None) -> None:
    """Dismiss one notification, or all of ACCOUNT's."""
    async with db.write() as session:
        query = delete(Notification).where(col(Notification.account_id) == account.id)
        if notification_id is not None:
            query = query.where(col(Notification.id) == notification_id)
        await session.exec(query)
