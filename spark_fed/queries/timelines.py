"""Timelines and notifications: the one place where what a reader may see is decided.

Every read pages by status id (a snowflake, so by time) with a cursor,
never OFFSET, so a page deep in a timeline costs what the first does.
Blocks (either way), the reader's mutes and domain blocks, suspended accounts and, in the public
timelines, silenced ones are applied here, as SQL conditions of the page's own query
(`queries/safety.py`), so a block that arrives after a post still hides it. Who may read a post
by its visibility is decided the same way (`queries/visibility.py`): home feed rows and
notifications are indexes, never a permission.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import (
    Account,
    FeedEntry,
    MediaAttachment,
    Mention,
    Notification,
    Status,
    StatusTag,
    Tag,
    Visibility,
)
from .paging import NEWEST, Cursor, page
from .safety import blocked_between, held_back, hidden
from .statuses import follows
from .visibility import visible_to

# Made once: an alias made per call costs SQLAlchemy its column adaptation again on every page.
_BOOSTED_ORIGINAL = aliased(Status, name="boosted_original")
_SENDER = aliased(Account, name="sender")


class TimelineKind(StrEnum):
    HOME = "home"
    LOCAL = "local"
    FEDERATED = "federated"
    MENTIONS = "mentions"


@dataclass(frozen=True)
class TimelineItem:
    """A status as a timeline shows it: a boost carries the boosted note and its author."""

    status: Status
    author: Account
    note: Status
    note_author: Account

    @property
    def is_boost(self) -> bool:
        return self.status.reblog_of_id is not None


async def timeline(
    session: AsyncSession,
    reader: Account | None,
    kind: TimelineKind,
    *,
    limit: int,
    max_id: int | None = None,
    cursor: Cursor = NEWEST,
    only_media: bool = False,
    remote_only: bool = False,
) -> list[TimelineItem]:
    """READER may be None (a visitor) for the local and federated timelines only. CURSOR pages
    as Mastodon's clients do (MAX_ID alone is the commands' and pages' way); ONLY_MEDIA keeps
    posts with attachments, REMOTE_ONLY other servers' posts (the federated timeline's `remote`)."""
    # Order and page on the column of the index the rows are found through (the feed's or the
    # mentions' key, or the status key itself): SQLite then reads one page off the index
    # instead of sorting the reader's whole feed.
    query = select(Status)
    if kind == TimelineKind.HOME:
        key = col(FeedEntry.status_id)
        query = query.join(FeedEntry, key == col(Status.id)).where(FeedEntry.account_id == reader.id)
    elif kind == TimelineKind.MENTIONS:
        key = col(Mention.status_id)
        query = query.join(Mention, key == col(Status.id)).where(Mention.account_id == reader.id)
    else:
        key = col(Status.id)
        query = query.where(col(Status.visibility) == Visibility.PUBLIC, col(Status.reblog_of_id).is_(None))
        if kind == TimelineKind.LOCAL:
            query = query.where(col(Status.local).is_(True))
        elif remote_only:
            query = query.where(col(Status.local).is_(False))
    if only_media:
        query = query.where(has_media())
    public = kind in (TimelineKind.LOCAL, TimelineKind.FEDERATED)
    viewer_id = reader.id if reader is not None else None
    query = _without_hidden(query, viewer_id, public=public, notifications=kind == TimelineKind.MENTIONS)
    if kind == TimelineKind.HOME:
        query = query.where(visible_to(viewer_id))
    rows = await page(session, query, key, limit, cursor.below(max_id))
    return await with_authors(session, rows)


def tagged_with(names: Sequence[str]):
    """A condition on Status: it is filed under one of the (normalised) tag NAMES."""
    return (
        select(StatusTag.status_id)
        .join(Tag, col(Tag.id) == col(StatusTag.tag_id))
        .where(col(StatusTag.status_id) == col(Status.id), col(Tag.name).in_(names))
        .correlate(Status)
        .exists()
    )


def has_media():
    """A condition on Status: it has attachments of its own (a boost has none)."""
    return (
        select(MediaAttachment.id)
        .where(col(MediaAttachment.status_id) == col(Status.id))
        .correlate(Status)
        .exists()
    )


def _without_hidden(
    query, viewer_id: int | None, *, public: bool = False, notifications: bool = False, mutes: bool = True
):
    """QUERY (over Status) without what VIEWER_ID must not see: posts of hidden accounts, and
    boosts whose booster or original author is hidden. The viewer's own posts always show."""

    def condition(column):
        shown = ~hidden(viewer_id, column, public=public, notifications=notifications, mutes=mutes)
        return shown if viewer_id is None else or_(column == viewer_id, shown)

    original = _BOOSTED_ORIGINAL
    original_author = (
        select(original.account_id)
        .where(col(original.id) == col(Status.reblog_of_id))
        .correlate(Status)
        .scalar_subquery()
    )
    return query.where(
        condition(col(Status.account_id)),
        or_(col(Status.reblog_of_id).is_(None), condition(original_author)),
    )


