"""The Twitter/X archive ("Download an archive of your data"), read into `ArchivedPost`s.

`data/tweets.js` and its continuations `data/tweets-part1.js`, … (older archives: `tweet.js`)
are JavaScript: `window.YTD.tweets.part0 = [ {"tweet": {…}}, … ]`. Everything after the first
`=` is JSON. `data/account.js` names the account (its id tells one's own replies from replies
to others), `data/profile.js` holds the bio, `data/tweets_media/` the pictures as
`{tweet id}-{file name of media_url}`.

`full_text` is HTML-escaped by Twitter (`&amp;`, `&lt;`, `&gt;`): each piece of text between
entities is unescaped once and escaped again for Spark's HTML. Entities are found in the text
by what they say (a t.co URL, a #tag, an @handle) rather than by their indices, which older
archives count in UTF-16 units and on the escaped text.
"""

import html
import json
import posixpath
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..content.format import hashtag_html, link_html, named_link_html, normalize_tag
from .records import ArchivedMedia, ArchivedPost, ArchiveError, ParsedArchive, Skipped
from .zipread import Archive

TWITTER = "https://twitter.com"
_TWEET_FILE = re.compile(r"(?:^|/)data/tweets?(?:-part(\d+))?\.js$")
_TOKENS = re.compile(
    r"(?P<url>https?://t\.co/[A-Za-z0-9]+)"
    r"|(?<![\w&/#])#(?P<tag>\w+)"
    r"|(?<![\w@/])@(?P<handle>[A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])"
)
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
IMAGE_TYPES = ("photo", "animated_gif")


