"""A page's head and its oEmbed document to a card's fields, trusting none of it.

The page is read with the standard library's tolerant HTML parser (no new dependency: only
`<title>`, `<meta>` and `<link>` of the head matter, and the parser never fails on broken
markup). Every text becomes plain text, whitespace collapsed and length capped; every URL is
resolved against the page and kept only when it is http(s). oEmbed's `rich` HTML needs
scripts and yields no card from oEmbed (the page's OpenGraph is read instead); a `video`'s HTML
is kept only as one iframe with an https source, sanitised by nh3, and Spark's own pages never
show it (it is for apps, as Mastodon serves it).
"""

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import nh3

from ..models.cards import CardType
from .links import normalise

TITLE_CHARS = 500
DESCRIPTION_CHARS = 1000
NAME_CHARS = 500
ALT_CHARS = 1500
MAX_DIMENSION = 10_000
OEMBED_TYPES = frozenset({"application/json+oembed"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)


@dataclass(frozen=True)
class CardData:
    """A card as read, before it is stored. IMAGE is the origin's URL (fetched by the media proxy)."""

    url: str
    title: str
    type: str = CardType.LINK
    description: str = ""
    author_name: str = ""
    author_url: str = ""
    provider_name: str = ""
    provider_url: str = ""
    html: str = ""
    embed_url: str = ""
    width: int = 0
    height: int = 0
    image: str | None = None
    image_description: str = ""
    published_at: datetime | None = None


@dataclass
class PageHead:
    """What a page's head says: its title, its meta properties (first of each wins), its oEmbed link."""

    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    oembed: str | None = None


class _HeadReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head = PageHead()
        self._in_title = False
        self._title_done = False
        self._skipping = 0  # inside <script>/<style>/<noscript>: their text is no title
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "body":
            self.done = True
        elif tag in ("script", "style", "noscript", "template"):
            self._skipping += 1
        elif tag == "title" and not self._title_done:
            self._in_title = True
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.head.meta.setdefault(key, values["content"])
        elif tag == "link" and self.head.oembed is None:
            rels = values.get("rel", "").lower().split()
            if "alternate" in rels and values.get("type", "").lower() in OEMBED_TYPES and values.get("href"):
                self.head.oembed = values["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.done = True
        elif tag in ("script", "style", "noscript", "template") and self._skipping:
            self._skipping -= 1
        elif tag == "title" and self._in_title:
            self._in_title, self._title_done = False, True

    def handle_data(self, data: str) -> None:
        if self._in_title and not self._skipping and not self.done:
            self.head.title += data[: TITLE_CHARS * 4]


def decode(body: bytes, charset: str | None) -> str:
    """The page's text: the charset the server named, else the one a `<meta>` names, else UTF-8."""
    for candidate in (charset, _meta_charset(body), "utf-8"):
        if not candidate:
            continue
        try:
            return body.decode(candidate, errors="replace")
        except LookupError:
            continue
    return body.decode("utf-8", errors="replace")


def _meta_charset(body: bytes) -> str | None:
    found = _META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii") if found else None


def read_head(text: str) -> PageHead:
    reader = _HeadReader()
    try:
        reader.feed(text)
        reader.close()
    except Exception:  # the parser is tolerant; anything it still trips on ends the head there
        pass
    return reader.head


def plain(value: Any, limit: int) -> str:
    """Text as shown: markup removed, control characters and runs of whitespace collapsed."""
    if not isinstance(value, str):
        return ""
    if "<" in value:
        value = nh3.clean(value, tags=set(), attributes={})
        value = value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    value = " ".join(_CONTROL.sub(" ", value).split())
    return value[: limit - 1] + "…" if len(value) > limit else value


def web_url(value: Any, base: str) -> str | None:
    """VALUE resolved against BASE, when it is an http(s) URL; None for javascript:, data: and the rest."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalise(urljoin(base, value.strip()))
    except ValueError:
        return None


def _dimension(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        return 0
    return number if 0 < number <= MAX_DIMENSION else 0


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _first(meta: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        if meta.get(key, "").strip():
            return meta[key]
    return None


def _author(value: str | None) -> str:
    """A page's author as a name; a profile URL in its place (`article:author`) is no name."""
    if value is None or value.strip().lower().startswith(("http://", "https://")):
        return ""
    return plain(value, NAME_CHARS)


def player_html(src: str, width: int, height: int) -> str:
    """The iframe a `video` card carries for apps, built here from a checked https URL."""
    return (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" '
        'allowfullscreen="true" frameborder="0" scrolling="no"></iframe>'
    )


def read_page(url: str, head: PageHead) -> CardData | None:
    """The card OpenGraph, Twitter's card tags and the plain head describe; None without a title."""
    meta = head.meta
    title = plain(_first(meta, "og:title", "twitter:title") or head.title, TITLE_CHARS)
    if not title:
        return None
    image = web_url(
        _first(meta, "og:image:secure_url", "og:image", "twitter:image", "twitter:image:src"), url
    )
    card = CardData(
        url=url,
        title=title,
        description=plain(
            _first(meta, "og:description", "twitter:description", "description"), DESCRIPTION_CHARS
        ),
        provider_name=plain(_first(meta, "og:site_name", "application-name"), NAME_CHARS),
        author_name=_author(_first(meta, "author", "article:author")),
        image=image,
        image_description=plain(_first(meta, "og:image:alt", "twitter:image:alt"), ALT_CHARS),
        width=_dimension(meta.get("og:image:width")) if image else 0,
        height=_dimension(meta.get("og:image:height")) if image else 0,
        published_at=_time(_first(meta, "article:published_time", "og:article:published_time")),
    )
    player = web_url(meta.get("twitter:player"), url)
    if player is not None and player.startswith("https://"):
        width = _dimension(meta.get("twitter:player:width"))
        height = _dimension(meta.get("twitter:player:height"))
        card = replace(
            card, type=CardType.VIDEO, width=width, height=height, html=player_html(player, width, height)
        )
    return card


def read_oembed(url: str, endpoint: str, body: bytes) -> CardData | None:
    """The card an oEmbed document describes; None for `rich`, a malformed one, or one without
    what its type needs (a photo's URL, a video's https iframe)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    kind = document.get("type")
    card = CardData(
        url=url,
        title=plain(document.get("title"), TITLE_CHARS),
        author_name=plain(document.get("author_name"), NAME_CHARS),
        author_url=web_url(document.get("author_url"), endpoint) or "",
        provider_name=plain(document.get("provider_name"), NAME_CHARS),
        provider_url=web_url(document.get("provider_url"), endpoint) or "",
    )
    thumbnail = web_url(document.get("thumbnail_url"), endpoint)
    if kind == CardType.LINK:
        card = replace(card, image=thumbnail)
    elif kind == CardType.PHOTO:
        photo = web_url(document.get("url"), endpoint)
        if photo is None:
            return None
        width, height = _dimension(document.get("width")), _dimension(document.get("height"))
        card = replace(card, type=CardType.PHOTO, embed_url=photo, image=photo, width=width, height=height)
    elif kind == CardType.VIDEO:
        html = video_html(document.get("html"))
        if html is None:
            return None
        width, height = _dimension(document.get("width")), _dimension(document.get("height"))
        card = replace(card, type=CardType.VIDEO, html=html, image=thumbnail, width=width, height=height)
    else:
        return None
    return card if card.title or card.html else None


def video_html(value: Any) -> str | None:
    """An oEmbed video's HTML reduced to its iframes with https sources; None if nothing is left."""
    if not isinstance(value, str) or len(value) > 20_000:
        return None
    cleaned = nh3.clean(
        value,
        tags={"iframe"},
        attributes={"iframe": {"src", "width", "height", "allowfullscreen", "frameborder", "scrolling"}},
        url_schemes={"https"},
        link_rel=None,
    )
    cleaned = re.sub(r"<iframe(?![^>]*\ssrc=\"https://)[^>]*></iframe>", "", cleaned)
    cleaned = re.sub(r">[^<]+<", "><", f">{cleaned}<")[1:-1].strip()
    return cleaned if cleaned.startswith("<iframe") else None