async def with_authors(session: AsyncSession, rows: list[Status]) -> list[TimelineItem]:
    """Authors and boosted notes for a page, in two queries rather than two per row."""
    boosted_ids = {r.reblog_of_id for r in rows if r.reblog_of_id is not None}
    boosted = {}
    if boosted_ids:
        found = await session.exec(select(Status).where(col(Status.id).in_(boosted_ids)))
        boosted = {s.id: s for s in found.all()}
    account_ids = {r.account_id for r in rows} | {s.account_id for s in boosted.values()}
    accounts = {}
    if account_ids:
        found_accounts = await session.exec(select(Account).where(col(Account.id).in_(account_ids)))
        accounts = {a.id: a for a in found_accounts.all()}
    items = []
    for row in rows:
        note = boosted.get(row.reblog_of_id, row) if row.reblog_of_id is not None else row
        if row.reblog_of_id is not None and note is row:
            continue  # the boosted note is gone
        items.append(TimelineItem(row, accounts[row.account_id], note, accounts[note.account_id]))
    return items


@dataclass(frozen=True)
class NotificationItem:
    notification: Notification
    sender: Account
    status: Status | None


async def notifications(
    session: AsyncSession,
    account: Account,
    *,
    limit: int,
    max_id: int | None = None,
    cursor: Cursor = NEWEST,
    types: Collection[str] | None = None,
    exclude_types: Collection[str] = (),
    from_account_id: int | None = None,
) -> list[NotificationItem]:
    """ACCOUNT's notifications, newest first: of TYPES only (all without), none of EXCLUDE_TYPES,
    from FROM_ACCOUNT_ID only if given (Mastodon's `types[]`, `exclude_types[]`, `account_id`)."""
    sender = _SENDER
    query = (
        select(Notification, sender, Status)
        .join(sender, col(sender.id) == col(Notification.from_account_id))
        .outerjoin(Status, col(Status.id) == col(Notification.status_id))
        .where(
            Notification.account_id == account.id,
            ~hidden(account.id, col(Notification.from_account_id), notifications=True),
            ~held_back(account.id, col(Notification.from_account_id)),
            or_(col(Notification.status_id).is_(None), visible_to(account.id)),
        )
    )
    if types is not None:
        query = query.where(col(Notification.type).in_(types))
    if exclude_types:
        query = query.where(col(Notification.type).not_in(exclude_types))
    if from_account_id is not None:
        query = query.where(Notification.from_account_id == from_account_id)
    rows = await page(session, query, col(Notification.id), limit, cursor.below(max_id))
    return [NotificationItem(n, s, st) for n, s, st in rows]


async def may_see(session: AsyncSession, reader: Account | None, status: Status) -> bool:
    """Public and unlisted: anyone; followers-only: the author, followers and those mentioned;
    direct: the author and those mentioned. Never a suspended author's, and never when the
    reader and the author block one another."""
    if reader is not None and reader.id == status.account_id:
        return True
    suspended = await session.exec(
        select(Account.id).where(Account.id == status.account_id, col(Account.suspended_at).is_not(None))
    )
    if suspended.first() is not None:
        return False
    if reader is not None and await blocked_between(session, reader.id, status.account_id):
        return False
    if status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    if reader is None:
        return False
    mentioned = await session.exec(
        select(Mention.account_id).where(Mention.status_id == status.id, Mention.account_id == reader.id)
    )
    if mentioned.first() is not None:
        return True
    if status.visibility == Visibility.FOLLOWERS:
        return await follows(session, reader.id, status.account_id)
    return False


