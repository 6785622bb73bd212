"""Mastodon's JSON entities (Account, Status, Notification, Relationship, ...) from Spark's rows.

Ids are strings, times are ISO 8601 UTC with milliseconds, as Mastodon's
serializers write them; a local account's `acct` is `user`, a remote one's
`user@host`; a status's `uri` is its ActivityPub id.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spark_fed.content import plain_text
from spark_fed.models import Account, Status, User, Visibility
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


def account_entity(account: Account, urls: Urls, counts: Counts | None = None) -> dict[str, Any]:
    counts = counts or Counts()
    avatar = account.avatar_url or urls.default_avatar
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": acct(account),
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.actor_type in ("Service", "Application"),
        "discoverable": account.discoverable,
        "group": account.actor_type == "Group",
        "created_at": iso(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": account.summary,
        "url": account.url or account.uri,
        "uri": account.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": urls.default_header,
        "header_static": urls.default_header,
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.statuses,
        "last_status_at": counts.last_status_at.strftime("%Y-%m-%d") if counts.last_status_at else None,
        "emojis": [],
        "fields": [],
    }


def credential_account(account: Account, urls: Urls, counts: Counts, user: User) -> dict[str, Any]:
    """verify_credentials adds `source`: what the owner typed, and their posting defaults."""
    entity = account_entity(account, urls, counts)
    entity["source"] = {
        "privacy": API_VISIBILITY.get(user.default_visibility, user.default_visibility),
        "sensitive": user.default_sensitive,
        "language": user.default_language,
        "note": plain_text(account.summary),
        "fields": [],
        "follow_requests_count": 0,
    }
    return entity


@dataclass(frozen=True)
class StatusView:
    """Everything a Status entity needs, loaded together (see queries in api/lookups.py)."""

    status: Status
    author: Account
    mentions: list[Account]
    tags: list[str]
    favourited: bool = False
    reblogged: bool = False
    reblog: "StatusView | None" = None
    author_counts: Counts | None = None


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
        "bookmarked": False,
        "pinned": False,
        "content": status.content,
        "filtered": [],
        "reblog": status_entity(view.reblog, urls) if view.reblog else None,
        "application": None,
        "account": account_entity(view.author, urls, view.author_counts),
        "media_attachments": [],
        "mentions": [
            {"id": str(a.id), "username": a.username, "url": a.url or a.uri, "acct": acct(a)}
            for a in view.mentions
        ],
        "tags": [{"name": name, "url": urls.tag(name)} for name in view.tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    return entity


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
        "created_at": iso(created_at),
        "account": sender,
    }
    if status is not None:
        entity["status"] = status
    return entity
