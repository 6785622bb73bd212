"""The Mastodon archive (Preferences → Import and export → Request your archive), read into
`ArchivedPost`s: `outbox.json` (an OrderedCollection of the account's Create and Announce
activities), `actor.json` (the profile; its `followers` tells a followers-only post) and the
files under `media_attachments/`.
"""

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from ..activitystreams import PUBLIC_ALIASES
from ..content import normalize_tag, plain_text, sanitize_html
from ..models import Visibility
from .records import ArchivedMedia, ArchivedPost, ArchiveError, ParsedArchive, Skipped
from .zipread import Archive

_MAX_CONTENT = 100_000


def _json(archive: Archive, name: str, *, required: bool) -> Any:
    found = archive.find(name)
    if found is None:
        if required:
            raise ArchiveError(f"no {name} in the archive: is it a Mastodon archive?")
        return {}
    try:
        return json.loads(archive.read_document(found).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{found} is cut off or not valid JSON ({exc})") from None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _id_of(value: Any) -> str:
    return str(value.get("id", "")) if isinstance(value, dict) else str(value)


def visibility(note: dict[str, Any], followers_url: str | None) -> str:
    """As `federation.notes.visibility_of`, with the archive's own followers collection."""
    to = {_id_of(v) for v in _as_list(note.get("to"))}
    cc = {_id_of(v) for v in _as_list(note.get("cc"))}
    if to & PUBLIC_ALIASES:
        return Visibility.PUBLIC
    if cc & PUBLIC_ALIASES:
        return Visibility.UNLISTED
    if followers_url and followers_url in to | cc:
        return Visibility.FOLLOWERS
    return Visibility.DIRECT


def read(archive: Archive, _tag_url: Any = None) -> ParsedArchive:
    actor = _json(archive, "actor.json", required=False)
    outbox = _json(archive, "outbox.json", required=True)
    if not isinstance(outbox, dict) or not isinstance(outbox.get("orderedItems"), list):
        raise ArchiveError("outbox.json has no orderedItems: is it a Mastodon archive?")
    actor = actor if isinstance(actor, dict) else {}
    followers = actor.get("followers") if isinstance(actor.get("followers"), str) else None
    items = outbox["orderedItems"]
    notes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    skipped: list[Skipped] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            skipped.append(Skipped(f"#{index}", "not an activity"))
            continue
        activity_id = str(item.get("id") or f"#{index}")
        if item.get("type") == "Announce":
            skipped.append(Skipped(activity_id, "a boost", retweet=True))
            continue
        note = item.get("object")
        if (
            item.get("type") != "Create"
            or not isinstance(note, dict)
            or note.get("type") not in ("Note", "Question")
        ):
            skipped.append(Skipped(activity_id, f"not a Create of a Note ({item.get('type')})"))
            continue
        if not isinstance(note.get("id"), str):
            skipped.append(Skipped(activity_id, "the note has no id"))
            continue
        notes.append((note["id"], note, item))
    own_ids = {note_id for note_id, _, _ in notes}
    media = {name for name in archive.names()}
    posts: list[ArchivedPost] = []
    for note_id, note, activity in notes:
        try:
            posts.append(_post(note_id, note, activity, followers, own_ids, media, archive))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(note_id, f"malformed note: {exc}"))
    posts.sort(key=lambda p: p.published)
    summary = actor.get("summary")
    return ParsedArchive(
        posts=posts,
        skipped=skipped,
        display_name=actor.get("name") if isinstance(actor.get("name"), str) else None,
        bio=plain_text(sanitize_html(summary)) if isinstance(summary, str) else None,
    )


def _date(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"published {value!r} has no time zone")
    return moment


def _media_path(url: str, names: set[str], archive: Archive) -> str | None:
    path = urlparse(url).path.lstrip("/")
    while path:
        if path in names:
            return path
        found = archive.find(path)
        if found is not None:
            return found
        _, _, path = path.partition("/")
    return None


def _post(
    note_id: str,
    note: dict[str, Any],
    activity: dict[str, Any],
    followers: str | None,
    own_ids: set[str],
    names: set[str],
    archive: Archive,
) -> ArchivedPost:
    published = _date(note.get("published") or activity.get("published"))
    content = note.get("content")
    if not isinstance(content, str):
        languages = note.get("contentMap")
        content = next(iter(languages.values()), "") if isinstance(languages, dict) and languages else ""
    language = None
    if isinstance(note.get("contentMap"), dict) and note["contentMap"]:
        language = str(next(iter(note["contentMap"])))[:16]
    tags, mentions = [], []
    for tag in _as_list(note.get("tag")):
        if not isinstance(tag, dict):
            continue
        if tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
            tags.append(normalize_tag(tag["name"].lstrip("#")))
        elif tag.get("type") == "Mention" and isinstance(tag.get("href"), str):
            mentions.append(tag["href"])
    summary = note.get("summary") if isinstance(note.get("summary"), str) else ""
    post = ArchivedPost(
        source_id=note_id,
        published=published,
        html=content[:_MAX_CONTENT],  # sanitised where it is stored, as every status's
        tags=[t for t in dict.fromkeys(tags) if t],
        visibility=visibility(note, followers),
        summary=summary[:1000],
        sensitive=bool(note.get("sensitive")) or bool(summary),
        language=language,
        mention_uris=mentions,
    )
    parent = note.get("inReplyTo")
    if isinstance(parent, dict):
        parent = parent.get("id")
    if isinstance(parent, str) and parent:
        if parent in own_ids:
            post.reply_to_source_id = parent
        post.reply_to_url = parent
    for item in _as_list(note.get("attachment")):
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        url = url if isinstance(url, str) else _id_of(url[0]) if isinstance(url, list) and url else ""
        media_type = str(item.get("mediaType") or "")
        description = item.get("name") if isinstance(item.get("name"), str) else ""
        link = url if url.startswith(("http://", "https://")) else None
        if media_type.startswith(("video/", "audio/")):
            post.media.append(ArchivedMedia(path=None, link=link, kind="video"))
        else:
            path = _media_path(url, names, archive) if url else None
            post.media.append(ArchivedMedia(path=path, description=description, link=link))
    return post