async def account_posts(
    session: AsyncSession,
    reader: Account | None,
    account: Account,
    *,
    limit: int,
    max_id: int | None = None,
    replies: bool = False,
    cursor: Cursor = NEWEST,
    reblogs: bool = True,
    only_media: bool = False,
    tagged: str | None = None,
) -> list[Status]:
    """ACCOUNT's posts and boosts that READER may see, newest first; replies to others only when REPLIES,
    boosts unless REBLOGS is False, only posts with attachments when ONLY_MEDIA, only posts
    filed under the (normalised) tag TAGGED when given.

    Nothing when ACCOUNT is suspended or when the two block one another; boosts of hidden
    accounts' posts are left out (a mute does not empty a profile one opens)."""
    if account.suspended_at is not None and (reader is None or reader.id != account.id):
        return []
    if (
        reader is not None
        and reader.id != account.id
        and await blocked_between(session, reader.id, account.id)
    ):
        return []
    shown = [Visibility.PUBLIC, Visibility.UNLISTED]
    if reader is not None and (reader.id == account.id or await follows(session, reader.id, account.id)):
        shown.append(Visibility.FOLLOWERS)
    query = select(Status).where(Status.account_id == account.id, col(Status.visibility).in_(shown))
    if not replies:
        # As Mastodon's `exclude_replies`: a reply to oneself (a thread) stays with the posts.
        query = query.where(
            or_(col(Status.in_reply_to_uri).is_(None), col(Status.in_reply_to_account_id) == account.id)
        )
    if not reblogs:
        query = query.where(col(Status.reblog_of_id).is_(None))
    if only_media:
        query = query.where(has_media())
    if tagged is not None:
        query = query.where(tagged_with([tagged]))
    query = _without_hidden(query, reader.id if reader is not None else None, mutes=False)
    return await page(session, query, col(Status.id), limit, cursor.below(max_id))


async def visible_status(session: AsyncSession, reader: Account | None, status_id: int) -> Status | None:
    """The status by id, or None when there is none or READER may not see it (the two look alike)."""
    status = await session.get(Status, status_id)
    if status is None or not await may_see(session, reader, status):
        return None
    return status


async def tag_timeline(
    session: AsyncSession,
    name: str,
    *,
    limit: int,
    max_id: int | None = None,
    reader: Account | None = None,
    cursor: Cursor = NEWEST,
    local: bool | None = None,
    only_media: bool = False,
    any_of: Sequence[str] = (),
    all_of: Sequence[str] = (),
    none_of: Sequence[str] = (),
) -> list[Status]:
    """Public notes filed under the (normalised) tag NAME, newest first, as READER may see them
    (a public timeline: silenced accounts are left out too); LOCAL True keeps this server's,
    False other servers', None both. ANY_OF adds notes under those tags, ALL_OF keeps notes
    under every one of them too, NONE_OF drops notes under any of them (Mastodon's `any[]`,
    `all[]`, `none[]`)."""
    if any_of:
        # Notes under one tag or another: found through the status key, so that a note under
        # two of them comes once.
        key = col(Status.id)
        query = select(Status).where(tagged_with([name, *any_of]))
    else:
        # The page is read off ix_status_tags_tag in id order.
        key = col(StatusTag.status_id)
        query = (
            select(Status)
            .join(StatusTag, key == col(Status.id))
            .where(StatusTag.tag_id == select(Tag.id).where(Tag.name == name).scalar_subquery())
        )
    # `visibility || ''` keeps SQLite, which has no statistics to go by, from walking every
    # public status instead and probing each for the tag: a rare tag would cost a scan of the
    # public timeline.
    query = query.where(col(Status.visibility).concat("") == Visibility.PUBLIC)
    for other in all_of:
        query = query.where(tagged_with([other]))
    if none_of:
        query = query.where(~tagged_with(none_of))
    if local is not None:
        query = query.where(col(Status.local).is_(local))
    if only_media:
        query = query.where(has_media())
    query = _without_hidden(query, reader.id if reader is not None else None, public=True)
    return await page(session, query, key, limit, cursor.below(max_id))


async def one_notification(
    session: AsyncSession, account: Account, notification_id: int
) -> NotificationItem | None:
    row = await session.get(Notification, notification_id)
    if row is None or row.account_id != account.id:
        return None
    sender = await session.get(Account, row.from_account_id)
    status = await session.get(Status, row.status_id) if row.status_id else None
    return NotificationItem(row, sender, status)
