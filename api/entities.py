"""Mastodon's JSON entities (Account, Status, Notification, Relationship, ...) from Spark's rows.

Ids are strings, times are ISO 8601 UTC with milliseconds, as Mastodon's
serializers write them; a local account's `acct` is `user`, a remote one's
`user@host`; a status's `uri` is its ActivityPub id.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from spark_fed.content import plain_text
from spark_fed.filters import FilterResult, contexts_of
from spark_fed.models import (
    Account,
    Filter,
    FilterKeyword,
    MediaAttachment,
    PreviewCard,
    Status,
    User,
    Visibility,
)
from spark_fed.models.media import FetchState, MediaKind
from spark_fed.urls import Urls

API_VISIBILITY = {Visibility.FOLLOWERS: "private"}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def acct(account: Account) -> str:
    return account.username if account.is_local else f"{account.username}@{account.domain}"


@dataclass(frozen=True)
class Counts:
    followers: int = 0
    following: int = 0
    statuses: int = 0
    last_status_at: datetime | None = None


@dataclass(frozen=True)
class ProfileImages:
    """An account's avatar and header rows (`spark_fed.media.records.profile_images`), or None."""

    avatar: MediaAttachment | None = None
    header: MediaAttachment | None = None

    @classmethod
    def of(cls, found: Mapping[tuple[int, str], MediaAttachment], account_id: int) -> "ProfileImages":
        """The images of ACCOUNT_ID out of what `profile_images` loaded for a whole page."""
        return cls(found.get((account_id, MediaKind.AVATAR)), found.get((account_id, MediaKind.HEADER)))


def image_url(row: MediaAttachment | None, urls: Urls, default: str) -> str:
    """Spark's own URL of an avatar or header (remote ones through the proxy); DEFAULT without one,
    or when the remote file failed the checks (it is never shown)."""
    if row is None or (not row.local and row.fetch_state == FetchState.FAILED):
        return default
    return urls.media(row.id)


def account_entity(
    account: Account,
    urls: Urls,
    counts: Counts | None = None,
    *,
    avatar: MediaAttachment | None = None,
    header: MediaAttachment | None = None,
) -> dict[str, Any]:
    """AVATAR and HEADER are the account's rows (`ProfileImages`); without them, Mastodon's
    missing.png placeholders. Every URL is Spark's own: a reader's app never contacts another
    server for a picture."""
    counts = counts or Counts()
    avatar_url = image_url(avatar, urls, urls.default_avatar)
    header_url = image_url(header, urls, urls.default_header)
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": acct(account),
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.actor_type in ("Service", "Application"),
        "discoverable": account.discoverable,
        # Whether the account's public posts may be found by full-text search: Spark has no such
        # search, so no post is indexed, and it says so.
        "indexable": False,
        "group": account.actor_type == "Group",
        "created_at": iso(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": account.summary,
        "url": account.url or account.uri,
        "uri": account.uri,
        "avatar": avatar_url,
        "avatar_static": avatar_url,
        "header": header_url,
        "header_static": header_url,
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.statuses,
        "last_status_at": counts.last_status_at.strftime("%Y-%m-%d") if counts.last_status_at else None,
        "emojis": [],
        "fields": [],
    }


def credential_account(
    account: Account, urls: Urls, counts: Counts, user: User, images: ProfileImages | None = None
) -> dict[str, Any]:
    """verify_credentials adds `source`: what the owner typed, and their posting defaults."""
    images = images or ProfileImages()
    entity = account_entity(account, urls, counts, avatar=images.avatar, header=images.header)
    entity["source"] = {
        "privacy": API_VISIBILITY.get(user.default_visibility, user.default_visibility),
        "sensitive": user.default_sensitive,
        "language": user.default_language,
        "quote_policy": user.default_quote_policy,
        "note": plain_text(account.summary),
        "fields": [],
        "follow_requests_count": 0,
        "indexable": False,
    }
    entity["role"] = role_entity(user.role)
    return entity


# Spark's roles as Mastodon's built-in ones (their ids, and `permissions` as Mastodon's bit flags):
# a moderator handles reports and accounts, an admin may do everything; a user has the role
# everyone has, which Mastodon shows as id -99 with no name.
ROLES = {
    "moderator": ("1", "Moderator", (1 << 4) | (1 << 10)),  # manage_reports, manage_users
    "admin": ("3", "Admin", 1 << 0),  # administrator
}


def role_entity(role: str) -> dict[str, Any]:
    """Mastodon's Role, which verify_credentials carries so that apps show moderation menus."""
    role_id, name, permissions = ROLES.get(role, ("-99", "", 0))
    return {"id": role_id, "name": name, "permissions": str(permissions), "color": "", "highlighted": False}