def parse_js(data: bytes, name: str) -> Any:
    """The JSON after `window.YTD.….partN =`; a cut-off or mangled file is an `ArchiveError`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArchiveError(f"{name} is not UTF-8 text") from None
    head, sep, body = text.partition("=")
    if not sep or not head.strip().startswith("window.YTD."):
        raise ArchiveError(f"{name} is not a Twitter archive file (no window.YTD… = prefix)")
    try:
        return json.loads(body.strip().rstrip(";"))
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"{name} is cut off or not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _first(archive: Archive, name: str, key: str) -> dict[str, Any]:
    found = archive.find(name)
    if found is None:
        return {}
    items = parse_js(archive.read_document(found), found)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        value = items[0].get(key)
        return value if isinstance(value, dict) else {}
    return {}


def tweet_files(archive: Archive) -> list[str]:
    found = [(int(m.group(1) or 0), name) for name in archive.names() if (m := _TWEET_FILE.search(name))]
    return [name for _, name in sorted(found)]


def read(archive: Archive, tag_url: Callable[[str], str]) -> ParsedArchive:
    files = tweet_files(archive)
    if not files:
        raise ArchiveError("no data/tweets.js in the archive: is it a Twitter/X archive?")
    account = _first(archive, "data/account.js", "account")
    profile = _first(archive, "data/profile.js", "profile")
    own_id = str(account.get("accountId") or "")
    own_name = str(account.get("username") or "")
    entries: list[tuple[int, Any]] = []
    for name in files:
        items = parse_js(archive.read_document(name), name)
        if not isinstance(items, list):
            raise ArchiveError(f"{name} does not hold a list of tweets")
        entries += [(len(entries) + i, item) for i, item in enumerate(items)]
    media_files = _media_index(archive)
    tweets: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for index, item in entries:
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id_str") or tweet.get("id"), str | int):
            skipped.append(Skipped(f"#{index}", "not a tweet (no id_str)"))
            continue
        tweets.append(tweet)
    own_ids = {str(t.get("id_str") or t.get("id")) for t in tweets}
    posts: list[ArchivedPost] = []
    for tweet in tweets:
        tweet_id = str(tweet.get("id_str") or tweet.get("id"))
        try:
            post = _post(tweet, tweet_id, own_id, own_name, own_ids, media_files, tag_url)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(Skipped(tweet_id, f"malformed tweet: {exc}"))
            continue
        if post is None:
            skipped.append(Skipped(tweet_id, "a retweet", retweet=True))
        else:
            posts.append(post)
    posts.sort(key=lambda p: (p.published, int(p.source_id) if p.source_id.isdigit() else 0))
    bio = (
        (profile.get("description") or {}).get("bio")
        if isinstance(profile.get("description"), dict)
        else None
    )
    return ParsedArchive(
        posts=posts,
        skipped=skipped,
        display_name=account.get("accountDisplayName") or None,
        bio=bio if isinstance(bio, str) else None,
    )


def _media_index(archive: Archive) -> dict[str, list[str]]:
    """tweet id → the entries of data/tweets_media/ named `{tweet id}-…`."""
    index: dict[str, list[str]] = {}
    for name in archive.names():
        if "/tweets_media/" in f"/{name}":
            tweet_id, dash, _ = posixpath.basename(name).partition("-")
            if dash:
                index.setdefault(tweet_id, []).append(name)
    return index


def parse_date(value: str) -> datetime:
    return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")


def is_retweet(tweet: dict[str, Any]) -> bool:
    return bool(tweet.get("retweeted_status")) or str(tweet.get("full_text", "")).startswith("RT @")


def _post(
    tweet: dict[str, Any],
    tweet_id: str,
    own_id: str,
    own_name: str,
    own_ids: set[str],
    media_files: dict[str, list[str]],
    tag_url: Callable[[str], str],
) -> ArchivedPost | None:
    if is_retweet(tweet):
        return None
    published = parse_date(tweet["created_at"])
    text = str(tweet.get("full_text") if tweet.get("full_text") is not None else tweet.get("text", ""))
    entities = tweet.get("entities") or {}
    extended = (tweet.get("extended_entities") or {}).get("media") or entities.get("media") or []
    urls = {u["url"]: u.get("expanded_url") or u["url"] for u in entities.get("urls") or [] if u.get("url")}
    media_urls = {m.get("url") for m in extended if m.get("url")}
    media: list[ArchivedMedia] = []
    for m in extended:
        kind = m.get("type", "photo")
        link = m.get("expanded_url") or m.get("media_url_https") or m.get("media_url")
        if kind in IMAGE_TYPES:
            stem = posixpath.splitext(
                posixpath.basename(m.get("media_url_https") or m.get("media_url") or "")
            )[0]
            path = _media_file(media_files.get(tweet_id, []), tweet_id, stem)
            if path is not None and path.lower().endswith(".mp4"):
                # X keeps an animated GIF as a silent MP4: turned back into a GIF when imported.
                description = str(m.get("ext_alt_text") or "")
                media.append(ArchivedMedia(path=path, description=description, link=link, kind="gif_video"))
            else:
                media.append(
                    ArchivedMedia(path=path, description=str(m.get("ext_alt_text") or ""), link=link)
                )
        else:
            media.append(ArchivedMedia(path=None, link=link, kind="video"))
    html_text, tags = tweet_html(text, urls, media_urls, tag_url)
    post = ArchivedPost(source_id=tweet_id, published=published, html=html_text, tags=tags, media=media)
    lang = tweet.get("lang")
    if isinstance(lang, str) and _LANGUAGE.fullmatch(lang):
        post.language = lang
    parent = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    if parent:
        parent = str(parent)
        screen_name = str(tweet.get("in_reply_to_screen_name") or "")
        to_self = (
            str(tweet.get("in_reply_to_user_id_str") or "") == own_id
            if own_id
            else (screen_name.lower() == own_name.lower())
        )
        if to_self and parent in own_ids:
            post.reply_to_source_id = parent
        post.reply_to_name = f"@{screen_name}" if screen_name else None
        post.reply_to_url = f"{TWITTER}/{screen_name or 'i/web'}/status/{parent}"
    return post


def _media_file(candidates: list[str], tweet_id: str, stem: str) -> str | None:
    for name in candidates:
        if posixpath.splitext(posixpath.basename(name))[0] == f"{tweet_id}-{stem}":
            return name
    return None


def _escape(text: str) -> str:
    return html.escape(html.unescape(text), quote=False)


def tweet_html(
    text: str, urls: dict[str, str], media_urls: set[str], tag_url: Callable[[str], str]
) -> tuple[str, list[str]]:
    """Spark's HTML of a tweet's `full_text`, and the tags it names (normalised)."""
    out: list[str] = []
    tags: list[str] = []
    last = 0
    for match in _TOKENS.finditer(text):
        out.append(_escape(text[last : match.start()]))
        last = match.end()
        if url := match.group("url"):
            if url in media_urls:
                continue  # the picture's own link: the picture is attached instead
            out.append(link_html(urls.get(url, url)))
        elif tag := match.group("tag"):
            tags.append(normalize_tag(tag))
            out.append(hashtag_html(tag_url(tag), tag))
        else:
            handle = match.group("handle")
            out.append(named_link_html(f"{TWITTER}/{handle}", f"@{handle}"))
    out.append(_escape(text[last:]))
    body = "".join(out).replace("\r\n", "\n").strip()
    paragraphs = [p.strip().replace("\n", "<br>") for p in _PARAGRAPH_BREAK.split(body) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs), list(dict.fromkeys(t for t in tags if t))
