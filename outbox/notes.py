"""Statuses as ActivityStreams: the Note and its activities, shaped as Mastodon's (docs/interop.md)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from spark_fed.activitystreams import AS2, PUBLIC
from spark_fed.models import Account, MediaAttachment, Status, Visibility
from spark_fed.quotes import NOTE_TERMS as QUOTE_TERMS

NOTE_CONTEXT: list[Any] = [
    AS2,
    {
        "ostatus": "http://ostatus.org#",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "Hashtag": "as:Hashtag",
        "votersCount": "toot:votersCount",
        **QUOTE_TERMS,
    },
]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def addressing(
    visibility: str, author: Account, mentioned: list[str], extra: tuple[str, ...] = ()
) -> tuple[list[str], list[str]]:
    """to/cc by visibility, as Mastodon's TagManager does; EXTRA (a replied-to author) joins the mentions."""
    others = list(dict.fromkeys([*mentioned, *extra]))
    followers = author.followers_url or f"{author.uri}/followers"
    if visibility == Visibility.PUBLIC:
        return [PUBLIC], [followers, *others]
    if visibility == Visibility.UNLISTED:
        return [followers], [PUBLIC, *others]
    if visibility == Visibility.FOLLOWERS:
        return [followers], others
    return others, []


def note(
    status: Status,
    author: Account,
    *,
    in_reply_to: str | None,
    to: list[str],
    cc: list[str],
    tags: list[dict[str, Any]],
    attachments: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": status.uri,
        "type": "Note",
        "summary": status.summary or None,
        "inReplyTo": in_reply_to,
        "published": iso(status.published),
        "url": status.url,
        "attributedTo": author.uri,
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "content": status.content,
        "attachment": list(attachments),
        "tag": tags,
    }
    if status.language:
        document["contentMap"] = {status.language: status.content}
    if status.edited_at:
        document["updated"] = iso(status.edited_at)
    return document


def attachment(media: MediaAttachment, url: str, *, sensitive: bool) -> dict[str, Any]:
    """An image as Mastodon's MediaAttachmentSerializer writes it (`Document`, focalPoint x/y)."""
    document: dict[str, Any] = {
        "type": "Document",
        "mediaType": media.media_type,
        "url": url,
        "name": media.description or None,
        "blurhash": media.blurhash,
        "width": media.width,
        "height": media.height,
        "focalPoint": [media.focus_x, media.focus_y],
    }
    if sensitive:
        document["sensitive"] = True
    return document


def with_context(document: dict[str, Any]) -> dict[str, Any]:
    return {"@context": NOTE_CONTEXT, **document}


def create(author: Account, note_document: dict[str, Any]) -> dict[str, Any]:
    return with_context(
        {
            "id": f"{note_document['id']}/activity",
            "type": "Create",
            "actor": author.uri,
            "published": note_document["published"],
            "to": note_document["to"],
            "cc": note_document["cc"],
            "object": note_document,
        }
    )


def update(author: Account, note_document: dict[str, Any]) -> dict[str, Any]:
    stamp = note_document["updated"]
    return with_context(
        {
            "id": f"{note_document['id']}#updates/{stamp}",
            "type": "Update",
            "actor": author.uri,
            "to": note_document["to"],
            "cc": note_document["cc"],
            "object": note_document,
        }
    )


def delete(author: Account, uri: str) -> dict[str, Any]:
    return {
        "@context": AS2,
        "id": f"{uri}#delete",
        "type": "Delete",
        "actor": author.uri,
        "to": [PUBLIC],
        "object": {"id": uri, "type": "Tombstone", "atomUri": uri},
    }


def announce(booster: Account, boost: Status, original_uri: str, original_author: Account) -> dict[str, Any]:
    return {
        "@context": AS2,
        "id": boost.uri,
        "type": "Announce",
        "actor": booster.uri,
        "published": iso(boost.published),
        "to": [PUBLIC],
        "cc": [original_author.uri, booster.followers_url or f"{booster.uri}/followers"],
        "object": original_uri,
    }


def like(actor: Account, like_id: str, object_uri: str) -> dict[str, Any]:
    return {"@context": AS2, "id": like_id, "type": "Like", "actor": actor.uri, "object": object_uri}