@dataclass(frozen=True)
class StatusView:
    """Everything a Status entity needs, loaded together (see queries in api/lookups.py)."""

    status: Status
    author: Account
    mentions: list[Account]
    tags: list[str]
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False
    reblog: "StatusView | None" = None
    author_counts: Counts | None = None
    media: Sequence[MediaAttachment] = ()
    author_images: ProfileImages = field(default_factory=ProfileImages)
    filtered: Sequence[FilterResult] = ()
    card: tuple[PreviewCard, MediaAttachment | None] | None = None
    """The status's link card and its image (`spark_fed.cards.store.cards_of`), or None."""
    poll: dict[str, Any] | None = None
    """The status's Poll entity (`api.poll_entity`), when it has a poll."""


def status_entity(view: StatusView, urls: Urls) -> dict[str, Any]:
    status = view.status
    entity = {
        "id": str(status.id),
        "created_at": iso(status.published),
        "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
        "in_reply_to_account_id": str(status.in_reply_to_account_id)
        if status.in_reply_to_account_id
        else None,
        "sensitive": status.sensitive,
        "spoiler_text": status.summary,
        "visibility": API_VISIBILITY.get(status.visibility, status.visibility),
        "language": status.language,
        "uri": status.uri,
        "url": status.url or status.uri,
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "edited_at": iso(status.edited_at),
        "favourited": view.favourited,
        "reblogged": view.reblogged,
        "muted": False,
        "bookmarked": view.bookmarked,
        "pinned": view.pinned,
        "content": status.content,
        "filtered": [filter_result_entity(r) for r in view.filtered],
        "reblog": status_entity(view.reblog, urls) if view.reblog else None,
        "application": None,
        "account": account_entity(
            view.author,
            urls,
            view.author_counts,
            avatar=view.author_images.avatar,
            header=view.author_images.header,
        ),
        "media_attachments": [media_entity(m, urls) for m in view.media],
        "mentions": [
            {"id": str(a.id), "username": a.username, "url": a.url or a.uri, "acct": acct(a)}
            for a in view.mentions
        ],
        "tags": [{"name": name, "url": urls.tag(name)} for name in view.tags],
        "emojis": [],
        "card": _card(view, urls),
        "poll": view.poll,
        "quote": None,
        "quote_approval": None,
        "quotes_count": 0,
    }
    return entity


def _card(view: StatusView, urls: Urls) -> dict[str, Any] | None:
    from .cards import card_entity  # api.cards builds on this module's helpers

    return card_entity(view.card, urls) if view.card is not None else None


def _dimensions(width: int | None, height: int | None) -> dict[str, Any] | None:
    if not width or not height:
        return None
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


def media_entity(media: MediaAttachment, urls: Urls) -> dict[str, Any]:
    """Mastodon's MediaAttachment. Every image is served by Spark (`/media/ID/...`), remote ones
    through its proxy; `remote_url` names the origin's file. A remote file that failed the
    checks is `unknown`, as Mastodon marks what it cannot show: apps then link to `remote_url`."""
    failed = not media.local and media.fetch_state == FetchState.FAILED
    meta: dict[str, Any] = {}
    if (original := _dimensions(media.width, media.height)) is not None:
        meta["original"] = original
    if (small := _dimensions(media.thumbnail_width, media.thumbnail_height)) is not None:
        meta["small"] = small
    meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return {
        "id": str(media.id),
        "type": "unknown" if failed else "image",
        "url": urls.media(media.id),
        "preview_url": None if failed else urls.media(media.id, "small"),
        "remote_url": None if media.local else media.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash,
    }


def notification_entity(
    notification_id: int,
    kind: str,
    created_at: datetime,
    sender: dict[str, Any],
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    """Without a status the key is left out, not null: some clients test for its presence."""
    entity: dict[str, Any] = {
        "id": str(notification_id),
        "type": kind,
        # Spark does not group notifications: each is its own group, as Mastodon names those.
        "group_key": f"ungrouped-{notification_id}",
        "created_at": iso(created_at),
        "account": sender,
    }
    if status is not None:
        entity["status"] = status
    return entity


def filter_keyword_entity(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def filter_entity(row: Filter, keywords: Sequence[FilterKeyword] | None = None) -> dict[str, Any]:
    """Mastodon's Filter (v2). Inside a status's `filtered` the keywords are left out, as
    Mastodon leaves them out there."""
    entity: dict[str, Any] = {
        "id": str(row.id),
        "title": row.title,
        "context": contexts_of(row),
        "expires_at": iso(row.expires_at),
        "filter_action": row.action,
    }
    if keywords is not None:
        entity["keywords"] = [filter_keyword_entity(k) for k in keywords]
        entity["statuses"] = []
    return entity


def filter_result_entity(result: FilterResult) -> dict[str, Any]:
    return {
        "filter": filter_entity(result.filter),
        "keyword_matches": result.keyword_matches,
        "status_matches": [],
    }
